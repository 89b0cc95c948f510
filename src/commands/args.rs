//! One cursor over a command's arguments, so options (`EX 10`, `NX`, `LIMIT 0 10`, `COUNT 5`) are parsed the same
//! way in every command: keywords match case-insensitively, numbers follow Redis's rules and errors, and `finish`
//! turns leftovers into `ERR syntax error`.

use crate::protocol::{Frame, Reply};
use crate::util::numbers::{parse_f64, parse_i64};

/// A command's arguments, `args.get(0)` being the command name.
pub type Args<'a> = Frame<'a>;

pub struct Cursor<'a> {
    args: Args<'a>,
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at argument `start` (1 = first argument after the command name).
    pub fn new(args: Args<'a>, start: usize) -> Self {
        Cursor { args, pos: start }
    }

    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    pub fn is_done(&self) -> bool {
        self.remaining() == 0
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn peek(&self) -> Option<&'a [u8]> {
        (self.pos < self.args.len()).then(|| self.args.get(self.pos))
    }

    pub fn next_arg(&mut self) -> Option<&'a [u8]> {
        let arg = self.peek()?;
        self.pos += 1;
        Some(arg)
    }

    /// The next argument, or `ERR syntax error` if there is none (an option missing its value).
    pub fn value(&mut self) -> Result<&'a [u8], Reply> {
        self.next_arg().ok_or_else(Reply::syntax_error)
    }

    /// Consumes the next argument if it is `keyword` (any case).
    pub fn eat(&mut self, keyword: &str) -> bool {
        match self.peek() {
            Some(a) if a.eq_ignore_ascii_case(keyword.as_bytes()) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// Consumes the next argument if it is one of `keywords`; returns its index there.
    pub fn eat_any(&mut self, keywords: &[&str]) -> Option<usize> {
        let arg = self.peek()?;
        let i = keywords
            .iter()
            .position(|k| arg.eq_ignore_ascii_case(k.as_bytes()))?;
        self.pos += 1;
        Some(i)
    }

    /// The next argument as an integer: `ERR value is not an integer or out of range` otherwise.
    pub fn int(&mut self) -> Result<i64, Reply> {
        parse_i64(self.value()?).ok_or_else(Reply::not_integer)
    }

    /// The next argument as a float: `ERR value is not a valid float` otherwise.
    pub fn float(&mut self) -> Result<f64, Reply> {
        parse_f64(self.value()?).ok_or_else(Reply::not_float)
    }

    /// `ERR syntax error` if anything is left.
    pub fn finish(&self) -> Result<(), Reply> {
        if self.is_done() {
            Ok(())
        } else {
            Err(Reply::syntax_error())
        }
    }
}

pub fn int_arg(arg: &[u8]) -> Result<i64, Reply> {
    parse_i64(arg).ok_or_else(Reply::not_integer)
}

pub fn float_arg(arg: &[u8]) -> Result<f64, Reply> {
    parse_f64(arg).ok_or_else(Reply::not_float)
}

/// `NX` / `XX` / `GT` / `LT` style conditions, shared by SET, EXPIRE, ZADD.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Condition {
    #[default]
    Always,
    Nx,
    Xx,
    Gt,
    Lt,
}

/// The `EX|PX|EXAT|PXAT|KEEPTTL|PERSIST` family, parsed once for SET and GETEX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpiryOption {
    /// Absolute deadline in Unix ms.
    At(i64),
    KeepTtl,
    Persist,
}

/// How an expire argument is read: `EX`/`PX` are relative to now, `EXAT`/`PXAT` absolute; seconds or ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpireUnit {
    Ex,
    Px,
    ExAt,
    PxAt,
}

impl ExpireUnit {
    pub const KEYWORDS: [&'static str; 4] = ["EX", "PX", "EXAT", "PXAT"];

    pub fn from_index(i: usize) -> ExpireUnit {
        [Self::Ex, Self::Px, Self::ExAt, Self::PxAt][i.min(3)]
    }

    /// Redis's `getExpireMillisecondsOrReply`: the absolute deadline in Unix ms. A time that is not positive or
    /// overflows is `invalid expire time in '<command>' command`.
    pub fn deadline(self, raw: &[u8], now_ms: i64, command: &str) -> Result<i64, Reply> {
        let n = parse_i64(raw).ok_or_else(Reply::not_integer)?;
        let invalid = || Reply::err(&format!("invalid expire time in '{command}' command"));
        if n <= 0 {
            return Err(invalid());
        }
        let ms = match self {
            Self::Ex | Self::ExAt => n.checked_mul(1000),
            Self::Px | Self::PxAt => Some(n),
        };
        let at = match self {
            Self::Ex | Self::Px => ms.and_then(|ms| ms.checked_add(now_ms)),
            Self::ExAt | Self::PxAt => ms,
        };
        at.filter(|&at| at > 0).ok_or_else(invalid)
    }
}

/// Parses an expiry keyword at the cursor if there is one, validating its time at once. `command` names the
/// command for the error Redis gives on a bad time (`invalid expire time in 'set' command`).
pub fn parse_expiry(
    cur: &mut Cursor,
    now_ms: i64,
    command: &str,
) -> Result<Option<ExpiryOption>, Reply> {
    let Some(unit) = cur.eat_any(&ExpireUnit::KEYWORDS) else {
        return Ok(None);
    };
    let raw = cur.value()?;
    let at = ExpireUnit::from_index(unit).deadline(raw, now_ms, command)?;
    Ok(Some(ExpiryOption::At(at)))
}

/// A SCAN-family cursor as Redis's `parseScanCursorOrReply` reads it (C `strtoul`: an optional sign, decimal
/// digits, `-1` wrapping to 2^64-1; nothing after the digits but a NUL, no leading space, no overflow).
pub fn scan_cursor(arg: &[u8]) -> Result<u64, Reply> {
    let invalid = || Reply::err("invalid cursor");
    let text = arg.split(|&b| b == 0).next().unwrap_or_default();
    if text.first().is_some_and(|b| b.is_ascii_whitespace()) {
        return Err(invalid());
    }
    let (neg, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    if digits.is_empty() {
        // strtoul parsed nothing: the end pointer is the start, valid only for an empty string.
        return if text.is_empty() {
            Ok(0)
        } else {
            Err(invalid())
        };
    }
    let mut v: u64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return Err(invalid());
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(c - b'0')))
            .ok_or_else(invalid)?;
    }
    Ok(if neg { v.wrapping_neg() } else { v })
}

/// The options after a SCAN-family cursor: `COUNT n`, `MATCH pattern`, and (SCAN only) `TYPE name`.
pub struct ScanOptions<'a> {
    pub count: usize,
    /// None when there is no pattern or it is `*`.
    pub pattern: Option<&'a [u8]>,
    pub type_name: Option<&'a [u8]>,
}

impl<'a> ScanOptions<'a> {
    /// Redis's `scanGenericCommand` option loop: a COUNT below 1 is a syntax error, a later option overrides an
    /// earlier one.
    pub fn parse(args: Args<'a>, start: usize, allow_type: bool) -> Result<Self, Reply> {
        let mut opts = ScanOptions {
            count: 10,
            pattern: None,
            type_name: None,
        };
        let mut cur = Cursor::new(args, start);
        while !cur.is_done() {
            let has_value = cur.remaining() >= 2;
            if has_value && cur.eat("COUNT") {
                let n = cur.int()?;
                if n < 1 {
                    return Err(Reply::syntax_error());
                }
                opts.count = n as usize;
            } else if has_value && cur.eat("MATCH") {
                let pat = cur.value()?;
                opts.pattern = (pat != b"*").then_some(pat);
            } else if has_value && allow_type && cur.eat("TYPE") {
                opts.type_name = Some(cur.value()?);
            } else {
                return Err(Reply::syntax_error());
            }
        }
        Ok(opts)
    }
}

/// The key positions of a `numkeys key [key ...]` run whose count is at `at` (ZUNION, EVAL): none when the count
/// is not a positive integer that fits the arguments (the handler then reports the error).
pub fn keys_after_numkeys(args: Args, at: usize) -> Vec<usize> {
    match crate::util::numbers::parse_i64(args.get(at)) {
        Some(n) if n >= 1 && (n as u64) <= args.len().saturating_sub(at + 1) as u64 => {
            (at + 1..at + 1 + n as usize).collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_cursors_read_like_strtoul() {
        assert_eq!(scan_cursor(b"0"), Ok(0));
        assert_eq!(scan_cursor(b""), Ok(0));
        assert_eq!(scan_cursor(b"+7"), Ok(7));
        assert_eq!(scan_cursor(b"-1"), Ok(u64::MAX));
        assert_eq!(scan_cursor(b"18446744073709551615"), Ok(u64::MAX));
        assert_eq!(scan_cursor(b"12\0junk"), Ok(12));
        for bad in [
            &b" 1"[..],
            b"1 ",
            b"x",
            b"-",
            b"+",
            b"18446744073709551616",
            b"0x10",
        ] {
            assert!(
                scan_cursor(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn expire_deadlines_like_redis() {
        let now = 1_000_000;
        assert_eq!(ExpireUnit::Ex.deadline(b"10", now, "set"), Ok(now + 10_000));
        assert_eq!(ExpireUnit::Px.deadline(b"10", now, "set"), Ok(now + 10));
        assert_eq!(ExpireUnit::ExAt.deadline(b"10", now, "set"), Ok(10_000));
        assert_eq!(ExpireUnit::PxAt.deadline(b"10", now, "set"), Ok(10));
        let invalid = Err(Reply::err("invalid expire time in 'getex' command"));
        for (unit, raw) in [
            (ExpireUnit::Ex, &b"0"[..]),
            (ExpireUnit::Px, b"-1"),
            (ExpireUnit::Ex, b"9223372036854776"),
            (ExpireUnit::Px, b"9223372036854775807"),
        ] {
            assert_eq!(unit.deadline(raw, now, "getex"), invalid);
        }
        assert_eq!(
            ExpireUnit::Ex.deadline(b"x", now, "set"),
            Err(Reply::not_integer())
        );
    }
}
