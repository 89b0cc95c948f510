//! The one write path: how a change to the keyspace is reported, and what the change did, in replayable form.
//!
//! # Where things live
//! - [`Change`] (here): what one changed key tells the server. `KeyLocks::report` is the single place that acts
//!   on it: it bumps WATCH, offers the key to blocked clients, counts the change in the dirty counter and emits
//!   the keyspace event. Handlers reach it through `Ctx::changed` / `Ctx::report`; expiry, FLUSH*, SWAPDB, MOVE,
//!   COPY and served blocking pops go through the same `KeyLocks` methods.
//! - [`Pending`] (`pending`): the effects of the execution unit running now (a command, a transaction, one served
//!   blocked client, one expiry pass), kept in the unit's `KeyLocks` and appended to the feed before its locks
//!   drop, so the feed's order is a valid serial order for every key (DESIGN-NOTES §9).
//! - [`Feed`] (`feed`): the server-wide stream of effects, as Redis propagates them to replicas and the AOF:
//!   `SELECT` where the database changes, `MULTI ... EXEC` around a unit of several effects, a byte offset that is
//!   the future replication offset. AOF, replication and tests subscribe to it; while nobody does, a write pays
//!   one atomic load and a branch for it.
//!
//! # What a command's effect is
//! As in Redis's `call()`: a command that changed something (its dirty count grew) is appended as its own
//! arguments, unless it rewrote them (`Ctx::propagate_as`: `SET .. EX` as `SET .. PXAT`, `SPOP` as `SREM`),
//! suppressed them (`Ctx::prevent_propagation`) or forced them (`Ctx::force_propagation`: FLUSHALL on an empty
//! keyspace). `Ctx::also_propagate` adds effects that come before the command's own (Redis's `alsoPropagate`).

pub mod feed;
mod pending;

pub use feed::{Feed, Subscription};
pub use pending::Pending;

/// What a write reports for one key it changed. The defaults are a plain write (`Change::new`): WATCH sees it,
/// clients blocked on the key are offered it, it counts once in the dirty counter and emits its keyspace event.
#[derive(Clone, Copy, Debug)]
pub struct Change<'e> {
    /// Redis's class letter (`g`, `$`, `l`, `s`, `h`, `z`, `x`, `t`, `e`); ignored when `event` is empty.
    pub(crate) class: char,
    /// The keyspace event (`set`, `del`, `lpush`, ...); empty for none.
    pub(crate) event: &'e str,
    /// How much the change adds to the dirty counter (Redis's `server.dirty += n`).
    pub(crate) dirty: u64,
    /// Redis's `signalModifiedKey`: clients watching the key fail their EXEC.
    pub(crate) watch: bool,
    /// Redis's `signalKeyAsReady`: clients blocked on the key are offered it after the command.
    pub(crate) ready: bool,
}

impl<'e> Change<'e> {
    /// A plain write to a key, with its keyspace event.
    pub const fn new(class: char, event: &'e str) -> Self {
        Change {
            class,
            event,
            dirty: 1,
            watch: true,
            ready: true,
        }
    }

    /// A write with no keyspace event of its own (its event is reported with another key or by another call).
    pub const fn silent() -> Self {
        Change::new('g', "")
    }

    /// Counts `n` in the dirty counter instead of 1, where Redis counts elements (SADD adds one per member
    /// added).
    pub const fn dirty(mut self, n: u64) -> Self {
        self.dirty = n;
        self
    }

    /// Consumer-group bookkeeping (XGROUP CREATE, SETID, CREATECONSUMER, DELCONSUMER): Redis 7.0 counts it and
    /// notifies it, but neither WATCH nor blocked clients see it.
    pub const fn bookkeeping(mut self) -> Self {
        self.watch = false;
        self.ready = false;
        self
    }

    /// Offered to blocked clients without failing WATCH (XGROUP DESTROY answers blocked XREADGROUPs NOGROUP).
    pub const fn ready_only(mut self) -> Self {
        self.watch = false;
        self
    }

    /// Only a keyspace event, for a key whose change was already reported (SET ... EX emits `set`, then
    /// `expire`).
    pub const fn event_only(class: char, event: &'e str) -> Self {
        Change {
            class,
            event,
            dirty: 0,
            watch: false,
            ready: false,
        }
    }

    /// A key deleted because it expired: WATCH sees it, it emits `expired`, it is not counted as dirty (Redis's
    /// `deleteExpiredKeyAndPropagate`).
    pub(crate) const fn expired() -> Self {
        Change {
            class: 'x',
            event: "expired",
            dirty: 0,
            watch: true,
            ready: false,
        }
    }

    /// A key evicted for `maxmemory`: WATCH sees it, it emits `evicted`, it is not counted as dirty (Redis's
    /// `performEvictions`).
    pub(crate) const fn evicted() -> Self {
        Change {
            class: 'e',
            event: "evicted",
            dirty: 0,
            watch: true,
            ready: false,
        }
    }
}

/// The command a deletion propagates as: `UNLINK` when the lazyfree parameter `param` (`lazyfree-lazy-expire`,
/// `lazyfree-lazy-user-del`, `lazyfree-lazy-server-del`) is on, else `DEL`, as Redis chooses.
pub fn deletion(config: &crate::config::Config, param: &str) -> &'static [u8] {
    if config.get(param).as_deref() == Some("yes") {
        b"UNLINK"
    } else {
        b"DEL"
    }
}

/// Appends `args` to `out` as a RESP array of bulk strings, the form the feed carries.
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: impl ExactSizeIterator<Item = A>) {
    let mut num = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(num.format(args.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for arg in args {
        let arg = arg.as_ref();
        out.push(b'$');
        out.extend_from_slice(num.format(arg.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests;
