//! Per-command latency histograms (LATENCY HISTOGRAM, INFO latencystats): the layout of the HdrHistogram Redis
//! uses (1 ns to 1 s, 2 significant digits: 23 buckets of 128 linear sub-buckets, 3072 counters), so bucket
//! boundaries, percentiles and the power-of-two report match Redis's exactly.
//!
//! Threads record into one of a few stripes of each command's histogram (an uncontended atomic add), allocated
//! on the command's first call in that stripe; readers sum the stripes.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::OnceLock;

const LOWEST: u64 = 1;
const HIGHEST: u64 = 1_000_000_000;
/// log2 of half the sub-bucket count (128), for 2 significant digits.
const HALF_MAG: u32 = 7;
const HALF_COUNT: usize = 1 << HALF_MAG;
const SUB_MASK: u64 = (2 * HALF_COUNT as u64) - 1;
const BUCKETS: usize = 23;
pub const COUNTS: usize = (BUCKETS + 1) * HALF_COUNT;

fn bucket_index(v: u64) -> u32 {
    63 - (v | SUB_MASK).leading_zeros() - HALF_MAG
}

fn counts_index(v: u64) -> usize {
    let b = bucket_index(v);
    let sub = (v >> b) as usize;
    ((b as usize + 1) << HALF_MAG) + sub - HALF_COUNT
}

fn value_at(index: usize) -> u64 {
    let mut bucket = (index >> HALF_MAG) as i64 - 1;
    let mut sub = (index & (HALF_COUNT - 1)) + HALF_COUNT;
    if bucket < 0 {
        sub -= HALF_COUNT;
        bucket = 0;
    }
    (sub as u64) << bucket
}

fn lowest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    (v >> b) << b
}

fn highest_equivalent(v: u64) -> u64 {
    let b = bucket_index(v);
    let sub = v >> b;
    let size = if sub >= 2 * HALF_COUNT as u64 {
        1u64 << (b + 1)
    } else {
        1u64 << b
    };
    lowest_equivalent(v) + size - 1
}

/// One command's counts in one stripe.
pub struct Counts(Box<[AtomicU64]>);

impl Counts {
    fn new() -> Self {
        Counts((0..COUNTS).map(|_| AtomicU64::new(0)).collect())
    }
}

/// Threads record into one of this many copies of each histogram, so that two connections rarely add to the same
/// cache line, while memory stays bounded (a copy is 24 KB; one per thread would cost that per connection).
const STRIPES: usize = 8;

/// Every command's stripes, `id * STRIPES + stripe`, each allocated on its first call.
fn stripes() -> &'static [OnceLock<Counts>] {
    static ALL: OnceLock<Box<[OnceLock<Counts>]>> = OnceLock::new();
    ALL.get_or_init(|| {
        let n = crate::commands::table::get().len() * STRIPES;
        (0..n).map(|_| OnceLock::new()).collect()
    })
}

thread_local! {
    /// This thread's stripe, handed out round-robin.
    static STRIPE: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Relaxed) % STRIPES
    };
}

/// Records one call of command `id` that took `ns` nanoseconds (clamped to 1 ns .. 1 s, as Redis does).
#[inline]
pub fn record(id: usize, ns: u64) {
    let v = ns.clamp(LOWEST, HIGHEST);
    let stripe = STRIPE.with(|s| *s);
    if let Some(slot) = stripes().get(id * STRIPES + stripe) {
        slot.get_or_init(Counts::new).0[counts_index(v)].fetch_add(1, Relaxed);
    }
}

/// CONFIG RESETSTAT: every histogram empty.
pub fn reset() {
    for c in stripes().iter().filter_map(OnceLock::get) {
        c.0.iter().for_each(|x| x.store(0, Relaxed));
    }
}

/// Command `id`'s histogram summed over its stripes; `None` if no call was recorded.
pub fn snapshot(id: usize) -> Option<Histogram> {
    let mut counts = vec![0u64; COUNTS];
    let at = id * STRIPES;
    for c in stripes()
        .get(at..at + STRIPES)?
        .iter()
        .filter_map(OnceLock::get)
    {
        for (sum, x) in counts.iter_mut().zip(c.0.iter()) {
            *sum += x.load(Relaxed);
        }
    }
    let total: u64 = counts.iter().sum();
    (total > 0).then_some(Histogram { counts, total })
}

pub struct Histogram {
    counts: Vec<u64>,
    pub total: u64,
}

impl Histogram {
    /// `hdr_value_at_percentile`: the highest value equivalent to the one where the cumulative count reaches
    /// the percentile.
    pub fn value_at_percentile(&self, percentile: f64) -> u64 {
        let p = percentile.min(100.0);
        let wanted = ((p / 100.0) * self.total as f64 + 0.5) as u64;
        let mut total = 0;
        let mut index = 0;
        for (i, c) in self.counts.iter().enumerate() {
            total += c;
            index = i;
            if total >= wanted {
                break;
            }
        }
        let v = value_at(index);
        if percentile == 0.0 {
            lowest_equivalent(v)
        } else {
            highest_equivalent(v)
        }
    }

    /// Redis's `fillCommandCDF`: (usec, cumulative count) at each power-of-two step from 1024 ns (HdrHistogram's
    /// logarithmic iterator), only where the count grew.
    pub fn cdf(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        // The iterator's state, as HdrHistogram keeps it: the index starts before the first counter.
        let (mut index, mut value, mut cumulative, mut highest) = (-1i64, 0u64, 0u64, 0u64);
        let mut level = 1024u64;
        let mut level_low = lowest_equivalent(level);
        let mut previous = 0;
        loop {
            let beyond = index < COUNTS as i64 && value_at((index + 1) as usize) > level_low;
            if cumulative >= self.total && !beyond {
                break;
            }
            loop {
                if value >= level_low {
                    level *= 2;
                    level_low = lowest_equivalent(level);
                    break;
                }
                index += 1;
                let Some(&count) = self.counts.get(index as usize) else {
                    break;
                };
                cumulative += count;
                value = value_at(index as usize);
                highest = highest_equivalent(value);
            }
            if cumulative > previous {
                out.push((highest / 1000, cumulative));
            }
            previous = cumulative;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(values: &[u64]) -> Histogram {
        let mut counts = vec![0; COUNTS];
        for &v in values {
            counts[counts_index(v.clamp(LOWEST, HIGHEST))] += 1;
        }
        Histogram {
            counts,
            total: values.len() as u64,
        }
    }

    #[test]
    fn layout_matches_hdr() {
        assert_eq!(counts_index(1), 1);
        assert_eq!(counts_index(255), 255);
        assert!(counts_index(HIGHEST) < COUNTS);
        assert_eq!(highest_equivalent(1024), 1031);
        assert_eq!(highest_equivalent(65536), 66047);
        assert_eq!(value_at(counts_index(65536)), 65536);
    }

    #[test]
    fn percentiles_and_cdf() {
        let h = hist(&[1000, 1000, 3000, 1_000_000]);
        assert_eq!(h.value_at_percentile(50.0), 1003);
        assert_eq!(h.value_at_percentile(100.0), highest_equivalent(1_000_000));
        assert_eq!(h.cdf(), vec![(1, 2), (4, 3), (1056, 4)]);
    }
}
