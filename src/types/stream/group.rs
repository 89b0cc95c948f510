//! Consumer groups: the last delivered id, the entries-read counter, consumers, and the pending entries list (PEL).
//!
//! The group's PEL owns each pending entry's [`Nack`] (owner, delivery time, delivery count); each consumer keeps
//! the set of ids it owns, so both XPENDING views and XREADGROUP history reads are ordered range scans.
//!
//! Delivery times, counts and entries-read come unchecked from RESTORE payloads and RDB files, as in Redis, so
//! arithmetic on them wraps as Redis's C does instead of overflowing.

use std::collections::{BTreeMap, BTreeSet};

use super::{entry_reply, Stream, StreamId};
use crate::protocol::Reply;

#[derive(Clone)]
pub struct Nack {
    pub consumer: Vec<u8>,
    /// Unix ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
}

#[derive(Clone)]
pub struct Consumer {
    /// Unix ms of the last time the consumer read or claimed (XINFO CONSUMERS `idle`).
    pub seen_time: i64,
    pub pel: BTreeSet<StreamId>,
}

impl Consumer {
    fn new(now: i64) -> Self {
        Consumer {
            seen_time: now,
            pel: BTreeSet::new(),
        }
    }
}

#[derive(Clone)]
pub struct Group {
    pub last_id: StreamId,
    /// Logical count of entries delivered so far; None when it cannot be known (Redis's -1).
    pub entries_read: Option<u64>,
    pub pel: BTreeMap<StreamId, Nack>,
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    pub fn new(last_id: StreamId, entries_read: Option<u64>) -> Self {
        Group {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }

    /// Looks a consumer up, refreshing its seen time, or creates it; true if created.
    pub fn touch_consumer(&mut self, name: &[u8], now: i64) -> bool {
        match self.consumers.get_mut(name) {
            Some(c) => {
                c.seen_time = now;
                false
            }
            None => {
                self.consumers.insert(name.to_vec(), Consumer::new(now));
                true
            }
        }
    }

    /// Creates a consumer if missing (XGROUP CREATECONSUMER); true if created.
    pub fn create_consumer(&mut self, name: &[u8], now: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(name.to_vec(), Consumer::new(now));
        true
    }

    /// Removes a consumer and its pending entries; returns how many it had.
    pub fn delete_consumer(&mut self, name: &[u8]) -> usize {
        let Some(consumer) = self.consumers.remove(name) else {
            return 0;
        };
        for id in &consumer.pel {
            self.pel.remove(id);
        }
        consumer.pel.len()
    }

    /// Removes `id` from the PEL and from its owner's list; true if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        let Some(nack) = self.pel.remove(&id) else {
            return false;
        };
        if let Some(c) = self.consumers.get_mut(&nack.consumer) {
            c.pel.remove(&id);
        }
        true
    }

    /// Makes `consumer` (which must exist) the owner of the pending `id`, creating the NACK if missing.
    /// Returns the NACK for the caller to set times and counts.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8]) -> &mut Nack {
        let previous = self.pel.get(&id).map(|n| n.consumer.clone());
        if previous.as_deref() != Some(consumer) {
            if let Some(old) = previous.and_then(|p| self.consumers.get_mut(&p)) {
                old.pel.remove(&id);
            }
            if let Some(c) = self.consumers.get_mut(consumer) {
                c.pel.insert(id);
            }
        }
        let nack = self.pel.entry(id).or_insert_with(|| Nack {
            consumer: Vec::new(),
            delivery_time: 0,
            delivery_count: 0,
        });
        nack.consumer = consumer.to_vec();
        nack
    }

    /// Redis's lag (`streamReplyWithCGLag`): entries in the stream the group has not read yet, when knowable.
    /// Signed, as in Redis: ENTRIESREAD may claim more reads than entries were added.
    pub fn lag(&self, s: &Stream) -> Option<i64> {
        if s.entries_added == 0 {
            return Some(0);
        }
        let lag = |read: u64| (s.entries_added as i64).wrapping_sub(read as i64);
        if let Some(read) = self.entries_read {
            if !s.range_has_tombstones(self.last_id) {
                return Some(lag(read));
            }
        }
        s.estimate_entries_read(self.last_id).map(lag)
    }
}

/// Where XREADGROUP reads: new entries (`>`) or the consumer's own pending history after an id.
#[derive(Clone, Copy)]
pub enum ReadFrom {
    New,
    History(StreamId),
}

/// Serves one stream of an XREADGROUP: delivers entries to `consumer` (which must exist) and updates the PEL and
/// the group's counters as Redis's `streamReplyWithRange` does. Returns the entries reply.
pub fn read_group(
    s: &mut Stream,
    group_name: &[u8],
    consumer: &[u8],
    from: ReadFrom,
    count: usize,
    noack: bool,
    now: i64,
) -> Reply {
    let limit = if count == 0 { usize::MAX } else { count };
    match from {
        ReadFrom::History(after) => {
            let (Some(group), Some(start)) = (s.groups.get_mut(group_name), after.incr()) else {
                return Reply::Array(Vec::new());
            };
            let ids: Vec<StreamId> = group
                .consumers
                .get(consumer)
                .map(|c| c.pel.range(start..).take(limit).copied().collect())
                .unwrap_or_default();
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                match s.entries.get(&id) {
                    Some(fields) => {
                        out.push(entry_reply(id, fields));
                        if let Some(n) = group.pel.get_mut(&id) {
                            n.delivery_time = now;
                            n.delivery_count = n.delivery_count.wrapping_add(1);
                        }
                    }
                    // Pending but deleted from the stream: Redis sends the id with a null entry.
                    None => out.push(Reply::Array(vec![id.reply(), Reply::NilArray])),
                }
            }
            Reply::Array(out)
        }
        ReadFrom::New => {
            let Some(last) = s.groups.get(group_name).map(|g| g.last_id) else {
                return Reply::Array(Vec::new());
            };
            let Some(start) = last.incr() else {
                return Reply::Array(Vec::new());
            };
            let ids: Vec<StreamId> = s
                .entries
                .range(start..)
                .take(limit)
                .map(|(id, _)| *id)
                .collect();
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                advance_group(s, group_name, id);
                if let Some(fields) = s.entries.get(&id) {
                    out.push(entry_reply(id, fields));
                }
                if noack {
                    continue;
                }
                if let Some(group) = s.groups.get_mut(group_name) {
                    let nack = group.assign(id, consumer);
                    nack.delivery_time = now;
                    nack.delivery_count = 1;
                }
            }
            Reply::Array(out)
        }
    }
}

/// Moves the group's last delivered id to `id` and keeps its entries-read counter as Redis does.
fn advance_group(s: &mut Stream, group_name: &[u8], id: StreamId) {
    let tombstones = s.range_has_tombstones(id);
    let estimate = s.estimate_entries_read(id);
    let added = s.entries_added;
    let Some(group) = s.groups.get_mut(group_name) else {
        return;
    };
    if id <= group.last_id {
        return;
    }
    match group.entries_read {
        Some(read) if !tombstones => group.entries_read = Some(read.wrapping_add(1)),
        _ if added != 0 => group.entries_read = estimate,
        _ => {}
    }
    group.last_id = id;
}
