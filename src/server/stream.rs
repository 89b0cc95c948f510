//! A client's connection: a plain TCP socket or a TLS session over one. The connection loop, the pub/sub writer
//! and blocking commands see this one type; socket-level work (shutdown, peeking for a closed peer, arrival
//! stamps) always goes to the TCP socket underneath ([`Stream::tcp`]).
//!
//! An enum rather than a trait object: the plain case stays a direct call, one predictable branch (and one
//! uncontended lock) per system call on the hot path.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::{Mutex, MutexGuard};

use super::fence::{self, InputState, StampedRead};
use super::unsent::{send_now, Writing};
use crate::protocol::RequestReader;
use crate::tls::TlsStream;

/// The connection's transport and the lock every writer of it takes, so that whole replies, pub/sub messages and
/// invalidation pushes written from other threads (`crate::tracking`) never interleave. Clones are cheap handles
/// on the same connection (no descriptor is duplicated).
#[derive(Clone)]
pub struct Stream {
    io: Io,
    shared: Arc<Shared>,
}

/// A TLS record's largest payload, and what each record adds to it (header, content type, AEAD tag; TLS 1.2's
/// explicit nonce), with room to spare.
const RECORD: usize = 16 * 1024;
const RECORD_OVERHEAD: usize = 64;

/// What every handle on a connection shares: the write lock, and how many bytes other threads left queued
/// behind it (`Writing::deferred`), readable without the lock (CLIENT LIST `omem`, client memory).
#[derive(Default)]
struct Shared {
    writing: Mutex<Writing>,
    deferred: AtomicUsize,
}

/// The connection's write lock; on release it publishes how much is left deferred.
pub struct WriteGuard<'a> {
    guard: MutexGuard<'a, Writing>,
    published: &'a AtomicUsize,
}

impl std::ops::Deref for WriteGuard<'_> {
    type Target = Writing;
    fn deref(&self) -> &Writing {
        &self.guard
    }
}

impl std::ops::DerefMut for WriteGuard<'_> {
    fn deref_mut(&mut self) -> &mut Writing {
        &mut self.guard
    }
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        self.published.store(self.guard.deferred.len(), Relaxed);
    }
}

#[derive(Clone)]
enum Io {
    Plain(Arc<TcpStream>),
    Tls(TlsStream),
}

impl Stream {
    pub fn plain(tcp: TcpStream) -> Stream {
        Stream::new(Io::Plain(Arc::new(tcp)))
    }

    pub fn tls(tls: TlsStream) -> Stream {
        Stream::new(Io::Tls(tls))
    }

    fn new(io: Io) -> Stream {
        Stream {
            io,
            shared: Arc::default(),
        }
    }

    /// The TCP socket underneath, for shutdown, peeks and socket options.
    #[inline]
    pub fn tcp(&self) -> &TcpStream {
        match &self.io {
            Io::Plain(s) => s,
            Io::Tls(s) => s.tcp(),
        }
    }

    /// Whether the connection is a TLS session.
    pub fn is_tls(&self) -> bool {
        matches!(self.io, Io::Tls(_))
    }

    /// The connection's write lock, for the owner's non-blocking writes to the socket underneath
    /// (`super::unsent`), so other threads' messages cannot land inside its bytes.
    pub fn write_lock(&self) -> WriteGuard<'_> {
        WriteGuard {
            guard: self.shared.writing.lock(),
            published: &self.shared.deferred,
        }
    }

    /// Bytes other threads left queued on the connection (see [`Stream::push`]).
    pub fn deferred(&self) -> usize {
        self.shared.deferred.load(Relaxed)
    }

    /// Whether this is the last handle on the connection (its client is gone).
    pub fn orphaned(&self) -> bool {
        Arc::strong_count(&self.shared) == 1
    }

    /// The bytes that carry `plain` on the wire: itself on a plain connection; on a TLS one, its records, sealed
    /// into `sealed` (the caller holds the write lock, so records leave in the order they are sealed).
    pub fn wire<'a>(&self, plain: &'a [u8], sealed: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
        match &self.io {
            Io::Plain(_) => Ok(plain),
            Io::Tls(tls) => {
                sealed.clear();
                // Room for the records up front: a buffer grown by doubling could hold twice what it carries
                // while it waits, memory nobody counts.
                sealed.reserve_exact(plain.len() + (plain.len() / RECORD + 1) * RECORD_OVERHEAD);
                tls.seal(plain, sealed)?;
                Ok(sealed)
            }
        }
    }

    /// Whether a TLS session holds decrypted input a read would return at once (the socket may show none).
    pub fn input_buffered(&self) -> bool {
        matches!(&self.io, Io::Tls(tls) if tls.has_buffered_input())
    }

    /// A second handle on the same connection (the pub/sub writer writes through it while this one reads).
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(self.clone())
    }

    /// Reads what the client sent into `reader`, marking the client busy for fences (see `super::fence`).
    #[inline]
    pub fn read_into(
        &mut self,
        reader: &mut RequestReader,
        input: &InputState,
    ) -> io::Result<usize> {
        match &self.io {
            Io::Plain(stream) => reader.read_from(&mut StampedRead { stream, input }),
            Io::Tls(tls) => {
                let read = reader.read_from(&mut tls.stamped(input));
                self.answer_protocol();
                let n = read?;
                if n > 0 {
                    // Busy with the arrival of the ciphertext they came in (stamped as it was read), also when
                    // they were decrypted earlier and waited in the session.
                    input.resumed();
                }
                Ok(n)
            }
        }
    }

    /// `fence::announce`: waits for input without taking it. Decrypted bytes already buffered count as input.
    pub fn announce(&self, input: &InputState) -> io::Result<()> {
        if let Io::Tls(tls) = &self.io {
            if tls.has_buffered_input() {
                // Decrypted from ciphertext already stamped when it was read.
                input.resumed();
                return Ok(());
            }
        }
        fence::announce(self.tcp(), input)
    }

    /// Writes all of `buf` under the connection's write lock, waiting for the socket as long as it takes, or,
    /// while the owning connection has replies the socket has not taken (a reply may be cut in the middle on the
    /// wire), queues it to follow them.
    #[inline]
    pub fn send(&self, buf: &[u8]) -> io::Result<()> {
        let mut writing = self.write_lock();
        let mut sealed = Vec::new();
        let wire = self.wire(buf, &mut sealed)?;
        if writing.behind || writing.held_until != 0 {
            writing.deferred.extend_from_slice(wire);
            return Ok(());
        }
        let mut tcp = self.tcp();
        if !writing.deferred.is_empty() {
            tcp.write_all(&writing.deferred)?;
            writing.deferred.clear();
        }
        tcp.write_all(wire)
    }

    /// Writes `buf` as far as the socket takes it now, without waiting, from a thread other than the owner's
    /// (invalidation messages): the rest is queued behind what is already waiting, and written by the owner with
    /// its next replies or, while the owner sleeps in `read`, by the drainer thread (`super::drain`). Returns how
    /// many bytes wait queued, for the caller's output limit.
    pub fn push(&self, buf: &[u8]) -> io::Result<usize> {
        let mut writing = self.write_lock();
        let mut sealed = Vec::new();
        let wire = self.wire(buf, &mut sealed)?;
        if writing.behind || !writing.deferred.is_empty() {
            writing.deferred.extend_from_slice(wire);
            return Ok(writing.deferred.len());
        }
        let n = send_now(self.tcp(), wire)?;
        if n < wire.len() {
            writing.deferred.extend_from_slice(&wire[n..]);
            super::drain::watch(self);
        }
        Ok(writing.deferred.len())
    }

    /// After a TLS read: records the session made in answer to what it read go out (or queue) in turn.
    fn answer_protocol(&self) {
        if matches!(&self.io, Io::Tls(tls) if tls.wants_write()) {
            let _ = self.push(&[]);
        }
    }
}

/// Plain reads of the connection (a replica's ACKs, once the connection carries the replication stream).
impl io::Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = match &mut self.io {
            Io::Plain(s) => (&**s).read(buf),
            Io::Tls(s) => s.read(buf),
        };
        self.answer_protocol();
        read
    }
}

impl Write for Stream {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf)?;
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.send(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
