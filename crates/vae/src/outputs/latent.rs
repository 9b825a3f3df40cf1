//! The latent space as a tool: every image's code, straight and spherical paths between
//! codes, the two directions along which the codes vary most, and the Gaussian's
//! quantiles that lay a grid over it, and the map of the codes by label.

use std::path::Path;

use ndarray::{Array1, Array2, Axis};

use crate::data::batch::Pixels;
use crate::data::dataset::Dataset;
use crate::error::Result;
use crate::model::vae::Vae;
use crate::outputs::plots::{self, LatentMap};

/// The encoder's mean and log-variance for every image of `data` (`[N, latent]` each),
/// in batches of 1000.
pub fn encode_all(model: &Vae<f32>, data: &Dataset) -> (Array2<f32>, Array2<f32>) {
    let latent = model.config.latent;
    let (mut mu, mut logvar) = (Array2::zeros((0, latent)), Array2::zeros((0, latent)));
    // Scaled pixels draw nothing from the generator.
    let mut unused = rand::rngs::mock::StepRng::new(0, 0);
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(1000) {
        let (m, l) = model.encode_batch(data.batch(chunk, Pixels::Scaled, &mut unused));
        mu.append(Axis(0), m.view()).expect("latent columns");
        logvar.append(Axis(0), l.view()).expect("latent columns");
    }
    (mu, logvar)
}

/// `steps` codes from `a` to `b` (both included): on the straight line, or along the
/// great circle (`spherical`: slerp, which keeps the norm of Gaussian codes typical where
/// the line's midpoint would shrink it).
pub fn path(a: &Array1<f32>, b: &Array1<f32>, steps: usize, spherical: bool) -> Array2<f32> {
    let mut out = Array2::zeros((steps, a.len()));
    let (na, nb) = (a.dot(a).sqrt(), b.dot(b).sqrt());
    let cos = (a.dot(b) / (na * nb)).clamp(-1.0, 1.0);
    let omega = cos.acos();
    for (s, mut row) in out.rows_mut().into_iter().enumerate() {
        let t = if steps == 1 {
            0.0
        } else {
            s as f32 / (steps - 1) as f32
        };
        // Nearly parallel codes (or a zero one): slerp tends to the line.
        let (wa, wb) = if spherical && omega.sin().abs() > 1e-6 && na > 0.0 && nb > 0.0 {
            (
                ((1.0 - t) * omega).sin() / omega.sin(),
                (t * omega).sin() / omega.sin(),
            )
        } else {
            (1.0 - t, t)
        };
        row.assign(&(a * wa + b * wb));
    }
    out
}

/// The mean of the rows of `x` and its two principal directions (unit vectors, the
/// covariance's top eigenvectors, by power iteration with deflation) with the standard
/// deviation along each.
pub fn principal_plane(x: &Array2<f32>) -> (Array1<f64>, [(Array1<f64>, f64); 2]) {
    let x = x.mapv(|v| v as f64);
    let mean = x.mean_axis(Axis(0)).expect("at least one row");
    let centred = &x - &mean;
    let mut cov = centred.t().dot(&centred) / (x.nrows().max(2) - 1) as f64;
    let top = |cov: &Array2<f64>| {
        let d = cov.nrows();
        // A start that is not orthogonal to the top eigenvector for any real covariance.
        let mut v = Array1::from_shape_fn(d, |i| 1.0 + i as f64 / d as f64);
        let mut value = 0.0;
        for _ in 0..500 {
            let w = cov.dot(&v);
            let norm = w.dot(&w).sqrt();
            if norm == 0.0 {
                break;
            }
            v = w / norm;
            value = norm;
        }
        (v, value)
    };
    let (v1, l1) = top(&cov);
    cov = cov - l1 * outer(&v1, &v1);
    let (v2, l2) = top(&cov);
    (mean, [(v1, l1.max(0.0).sqrt()), (v2, l2.max(0.0).sqrt())])
}

fn outer(a: &Array1<f64>, b: &Array1<f64>) -> Array2<f64> {
    Array2::from_shape_fn((a.len(), b.len()), |(i, j)| a[i] * b[j])
}

/// Φ⁻¹(p), the standard normal's quantile (Acklam's rational approximation, relative
/// error below 1.2e-9 on (0, 1)).
pub fn normal_quantile(p: f64) -> f64 {
    assert!(p > 0.0 && p < 1.0, "a probability in (0, 1), got {p}");
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// The `g` quantiles of N(0, 1) at probabilities evenly spaced from 0.05 to 0.95 (as in
/// Kingma & Welling's Fig. 4), from the lowest.
pub fn grid_quantiles(g: usize) -> Vec<f64> {
    (0..g)
        .map(|i| {
            let p = if g == 1 {
                0.5
            } else {
                0.05 + 0.9 * i as f64 / (g - 1) as f64
            };
            normal_quantile(p)
        })
        .collect()
}

/// The `g × g` codes of a manifold picture, row by row (the second coordinate falls down
/// the rows, as a plot's y axis). A 2-D latent space is laid out on the Gaussian's
/// quantiles themselves; a larger one on the plane through the codes' mean along their
/// two principal directions, each quantile scaled by the spread along its direction.
pub fn manifold_codes(latent: usize, g: usize, codes: Option<&Array2<f32>>) -> Array2<f32> {
    let q = grid_quantiles(g);
    let (mean, axes) = match codes {
        Some(c) if latent > 2 => {
            let (mean, [(v1, s1), (v2, s2)]) = principal_plane(c);
            (mean, [(v1 * s1), (v2 * s2)])
        }
        _ => {
            let unit = |i: usize| Array1::from_shape_fn(latent, |j| (i == j) as u8 as f64);
            (Array1::zeros(latent), [unit(0), unit(1.min(latent - 1))])
        }
    };
    let mut out = Array2::zeros((g * g, latent));
    for r in 0..g {
        for c in 0..g {
            let z = &mean + &(&axes[0] * q[c]) + &(&axes[1] * q[g - 1 - r]);
            out.row_mut(r * g + c).assign(&z.mapv(|v| v as f32));
        }
    }
    out
}

/// The latent map of `images` (their first two principal components above 2-D).
pub fn write_latent_map(path: &Path, model: &Vae<f32>, images: &Dataset) -> Result<()> {
    let (mu, _) = encode_all(model, images);
    let latent = model.config.latent;
    let (points, axes) = if latent <= 2 {
        let y = |i: usize| if latent == 2 { mu[(i, 1)] as f64 } else { 0.0 };
        let points = (0..mu.nrows()).map(|i| (mu[(i, 0)] as f64, y(i))).collect();
        (points, ("z₁ (mean)".to_string(), "z₂ (mean)".to_string()))
    } else {
        let (mean, [(v1, _), (v2, _)]) = principal_plane(&mu);
        let points = mu
            .rows()
            .into_iter()
            .map(|row| {
                let centred = row.mapv(|v| v as f64) - &mean;
                (centred.dot(&v1), centred.dot(&v2))
            })
            .collect();
        (
            points,
            (
                "first principal component".to_string(),
                "second principal component".to_string(),
            ),
        )
    };
    let map = LatentMap {
        points,
        labels: images
            .labels
            .as_deref()
            .map(|l| (l, images.label_names.clone())),
        axes,
        title: format!(
            "Latent means of {} images ({latent} latent units)",
            images.len()
        ),
    };
    plots::plot_latent_map(path, &map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_quantile_inverts_known_probabilities() {
        // Φ⁻¹ at 0.5, 0.975, 0.95, 0.999 and 1e-6 (tables / scipy.stats.norm.ppf).
        for (p, z) in [
            (0.5, 0.0),
            (0.975, 1.959963984540054),
            (0.05, -1.6448536269514722),
            (0.999, 3.090232306167813),
            (1e-6, -4.753424308817087),
        ] {
            assert!(
                (normal_quantile(p) - z).abs() < 1e-8 * z.abs().max(1.0),
                "Φ⁻¹({p}) = {} vs {z}",
                normal_quantile(p)
            );
        }
        let q = grid_quantiles(5);
        assert!(
            (q[0] + q[4]).abs() < 1e-12 && q[2].abs() < 1e-12 && q.windows(2).all(|w| w[0] < w[1])
        );
    }

    #[test]
    fn paths_start_and_end_at_their_codes() {
        let (a, b) = (array![1.0f32, 0.0], array![0.0f32, 2.0]);
        for spherical in [false, true] {
            let p = path(&a, &b, 5, spherical);
            assert_eq!(
                (p.row(0).to_owned(), p.row(4).to_owned()),
                (a.clone(), b.clone())
            );
        }
        let line = path(&a, &b, 3, false);
        assert_eq!(line.row(1).to_vec(), vec![0.5, 1.0]);
        // Halfway round the quarter circle, the spherical path keeps its distance from 0.
        let arc = path(&a, &(&b / 2.0), 3, true);
        let mid = arc.row(1);
        assert!(
            (mid.dot(&mid).sqrt() - 1.0).abs() < 1e-6 && (mid[0] - mid[1]).abs() < 1e-6,
            "{mid}"
        );
    }

    #[test]
    fn the_principal_plane_finds_the_directions_of_most_spread() {
        // Points spread 3 along (1, 1, 0)/√2, 1 along z, nothing else, around (5, 5, 5).
        let mut rows = Vec::new();
        for (s, t) in [(-3.0, -1.0), (3.0, -1.0), (-3.0, 1.0), (3.0, 1.0)] {
            let d = s / 2f32.sqrt();
            rows.extend([5.0 + d, 5.0 + d, 5.0 + t]);
        }
        let x = Array2::from_shape_vec((4, 3), rows).unwrap();
        let (mean, [(v1, s1), (v2, s2)]) = principal_plane(&x);
        assert!(mean.iter().all(|&m| (m - 5.0).abs() < 1e-6));
        assert!(
            (v1[0].abs() - 0.5f64.sqrt()).abs() < 1e-6 && v1[2].abs() < 1e-6,
            "{v1}"
        );
        assert!((v2[2].abs() - 1.0).abs() < 1e-6, "{v2}");
        // Sample standard deviations: sqrt(4·9/3) and sqrt(4/3).
        assert!(
            (s1 - 12f64.sqrt()).abs() < 1e-6 && (s2 - (4.0f64 / 3.0).sqrt()).abs() < 1e-6,
            "{s1} {s2}"
        );
    }

    #[test]
    fn a_two_dimensional_manifold_is_the_quantile_grid() {
        let codes = manifold_codes(2, 3, None);
        let q = grid_quantiles(3);
        assert_eq!(
            codes.row(0).to_vec(),
            vec![q[0] as f32, q[2] as f32],
            "top left: low x, high y"
        );
        assert_eq!(codes.row(8).to_vec(), vec![q[2] as f32, q[0] as f32]);
    }
}
