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
    "latencystats",
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
        if *section == "keyspace" {
            keyspace_section(ctx, &mut out);
        } else {
            write_section(ctx.server, section, &mut out);
        }
    }
    Reply::Verbatim("txt", out.into_bytes())
}

/// INFO ALL but the keyspace section (which needs shard locks), for a crash report.
pub fn report_text(server: &Server) -> String {
    let mut out = String::new();
    for section in ALL.iter().filter(|s| **s != "keyspace") {
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        write_section(server, section, &mut out);
    }
    out
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
        "latencystats" => crate::ops::latencystats_section(server, out),
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
    let clients = server.clients.live();
    let blocked = clients
        .iter()
        .filter(|c| crate::blocking::still_blocked(c))
        .count();
    out.push_str("# Clients\r\n");
    field!(out, "connected_clients", clients.len());
    field!(out, "cluster_connections", 0);
    field!(out, "maxclients", server.config.maxclients());
    field!(out, "blocked_clients", blocked);
    field!(out, "tracking_clients", server.tracking.clients());
}

fn memory_section(server: &Server, out: &mut String) {
    crate::memory::overhead::info_section(server, out);
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
    crate::replication::stats_fields(server, out);
    field!(out, "expired_keys", g.expired_keys.load(Relaxed));
    field!(out, "evicted_keys", g.evicted_keys.load(Relaxed));
    field!(out, "evicted_clients", g.evicted_clients.load(Relaxed));
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
    use crate::persist::child;
    field!(
        out,
        "latest_fork_usec",
        child::LATEST_START_US.load(Relaxed)
    );
    field!(out, "total_forks", child::STARTED.load(Relaxed));
    let (keys, items, prefixes) = server.tracking.totals();
    field!(out, "tracking_total_keys", keys);
    field!(out, "tracking_total_items", items);
    field!(out, "tracking_total_prefixes", prefixes);
    field!(
        out,
        "migrate_cached_sockets",
        super::migrate::cached_sockets()
    );
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
    crate::replication::info_section(server, out);
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

/// Runs `f` on shard `i` of `db`: through the guard when this command (a script's, or EXEC's) already holds it,
/// else under a read lock of its own.
fn with_shard<R>(ctx: &Ctx, db: usize, i: usize, f: impl FnOnce(&crate::db::Shard) -> R) -> R {
    match ctx.keys.held_shard(db, i) {
        Some(shard) => f(shard),
        None => f(&ctx.server.keyspace.db(db).shard(i).read()),
    }
}

fn keyspace_section(ctx: &Ctx, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    for db in 0..ctx.server.keyspace.db_count() {
        let (keys, expires) = (0..crate::db::SHARDS).fold((0, 0), |(k, v), i| {
            with_shard(ctx, db, i, |s| (k + s.len(), v + s.volatile_len()))
        });
        if keys > 0 {
            let avg_ttl = if expires > 0 {
                sample_avg_ttl(ctx, db)
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
fn sample_avg_ttl(ctx: &Ctx, db: usize) -> i64 {
    let now = now_ms();
    let (mut sum, mut count) = (0i64, 0i64);
    for i in 0..crate::db::SHARDS {
        with_shard(ctx, db, i, |shard| {
            if shard.volatile_len() == 0 {
                return;
            }
            for _ in 0..TTL_SAMPLES_PER_SHARD {
                if let Some(at) = shard.dict.random().and_then(|(k, e)| shard.expire_at(k, e)) {
                    sum += (at - now).max(0);
                    count += 1;
                }
            }
        });
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
