//! The micro-kernels touch nothing past an operand's last element. `B` and `C` are placed
//! so that each ends exactly where an unreadable page begins, and every path this CPU runs
//! multiplies them: a load of `B` or a store to `C` past the last column (a plain vector
//! where the last column tile needs a masked one) faults, and the test dies with it.
#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use tensor::speed::gemm::matrixmultiply::gemm_matrixmultiply;
use tensor::speed::gemm::{gemm_on, Path};

/// `len` f32 in a mapping of their own, followed by a page that cannot be read or written.
struct Guarded {
    map: *mut libc::c_void,
    readable: usize,
    len: usize,
}

impl Guarded {
    fn new(len: usize) -> Guarded {
        // SAFETY: sysconf, then mmap and mprotect on a fresh anonymous mapping of our own.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
            let readable = (len * 4).div_ceil(page) * page;
            let map = libc::mmap(
                std::ptr::null_mut(),
                readable + page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            assert_ne!(map, libc::MAP_FAILED, "mmap");
            let guard = map.cast::<u8>().add(readable).cast();
            assert_eq!(libc::mprotect(guard, page, libc::PROT_NONE), 0, "mprotect");
            Guarded { map, readable, len }
        }
    }

    /// The `len` values, the last one just before the unreadable page.
    fn values(&mut self) -> &mut [f32] {
        // SAFETY: the slice ends where the readable part of the mapping does, and
        // `&mut self` keeps it the only one.
        unsafe {
            let end = self.map.cast::<u8>().add(self.readable).cast::<f32>();
            std::slice::from_raw_parts_mut(end.sub(self.len), self.len)
        }
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        // SAFETY: the mapping is ours, and nothing borrows it any more.
        unsafe { libc::munmap(self.map, self.readable + page) };
    }
}

#[test]
fn no_path_reads_past_b_or_writes_past_c() {
    // Last column tiles of many widths below the tiles'; `B` and `C` read and written in
    // place (row strides that do not alias, products too small to swap).
    for (m, k, n) in [
        (12, 3, 20),
        (20, 5, 18),
        (12, 7, 50),
        (24, 4, 41),
        (20, 9, 7),
    ] {
        let a = Array2::from_shape_fn((m, k), |(i, p)| (i * 3 + p) as f32 * 0.25);
        let mut b_memory = Guarded::new(k * n);
        for (x, v) in b_memory.values().iter_mut().zip(0..) {
            *x = (v % 7) as f32 - 3.0;
        }
        let b = ArrayView2::from_shape((k, n), &*b_memory.values()).unwrap();
        let mut expected = Array2::zeros((m, n));
        gemm_matrixmultiply(1.0, a.view(), b, 0.0, expected.view_mut());
        for path in Path::available() {
            let mut c_memory = Guarded::new(m * n);
            c_memory.values().fill(f32::NAN);
            let c = ArrayViewMut2::from_shape((m, n), c_memory.values()).unwrap();
            gemm_on(path, 1.0, a.view(), b, 0.0, c);
            let c = ArrayView2::from_shape((m, n), &*c_memory.values()).unwrap();
            for ((i, j), x) in c.indexed_iter() {
                let y = expected[[i, j]];
                assert!(
                    (x - y).abs() <= 1e-4,
                    "{path:?} {m}×{k}×{n}: C[{i},{j}] = {x}, not {y}"
                );
            }
        }
    }
}
