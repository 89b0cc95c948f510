//! What a handler gets besides its arguments.

use crate::commands::Command;
use crate::db::{Entry, KeyLocks, Value};
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

    /// Stores `value` at `key` (dropping any TTL) and signals the change.
    pub fn store(&mut self, key: &[u8], value: Value) {
        let db = self.client.db;
        self.keys.insert(db, key, value);
        self.keys.signal_modified(db, key);
    }

    /// Deletes `key`; true if it existed. Signals the change.
    pub fn delete(&mut self, key: &[u8]) -> bool {
        let db = self.client.db;
        let existed = self.keys.remove(db, key).is_some();
        if existed {
            self.keys.signal_modified(db, key);
        }
        existed
    }

    /// The "key changed" hook for the selected database (see `KeyLocks::signal_modified`).
    pub fn modified(&mut self, key: &[u8]) {
        let db = self.client.db;
        self.keys.signal_modified(db, key);
    }

    /// `KeyLocks::signal_ready` for the selected database.
    pub fn ready(&mut self, key: &[u8]) {
        let db = self.client.db;
        self.keys.signal_ready(db, key);
    }

    /// Keyspace notification hook (`notify-keyspace-events`): `class` is Redis's class letter (`g`, `$`, `l`, `s`,
    /// `h`, `z`, `x`, `t`, `e`, `n`, `m`), `event` the event name (`set`, `del`, `lpush`, ...). Costs one atomic
    /// load while notifications are off.
    #[inline]
    pub fn notify(&mut self, class: char, event: &str, key: &[u8]) {
        let db = self.client.db;
        self.notify_db(db, class, event, key);
    }

    /// `notify` for a key in another database than the selected one (MOVE's `move_to`, COPY ... DB's `copy_to`).
    #[inline]
    pub fn notify_db(&mut self, db: usize, class: char, event: &str, key: &[u8]) {
        let flags = self.server.config.notify_flags();
        if flags != 0 {
            crate::pubsub::notify_keyspace(self.server, flags, class, event, db, key);
        }
    }

    /// The error reply for a command-level failure that Redis words with the command's name.
    pub fn err_for_command(&self, text: &str) -> Reply {
        Reply::err(&text.replace("{}", self.cmd.name))
    }
}
