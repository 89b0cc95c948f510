//! HyperLogLog, as Redis's `hyperloglog.c`, in Redis's exact byte format: the value is a plain string that
//! clients GET and SET and that DUMP/RESTORE and persistence carry between servers, so a sketch written by
//! redis-server must count the same here and the reverse.
//!
//! # Format
//! A 16-byte header (`HYLL`, the encoding byte, 3 zero bytes, the cached cardinality as 8 bytes little endian
//! whose top bit set means "stale"), then 16384 registers of 6 bits:
//! - `dense`: the registers packed least significant bit first, 12288 bytes;
//! - `sparse`: run-length opcodes (`ZERO` 00xxxxxx, `XZERO` 01xxxxxx yyyyyyyy, `VAL` 1vvvvvxx), promoted to dense
//!   when a register exceeds 32 or the string would pass `hll-sparse-max-bytes`.
//!
//! Elements hash with MurmurHash64A (seed 0xadc83b19); the estimate is Ertl's improved estimator that Redis 7.0
//! uses, computed in the same order so the numbers agree to the last digit.
//! - `dense` / `sparse`: the two encodings; `commands`: PFADD, PFCOUNT, PFMERGE; `debug`: PFSELFTEST, PFDEBUG.

mod commands;
mod debug;
mod dense;
mod sparse;

use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{Args, Command, Scope};
use crate::db::{Keyspace, LockPlan};
use crate::protocol::Reply;

pub const HDR: usize = 16;
pub const REGISTERS: usize = 1 << 14;
const P: u32 = 14;
const Q: usize = 64 - P as usize;
pub const DENSE_SIZE: usize = HDR + (REGISTERS * 6).div_ceil(8);
pub const DENSE: u8 = 0;
pub const SPARSE: u8 = 1;

/// A sparse HLL whose opcodes do not add up to 16384 registers.
#[derive(Debug, PartialEq, Eq)]
pub struct Corrupt;

pub fn corrupt_reply() -> Reply {
    Reply::error("INVALIDOBJ Corrupted HLL object detected")
}

/// Redis's `isHLLObjectOrReply` on a string: the magic, a known encoding, and the exact size when dense.
pub fn check(s: &[u8]) -> Result<(), Reply> {
    let valid = s.len() >= HDR
        && &s[..4] == b"HYLL"
        && s[4] <= SPARSE
        && (s[4] != DENSE || s.len() == DENSE_SIZE);
    if valid {
        Ok(())
    } else {
        Err(Reply::error(
            "WRONGTYPE Key is not a valid HyperLogLog string value.",
        ))
    }
}

/// An empty HLL: sparse, one XZERO opcode covering every register.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.extend_from_slice(&[SPARSE, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    sparse::push_zeros(&mut v, REGISTERS);
    v
}

/// The cached cardinality, if valid.
pub fn cached(s: &[u8]) -> Option<u64> {
    let card = u64::from_le_bytes(s[8..16].try_into().ok()?);
    (card >> 63 == 0).then_some(card)
}

pub fn set_cached(s: &mut [u8], card: u64) {
    s[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

/// MurmurHash64A as Redis has it: endian neutral, 8 bytes at a time little endian, the tail mixed in last.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in chunks.by_ref() {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// Redis's `hllPatLen`: the register an element falls in and the length of the `0...01` run that follows.
pub fn register_and_run(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, 0xadc8_3b19);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Adds one element (Redis's `hllAdd`): true if a register grew. May turn a sparse HLL dense.
pub fn add(v: &mut Vec<u8>, element: &[u8], sparse_max: usize) -> Result<bool, Corrupt> {
    let (index, count) = register_and_run(element);
    match v[4] {
        DENSE => Ok(dense::set_if_greater(&mut v[HDR..], index, count)),
        SPARSE => sparse::set(v, index, count, sparse_max),
        _ => Err(Corrupt),
    }
}

/// How many registers hold each value (Redis's `reghisto`), from either encoding.
pub fn histogram(s: &[u8]) -> Result<[u32; 64], Corrupt> {
    let mut histo = [0u32; 64];
    match s[4] {
        DENSE => (0..REGISTERS).for_each(|i| histo[dense::get(&s[HDR..], i) as usize] += 1),
        _ => sparse::for_each_run(&s[HDR..], |_, len, value| {
            histo[value as usize] += len as u32
        })?,
    }
    Ok(histo)
}

/// Raises `max[i]` to each register of `s` (Redis's `hllMerge`).
pub fn merge_into(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), Corrupt> {
    match s[4] {
        DENSE => {
            for (i, m) in max.iter_mut().enumerate() {
                *m = (*m).max(dense::get(&s[HDR..], i));
            }
            Ok(())
        }
        _ => sparse::for_each_run(&s[HDR..], |first, len, value| {
            for m in &mut max[first..first + len] {
                *m = (*m).max(value);
            }
        }),
    }
}

/// The histogram of plain one-byte registers (PFCOUNT of several keys).
pub fn histogram_of_registers(registers: &[u8; REGISTERS]) -> [u32; 64] {
    let mut histo = [0u32; 64];
    registers.iter().for_each(|&r| histo[r as usize & 63] += 1);
    histo
}

/// Redis 7.0's estimate from the register histogram (Otmar Ertl, "New cardinality estimation algorithms for
/// HyperLogLog sketches", arXiv:1702.01284), in Redis's order of floating-point operations.
pub fn estimate(histo: &[u32; 64]) -> u64 {
    const ALPHA_INF: f64 = 0.721_347_520_444_481_7;
    let m = REGISTERS as f64;
    let mut z = m * tau((m - histo[Q + 1] as f64) / m);
    for j in (1..=Q).rev() {
        z += histo[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histo[0] as f64 / m);
    (ALPHA_INF * m * m / z).round() as u64
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if before == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        // C's pow(1 - x, 2), which compilers turn into this one rounding.
        z -= (1.0 - x) * (1.0 - x) * y;
        if before == z {
            return z / 3.0;
        }
    }
}

/// PFCOUNT writes the cached cardinality into the value, so it locks its keys for writing although Redis flags
/// it READONLY (its key spec says RW).
fn write_locks(args: Args, db: usize, ks: &Keyspace, plan: &mut LockPlan) {
    for i in 1..args.len() {
        plan.key(ks, db, args.get(i), true);
    }
}

pub const COMMANDS: &[Command] = &[
    Command::new("pfadd", -2, WRITE | DENYOOM | FAST, commands::pfadd)
        .keys(1, 1, 1)
        .key_specs(&[ks(RW | INSERT, Index(1), Range(0, 1, 0))])
        .doc(
            "hyperloglog",
            "2.8.9",
            "Adds the specified elements to the specified HyperLogLog.",
        )
        .complexity("O(1) to add every element."),
    Command::new("pfcount", -2, READONLY | MAY_REPLICATE, commands::pfcount)
        .keys(1, -1, 1)
        .key_specs(&[ks(RW | ACCESS, Index(1), Range(-1, 1, 0)).notes(
            "RW because it may change the internal representation of the key, and propagate to replicas",
        )])
        .scope(Scope::Custom(write_locks))
        .doc(
            "hyperloglog",
            "2.8.9",
            "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).",
        )
        .complexity(
            "O(1) with a very small average constant time when called with a single key. O(N) with N being \
             the number of keys, and much bigger constant times, when called with multiple keys.",
        ),
    Command::new("pfmerge", -2, WRITE | DENYOOM, commands::pfmerge)
        .keys(1, -1, 1)
        .key_specs(&[
            ks(RW | ACCESS | INSERT, Index(1), Range(0, 1, 0)),
            ks(RO | ACCESS, Index(2), Range(-1, 1, 0)),
        ])
        .doc(
            "hyperloglog",
            "2.8.9",
            "Merge N different HyperLogLogs into a single one.",
        )
        .complexity("O(N) to merge N HyperLogLogs, but with high constant times."),
    Command::new("pfselftest", 1, ADMIN, debug::pfselftest)
        .doc(
            "hyperloglog",
            "2.8.9",
            "An internal command for testing HyperLogLog values",
        )
        .complexity("N/A"),
    Command::new("pfdebug", 3, WRITE | DENYOOM | ADMIN, debug::pfdebug)
        .keys(2, 2, 1)
        .key_specs(&[ks(RW | ACCESS, Index(2), Range(0, 1, 0))])
        .doc(
            "hyperloglog",
            "2.8.9",
            "Internal commands for debugging HyperLogLog values",
        )
        .complexity("N/A"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn murmur_matches_redis_known_values() {
        // The register and run Redis gives "a" (PFADD h a; PFDEBUG GETREG h).
        let (index, run) = register_and_run(b"a");
        assert!(index < REGISTERS && run >= 1);
        assert_eq!(murmur64a(b"", 0), 0);
    }

    #[test]
    fn empty_estimates_zero_and_one_register_estimates_one() {
        let mut histo = [0u32; 64];
        histo[0] = REGISTERS as u32;
        assert_eq!(estimate(&histo), 0);
        histo[0] -= 1;
        histo[1] = 1;
        assert_eq!(estimate(&histo), 1);
    }

    #[test]
    fn check_rejects_what_redis_rejects() {
        let empty = new_sparse();
        assert_eq!(empty.len(), HDR + 2);
        assert!(check(&empty).is_ok());
        assert!(check(b"HYLL").is_err());
        let mut bad = empty.clone();
        bad[4] = 2;
        assert!(check(&bad).is_err());
        bad[4] = DENSE;
        assert!(check(&bad).is_err());
    }
}
