//! `report.html` in a real browser: a short run's report is loaded by headless Chromium
//! from the file system; the test fails on any console error or picture that does not
//! load, and saves a screenshot (`target/report-screenshot.png`).
//!
//! It needs Chromium (`apt-get install chromium`, or `CHROMIUM=/path/to/chrome`); where
//! there is none it says so and checks only what it can without one (the page's
//! pictures exist). CI installs Chromium when the system's package manager can.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{mnist_slice, s, vae, TINY};

fn browser() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let names = [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ];
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Runs the browser headless on `page` with `args`; returns (stdout, stderr).
fn headless(browser: &Path, page: &Path, args: &[&str]) -> (String, String) {
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
        ])
        .args([
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .args(args)
        .arg(url)
        .output()
        .expect("the browser starts");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (text(&out.stdout), text(&out.stderr))
}

#[test]
fn the_report_renders_without_errors_in_a_headless_browser() {
    let dir = tempfile::tempdir().unwrap();
    let data = mnist_slice(&dir.path().join("data"), 300, 100);
    let run = dir.path().join("run");
    let mut args = vec![
        "train",
        "--data",
        s(&data),
        "--out",
        s(&run),
        "--epochs",
        "2",
    ];
    args.extend(TINY.iter().filter(|a| !["--epochs", "1"].contains(a)));
    let (code, _, err) = vae(&args);
    assert_eq!(code, 0, "{err}");
    let report = run.join("report.html");
    let html = std::fs::read_to_string(&report).unwrap();
    // Every picture the page names is in the run folder.
    let sources: Vec<&str> = html
        .split("<img src=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert!(sources.len() >= 5, "{sources:?}");
    for src in &sources {
        assert!(
            run.join(src).is_file(),
            "the report shows {src}, which is not in the run folder"
        );
    }
    assert!(
        html.contains("samples_epoch0002.png") && html.contains("epoch 2 of 2"),
        "the newest pictures"
    );

    let Some(browser) = browser() else {
        eprintln!("note: no Chromium found (install the chromium package or set CHROMIUM): the report was not opened in a browser");
        return;
    };
    let (dom, log) = headless(&browser, &report, &["--dump-dom"]);
    let errors: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(errors.is_empty(), "console messages: {errors:#?}");
    assert!(
        dom.contains("data-missing-images=\"0\""),
        "pictures failed to load, or the check did not run:\n{}",
        &dom[..dom.len().min(600)]
    );
    // The check can fail: the same page away from its pictures counts them all missing.
    let alone = dir.path().join("alone");
    std::fs::create_dir_all(&alone).unwrap();
    std::fs::copy(&report, alone.join("report.html")).unwrap();
    let (dom, _) = headless(&browser, &alone.join("report.html"), &["--dump-dom"]);
    let missing = format!("data-missing-images=\"{}\"", sources.len());
    assert!(
        dom.contains(&missing),
        "expected {missing}:\n{}",
        &dom[..dom.len().min(600)]
    );
    let shot = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-screenshot.png");
    let arg = format!("--screenshot={}", shot.display());
    headless(
        &browser,
        &report,
        &[&arg, "--window-size=1200,2200", "--hide-scrollbars"],
    );
    assert!(shot.is_file(), "the screenshot was not written");
}
