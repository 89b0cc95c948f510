//! RESP on the wire: requests in (`reader`, `inline`, with `error` for what a malformed one gets), replies out
//! (`reply`, `encode`).
//!
//! Nothing here knows about commands or the keyspace: the reader turns bytes into argument spans, the encoder turns a
//! protocol-neutral [`Reply`] into RESP2 or RESP3 bytes for whichever protocol the client chose with `HELLO`. The
//! reader's memory follows the bytes that arrived, never a length a client announced (see `reader`).

mod encode;
mod error;
pub(crate) mod inline;
#[cfg(test)]
mod props;
mod reader;
mod reply;

pub use encode::encode;
pub use error::{query_sample, ProtocolError};
pub use inline::split_args;
pub use reader::{Frame, RequestLimits, RequestReader, PROTO_INLINE_MAX_SIZE};
pub use reply::{BulkBytes, Reply};

/// Which RESP version a connection speaks; chosen by `HELLO`, RESP2 until then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Resp2,
    Resp3,
}

impl Protocol {
    pub fn number(self) -> i64 {
        match self {
            Protocol::Resp2 => 2,
            Protocol::Resp3 => 3,
        }
    }
}
