//! What a key holds. Each data type lives in `crate::types::<type>` with its commands; this enum only ties them
//! together so the keyspace can store any of them.

use crate::protocol::Reply;
use crate::types::{hash::Hash, list::List, set::Set, stream::Stream, zset::ZSet};

pub use super::strvalue::StrValue;

/// 24 bytes: a string (inline up to 23 bytes, see `StrValue`, whose tag byte also tells the variants apart) or a
/// 16-byte header of the other types (a packed encoding's pointer and sizes, or a boxed table), so a small
/// collection costs no allocation besides its packed data.
#[derive(Clone)]
pub enum Value {
    Str(StrValue),
    List(Box<List>),
    Hash(Hash),
    Set(Set),
    ZSet(ZSet),
    Stream(Box<Stream>),
}

impl Value {
    /// The name TYPE and SCAN TYPE use.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }

    /// The encoding OBJECT ENCODING reports: the one Redis would use for the same contents under the current
    /// `*-max-listpack-*` settings, so tools that check encodings see what they expect.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Str(s) => crate::types::string::encoding_of(s),
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
            Value::Stream(_) => "stream",
        }
    }

    pub fn as_str(&self) -> Result<&[u8], Reply> {
        match self {
            Value::Str(s) => Ok(s),
            _ => Err(Reply::wrong_type()),
        }
    }
}
