//! The sparse encoding: run-length opcodes over the 16384 registers.
//! - `ZERO` `00xxxxxx`: 1 to 64 zero registers;
//! - `XZERO` `01xxxxxx yyyyyyyy`: 1 to 16384 zero registers (14 bits);
//! - `VAL` `1vvvvvxx`: 1 to 4 registers holding 1 to 32.
//!
//! Updates follow Redis's `hllSparseSet` step by step (split the opcode covering the register, then merge equal
//! neighbours within 5 opcodes), so the bytes come out exactly as Redis writes them. A string may be corrupt (a
//! client can SET anything that starts with `HYLL`): every read is bounds-checked, and a byte past the end
//! reads as zero, as the string's terminator does in Redis.

use super::{dense, Corrupt, DENSE, DENSE_SIZE, HDR, REGISTERS};

const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;
const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;

/// One opcode: how many registers it covers, their value, and its size in bytes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Op {
    pub fn at(s: &[u8], p: usize) -> Op {
        let b = s[p];
        match b & 0xc0 {
            0x00 => Op::Zero((b & 0x3f) as usize + 1),
            0x40 => {
                let low = s.get(p + 1).copied().unwrap_or(0) as usize;
                Op::XZero((((b & 0x3f) as usize) << 8 | low) + 1)
            }
            _ => Op::Val(((b >> 2) & 0x1f) + 1, (b & 0x3) as usize + 1),
        }
    }

    pub fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }

    fn bytes(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }

    fn value(self) -> u8 {
        match self {
            Op::Val(v, _) => v,
            _ => 0,
        }
    }
}

fn val_byte(value: u8, len: usize) -> u8 {
    0x80 | ((value - 1) << 2) | (len as u8 - 1)
}

/// Appends the shortest opcode for `len` zero registers (ZERO up to 64, XZERO beyond).
fn push_zero_run(out: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        out.push(0x40 | ((len - 1) >> 8) as u8);
        out.push(((len - 1) & 0xff) as u8);
    } else {
        out.push((len - 1) as u8);
    }
}

/// Appends XZERO opcodes for `n` zero registers (an empty HLL).
pub fn push_zeros(out: &mut Vec<u8>, mut n: usize) {
    while n > 0 {
        let len = n.min(XZERO_MAX_LEN);
        out.push(0x40 | ((len - 1) >> 8) as u8);
        out.push(((len - 1) & 0xff) as u8);
        n -= len;
    }
}

/// Calls `f(first register, count, value)` for each run of `ops` (the bytes after the header); `Corrupt` if the
/// runs overflow or do not cover exactly 16384 registers. `f` never sees a run past the last register.
pub fn for_each_run(ops: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let (mut p, mut index) = (0, 0);
    while p < ops.len() {
        let op = Op::at(ops, p);
        if index + op.span() > REGISTERS {
            return Err(Corrupt);
        }
        f(index, op.span(), op.value());
        index += op.span();
        p += op.bytes();
    }
    if index == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Redis's `hllSparseToDense`: the same header (cached cardinality included) with the dense registers.
pub fn to_dense(v: &mut Vec<u8>) -> Result<(), Corrupt> {
    if v[4] == DENSE {
        return Ok(());
    }
    let mut out = vec![0u8; DENSE_SIZE];
    out[..HDR].copy_from_slice(&v[..HDR]);
    out[4] = DENSE;
    for_each_run(&v[HDR..], |first, len, value| {
        if value > 0 {
            (first..first + len).for_each(|i| dense::set(&mut out[HDR..], i, value));
        }
    })?;
    *v = out;
    Ok(())
}

/// Redis's `hllSparseSet`: raises register `index` to `count`; true if it grew. Turns the HLL dense when `count`
/// does not fit a VAL opcode or the string would outgrow `max_bytes`.
pub fn set(v: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(v, index, count);
    }
    // Step 1: the opcode covering `index`, where it starts (`p`), its first register, and the opcode before it.
    let (mut p, mut first, mut prev) = (HDR, 0, None);
    let op = loop {
        if p >= v.len() {
            return Err(Corrupt);
        }
        let op = Op::at(v, p);
        if index < first + op.span() {
            break op;
        }
        prev = Some(p);
        p += op.bytes();
        first += op.span();
    };
    // Step 2: the cases updated in place.
    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => v[p] = val_byte(count, 1),
        _ => {
            // Step 3: split the opcode into up to three (worst case XZERO VAL XZERO, 5 bytes).
            let last = first + op.span() - 1;
            let mut seq = Vec::with_capacity(5);
            let run = |seq: &mut Vec<u8>, len: usize| match op {
                Op::Val(value, _) => seq.push(val_byte(value, len)),
                _ => push_zero_run(seq, len),
            };
            if index != first {
                run(&mut seq, index - first);
            }
            seq.push(val_byte(count, 1));
            if index != last {
                run(&mut seq, last - index);
            }
            let old_len = v.len();
            let grows = seq.len() > op.bytes();
            if grows && old_len + seq.len() - op.bytes() > max_bytes {
                return promote(v, index, count);
            }
            // A truncated XZERO at the very end: Redis overwrote its terminator; the length comes out the same.
            let padded = p + op.bytes() > old_len;
            if padded {
                v.push(0);
            }
            v.splice(p..p + op.bytes(), seq.iter().copied());
            if padded {
                v.truncate(v.len() - 1);
            }
        }
    }
    merge_neighbours(v, prev.unwrap_or(HDR));
    super::invalidate_cache(v);
    Ok(true)
}

/// Step 4 of `hllSparseSet`: adjacent VAL opcodes with the same value merge while the run fits, scanning up to 5
/// opcodes from `p`.
fn merge_neighbours(v: &mut Vec<u8>, mut p: usize) {
    let mut scan = 5;
    while p < v.len() && scan > 0 {
        scan -= 1;
        let (a, b) = match (Op::at(v, p), v.get(p + 1).map(|_| Op::at(v, p + 1))) {
            (Op::Val(a, alen), Some(Op::Val(b, blen))) => ((a, alen), (b, blen)),
            (op @ (Op::Zero(_) | Op::XZero(_)), _) => {
                p += op.bytes();
                continue;
            }
            _ => {
                p += 1;
                continue;
            }
        };
        if a.0 == b.0 && a.1 + b.1 <= VAL_MAX_LEN {
            v[p + 1] = val_byte(a.0, a.1 + b.1);
            v.remove(p);
            continue;
        }
        p += 1;
    }
}

/// The dense fallback of `hllSparseSet`: convert, then set the register there.
fn promote(v: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(v)?;
    dense::set_if_greater(&mut v[HDR..], index, count);
    Ok(true)
}

/// PFDEBUG DECODE's text: `z:N` ZERO, `Z:N` XZERO, `v:value,len` VAL, space separated.
pub fn decode(ops: &[u8]) -> String {
    let mut out = Vec::new();
    let mut p = 0;
    while p < ops.len() {
        let op = Op::at(ops, p);
        out.push(match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        });
        p += op.bytes();
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::super::{histogram, new_sparse};
    use super::*;

    #[test]
    fn splits_and_merges_as_redis() {
        let mut v = new_sparse();
        assert_eq!(set(&mut v, 100, 3, 3000), Ok(true));
        assert_eq!(decode(&v[HDR..]), "Z:100 v:3,1 Z:16283");
        assert_eq!(set(&mut v, 101, 3, 3000), Ok(true));
        assert_eq!(decode(&v[HDR..]), "Z:100 v:3,2 Z:16282");
        assert_eq!(set(&mut v, 101, 2, 3000), Ok(false));
        assert_eq!(set(&mut v, 0, 1, 3000), Ok(true));
        assert_eq!(decode(&v[HDR..]), "v:1,1 Z:99 v:3,2 Z:16282");
        assert_eq!(set(&mut v, 16383, 40, 3000), Ok(true));
        assert_eq!(v[4], DENSE);
        let h = histogram(&v).unwrap();
        assert_eq!((h[0], h[1], h[3], h[40]), (16380, 1, 2, 1));
    }

    #[test]
    fn corrupt_runs_are_errors_not_panics() {
        let mut v = new_sparse();
        v.truncate(HDR + 1); // half an XZERO
        assert_eq!(for_each_run(&v[HDR..], |_, _, _| {}), Err(Corrupt));
        let _ = set(&mut v, 5, 2, 3000);
        let mut v = new_sparse();
        v.extend_from_slice(&[0x3f, 0x3f]);
        assert_eq!(to_dense(&mut v), Err(Corrupt));
        assert!(set(&mut new_sparse()[..HDR].to_vec(), 3, 1, 3000).is_err());
    }
}
