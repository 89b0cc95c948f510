//! The drainer: one thread that writes what other threads left queued on a connection whose own thread sleeps in
//! `read`.
//!
//! A tracking client's invalidation messages are written by whichever thread's command caused them
//! (`crate::tracking`), without waiting for the socket (`Stream::push`): a client that does not read must not
//! stall every client that writes a key it tracks. What its socket does not take waits on the connection
//! (`Writing::deferred`), and is counted as its output buffer, as Redis keeps it in the client's reply list. The
//! owner writes it before its next replies; but a client that only listens (client-side caching with RESP3
//! pushes) may never send another command, so this thread writes it as the socket drains, as Redis's event loop
//! would. Connections are watched only while something waits, so the thread polls nothing most of the time.

use std::sync::OnceLock;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::stream::Stream;
use super::unsent::send_deferred;

/// How long a round of `poll` waits before it looks for newly watched connections.
const ROUND: Duration = Duration::from_millis(10);

#[derive(Default)]
struct Watched {
    streams: Mutex<Vec<Stream>>,
    added: Condvar,
}

static WATCHED: OnceLock<Watched> = OnceLock::new();

/// Starts watching `stream`, whose deferred bytes wait for its socket (called with its write lock held).
pub fn watch(stream: &Stream) {
    let watched = WATCHED.get_or_init(|| {
        let spawned = std::thread::Builder::new()
            .name("drainer".into())
            .spawn(run);
        if let Err(e) = spawned {
            log::warn!("Can't start the output drainer thread: {e}");
        }
        Watched::default()
    });
    watched.streams.lock().push(stream.clone());
    watched.added.notify_one();
}

fn run() {
    let watched = WATCHED.get_or_init(Watched::default);
    loop {
        let streams = {
            let mut streams = watched.streams.lock();
            while streams.is_empty() {
                watched.added.wait(&mut streams);
            }
            std::mem::take(&mut *streams)
        };
        let still = round(streams);
        watched.streams.lock().extend(still);
    }
}

/// One `poll` over the watched connections, then writes what their sockets take; returns those that still have
/// bytes waiting and nobody else to write them.
fn round(streams: Vec<Stream>) -> Vec<Stream> {
    let mut fds: Vec<libc::pollfd> = streams
        .iter()
        .map(|s| libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(s.tcp()),
            events: libc::POLLOUT,
            revents: 0,
        })
        .collect();
    // SAFETY: `fds` is a live array of `fds.len()` pollfds; the streams keep their descriptors open meanwhile.
    let ready = unsafe {
        libc::poll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            ROUND.as_millis() as i32,
        )
    };
    if ready < 0 {
        return streams;
    }
    streams
        .into_iter()
        .zip(fds)
        .filter(|(stream, fd)| fd.revents == 0 || still_waiting(stream))
        .filter(|(stream, _)| !stream.orphaned())
        .map(|(stream, _)| stream)
        .collect()
}

/// Writes what `stream`'s socket takes of its deferred bytes: whether some are still left for this thread. Not
/// once the owner is behind (it writes them after its own replies) or they are held for the AOF's fsync.
fn still_waiting(stream: &Stream) -> bool {
    let mut writing = stream.write_lock();
    if writing.behind || writing.held_until != 0 || writing.deferred.is_empty() {
        return false;
    }
    send_deferred(stream.tcp(), &mut writing)
}
