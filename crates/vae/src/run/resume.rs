//! What a resumed run may change, and what makes it another run.
//!
//! `--resume` continues the run in the folder with its saved settings. A flag given again
//! with a different value is either safe to change ([`ADJUSTABLE`]: how the run goes on —
//! more epochs, another learning rate or schedule, clipping, Adam's ε, how often pictures
//! are drawn), and is taken with
//! one line saying so, or it would make the run a different one (the architecture, the
//! objective and K, the initialisation, β and its warm-up, binarization, the seed, the
//! batch size, the data's limit, validation split and image size), and the resume is
//! refused with the flag and both values.

use std::path::Path;

use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::train::settings::Settings;

/// The settings a resumed run may change: they change how it goes on, not what it is.
pub const ADJUSTABLE: [&str; 7] = [
    "epochs",
    "pictures_every",
    "lr",
    "lr_schedule",
    "lr_warmup",
    "clip_grad_norm",
    "adam_eps",
];

fn as_object(settings: &Settings) -> Map<String, Value> {
    match serde_json::to_value(settings).expect("settings serialize") {
        Value::Object(map) => map,
        _ => unreachable!("a struct serializes to an object"),
    }
}

/// A setting's value as it would be typed on the command line.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "(none)".into(),
        Value::Array(items) => items.iter().map(show).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

impl Settings {
    /// The settings a resumed run continues with. `self` holds this command's values;
    /// `is_given(field)` says which of them were given on its command line. Fields not
    /// given keep the saved values. A given field that would make it another run (the
    /// architecture, objective, seed, batch size) must equal the saved one, or the
    /// resume is refused naming the flag and both values; a given field that is safe to
    /// change ([`ADJUSTABLE`]) is taken, with one line saying so in the returned notes.
    pub fn resumed(
        &self,
        saved: &Settings,
        is_given: &dyn Fn(&str) -> bool,
        run: &Path,
    ) -> Result<(Settings, Vec<String>)> {
        let (mine, theirs) = (as_object(self), as_object(saved));
        let mut merged = theirs.clone();
        let mut notes = Vec::new();
        for (field, value) in mine.iter().filter(|(f, _)| is_given(f)) {
            let old = &theirs[field];
            if old == value {
                continue;
            }
            let flag = format!("--{}", field.replace('_', "-"));
            if !ADJUSTABLE.contains(&field.as_str()) {
                return Err(Error::config(
                    &flag,
                    format!(
                        "the run in {} was trained with {flag} {}; this command gives {}. A \
                            resumed run keeps its architecture, objective, seed, batch size and \
                            data: continue it without {flag}, or start a new run (another --out, \
                            or --force to replace this one)",
                        run.display(),
                        show(old),
                        show(value)
                    ),
                ));
            }
            notes.push(format!("{flag}: {} → {}", show(old), show(value)));
            merged.insert(field.clone(), value.clone());
        }
        let merged = serde_json::from_value(Value::Object(merged)).expect("the fields of Settings");
        Ok((merged, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resuming_keeps_what_was_not_given_and_refuses_another_run() {
        let saved = Settings {
            hidden: vec![200, 200],
            epochs: 10,
            ..Settings::default()
        };
        let asked = Settings {
            epochs: 20,
            lr: 5e-4,
            ..Settings::default()
        };
        let given = |f: &str| f == "epochs" || f == "lr";
        let (merged, notes) = asked.resumed(&saved, &given, Path::new("r")).unwrap();
        assert_eq!(
            merged,
            Settings {
                epochs: 20,
                lr: 5e-4,
                ..saved.clone()
            }
        );
        assert_eq!(notes, vec!["--epochs: 10 → 20", "--lr: 0.001 → 0.0005"]);

        let all = |_: &str| true;
        let err = asked
            .resumed(&saved, &all, Path::new("r"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "--hidden: the run in r was trained with --hidden 200,200; this command gives 400"
            ),
            "{err}"
        );
        // Every field is either adjustable or part of the run's identity, and each
        // identity field is refused when it changes.
        for field in as_object(&saved).keys() {
            // Another valid value of the field: the first candidate that parses and differs.
            let value = &as_object(&saved)[field];
            let candidates: Vec<Value> = match value {
                Value::Bool(b) => vec![(!b).into()],
                Value::String(_) => ["tanh", "glorot", "data-mean", "iwae", "step:1:0.5", "conv"]
                    .map(Value::from)
                    .to_vec(),
                Value::Array(_) => vec![vec![7].into()],
                Value::Null => vec![1.5.into(), 3.into(), vec![7, 7].into()],
                Value::Number(n) => vec![
                    (n.as_f64().unwrap() + 2.0).into(),
                    (n.as_u64().unwrap_or(0) + 2).into(),
                ],
                other => vec![other.clone()],
            };
            let changed: Settings = candidates
                .into_iter()
                .find_map(|c| {
                    let mut m = as_object(&saved);
                    m[field] = c;
                    serde_json::from_value::<Settings>(m.into())
                        .ok()
                        .filter(|s| *s != saved)
                })
                .unwrap_or_else(|| panic!("no other value found for {field}"));
            let only = |f: &str| f == field;
            let result = changed.resumed(&saved, &only, Path::new("r"));
            assert_eq!(
                result.is_ok(),
                ADJUSTABLE.contains(&field.as_str()),
                "{field}"
            );
        }
    }
}
