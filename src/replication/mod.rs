//! Replication, as Redis 7.0 speaks it (PSYNC2), in both roles.
//!
//! # Offsets
//! The replication stream is the effects feed (`crate::effects::Feed`): a master's replication offset is the
//! feed's byte offset plus `State::shift`, which a replica sets when a full sync gives it its master's offset.
//! The feed keeps the last `repl-backlog-size` bytes (`Feed::keep_backlog`) once a replica attached (or once this
//! server synced from a master), so a replica that reconnects resumes with `+CONTINUE` from there.
//!
//! # Where things live
//! - `master`: REPLCONF, PSYNC/SYNC and the thread pair that feeds one attached replica.
//! - `rdbsync`: the RDB a full sync sends, from a point-in-time snapshot taken at the exact feed offset.
//! - `replica`: the link to our master: handshake, full and partial sync, applying the stream, ACKs.
//! - `commands`: REPLICAOF/SLAVEOF, ROLE, WAIT and the gates (-READONLY, -NOREPLICAS); `info`: INFO replication.

mod apply;
pub mod commands;
mod failover;
mod fullsync;
mod info;
mod local_expiry;
mod master;
mod outbuf;
mod payload;
pub mod rdbinfo;
mod rdbsync;
mod replica;
mod rogue;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

use crate::server::clients::ClientInfo;
use crate::server::Server;

pub use commands::{enough_good_replicas, gate, refuses_writes, COMMANDS};
pub use info::{info_section, stats_fields};
pub use local_expiry::after_command;
pub use master::ClientRepl;

/// A fresh 40-hex replication ID, as Redis's `changeReplicationId`.
pub fn new_replid() -> String {
    (0..40)
        .map(|_| char::from_digit(fastrand::u32(..16), 16).unwrap_or('0'))
        .collect()
}

/// The replication ID history and the role, changed together.
pub struct State {
    pub replid: String,
    /// The ID this server had before its last promotion, valid up to `second_offset` (PSYNC2).
    pub replid2: String,
    pub second_offset: i64,
    /// Replication offset = feed offset + `shift`.
    pub shift: i64,
    /// The feed offset where the history this replid describes starts to be kept; `None` while there is no
    /// backlog.
    pub backlog_from: Option<u64>,
    /// `REPLICAOF host port`: the master we follow.
    pub master: Option<(String, u16)>,
}

/// A replica attached to this server, as INFO's `slaveN` line and WAIT see it.
pub struct Attached {
    pub client: Arc<ClientInfo>,
    pub ip: String,
    pub port: AtomicI64,
    /// 0 wait_bgsave, 1 send_bulk, 2 online.
    pub state: AtomicU8,
    pub ack_offset: AtomicI64,
    pub ack_ms: AtomicI64,
    /// Set by the replica's first ACK: after an `$EOF:` transfer the stream waits for it, since the replica
    /// finds the end mark only at the end of what it reads (as Redis waits for it).
    pub acked: AtomicBool,
    /// The feed offset up to which the stream has been written to the replica's socket (`outbuf::NO_STREAM`
    /// before its stream starts): what it has pending for `client-output-buffer-limit replica`.
    pub written_to: AtomicU64,
    /// When it went over the soft limit (ms), 0 while under it.
    pub soft_since: AtomicI64,
    /// Set when the replica's half of the link ends (it closed, was killed, or sent a command): the stream to
    /// it stops at once, so the link is gone (and logged) before the next command is served, as in Redis.
    pub link_closed: AtomicBool,
    /// Bytes of the stream taken from the feed and not yet all in the socket (a writer blocked on a replica
    /// that does not read holds them): part of the replica's output buffer.
    pub in_writer: AtomicU64,
}

impl Attached {
    pub fn state_name(&self) -> &'static str {
        match self.state.load(Relaxed) {
            0 => "wait_bgsave",
            1 => "send_bulk",
            _ => "online",
        }
    }
    pub fn online(&self) -> bool {
        self.state.load(Relaxed) == 2
    }
}

/// Keeps a full sync's snapshot from starting while the link thread has applied a command of its master's
/// stream but not yet forwarded its bytes to the feed (a replica's writes reach the feed outside the shard locks,
/// unlike a master's): the sync would otherwise send that command twice, in the RDB and in the stream.
#[derive(Default)]
pub struct ApplyGate {
    /// (a snapshot is starting, a command is being applied)
    state: Mutex<(bool, bool)>,
    changed: Condvar,
}

impl ApplyGate {
    /// The link thread, before applying one command; the guard ends the application once the command's bytes
    /// are in the feed (or the thread unwinds).
    pub fn begin_apply(&self) -> Applying<'_> {
        let mut s = self.state.lock();
        while s.0 {
            self.changed.wait(&mut s);
        }
        s.1 = true;
        Applying(self)
    }

    /// A full sync, before its snapshot: waits for the command being applied, holds back the next.
    /// The pause is asked for first, so a busy stream cannot starve it. One pauser at a time (`syncing`).
    pub fn pause(&self) {
        let mut s = self.state.lock();
        s.0 = true;
        while s.1 {
            self.changed.wait(&mut s);
        }
    }

    /// At the snapshot's instant (or if it failed): the link thread goes on.
    pub fn resume(&self) {
        self.state.lock().0 = false;
        self.changed.notify_all();
    }
}

/// One command of the master's stream being applied (see [`ApplyGate::begin_apply`]).
pub struct Applying<'g>(&'g ApplyGate);

impl Drop for Applying<'_> {
    fn drop(&mut self) {
        self.0.state.lock().1 = false;
        self.0.changed.notify_all();
    }
}

/// Everything replication shares between connections, the cron and the link thread.
pub struct Replication {
    state: Mutex<State>,
    pub replicas: Mutex<Vec<Arc<Attached>>>,
    pub sync_full: AtomicU64,
    pub sync_partial_ok: AtomicU64,
    pub sync_partial_err: AtomicU64,
    /// Bumped on every ACK, for WAIT.
    acks: Mutex<u64>,
    acked: Condvar,
    /// One full-sync snapshot at a time.
    pub(crate) syncing: Mutex<()>,
    pub(crate) apply_gate: Arc<ApplyGate>,
    /// The link to our master while we are a replica.
    pub(crate) link: Mutex<Option<Arc<replica::Link>>>,
    /// Fast check for the gates: this server follows a master.
    replica: AtomicBool,
    /// FAILOVER's progress; writes wait on `failover_done` while one runs.
    pub(crate) failover: Mutex<failover::Failover>,
    pub(crate) failover_done: Condvar,
    /// `repl-stream-db` of the last RDB loaded: the database our master's stream goes on in after a full sync.
    pub loaded_stream_db: std::sync::atomic::AtomicUsize,
    /// Keys written with a TTL on a writable replica, which it expires itself (`local_expiry`).
    pub(crate) local_ttl: Mutex<std::collections::HashSet<(usize, Vec<u8>)>>,
    /// A `repl-diskless-load swapdb` full sync with our master's own ID arrives while the old data is served
    /// (INFO's `async_loading`).
    pub async_loading: AtomicBool,
    /// Unix seconds since when no replica is attached (`repl-backlog-ttl`).
    pub no_replicas_since: AtomicI64,
    /// The full-sync snapshot replicas may still join (`rdbsync`).
    pub(crate) forming: Mutex<Option<Arc<rdbsync::Job>>>,
    /// Full-sync snapshots being produced (INFO's `rdb_bgsave_in_progress`).
    pub syncs_running: std::sync::atomic::AtomicUsize,
    /// The replication AUX fields the start-up load found (`rdbinfo`).
    pub(crate) loaded_info: Mutex<rdbinfo::Loaded>,
    /// The database our master's stream is in, as the last command applied left it (or a loaded RDB's
    /// `repl-stream-db`): a resumed stream goes on in it, whichever link resumes it (Redis keeps its cached
    /// master client's database).
    pub(crate) stream_db: std::sync::atomic::AtomicUsize,
}

impl Default for Replication {
    fn default() -> Self {
        Self::new()
    }
}

impl Replication {
    pub fn new() -> Self {
        Replication {
            state: Mutex::new(State {
                replid: new_replid(),
                replid2: "0".repeat(40),
                second_offset: -1,
                shift: 0,
                backlog_from: None,
                master: None,
            }),
            replicas: Mutex::new(Vec::new()),
            sync_full: AtomicU64::new(0),
            sync_partial_ok: AtomicU64::new(0),
            sync_partial_err: AtomicU64::new(0),
            acks: Mutex::new(0),
            acked: Condvar::new(),
            syncing: Mutex::new(()),
            apply_gate: Arc::default(),
            link: Mutex::new(None),
            replica: AtomicBool::new(false),
            failover: Mutex::new(failover::Failover::default()),
            failover_done: Condvar::new(),
            loaded_stream_db: Default::default(),
            local_ttl: Mutex::default(),
            forming: Mutex::default(),
            async_loading: AtomicBool::new(false),
            no_replicas_since: AtomicI64::new(crate::util::time::now_ms() / 1000),
            syncs_running: Default::default(),
            loaded_info: Mutex::default(),
            stream_db: Default::default(),
        }
    }

    pub fn state(&self) -> parking_lot::MutexGuard<'_, State> {
        self.state.lock()
    }

    /// Whether this server follows a master.
    #[inline]
    pub fn is_replica(&self) -> bool {
        self.replica.load(Relaxed)
    }

    pub fn attached(&self) -> Vec<Arc<Attached>> {
        self.replicas.lock().clone()
    }

    /// CONFIG RESETSTAT: `sync_full`, `sync_partial_ok`, `sync_partial_err` start again from 0.
    pub fn reset_stats(&self) {
        for n in [
            &self.sync_full,
            &self.sync_partial_ok,
            &self.sync_partial_err,
        ] {
            n.store(0, Relaxed);
        }
    }

    /// Wakes WAITers after an ACK.
    pub fn note_ack(&self) {
        *self.acks.lock() += 1;
        self.acked.notify_all();
    }
}

/// This server's replication offset.
pub fn offset(server: &Server) -> i64 {
    let shift = server.repl.state().shift;
    server.feed.offset() as i64 + shift
}

/// INFO memory's `mem_replication_backlog`, `mem_total_replication_buffers`, `mem_clients_slaves`: the feed's
/// held bytes are the replication buffer that the backlog and the replicas share (the total, as Redis's
/// `repl_buffer_mem`); the replicas' part is what they keep beyond the backlog, plus the copy each writer holds on
/// the way to its socket. That copy is a replica's own (Redis writes from the shared blocks and has none), so it
/// is not in the shared total, which then moves only with the buffer: the suite's "All replicas share one global
/// replication buffer" compares it before and after a replica leaves, while another replica's writer may still
/// hold a megabyte. The replicas' part is also `mem_not_counted_for_evict`: as in Redis, a slow replica costs no
/// keys.
pub fn buffer_memory(server: &Server) -> (u64, u64, u64) {
    if server.repl.state().backlog_from.is_none() {
        return (0, 0, 0);
    }
    let (held, backlog) = server.feed.held();
    let attached = server.repl.attached();
    if attached.is_empty() {
        // Without replicas, all of the buffer is the backlog's (as Redis counts it).
        return (held, held, 0);
    }
    let in_writers: u64 = attached.iter().map(|r| r.in_writer.load(Relaxed)).sum();
    (backlog, held, held - backlog + in_writers)
}

/// DEBUG REPLICATE <command>: the command goes to the replicas (and the backlog) as it is, without running here
/// and without a `SELECT`, as Redis's `replicationFeedSlaves(server.slaves, server.slaveseldb, ...)`; tests use
/// it to make a replica diverge.
pub fn debug_replicate(server: &Server, args: crate::commands::Args) {
    if server.repl.state().backlog_from.is_none() || server.repl.is_replica() {
        return;
    }
    let mut out = Vec::new();
    let words: Vec<&[u8]> = args.iter().skip(2).collect();
    crate::effects::encode_command(&mut out, words.into_iter());
    server.feed.append_raw(&out);
}

/// Follows CONFIG SET repl-backlog-size (once a second, and before a PSYNC is judged).
pub fn resize_backlog(server: &Server) {
    let size = crate::replication::commands::int_param(server, "repl-backlog-size").max(1) as u64;
    server.feed.resize_backlog(size);
}

/// Creates the backlog if there is none: the feed keeps `repl-backlog-size` bytes from now on.
pub fn ensure_backlog(server: &Server, st: &mut State) {
    let size = crate::replication::commands::int_param(server, "repl-backlog-size").max(1) as u64;
    server.feed.keep_backlog(size);
    if st.backlog_from.is_none() {
        st.backlog_from = Some(server.feed.offset());
    }
}

/// At start-up: the cron, and the link to the master `replicaof` names.
pub fn start(server: &Arc<Server>) {
    spawn_cron(server.clone());
    if let Some((host, port)) = configured_master(server) {
        commands::become_replica(server, host, port, false);
    }
}

/// Before the start-up load: a configured `replicaof` makes us a replica from the first moment, as Redis (which
/// reads it with the configuration) answers `role:slave` while it loads. The link itself starts after the load.
pub fn configure_at_startup(server: &Server) {
    if let Some((host, port)) = configured_master(server) {
        replica::install_idle(server, host, port);
    }
}

/// The master `replicaof` names, if any.
fn configured_master(server: &Server) -> Option<(String, u16)> {
    let conf = server.config.get("replicaof").unwrap_or_default();
    let mut words = conf.split_whitespace();
    let host = words.next()?.to_string();
    let port = words.next()?.parse().ok()?;
    Some((host, port))
}

/// CLIENT KILL of replicas (client `ids`): Redis frees a killed replica, and its share of the replication
/// buffer, before it replies; here the link's thread lets go of them once it sees its socket closed, so the
/// reply waits for that (a second at most), and INFO right after no longer counts them.
pub fn await_detached(server: &Server, ids: &[u64]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    let attached = || {
        server
            .repl
            .attached()
            .iter()
            .any(|a| ids.contains(&a.client.id))
    };
    while !ids.is_empty() && attached() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

/// After PSYNC/SYNC: the connection feeds a replica until the link breaks.
pub fn serve_replica(
    server: &Server,
    client: &mut crate::server::clients::ClientState,
    stream: &mut crate::server::stream::Stream,
    handoff: master::Handoff,
    pending: Vec<u8>,
) -> std::io::Result<()> {
    master::serve(server, client, stream, handoff, pending)
}

/// The keepalive and the replica's timers, once a second (Redis's `replicationCron`).
pub fn spawn_cron(server: Arc<Server>) {
    let spawned = std::thread::Builder::new()
        .name("repl-cron".into())
        .spawn(move || {
            let mut tick: i64 = 0;
            loop {
                std::thread::sleep(std::time::Duration::from_secs(1));
                tick += 1;
                master::cron(&server, tick);
                if server.repl.is_replica() {
                    local_expiry::cycle(&server);
                }
            }
        });
    if let Err(e) = spawned {
        log::warn!("Can't start the replication cron: {e}");
    }
}
