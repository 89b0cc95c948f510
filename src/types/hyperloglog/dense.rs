//! The dense encoding: 16384 registers of 6 bits packed least significant bit first. A register may straddle two
//! bytes; the last one ends inside the last byte, so the byte "after" it (Redis reads the string's terminator)
//! reads as zero and is never written.

const MAX: u32 = 63;

/// Register `i` of `regs` (the bytes after the header).
pub fn get(regs: &[u8], i: usize) -> u8 {
    let (byte, shift) = (i * 6 / 8, (i * 6) & 7);
    let b0 = regs[byte] as u32;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u32;
    (((b0 >> shift) | (b1 << (8 - shift))) & MAX) as u8
}

pub fn set(regs: &mut [u8], i: usize, value: u8) {
    let (byte, shift) = (i * 6 / 8, (i * 6) & 7);
    let v = value as u32;
    regs[byte] &= !((MAX << shift) as u8);
    regs[byte] |= (v << shift) as u8;
    if let Some(next) = regs.get_mut(byte + 1) {
        *next &= !((MAX >> (8 - shift)) as u8);
        *next |= (v >> (8 - shift)) as u8;
    }
}

/// Redis's `hllDenseSet`: raises register `i` to `count`; true if it grew.
pub fn set_if_greater(regs: &mut [u8], i: usize, count: u8) -> bool {
    if count > get(regs, i) {
        set(regs, i, count);
        true
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_keep_their_values_and_leave_neighbours_alone() {
        let mut regs = vec![0u8; super::super::DENSE_SIZE - super::super::HDR];
        let n = super::super::REGISTERS;
        for i in 0..n {
            set(&mut regs, i, (i * 7 % 64) as u8);
        }
        for i in 0..n {
            assert_eq!(get(&regs, i), (i * 7 % 64) as u8, "register {i}");
        }
        assert!(!set_if_greater(&mut regs, 1, 7));
        assert!(set_if_greater(&mut regs, 1, 8));
        assert_eq!(get(&regs, 1), 8);
    }
}
