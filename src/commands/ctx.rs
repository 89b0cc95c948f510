//! What a handler gets besides its arguments.

use crate::commands::Command;
use crate::db::{Entry, KeyLocks, Value};
use crate::effects::Change;
use crate::protocol::Reply;
use crate::server::clients::ClientState;
use crate::server::{stats, Server};

pub struct Ctx<'a> {
    pub server: &'a Server,
    pub client: &'a mut ClientState,
    /// The shards locked for this command (or for the whole transaction).
    pub keys: KeyLocks<'a>,
    pub cmd: &'static Command,
}

impl<'a> Ctx<'a> {
    /// The client's selected database.
    pub fn db(&self) -> usize {
        self.client.db
    }

    /// A read lookup in the selected database, counted in `keyspace_hits`/`keyspace_misses` as Redis counts.
    pub fn lookup(&self, key: &[u8]) -> Option<&Value> {
        self.lookup_entry(key).map(|e| &e.value)
    }

    /// `lookup` for commands that need the TTL too (COPY, SET ... GET).
    pub fn lookup_entry(&self, key: &[u8]) -> Option<&Entry> {
        let e = self.keys.get(self.client.db, key);
        Self::count_lookup(e.is_some());
        e
    }

    /// A lookup that does not count as using the key (Redis's `LOOKUP_NOTOUCH`: TYPE, EXISTS, TTL, OBJECT), still
    /// counted in the keyspace hits and misses.
    pub fn peek_entry(&self, key: &[u8]) -> Option<&Entry> {
        let e = self.keys.peek(self.client.db, key);
        Self::count_lookup(e.is_some());
        e
    }

    fn count_lookup(hit: bool) {
        stats::with_local(|s| {
            if hit {
                s.keyspace_hits.add_local(1)
            } else {
                s.keyspace_misses.add_local(1)
            }
        });
    }

    pub fn lookup_mut(&mut self, key: &[u8]) -> Option<&mut Value> {
        let db = self.client.db;
        self.keys.get_value_mut(db, key)
    }

    /// Stores `value` at `key`, dropping any TTL. Report the change with [`Ctx::changed`].
    pub fn store(&mut self, key: &[u8], value: Value) {
        let db = self.client.db;
        self.keys.insert(db, key, value);
    }

    /// Deletes `key`; true if it existed. Report the change with [`Ctx::changed`].
    pub fn delete(&mut self, key: &[u8]) -> bool {
        let db = self.client.db;
        self.keys.remove(db, key).is_some()
    }

    /// Reports a plain write of `key` in the selected database: WATCH sees it, blocked clients are offered it, it
    /// counts once in the dirty counter and emits keyspace event `event` of class `class` (Redis's letter: `g`,
    /// `$`, `l`, `s`, `h`, `z`, `x`, `t`). Call it once per key changed, after changing it.
    #[inline]
    pub fn changed(&mut self, key: &[u8], class: char, event: &str) {
        self.report(key, Change::new(class, event));
    }

    /// Reports a change of `key` in the selected database, as `change` describes it (see [`Change`]).
    #[inline]
    pub fn report(&mut self, key: &[u8], change: Change) {
        let db = self.client.db;
        self.keys.report(db, key, change);
    }

    /// Counts `n` changes that no key reports (XACK), as Redis's bare `server.dirty += n`.
    pub fn count_dirty(&mut self, n: u64) {
        self.keys.count_dirty(n);
    }

    /// Whether effects are being recorded (somebody reads the feed): building a rewritten effect is wasted
    /// otherwise.
    #[inline]
    pub fn feeding(&self) -> bool {
        self.keys.pending.feeding()
    }

    /// The command's effect is `args` (in the selected database) instead of its own arguments, as Redis's
    /// `rewriteClientCommandVector`: `SET k v EX 10` as `SET k v PXAT <ms>`.
    pub fn propagate_as(&mut self, args: &[&[u8]]) {
        let db = self.client.db;
        self.keys.pending.rewrite(db, args.iter());
    }

    /// Adds `args` (in the selected database) to the effects now, before the command's own, as Redis's
    /// `alsoPropagate`.
    pub fn also_propagate(&mut self, args: &[&[u8]]) {
        let db = self.client.db;
        self.keys.pending.also(db, args.iter());
    }

    /// The command's own arguments are not an effect (it said what it did with `also_propagate`).
    pub fn prevent_propagation(&mut self) {
        self.keys.pending.prevent();
    }

    /// The command's arguments are an effect even if it changed nothing (FLUSHALL on an empty server).
    pub fn force_propagation(&mut self) {
        self.keys.pending.force();
    }

    /// The error reply for a command-level failure that Redis words with the command's name.
    pub fn err_for_command(&self, text: &str) -> Reply {
        Reply::err(&text.replace("{}", self.cmd.name))
    }
}
