//! Runtime CPU dispatch: one hot loop, compiled three times, run in the best version this
//! CPU has.
//!
//! A portable build targets the x86-64 baseline, so LLVM vectorizes our loops with SSE2:
//! 4 floats per instruction and no fused multiply-add. Every x86 CPU of the last decade
//! has AVX2 (8 floats) and FMA (`a·b + c` in one instruction and one rounding), and the
//! newest have AVX-512 (16 floats). Building with `-C target-cpu=native` would use them
//! everywhere but gives a binary that only runs on CPUs like the build machine. Instead,
//! a loop that matters is written once as a [`Kernel`], generic over `const FMA: bool`,
//! and [`dispatch`] runs
//! - `run::<true>()` inlined into a function compiled with AVX-512F, AVX2 and FMA, when
//!   the CPU reports all three (`is_x86_feature_detected!`, a cached flag after the first
//!   call; on a Zen 5, the batch-20 training step ran 21 % faster than with AVX2), or
//! - the same inlined into a function compiled with AVX2 and FMA (the same bits: each
//!   element gets the same operations), or
//! - `run::<false>()`, compiled for the baseline, everywhere else.
//!
//! `FMA` selects `mul_add` in the kernel's arithmetic ([`crate::speed::fastmath::madd`]).
//! Both versions are correct on any CPU (`mul_add` without the FMA instruction is a
//! slow but exact library call), so tests check both versions everywhere. They round
//! differently (a fused multiply-add rounds once), so where a kernel uses `madd` its
//! last bits depend on which version the CPU runs: a seeded training run repeats bit for
//! bit on one machine, not across CPUs with and without FMA.
//!
//! Calling a function compiled for features the CPU might lack is undefined behaviour,
//! so the calls are `unsafe`, and each is made only after the check that the CPU has
//! them. (The crate's other `unsafe` is in the GEMM's micro-kernels, `gemm/`.)

/// A loop to run in the best version this CPU supports; see the module docs.
pub trait Kernel {
    /// Runs the loop. `FMA` says whether `mul_add` compiles to an instruction (true
    /// only inside the AVX-512 and AVX2+FMA versions). Mark the implementation
    /// `#[inline(always)]`: that is what puts its loop inside those functions.
    fn run<const FMA: bool>(self);
}

/// Runs `kernel` compiled for AVX-512 (with AVX2 and FMA) or for AVX2 and FMA if this
/// CPU has them, else for the baseline.
#[inline]
pub fn dispatch<K: Kernel>(kernel: K) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: each function below is compiled with the target features checked just
    // before it is called.
    #[allow(unsafe_code)]
    unsafe {
        if has_avx512f() && has_avx2_fma() {
            return run_avx512(kernel);
        }
        if has_avx2_fma() {
            return run_avx2_fma(kernel);
        }
    }
    kernel.run::<false>();
}

/// Whether this CPU runs the AVX2+FMA versions of the hot loops.
pub fn has_avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    return is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Whether this CPU has AVX-512F (32 registers of 512 bits: the widest GEMM micro-kernel).
pub fn has_avx512f() -> bool {
    #[cfg(target_arch = "x86_64")]
    return is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn run_avx2_fma<K: Kernel>(kernel: K) {
    kernel.run::<true>();
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn run_avx512<K: Kernel>(kernel: K) {
    kernel.run::<true>();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records which version ran.
    struct Which<'a>(&'a mut Option<bool>);

    impl Kernel for Which<'_> {
        #[inline(always)]
        fn run<const FMA: bool>(self) {
            *self.0 = Some(FMA);
        }
    }

    #[test]
    fn dispatch_runs_the_version_the_cpu_supports() {
        let mut which = None;
        dispatch(Which(&mut which));
        assert_eq!(which, Some(has_avx2_fma()));
    }
}
