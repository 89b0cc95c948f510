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

/// Parses an expiry keyword at the cursor if there is one. `command` names the command for the error Redis gives
/// on a bad time (`invalid expire time in 'set' command`).
pub fn parse_expiry(
    cur: &mut Cursor,
    now_ms: i64,
    command: &str,
) -> Result<Option<ExpiryOption>, Reply> {
    let Some(unit) = cur.eat_any(&["EX", "PX", "EXAT", "PXAT"]) else {
        return Ok(None);
    };
    let raw = cur.value()?;
    let n = parse_i64(raw).ok_or_else(Reply::not_integer)?;
    let invalid = || Reply::err(&format!("invalid expire time in '{command}' command"));
    if n <= 0 {
        return Err(invalid());
    }
    let at = match unit {
        0 => n.checked_mul(1000).and_then(|ms| ms.checked_add(now_ms)),
        1 => n.checked_add(now_ms),
        2 => n.checked_mul(1000),
        _ => Some(n),
    };
    at.map(|at| Some(ExpiryOption::At(at))).ok_or_else(invalid)
}
