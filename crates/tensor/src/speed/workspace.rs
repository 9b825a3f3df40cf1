//! Scratch buffers kept between calls: the convolutions lower each batch to matrices
//! (im2col) of a few megabytes, and allocating and zeroing those at every call of every
//! layer costs as much as filling them. Each thread keeps [`SLOTS`] growable buffers per
//! element type; an op borrows them for the length of one call.
//!
//! A call nested inside another on the same thread (none of ours does) finds the slots
//! taken and gets fresh buffers: correct, only slower.

use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;

use super::Scalar;

/// Buffers one call may hold at once.
pub const SLOTS: usize = 3;

thread_local! {
    static BUFFERS: RefCell<HashMap<TypeId, Box<dyn Any>>> = RefCell::new(HashMap::new());
}

/// `f` with this thread's [`SLOTS`] scratch buffers for `T`, each at least as long as
/// asked in `lens` (their contents are unspecified: whatever the last call left).
pub fn with_buffers<T: Scalar, R>(
    lens: [usize; SLOTS],
    f: impl FnOnce(&mut [Vec<T>; SLOTS]) -> R,
) -> R {
    let taken = BUFFERS.with(|b| b.borrow_mut().remove(&TypeId::of::<T>()));
    let mut buffers: Box<[Vec<T>; SLOTS]> = taken
        .and_then(|any| any.downcast().ok())
        .unwrap_or_default();
    for (buffer, &len) in buffers.iter_mut().zip(&lens) {
        if buffer.len() < len {
            buffer.resize(len, T::zero());
        }
    }
    let result = f(&mut buffers);
    BUFFERS.with(|b| b.borrow_mut().insert(TypeId::of::<T>(), buffers));
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_kept_and_grown() {
        let first = with_buffers::<f64, _>([4, 0, 2], |b| {
            b[0][3] = 7.0;
            b[0].as_ptr() as usize
        });
        let (again, value) =
            with_buffers::<f64, _>([4, 1, 1], |b| (b[0].as_ptr() as usize, b[0][3]));
        assert_eq!((again, value), (first, 7.0), "the same buffer, kept");
        with_buffers::<f64, _>([10, 10, 10], |b| assert!(b.iter().all(|v| v.len() >= 10)));
        // Another type has its own.
        with_buffers::<f32, _>([1, 1, 1], |b| assert_eq!(b[0].len(), 1));
    }
}
