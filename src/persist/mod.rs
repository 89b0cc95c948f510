//! Persistence: how the keyspace leaves the process and comes back.
//!
//! # Where things live
//! - `snapshot`: a point-in-time copy of the keyspace without fork() (save before mutate), written to any
//!   [`snapshot::EntrySink`]; BGSAVE and SAVE use it, the AOF rewrite and full syncs will.
//! - `state`: what INFO persistence, LASTSAVE and the save points know about saves and loads.

pub mod snapshot;
pub mod state;

pub use state::Persistence;

#[cfg(test)]
mod snapshot_tests;
