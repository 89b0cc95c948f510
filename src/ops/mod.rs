//! Operations and introspection: the slow log, the latency monitor and per-command latency histograms, client
//! pauses, and the commands that read them (SLOWLOG, LATENCY, LOLWUT, MODULE).
//!
//! The dispatcher calls [`after_call`] once per command with the time the handler took; everything here is off
//! unless configured, and the always-on part (the histograms) costs a thread-local add. The settings it reads on
//! that path are mirrored into atomics by `Config::apply` through [`apply_config`].

mod commands;
mod doctor;
pub mod histogram;
pub mod latency;
pub mod lolwut;
pub mod pause;
pub mod protected;
pub mod slowlog;

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering::Relaxed};

use crate::commands::{flags, table, Args, Ctx};
use crate::server::clients::ClientInfo;

pub use commands::{CLIENT_PAUSE, CLIENT_UNPAUSE, COMMANDS};

static SLOWER_THAN_US: AtomicI64 = AtomicI64::new(10_000);
static SLOWLOG_MAX_LEN: AtomicU64 = AtomicU64::new(128);
static LATENCY_THRESHOLD_MS: AtomicU64 = AtomicU64::new(0);
static LATENCY_TRACKING: AtomicBool = AtomicBool::new(true);

/// Mirrors the parameters read on the command path; called by `Config::apply` for every parameter.
pub fn apply_config(name: &str, value: &str) {
    let num = || value.parse::<i64>().unwrap_or(0);
    match name {
        "slowlog-log-slower-than" => SLOWER_THAN_US.store(num(), Relaxed),
        "slowlog-max-len" => {
            SLOWLOG_MAX_LEN.store(num().max(0) as u64, Relaxed);
            slowlog::trim();
        }
        "latency-monitor-threshold" => LATENCY_THRESHOLD_MS.store(num().max(0) as u64, Relaxed),
        "latency-tracking" => LATENCY_TRACKING.store(value == "yes", Relaxed),
        _ => {}
    }
}

thread_local! {
    /// How long the call of a command that then blocked took: its slow log entry and histogram sample wait until
    /// it is served, as Redis's `updateStatsOnUnblock` (which adds the serve, never the time spent waiting).
    static BLOCKED_CALL_US: Cell<u64> = const { Cell::new(0) };
}

/// After every command the dispatcher runs (inside EXEC and scripts too): the latency monitor's `command` /
/// `fast-command` events, the slow log and the latency histogram.
#[inline]
pub fn after_call(ctx: &Ctx, id: usize, args: Args, usec: u64) {
    let cmd = table::get().get(id);
    let event = if cmd.has(flags::FAST) {
        "fast-command"
    } else {
        "command"
    };
    latency::add_sample_if_needed(event, usec / 1000);
    if crate::blocking::pending(ctx.client) {
        BLOCKED_CALL_US.with(|c| c.set(usec));
        return;
    }
    record(&ctx.client.info, id, args, usec, ctx.client.redacted);
}

/// A blocked command was served: its slow log entry and histogram sample, as Redis logs them on unblocking.
pub fn after_unblock(info: &ClientInfo, args: Args) {
    let id = info.last_cmd.load(Relaxed) as usize;
    let usec = BLOCKED_CALL_US.with(Cell::take);
    record(info, id, args, usec, 0);
}

fn record(info: &ClientInfo, id: usize, args: Args, usec: u64, redacted: u64) {
    if !table::get().get(id).has(flags::SKIP_SLOWLOG) {
        slowlog::push_if_needed(info, args, usec, redacted);
    }
    if LATENCY_TRACKING.load(Relaxed) {
        histogram::record(id, usec.saturating_mul(1000));
    }
}

/// INFO latencystats: the configured percentiles of every command's histogram, in microseconds.
pub fn latencystats_section(server: &crate::server::Server, out: &mut String) {
    use std::fmt::Write as _;
    out.push_str("# Latencystats\r\n");
    if !LATENCY_TRACKING.load(Relaxed) {
        return;
    }
    let percentiles = server
        .config
        .get("latency-tracking-info-percentiles")
        .unwrap_or_default();
    let t = table::get();
    for id in 0..t.len() {
        let Some(h) = histogram::snapshot(id) else {
            continue;
        };
        let fields: Vec<String> = percentiles
            .split_whitespace()
            .map(|p| {
                let v = h.value_at_percentile(p.parse().unwrap_or(0.0));
                format!("p{p}={:.3}", v as f64 / 1000.0)
            })
            .collect();
        let _ = write!(
            out,
            "latency_percentiles_usec_{}:{}\r\n",
            t.full_name(id),
            fields.join(",")
        );
    }
}
