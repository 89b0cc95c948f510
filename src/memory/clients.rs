//! `maxmemory-clients`: client eviction. When what the connections hold together (read buffers, queued and
//! unsent replies, MULTI queues) passes the limit, the connections holding the most are closed, biggest first,
//! until they fit, as Redis's `evictClients` does before each command. CLIENT NO-EVICT clients are never closed
//! (but count). Only when a limit is set does a command pay for the walk over the clients.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::server::clients::ClientInfo;
use crate::server::{stats, Server};

/// The limit in bytes, or 0.
static BYTES: AtomicU64 = AtomicU64::new(0);
/// The limit as a percentage of `maxmemory`, or 0.
static PERCENT: AtomicU64 = AtomicU64::new(0);

/// Mirrors `maxmemory-clients` (bytes, or `N%` of maxmemory) from `Config`.
pub fn apply_config(v: &str) {
    match v.strip_suffix('%') {
        Some(p) => {
            PERCENT.store(p.parse().unwrap_or(0), Relaxed);
            BYTES.store(0, Relaxed);
        }
        None => {
            BYTES.store(v.parse().unwrap_or(0), Relaxed);
            PERCENT.store(0, Relaxed);
        }
    }
}

/// The limit in bytes now; 0 = no client eviction.
pub fn limit() -> u64 {
    match PERCENT.load(Relaxed) {
        0 => BYTES.load(Relaxed),
        p => super::maxmemory() / 100 * p,
    }
}

/// What Redis 7.0.15 counts for a client besides its buffers (`zmalloc_size` of the client struct and its fixed
/// lists), as CLIENT LIST's `tot-mem` shows for a client with empty buffers.
pub const CLIENT_FIXED: usize = 768;

/// What a connection holds besides its fixed cost: its query and reply buffers (as Redis would size them, see
/// `crate::server::bufmodel`), its unsent or queued replies, its MULTI queue, and the replies its socket holds
/// unsent (CLIENT LIST `tot-mem` less the fixed part and the running command's arguments).
///
/// The socket's share ([`in_kernel`]) is what makes client eviction act when Redis's would: Redis writes at most
/// 64 kB to a client per event-loop turn, so a client that does not read soon has its replies piling up in the
/// reply list, where `tot-mem` sees them; a connection thread here hands the kernel all it takes at once. It is
/// left out of `used_memory` (Redis does not count socket buffers there, and key eviction must not feed on
/// them).
pub fn held(c: &ClientInfo) -> u64 {
    // The query buffer as Redis sizes it (a big argument's announced length), or ferredis's own read buffer where
    // it holds more (up to twice the bytes of a request in progress). The reply buffer at rest is in the fixed
    // part.
    let query = c.bufs.lock().query_memory().max(c.rbs.load(Relaxed));
    let buffers = query + c.output_memory() + c.multi_mem.load(Relaxed);
    (buffers + in_kernel(c.fd) + bookkeeping(c)) as u64
}

/// CLIENT LIST's `tot-mem`: what client eviction weighs, plus the arguments of the command the client runs
/// (`argv_mem` bytes in `argc` arguments, and the argument array).
pub fn total(c: &ClientInfo, argv_mem: usize, argc: usize) -> usize {
    // The guard is dropped before `held` locks again.
    let reply = c.bufs.lock().reply().0;
    CLIENT_FIXED + reply + held(c) as usize + argv_mem + argc * std::mem::size_of::<usize>()
}

/// What Redis counts for a client's subscriptions (`pubsubMemOverhead`: a list node, 24 bytes, a pattern; a dict
/// entry and about a bucket, 32, a channel or shard channel), watched keys (`multiStateMemOverhead`: a list
/// node and a `watchedKey`, 56 bytes, each) and tracking prefixes (32 bytes per node of its prefix rax: about
/// two nodes a prefix).
pub fn bookkeeping(c: &ClientInfo) -> usize {
    let channels = c.subscriptions.load(Relaxed) + c.ssubscriptions.load(Relaxed);
    channels as usize * 32
        + c.psubscriptions.load(Relaxed) as usize * 24
        + c.watch_dirty.watched() * 56
        + c.tracking_prefixes.load(Relaxed) * 64
}

/// Bytes written to socket `fd` and not yet acknowledged by the peer (Linux's SIOCOUTQ).
pub fn in_kernel(fd: i32) -> usize {
    #[cfg(target_os = "linux")]
    {
        let mut queued: libc::c_int = 0;
        // SAFETY: TIOCOUTQ (= SIOCOUTQ for sockets) writes one int through the pointer; on a descriptor that is
        // not a socket (or no longer open) it fails and `queued` stays 0.
        let rc = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut queued) };
        if rc == 0 {
            return usize::try_from(queued).unwrap_or(0);
        }
    }
    let _ = fd;
    0
}

/// Closes the biggest evictable connections while all of them together hold more than the limit (`current`, the
/// client whose command asks, may be one of them: its command still runs, then it is closed).
pub fn evict(server: &Server, current: u64) {
    let limit = limit();
    if limit == 0 {
        return;
    }
    // What CLIENT LIST's tot-mem shows, as Redis weighs it (`getClientMemoryUsage`), for the normal and pubsub
    // clients: replication links are left out, as Redis leaves replica and master clients out.
    let mut clients: Vec<(u64, std::sync::Arc<ClientInfo>)> = server
        .clients
        .live()
        .into_iter()
        .filter(|c| c.repl_kind.load(Relaxed) == 0)
        .map(|c| (total(&c, 0, 0) as u64, c))
        .collect();
    let mut total: u64 = clients.iter().map(|(m, _)| m).sum();
    if total <= limit {
        return;
    }
    clients.retain(|(_, c)| !c.no_evict.load(Relaxed));
    clients.sort_by_key(|(mem, _)| std::cmp::Reverse(*mem));
    let mut closed = Vec::new();
    for (mem, c) in clients {
        if total <= limit {
            break;
        }
        log::debug!("Evicting client: id={} addr={}", c.id, c.addr);
        c.kill();
        stats::global().evicted_clients.fetch_add(1, Relaxed);
        total = total.saturating_sub(mem);
        if c.id != current {
            closed.push(c.id);
        }
    }
    wait_gone(server, &closed);
}

/// Redis frees an evicted client at once; here its thread does, on waking up: give them a moment, so that the
/// key eviction that follows sees the memory they held as free (a sleeping thread could not be woken anyway).
fn wait_gone(server: &Server, ids: &[u64]) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(200);
    while std::time::Instant::now() < deadline
        && server.clients.all().iter().any(|c| ids.contains(&c.id))
    {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
