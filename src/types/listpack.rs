//! A packed sequence of byte strings in one exactly-sized allocation, after Redis's listpack: what small hashes
//! and sorted sets are stored as, so that a value of ten short fields costs one allocation of a few hundred
//! bytes instead of one allocation per field plus a table.
//!
//! Each entry is `[length: LEB128][bytes][back: the entry's header+bytes length, LEB128 bytes in reverse]`; the
//! trailing back-length lets a walk go backwards (reverse ranges) as in Redis. Entries are addressed by their
//! byte offset, valid until the next change. Every change reallocates to the exact size, as Redis's listpack does:
//! these sequences are small (bounded by the `*-max-listpack-*` thresholds), so the copy is cheap and no capacity
//! is wasted.

use crate::util::rawslice;

/// 16 bytes: the buffer's thin pointer and `u32` length (listpacks stay under [`SAFETY_LIMIT`]), and the
/// entry count, so that a `Value` holding one is 24 bytes (see `db::StrValue`).
pub struct Listpack {
    ptr: std::ptr::NonNull<u8>,
    len: u32,
    count: u32,
}

// SAFETY: a `Listpack` owns its buffer outright, as a `Box<[u8]>` does.
unsafe impl Send for Listpack {}
// SAFETY: as above; `&Listpack` only reads.
unsafe impl Sync for Listpack {}

impl Default for Listpack {
    fn default() -> Self {
        Listpack::with_buf(Box::default(), 0)
    }
}

impl Clone for Listpack {
    fn clone(&self) -> Self {
        Listpack::with_buf(self.buf().into(), self.count)
    }
}

impl PartialEq for Listpack {
    fn eq(&self, other: &Listpack) -> bool {
        self.count == other.count && self.buf() == other.buf()
    }
}

impl Eq for Listpack {}

impl Drop for Listpack {
    fn drop(&mut self) {
        // SAFETY: the parts came from `into_raw` in `with_buf`/`set_buf` and are given back once, here.
        drop(unsafe { rawslice::from_raw(self.ptr, self.len) });
    }
}

impl std::fmt::Debug for Listpack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Bytes of the LEB128 form of `n`.
fn varint_len(mut n: usize) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

fn put_varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Appends the encoded entry holding `data`.
fn put_entry(out: &mut Vec<u8>, data: &[u8]) {
    let start = out.len();
    put_varint(out, data.len());
    out.extend_from_slice(data);
    let body = out.len() - start;
    let back = out.len();
    put_varint(out, body);
    out[back..].reverse();
}

/// Writes the varint `n` at the start of `out`; returns its length.
fn write_varint(out: &mut [u8], mut n: usize) -> usize {
    let mut i = 0;
    while n >= 0x80 {
        out[i] = (n as u8 & 0x7f) | 0x80;
        n >>= 7;
        i += 1;
    }
    out[i] = n as u8;
    i + 1
}

/// Writes the entry holding `data` at the start of `out` (which has room for it); returns its size.
fn write_entry(out: &mut [u8], data: &[u8]) -> usize {
    let hdr = write_varint(out, data.len());
    out[hdr..hdr + data.len()].copy_from_slice(data);
    let body = hdr + data.len();
    let back = write_varint(&mut out[body..], body);
    out[body..body + back].reverse();
    body + back
}

/// The encoded size of an entry holding `len` bytes.
pub fn entry_size(len: usize) -> usize {
    let body = varint_len(len) + len;
    body + varint_len(body)
}

/// A hash or sorted set listpack never grows past this (Redis's `LISTPACK_MAX_SAFETY_SIZE`), whatever the
/// `*-max-listpack-*` limits say: raised limits convert it to the big structure rather than overflow the
/// packed value's `u32` length.
pub const SAFETY_LIMIT: usize = 1 << 30;

/// Whether entries holding `lens` bytes each fit in `lp` within [`SAFETY_LIMIT`] (Redis's `lpSafeToAdd`).
pub fn safe_to_add(lp: &Listpack, lens: &[usize]) -> bool {
    let added = lens
        .iter()
        .fold(0usize, |sum, &len| sum.saturating_add(entry_size(len)));
    lp.bytes().saturating_add(added) <= SAFETY_LIMIT
}

impl Listpack {
    pub fn new() -> Listpack {
        Listpack::default()
    }

    fn with_buf(buf: Box<[u8]>, count: u32) -> Listpack {
        let (ptr, len) = rawslice::into_raw(buf);
        Listpack { ptr, len, count }
    }

    /// The encoded entries.
    fn buf(&self) -> &[u8] {
        // SAFETY: `ptr`/`len` are the live parts of this listpack's buffer.
        unsafe { rawslice::slice(self.ptr, self.len) }
    }

    /// Takes the buffer out, leaving an empty one (the count is the caller's to set).
    fn take_buf(&mut self) -> Box<[u8]> {
        let (ptr, len) = rawslice::into_raw(Box::default());
        let old = std::mem::replace(self, Listpack { ptr, len, count: 0 });
        let old = std::mem::ManuallyDrop::new(old);
        // SAFETY: `old`'s parts are live and, `old` being forgotten, handed back only here.
        unsafe { rawslice::from_raw(old.ptr, old.len) }
    }

    fn set_buf(&mut self, buf: Box<[u8]>, count: u32) {
        *self = Listpack::with_buf(buf, count);
    }

    /// A listpack of `entries`, in order.
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Listpack {
        // Sized first, so the buffer is allocated once at its exact size (no growth, no shrinking copy, no
        // freed intermediate blocks left between the values).
        // Pushed one by one: `split_off`'s iterator does not know its length (its size hint is unbounded).
        let mut all: Vec<&[u8]> = Vec::new();
        entries.into_iter().for_each(|e| all.push(e));
        let entries = all;
        let mut out = Vec::with_capacity(entries.iter().map(|e| entry_size(e.len())).sum());
        let mut count = 0u32;
        for e in entries {
            put_entry(&mut out, e);
            count += 1;
        }
        Listpack::with_buf(out.into_boxed_slice(), count)
    }

    /// The encoded entries, for a compressed quicklist node to keep and give back to [`Listpack::from_encoded`].
    pub fn encoded(&self) -> &[u8] {
        self.buf()
    }

    /// The listpack whose [`Listpack::encoded`] bytes were `buf`, holding `count` entries. Only for bytes this
    /// process encoded (a decompressed quicklist node): nothing here validates them.
    pub fn from_encoded(buf: Box<[u8]>, count: usize) -> Listpack {
        Listpack::with_buf(buf, count as u32)
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The bytes the encoded entries take.
    pub fn bytes(&self) -> usize {
        self.buf().len()
    }

    /// Reads the varint at `off`: (value, its length).
    fn varint_at(&self, off: usize) -> (usize, usize) {
        let mut n = 0usize;
        let mut i = 0;
        loop {
            let b = self.buf()[off + i];
            n |= ((b & 0x7f) as usize) << (7 * i);
            i += 1;
            if b & 0x80 == 0 {
                return (n, i);
            }
        }
    }

    /// (offset of the data, its length, offset of the next entry) of the entry at `off`.
    fn decode(&self, off: usize) -> (usize, usize, usize) {
        let (len, hdr) = self.varint_at(off);
        let data = off + hdr;
        let body = hdr + len;
        (data, len, off + body + varint_len(body))
    }

    /// The offset of the first entry.
    pub fn first(&self) -> Option<usize> {
        (!self.buf().is_empty()).then_some(0)
    }

    /// The offset of the last entry.
    pub fn last(&self) -> Option<usize> {
        self.prev(self.buf().len())
    }

    /// The data of the entry at `off`.
    pub fn get(&self, off: usize) -> &[u8] {
        let (data, len, _) = self.decode(off);
        &self.buf()[data..data + len]
    }

    /// The offset of the entry after the one at `off`.
    pub fn next(&self, off: usize) -> Option<usize> {
        let (_, _, next) = self.decode(off);
        (next < self.buf().len()).then_some(next)
    }

    /// The offset of the entry before the one at `off` (`off` may be the end, `bytes()`).
    pub fn prev(&self, off: usize) -> Option<usize> {
        if off == 0 {
            return None;
        }
        let mut body = 0usize;
        let mut i = 0;
        loop {
            let b = self.buf()[off - 1 - i];
            body |= ((b & 0x7f) as usize) << (7 * i);
            i += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        Some(off - i - body)
    }

    /// The offset of the entry `n` entries after the one at `off` (or the end offset, `bytes()`).
    pub fn skip(&self, mut off: usize, n: usize) -> usize {
        for _ in 0..n {
            off = self.decode(off).2;
        }
        off
    }

    /// Entries in order with their offsets.
    pub fn entries(&self) -> impl Iterator<Item = (usize, &[u8])> + '_ {
        let mut off = 0;
        std::iter::from_fn(move || {
            if off >= self.buf().len() {
                return None;
            }
            let (data, len, next) = self.decode(off);
            let at = off;
            off = next;
            Some((at, &self.buf()[data..data + len]))
        })
    }

    /// Entries in order (either way).
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            lp: self,
            front: 0,
            back: self.buf().len(),
            left: self.len(),
        }
    }

    /// Splits off the entries from offset `off` on into a new listpack.
    pub fn split_off(&mut self, off: usize) -> Listpack {
        let tail = Listpack::from_entries(Iter {
            lp: self,
            front: off,
            back: self.buf().len(),
            left: usize::MAX,
        });
        let kept = self.count as usize - tail.len();
        let head: Box<[u8]> = self.buf()[..off].into();
        self.set_buf(head, kept as u32);
        tail
    }
}

/// Entries from both ends, as a quicklist walks a node.
pub struct Iter<'a> {
    lp: &'a Listpack,
    front: usize,
    back: usize,
    left: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.front >= self.back {
            return None;
        }
        let (data, len, next) = self.lp.decode(self.front);
        self.front = next;
        self.left = self.left.saturating_sub(1);
        Some(&self.lp.buf()[data..data + len])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.left {
            usize::MAX => (0, None),
            n => (n, Some(n)),
        }
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        let at = self.lp.prev(self.back)?;
        self.back = at;
        self.left = self.left.saturating_sub(1);
        Some(self.lp.get(at))
    }
}

impl Listpack {
    /// Replaces the `remove` entries at offset `off` (which may be the end) with `insert`: the bytes after them
    /// move once, the allocation is resized once to the exact size (in place when the allocator can), and the new
    /// entries are written straight into it.
    pub fn splice(&mut self, off: usize, remove: usize, insert: &[&[u8]]) {
        let end = self.skip(off, remove);
        let added: usize = insert.iter().map(|e| entry_size(e.len())).sum();
        let count = self.count + insert.len() as u32 - remove as u32;
        let mut v = self.take_buf().into_vec();
        let old_len = v.len();
        let new_len = old_len - (end - off) + added;
        if new_len > old_len {
            v.reserve_exact(new_len - old_len);
            v.resize(new_len, 0);
        }
        v.copy_within(end..old_len, off + added);
        v.truncate(new_len);
        v.shrink_to_fit();
        let mut at = off;
        for e in insert {
            at += write_entry(&mut v[at..], e);
        }
        self.set_buf(v.into_boxed_slice(), count);
    }

    /// Appends entries at the end.
    pub fn push(&mut self, insert: &[&[u8]]) {
        self.splice(self.buf().len(), 0, insert);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_check(lp: &Listpack, model: &[Vec<u8>]) {
        assert_eq!(lp.len(), model.len());
        let fwd: Vec<&[u8]> = lp.iter().collect();
        assert_eq!(fwd, model.iter().map(|v| &v[..]).collect::<Vec<_>>());
        let mut back = Vec::new();
        let mut at = lp.last();
        while let Some(off) = at {
            back.push(lp.get(off).to_vec());
            at = lp.prev(off);
        }
        back.reverse();
        assert_eq!(back, model);
        assert_eq!(
            lp.bytes(),
            model.iter().map(|e| entry_size(e.len())).sum::<usize>()
        );
    }

    #[test]
    fn safe_to_add_stops_at_the_safety_limit() {
        let lp = Listpack::from_entries([&b"abc"[..]]);
        assert_eq!(lp.bytes(), 5);
        // 5 bytes held; an entry of n bytes near 2^30 takes n + 10 (a 5-byte length before and after it).
        let room = SAFETY_LIMIT - 5;
        let fits = room - 10;
        assert_eq!(entry_size(fits), room);
        assert!(safe_to_add(&lp, &[fits]));
        assert!(!safe_to_add(&lp, &[fits + 1]));
        assert!(!safe_to_add(&lp, &[1 << 29, 1 << 29]));
        assert!(safe_to_add(&lp, &[10, 20]));
        assert!(!safe_to_add(&lp, &[usize::MAX / 2, usize::MAX / 2]));
    }

    #[test]
    fn random_splices_match_a_vec_with_binary_and_long_entries() {
        fastrand::seed(19);
        let mut lp = Listpack::new();
        let mut model: Vec<Vec<u8>> = Vec::new();
        for _ in 0..3000 {
            let len = match fastrand::u8(..4) {
                0 => 0,
                1 => fastrand::usize(..130),
                2 => fastrand::usize(16_000..17_000),
                _ => fastrand::usize(..10),
            };
            let entry: Vec<u8> = (0..len).map(|_| fastrand::u8(..)).collect();
            let at = fastrand::usize(..=model.len());
            let remove = fastrand::usize(..=(model.len() - at).min(2));
            let off = lp.skip(0, at);
            if fastrand::bool() {
                lp.splice(off, remove, &[&entry]);
                model.splice(at..at + remove, [entry]);
            } else {
                lp.splice(off, remove, &[]);
                model.drain(at..at + remove);
            }
            model_check(&lp, &model);
            if model.len() > 40 {
                lp = Listpack::from_entries(model[..5].iter().map(|v| &v[..]));
                model.truncate(5);
            }
        }
    }

    #[test]
    fn an_entry_costs_its_bytes_plus_two_for_short_ones() {
        assert_eq!(entry_size(0), 2);
        assert_eq!(entry_size(10), 12);
        assert_eq!(entry_size(126), 128);
        assert_eq!(entry_size(127), 130);
        assert_eq!(entry_size(128), 132);
    }
}
