//! The tracking tables: which clients read which keys, which clients listen to which prefixes (BCAST), and the
//! keys written under each prefix since the last broadcast. Behind one mutex in `Tracking`; every method runs
//! with it held and only collects messages ([`Outgoing`]), which are sent after it is released.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::{Member, Outgoing};
use crate::protocol::Protocol;

#[derive(Default)]
pub struct Tables {
    /// Key name → ids of the clients that read it (each database alike, as in Redis).
    keys: HashMap<Vec<u8>, Vec<u64>>,
    /// Ids across `keys` (INFO `tracking_total_items`).
    items: u64,
    prefixes: BTreeMap<Vec<u8>, Prefix>,
    /// Clients with tracking on, by id.
    members: HashMap<u64, Arc<Member>>,
}

#[derive(Default)]
struct Prefix {
    clients: Vec<u64>,
    /// Keys written since the last broadcast, in order, with the client that wrote each last (None: expiry).
    written: BTreeMap<Vec<u8>, Option<u64>>,
}

impl Tables {
    pub fn totals(&self) -> (usize, u64, usize) {
        (self.keys.len(), self.items, self.prefixes.len())
    }

    /// Tracking on (or its options changed) for `member`, listening to `prefixes` in BCAST mode.
    pub fn enable(&mut self, member: Arc<Member>, prefixes: &[Vec<u8>]) {
        let id = member.info.id;
        for p in prefixes {
            let prefix = self.prefixes.entry(p.clone()).or_default();
            if !prefix.clients.contains(&id) {
                prefix.clients.push(id);
            }
        }
        self.members.insert(id, member);
    }

    /// Tracking off for client `id`. Its entries in `keys` stay, as in Redis: they are skipped when found.
    pub fn leave(&mut self, id: u64, prefixes: &[Vec<u8>]) {
        self.members.remove(&id);
        for p in prefixes {
            if let Some(prefix) = self.prefixes.get_mut(p) {
                prefix.clients.retain(|&c| c != id);
                if prefix.clients.is_empty() {
                    self.prefixes.remove(p);
                }
            }
        }
    }

    pub fn remember(&mut self, key: &[u8], id: u64) {
        let ids = match self.keys.get_mut(key) {
            Some(ids) => ids,
            None => self.keys.entry(key.to_vec()).or_default(),
        };
        if !ids.contains(&id) {
            ids.push(id);
            self.items += 1;
        }
    }

    /// Redis's `trackingInvalidateKey`: `key` changed (by client `writer`, None for expiry) while client `me`'s
    /// command ran (None: no command). With `bcast`, the key is also queued for the prefixes it falls under.
    pub fn invalidate(
        &mut self,
        key: &[u8],
        me: Option<u64>,
        writer: Option<u64>,
        bcast: bool,
        out: &mut Outgoing,
    ) {
        if bcast {
            for (p, prefix) in self.prefixes.iter_mut() {
                if key.starts_with(p) {
                    prefix.written.insert(key.to_vec(), writer);
                }
            }
        }
        let Some(ids) = self.keys.remove(key) else {
            return;
        };
        self.items -= ids.len() as u64;
        let payload: Arc<[u8]> = keys_reply([key].into_iter(), 1).into();
        for id in ids {
            let Some(member) = self.members.get(&id) else {
                continue;
            };
            if member.bcast || (member.noloop && me == Some(id)) {
                continue;
            }
            out.push(member, payload.clone());
        }
    }

    /// FLUSHDB / FLUSHALL: the table empties and, if `announce`, every tracking client is told everything
    /// changed (a null).
    pub fn flushed(&mut self, announce: bool, out: &mut Outgoing) {
        for member in self.members.values().filter(|_| announce) {
            let null: &[u8] = match member.info.protocol() {
                Protocol::Resp3 => b"_\r\n",
                Protocol::Resp2 => b"$-1\r\n",
            };
            out.push(member, null.into());
        }
        self.keys.clear();
        self.items = 0;
    }

    /// Redis's `trackingBroadcastInvalidationMessages`: each prefix's written keys to its clients (less, for a
    /// NOLOOP client, the keys it wrote itself).
    pub fn broadcast(&mut self, out: &mut Outgoing) {
        for prefix in self.prefixes.values_mut() {
            if prefix.written.is_empty() {
                continue;
            }
            let written = std::mem::take(&mut prefix.written);
            let all: Arc<[u8]> = keys_reply(written.keys(), written.len()).into();
            for id in &prefix.clients {
                let Some(member) = self.members.get(id) else {
                    continue;
                };
                if !member.noloop {
                    out.push(member, all.clone());
                    continue;
                }
                let others: Vec<&Vec<u8>> = written
                    .iter()
                    .filter(|(_, w)| **w != Some(*id))
                    .map(|(k, _)| k)
                    .collect();
                if !others.is_empty() {
                    out.push(member, keys_reply(others.iter(), others.len()).into());
                }
            }
        }
    }

    /// `tracking-table-max-keys`: over the limit, keys are dropped from the table (their clients told, as if the
    /// keys had changed) until it fits again.
    pub fn limit(&mut self, max: usize, me: Option<u64>, out: &mut Outgoing) {
        while max > 0 && self.keys.len() > max {
            let Some(key) = self.keys.keys().next().cloned() else {
                return;
            };
            self.invalidate(&key, me, None, false, out);
        }
    }

    /// Whether `prefix` overlaps one of `existing` (one is a prefix of the other).
    pub fn overlap<'a>(
        prefix: &[u8],
        existing: impl Iterator<Item = &'a Vec<u8>>,
    ) -> Option<&'a Vec<u8>> {
        existing.into_iter().find(|p| {
            let n = p.len().min(prefix.len());
            p[..n] == prefix[..n]
        })
    }
}

/// A RESP array of the keys, as an invalidation message carries them.
fn keys_reply<K: AsRef<[u8]>>(keys: impl Iterator<Item = K>, n: usize) -> Vec<u8> {
    let mut out = format!("*{n}\r\n").into_bytes();
    for key in keys {
        let key = key.as_ref();
        out.extend_from_slice(format!("${}\r\n", key.len()).as_bytes());
        out.extend_from_slice(key);
        out.extend_from_slice(b"\r\n");
    }
    out
}
