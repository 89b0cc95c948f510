//! The RDB format, version 10 (redis-server 7.0), both ways.
//!
//! A file is `REDIS0010`, AUX fields, then per database a SELECTDB and RESIZEDB opcode followed by its keys (each
//! optionally preceded by EXPIRETIME_MS, IDLE or FREQ), then EOF and a CRC-64 of everything before it. A key's
//! value is a type byte and a body ([`value`]); DUMP payloads are that same type byte and body followed by the
//! RDB version and a CRC-64 ([`payload`]).
//!
//! Files: `string` (lengths, integer and LZF strings, the checksumming input), `value` (one value both ways),
//! `listpack`, `ziplist` (with the older zipmap), `intset`, `stream` (the compact blobs), `write`
//! ([`RdbWriter`]), `read` ([`read_rdb`]), `payload` (DUMP's framing).

pub mod intset;
pub mod listpack;
pub mod payload;
pub mod read;
pub mod stream;
pub mod string;
pub mod value;
pub mod write;
pub mod ziplist;

#[cfg(test)]
mod fuzz_tests;

use std::fmt;

pub use read::{read_rdb, RdbItem, RdbSummary};
pub use string::crc64;
pub use value::Limits;
pub use write::{AccessStamps, AuxInfo, RdbOptions, RdbWriter};

/// The version this server writes, and the newest it reads.
pub const RDB_VERSION: u16 = 10;

/// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE payloads and RDB files are read without checking their CRC-64, so
/// that tests can feed hand-made corrupt bodies to the decoders (Redis's `server.skip_checksum_validation`).
static SKIP_CHECKSUM: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn set_skip_checksum(skip: bool) {
    SKIP_CHECKSUM.store(skip, std::sync::atomic::Ordering::Relaxed);
}

pub fn skip_checksum() -> bool {
    SKIP_CHECKSUM.load(std::sync::atomic::Ordering::Relaxed)
}

/// Value types (the byte before a key).
pub mod types {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Opcodes: bytes that stand where a value type would and are not one.
pub mod opcodes {
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// Why a file or payload could not be read. `Display` gives the line redis-server logs for the same failure, so
/// the start-up loader can log it and exit non-zero as Redis does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdbError {
    /// The file does not start with `REDIS`.
    WrongSignature,
    /// A version this server cannot read.
    Version(u32),
    /// The input ended early (or could not be read).
    ShortRead,
    /// The trailer's checksum is not the file's.
    Checksum { expected: u64, got: u64 },
    /// Anything else wrong in the contents, at a byte offset, in Redis's words where it has some.
    Corrupt { offset: u64, reason: String },
    /// A refusal Redis logs as is, without the internal-error prefix (module AUX data it has no module for).
    Refused(String),
    /// The key is an empty collection: Redis skips it when loading a file and refuses it in RESTORE.
    EmptyKey,
    /// Writing failed (the writer's I/O error, as text).
    Io(String),
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RdbError::WrongSignature => write!(f, "Wrong signature trying to load DB from file"),
            RdbError::Version(v) => write!(f, "Can't handle RDB format version {v}"),
            RdbError::ShortRead => {
                write!(
                    f,
                    "Short read or OOM loading DB. Unrecoverable error, aborting now."
                )
            }
            RdbError::Checksum { expected, got } => {
                write!(
                    f,
                    "Wrong RDB checksum expected: ({expected:x}) but got ({got:x}). Aborting now."
                )
            }
            RdbError::Corrupt { offset, reason } => write!(
                f,
                "Internal error in RDB reading offset {offset}, function at rdb.c:0 -> {reason}"
            ),
            RdbError::Refused(text) => write!(f, "{text}"),
            RdbError::EmptyKey => write!(f, "Empty keys skipped"),
            RdbError::Io(e) => write!(f, "Write error saving DB on disk: {e}"),
        }
    }
}

impl std::error::Error for RdbError {}

impl From<std::io::Error> for RdbError {
    fn from(e: std::io::Error) -> Self {
        RdbError::Io(e.to_string())
    }
}
