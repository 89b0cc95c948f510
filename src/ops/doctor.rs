//! LATENCY DOCTOR: Redis's human-readable report on the latency events, with the advice that applies to the
//! events ferredis records (`command`, `fast-command`, `expire-cycle`).

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use super::latency::{self, Series};
use super::{LATENCY_THRESHOLD_MS, SLOWER_THAN_US};
use crate::server::Server;

/// Redis's `latencyStats` for one event.
struct Stats {
    samples: u64,
    avg: u64,
    mad: u64,
    period: i64,
}

fn analyze(ts: &Series, now: i64) -> Stats {
    let samples: Vec<_> = ts.samples.iter().filter(|s| s.time != 0).collect();
    let n = samples.len() as u64;
    if n == 0 {
        return Stats {
            samples: 0,
            avg: 0,
            mad: 0,
            period: 0,
        };
    }
    let avg = samples.iter().map(|s| s.latency).sum::<u64>() / n;
    let oldest = samples.iter().map(|s| s.time).min().unwrap_or(now);
    let period = (now - oldest).max(1);
    let mad = samples
        .iter()
        .map(|s| (avg as i64 - s.latency as i64).unsigned_abs())
        .sum::<u64>()
        / n;
    Stats {
        samples: n,
        avg,
        mad,
        period,
    }
}

#[derive(Default)]
struct Advice {
    slowlog_enabled: bool,
    slowlog_tuning: bool,
    slowlog_inspect: bool,
    scheduler: bool,
    hz: bool,
    large_objects: bool,
    count: u32,
}

pub fn report(server: &Server) -> String {
    let threshold = LATENCY_THRESHOLD_MS.load(Relaxed);
    let slower_than = SLOWER_THAN_US.load(Relaxed);
    let now = crate::util::time::now_ms() / 1000;
    let mut out = String::new();
    let mut advice = Advice::default();
    let events = latency::with_events(|events| {
        if events.is_empty() && threshold == 0 {
            return None;
        }
        for (n, (event, ts)) in events.iter().enumerate() {
            if n == 0 {
                out.push_str("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
            }
            let ls = analyze(ts, now);
            let _ = write!(
                out,
                "{}. {event}: {} latency spikes (average {}ms, mean deviation {}ms, period {:.2} sec). Worst all time event {}ms.",
                n + 1,
                ls.samples,
                ls.avg,
                ls.mad,
                ls.period as f64 / ls.samples.max(1) as f64,
                ts.max
            );
            match *event {
                "command" => {
                    if slower_than < 0 {
                        advice.slowlog_enabled = true;
                        advice.count += 1;
                    } else if (slower_than / 1000) as u64 > threshold {
                        advice.slowlog_tuning = true;
                        advice.count += 1;
                    }
                    advice.slowlog_inspect = true;
                    advice.large_objects = true;
                    advice.count += 2;
                }
                "fast-command" => {
                    advice.scheduler = true;
                    advice.count += 1;
                }
                "expire-cycle" => {
                    advice.hz = true;
                    advice.large_objects = true;
                    advice.count += 2;
                }
                _ => {}
            }
            out.push('\n');
        }
        Some(events.len())
    });
    let Some(events) = events else {
        return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".into();
    };
    if events == 0 && advice.count == 0 {
        out.push_str("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n");
    } else if advice.count == 0 {
        out.push_str("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n");
    } else {
        advise(&mut out, &advice, threshold, server.config.hz());
    }
    out
}

fn advise(out: &mut String, a: &Advice, threshold: u64, hz: u32) {
    out.push_str("\nI have a few advices for you:\n\n");
    if a.slowlog_enabled {
        let _ = writeln!(out, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than {}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.", threshold * 1000);
    }
    if a.slowlog_tuning {
        let _ = writeln!(out, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than {}'.", threshold * 1000);
    }
    if a.slowlog_inspect {
        out.push_str("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n");
    }
    if a.scheduler {
        out.push_str("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n  1) Lower the system load.\n  2) Use a computer / VM just for Redis if you are running other software in the same system.\n  3) Check if you have a \"noisy neighbour\" problem.\n  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n");
    }
    if a.hz && hz < 100 {
        out.push_str("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
    }
    if a.large_objects {
        out.push_str("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n");
    }
}
