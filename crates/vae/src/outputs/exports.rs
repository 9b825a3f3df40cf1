//! Tables for other tools: every image's latent code (NumPy or CSV), and every image's
//! score (CSV).

use std::fmt::Write as _;
use std::path::Path;

use ndarray::{concatenate, Array1, Array2, Axis};

use crate::data::dataset::Dataset;
use crate::data::npy::labels_path;
use crate::error::{Error, Result};
use crate::io::atomic::write_atomically;

/// Writes the codes of `data`'s images: `path` ending in `.npy` gets a float32 array
/// `[N, 2·latent]` (each row μ, then ln σ²) and, for labelled data, the labels in
/// `NAME_labels.npy`; ending in `.csv`, a table with a header `image,label,mu_0,…,
/// logvar_0,…` (no label column for unlabelled data). Atomically.
pub fn write_embeddings(
    path: &Path,
    mu: &Array2<f32>,
    logvar: &Array2<f32>,
    data: &Dataset,
) -> Result<()> {
    match extension(path).as_deref() {
        Some("npy") => {
            let both =
                concatenate(Axis(1), &[mu.view(), logvar.view()]).expect("one row per image");
            write_npy(path, &both)?;
            if let Some(labels) = &data.labels {
                write_npy(&labels_path(path), &Array1::from(labels.clone()))?;
            }
            Ok(())
        }
        Some("csv") => {
            let latent = mu.ncols();
            let mut text = String::from("image");
            if data.labels.is_some() {
                text += ",label";
            }
            for name in ["mu", "logvar"] {
                for j in 0..latent {
                    write!(text, ",{name}_{j}").expect("a String");
                }
            }
            text.push('\n');
            for i in 0..mu.nrows() {
                write!(text, "{i}").expect("a String");
                if let Some(label) = data.label_name(i) {
                    write!(text, ",{}", csv_field(&label)).expect("a String");
                }
                for v in mu.row(i).iter().chain(logvar.row(i).iter()) {
                    write!(text, ",{v}").expect("a String");
                }
                text.push('\n');
            }
            write_atomically(path, text.as_bytes())
        }
        _ => Err(Error::config(
            "--out",
            format!("{}: give a file ending in .npy or .csv", path.display()),
        )),
    }
}

/// Writes each image's score (`nll[i]`, nats; higher is less likely), sorted worst first:
/// `rank,image,label,nll` (no label column for unlabelled data). Returns the order.
pub fn write_scores(path: &Path, nll: &[f64], data: &Dataset) -> Result<Vec<usize>> {
    let mut order: Vec<usize> = (0..nll.len()).collect();
    // Worst first; ties (and NaN, last) in image order.
    order.sort_by(|&a, &b| {
        nll[b]
            .partial_cmp(&nll[a])
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    let mut text = String::from(if data.labels.is_some() {
        "rank,image,label,nll\n"
    } else {
        "rank,image,nll\n"
    });
    for (rank, &i) in order.iter().enumerate() {
        write!(text, "{},{i}", rank + 1).expect("a String");
        if let Some(label) = data.label_name(i) {
            write!(text, ",{}", csv_field(&label)).expect("a String");
        }
        writeln!(text, ",{}", nll[i]).expect("a String");
    }
    write_atomically(path, text.as_bytes())?;
    Ok(order)
}

fn extension(path: &Path) -> Option<String> {
    path.extension().map(|e| e.to_string_lossy().to_lowercase())
}

/// A CSV field, quoted when it holds a comma, quote or line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn write_npy(path: &Path, array: &impl ndarray_npy::WriteNpyExt) -> Result<()> {
    let mut bytes = Vec::new();
    array
        .write_npy(&mut bytes)
        .map_err(|e| Error::invalid(path, format!("cannot write .npy: {e}")))?;
    write_atomically(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::dataset::Intensities;
    use ndarray::array;
    use ndarray_npy::ReadNpyExt;

    fn data(labels: bool) -> Dataset {
        let mut d = Dataset::new(
            Intensities::Bytes(vec![0; 3]),
            labels.then(|| vec![1, 0, 1]),
            1,
            1,
        );
        d.label_names = vec!["plain".into(), "with, comma".into()];
        d
    }

    #[test]
    fn embeddings_round_trip_through_npy_and_csv() {
        let dir = tempfile::tempdir().unwrap();
        let mu = array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let logvar = -mu.clone();
        let npy = dir.path().join("e.npy");
        write_embeddings(&npy, &mu, &logvar, &data(true)).unwrap();
        let back = Array2::<f32>::read_npy(std::fs::File::open(&npy).unwrap()).unwrap();
        assert_eq!(back.row(1).to_vec(), vec![3.0, 4.0, -3.0, -4.0]);
        let labels =
            Array1::<u8>::read_npy(std::fs::File::open(dir.path().join("e_labels.npy")).unwrap())
                .unwrap();
        assert_eq!(labels.to_vec(), vec![1, 0, 1]);
        let csv = dir.path().join("e.csv");
        write_embeddings(&csv, &mu, &logvar, &data(true)).unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "image,label,mu_0,mu_1,logvar_0,logvar_1");
        assert_eq!(lines[1], "0,\"with, comma\",1,2,-1,-2");
        write_embeddings(&csv, &mu, &logvar, &data(false)).unwrap();
        assert!(std::fs::read_to_string(&csv)
            .unwrap()
            .starts_with("image,mu_0"));
        let err =
            write_embeddings(&dir.path().join("e.txt"), &mu, &logvar, &data(false)).unwrap_err();
        assert!(err.to_string().contains(".npy or .csv"), "{err}");
    }

    #[test]
    fn scores_are_sorted_worst_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.csv");
        let order = write_scores(&path, &[80.0, 120.5, 95.0], &data(true)).unwrap();
        assert_eq!(order, vec![1, 2, 0]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "rank,image,label,nll\n1,1,plain,120.5\n2,2,\"with, \
            comma\",95\n3,0,\"with, comma\",80\n"
        );
    }
}
