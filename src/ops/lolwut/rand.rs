//! The C library's `rand()` as glibc computes it (the additive feedback generator of `random_r`, TYPE_3), so
//! LOLWUT's random choices follow the same sequence as Redis's for the same seed. One generator for the
//! process, seeded on first use from the time and the pid, as Redis's `srand(time(NULL)^getpid()^tv_usec)`.

use parking_lot::Mutex;

/// glibc's generator state: 34 words of history, of which the last 31 feed the next output.
pub struct Rand {
    r: [u32; 34],
    i: usize,
}

impl Rand {
    /// `srand(seed)`.
    pub fn new(seed: u32) -> Rand {
        let mut r = [0u32; 34];
        r[0] = if seed == 0 { 1 } else { seed };
        for i in 1..31 {
            // 16807 * r[i-1] mod (2^31 - 1), by Schrage's method on signed 32-bit words, as glibc does.
            let word = r[i - 1] as i32 as i64;
            let (hi, lo) = (word / 127_773, word % 127_773);
            let mut next = 16_807 * lo - 2_836 * hi;
            if next < 0 {
                next += 2_147_483_647;
            }
            r[i] = next as u32;
        }
        for i in 31..34 {
            r[i] = r[i - 31];
        }
        let mut rand = Rand { r, i: 0 };
        for _ in 0..310 {
            rand.step();
        }
        rand
    }

    fn step(&mut self) -> u32 {
        let at = |back: usize| (self.i + 34 - back) % 34;
        let next = self.r[at(31)].wrapping_add(self.r[at(3)]);
        self.r[self.i % 34] = next;
        self.i = (self.i + 1) % 34;
        next
    }

    /// `rand()`: 0..=RAND_MAX (2^31 - 1).
    pub fn next(&mut self) -> i32 {
        (self.step() >> 1) as i32
    }
}

pub const RAND_MAX: i32 = i32::MAX;

static PROCESS: Mutex<Option<Rand>> = Mutex::new(None);

/// Runs `f` with the process's generator (seeded on first use).
pub fn with<T>(f: impl FnOnce(&mut Rand) -> T) -> T {
    let mut guard = PROCESS.lock();
    let rand = guard.get_or_insert_with(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Rand::new((now.as_secs() as u32) ^ std::process::id() ^ now.subsec_micros())
    });
    f(rand)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's first outputs: `rand()` unseeded (seed 1), after `srand(42)` and `srand(3000000000)`.
    #[test]
    fn same_sequence_as_glibc() {
        let mut r = Rand::new(1);
        let first: Vec<i32> = (0..5).map(|_| r.next()).collect();
        assert_eq!(
            first,
            [1804289383, 846930886, 1681692777, 1714636915, 1957747793]
        );
        let mut r = Rand::new(42);
        assert_eq!(r.next(), 71876166);
        // A seed above 2^31 (time ^ pid can be one): glibc takes it as a negative word.
        assert_eq!(Rand::new(3_000_000_000).next(), 2058147116);
    }
}
