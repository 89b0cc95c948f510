//! The registry of connected clients: one table behind CLIENT LIST/INFO/KILL, INFO clients, maxclients and the
//! idle timeout.
//!
//! Each connection owns its [`ClientState`] (touched on every command, no lock); what other threads need to see
//! lives in a shared [`ClientInfo`] of atomics and small mutexes. CLIENT KILL shuts the registered clone of the
//! socket down, so the owning thread's blocking `read` returns at once and its thread goes back to the pool.

use std::collections::BTreeMap;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed,
};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::protocol::Protocol;
use crate::util::time::now_ms;

/// What the rest of the server may read or change about a client.
pub struct ClientInfo {
    pub id: u64,
    pub addr: SocketAddr,
    pub laddr: SocketAddr,
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
    /// Bytes buffered but not parsed yet, for CLIENT LIST `qbuf=`.
    pub qbuf: AtomicUsize,
    /// The read buffer's size, for CLIENT LIST `rbs=` and `qbuf-free=`.
    pub rbs: AtomicUsize,
    /// Bytes queued for a subscriber's or monitor's writer and not yet written, for CLIENT LIST `omem=` and the
    /// output buffer limits. Other clients write their replies out after every batch: 0.
    pub omem: AtomicUsize,
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
    /// How far the connection thread got through its input, for fences (`super::fence`).
    pub input: super::fence::InputState,
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

    /// The registered clone of the client's socket.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Ends the client from another thread: its `read` returns, it cleans up, its thread is freed.
    pub fn kill(&self) {
        self.killed.store(true, Relaxed);
        let _ = self.stream.shutdown(Shutdown::Both);
        crate::blocking::client_killed(self);
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
    /// False until AUTH succeeds when `requirepass` was set at connect time (or after RESET).
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
}

impl ClientRegistry {
    pub fn new() -> Self {
        ClientRegistry {
            // Redis 7.0 gives ids 1 and 2 to internal clients at start-up; the first connection is id 3.
            next_id: AtomicU64::new(3),
            clients: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn count(&self) -> usize {
        self.clients.lock().len()
    }

    /// Registers an accepted connection; `stream` is a clone kept for CLIENT KILL and shutdown.
    pub fn register(
        &self,
        stream: TcpStream,
        addr: SocketAddr,
        laddr: SocketAddr,
        fd: i32,
    ) -> Arc<ClientInfo> {
        let now = now_ms();
        let info = Arc::new(ClientInfo {
            id: self.next_id.fetch_add(1, Relaxed),
            addr,
            laddr,
            fd,
            created_ms: now,
            name: Mutex::new(Vec::new()),
            lib_name: Mutex::new(Vec::new()),
            lib_ver: Mutex::new(Vec::new()),
            db: AtomicUsize::new(0),
            resp: AtomicU32::new(2),
            last_interaction_ms: AtomicI64::new(now),
            last_cmd: AtomicU32::new(u32::MAX),
            qbuf: AtomicUsize::new(0),
            rbs: AtomicUsize::new(0),
            omem: AtomicUsize::new(0),
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
            input: Default::default(),
            stream,
        });
        self.clients.lock().insert(info.id, info.clone());
        info
    }

    pub fn unregister(&self, id: u64) {
        self.clients.lock().remove(&id);
    }

    pub fn get(&self, id: u64) -> Option<Arc<ClientInfo>> {
        self.clients.lock().get(&id).cloned()
    }

    /// A snapshot, ordered by id, so callers never hold the registry lock while formatting.
    pub fn all(&self) -> Vec<Arc<ClientInfo>> {
        self.clients.lock().values().cloned().collect()
    }

    pub fn kill_all(&self) {
        for c in self.all() {
            c.kill();
        }
    }
}
