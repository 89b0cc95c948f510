//! Where the memory goes, as Redis's `getMemoryOverheadData` splits it: what the server held at start-up, the
//! clients, the script cache, each database's tables, and the rest (the dataset). INFO memory, MEMORY STATS and
//! MEMORY DOCTOR are three views of it.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::protocol::Reply;
use crate::server::{stats, Server};

static STARTUP: AtomicU64 = AtomicU64::new(0);

/// Records what the server holds once it is ready (Redis's `used_memory_startup`).
pub fn mark_startup() {
    STARTUP.store(super::used(), Relaxed);
}

/// One database's table overhead (Redis's `overhead.hashtable.main` and `.expires`).
pub struct DbOverhead {
    pub db: usize,
    pub keys: u64,
    pub main: u64,
    pub expires: u64,
}

/// Redis's `struct redisMemOverhead`, for ferredis.
pub struct Overhead {
    pub used: u64,
    pub peak: u64,
    pub startup: u64,
    pub clients_normal: u64,
    pub lua_caches: u64,
    pub dbs: Vec<DbOverhead>,
    pub total: u64,
    pub keys: u64,
    pub bytes_per_key: u64,
    pub dataset: u64,
    pub dataset_perc: f64,
    pub peak_perc: f64,
    pub rss: u64,
    /// What glibc has handed out, holds from the system (arenas and mmapped blocks), and the RSS.
    pub allocator: (u64, u64, u64),
    pub clients: usize,
    pub scripts: usize,
}

/// Bytes a connection holds besides its buffers (measured: 30 idle connections add 1.27 MB to used_memory): its
/// reply and read buffers at rest, its thread's statistics, its state and registry entry.
pub(crate) const CLIENT_BASE: u64 = 40 * 1024;
/// A dict node holding an entry (next pointer, inline key, value, access stamp: a 64-byte block) and a bucket
/// pointer.
const MAIN_NODE: u64 = 72;
/// A node of the TTL index (next pointer, inline key, deadline: a 48-byte block) and a bucket pointer.
const EXPIRES_NODE: u64 = 56;

impl Overhead {
    pub fn measure(server: &Server) -> Overhead {
        let used = super::used();
        let peak = stats::peak_memory(used);
        let startup = STARTUP.load(Relaxed).min(used);
        let clients = server.clients.all();
        // Replicas' links count in `mem_clients_slaves` (their share of the replication buffer), as in Redis.
        let clients_normal = clients
            .iter()
            .filter(|c| c.repl_kind.load(Relaxed) != 1)
            .map(|c| {
                CLIENT_BASE
                    + (c.rbs.load(Relaxed) + c.output_memory() + c.multi_mem.load(Relaxed)) as u64
            })
            .sum::<u64>();
        let (scripts, script_bytes, _) = server.scripts.counts();
        let dbs = db_overheads(server);
        let keys: u64 = dbs.iter().map(|d| d.keys).sum();
        let tables: u64 = dbs.iter().map(|d| d.main + d.expires).sum();
        let total = startup + clients_normal + script_bytes as u64 + tables;
        let net = used.saturating_sub(startup);
        let dataset = used.saturating_sub(total);
        Overhead {
            used,
            peak,
            startup,
            clients_normal,
            lua_caches: script_bytes as u64,
            dbs,
            total,
            keys,
            bytes_per_key: net.checked_div(keys).unwrap_or(0),
            dataset,
            dataset_perc: percent(dataset, net),
            peak_perc: percent(used, peak),
            rss: rss_bytes(),
            allocator: allocator_stats(),
            clients: clients.len(),
            scripts,
        }
    }

    fn allocator_frag(&self) -> (f64, i64) {
        let (allocated, active, _) = self.allocator;
        (ratio(active, allocated), active as i64 - allocated as i64)
    }
    fn allocator_rss(&self) -> (f64, i64) {
        let (_, active, resident) = self.allocator;
        (ratio(resident, active), resident as i64 - active as i64)
    }
    fn rss_extra(&self) -> (f64, i64) {
        let (_, _, resident) = self.allocator;
        (ratio(self.rss, resident), self.rss as i64 - resident as i64)
    }
    fn total_frag(&self) -> (f64, i64) {
        (
            ratio(self.rss, self.used),
            self.rss as i64 - self.used as i64,
        )
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Each non-empty database's key count and table overhead, one shard read lock at a time. A shard locked for
/// writing is passed over: INFO may run inside a script, which holds every shard lock itself.
fn db_overheads(server: &Server) -> Vec<DbOverhead> {
    let mut out = Vec::new();
    for db in 0..server.keyspace.db_count() {
        let (mut keys, mut main, mut expires) = (0u64, 0u64, 0u64);
        for i in 0..crate::db::SHARDS {
            let Some(shard) = server.keyspace.db(db).shard(i).try_read() else {
                continue;
            };
            keys += shard.len() as u64;
            main += shard.dict.bucket_count() as u64 * 8 + shard.len() as u64 * MAIN_NODE;
            expires += shard.volatile_len() as u64 * EXPIRES_NODE;
        }
        if keys > 0 {
            out.push(DbOverhead {
                db,
                keys,
                main,
                expires,
            });
        }
    }
    out
}

/// Resident set size: the second field of /proc/self/statm, in pages.
pub fn rss_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u64;
    pages * page
}

/// glibc's own figures: (allocated, held from the system, resident), as Redis reads jemalloc's
/// allocated/active/resident.
fn allocator_stats() -> (u64, u64, u64) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's counters.
        let mi = unsafe { libc::mallinfo2() };
        let allocated = (mi.uordblks + mi.hblkhd) as u64;
        let active = (mi.arena + mi.hblkhd) as u64;
        (allocated, active, active.max(allocated))
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let used = super::used();
        (used, used, used)
    }
}

/// Redis's `bytesToHuman`.
pub fn human(n: u64) -> String {
    let n = n as f64;
    const UNITS: &[(f64, &str)] = &[
        (1024.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0, "P"),
        (1024.0 * 1024.0 * 1024.0 * 1024.0, "T"),
        (1024.0 * 1024.0 * 1024.0, "G"),
        (1024.0 * 1024.0, "M"),
        (1024.0, "K"),
    ];
    for (size, unit) in UNITS {
        if n >= *size {
            return format!("{:.2}{unit}", n / size);
        }
    }
    format!("{n}B")
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kb| kb * 1024)
}

/// INFO's `# Memory` section, Redis 7.0's fields in its order.
pub fn info_section(server: &Server, out: &mut String) {
    let m = Overhead::measure(server);
    let total_system = total_system_memory();
    let (_, _, lua_bytes) = server.scripts.counts();
    let lua = lua_bytes as u64;
    let (functions, function_bytes, function_vm) = server.scripts.function_counts();
    let (function_bytes, function_vm) = (function_bytes as u64, function_vm as u64);
    let libraries = server.scripts.library_codes().len();
    let max = super::maxmemory();
    let (af, afb) = m.allocator_frag();
    let (ar, arb) = m.allocator_rss();
    let (re, reb) = m.rss_extra();
    let (tf, tfb) = m.total_frag();
    let repl_mem = crate::replication::buffer_memory(server);
    let rows: Vec<(&str, String)> = vec![
        ("used_memory", m.used.to_string()),
        ("used_memory_human", human(m.used)),
        ("used_memory_rss", m.rss.to_string()),
        ("used_memory_rss_human", human(m.rss)),
        ("used_memory_peak", m.peak.to_string()),
        ("used_memory_peak_human", human(m.peak)),
        ("used_memory_peak_perc", format!("{:.2}%", m.peak_perc)),
        ("used_memory_overhead", m.total.to_string()),
        ("used_memory_startup", m.startup.to_string()),
        ("used_memory_dataset", m.dataset.to_string()),
        (
            "used_memory_dataset_perc",
            format!("{:.2}%", m.dataset_perc),
        ),
        ("allocator_allocated", m.allocator.0.to_string()),
        ("allocator_active", m.allocator.1.to_string()),
        ("allocator_resident", m.allocator.2.to_string()),
        ("total_system_memory", total_system.to_string()),
        ("total_system_memory_human", human(total_system)),
        ("used_memory_lua", lua.to_string()),
        ("used_memory_vm_eval", lua.to_string()),
        ("used_memory_lua_human", human(lua)),
        ("used_memory_scripts_eval", m.lua_caches.to_string()),
        ("number_of_cached_scripts", m.scripts.to_string()),
        ("number_of_functions", functions.to_string()),
        ("number_of_libraries", libraries.to_string()),
        ("used_memory_vm_functions", function_vm.to_string()),
        ("used_memory_vm_total", (lua + function_vm).to_string()),
        ("used_memory_vm_total_human", human(lua + function_vm)),
        ("used_memory_functions", function_bytes.to_string()),
        (
            "used_memory_scripts",
            (m.lua_caches + function_bytes).to_string(),
        ),
        (
            "used_memory_scripts_human",
            human(m.lua_caches + function_bytes),
        ),
        ("maxmemory", max.to_string()),
        ("maxmemory_human", human(max)),
        ("maxmemory_policy", super::policy_name().into()),
        ("allocator_frag_ratio", format!("{af:.2}")),
        ("allocator_frag_bytes", afb.to_string()),
        ("allocator_rss_ratio", format!("{ar:.2}")),
        ("allocator_rss_bytes", arb.to_string()),
        ("rss_overhead_ratio", format!("{re:.2}")),
        ("rss_overhead_bytes", reb.to_string()),
        ("mem_fragmentation_ratio", format!("{tf:.2}")),
        ("mem_fragmentation_bytes", tfb.to_string()),
        ("mem_not_counted_for_evict", repl_mem.2.to_string()),
        ("mem_replication_backlog", repl_mem.0.to_string()),
        ("mem_total_replication_buffers", repl_mem.1.to_string()),
        ("mem_clients_slaves", repl_mem.2.to_string()),
        ("mem_clients_normal", m.clients_normal.to_string()),
        ("mem_cluster_links", "0".into()),
        ("mem_aof_buffer", "0".into()),
        ("mem_allocator", "libc".into()),
        ("active_defrag_running", "0".into()),
        (
            "lazyfree_pending_objects",
            super::lazyfree::pending().to_string(),
        ),
        ("lazyfreed_objects", super::lazyfree::freed().to_string()),
    ];
    out.push_str("# Memory\r\n");
    for (k, v) in rows {
        let _ = write!(out, "{k}:{v}\r\n");
    }
}

/// MEMORY STATS: Redis's map, in its order.
pub fn stats_reply(server: &Server) -> Reply {
    let m = Overhead::measure(server);
    let int = |n: u64| Reply::Int(n as i64);
    let mut rows: Vec<(Reply, Reply)> = vec![
        (Reply::bulk("peak.allocated"), int(m.peak)),
        (Reply::bulk("total.allocated"), int(m.used)),
        (Reply::bulk("startup.allocated"), int(m.startup)),
        (Reply::bulk("replication.backlog"), int(0)),
        (Reply::bulk("clients.slaves"), int(0)),
        (Reply::bulk("clients.normal"), int(m.clients_normal)),
        (Reply::bulk("cluster.links"), int(0)),
        (Reply::bulk("aof.buffer"), int(0)),
        (Reply::bulk("lua.caches"), int(m.lua_caches)),
        (Reply::bulk("functions.caches"), int(0)),
    ];
    for d in &m.dbs {
        let inner = Reply::Map(vec![
            (Reply::bulk("overhead.hashtable.main"), int(d.main)),
            (Reply::bulk("overhead.hashtable.expires"), int(d.expires)),
            (Reply::bulk("overhead.hashtable.slot-to-keys"), int(0)),
        ]);
        rows.push((Reply::bulk(format!("db.{}", d.db)), inner));
    }
    let (af, afb) = m.allocator_frag();
    let (ar, arb) = m.allocator_rss();
    let (re, reb) = m.rss_extra();
    let (tf, tfb) = m.total_frag();
    let signed = |n: i64| Reply::Int(n);
    rows.extend([
        (Reply::bulk("overhead.total"), int(m.total)),
        (Reply::bulk("keys.count"), int(m.keys)),
        (Reply::bulk("keys.bytes-per-key"), int(m.bytes_per_key)),
        (Reply::bulk("dataset.bytes"), int(m.dataset)),
        (
            Reply::bulk("dataset.percentage"),
            Reply::Double(m.dataset_perc),
        ),
        (Reply::bulk("peak.percentage"), Reply::Double(m.peak_perc)),
        (Reply::bulk("allocator.allocated"), int(m.allocator.0)),
        (Reply::bulk("allocator.active"), int(m.allocator.1)),
        (Reply::bulk("allocator.resident"), int(m.allocator.2)),
        (
            Reply::bulk("allocator-fragmentation.ratio"),
            Reply::Double(af),
        ),
        (Reply::bulk("allocator-fragmentation.bytes"), signed(afb)),
        (Reply::bulk("allocator-rss.ratio"), Reply::Double(ar)),
        (Reply::bulk("allocator-rss.bytes"), signed(arb)),
        (Reply::bulk("rss-overhead.ratio"), Reply::Double(re)),
        (Reply::bulk("rss-overhead.bytes"), signed(reb)),
        (Reply::bulk("fragmentation"), Reply::Double(tf)),
        (Reply::bulk("fragmentation.bytes"), signed(tfb)),
    ]);
    Reply::Map(rows)
}

/// MEMORY DOCTOR: Redis's `getMemoryDoctorReport`, its tests and its words.
pub fn doctor_report(server: &Server) -> String {
    let m = Overhead::measure(server);
    if m.used < 5 * 1024 * 1024 {
        return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n".into();
    }
    let big = 10u64 << 20;
    let (af, afb) = m.allocator_frag();
    let (ar, arb) = m.allocator_rss();
    let (re, reb) = m.rss_extra();
    let (tf, tfb) = m.total_frag();
    let clients = m.clients.max(1) as u64;
    let findings: [(bool, &str); 7] = [
        (m.peak as f64 / m.used as f64 > 1.5, PEAK),
        (tf > 1.4 && tfb > big as i64, HIGH_FRAG),
        (af > 1.1 && afb > big as i64, ALLOC_FRAG),
        (ar > 1.1 && arb > big as i64, ALLOC_RSS),
        (re > 1.1 && reb > big as i64, PROC_RSS),
        (m.clients_normal / clients > 200 * 1024, CLIENT_BUF),
        (m.scripts > 1000, SCRIPTS),
    ];
    if !findings.iter().any(|(hit, _)| *hit) {
        return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n".into();
    }
    let mut s =
        String::from("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
    for (_, text) in findings.iter().filter(|(hit, _)| *hit) {
        s.push_str(text);
        s.push_str("\n\n");
    }
    s.push_str("I'm here to keep you safe, Sam. I want to help you.\n");
    s
}

const PEAK: &str = " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.";
const HIGH_FRAG: &str = " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"libc\".";
const ALLOC_FRAG: &str = " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.";
const ALLOC_RSS: &str = " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.";
const PROC_RSS: &str = " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.";
const CLIENT_BUF: &str = " * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.";
const SCRIPTS: &str = " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.";
