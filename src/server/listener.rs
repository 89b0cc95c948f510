//! Accepting connections and handing each to a thread of a bounded, growing pool.
//!
//! The pool starts small and doubles when every thread is busy, up to maxclients. It never shrinks: the
//! threadpool crate retires a worker only while the pool is fully busy, so lowering its size and growing it again
//! would spawn threads beside idle ones. An idle thread costs its touched stack pages (tens of KB), so a pool
//! sized for the last burst is cheap to keep. A housekeeping thread closes clients idle longer than `timeout`.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::os::fd::AsRawFd;
use std::sync::atomic::{
    AtomicU64,
    Ordering::{Relaxed, SeqCst},
};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use parking_lot::Mutex;
use threadpool::ThreadPool;

use super::stream::Stream;
use super::{connection, stats, Server};

const MIN_THREADS: usize = 8;
/// Connection threads only parse, run handlers and encode: a small stack lets thousands of clients fit.
const THREAD_STACK: usize = 256 * 1024;

/// The listening sockets of the moment. CONFIG SET port / bind open the new sockets first (an address already
/// listened on keeps its socket), then retire the old accept loops: each loop serves one generation and leaves
/// after the first connection it accepts under a newer one (a connection of our own wakes it from `accept`).
#[derive(Default)]
pub struct Listeners {
    generation: AtomicU64,
    /// Clones of the current sockets, to reuse on a rebind.
    sockets: Mutex<Vec<TcpListener>>,
    pool: OnceLock<Arc<Mutex<ThreadPool>>>,
    /// Connections taken off a listen queue and not registered yet (of the unix socket too).
    pub(super) accepting: std::sync::atomic::AtomicUsize,
    /// The `unixsocket` listener's descriptor, if any (it lives as long as the process).
    pub(super) unix_fd: OnceLock<i32>,
    /// The same for the `tls-port` sockets (`rebind_tls`).
    tls_generation: AtomicU64,
    tls_sockets: Mutex<Vec<TcpListener>>,
}

impl Listeners {
    /// Whether a connection waits in a listen queue or is being accepted, not registered yet (for
    /// `super::fence`).
    ///
    /// The queues first, then the count: an accept loop counts a connection before taking it off its queue, so
    /// one that left the queue before the look is still counted after it unless it is registered. The other
    /// order misses a connection taken between the two looks.
    pub fn pending_accept(&self) -> bool {
        self.queued() || self.accepting.load(SeqCst) > 0
    }

    /// Whether a connection waits in a listen queue (of the TCP ports or the unix socket).
    fn queued(&self) -> bool {
        // Every write's first look in a batch comes here (`fence::before_write`): no allocation for the usual
        // few sockets.
        let sockets = self.sockets.lock();
        let unix = self.unix_fd.get().copied();
        let mut fds: smallvec::SmallVec<[libc::pollfd; 4]> = sockets
            .iter()
            .map(|l| l.as_raw_fd())
            .chain(unix)
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // SAFETY: a valid array of `fds.len()` pollfd structs for the duration of the call (the lock keeps the
        // TCP descriptors open; the unix socket's is never closed); timeout 0.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, 0) > 0 }
    }
}

/// Binds one address. IPv6 sockets are IPv6-only, as Redis makes them, so `* -::*` can hold both the IPv4 and
/// the IPv6 wildcard on one port (a dual-stack `::` would collide with `0.0.0.0`).
fn bind_one(host: &str, port: u16) -> io::Result<TcpListener> {
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::other("no address"))?;
    let SocketAddr::V6(v6) = addr else {
        return TcpListener::bind(addr);
    };
    // SAFETY: plain socket calls on a descriptor this function owns until it hands it to `TcpListener`; every
    // pointer passed points at a live local of the size given.
    unsafe {
        let fd = libc::socket(libc::AF_INET6, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let listener = <TcpListener as std::os::fd::FromRawFd>::from_raw_fd(fd);
        let one: libc::c_int = 1;
        let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        let opt = |level, name| {
            libc::setsockopt(fd, level, name, (&one as *const libc::c_int).cast(), size)
        };
        if opt(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY) < 0
            || opt(libc::SOL_SOCKET, libc::SO_REUSEADDR) < 0
        {
            return Err(io::Error::last_os_error());
        }
        let mut sa: libc::sockaddr_in6 = std::mem::zeroed();
        sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
        sa.sin6_port = port.to_be();
        sa.sin6_addr.s6_addr = v6.ip().octets();
        sa.sin6_scope_id = v6.scope_id();
        let len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        if libc::bind(fd, (&sa as *const libc::sockaddr_in6).cast(), len) < 0
            || libc::listen(fd, 511) < 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(listener)
    }
}

/// Binds `port` on each of `binds`. An address written with a leading `-` is optional, as in Redis: if it
/// cannot be bound (no IPv6, say) it is skipped.
fn bind_all(binds: &[String], port: u16, current: &[TcpListener]) -> io::Result<Vec<TcpListener>> {
    let mut out = Vec::new();
    for addr in binds {
        let (optional, host) = match addr.strip_prefix('-') {
            Some(host) => (true, host),
            None => (false, addr.as_str()),
        };
        // Redis's wildcards: `*` is every IPv4 address, `::*` every IPv6 one.
        let host = match host {
            "*" => "0.0.0.0",
            "::*" => "::",
            other => other,
        };
        let reused = (host, port).to_socket_addrs().ok().and_then(|mut wanted| {
            wanted.find_map(|w| {
                current
                    .iter()
                    .find(|l| l.local_addr().is_ok_and(|a| a == w))
                    .and_then(|l| l.try_clone().ok())
            })
        });
        if let Some(listener) = reused {
            out.push(listener);
            continue;
        }
        match bind_one(host, port) {
            Ok(listener) => out.push(listener),
            Err(e) if optional => log::warn!("Skipping optional address {host}:{port}: {e}"),
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("Could not create server TCP listening socket {host}:{port}: {e}"),
                ))
            }
        }
    }
    if out.is_empty() {
        return Err(io::Error::other(format!(
            "Failed listening on port {port}: no address to listen on"
        )));
    }
    Ok(out)
}

/// Starts one accept thread per listener for a new generation and retires the previous one (of the plain or
/// the TLS listeners).
fn serve_listeners(server: &Arc<Server>, listeners: Vec<TcpListener>) {
    serve_listeners_of(server, listeners, false)
}

fn serve_listeners_of(server: &Arc<Server>, listeners: Vec<TcpListener>, tls: bool) {
    let l = &server.listeners;
    let (generations, sockets) = match tls {
        false => (&l.generation, &l.sockets),
        true => (&l.tls_generation, &l.tls_sockets),
    };
    let generation = generations.fetch_add(1, Relaxed) + 1;
    let clones: Vec<TcpListener> = listeners
        .iter()
        .filter_map(|x| x.try_clone().ok())
        .collect();
    let old: Vec<SocketAddr> = std::mem::replace(&mut *sockets.lock(), clones)
        .iter()
        .filter_map(|x| x.local_addr().ok())
        .collect();
    for listener in listeners {
        let server = server.clone();
        let spawned = std::thread::Builder::new()
            .name("ferredis-accept".into())
            .spawn(move || accept_loop(listener, server, generation, tls));
        if let Err(e) = spawned {
            log::warn!("could not start an accept thread: {e}");
        }
    }
    for mut addr in old {
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        let _ = TcpStream::connect_timeout(&addr, Duration::from_millis(200));
    }
}

/// CONFIG SET port / bind: listen on the new addresses, and only then stop listening on the old ones. On error
/// nothing changes. A new address that overlaps one listened on (`127.0.0.1` under the default `*`) cannot be
/// bound beside it: then, as Redis does, the old sockets close first, and come back if the new ones fail.
pub fn rebind(server: &Server, binds: &[String], port: u16) -> io::Result<()> {
    let server = server
        .arc()
        .ok_or_else(|| io::Error::other("server is shutting down"))?;
    let current = clones(&server.listeners.sockets);
    let listeners = match bind_all(binds, port, &current) {
        Ok(listeners) => listeners,
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
            drop(current);
            let (old_binds, old_port) = (server.config.bind(), server.config.port());
            serve_listeners(&server, Vec::new());
            match bind_while_closing(binds, port) {
                Ok(listeners) => listeners,
                Err(e) => {
                    serve_listeners(&server, bind_while_closing(&old_binds, old_port)?);
                    return Err(e);
                }
            }
        }
        Err(e) => return Err(e),
    };
    serve_listeners(&server, listeners);
    log::info!("Listening on {} port {port}", binds.join(" "));
    Ok(())
}

/// CONFIG SET tls-port (0: stop listening), and start-up: the TLS listeners, apart from the plain ones.
pub fn rebind_tls(server: &Server, binds: &[String], port: u16) -> io::Result<()> {
    let server = server
        .arc()
        .ok_or_else(|| io::Error::other("server is shutting down"))?;
    if port == 0 {
        serve_listeners_of(&server, Vec::new(), true);
        return Ok(());
    }
    let current = clones(&server.listeners.tls_sockets);
    let listeners = bind_all(binds, port, &current)?;
    serve_listeners_of(&server, listeners, true);
    Ok(())
}

/// Handles on the sockets of one set, to reuse those a rebind keeps.
fn clones(sockets: &Mutex<Vec<TcpListener>>) -> Vec<TcpListener> {
    sockets
        .lock()
        .iter()
        .filter_map(|x| x.try_clone().ok())
        .collect()
}

/// Binds while retired accept loops are still dropping their sockets: retries briefly on "in use".
fn bind_while_closing(binds: &[String], port: u16) -> io::Result<Vec<TcpListener>> {
    let mut tries = 0;
    loop {
        match bind_all(binds, port, &[]) {
            Err(e) if e.kind() == io::ErrorKind::AddrInUse && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            result => return result,
        }
    }
}

/// Binds every `bind` address, then serves until the process is shut down.
pub fn run(server: Arc<Server>) -> io::Result<()> {
    // Handlers first: a client may connect (and a supervisor signal) as soon as the sockets listen.
    install_signal_handlers(server.clone());
    let port = server.config.port();
    let listeners = bind_all(&server.config.bind(), port, &[])?;
    let pool = Arc::new(Mutex::new(
        threadpool::Builder::new()
            .num_threads(MIN_THREADS)
            .thread_name("ferredis-conn".into())
            .thread_stack_size(THREAD_STACK)
            .build(),
    ));
    warm(&pool.lock(), MIN_THREADS);
    let _ = server.listeners.pool.set(pool);
    crate::db::expiry::spawn(server.clone());
    crate::memory::overhead::mark_startup();
    spawn_housekeeping(server.clone());
    super::bufmodel::spawn_cron(server.clone());
    crate::logging::announce_mode(&server.config, port);
    log::warn!("Server initialized");
    // TLS is set up first (reading certificates takes a while), so the -LOADING window below is only the load.
    crate::tls::start(&server)?;
    // Clients may connect while the dataset loads; until it is loaded they are answered -LOADING.
    let loading = crate::persist::startup::anything_to_load(&server);
    server
        .persist
        .loading
        .store(loading, std::sync::atomic::Ordering::Relaxed);
    serve_listeners(&server, listeners);
    let unix = super::unix::start(&server)?;
    crate::replication::configure_at_startup(&server);
    crate::persist::load_at_startup(&server).map_err(io::Error::other)?;
    crate::persist::save::spawn_cron(server.clone());
    crate::persist::aof::rewrite::spawn_cron(server.clone());
    crate::replication::start(&server);
    log::info!("Ready to accept connections");
    if let Some(path) = unix {
        log::info!("The server is now ready to accept connections at {path}");
    }
    // The accept threads, signals and SHUTDOWN do the rest; this thread only keeps the process alive.
    loop {
        std::thread::park();
    }
}

/// The connection thread pool (set once `run` has started).
pub(super) fn pool(server: &Server) -> Option<Arc<Mutex<ThreadPool>>> {
    server.listeners.pool.get().cloned()
}

fn accept_loop(listener: TcpListener, server: Arc<Server>, generation: u64, tls: bool) {
    let generations = match tls {
        false => &server.listeners.generation,
        true => &server.listeners.tls_generation,
    };
    let Some(pool) = server.listeners.pool.get().cloned() else {
        return;
    };
    // Polled, then accepted without blocking: another loop sharing the socket may take the connection first.
    if let Err(e) = listener.set_nonblocking(true) {
        log::warn!("Listening socket: {e}");
    }
    loop {
        // Counted as accepting from the moment a connection waits until it is registered, so a fence never
        // misses it in between (`Listeners::pending_accept`).
        wait_readable(&listener);
        server.listeners.accepting.fetch_add(1, SeqCst);
        let stream = listener.accept().map(|(s, _)| s);
        // A socket kept across a rebind is shared with the new generation's loop, so what this loop accepts
        // after being retired is still a real client: serve it, then leave.
        let retired = generations.load(Relaxed) != generation;
        match stream {
            Ok(stream) => accept(stream, &server, &pool, tls),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => {
                log::warn!("Accepting client connection: {e}");
                // Out of descriptors and the like: do not spin.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        server.listeners.accepting.fetch_sub(1, SeqCst);
        if retired {
            return;
        }
    }
}

/// Blocks until a connection waits on `listener` (or it fails: `accept` then reports why).
pub(super) fn wait_readable(listener: &impl AsRawFd) {
    let mut fd = libc::pollfd {
        fd: listener.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    unsafe { libc::poll(&mut fd, 1, -1) };
}

fn accept(mut stream: TcpStream, server: &Arc<Server>, pool: &Mutex<ThreadPool>, tls: bool) {
    let _ = stream.set_nodelay(true);
    if !admit(server, &mut stream, tls) {
        return;
    }
    if crate::ops::protected::refuse(server, &mut stream) {
        return;
    }
    let (Ok(addr), Ok(laddr), Ok(clone)) =
        (stream.peer_addr(), stream.local_addr(), stream.try_clone())
    else {
        return;
    };
    let info = server
        .clients
        .register(clone, addr, laddr, stream.as_raw_fd());
    log::debug!("Accepted {addr} (id={})", info.id);
    hand_to_pool(server, pool, stream, info, tls);
}

/// A connection just accepted (TCP or unix socket): counted, made blocking, and refused with Redis's error when
/// maxclients are connected.
pub(super) fn admit(server: &Server, stream: &mut TcpStream, tls: bool) -> bool {
    stats::global().total_connections.fetch_add(1, Relaxed);
    // The listening socket is non-blocking; the connection's own reads block.
    let _ = stream.set_nonblocking(false);
    super::fence::enable_stamps(stream);
    if server.clients.count() >= server.config.maxclients() {
        stats::global().rejected_connections.fetch_add(1, Relaxed);
        log::warn!("Error registering fd event for the new client: max number of clients reached");
        if !tls {
            let _ = stream.write_all(b"-ERR max number of clients reached\r\n");
        }
        return false;
    }
    true
}

/// Has `count` idle threads of the pool take their statistics blocks now (`stats::with_local`), each its own
/// (they wait for each other), rather than the first time each serves a client: otherwise `used_memory` moves
/// by a block (12.6 kB) depending on which thread a connection lands on (the suite's obuf-limits test compares
/// `used_memory` before and after a client came and went, within 10 kB).
fn warm(pool: &ThreadPool, count: usize) {
    let all_in = Arc::new(std::sync::Barrier::new(count));
    for _ in 0..count {
        let all_in = all_in.clone();
        pool.execute(move || {
            stats::with_local(|_| ());
            all_in.wait();
        });
    }
}

/// The connection's thread from the pool (grown when every thread is busy): the TLS handshake if any, then the
/// connection loop. `stream` may hold a unix socket's descriptor (`super::unix`): only socket calls are made on
/// it.
pub(super) fn hand_to_pool(
    server: &Arc<Server>,
    pool: &Mutex<ThreadPool>,
    stream: TcpStream,
    info: Arc<super::clients::ClientInfo>,
    tls: bool,
) {
    let mut pool = pool.lock();
    if pool.active_count() + pool.queued_count() >= pool.max_count() {
        let current = pool.max_count();
        let grown = (current * 2)
            .min(server.config.maxclients() + MIN_THREADS)
            .max(current);
        pool.set_num_threads(grown);
        warm(&pool, grown - current);
    }
    let server = server.clone();
    pool.execute(move || {
        let stream = match tls {
            false => Stream::plain(stream),
            true => match tls_handshake(&server, stream) {
                Ok(tls) => Stream::tls(tls),
                Err(e) => {
                    log::debug!("Error accepting a client connection: {e} (id={})", info.id);
                    server.clients.unregister(info.id);
                    info.input.closed();
                    return;
                }
            },
        };
        connection::serve(server, stream, info)
    });
}

/// The server side of a TLS handshake, with the configuration of the moment.
fn tls_handshake(server: &Server, stream: TcpStream) -> io::Result<crate::tls::TlsStream> {
    let config = server
        .tls
        .current()
        .ok_or_else(|| io::Error::other("TLS is not configured"))?;
    crate::tls::handshake(stream, config, crate::tls::handshake_limit(&server.config))
}

/// Once a second: sample the statistics INFO shows as rates and peaks, close clients idle longer than `timeout`.
fn spawn_housekeeping(server: Arc<Server>) {
    let spawned = std::thread::Builder::new()
        .name("ferredis-cron".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
            stats::sample();
            let timeout = server.config.timeout_secs() as i64;
            if timeout > 0 {
                for c in server.clients.all() {
                    // Redis never times out blocked clients here (their own timeout applies) nor subscribers.
                    let subscribed = c.subscriptions.load(Relaxed)
                        + c.psubscriptions.load(Relaxed)
                        + c.ssubscriptions.load(Relaxed)
                        > 0;
                    let exempt = c.blocked.load(Relaxed) || subscribed;
                    if !exempt && c.idle_secs() > timeout {
                        log::debug!("Closing idle client id={}", c.id);
                        c.kill();
                    }
                }
            }
        });
    if let Err(e) = spawned {
        log::warn!("could not start the housekeeping thread: {e}");
    }
}

/// SIGINT/SIGTERM shut down as `shutdown-on-sigint` / `shutdown-on-sigterm` say: saving first where Redis would
/// (save points configured, or the `save` flag), and, like Redis after a failed save, logging it and keeping
/// running unless the flags say `force`.
fn install_signal_handlers(server: Arc<Server>) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                for sig in signals.forever() {
                    let (name, param) = if sig == SIGINT {
                        ("SIGINT", "shutdown-on-sigint")
                    } else {
                        ("SIGTERM", "shutdown-on-sigterm")
                    };
                    log::warn!("Received {name} scheduling shutdown...");
                    let flags = server.config.get(param).unwrap_or_default();
                    let has = |f: &str| flags.split(' ').any(|x| x == f);
                    let wanted = crate::persist::save::ShutdownFlags {
                        save: has("save"),
                        nosave: has("nosave"),
                        force: has("force"),
                    };
                    if crate::persist::save::prepare_shutdown(&server, wanted).is_err() {
                        log::warn!("{name} received but errors trying to shut down the server, check the logs for more information");
                        continue;
                    }
                    server.shutdown();
                }
            });
        }
        Err(e) => log::warn!("could not install signal handlers: {e}"),
    }
}
