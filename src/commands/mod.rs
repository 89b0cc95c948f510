//! Commands: the table that says what exists, the dispatcher that runs a request, and the handler context.
//!
//! A handler is `fn(&mut Ctx, Args) -> Reply`: it gets the arguments (already arity-checked) and the locked slice of
//! the keyspace, and returns a reply value. It never sees a socket, a thread or the wire format.
//! Handlers for a data type live with that type in `crate::types`; the ones here are not about one type.

pub mod args;
pub mod client;
pub mod cluster;
pub mod config_cmd;
pub mod connection;
mod ctx;
pub mod debug;
pub mod dispatch;
pub mod docs;
pub mod expire;
pub mod info;
pub mod introspection;
pub mod keys;
pub mod keyspec;
pub mod migrate;
pub mod object;
pub mod scan;
pub mod server_cmds;
pub mod sort;
pub mod table;
pub mod transaction;

pub use args::{Args, Cursor};
pub use ctx::Ctx;

use crate::db::{Keyspace, LockPlan};
use crate::protocol::Reply;

pub type Handler = fn(&mut Ctx, Args) -> Reply;

/// Command flags, named as in Redis's command table (and reported by COMMAND INFO under those names).
pub mod flags {
    pub const WRITE: u32 = 1 << 0;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 14;
    pub const NO_MULTI: u32 = 1 << 15;
    pub const ALLOW_BUSY: u32 = 1 << 16;
    pub const NO_ASYNC_LOADING: u32 = 1 << 17;
    /// Refused unless `enable-<command>-command` allows the client (DEBUG, MODULE LOAD); hidden from COMMAND INFO,
    /// as in Redis.
    pub const PROTECTED: u32 = 1 << 18;
    /// Runs after the input other clients sent before it, as every command does in Redis (`server::fence`):
    /// commands that act on other clients (CLIENT UNBLOCK, CLIENT KILL, REPLICAOF, which unblocks them) or report
    /// what they did (CLIENT LIST: a client closed by the command it sent first is gone from the list). Writes
    /// are ordered without it. Not shown by COMMAND INFO.
    pub const ORDERED: u32 = 1 << 19;

    /// (flag, name) for COMMAND INFO, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        // MAY_REPLICATE is not listed: Redis 7.0 hides it from COMMAND INFO on purpose.
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// The channels a pub/sub command names, for ACL checks (Redis's `commands_with_channels`).
pub mod chan {
    /// Argument 1 is a channel it publishes to.
    pub const PUBLISH: u8 = 1;
    /// Every argument is a channel it subscribes to.
    pub const SUBSCRIBE: u8 = 2;
    /// ... as a pattern (PSUBSCRIBE), which ACL channel rules match literally.
    pub const PATTERN: u8 = 4;
}

/// Which shards a command locks, beyond its key positions.
#[derive(Clone, Copy)]
pub enum Scope {
    /// The keys at the command's key positions (none for PING).
    Keys,
    /// Every shard of the client's database (KEYS, SCAN, DBSIZE, FLUSHDB, RANDOMKEY).
    WholeDb,
    /// Every shard of every database (FLUSHALL, SWAPDB).
    AllDbs,
    /// Worked out from the arguments (MOVE, COPY ... DB n).
    Custom(fn(Args, usize, &Keyspace, &mut LockPlan)),
}

/// One row of the command table.
#[derive(Clone, Copy)]
pub struct Command {
    /// Lower case; for a subcommand, just its own name (`get` under `config`).
    pub name: &'static str,
    /// Redis's convention: N exactly, -N at least N (the name counts).
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub key_step: i32,
    /// For commands whose keys move (ZUNIONSTORE numkeys, XREAD STREAMS): the argument indexes of the keys.
    pub find_keys: Option<fn(Args) -> Vec<usize>>,
    pub scope: Scope,
    pub handler: Handler,
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    pub subcommands: &'static [Command],
    /// ACL categories Redis's command file gives beyond those the flags imply, where they are not just the one
    /// the group implies (FLUSHALL: `keyspace`, `dangerous`; COMMAND: `connection`); `None` = the group's.
    pub acl: Option<&'static [&'static str]>,
    /// Redis's key specs for the command (COMMAND INFO, COMMAND GETKEYS[ANDFLAGS]); see [`keyspec`].
    pub key_specs: &'static [keyspec::KeySpec],
    /// The channels it names (`chan::*`), 0 for none.
    pub channels: u8,
}

impl Command {
    pub const fn new(name: &'static str, arity: i32, flags: u32, handler: Handler) -> Self {
        Command {
            name,
            arity,
            flags,
            first_key: 0,
            last_key: 0,
            key_step: 0,
            find_keys: None,
            scope: Scope::Keys,
            handler,
            group: "generic",
            since: "1.0.0",
            summary: "",
            complexity: "",
            subcommands: &[],
            acl: None,
            key_specs: &[],
            channels: 0,
        }
    }

    /// The channels a pub/sub command names (`chan::*`).
    pub const fn channels(mut self, channels: u8) -> Self {
        self.channels = channels;
        self
    }

    /// Key positions: first, last (negative counts from the end) and step.
    pub const fn keys(mut self, first: i32, last: i32, step: i32) -> Self {
        self.first_key = first;
        self.last_key = last;
        self.key_step = step;
        self
    }

    pub const fn movable(mut self, find: fn(Args) -> Vec<usize>) -> Self {
        self.find_keys = Some(find);
        self
    }

    pub const fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    pub const fn doc(
        mut self,
        group: &'static str,
        since: &'static str,
        summary: &'static str,
    ) -> Self {
        self.group = group;
        self.since = since;
        self.summary = summary;
        self
    }

    pub const fn complexity(mut self, complexity: &'static str) -> Self {
        self.complexity = complexity;
        self
    }

    /// The key specs of Redis's command file.
    pub const fn key_specs(mut self, specs: &'static [keyspec::KeySpec]) -> Self {
        self.key_specs = specs;
        self
    }

    /// The ACL categories of Redis's command file, instead of the one the group implies (see [`Command::acl`]).
    pub const fn acl(mut self, categories: &'static [&'static str]) -> Self {
        self.acl = Some(categories);
        self
    }

    pub const fn subcommands(mut self, subs: &'static [Command]) -> Self {
        self.subcommands = subs;
        self
    }

    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// Whether `argc` arguments (name included) satisfy the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i64;
        let arity = self.arity as i64;
        if arity >= 0 {
            argc == arity
        } else {
            argc >= -arity
        }
    }

    /// Argument indexes holding keys, from the key positions (or the movable-key finder).
    pub fn key_indexes(&self, args: Args) -> Vec<usize> {
        if let Some(find) = self.find_keys {
            return find(args);
        }
        let mut out = Vec::new();
        self.for_each_key(args, |i| out.push(i));
        out
    }

    /// Calls `f` with each key index; no allocation, for the hot path.
    #[inline]
    pub fn for_each_key(&self, args: Args, mut f: impl FnMut(usize)) {
        if let Some(find) = self.find_keys {
            find(args).into_iter().for_each(f);
            return;
        }
        if self.first_key <= 0 {
            return;
        }
        let argc = args.len() as i32;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key.min(argc - 1)
        };
        let step = self.key_step.max(1);
        let mut i = self.first_key;
        while i <= last {
            f(i as usize);
            i += step;
        }
    }
}
