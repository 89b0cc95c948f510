//! Intsets: sorted integers of one width (2, 4 or 8 bytes), the blob of `RDB_TYPE_SET_INTSET`.
//!
//! Layout: the width (u32 LE), the count (u32 LE), then the integers little endian, strictly ascending.

/// The intset of `sorted` (ascending, no duplicates), in the narrowest width that holds every member.
pub fn build(sorted: &[i64]) -> Vec<u8> {
    let width: usize = match (sorted.first(), sorted.last()) {
        (Some(&lo), Some(&hi)) if lo < i64::from(i32::MIN) || hi > i64::from(i32::MAX) => 8,
        (Some(&lo), Some(&hi)) if lo < i64::from(i16::MIN) || hi > i64::from(i16::MAX) => 4,
        _ => 2,
    };
    let mut out = Vec::with_capacity(8 + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for n in sorted {
        out.extend_from_slice(&n.to_le_bytes()[..width]);
    }
    out
}

/// The members, `None` unless the width, the size and the strict order are right.
pub fn parse(blob: &[u8]) -> Option<Vec<i64>> {
    let width = u32::from_le_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let count = u32::from_le_bytes(blob.get(4..8)?.try_into().ok()?) as usize;
    if ![2, 4, 8].contains(&width) || blob.len() != 8 + count.checked_mul(width)? || count == 0 {
        return None;
    }
    let shift = 64 - 8 * width as u32;
    let members: Vec<i64> = blob[8..]
        .chunks_exact(width)
        .map(|c| {
            let mut buf = [0u8; 8];
            buf[..width].copy_from_slice(c);
            i64::from_le_bytes(buf) << shift >> shift
        })
        .collect();
    members.windows(2).all(|w| w[0] < w[1]).then_some(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrowest_width_and_back() {
        assert_eq!(build(&[1, 2]), [2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 2, 0]);
        for set in [
            vec![-5, 7],
            vec![-40000, 1],
            vec![1, 1 << 40],
            vec![i64::MIN, i64::MAX],
        ] {
            assert_eq!(parse(&build(&set)), Some(set));
        }
        assert_eq!(build(&[1 << 20])[0], 4);
        assert_eq!(
            parse(&[2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0]),
            None,
            "out of order"
        );
        assert_eq!(parse(&[3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0]), None, "bad width");
        assert_eq!(parse(&[2, 0, 0, 0, 9, 0, 0, 0, 2, 0]), None, "short");
    }
}
