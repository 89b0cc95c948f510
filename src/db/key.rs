//! The byte string a dict node is filed under (keys of the keyspace, hash fields, set members, skip-list
//! members), in 16 bytes: up to 15 bytes inline, a longer one in an exactly-sized heap block.
//!
//! Why not `SmallVec<[u8; 16]>` (24 bytes): a node is allocated on its own, and glibc rounds each block (plus its
//! 8-byte header) up to 16 bytes, so 8 bytes less per node moves a keyspace node from a 96-byte block to an
//! 80-byte one and a set member's from 48 to 32 bytes. Keys never grow in place, so no capacity is kept.
//!
//! Layout: byte 15 tells the forms apart. Inline: `0x80 | len` there and the bytes before it. Heap: the block's
//! pointer, then its length in 7 little-endian bytes (no block is 2^56 bytes long) and 0 in byte 15.

use std::borrow::Borrow;
use std::ptr::NonNull;

/// The longest key held inline.
const INLINE: usize = 15;
const INLINE_TAG: u8 = 0x80;

#[derive(Clone, Copy)]
#[repr(C)]
struct Heap {
    ptr: NonNull<u8>,
    /// The length in bytes 0..7 (little-endian), 0 in byte 7 (the union's byte 15).
    meta: [u8; 8],
}

#[repr(C)]
union Repr {
    inline: [u8; 16],
    heap: Heap,
}

pub struct Key(Repr);

// SAFETY: a `Key` owns its heap block outright (no sharing, no interior mutability), as a `Box<[u8]>` does.
unsafe impl Send for Key {}
// SAFETY: as above; `&Key` only reads.
unsafe impl Sync for Key {}

impl Key {
    /// The empty key.
    pub const fn new() -> Key {
        let mut inline = [0u8; 16];
        inline[INLINE] = INLINE_TAG;
        Key(Repr { inline })
    }

    pub fn from_slice(s: &[u8]) -> Key {
        if s.len() <= INLINE {
            let mut inline = [0u8; 16];
            inline[..s.len()].copy_from_slice(s);
            inline[INLINE] = INLINE_TAG | s.len() as u8;
            return Key(Repr { inline });
        }
        let block: Box<[u8]> = s.into();
        let len = block.len() as u64;
        debug_assert!(len < 1 << 56);
        let mut meta = len.to_le_bytes();
        meta[7] = 0;
        // SAFETY: `Box::into_raw` never returns null.
        let ptr = unsafe { NonNull::new_unchecked(Box::into_raw(block) as *mut u8) };
        Key(Repr {
            heap: Heap { ptr, meta },
        })
    }

    fn tag(&self) -> u8 {
        // SAFETY: byte 15 is initialised in both forms (the inline tag, or the heap form's last length byte).
        unsafe { self.0.inline[INLINE] }
    }

    fn is_inline(&self) -> bool {
        self.tag() & INLINE_TAG != 0
    }

    pub fn len(&self) -> usize {
        if self.is_inline() {
            (self.tag() & !INLINE_TAG) as usize
        } else {
            // SAFETY: not inline, so the heap form is the one written.
            let meta = unsafe { self.0.heap.meta };
            u64::from_le_bytes(meta) as usize
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_slice(&self) -> &[u8] {
        let len = self.len();
        if self.is_inline() {
            // SAFETY: the inline form is the one written; len <= 15.
            unsafe { &self.0.inline[..len] }
        } else {
            // SAFETY: the heap form points at a live block of exactly `len` bytes that this key owns.
            unsafe { std::slice::from_raw_parts(self.0.heap.ptr.as_ptr(), len) }
        }
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        if !self.is_inline() {
            let len = self.len();
            // SAFETY: the block came from `Box::<[u8]>::into_raw` with this length and is freed once, here.
            unsafe {
                let raw = std::ptr::slice_from_raw_parts_mut(self.0.heap.ptr.as_ptr(), len);
                drop(Box::from_raw(raw));
            }
        }
    }
}

impl Default for Key {
    fn default() -> Self {
        Key::new()
    }
}

impl Clone for Key {
    fn clone(&self) -> Self {
        Key::from_slice(self)
    }
}

impl std::ops::Deref for Key {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for Key {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self
    }
}

impl From<&[u8]> for Key {
    fn from(s: &[u8]) -> Self {
        Key::from_slice(s)
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state)
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_slice(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bytes_and_every_length_round_trips() {
        assert_eq!(std::mem::size_of::<Key>(), 16);
        for len in 0..300usize {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let key = Key::from_slice(&bytes);
            assert_eq!(key.len(), len);
            assert_eq!(&*key, &bytes[..]);
            assert_eq!(key.is_inline(), len <= INLINE);
            let copy = key.clone();
            drop(key);
            assert_eq!(copy.as_slice(), &bytes[..]);
        }
        assert!(Key::new().is_empty());
        assert_eq!(Key::from_slice(b"\x00\xff"), Key::from_slice(&[0, 255]));
        assert!(Key::from_slice(b"a") < Key::from_slice(b"ab"));
    }
}
