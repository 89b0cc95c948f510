//! Incremental request parsing from one growable read buffer.
//!
//! A request is either a RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an inline line (`GET k\r\n`).
//! Multibulk arguments are not copied: a [`Frame`] hands out spans of the read buffer. Parsing resumes where it
//! stopped when a frame arrives in pieces, so a large pipelined or huge-argument request costs linear time, and the
//! buffer only grows as bytes actually arrive (a header claiming 500 MB allocates nothing by itself).

use std::io::{self, Read};

use memchr::memchr;

use super::inline::split_args;
use crate::util::numbers::parse_i64;

/// Longest inline request, and longest count line (`*<n>`, `$<n>`) searched for its CRLF, as in Redis.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;

/// A protocol violation: the client gets `-ERR Protocol error: <text>` and the connection is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(msg: &str) -> Self {
        ProtocolError(format!("ERR Protocol error: {msg}"))
    }
}

/// One complete request: its arguments as spans of `data`.
#[derive(Clone, Copy)]
pub struct Frame<'a> {
    data: &'a [u8],
    spans: &'a [(usize, usize)],
}

impl<'a> Frame<'a> {
    pub fn new(data: &'a [u8], spans: &'a [(usize, usize)]) -> Self {
        Frame { data, spans }
    }
    pub fn len(&self) -> usize {
        self.spans.len()
    }
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (s, e) = self.spans[i];
        &self.data[s..e]
    }
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.spans.iter().map(|&(s, e)| &self.data[s..e])
    }
}

pub struct RequestReader {
    buf: Vec<u8>,
    /// Valid bytes are `buf[start..end]`; `buf.len()` is the capacity we read into.
    start: usize,
    end: usize,
    /// Where parsing of the current frame resumes.
    pos: usize,
    /// Arguments still expected by the multibulk being parsed (0: at a frame boundary).
    remaining: usize,
    /// Length of the bulk whose header was read but whose payload has not fully arrived.
    bulk_len: Option<usize>,
    spans: Vec<(usize, usize)>,
    /// Inline arguments are unescaped, so they live in their own buffer.
    inline_data: Vec<u8>,
    inline_frame: bool,
}

impl Default for RequestReader {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestReader {
    pub fn new() -> Self {
        RequestReader {
            buf: vec![0; READ_CHUNK],
            start: 0,
            end: 0,
            pos: 0,
            remaining: 0,
            bulk_len: None,
            spans: Vec::new(),
            inline_data: Vec::new(),
            inline_frame: false,
        }
    }

    /// Bytes received but not yet consumed as a whole request (the `qbuf` of CLIENT LIST).
    pub fn pending(&self) -> usize {
        self.end - self.start
    }

    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// One `read` from `src` into the buffer; returns what `read` returned (0 = EOF).
    pub fn read_from(&mut self, src: &mut impl Read) -> io::Result<usize> {
        if self.start == self.end && self.remaining == 0 {
            // Idle: rewind, and give back memory a huge request left behind.
            self.start = 0;
            self.end = 0;
            self.pos = 0;
            if self.buf.len() > 4 * READ_CHUNK {
                self.buf = vec![0; READ_CHUNK];
            }
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.compact();
            }
            if self.end == self.buf.len() {
                let grown = (self.buf.len() * 2).max(READ_CHUNK);
                self.buf.resize(grown, 0);
            }
        }
        let n = src.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// Moves the unconsumed bytes to the front; spans of a half-parsed frame move with them.
    fn compact(&mut self) {
        let shift = self.start;
        self.buf.copy_within(self.start..self.end, 0);
        self.end -= shift;
        self.pos -= shift;
        self.start = 0;
        for span in &mut self.spans {
            span.0 -= shift;
            span.1 -= shift;
        }
    }

    /// The next complete request, `Ok(None)` if more bytes are needed. Empty requests (`*0`, blank lines) are
    /// skipped, as Redis does. `max_bulk` is `proto-max-bulk-len`.
    pub fn next_frame(&mut self, max_bulk: usize) -> Result<Option<Frame<'_>>, ProtocolError> {
        loop {
            if self.remaining == 0 {
                self.spans.clear();
                self.pos = self.start;
                if self.start == self.end {
                    return Ok(None);
                }
                if self.buf[self.start] != b'*' {
                    if !self.parse_inline()? {
                        return Ok(None);
                    }
                    if self.spans.is_empty() {
                        continue;
                    }
                    return Ok(Some(Frame::new(&self.inline_data, &self.spans)));
                }
                let Some(count) = self.count_line(b'*', "too big mbulk count string")? else {
                    return Ok(None);
                };
                let count = match count {
                    Some(n) if n <= i32::MAX as i64 => n,
                    _ => return Err(ProtocolError::new("invalid multibulk length")),
                };
                if count <= 0 {
                    self.start = self.pos;
                    continue;
                }
                self.remaining = count as usize;
                self.inline_frame = false;
            }
            if !self.parse_bulks(max_bulk)? {
                return Ok(None);
            }
            self.start = self.pos;
            return Ok(Some(Frame::new(&self.buf, &self.spans)));
        }
    }

    /// Reads `<prefix><number>\r\n` at `pos`. Outer `None`: incomplete; inner `None`: not a valid number.
    /// Inlined so that the common case (a short canonical count, four per SET) costs no call.
    #[inline(always)]
    fn count_line(
        &mut self,
        prefix: u8,
        too_big: &str,
    ) -> Result<Option<Option<i64>>, ProtocolError> {
        if let Some((n, used)) = canonical_count(&self.buf[self.pos..self.end], prefix) {
            self.pos += used;
            return Ok(Some(Some(n)));
        }
        self.count_line_general(prefix, too_big)
    }

    /// `count_line` for everything but a complete canonical count: partial lines, signs, errors.
    #[cold]
    #[inline(never)]
    fn count_line_general(
        &mut self,
        prefix: u8,
        too_big: &str,
    ) -> Result<Option<Option<i64>>, ProtocolError> {
        let window = &self.buf[self.pos..self.end];
        // Count lines are a few bytes long: a plain scan beats setting up memchr. Long lines fall back to it.
        let cr = match window.iter().take(24).position(|&c| c == b'\r') {
            Some(i) => Some(i),
            None if window.len() > 24 => memchr(b'\r', window),
            None => None,
        };
        let Some(cr) = cr else {
            if window.len() > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::new(too_big));
            }
            return Ok(None);
        };
        if cr + 1 >= window.len() {
            return Ok(None); // the '\n' has not arrived yet
        }
        if window[0] != prefix {
            let got = window[0] as char;
            return Err(ProtocolError(format!(
                "ERR Protocol error: expected '$', got '{got}'"
            )));
        }
        let number = parse_i64(&window[1..cr]);
        self.pos += cr + 2;
        Ok(Some(number))
    }

    fn parse_bulks(&mut self, max_bulk: usize) -> Result<bool, ProtocolError> {
        while self.remaining > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    let Some(len) = self.count_line(b'$', "too big bulk count string")? else {
                        return Ok(false);
                    };
                    match len {
                        Some(n) if n >= 0 && n as u64 <= max_bulk as u64 => {
                            self.bulk_len = Some(n as usize);
                            n as usize
                        }
                        _ => return Err(ProtocolError::new("invalid bulk length")),
                    }
                }
            };
            // Like Redis, the two bytes after the payload are skipped without being checked.
            if self.end - self.pos < len + 2 {
                return Ok(false);
            }
            self.spans.push((self.pos, self.pos + len));
            self.pos += len + 2;
            self.bulk_len = None;
            self.remaining -= 1;
        }
        Ok(true)
    }

    fn parse_inline(&mut self) -> Result<bool, ProtocolError> {
        let window = &self.buf[self.start..self.end];
        let Some(nl) = memchr(b'\n', window) else {
            if window.len() > PROTO_INLINE_MAX_SIZE {
                return Err(ProtocolError::new("too big inline request"));
            }
            return Ok(false);
        };
        let line_end = if nl > 0 && window[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let args = split_args(&window[..line_end])
            .ok_or_else(|| ProtocolError::new("unbalanced quotes in request"))?;
        self.start += nl + 1;
        self.pos = self.start;
        self.inline_data.clear();
        for arg in args {
            let s = self.inline_data.len();
            self.inline_data.extend_from_slice(&arg);
            self.spans.push((s, self.inline_data.len()));
        }
        self.inline_frame = true;
        Ok(true)
    }
}

/// The common case in one pass: `<prefix>` then 1 to 18 digits without a leading zero (or a lone `0`), then CRLF.
/// Returns the number and the bytes used; anything else (signs, long numbers, errors, a partial line) is left to
/// the general path, which applies Redis's exact rules.
#[inline(always)]
fn canonical_count(w: &[u8], prefix: u8) -> Option<(i64, usize)> {
    if w.first() != Some(&prefix) {
        return None;
    }
    let mut n: i64 = 0;
    let mut i = 1;
    while i < w.len() && i <= 18 && w[i].is_ascii_digit() {
        n = n * 10 + (w[i] - b'0') as i64;
        i += 1;
    }
    let digits = i - 1;
    let canonical = digits == 1 || (digits > 1 && w[1] != b'0');
    if canonical && w.get(i) == Some(&b'\r') && w.get(i + 1).is_some() {
        Some((n, i + 2))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(r: &mut RequestReader, bytes: &[u8]) {
        let mut src = bytes;
        while !src.is_empty() {
            r.read_from(&mut src).unwrap();
        }
    }

    fn frames(r: &mut RequestReader) -> Result<Vec<Vec<String>>, ProtocolError> {
        let mut out = Vec::new();
        while let Some(f) = r.next_frame(512 << 20)? {
            out.push(
                f.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            );
        }
        Ok(out)
    }

    #[test]
    fn pipelined_multibulk_and_inline() {
        let mut r = RequestReader::new();
        feed(
            &mut r,
            b"*1\r\n$4\r\nPING\r\nECHO \"a b\"\r\n*0\r\n\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        );
        assert_eq!(
            frames(&mut r).unwrap(),
            vec![vec!["PING"], vec!["ECHO", "a b"], vec!["GET", "k"]]
        );
    }

    #[test]
    fn resumes_across_partial_reads() {
        let mut r = RequestReader::new();
        let msg = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";
        for chunk in msg.chunks(3) {
            feed(&mut r, chunk);
            let got = frames(&mut r).unwrap();
            if !got.is_empty() {
                assert_eq!(got, vec![vec!["SET", "k", "hello"]]);
            }
        }
    }

    #[test]
    fn errors() {
        let cases: &[(&[u8], &str)] = &[
            (b"*x\r\n", "ERR Protocol error: invalid multibulk length"),
            (b"*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length"),
            (
                b"*1\r\nfoo\r\n",
                "ERR Protocol error: expected '$', got 'f'",
            ),
            (
                b"SET \"k v\r\n",
                "ERR Protocol error: unbalanced quotes in request",
            ),
        ];
        for (input, want) in cases {
            let mut r = RequestReader::new();
            feed(&mut r, input);
            assert_eq!(frames(&mut r).unwrap_err().0, *want);
        }
    }

    #[test]
    fn huge_claims_allocate_nothing() {
        let mut r = RequestReader::new();
        feed(&mut r, b"*1\r\n$400000000\r\nabc");
        assert!(frames(&mut r).unwrap().is_empty());
        assert!(r.capacity() <= 4 * READ_CHUNK);
    }
}
