//! LOLWUT as Redis 7.0: `LOLWUT [VERSION v] [args...]`. Version 5 draws Georg Nees' Schotter ([`schotter`]),
//! version 6 a city skyline ([`skyline`]); any other version (and no version: 7.0's own) answers
//! `Redis ver. 7.0.15`. Redis reads the version as `%u` of the number, so only 5 and 6 draw.
//!
//! The art is random where Redis's is: both draw with the C library's `rand()` sequence ([`rand`], glibc's
//! generator, seeded as Redis seeds it, from the time, the pid and the microseconds), so the same seed gives the same picture,
//! and the parts that do not depend on it (sizes, a Schotter of two rows, a skyline one row tall) are Redis's
//! byte for byte.

mod canvas;
mod rand;
mod schotter;
mod skyline;

use crate::commands::{Args, Ctx};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

pub fn lolwut(_ctx: &mut Ctx, args: Args) -> Reply {
    let versioned = args.len() >= 3 && args.get(1).eq_ignore_ascii_case(b"version");
    let (version, first) = match versioned {
        true => match parse_i64(args.get(2)) {
            // `(unsigned int)ver`, as Redis formats it.
            Some(v) => (v as u32, 3),
            None => return Reply::not_integer(),
        },
        false => (7, 1),
    };
    // Version 5 reads up to three numbers, version 6 two; anything after them is ignored, as in Redis.
    let wanted = match version {
        5 => 3,
        6 => 2,
        _ => 0,
    };
    let mut numbers = Vec::new();
    for i in (first..args.len()).take(wanted) {
        match parse_i64(args.get(i)) {
            Some(n) => numbers.push(n),
            None => return Reply::not_integer(),
        }
    }
    let text = rand::with(|r| text(version, &numbers, r));
    Reply::Verbatim("txt", text.into_bytes())
}

/// What `LOLWUT VERSION version numbers...` answers when the C library's generator was seeded with `seed`
/// (tests compare it with a redis-server whose `srand` is pinned).
pub fn text_with_seed(version: u32, numbers: &[i64], seed: u32) -> String {
    text(version, numbers, &mut rand::Rand::new(seed))
}

fn text(version: u32, numbers: &[i64], rand: &mut rand::Rand) -> String {
    let art = match version {
        5 => schotter::lolwut5(numbers, rand),
        6 => skyline::lolwut6(numbers, rand),
        _ => String::new(),
    };
    format!(
        "{art}Redis ver. {}\n",
        crate::commands::connection::REDIS_VERSION
    )
}

/// The optional numeric argument `i`, or `default`, clamped to `min..=max` as Redis clamps it.
fn arg(numbers: &[i64], i: usize, default: i64, max: i64) -> i64 {
    numbers.get(i).copied().unwrap_or(default).clamp(1, max)
}
