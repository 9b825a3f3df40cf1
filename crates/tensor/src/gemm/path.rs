//! Which micro-kernel runs: detected once from the CPU, or forced by `TENSOR_GEMM`.

/// The ways a product can be computed, widest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// Our packed GEMM with the AVX-512F micro-kernel (16 f32 per instruction).
    Avx512,
    /// The same with a 6×64 tile instead of 12×32: fewer loads per FMA, more edge waste
    /// (the module docs of [`super`] compare them).
    Avx512Wide,
    /// Our packed GEMM with the AVX2+FMA micro-kernel (8 f32 per instruction).
    Avx2Fma,
    /// Our packed GEMM with the plain-Rust micro-kernel (whatever the build vectorizes).
    Portable,
    /// The `matrixmultiply` crate's kernels, split over the pool by [`crate::kernel`]:
    /// the fallback, and the oracle our kernel is tested against.
    MatrixMultiply,
}

impl Path {
    /// Every path, widest first.
    pub const ALL: [Path; 5] = [
        Path::Avx512,
        Path::Avx512Wide,
        Path::Avx2Fma,
        Path::Portable,
        Path::MatrixMultiply,
    ];

    /// The name `TENSOR_GEMM` takes and reports use.
    pub fn name(self) -> &'static str {
        match self {
            Path::Avx512 => "avx512",
            Path::Avx512Wide => "avx512-6x64",
            Path::Avx2Fma => "avx2",
            Path::Portable => "portable",
            Path::MatrixMultiply => "matrixmultiply",
        }
    }

    /// The path called `name` (as [`Path::name`] writes it), if any.
    pub fn from_name(name: &str) -> Option<Path> {
        Path::ALL.into_iter().find(|p| p.name() == name.trim())
    }

    /// Whether this CPU can run the path.
    pub fn is_supported(self) -> bool {
        match self {
            Path::Avx512 | Path::Avx512Wide => crate::simd::has_avx512f(),
            Path::Avx2Fma => crate::simd::has_avx2_fma(),
            Path::Portable | Path::MatrixMultiply => true,
        }
    }

    /// The paths this CPU runs, widest first.
    pub fn available() -> Vec<Path> {
        Path::ALL.into_iter().filter(|p| p.is_supported()).collect()
    }

    /// The widest of our own paths the CPU runs.
    pub fn best() -> Path {
        Path::available()[0]
    }

    /// This path if the CPU runs it, else [`Path::best`].
    pub fn or_best(self) -> Path {
        if self.is_supported() {
            self
        } else {
            Path::best()
        }
    }

    /// The path products take: `TENSOR_GEMM` if set, else [`Path::best`]; read once.
    pub fn selected() -> Path {
        super::selected_path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for path in Path::ALL {
            assert_eq!(Path::from_name(path.name()), Some(path));
        }
        assert_eq!(Path::from_name("avx1024"), None);
    }

    #[test]
    fn the_portable_paths_run_everywhere_and_best_is_supported() {
        assert!(Path::available().contains(&Path::Portable));
        assert!(Path::best().is_supported());
        assert_ne!(Path::best(), Path::MatrixMultiply);
    }
}
