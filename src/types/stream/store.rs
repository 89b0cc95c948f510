//! Where Redis's listpack nodes would begin and end, and trimming (XTRIM, XADD MAXLEN/MINID).
//!
//! Redis stores a stream as a radix tree of listpack nodes; a node takes new entries until it holds
//! `stream-node-max-entries` entries (live and deleted) or an entry would bring it to `stream-node-max-bytes`, is
//! freed when XDEL empties it, and approximate trimming (`~`) only frees whole nodes. Those boundaries decide what
//! XTRIM `~` and XINFO's `radix-tree-keys`/`radix-tree-nodes` report, so they are modelled here: each node's
//! first (master) id and fields, its live and total entry counts, its last id, and its listpack size in bytes,
//! computed with listpack's encodings (integers in 1 to 9 bytes, strings with a 1, 2 or 5 byte header, each
//! element followed by its back-length) over Redis's stream layout (a master entry, then per entry flags, id
//! deltas, the fields unless they are the master's, the values and an element count).

use std::collections::BTreeMap;

use super::{Fields, Stream, StreamId};
use crate::util::numbers::parse_i64;

/// `stream-node-max-entries` and `stream-node-max-bytes` (0 = no limit).
#[derive(Clone, Copy)]
pub struct NodeLimits {
    pub entries: u64,
    pub bytes: u64,
}

impl Default for NodeLimits {
    /// Redis's defaults.
    fn default() -> Self {
        NodeLimits {
            entries: 100,
            bytes: 4096,
        }
    }
}

/// Redis caps a listpack at 1 GB whatever `stream-node-max-bytes` says.
const LISTPACK_MAX_SIZE: u64 = 1 << 30;

#[derive(Clone)]
struct Node {
    /// Entries not deleted.
    live: u64,
    /// Entries ever placed in the node, deleted ones included (what fills it).
    total: u64,
    last: StreamId,
    /// The first entry's field names, which later entries with the same names do not repeat.
    master_fields: Box<[Vec<u8>]>,
    /// Listpack bytes except the master entry's live and deleted counters, which change size as they grow.
    fixed_bytes: u64,
}

impl Node {
    /// An empty node: header and end byte, then the master entry (counters, added by `bytes`; field count,
    /// fields, and its terminating zero).
    fn new(master: StreamId, master_fields: Box<[Vec<u8>]>) -> Node {
        let master_bytes = int_size(master_fields.len() as i64)
            + master_fields.iter().map(|f| elem_size(f)).sum::<u64>()
            + int_size(0);
        Node {
            live: 0,
            total: 0,
            last: master,
            master_fields,
            fixed_bytes: 7 + master_bytes,
        }
    }

    fn bytes(&self) -> u64 {
        self.fixed_bytes + int_size(self.live as i64) + int_size((self.total - self.live) as i64)
    }

    /// Bytes of one entry: flags, ms and seq deltas from the master id, the fields unless they are the master's,
    /// the values, and the element count.
    fn entry_bytes(&self, master: StreamId, id: StreamId, fields: &Fields) -> u64 {
        let names = fields.iter().step_by(2);
        let same = names.len() == self.master_fields.len()
            && names.zip(self.master_fields.iter()).all(|(a, b)| a == b);
        let nfields = (fields.len() / 2) as i64;
        let mut bytes = int_size(0)
            + int_size(id.ms.wrapping_sub(master.ms) as i64)
            + int_size(id.seq.wrapping_sub(master.seq) as i64);
        if same {
            bytes += fields
                .iter()
                .skip(1)
                .step_by(2)
                .map(|v| elem_size(v))
                .sum::<u64>();
            bytes += int_size(nfields + 3);
        } else {
            bytes += int_size(nfields) + fields.iter().map(|f| elem_size(f)).sum::<u64>();
            bytes += int_size(nfields * 2 + 4);
        }
        bytes
    }
}

/// Bytes of an integer element (encoding, then a one-byte back-length).
fn int_size(v: i64) -> u64 {
    let body = match v {
        0..=127 => 1,
        -4096..=4095 => 2,
        -32768..=32767 => 3,
        -8_388_608..=8_388_607 => 4,
        -2_147_483_648..=2_147_483_647 => 5,
        _ => 9,
    };
    body + 1
}

/// Bytes of a string element: stored as an integer when it is one in canonical form.
fn elem_size(s: &[u8]) -> u64 {
    if s.len() < 21 {
        if let Some(v) = parse_i64(s) {
            return int_size(v);
        }
    }
    let len = s.len() as u64;
    let body = len
        + match len {
            0..=63 => 1,
            64..=4095 => 2,
            _ => 5,
        };
    let backlen = match body {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    body + backlen
}

#[derive(Default, Clone)]
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

    /// Places a new entry as Redis's `streamAppendItem` does: in the last node unless that node is full by count
    /// or would reach the byte limit, else in a new node whose master entry takes this entry's fields.
    pub fn append(&mut self, id: StreamId, fields: &Fields, limits: NodeLimits) {
        let max_bytes = match limits.bytes {
            0 => LISTPACK_MAX_SIZE,
            b => b.min(LISTPACK_MAX_SIZE),
        };
        let payload: u64 = fields.iter().map(|f| f.len() as u64).sum();
        if let Some((&master, node)) = self.by_master.iter_mut().next_back() {
            let full = node.bytes() + payload >= max_bytes
                || (limits.entries != 0 && node.total >= limits.entries);
            if !full {
                node.fixed_bytes += node.entry_bytes(master, id, fields);
                node.live += 1;
                node.total += 1;
                node.last = id;
                return;
            }
        }
        let mut node = Node::new(id, fields.iter().step_by(2).cloned().collect());
        node.fixed_bytes += node.entry_bytes(id, id, fields);
        node.live = 1;
        node.total = 1;
        self.by_master.insert(id, node);
    }

    /// A node as a saved file or payload lays it out: its master id and fields, and every entry it holds
    /// (`true` for deleted ones, which still take room), so a loaded stream has the saved node boundaries.
    pub fn load_node(
        &mut self,
        master: StreamId,
        master_fields: Box<[Vec<u8>]>,
        entries: &[(StreamId, &Fields, bool)],
    ) {
        let mut node = Node::new(master, master_fields);
        for (id, fields, deleted) in entries {
            node.fixed_bytes += node.entry_bytes(master, *id, fields);
            node.total += 1;
            node.live += u64::from(!deleted);
            node.last = *id;
        }
        self.by_master.insert(master, node);
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
            let Some((&master, node)) = self.nodes.by_master.iter().next() else {
                break;
            };
            let (live, last) = (node.live, node.last);
            if trim.limit != 0 && deleted + live > trim.limit {
                break;
            }
            let whole = match trim.strategy {
                Strategy::MaxLen(max) => self.len() as u64 - live >= max,
                Strategy::MinId(min) => last < min,
            };
            if whole {
                let upto = last;
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
