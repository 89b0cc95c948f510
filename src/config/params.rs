//! The table of configuration parameters: the only list of what `CONFIG GET/SET`, the config file and the command
//! line accept. Names, aliases, defaults, ranges and mutability follow Redis 7.0's `config.c`.

use crate::util::numbers::parse_i64;

pub struct Param {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    pub kind: Kind,
    pub default: &'static str,
    pub mutable: bool,
    pub help: &'static str,
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
    /// Validated and normalised by a function of its own.
    Special(fn(&str) -> Result<String, String>),
}

impl Kind {
    /// Checks `v` as Redis does and returns the text CONFIG GET will show; the error is the part of Redis's
    /// message after "CONFIG SET failed (possibly related to argument 'x') - ".
    pub fn validate(&self, v: &str) -> Result<String, String> {
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
            Kind::Special(f) => f(v),
        }
    }
}

fn check_range(n: i64, min: i64, max: i64) -> Result<String, String> {
    if n < min || n > max {
        Err(format!(
            "argument must be between {min} and {max} inclusive"
        ))
    } else {
        Ok(n.to_string())
    }
}

/// Redis's `memtoull`: a number with an optional unit (b, k, kb, m, mb, g, gb; case-insensitive).
pub fn parse_memory(v: &str) -> Option<i64> {
    let lower = v.to_ascii_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit() && c != '-')
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
    parse_i64(num.as_bytes())?.checked_mul(mul)
}

const fn p(
    name: &'static str,
    kind: Kind,
    default: &'static str,
    mutable: bool,
    help: &'static str,
) -> Param {
    Param {
        name,
        alias: None,
        kind,
        default,
        mutable,
        help,
    }
}

const fn aliased(mut param: Param, alias: &'static str) -> Param {
    param.alias = Some(alias);
    param
}

/// `notify-keyspace-events` classes, parsed and printed as Redis's `keyspaceEventsStringToFlags` and
/// `keyspaceEventsFlagsToString`.
pub mod notify {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 12;
    pub const NEW: u32 = 1 << 13;
    /// `A`: every class but key-miss and new.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

    const CLASSES: &[(char, u32)] = &[
        ('g', GENERIC),
        ('$', STRING),
        ('l', LIST),
        ('s', SET),
        ('h', HASH),
        ('z', ZSET),
        ('x', EXPIRED),
        ('e', EVICTED),
        ('t', STREAM),
        ('d', MODULE),
        ('n', NEW),
    ];

    /// The bit of a class letter as handlers name it (`'g'`, `'$'`, ...).
    pub fn class(c: char) -> u32 {
        CLASSES.iter().find(|(l, _)| *l == c).map_or(0, |(_, b)| *b)
    }

    pub fn parse(v: &str) -> Option<u32> {
        let mut flags = 0;
        for c in v.chars() {
            flags |= match c {
                'A' => ALL,
                'K' => KEYSPACE,
                'E' => KEYEVENT,
                'm' => KEY_MISS,
                _ => CLASSES.iter().find(|(l, _)| *l == c)?.1,
            };
        }
        Some(flags)
    }

    pub fn format(flags: u32) -> String {
        let mut out = String::new();
        if flags & ALL == ALL {
            out.push('A');
        } else {
            out.extend(
                CLASSES
                    .iter()
                    .filter(|(_, b)| flags & b != 0)
                    .map(|(l, _)| *l),
            );
        }
        for (bit, l) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
            if flags & bit != 0 {
                out.push(l);
            }
        }
        out
    }

    pub fn validate(v: &str) -> Result<String, String> {
        parse(v)
            .map(format)
            .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into())
    }
}

const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning"];

pub static PARAMS: &[Param] = &[
    p(
        "port",
        Kind::Int { min: 0, max: 65535 },
        "6379",
        false,
        "TCP port to listen on",
    ),
    p(
        "bind",
        Kind::Str,
        "127.0.0.1",
        false,
        "addresses to listen on, space separated",
    ),
    p(
        "maxclients",
        Kind::Int {
            min: 1,
            max: u32::MAX as i64,
        },
        "10000",
        true,
        "most clients connected at once",
    ),
    p(
        "databases",
        Kind::Int {
            min: 1,
            max: i32::MAX as i64,
        },
        "16",
        false,
        "number of databases",
    ),
    p(
        "timeout",
        Kind::Int {
            min: 0,
            max: i32::MAX as i64,
        },
        "0",
        true,
        "close clients idle this many seconds (0: never)",
    ),
    p(
        "loglevel",
        Kind::Enum(LOGLEVELS),
        "notice",
        true,
        "debug, verbose, notice or warning",
    ),
    p(
        "logfile",
        Kind::Str,
        "",
        false,
        "log file ('' logs to standard output)",
    ),
    p(
        "hz",
        Kind::Int {
            min: 0,
            max: i32::MAX as i64,
        },
        "10",
        true,
        "background task frequency (active expiry)",
    ),
    p(
        "proto-max-bulk-len",
        Kind::Memory {
            min: 1024 * 1024,
            max: i64::MAX,
        },
        "536870912",
        true,
        "largest bulk string accepted",
    ),
    p(
        "protected-mode",
        Kind::Bool,
        "yes",
        true,
        "refuse non-loopback clients when no password is set and bind is default",
    ),
    p(
        "daemonize",
        Kind::Bool,
        "no",
        false,
        "accepted for compatibility; ferredis always runs in the foreground",
    ),
    p(
        "tcp-keepalive",
        Kind::Int {
            min: 0,
            max: i32::MAX as i64,
        },
        "300",
        true,
        "TCP keepalive period in seconds",
    ),
    aliased(
        p(
            "list-max-listpack-size",
            Kind::Int {
                min: i32::MIN as i64,
                max: i32::MAX as i64,
            },
            "-2",
            true,
            "list node size (encoding reported by OBJECT ENCODING)",
        ),
        "list-max-ziplist-size",
    ),
];
