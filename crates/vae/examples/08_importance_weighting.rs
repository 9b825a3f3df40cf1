//! Lesson 8: importance weighting, and the bound that tightens as K grows.
//!
//! The ELBO is ln p(x) minus a gap (`loss.rs`). With K samples z₁…z_K from q(z|x), the
//! average of the weights wₖ = p(x, zₖ)/q(zₖ|x) is still an unbiased estimate of p(x), and
//! the logarithm of that average is a tighter bound (Burda et al., 2016; `iwae.rs`):
//!
//! ```text
//! ELBO = L_1 ≤ L_5 ≤ L_50 ≤ … ≤ ln p(x),    L_K = E[ ln (1/K) Σₖ wₖ ]
//! ```
//!
//! We train a small VAE for a few seconds on 5,000 binarized MNIST digits, then estimate
//! L_K on 200 binarized test digits for K = 1, 5, 50, 500 (−L_K is printed: the negative
//! log-likelihood bound falls as K grows, fast at first, then slowly).
//!
//! `cargo run --release -p vae --example 08_importance_weighting`

use std::path::Path;

use vae::data::batch::Pixels;
use vae::data::idx_folder::load_folder;
use vae::objective::eval::iw_nll;
use vae::train::fingerprint::TrainData;
use vae::train::settings::epoch_rng;
use vae::train::settings::Settings;
use vae::train::trainer::{train_epoch, Trainer};
use vae::Vae;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/mnist");
    let (train, test) = load_folder(&dir).expect("the bundled MNIST");
    let test = test.first(200).binarized(&mut epoch_rng(1, usize::MAX - 1));
    let data = TrainData::new(&dir, train.first(5000), Some(test.clone())).expect("two sets");
    let settings = Settings {
        hidden: vec![128],
        latent: 8,
        activation: "tanh".into(),
        epochs: 5,
        batch_size: 50,
        binarize: true,
        ..Settings::default()
    };
    let sets = data.sets(&settings).expect("no split");
    let model = Vae::new(
        settings.model((28, 28)).expect("a valid model"),
        &mut epoch_rng(1, 0),
    );
    let mut trainer = Trainer::for_settings(model, &settings);
    for epoch in 1..=settings.epochs {
        let m = train_epoch(&mut trainer, &settings, &sets, epoch, false).expect("finite losses");
        println!("epoch {epoch}: training loss {:.2}", m.train_loss);
    }
    println!("\n   K   −L_K (nats per image, 200 test digits)");
    let mut previous = f64::INFINITY;
    for k in [1, 5, 50, 500] {
        let nll = iw_nll(
            &trainer.model,
            &test,
            k,
            Pixels::Scaled,
            test.len(),
            &mut epoch_rng(8, k),
            &|| {},
        );
        println!("{k:>4}   {nll:.3}");
        assert!(
            nll < previous,
            "the bound tightens: −L_{k} = {nll} after {previous}"
        );
        previous = nll;
    }
}

#[test]
fn the_lesson_runs() {
    main()
}
