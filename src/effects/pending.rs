//! The effects of the execution unit running now, held in its `KeyLocks` until they go to the feed.
//!
//! A unit is what Redis propagates in one `propagatePendingCommands`: one command, one whole EXEC, one served
//! blocked client, one pass of the active expiry. `KeyLocks` ends a unit explicitly between a command and the
//! blocked clients it serves, and implicitly when it drops, so every effect is appended while the locks it was
//! made under are still held.

use super::{encode_command, Feed};
use crate::protocol::Frame;
use crate::server::stats;

/// See the module doc.
pub struct Pending {
    /// Whether the feed had subscribers when the unit's locks were taken: effects are recorded only then.
    feeding: bool,
    /// Changes counted so far (Redis's `server.dirty`), and how many of them the thread's stats have.
    dirty: u64,
    counted: u64,
    /// The unit's effects as RESP arrays, and (database, start in `buf`) of each.
    buf: Vec<u8>,
    ops: Vec<(usize, usize)>,
    /// The running command's own effect when it rewrote it (Redis's `rewriteClientCommandVector`).
    rewrite: Option<(usize, Vec<u8>)>,
    /// Redis's `preventCommandPropagation` and `forceCommandPropagation` for the running command.
    prevent: bool,
    force: bool,
    /// Several effects are not wrapped in MULTI/EXEC (the active expiry, as Redis's `propagate_no_multi`).
    no_multi: bool,
}

/// The state of a unit before a command runs, to tell afterwards whether the command changed anything.
pub struct CallMark {
    dirty: u64,
}

impl Pending {
    pub fn new(feeding: bool) -> Self {
        Pending {
            feeding,
            dirty: 0,
            counted: 0,
            buf: Vec::new(),
            ops: Vec::new(),
            rewrite: None,
            prevent: false,
            force: false,
            no_multi: false,
        }
    }

    #[inline]
    pub fn feeding(&self) -> bool {
        self.feeding
    }

    #[inline]
    /// Changes counted by the running unit that the thread's stats do not have yet (`end_call` passes them on).
    pub fn uncounted_dirty(&self) -> u64 {
        self.dirty - self.counted
    }

    pub fn add_dirty(&mut self, n: u64) {
        self.dirty += n;
    }

    pub fn set_no_multi(&mut self) {
        self.no_multi = true;
    }

    /// Adds an effect to the unit now (Redis's `alsoPropagate`).
    pub fn also<A: AsRef<[u8]>>(&mut self, db: usize, args: impl ExactSizeIterator<Item = A>) {
        if self.feeding {
            self.ops.push((db, self.buf.len()));
            encode_command(&mut self.buf, args);
        }
    }

    /// The running command's effect is `args` instead of its own arguments.
    pub fn rewrite<A: AsRef<[u8]>>(&mut self, db: usize, args: impl ExactSizeIterator<Item = A>) {
        if self.feeding {
            let mut out = Vec::new();
            encode_command(&mut out, args);
            self.rewrite = Some((db, out));
        }
    }

    pub fn prevent(&mut self) {
        self.prevent = true;
    }

    pub fn force(&mut self) {
        self.force = true;
    }

    /// Before a command runs.
    #[inline]
    pub fn begin_call(&mut self) -> CallMark {
        self.rewrite = None;
        self.prevent = false;
        self.force = false;
        CallMark { dirty: self.dirty }
    }

    /// After a command ran in `db` with `args`: as Redis's `call()`, a command that changed something (or forced
    /// it) adds its effect, rewritten or as it was sent, unless it prevented that. Returns the changes the unit
    /// has not passed to the thread's stats yet, which the caller adds (with the command's other counters, one
    /// visit to the stats instead of two).
    #[inline]
    pub fn end_call(&mut self, mark: CallMark, db: usize, args: Frame) -> u64 {
        let uncounted = self.dirty - self.counted;
        self.counted = self.dirty;
        if !self.feeding || !(self.dirty > mark.dirty || self.force) || self.prevent {
            self.rewrite = None;
            return uncounted;
        }
        match self.rewrite.take() {
            Some((db, bytes)) => {
                self.ops.push((db, self.buf.len()));
                self.buf.extend_from_slice(&bytes);
            }
            None => self.also(db, (0..args.len()).map(|i| args.get(i))),
        }
        uncounted
    }

    /// After a blocked client was served (its command is not run by `call`, so its own arguments are no effect):
    /// what the serve said it did with `rewrite`, as Redis's served pops `alsoPropagate` the plain pop.
    pub fn end_serve(&mut self, mark: CallMark) {
        let rewrite = self.rewrite.take();
        if let (true, Some((db, bytes))) = (self.feeding && self.dirty > mark.dirty, rewrite) {
            self.ops.push((db, self.buf.len()));
            self.buf.extend_from_slice(&bytes);
        }
    }

    /// Ends the unit: its changes go to the thread's dirty counter, its effects to the feed (in MULTI/EXEC if
    /// there are several).
    pub fn end_unit(&mut self, feed: &Feed) {
        if self.dirty != self.counted {
            let n = self.dirty - self.counted;
            stats::with_local(|s| s.dirty.add_local(n));
            self.counted = self.dirty;
        }
        if self.ops.is_empty() {
            return;
        }
        feed.append(&self.buf, &self.ops, self.ops.len() > 1 && !self.no_multi);
        self.ops.clear();
        self.buf.clear();
    }
}
