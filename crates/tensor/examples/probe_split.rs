use ndarray::{Array2, ArrayView2};
use std::time::Instant;
use tensor::kernel::{gemm_with_plan, Plan};

fn time(f: &mut dyn FnMut()) -> f64 {
    for _ in 0..5 {
        f();
    }
    let mut best = f64::MAX;
    for _ in 0..7 {
        let t = Instant::now();
        let mut n = 0;
        while t.elapsed().as_secs_f64() < 0.15 {
            f();
            n += 1;
        }
        best = best.min(t.elapsed().as_secs_f64() / n as f64);
    }
    best
}

fn main() {
    let shapes = [
        (128, 784, 400),
        (128, 400, 784),
        (784, 128, 400),
        (400, 128, 784),
        (128, 400, 20),
        (1024, 1024, 1024),
    ];
    for &(m, k, n) in &shapes {
        for (ta, tb) in [(false, false), (false, true), (true, false)] {
            let a_store =
                Array2::<f32>::from_shape_fn(if ta { (k, m) } else { (m, k) }, |(i, j)| {
                    ((i * 7 + j * 3) % 11) as f32 * 0.1
                });
            let b_store =
                Array2::<f32>::from_shape_fn(if tb { (n, k) } else { (k, n) }, |(i, j)| {
                    ((i * 5 + j) % 13) as f32 * 0.1
                });
            let a: ArrayView2<f32> = if ta { a_store.t() } else { a_store.view() };
            let b: ArrayView2<f32> = if tb { b_store.t() } else { b_store.view() };
            let mut c = Array2::<f32>::zeros((m, n));
            let flops = 2.0 * (m * n * k) as f64;
            let mut line = format!("{m}x{k}x{n} ta={} tb={}:", ta as u8, tb as u8);
            for plan in [
                Plan { axis: 0, blocks: 1 },
                Plan { axis: 0, blocks: 2 },
                Plan { axis: 1, blocks: 2 },
                Plan { axis: 0, blocks: 4 },
                Plan { axis: 1, blocks: 4 },
            ] {
                let s = time(&mut || gemm_with_plan(1.0, a, b, 0.0, c.view_mut(), plan));
                line += &format!(
                    "  {}x{}={:.0}",
                    ["r", "c"][plan.axis],
                    plan.blocks,
                    flops / s / 1e9
                );
            }
            let auto = tensor::kernel::plan(m, k, n, 2);
            line += &format!("  auto={}x{}", ["r", "c"][auto.axis], auto.blocks);
            println!("{line}");
        }
    }
}
