//! Arrival order across connections, where another client can tell.
//!
//! Redis reads every socket from one event loop, so a command that reached the server before another one on a
//! different connection also runs before it. Here each connection has its own thread, and on a loaded machine the
//! thread woken second can run first: a BRPOPLPUSH sent second blocks (and is served) ahead of one sent first, a
//! PUBLISH counts a subscriber whose UNSUBSCRIBE had already arrived. Redis's own test suite relies on the order.
//!
//! A fence restores it where it shows. The kernel stamps every segment it receives (`SO_TIMESTAMPNS`), and each
//! connection reads through [`StampedRead`], publishing in its [`InputState`] when the batch it runs arrived.
//! Before it runs, a fenced command waits until each chosen other client has run the input that arrived before
//! its own: the batch its thread is running if that arrived earlier, and what still sits in its socket if that
//! arrived earlier (one `poll` over all their descriptors finds those, a peek reads the stamp). Arrival times
//! order the clients totally, so two fences never wait on each other; the wait is bounded by [`PATIENCE`] all the
//! same, so a client that never finishes cannot stall others for long.
//!
//! Fences are taken before their locks by blocking commands and by writes (against the watched clients: those
//! setting up, whose last command touched no key; none, and one atomic load, on a busy server whose clients all
//! work with keys), and by PUBLISH (against the subscribers only).

use std::cell::Cell;
use std::io::{self, Read};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::clients::{ClientInfo, ClientState};
use super::Server;
use crate::commands::Command;

/// The longest a fence waits for the clients it found with earlier input. Generous: a client that has input
/// finishes it unless the machine is starved, and then waiting is what keeps the order (100 ms was seen to run
/// out with a load of 20 on 2 cores).
const PATIENCE: Duration = Duration::from_secs(1);

/// Linux's `SO_TIMESTAMPNS` (`SO_TIMESTAMPNS_OLD`, a `timespec` control message); the libc crate lacks it on Linux.
const SO_TIMESTAMPNS: libc::c_int = 35;

/// A connection's progress through its input, as other threads see it.
#[derive(Default)]
pub struct InputState {
    /// Set as soon as a read returns data, cleared when every complete request of it has run.
    busy: AtomicBool,
    /// When the batch being run reached the kernel (ns since the epoch; 0 if unknown).
    arrival_ns: AtomicI64,
    /// Batches finished: a fence waits for this to pass what was pending when it looked.
    batches: AtomicU64,
    /// The connection is cleaned up: off every channel and out of the registry. Not `killed`, which is set
    /// before that: a PUBLISH that stopped waiting then could still count a subscriber that closed first.
    closed: AtomicBool,
}

impl InputState {
    /// The connection thread ran every complete request it had read (or went to sleep in a blocking command).
    #[inline]
    pub fn finished(&self) {
        self.batches.fetch_add(1, SeqCst);
        self.busy.store(false, SeqCst);
        if WAITING.load(SeqCst) > 0 {
            progress();
        }
    }

    /// The connection is gone and cleaned up: fences stop waiting for it.
    pub fn closed(&self) {
        self.closed.store(true, SeqCst);
        self.finished();
    }

    /// Back from a blocking command's sleep: the rest of the batch runs now.
    #[inline]
    pub fn resumed(&self) {
        self.busy.store(true, SeqCst);
    }
}

/// Asks the kernel to stamp what `stream` receives.
pub fn enable_stamps(stream: &TcpStream) {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket and a pointer to an int that outlives the call, with its size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

/// The connection's socket as its reader reads it: each read marks the client busy with input of that arrival.
pub struct StampedRead<'a> {
    pub stream: &'a TcpStream,
    pub input: &'a InputState,
}

impl Read for StampedRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let (n, stamp) = recv_stamped(self.stream, buf, 0)?;
        if n > 0 {
            self.input.arrival_ns.store(stamp.unwrap_or(0), SeqCst);
            self.input.busy.store(true, SeqCst);
        }
        Ok(n)
    }
}

/// For the clients fences wait for (subscribers, new connections, those whose last command was blocking):
/// waits for input without taking it, then marks the client busy with its arrival stamp, so the input is never
/// out of the socket without the mark (between a plain read and the mark, a fence would see neither). The
/// read that follows takes the input as usual. Other clients skip this second system call.
pub fn announce(stream: &TcpStream, input: &InputState) -> io::Result<()> {
    let mut byte = [0u8; 1];
    let (n, stamp) = recv_stamped(stream, &mut byte, libc::MSG_PEEK)?;
    if n > 0 {
        input.arrival_ns.store(stamp.unwrap_or(0), SeqCst);
        input.busy.store(true, SeqCst);
    }
    Ok(())
}

/// Whether fences may wait for this client: a new connection, or one whose last command touched no key (SELECT,
/// PING, CLIENT SETNAME, (UN)SUBSCRIBE: a client setting up, as the suite's deferring clients do before their
/// blocking command). Clients working with keys are left alone, which keeps a BLPOP queue fast: its consumers
/// and producers never wait for each other (waiting for earlier BLPOPs made 20 consumers take turns, 20 times
/// slower on a loaded machine). See [`announce`].
pub fn watched(info: &ClientInfo) -> bool {
    info.watched.load(SeqCst) && info.repl_kind.load(SeqCst) == 0
}

/// Whether a client whose last command was `cmd` is [`watched`]. Replication links (their input is ACKs and the
/// replication stream, never a command another client's order depends on) and the AOF loader never are.
fn watched_after(client: &ClientState, cmd: &Command) -> bool {
    !client.ext.must_obey
        && client.info.repl_kind.load(SeqCst) == 0
        && !crate::commands::keyspec::has_keys(cmd)
}

/// After each command, on the client's own thread: a command that touched no key makes the client [`watched`]
/// at once. The other way waits for [`batch_end`]: what is left of the batch (the reply, the output limit check
/// that may close the client) must still hold up fences that found the client watched.
pub fn note_command(server: &Server, client: &ClientState, cmd: &Command) {
    if watched_after(client, cmd) {
        server.clients.set_watched(&client.info, true);
    }
}

/// At the end of a batch, on the client's own thread: whether it stays [`watched`], after its last command.
pub fn batch_end(server: &Server, client: &ClientState) {
    let last = client.info.last_cmd.load(SeqCst);
    if last == u32::MAX {
        return;
    }
    let cmd = crate::commands::table::get().get(last as usize);
    server
        .clients
        .set_watched(&client.info, watched_after(client, cmd));
}

/// `recvmsg` with the arrival stamp of what it read (of the last segment), retried on EINTR.
fn recv_stamped(
    stream: &TcpStream,
    buf: &mut [u8],
    flags: libc::c_int,
) -> io::Result<(usize, Option<i64>)> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // Room for one control message holding a timespec, aligned for cmsghdr.
    let mut control = [0u64; 8];
    loop {
        // SAFETY: msghdr is plain data; zeroed is a valid "no name, no control" value, filled in below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: msg points at live buffers (iov over `buf`, `control`) for the duration of the call.
        let n = unsafe { libc::recvmsg(stream.as_raw_fd(), &mut msg, flags) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok((n as usize, stamp_of(&msg)));
    }
}

/// The `SCM_TIMESTAMPNS` control message of a received `msg`, in ns.
fn stamp_of(msg: &libc::msghdr) -> Option<i64> {
    // SAFETY: walks the control buffer the kernel filled, with the libc CMSG helpers, reading only within it.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == SO_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                return Some(ts.tv_sec * 1_000_000_000 + ts.tv_nsec);
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}

/// When the oldest input waiting in a socket arrived, if any does (an end of stream counts as arrived long ago).
fn peek_arrival(stream: &TcpStream) -> Option<i64> {
    let mut byte = [0u8; 1];
    match recv_stamped(stream, &mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT) {
        Ok((0, _)) => Some(0),
        Ok((_, stamp)) => Some(stamp.unwrap_or(0)),
        Err(_) => None,
    }
}

/// Before a blocking command: the [`watched`] clients (connections still waiting to be accepted included) run
/// the input that arrived before this command, so blocked clients queue, and are served, in the order they
/// asked.
pub fn before_blocking(server: &Server, me: &ClientInfo) {
    wait_for_accepts(server);
    wait_for(me, server.clients.watched());
}

/// Lets the connections waiting in a listen queue be accepted and registered (as watched clients), so a fence
/// sees the input they may already hold.
fn wait_for_accepts(server: &Server) {
    let deadline = Instant::now() + PATIENCE;
    while server.listeners.pending_accept() && Instant::now() < deadline {
        pause();
    }
}

thread_local! {
    /// The (client, batch) whose writes last looked at the listen queues: once per batch is enough, as what waits
    /// there when its first write looked is all that can have arrived before the batch.
    static ACCEPTS_SEEN: Cell<(u64, u64)> = const { Cell::new((0, u64::MAX)) };
}

/// Before a write (and CLIENT UNBLOCK/KILL, which act on other clients): the [`watched`] clients run the input
/// that arrived before it, so a blocking command sent earlier is already waiting when the write wakes it, as
/// with Redis (the suite sends `XREADGROUP ... BLOCK` on one connection and SET on another without waiting).
/// One load when no other client is watched, the common case under load: clients working with keys are not.
pub fn before_write(server: &Server, me: &ClientInfo) {
    // A client that connects and sends at once (the suite's deferring clients) may not be accepted yet.
    let batch = (me.id, me.input.batches.load(SeqCst));
    if ACCEPTS_SEEN.with(|seen| seen.replace(batch)) != batch {
        wait_for_accepts(server);
    }
    let count = server.clients.watched_count();
    if count == 0 || (count == 1 && watched(me)) {
        return;
    }
    wait_for(me, server.clients.watched());
}

/// Fences waiting right now: a connection that finishes a batch wakes them only then (one load otherwise).
static WAITING: AtomicUsize = AtomicUsize::new(0);
static PROGRESS: Mutex<u64> = Mutex::new(0);
static PROGRESSED: Condvar = Condvar::new();

/// Some client finished a batch: waiting fences look again.
#[cold]
fn progress() {
    *PROGRESS.lock() += 1;
    PROGRESSED.notify_all();
}

/// Sleeps until some client finishes a batch or a short while passed (a client can also catch up by being
/// accepted, which notifies nobody), without spinning against the threads it waits for.
fn pause() {
    let mut seen = PROGRESS.lock();
    let before = *seen;
    while *seen == before {
        if PROGRESSED
            .wait_for(&mut seen, Duration::from_millis(1))
            .timed_out()
        {
            return;
        }
    }
}

/// Before PUBLISH: each subscriber's (un)subscriptions that arrived first are counted.
///
/// `receivers` (the clients this PUBLISH would reach now) are asked with a peek even when `poll` finds nothing:
/// a segment that arrives while another thread holds the socket (the subscriber's writer mid-`send`, its own
/// `recv` about to sleep) waits in the socket's backlog, which `poll` does not see, until that thread lets go; a
/// `recv` takes the socket's lock and so waits for that. Redis, one thread, is never mid-`send` when it reads.
/// The other subscribers can only change the count by subscribing, which a `poll` sees in all but that window.
pub fn before_publish(server: &Server, me: &ClientInfo, mut receivers: Vec<u64>) {
    receivers.sort_unstable();
    wait_for_peeking(
        me,
        server.clients.all().into_iter().filter(|c| c.subscribed()),
        |id| receivers.binary_search(&id).is_ok(),
    );
}

/// Before a command is refused for memory (`-OOM`): connections whose peers hung up are let go first, as Redis's
/// event loop frees a closed client, and the replies it held, before it reads a command sent after the close
/// (the suite closes clients that never read their replies and then fills the keyspace again). True if it waited
/// for any, so that the caller looks at the memory again. The rare path: a command about to be refused.
pub fn before_oom(server: &Server, me: &ClientInfo) -> bool {
    let others: Vec<Arc<ClientInfo>> = server
        .clients
        .all()
        .into_iter()
        .filter(|c| c.id != me.id && c.repl_kind.load(SeqCst) == 0)
        .collect();
    // A client that hung up itself gains nothing by waiting (and two such must not wait for each other).
    if poll_fds([me.stream().as_raw_fd()], libc::POLLRDHUP)[0] & HUNG_UP != 0 {
        return false;
    }
    let gone = hung_up(&others);
    let mut pending: Vec<Arc<ClientInfo>> = others
        .into_iter()
        .zip(gone)
        .filter_map(|(c, gone)| gone.then_some(c))
        .collect();
    let waited = !pending.is_empty();
    let deadline = Instant::now() + PATIENCE;
    let _waiting = Waiting::new();
    while !pending.is_empty() && Instant::now() < deadline {
        pause();
        pending.retain(|c| !c.input.closed.load(SeqCst));
    }
    waited
}

/// `poll` events that mean the peer closed the connection, or it failed.
const HUNG_UP: libc::c_short = libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR;

/// For each client, whether its peer closed the connection (or it failed) and its thread has not cleaned up yet.
fn hung_up(clients: &[Arc<ClientInfo>]) -> Vec<bool> {
    poll_now(clients, libc::POLLRDHUP)
        .into_iter()
        .zip(clients)
        .map(|(revents, c)| revents & HUNG_UP != 0 && !c.input.closed.load(SeqCst))
        .collect()
}

/// The `revents` of each client's socket for `events`, as they are now (no waiting); all 0 if `poll` fails.
fn poll_now(clients: &[Arc<ClientInfo>], events: libc::c_short) -> Vec<libc::c_short> {
    poll_fds(clients.iter().map(|c| c.stream().as_raw_fd()), events)
}

/// The `revents` of each descriptor for `events`, as they are now (no waiting); all 0 if `poll` fails.
fn poll_fds(fds: impl IntoIterator<Item = i32>, events: libc::c_short) -> Vec<libc::c_short> {
    let mut fds: Vec<libc::pollfd> = fds
        .into_iter()
        .map(|fd| libc::pollfd {
            fd,
            events,
            revents: 0,
        })
        .collect();
    // SAFETY: `fds` is a valid array of `fds.len()` pollfd structs for the duration of the call; timeout 0.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) };
    fds.iter()
        .map(|p| if n > 0 { p.revents } else { 0 })
        .collect()
}

/// Counts a fence in [`WAITING`] while it lives.
struct Waiting;

impl Waiting {
    fn new() -> Self {
        WAITING.fetch_add(1, SeqCst);
        Waiting
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, SeqCst);
    }
}

/// One client the fence waits for, and the batch count that means it caught up.
struct Pending {
    info: Arc<ClientInfo>,
    until: u64,
}

/// Waits until each client in `others` (but `me`) ran the input that arrived before `me`'s current batch, or
/// [`PATIENCE`] passed.
fn wait_for(me: &ClientInfo, others: impl IntoIterator<Item = Arc<ClientInfo>>) {
    wait_for_peeking(me, others, |_| false)
}

/// [`wait_for`], peeking into the sockets of the clients `peek` names whether or not `poll` finds input there.
fn wait_for_peeking(
    me: &ClientInfo,
    others: impl IntoIterator<Item = Arc<ClientInfo>>,
    peek: impl Fn(u64) -> bool,
) {
    let others: Vec<Arc<ClientInfo>> = others
        .into_iter()
        .filter(|c| c.id != me.id && c.repl_kind.load(SeqCst) == 0)
        .collect();
    if others.is_empty() {
        return;
    }
    let mine = (me.input.arrival_ns.load(SeqCst), me.id);
    let earlier = |stamp: i64, id: u64| (stamp, id) < mine;
    // The socket first, then the flag: data read in between has already marked the client busy.
    let unread = readable(&others);
    let mut pending: Vec<Pending> = others
        .into_iter()
        .zip(unread)
        .filter_map(|(info, unread)| {
            let unread_at = (unread || peek(info.id))
                .then(|| peek_arrival(info.stream()))
                .flatten();
            let unread = unread_at.is_some_and(|t| earlier(t, info.id));
            let input = &info.input;
            let busy = input.busy.load(SeqCst);
            let busy_at = input.arrival_ns.load(SeqCst);
            let running = busy && earlier(busy_at, info.id);
            // `announce` marks input busy before it is read: the unread bytes are then that same batch, and
            // waiting for a second one would last until PATIENCE ran out if the first blocks.
            let announced = busy && unread_at == Some(busy_at);
            let done = input.batches.load(SeqCst);
            let until =
                done + u64::from(running || unread) + u64::from(unread && busy && !announced);
            (until > done).then_some(Pending { info, until })
        })
        .collect();
    let deadline = Instant::now() + PATIENCE;
    let _waiting = Waiting::new();
    while !pending.is_empty() && Instant::now() < deadline {
        pause();
        pending.retain(|p| {
            p.info.input.batches.load(SeqCst) < p.until && !p.info.input.closed.load(SeqCst)
        });
    }
}

/// For each client, whether its socket holds input its thread has not read (or an end of stream).
fn readable(clients: &[Arc<ClientInfo>]) -> Vec<bool> {
    poll_now(clients, libc::POLLIN)
        .into_iter()
        .map(|revents| revents & (libc::POLLIN | libc::POLLHUP) != 0)
        .collect()
}
