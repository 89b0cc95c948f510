//! Accepting connections and handing each to a thread of a bounded, growing pool.
//!
//! The pool starts small and doubles when every thread is busy, up to maxclients. It never shrinks: the
//! threadpool crate retires a worker only while the pool is fully busy, so lowering its size and growing it again
//! would spawn threads beside idle ones. An idle thread costs its touched stack pages (tens of KB), so a pool
//! sized for the last burst is cheap to keep. A housekeeping thread closes clients idle longer than `timeout`.

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use threadpool::ThreadPool;

use super::{connection, stats, Server};

const MIN_THREADS: usize = 8;
/// Connection threads only parse, run handlers and encode: a small stack lets thousands of clients fit.
const THREAD_STACK: usize = 256 * 1024;

/// Binds every `bind` address, then serves until the process is shut down.
pub fn run(server: Arc<Server>) -> io::Result<()> {
    let port = server.config.port();
    let mut listeners = Vec::new();
    for addr in server.config.bind() {
        let addr = addr.trim_start_matches('-');
        let listener = TcpListener::bind((addr, port)).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("Could not create server TCP listening socket {addr}:{port}: {e}"),
            )
        })?;
        listeners.push(listener);
    }
    if listeners.is_empty() {
        return Err(io::Error::other("no address to listen on"));
    }
    let pool = Arc::new(Mutex::new(
        threadpool::Builder::new()
            .num_threads(MIN_THREADS)
            .thread_name("ferredis-conn".into())
            .thread_stack_size(THREAD_STACK)
            .build(),
    ));
    crate::db::expiry::spawn(server.clone());
    spawn_housekeeping(server.clone());
    install_signal_handlers(server.clone());
    log::info!(
        "ferredis {} ready to accept connections on {} port {port} (pid {}, maxclients {})",
        env!("CARGO_PKG_VERSION"),
        server.config.bind().join(" "),
        std::process::id(),
        server.config.maxclients()
    );
    let mut handles = Vec::new();
    let last = listeners.pop();
    for listener in listeners {
        let (server, pool) = (server.clone(), pool.clone());
        handles.push(std::thread::spawn(move || {
            accept_loop(listener, server, pool)
        }));
    }
    if let Some(listener) = last {
        accept_loop(listener, server, pool);
    }
    Ok(())
}

fn accept_loop(listener: TcpListener, server: Arc<Server>, pool: Arc<Mutex<ThreadPool>>) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => accept(stream, &server, &pool),
            Err(e) => {
                log::warn!("Accepting client connection: {e}");
                // Out of descriptors and the like: do not spin.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

fn accept(mut stream: TcpStream, server: &Arc<Server>, pool: &Mutex<ThreadPool>) {
    stats::global().total_connections.fetch_add(1, Relaxed);
    let _ = stream.set_nodelay(true);
    if server.clients.count() >= server.config.maxclients() {
        stats::global().rejected_connections.fetch_add(1, Relaxed);
        log::warn!("Error registering fd event for the new client: max number of clients reached");
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n");
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
    let mut pool = pool.lock();
    if pool.active_count() + pool.queued_count() >= pool.max_count() {
        let current = pool.max_count();
        let grown = (current * 2)
            .min(server.config.maxclients() + MIN_THREADS)
            .max(current);
        pool.set_num_threads(grown);
    }
    let server = server.clone();
    pool.execute(move || connection::serve(server, stream, info));
}

/// Once a second: close clients idle longer than `timeout`.
fn spawn_housekeeping(server: Arc<Server>) {
    let spawned = std::thread::Builder::new()
        .name("ferredis-cron".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_secs(1));
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

fn install_signal_handlers(server: Arc<Server>) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    match signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        Ok(mut signals) => {
            std::thread::spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
                    log::warn!("Received {name} scheduling shutdown...");
                    server.shutdown(name);
                }
            });
        }
        Err(e) => log::warn!("could not install signal handlers: {e}"),
    }
}
