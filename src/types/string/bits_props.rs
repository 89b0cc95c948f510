//! Property tests: BITCOUNT, BITPOS and BITFIELD's field access and overflow rules against a naive model that
//! reads the string one bit at a time and does arithmetic in i128.

use proptest::prelude::*;

use super::bitfield::{get_unsigned, set_unsigned, signed_result, unsigned_result, Overflow};
use super::bits::{count_set_bits, position, span};

fn bit(s: &[u8], i: i64) -> bool {
    s[(i / 8) as usize] & (0x80 >> (i % 8)) != 0
}

/// Redis's range rules in bits: negative from the end, clamped; None when empty.
fn naive_range(len: i64, start: i64, end: i64, bits: bool) -> Option<(i64, i64)> {
    let total = if bits { len * 8 } else { len };
    let norm = |i: i64| if i < 0 { (total + i).max(0) } else { i };
    let (start, end) = (norm(start), norm(end).min(total - 1));
    if start > end {
        return None;
    }
    let unit = if bits { 1 } else { 8 };
    Some((start * unit, end * unit + unit - 1))
}

fn naive_count(s: &[u8], start: i64, end: i64, bits: bool) -> i64 {
    // Redis's shortcut: two negative indexes in the wrong order count nothing, before any clamping.
    if start < 0 && end < 0 && start > end {
        return 0;
    }
    naive_range(s.len() as i64, start, end, bits).map_or(0, |(lo, hi)| {
        (lo..=hi).filter(|&i| bit(s, i)).count() as i64
    })
}

fn naive_position(s: &[u8], wanted: bool, start: i64, end: Option<i64>, bits: bool) -> i64 {
    let len = s.len() as i64;
    let default_end = if bits { len * 8 + 7 } else { len - 1 };
    let Some((lo, hi)) = naive_range(len, start, end.unwrap_or(default_end), bits) else {
        return -1;
    };
    match (lo..=hi).find(|&i| bit(s, i) == wanted) {
        Some(i) => i,
        None if wanted || end.is_some() => -1,
        None => hi + 1,
    }
}

fn overflow() -> impl Strategy<Value = Overflow> {
    prop_oneof![
        Just(Overflow::Wrap),
        Just(Overflow::Sat),
        Just(Overflow::Fail)
    ]
}

/// `r` as a field of `bits` bits between `min` and `max` under `overflow`.
fn naive_fit(r: i128, min: i128, max: i128, overflow: Overflow) -> Option<i128> {
    if (min..=max).contains(&r) {
        return Some(r);
    }
    match overflow {
        Overflow::Wrap => Some((r - min).rem_euclid(max - min + 1) + min),
        Overflow::Sat => Some(r.clamp(min, max)),
        Overflow::Fail => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn bitcount_matches_the_model(s in prop::collection::vec(any::<u8>(), 0..12),
                                  start in -100i64..100, end in -100i64..100, bits: bool) {
        let len = s.len() as i64;
        let got = if start < 0 && end < 0 && start > end { 0 } else { count_set_bits(&s, &span(len, start, end, bits)) };
        prop_assert_eq!(got, naive_count(&s, start, end, bits));
    }

    #[test]
    fn bitpos_matches_the_model(s in prop::collection::vec(prop_oneof![Just(0u8), Just(0xff), any::<u8>()], 1..12),
                                wanted: bool, start in -100i64..100, end in prop::option::of(-100i64..100),
                                bits: bool) {
        let len = s.len() as i64;
        let default_end = if bits { (len << 3) + 7 } else { len - 1 };
        let sp = span(len, start, end.unwrap_or(default_end), bits);
        prop_assert_eq!(position(&s, &sp, wanted, end.is_some()), naive_position(&s, wanted, start, end, bits));
    }

    #[test]
    fn fields_read_back_what_was_written(s in prop::collection::vec(any::<u8>(), 15..20), offset in 0u64..56,
                                         bits in 1u32..=64, value: u64) {
        let mut written = s.clone();
        set_unsigned(&mut written, offset, bits, value);
        let mask = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
        prop_assert_eq!(get_unsigned(&written, offset, bits), value & mask);
        for i in 0..(s.len() as i64 * 8) {
            if i < offset as i64 || i >= (offset + bits as u64) as i64 {
                prop_assert_eq!(bit(&written, i), bit(&s, i), "bit {} outside the field changed", i);
            }
        }
    }

    #[test]
    fn unsigned_overflow_matches_the_model(bits in 1u32..=63, old: u64, incr in -(1i64 << 62)..(1i64 << 62),
                                           set: bool, value: i64, overflow in overflow()) {
        let max = (1i128 << bits) - 1;
        let old = old & max as u64;
        let (got, r) = if set {
            (unsigned_result(value as u64, 0, bits, overflow), value as u64 as i128)
        } else {
            (unsigned_result(old, incr, bits, overflow), old as i128 + incr as i128)
        };
        prop_assert_eq!(got.map(|v| v as i128), naive_fit(r, 0, max, overflow));
    }

    #[test]
    fn signed_overflow_matches_the_model(bits in 1u32..=64, old: i64, incr in -(1i64 << 62)..(1i64 << 62),
                                         set: bool, overflow in overflow()) {
        let (min, max) = (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1);
        let old = naive_fit(old as i128, min, max, Overflow::Wrap).unwrap_or(0) as i64;
        // SET's value, like INCRBY's increment, within 2^62: Redis's own range checks wrap beyond (see the
        // integration test for that case).
        let (got, r) = if set {
            (signed_result(incr, 0, bits, overflow), incr as i128)
        } else {
            (signed_result(old, incr, bits, overflow), old as i128 + incr as i128)
        };
        prop_assert_eq!(got.map(|v| v as i128), naive_fit(r, min, max, overflow));
    }
}
