//! DUMP payloads: a value's type byte and body, the RDB version (2 bytes LE) and a CRC-64 (8 bytes LE) of all
//! that precedes it, as Redis's `createDumpPayload` frames them.

use super::string::{crc64, Input};
use super::value::{put_body, read_body, type_of, Encoder, Limits};
use super::{types, RdbError, RDB_VERSION};
use crate::db::Value;

const FOOTER: usize = 10;

/// Why a payload was refused, as RESTORE words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadError {
    /// `ERR DUMP payload version or checksum are wrong`
    VersionOrChecksum,
    /// `ERR Bad data format`
    BadFormat,
}

pub fn dump(value: &Value, enc: &Encoder) -> Vec<u8> {
    let mut out = vec![type_of(value)];
    put_body(&mut out, value, enc);
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Redis's `verifyDumpPayload`: long enough, a version this server reads, and a matching checksum.
pub fn verify(payload: &[u8]) -> Result<(), PayloadError> {
    let Some(body_len) = payload.len().checked_sub(FOOTER) else {
        return Err(PayloadError::VersionOrChecksum);
    };
    let footer = &payload[body_len..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    let crc = crc64(&payload[..payload.len() - 8]);
    if version > RDB_VERSION || crc.to_le_bytes() != footer[2..] {
        return Err(PayloadError::VersionOrChecksum);
    }
    Ok(())
}

/// The value a payload holds, after `verify`.
pub fn restore(payload: &[u8], limits: &Limits) -> Result<Value, PayloadError> {
    verify(payload)?;
    let mut input = Input::new(&payload[..payload.len() - FOOTER]);
    let ty = input.u8().map_err(|_| PayloadError::BadFormat)?;
    if !is_value_type(ty) {
        return Err(PayloadError::BadFormat);
    }
    read_body(&mut input, ty, limits).map_err(|_: RdbError| PayloadError::BadFormat)
}

/// Redis's `rdbIsObjectType`.
fn is_value_type(ty: u8) -> bool {
    ty <= types::MODULE_2 || (types::HASH_ZIPMAP..=types::STREAM_LISTPACKS_2).contains(&ty)
}
