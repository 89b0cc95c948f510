//! Protocol violations: the reply a client gets and the line the log gets, both worded as Redis 7.0 words them.

/// A malformed request. The client is answered `-ERR Protocol error: <text>` and its connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolError {
    /// `*<n>` that is not a number, or above `i32::MAX`.
    InvalidMultibulkLength,
    /// `*<n>` above 10 before the client authenticated.
    UnauthenticatedMultibulkLength,
    /// `$<n>` that is not a number, negative, or above `proto-max-bulk-len`.
    InvalidBulkLength,
    /// `$<n>` above 16384 before the client authenticated.
    UnauthenticatedBulkLength,
    /// A bulk header line that does not start with `$`; holds the byte found instead.
    ExpectedDollar(u8),
    /// More than 64 KB without the CR ending a `*<n>` line.
    TooBigMultibulkCount,
    /// More than 64 KB without the CR ending a `$<n>` line.
    TooBigBulkCount,
    /// More than 64 KB without the LF ending an inline request.
    TooBigInline,
    UnbalancedQuotes,
}

impl ProtocolError {
    /// The error reply's text, without `-` and CRLF. Bytes, because Redis echoes the unexpected byte of
    /// `expected '$', got 'X'` as it came (`\xff` stays one raw byte).
    pub fn message(&self) -> Vec<u8> {
        let text = match self {
            ProtocolError::InvalidMultibulkLength => "invalid multibulk length",
            ProtocolError::UnauthenticatedMultibulkLength => "unauthenticated multibulk length",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => "unauthenticated bulk length",
            ProtocolError::ExpectedDollar(got) => return expected_dollar(*got),
            ProtocolError::TooBigMultibulkCount => "too big mbulk count string",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::TooBigInline => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in request",
        };
        format!("ERR Protocol error: {text}").into_bytes()
    }

    /// The short reason Redis's log line gives in parentheses (`Protocol error (<reason>) from client: ...`).
    pub fn reason(&self) -> &'static str {
        match self {
            ProtocolError::InvalidMultibulkLength => "invalid mbulk count",
            ProtocolError::UnauthenticatedMultibulkLength => "unauth mbulk count",
            ProtocolError::InvalidBulkLength => "invalid bulk length",
            ProtocolError::UnauthenticatedBulkLength => "unauth bulk length",
            ProtocolError::ExpectedDollar(_) => "expected $ but got something else",
            ProtocolError::TooBigMultibulkCount => "too big mbulk count string",
            ProtocolError::TooBigBulkCount => "too big bulk count string",
            ProtocolError::TooBigInline => "too big inline request",
            ProtocolError::UnbalancedQuotes => "unbalanced quotes in inline request",
        }
    }
}

/// Redis formats this one with `%c` and then, as for every error reply, turns CR and LF into spaces; a NUL ends
/// the C string there.
fn expected_dollar(got: u8) -> Vec<u8> {
    let mut out = b"ERR Protocol error: expected '$', got '".to_vec();
    match got {
        0 => return out,
        b'\r' | b'\n' => out.push(b' '),
        other => out.push(other),
    }
    out.push(b'\'');
    out
}

/// Bytes of a request Redis quotes in full in the log; longer ones are shown by their two ends.
const PROTO_DUMP_LEN: usize = 128;

/// The tail of Redis's protocol error log line: `Query buffer during protocol error: '<sample>'`, where the sample
/// is what was left to parse from the offending line on (its two 64-byte ends when 128 bytes or more). As in
/// Redis, each part stops at a NUL (they are C strings), the line is cut at 255 bytes and bytes that are not
/// printable show as `.`.
pub fn query_sample(rest: &[u8]) -> String {
    let mut line = b"Query buffer during protocol error: '".to_vec();
    if rest.len() < PROTO_DUMP_LEN {
        line.extend_from_slice(c_str(rest));
    } else {
        let half = PROTO_DUMP_LEN / 2;
        line.extend_from_slice(c_str(&rest[..half]));
        let more = rest.len() - PROTO_DUMP_LEN;
        line.extend_from_slice(format!("' (... more {more} bytes ...) '").as_bytes());
        line.extend_from_slice(c_str(&rest[rest.len() - half..]));
    }
    line.push(b'\'');
    line.truncate(255);
    line.iter()
        .map(|&c| {
            if (0x20..0x7f).contains(&c) {
                c as char
            } else {
                '.'
            }
        })
        .collect()
}

/// `s` up to its first NUL, as C's `%s` reads it.
fn c_str(s: &[u8]) -> &[u8] {
    match memchr::memchr(0, s) {
        Some(i) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_dollar_is_echoed_like_redis() {
        assert_eq!(
            ProtocolError::ExpectedDollar(0xff).message(),
            b"ERR Protocol error: expected '$', got '\xff'"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(b'\r').message(),
            b"ERR Protocol error: expected '$', got ' '"
        );
        assert_eq!(
            ProtocolError::ExpectedDollar(0).message(),
            b"ERR Protocol error: expected '$', got '"
        );
    }

    #[test]
    fn samples_short_and_long_requests() {
        assert_eq!(
            query_sample(b"*x\r\n"),
            "Query buffer during protocol error: '*x..'"
        );
        assert_eq!(
            query_sample(b"ab\0cd"),
            "Query buffer during protocol error: 'ab'"
        );
        let long = [b"A".repeat(64), b"B".repeat(100), b"C".repeat(64)].concat();
        let want = format!(
            "Query buffer during protocol error: '{}' (... more 100 bytes ...) '{}'",
            "A".repeat(64),
            "C".repeat(64)
        );
        assert_eq!(query_sample(&long), want);
        let huge = vec![b'x'; 1 << 20];
        let want = format!(
            "Query buffer during protocol error: '{x}' (... more 1048448 bytes ...) '{x}'",
            x = "x".repeat(64)
        );
        assert_eq!(query_sample(&huge), want);
    }
}
