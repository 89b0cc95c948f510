//! The latency monitor (LATENCY LATEST/HISTORY/RESET/GRAPH): per event (`command`, `fast-command`,
//! `expire-cycle`), the last 160 one-second samples of what took at least `latency-monitor-threshold` ms, and
//! the all-time maximum, as Redis's `latency.c`.

use std::sync::atomic::Ordering::Relaxed;

use parking_lot::Mutex;

use super::LATENCY_THRESHOLD_MS;

/// Redis's `LATENCY_TS_LEN`.
const TS_LEN: usize = 160;

#[derive(Clone, Copy, Default)]
pub struct Sample {
    pub time: i64,
    pub latency: u64,
}

pub struct Series {
    pub samples: [Sample; TS_LEN],
    /// Where the next sample goes.
    pub idx: usize,
    pub max: u64,
}

impl Series {
    fn new() -> Self {
        Series {
            samples: [Sample::default(); TS_LEN],
            idx: 0,
            max: 0,
        }
    }

    /// The recorded samples, oldest first.
    pub fn history(&self) -> impl Iterator<Item = Sample> + '_ {
        (0..TS_LEN)
            .map(move |j| self.samples[(self.idx + j) % TS_LEN])
            .filter(|s| s.time != 0)
    }

    pub fn last(&self) -> Sample {
        self.samples[(self.idx + TS_LEN - 1) % TS_LEN]
    }
}

/// Events in the order they first happened (Redis keeps a dict; any order is valid).
static EVENTS: Mutex<Vec<(&'static str, Box<Series>)>> = Mutex::new(Vec::new());

/// Records `ms` for `event` if the monitor is on and it reaches the threshold.
#[inline]
pub fn add_sample_if_needed(event: &'static str, ms: u64) {
    let threshold = LATENCY_THRESHOLD_MS.load(Relaxed);
    if threshold != 0 && ms >= threshold {
        add_sample(event, ms);
    }
}

/// Redis's `latencyAddSample`: one sample a second per event, the highest of that second.
fn add_sample(event: &'static str, ms: u64) {
    let now = crate::util::time::now_ms() / 1000;
    let mut events = EVENTS.lock();
    let at = match events.iter().position(|(e, _)| *e == event) {
        Some(at) => at,
        None => {
            events.push((event, Box::new(Series::new())));
            events.len() - 1
        }
    };
    let ts = &mut events[at].1;
    ts.max = ts.max.max(ms);
    let prev = (ts.idx + TS_LEN - 1) % TS_LEN;
    if ts.samples[prev].time == now {
        ts.samples[prev].latency = ts.samples[prev].latency.max(ms);
        return;
    }
    ts.samples[ts.idx] = Sample {
        time: now,
        latency: ms,
    };
    ts.idx = (ts.idx + 1) % TS_LEN;
}

/// Runs `f` on every event's series.
pub fn with_events<R>(f: impl FnOnce(&[(&'static str, Box<Series>)]) -> R) -> R {
    f(&EVENTS.lock())
}

/// Forgets `event` (any case), or every event; returns how many were dropped.
pub fn reset(event: Option<&[u8]>) -> usize {
    let mut events = EVENTS.lock();
    let before = events.len();
    events.retain(|(e, _)| event.is_some_and(|name| !e.as_bytes().eq_ignore_ascii_case(name)));
    before - events.len()
}

/// LATENCY GRAPH: the event's samples as an ASCII sparkline, labelled with how long ago each happened.
pub fn graph(event: &str, ts: &Series) -> String {
    let now = crate::util::time::now_ms() / 1000;
    let samples: Vec<Sample> = ts.history().collect();
    let min = samples.iter().map(|s| s.latency).min().unwrap_or(0);
    let max = samples.iter().map(|s| s.latency).max().unwrap_or(0);
    let mut out = format!(
        "{event} - high {max} ms, low {min} ms (all time high {} ms)\n",
        ts.max
    );
    out.push_str(&"-".repeat(80));
    out.push('\n');
    let points: Vec<(f64, String)> = samples
        .iter()
        .map(|s| (s.latency as f64, ago(now - s.time)))
        .collect();
    for (n, chunk) in points.chunks(80).enumerate() {
        if n != 0 {
            out.push('\n');
        }
        sparkline(&mut out, &points, chunk, 4);
    }
    out
}

/// `12s`, `3m`, `2h`, `1d`.
fn ago(elapsed: i64) -> String {
    match elapsed {
        e if e < 60 => format!("{e}s"),
        e if e < 3600 => format!("{}m", e / 60),
        e if e < 86400 => format!("{}h", e / 3600),
        e => format!("{}d", e / 86400),
    }
}

/// Redis's `sparklineRenderRange` with `SPARKLINE_FILL`: `rows` rows of `_o#` and `|`, then the labels written
/// downwards, one character a row, after one blank row. The scale is that of the whole sequence `all`.
fn sparkline(out: &mut String, all: &[(f64, String)], part: &[(f64, String)], rows: i64) {
    const FILL: &[u8] = b"_o#";
    let charset_len = FILL.len() as i64;
    let (mut min, mut max) = (all[0].0, all[0].0);
    for (v, _) in &all[1..] {
        // Redis's min/max tracking (`else if`): a value below the minimum is never checked against the maximum.
        if *v < min {
            min = *v;
        } else if *v > max {
            max = *v;
        }
    }
    let relmax = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = charset_len * rows;
    let mut row = 0;
    loop {
        let mut chars = vec![b' '; part.len()];
        let mut more = false;
        for (j, (value, label)) in part.iter().enumerate() {
            let relval = value - min;
            let step = (((relval * steps as f64) as i64) as f64 / relmax) as i64;
            let step = step.clamp(0, steps - 1);
            if row < rows {
                let idx = step - (rows - row - 1) * charset_len;
                more = true;
                if (0..charset_len).contains(&idx) {
                    chars[j] = FILL[idx as usize];
                } else if idx >= charset_len {
                    chars[j] = b'|';
                }
            } else {
                if row - rows < 1 {
                    more = true;
                    break;
                }
                let at = (row - rows - 1) as usize;
                if let Some(&c) = label.as_bytes().get(at) {
                    more = true;
                    chars[j] = c;
                }
            }
        }
        if !more {
            break;
        }
        row += 1;
        out.push_str(&String::from_utf8_lossy(&chars));
        out.push('\n');
    }
}
