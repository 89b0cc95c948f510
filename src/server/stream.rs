//! A client's connection: a plain TCP socket or a TLS session over one. The connection loop, the pub/sub writer
//! and blocking commands see this one type; socket-level work (shutdown, peeking for a closed peer, arrival
//! stamps) always goes to the TCP socket underneath ([`Stream::tcp`]).
//!
//! An enum rather than a trait object: the plain case stays a direct call, one predictable branch (and one
//! uncontended lock) per system call on the hot path.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::Arc;

use parking_lot::Mutex;

use super::fence::{self, InputState, StampedRead};
use super::unsent::Writing;
use crate::protocol::RequestReader;
use crate::tls::TlsStream;

/// The connection's transport and the lock every writer of it takes, so that whole replies, pub/sub messages and
/// invalidation pushes written from other threads (`crate::tracking`) never interleave. Clones are cheap handles
/// on the same connection (no descriptor is duplicated).
#[derive(Clone)]
pub struct Stream {
    io: Io,
    writing: Arc<Mutex<Writing>>,
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
            writing: Arc::default(),
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

    /// Whether the connection is a TLS session (its writes cannot be split into non-blocking pieces).
    pub fn is_tls(&self) -> bool {
        matches!(self.io, Io::Tls(_))
    }

    /// The connection's write lock, for the owner's non-blocking writes to the socket underneath
    /// (`super::unsent`), so other threads' messages cannot land inside its bytes.
    pub fn write_lock(&self) -> parking_lot::MutexGuard<'_, Writing> {
        self.writing.lock()
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
        match &mut self.io {
            Io::Plain(stream) => reader.read_from(&mut StampedRead { stream, input }),
            Io::Tls(tls) => {
                let n = reader.read_from(&mut tls.stamped(input))?;
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

    /// Writes all of `buf` under the connection's write lock, or, while the owning connection has replies the
    /// socket has not taken (a reply may be cut in the middle on the wire), queues it to follow them.
    #[inline]
    pub fn send(&self, buf: &[u8]) -> io::Result<()> {
        let mut writing = self.writing.lock();
        if writing.behind {
            writing.deferred.extend_from_slice(buf);
            return Ok(());
        }
        match &self.io {
            Io::Plain(s) => (&**s).write_all(buf),
            Io::Tls(s) => s.send(buf),
        }
    }
}

/// Plain reads of the connection (a replica's ACKs, once the connection carries the replication stream).
impl io::Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.io {
            Io::Plain(s) => (&**s).read(buf),
            Io::Tls(s) => s.read(buf),
        }
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
