//! Who listens to what: channels, patterns, shard channels and monitors, each with the outboxes of their clients.
//!
//! PUBLISH takes read locks only and sends while holding them; (un)subscribing takes the write lock of one map
//! and queues its confirmation under it. So a client's confirmation and the messages of that channel are queued
//! in the order they happened, and once UNSUBSCRIBE returns no publisher can still reach the client through it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::RwLock;

use super::outbox::{configured_limits, Chunk, Limits, Outbox};
use crate::config::Config;
use crate::protocol::{encode, Protocol, Reply};
use crate::util::glob::glob_match;
use crate::util::time::now_ms;

/// The three namespaces; patterns only ever match plain channels.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Channel,
    Pattern,
    Shard,
}

type Subscribers = Vec<Arc<Outbox>>;
type Map = HashMap<Box<[u8]>, Subscribers, ahash::RandomState>;

#[derive(Default)]
pub struct Hub {
    channels: RwLock<Map>,
    patterns: RwLock<Map>,
    shards: RwLock<Map>,
    monitors: RwLock<Subscribers>,
    /// Read without a lock on every command: nonzero only while someone runs MONITOR.
    monitor_count: AtomicUsize,
    limits: [AtomicU64; 3],
    limits_read_ms: AtomicI64,
}

/// How often the output-buffer limits are re-read from the config (so CONFIG SET applies within this delay).
const LIMITS_REFRESH_MS: i64 = 100;

impl Hub {
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self, kind: Kind) -> &RwLock<Map> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shards,
        }
    }

    /// The current `client-output-buffer-limit pubsub`, cached for [`LIMITS_REFRESH_MS`].
    pub fn limits(&self, config: &Config) -> Limits {
        let now = now_ms();
        let read = self.limits_read_ms.load(Relaxed);
        if read == 0 || now - read >= LIMITS_REFRESH_MS {
            let l = configured_limits(config);
            self.limits[0].store(l.hard, Relaxed);
            self.limits[1].store(l.soft, Relaxed);
            self.limits[2].store(l.soft_secs, Relaxed);
            self.limits_read_ms.store(now.max(1), Relaxed);
            return l;
        }
        Limits {
            hard: self.limits[0].load(Relaxed),
            soft: self.limits[1].load(Relaxed),
            soft_secs: self.limits[2].load(Relaxed),
        }
    }

    /// Closes the subscribers that have stayed over the pubsub soft limit for longer than its seconds while no
    /// message came to check them, as Redis's `clientsCron` does (`closeClientOnOutputBufferLimitReached`). Run
    /// by the clients cron; a publish checks the limits of the subscribers it queues to.
    pub fn check_soft_limits(&self, config: &Config) {
        let limits = self.limits(config);
        if limits.soft == 0 {
            return;
        }
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for outbox in self.map(kind).read().values().flatten() {
                outbox.check_limits(limits);
            }
        }
    }

    /// Adds `outbox` to `name` and, still under the lock, queues `confirm` (if any) to it.
    pub(crate) fn subscribe(
        &self,
        kind: Kind,
        name: &[u8],
        outbox: &Arc<Outbox>,
        confirm: Option<(Chunk, usize, Limits)>,
    ) {
        let mut map = self.map(kind).write();
        let subs = map.entry(name.into()).or_default();
        if !subs.iter().any(|s| Arc::ptr_eq(s, outbox)) {
            subs.push(outbox.clone());
        }
        if let Some((chunk, len, limits)) = confirm {
            outbox.push(chunk, len, limits);
        }
    }

    /// Removes `outbox` from `name`; queues `confirm` (if any) under the lock.
    pub(crate) fn unsubscribe(
        &self,
        kind: Kind,
        name: &[u8],
        outbox: &Arc<Outbox>,
        confirm: Option<(Chunk, usize, Limits)>,
    ) {
        let mut map = self.map(kind).write();
        if let Some(subs) = map.get_mut(name) {
            subs.retain(|s| !Arc::ptr_eq(s, outbox));
            if subs.is_empty() {
                map.remove(name);
            }
        }
        if let Some((chunk, len, limits)) = confirm {
            outbox.push(chunk, len, limits);
        }
    }

    /// Delivers `message` to the subscribers of `channel` (and, for plain channels, of every matching pattern);
    /// returns how many received it, a client counted once per subscription as Redis does.
    pub fn publish(&self, config: &Config, kind: Kind, channel: &[u8], message: &[u8]) -> usize {
        // Read only once there is someone to send to: a PUBLISH nobody hears costs two map lookups.
        let mut limits = None;
        let mut limits = || *limits.get_or_insert_with(|| self.limits(config));
        let mut received = 0;
        {
            let map = self.map(kind).read();
            if let Some(subs) = map.get(channel) {
                let name = if kind == Kind::Shard {
                    "smessage"
                } else {
                    "message"
                };
                let mut frames = Frames::new(|| vec![name.as_bytes(), channel, message]);
                for s in subs {
                    let (chunk, len) = frames.for_protocol(s.protocol());
                    received += s.push(chunk, len, limits()) as usize;
                }
            }
        }
        if kind == Kind::Channel {
            let patterns = self.patterns.read();
            for (pattern, subs) in patterns.iter() {
                if !glob_match(pattern, channel, false) {
                    continue;
                }
                let mut frames = Frames::new(|| vec![&b"pmessage"[..], pattern, channel, message]);
                for s in subs {
                    let (chunk, len) = frames.for_protocol(s.protocol());
                    received += s.push(chunk, len, limits()) as usize;
                }
            }
        }
        received
    }

    /// The clients a PUBLISH to `channel` would reach now (a client once per subscription).
    pub fn receivers(&self, kind: Kind, channel: &[u8]) -> Vec<u64> {
        let mut ids: Vec<u64> = (self.map(kind).read().get(channel).into_iter().flatten())
            .map(|s| s.id())
            .collect();
        if kind == Kind::Channel {
            for (pattern, subs) in self.patterns.read().iter() {
                if glob_match(pattern, channel, false) {
                    ids.extend(subs.iter().map(|s| s.id()));
                }
            }
        }
        ids
    }

    /// Active channels (or shard channels) matching `pattern`, as PUBSUB CHANNELS.
    pub fn channel_names(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        self.map(kind)
            .read()
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .map(|c| c.to_vec())
            .collect()
    }

    /// What client `id` is subscribed to: (is a pattern, name), shard channels as channels (ACL SETUSER checks
    /// them against the user's new channel rules).
    pub fn subscriptions_of(&self, id: u64) -> Vec<(bool, Vec<u8>)> {
        let mut out = Vec::new();
        for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
            for (name, subs) in self.map(kind).read().iter() {
                if subs.iter().any(|s| s.id() == id) {
                    out.push((kind == Kind::Pattern, name.to_vec()));
                }
            }
        }
        out
    }

    pub fn subscriber_count(&self, kind: Kind, name: &[u8]) -> usize {
        self.map(kind).read().get(name).map_or(0, |s| s.len())
    }

    /// For INFO stats: (`pubsub_channels`, `pubsub_patterns`, `pubsubshard_channels`).
    pub fn counts(&self) -> (usize, usize, usize) {
        (
            self.channels.read().len(),
            self.patterns.read().len(),
            self.shards.read().len(),
        )
    }

    /// PUBSUB NUMPAT: distinct patterns with at least one subscriber.
    pub fn pattern_count(&self) -> usize {
        self.patterns.read().len()
    }

    pub(crate) fn add_monitor(
        &self,
        outbox: &Arc<Outbox>,
        confirm: Chunk,
        len: usize,
        limits: Limits,
    ) {
        let mut monitors = self.monitors.write();
        if !monitors.iter().any(|m| Arc::ptr_eq(m, outbox)) {
            monitors.push(outbox.clone());
            self.monitor_count.store(monitors.len(), Relaxed);
        }
        outbox.push(confirm, len, limits);
    }

    pub(crate) fn remove_monitor(&self, outbox: &Arc<Outbox>) {
        let mut monitors = self.monitors.write();
        monitors.retain(|m| !Arc::ptr_eq(m, outbox));
        self.monitor_count.store(monitors.len(), Relaxed);
    }

    /// The one load MONITOR costs every command when nobody monitors.
    #[inline]
    pub fn monitoring(&self) -> bool {
        self.monitor_count.load(Relaxed) != 0
    }

    /// Sends one already formatted MONITOR line to every monitor.
    /// Sends one formatted MONITOR line to every monitor but `except` (the client that ran the command).
    pub(crate) fn feed_monitors(
        &self,
        config: &Config,
        line: Arc<[u8]>,
        except: Option<&Arc<Outbox>>,
    ) {
        let limits = self.limits(config);
        for m in self.monitors.read().iter() {
            if !except.is_some_and(|e| Arc::ptr_eq(e, m)) {
                m.push(Chunk::Shared(line.clone()), line.len(), limits);
            }
        }
    }
}

/// A message frame encoded at most once per protocol, shared by all its receivers.
struct Frames<'a, F: Fn() -> Vec<&'a [u8]>> {
    parts: F,
    resp2: Option<Arc<[u8]>>,
    resp3: Option<Arc<[u8]>>,
}

impl<'a, F: Fn() -> Vec<&'a [u8]>> Frames<'a, F> {
    fn new(parts: F) -> Self {
        Frames {
            parts,
            resp2: None,
            resp3: None,
        }
    }

    fn for_protocol(&mut self, proto: Protocol) -> (Chunk, usize) {
        let slot = match proto {
            Protocol::Resp3 => &mut self.resp3,
            _ => &mut self.resp2,
        };
        let bytes = slot.get_or_insert_with(|| {
            let reply = Reply::Push((self.parts)().into_iter().map(Reply::bulk).collect());
            let mut out = Vec::new();
            encode(&reply, proto, &mut out);
            out.into()
        });
        (Chunk::Shared(bytes.clone()), bytes.len())
    }
}
