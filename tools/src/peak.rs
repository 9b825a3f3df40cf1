//! The machine's FMA peak, measured: independent chains of fused multiply-adds, enough of
//! them (12) to cover the FMA latency on any current core, so the loop runs at the issue
//! rate. Probed at both vector widths: 256-bit (AVX2+FMA) and 512-bit (AVX-512F), because
//! some CPUs run 512-bit FMAs at twice the 256-bit rate and others at the same rate. Every
//! GFLOP/s figure in the benches and in `kernel_report` is printed as a fraction of the
//! widest peak the CPU runs.

use std::time::Instant;

/// One vector width the probe can measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// 256-bit FMAs (8 f32 lanes).
    Avx2,
    /// 512-bit FMAs (16 f32 lanes).
    Avx512,
}

impl Width {
    /// f32 lanes per instruction.
    pub fn lanes(self) -> u64 {
        match self {
            Width::Avx2 => 8,
            Width::Avx512 => 16,
        }
    }

    /// Whether this CPU runs it.
    pub fn is_supported(self) -> bool {
        match self {
            Width::Avx2 => tensor::speed::simd::has_avx2_fma(),
            Width::Avx512 => tensor::speed::simd::has_avx512f(),
        }
    }
}

const CHAINS: u64 = 12;

/// Peak GFLOP/s of f32 FMAs of `width` on `threads` threads (0 if the CPU lacks it).
pub fn fma_peak_at(width: Width, threads: usize) -> f64 {
    if !width.is_supported() {
        return 0.0;
    }
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
                    .map(|t| fma_chains(width, iters, t as f32))
                    .collect()
            });
            std::hint::black_box(sinks);
            let flops = (threads as u64 * iters * CHAINS * 2 * width.lanes()) as f64;
            flops / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

/// The widest peak this CPU runs, on `threads` threads.
pub fn fma_peak_gflops(threads: usize) -> f64 {
    fma_peak_at(Width::Avx512, threads).max(fma_peak_at(Width::Avx2, threads))
}

fn fma_chains(width: Width, iters: u64, seed: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: callers checked `width.is_supported()`, i.e. that the CPU has the
        // features each function is compiled for.
        match width {
            Width::Avx2 => unsafe { fma_chains_avx2(iters, seed) },
            Width::Avx512 => unsafe { fma_chains_avx512(iters, seed) },
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (width, iters);
        seed
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_chains_avx2(iters: u64, seed: f32) -> f32 {
    use std::arch::x86_64::*;
    let a = _mm256_set1_ps(0.999_999);
    let b = _mm256_set1_ps(1e-7);
    let mut acc = [_mm256_set1_ps(seed); CHAINS as usize];
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

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn fma_chains_avx512(iters: u64, seed: f32) -> f32 {
    use std::arch::x86_64::*;
    let a = _mm512_set1_ps(0.999_999);
    let b = _mm512_set1_ps(1e-7);
    let mut acc = [_mm512_set1_ps(seed); CHAINS as usize];
    for _ in 0..iters {
        for v in acc.iter_mut() {
            *v = _mm512_fmadd_ps(*v, a, b);
        }
    }
    let sum = acc
        .iter()
        .fold(_mm512_setzero_ps(), |s, &v| _mm512_add_ps(s, v));
    _mm512_reduce_add_ps(sum)
}
