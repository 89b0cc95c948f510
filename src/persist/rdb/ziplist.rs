//! Read-only: ziplists (lists, hashes and sorted sets in files of Redis 2.6 to 6.2) and zipmaps (hashes in files
//! of Redis 2.4 and older). Redis 7.0 converts both to listpacks on load and never writes them.
//!
//! A ziplist is total bytes (u32 LE), tail offset (u32 LE), count (u16 LE), entries, 0xFF. Each entry starts with
//! the previous entry's size (1 byte, or 0xFE then 4 bytes LE) and an encoding: strings with 6, 14 (big endian) or
//! 32-bit (big endian) lengths, 8/16/24/32/64-bit little-endian integers, or a 4-bit immediate 0 to 12.
//!
//! A zipmap is a count byte, then per pair a length, the field, a length, a free-space byte, the value and that
//! many unused bytes; lengths are 1 byte below 254, else 254 and 4 bytes LE; 0xFF ends it.

use super::listpack::LpValue;

const HEADER: usize = 10;
const END: u8 = 0xFF;
const BIG_PREVLEN: u8 = 254;

/// The elements of a ziplist, `None` if it is damaged (bounds, previous-entry sizes, count, terminator).
pub fn parse(zl: &[u8]) -> Option<Vec<LpValue<'_>>> {
    let total = u32::from_le_bytes(zl.get(..4)?.try_into().ok()?) as usize;
    let tail = u32::from_le_bytes(zl.get(4..8)?.try_into().ok()?) as usize;
    let count = u16::from_le_bytes(zl.get(8..10)?.try_into().ok()?);
    if total != zl.len() || zl.last() != Some(&END) {
        return None;
    }
    let mut out = Vec::new();
    let (mut at, mut prev_size) = (HEADER, 0usize);
    let mut last = HEADER;
    while *zl.get(at)? != END {
        last = at;
        let (prevlen, plen_size) = match zl[at] {
            BIG_PREVLEN => (
                u32::from_le_bytes(zl.get(at + 1..at + 5)?.try_into().ok()?) as usize,
                5,
            ),
            n => (usize::from(n), 1),
        };
        if prevlen != prev_size {
            return None;
        }
        let (value, size) = element(&zl[at + plen_size..])?;
        out.push(value);
        prev_size = plen_size + size;
        at += prev_size;
    }
    // The tail offset must point at the last entry (at the end marker's place when empty).
    let tail_ok = tail == if out.is_empty() { at } else { last };
    if !tail_ok || at + 1 != zl.len() || (count != u16::MAX && usize::from(count) != out.len()) {
        return None;
    }
    Some(out)
}

/// The entry after its prevlen: the value and the size of encoding plus data.
fn element(p: &[u8]) -> Option<(LpValue<'_>, usize)> {
    let b = *p.first()?;
    let int = |n: usize| -> Option<i64> {
        let mut buf = [0u8; 8];
        buf[..n].copy_from_slice(p.get(1..1 + n)?);
        let shift = 64 - 8 * n as u32;
        Some(i64::from_le_bytes(buf) << shift >> shift)
    };
    let string = |header: usize, len: usize| -> Option<(LpValue<'_>, usize)> {
        let s = p.get(header..header.checked_add(len)?)?;
        Some((LpValue::Str(s), header + len))
    };
    match b >> 6 {
        0 => return string(1, usize::from(b & 0x3F)),
        1 => return string(2, usize::from(b & 0x3F) << 8 | usize::from(*p.get(1)?)),
        2 if b == 0x80 => {
            return string(
                5,
                u32::from_be_bytes(p.get(1..5)?.try_into().ok()?) as usize,
            )
        }
        2 => return None,
        _ => {}
    }
    let (value, size) = match b {
        0xC0 => (int(2)?, 3),
        0xD0 => (int(4)?, 5),
        0xE0 => (int(8)?, 9),
        0xF0 => (int(3)?, 4),
        0xFE => (int(1)?, 2),
        0xF1..=0xFD => (i64::from(b & 0x0F) - 1, 1),
        _ => return None,
    };
    Some((LpValue::Int(value), size))
}

/// The field-value pairs of a zipmap, `None` if it is damaged.
pub fn parse_zipmap(zm: &[u8]) -> Option<Vec<(&[u8], &[u8])>> {
    let mut at = 1;
    let mut out = Vec::new();
    loop {
        if *zm.get(at)? == END {
            // Redis's `zipmapValidateIntegrity`: not empty, and a count byte that is either exact or "unknown".
            let count_ok = zm[0] == BIGLEN || usize::from(zm[0]) == out.len();
            return (at + 1 == zm.len() && !out.is_empty() && count_ok).then_some(out);
        }
        let (flen, n) = zipmap_len(zm, at)?;
        let field = zm.get(at + n..at + n + flen)?;
        at += n + flen;
        let (vlen, n) = zipmap_len(zm, at)?;
        let free = usize::from(*zm.get(at + n)?);
        let value = zm.get(at + n + 1..at + n + 1 + vlen)?;
        at += n + 1 + vlen + free;
        out.push((field, value));
    }
}

/// The zipmap count byte (and length marker) meaning "254 or more: count them".
const BIGLEN: u8 = 254;

/// A length and how many bytes encode it. A length under 254 in the 5-byte form is refused, as Redis's
/// validation does (it would let a small field claim a huge allocation).
fn zipmap_len(zm: &[u8], at: usize) -> Option<(usize, usize)> {
    match *zm.get(at)? {
        BIGLEN => {
            let len = u32::from_le_bytes(zm.get(at + 1..at + 5)?.try_into().ok()?) as usize;
            (len >= usize::from(BIGLEN)).then_some((len, 5))
        }
        END => None,
        n => Some((usize::from(n), 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ziplist of "a", 7 (immediate), 300 (int16), as Redis 6 writes them.
    fn sample() -> Vec<u8> {
        let entries = [
            vec![0, 0x01, b'a'],
            vec![3, 0xF8],
            vec![2, 0xC0, 0x2C, 0x01],
        ];
        let body: Vec<u8> = entries.concat();
        let total = (HEADER + body.len() + 1) as u32;
        let mut zl = total.to_le_bytes().to_vec();
        zl.extend_from_slice(&((HEADER + 5) as u32).to_le_bytes());
        zl.extend_from_slice(&3u16.to_le_bytes());
        zl.extend_from_slice(&body);
        zl.push(END);
        zl
    }

    #[test]
    fn reads_strings_and_integers() {
        let zl = sample();
        let v = parse(&zl).expect("valid");
        assert_eq!(v, [LpValue::Str(b"a"), LpValue::Int(7), LpValue::Int(300)]);
        for cut in 0..zl.len() {
            assert!(parse(&zl[..cut]).is_none());
        }
        let mut bad_prev = zl.clone();
        bad_prev[13] = 9;
        assert!(parse(&bad_prev).is_none());
        let mut bad_tail = zl.clone();
        bad_tail[4] = 2;
        assert!(
            parse(&bad_tail).is_none(),
            "the tail offset must point at the last entry"
        );
    }

    #[test]
    fn reads_zipmaps() {
        let zm = [2, 1, b'f', 2, 1, b'v', b'w', 0, 1, b'g', 0, 0, END];
        assert_eq!(
            parse_zipmap(&zm),
            Some(vec![(&b"f"[..], &b"vw"[..]), (b"g", b"")])
        );
        assert_eq!(parse_zipmap(&zm[..zm.len() - 1]), None);
    }
}
