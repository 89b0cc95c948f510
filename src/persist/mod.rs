//! Persistence: how the keyspace leaves the process and comes back.
//!
//! # Where things live
//! - `rdb/`: the RDB format (version 10, as redis-server 7.0 writes it) both ways. `rdb::write` has
//!   [`rdb::RdbWriter`], which streams a file (header, AUX fields, databases, entries, EOF + CRC-64);
//!   `rdb::read` has [`rdb::read_rdb`], which yields each item of a file to a sink; `rdb::value` encodes and
//!   decodes one value (the part DUMP and RESTORE share with files); the compact blobs a value may be stored in
//!   have one module each (`listpack`, `ziplist` with the zipmap, `intset`, `stream`); `string` holds the
//!   primitives (lengths, integer and LZF strings, doubles) and the checksummed input.
//! - `dump`: the DUMP and RESTORE commands, on top of `rdb::value`.
//! - `snapshot`: a point-in-time copy of the keyspace without fork() (save before mutate), written to any
//!   [`snapshot::EntrySink`]; BGSAVE, SAVE, the AOF rewrite and full syncs use it.
//! - `child`: the writer process that stands in for Redis's forked child: BGSAVE and BGREWRITEAOF pipe their
//!   snapshot into it, so it can be found, killed and waited for as Redis's child is.
//! - `state`: what INFO persistence, LASTSAVE and the save points know about saves and loads.
//! - `rdbfile`: whole files: an atomic save (temp file, fsync, rename, fsync of the directory) and a load, with
//!   Redis's log lines; `save`: when saves run (SAVE, BGSAVE, save points, FLUSHALL, SHUTDOWN) and what they
//!   change; `commands`: SAVE, BGSAVE, LASTSAVE, DEBUG RELOAD; `startup`: loading at start-up, the -LOADING and
//!   -MISCONF gates, INFO persistence.

pub mod aof;
pub mod child;
pub mod commands;
pub mod dump;
pub mod rdb;
pub mod rdbfile;
pub mod rdbload;
pub mod save;
pub mod snapshot;
pub mod startup;
pub mod state;

pub use commands::debug_reload;
pub use startup::{gate, info_section, load_at_startup, LOADING};
pub use state::Persistence;

pub const COMMANDS: &[crate::commands::Command] = dump::COMMANDS;
pub use dump::encoder as dump_encoder;

#[cfg(test)]
mod snapshot_tests;
