//! Where Redis's listpack nodes would begin and end, and trimming (XTRIM, XADD MAXLEN/MINID).
//!
//! Redis stores a stream as a radix tree of listpack nodes; a node takes new entries until it holds
//! `stream-node-max-entries` entries (live and deleted) or `stream-node-max-bytes` bytes, is freed when XDEL
//! empties it, and approximate trimming (`~`) only frees whole nodes. Those boundaries decide what XTRIM `~` and
//! XINFO's `radix-tree-keys`/`radix-tree-nodes` report, so they are modelled here: each node's first (master) id,
//! its live and total entry counts and its last id. Approximation: the byte limit is not modelled, so with
//! entries large enough to fill 4096 bytes before `stream-node-max-entries` Redis starts nodes earlier than we do.

use std::collections::BTreeMap;

use super::{Stream, StreamId};

#[derive(Clone, Copy)]
struct Node {
    /// Entries not deleted.
    live: u64,
    /// Entries ever placed in the node, deleted ones included (what fills it).
    total: u64,
    last: StreamId,
}

#[derive(Default)]
pub struct Nodes {
    by_master: BTreeMap<StreamId, Node>,
}

impl Nodes {
    pub fn count(&self) -> usize {
        self.by_master.len()
    }

    pub fn masters(&self) -> impl Iterator<Item = StreamId> + '_ {
        self.by_master.keys().copied()
    }

    pub fn append(&mut self, id: StreamId, max_entries: u64) {
        if let Some((_, node)) = self.by_master.iter_mut().next_back() {
            if max_entries == 0 || node.total < max_entries {
                node.live += 1;
                node.total += 1;
                node.last = id;
                return;
            }
        }
        self.by_master.insert(
            id,
            Node {
                live: 1,
                total: 1,
                last: id,
            },
        );
    }

    /// An entry of the node holding `id` was deleted; a node left without live entries is freed.
    pub fn delete(&mut self, id: StreamId) {
        let Some((&master, node)) = self.by_master.range_mut(..=id).next_back() else {
            return;
        };
        node.live = node.live.saturating_sub(1);
        if node.live == 0 {
            self.by_master.remove(&master);
        }
    }

    fn remove_first(&mut self) {
        self.by_master.pop_first();
    }
}

/// How XTRIM and XADD trim: the strategy, exactness and the LIMIT on entries deleted (0 = none).
#[derive(Clone, Copy, Debug)]
pub enum Strategy {
    MaxLen(u64),
    MinId(StreamId),
}

#[derive(Clone, Copy, Debug)]
pub struct Trim {
    pub strategy: Strategy,
    pub approx: bool,
    pub limit: u64,
}

impl Stream {
    /// Redis's `streamTrim`: frees whole nodes from the head while they are entirely below the target; then, unless
    /// approximate, deletes entries inside the next node. Returns how many entries went.
    pub fn trim(&mut self, trim: Trim) -> u64 {
        let mut deleted = 0u64;
        loop {
            if let Strategy::MaxLen(max) = trim.strategy {
                if self.len() as u64 <= max {
                    break;
                }
            }
            let Some((&master, &node)) = self.nodes.by_master.iter().next() else {
                break;
            };
            if trim.limit != 0 && deleted + node.live > trim.limit {
                break;
            }
            let whole = match trim.strategy {
                Strategy::MaxLen(max) => self.len() as u64 - node.live >= max,
                Strategy::MinId(min) => node.last < min,
            };
            if whole {
                let upto = node.last;
                let doomed: Vec<StreamId> = self
                    .entries
                    .range(master..=upto)
                    .map(|(id, _)| *id)
                    .collect();
                for id in &doomed {
                    self.entries.remove(id);
                }
                self.nodes.remove_first();
                deleted += doomed.len() as u64;
                continue;
            }
            if trim.approx {
                break;
            }
            // Exact: delete inside this node until the target is met; the node keeps the rest.
            while let Some((&id, _)) = self.entries.iter().next() {
                let stop = match trim.strategy {
                    Strategy::MaxLen(max) => self.len() as u64 <= max,
                    Strategy::MinId(min) => id >= min,
                };
                if stop {
                    break;
                }
                self.entries.remove(&id);
                self.nodes.delete(id);
                deleted += 1;
            }
            break;
        }
        deleted
    }

    pub fn node_count(&self) -> usize {
        self.nodes.count()
    }

    /// How many nodes Redis's radix tree (`rax`) has for the current node keys: a compressed node per run of
    /// single-child bytes, a branching node where keys diverge, and an empty node ending each key.
    pub fn rax_node_count(&self) -> usize {
        let keys: Vec<[u8; 16]> = self.nodes.masters().map(StreamId::encode).collect();
        if keys.is_empty() {
            return 1;
        }
        rax_nodes(&keys, 0)
    }
}

/// Nodes under a position `depth` bytes into `keys` (sorted, distinct, all 16 bytes, non-empty).
fn rax_nodes(keys: &[[u8; 16]], depth: usize) -> usize {
    if depth == 16 {
        return 1;
    }
    let first = keys[0][depth];
    let last = keys[keys.len() - 1][depth];
    if first == last {
        // A compressed node covering the common prefix, then whatever follows it.
        let a = &keys[0];
        let b = &keys[keys.len() - 1];
        let mut end = depth;
        while end < 16 && a[end] == b[end] {
            end += 1;
        }
        return 1 + rax_nodes(keys, end);
    }
    // A branching node; each child starts right after its byte.
    let mut total = 1;
    let mut i = 0;
    while i < keys.len() {
        let byte = keys[i][depth];
        let j = i + keys[i..].iter().take_while(|k| k[depth] == byte).count();
        total += rax_nodes(&keys[i..j], depth + 1);
        i = j;
    }
    total
}
