//! A string value in 24 bytes: up to 23 bytes inline, a longer one in a heap buffer with its capacity.
//!
//! Why not `SmallVec<[u8; 16]>` (also 24 bytes): its first word may hold any number, so `Value`, whose biggest
//! variant is a string, needed a separate tag word and took 32 bytes. Here the last byte is a tag with 25 valid
//! values (an inline length 0..=23, or "heap"), which leaves Rust 231 spare values to tell `Value`'s other
//! variants (all 16 bytes or less) apart: `Value` is 24 bytes, a keyspace node 56 (a 64-byte block instead of an
//! 80-byte one), and strings of 17 to 23 bytes need no block of their own.
//!
//! Layout (`repr(C)`): bytes 0..16 are either inline bytes or the heap buffer's pointer and length, bytes 16..23
//! inline bytes or the capacity (7 little-endian bytes), byte 23 the tag.

use std::ptr::NonNull;

/// The longest string held inline.
pub const INLINE: usize = 23;

/// The lengths are made by `Tag::inline` from a number, never named.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
#[rustfmt::skip]
#[allow(dead_code)]
enum Tag {
    L0, L1, L2, L3, L4, L5, L6, L7, L8, L9, L10, L11, L12, L13, L14, L15, L16, L17, L18, L19, L20, L21, L22, L23,
    Heap,
}

impl Tag {
    fn inline(len: usize) -> Tag {
        assert!(len <= INLINE);
        // SAFETY: `Tag` is `repr(u8)` with the discriminants 0..=24 in order, and len <= 23.
        unsafe { std::mem::transmute::<u8, Tag>(len as u8) }
    }
}

#[derive(Clone, Copy)]
#[repr(C)]
struct HeapHead {
    ptr: NonNull<u8>,
    len: usize,
}

#[repr(C)]
union Head {
    inline: [u8; 16],
    heap: HeapHead,
}

#[repr(C)]
pub struct StrValue {
    head: Head,
    tail: [u8; 7],
    tag: Tag,
}

// SAFETY: a `StrValue` owns its heap buffer outright, as a `Vec<u8>` does.
unsafe impl Send for StrValue {}
// SAFETY: as above; `&StrValue` only reads.
unsafe impl Sync for StrValue {}

impl StrValue {
    pub const fn new() -> StrValue {
        StrValue {
            head: Head { inline: [0; 16] },
            tail: [0; 7],
            tag: Tag::L0,
        }
    }

    pub fn from_slice(s: &[u8]) -> StrValue {
        if s.len() <= INLINE {
            let mut v = StrValue::new();
            v.inline_bytes_mut()[..s.len()].copy_from_slice(s);
            v.tag = Tag::inline(s.len());
            v
        } else {
            StrValue::heap(s.to_vec())
        }
    }

    /// Takes `v`'s buffer, or copies it inline (freeing it) when it is short.
    pub fn from_vec(v: Vec<u8>) -> StrValue {
        if v.len() <= INLINE {
            StrValue::from_slice(&v)
        } else {
            StrValue::heap(v)
        }
    }

    fn heap(v: Vec<u8>) -> StrValue {
        let mut v = std::mem::ManuallyDrop::new(v);
        let cap = v.capacity() as u64;
        assert!(cap < 1 << 56, "a string of 2^56 bytes");
        let head = HeapHead {
            // SAFETY: a Vec's pointer is never null.
            ptr: unsafe { NonNull::new_unchecked(v.as_mut_ptr()) },
            len: v.len(),
        };
        let mut tail = [0u8; 7];
        tail.copy_from_slice(&cap.to_le_bytes()[..7]);
        StrValue {
            head: Head { heap: head },
            tail,
            tag: Tag::Heap,
        }
    }

    fn is_heap(&self) -> bool {
        self.tag == Tag::Heap
    }

    fn heap_cap(&self) -> usize {
        let mut b = [0u8; 8];
        b[..7].copy_from_slice(&self.tail);
        u64::from_le_bytes(b) as usize
    }

    /// Whether the bytes live in a heap buffer (MEMORY USAGE counts it).
    pub fn spilled(&self) -> bool {
        self.is_heap()
    }

    /// Bytes the string can hold without reallocating.
    pub fn capacity(&self) -> usize {
        if self.is_heap() {
            self.heap_cap()
        } else {
            INLINE
        }
    }

    pub fn len(&self) -> usize {
        if self.is_heap() {
            // SAFETY: the heap form is the one written.
            unsafe { self.head.heap.len }
        } else {
            self.tag as usize
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The 23 inline bytes (bytes 0..23 of the struct, contiguous under `repr(C)`).
    fn inline_bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: `head` (16 bytes) and `tail` (7) are adjacent and always initialised.
        unsafe { std::slice::from_raw_parts_mut(self as *mut StrValue as *mut u8, INLINE) }
    }

    fn inline_bytes(&self) -> &[u8] {
        // SAFETY: as in `inline_bytes_mut`.
        unsafe { std::slice::from_raw_parts(self as *const StrValue as *const u8, INLINE) }
    }

    pub fn as_slice(&self) -> &[u8] {
        if self.is_heap() {
            // SAFETY: the heap form owns a buffer with `len` initialised bytes.
            unsafe { std::slice::from_raw_parts(self.head.heap.ptr.as_ptr(), self.head.heap.len) }
        } else {
            &self.inline_bytes()[..self.tag as usize]
        }
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        if self.is_heap() {
            // SAFETY: as in `as_slice`, and `&mut self` is unique.
            unsafe {
                std::slice::from_raw_parts_mut(self.head.heap.ptr.as_ptr(), self.head.heap.len)
            }
        } else {
            let len = self.tag as usize;
            &mut self.inline_bytes_mut()[..len]
        }
    }

    /// The bytes as a `Vec`, leaving the string empty (no copy when they are on the heap).
    pub fn take_vec(&mut self) -> Vec<u8> {
        let taken = std::mem::take(self);
        taken.into_vec()
    }

    pub fn into_vec(self) -> Vec<u8> {
        if self.is_heap() {
            let this = std::mem::ManuallyDrop::new(self);
            // SAFETY: the buffer came from a Vec with this pointer, length and capacity; `this` is not dropped.
            unsafe {
                Vec::from_raw_parts(
                    this.head.heap.ptr.as_ptr(),
                    this.head.heap.len,
                    this.heap_cap(),
                )
            }
        } else {
            self.as_slice().to_vec()
        }
    }

    /// Edits the bytes as a `Vec` (for growth past the inline room); back inline if the result fits.
    fn edit(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        let mut v = self.take_vec();
        f(&mut v);
        *self = if v.len() <= INLINE && v.capacity() > INLINE {
            StrValue::heap(v)
        } else {
            StrValue::from_vec(v)
        };
    }

    pub fn extend_from_slice(&mut self, s: &[u8]) {
        let len = self.len();
        if !self.is_heap() && len + s.len() <= INLINE {
            self.inline_bytes_mut()[len..len + s.len()].copy_from_slice(s);
            self.tag = Tag::inline(len + s.len());
        } else {
            self.edit(|v| v.extend_from_slice(s));
        }
    }

    pub fn push(&mut self, b: u8) {
        self.extend_from_slice(&[b]);
    }

    /// Grows with `fill` bytes or truncates to `new_len`.
    pub fn resize(&mut self, new_len: usize, fill: u8) {
        let len = self.len();
        if new_len <= len {
            self.truncate(new_len);
        } else if !self.is_heap() && new_len <= INLINE {
            self.inline_bytes_mut()[len..new_len].fill(fill);
            self.tag = Tag::inline(new_len);
        } else {
            self.edit(|v| v.resize(new_len, fill));
        }
    }

    pub fn truncate(&mut self, new_len: usize) {
        if new_len >= self.len() {
            return;
        }
        if self.is_heap() {
            // The heap form is the one written; the bytes past `new_len` need no drop.
            self.head.heap.len = new_len;
        } else {
            self.tag = Tag::inline(new_len);
        }
    }

    pub fn clear(&mut self) {
        self.truncate(0);
    }
}

impl Drop for StrValue {
    fn drop(&mut self) {
        if self.is_heap() {
            // SAFETY: the buffer came from a Vec with this pointer and capacity; freed once, here.
            unsafe {
                drop(Vec::from_raw_parts(
                    self.head.heap.ptr.as_ptr(),
                    0,
                    self.heap_cap(),
                ))
            }
        }
    }
}

impl Default for StrValue {
    fn default() -> Self {
        StrValue::new()
    }
}

impl Clone for StrValue {
    fn clone(&self) -> Self {
        StrValue::from_slice(self)
    }
}

impl std::ops::Deref for StrValue {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::ops::DerefMut for StrValue {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for StrValue {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl std::borrow::Borrow<[u8]> for StrValue {
    fn borrow(&self) -> &[u8] {
        self
    }
}

impl From<&[u8]> for StrValue {
    fn from(s: &[u8]) -> Self {
        StrValue::from_slice(s)
    }
}

impl From<Vec<u8>> for StrValue {
    fn from(v: Vec<u8>) -> Self {
        StrValue::from_vec(v)
    }
}

impl Extend<u8> for StrValue {
    fn extend<I: IntoIterator<Item = u8>>(&mut self, iter: I) {
        let bytes: Vec<u8> = iter.into_iter().collect();
        self.extend_from_slice(&bytes);
    }
}

impl FromIterator<u8> for StrValue {
    fn from_iter<I: IntoIterator<Item = u8>>(iter: I) -> Self {
        StrValue::from_vec(iter.into_iter().collect())
    }
}

impl PartialEq for StrValue {
    fn eq(&self, other: &StrValue) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for StrValue {}

impl PartialEq<[u8]> for StrValue {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl std::hash::Hash for StrValue {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl std::fmt::Debug for StrValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_slice(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_four_bytes_with_a_niche_and_every_length_round_trips() {
        assert_eq!(std::mem::size_of::<StrValue>(), 24);
        assert_eq!(std::mem::size_of::<Option<StrValue>>(), 24);
        for len in 0..100usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let v = StrValue::from_slice(&bytes);
            assert_eq!(&*v, &bytes[..]);
            assert_eq!(v.spilled(), len > INLINE);
            assert_eq!(StrValue::from_vec(bytes.clone()), v);
            assert_eq!(v.clone().into_vec(), bytes);
        }
    }

    #[test]
    fn edits_match_a_vec() {
        let mut model: Vec<u8> = Vec::new();
        let mut v = StrValue::new();
        for step in 0..2000u32 {
            match fastrand::u8(..5) {
                0 => {
                    let s: Vec<u8> = (0..fastrand::usize(..12))
                        .map(|_| fastrand::u8(..))
                        .collect();
                    model.extend_from_slice(&s);
                    v.extend_from_slice(&s);
                }
                1 => {
                    let n = fastrand::usize(..40);
                    model.resize(n, step as u8);
                    v.resize(n, step as u8);
                }
                2 => {
                    let n = fastrand::usize(..40);
                    model.truncate(n);
                    v.truncate(n);
                }
                3 if !model.is_empty() => {
                    let i = fastrand::usize(..model.len());
                    model[i] ^= 0x5a;
                    v[i] ^= 0x5a;
                }
                _ => {
                    model.push(step as u8);
                    v.push(step as u8);
                }
            }
            assert_eq!(&*v, &model[..], "step {step}");
        }
        assert_eq!(v.take_vec(), model);
        assert!(v.is_empty());
    }
}
