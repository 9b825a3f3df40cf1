//! The random streams of a run: one per epoch, from (seed, epoch) alone.

use rand::rngs::StdRng;
use rand::SeedableRng;

/// The random stream of one epoch: derived from (seed, epoch) alone, so a run resumed
/// at an epoch boundary draws exactly what the uninterrupted run would have.
pub fn epoch_rng(seed: u64, epoch: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}
