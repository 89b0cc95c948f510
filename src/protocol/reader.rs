//! Incremental request parsing from one growable read buffer.
//!
//! A request is either a RESP multibulk (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`) or an inline line (`GET k\r\n`).
//! Multibulk arguments are not copied: a [`Frame`] hands out spans of the read buffer. Parsing resumes where it
//! stopped when a frame arrives in pieces, so a large pipelined or huge-argument request costs linear time.
//!
//! Memory follows the bytes that arrived, never a length a client announced: nothing is reserved for a `*<n>`
//! or `$<n>`, the buffer grows only when it is full of unparsed bytes (at most doubling, and for a bulk of known
//! length no further than the frame needs), and it is given back once the request is done. Redis's limits apply:
//! 64 KB for a line without its terminator, `proto-max-bulk-len`, and 10 arguments of 16 KB before AUTH.

use std::io::{self, Read};

use memchr::memchr2;

use super::error::ProtocolError;
use super::inline::split_args_into;
use crate::util::numbers::parse_i64;

/// Longest inline request, and longest count line (`*<n>`, `$<n>`) searched for its CRLF, as in Redis.
pub const PROTO_INLINE_MAX_SIZE: usize = 64 * 1024;
const READ_CHUNK: usize = 16 * 1024;
/// Most bytes one read takes outside a big argument.
const MAX_READ: usize = 64 * 1024;
/// An argument this long is read on its own, as Redis's `PROTO_MBULK_BIG_ARG`.
const BIG_ARG: usize = 32 * 1024;
/// Redis's caps for a client that has not authenticated yet (`authRequired`).
const UNAUTH_MAX_ARGS: i64 = 10;
const UNAUTH_MAX_BULK: i64 = 16 * 1024;

/// What a request may announce; read from the config before each parse, so CONFIG SET applies to every client.
#[derive(Clone, Copy, Debug)]
pub struct RequestLimits {
    /// `proto-max-bulk-len`.
    pub max_bulk: usize,
    /// The client must still authenticate: at most 10 arguments of 16 KB each, as Redis allows.
    pub unauthenticated: bool,
}

impl RequestLimits {
    /// Redis's defaults for an authenticated client.
    pub const DEFAULT: RequestLimits = RequestLimits {
        max_bulk: 512 << 20,
        unauthenticated: false,
    };
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
    /// The arguments from `start` on, as a frame of their own (ACL DRYRUN's command).
    pub fn skip(&self, start: usize) -> Frame<'a> {
        Frame {
            data: self.data,
            spans: &self.spans[start.min(self.spans.len())..],
        }
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
    /// Where parsing of the current frame resumes; on a protocol error, the start of the offending line.
    pos: usize,
    /// Arguments still expected by the multibulk being parsed (0: at a frame boundary).
    remaining: usize,
    /// Length of the bulk whose header was read but whose payload has not fully arrived.
    bulk_len: Option<usize>,
    spans: Vec<(usize, usize)>,
    /// Inline arguments are unescaped, so they live in their own buffer.
    inline_data: Vec<u8>,
}

impl Default for RequestReader {
    fn default() -> Self {
        Self::new()
    }
}

impl RequestReader {
    pub fn new() -> Self {
        Self::with_buffer(vec![0; READ_CHUNK])
    }

    fn with_buffer(buf: Vec<u8>) -> Self {
        RequestReader {
            buf,
            start: 0,
            end: 0,
            pos: 0,
            remaining: 0,
            bulk_len: None,
            spans: Vec::new(),
            inline_data: Vec::new(),
        }
    }

    /// Bytes received but not yet consumed as a whole request (the `qbuf` of CLIENT LIST).
    pub fn pending(&self) -> usize {
        self.end - self.start
    }

    /// Bytes received and not yet parsed into arguments: what Redis keeps in its query buffer (the arguments
    /// already parsed have moved to the command's argv there), so what `client-query-buffer-limit` bounds.
    pub fn unparsed(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// For a connection that hands its socket over (a replica's PSYNC): what arrived after the last request,
    /// with the reader's buffers given back (it reads nothing more).
    pub fn take_unparsed(&mut self) -> Vec<u8> {
        let rest = self.unparsed().to_vec();
        *self = Self::with_buffer(Vec::new());
        rest
    }

    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// The length of the argument whose payload is being received, when it is a big one (at least 32 KB,
    /// Redis's `PROTO_MBULK_BIG_ARG`): Redis gives such an argument a query buffer of its own size.
    pub fn big_bulk(&self) -> Option<usize> {
        self.bulk_len
            .filter(|&len| len >= BIG_ARG && self.remaining > 0)
    }

    /// What Redis's query buffer would hold now: the bytes not consumed, except that while a big argument
    /// arrives only its own bytes (Redis trims what precedes it).
    pub fn buffered_as_redis(&self) -> usize {
        match self.big_bulk() {
            Some(_) => self.end - self.pos,
            None => self.pending(),
        }
    }

    /// Heap bytes held for requests: the read buffer, the argument spans and the unescaped inline arguments.
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
            + self.spans.capacity() * std::mem::size_of::<(usize, usize)>()
            + self.inline_data.capacity()
    }

    /// One `read` from `src` into the buffer; returns what `read` returned (0 = EOF).
    pub fn read_from(&mut self, src: &mut impl Read) -> io::Result<usize> {
        self.release_if_idle();
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.compact();
            }
            if self.end == self.buf.len() {
                self.grow();
            }
        }
        let room = self.read_room();
        let n = src.read(&mut self.buf[self.end..self.end + room])?;
        self.end += n;
        Ok(n)
    }

    /// How much one read may take: the rest of a big argument and no more (Redis reads big arguments so), else
    /// at most 64 KB. The bytes left unparsed after a read are then one argument plus at most 128 KB, so
    /// `client-query-buffer-limit` (1 MB at least) closes a client for an argument over it, never for the
    /// size of a read.
    fn read_room(&self) -> usize {
        let free = self.buf.len() - self.end;
        match self.bulk_len {
            Some(bulk) if bulk >= BIG_ARG => (self.pos + bulk + 2)
                .saturating_sub(self.end)
                .max(1)
                .min(free),
            _ => free.min(MAX_READ),
        }
    }

    /// With every byte received parsed and run, rewinds the buffer and gives back what a big request made it
    /// grow. `read_from` does it before waiting for more; the connection calls it before reporting `rbs`.
    pub fn release_if_idle(&mut self) {
        if self.start != self.end || self.remaining != 0 {
            return;
        }
        self.start = 0;
        self.end = 0;
        self.pos = 0;
        if self.buf.len() > 4 * READ_CHUNK {
            self.buf = vec![0; READ_CHUNK];
        }
        if self.spans.capacity() > 1024 {
            self.spans = Vec::new();
        }
        if self.inline_data.capacity() > 4 * READ_CHUNK {
            self.inline_data = Vec::new();
        }
    }

    /// Called with the buffer full of unconsumed bytes. Doubles it, but when a bulk's length is known grows it
    /// only to what the frame needs: the buffer never exceeds twice the bytes that arrived, whatever a header
    /// claimed. The frame's first big argument gets exactly its size once it is within reach, as Redis gives a
    /// big argument a query buffer of its own size (so `tot-mem` and client eviction weigh the same bytes);
    /// later ones grow it by at least half, so that a run of big arguments costs linear copying.
    fn grow(&mut self) {
        let len = self.buf.len();
        let target = match self.bulk_len {
            Some(bulk) => {
                let needed = self.pos.saturating_add(bulk).saturating_add(2);
                // `needed > len`: a full buffer always grows (the length may be a parsed bulk's while the next
                // header is still incomplete).
                let exact = bulk >= BIG_ARG && self.pos - self.start < BIG_ARG && needed > len;
                if exact {
                    needed.min(len * 2)
                } else {
                    needed.max(len + len / 2).min(len * 2)
                }
            }
            None => len * 2,
        };
        let target = target.max(READ_CHUNK);
        // Exactly: `resize` alone may double the capacity, and `rbs` (what client eviction counts) is the length.
        self.buf.reserve_exact(target.saturating_sub(len));
        self.buf.resize(target, 0);
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
    /// skipped, as Redis does. After an error the reader is not to be used again (the connection closes).
    pub fn next_frame(
        &mut self,
        limits: RequestLimits,
    ) -> Result<Option<Frame<'_>>, ProtocolError> {
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
                let Some(count) = self.multibulk_count(limits)? else {
                    return Ok(None);
                };
                if count <= 0 {
                    self.start = self.pos;
                    continue;
                }
                self.remaining = count as usize;
            }
            if !self.parse_bulks(limits)? {
                return Ok(None);
            }
            self.start = self.pos;
            return Ok(Some(Frame::new(&self.buf, &self.spans)));
        }
    }

    /// The `*<n>` line at `pos`, checked as Redis checks it; `None` while incomplete. The common case, a short
    /// canonical count within the limits, is decided inline (this runs for every request); anything else takes
    /// the general path, which applies Redis's exact rules.
    #[inline(always)]
    fn multibulk_count(&mut self, limits: RequestLimits) -> Result<Option<i64>, ProtocolError> {
        if let Some((n, used)) = canonical_count(&self.buf[self.pos..self.end], b'*') {
            if n <= i32::MAX as i64 && (n <= UNAUTH_MAX_ARGS || !limits.unauthenticated) {
                self.pos += used;
                return Ok(Some(n));
            }
        }
        self.multibulk_count_general(limits)
    }

    #[cold]
    #[inline(never)]
    fn multibulk_count_general(
        &mut self,
        limits: RequestLimits,
    ) -> Result<Option<i64>, ProtocolError> {
        let Some((count, used)) = self.count_line(b'*', ProtocolError::TooBigMultibulkCount)?
        else {
            return Ok(None);
        };
        let count = match count {
            Some(n) if n <= i32::MAX as i64 => n,
            _ => return Err(ProtocolError::InvalidMultibulkLength),
        };
        if count > UNAUTH_MAX_ARGS && limits.unauthenticated {
            return Err(ProtocolError::UnauthenticatedMultibulkLength);
        }
        self.pos += used;
        Ok(Some(count))
    }

    /// The `$<n>` line at `pos`, checked as Redis checks it; `None` while incomplete. Fast path as above.
    #[inline(always)]
    fn bulk_header(&mut self, limits: RequestLimits) -> Result<Option<usize>, ProtocolError> {
        if let Some((n, used)) = canonical_count(&self.buf[self.pos..self.end], b'$') {
            if n as u64 <= limits.max_bulk as u64
                && (n <= UNAUTH_MAX_BULK || !limits.unauthenticated)
            {
                self.pos += used;
                return Ok(Some(n as usize));
            }
        }
        self.bulk_header_general(limits)
    }

    #[cold]
    #[inline(never)]
    fn bulk_header_general(
        &mut self,
        limits: RequestLimits,
    ) -> Result<Option<usize>, ProtocolError> {
        let Some((len, used)) = self.count_line(b'$', ProtocolError::TooBigBulkCount)? else {
            return Ok(None);
        };
        let len = match len {
            Some(n) if n >= 0 && n as u64 <= limits.max_bulk as u64 => n,
            _ => return Err(ProtocolError::InvalidBulkLength),
        };
        if len > UNAUTH_MAX_BULK && limits.unauthenticated {
            return Err(ProtocolError::UnauthenticatedBulkLength);
        }
        self.pos += used;
        Ok(Some(len as usize))
    }

    /// Reads `<prefix><number>\r\n` at `pos` without consuming it: the number (`None` if not a valid one) and the
    /// line's length. Outer `None`: incomplete. Redis looks for the CR with `strchr`, which stops at a NUL: a NUL
    /// before the CR leaves the line incomplete until the 64 KB limit.
    fn count_line(
        &self,
        prefix: u8,
        too_big: ProtocolError,
    ) -> Result<Option<(Option<i64>, usize)>, ProtocolError> {
        let window = &self.buf[self.pos..self.end];
        let cr = match memchr2(b'\r', 0, window) {
            Some(i) if window[i] == b'\r' => i,
            _ if window.len() > PROTO_INLINE_MAX_SIZE => return Err(too_big),
            _ => return Ok(None),
        };
        if cr + 1 >= window.len() {
            return Ok(None); // the '\n' has not arrived yet
        }
        if window[0] != prefix {
            return Err(ProtocolError::ExpectedDollar(window[0]));
        }
        Ok(Some((parse_i64(&window[1..cr]), cr + 2)))
    }

    fn parse_bulks(&mut self, limits: RequestLimits) -> Result<bool, ProtocolError> {
        while self.remaining > 0 {
            let len = match self.bulk_len {
                Some(len) => len,
                None => {
                    let Some(len) = self.bulk_header(limits)? else {
                        return Ok(false);
                    };
                    self.bulk_len = Some(len);
                    len
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

    /// An inline request at `start`. Redis finds its end with `strchr`, which stops at a NUL: a NUL before the
    /// LF leaves the request incomplete until the 64 KB limit.
    fn parse_inline(&mut self) -> Result<bool, ProtocolError> {
        let window = &self.buf[self.start..self.end];
        let nl = match memchr2(b'\n', 0, window) {
            Some(i) if window[i] == b'\n' => i,
            _ if window.len() > PROTO_INLINE_MAX_SIZE => return Err(ProtocolError::TooBigInline),
            _ => return Ok(false),
        };
        let line_end = if nl > 0 && window[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        self.inline_data.clear();
        if !split_args_into(&window[..line_end], &mut self.inline_data, &mut self.spans) {
            self.spans.clear();
            return Err(ProtocolError::UnbalancedQuotes);
        }
        self.start += nl + 1;
        self.pos = self.start;
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

    fn frames_with(
        r: &mut RequestReader,
        limits: RequestLimits,
    ) -> Result<Vec<Vec<String>>, ProtocolError> {
        let mut out = Vec::new();
        while let Some(f) = r.next_frame(limits)? {
            out.push(
                f.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            );
        }
        Ok(out)
    }

    fn frames(r: &mut RequestReader) -> Result<Vec<Vec<String>>, ProtocolError> {
        frames_with(r, RequestLimits::DEFAULT)
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

    fn error_of(input: &[u8], limits: RequestLimits) -> ProtocolError {
        let mut r = RequestReader::new();
        feed(&mut r, input);
        frames_with(&mut r, limits).unwrap_err()
    }

    #[test]
    fn errors() {
        use ProtocolError::*;
        let cases: &[(&[u8], ProtocolError)] = &[
            (b"*x\r\n", InvalidMultibulkLength),
            (b"*2147483648\r\n", InvalidMultibulkLength),
            (b"*01\r\n", InvalidMultibulkLength),
            (b"*1\r\n$-5\r\n", InvalidBulkLength),
            (b"*1\r\n$-0\r\n", InvalidBulkLength),
            (b"*1\r\n$\r\n", InvalidBulkLength),
            (b"*1\r\n$536870913\r\n", InvalidBulkLength),
            (b"*1\r\nfoo\r\n", ExpectedDollar(b'f')),
            (b"*1\r\n\r\n", ExpectedDollar(b'\r')),
            (b"SET \"k v\r\n", UnbalancedQuotes),
        ];
        for (input, want) in cases {
            assert_eq!(error_of(input, RequestLimits::DEFAULT), *want, "{input:?}");
        }
    }

    #[test]
    fn unauthenticated_limits() {
        let unauth = RequestLimits {
            unauthenticated: true,
            ..RequestLimits::DEFAULT
        };
        assert_eq!(
            error_of(b"*11\r\n", unauth),
            ProtocolError::UnauthenticatedMultibulkLength
        );
        assert_eq!(
            error_of(b"*1\r\n$16385\r\n", unauth),
            ProtocolError::UnauthenticatedBulkLength
        );
        // An invalid length is reported as invalid first, as Redis checks it first.
        assert_eq!(
            error_of(b"*1\r\n$536870913\r\n", unauth),
            ProtocolError::InvalidBulkLength
        );
        let mut r = RequestReader::new();
        feed(&mut r, b"*10\r\n");
        feed(&mut r, b"$16384\r\n");
        assert!(frames_with(&mut r, unauth).unwrap().is_empty());
    }

    #[test]
    fn lines_without_terminator_are_capped() {
        let long = vec![b'7'; PROTO_INLINE_MAX_SIZE + 1];
        let with = |prefix: &[u8]| [prefix, &long[..]].concat();
        assert_eq!(
            error_of(&with(b"*"), RequestLimits::DEFAULT),
            ProtocolError::TooBigMultibulkCount
        );
        assert_eq!(
            error_of(&with(b"*1\r\n$"), RequestLimits::DEFAULT),
            ProtocolError::TooBigBulkCount
        );
        assert_eq!(
            error_of(&with(b"GET "), RequestLimits::DEFAULT),
            ProtocolError::TooBigInline
        );
    }

    #[test]
    fn a_nul_hides_the_terminator_as_in_redis() {
        // Redis searches with strchr: the request waits for more bytes, then hits the 64 KB limit.
        for input in [&b"PING\0\r\n"[..], b"*1\0\r\n", b"*1\r\n$\0\r\n"] {
            let mut r = RequestReader::new();
            feed(&mut r, input);
            assert!(frames(&mut r).unwrap().is_empty(), "{input:?}");
        }
        let mut r = RequestReader::new();
        feed(&mut r, b"PING\r\nPING\0\r\n");
        assert_eq!(frames(&mut r).unwrap(), vec![vec!["PING"]]);
        feed(&mut r, &[b'x'; PROTO_INLINE_MAX_SIZE]);
        assert_eq!(frames(&mut r).unwrap_err(), ProtocolError::TooBigInline);
    }

    #[test]
    fn huge_claims_allocate_nothing() {
        let mut r = RequestReader::new();
        feed(&mut r, b"*2147483647\r\n$400000000\r\nabc");
        assert!(frames(&mut r).unwrap().is_empty());
        assert!(r.heap_bytes() <= 4 * READ_CHUNK);
    }

    #[test]
    fn a_big_bulk_grows_the_buffer_to_what_it_needs_then_gives_it_back() {
        let mut r = RequestReader::new();
        let value = vec![b'v'; 3 << 20];
        let mut msg = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3145728\r\n".to_vec();
        msg.extend_from_slice(&value);
        msg.extend_from_slice(b"\r\n");
        // Parsed after every read, as a connection does, so the reader knows the bulk's length as it grows.
        let mut src = &msg[..];
        let got = loop {
            r.read_from(&mut src).unwrap();
            if let Some(frame) = r.next_frame(RequestLimits::DEFAULT).unwrap() {
                break frame.get(2).len();
            }
        };
        assert_eq!(got, 3 << 20);
        // The frame's first big argument: exactly its size, as Redis's query buffer for it.
        assert_eq!(r.capacity(), msg.len());
        assert!(r.next_frame(RequestLimits::DEFAULT).unwrap().is_none());
        feed(&mut r, b"PING\r\n");
        assert_eq!(r.capacity(), READ_CHUNK);
        assert_eq!(frames(&mut r).unwrap(), vec![vec!["PING"]]);
    }

    /// A source that hands out at most `step` bytes a read, as a slow peer does.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.step).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Parsed after every read, as a connection does, big frames of small and big arguments, cut anywhere, always
    /// complete: a full buffer grows whatever length the last bulk header announced.
    #[test]
    fn frames_complete_however_they_trickle_in() {
        let big = vec![b'b'; 100_000];
        let small: Vec<&[u8]> = vec![b"abcdefgh"; 5000];
        let mixed: Vec<&[u8]> = vec![b"SET", b"k", &big, b"x", &big, &big];
        for (args, step) in [(&small, 7), (&small, 4096), (&mixed, 13), (&mixed, 50_000)] {
            let mut msg = format!("*{}\r\n", args.len()).into_bytes();
            for a in args.iter() {
                msg.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
                msg.extend_from_slice(a);
                msg.extend_from_slice(b"\r\n");
            }
            let mut r = RequestReader::new();
            let mut src = Trickle { data: &msg, step };
            let got = loop {
                assert!(
                    r.read_from(&mut src).unwrap() > 0,
                    "stalled with the frame incomplete"
                );
                if let Some(frame) = r.next_frame(RequestLimits::DEFAULT).unwrap() {
                    break frame.len();
                }
            };
            assert_eq!(got, args.len());
            assert!(r.capacity() <= 2 * msg.len() + READ_CHUNK);
        }
    }

    #[test]
    fn unparsed_excludes_parsed_arguments() {
        let mut r = RequestReader::new();
        feed(&mut r, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$10\r\nabc");
        assert!(frames(&mut r).unwrap().is_empty());
        assert_eq!(r.unparsed(), b"abc");
        assert_eq!(r.pending(), 28);
    }
}
