//! The table of configuration parameters: the only list of what `CONFIG GET/SET`, the config file and the command
//! line accept. Every Redis 7.0 parameter is here with its alias, type, range, default and mutability, as in
//! Redis 7.0's `config.c`; the few that mean something to ferredis take effect (see `Config::apply`), the others
//! are validated as Redis validates them and echoed back.

use super::special;
use crate::util::numbers::parse_i64;

pub use super::special::notify;

/// CONFIG SET may change it (otherwise: "can't set immutable config").
pub const MUTABLE: u8 = 1;
/// Refused by CONFIG SET unless `enable-protected-configs` allows it.
pub const PROTECTED: u8 = 2;
/// The value is several words (CONFIG SET splits it; the config file passes them all).
pub const MULTI_ARG: u8 = 4;
/// A testing knob CONFIG GET shows only when asked by its exact name (Redis's HIDDEN_CONFIG).
pub const HIDDEN: u8 = 8;
/// CONFIG SET refuses it with -LOADING while a dataset loads, also asynchronously (Redis's DENY_LOADING_CONFIG).
pub const DENY_LOADING: u8 = 16;

const INT_MAX: i64 = i32::MAX as i64;
const INT_MIN: i64 = i32::MIN as i64;
const UINT_MAX: i64 = u32::MAX as i64;

pub struct Param {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub flags: u8,
    pub kind: Kind,
    pub default: &'static str,
}

impl Param {
    pub fn mutable(&self) -> bool {
        self.flags & MUTABLE != 0
    }

    pub fn hidden(&self) -> bool {
        self.flags & HIDDEN != 0
    }

    /// One line for `--help`: the accepted values and the default.
    pub fn help(&self) -> String {
        let what = match &self.kind {
            Kind::Bool => "yes|no".to_string(),
            Kind::Int { min, max } => format!("integer {min}..{max}"),
            Kind::Memory { min, max } => format!("bytes {min}..{max} (units: k kb m mb g gb)"),
            Kind::Enum(options) => options.join("|"),
            Kind::Str => "string".to_string(),
            Kind::Special(_) => "see redis.conf".to_string(),
        };
        let mut line = format!("{what}; default '{}'", self.default);
        if let Some(alias) = self.alias {
            line.push_str(&format!("; alias --{alias}"));
        }
        if !self.mutable() {
            line.push_str("; fixed at start-up");
        }
        line
    }
}

pub enum Kind {
    Bool,
    Int {
        min: i64,
        max: i64,
    },
    /// A byte count that accepts units (`1gb`, `100mb`, `1k`); CONFIG GET shows plain bytes.
    Memory {
        min: i64,
        max: i64,
    },
    Enum(&'static [&'static str]),
    Str,
    /// Validated and normalised by a function of its own, given the new text and the current value (some, like
    /// client-output-buffer-limit, change only the parts named).
    Special(fn(&str, &str) -> Result<String, String>),
}

impl Kind {
    /// Checks `v` as Redis does and returns the text CONFIG GET will show; the error is the part of Redis's
    /// message after "CONFIG SET failed (possibly related to argument 'x') - ".
    pub fn validate(&self, v: &str, current: &str) -> Result<String, String> {
        match self {
            Kind::Bool => match v.to_ascii_lowercase().as_str() {
                "yes" => Ok("yes".into()),
                "no" => Ok("no".into()),
                _ => Err("argument must be 'yes' or 'no'".into()),
            },
            Kind::Int { min, max } => {
                let n =
                    parse_i64(v.as_bytes()).ok_or("argument couldn't be parsed into an integer")?;
                check_range(n, *min, *max)
            }
            Kind::Memory { min, max } => {
                let n = parse_memory(v).ok_or("argument must be a memory value")?;
                check_range(n, *min, *max)
            }
            Kind::Enum(options) => options
                .iter()
                .find(|o| o.eq_ignore_ascii_case(v))
                .map(|o| o.to_string())
                .ok_or_else(|| {
                    format!(
                        "argument(s) must be one of the following: {}",
                        options.join(", ")
                    )
                }),
            Kind::Str => Ok(v.to_string()),
            Kind::Special(f) => f(v, current),
        }
    }
}

pub fn check_range(n: i64, min: i64, max: i64) -> Result<String, String> {
    if n < min || n > max {
        Err(format!(
            "argument must be between {min} and {max} inclusive"
        ))
    } else {
        Ok(n.to_string())
    }
}

/// Redis's `memtoull`: digits with an optional unit (b, k, kb, m, mb, g, gb; any case); no sign.
pub fn parse_memory(v: &str) -> Option<i64> {
    let lower = v.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits_end);
    let mul: i64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if num.is_empty() {
        return None;
    }
    num.parse::<i64>().ok()?.checked_mul(mul)
}

const fn param(
    name: &'static str,
    alias: Option<&'static str>,
    flags: u8,
    kind: Kind,
    default: &'static str,
) -> Param {
    Param {
        name,
        alias,
        flags,
        kind,
        default,
    }
}

/// In the order of Redis's `static_configs`.
#[rustfmt::skip]
pub static PARAMS: &[Param] = &[
    param("rdbchecksum", None, 0, Kind::Bool, "yes"),
    param("daemonize", None, 0, Kind::Bool, "no"),
    param("io-threads-do-reads", None, 0, Kind::Bool, "no"),
    param("always-show-logo", None, 0, Kind::Bool, "no"),
    param("protected-mode", None, MUTABLE, Kind::Bool, "yes"),
    param("rdbcompression", None, MUTABLE, Kind::Bool, "yes"),
    param("rdb-del-sync-files", None, MUTABLE, Kind::Bool, "no"),
    param("activerehashing", None, MUTABLE, Kind::Bool, "yes"),
    param("stop-writes-on-bgsave-error", None, MUTABLE, Kind::Bool, "yes"),
    param("set-proc-title", None, 0, Kind::Bool, "yes"),
    param("dynamic-hz", None, MUTABLE, Kind::Bool, "yes"),
    param("lazyfree-lazy-eviction", None, MUTABLE, Kind::Bool, "no"),
    param("lazyfree-lazy-expire", None, MUTABLE, Kind::Bool, "no"),
    param("lazyfree-lazy-server-del", None, MUTABLE, Kind::Bool, "no"),
    param("lazyfree-lazy-user-del", None, MUTABLE, Kind::Bool, "no"),
    param("lazyfree-lazy-user-flush", None, MUTABLE, Kind::Bool, "no"),
    param("repl-disable-tcp-nodelay", None, MUTABLE, Kind::Bool, "no"),
    param("repl-diskless-sync", None, MUTABLE, Kind::Bool, "yes"),
    param("aof-rewrite-incremental-fsync", None, MUTABLE, Kind::Bool, "yes"),
    param("no-appendfsync-on-rewrite", None, MUTABLE, Kind::Bool, "no"),
    param("cluster-require-full-coverage", None, MUTABLE, Kind::Bool, "yes"),
    param("rdb-save-incremental-fsync", None, MUTABLE, Kind::Bool, "yes"),
    param("aof-load-truncated", None, MUTABLE, Kind::Bool, "yes"),
    param("aof-use-rdb-preamble", None, MUTABLE, Kind::Bool, "yes"),
    param("aof-timestamp-enabled", None, MUTABLE, Kind::Bool, "no"),
    param("cluster-replica-no-failover", Some("cluster-slave-no-failover"), MUTABLE, Kind::Bool, "no"),
    param("replica-lazy-flush", Some("slave-lazy-flush"), MUTABLE, Kind::Bool, "no"),
    param("replica-serve-stale-data", Some("slave-serve-stale-data"), MUTABLE, Kind::Bool, "yes"),
    param("replica-read-only", Some("slave-read-only"), MUTABLE, Kind::Bool, "yes"),
    param("replica-ignore-maxmemory", Some("slave-ignore-maxmemory"), MUTABLE, Kind::Bool, "yes"),
    param("jemalloc-bg-thread", None, MUTABLE, Kind::Bool, "yes"),
    param("activedefrag", None, MUTABLE, Kind::Bool, "no"),
    param("syslog-enabled", None, 0, Kind::Bool, "no"),
    param("cluster-enabled", None, 0, Kind::Bool, "no"),
    param("appendonly", None, MUTABLE | DENY_LOADING, Kind::Bool, "no"),
    param("cluster-allow-reads-when-down", None, MUTABLE, Kind::Bool, "no"),
    param("cluster-allow-pubsubshard-when-down", None, MUTABLE, Kind::Bool, "yes"),
    param("crash-log-enabled", None, MUTABLE, Kind::Bool, "yes"),
    param("crash-memcheck-enabled", None, MUTABLE, Kind::Bool, "yes"),
    param("disable-thp", None, 0, Kind::Bool, "yes"),
    param("cluster-allow-replica-migration", None, MUTABLE, Kind::Bool, "yes"),
    param("replica-announced", None, MUTABLE, Kind::Bool, "yes"),
    param("latency-tracking", None, MUTABLE, Kind::Bool, "yes"),
    param("aof-disable-auto-gc", None, MUTABLE, Kind::Bool, "no"),
    param("aclfile", None, 0, Kind::Str, ""),
    param("unixsocket", None, 0, Kind::Str, ""),
    param("pidfile", None, 0, Kind::Str, ""),
    param("replica-announce-ip", Some("slave-announce-ip"), MUTABLE, Kind::Str, ""),
    param("masteruser", None, MUTABLE, Kind::Str, ""),
    param("cluster-announce-ip", None, MUTABLE, Kind::Str, ""),
    param("cluster-config-file", None, 0, Kind::Str, "nodes.conf"),
    param("cluster-announce-hostname", None, MUTABLE, Kind::Str, ""),
    param("syslog-ident", None, 0, Kind::Str, "redis"),
    param("dbfilename", None, MUTABLE | PROTECTED, Kind::Special(special::dbfilename), "dump.rdb"),
    param("appendfilename", None, 0, Kind::Special(special::appendfilename), "appendonly.aof"),
    param("appenddirname", None, 0, Kind::Special(special::appenddirname), "appendonlydir"),
    param("server_cpulist", None, 0, Kind::Str, ""),
    param("bio_cpulist", None, 0, Kind::Str, ""),
    param("aof_rewrite_cpulist", None, 0, Kind::Str, ""),
    param("bgsave_cpulist", None, 0, Kind::Str, ""),
    param("ignore-warnings", None, MUTABLE, Kind::Str, ""),
    param("proc-title-template", None, MUTABLE, Kind::Special(special::proc_title), "{title} {listen-addr} {server-mode}"),
    param("bind-source-addr", None, MUTABLE, Kind::Str, ""),
    param("logfile", None, 0, Kind::Str, ""),
    param("masterauth", None, MUTABLE, Kind::Str, ""),
    param("requirepass", None, MUTABLE, Kind::Str, ""),
    param("supervised", None, 0, Kind::Enum(&["upstart", "systemd", "auto", "no"]), "no"),
    param("syslog-facility", None, 0, Kind::Enum(&["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"]), "local0"),
    param("repl-diskless-load", None, MUTABLE | DENY_LOADING, Kind::Enum(&["disabled", "on-empty-db", "swapdb"]), "disabled"),
    param("loglevel", None, MUTABLE, Kind::Enum(&["debug", "verbose", "notice", "warning"]), "notice"),
    param("maxmemory-policy", None, MUTABLE, Kind::Enum(&["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]), "noeviction"),
    param("appendfsync", None, MUTABLE, Kind::Enum(&["everysec", "always", "no"]), "everysec"),
    param("oom-score-adj", None, MUTABLE, Kind::Special(special::oom_score_adj), "no"),
    param("acl-pubsub-default", None, MUTABLE, Kind::Enum(&["allchannels", "resetchannels"]), "resetchannels"),
    param("sanitize-dump-payload", None, MUTABLE, Kind::Enum(&["no", "yes", "clients"]), "no"),
    param("enable-protected-configs", None, 0, Kind::Enum(&["no", "yes", "local"]), "no"),
    param("enable-debug-command", None, 0, Kind::Enum(&["no", "yes", "local"]), "no"),
    param("enable-module-command", None, 0, Kind::Enum(&["no", "yes", "local"]), "no"),
    param("cluster-preferred-endpoint-type", None, MUTABLE, Kind::Enum(&["ip", "hostname", "unknown-endpoint"]), "ip"),
    param("databases", None, 0, Kind::Int { min: 1, max: INT_MAX }, "16"),
    param("port", None, MUTABLE, Kind::Int { min: 0, max: 65535 }, "6379"),
    param("io-threads", None, 0, Kind::Int { min: 1, max: 128 }, "1"),
    param("auto-aof-rewrite-percentage", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "100"),
    param("cluster-replica-validity-factor", Some("cluster-slave-validity-factor"), MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "10"),
    param("list-max-listpack-size", Some("list-max-ziplist-size"), MUTABLE, Kind::Int { min: INT_MIN, max: INT_MAX }, "-2"),
    param("tcp-keepalive", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "300"),
    param("cluster-migration-barrier", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "1"),
    param("active-defrag-cycle-min", None, MUTABLE, Kind::Int { min: 1, max: 99 }, "1"),
    param("active-defrag-cycle-max", None, MUTABLE, Kind::Int { min: 1, max: 99 }, "25"),
    param("active-defrag-threshold-lower", None, MUTABLE, Kind::Int { min: 0, max: 1000 }, "10"),
    param("active-defrag-threshold-upper", None, MUTABLE, Kind::Int { min: 0, max: 1000 }, "100"),
    param("lfu-log-factor", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "10"),
    param("lfu-decay-time", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "1"),
    param("replica-priority", Some("slave-priority"), MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "100"),
    param("repl-diskless-sync-delay", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "5"),
    param("maxmemory-samples", None, MUTABLE, Kind::Int { min: 1, max: INT_MAX }, "5"),
    param("maxmemory-eviction-tenacity", None, MUTABLE, Kind::Int { min: 0, max: 100 }, "10"),
    param("timeout", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "0"),
    param("replica-announce-port", Some("slave-announce-port"), MUTABLE, Kind::Int { min: 0, max: 65535 }, "0"),
    param("tcp-backlog", None, 0, Kind::Int { min: 0, max: INT_MAX }, "511"),
    param("cluster-port", None, 0, Kind::Int { min: 0, max: 65535 }, "0"),
    param("cluster-announce-bus-port", None, MUTABLE, Kind::Int { min: 0, max: 65535 }, "0"),
    param("cluster-announce-port", None, MUTABLE, Kind::Int { min: 0, max: 65535 }, "0"),
    param("cluster-announce-tls-port", None, MUTABLE, Kind::Int { min: 0, max: 65535 }, "0"),
    param("repl-timeout", None, MUTABLE, Kind::Int { min: 1, max: INT_MAX }, "60"),
    param("repl-ping-replica-period", Some("repl-ping-slave-period"), MUTABLE, Kind::Int { min: 1, max: INT_MAX }, "10"),
    param("list-compress-depth", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "0"),
    param("active-expire-effort", None, MUTABLE, Kind::Int { min: 1, max: 10 }, "1"),
    param("hz", None, MUTABLE, Kind::Special(special::hz), "10"),
    param("min-replicas-to-write", Some("min-slaves-to-write"), MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "0"),
    param("min-replicas-max-lag", Some("min-slaves-max-lag"), MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "10"),
    param("shutdown-timeout", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "10"),
    param("repl-diskless-sync-max-replicas", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "0"),
    param("maxclients", None, MUTABLE, Kind::Int { min: 1, max: UINT_MAX }, "10000"),
    param("unixsocketperm", None, 0, Kind::Special(special::octal), "0"),
    param("active-defrag-max-scan-fields", None, MUTABLE, Kind::Int { min: 1, max: i64::MAX }, "1000"),
    param("slowlog-max-len", None, MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "128"),
    param("acllog-max-len", None, MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "128"),
    param("busy-reply-threshold", Some("lua-time-limit"), MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "5000"),
    param("cluster-node-timeout", None, MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "15000"),
    param("slowlog-log-slower-than", None, MUTABLE, Kind::Int { min: -1, max: i64::MAX }, "10000"),
    param("latency-monitor-threshold", None, MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "0"),
    param("proto-max-bulk-len", None, MUTABLE, Kind::Memory { min: 1048576, max: i64::MAX }, "536870912"),
    param("stream-node-max-entries", None, MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "100"),
    param("repl-backlog-size", None, MUTABLE, Kind::Memory { min: 1, max: i64::MAX }, "1048576"),
    param("maxmemory", None, MUTABLE, Kind::Memory { min: 0, max: i64::MAX }, "0"),
    param("cluster-link-sendbuf-limit", None, MUTABLE, Kind::Memory { min: 0, max: i64::MAX }, "0"),
    param("hash-max-listpack-entries", Some("hash-max-ziplist-entries"), MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "512"),
    param("set-max-intset-entries", None, MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "512"),
    param("zset-max-listpack-entries", Some("zset-max-ziplist-entries"), MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "128"),
    param("active-defrag-ignore-bytes", None, MUTABLE, Kind::Memory { min: 1, max: i64::MAX }, "104857600"),
    param("hash-max-listpack-value", Some("hash-max-ziplist-value"), MUTABLE, Kind::Memory { min: 0, max: i64::MAX }, "64"),
    param("stream-node-max-bytes", None, MUTABLE, Kind::Memory { min: 0, max: i64::MAX }, "4096"),
    param("zset-max-listpack-value", Some("zset-max-ziplist-value"), MUTABLE, Kind::Memory { min: 0, max: i64::MAX }, "64"),
    param("hll-sparse-max-bytes", None, MUTABLE, Kind::Memory { min: 0, max: i64::MAX }, "3000"),
    param("tracking-table-max-keys", None, MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "1000000"),
    param("client-query-buffer-limit", None, MUTABLE, Kind::Memory { min: 1048576, max: i64::MAX }, "1073741824"),
    param("maxmemory-clients", None, MUTABLE, Kind::Special(special::memory_percent), "0"),
    param("repl-backlog-ttl", None, MUTABLE, Kind::Int { min: 0, max: i64::MAX }, "3600"),
    param("auto-aof-rewrite-min-size", None, MUTABLE, Kind::Memory { min: 0, max: i64::MAX }, "67108864"),
    param("tls-port", None, MUTABLE, Kind::Int { min: 0, max: 65535 }, "0"),
    param("tls-session-cache-size", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "20480"),
    param("tls-session-cache-timeout", None, MUTABLE, Kind::Int { min: 0, max: INT_MAX }, "300"),
    param("tls-cluster", None, MUTABLE, Kind::Bool, "no"),
    param("tls-replication", None, MUTABLE, Kind::Bool, "no"),
    param("tls-auth-clients", None, MUTABLE, Kind::Enum(&["no", "yes", "optional"]), "yes"),
    param("tls-prefer-server-ciphers", None, MUTABLE, Kind::Bool, "no"),
    param("tls-session-caching", None, MUTABLE, Kind::Bool, "yes"),
    param("tls-cert-file", None, MUTABLE, Kind::Str, ""),
    param("tls-key-file", None, MUTABLE, Kind::Str, ""),
    param("tls-key-file-pass", None, MUTABLE, Kind::Str, ""),
    param("tls-client-cert-file", None, MUTABLE, Kind::Str, ""),
    param("tls-client-key-file", None, MUTABLE, Kind::Str, ""),
    param("tls-client-key-file-pass", None, MUTABLE, Kind::Str, ""),
    param("tls-dh-params-file", None, MUTABLE, Kind::Str, ""),
    param("tls-ca-cert-file", None, MUTABLE, Kind::Str, ""),
    param("tls-ca-cert-dir", None, MUTABLE, Kind::Str, ""),
    param("tls-protocols", None, MUTABLE, Kind::Str, ""),
    param("tls-ciphers", None, MUTABLE, Kind::Str, ""),
    param("tls-ciphersuites", None, MUTABLE, Kind::Str, ""),
    param("dir", None, MUTABLE | PROTECTED | DENY_LOADING, Kind::Special(special::dir), "."),
    param("save", None, MUTABLE | MULTI_ARG, Kind::Special(special::save), "3600 1 300 100 60 10000"),
    param("client-output-buffer-limit", None, MUTABLE | MULTI_ARG, Kind::Special(special::client_output_buffer_limit), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
    param("oom-score-adj-values", None, MUTABLE | MULTI_ARG, Kind::Special(special::oom_score_adj_values), "0 200 800"),
    param("notify-keyspace-events", None, MUTABLE, Kind::Special(special::notify_keyspace_events), ""),
    param("bind", None, MUTABLE | MULTI_ARG, Kind::Special(special::bind), "* -::*"),
    param("replicaof", Some("slaveof"), MULTI_ARG, Kind::Special(special::replicaof), ""),
    param("latency-tracking-info-percentiles", None, MUTABLE | MULTI_ARG, Kind::Special(special::latency_percentiles), "50 99 99.9"),
    param("propagation-error-behavior", None, MUTABLE, Kind::Enum(&["ignore", "panic", "panic-on-replicas"]), "ignore"),
    param("replica-ignore-disk-write-errors", None, MUTABLE, Kind::Bool, "no"),
    param("shutdown-on-sigint", None, MUTABLE, Kind::Special(special::shutdown_on_signal), "default"),
    param("shutdown-on-sigterm", None, MUTABLE, Kind::Special(special::shutdown_on_signal), "default"),
    param("socket-mark-id", None, 0, Kind::Int { min: 0, max: UINT_MAX }, "0"),
    // Redis's hidden debugging knobs: accepted (the suite sets them) and echoed, but ferredis has no loading or
    // saving loop for them to slow down.
    param("use-exit-on-panic", None, MUTABLE | HIDDEN, Kind::Bool, "no"),
    param("lua-enable-deprecated-api", None, HIDDEN, Kind::Bool, "no"),
    param("rdb-key-save-delay", None, MUTABLE | HIDDEN, Kind::Int { min: INT_MIN, max: INT_MAX }, "0"),
    param("key-load-delay", None, MUTABLE | HIDDEN, Kind::Int { min: INT_MIN, max: INT_MAX }, "0"),
    param("watchdog-period", None, MUTABLE | HIDDEN, Kind::Int { min: 0, max: INT_MAX }, "0"),
    param("loading-process-events-interval-bytes", None, MUTABLE | HIDDEN, Kind::Int { min: 1024, max: INT_MAX }, "2097152"),
];
