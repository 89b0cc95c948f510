//! The reply value every handler returns.
//!
//! It carries the RESP3 kind of each element (map, set, double, boolean, push, ...) so that handlers never decide
//! the wire format: `encode` lowers each kind to RESP2 exactly as Redis does (a map becomes a flat array, a double a
//! bulk string, a boolean an integer), which keeps RESP2 and RESP3 replies in step by construction.

use std::borrow::Cow;

/// Bulk reply payload: inline up to 16 bytes, like stored strings.
pub type BulkBytes = smallvec::SmallVec<[u8; 16]>;

#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// `+OK`
    Ok,
    /// A status line, e.g. `+PONG`, `+QUEUED`.
    Status(Cow<'static, str>),
    /// An error line without the leading `-`, including its code: `ERR syntax error`, `WRONGTYPE ...`.
    Error(Cow<'static, str>),
    Int(i64),
    /// A bulk string; short ones (most values, members, fields) are held inline, so replying with one costs no
    /// allocation (LRANGE of 100 short elements: no allocation per element).
    Bulk(BulkBytes),
    /// A missing value: `$-1` in RESP2, `_` in RESP3.
    Nil,
    /// A missing aggregate: `*-1` in RESP2, `_` in RESP3 (timed-out BLPOP, aborted EXEC).
    NilArray,
    Array(Vec<Reply>),
    /// An array of bulk strings only (LRANGE, LPOP with a count, stream fields), encoded as it is built.
    Bulks(BulkArray),
    /// RESP3 map; a flat array of key, value, key, value in RESP2.
    Map(Vec<(Reply, Reply)>),
    /// RESP3 set; an array in RESP2.
    Set(Vec<Reply>),
    /// RESP3 double; a bulk string formatted as Redis formats doubles in RESP2.
    Double(f64),
    /// A coordinate as Redis's `addReplyHumanLongDouble` prints it (`%.17Lf` without trailing zeros, GEOPOS and
    /// WITHCOORD): a bulk string in RESP2, a RESP3 double in RESP3.
    HumanDouble(f64),
    /// RESP3 boolean; `:1`/`:0` in RESP2.
    Bool(bool),
    /// RESP3 verbatim string (`=`) with its three-letter format; a bulk string in RESP2.
    Verbatim(&'static str, Vec<u8>),
    /// RESP3 big number; a bulk string in RESP2.
    BigNumber(String),
    /// RESP3 out-of-band push (`>`), e.g. pub/sub messages; an array in RESP2.
    Push(Vec<Reply>),
    /// Bytes already encoded for the client's protocol, written as they are (used by MONITOR and pub/sub
    /// writers that encode once for many receivers).
    Raw(Vec<u8>),
    /// Nothing is written: the command answered some other way (QUIT closes, a blocked client answers later).
    NoReply,
}

impl Reply {
    pub fn error(msg: impl Into<Cow<'static, str>>) -> Reply {
        Reply::Error(msg.into())
    }

    /// An `ERR`-coded error from its message text.
    pub fn err(msg: &str) -> Reply {
        Reply::Error(Cow::Owned(format!("ERR {msg}")))
    }

    pub fn status(s: &'static str) -> Reply {
        Reply::Status(Cow::Borrowed(s))
    }

    pub fn bulk(b: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(BulkBytes::from_slice(b.as_ref()))
    }

    /// A bulk reply taking ownership of a buffer already built.
    pub fn bulk_vec(v: Vec<u8>) -> Reply {
        Reply::Bulk(BulkBytes::from_vec(v))
    }

    pub fn bulk_or_nil(b: Option<impl AsRef<[u8]>>) -> Reply {
        b.map_or(Reply::Nil, Reply::bulk)
    }

    pub fn bulks<I, B>(items: I) -> Reply
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let items = items.into_iter();
        let mut array = BulkArray::with_capacity(items.size_hint().0);
        for item in items {
            array.push(item.as_ref());
        }
        Reply::Bulks(array)
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    // The errors every type shares, spelled once.
    pub fn wrong_type() -> Reply {
        Reply::error("WRONGTYPE Operation against a key holding the wrong kind of value")
    }
    pub fn syntax_error() -> Reply {
        Reply::error("ERR syntax error")
    }
    pub fn not_integer() -> Reply {
        Reply::error("ERR value is not an integer or out of range")
    }
    pub fn not_float() -> Reply {
        Reply::error("ERR value is not a valid float")
    }
    pub fn no_such_key() -> Reply {
        Reply::error("ERR no such key")
    }
    pub fn out_of_range() -> Reply {
        Reply::error("ERR index out of range")
    }
    pub fn wrong_arity(name: &str) -> Reply {
        Reply::Error(Cow::Owned(format!(
            "ERR wrong number of arguments for '{}' command",
            name.to_ascii_lowercase()
        )))
    }
}

/// An array of bulk strings held already encoded, since a bulk string is the same bytes in RESP2 and RESP3.
///
/// Why: an LRANGE of 100 elements built as 100 `Reply::Bulk`s, then encoded, then dropped, cost about 27,000
/// instructions; written straight into one buffer it costs a few thousand.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BulkArray {
    len: usize,
    encoded: Vec<u8>,
}

impl BulkArray {
    pub fn with_capacity(items: usize) -> Self {
        BulkArray {
            len: 0,
            encoded: Vec::with_capacity(items * 16),
        }
    }

    pub fn push(&mut self, item: &[u8]) {
        super::encode::bulk(&mut self.encoded, item);
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements' encoding, without the array header.
    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }
}
