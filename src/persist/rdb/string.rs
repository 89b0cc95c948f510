//! RDB's primitives: lengths, integer-encoded and LZF-compressed strings, binary doubles, millisecond times, and
//! the input that checksums what it reads.
//!
//! A length is 1, 2, 5 or 9 bytes: the top two bits of the first byte say which (`00` 6 bits, `01` 14 bits big
//! endian, `0x80` + 32 bits, `0x81` + 64 bits big endian); `11` marks a string stored specially instead of a
//! length: an 8, 16 or 32-bit little-endian integer, or LZF data.

use std::io::Read;

use super::RdbError;
use crate::util::numbers::parse_i64;

const LEN_6BIT: u8 = 0;
const LEN_14BIT: u8 = 1;
const LEN_32BIT: u8 = 0x80;
const LEN_64BIT: u8 = 0x81;
const ENCVAL: u8 = 3;
const ENC_INT8: u8 = 0;
const ENC_INT16: u8 = 1;
const ENC_INT32: u8 = 2;
const ENC_LZF: u8 = 3;

/// Redis stores strings up to this long as integers when they are one; longer ones cannot be an `i32`.
const INT_CANDIDATE_MAX: usize = 11;
/// Redis tries LZF only on strings longer than this.
const LZF_MIN: usize = 20;
/// The most LZF can expand: a back reference of up to 264 bytes costs 2 or 3 bytes. A compressed string that
/// claims more is corrupt, and refusing it spares allocating what a corrupt length asks for.
const LZF_MAX_RATIO: u64 = 132;
/// Reads grow their buffer by at most this much before the bytes are there.
const READ_CHUNK: usize = 64 * 1024;

pub fn put_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push((len as u8) | LEN_6BIT << 6);
    } else if len < 1 << 14 {
        out.push(((len >> 8) as u8) | LEN_14BIT << 6);
        out.push(len as u8);
    } else if len <= u64::from(u32::MAX) {
        out.push(LEN_32BIT);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// A string as Redis's `rdbSaveRawString` writes it: as an integer if it is the canonical form of one that fits
/// 32 bits, else LZF-compressed if `compress`, it is long enough and it shrinks by more than 4 bytes, else raw.
pub fn put_string(out: &mut Vec<u8>, s: &[u8], compress: bool) {
    if s.len() <= INT_CANDIDATE_MAX {
        if let Some(n) = parse_i64(s) {
            if put_int(out, n) {
                return;
            }
        }
    }
    if compress && s.len() > LZF_MIN && put_lzf(out, s) {
        return;
    }
    put_len(out, s.len() as u64);
    out.extend_from_slice(s);
}

/// An integer in the smallest of Redis's integer string encodings; false if it needs more than 32 bits.
pub fn put_int(out: &mut Vec<u8>, n: i64) -> bool {
    let tag = |enc: u8| ENCVAL << 6 | enc;
    if let Ok(v) = i8::try_from(n) {
        out.extend_from_slice(&[tag(ENC_INT8), v as u8]);
    } else if let Ok(v) = i16::try_from(n) {
        out.push(tag(ENC_INT16));
        out.extend_from_slice(&v.to_le_bytes());
    } else if let Ok(v) = i32::try_from(n) {
        out.push(tag(ENC_INT32));
        out.extend_from_slice(&v.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// LZF form, if it saves more than 4 bytes (Redis gives the compressor `len - 4` bytes of room).
fn put_lzf(out: &mut Vec<u8>, s: &[u8]) -> bool {
    match crate::util::lzf::compress(s, s.len() - 4) {
        Some(c) => {
            out.push(ENCVAL << 6 | ENC_LZF);
            put_len(out, c.len() as u64);
            put_len(out, s.len() as u64);
            out.extend_from_slice(&c);
            true
        }
        None => false,
    }
}

/// A double as `RDB_TYPE_ZSET_2` stores scores: 8 bytes, little endian.
pub fn put_double(out: &mut Vec<u8>, d: f64) {
    out.extend_from_slice(&d.to_le_bytes());
}

/// Unix milliseconds as Redis's `rdbSaveMillisecondTime`: 8 bytes, little endian.
pub fn put_ms(out: &mut Vec<u8>, ms: i64) {
    out.extend_from_slice(&ms.to_le_bytes());
}

/// Redis's crc64 (Jones polynomial, reflected, initial value 0), as the RDB trailer and DUMP payloads carry it.
pub static CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

pub fn crc64(bytes: &[u8]) -> u64 {
    CRC64.checksum(bytes)
}

/// What the first byte of a length says.
pub enum Len {
    Plain(u64),
    /// A specially stored string: `ENC_INT8`, `ENC_INT16`, `ENC_INT32` or `ENC_LZF`.
    Encoded(u8),
}

/// A byte source that counts and checksums what it reads: the file or payload being decoded. Every read is
/// bounded by the bytes actually there, so a corrupt length ends in a short read, not a huge allocation.
pub struct Input<R> {
    r: R,
    digest: crc::Digest<'static, u64>,
    offset: u64,
}

impl<R: Read> Input<R> {
    pub fn new(r: R) -> Self {
        Input {
            r,
            digest: CRC64.digest(),
            offset: 0,
        }
    }

    /// Bytes read so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The CRC-64 of everything read so far.
    pub fn checksum(&self) -> u64 {
        self.digest.clone().finalize()
    }

    pub fn fill(&mut self, buf: &mut [u8]) -> Result<(), RdbError> {
        self.r.read_exact(buf).map_err(|_| RdbError::ShortRead)?;
        self.digest.update(buf);
        self.offset += buf.len() as u64;
        Ok(())
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut buf = [0u8; N];
        self.fill(&mut buf)?;
        Ok(buf)
    }

    pub fn u8(&mut self) -> Result<u8, RdbError> {
        Ok(self.array::<1>()?[0])
    }

    /// `n` bytes, growing the buffer only as they arrive.
    pub fn bytes(&mut self, n: u64) -> Result<Vec<u8>, RdbError> {
        let mut out = Vec::with_capacity(n.min(READ_CHUNK as u64) as usize);
        let mut left = n;
        while left > 0 {
            let step = left.min(READ_CHUNK as u64) as usize;
            let at = out.len();
            out.resize(at + step, 0);
            self.fill(&mut out[at..])?;
            left -= step as u64;
        }
        Ok(out)
    }

    pub fn len_or_encoding(&mut self) -> Result<Len, RdbError> {
        let first = self.u8()?;
        Ok(match first >> 6 {
            LEN_6BIT => Len::Plain(u64::from(first & 0x3F)),
            LEN_14BIT => Len::Plain(u64::from(first & 0x3F) << 8 | u64::from(self.u8()?)),
            ENCVAL => Len::Encoded(first & 0x3F),
            _ if first == LEN_32BIT => Len::Plain(u64::from(u32::from_be_bytes(self.array()?))),
            _ if first == LEN_64BIT => Len::Plain(u64::from_be_bytes(self.array()?)),
            _ => {
                return Err(self.corrupt(format!("Unknown length encoding {first} in rdbLoadLen()")))
            }
        })
    }

    /// A length; a string encoding where a length belongs is corrupt.
    pub fn length(&mut self) -> Result<u64, RdbError> {
        match self.len_or_encoding()? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => {
                Err(self.corrupt("Unexpected string encoding where a length was expected"))
            }
        }
    }

    /// A length used to count items in memory: one that cannot be real is corrupt.
    pub fn count(&mut self) -> Result<usize, RdbError> {
        let n = self.length()?;
        usize::try_from(n).map_err(|_| self.corrupt(format!("Length {n} out of range")))
    }

    /// A string in any of its encodings, as bytes.
    pub fn string(&mut self) -> Result<Vec<u8>, RdbError> {
        match self.len_or_encoding()? {
            Len::Plain(n) => self.bytes(n),
            Len::Encoded(ENC_INT8) => Ok(itoa(i64::from(self.u8()? as i8))),
            Len::Encoded(ENC_INT16) => Ok(itoa(i64::from(i16::from_le_bytes(self.array()?)))),
            Len::Encoded(ENC_INT32) => Ok(itoa(i64::from(i32::from_le_bytes(self.array()?)))),
            Len::Encoded(ENC_LZF) => self.lzf_string(),
            Len::Encoded(e) => Err(self.corrupt(format!("Unknown RDB string encoding type {e}"))),
        }
    }

    fn lzf_string(&mut self) -> Result<Vec<u8>, RdbError> {
        let clen = self.length()?;
        let len = self.length()?;
        if clen == 0 || len > clen.saturating_mul(LZF_MAX_RATIO) {
            return Err(self.corrupt("Invalid LZF compressed string"));
        }
        let compressed = self.bytes(clen)?;
        let out_len =
            usize::try_from(len).map_err(|_| self.corrupt("Invalid LZF compressed string"))?;
        crate::util::lzf::decompress(&compressed, out_len)
            .ok_or_else(|| self.corrupt("Invalid LZF compressed string"))
    }

    pub fn double(&mut self) -> Result<f64, RdbError> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// A score of the old `RDB_TYPE_ZSET`: a length byte then ASCII, with 253, 254 and 255 for nan, inf, -inf.
    pub fn string_double(&mut self) -> Result<f64, RdbError> {
        let len = self.u8()?;
        match len {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let text = self.bytes(u64::from(n))?;
                std::str::from_utf8(&text)
                    .ok()
                    .and_then(|t| t.trim().parse::<f64>().ok())
                    .ok_or_else(|| self.corrupt("Invalid double value"))
            }
        }
    }

    pub fn ms(&mut self) -> Result<i64, RdbError> {
        Ok(i64::from_le_bytes(self.array()?))
    }

    /// A corruption error at the current offset, worded as Redis's `rdbReportCorruptRDB`.
    pub fn corrupt(&self, reason: impl Into<String>) -> RdbError {
        RdbError::Corrupt {
            offset: self.offset,
            reason: reason.into(),
        }
    }
}

fn itoa(n: i64) -> Vec<u8> {
    itoa::Buffer::new().format(n).as_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(s: &[u8], compress: bool) -> Vec<u8> {
        let mut out = Vec::new();
        put_string(&mut out, s, compress);
        out
    }

    fn decoded(bytes: &[u8]) -> Result<Vec<u8>, RdbError> {
        Input::new(bytes).string()
    }

    #[test]
    fn crc64_is_redis_s() {
        assert_eq!(crc64(b"123456789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn lengths_use_the_smallest_form() {
        for (n, len) in [
            (0, 1),
            (63, 1),
            (64, 2),
            (16383, 2),
            (16384, 5),
            (1 << 32, 9),
        ] {
            let mut out = Vec::new();
            put_len(&mut out, n);
            assert_eq!(out.len(), len, "{n}");
            assert_eq!(Input::new(&out[..]).length().ok(), Some(n));
        }
    }

    #[test]
    fn canonical_integers_are_int_encoded() {
        assert_eq!(encoded(b"-128", false), [0xC0, 0x80]);
        assert_eq!(encoded(b"300", false), [0xC1, 0x2C, 0x01]);
        assert_eq!(encoded(b"-2147483648", false), [0xC2, 0, 0, 0, 0x80]);
        assert_eq!(encoded(b"2147483648", false)[0], 10, "too big: raw");
        assert_eq!(
            encoded(b"007", false),
            [3, b'0', b'0', b'7'],
            "not canonical: raw"
        );
        for s in [&b"-128"[..], b"300", b"-2147483648", b"12345"] {
            assert_eq!(decoded(&encoded(s, false)).ok().as_deref(), Some(s));
        }
    }

    #[test]
    fn long_repetitive_strings_are_compressed() {
        let s = vec![b'a'; 100];
        let e = encoded(&s, true);
        assert_eq!(e[0], 0xC3);
        assert!(e.len() < 20);
        assert_eq!(decoded(&e).ok(), Some(s.clone()));
        assert_eq!(encoded(&s, false).len(), 102, "compression off");
        let short = vec![b'a'; 20];
        assert_eq!(
            encoded(&short, true).len(),
            21,
            "20 bytes are never compressed"
        );
    }

    #[test]
    fn corrupt_strings_are_errors_not_allocations() {
        assert_eq!(
            decoded(&[0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1]),
            Err(RdbError::ShortRead)
        );
        assert!(matches!(
            decoded(&[0xC3, 1, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 0]),
            Err(RdbError::Corrupt { .. })
        ));
        assert!(matches!(
            decoded(&[0xC3, 2, 10, 0xE0, 0xFF]),
            Err(RdbError::Corrupt { .. })
        ));
        assert!(matches!(decoded(&[0xC7]), Err(RdbError::Corrupt { .. })));
    }
}
