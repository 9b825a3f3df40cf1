//! Matrix-multiply throughput (GFLOP/s = 2·m·k·n / s) on the VAE's shapes, in the
//! layouts backprop uses, and on large squares.
//!
//! `cargo bench --bench matmul` compares `tensor::speed::gemm::gemm` (labelled "ours": our own GEMM on
//! the widest path the CPU has, or the path `TENSOR_GEMM` names) with matrixmultiply on
//! one thread. `MATMUL_NUM_THREADS=2 cargo bench --bench matmul --features mm-threading`
//! measures matrixmultiply's own threading instead (the feature would otherwise nest
//! its threads inside our blocks). `just bench` runs both. A table with each figure as
//! a fraction of the measured FMA peak is printed at the end. The `kernel_report` tool
//! (`tools/`, `just kernel-report`) compares every path and the peer libraries side by
//! side.

use std::time::Instant;

use criterion::{BenchmarkId, Criterion, Throughput};
use ndarray::Array2;
use tensor::speed::gemm::{gemm, matrixmultiply};

use tools::operands::{operands, views, LAYOUTS};
use tools::peak;

/// `(m, k, n)` of `C[m,n] = A[m,k]·B[k,n]`.
const VAE_SHAPES: [(usize, usize, usize); 5] = [
    (128, 784, 400),
    (128, 400, 784),
    (784, 128, 400),
    (400, 128, 784),
    (128, 400, 20),
];
const SQUARES: [usize; 3] = [512, 1024, 2048];

fn bench_matmul(c: &mut Criterion) {
    let mut cases: Vec<(usize, usize, usize, &str)> = Vec::new();
    for &(m, k, n) in &VAE_SHAPES {
        cases.extend(LAYOUTS.iter().map(|&l| (m, k, n, l)));
    }
    cases.extend(SQUARES.iter().map(|&s| (s, s, s, "nn")));

    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .expect("a thread pool");
    let mut group = c.benchmark_group("matmul");
    for (m, k, n, layout) in cases {
        let (a_store, b_store) = operands(m, k, n, layout);
        let (a, b) = views(&a_store, &b_store, layout);
        let mut out = Array2::<f32>::zeros((m, n));
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        group.sample_size(if m * k * n > 1 << 28 { 10 } else { 30 });
        let shape = format!("{m}x{k}x{n}/{layout}");
        if cfg!(feature = "mm-threading") {
            group.bench_function(
                BenchmarkId::new("matrixmultiply-threading", &shape),
                |bench| bench.iter(|| ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut out)),
            );
        } else {
            group.bench_function(BenchmarkId::new("ours", &shape), |bench| {
                // Timed from inside the pool, as the training program calls it (vae::cli).
                bench.iter_custom(|iters| {
                    pool.install(|| {
                        let start = Instant::now();
                        for _ in 0..iters {
                            gemm(1.0, a, b, 0.0, out.view_mut());
                        }
                        start.elapsed()
                    })
                })
            });
            group.bench_function(
                BenchmarkId::new("matrixmultiply-1-thread", &shape),
                |bench| {
                    let one = matrixmultiply::Plan { axis: 0, blocks: 1 };
                    bench.iter(|| {
                        matrixmultiply::gemm_with_plan(1.0, a, b, 0.0, out.view_mut(), one)
                    })
                },
            );
        }
    }
    group.finish();
}

/// Reads criterion's saved estimates back and prints GFLOP/s and % of peak per case.
fn print_table(peak1: f64, peak: f64) {
    let root = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../criterion/matmul");
    let mut rows = Vec::new();
    let impls = [
        "ours",
        "matrixmultiply-1-thread",
        "matrixmultiply-threading",
    ];
    for imp in impls {
        let Ok(dirs) = std::fs::read_dir(root.join(imp)) else {
            continue;
        };
        for shape in dirs.flatten() {
            let file = shape.path().join("new/estimates.json");
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let Some(ns) = median_ns(&text) else { continue };
            let name = shape.file_name().to_string_lossy().replace('_', "/");
            let dims: Vec<f64> = name
                .split('/')
                .next()
                .unwrap_or("")
                .split('x')
                .filter_map(|d| d.parse().ok())
                .collect();
            if dims.len() == 3 {
                let gflops = 2.0 * dims[0] * dims[1] * dims[2] / ns;
                rows.push((name, imp, gflops));
            }
        }
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
    println!(
        "\nFMA peak: {peak1:.1} GFLOP/s on 1 thread, {peak:.1} on {} threads",
        rayon::current_num_threads()
    );
    println!(
        "| m×k×n / layout | implementation | GFLOP/s (median) | % of peak |\n|---|---|---|---|"
    );
    for (name, imp, g) in rows {
        let p = if imp == "matrixmultiply-1-thread" {
            peak1
        } else {
            peak
        };
        println!("| {name} | {imp} | {g:.1} | {:.0} % |", 100.0 * g / p);
    }
}

/// The median point estimate (ns) from criterion's `estimates.json`.
fn median_ns(json: &str) -> Option<f64> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    v["median"]["point_estimate"].as_f64()
}

/// The allocator of the `vae` binary (see src/main.rs), so the figures are its figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let peak1 = peak::fma_peak_gflops(1);
    let peak = peak::fma_peak_gflops(rayon::current_num_threads());
    println!(
        "FMA peak: {peak1:.1} GFLOP/s on 1 thread, {peak:.1} on {} threads",
        rayon::current_num_threads()
    );
    let mut c = Criterion::default().configure_from_args();
    bench_matmul(&mut c);
    c.final_summary();
    print_table(peak1, peak);
}
