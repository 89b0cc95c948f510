//! [`read_rdb`]: reads an RDB file of any version up to 10 and hands each item to a sink.
//!
//! Keys come with their database, value, TTL (an absolute Unix time in ms; the loader decides what an expired key
//! means) and access stamp (IDLE / FREQ opcodes, applied as the current `maxmemory-policy` reads them). AUX fields
//! and function libraries (kept as their raw code for the scripting engine) are items too. Module data is refused
//! with Redis's error, empty keys are skipped and counted, and the trailer's CRC-64 is checked unless it is zero
//! (a file saved with `rdbchecksum no`).

use std::io::Read;

use super::string::Input;
use super::value::{read_body, Limits};
use super::{opcodes, RdbError, RDB_VERSION};
use crate::db::Entry;

/// One thing a file holds, in file order.
pub enum RdbItem {
    Aux {
        key: Vec<u8>,
        value: Vec<u8>,
    },
    /// The RESIZEDB hint of the database whose keys follow.
    ResizeDb {
        db: usize,
        keys: u64,
        expires: u64,
    },
    Entry {
        db: usize,
        key: Vec<u8>,
        entry: Entry,
    },
    /// A function library's code (FUNCTION2 opcode).
    Function(Vec<u8>),
}

/// What the whole read found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RdbSummary {
    pub version: u32,
    pub keys: u64,
    pub empty_keys_skipped: u64,
    /// False when the trailer was zero (saved with `rdbchecksum no`) or the version has none.
    pub checksum_verified: bool,
}

/// Reads a whole file. `limits` decide the encodings of the loaded values; `now_ms` is when the IDLE opcode's
/// idle times count from. A sink error stops the read and is returned as is.
pub fn read_rdb<R: Read>(
    r: R,
    limits: &Limits,
    now_ms: i64,
    mut sink: impl FnMut(RdbItem) -> Result<(), RdbError>,
) -> Result<RdbSummary, RdbError> {
    let mut input = Input::new(r);
    let version = read_header(&mut input)?;
    let mut summary = RdbSummary {
        version,
        ..RdbSummary::default()
    };
    let mut db = 0usize;
    let (mut expire, mut idle, mut freq) = (None, None, None);
    loop {
        let ty = input.u8()?;
        match ty {
            opcodes::EXPIRETIME => {
                expire = Some(i64::from(i32::from_le_bytes(input.array()?)) * 1000);
                continue;
            }
            opcodes::EXPIRETIME_MS => {
                expire = Some(input.ms()?);
                continue;
            }
            opcodes::FREQ => {
                freq = Some(input.u8()?);
                continue;
            }
            opcodes::IDLE => {
                idle = Some(input.length()?);
                continue;
            }
            opcodes::EOF => break,
            opcodes::SELECTDB => {
                db = input.count()?;
            }
            opcodes::RESIZEDB => {
                let (keys, expires) = (input.length()?, input.length()?);
                sink(RdbItem::ResizeDb { db, keys, expires })?;
            }
            opcodes::AUX => {
                let (key, value) = (input.string()?, input.string()?);
                sink(RdbItem::Aux { key, value })?;
            }
            opcodes::MODULE_AUX => {
                return Err(input.corrupt(
                    "The RDB file contains AUX module data I can't load: no matching module",
                ))
            }
            opcodes::FUNCTION_PRE_GA => {
                return Err(input.corrupt("Pre-release function format not supported."))
            }
            opcodes::FUNCTION2 => sink(RdbItem::Function(input.string()?))?,
            _ => {
                let key = input.string()?;
                match read_body(&mut input, ty, limits) {
                    Ok(value) => {
                        let entry = Entry::with_expire(value, expire);
                        entry.lru.restore(idle, freq, now_ms);
                        summary.keys += 1;
                        sink(RdbItem::Entry { db, key, entry })?;
                    }
                    Err(RdbError::EmptyKey) => summary.empty_keys_skipped += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        (expire, idle, freq) = (None, None, None);
    }
    if version >= 5 {
        let expected = input.checksum();
        let got = u64::from_le_bytes(input.array()?);
        if got != 0 && got != expected {
            return Err(RdbError::Checksum { expected, got });
        }
        summary.checksum_verified = got != 0;
    }
    Ok(summary)
}

/// `REDIS` and a version from 1 to 10, as Redis's `atoi` reads the four digits.
fn read_header<R: Read>(input: &mut Input<R>) -> Result<u32, RdbError> {
    let magic: [u8; 9] = input.array()?;
    if &magic[..5] != b"REDIS" {
        return Err(RdbError::WrongSignature);
    }
    let digits: Vec<u8> = magic[5..]
        .iter()
        .copied()
        .take_while(u8::is_ascii_digit)
        .collect();
    let version = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| d.parse::<u32>().ok())
        .unwrap_or(0);
    if version < 1 || version > u32::from(RDB_VERSION) {
        return Err(RdbError::Version(version));
    }
    Ok(version)
}
