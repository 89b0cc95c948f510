//! Memory: what the server holds (`alloc`, INFO `used_memory`), what a key costs (`usage`), `maxmemory` with
//! Redis's eight eviction policies (`evict`), and the MEMORY command (`command`).
//!
//! The limit and the policy live in process-wide atomics that `Config` sets, as Redis keeps them in `server`:
//! every command reads them before it runs ([`gate`]), so they must cost one load when no limit is set.

mod alloc;
pub mod clients;
pub mod command;
pub mod evict;
pub mod lazyfree;
pub mod overhead;
pub mod usage;

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

use crate::commands::{flags, Command};
use crate::protocol::Reply;
use crate::server::clients::ClientState;
use crate::server::Server;

/// INFO `used_memory`: what the allocator holds, replies waiting in user space included (as Redis's reply
/// lists); not what the kernel's socket buffers hold, which Redis does not count either.
pub fn used() -> u64 {
    alloc::used()
}

/// INFO `mem_not_counted_for_evict`: the replicas' output buffers, which eviction leaves out of used memory.
pub fn not_counted_for_evict(server: &Server) -> u64 {
    crate::replication::buffer_memory(server).2
}

/// Redis's eight `maxmemory-policy` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    NoEviction,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
}

impl Policy {
    const ALL: [(Policy, &'static str); 8] = [
        (Policy::NoEviction, "noeviction"),
        (Policy::AllkeysLru, "allkeys-lru"),
        (Policy::AllkeysLfu, "allkeys-lfu"),
        (Policy::AllkeysRandom, "allkeys-random"),
        (Policy::VolatileLru, "volatile-lru"),
        (Policy::VolatileLfu, "volatile-lfu"),
        (Policy::VolatileRandom, "volatile-random"),
        (Policy::VolatileTtl, "volatile-ttl"),
    ];

    /// Whether only keys with a TTL may be evicted.
    pub fn volatile(self) -> bool {
        matches!(
            self,
            Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
    }
}

static MAXMEMORY: AtomicU64 = AtomicU64::new(0);
static POLICY: AtomicU8 = AtomicU8::new(0);
static SAMPLES: AtomicU32 = AtomicU32::new(5);
static TENACITY: AtomicU32 = AtomicU32::new(10);

/// Mirrors a memory parameter from `Config` (called for every parameter set; others are ignored).
pub fn apply_config(name: &str, v: &str) {
    let num = || v.parse::<u64>().unwrap_or(0);
    match name {
        "maxmemory" => {
            MAXMEMORY.store(num(), Relaxed);
            let used = used();
            if num() != 0 && num() < used {
                log::warn!("WARNING: the new maxmemory value set via CONFIG SET ({}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.", num());
            }
        }
        "maxmemory-policy" => {
            let i = Policy::ALL.iter().position(|(_, n)| *n == v).unwrap_or(0);
            POLICY.store(i as u8, Relaxed);
        }
        "maxmemory-samples" => SAMPLES.store(num().clamp(1, 64) as u32, Relaxed),
        "maxmemory-eviction-tenacity" => TENACITY.store(num().min(100) as u32, Relaxed),
        "maxmemory-clients" => clients::apply_config(v),
        "client-output-buffer-limit" => crate::server::output_limit::apply_config(v),
        _ => {}
    }
}

/// `maxmemory` in bytes; 0 = no limit.
pub fn maxmemory() -> u64 {
    MAXMEMORY.load(Relaxed)
}

pub fn policy() -> Policy {
    Policy::ALL[POLICY.load(Relaxed) as usize % Policy::ALL.len()].0
}

fn samples() -> usize {
    SAMPLES.load(Relaxed) as usize
}

fn tenacity() -> u32 {
    TENACITY.load(Relaxed)
}

/// Whether small integers are shared objects (OBJECT REFCOUNT): not under a `maxmemory` with an LRU or LFU
/// policy, where each key needs its own access stamp (Redis's `MAXMEMORY_FLAG_NO_SHARED_INTEGERS`).
pub fn shares_integers() -> bool {
    maxmemory() == 0
        || matches!(
            policy(),
            Policy::NoEviction
                | Policy::AllkeysRandom
                | Policy::VolatileRandom
                | Policy::VolatileTtl
        )
}

/// Redis's name for the policy, for INFO.
pub fn policy_name() -> &'static str {
    let p = policy();
    Policy::ALL
        .iter()
        .find(|(q, _)| *q == p)
        .map_or("noeviction", |(_, n)| n)
}

/// Redis's `shared.oomerr`.
pub fn oom_error() -> Reply {
    Reply::error("OOM command not allowed when used memory > 'maxmemory'.")
}

thread_local! {
    /// Whether the command this thread is running found the server out of memory when it started (Redis's
    /// `server.pre_command_oom_state`): scripts refuse their first `denyoom` call then.
    static PRE_COMMAND_OOM: Cell<bool> = const { Cell::new(false) };
}

/// Whether the running command started out of memory (see `PRE_COMMAND_OOM`).
pub fn pre_command_oom() -> bool {
    maxmemory() != 0 && PRE_COMMAND_OOM.with(Cell::get)
}

/// Redis's maxmemory step of `processCommand`, run before a command with no lock held: evicts keys until used
/// memory is under `maxmemory` (or nothing more can go), and refuses with `-OOM` a command that could use more
/// memory if it could not get there: `denyoom` commands, EXEC of a transaction holding one, and anything but
/// EXEC, DISCARD, QUIT and RESET inside MULTI.
#[inline]
/// `cmd_flags` are those Redis's `getCommandFlags` gives (`transaction::effective_flags`): a script's declared
/// ones, and for EXEC its queue's too.
pub fn gate(server: &Server, client: &ClientState, cmd: &Command, cmd_flags: u32) -> Option<Reply> {
    if maxmemory() == 0 && clients::limit() == 0 {
        return None;
    }
    gate_limited(server, client, cmd, cmd_flags)
}

#[cold]
fn gate_limited(
    server: &Server,
    client: &ClientState,
    cmd: &Command,
    cmd_flags: u32,
) -> Option<Reply> {
    // Clients first, as Redis: what their buffers free may spare the keys.
    clients::evict(server, client.info.id);
    if maxmemory() == 0 {
        return None;
    }
    let mut out_of_memory = evict::perform(server) == evict::Outcome::Fail;
    let deny = denied_when_out_of_memory(client, cmd, cmd_flags);
    if out_of_memory && deny && crate::server::fence::before_oom(server, &client.info) {
        out_of_memory = evict::perform(server) == evict::Outcome::Fail;
    }
    PRE_COMMAND_OOM.with(|c| c.set(out_of_memory));
    (out_of_memory && deny).then(oom_error)
}

/// Whether Redis refuses this command when memory is over the limit and nothing can be evicted: `denyoom`
/// commands, and in a transaction anything but DISCARD, QUIT and RESET (EXEC when a queued command is `denyoom`).
fn denied_when_out_of_memory(client: &ClientState, cmd: &Command, cmd_flags: u32) -> bool {
    let in_multi = crate::commands::transaction::in_multi(client);
    match cmd.name {
        "discard" | "quit" | "reset" => false,
        "exec" => cmd_flags & flags::DENYOOM != 0,
        _ => in_multi || cmd_flags & flags::DENYOOM != 0,
    }
}
