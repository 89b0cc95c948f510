//! Parameters with formats of their own (`save`, `client-output-buffer-limit`, `bind`, ...), validated and
//! printed as Redis 7.0's `config.c` does. Each takes the new text and the current value and returns the text
//! CONFIG GET shows, or the error Redis words.

use super::params::{check_range, parse_memory};
use crate::util::numbers::{parse_f64, parse_i64};

fn words(v: &str) -> Vec<&str> {
    v.split_ascii_whitespace().collect()
}

/// A C `strtoll` that must consume the whole word.
fn whole_int(w: &str) -> Option<i64> {
    parse_i64(w.as_bytes())
}

fn base_name(v: &str, what: &str) -> Result<String, String> {
    if v.contains('/') {
        Err(format!(
            "{what} can't be a path, just a {}",
            if what == "appenddirname" {
                "dirname"
            } else {
                "filename"
            }
        ))
    } else {
        Ok(v.to_string())
    }
}

pub fn dbfilename(v: &str, _: &str) -> Result<String, String> {
    base_name(v, "dbfilename")
}

pub fn appendfilename(v: &str, _: &str) -> Result<String, String> {
    base_name(v, "appendfilename")
}

pub fn appenddirname(v: &str, _: &str) -> Result<String, String> {
    base_name(v, "appenddirname")
}

/// Only the variables Redis knows may appear in the template.
pub fn proc_title(v: &str, _: &str) -> Result<String, String> {
    const VARS: &[&str] = &[
        "title",
        "listen-addr",
        "server-mode",
        "port",
        "tls-port",
        "unixsocket",
        "config-file",
    ];
    let mut rest = v;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or("template format is invalid or contains unknown variables")?;
        if !VARS.contains(&&after[..close]) {
            return Err("template format is invalid or contains unknown variables".into());
        }
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("template format is invalid or contains unknown variables".into());
    }
    Ok(v.to_string())
}

/// `relative` is another name for `yes`; CONFIG GET shows the first name of the value.
pub fn oom_score_adj(v: &str, _: &str) -> Result<String, String> {
    match v.to_ascii_lowercase().as_str() {
        "no" => Ok("no".into()),
        "yes" | "relative" => Ok("yes".into()),
        "absolute" => Ok("absolute".into()),
        _ => Err("argument(s) must be one of the following: no, yes, relative, absolute".into()),
    }
}

/// Redis stores any non-negative hz but runs (and shows) it within 1..=500.
pub fn hz(v: &str, _: &str) -> Result<String, String> {
    let n = whole_int(v).ok_or("argument couldn't be parsed into an integer")?;
    check_range(n, 0, i32::MAX as i64)?;
    Ok(n.clamp(1, 500).to_string())
}

pub fn octal(v: &str, _: &str) -> Result<String, String> {
    let n = i64::from_str_radix(v, 8)
        .map_err(|_| "argument couldn't be parsed into an integer".to_string())?;
    check_range(n, 0, 0o777)
        .map_err(|_| "argument must be between 0 and 511 inclusive".to_string())?;
    Ok(format!("{n:o}"))
}

/// `maxmemory-clients`: bytes, or a percentage of maxmemory written `N%`.
pub fn memory_percent(v: &str, _: &str) -> Result<String, String> {
    if let Some(pct) = v.strip_suffix('%') {
        let n = whole_int(pct)
            .filter(|n| *n >= 0)
            .ok_or("argument must be a memory or percent value")?;
        if n > 100 {
            return Err("percentage argument must be less or equal to 100".into());
        }
        return Ok(format!("{n}%"));
    }
    let n = parse_memory(v).ok_or("argument must be a memory or percent value")?;
    Ok(n.to_string())
}

/// Changes the working directory at once, as Redis does; CONFIG GET reads the current directory back.
pub fn dir(v: &str, current: &str) -> Result<String, String> {
    if v == current || v == "." {
        return Ok(v.to_string());
    }
    std::env::set_current_dir(v).map_err(|e| strerror(&e))?;
    Ok(v.to_string())
}

/// The C library's message for an I/O error, without Rust's " (os error N)" suffix.
pub fn strerror(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

pub fn save(v: &str, _: &str) -> Result<String, String> {
    let w = words(v);
    if w.len() % 2 == 1 {
        return Err("Invalid save parameters".into());
    }
    for (j, word) in w.iter().enumerate() {
        let min = if j % 2 == 0 { 1 } else { 0 };
        if whole_int(word).is_none_or(|n| n < min) {
            return Err("Invalid save parameters".into());
        }
    }
    Ok(w.iter()
        .map(|x| whole_int(x).unwrap_or(0).to_string())
        .collect::<Vec<_>>()
        .join(" "))
}

/// One class of `client-output-buffer-limit`: hard and soft limits in bytes, soft limit duration in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BufferLimit {
    pub hard: u64,
    pub soft: u64,
    pub soft_seconds: u64,
}

/// The classes in Redis's order: normal, replica (printed `slave`), pubsub.
pub const BUFFER_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Parses the canonical text (as CONFIG GET shows it) into the three classes.
pub fn parse_buffer_limits(v: &str) -> [BufferLimit; 3] {
    let mut out = [BufferLimit::default(); 3];
    for chunk in words(v).chunks(4) {
        if let [class, hard, soft, secs] = chunk {
            if let Some(i) = BUFFER_CLASSES.iter().position(|c| c == class) {
                out[i] = BufferLimit {
                    hard: hard.parse().unwrap_or(0),
                    soft: soft.parse().unwrap_or(0),
                    soft_seconds: secs.parse().unwrap_or(0),
                };
            }
        }
    }
    out
}

/// Only the classes named change; all are checked before any does.
pub fn client_output_buffer_limit(v: &str, current: &str) -> Result<String, String> {
    let w = words(v);
    if !w.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = parse_buffer_limits(current);
    for chunk in w.chunks(4) {
        let class = match chunk[0].to_ascii_lowercase().as_str() {
            "normal" => 0,
            "slave" | "replica" => 1,
            "pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into())
            }
        };
        let bad = || {
            "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string()
        };
        let hard = parse_memory(chunk[1]).ok_or_else(bad)?;
        let soft = parse_memory(chunk[2]).ok_or_else(bad)?;
        let secs = whole_int(chunk[3]).filter(|s| *s >= 0).ok_or_else(bad)?;
        limits[class] = BufferLimit {
            hard: hard as u64,
            soft: soft as u64,
            soft_seconds: secs as u64,
        };
    }
    Ok(BUFFER_CLASSES
        .iter()
        .zip(limits)
        .map(|(c, l)| format!("{c} {} {} {}", l.hard, l.soft, l.soft_seconds))
        .collect::<Vec<_>>()
        .join(" "))
}

pub fn oom_score_adj_values(v: &str, _: &str) -> Result<String, String> {
    let w = words(v);
    if w.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut out = Vec::new();
    for word in w {
        match whole_int(word) {
            Some(n) if (-2000..=2000).contains(&n) => out.push(n.to_string()),
            _ => {
                return Err(
                    "Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into(),
                )
            }
        }
    }
    Ok(out.join(" "))
}

pub fn notify_keyspace_events(v: &str, _: &str) -> Result<String, String> {
    notify::validate(v)
}

pub fn bind(v: &str, _: &str) -> Result<String, String> {
    let w = words(v);
    if w.len() > 16 {
        return Err("Too many bind addresses specified.".into());
    }
    Ok(w.join(" "))
}

pub fn replicaof(v: &str, _: &str) -> Result<String, String> {
    let w = words(v);
    match w.as_slice() {
        [] => Ok(String::new()),
        [no, one] if no.eq_ignore_ascii_case("no") && one.eq_ignore_ascii_case("one") => {
            Ok(String::new())
        }
        [host, port] => match whole_int(port) {
            Some(p) if (0..=65535).contains(&p) => Ok(format!("{host} {p}")),
            _ => Err("Invalid master port".into()),
        },
        _ => Err("wrong number of arguments".into()),
    }
}

pub fn latency_percentiles(v: &str, _: &str) -> Result<String, String> {
    let mut out = Vec::new();
    for word in words(v) {
        let p = parse_f64(word.as_bytes())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&p) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        // C's "%f" with the trailing zeros trimmed, as Redis prints them.
        let text = format!("{p:.6}");
        out.push(text.trim_end_matches('0').trim_end_matches('.').to_string());
    }
    Ok(out.join(" "))
}

/// `shutdown-on-sigint` / `shutdown-on-sigterm`: a set of flags, printed in Redis's order.
pub fn shutdown_on_signal(v: &str, _: &str) -> Result<String, String> {
    const FLAGS: &[&str] = &["save", "nosave", "now", "force"];
    let mut set = [false; 4];
    for word in words(v) {
        let lower = word.to_ascii_lowercase();
        if lower == "default" {
            continue;
        }
        let i = FLAGS
            .iter()
            .position(|f| *f == lower)
            .ok_or("argument(s) must be one of the following: default, save, nosave, now, force")?;
        set[i] = true;
    }
    if set[0] && set[1] {
        return Err("shutdown-on-sig* can't be both save and nosave".into());
    }
    let chosen: Vec<&str> = FLAGS
        .iter()
        .zip(set)
        .filter(|(_, on)| *on)
        .map(|(f, _)| *f)
        .collect();
    Ok(if chosen.is_empty() {
        "default".into()
    } else {
        chosen.join(" ")
    })
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

    /// The stored form: Redis's text, plus `n` where that text drops it (after `A`), so the flags survive.
    pub fn validate(v: &str) -> Result<String, String> {
        parse(v)
            .map(|flags| {
                let mut text = format(flags);
                if flags & ALL == ALL && flags & NEW != 0 {
                    text.push('n');
                }
                text
            })
            .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into())
    }

    /// What CONFIG GET shows for a stored value: Redis's `keyspaceEventsFlagsToString`, which prints no `n`
    /// after `A` although the class stays on.
    pub fn display(stored: &str) -> String {
        parse(stored).map_or_else(String::new, format)
    }
}
