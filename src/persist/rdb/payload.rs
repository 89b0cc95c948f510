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

/// Redis's `verifyDumpPayload`: long enough, a version this server reads, and a matching checksum (unless
/// DEBUG SET-SKIP-CHECKSUM-VALIDATION turned the check off).
pub fn verify(payload: &[u8]) -> Result<(), PayloadError> {
    let Some(body_len) = payload.len().checked_sub(FOOTER) else {
        return Err(PayloadError::VersionOrChecksum);
    };
    let footer = &payload[body_len..];
    let version = u16::from_le_bytes([footer[0], footer[1]]);
    if version > RDB_VERSION {
        return Err(PayloadError::VersionOrChecksum);
    }
    if super::skip_checksum() {
        return Ok(());
    }
    let crc = crc64(&payload[..payload.len() - 8]);
    if crc.to_le_bytes() != footer[2..] {
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
    read_body(&mut input, ty, limits).map_err(|e: RdbError| {
        // Redis's `rdbReportError` in a RESTORE context: logged at verbose level, and the command fails.
        log::debug!("{e}");
        PayloadError::BadFormat
    })
}

/// Redis's `rdbIsObjectType`.
fn is_value_type(ty: u8) -> bool {
    ty <= types::MODULE_2 || (types::HASH_ZIPMAP..=types::STREAM_LISTPACKS_2).contains(&ty)
}

/// FUNCTION DUMP's payload: each library as an RDB FUNCTION2 opcode and its code, then the footer.
pub fn dump_functions(codes: &[Vec<u8>], compress: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for code in codes {
        out.push(super::opcodes::FUNCTION2);
        super::string::put_string(&mut out, code, compress);
    }
    out.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// The libraries' code in a FUNCTION RESTORE payload, with Redis's errors.
pub fn function_codes(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    verify(payload).map_err(|_| "DUMP payload version or checksum are wrong".to_string())?;
    let body = &payload[..payload.len() - FOOTER];
    let mut input = Input::new(body);
    let mut codes = Vec::new();
    while (input.offset() as usize) < body.len() {
        let ty = input
            .u8()
            .map_err(|_| "can not read data type".to_string())?;
        if ty != super::opcodes::FUNCTION2 {
            return Err("given type is not a function".into());
        }
        let code = input
            .string()
            .map_err(|_| "Failed loading library payload".to_string())?;
        codes.push(code);
    }
    Ok(codes)
}
