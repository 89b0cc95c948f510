//! The list itself: a quicklist of listpack nodes (`Nodes`), with pushes and pops at the ends, reads by index
//! and range, and edits in the middle (LINSERT, LSET, LREM) that place elements in nodes exactly as Redis 7.0's
//! quicklist does (`_quicklistInsert`, `quicklistReplaceEntry`, `_quicklistMergeNodes`), so that a list ends up with the
//! same nodes, and costs the same memory, as in redis-server after the same commands: an insert goes into the
//! pivot's node while it has room, else into the neighbouring node at that end, else into a node of its own or a
//! split of the pivot's node (whose neighbours are then merged where they fit); a replacement stays in its node
//! whatever its size; a removal leaves the other elements where they are.

use std::borrow::Cow;
use std::ops::Range;

use super::node::{self, Node};
use super::nodes::{self, allows, allows_merge, fill, is_large, is_plain, is_plain_packed};
use super::{End, List};
use crate::db::StrValue;
use crate::types::listpack::{entry_size, Listpack};

impl List {
    pub fn len(&self) -> usize {
        self.len
    }

    /// Listpack nodes in the quicklist (what Redis's lazy free counts as its effort).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Each node's bytes as kept (compressed or not) and whether it is compressed (MEMORY USAGE).
    pub fn node_footprints(&self) -> impl Iterator<Item = (usize, bool)> + '_ {
        self.nodes
            .iter()
            .map(|n| (n.compressed_bytes(), n.is_compressed()))
    }

    /// Each node as an RDB file holds it: whether it is plain (one large element), and its elements.
    pub fn saved_nodes(&self) -> impl Iterator<Item = (bool, node::Items<'_>)> + '_ {
        self.nodes.iter().map(|n| (nodes::is_plain(n), n.items()))
    }

    /// Each node's entries and uncompressed bytes (DEBUG OBJECT's quicklist fields).
    pub fn node_sizes(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.nodes.iter().map(|n| (n.len(), n.bytes()))
    }

    /// A list of `items`, in order.
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> List {
        let items: Vec<&[u8]> = items.into_iter().collect();
        let mut list = List::default();
        list.push_all(End::Right, &items);
        list
    }

    /// Pushes `items` one after the other at `end` (LPUSH a b c leaves c first), filling each node with one
    /// exactly-sized reallocation rather than one per element.
    pub fn push_all(&mut self, end: End, items: &[&[u8]]) {
        let fill = fill();
        let nodes_before = self.nodes.len();
        let mut rest = items;
        while !rest.is_empty() {
            let node = match end {
                End::Left => self.nodes.front_mut(),
                End::Right => self.nodes.back_mut(),
            };
            let open = node.filter(|n| Self::fits(fill, n, rest[0].len()));
            let (bytes, count) = open.as_ref().map_or((0, 0), |n| (n.bytes(), n.len()));
            let take = Self::batch(fill, bytes, count, rest);
            let mut batch: Vec<&[u8]> = rest[..take].to_vec();
            if end == End::Left {
                batch.reverse();
            }
            match (open, end) {
                (Some(n), End::Left) => n.splice(0, 0, &batch),
                (Some(n), End::Right) => n.push(&batch),
                (None, End::Left) => self.nodes.push_front(Listpack::from_entries(batch)),
                (None, End::Right) => self.nodes.push_back(Listpack::from_entries(batch)),
            }
            self.len += take;
            rest = &rest[take..];
        }
        let added = self.nodes.len() - nodes_before;
        if added > 0 {
            let new = match end {
                End::Left => 0..added,
                End::Right => nodes_before..self.nodes.len(),
            };
            self.nodes.settle(new);
        }
    }

    /// How many of `items` (at least one) a node of `bytes` bytes that takes the first of them can take.
    fn batch(fill: i64, mut bytes: usize, count: usize, items: &[&[u8]]) -> usize {
        let mut take = 0;
        for item in items {
            // A large element takes a node of its own, alone.
            if take > 0
                && (is_large(items[0].len()) || !allows(fill, bytes, count + take, item.len()))
            {
                break;
            }
            bytes += entry_size(item.len());
            take += 1;
        }
        take
    }

    /// Whether `node` can take one more element of `len` bytes (`list-max-listpack-size`; a plain node takes
    /// none).
    fn fits(fill: i64, node: &Listpack, len: usize) -> bool {
        allows(fill, node.bytes(), node.len(), len) && !is_plain_packed(node)
    }

    pub fn push(&mut self, end: End, item: &[u8]) {
        let node = match end {
            End::Left => self.nodes.front_mut(),
            End::Right => self.nodes.back_mut(),
        };
        match node {
            Some(n) if Self::fits(fill(), n, item.len()) => match end {
                End::Left => n.splice(0, 0, &[item]),
                End::Right => n.push(&[item]),
            },
            _ => {
                let n = Listpack::from_entries([item]);
                match end {
                    End::Left => self.nodes.push_front(n),
                    End::Right => self.nodes.push_back(n),
                }
                self.nodes.settle(0..0);
            }
        }
        self.len += 1;
    }

    pub fn pop(&mut self, end: End) -> Option<StrValue> {
        let node = match end {
            End::Left => self.nodes.front_mut()?,
            End::Right => self.nodes.back_mut()?,
        };
        let at = match end {
            End::Left => node.first()?,
            End::Right => node.last()?,
        };
        let item = StrValue::from_slice(node.get(at));
        node.splice(at, 1, &[]);
        if node.is_empty() {
            match end {
                End::Left => self.nodes.pop_front(),
                End::Right => self.nodes.pop_back(),
            };
            self.nodes.settle(0..0);
        }
        self.len -= 1;
        Some(item)
    }

    /// The node holding element `i`, and `i`'s position in it.
    pub(super) fn locate(&self, mut i: usize) -> Option<(usize, usize)> {
        if i >= self.len {
            return None;
        }
        if i < self.len / 2 {
            for (n, node) in self.nodes.iter().enumerate() {
                if i < node.len() {
                    return Some((n, i));
                }
                i -= node.len();
            }
            None
        } else {
            let mut from_end = self.len - 1 - i;
            for n in (0..self.nodes.len()).rev() {
                let node = &self.nodes[n];
                if from_end < node.len() {
                    return Some((n, node.len() - 1 - from_end));
                }
                from_end -= node.len();
            }
            None
        }
    }

    pub fn get(&self, i: usize) -> Option<Cow<'_, [u8]>> {
        let (n, at) = self.locate(i)?;
        Some(self.nodes[n].get(at))
    }

    /// Removes `count` elements from position `start` on (in range), dropping whole nodes where it can.
    pub fn remove_range(&mut self, start: usize, count: usize) {
        let mut skip = start;
        let mut left = count;
        let mut n = 0;
        // The nodes changed in place (empty until one is).
        let mut touched = 0..0;
        while left > 0 && n < self.nodes.len() {
            let len = self.nodes[n].len();
            if skip >= len {
                skip -= len;
                n += 1;
                continue;
            }
            let take = left.min(len - skip);
            if take == len {
                self.nodes.remove(n);
            } else {
                let node = self.nodes.get_mut(n);
                node.splice(node.skip(0, skip), take, &[]);
                // Nodes removed later come after this one, so its index stays.
                touched = if touched.is_empty() { n } else { touched.start }..n + 1;
                n += 1;
            }
            self.len -= take;
            left -= take;
            skip = 0;
        }
        self.nodes.settle(touched);
    }

    /// Elements in order (either way).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Cow<'_, [u8]>> + '_ {
        self.nodes.iter().flat_map(|n| n.items())
    }

    /// Elements `a..=b` (in range), skipping whole nodes up to `a`.
    pub fn range(&self, a: usize, b: usize) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
        let (first, at) = self.locate(a).unwrap_or((self.nodes.len(), 0));
        self.nodes
            .iter()
            .skip(first)
            .flat_map(|n| n.items())
            .skip(at)
            .take((b + 1).saturating_sub(a))
    }

    /// The encoding OBJECT ENCODING reports: Redis 7.0 keeps every list in a quicklist, whatever its size
    /// (the listpack encoding for small lists came with 7.2).
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Resolves Redis's `start`/`stop` (negative counts from the end) to an inclusive in-range window, if any.
    pub fn window(&self, start: i64, stop: i64) -> Option<(usize, usize)> {
        let len = self.len as i64;
        let start = if start < 0 {
            (start + len).max(0)
        } else {
            start
        };
        let stop = if stop < 0 { stop + len } else { stop };
        if start > stop || start >= len {
            return None;
        }
        Some((start as usize, stop.min(len - 1) as usize))
    }
}

impl List {
    /// LINSERT: `item` after (or before) element `pivot` (in range; otherwise nothing happens).
    pub fn insert(&mut self, pivot: usize, item: &[u8], after: bool) {
        let Some((n, at)) = self.locate(pivot) else {
            return;
        };
        self.len += 1;
        let touched = self.place(n, at, item, after);
        self.nodes.settle(touched);
    }

    /// LSET: replaces element `i`; false if out of range. The element stays in its node, whatever its size, unless
    /// it is or becomes a large one (Redis's plain nodes), which is inserted after the old one, then the old one
    /// removed.
    pub fn set(&mut self, i: usize, item: &[u8]) -> bool {
        let Some((n, at)) = self.locate(i) else {
            return false;
        };
        let plain = is_plain(&self.nodes[n]);
        let touched = match (plain, is_large(item.len())) {
            (false, false) | (true, true) => {
                let lp = self.nodes.get_mut(n);
                lp.splice(lp.skip(0, at), 1, &[item]);
                n..n + 1
            }
            (true, false) => {
                // The new element goes after the plain node (it has room for nothing), which then goes.
                let touched = self.place(n, at, item, true);
                self.nodes.remove(n);
                touched.start.saturating_sub(1)..touched.end.saturating_sub(1)
            }
            (false, true) => {
                // After the insert, node `n` ends with the old element (a split keeps it as the last).
                let touched = self.place(n, at, item, true);
                let lp = self.nodes.get_mut(n);
                match lp.last() {
                    Some(last) if lp.len() > 1 => lp.splice(last, 1, &[]),
                    _ => drop(self.nodes.remove(n)),
                }
                n.min(touched.start)..touched.end
            }
        };
        self.nodes.settle(touched);
        true
    }

    /// Keeps only the elements for which `keep(index, element)` holds (LREM), in place: the nodes keep the other
    /// elements, and a node left empty goes, as Redis's `quicklistDelIndex`.
    pub fn retain(&mut self, mut keep: impl FnMut(usize, &[u8]) -> bool) {
        let (mut index, mut n) = (0, 0);
        let mut touched = 0..0;
        while n < self.nodes.len() {
            let items: Vec<Cow<[u8]>> = self.nodes[n].items().collect();
            let before = items.len();
            let kept: Vec<&[u8]> = items
                .iter()
                .map(|e| &e[..])
                .filter(|e| {
                    index += 1;
                    keep(index - 1, e)
                })
                .collect();
            self.len -= before - kept.len();
            if kept.is_empty() {
                self.nodes.remove(n);
                continue;
            }
            if kept.len() < before {
                *self.nodes.get_mut(n) = Listpack::from_entries(kept);
                touched = if touched.is_empty() { n } else { touched.start }..n + 1;
            }
            n += 1;
        }
        self.nodes.settle(touched);
    }

    /// Redis's `_quicklistInsert`: puts `item` after (or before) entry `at` of node `n`; returns the nodes changed.
    fn place(&mut self, n: usize, at: usize, item: &[u8], after: bool) -> Range<usize> {
        let count = self.nodes[n].len();
        let at_tail = after && at + 1 == count;
        let at_head = !after && at == 0;
        if is_large(item.len()) {
            // A plain node of its own, next to the pivot, or between the halves of the pivot's node.
            let center = match is_plain(&self.nodes[n]) || at_tail || at_head {
                true => n,
                false => self.split(n, at, after, None),
            };
            let i = if after { center + 1 } else { center };
            self.nodes.insert(i, Listpack::from_entries([item]));
            return i.saturating_sub(1)..i + 2;
        }
        let takes = |node: &Node| takes(node, item.len());
        if takes(&self.nodes[n]) {
            let lp = self.nodes.get_mut(n);
            lp.splice(lp.skip(0, at + after as usize), 0, &[item]);
            n..n + 1
        } else if at_tail && n + 1 < self.nodes.len() && takes(&self.nodes[n + 1]) {
            self.nodes.get_mut(n + 1).splice(0, 0, &[item]);
            n + 1..n + 2
        } else if at_head && n > 0 && takes(&self.nodes[n - 1]) {
            self.nodes.get_mut(n - 1).push(&[item]);
            n - 1..n
        } else if at_tail || at_head {
            let i = if after { n + 1 } else { n };
            self.nodes.insert(i, Listpack::from_entries([item]));
            i..i + 1
        } else {
            let center = self.split(n, at, after, Some(item));
            self.merge_around(center)
        }
    }

    /// Redis's `_quicklistSplitNode`: node `n` keeps entries up to `at` (after) or from `at` on (before); the
    /// others go to a new node beside it, with `item` at its side of the split. Returns the old node's index.
    fn split(&mut self, n: usize, at: usize, after: bool, item: Option<&[u8]>) -> usize {
        let lp = self.nodes.get_mut(n);
        let off = lp.skip(0, at + after as usize);
        let mut other = lp.split_off(off);
        if !after {
            std::mem::swap(lp, &mut other);
        }
        match (item, after) {
            (Some(item), true) => other.splice(0, 0, &[item]),
            (Some(item), false) => other.push(&[item]),
            (None, _) => {}
        }
        if other.is_empty() {
            return n;
        }
        if after {
            self.nodes.insert(n + 1, other);
            n
        } else {
            self.nodes.insert(n, other);
            n + 1
        }
    }

    /// Redis's `_quicklistMergeNodes` around node `center`: the two nodes before it, the two after it, then
    /// `center` with the one before and with the one after, each pair where the merge fits. Returns the nodes
    /// changed.
    fn merge_around(&mut self, center: usize) -> Range<usize> {
        let mut center = center;
        let from = center.saturating_sub(2);
        if center >= 2 && self.merge_fits(center - 2) {
            self.merge(center - 2);
            center -= 1;
        }
        if center + 2 < self.nodes.len() && self.merge_fits(center + 1) {
            self.merge(center + 1);
        }
        if center >= 1 && self.merge_fits(center - 1) {
            self.merge(center - 1);
            center -= 1;
        }
        if center + 1 < self.nodes.len() && self.merge_fits(center) {
            self.merge(center);
        }
        from..(center + 2).min(self.nodes.len())
    }

    /// Whether nodes `i` and `i + 1` may be merged (Redis's `_quicklistNodeAllowMerge`).
    fn merge_fits(&self, i: usize) -> bool {
        let (a, b) = (&self.nodes[i], &self.nodes[i + 1]);
        !is_plain(a) && !is_plain(b) && allows_merge(fill(), a, b)
    }

    /// Appends node `i + 1`'s elements to node `i`, and removes it.
    fn merge(&mut self, i: usize) {
        let Some(next) = self.nodes.remove(i + 1) else {
            return;
        };
        let items: Vec<Cow<[u8]>> = next.items().collect();
        let refs: Vec<&[u8]> = items.iter().map(|e| &e[..]).collect();
        self.nodes.get_mut(i).push(&refs);
    }
}

/// Whether `node` takes one more element of `len` bytes (Redis's `_quicklistNodeAllowInsert`): not a plain node,
/// and within `list-max-listpack-size`.
fn takes(node: &Node, len: usize) -> bool {
    !is_plain(node) && nodes::allows(fill(), node.bytes(), node.len(), len)
}
