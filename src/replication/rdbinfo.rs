//! Replication's AUX fields in RDB files (`repl-stream-db`, `repl-id`, `repl-offset`), as Redis 7.0's
//! `rdbPopulateSaveInfo` writes them and its `loadDataFromDisk` reads them back: a restarted replica resumes
//! with `PSYNC <replid> <offset+1>` and a restarted master keeps the ID it had as `replid2`, so its replicas
//! resume with `+CONTINUE` instead of a full sync.
//!
//! The fields describe the file's snapshot instant exactly: a save takes them at that instant (`at_instant`,
//! run while every shard is locked, with a replica's link held between two commands) and writes them before
//! the first database (an AUX field may come anywhere before EOF; Redis's loader reads it wherever it is).

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::server::Server;

/// What an RDB file records of replication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveInfo {
    pub stream_db: usize,
    pub replid: String,
    pub offset: i64,
}

/// What a load found in the file's AUX fields (each may be missing).
#[derive(Default)]
pub struct Loaded {
    stream_db: Option<usize>,
    replid: Option<String>,
    offset: Option<i64>,
}

/// Set while the start-up load runs: only then do the fields count (as in Redis, DEBUG RELOAD and a full sync
/// ignore them), and a master feeds the `DEL`s of keys that expired on disk to the backlog.
static AT_STARTUP: AtomicBool = AtomicBool::new(false);

/// Redis's `rdbPopulateSaveInfo`: a master with a backlog, or a replica that has synced with its master.
pub fn save_info(server: &Server) -> Option<SaveInfo> {
    let st = server.repl.state();
    st.backlog_from?;
    let stream_db = if server.repl.is_replica() {
        super::replica::stream_db(server)
    } else {
        server.feed.selected_db().unwrap_or(0)
    };
    Some(SaveInfo {
        stream_db,
        replid: st.replid.clone(),
        offset: server.feed.offset() as i64 + st.shift,
    })
}

/// The three fields, in Redis's order.
pub fn aux_fields(info: &SaveInfo) -> [(&'static [u8], Vec<u8>); 3] {
    [
        (b"repl-stream-db", info.stream_db.to_string().into_bytes()),
        (b"repl-id", info.replid.clone().into_bytes()),
        (b"repl-offset", info.offset.to_string().into_bytes()),
    ]
}

/// Where [`at_instant`]'s closure leaves the fields.
pub type Slot = Arc<Mutex<Option<SaveInfo>>>;

/// For a save's snapshot: the slot [`at_instant`] fills, and the closure to run at the snapshot's instant.
/// A replica's link is held between two commands until then (its stream reaches the feed after the keyspace),
/// so the offset matches the data; the returned guard must live until the snapshot has started.
pub fn at_instant(
    server: &Server,
) -> Option<(Slot, crate::persist::snapshot::OnStart, Holding<'_>)> {
    let arc = server.arc()?;
    let slot = Arc::new(Mutex::new(None));
    let holding = Holding::new(server);
    let gate = holding.gate.clone();
    let on_start = {
        let slot = slot.clone();
        Box::new(move || {
            *slot.lock() = save_info(&arc);
            if let Some(g) = &gate {
                g.resume();
            }
        }) as crate::persist::snapshot::OnStart
    };
    Some((slot, on_start, holding))
}

/// A replica's link paused for a save's snapshot instant (nothing for a master).
pub struct Holding<'s> {
    gate: Option<Arc<super::ApplyGate>>,
    _one: Option<parking_lot::MutexGuard<'s, ()>>,
}

impl<'s> Holding<'s> {
    fn new(server: &'s Server) -> Self {
        if !server.repl.is_replica() {
            return Holding {
                gate: None,
                _one: None,
            };
        }
        // One pauser at a time: a full sync for a sub-replica pauses the same gate.
        let one = server.repl.syncing.lock();
        let gate = server.repl.apply_gate.clone();
        gate.pause();
        Holding {
            gate: Some(gate),
            _one: Some(one),
        }
    }
}

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        if let Some(g) = &self.gate {
            g.resume();
        }
    }
}

/// The start-up load begins: a master creates its backlog now, so the `DEL`s of keys found expired go into it
/// (Redis's `createReplicationBacklog` before `rdbLoad` with `RDBFLAGS_FEED_REPL`).
pub fn begin_startup_load(server: &Server) {
    *server.repl.loaded_info.lock() = Loaded::default();
    AT_STARTUP.store(true, Relaxed);
    if !configured_replica(server) {
        let mut st = server.repl.state();
        super::ensure_backlog(server, &mut st);
    }
}

/// Whether a key found expired while loading is deleted through the backlog (a master's start-up load).
pub fn feeds_expired(server: &Server) -> bool {
    AT_STARTUP.load(Relaxed) && !configured_replica(server)
}

/// Whether a load keeps keys that already expired: a replica waits for its master's `DEL` (also a restarted one,
/// whose `replicaof` takes effect after the load).
pub fn keeps_expired(server: &Server) -> bool {
    server.repl.is_replica() || (AT_STARTUP.load(Relaxed) && configured_replica(server))
}

/// An AUX field read by a load.
pub fn on_aux(server: &Server, key: &[u8], value: &[u8]) {
    if !AT_STARTUP.load(Relaxed) {
        return;
    }
    let text = String::from_utf8_lossy(value);
    let mut l = server.repl.loaded_info.lock();
    match key {
        b"repl-stream-db" => l.stream_db = text.parse().ok(),
        b"repl-id" if text.len() == 40 => l.replid = Some(text.into_owned()),
        b"repl-offset" => l.offset = text.parse().ok().filter(|&o: &i64| o != -1),
        _ => {}
    }
}

/// The start-up load ended: restore the replication history it recorded, as Redis's `loadDataFromDisk`, or
/// drop the backlog a master created for nothing.
pub fn end_startup_load(server: &Server, loaded_ok: bool) {
    AT_STARTUP.store(false, Relaxed);
    let l = std::mem::take(&mut *server.repl.loaded_info.lock());
    let valid = match (l.replid, l.offset, l.stream_db) {
        (Some(id), Some(off), Some(db)) if loaded_ok => Some((id, off, db)),
        _ => None,
    };
    let mut st = server.repl.state();
    match valid {
        Some((id, off, db)) if configured_replica(server) => {
            // A cached master made of ourselves: PSYNC asks for `id` from `off + 1`.
            st.replid = id;
            st.shift = off - server.feed.offset() as i64;
            super::ensure_backlog(server, &mut st);
            st.backlog_from = Some(server.feed.offset());
            server.repl.stream_db.store(db, Relaxed);
        }
        Some((id, off, _)) => {
            // The backlog was created before the load; what the load appended (expired keys' DELs) comes after
            // the file's offset.
            st.replid2 = id;
            st.second_offset = off + 1;
            st.shift = off - st.backlog_from.unwrap_or(0) as i64;
        }
        None if !configured_replica(server) => {
            st.backlog_from = None;
            server.feed.drop_backlog();
        }
        None => {}
    }
}

fn configured_replica(server: &Server) -> bool {
    server
        .config
        .get("replicaof")
        .is_some_and(|v| !v.trim().is_empty())
}
