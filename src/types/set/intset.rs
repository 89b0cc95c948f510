//! Redis's intset: the sorted integers of a small set in one exactly-sized array whose width (2, 4 or 8 bytes an
//! integer) is the narrowest that holds them all, widened for good when a wider integer arrives.

use std::ptr::NonNull;

use crate::util::rawslice;

/// 16 bytes: the array's thin pointer, its `u32` length and the width, so that a `Value` holding a set is 24 bytes
/// (see `db::StrValue`). The array is a `Box<[i16]>`, `Box<[i32]>` or `Box<[i64]>` taken apart (`rawslice`).
pub struct IntSet {
    ptr: NonNull<u8>,
    len: u32,
    width: Width,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
enum Width {
    W16,
    W32,
    W64,
}

/// The array at its width.
enum Ints<'a> {
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

/// The integer types an intset array holds.
trait Int: Copy {
    const WIDTH: Width;
}
impl Int for i16 {
    const WIDTH: Width = Width::W16;
}
impl Int for i32 {
    const WIDTH: Width = Width::W32;
}
impl Int for i64 {
    const WIDTH: Width = Width::W64;
}

// SAFETY: an `IntSet` owns its array outright, as a `Box<[i64]>` does.
unsafe impl Send for IntSet {}
// SAFETY: as above; `&IntSet` only reads.
unsafe impl Sync for IntSet {}

impl IntSet {
    fn of<T: Int>(array: Box<[T]>) -> IntSet {
        let (ptr, len) = rawslice::into_raw(array);
        IntSet {
            ptr: ptr.cast(),
            len,
            width: T::WIDTH,
        }
    }

    fn ints(&self) -> Ints<'_> {
        // SAFETY: `ptr`/`len` are the live parts of a box of the type `width` names (see `of`).
        unsafe {
            match self.width {
                Width::W16 => Ints::I16(rawslice::slice(self.ptr.cast(), self.len)),
                Width::W32 => Ints::I32(rawslice::slice(self.ptr.cast(), self.len)),
                Width::W64 => Ints::I64(rawslice::slice(self.ptr.cast(), self.len)),
            }
        }
    }
}

impl Drop for IntSet {
    fn drop(&mut self) {
        // SAFETY: as in `ints`; the parts are given back once, here.
        unsafe {
            match self.width {
                Width::W16 => drop(rawslice::from_raw::<i16>(self.ptr.cast(), self.len)),
                Width::W32 => drop(rawslice::from_raw::<i32>(self.ptr.cast(), self.len)),
                Width::W64 => drop(rawslice::from_raw::<i64>(self.ptr.cast(), self.len)),
            }
        }
    }
}

impl Clone for IntSet {
    fn clone(&self) -> Self {
        match self.ints() {
            Ints::I16(v) => IntSet::of::<i16>(v.into()),
            Ints::I32(v) => IntSet::of::<i32>(v.into()),
            Ints::I64(v) => IntSet::of::<i64>(v.into()),
        }
    }
}

impl PartialEq for IntSet {
    fn eq(&self, other: &IntSet) -> bool {
        self.width == other.width && self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for IntSet {}

impl std::fmt::Debug for IntSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet::of::<i16>(Box::default())
    }
}

/// Inserts `n` at `at` in an exactly-sized slice (one reallocation, as Redis's intsetResize).
fn inserted<T: Copy>(old: &[T], at: usize, n: T) -> Box<[T]> {
    let mut v = Vec::with_capacity(old.len() + 1);
    v.extend_from_slice(&old[..at]);
    v.push(n);
    v.extend_from_slice(&old[at..]);
    v.into_boxed_slice()
}

fn removed<T: Copy>(old: &[T], at: usize) -> Box<[T]> {
    let mut v = Vec::with_capacity(old.len() - 1);
    v.extend_from_slice(&old[..at]);
    v.extend_from_slice(&old[at + 1..]);
    v.into_boxed_slice()
}

impl IntSet {
    /// An intset of `sorted` (ascending, no repeats), in the narrowest width.
    pub fn from_sorted(sorted: &[i64]) -> IntSet {
        let (lo, hi) = (sorted.first().copied(), sorted.last().copied());
        let fits = |min: i64, max: i64| lo.is_none_or(|l| l >= min) && hi.is_none_or(|h| h <= max);
        if fits(i16::MIN.into(), i16::MAX.into()) {
            IntSet::of::<i16>(sorted.iter().map(|&n| n as i16).collect())
        } else if fits(i32::MIN.into(), i32::MAX.into()) {
            IntSet::of::<i32>(sorted.iter().map(|&n| n as i32).collect())
        } else {
            IntSet::of::<i64>(sorted.into())
        }
    }

    pub fn len(&self) -> usize {
        self.len as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes the integers take (Redis's intset blob less its 8-byte header).
    pub fn bytes(&self) -> usize {
        self.len() * (2 << self.width as usize)
    }

    /// The integer at position `i` (ascending order).
    pub fn get(&self, i: usize) -> i64 {
        match self.ints() {
            Ints::I16(v) => v[i].into(),
            Ints::I32(v) => v[i].into(),
            Ints::I64(v) => v[i],
        }
    }

    /// Binary search, as `slice::binary_search`; a value too wide for the array is past one end.
    fn search(&self, n: i64) -> Result<usize, usize> {
        match self.ints() {
            Ints::I16(v) => match i16::try_from(n) {
                Ok(x) => v.binary_search(&x),
                Err(_) => Err(if n < 0 { 0 } else { v.len() }),
            },
            Ints::I32(v) => match i32::try_from(n) {
                Ok(x) => v.binary_search(&x),
                Err(_) => Err(if n < 0 { 0 } else { v.len() }),
            },
            Ints::I64(v) => v.binary_search(&n),
        }
    }

    pub fn contains(&self, n: i64) -> bool {
        self.search(n).is_ok()
    }

    /// Adds `n`; false if it was there.
    pub fn insert(&mut self, n: i64) -> bool {
        let Err(at) = self.search(n) else {
            return false;
        };
        let grown = match self.ints() {
            Ints::I16(v) => i16::try_from(n)
                .ok()
                .map(|x| IntSet::of(inserted(v, at, x))),
            Ints::I32(v) => i32::try_from(n)
                .ok()
                .map(|x| IntSet::of(inserted(v, at, x))),
            Ints::I64(v) => Some(IntSet::of(inserted(v, at, n))),
        };
        let fits = grown.is_some();
        if let Some(grown) = grown {
            *self = grown;
        }
        if !fits {
            let mut all = self.to_vec();
            all.insert(at, n);
            *self = IntSet::from_sorted(&all);
        }
        true
    }

    /// Removes `n`; false if it was not there. The width stays, as in Redis.
    pub fn remove(&mut self, n: i64) -> bool {
        let Ok(at) = self.search(n) else {
            return false;
        };
        *self = match self.ints() {
            Ints::I16(v) => IntSet::of(removed(v, at)),
            Ints::I32(v) => IntSet::of(removed(v, at)),
            Ints::I64(v) => IntSet::of(removed(v, at)),
        };
        true
    }

    /// The integers in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    pub fn to_vec(&self) -> Vec<i64> {
        self.iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_inserts_and_removes_match_a_sorted_vec_and_widen() {
        fastrand::seed(16);
        for _ in 0..100 {
            let mut set = IntSet::default();
            let mut model: Vec<i64> = Vec::new();
            for _ in 0..200 {
                let n = match fastrand::u8(..4) {
                    0 => fastrand::i64(..),
                    1 => fastrand::i64(-70_000..70_000),
                    2 => {
                        [i64::MIN, i64::MAX, i16::MIN.into(), i32::MAX.into()][fastrand::usize(..4)]
                    }
                    _ => fastrand::i64(-40..40),
                };
                let at = model.binary_search(&n);
                if fastrand::u8(..3) == 0 {
                    assert_eq!(set.remove(n), at.is_ok());
                    if let Ok(i) = at {
                        model.remove(i);
                    }
                } else {
                    assert_eq!(set.insert(n), at.is_err());
                    if let Err(i) = at {
                        model.insert(i, n);
                    }
                }
                assert_eq!(set.to_vec(), model);
                assert!(model.iter().all(|&m| set.contains(m)));
            }
        }
        let mut small = IntSet::from_sorted(&[1, 2, 3]);
        assert_eq!(small.bytes(), 6);
        small.insert(1 << 20);
        assert_eq!(small.bytes(), 16);
        small.insert(1 << 40);
        assert_eq!(small.bytes(), 40);
        small.remove(1 << 40);
        assert_eq!(small.bytes(), 32, "the width stays");
        assert_eq!(small.clone(), small);
        assert_eq!(std::mem::size_of::<IntSet>(), 16);
    }
}
