//! INFO: Redis 7.0's sections and field names, every value measured (RSS from /proc, CPU from getrusage,
//! counters summed over the per-thread stats). Fields for machinery ferredis does not have (replicas, forks,
//! scripts) show the values Redis shows when that machinery is idle; fields ferredis cannot measure are left out.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use super::connection::REDIS_VERSION;
use super::flags::*;
use super::{table, Args, Command, Ctx};
use crate::protocol::Reply;
use crate::server::{stats, Server};
use crate::util::time::{now_ms, now_us};

pub const COMMANDS: &[Command] = &[Command::new("info", -1, LOADING | STALE, info)
    .doc(
        "server",
        "1.0.0",
        "Get information and statistics about the server",
    )
    .acl(&["dangerous"])
    .complexity("O(1)")];

/// What `INFO` (no argument, or `default`) shows; `all` adds commandstats, `everything` too.
const DEFAULT: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "cluster",
    "keyspace",
];

fn info(ctx: &mut Ctx, args: Args) -> Reply {
    let mut wanted: Vec<String> = Vec::new();
    if args.len() == 1 {
        wanted.extend(DEFAULT.iter().map(|s| s.to_string()));
    }
    for arg in args.iter().skip(1) {
        let name = String::from_utf8_lossy(arg).to_ascii_lowercase();
        let expand: &[&str] = match name.as_str() {
            "default" => DEFAULT,
            "all" | "everything" => ALL,
            _ => &[],
        };
        if expand.is_empty() {
            wanted.push(name);
        } else {
            wanted.extend(expand.iter().map(|s| s.to_string()));
        }
    }
    let mut out = String::new();
    for section in ALL {
        if !wanted.iter().any(|w| w == section) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        write_section(ctx.server, section, &mut out);
    }
    Reply::Verbatim("txt", out.into_bytes())
}

/// `key:value\r\n`
macro_rules! field {
    ($out:expr, $key:expr, $value:expr) => {
        let _ = write!($out, "{}:{}\r\n", $key, $value);
    };
}

fn write_section(server: &Server, section: &str, out: &mut String) {
    match section {
        "server" => server_section(server, out),
        "clients" => clients_section(server, out),
        "memory" => memory_section(server, out),
        "persistence" => persistence_section(server, out),
        "stats" => stats_section(server, out),
        "replication" => replication_section(server, out),
        "cpu" => cpu_section(out),
        "modules" => out.push_str("# Modules\r\n"),
        "commandstats" => commandstats_section(out),
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            for (code, count) in stats::error_totals() {
                let _ = write!(out, "errorstat_{code}:count={count}\r\n");
            }
        }
        "cluster" => {
            out.push_str("# Cluster\r\n");
            field!(out, "cluster_enabled", 0);
        }
        "keyspace" => keyspace_section(server, out),
        _ => {}
    }
}

fn server_section(server: &Server, out: &mut String) {
    out.push_str("# Server\r\n");
    field!(out, "redis_version", REDIS_VERSION);
    field!(out, "ferredis_version", env!("CARGO_PKG_VERSION"));
    field!(out, "redis_git_sha1", "00000000");
    field!(out, "redis_git_dirty", 0);
    field!(out, "redis_mode", "standalone");
    field!(out, "os", os_name());
    field!(out, "arch_bits", usize::BITS);
    field!(out, "process_id", std::process::id());
    field!(out, "process_supervised", "no");
    field!(out, "run_id", server.run_id);
    field!(out, "tcp_port", server.config.port());
    field!(out, "server_time_usec", now_us());
    let uptime = server.started.elapsed().as_secs();
    field!(out, "uptime_in_seconds", uptime);
    field!(out, "uptime_in_days", uptime / 86400);
    field!(out, "hz", server.config.hz());
    field!(out, "configured_hz", server.config.hz());
    field!(out, "lru_clock", crate::db::lru_clock() & 0xFF_FFFF);
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    field!(out, "executable", exe);
    let file = server
        .config
        .file()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    field!(out, "config_file", file);
    field!(out, "io_threads_active", 0);
}

fn clients_section(server: &Server, out: &mut String) {
    let clients = server.clients.all();
    let blocked = clients.iter().filter(|c| c.blocked.load(Relaxed)).count();
    out.push_str("# Clients\r\n");
    field!(out, "connected_clients", clients.len());
    field!(out, "cluster_connections", 0);
    field!(out, "maxclients", server.config.maxclients());
    field!(out, "blocked_clients", blocked);
    field!(out, "tracking_clients", 0);
}

/// Redis's `bytesToHuman`.
fn human(n: u64) -> String {
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

/// Resident set size: the second field of /proc/self/statm, in pages.
fn rss_bytes() -> u64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|p| p.parse::<u64>().ok())
        })
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(0) as u64;
    pages * page
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .and_then(|k| k.parse::<u64>().ok())
                })
        })
        .map_or(0, |kb| kb * 1024)
}

fn memory_section(server: &Server, out: &mut String) {
    let used = stats::allocated_bytes();
    let peak = stats::peak_memory(used);
    let rss = rss_bytes();
    let total = total_system_memory();
    let maxmemory: u64 = server
        .config
        .get("maxmemory")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    out.push_str("# Memory\r\n");
    field!(out, "used_memory", used);
    field!(out, "used_memory_human", human(used));
    field!(out, "used_memory_rss", rss);
    field!(out, "used_memory_rss_human", human(rss));
    field!(out, "used_memory_peak", peak);
    field!(out, "used_memory_peak_human", human(peak));
    let peak_perc = if peak > 0 {
        used as f64 * 100.0 / peak as f64
    } else {
        0.0
    };
    field!(out, "used_memory_peak_perc", format!("{peak_perc:.2}%"));
    field!(out, "total_system_memory", total);
    field!(out, "total_system_memory_human", human(total));
    let (scripts, script_bytes, lua_bytes) = server.scripts.counts();
    field!(out, "used_memory_lua", lua_bytes);
    field!(out, "used_memory_lua_human", human(lua_bytes as u64));
    field!(out, "used_memory_scripts_eval", script_bytes);
    field!(out, "number_of_cached_scripts", scripts);
    field!(out, "used_memory_scripts", script_bytes);
    field!(out, "used_memory_scripts_human", human(script_bytes as u64));
    field!(out, "maxmemory", maxmemory);
    field!(out, "maxmemory_human", human(maxmemory));
    field!(
        out,
        "maxmemory_policy",
        server.config.get("maxmemory-policy").unwrap_or_default()
    );
    let ratio = if used > 0 {
        rss as f64 / used as f64
    } else {
        0.0
    };
    field!(out, "mem_fragmentation_ratio", format!("{ratio:.2}"));
    field!(out, "mem_fragmentation_bytes", rss as i64 - used as i64);
    field!(out, "mem_allocator", "libc");
    field!(out, "lazyfree_pending_objects", 0);
}

fn persistence_section(server: &Server, out: &mut String) {
    crate::persist::info_section(server, out);
}

fn stats_section(server: &Server, out: &mut String) {
    let g = stats::global();
    out.push_str("# Stats\r\n");
    field!(
        out,
        "total_connections_received",
        g.total_connections.load(Relaxed)
    );
    field!(
        out,
        "total_commands_processed",
        stats::sum(|t| t.total_commands.get())
    );
    field!(
        out,
        "total_net_input_bytes",
        stats::sum(|t| t.net_input_bytes.get())
    );
    field!(
        out,
        "total_net_output_bytes",
        stats::sum(|t| t.net_output_bytes.get())
    );
    let (ops, input_kbps, output_kbps) = stats::instantaneous();
    field!(out, "instantaneous_ops_per_sec", ops);
    field!(out, "instantaneous_input_kbps", format!("{input_kbps:.2}"));
    field!(
        out,
        "instantaneous_output_kbps",
        format!("{output_kbps:.2}")
    );
    field!(
        out,
        "rejected_connections",
        g.rejected_connections.load(Relaxed)
    );
    field!(out, "expired_keys", g.expired_keys.load(Relaxed));
    field!(out, "evicted_keys", g.evicted_keys.load(Relaxed));
    field!(out, "keyspace_hits", stats::sum(|t| t.keyspace_hits.get()));
    field!(
        out,
        "keyspace_misses",
        stats::sum(|t| t.keyspace_misses.get())
    );
    let (channels, patterns, shard_channels) = server.pubsub.counts();
    field!(out, "pubsub_channels", channels);
    field!(out, "pubsub_patterns", patterns);
    field!(out, "pubsubshard_channels", shard_channels);
    field!(out, "latest_fork_usec", 0);
    field!(out, "total_forks", 0);
    field!(
        out,
        "total_error_replies",
        stats::sum(|t| t.total_error_replies.get())
    );
    // Redis 7.2's field; 7.0 has no counter for these disconnections.
    field!(
        out,
        "client_query_buffer_limit_disconnections",
        g.query_buffer_limit_disconnections.load(Relaxed)
    );
}

fn replication_section(server: &Server, out: &mut String) {
    out.push_str("# Replication\r\n");
    field!(out, "role", "master");
    field!(out, "connected_slaves", 0);
    field!(out, "master_failover_state", "no-failover");
    field!(out, "master_replid", server.run_id);
    field!(out, "master_replid2", "0".repeat(40));
    field!(out, "master_repl_offset", 0);
    field!(out, "second_repl_offset", -1);
    field!(out, "repl_backlog_active", 0);
    field!(
        out,
        "repl_backlog_size",
        server.config.get("repl-backlog-size").unwrap_or_default()
    );
    field!(out, "repl_backlog_first_byte_offset", 0);
    field!(out, "repl_backlog_histlen", 0);
}

fn rusage(who: libc::c_int) -> (String, String) {
    // SAFETY: getrusage fills the struct we own; all-zero is a valid rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut ru) };
    let tv = |t: libc::timeval| format!("{}.{:06}", t.tv_sec, t.tv_usec);
    (tv(ru.ru_stime), tv(ru.ru_utime))
}

fn cpu_section(out: &mut String) {
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
    out.push_str("# CPU\r\n");
    field!(out, "used_cpu_sys", sys);
    field!(out, "used_cpu_user", user);
    field!(out, "used_cpu_sys_children", csys);
    field!(out, "used_cpu_user_children", cuser);
}

fn commandstats_section(out: &mut String) {
    out.push_str("# Commandstats\r\n");
    let t = table::get();
    for id in 0..t.len() {
        let (calls, usec, rejected, failed) = stats::command_totals(id);
        if calls == 0 && rejected == 0 && failed == 0 {
            continue;
        }
        let per_call = if calls > 0 {
            usec as f64 / calls as f64
        } else {
            0.0
        };
        let _ = write!(
            out,
            "cmdstat_{}:calls={calls},usec={usec},usec_per_call={per_call:.2},rejected_calls={rejected},failed_calls={failed}\r\n",
            t.full_name(id)
        );
    }
}

fn keyspace_section(server: &Server, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    for db in 0..server.keyspace.db_count() {
        let (keys, expires) = server.keyspace.db_sizes(db);
        if keys > 0 {
            let avg_ttl = if expires > 0 {
                sample_avg_ttl(server, db)
            } else {
                0
            };
            let _ = write!(
                out,
                "db{db}:keys={keys},expires={expires},avg_ttl={avg_ttl}\r\n"
            );
        }
    }
}

/// Random draws per shard for `avg_ttl`.
const TTL_SAMPLES_PER_SHARD: usize = 8;

/// The average remaining TTL in ms of the keys that have one, estimated from random keys of each shard that has
/// volatile keys, as Redis estimates it from samples (0 when no sampled key had a TTL).
fn sample_avg_ttl(server: &Server, db: usize) -> i64 {
    let now = now_ms();
    let (mut sum, mut count) = (0i64, 0i64);
    for i in 0..crate::db::SHARDS {
        let shard = server.keyspace.db(db).shard(i).read();
        if shard.volatile_len() == 0 {
            continue;
        }
        for _ in 0..TTL_SAMPLES_PER_SHARD {
            if let Some(at) = shard.dict.random().and_then(|(_, e)| e.expire_at()) {
                sum += (at - now).max(0);
                count += 1;
            }
        }
    }
    if count == 0 {
        0
    } else {
        sum / count
    }
}

/// `uname -s -r -m`, as Redis prints it.
fn os_name() -> String {
    // SAFETY: uname fills the struct we own; all-zero is valid.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut u) } != 0 {
        return String::new();
    }
    let field = |f: &[libc::c_char]| {
        let bytes: Vec<u8> = f
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    };
    format!(
        "{} {} {}",
        field(&u.sysname),
        field(&u.release),
        field(&u.machine)
    )
}
