//! Keys written with a TTL directly on a writable replica (`replica-read-only no`): the master will never send
//! their DEL, so the replica expires them itself, as Redis's `expireSlaveKeys` (its active expiry stays off for
//! the keys its master owns).

use std::collections::HashSet;

use crate::commands::{flags, Args, Command};
use crate::db::{KeyLocks, LockPlan};
use crate::server::clients::ClientState;
use crate::server::Server;
use crate::util::time::now_ms;

/// After a command ran: a write by a client other than our master, on a replica, may have left keys with a
/// TTL that only we can expire.
pub fn after_command(server: &Server, client: &ClientState, cmd: &Command, args: Args) {
    if !server.repl.is_replica() || client.ext.repl.is_master || !cmd.has(flags::WRITE) {
        return;
    }
    let mut keys = server.repl.local_ttl.lock();
    for i in cmd.key_indexes(args) {
        keys.insert((client.db, args.get(i).to_vec()));
    }
}

/// Once a second: deletes those keys that expired; forgets those gone or without a TTL.
pub fn cycle(server: &Server) {
    let candidates: Vec<(usize, Vec<u8>)> = {
        let keys = server.repl.local_ttl.lock();
        if keys.is_empty() {
            return;
        }
        keys.iter().cloned().collect()
    };
    let ks = &server.keyspace;
    let mut done = HashSet::new();
    for (db, key) in candidates {
        if db >= ks.db_count() {
            done.insert((db, key));
            continue;
        }
        let mut plan = LockPlan::new();
        plan.key(ks, db, &key, true);
        let mut locks = KeyLocks::new(server, plan.acquire(ks), now_ms());
        let volatile = locks.peek(db, &key).is_some_and(|e| e.has_ttl());
        if locks.delete_if_expired(db, &key) || !volatile {
            done.insert((db, key));
        }
    }
    server.repl.local_ttl.lock().retain(|k| !done.contains(k));
}
