//! Wall-clock helpers. Expiry deadlines are absolute Unix milliseconds, as in Redis (EXPIREAT, PEXPIRETIME).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

pub fn now_secs() -> i64 {
    now_ms() / 1000
}
