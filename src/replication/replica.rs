//! The replica side: the link to our master, as Redis's `connectWithMaster` / `syncWithMaster` /
//! `readSyncBulkPayload`, then the stream applied through the normal command path by a client flagged as the
//! master, and forwarded byte for byte to our own feed (for sub-replicas and the backlog).
//!
//! A full sync's RDB is loaded by `super::fullsync`: from the socket, or through a temp file when the replica has
//! data a broken transfer must leave untouched.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering::Relaxed, Ordering::SeqCst,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::commands::int_param;
use crate::server::clients::ClientState;
use crate::server::Server;
use crate::tls::LinkStream;
use crate::util::time::now_ms;

/// Redis's `repl_state`, as ROLE names it.
pub const CONNECT: u8 = 0;
pub const CONNECTING: u8 = 1;
pub const HANDSHAKE: u8 = 2;
pub const TRANSFER: u8 = 3;
pub const CONNECTED: u8 = 4;

pub fn state_name(s: u8) -> &'static str {
    match s {
        CONNECT => "connect",
        CONNECTING => "connecting",
        HANDSHAKE => "handshake",
        TRANSFER => "sync",
        _ => "connected",
    }
}

/// One `REPLICAOF host port`: its thread runs until `stop`.
pub struct Link {
    pub host: String,
    pub port: u16,
    pub stop: AtomicBool,
    pub state: AtomicU8,
    pub last_io_ms: AtomicI64,
    pub down_since_ms: AtomicI64,
    /// Bytes of the RDB transfer expected (-1 with EOF framing) and read so far.
    pub sync_total: AtomicI64,
    pub sync_read: AtomicI64,
    pub sync_last_io_ms: AtomicI64,
    /// The first PSYNC carries `FAILOVER` (FAILOVER's hand-over to its target).
    failover: AtomicBool,
    stream: Mutex<Option<TcpStream>>,
    /// Reads of the stream that found nothing more to apply (see [`drain`]).
    idle_reads: AtomicU64,
}

impl Link {
    pub fn new(host: String, port: u16, failover: bool) -> Link {
        Link {
            host,
            port,
            stop: AtomicBool::new(false),
            state: AtomicU8::new(CONNECT),
            last_io_ms: AtomicI64::new(now_ms()),
            down_since_ms: AtomicI64::new(now_ms()),
            sync_total: AtomicI64::new(0),
            sync_read: AtomicI64::new(0),
            sync_last_io_ms: AtomicI64::new(0),
            failover: AtomicBool::new(failover),
            stream: Mutex::new(None),
            idle_reads: AtomicU64::new(0),
        }
    }

    /// Whether the link is up as a client can tell: connected, and our master has not closed its end. The link's
    /// thread notices a close only when it next reads; a client asking right after (the suite cuts the link, then
    /// waits for `master_link_status:up` again) must not be told "up" about a link already gone, as Redis's event
    /// loop would have handled the close first.
    pub fn is_up(&self) -> bool {
        self.state.load(Relaxed) == CONNECTED && !self.peer_closed()
    }

    fn peer_closed(&self) -> bool {
        let guard = self.stream.lock();
        let Some(stream) = guard.as_ref() else {
            return false;
        };
        let mut fd = libc::pollfd {
            fd: stream.as_raw_fd(),
            events: libc::POLLRDHUP,
            revents: 0,
        };
        // SAFETY: one valid pollfd for the duration of the call; timeout 0.
        let n = unsafe { libc::poll(&mut fd, 1, 0) };
        n > 0 && fd.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
    }

    /// Ends the link from another thread (REPLICAOF, CLIENT KILL TYPE master).
    pub fn close(&self) {
        if let Some(s) = self.stream.lock().as_ref() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// The database our master's stream is in (0 when we are a master: a new replica's stream starts with SELECT).
pub fn stream_db(server: &Server) -> usize {
    if server.repl.link.lock().is_some() {
        server.repl.stream_db.load(Relaxed)
    } else {
        0
    }
}

/// Whether we are a replica whose link is up (PSYNC from sub-replicas is refused otherwise).
pub fn link_up(server: &Server) -> bool {
    server.repl.link.lock().as_ref().is_some_and(|l| l.is_up())
}

/// Starts following `host:port`, replacing any link there was.
pub fn start(server: &Server, host: String, port: u16, failover: bool) {
    stop(server);
    let link = Arc::new(Link::new(host, port, failover));
    *server.repl.link.lock() = Some(link.clone());
    server.repl.replica.store(true, Relaxed);
    server.feed.set_proxy(true);
    crate::logging::set_role(b'S');
    let Some(server) = server.arc() else {
        return;
    };
    let spawned = std::thread::Builder::new()
        .name("repl-link".into())
        .spawn(move || run(&server, &link));
    if let Err(e) = spawned {
        log::warn!("Can't start the replication link: {e}");
    }
}

/// A link that does not run yet: at start-up, while the dataset loads, we are already a replica of `host:port`
/// (INFO and ROLE say so, with the link down); `start` replaces it once the load is done.
pub fn install_idle(server: &Server, host: String, port: u16) {
    *server.repl.link.lock() = Some(Arc::new(Link::new(host, port, false)));
    server.repl.replica.store(true, Relaxed);
    crate::logging::set_role(b'S');
}

/// Before our master hands over to us (`PSYNC .. FAILOVER`): lets the link apply what the master sent before, so
/// that our offset is the one it asks to continue from. Redis's event loop reads the link's earlier input first;
/// here the two connections' threads race (a replica stopped with SIGSTOP and resumed finds both ready at once).
/// Done when the link read nothing more after applying what it had (a read timing out), when it ended (the
/// master closed it), or after `within`.
pub fn drain(server: &Server, within: Duration) {
    let Some(link) = server.repl.link.lock().clone() else {
        return;
    };
    let seen = link.idle_reads.load(SeqCst);
    let deadline = Instant::now() + within;
    while link.idle_reads.load(SeqCst) == seen
        && link.state.load(Relaxed) == CONNECTED
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Stops the link, if any (its thread ends on its own).
pub fn stop(server: &Server) {
    if let Some(old) = server.repl.link.lock().take() {
        old.stop.store(true, Relaxed);
        old.close();
    }
    server.repl.replica.store(false, Relaxed);
    server.feed.set_proxy(false);
    crate::logging::set_role(b'M');
}

fn run(server: &Server, link: &Link) {
    while !link.stop.load(Relaxed) {
        log::info!("Connecting to MASTER {}:{}", link.host, link.port);
        // A panic while applying the stream drops the link, as a broken socket would; the loop reconnects.
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| session(server, link)));
        match outcome {
            Ok(Err(e)) if !link.stop.load(Relaxed) => {
                let timed_out = matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                );
                if timed_out && link.state.load(Relaxed) == HANDSHAKE {
                    log::warn!("Timeout connecting to the MASTER...");
                } else {
                    log::warn!("Error condition on socket for SYNC: {e}");
                }
            }
            Err(_) => log::warn!("panic while applying the master's stream: link dropped"),
            _ => {}
        }
        if link.state.load(Relaxed) == CONNECTED {
            link.down_since_ms.store(now_ms(), Relaxed);
        }
        link.state.store(CONNECT, Relaxed);
        *link.stream.lock() = None;
        let until = Instant::now() + Duration::from_secs(1);
        while Instant::now() < until && !link.stop.load(Relaxed) {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The master's link (plain or TLS) with a line reader over it; commands are written through the reader's
/// inner stream (one thread reads and writes the link).
pub(super) struct Conn {
    pub(super) r: BufReader<LinkStream>,
    /// Stream bytes read together with the end of an `$EOF:` transfer.
    pub(super) leftover: Vec<u8>,
}

impl Conn {
    fn send(&mut self, args: &[&[u8]]) -> io::Result<()> {
        let mut out = Vec::new();
        crate::effects::encode_command(&mut out, args.iter());
        self.r.get_mut().write_all(&out)
    }

    /// One reply line, skipping the newlines a master sends as keepalives while it prepares the RDB.
    pub(super) fn line(&mut self) -> io::Result<String> {
        loop {
            let mut line = Vec::new();
            self.r.read_until(b'\n', &mut line)?;
            if line.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "master closed",
                ));
            }
            let text = String::from_utf8_lossy(&line).trim_end().to_string();
            if !text.is_empty() {
                return Ok(text);
            }
        }
    }

    fn command(&mut self, args: &[&[u8]]) -> io::Result<String> {
        self.send(args)?;
        self.line()
    }
}

fn session(server: &Server, link: &Link) -> io::Result<()> {
    link.state.store(CONNECTING, Relaxed);
    let timeout = Duration::from_secs(int_param(server, "repl-timeout").max(1) as u64);
    let addr = (link.host.as_str(), link.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::other("no address"))?;
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_nodelay(true)?;
    *link.stream.lock() = Some(stream.try_clone()?);
    if link.stop.load(Relaxed) {
        return Ok(());
    }
    log::info!("MASTER <-> REPLICA sync started");
    stream.set_read_timeout(Some(timeout))?;
    let link_stream = LinkStream::connect(stream, &link.host, tls_config(server)?)?;
    let mut conn = Conn {
        r: BufReader::with_capacity(1 << 16, link_stream),
        leftover: Vec::new(),
    };
    link.state.store(HANDSHAKE, Relaxed);
    handshake(server, &mut conn)?;
    let (replid, offset) = psync_args(server);
    let failover = link.failover.swap(false, Relaxed);
    let reply = if failover {
        conn.command(&[b"PSYNC", replid.as_bytes(), offset.as_bytes(), b"FAILOVER"])?
    } else {
        conn.command(&[b"PSYNC", replid.as_bytes(), offset.as_bytes()])?
    };
    if failover && !reply.starts_with("+FULLRESYNC") && !reply.starts_with("+CONTINUE") {
        // FAILOVER's target refused to take over: we are the master again (Redis's `abortFailover`).
        super::failover::abort(server, "Failover target rejected psync request");
        return Ok(());
    }
    link.last_io_ms.store(now_ms(), Relaxed);
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut words = rest.split(' ');
        let id = words.next().unwrap_or_default().to_string();
        let off: i64 = words.next().and_then(|o| o.parse().ok()).unwrap_or(0);
        log::info!("Full resync from master: {id}:{off}");
        link.state.store(TRANSFER, Relaxed);
        super::fullsync::full_sync(server, link, &mut conn, &id, off)?;
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        log::info!("Successful partial resynchronization with master.");
        continued(server, rest.trim());
    } else {
        return Err(io::Error::other(format!(
            "Unexpected reply to PSYNC from master: {reply}"
        )));
    }
    link.state.store(CONNECTED, Relaxed);
    log::info!("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization or finished a full sync.");
    stream_loop(server, link, conn)
}

/// `tls-replication yes`: the TLS client configuration (Redis's log line and no link when it cannot be built).
fn tls_config(server: &Server) -> io::Result<Option<Arc<rustls::ClientConfig>>> {
    if server.config.get("tls-replication").as_deref() != Some("yes") {
        return Ok(None);
    }
    crate::tls::client_config(&server.config)
        .map(Some)
        .map_err(io::Error::other)
}

/// PING, AUTH, REPLCONF listening-port / ip-address / capa, as Redis's `syncWithMaster`.
fn handshake(server: &Server, conn: &mut Conn) -> io::Result<()> {
    let pong = conn.command(&[b"PING"])?;
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(io::Error::other(format!(
            "Error reply to PING from master: '{pong}'"
        )));
    }
    let pass = server.config.get("masterauth").unwrap_or_default();
    if !pass.is_empty() {
        let user = server.config.get("masteruser").unwrap_or_default();
        let reply = if user.is_empty() {
            conn.command(&[b"AUTH", pass.as_bytes()])?
        } else {
            conn.command(&[b"AUTH", user.as_bytes(), pass.as_bytes()])?
        };
        if reply.starts_with('-') {
            return Err(io::Error::other(format!(
                "Unable to AUTH to MASTER: {reply}"
            )));
        }
    }
    let announced = int_param(server, "replica-announce-port");
    let port = if announced > 0 {
        announced
    } else {
        i64::from(server.config.port())
    };
    conn.command(&[b"REPLCONF", b"listening-port", port.to_string().as_bytes()])?;
    let ip = server.config.get("replica-announce-ip").unwrap_or_default();
    if !ip.is_empty() {
        conn.command(&[b"REPLCONF", b"ip-address", ip.as_bytes()])?;
    }
    conn.command(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])?;
    Ok(())
}

/// What we ask PSYNC for: our history and the next byte we lack, or `? -1` with none.
fn psync_args(server: &Server) -> (String, String) {
    let st = server.repl.state();
    match st.backlog_from {
        Some(_) => {
            let off = server.feed.offset() as i64 + st.shift;
            (st.replid.clone(), (off + 1).to_string())
        }
        None => ("?".into(), "-1".into()),
    }
}

/// `+CONTINUE <replid>`: a new ID means our master was promoted; our old one stays valid up to here (replid2).
fn continued(server: &Server, new_id: &str) {
    let mut st = server.repl.state();
    if !new_id.is_empty() && new_id != st.replid {
        let off = server.feed.offset() as i64 + st.shift;
        st.replid2 = std::mem::replace(&mut st.replid, new_id.to_string());
        st.second_offset = off + 1;
        log::info!("Master replication ID changed to {new_id}");
        drop(st);
        disconnect_replicas(server);
    }
}

/// Our own replicas follow a history that just changed: they reconnect and ask again.
pub fn disconnect_replicas(server: &Server) {
    for r in server.repl.attached() {
        r.client.kill();
    }
}

/// Applies the master's stream until the link breaks, ACKing once a second.
fn stream_loop(server: &Server, link: &Link, conn: Conn) -> io::Result<()> {
    let Conn { mut r, leftover } = conn;
    let tcp = r.get_ref().tcp();
    let (peer, local) = (tcp.peer_addr()?, tcp.local_addr()?);
    let info = server
        .clients
        .register(tcp.try_clone()?, peer, local, tcp.as_raw_fd());
    info.repl_kind.store(2, Relaxed);
    // Our master's stream is never input other clients' order depends on (`server::fence`).
    server.clients.set_watched(&info, false);
    let mut client = ClientState::new(info.clone());
    client.ext.repl.is_master = true;
    client.select(server.repl.stream_db.load(Relaxed));
    let result = apply_stream(server, link, &mut r, &mut client, leftover);
    // A transaction cut by the link is dropped; its bytes were never counted (see `apply_frames`).
    crate::commands::transaction::discard_transaction(server, &mut client);
    server.repl.stream_db.store(client.db, Relaxed);
    server.clients.unregister(info.id);
    result
}

fn apply_stream(
    server: &Server,
    link: &Link,
    r: &mut BufReader<LinkStream>,
    client: &mut ClientState,
    mut pending: Vec<u8>,
) -> io::Result<()> {
    r.get_ref()
        .tcp()
        .set_read_timeout(Some(Duration::from_millis(100)))?;
    let timeout_ms = int_param(server, "repl-timeout").max(1) * 1000;
    pending.extend_from_slice(r.buffer());
    let buffered = r.buffer().len();
    r.consume(buffered);
    let mut buf = vec![0u8; 1 << 16];
    let mut held = Vec::new();
    let mut last_ack = Instant::now() - Duration::from_secs(2);
    loop {
        if link.stop.load(Relaxed) || client.info.killed.load(Relaxed) {
            return Ok(());
        }
        if crate::ops::pause::sleep_through() {
            // As Redis's replica after DEBUG SLEEP: what the master sent meanwhile is read before the timeout
            // is judged.
            link.last_io_ms.store(now_ms(), Relaxed);
        }
        let used = super::apply::apply_frames(server, client, r.get_mut(), &pending, &mut held)?;
        pending.drain(..used);
        if last_ack.elapsed() >= Duration::from_secs(1) {
            super::apply::send_ack(server, r.get_mut())?;
            last_ack = Instant::now();
        }
        match r.get_mut().read(&mut buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "master closed",
                ))
            }
            Ok(n) => {
                pending.extend_from_slice(&buf[..n]);
                link.last_io_ms.store(now_ms(), Relaxed);
            }
            // EINTR (a SIGSTOP/SIGCONT, a debugger) is no error: read again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                // Everything read before this read was applied at the top of the loop.
                link.idle_reads.fetch_add(1, SeqCst);
                if now_ms() - link.last_io_ms.load(Relaxed) > timeout_ms {
                    log::warn!("MASTER timeout: no data nor PING received...");
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}
