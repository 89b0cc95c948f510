//! A boxed slice taken apart into a thin pointer and a `u32` length, so that a packed value (a listpack, an
//! intset) fits its pointer, length and a count or width in 16 bytes instead of a `Box<[T]>`'s 16 plus more.
//! The owner keeps the two parts together and gives them back with `from_raw` exactly once.

use std::ptr::NonNull;

/// The pointer and length of `b`, which the caller now owns. Panics past `u32::MAX` elements (packed values are
/// bounded far below: listpacks by `listpack::SAFETY_LIMIT`, intsets by `collection::intset_limit`).
pub fn into_raw<T>(b: Box<[T]>) -> (NonNull<T>, u32) {
    let len = u32::try_from(b.len()).expect("a packed value of 2^32 elements");
    let ptr = Box::into_raw(b) as *mut T;
    // SAFETY: `Box::into_raw` never returns null.
    (unsafe { NonNull::new_unchecked(ptr) }, len)
}

/// The slice behind parts from `into_raw`.
///
/// # Safety
/// `ptr` and `len` come from one `into_raw` whose box has not been given back, and the slice does not outlive it.
pub unsafe fn slice<'a, T>(ptr: NonNull<T>, len: u32) -> &'a [T] {
    std::slice::from_raw_parts(ptr.as_ptr(), len as usize)
}

/// The box back from parts of `into_raw`.
///
/// # Safety
/// As for `slice`; the parts are not used again.
pub unsafe fn from_raw<T>(ptr: NonNull<T>, len: u32) -> Box<[T]> {
    Box::from_raw(std::ptr::slice_from_raw_parts_mut(
        ptr.as_ptr(),
        len as usize,
    ))
}
