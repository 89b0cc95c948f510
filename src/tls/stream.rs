//! One TLS session over a blocking TCP socket, shared by the connection thread (which reads) and, for a
//! subscribed client, the pub/sub writer thread (which writes).
//!
//! rustls's session state is one object for both directions, so it sits behind a mutex; neither side holds the
//! lock while it waits for the socket: the reader polls the descriptor first, then takes the lock only to pull in
//! what arrived and decrypt it; a writer takes it only to seal plaintext into records ([`TlsStream::seal`]) and
//! writes those itself, as a plain connection writes its bytes (`crate::server::stream`). Records must leave in the
//! order they were sealed, so nothing here writes to the socket once the handshake is over: protocol answers the
//! reader's packets call for (key updates) wait in the session until the next seal.

use std::io::{self, BufRead, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rustls::{ServerConfig, ServerConnection};

use crate::server::fence::{InputState, StampedRead};

#[derive(Clone)]
pub struct TlsStream {
    tcp: Arc<TcpStream>,
    session: Arc<Mutex<ServerConnection>>,
}

/// Runs the server side of the handshake on `tcp`, giving up after `limit` in all (a client that stalls, trickles
/// bytes or sends garbage costs its own connection and nothing else).
pub fn handshake(
    tcp: TcpStream,
    config: Arc<ServerConfig>,
    limit: Duration,
) -> io::Result<TlsStream> {
    let mut session = ServerConnection::new(config).map_err(io::Error::other)?;
    let deadline = Instant::now() + limit;
    while session.is_handshaking() {
        if session.wants_write() {
            tcp.set_write_timeout(Some(remaining(deadline)?))?;
            session.write_tls(&mut &tcp)?;
            continue;
        }
        tcp.set_read_timeout(Some(remaining(deadline)?))?;
        if session.read_tls(&mut &tcp)? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if let Err(e) = session.process_new_packets() {
            // The alert rustls queued tells a TLS client why (best effort). A peer that does not speak TLS at all
            // gets none, as from OpenSSL: the socket just closes, and the plain text it sent makes that a reset.
            if !matches!(e, rustls::Error::InvalidMessage(_)) {
                let _ = session.write_tls(&mut &tcp);
            }
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
    }
    while session.wants_write() {
        session.write_tls(&mut &tcp)?;
    }
    tcp.set_read_timeout(None)?;
    tcp.set_write_timeout(None)?;
    Ok(TlsStream {
        tcp: Arc::new(tcp),
        session: Arc::new(Mutex::new(session)),
    })
}

fn remaining(deadline: Instant) -> io::Result<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))
}

impl TlsStream {
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// Seals `plain` into TLS records appended to `wire`, after the records the session queued itself (answers to
    /// what the reader pulled in). The caller holds the connection's write lock from here until `wire` is written
    /// or queued, so records reach the socket in the order they were sealed.
    pub fn seal(&self, mut plain: &[u8], wire: &mut Vec<u8>) -> io::Result<()> {
        let mut session = self.session.lock();
        loop {
            while session.wants_write() {
                session.write_tls(wire)?;
            }
            if plain.is_empty() {
                return Ok(());
            }
            let n = session.writer().write(plain)?;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            plain = &plain[n..];
        }
    }

    /// Whether the session holds records of its own to send (see [`TlsStream::seal`]).
    pub fn wants_write(&self) -> bool {
        self.session.lock().wants_write()
    }

    /// Whether a read would return at once: decrypted bytes are waiting, or the session has ended.
    pub fn has_buffered_input(&self) -> bool {
        let mut session = self.session.lock();
        let mut reader = session.reader();
        !matches!(reader.fill_buf(), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Takes what arrived on the socket into the session; what the protocol answers (key updates, alerts) waits
    /// in the session for the next seal. Ok(false) at the end of the TCP stream. With `input`, the ciphertext is read through
    /// [`StampedRead`], so the client is marked busy with the kernel's arrival stamp of what it decrypts.
    fn pull(&self, input: Option<&InputState>) -> io::Result<bool> {
        wait_readable(&self.tcp);
        let mut session = self.session.lock();
        let n = loop {
            let read = match input {
                Some(input) => session.read_tls(&mut StampedRead {
                    stream: &self.tcp,
                    input,
                }),
                None => session.read_tls(&mut &*self.tcp),
            };
            match read {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        session
            .process_new_packets()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(n > 0)
    }

    /// Decrypted bytes into `buf`, pulling from the socket until some arrive (0 at the end of the stream).
    fn read_plain(&self, buf: &mut [u8], input: Option<&InputState>) -> io::Result<usize> {
        loop {
            match self.session.lock().reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                // A peer that drops the socket without close_notify is just a closed connection here.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(0),
                other => return other,
            }
            if !self.pull(input)? {
                return Ok(0);
            }
        }
    }

    /// A reader of the session that stamps `input` as a plain connection's reads do (see `server::fence`).
    pub fn stamped<'a>(&'a self, input: &'a InputState) -> impl Read + 'a {
        Stamped { tls: self, input }
    }
}

struct Stamped<'a> {
    tls: &'a TlsStream,
    input: &'a InputState,
}

impl Read for Stamped<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tls.read_plain(buf, Some(self.input))
    }
}

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_plain(buf, None)
    }
}

/// Blocks until the socket has something to read (or is closed or shut down: the read then says so).
fn wait_readable(tcp: &TcpStream) {
    let mut fd = libc::pollfd {
        fd: tcp.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    while unsafe { libc::poll(&mut fd, 1, -1) } < 0
        && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
    {}
}
