//! Lowering a [`Reply`] to RESP2 or RESP3 bytes.

use super::{Protocol, Reply};
use crate::util::numbers::{format_double, format_human_double};

/// Appends the encoding of `reply` for `proto` to `out`.
pub fn encode(reply: &Reply, proto: Protocol, out: &mut Vec<u8>) {
    let resp3 = proto == Protocol::Resp3;
    match reply {
        Reply::Ok => out.extend_from_slice(b"+OK\r\n"),
        Reply::Status(s) => line(out, b'+', s.as_bytes()),
        Reply::Error(e) => line(out, b'-', e.as_bytes()),
        Reply::Int(n) => header(out, b':', *n),
        Reply::Bulk(b) => bulk(out, b),
        Reply::Nil if resp3 => out.extend_from_slice(b"_\r\n"),
        Reply::Nil => out.extend_from_slice(b"$-1\r\n"),
        Reply::NilArray if resp3 => out.extend_from_slice(b"_\r\n"),
        Reply::NilArray => out.extend_from_slice(b"*-1\r\n"),
        Reply::Array(items) => aggregate(out, b'*', items, proto),
        Reply::Bulks(array) => {
            header(out, b'*', array.len() as i64);
            out.extend_from_slice(array.encoded());
        }
        Reply::Set(items) => aggregate(out, if resp3 { b'~' } else { b'*' }, items, proto),
        Reply::Push(items) => aggregate(out, if resp3 { b'>' } else { b'*' }, items, proto),
        Reply::Map(pairs) => {
            if resp3 {
                header(out, b'%', pairs.len() as i64);
            } else {
                header(out, b'*', 2 * pairs.len() as i64);
            }
            for (k, v) in pairs {
                encode(k, proto, out);
                encode(v, proto, out);
            }
        }
        Reply::Double(d) => double(out, resp3, &format_double(*d)),
        Reply::HumanDouble(d) => double(out, resp3, &format_human_double(*d)),
        Reply::Bool(b) if resp3 => out.extend_from_slice(if *b { b"#t\r\n" } else { b"#f\r\n" }),
        Reply::Bool(b) => header(out, b':', *b as i64),
        Reply::Verbatim(format, text) if resp3 => {
            header(out, b'=', (text.len() + 4) as i64);
            out.extend_from_slice(format.as_bytes());
            out.push(b':');
            out.extend_from_slice(text);
            out.extend_from_slice(b"\r\n");
        }
        Reply::Verbatim(_, text) => bulk(out, text),
        Reply::BigNumber(n) if resp3 => line(out, b'(', n.as_bytes()),
        Reply::BigNumber(n) => bulk(out, n.as_bytes()),
        Reply::Raw(bytes) => out.extend_from_slice(bytes),
        Reply::NoReply => {}
    }
}

/// A double already formatted: `,` in RESP3, a bulk string in RESP2.
fn double(out: &mut Vec<u8>, resp3: bool, text: &str) {
    if resp3 {
        line(out, b',', text.as_bytes());
    } else {
        bulk(out, text.as_bytes());
    }
}

fn aggregate(out: &mut Vec<u8>, kind: u8, items: &[Reply], proto: Protocol) {
    header(out, kind, items.len() as i64);
    for item in items {
        encode(item, proto, out);
    }
}

fn header(out: &mut Vec<u8>, kind: u8, n: i64) {
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n).as_bytes();
    out.reserve(digits.len() + 3);
    out.push(kind);
    out.extend_from_slice(digits);
    out.extend_from_slice(b"\r\n");
}

/// `$<len>\r\n<bytes>\r\n`. Short lengths (most members and values) get their header as one fixed-size store
/// rather than a formatted number: an LRANGE reply is mostly headers.
pub(super) fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.reserve(b.len() + 16);
    let n = b.len();
    if n < 10 {
        out.extend_from_slice(&[b'$', b'0' + n as u8, b'\r', b'\n']);
    } else if n < 100 {
        out.extend_from_slice(&[
            b'$',
            b'0' + (n / 10) as u8,
            b'0' + (n % 10) as u8,
            b'\r',
            b'\n',
        ]);
    } else {
        header(out, b'$', n as i64);
    }
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// A status or error line; CR and LF would break the framing, so Redis turns them into spaces and so do we.
fn line(out: &mut Vec<u8>, kind: u8, text: &[u8]) {
    out.push(kind);
    out.extend(
        text.iter()
            .map(|&c| if c == b'\r' || c == b'\n' { b' ' } else { c }),
    );
    out.extend_from_slice(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: Reply, p: Protocol) -> String {
        let mut out = Vec::new();
        encode(&r, p, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn resp2_lowering() {
        use Protocol::Resp2;
        assert_eq!(enc(Reply::Nil, Resp2), "$-1\r\n");
        assert_eq!(enc(Reply::NilArray, Resp2), "*-1\r\n");
        assert_eq!(enc(Reply::Bool(true), Resp2), ":1\r\n");
        assert_eq!(
            enc(Reply::HumanDouble(13.361389338970184), Resp2),
            "$20\r\n13.36138933897018433\r\n"
        );
        assert_eq!(enc(Reply::HumanDouble(-0.0), Protocol::Resp3), ",0\r\n");
        assert_eq!(enc(Reply::Double(1.5), Resp2), "$3\r\n1.5\r\n");
        assert_eq!(
            enc(Reply::Map(vec![(Reply::bulk("a"), Reply::Int(1))]), Resp2),
            "*2\r\n$1\r\na\r\n:1\r\n"
        );
        assert_eq!(enc(Reply::err("bad\r\nline"), Resp2), "-ERR bad  line\r\n");
    }

    #[test]
    fn resp3_kinds() {
        use Protocol::Resp3;
        assert_eq!(enc(Reply::Nil, Resp3), "_\r\n");
        assert_eq!(enc(Reply::Bool(false), Resp3), "#f\r\n");
        assert_eq!(enc(Reply::Double(f64::INFINITY), Resp3), ",inf\r\n");
        assert_eq!(enc(Reply::Set(vec![Reply::Int(1)]), Resp3), "~1\r\n:1\r\n");
        assert_eq!(enc(Reply::Push(vec![]), Resp3), ">0\r\n");
        assert_eq!(
            enc(Reply::Verbatim("txt", b"hi".to_vec()), Resp3),
            "=6\r\ntxt:hi\r\n"
        );
        assert_eq!(enc(Reply::Map(vec![]), Resp3), "%0\r\n");
    }
}
