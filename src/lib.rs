//! ferredis: a Redis 7.0 compatible server on blocking I/O, one pool thread per connection.
//!
//! # Where things live
//! - `protocol/`: RESP in and out. `reader` parses requests (multibulk and inline) from one buffer into argument
//!   spans, under Redis's limits (`error` words what a malformed request gets); `reply` is the protocol-neutral
//!   reply value; `encode` writes it as RESP2 or RESP3.
//! - `server/`: the listeners and the thread pool (`listener`), the per-connection loop (`connection`), the client
//!   registry behind CLIENT and INFO clients (`clients`), per-thread statistics (`stats`), the fences that keep
//!   commands from different connections in arrival order where another client can tell (`fence`).
//! - `commands/`: the command table (`table`, the only list of commands), the dispatcher (`dispatch`: lookup,
//!   arity, locks, call), the argument cursor (`args`) and the commands that belong to no data type
//!   (`connection`, `client`, `info`, `config_cmd`, `introspection` for COMMAND, `server_cmds`, `keys`,
//!   `expire`, `scan`, `object`).
//! - `db/`: the keyspace: databases of shards behind `RwLock`s (`mod`), the lock plan that takes shard locks in
//!   one global order (`locks`), the chained dict with Redis's SCAN cursor (`dict`), active expiry (`expiry`).
//! - `types/`: one module per data type, holding the type and its commands (`string`, `list`, `hash`, `set`,
//!   `zset`, `stream`, `hyperloglog`;
//!   bitmaps are string commands, in `string::bits` and `string::bitfield`).
//! - `effects/`: the one write path: how a change is reported (`Change`), the effects of the running unit
//!   (`pending`) and the server-wide feed of effects that AOF and replication will read (`feed`).
//! - `blocking`: clients blocked on keys; `pubsub`: channels and subscribers; `config/`: every parameter, the
//!   command line and the config file.
//! - `util/`: Redis's number formats, glob matching, clocks. `logging`: the server log in Redis's line format,
//!   the start-up logo.
//! - `persist/`: the RDB format both ways (`rdb`) and DUMP/RESTORE (`dump`).
//! - `replication/`: PSYNC2 in both roles (master side, replica link, REPLICAOF, ROLE, WAIT, INFO replication).
//! - `memory/`: what the server holds (a counting global allocator, INFO memory, MEMORY), `maxmemory` with
//!   Redis's eviction policies, client eviction (`maxmemory-clients`).
//! - `scripting/`: Lua scripting (EVAL, EVALSHA, SCRIPT): the interpreter, `redis.call`, conversions.
//!
//! A request goes: `connection` reads bytes → `RequestReader` yields a frame → `dispatch::execute` resolves the
//! command in the table, checks arity, locks the shards of its keys → the handler returns a `Reply` →
//! `encode` appends it to the output buffer → one write per batch of pipelined requests.

pub mod acl;
pub mod blocking;
pub mod commands;
pub mod config;
pub mod crash;
pub mod db;
pub mod effects;
pub mod logging;
pub mod memory;
pub mod ops;
pub mod persist;
pub mod protocol;
pub mod pubsub;
pub mod replication;
pub mod scripting;
pub mod server;
pub mod tls;
pub mod tracking;
pub mod types;
pub mod util;
