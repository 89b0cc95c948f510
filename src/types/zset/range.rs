//! Score ranges (`(1`, `5`, `-inf`, `+inf`) and lex ranges (`[a`, `(a`, `-`, `+`), parsed in one place with
//! Redis's errors, and tested against elements through one trait so the skip list walks both the same way.

use crate::protocol::Reply;
use std::ffi::CString;

/// Where an element stands against a range's two ends.
pub trait Bounds {
    fn gte_min(&self, score: f64, member: &[u8]) -> bool;
    fn lte_max(&self, score: f64, member: &[u8]) -> bool;
    /// True if no element can be inside (min above max, or an empty interval).
    fn is_empty(&self) -> bool;
}

#[derive(Clone, Copy, Debug)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    pub minex: bool,
    pub maxex: bool,
}

pub fn score_range_error() -> Reply {
    Reply::err("min or max is not a float")
}

pub fn lex_range_error() -> Reply {
    Reply::err("min or max not valid string range item")
}

/// One end of a score range as `zslParseRange` reads it: a bare `strtod` over the rest after an optional `(`,
/// which, unlike score arguments elsewhere, takes leading spaces, an empty string (0) and overflow (±inf).
fn score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    let (text, exclusive) = match arg.split_first() {
        Some((b'(', rest)) => (rest, true),
        _ => (arg, false),
    };
    let c = CString::new(text).ok()?;
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `c` is NUL-terminated and outlives the call; strtod only writes `end`, inside `c`.
    let (v, consumed) = unsafe {
        let v = libc::strtod(c.as_ptr(), &mut end);
        (v, end.offset_from(c.as_ptr()) as usize)
    };
    (consumed == text.len() && !v.is_nan()).then_some((v, exclusive))
}

impl ScoreRange {
    pub fn parse(min: &[u8], max: &[u8]) -> Result<ScoreRange, Reply> {
        let (min, minex) = score_bound(min).ok_or_else(score_range_error)?;
        let (max, maxex) = score_bound(max).ok_or_else(score_range_error)?;
        Ok(ScoreRange {
            min,
            max,
            minex,
            maxex,
        })
    }
}

impl Bounds for ScoreRange {
    fn gte_min(&self, score: f64, _: &[u8]) -> bool {
        if self.minex {
            score > self.min
        } else {
            score >= self.min
        }
    }
    fn lte_max(&self, score: f64, _: &[u8]) -> bool {
        if self.maxex {
            score < self.max
        } else {
            score <= self.max
        }
    }
    fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum LexBound {
    NegInf,
    PosInf,
    Inclusive(Vec<u8>),
    Exclusive(Vec<u8>),
}

impl LexBound {
    fn parse(arg: &[u8]) -> Option<LexBound> {
        match arg.split_first()? {
            (b'+', []) => Some(LexBound::PosInf),
            (b'-', []) => Some(LexBound::NegInf),
            (b'[', rest) => Some(LexBound::Inclusive(rest.to_vec())),
            (b'(', rest) => Some(LexBound::Exclusive(rest.to_vec())),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct LexRange {
    pub min: LexBound,
    pub max: LexBound,
}

impl LexRange {
    pub fn parse(min: &[u8], max: &[u8]) -> Result<LexRange, Reply> {
        match (LexBound::parse(min), LexBound::parse(max)) {
            (Some(min), Some(max)) => Ok(LexRange { min, max }),
            _ => Err(lex_range_error()),
        }
    }
}

impl Bounds for LexRange {
    fn gte_min(&self, _: f64, member: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Inclusive(m) => member >= &m[..],
            LexBound::Exclusive(m) => member > &m[..],
        }
    }
    fn lte_max(&self, _: f64, member: &[u8]) -> bool {
        match &self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Inclusive(m) => member <= &m[..],
            LexBound::Exclusive(m) => member < &m[..],
        }
    }
    fn is_empty(&self) -> bool {
        use LexBound::*;
        match (&self.min, &self.max) {
            (PosInf, _) | (_, NegInf) => true,
            (NegInf, _) | (_, PosInf) => false,
            (Inclusive(a), Inclusive(b)) => a > b,
            (Inclusive(a) | Exclusive(a), Inclusive(b) | Exclusive(b)) => a >= b,
        }
    }
}
