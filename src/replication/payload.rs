//! The RDB payload of a full sync, as it comes off the link: `$<len>` then that many bytes (a master that saved
//! to disk first), or `$EOF:<mark>` then bytes up to the 40-byte mark (a diskless master, which does not know the
//! length in advance). [`Payload`] reads exactly the payload and no further, so it can feed a temp file or the
//! RDB loader directly (a diskless load); bytes read past the mark are the replication stream's first bytes and
//! are handed back by [`Payload::finish`].

use std::io::{self, Read};
use std::sync::atomic::Ordering::Relaxed;

use super::replica::Link;
use crate::util::time::now_ms;

/// Redis's end marks are 40 characters (`CONFIG_RUN_ID_SIZE`).
const MARK_LEN: usize = 40;

enum Framing {
    /// Bytes of the payload still to come.
    Len(u64),
    /// The end mark, and the bytes read that may be its start (held back until more arrive).
    Eof { mark: Vec<u8>, tail: Vec<u8> },
}

pub struct Payload<'a, R: Read> {
    r: &'a mut R,
    link: &'a Link,
    framing: Framing,
    /// Payload bytes read and not yet handed out.
    ready: Vec<u8>,
    at: usize,
    /// The payload has ended (the mark was found, or its length read).
    ended: bool,
    /// Bytes read past the mark.
    leftover: Vec<u8>,
    /// Where reads from the link land.
    scratch: Box<[u8]>,
    /// The link failed (closed or timed out) before the payload's end.
    broken: bool,
}

impl<'a, R: Read> Payload<'a, R> {
    /// The payload announced by `head` (the line after `+FULLRESYNC`), read from `r`.
    pub fn open(head: &str, r: &'a mut R, link: &'a Link) -> io::Result<Self> {
        let mut ended = false;
        let framing = match head.strip_prefix("$EOF:") {
            Some(mark) if mark.len() >= MARK_LEN => {
                link.sync_total.store(-1, Relaxed);
                Framing::Eof {
                    mark: mark.as_bytes().to_vec(),
                    tail: Vec::new(),
                }
            }
            _ => {
                let len: u64 = head
                    .strip_prefix('$')
                    .and_then(|l| l.parse().ok())
                    .ok_or_else(|| io::Error::other(format!("Bad protocol from MASTER, the first byte is not '$' (we received '{head}'), are you sure the host and port are right?")))?;
                link.sync_total.store(len as i64, Relaxed);
                ended = len == 0;
                Framing::Len(len)
            }
        };
        Ok(Payload {
            r,
            link,
            framing,
            ready: Vec::new(),
            at: 0,
            ended,
            leftover: Vec::new(),
            scratch: vec![0u8; 1 << 16].into_boxed_slice(),
            broken: false,
        })
    }

    /// Reads what is left of the payload (a loader may stop before its end) and returns the bytes read past it.
    pub fn finish(mut self) -> io::Result<Vec<u8>> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(self.leftover)
    }

    /// Whether the link failed before the payload's end (rather than the payload being unreadable).
    pub fn broken(&self) -> bool {
        self.broken
    }

    /// Reads more of the link into `ready`; false once the payload has ended.
    fn fill(&mut self) -> io::Result<bool> {
        if self.ended {
            return Ok(false);
        }
        let n = match self.read_link() {
            Ok(n) => n,
            Err(e) => {
                self.broken = true;
                return Err(e);
            }
        };
        let buf = &self.scratch[..n];
        self.ready.clear();
        self.at = 0;
        match &mut self.framing {
            Framing::Len(left) => {
                self.ready.extend_from_slice(buf);
                *left -= n as u64;
                self.ended = *left == 0;
            }
            Framing::Eof { mark, tail } => {
                // Everything but the last mark-length bytes is payload; the tail is searched for the mark.
                tail.extend_from_slice(buf);
                if let Some(end) = tail.windows(mark.len()).position(|w| w == &mark[..]) {
                    self.leftover = tail.split_off(end + mark.len());
                    tail.truncate(end);
                    self.ready = std::mem::take(tail);
                    self.ended = true;
                } else if tail.len() > mark.len() {
                    let keep = tail.len() - mark.len();
                    self.ready.extend(tail.drain(..keep));
                }
            }
        }
        Ok(true)
    }

    /// One read of the link into `scratch`, no further than the payload's length; an error at its end.
    fn read_link(&mut self) -> io::Result<usize> {
        let want = match self.framing {
            Framing::Len(left) => self
                .scratch
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX)),
            Framing::Eof { .. } => self.scratch.len(),
        };
        let n = read_some(self.r, &mut self.scratch[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "master closed mid-transfer",
            ));
        }
        self.link.sync_read.fetch_add(n as i64, Relaxed);
        self.link.sync_last_io_ms.store(now_ms(), Relaxed);
        Ok(n)
    }
}

impl<R: Read> Read for Payload<'_, R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.at == self.ready.len() {
            if !self.fill()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.ready.len() - self.at);
        out[..n].copy_from_slice(&self.ready[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// `read`, again after EINTR (a SIGSTOP/SIGCONT of this process interrupts a blocking read).
fn read_some(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link() -> Link {
        Link::new("h".into(), 1, false)
    }

    /// Reads `payload` through a reader that yields `step` bytes at a time; returns (payload, what follows it:
    /// the leftover handed back, then what the reader still holds).
    fn read_all(head: &str, wire: &[u8], step: usize) -> io::Result<(Vec<u8>, Vec<u8>)> {
        struct Trickle<'w>(&'w [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(out.len());
                out[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let link = link();
        let mut r = Trickle(wire, step);
        let mut p = Payload::open(head, &mut r, &link)?;
        let mut got = Vec::new();
        p.read_to_end(&mut got)?;
        let mut rest = p.finish()?;
        rest.extend_from_slice(r.0);
        Ok((got, rest))
    }

    #[test]
    fn an_eof_marked_payload_ends_at_its_mark_however_it_arrives() {
        let mark = "0123456789abcdef0123456789abcdef01234567";
        let body: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut wire = body.clone();
        wire.extend_from_slice(mark.as_bytes());
        wire.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        for step in [1, 7, 39, 40, 41, 1000, 1 << 20] {
            let (got, rest) = read_all(&format!("$EOF:{mark}"), &wire, step).unwrap();
            assert!(got == body, "step {step}");
            assert_eq!(rest, b"*1\r\n$4\r\nPING\r\n", "step {step}");
        }
    }

    #[test]
    fn a_sized_payload_stops_at_its_length() {
        let wire = b"0123456789rest";
        for step in [1, 3, 100] {
            let (got, rest) = read_all("$10", wire, step).unwrap();
            assert_eq!(got, b"0123456789");
            assert_eq!(rest, b"rest");
        }
    }

    #[test]
    fn a_payload_cut_short_is_an_error() {
        let e = read_all("$10", b"01234", 3).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        let mark = "m".repeat(40);
        let e = read_all(&format!("$EOF:{mark}"), b"0123456789", 4).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert!(read_all("+OK", b"", 1).is_err());
    }
}
