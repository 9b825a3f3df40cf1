//! How fast is our matrix multiply on this machine, against the FMA peak and its peers?
//!
//! ```sh
//! cargo run --release -p tools --features peers --bin kernel_report            # a table
//! cargo run --release -p tools --features peers --bin kernel_report -- --json  # JSON lines
//! ```
//!
//! It probes the peak (256- and 512-bit FMAs), then times each shape and layout with every
//! implementation, interleaved (A B C A B C ...) so that a slow moment of the machine hits
//! all of them alike, and prints the median GFLOP/s of each and its fraction of the widest
//! peak. Options: `--threads N` (default: every core), `--rounds R` (default 7),
//! `--shapes vae|burda|conv|square|all` (default all), `--shape MxKxN` (repeatable: these
//! shapes instead), `--only ours-avx512,gemm-0.19-x86-v4`
//! (a comma-separated list of the implementations to time), `--kc N`, `--mc N` (our
//! kernel's block sizes, to measure their effect).
//!
//! The implementations: ours on each path this CPU runs (`avx512`, `avx512-12x32`,
//! `avx512-6x64`, `avx2`, `portable`),
//! matrixmultiply on one thread and split over the pool as our previous kernel did, and
//! with `--features peers` the `gemm` crate 0.19 built with its AVX-512 kernels
//! (`x86-v4`), with rayon threads (without the feature the report says it is missing).

use std::sync::OnceLock;
use std::time::Instant;

use ndarray::{Array2, ArrayView2};
use tensor::speed::gemm::matrixmultiply::{gemm_matrixmultiply, gemm_with_plan, Plan};
use tensor::speed::gemm::{gemm_blocked, Blocking, Path};

use tools::operands::{operands, views, LAYOUTS};
use tools::peak;

/// `(m, k, n)` of `C[m,n] = A[m,k]·B[k,n]`, and which group it belongs to. The `conv`
/// group is what the canonical conv model (channels 32,64, kernel 4, stride 2) hands the
/// GEMM at batch 128: each layer's images lowered side by side (41 at a time for the
/// 512-row layers, all 128 for the 16-row ones; `ops/im2col.rs`).
const SHAPES: [(&str, usize, usize, usize); 17] = [
    ("vae", 128, 784, 400),
    ("vae", 128, 400, 784),
    ("vae", 784, 128, 400),
    ("vae", 400, 128, 784),
    ("vae", 128, 400, 20),
    ("vae", 128, 20, 400),
    ("burda", 20, 784, 200),
    ("burda", 20, 200, 200),
    ("burda", 200, 20, 784),
    ("burda", 20, 200, 50),
    ("conv", 32, 16, 25088),
    ("conv", 32, 25088, 16),
    ("conv", 16, 32, 25088),
    ("conv", 64, 512, 2009),
    ("conv", 64, 2009, 512),
    ("conv", 512, 64, 2009),
    ("square", 1024, 1024, 1024),
];

#[derive(Clone, Copy, PartialEq)]
enum Impl {
    Ours(Path),
    MatrixMultiply1,
    MatrixMultiplySplit,
    #[cfg(feature = "peers")]
    GemmCrate,
}

impl Impl {
    fn name(self) -> String {
        match self {
            Impl::Ours(path) => format!("ours-{}", path.name()),
            Impl::MatrixMultiply1 => "matrixmultiply-1-thread".into(),
            Impl::MatrixMultiplySplit => "matrixmultiply-split".into(),
            #[cfg(feature = "peers")]
            Impl::GemmCrate => "gemm-0.19-x86-v4".into(),
        }
    }

    #[cfg_attr(not(feature = "peers"), allow(unused_variables))] // `threads`: the gemm crate's
    fn run<'a>(
        self,
        a: ArrayView2<'a, f32>,
        b: ArrayView2<'a, f32>,
        c: &mut Array2<f32>,
        threads: usize,
    ) {
        match self {
            Impl::Ours(path) => gemm_blocked(path, blocking(path), 1.0, a, b, 0.0, c.view_mut()),
            Impl::MatrixMultiply1 => {
                gemm_with_plan(1.0, a, b, 0.0, c.view_mut(), Plan { axis: 0, blocks: 1 })
            }
            Impl::MatrixMultiplySplit => gemm_matrixmultiply(1.0, a, b, 0.0, c.view_mut()),
            #[cfg(feature = "peers")]
            Impl::GemmCrate => gemm_crate(a, b, c, threads),
        }
    }
}

/// The `gemm` crate's `dst ← alpha·dst + beta·lhs·rhs` with our views' strides.
#[cfg(feature = "peers")]
fn gemm_crate(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>, c: &mut Array2<f32>, threads: usize) {
    let ((m, k), n) = (a.dim(), b.ncols());
    let (sa, sb, sc) = (a.strides(), b.strides(), c.strides().to_vec());
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the pointers and strides describe the three arrays exactly (taken from their
    // views), `c` is borrowed mutably and does not overlap `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            sc[1],
            sc[0],
            false,
            a.as_ptr(),
            sa[1],
            sa[0],
            b.as_ptr(),
            sb[1],
            sb[0],
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        )
    }
}

/// `--kc`/`--mc`, if given, replace our kernel's block sizes (to measure their effect).
static BLOCK_OPTIONS: OnceLock<(Option<usize>, Option<usize>)> = OnceLock::new();

fn blocking(path: Path) -> Option<Blocking> {
    let (kc, mc) = *BLOCK_OPTIONS.get()?;
    if (kc, mc) == (None, None) {
        return None; // the kernel's own (and on the default path, its choice of tile)
    }
    let default = <f32 as tensor::speed::gemm::Element>::microkernel(path)?.blocking;
    Some(Blocking {
        kc: kc.unwrap_or(default.kc),
        mc: mc.unwrap_or(default.mc),
    })
}

/// GB/s of a parallel copy of 64 MiB (bytes read + written), best of 5: the slope of the
/// roofline's memory-bound side.
fn memory_bandwidth(pool: &rayon::ThreadPool) -> f64 {
    use rayon::prelude::*;
    let len = 16 << 20;
    let src = vec![1.0f32; len];
    let mut dst = vec![0.0f32; len];
    (0..5)
        .map(|_| {
            let start = Instant::now();
            pool.install(|| {
                dst.par_chunks_mut(1 << 16)
                    .zip(src.par_chunks(1 << 16))
                    .for_each(|(d, s)| d.copy_from_slice(s))
            });
            (2 * 4 * len) as f64 / start.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

struct Options {
    json: bool,
    threads: usize,
    rounds: usize,
    shapes: String,
    only: Option<Vec<String>>,
    kc: Option<usize>,
    mc: Option<usize>,
    /// `--shape MxKxN`, repeatable: time these instead of the preset groups.
    custom: Vec<(usize, usize, usize)>,
}

/// Parses `MxKxN` (or `M×K×N`) into `(m, k, n)`.
fn parse_shape(text: &str) -> Result<(usize, usize, usize), String> {
    let sizes: Vec<usize> = text
        .split(['x', '×'])
        .map(|s| s.parse().map_err(|e| format!("--shape {text:?}: {e}")))
        .collect::<Result<_, _>>()?;
    match sizes[..] {
        [m, k, n] if m > 0 && k > 0 && n > 0 => Ok((m, k, n)),
        _ => Err(format!(
            "--shape {text:?}: expected MxKxN, three positive sizes"
        )),
    }
}

fn options() -> Result<Options, String> {
    let mut opts = Options {
        json: false,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        rounds: 7,
        shapes: "all".into(),
        only: None,
        kc: None,
        mc: None,
        custom: Vec::new(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().ok_or(format!("{flag} needs a value"));
        match arg.as_str() {
            "--json" => opts.json = true,
            "--threads" => opts.threads = value("--threads")?.parse().map_err(|e| format!("--threads: {e}"))?,
            "--rounds" => opts.rounds = value("--rounds")?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--shapes" => opts.shapes = value("--shapes")?,
            "--kc" => opts.kc = Some(value("--kc")?.parse().map_err(|e| format!("--kc: {e}"))?),
            "--mc" => opts.mc = Some(value("--mc")?.parse().map_err(|e| format!("--mc: {e}"))?),
            "--shape" => opts.custom.push(parse_shape(&value("--shape")?)?),
            "--only" => opts.only = Some(value("--only")?.split(',').map(str::to_owned).collect()),
            other => return Err(format!("unknown option {other:?} (try --json, --threads N, --rounds R, --shapes vae|burda|conv|square|all, --shape MxKxN, --only IMPL,...)")),
        }
    }
    if opts.threads == 0 || opts.rounds == 0 {
        return Err("--threads and --rounds must be at least 1".into());
    }
    if !["all", "vae", "burda", "conv", "square"].contains(&opts.shapes.as_str()) {
        return Err(format!(
            "--shapes {:?}: expected vae, burda, conv, square or all",
            opts.shapes
        ));
    }
    Ok(opts)
}

/// Prints a line; a closed pipe (`kernel_report | head`) ends the report quietly instead
/// of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

fn main() {
    let opts = options().unwrap_or_else(|e| {
        eprintln!("kernel_report: {e}");
        std::process::exit(2)
    });
    BLOCK_OPTIONS.set((opts.kc, opts.mc)).expect("set once");
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.threads)
        .build()
        .expect("a thread pool");
    let (p256, p512) = (
        peak::fma_peak_at(peak::Width::Avx2, opts.threads),
        peak::fma_peak_at(peak::Width::Avx512, opts.threads),
    );
    let peak = p256.max(p512);
    let bandwidth = memory_bandwidth(&pool);
    let mut impls: Vec<Impl> = Path::available()
        .into_iter()
        .filter(|&p| p != Path::MatrixMultiply)
        .map(Impl::Ours)
        .collect();
    impls.extend([Impl::MatrixMultiply1, Impl::MatrixMultiplySplit]);
    #[cfg(feature = "peers")]
    impls.push(Impl::GemmCrate);
    #[cfg(not(feature = "peers"))]
    if !opts.json {
        say!("(the gemm crate is not in this build: add --features peers to compare with it)");
    }
    if let Some(only) = &opts.only {
        impls.retain(|i| only.contains(&i.name()));
        if impls.is_empty() {
            eprintln!("kernel_report: --only names none of the implementations");
            std::process::exit(2);
        }
    }
    let caches = tensor::speed::gemm::caches::Caches::of_this_cpu();
    if opts.json {
        say!(
            "{}",
            serde_json::json!({"peak_gflops_256": p256, "peak_gflops_512": p512, "bandwidth_gbs": bandwidth, "threads": opts.threads,
                "l1d_bytes": caches.l1d, "l2_bytes": caches.l2, "l3_bytes": caches.l3})
        );
    } else {
        say!("FMA peak on {} threads: {p256:.0} GFLOP/s with 256-bit vectors, {p512:.0} with 512-bit; percentages are of {peak:.0}.", opts.threads);
        say!("Memory bandwidth (a parallel copy of 64 MiB): {bandwidth:.0} GB/s.");
        say!("Caches (CPUID): {}.", caches.describe());
        say!(
            "Medians of {} interleaved rounds, GFLOP/s (% of peak):\n",
            opts.rounds
        );
        let names: Vec<String> = impls.iter().map(|i| i.name()).collect();
        say!(
            "| m×k×n | layout | {} |\n|---|---|{}",
            names.join(" | "),
            "---|".repeat(names.len())
        );
    }
    // Warm the machine up first (clock, caches, packing buffers): the first shape timed
    // otherwise measured up to 40 % low.
    let (a_store, b_store) = operands(128, 784, 400, "nn");
    let mut c = Array2::<f32>::zeros((128, 400));
    let start = Instant::now();
    pool.install(|| {
        while start.elapsed().as_secs_f64() < 1.0 {
            for imp in &impls {
                imp.run(a_store.view(), b_store.view(), &mut c, opts.threads);
            }
        }
    });
    let shapes: Vec<(&str, usize, usize, usize)> = if opts.custom.is_empty() {
        SHAPES
            .into_iter()
            .filter(|s| opts.shapes == "all" || s.0 == opts.shapes)
            .collect()
    } else {
        opts.custom
            .iter()
            .map(|&(m, k, n)| ("custom", m, k, n))
            .collect()
    };
    for (group, m, k, n) in shapes {
        for layout in LAYOUTS {
            if group == "square" && layout != "nn" {
                continue;
            }
            let (a_store, b_store) = operands(m, k, n, layout);
            let (a, b) = views(&a_store, &b_store, layout);
            let mut c = Array2::<f32>::zeros((m, n));
            let flops = 2.0 * (m * k * n) as f64;
            // Repetitions per timing: about 20 ms of work at 200 GFLOP/s.
            let reps = ((4e9 / flops) as usize).max(1);
            let mut samples = vec![Vec::new(); impls.len()];
            pool.install(|| {
                for imp in &impls {
                    imp.run(a, b, &mut c, opts.threads); // warm-up: caches, packing buffers
                }
                for _ in 0..opts.rounds {
                    for (imp, times) in impls.iter().zip(samples.iter_mut()) {
                        let start = Instant::now();
                        for _ in 0..reps {
                            imp.run(a, b, &mut c, opts.threads);
                        }
                        times.push(flops * reps as f64 / start.elapsed().as_secs_f64() / 1e9);
                    }
                }
            });
            let medians: Vec<f64> = samples.into_iter().map(median).collect();
            let shape = format!("{m}x{k}x{n}");
            if opts.json {
                for (imp, g) in impls.iter().zip(&medians) {
                    let pct = 100.0 * g / peak;
                    say!(
                        "{}",
                        serde_json::json!({"shape": shape, "layout": layout, "impl": imp.name(), "gflops": g, "pct_of_peak": pct})
                    );
                }
            } else {
                let cells: Vec<String> = medians
                    .iter()
                    .map(|g| format!("{g:.0} ({:.0} %)", 100.0 * g / peak))
                    .collect();
                say!("| {m}×{k}×{n} | {layout} | {} |", cells.join(" | "));
            }
        }
    }
}
