//! `report.html`: a run at a glance, rewritten after every epoch. One self-contained
//! page (its pictures are the run folder's own files, by relative name), that opens from
//! the file system with no network: the configuration, the loss curves, the latest
//! pictures, the latent map and every epoch's figures.
//!
//! A short script marks any picture that fails to load, and records their number in
//! `data-missing-images` on `<body>`, which the browser check reads.

use std::fmt::Write as _;

use serde_json::Value;

use crate::error::Result;
use crate::io::atomic::write_atomically;
use crate::run::folder as run_folder;
use crate::run::folder::{RunFolder, EPOCH_PICTURES};
use crate::run::state::RunRecord;
use crate::train::metrics::EpochMetrics;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;font-size:.9em}td,th{padding:.2em .7em;text-align:right;border-bottom:1px solid #eee}\
th{background:#f4f4f4;position:sticky;top:0}td.k{text-align:left;color:#555}\
.scroll{max-height:28em;overflow:auto;display:inline-block}img{max-width:100%;image-rendering:pixelated}\
figure{display:inline-block;margin:.5em 1.5em .5em 0;vertical-align:top}figcaption{font-size:.85em;color:#555}\
.missing{color:#b00;font-weight:bold}";

const CHECK_IMAGES: &str = "window.addEventListener('load',function(){var n=0;\
document.querySelectorAll('img').forEach(function(i){if(!i.complete||i.naturalWidth===0){n++;\
var s=document.createElement('span');s.className='missing';s.textContent='missing picture: '+i.getAttribute('src');\
i.replaceWith(s);}});document.body.setAttribute('data-missing-images',String(n));});";

/// Writes the run's report into its folder (atomically).
pub fn write_report(folder: &RunFolder, record: &RunRecord) -> Result<()> {
    let html = render(folder, record)?;
    write_atomically(&folder.file(run_folder::REPORT), html.as_bytes())
}

fn render(folder: &RunFolder, record: &RunRecord) -> Result<String> {
    let s = &record.settings;
    let name = folder
        .dir()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let model = s
        .model((record.data.image_size[0], record.data.image_size[1]))
        .map(|c| format!("{} {}", c.name(), c.activation))
        .unwrap_or_default();
    let (name, model, data) = (
        escape(&name),
        escape(&model),
        escape(&record.data.to_string()),
    );
    let (done, epochs) = (record.epochs_done, s.epochs);
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>VAE run {name}</title><style>{STYLE}</style></head>\n\
         <body data-missing-images=\"unknown\">\n<h1>VAE run <code>{name}</code></h1>\n\
         <p>{model} — epoch {done} of {epochs}; data: {data}</p>\n"
    );
    if let Some(last) = record.history.last() {
        page += &format!("<p>Latest: {}</p>\n", escape(&last.summary(s.epochs)));
    }
    page += "<h2>Loss curves</h2>\n";
    page += &figure(
        run_folder::LOSS_CURVE,
        "Loss per epoch, and the held-out loss's two terms",
    );
    page += "<h2>Pictures</h2>\n";
    let newest = |prefix: &str| newest_picture(folder, prefix);
    match (newest(EPOCH_PICTURES[0]), newest(EPOCH_PICTURES[1])) {
        (Some((e, samples)), Some((_, recon))) => {
            page += &figure(
                &samples,
                &format!(
                    "New images, z ~ N(0, I), after epoch {e} (the \
                same z every epoch)"
                ),
            );
            page += &figure(
                &recon,
                &format!(
                    "Held-out images over their reconstructions, after \
                epoch {e}"
                ),
            );
        }
        _ => {
            page += "<p>No pictures yet: they are drawn every --pictures-every epochs and after \
            the last.</p>\n"
        }
    }
    for (file, caption) in [
        (
            run_folder::INTERPOLATION,
            "Paths between pairs of held-out images' codes",
        ),
        (run_folder::LATENT_MAP, "The held-out images' latent means"),
    ] {
        if folder.file(file).exists() {
            page += &figure(file, caption);
        }
    }
    page += "<h2>Every epoch</h2>\n";
    page += &metrics_table(&record.history);
    page += "<h2>Configuration</h2>\n<table>\n";
    if let Value::Object(map) = serde_json::to_value(s).expect("settings serialize") {
        for (k, v) in map {
            let v = if v.is_string() {
                v.as_str().unwrap_or_default().to_string()
            } else {
                v.to_string()
            };
            writeln!(
                page,
                "<tr><td class=\"k\">{}</td><td>{}</td></tr>",
                escape(&k),
                escape(&v)
            )
            .expect("a String");
        }
    }
    writeln!(
        page,
        "<tr><td class=\"k\">data</td><td>{}</td></tr>\n</table>",
        escape(&record.data.to_string())
    )
    .expect("a String");
    writeln!(page, "<script>{CHECK_IMAGES}</script>\n</body></html>").expect("a String");
    Ok(page)
}

/// The newest `PREFIXNNNN.png` in the folder, with its epoch.
fn newest_picture(folder: &RunFolder, prefix: &str) -> Option<(usize, String)> {
    let names = std::fs::read_dir(folder.dir()).ok()?;
    names
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| {
            let epoch = n.strip_prefix(prefix)?.strip_suffix(".png")?.parse().ok()?;
            Some((epoch, n))
        })
        .max()
}

fn figure(src: &str, caption: &str) -> String {
    format!(
        "<figure><img src=\"{0}\" alt=\"{1}\"><figcaption>{1}</figcaption></figure>\n",
        escape(src),
        escape(caption)
    )
}

fn metrics_table(history: &[EpochMetrics]) -> String {
    let has = |f: &dyn Fn(&EpochMetrics) -> bool| history.iter().any(f);
    let (test, valid) = (
        has(&|m| m.test_loss.is_some()),
        has(&|m| m.valid_loss.is_some()),
    );
    let mut t = String::from(
        "<div class=\"scroll\"><table>\n\
         <tr><th>epoch</th><th>lr</th><th>train</th><th>recon</th><th>KL</th>",
    );
    if test {
        t += "<th>test</th><th>recon</th><th>KL</th>";
    }
    if valid {
        t += "<th>valid</th><th>recon</th><th>KL</th>";
    }
    t += "<th>active units</th><th>seconds</th></tr>\n";
    let num = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.2}"));
    // Newest first: the figure a reader wants is at the top.
    for m in history.iter().rev() {
        write!(
            t,
            "<tr><td>{}</td><td>{:.2e}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td>",
            m.epoch, m.lr, m.train_loss, m.train_recon, m.train_kl
        )
        .expect("a String");
        if test {
            write!(
                t,
                "<td>{}</td><td>{}</td><td>{}</td>",
                num(m.test_loss),
                num(m.test_recon),
                num(m.test_kl)
            )
            .expect("a String");
        }
        if valid {
            write!(
                t,
                "<td>{}</td><td>{}</td><td>{}</td>",
                num(m.valid_loss),
                num(m.valid_recon),
                num(m.valid_kl)
            )
            .expect("a String");
        }
        writeln!(
            t,
            "<td>{}</td><td>{}</td></tr>",
            m.active_units,
            m.seconds.map_or("—".into(), |s| format!("{s:.1}"))
        )
        .expect("a String");
    }
    t + "</table></div>\n<p>The seconds are wall-clock times: the only figures on this \
         page that differ between two runs of the same command (the training state, which \
         decides a run, does not keep them).</p>\n"
}

/// Text made safe inside HTML elements and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
