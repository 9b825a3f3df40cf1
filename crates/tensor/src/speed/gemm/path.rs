//! Which micro-kernel runs: detected once from the CPU, or forced by `TENSOR_GEMM`.

use std::sync::OnceLock;

use super::PATH_ENV;

/// The ways a product can be computed, widest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Path {
    /// Our packed GEMM with the AVX-512F micro-kernels (16 f32 per instruction): the
    /// 12×32 tile, and on Intel cores each product's cheaper of 12×32 and 6×64 (the
    /// module docs of [`super`] compare them).
    Avx512,
    /// The same with the 12×32 tile for every product.
    Avx512Tall,
    /// The same with the 6×64 tile for every product: fewer loads per FMA, more edge waste.
    Avx512Wide,
    /// Our packed GEMM with the AVX2+FMA micro-kernel (8 f32 per instruction).
    Avx2Fma,
    /// Our packed GEMM with the plain-Rust micro-kernel (whatever the build vectorizes).
    Portable,
    /// The `matrixmultiply` crate's kernels, split over the pool ([`super::matrixmultiply`]):
    /// the fallback, and the oracle our kernel is tested against.
    MatrixMultiply,
}

impl Path {
    /// Every path, widest first.
    pub const ALL: [Path; 6] = [
        Path::Avx512,
        Path::Avx512Tall,
        Path::Avx512Wide,
        Path::Avx2Fma,
        Path::Portable,
        Path::MatrixMultiply,
    ];

    /// The name `TENSOR_GEMM` takes and reports use.
    pub fn name(self) -> &'static str {
        match self {
            Path::Avx512 => "avx512",
            Path::Avx512Tall => "avx512-12x32",
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
            Path::Avx512 | Path::Avx512Tall | Path::Avx512Wide => crate::speed::simd::has_avx512f(),
            Path::Avx2Fma => crate::speed::simd::has_avx2_fma(),
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

    /// The path every product takes unless told otherwise: the environment variable
    /// [`PATH_ENV`] if set (a path the CPU lacks falls back to [`Path::best`]), else
    /// [`Path::best`], our own kernel on the widest instructions the CPU has. Read once.
    ///
    /// `TENSOR_GEMM=matrixmultiply` brings back the previous kernel (matrixmultiply's
    /// blocks split over rayon). Both are correct to rounding, but not bit for bit alike: a
    /// run resumed under a different kernel continues with different rounding.
    pub fn selected() -> Path {
        static SELECTED: OnceLock<Path> = OnceLock::new();
        *SELECTED.get_or_init(|| match std::env::var(PATH_ENV) {
            Ok(name) => match Path::from_name(&name) {
                Some(path) => path.or_best(),
                None => {
                    let names = Path::ALL.map(Path::name).join(", ");
                    let best = Path::best().name();
                    eprintln!("warning: {PATH_ENV}={name:?} is not one of {names}; using {best}");
                    Path::best()
                }
            },
            Err(_) => Path::best(),
        })
    }
}

/// Whether the CPU is Intel's. Where a choice of the kernel measured differently on Intel
/// and AMD cores (an Ice Lake Xeon against a Zen 4 and a Zen 5), this says which applies.
pub(super) fn intel() -> bool {
    static INTEL: OnceLock<bool> = OnceLock::new();
    #[cfg(target_arch = "x86_64")]
    let vendor = || {
        // SAFETY: every x86-64 CPU has the CPUID instruction; leaf 0 names the vendor.
        #[allow(unused_unsafe)]
        let id = unsafe { std::arch::x86_64::__cpuid(0) };
        let bytes = [id.ebx, id.edx, id.ecx].map(u32::to_le_bytes);
        bytes.concat() == b"GenuineIntel"
    };
    #[cfg(not(target_arch = "x86_64"))]
    let vendor = || false;
    *INTEL.get_or_init(vendor)
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
