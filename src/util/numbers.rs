//! Numbers parsed and printed exactly as Redis does, since clients compare the text.

use std::ffi::CString;

/// Redis's `string2ll`: optional `-`, no `+`, no leading zeroes or spaces, no overflow.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [] => return None,
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    if neg {
        if v > i64::MAX as u64 + 1 {
            return None;
        }
        Some((v as i64).wrapping_neg())
    } else {
        i64::try_from(v).ok()
    }
}

/// Redis's `string2d` (strtod on the whole string): accepts `1e3`, `+1.5`, `inf`, `-inf`; rejects leading space,
/// trailing bytes, NaN and overflow.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    if s.is_empty() || s[0].is_ascii_whitespace() || s.contains(&0) {
        return None;
    }
    let c = CString::new(s).ok()?;
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `c` is NUL-terminated and outlives the call; strtod writes only `end`.
    let (v, consumed, erange) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(c.as_ptr(), &mut end);
        let consumed = end.offset_from(c.as_ptr()) as usize;
        (v, consumed, *libc::__errno_location() == libc::ERANGE)
    };
    if consumed != s.len() || v.is_nan() || (erange && (v.is_infinite() || v == 0.0)) {
        return None;
    }
    Some(v)
}

/// Redis 7.0's reply format for doubles: `%.17g`, with `inf`/`-inf` spelled out.
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    c_format(c"%.17g", d)
}

/// Redis's `LD_STR_HUMAN` format (`%.17Lf`, trailing zeros and a bare dot removed, `-0` as `0`), which GEOPOS
/// and WITHCOORD print coordinates in. A double widened to long double has the same exact decimal expansion, so
/// `%.17f` of the double prints the same digits.
pub fn format_human_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let mut text = c_format(c"%.17f", d);
    if text.contains('.') {
        let kept = text.trim_end_matches('0').trim_end_matches('.').len();
        text.truncate(kept);
    }
    if text == "-0" {
        text = "0".into();
    }
    text
}

/// One double through C's `snprintf` with `format` (a single `%...f`/`%...g` conversion), as Redis prints it.
pub fn c_format(format: &std::ffi::CStr, d: f64) -> String {
    let mut buf = [0u8; 512];
    // SAFETY: `format` takes exactly one double; snprintf writes at most `buf.len()` bytes, NUL included.
    let n = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            format.as_ptr(),
            d,
        )
    };
    String::from_utf8_lossy(&buf[..(n.max(0) as usize).min(buf.len() - 1)]).into_owned()
}

pub fn format_i64(n: i64) -> String {
    itoa::Buffer::new().format(n).to_owned()
}

extern "C" {
    fn ferredis_ld_check(s: *const libc::c_char, len: usize) -> libc::c_int;
    fn ferredis_ld_add(
        a: *const libc::c_char,
        alen: usize,
        b: *const libc::c_char,
        blen: usize,
        out: *mut libc::c_char,
        cap: usize,
        outlen: *mut usize,
    ) -> libc::c_int;
}

/// How a long-double addition failed, so each command can word its own error.
#[derive(Debug, PartialEq, Eq)]
pub enum LongDoubleError {
    /// The current value is not a float.
    Base,
    /// The increment is not a float.
    Increment,
    /// The result would be NaN or infinite.
    NotFinite,
}

/// Whether `s` is a valid long double (Redis's `string2ld`): `Some(is_infinite)`, `None` if not a number.
pub fn long_double_check(s: &[u8]) -> Option<bool> {
    // SAFETY: pointer and length describe `s`; the C side copies at most `len` bytes.
    match unsafe { ferredis_ld_check(s.as_ptr() as *const libc::c_char, s.len()) } {
        1 => Some(false),
        2 => Some(true),
        _ => None,
    }
}

/// `base + incr` in C long double, printed as Redis's INCRBYFLOAT prints it (`%.17Lf`, zeroes trimmed).
pub fn long_double_add(base: &[u8], incr: &[u8]) -> Result<Vec<u8>, LongDoubleError> {
    let mut out = vec![0u8; 5 * 1024 + 64];
    let mut len = 0usize;
    // SAFETY: all pointers describe live buffers of the given lengths; the C side writes at most `out.len()`.
    let rc = unsafe {
        ferredis_ld_add(
            base.as_ptr() as *const libc::c_char,
            base.len(),
            incr.as_ptr() as *const libc::c_char,
            incr.len(),
            out.as_mut_ptr() as *mut libc::c_char,
            out.len(),
            &mut len,
        )
    };
    match rc {
        0 => {
            out.truncate(len);
            Ok(out)
        }
        1 => Err(LongDoubleError::Base),
        2 => Err(LongDoubleError::Increment),
        _ => Err(LongDoubleError::NotFinite),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_like_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        for bad in [
            &b"9223372036854775808"[..],
            b"01",
            b"+1",
            b" 1",
            b"1 ",
            b"-0",
            b"",
            b"-",
            b"1.0",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn doubles_like_strtod() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        for bad in [&b"nan"[..], b" 1", b"1x", b"", b"1e999"] {
            assert_eq!(parse_f64(bad), None);
        }
        assert_eq!(format_double(1.1), "1.1000000000000001");
        assert_eq!(format_double(3.0), "3");
        assert_eq!(format_double(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn long_double_sums_print_like_redis() {
        assert_eq!(long_double_add(b"10.5", b"0.1").unwrap(), b"10.6");
        assert_eq!(long_double_add(b"5.0e3", b"2.0e2").unwrap(), b"5200");
        assert_eq!(long_double_add(b"abc", b"1"), Err(LongDoubleError::Base));
        assert_eq!(long_double_add(b"1", b"x"), Err(LongDoubleError::Increment));
        assert_eq!(
            long_double_add(b"1", b"inf"),
            Err(LongDoubleError::NotFinite)
        );
    }
}
