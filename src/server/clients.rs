//! The registry of connected clients: one table behind CLIENT LIST/INFO/KILL, INFO clients, maxclients and the
//! idle timeout.
//!
//! Each connection owns its [`ClientState`] (touched on every command, no lock); what other threads need to see
//! lives in a shared [`ClientInfo`] of atomics and small mutexes. CLIENT KILL shuts the registered clone of the
//! socket down, so the owning thread's blocking `read` returns at once and its thread goes back to the pool.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst,
};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::protocol::Protocol;
use crate::util::time::now_ms;

/// A client's (or its server side's) address as CLIENT LIST shows it: `ip:port`, or `path:0` for a client of the
/// unix socket, as Redis.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addr {
    Ip(SocketAddr),
    Unix(Arc<str>),
}

impl Addr {
    /// The peer's IP; a unix socket client is local (protected mode lets it in, as Redis).
    pub fn ip(&self) -> IpAddr {
        match self {
            Addr::Ip(a) => a.ip(),
            Addr::Unix(_) => Ipv4Addr::LOCALHOST.into(),
        }
    }

    pub fn is_unix(&self) -> bool {
        matches!(self, Addr::Unix(_))
    }
}

impl From<SocketAddr> for Addr {
    fn from(a: SocketAddr) -> Addr {
        Addr::Ip(a)
    }
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Addr::Ip(a) => a.fmt(f),
            Addr::Unix(path) => write!(f, "{path}:0"),
        }
    }
}

/// What the rest of the server may read or change about a client.
pub struct ClientInfo {
    pub id: u64,
    pub addr: Addr,
    pub laddr: Addr,
    pub fd: i32,
    pub created_ms: i64,
    pub name: Mutex<Vec<u8>>,
    pub lib_name: Mutex<Vec<u8>>,
    pub lib_ver: Mutex<Vec<u8>>,
    pub db: AtomicUsize,
    pub resp: AtomicU32,
    pub last_interaction_ms: AtomicI64,
    /// Index in the command table of the last command run, for CLIENT LIST `cmd=`.
    pub last_cmd: AtomicU32,
    /// The read buffer's real size, for INFO memory's client overhead (CLIENT LIST shows `bufs`' figures).
    pub rbs: AtomicUsize,
    /// Bytes queued for a subscriber's or monitor's writer and not yet written, for CLIENT LIST `omem=` and the
    /// output buffer limits. Other clients write their replies out after every batch: 0.
    pub omem: AtomicUsize,
    /// Redis's query and reply buffer sizes for this client (CLIENT LIST `qbuf`, `rbs`..., `tot-mem`).
    pub bufs: Mutex<super::bufmodel::BufModel>,
    /// How many BCAST prefixes the client tracks (they count in its memory, as in Redis).
    pub tracking_prefixes: AtomicUsize,
    pub multi_len: AtomicI64,
    /// Bytes of the queued MULTI commands as Redis counts them (arguments plus a pointer each), for CLIENT LIST
    /// `multi-mem=`.
    pub multi_mem: AtomicUsize,
    /// Set when a key the client WATCHes changes (flag `d` in CLIENT LIST); shared with the shards' registries.
    pub watch_dirty: Arc<crate::db::watch::WatchFlag>,
    pub subscriptions: AtomicU32,
    pub psubscriptions: AtomicU32,
    pub ssubscriptions: AtomicU32,
    pub blocked: AtomicBool,
    /// CLIENT NO-EVICT and CLIENT NO-TOUCH (flags `e` and `T` in CLIENT LIST).
    pub no_evict: AtomicBool,
    pub no_touch: AtomicBool,
    /// Set by CLIENT KILL; the connection loop checks it and the socket shutdown wakes it.
    pub killed: AtomicBool,
    /// The client's waiter while it is blocked on keys, for CLIENT UNBLOCK and CLIENT KILL.
    pub waiter: Mutex<Option<Arc<crate::blocking::Waiter>>>,
    pub commands: AtomicU64,
    /// The ACL user the client is authenticated as (CLIENT LIST `user=`, CLIENT KILL USER, ACL DELUSER).
    pub user: Mutex<Vec<u8>>,
    /// Replication role of the connection: 0 a normal client, 1 a replica we feed, 2 our master's link.
    pub repl_kind: std::sync::atomic::AtomicU8,
    /// How far the connection thread got through its input, for fences (`super::fence`).
    pub input: super::fence::InputState,
    /// Whether fences wait for this client (`super::fence::watched`); mirrored by the registry's watched table.
    pub watched: AtomicBool,
    /// A handle on the connection for messages other threads send it (tracking invalidations), set when its
    /// connection loop starts.
    pub push: std::sync::OnceLock<super::stream::Stream>,
    /// The client's pub/sub outbox while it has one: a kill drops what is queued in it at once, as Redis's
    /// `freeClient` frees the reply list, so that client eviction's relief is there for the next command's key
    /// eviction to see (not only once the writer thread has woken and gone).
    pub outbox: Mutex<std::sync::Weak<crate::pubsub::Outbox>>,
    /// When the messages other threads left queued on the connection first went over the soft output limit (ms),
    /// 0 while under it (`super::output_limit::check_pushed`).
    pub pushed_soft_since: std::sync::atomic::AtomicI64,
    stream: TcpStream,
}

impl ClientInfo {
    pub fn protocol(&self) -> Protocol {
        if self.resp.load(Relaxed) == 3 {
            Protocol::Resp3
        } else {
            Protocol::Resp2
        }
    }

    pub fn idle_secs(&self) -> i64 {
        (now_ms() - self.last_interaction_ms.load(Relaxed)) / 1000
    }

    /// Whether the client holds any channel, pattern or shard channel subscription.
    pub fn subscribed(&self) -> bool {
        self.subscriptions.load(Relaxed)
            + self.psubscriptions.load(Relaxed)
            + self.ssubscriptions.load(Relaxed)
            > 0
    }

    /// Unsent output as CLIENT LIST's `omem` shows it: the owner's unsent replies (or a subscriber's queue) and
    /// what other threads left queued on the connection.
    pub fn output_memory(&self) -> usize {
        self.omem.load(Relaxed) + self.push.get().map_or(0, |s| s.deferred())
    }

    /// The registered clone of the client's socket.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Ends the client from another thread: its `read` returns, it cleans up, its thread is freed.
    pub fn kill(&self) {
        self.killed.store(true, Relaxed);
        let _ = self.stream.shutdown(Shutdown::Both);
        crate::blocking::client_killed(self);
        let outbox = self.outbox.lock().upgrade();
        if let Some(outbox) = outbox {
            outbox.discard_queued();
        }
    }
}

/// Per-connection state that only the connection's own thread touches.
pub struct ClientState {
    pub info: Arc<ClientInfo>,
    pub db: usize,
    pub protocol: Protocol,
    /// Set by QUIT, SHUTDOWN, a protocol error: close after the pending replies are written.
    pub close_after_reply: bool,
    /// CLIENT REPLY OFF: no reply is sent until CLIENT REPLY ON.
    pub reply_off: bool,
    /// CLIENT REPLY SKIP: how many more replies to drop (that command's and the next one's).
    pub skip_replies: u8,
    /// Arguments of the command being run that MONITOR must show as `(redacted)` (bit i: argument i): set by
    /// AUTH and HELLO for credentials, cleared by the dispatcher before every command.
    pub redacted: u64,
    /// False until AUTH succeeds, when the default user needed a password at connect time (or after RESET).
    pub authenticated: bool,
    /// Per-feature state (MULTI queue, blocking, subscriptions), each field owned by its feature.
    pub ext: ClientExt,
}

/// State added by features beyond the core; each feature owns its field.
#[derive(Default)]
pub struct ClientExt {
    /// MULTI queue and WATCHed keys.
    pub multi: crate::commands::transaction::MultiState,
    /// Set by a blocking command that found nothing, until the connection loop waits (`crate::blocking`).
    pub blocked: Option<crate::blocking::Blocked>,
    /// Subscriptions, MONITOR, and the outbox that carries the client's output while it has any.
    pub pubsub: crate::pubsub::ClientPubSub,
    /// The ACL user and what it may run.
    pub acl: crate::acl::ClientAcl,
    /// CLIENT TRACKING settings, and invalidations waiting to follow the reply.
    pub tracking: crate::tracking::ClientTracking,
    /// Redis's `mustObeyClient`: the AOF loader, whose commands were already accepted once (limits meant for
    /// users do not apply to them).
    pub must_obey: bool,
    /// REPLCONF announcements, the PSYNC hand-over, the master's link flag.
    pub repl: crate::replication::ClientRepl,
}

impl ClientState {
    /// A client that needs no password; the connection loop clears `authenticated` when `requirepass` is set.
    pub fn new(info: Arc<ClientInfo>) -> Self {
        ClientState {
            info,
            db: 0,
            protocol: Protocol::Resp2,
            close_after_reply: false,
            reply_off: false,
            skip_replies: 0,
            redacted: 0,
            authenticated: true,
            ext: ClientExt::default(),
        }
    }

    /// Whether the reply of the command just run goes out (CLIENT REPLY), consuming one SKIP.
    #[inline]
    pub fn reply_wanted(&mut self) -> bool {
        if self.skip_replies > 0 {
            self.skip_replies -= 1;
            return false;
        }
        !self.reply_off
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }

    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.info.db.store(db, Relaxed);
    }

    pub fn set_protocol(&mut self, p: Protocol) {
        self.protocol = p;
        self.info.resp.store(p.number() as u32, Relaxed);
    }
}

#[derive(Default)]
pub struct ClientRegistry {
    next_id: AtomicU64,
    clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    /// The clients fences wait for (see `super::fence::watched`), so a write finds them without scanning every
    /// client, and `watched_count` tells it with one load that there are none.
    watched: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    watched_count: AtomicUsize,
}

impl ClientRegistry {
    pub fn new() -> Self {
        ClientRegistry {
            // Redis 7.0 gives ids 1 and 2 to internal clients at start-up; the first connection is id 3.
            next_id: AtomicU64::new(3),
            clients: Mutex::new(BTreeMap::new()),
            watched: Mutex::new(BTreeMap::new()),
            watched_count: AtomicUsize::new(0),
        }
    }

    pub fn count(&self) -> usize {
        self.clients.lock().len()
    }

    /// Registers an accepted connection; `stream` is a clone kept for CLIENT KILL and shutdown.
    pub fn register(
        &self,
        stream: TcpStream,
        addr: impl Into<Addr>,
        laddr: impl Into<Addr>,
        fd: i32,
    ) -> Arc<ClientInfo> {
        let now = now_ms();
        let info = Arc::new(ClientInfo {
            id: self.next_id.fetch_add(1, Relaxed),
            addr: addr.into(),
            laddr: laddr.into(),
            fd,
            created_ms: now,
            name: Mutex::new(Vec::new()),
            lib_name: Mutex::new(Vec::new()),
            lib_ver: Mutex::new(Vec::new()),
            db: AtomicUsize::new(0),
            resp: AtomicU32::new(2),
            last_interaction_ms: AtomicI64::new(now),
            last_cmd: AtomicU32::new(u32::MAX),
            rbs: AtomicUsize::new(0),
            omem: AtomicUsize::new(0),
            bufs: Mutex::default(),
            tracking_prefixes: AtomicUsize::new(0),
            multi_len: AtomicI64::new(-1),
            multi_mem: AtomicUsize::new(0),
            watch_dirty: Arc::default(),
            subscriptions: AtomicU32::new(0),
            psubscriptions: AtomicU32::new(0),
            ssubscriptions: AtomicU32::new(0),
            blocked: AtomicBool::new(false),
            no_evict: AtomicBool::new(false),
            no_touch: AtomicBool::new(false),
            killed: AtomicBool::new(false),
            waiter: Mutex::new(None),
            commands: AtomicU64::new(0),
            user: Mutex::new(b"default".to_vec()),
            repl_kind: Default::default(),
            input: Default::default(),
            watched: AtomicBool::new(false),
            push: std::sync::OnceLock::new(),
            outbox: Mutex::new(std::sync::Weak::new()),
            pushed_soft_since: std::sync::atomic::AtomicI64::new(0),
            stream,
        });
        self.clients.lock().insert(info.id, info.clone());
        self.set_watched(&info, true);
        info
    }

    pub fn unregister(&self, id: u64) {
        if let Some(info) = self.clients.lock().remove(&id) {
            self.set_watched(&info, false);
        }
    }

    /// Moves a registered client in or out of the watched table; called by the client's own thread only (after
    /// each command, and when it registers or leaves), so a client that left is never put back.
    pub fn set_watched(&self, info: &Arc<ClientInfo>, on: bool) {
        if info.watched.swap(on, Relaxed) == on {
            return;
        }
        let mut watched = self.watched.lock();
        if on {
            watched.insert(info.id, info.clone());
        } else {
            watched.remove(&info.id);
        }
        self.watched_count.store(watched.len(), SeqCst);
    }

    /// How many clients fences wait for right now (one load: the common answer is none but the caller).
    pub fn watched_count(&self) -> usize {
        self.watched_count.load(SeqCst)
    }

    /// The clients fences wait for.
    pub fn watched(&self) -> Vec<Arc<ClientInfo>> {
        self.watched.lock().values().cloned().collect()
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.lock().get(&id).cloned()
    }

    /// A snapshot, ordered by id, so callers never hold the registry lock while formatting.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().values().cloned().collect()
    }

    /// The clients not killed: Redis frees a client it kills at once, so for every count and list a killed
    /// client is gone, even while its thread has not yet noticed and unregistered it.
    pub fn live(&self) -> Vec<Arc<ClientInfo>> {
        let mut clients = self.all();
        clients.retain(|c| !c.killed.load(Relaxed));
        clients
    }

    pub fn kill_all(&self) {
        for c in self.all() {
            c.kill();
        }
    }
}
