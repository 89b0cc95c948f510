//! Replies a client has not taken yet, kept in user space as Redis keeps them in its reply list.
//!
//! Redis goes on reading and running a client's commands while that client's replies wait in its output buffer:
//! a client that pipelines without reading makes the buffer grow (CLIENT LIST `omem`, `tot-mem`), which is what
//! `client-output-buffer-limit` and `maxmemory-clients` act on. A blocking write would instead park the connection
//! thread in `write()` and stop reading, so the client would stall in its own writes and the server would never
//! see the memory Redis sees. So a batch's replies are written without waiting; what the socket does not take
//! stays here, in the order it was produced, and the connection waits for its socket to become writable or
//! readable (`poll` on its own descriptor) before it reads again.
//!
//! While bytes wait here a reply may be cut in the middle on the wire, so other threads must not write to the
//! socket: the connection's write lock says the owner is behind ([`Writing::behind`]) and their bytes queue
//! behind the owner's ([`Writing::deferred`]), to be sent in order once the owner catches up. Another thread's
//! message the socket does not take whole waits there too, and the owner's next replies go after it.
//!
//! A TLS connection works the same way on its records: a batch is sealed under the write lock and what waits
//! is ciphertext, so records leave in the order they were sealed.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering::Relaxed;

use super::clients::ClientInfo;
use super::stats;
use super::stream::{Stream, WriteGuard};

/// Replies kept after this much is written out get a fresh buffer of this size (the usual batch fits in it).
const FRESH: usize = 16 * 1024;

/// What the connection's write lock guards besides the socket itself.
#[derive(Default)]
pub struct Writing {
    /// The owning connection has replies the socket has not taken: nobody else may write to it now.
    pub behind: bool,
    /// Bytes other threads (tracking invalidations) sent while the owner was behind; they follow its replies.
    /// Also replies held for `appendfsync always` (`super::held`), and everything queued behind them.
    pub deferred: Vec<u8>,
    /// With `appendfsync always`: `deferred` starts with replies that wait for the AOF to be fsynced up to this
    /// feed offset (0: nothing is held). Nobody writes to the socket until they are released.
    pub held_until: u64,
}

/// The owning connection's unsent replies: whole batches, the first one partly written.
#[derive(Default)]
pub struct Unsent {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of the front chunk already written.
    sent: usize,
    /// Bytes not yet written, over all chunks.
    bytes: usize,
    /// A TLS connection's plaintext buffer, swapped with the batch it sealed (no allocation per batch).
    spare: Vec<u8>,
}

impl Unsent {
    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// Bytes waiting to be written.
    pub fn len(&self) -> usize {
        self.bytes
    }

    /// Writes `out` after what is still unsent, as far as the socket takes it now, and keeps the rest; `out` is
    /// left empty.
    pub fn write(&mut self, stream: &Stream, out: &mut Vec<u8>) -> io::Result<()> {
        let mut writing = stream.write_lock();
        if stream.is_tls() {
            // From here on `out` holds the batch's records, and `spare` the plaintext buffer for the next one.
            let sealed = stream.wire(out, &mut self.spare)?.len();
            debug_assert_eq!(sealed, self.spare.len());
            std::mem::swap(out, &mut self.spare);
            // A big batch's plaintext buffer is not kept beside its records (memory client eviction cannot see).
            clear(&mut self.spare);
        }
        if writing.held_until != 0 {
            // Replies held for the AOF's fsync go first: this batch waits behind them.
            writing.deferred.extend_from_slice(out);
            clear(out);
            return Ok(());
        }
        if self.is_empty() && writing.deferred.is_empty() {
            // The usual case: the socket takes the whole batch at once, no copy and no allocation.
            let n = send_now(stream.tcp(), out)?;
            count_sent(n);
            if n == out.len() {
                clear(out);
                return Ok(());
            }
            self.sent = n;
            self.bytes = out.len() - n;
            self.chunks
                .push_back(kept(std::mem::replace(out, Vec::with_capacity(FRESH))));
            writing.behind = true;
            return Ok(());
        }
        // Other threads' bytes queued before this batch go before it.
        self.take_deferred(&mut writing);
        if !out.is_empty() {
            self.bytes += out.len();
            self.chunks
                .push_back(kept(std::mem::replace(out, Vec::with_capacity(FRESH))));
        }
        self.send_what_fits(stream.tcp(), &mut writing)
    }

    /// Moves what other threads queued into the owner's chunks, after them.
    fn take_deferred(&mut self, writing: &mut Writing) {
        if !writing.deferred.is_empty() {
            self.bytes += writing.deferred.len();
            self.chunks.push_back(std::mem::take(&mut writing.deferred));
        }
    }

    /// Writes as much as the socket takes now, the other threads' deferred bytes after the owner's; the owner
    /// stops being behind once all of it is out. Called with the write lock held.
    fn send_what_fits(&mut self, tcp: &TcpStream, writing: &mut Writing) -> io::Result<()> {
        loop {
            if self.chunks.is_empty() {
                if writing.deferred.is_empty() {
                    break;
                }
                self.take_deferred(writing);
            }
            let front = &self.chunks[0][self.sent..];
            let n = send_now(tcp, front)?;
            count_sent(n);
            self.bytes -= n;
            if n < front.len() {
                self.sent += n;
                break;
            }
            self.chunks.pop_front();
            self.sent = 0;
        }
        writing.behind = !self.is_empty();
        Ok(())
    }

    /// Writes everything unsent, waiting for the socket as long as it takes: before the connection sleeps
    /// (a blocking command, CLIENT PAUSE), hands its socket to another writer or closes.
    pub fn drain(&mut self, stream: &Stream) -> io::Result<()> {
        super::held::settle(stream);
        if self.is_empty() && stream.deferred() == 0 {
            return Ok(());
        }
        let mut writing = stream.write_lock();
        let mut tcp = stream.tcp();
        while let Some(chunk) = self.chunks.pop_front() {
            tcp.write_all(&chunk[self.sent..])?;
            count_sent(chunk.len() - self.sent);
            self.sent = 0;
        }
        let deferred = std::mem::take(&mut writing.deferred);
        tcp.write_all(&deferred)?;
        count_sent(deferred.len());
        self.bytes = 0;
        writing.behind = false;
        Ok(())
    }

    /// Before the connection reads again with replies unsent: writes them as the socket takes them, and returns
    /// once the client has sent something to read (or everything is written). CLIENT LIST's `omem` follows.
    pub fn wait_readable(&mut self, stream: &Stream, info: &ClientInfo) -> io::Result<()> {
        while !self.is_empty() && !stream.input_buffered() {
            let mut fd = libc::pollfd {
                fd: stream.tcp().as_raw_fd(),
                events: libc::POLLIN | libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one valid pollfd; a timeout so that CLIENT KILL is seen.
            let ready = unsafe { libc::poll(&mut fd, 1, 1000) };
            if ready < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            if info.killed.load(Relaxed) || fd.revents & (libc::POLLERR | libc::POLLNVAL) != 0 {
                return Err(io::Error::other("client closed"));
            }
            if fd.revents & libc::POLLOUT != 0 {
                let mut writing = stream.write_lock();
                self.send_what_fits(stream.tcp(), &mut writing)?;
            }
            match super::output_limit::limits() {
                // Over the soft limit for its seconds with nothing more asked: closed, as Redis's clientsCron
                // closes it.
                Some(limits) => super::output_limit::check(info, self.len(), limits)?,
                None => info
                    .omem
                    .store(super::output_limit::counted(self.len()), Relaxed),
            }
            if fd.revents & (libc::POLLIN | libc::POLLHUP) != 0 {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// For a connection whose owner is not behind (the drainer thread, a release of held replies): writes what waits
/// queued as far as the socket takes it now. Whether something is still left; on a failed socket the bytes are
/// dropped (the client is closing; its owner's next read or write says so).
pub fn send_deferred(tcp: &TcpStream, writing: &mut WriteGuard<'_>) -> bool {
    let n = match send_now(tcp, &writing.deferred) {
        Ok(n) => n,
        Err(_) => {
            writing.deferred = Vec::new();
            return false;
        }
    };
    count_sent(n);
    writing.deferred.drain(..n);
    if writing.deferred.is_empty() {
        writing.deferred = Vec::new();
    }
    !writing.deferred.is_empty()
}

/// Writes what the socket takes of `buf` now, without waiting: how many bytes it took.
pub fn send_now(tcp: &TcpStream, buf: &[u8]) -> io::Result<usize> {
    let mut sent = 0;
    while sent < buf.len() {
        let rest = &buf[sent..];
        // SAFETY: `rest` is a live buffer of `rest.len()` bytes and the descriptor is the stream's own.
        let n = unsafe {
            libc::send(
                tcp.as_raw_fd(),
                rest.as_ptr().cast(),
                rest.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::WouldBlock => break,
                io::ErrorKind::Interrupted => continue,
                _ => return Err(e),
            }
        }
        sent += n as usize;
    }
    Ok(sent)
}

fn count_sent(n: usize) {
    if n > 0 {
        stats::with_local(|s| s.net_output_bytes.add_local(n as u64));
    }
}

/// Empties a written batch buffer, giving back what a big batch made it grow to: a connection keeps 16 kB at
/// rest, as Redis's reply buffer, not the peak of its biggest reply (memory client eviction could not see).
fn clear(out: &mut Vec<u8>) {
    out.clear();
    if out.capacity() > FRESH {
        out.shrink_to(FRESH);
    }
}

/// A batch that waits unsent, without the slack it grew by (up to as much again as it holds, which `omem` and
/// client eviction would not see).
fn kept(mut chunk: Vec<u8>) -> Vec<u8> {
    if chunk.capacity() - chunk.len() > FRESH / 4 {
        chunk.shrink_to_fit();
    }
    chunk
}
