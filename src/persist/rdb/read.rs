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
        /// The key's deadline (Unix ms), if it has a TTL.
        expire: Option<i64>,
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
    /// Bytes the file took, trailer included: where an old-style AOF's command tail starts.
    pub bytes: u64,
}

/// Reads a whole file (buffered here: the reader is read a few bytes at a time). `limits` decide the encodings of the loaded values; `now_ms` is when the IDLE opcode's
/// idle times count from. A sink error stops the read and is returned as is.
pub fn read_rdb<R: Read>(
    r: R,
    limits: &Limits,
    now_ms: i64,
    mut sink: impl FnMut(RdbItem) -> Result<(), RdbError>,
) -> Result<RdbSummary, RdbError> {
    let mut input = Input::new(std::io::BufReader::new(r));
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
                let name = super::value::module_name(input.length()?);
                return Err(RdbError::Refused(format!(
                    "The RDB file contains AUX module data I can't load: no matching module '{name}'"
                )));
            }
            opcodes::FUNCTION_PRE_GA => {
                return Err(input.corrupt("Pre-release function format not supported."))
            }
            opcodes::FUNCTION2 => sink(RdbItem::Function(input.string()?))?,
            _ => {
                let key = input.string()?;
                match read_body(&mut input, ty, limits) {
                    Ok(value) => {
                        let entry = Entry::new(value);
                        entry.lru.restore(idle, freq, now_ms);
                        summary.keys += 1;
                        sink(RdbItem::Entry {
                            db,
                            key,
                            entry,
                            expire,
                        })?;
                    }
                    Err(RdbError::EmptyKey) => {
                        // Redis names the first ten, and counts them all in its "Done loading" line.
                        if summary.empty_keys_skipped < 10 {
                            log::info!(
                                "rdbLoadObject skipping empty key: {}",
                                String::from_utf8_lossy(&key)
                            );
                        }
                        summary.empty_keys_skipped += 1;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        (expire, idle, freq) = (None, None, None);
    }
    if version >= 5 {
        let expected = input.checksum();
        let got = u64::from_le_bytes(input.array()?);
        if got != 0 && got != expected && !super::skip_checksum() {
            return Err(RdbError::Checksum { expected, got });
        }
        summary.checksum_verified = got != 0;
    }
    summary.bytes = input.offset();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Value;
    use crate::persist::rdb::string::put_string;
    use crate::persist::rdb::{string::put_len, types};

    fn read_all(file: &[u8]) -> Result<(RdbSummary, Vec<RdbItem>), RdbError> {
        let mut items = Vec::new();
        let summary = read_rdb(file, &Limits::default(), 5_000_000, |i| {
            items.push(i);
            Ok(())
        })?;
        Ok((summary, items))
    }

    fn s(out: &mut Vec<u8>, bytes: &[u8]) {
        put_string(out, bytes, false);
    }

    #[test]
    fn opcodes_before_a_key_apply_to_that_key_only() {
        let mut f = b"REDIS0009".to_vec();
        f.push(opcodes::AUX);
        s(&mut f, b"redis-ver");
        s(&mut f, b"6.2.0");
        f.push(opcodes::SELECTDB);
        put_len(&mut f, 2);
        f.push(opcodes::RESIZEDB);
        put_len(&mut f, 2);
        put_len(&mut f, 1);
        f.push(opcodes::EXPIRETIME);
        f.extend_from_slice(&1000i32.to_le_bytes());
        f.push(opcodes::IDLE);
        put_len(&mut f, 100);
        f.push(types::STRING);
        s(&mut f, b"k");
        s(&mut f, b"v");
        f.push(types::SET);
        s(&mut f, b"empty");
        put_len(&mut f, 0);
        f.push(types::STRING);
        s(&mut f, b"k2");
        s(&mut f, b"42");
        f.push(opcodes::FUNCTION2);
        s(&mut f, b"#!lua name=lib");
        f.push(opcodes::EOF);
        f.extend_from_slice(&[0; 8]);
        let (summary, items) = read_all(&f).expect("valid file");
        assert_eq!(
            (summary.version, summary.keys, summary.empty_keys_skipped),
            (9, 2, 1)
        );
        assert!(!summary.checksum_verified);
        assert!(
            matches!(&items[0], RdbItem::Aux { key, value } if key == b"redis-ver" && value == b"6.2.0")
        );
        assert!(matches!(
            items[1],
            RdbItem::ResizeDb {
                db: 2,
                keys: 2,
                expires: 1
            }
        ));
        let RdbItem::Entry {
            db: 2,
            key,
            entry,
            expire,
        } = &items[2]
        else {
            panic!("an entry")
        };
        assert_eq!((key.as_slice(), *expire), (&b"k"[..], Some(1_000_000)));
        if !crate::db::access_policy::lfu() {
            assert_eq!(entry.lru.idle_secs(5_000_000), 100);
        }
        let RdbItem::Entry {
            key, entry, expire, ..
        } = &items[3]
        else {
            panic!("an entry")
        };
        assert_eq!(
            (key.as_slice(), *expire),
            (&b"k2"[..], None),
            "opcodes reset"
        );
        assert!(matches!(&entry.value, Value::Str(v) if v.as_slice() == b"42"));
        assert!(matches!(&items[4], RdbItem::Function(code) if code == b"#!lua name=lib"));
    }

    #[test]
    fn module_values_are_refused_with_the_type_name() {
        const CHARSET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let id = b"mymodtype".iter().fold(0u64, |id, c| {
            id << 6 | CHARSET.iter().position(|x| x == c).unwrap_or(0) as u64
        });
        let mut f = b"REDIS0010".to_vec();
        f.push(types::MODULE_2);
        s(&mut f, b"k");
        put_len(&mut f, id << 10 | 3);
        let err = read_all(&f)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.ends_with("-> The RDB file contains module data I can't load: no matching module type 'mymodtype'"), "{err}");
        let mut aux = b"REDIS0010".to_vec();
        aux.push(opcodes::MODULE_AUX);
        put_len(&mut aux, id << 10 | 3);
        let err = read_all(&aux).err().map(|e| e.to_string());
        let want =
            "The RDB file contains AUX module data I can't load: no matching module 'mymodtype'";
        assert_eq!(err.as_deref(), Some(want));
        let mut unknown = b"REDIS0010".to_vec();
        unknown.extend_from_slice(&[30, 1, b'k']);
        assert!(matches!(read_all(&unknown), Err(RdbError::Corrupt { .. })));
    }
}
