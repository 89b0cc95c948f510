//! `unixsocket` / `unixsocketperm`: a unix domain socket beside the TCP ports, on its own accept thread.
//!
//! A unix connection is served by the very same connection loop as a TCP one: its descriptor is held in a
//! `TcpStream`, on which only socket calls (read, write, shutdown, poll, peek, timeouts) are ever made, so
//! everything that works on a TCP client (blocking commands, pub/sub, CLIENT KILL, output limits) works here.
//! The addresses never come from the socket: CLIENT LIST shows `addr=<path>:0 laddr=<path>:0` and flag `U`, as
//! Redis. As in Redis, the path is unlinked before binding and at shutdown, and `replicaof` cannot name it.

use std::io;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;

use super::clients::Addr;
use super::{listener, Server};

/// At start-up: listens on `unixsocket` if set; returns its path for the "ready" log line. Redis's log line
/// and an error (the server exits) if it cannot.
pub fn start(server: &Arc<Server>) -> io::Result<Option<String>> {
    let path = server.config.get("unixsocket").unwrap_or_default();
    if path.is_empty() {
        return Ok(None);
    }
    let perm = server.config.get("unixsocketperm").unwrap_or_default();
    let perm = u32::from_str_radix(&perm, 8).unwrap_or(0);
    let listener = bind(&path, perm).map_err(|e| {
        log::warn!("Failed opening Unix socket: {e}");
        e
    })?;
    let _ = server.listeners.unix_fd.set(listener.as_raw_fd());
    let server = server.clone();
    let shown: Arc<str> = Arc::from(path.as_str());
    std::thread::Builder::new()
        .name("ferredis-unix".into())
        .spawn(move || accept_loop(&listener, &server, &shown))?;
    Ok(Some(path))
}

/// Unlinks a stale socket file first (Redis does not care whether that fails), then binds and applies `perm`
/// (0: the umask's mode, as Redis leaves it).
fn bind(path: &str, perm: u32) -> io::Result<UnixListener> {
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    if perm != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm))?;
    }
    Ok(listener)
}

/// At shutdown: the socket file goes, with Redis's log line.
pub fn remove_socket_file(server: &Server) {
    let path = server.config.get("unixsocket").unwrap_or_default();
    if path.is_empty() {
        return;
    }
    log::info!("Removing the unix socket file.");
    if let Err(e) = std::fs::remove_file(&path) {
        log::warn!("Error removing the unix socket file: {e}");
    }
}

fn accept_loop(listener: &UnixListener, server: &Arc<Server>, path: &Arc<str>) {
    let Some(pool) = listener::pool(server) else {
        return;
    };
    loop {
        // Counted as accepting from the moment a connection waits until it is registered (`fence`).
        listener::wait_readable(listener);
        server.listeners.accepting.fetch_add(1, SeqCst);
        match listener.accept() {
            Ok((unix, _)) => {
                // SAFETY: the descriptor is taken out of the UnixStream and owned by the TcpStream from here on.
                let mut stream = unsafe { TcpStream::from_raw_fd(unix.into_raw_fd()) };
                if listener::admit(server, &mut stream, false) {
                    if let Ok(clone) = stream.try_clone() {
                        let addr = Addr::Unix(path.clone());
                        let fd = stream.as_raw_fd();
                        let info = server.clients.register(clone, addr.clone(), addr, fd);
                        log::debug!("Accepted connection to {path} (id={})", info.id);
                        listener::hand_to_pool(server, &pool, stream, info, false);
                    }
                }
            }
            Err(e) => {
                log::warn!("Accepting client connection: {e}");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
        server.listeners.accepting.fetch_sub(1, SeqCst);
    }
}
