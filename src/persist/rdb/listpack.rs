//! Listpacks, the compact blob 7.0 stores small hashes, sorted sets, list nodes and stream nodes in.
//!
//! Layout: total bytes (u32 LE), element count (u16 LE, 65535 when it does not fit), the elements, and 0xFF.
//! An element is an encoding byte (7-bit uint, 6/12/32-bit string lengths, 13/16/24/32/64-bit integers), its
//! data, then its own size again as a "back length" of 1 to 5 bytes so the list can be walked backwards. A
//! string that is the canonical form of an integer is stored as that integer, as Redis's `lpAppend` does.

use crate::util::numbers::parse_i64;

const HEADER: usize = 6;
const EOF: u8 = 0xFF;
/// Redis refuses to grow a listpack past 1 GB (`lpSafeToAdd`).
pub const SAFETY_SIZE: usize = 1 << 30;

/// One element as stored: an integer or bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LpValue<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl LpValue<'_> {
    /// The element as Redis hands it out: integers in decimal.
    pub fn to_vec(self) -> Vec<u8> {
        match self {
            LpValue::Int(n) => itoa::Buffer::new().format(n).as_bytes().to_vec(),
            LpValue::Str(s) => s.to_vec(),
        }
    }

    /// The element as an integer, if it is one (stored as one, or a string of one).
    pub fn as_int(self) -> Option<i64> {
        match self {
            LpValue::Int(n) => Some(n),
            LpValue::Str(s) => parse_i64(s),
        }
    }
}

/// Builds a listpack element by element.
pub struct ListpackBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for ListpackBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ListpackBuilder {
    pub fn new() -> Self {
        ListpackBuilder {
            buf: vec![0; HEADER],
            count: 0,
        }
    }

    /// Elements so far.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The size the finished listpack would have.
    pub fn bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Appends a string, as an integer when it is the canonical form of one.
    pub fn push(&mut self, s: &[u8]) {
        match parse_i64(s).filter(|_| s.len() <= 20) {
            Some(n) => self.push_int(n),
            None => self.push_str(s),
        }
    }

    pub fn push_int(&mut self, n: i64) {
        let start = self.buf.len();
        if (0..=127).contains(&n) {
            self.buf.push(n as u8);
        } else if (-4096..=4095).contains(&n) {
            let v = (n as u64) & 0x1FFF;
            self.buf
                .extend_from_slice(&[0xC0 | (v >> 8) as u8, v as u8]);
        } else if let Ok(v) = i16::try_from(n) {
            self.buf.push(0xF1);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else if (-(1 << 23)..(1 << 23)).contains(&n) {
            self.buf.push(0xF2);
            self.buf.extend_from_slice(&(n as i32).to_le_bytes()[..3]);
        } else if let Ok(v) = i32::try_from(n) {
            self.buf.push(0xF3);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else {
            self.buf.push(0xF4);
            self.buf.extend_from_slice(&n.to_le_bytes());
        }
        self.end_element(start);
    }

    fn push_str(&mut self, s: &[u8]) {
        let start = self.buf.len();
        let len = s.len();
        if len < 64 {
            self.buf.push(0x80 | len as u8);
        } else if len < 4096 {
            self.buf
                .extend_from_slice(&[0xE0 | (len >> 8) as u8, len as u8]);
        } else {
            self.buf.push(0xF0);
            self.buf.extend_from_slice(&(len as u32).to_le_bytes());
        }
        self.buf.extend_from_slice(s);
        self.end_element(start);
    }

    /// Writes the back length of the element that began at `start`.
    fn end_element(&mut self, start: usize) {
        let l = (self.buf.len() - start) as u64;
        let n = backlen_size(l);
        for i in (0..n).rev() {
            let part = ((l >> (7 * i)) & 127) as u8;
            self.buf.push(if i == n - 1 { part } else { part | 128 });
        }
        self.count += 1;
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(EOF);
        let total = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&total.to_le_bytes());
        let count = u16::try_from(self.count).unwrap_or(u16::MAX);
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

fn backlen_size(l: u64) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// A listpack from a list of strings.
pub fn build<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut b = ListpackBuilder::new();
    items.into_iter().for_each(|s| b.push(s));
    b.finish()
}

/// The elements of a listpack, checking its header, every element's bounds and back length, and the
/// terminator; `None` if anything is off (Redis's "integrity check failed").
pub fn parse(lp: &[u8]) -> Option<Vec<LpValue<'_>>> {
    let total = u32::from_le_bytes(lp.get(..4)?.try_into().ok()?) as usize;
    let count = u16::from_le_bytes(lp.get(4..6)?.try_into().ok()?);
    if total != lp.len() || lp.last() != Some(&EOF) {
        return None;
    }
    let mut out = Vec::new();
    let mut at = HEADER;
    while lp.get(at)? != &EOF {
        let (value, size) = element(&lp[at..])?;
        let n = backlen_size(size as u64);
        let back = lp.get(at + size..at + size + n)?;
        if decode_backlen(back)? != size as u64 {
            return None;
        }
        out.push(value);
        at += size + n;
    }
    if at + 1 != lp.len() || (count != u16::MAX && usize::from(count) != out.len()) {
        return None;
    }
    Some(out)
}

/// The back length stored left to right: its last byte holds the lowest 7 bits.
fn decode_backlen(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, byte) in b.iter().enumerate() {
        let cont = byte & 128 != 0;
        if cont != (i > 0) {
            return None;
        }
        v = v << 7 | u64::from(byte & 127);
    }
    Some(v)
}

/// One element at the start of `p`: its value and its size without the back length.
fn element(p: &[u8]) -> Option<(LpValue<'_>, usize)> {
    let b = *p.first()?;
    let int = |n: usize| -> Option<i64> {
        let bytes = p.get(1..1 + n)?;
        let mut buf = [0u8; 8];
        buf[..n].copy_from_slice(bytes);
        let raw = i64::from_le_bytes(buf);
        let shift = 64 - 8 * n as u32;
        Some(raw << shift >> shift)
    };
    let string = |header: usize, len: usize| -> Option<(LpValue<'_>, usize)> {
        let s = p.get(header..header.checked_add(len)?)?;
        Some((LpValue::Str(s), header + len))
    };
    match b {
        _ if b & 0x80 == 0 => Some((LpValue::Int(i64::from(b)), 1)),
        _ if b & 0xC0 == 0x80 => string(1, usize::from(b & 0x3F)),
        _ if b & 0xE0 == 0xC0 => {
            let v = i64::from(b & 0x1F) << 8 | i64::from(*p.get(1)?);
            Some((
                LpValue::Int(if v >= 1 << 12 { v - (1 << 13) } else { v }),
                2,
            ))
        }
        _ if b & 0xF0 == 0xE0 => string(2, usize::from(b & 0x0F) << 8 | usize::from(*p.get(1)?)),
        0xF0 => string(
            5,
            u32::from_le_bytes(p.get(1..5)?.try_into().ok()?) as usize,
        ),
        0xF1 => Some((LpValue::Int(int(2)?), 3)),
        0xF2 => Some((LpValue::Int(int(3)?), 4)),
        0xF3 => Some((LpValue::Int(int(4)?), 5)),
        0xF4 => Some((LpValue::Int(int(8)?), 9)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_round_trip_in_their_smallest_encodings() {
        let big = vec![b'x'; 5000];
        let mid = vec![b'y'; 100];
        let items: Vec<&[u8]> = vec![
            b"0",
            b"127",
            b"-1",
            b"-4096",
            b"4095",
            b"32767",
            b"-32768",
            b"8388607",
            b"-8388608",
            b"2147483647",
            b"-2147483648",
            b"9223372036854775807",
            b"-9223372036854775808",
            b"abc",
            b"",
            b"007",
            &mid,
            &big,
        ];
        let lp = build(items.iter().copied());
        let parsed = parse(&lp).expect("valid listpack");
        let back: Vec<Vec<u8>> = parsed.iter().map(|v| v.to_vec()).collect();
        assert_eq!(back, items.iter().map(|s| s.to_vec()).collect::<Vec<_>>());
        assert_eq!(parsed[0], LpValue::Int(0));
        assert_eq!(parsed[15], LpValue::Str(b"007"));
        assert_eq!(
            &lp[6..8],
            [0, 1],
            "0 is a 7-bit uint with a 1-byte back length"
        );
    }

    #[test]
    fn damaged_listpacks_are_refused() {
        let lp = build([&b"hello"[..], b"12"]);
        assert!(parse(&lp).is_some());
        for cut in 0..lp.len() {
            assert!(parse(&lp[..cut]).is_none(), "cut at {cut}");
        }
        let mut bad_count = lp.clone();
        bad_count[4] = 3;
        assert!(parse(&bad_count).is_none());
        let mut bad_backlen = lp.clone();
        bad_backlen[12] = 9;
        assert!(parse(&bad_backlen).is_none());
    }
}
