//! The output side of a subscribed (or monitoring) connection: one writer thread owns the socket's write half and
//! drains a crossbeam channel, so pub/sub messages flow while the connection thread sits in `read`.
//!
//! Everything the client receives in this mode goes through the same channel (messages from publishers, the
//! replies to its own commands, MONITOR lines), which keeps their order. The bytes waiting in the channel are
//! counted: that count is what `client-output-buffer-limit pubsub` is enforced on, by whoever enqueues.

use std::io::{self, Write};

use crate::server::stream::Stream;
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::config::Config;
use crate::protocol::Protocol;
use crate::server::clients::ClientInfo;
use crate::server::stats;
use crate::util::time::now_ms;

/// One write gathers at most this much of what is queued.
const WRITE_BATCH: usize = 64 * 1024;
/// A chunk this big is written where it is, not copied into the writer's buffer (a message published to many
/// subscribers then exists once, however many of them are slow).
const WRITE_DIRECT: usize = 16 * 1024;
const WRITER_STACK: usize = 128 * 1024;

pub(crate) enum Chunk {
    /// One encoding shared by every receiver of a message.
    Shared(Arc<[u8]>),
    /// Replies to the client's own commands, confirmations.
    Owned(Vec<u8>),
    /// Written everything before this: the writer returns.
    Stop,
}

impl Chunk {
    /// The bytes to write; none for `Stop`.
    fn bytes(&self) -> Option<&[u8]> {
        match self {
            Chunk::Shared(b) => Some(b),
            Chunk::Owned(b) => Some(b),
            Chunk::Stop => None,
        }
    }
}

/// `client-output-buffer-limit pubsub <hard> <soft> <soft-seconds>`, bytes and seconds; 0 disables a limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limits {
    pub hard: u64,
    pub soft: u64,
    pub soft_secs: u64,
}

/// Redis's default for the pubsub class.
pub const DEFAULT_LIMITS: Limits = Limits {
    hard: 32 << 20,
    soft: 8 << 20,
    soft_secs: 60,
};

/// The pubsub class of `client-output-buffer-limit`, as the config parsed it.
pub fn configured_limits(config: &Config) -> Limits {
    let [_, _, pubsub] = config.client_output_buffer_limits();
    Limits {
        hard: pubsub.hard,
        soft: pubsub.soft,
        soft_secs: pubsub.soft_seconds,
    }
}

/// Redis's `checkClientOutputBufferLimits`: over the hard limit at once, over the soft one for too long.
/// `soft_since` is when the client first went over the soft limit (ms), 0 while under it. The pubsub class
/// checks it on a subscriber's queue, the normal class on a connection's unsent replies.
pub fn over_limits(queued: u64, limits: Limits, soft_since: &AtomicI64) -> bool {
    if limits.hard > 0 && queued >= limits.hard {
        return true;
    }
    if limits.soft == 0 || queued < limits.soft {
        soft_since.store(0, Relaxed);
        return false;
    }
    let now = now_ms();
    match soft_since.compare_exchange(0, now, Relaxed, Relaxed) {
        Ok(_) => false,
        Err(since) => (now - since) as u64 > limits.soft_secs * 1000,
    }
}

/// What publishers and the connection thread hold to reach one client's writer.
pub struct Outbox {
    tx: Sender<Chunk>,
    /// The writer's end too, for [`Outbox::discard_queued`].
    rx: Receiver<Chunk>,
    pub(crate) info: Arc<ClientInfo>,
    /// When the queue first went over the soft limit (ms), 0 while under it.
    soft_since: AtomicI64,
    closed: AtomicBool,
}

impl Outbox {
    /// A new outbox and the receiving end its writer will drain.
    pub(crate) fn new(info: Arc<ClientInfo>) -> (Arc<Outbox>, Receiver<Chunk>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let outbox = Arc::new(Outbox {
            tx,
            rx: rx.clone(),
            info,
            soft_since: AtomicI64::new(0),
            closed: AtomicBool::new(false),
        });
        (outbox, rx)
    }

    pub fn id(&self) -> u64 {
        self.info.id
    }

    pub fn protocol(&self) -> Protocol {
        self.info.protocol()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Relaxed)
    }

    /// Bytes queued and not yet written to the socket (kept in the client's info, for CLIENT LIST `omem=`).
    pub fn queued(&self) -> usize {
        self.info.omem.load(Relaxed)
    }

    /// Queues `chunk` (of `len` bytes) unless the client is closed or this pushes it over its limits, in which case
    /// the client is disconnected. True if the bytes were queued.
    pub(crate) fn push(&self, chunk: Chunk, len: usize, limits: Limits) -> bool {
        if self.is_closed() {
            return false;
        }
        let queued = (self.info.omem.fetch_add(len, Relaxed) + len) as u64;
        if self.over_limits(queued, limits) {
            self.info.omem.fetch_sub(len, Relaxed);
            self.close_for_limits(queued);
            return false;
        }
        if self.tx.send(chunk).is_err() {
            // The writer is gone (its socket failed): the client is on its way out.
            self.info.omem.fetch_sub(len, Relaxed);
            return false;
        }
        true
    }

    /// Queues bytes made for this client alone (a tracking invalidation for a redirect target), behind what it
    /// already has queued; false if the client is closed or is now over its limits (and so closed).
    pub fn queue(&self, bytes: Vec<u8>, limits: Limits) -> bool {
        let len = bytes.len();
        self.push(Chunk::Owned(bytes), len, limits)
    }

    /// For a killed client: closes the outbox to publishers and frees what waits in it now, from the killing
    /// thread. The writer's end-of-output marker is put back, so a connection waiting for its writer to finish
    /// still sees it.
    pub(crate) fn discard_queued(&self) {
        self.closed.store(true, Relaxed);
        let (mut freed, mut stop) = (0, false);
        while let Ok(chunk) = self.rx.try_recv() {
            match chunk.bytes() {
                Some(b) => freed += b.len(),
                None => stop = true,
            }
        }
        self.info.omem.fetch_sub(freed, Relaxed);
        if stop {
            let _ = self.tx.send(Chunk::Stop);
        }
    }

    fn over_limits(&self, queued: u64, limits: Limits) -> bool {
        over_limits(queued, limits, &self.soft_since)
    }

    /// Closes the client if what it has queued now is over its limits (see `Hub::check_soft_limits`).
    pub(crate) fn check_limits(&self, limits: Limits) {
        let queued = self.queued() as u64;
        if !self.is_closed() && self.over_limits(queued, limits) {
            self.close_for_limits(queued);
        }
    }

    fn close_for_limits(&self, queued: u64) {
        if self.closed.swap(true, Relaxed) {
            return;
        }
        log::warn!(
            "Client id={} addr={} laddr={} fd={} name={} scheduled to be closed ASAP for overcoming of output buffer limits. (pubsub, {} bytes queued)",
            self.info.id,
            self.info.addr,
            self.info.laddr,
            self.info.fd,
            String::from_utf8_lossy(&self.info.name.lock()),
            queued
        );
        self.info.kill();
    }
}

/// The running writer of one connection.
pub(crate) struct Writer {
    handle: JoinHandle<()>,
    done: Receiver<()>,
}

/// Starts the thread that writes everything queued in `rx` to `stream`.
pub(crate) fn spawn_writer(
    outbox: Arc<Outbox>,
    rx: Receiver<Chunk>,
    stream: Stream,
) -> io::Result<Writer> {
    let (done_tx, done) = crossbeam_channel::bounded(1);
    let handle = std::thread::Builder::new()
        .name("ferredis-pubsub".into())
        .stack_size(WRITER_STACK)
        .spawn(move || {
            if let Err(e) = write_loop(&outbox, &rx, stream) {
                log::debug!("pub/sub writer of client id={}: {e}", outbox.id());
                // Kills the client, which frees whatever is still queued at once.
                outbox.closed.store(true, Relaxed);
                outbox.info.kill();
            }
            drop(rx);
            let _ = done_tx.send(());
        })?;
    Ok(Writer { handle, done })
}

fn write_loop(outbox: &Outbox, rx: &Receiver<Chunk>, mut stream: Stream) -> io::Result<()> {
    let mut buf: Vec<u8> = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(chunk) = next.take() {
            let Some(bytes) = chunk.bytes() else {
                write_gathered(outbox, &mut stream, &mut buf)?;
                return Ok(());
            };
            if bytes.len() >= WRITE_DIRECT {
                // What came before it first, then the message itself, from the one copy all receivers share.
                write_gathered(outbox, &mut stream, &mut buf)?;
                write_counted(outbox, &mut stream, bytes)?;
            } else {
                buf.extend_from_slice(bytes);
            }
            if buf.len() < WRITE_BATCH {
                next = rx.try_recv().ok();
            }
        }
        write_gathered(outbox, &mut stream, &mut buf)?;
        if rx.is_empty() && buf.capacity() > WRITE_DIRECT {
            // An idle writer keeps no more than a small buffer: Redis counts a client's reply buffer as its
            // memory, and this one is counted nowhere.
            buf.shrink_to(WRITE_DIRECT);
        }
    }
    Ok(())
}

/// Writes the small chunks gathered in `buf`, if any.
fn write_gathered(outbox: &Outbox, stream: &mut Stream, buf: &mut Vec<u8>) -> io::Result<()> {
    if !buf.is_empty() {
        write_counted(outbox, stream, buf)?;
        buf.clear();
    }
    Ok(())
}

/// Writes `bytes` and takes them off the client's queued count.
fn write_counted(outbox: &Outbox, stream: &mut Stream, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes)?;
    outbox.info.omem.fetch_sub(bytes.len(), Relaxed);
    stats::with_local(|s| s.net_output_bytes.add_local(bytes.len() as u64));
    Ok(())
}

impl Writer {
    /// Waits until everything queued before now is written, then ends the thread. With `patience`, gives the
    /// client that long to take its last bytes before the socket is shut down (a peer that never reads must
    /// not hold the connection thread).
    pub(crate) fn finish(self, outbox: &Outbox, stream: &TcpStream, patience: Option<Duration>) {
        let _ = outbox.tx.send(Chunk::Stop);
        let drained = match patience {
            Some(d) => self.done.recv_timeout(d).is_ok(),
            None => self.done.recv().is_ok(),
        };
        if !drained {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let _ = self.handle.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_limits_come_from_the_config() {
        assert_eq!(configured_limits(&Config::new()), DEFAULT_LIMITS);
        let config = Config::new();
        config
            .set("client-output-buffer-limit", "pubsub 1mb 10kb 2", false)
            .unwrap();
        assert_eq!(
            configured_limits(&config),
            Limits {
                hard: 1 << 20,
                soft: 10 << 10,
                soft_secs: 2
            }
        );
    }
}
