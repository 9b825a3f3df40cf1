//! The machine's FMA peak, measured: independent chains of 256-bit fused multiply-adds,
//! enough of them (10) to cover the FMA latency, so the loop runs at the issue rate.
//! Every GFLOP/s figure in the benches is printed as a fraction of this number.

use std::time::Instant;

/// Peak GFLOP/s of f32 FMAs on `threads` threads (one FMA on 8 lanes = 16 flops).
pub fn fma_peak_gflops(threads: usize) -> f64 {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool");
    let iters: u64 = 20_000_000;
    // best of a few runs: the peak is a ceiling, noise only lowers it
    (0..5)
        .map(|_| {
            let start = Instant::now();
            let sinks: Vec<f32> = pool.install(|| {
                use rayon::prelude::*;
                (0..threads)
                    .into_par_iter()
                    .map(|t| fma_chains(iters, t as f32))
                    .collect()
            });
            std::hint::black_box(sinks);
            let flops = (threads as u64 * iters * 10 * 16) as f64;
            flops / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

#[cfg(target_arch = "x86_64")]
fn fma_chains(iters: u64, seed: f32) -> f32 {
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports AVX2 and FMA (checked just above).
        unsafe { fma_chains_avx2(iters, seed) }
    } else {
        0.0
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_chains(_iters: u64, _seed: f32) -> f32 {
    0.0
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_chains_avx2(iters: u64, seed: f32) -> f32 {
    use std::arch::x86_64::*;
    let a = _mm256_set1_ps(0.999_999);
    let b = _mm256_set1_ps(1e-7);
    let mut acc = [_mm256_set1_ps(seed); 10];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm256_fmadd_ps(*v, a, b);
        }
    }
    let mut out = [0f32; 8];
    let sum = acc
        .iter()
        .fold(_mm256_setzero_ps(), |s, &v| _mm256_add_ps(s, v));
    _mm256_storeu_ps(out.as_mut_ptr(), sum);
    out.iter().sum()
}
