//! Client-side caching: CLIENT TRACKING, as Redis 7.0's `tracking.c`.
//!
//! A tracking client's reads record the keys it read in one table (key name → client ids, every database
//! alike, as in Redis); a write of a key tells each of them once, then forgets the entry. In BCAST mode a client
//! registers prefixes instead and hears of every key written under them. Messages are RESP3 pushes
//! (`>2 invalidate [keys]`), or, for a client redirecting to a RESP2 connection in pub/sub mode, messages of the
//! `__redis__:invalidate` channel; a flush sends a null ("everything").
//!
//! Where it hooks in: `KeyLocks::report` and `flush_db` note what changed (one atomic load when nobody tracks),
//! in a thread-local list; `dispatch::run` and the expiry cycle [`deliver`] it once the keyspace locks are
//! released. A message for the client whose command made the change waits in its state and follows its reply
//! (the connection loop appends it); others are written to their connection at once, under its write lock.

pub mod commands;
mod table;

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::Mutex;

use crate::protocol::Protocol;
use crate::server::clients::{ClientInfo, ClientState};
use crate::server::Server;
use table::Tables;

/// The server's tracking state.
#[derive(Default)]
pub struct Tracking {
    /// Clients with tracking on (INFO `tracking_clients`): while 0, every hook is one load and a branch.
    clients: AtomicUsize,
    tables: Mutex<Tables>,
    /// Messages for clients asleep in a blocking command, by id: they follow the reply that wakes them.
    later: Mutex<std::collections::HashMap<u64, Vec<u8>>>,
    /// A connection deferred the BCAST broadcast of what its commands wrote (see [`end_batch`]).
    bcast_due: AtomicBool,
}

/// What invalidators need to know of a tracking client; replaced whenever it re-enables tracking.
pub struct Member {
    info: Arc<ClientInfo>,
    redirect: u64,
    bcast: bool,
    noloop: bool,
    /// The redirect client went away (`broken_redirect` in CLIENT TRACKINGINFO).
    broken: AtomicBool,
}

/// A client's own tracking settings, touched only by its connection thread.
#[derive(Default)]
pub struct ClientTracking {
    member: Option<Arc<Member>>,
    optin: bool,
    optout: bool,
    /// CLIENT CACHING yes|no, for the next command (or transaction).
    caching: bool,
    prefixes: Vec<Vec<u8>>,
    /// A script of this client called a read-only command: the script's keys are remembered when it ends.
    script_read: bool,
    /// Messages for this client caused by its own command: they follow its reply.
    pending: Vec<u8>,
    /// Messages caused before its command ran (keys evicted to make room for it): they precede its reply.
    early: Vec<u8>,
    /// Woken from a blocking command: messages are held for it until its reply is written.
    holding: bool,
}

impl ClientTracking {
    #[inline]
    pub fn on(&self) -> bool {
        self.member.is_some()
    }

    /// Appends the messages that precede this client's reply (evictions its command caused) to `out`.
    #[inline]
    pub fn take_early(&mut self, out: &mut Vec<u8>) {
        if !self.early.is_empty() {
            out.append(&mut self.early);
        }
    }

    /// Appends the messages waiting for this client (after its reply) to `out`.
    #[inline]
    pub fn take_pending(&mut self, out: &mut Vec<u8>) {
        if !self.pending.is_empty() {
            out.append(&mut self.pending);
        }
    }
}

impl Tracking {
    #[inline]
    pub fn active(&self) -> bool {
        self.clients.load(Relaxed) > 0
    }

    pub fn clients(&self) -> usize {
        self.clients.load(Relaxed)
    }

    /// INFO's `tracking_total_keys`, `tracking_total_items`, `tracking_total_prefixes`.
    pub fn totals(&self) -> (usize, u64, usize) {
        self.tables.lock().totals()
    }
}

thread_local! {
    /// Messages decided on this thread and not sent yet (the keyspace locks are still held when they are made).
    static OUTGOING: RefCell<Outgoing> = RefCell::default();
    /// The client whose command runs on this thread (for NOLOOP), while anyone tracks.
    static CURRENT: Cell<Option<u64>> = const { Cell::new(None) };
    /// A flush was announced since the last delivery: FLUSHALL's databases make one message, as in Redis.
    static FLUSHED: Cell<bool> = const { Cell::new(false) };
    /// The tables may need a broadcast or a trim since the last delivery (a key written or remembered, a CONFIG
    /// SET): otherwise delivering takes no lock.
    static DIRTY: Cell<bool> = const { Cell::new(false) };
    /// This thread serves a connection: BCAST broadcasts wait for the end of its batch of commands.
    static DEFER: Cell<bool> = const { Cell::new(false) };
    /// The command served a blocked client: its broadcast goes out at once, while that client still counts as
    /// blocked, so the messages are held for it and follow the reply that wakes it (Redis queues both).
    static WOKE: Cell<bool> = const { Cell::new(false) };
}

/// A blocked client was handed its reply by this thread's command (`blocking::serve`).
#[inline]
pub fn served_a_waiter() {
    WOKE.with(|w| w.set(true));
}

/// The connection loop runs its commands on this thread (`on`), or stopped (a pool thread serves many
/// connections in turn). While on, keys written under BCAST prefixes are broadcast by [`end_batch`], as Redis
/// broadcasts them once per event loop iteration (`trackingBroadcastInvalidationMessages` in beforeSleep): the
/// keys a pipeline writes come in one message per prefix, after the pipeline's replies.
pub fn defer_broadcasts(server: &Server, on: bool) {
    DEFER.with(|d| d.set(on));
    if !on && server.tracking.bcast_due.load(Relaxed) {
        deliver(server, None);
    }
}

/// The connection has run every complete command it had read (or is about to wait: a blocking command, CLIENT
/// PAUSE): the BCAST broadcasts deferred until now are made, before its replies are written, as Redis makes them
/// in beforeSleep before it writes replies. Messages to `client` itself are appended to `out`, after its replies.
pub fn end_batch(server: &Server, client: &mut ClientState, out: &mut Vec<u8>) {
    if !server.tracking.active() || !server.tracking.bcast_due.load(Relaxed) {
        return;
    }
    DEFER.with(|d| d.set(false));
    deliver_into(server, Some(&mut *client), false);
    client.ext.tracking.take_pending(out);
    DEFER.with(|d| d.set(true));
}

/// Before a command of client `id` (`dispatch::run`), while anyone tracks.
#[inline]
pub fn command_starts(server: &Server, id: u64) {
    if server.tracking.active() {
        CURRENT.with(|c| c.set(Some(id)));
    }
}

/// A key was written (`KeyLocks::report`); `expired` when the expiry removed it. The table forgets the key now, as
/// Redis's `trackingInvalidateKey` (a read later in the same transaction tracks it again); the messages wait.
#[inline]
pub fn note_change(server: &Server, key: &[u8], expired: bool) {
    if server.tracking.active() {
        let me = CURRENT.with(|c| c.get());
        let writer = if expired { None } else { me };
        DIRTY.with(|d| d.set(true));
        let mut tables = server.tracking.tables.lock();
        OUTGOING.with(|o| tables.invalidate(key, me, writer, true, &mut o.borrow_mut()));
    }
}

/// A database was flushed: every tracking client is told "everything" (a null), and the table empties.
pub fn note_flush(server: &Server) {
    // Rare enough to take the lock even when nobody tracks: keys read before tracking was turned off go too.
    let mut tables = server.tracking.tables.lock();
    if !server.tracking.active() {
        tables.flushed(false, &mut Outgoing::default());
        return;
    }
    let announce = !FLUSHED.with(|f| f.replace(true));
    OUTGOING.with(|o| tables.flushed(announce, &mut o.borrow_mut()));
}

/// After a command (`current`: its client) or an expiry pass: broadcasts to BCAST clients (unless deferred to the
/// end of the connection's batch), trims the table to `tracking-table-max-keys`, and sends every message decided
/// on this thread. Call with no keyspace lock held.
pub fn deliver(server: &Server, current: Option<&mut ClientState>) {
    deliver_into(server, current, false);
}

/// After the eviction that precedes `client`'s command: its own messages go before its reply, as Redis evicts
/// (and invalidates) before it calls the command.
pub fn deliver_before_reply(server: &Server, client: &mut ClientState) {
    deliver_into(server, Some(client), true);
}

fn deliver_into(server: &Server, current: Option<&mut ClientState>, early: bool) {
    if !server.tracking.active() {
        return;
    }
    let mut out = OUTGOING.with(|o| std::mem::take(&mut *o.borrow_mut()));
    CURRENT.with(|c| c.set(None));
    FLUSHED.with(|f| f.set(false));
    let dirty = DIRTY.with(|d| d.replace(false));
    let defer = DEFER.with(|d| d.get()) && !WOKE.with(|w| w.replace(false));
    if dirty && defer {
        server.tracking.bcast_due.store(true, Relaxed);
    }
    let bcast = !defer && (server.tracking.bcast_due.swap(false, Relaxed) || dirty);
    if dirty || bcast {
        let mut tables = server.tracking.tables.lock();
        if bcast {
            tables.broadcast(&mut out);
        }
        let max = server
            .config
            .get("tracking-table-max-keys")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        // As Redis's cron does it: no client is the writer, so NOLOOP clients are told too.
        tables.limit(max, None, &mut out);
    }
    out.send(server, current, early);
}

/// Messages to send once the tables are unlocked: (the tracking client, the keys as RESP).
#[derive(Default)]
struct Outgoing {
    messages: Vec<(Arc<Member>, Arc<[u8]>)>,
}

impl Outgoing {
    fn push(&mut self, member: &Arc<Member>, payload: Arc<[u8]>) {
        self.messages.push((member.clone(), payload));
    }

    fn send(self, server: &Server, mut current: Option<&mut ClientState>, early: bool) {
        for (member, payload) in self.messages {
            let Some((to, bytes)) = message(server, &member, &payload) else {
                continue;
            };
            match current.as_deref_mut() {
                Some(c) if c.info.id == to.id => {
                    let t = &mut c.ext.tracking;
                    let buf = if early { &mut t.early } else { &mut t.pending };
                    buf.extend_from_slice(&bytes);
                }
                _ => send_or_hold(server, &to, bytes),
            }
        }
    }
}

/// Writes `bytes` to client `to` now, or, if it sleeps in a blocking command or has just woken from one and not
/// written its reply yet, after that reply (as Redis queues both in one output buffer, the reply first). The
/// woken client marks itself before it stops counting as blocked ([`hold_until_replied`]), and the marker goes
/// when its reply is written ([`release_hold`]), so no message can overtake the reply.
///
/// A client in pub/sub mode (the RESP2 redirect target, subscribed to `__redis__:invalidate`) gets them through
/// its outbox, as its other messages: queued without blocking the writer whose command caused them, and counted
/// against `client-output-buffer-limit pubsub`, so a target that never reads is closed at its limit as in Redis
/// instead of stalling every client that writes a tracked key. Any other client (a RESP3 one, or a RESP2 redirect
/// target that is not subscribed) gets them without waiting for its socket either ([`push`]).
fn send_or_hold(server: &Server, to: &ClientInfo, bytes: Vec<u8>) {
    {
        let mut later = server.tracking.later.lock();
        if to.blocked.load(Relaxed) || later.contains_key(&to.id) {
            later.entry(to.id).or_default().extend_from_slice(&bytes);
            return;
        }
    }
    let outbox = to.outbox.lock().upgrade();
    if let Some(outbox) = outbox {
        outbox.queue(bytes, server.pubsub.limits(&server.config));
        return;
    }
    if let Some(stream) = to.push.get() {
        push(to, stream, &bytes);
    }
}

/// Writes `bytes` to `to`'s connection as far as its socket takes them now; the rest waits on the connection,
/// counted as its output buffer and under `client-output-buffer-limit normal`, as in Redis's reply list.
fn push(to: &ClientInfo, stream: &crate::server::stream::Stream, bytes: &[u8]) {
    if let Ok(left) = stream.push(bytes) {
        if left > 0 {
            crate::server::output_limit::check_pushed(to, left);
        }
    }
}

/// A blocked client wakes (`blocking::wait`, before it stops counting as blocked): messages for it wait for its
/// reply from now on.
pub fn hold_until_replied(server: &Server, info: &ClientInfo) {
    if server.tracking.active() {
        server.tracking.later.lock().entry(info.id).or_default();
    }
}

/// Back from a blocking command's sleep: messages held for this client follow its reply (and so do those that
/// come before [`release_hold`]).
pub fn after_wait(server: &Server, client: &mut ClientState) {
    let mut later = server.tracking.later.lock();
    if let Some(held) = later.get_mut(&client.info.id) {
        client
            .ext
            .tracking
            .pending
            .extend_from_slice(&std::mem::take(held));
        client.ext.tracking.holding = true;
    }
}

/// The woken client's reply has been written: what was held for it since [`after_wait`] is written after it,
/// and messages go straight to it again. The marker goes only once nothing is left to write, so a message
/// arriving meanwhile cannot overtake those held before it.
pub fn release_hold(
    server: &Server,
    client: &mut ClientState,
    stream: &crate::server::stream::Stream,
) -> std::io::Result<()> {
    if !std::mem::take(&mut client.ext.tracking.holding) {
        return Ok(());
    }
    loop {
        let rest = {
            let mut later = server.tracking.later.lock();
            match later.get_mut(&client.info.id) {
                Some(rest) if !rest.is_empty() => std::mem::take(rest),
                _ => {
                    later.remove(&client.info.id);
                    return Ok(());
                }
            }
        };
        push(&client.info, stream, &rest);
    }
}

/// Redis's `sendTrackingMessage`: who gets what about `payload` (RESP of the keys) for tracking client `member`.
fn message(server: &Server, member: &Member, payload: &[u8]) -> Option<(Arc<ClientInfo>, Vec<u8>)> {
    let mut to = member.info.clone();
    let redirected = member.redirect != 0;
    if redirected {
        match server
            .clients
            .get(member.redirect)
            .filter(|c| !c.killed.load(Relaxed))
        {
            Some(target) => to = target,
            None => {
                member.broken.store(true, Relaxed);
                if member.info.protocol() != Protocol::Resp3 {
                    return None;
                }
                let id = member.redirect.to_string();
                let text = format!(">2\r\n$21\r\ntracking-redir-broken\r\n:{id}\r\n");
                return Some((to, text.into_bytes()));
            }
        }
    }
    let mut bytes = if to.protocol() == Protocol::Resp3 {
        b">2\r\n$10\r\ninvalidate\r\n".to_vec()
    } else if redirected && to.subscribed() {
        b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n".to_vec()
    } else {
        return None;
    };
    bytes.extend_from_slice(payload);
    Some((to, bytes))
}

/// The client is leaving, or turns tracking off (CLIENT TRACKING off, RESET).
pub fn disable(server: &Server, client: &mut ClientState) {
    if server.tracking.active() {
        // Messages held for it while it slept, if it leaves that way.
        server.tracking.later.lock().remove(&client.info.id);
    }
    let t = &mut client.ext.tracking;
    let Some(member) = t.member.take() else {
        return;
    };
    server
        .tracking
        .tables
        .lock()
        .leave(member.info.id, &std::mem::take(&mut t.prefixes));
    client.info.tracking_prefixes.store(0, Relaxed);
    t.optin = false;
    t.optout = false;
    t.caching = false;
    server.tracking.clients.fetch_sub(1, Relaxed);
}

/// After each call of a tracking client (`dispatch::call`): a read-only command's keys are remembered; one called
/// by a script (`in_script`) makes the script's own declared keys remembered once it ends, as Redis remembers the
/// caller's keys.
pub fn after_call(
    server: &Server,
    client: &mut ClientState,
    cmd: &crate::commands::Command,
    args: crate::commands::Args,
    in_script: bool,
) {
    use crate::commands::flags::{NOSCRIPT, READONLY};
    // EVAL_RO and FCALL_RO are read-only but not reads themselves: only what the script calls counts.
    let read = cmd.has(READONLY) && !cmd.has(NOSCRIPT);
    let t = &mut client.ext.tracking;
    if in_script {
        t.script_read |= read;
        return;
    }
    if std::mem::take(&mut t.script_read) || read {
        remember(server, client, cmd, args);
    }
}

/// Redis's `trackingRememberKeys`: the command's keys, unless BCAST, OPTIN without CLIENT CACHING yes, or OPTOUT
/// after CLIENT CACHING no.
fn remember(
    server: &Server,
    client: &ClientState,
    cmd: &crate::commands::Command,
    args: crate::commands::Args,
) {
    let t = &client.ext.tracking;
    let Some(member) = &t.member else {
        return;
    };
    if member.bcast || (t.optin && !t.caching) || (t.optout && t.caching) {
        return;
    }
    DIRTY.with(|d| d.set(true));
    let mut tables = server.tracking.tables.lock();
    cmd.for_each_key(args, |i| tables.remember(args.get(i), member.info.id));
}

/// After a whole command of `client` (`dispatch::run`), while anyone tracks: its invalidations go out, and CLIENT
/// CACHING's one-command effect ends unless that was another CLIENT subcommand, as in Redis.
pub fn after_command(server: &Server, client: &mut ClientState, id: usize) {
    let name = crate::commands::table::get().full_name(id);
    if name == "config|set" {
        // tracking-table-max-keys may have shrunk.
        DIRTY.with(|d| d.set(true));
    }
    deliver(server, Some(&mut *client));
    if !name.starts_with("client|") {
        client.ext.tracking.caching = false;
    }
}
