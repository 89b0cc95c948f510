//! One quicklist node: a listpack, or, once it lies more than `list-compress-depth` nodes from both ends, that
//! listpack LZF-compressed, as Redis's quicklist keeps the interior of a long list that commands rarely touch.
//! Reads of a compressed node decompress a copy and leave the node as it was; a write decompresses it in place,
//! and the list compresses it again when the write is done (`Nodes::settle`).

use std::borrow::Cow;
#[cfg(test)]
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use crate::types::listpack::Listpack;
use crate::util::lzf;

/// Redis's MIN_COMPRESS_BYTES: a smaller node is not worth compressing.
const MIN_COMPRESS_BYTES: usize = 48;
/// Redis's MIN_COMPRESS_IMPROVE: a node stays packed unless compression saves at least this many bytes.
const MIN_COMPRESS_IMPROVE: usize = 8;

#[derive(Clone)]
pub enum Node {
    Packed(Listpack),
    Compressed(Box<Lzf>),
}

/// A compressed node: the LZF form of a listpack's encoded entries, their length and the entry count (what a
/// list walks by without decompressing).
#[derive(Clone)]
pub struct Lzf {
    data: Box<[u8]>,
    raw_len: usize,
    count: usize,
}

impl Lzf {
    fn unpack(&self) -> Listpack {
        // The bytes are this process's own compression of a listpack, so they decompress to exactly that.
        let raw = lzf::decompress(&self.data, self.raw_len)
            .expect("a compressed quicklist node decompresses to the listpack it was made from");
        Listpack::from_encoded(raw.into_boxed_slice(), self.count)
    }
}

impl Node {
    pub fn len(&self) -> usize {
        match self {
            Node::Packed(lp) => lp.len(),
            Node::Compressed(z) => z.count,
        }
    }

    /// The listpack's bytes, uncompressed (what `list-max-listpack-size` limits).
    pub fn bytes(&self) -> usize {
        match self {
            Node::Packed(lp) => lp.bytes(),
            Node::Compressed(z) => z.raw_len,
        }
    }

    pub fn is_compressed(&self) -> bool {
        matches!(self, Node::Compressed(_))
    }

    /// The bytes the node keeps: compressed, or its listpack's.
    pub fn compressed_bytes(&self) -> usize {
        match self {
            Node::Packed(lp) => lp.bytes(),
            Node::Compressed(z) => z.data.len(),
        }
    }

    /// The element at position `at` (in range).
    pub fn get(&self, at: usize) -> Cow<'_, [u8]> {
        match self {
            Node::Packed(lp) => Cow::Borrowed(lp.get(lp.skip(0, at))),
            Node::Compressed(z) => {
                let lp = z.unpack();
                Cow::Owned(lp.get(lp.skip(0, at)).to_vec())
            }
        }
    }

    /// The elements in order (either way): borrowed from a packed node, copied out of a compressed one.
    pub fn items(&self) -> Items<'_> {
        match self {
            Node::Packed(lp) => Items::Packed(lp.iter()),
            Node::Compressed(z) => {
                let lp = z.unpack();
                Items::Unpacked(Unpacked {
                    front: lp.first(),
                    back: lp.last(),
                    left: lp.len(),
                    lp,
                })
            }
        }
    }

    /// The listpack, decompressed in place first if need be.
    pub fn unpack(&mut self) -> &mut Listpack {
        if let Node::Compressed(z) = self {
            *self = Node::Packed(z.unpack());
        }
        match self {
            Node::Packed(lp) => lp,
            Node::Compressed(_) => unreachable!("decompressed above"),
        }
    }

    /// Compresses a packed node when that saves enough (Redis's `__quicklistCompressNode`); otherwise leaves it.
    pub fn compress(&mut self) {
        let Node::Packed(lp) = self else {
            return;
        };
        let raw = lp.encoded();
        if raw.len() < MIN_COMPRESS_BYTES {
            return;
        }
        let Some(data) = lzf::compress(raw, raw.len()) else {
            return;
        };
        if data.len() + MIN_COMPRESS_IMPROVE >= raw.len() {
            return;
        }
        *self = Node::Compressed(Box::new(Lzf {
            data: data.into_boxed_slice(),
            raw_len: raw.len(),
            count: lp.len(),
        }));
    }
}

/// A node's elements: see [`Node::items`].
pub enum Items<'a> {
    Packed(crate::types::listpack::Iter<'a>),
    Unpacked(Unpacked),
}

/// The elements of a compressed node's decompressed copy, from both ends.
pub struct Unpacked {
    lp: Listpack,
    front: Option<usize>,
    back: Option<usize>,
    left: usize,
}

impl Unpacked {
    /// A copy of the next element from the front or the back.
    fn take(&mut self, front: bool) -> Option<Vec<u8>> {
        let end = if front {
            &mut self.front
        } else {
            &mut self.back
        };
        let off = end.filter(|_| self.left > 0)?;
        *end = if front {
            self.lp.next(off)
        } else {
            self.lp.prev(off)
        };
        self.left -= 1;
        Some(self.lp.get(off).to_vec())
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Cow<'a, [u8]>> {
        match self {
            Items::Packed(it) => it.next().map(Cow::Borrowed),
            Items::Unpacked(u) => u.take(true).map(Cow::Owned),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Items::Packed(it) => it.size_hint(),
            Items::Unpacked(u) => (u.left, Some(u.left)),
        }
    }
}

impl DoubleEndedIterator for Items<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        match self {
            Items::Packed(it) => it.next_back().map(Cow::Borrowed),
            Items::Unpacked(u) => u.take(false).map(Cow::Owned),
        }
    }
}

/// `list-compress-depth`: how many nodes at each end of a list stay uncompressed (0: none is compressed).
/// Process-wide and read at each change of a list's nodes, as `list-max-listpack-size` is (Redis stamps both into
/// a list when it creates it).
static DEPTH: AtomicUsize = AtomicUsize::new(0);

#[cfg(test)]
thread_local! {
    /// A test's own depth, so that tests running at once on other threads do not see it.
    static TEST_DEPTH: Cell<Option<usize>> = const { Cell::new(None) };
}

pub fn set_compress_depth(depth: i64) {
    DEPTH.store(usize::try_from(depth).unwrap_or(0), Relaxed);
}

#[cfg(not(test))]
pub fn compress_depth() -> usize {
    DEPTH.load(Relaxed)
}

#[cfg(test)]
pub fn compress_depth() -> usize {
    TEST_DEPTH
        .with(Cell::get)
        .unwrap_or_else(|| DEPTH.load(Relaxed))
}

/// Sets this thread's depth (tests only; `None` goes back to the configured one).
#[cfg(test)]
pub fn set_test_depth(depth: Option<usize>) {
    TEST_DEPTH.with(|d| d.set(depth));
}
