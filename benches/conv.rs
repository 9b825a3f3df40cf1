//! The convolution ops layer by layer: each layer of the canonical conv VAE (channels
//! 32,64, kernel 4, stride 2, padding 1) at batch 128, forward alone and forward with
//! backward, reported in FLOP/s (criterion's "elements" are FLOPs here: 2 per
//! multiply-add of the lowered products; im2col and col2im count none, so their time
//! shows as a lower rate).
//!
//! `cargo bench --bench conv`.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use tensor::{Tape, Tensor};

/// A layer: its name, whether transposed, input `[B, C, H, W]`, weight shape, output
/// padding.
struct Layer {
    name: &'static str,
    transposed: bool,
    input: [usize; 4],
    weight: [usize; 4],
}

const BATCH: usize = 128;

const LAYERS: [Layer; 4] = [
    Layer {
        name: "encoder.conv.0 1→32 28→14",
        transposed: false,
        input: [BATCH, 1, 28, 28],
        weight: [32, 1, 4, 4],
    },
    Layer {
        name: "encoder.conv.1 32→64 14→7",
        transposed: false,
        input: [BATCH, 32, 14, 14],
        weight: [64, 32, 4, 4],
    },
    Layer {
        name: "decoder.deconv.0 64→32 7→14",
        transposed: true,
        input: [BATCH, 64, 7, 7],
        weight: [64, 32, 4, 4],
    },
    Layer {
        name: "decoder.deconv.1 32→1 14→28",
        transposed: true,
        input: [BATCH, 32, 14, 14],
        weight: [32, 1, 4, 4],
    },
];

/// Multiply-adds of one forward: every output position of every image takes a kernel
/// window of every input channel (for the transpose, every input position spreads one).
fn forward_flops(layer: &Layer) -> u64 {
    let [b, c_in, h, w] = layer.input;
    let [_, _, kh, kw] = layer.weight;
    let per_position = if layer.transposed {
        layer.weight[1] * kh * kw * c_in // each input value times C_out·k² weights
    } else {
        layer.weight[0] * c_in * kh * kw
    };
    let positions = if layer.transposed {
        h * w
    } else {
        (h / 2) * (w / 2)
    };
    2 * (b * positions * per_position) as u64
}

fn seeded(shape: &[usize]) -> Tensor<f32> {
    let mut state = 1u32;
    Tensor::from_shape_fn(shape.to_vec(), |_| {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
    })
}

fn bench_conv(c: &mut Criterion) {
    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .expect("a thread pool");
    let mut group = c.benchmark_group("conv");
    for layer in &LAYERS {
        let (x, w) = (seeded(&layer.input), seeded(&layer.weight));
        let c_out = if layer.transposed {
            layer.weight[1]
        } else {
            layer.weight[0]
        };
        let bias = seeded(&[c_out]);
        let flops = forward_flops(layer);
        for backward in [false, true] {
            // The backward of a layer inside the network: gradients of x, W and b (3 products
            // in all but the first layer, whose input is the data: 2).
            let needs_x = layer.input[1] != 1;
            let total = if backward {
                flops * if needs_x { 3 } else { 2 }
            } else {
                flops
            };
            group.throughput(Throughput::Elements(total));
            group.sample_size(20);
            let what = if backward {
                "forward+backward"
            } else {
                "forward"
            };
            group.bench_function(BenchmarkId::new(what, layer.name), |bench| {
                bench.iter_custom(|iters| {
                    pool.install(|| {
                        let mut elapsed = Duration::ZERO;
                        for _ in 0..iters {
                            let tape = Tape::<f32>::new();
                            let xv = if needs_x {
                                tape.param(&x)
                            } else {
                                tape.constant(&x)
                            };
                            let (wv, bv) = (tape.param(&w), tape.param(&bias));
                            let start = Instant::now();
                            let y = if layer.transposed {
                                xv.conv_transpose2d(wv, bv, [2, 2], [1, 1], [0, 0], [1, 1])
                            } else {
                                xv.conv2d(wv, bv, [2, 2], [1, 1], [1, 1])
                            };
                            if backward {
                                let dy = Tensor::from_elem(y.shape(), 1.0);
                                std::hint::black_box(tape.backward_with(y, dy));
                            }
                            elapsed += start.elapsed();
                        }
                        elapsed
                    })
                })
            });
        }
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench_conv(&mut criterion);
    criterion.final_summary();
}
