//! Wall-clock helpers. Expiry deadlines are absolute Unix milliseconds, as in Redis (EXPIREAT, PEXPIRETIME).

pub fn now_ms() -> i64 {
    let ts = clock(libc::CLOCK_REALTIME);
    ts.tv_sec * 1_000 + ts.tv_nsec / 1_000_000
}

pub fn now_us() -> i64 {
    let ts = clock(libc::CLOCK_REALTIME);
    ts.tv_sec * 1_000_000 + ts.tv_nsec / 1_000
}

/// Reads a clock by id: `clock_gettime` through the vDSO, no system call.
fn clock(id: libc::clockid_t) -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; both clocks used here exist on every Linux kernel ferredis runs
    // on, and if one did not, `ts` would stay zero.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts
}

/// Microseconds on the monotonic clock, for command durations (INFO commandstats). Every command reads it twice,
/// so it is plain integer arithmetic where `Instant::elapsed` checked-subtracts two timespecs.
pub fn monotonic_us() -> u64 {
    let ts = clock(libc::CLOCK_MONOTONIC);
    ts.tv_sec as u64 * 1_000_000 + ts.tv_nsec as u64 / 1_000
}

/// Unix seconds from the coarse clock (a few milliseconds old at most, and several times cheaper to read): the
/// LRU clock every stored key is stamped with has a resolution of one second, as in Redis.
pub fn coarse_secs() -> i64 {
    clock(libc::CLOCK_REALTIME_COARSE).tv_sec
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{SystemTime, UNIX_EPOCH};

    #[test]
    fn clocks_agree_with_std() {
        let std_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        assert!((now_ms() - std_ms).abs() < 1_000);
        assert!((now_us() / 1_000 - std_ms).abs() < 1_000);
        assert!((coarse_secs() - std_ms / 1_000).abs() <= 1);
        let a = monotonic_us();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = monotonic_us();
        assert!((5_000..1_000_000).contains(&(b - a)), "{a} then {b}");
    }
}
