//! Commands on parts of a string: APPEND, STRLEN, GETRANGE/SUBSTR, SETRANGE, LCS.

use super::check_length;
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx, Cursor};
use crate::db::Value;
use crate::db::{StrEncoding, StrValue};
use crate::protocol::Reply;

pub fn append(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, tail) = (args.get(1), args.get(2));
    let max = ctx.server.config.proto_max_bulk_len();
    let db = ctx.db();
    let len = match ctx.keys.get_mut(db, key) {
        Some(entry) => match &mut entry.value {
            Value::Str(s) => {
                if let Err(e) = check_length(max, s.len() as u64, tail.len() as u64) {
                    return e;
                }
                s.extend_from_slice(tail);
                // Redis appends to an unshared raw copy, whatever the string was before.
                entry.str_encoding = StrEncoding::Raw;
                s.len()
            }
            _ => return Reply::wrong_type(),
        },
        None => {
            let db = ctx.db();
            ctx.keys
                .insert(db, key, Value::Str(StrValue::from_slice(tail)));
            tail.len()
        }
    };
    ctx.changed(key, '$', "append");
    Reply::Int(len as i64)
}

pub fn strlen(ctx: &mut Ctx, args: Args) -> Reply {
    match ctx.lookup(args.get(1)).map(Value::as_str) {
        None => Reply::Int(0),
        Some(Ok(s)) => Reply::Int(s.len() as i64),
        Some(Err(e)) => e,
    }
}

/// GETRANGE / SUBSTR key start end, with Redis 7.0's clamping (an end before the start gives "").
pub fn getrange(ctx: &mut Ctx, args: Args) -> Reply {
    let (start, end) = match (int_arg(args.get(2)), int_arg(args.get(3))) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let s = match ctx.lookup(args.get(1)).map(Value::as_str) {
        None => return Reply::bulk(""),
        Some(Ok(s)) => s,
        Some(Err(e)) => return e,
    };
    let len = s.len() as i64;
    if start < 0 && end < 0 && start > end {
        return Reply::bulk("");
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if start > end || len == 0 {
        return Reply::bulk("");
    }
    Reply::bulk(&s[start as usize..=end as usize])
}

/// SETRANGE key offset value: zero-pads up to `offset`; an empty value changes nothing and answers the length.
pub fn setrange(ctx: &mut Ctx, args: Args) -> Reply {
    let (key, value) = (args.get(1), args.get(3));
    let offset = match int_arg(args.get(2)) {
        Ok(n) if n < 0 => return Reply::err("offset is out of range"),
        Ok(n) => n as u64,
        Err(e) => return e,
    };
    let max = ctx.server.config.proto_max_bulk_len();
    // Looked at without counting as a use: the write below is the one use Redis counts.
    let current_len = match ctx.keys.peek(ctx.db(), key).map(|e| &e.value) {
        None => None,
        Some(v) => match v.as_str() {
            Ok(s) => Some(s.len()),
            Err(e) => return e,
        },
    };
    if value.is_empty() {
        return Reply::Int(current_len.unwrap_or(0) as i64);
    }
    if let Err(e) = check_length(max, offset, value.len() as u64) {
        return e;
    }
    // Within proto-max-bulk-len now, so these fit in usize.
    let (offset, end) = (offset as usize, offset as usize + value.len());
    if current_len.is_none() {
        let db = ctx.db();
        ctx.keys.insert(db, key, Value::Str(StrValue::new()));
    }
    let db = ctx.db();
    let Some(entry) = ctx.keys.get_mut(db, key) else {
        return Reply::wrong_type();
    };
    // SETRANGE writes into an unshared raw string, as APPEND does.
    entry.str_encoding = StrEncoding::Raw;
    let Value::Str(s) = &mut entry.value else {
        return Reply::wrong_type();
    };
    if s.len() < end {
        s.resize(end, 0);
    }
    s[offset..end].copy_from_slice(value);
    let len = s.len();
    ctx.changed(key, '$', "setrange");
    Reply::Int(len as i64)
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: Redis's dynamic programming table and its walk
/// back from the end, so matches come out in the same order (last first).
pub fn lcs(ctx: &mut Ctx, args: Args) -> Reply {
    let mut strings = [&[][..], &[][..]];
    for (i, slot) in strings.iter_mut().enumerate() {
        match ctx.lookup(args.get(i + 1)) {
            None => {}
            Some(Value::Str(s)) => *slot = s,
            Some(_) => return Reply::err("The specified keys must contain string values"),
        }
    }
    let [a, b] = strings;
    let (mut get_idx, mut get_len, mut with_len, mut min_len) = (false, false, false, 0u64);
    let mut cur = Cursor::new(args, 3);
    while !cur.is_done() {
        if cur.eat("IDX") {
            get_idx = true;
        } else if cur.eat("LEN") {
            get_len = true;
        } else if cur.eat("WITHMATCHLEN") {
            with_len = true;
        } else if cur.remaining() >= 2 && cur.eat("MINMATCHLEN") {
            match cur.int() {
                Ok(n) => min_len = n.max(0) as u64,
                Err(e) => return e,
            }
        } else {
            return Reply::syntax_error();
        }
    }
    if get_idx && get_len {
        return Reply::err("If you want both the length and indexes, please just use IDX.");
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > ctx.server.config.proto_max_bulk_len() as u64 {
        return Reply::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        );
    }
    let width = blen + 1;
    let mut table = vec![0u32; cells as usize];
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * width + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * width + j - 1] + 1
            } else {
                table[(i - 1) * width + j].max(table[i * width + j - 1])
            };
        }
    }
    let total = table[alen * width + blen];
    if get_len {
        return Reply::Int(total as i64);
    }

    // Walk back from (alen, blen), collecting the common bytes and the ranges of contiguous matches.
    let mut result = vec![0u8; total as usize];
    let mut idx = total as usize;
    let mut matches = Vec::new();
    let (mut i, mut j) = (alen, blen);
    // The open range, as Redis tracks it: `a_start == alen` means none is open.
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0, 0, 0);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * width + j] > table[i * width + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        if emit {
            let match_len = (a_end + 1 - a_start) as u64;
            if get_idx && (min_len == 0 || match_len >= min_len) {
                let mut m = vec![
                    Reply::Array(vec![Reply::Int(a_start as i64), Reply::Int(a_end as i64)]),
                    Reply::Array(vec![Reply::Int(b_start as i64), Reply::Int(b_end as i64)]),
                ];
                if with_len {
                    m.push(Reply::Int(match_len as i64));
                }
                matches.push(Reply::Array(m));
            }
            a_start = alen;
        }
    }
    if get_idx {
        Reply::Map(vec![
            (Reply::bulk("matches"), Reply::Array(matches)),
            (Reply::bulk("len"), Reply::Int(total as i64)),
        ])
    } else {
        Reply::Bulk(result.into())
    }
}
