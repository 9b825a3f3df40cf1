//! The whole VAE loss passes a directional gradient check in f64, for random small
//! configurations (depths, widths, activations, β, batch sizes).

use proptest::prelude::*;
use rand::SeedableRng;
use tensor::gradcheck::{self, Config};
use tensor::Tensor;
use vae::objective::loss::elbo;
use vae::{Activation, ModelConfig, Vae};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(tensor::gradcheck::cases_from_env(32))
}

proptest! {
    #![proptest_config(config())]
    #[test]
    fn the_elbo_passes_gradcheck(
        input_dim in 2usize..10,
        hidden in prop::collection::vec(2usize..7, 0..3),
        latent in 1usize..4,
        activation in 1usize..4, // relu (0) and leaky_relu (4) have a kink at 0: smooth ones only
        beta in 0.0f64..2.0,
        batch in 1usize..5,
        seed in any::<u64>(),
    ) {
        let activation = [Activation::Relu, Activation::Tanh, Activation::Sigmoid, Activation::Softplus, Activation::LeakyRelu][activation];
        let config = ModelConfig { input_dim, hidden, latent, activation, conv: None };
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let model = Vae::<f64>::new(config.clone(), &mut rng);
        let x = Tensor::from_shape_fn(vec![batch, input_dim], |ix| ((ix[0] * 31 + ix[1] * 7) % 11) as f64 / 10.0);
        let eps = vae::model::vae::normal_noise(batch, latent, &mut rng).mapv(f64::from).into_dyn();
        let check = Config { max_full: 0, directions: 8, ..Config::default() };
        let report = gradcheck::check_with(&model.params, |tape, params| {
            let (xv, ev) = (tape.constant(&x), tape.constant(&eps));
            elbo(&model.forward(params, xv, ev), xv, beta).loss
        }, &check);
        prop_assert!(report.passed(), "{config:?}: {report}");
    }
}
