//! Our optimizers against PyTorch: every case of tests/fixtures/optim_golden.safetensors
//! (trajectories computed with torch.optim in float64) must match to 1e-12 relative.
//!
//! (In the optim crate, so that its own tests, those a mutation of optim runs, include it.)

use std::path::Path;

use ndarray::{ArrayD, Axis, IxDyn};
use optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use safetensors::SafeTensors;
use serde_json::Value;

const CASES: [&str; 11] = [
    "sgd",
    "sgd_momentum",
    "sgd_nesterov",
    "sgd_weight_decay",
    "adam",
    "adam_big_lr",
    "adam_weight_decay",
    "adamw",
    "adam_amsgrad",
    "sgd_dampening",
    "sgd_plain_weight_decay",
];

fn optimizer(spec: &Value) -> Box<dyn Optimizer<f64>> {
    let num = |key: &str, default: f64| spec[key].as_f64().unwrap_or(default);
    match spec["optimizer"].as_str().unwrap() {
        "SGD" => Box::new(Sgd::new(SgdConfig {
            lr: num("lr", 1e-3),
            momentum: num("momentum", 0.0),
            dampening: num("dampening", 0.0),
            weight_decay: num("weight_decay", 0.0),
            nesterov: spec["nesterov"].as_bool().unwrap_or(false),
        })),
        name @ ("Adam" | "AdamW") => {
            let defaults = if name == "AdamW" {
                AdamConfig::adamw()
            } else {
                AdamConfig::default()
            };
            let betas = spec["betas"]
                .as_array()
                .map(|b| (b[0].as_f64().unwrap(), b[1].as_f64().unwrap()));
            Box::new(Adam::new(AdamConfig {
                lr: num("lr", defaults.lr),
                betas: betas.unwrap_or(defaults.betas),
                eps: num("eps", defaults.eps),
                weight_decay: num("weight_decay", defaults.weight_decay),
                amsgrad: spec["amsgrad"].as_bool().unwrap_or(false),
                ..defaults
            }))
        }
        other => panic!("unknown optimizer {other}"),
    }
}

#[test]
fn every_case_matches_pytorch() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/optim_golden.safetensors");
    let bytes = std::fs::read(&path).expect("the fixture reads");
    let (_, header) = SafeTensors::read_metadata(&bytes).expect("a safetensors file");
    let metadata = header.metadata().clone().expect("the cases' settings");
    let file = SafeTensors::deserialize(&bytes).expect("a safetensors file");
    let tensor = |name: &str| -> ArrayD<f64> {
        let view = file.tensor(name).expect(name);
        assert_eq!(view.dtype(), safetensors::Dtype::F64, "{name}");
        let values = view
            .data()
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()));
        ArrayD::from_shape_vec(IxDyn(view.shape()), values.collect()).expect(name)
    };
    for case in CASES {
        let spec: Value = serde_json::from_str(&metadata[case]).unwrap();
        let mut p = tensor(&format!("{case}.p0"));
        let grads = tensor(&format!("{case}.grads"));
        let expected = tensor(&format!("{case}.expected"));
        let mut opt = optimizer(&spec);
        let mut worst: f64 = 0.0;
        for (step, (g, want)) in grads
            .axis_iter(Axis(0))
            .zip(expected.axis_iter(Axis(0)))
            .enumerate()
        {
            opt.step(&mut [&mut p], &[&g.to_owned()]);
            for (a, e) in p.iter().zip(want.iter()) {
                let rel = (a - e).abs() / e.abs().max(1e-300);
                worst = worst.max(rel);
                assert!(
                    rel <= 1e-12,
                    "{case} step {}: {a} vs PyTorch {e} (rel {rel:.2e})",
                    step + 1
                );
            }
        }
        eprintln!("{case}: worst relative difference {worst:.2e}");
    }
}
