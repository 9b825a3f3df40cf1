//! What the kernel needs of an element type (`f32`, `f64`): its micro-kernels for each
//! path, with their tiles and cache blocking, and a packing buffer kept per thread.

use std::cell::Cell;

#[cfg(target_arch = "x86_64")]
use super::x86;
use super::{portable, Blocking, KernelFn, MicroKernel, Path};

/// The element types the kernel multiplies (`f32` and `f64`): each knows its micro-kernels
/// and keeps a reusable packing buffer per thread.
pub trait Element: Copy + Send + Sync + 'static {
    /// The micro-kernel for `path`, or `None` if the path is `MatrixMultiply` or the CPU
    /// lacks the instructions (the only way to obtain a kernel: see the module's Safety).
    fn microkernel(path: Path) -> Option<MicroKernel<Self>>;
    /// Takes this thread's packing buffer (leaving an empty one, so a nested call is safe).
    fn take_buffer() -> Vec<Self>;
    /// Gives the buffer back for the next call on this thread.
    fn return_buffer(buffer: Vec<Self>);
    /// Packs `lanes` transposed into `out` with vector instructions, if this type and CPU
    /// have them (`pack.rs` falls back to a scalar loop when this returns false).
    fn transpose_into(lanes: &[&[Self]], width: usize, out: &mut [Self]) -> bool;
}

thread_local! {
    static F32_BUFFER: Cell<Vec<f32>> = const { Cell::new(Vec::new()) };
    static F64_BUFFER: Cell<Vec<f64>> = const { Cell::new(Vec::new()) };
}

macro_rules! element {
    ($t:ty, $buffer:ident, kc: $kc:literal, transpose: $transpose:path,
     $($($path:ident)|+: $mr:literal x $nr:literal in $vectors:literal, $short_mr:literal:
       $run:ident / $half:ident / $short:ident),*) => {
        impl Element for $t {
            fn microkernel(path: Path) -> Option<MicroKernel<$t>> {
                if !path.is_supported() {
                    return None;
                }
                let kernel = |(mr, nr, vectors): (usize, usize, usize), short_mr, [run, half, short]: [KernelFn<$t>; 3]| {
                    // 16 row tiles, 32 of a 256-byte-wide 6×64: 192 rows, as for 12×32.
                    let mc = 16 * mr * (nr * std::mem::size_of::<$t>()).div_ceil(128);
                    let blocking = Blocking { kc: $kc, mc };
                    Some(MicroKernel { mr, nr, vectors, short_mr, blocking, run, half, short })
                };
                match path {
                    $(#[cfg(target_arch = "x86_64")]
                    $(Path::$path)|+ => kernel(($mr, $nr, $vectors), $short_mr, [x86::$run, x86::$half, x86::$short]),)*
                    Path::Portable => kernel((4, 8, 2), 2, [
                        portable::portable::<$t, 4, 8>,
                        portable::portable::<$t, 4, 4>,
                        portable::portable::<$t, 2, 8>,
                    ]),
                    _ => None,
                }
            }
            fn take_buffer() -> Vec<$t> {
                $buffer.take()
            }
            fn return_buffer(buffer: Vec<$t>) {
                $buffer.set(buffer)
            }
            fn transpose_into(lanes: &[&[$t]], width: usize, out: &mut [$t]) -> bool {
                $transpose(lanes, width, out)
            }
        }
    };
}

// f64 keeps `kc` = 256 (as f32 first had): the gradient checks' type, not tuned.
element!(f32, F32_BUFFER, kc: 1024, transpose: transpose_f32,
    Avx512 | Avx512Tall: 12 x 32 in 2, 8: avx512_f32_12x32 / avx512_f32_12x16 / avx512_f32_8x32,
    Avx512Wide: 6 x 64 in 4, 4: avx512_f32_6x64 / avx512_f32_6x32 / avx512_f32_4x64,
    Avx2Fma: 6 x 16 in 2, 4: avx2_f32_6x16 / avx2_f32_6x8 / avx2_f32_4x16);
element!(f64, F64_BUFFER, kc: 256, transpose: no_transpose,
    Avx512 | Avx512Tall: 12 x 16 in 2, 8: avx512_f64_12x16 / avx512_f64_12x8 / avx512_f64_8x16,
    Avx512Wide: 6 x 32 in 4, 4: avx512_f64_6x32 / avx512_f64_6x16 / avx512_f64_4x32,
    Avx2Fma: 6 x 8 in 2, 4: avx2_f64_6x8 / avx2_f64_6x4 / avx2_f64_4x8);

#[cfg(target_arch = "x86_64")]
use super::transpose::transpose_into_f32 as transpose_f32;

#[cfg(not(target_arch = "x86_64"))]
fn transpose_f32(_: &[&[f32]], _: usize, _: &mut [f32]) -> bool {
    false
}

/// f64 packs with the scalar loop: it is the gradient checks' type, where speed is moot.
fn no_transpose<T>(_: &[&[T]], _: usize, _: &mut [T]) -> bool {
    false
}
