//! SINTER, SINTERCARD, SINTERSTORE, SUNION, SUNIONSTORE, SDIFF, SDIFFSTORE: Redis's sinterGenericCommand and
//! sunionDiffGenericCommand, one routine each with switches for the store and cardinality forms.

use super::commands::{members_reply, read};
use super::Set;
use crate::commands::{Args, Ctx};
use crate::db::Value;
use crate::protocol::Reply;
use crate::types::collection::intset_limit;
use crate::util::numbers::parse_i64;

/// Where the result goes.
enum Output<'a> {
    Reply,
    Card(usize),
    Store(&'a [u8]),
}

pub fn sinter(ctx: &mut Ctx, args: Args) -> Reply {
    inter(ctx, &args.iter().skip(1).collect::<Vec<_>>(), Output::Reply)
}

pub fn sinterstore(ctx: &mut Ctx, args: Args) -> Reply {
    inter(
        ctx,
        &args.iter().skip(2).collect::<Vec<_>>(),
        Output::Store(args.get(1)),
    )
}

fn numkeys(args: Args) -> Result<usize, Reply> {
    match parse_i64(args.get(1)) {
        Some(n) if n > 0 => {
            if n as u64 > args.len().saturating_sub(2) as u64 {
                Err(Reply::err(
                    "Number of keys can't be greater than number of args",
                ))
            } else {
                Ok(n as usize)
            }
        }
        _ => Err(Reply::err("numkeys should be greater than 0")),
    }
}

pub fn sintercard_keys(args: Args) -> Vec<usize> {
    numkeys(args).map_or_else(|_| Vec::new(), |n| (2..2 + n).collect())
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit]
pub fn sintercard(ctx: &mut Ctx, args: Args) -> Reply {
    let n = match numkeys(args) {
        Ok(n) => n,
        Err(e) => return e,
    };
    let mut limit = 0;
    let mut j = 2 + n;
    while j < args.len() {
        if j + 1 < args.len() && args.get(j).eq_ignore_ascii_case(b"LIMIT") {
            match parse_i64(args.get(j + 1)) {
                Some(l) if l >= 0 => limit = l as usize,
                _ => return Reply::err("LIMIT can't be negative"),
            }
            j += 2;
        } else {
            return Reply::syntax_error();
        }
    }
    let keys: Vec<&[u8]> = (2..2 + n).map(|i| args.get(i)).collect();
    inter(ctx, &keys, Output::Card(limit))
}

/// The sets at `keys`, `None` for missing ones; WRONGTYPE at the first key of another type.
fn lookup_all<'c>(ctx: &'c Ctx, keys: &[&[u8]]) -> Result<Vec<Option<&'c Set>>, Reply> {
    keys.iter().map(|k| read(ctx, k)).collect()
}

fn inter(ctx: &mut Ctx, keys: &[&[u8]], output: Output) -> Reply {
    let result: Option<Vec<Vec<u8>>> = {
        let sets = match lookup_all(ctx, keys) {
            Ok(s) => s,
            Err(e) => return e,
        };
        let limit = match output {
            Output::Card(l) if l > 0 => l,
            _ => usize::MAX,
        };
        match sets.into_iter().collect::<Option<Vec<&Set>>>() {
            // A missing key is an empty set, and so is the intersection.
            None => None,
            Some(mut sets) => {
                sets.sort_by_key(|s| s.len());
                let mut out = Vec::new();
                for m in sets[0].iter() {
                    if sets[1..]
                        .iter()
                        .all(|s| std::ptr::eq(*s, sets[0]) || s.contains(&m))
                    {
                        out.push(m.into_owned());
                        if out.len() >= limit {
                            break;
                        }
                    }
                }
                Some(out)
            }
        }
    };
    match output {
        Output::Card(_) => Reply::Int(result.map_or(0, |r| r.len()) as i64),
        Output::Reply => Reply::Set(
            result
                .unwrap_or_default()
                .into_iter()
                .map(Reply::bulk_vec)
                .collect(),
        ),
        Output::Store(dst) => {
            let limit = intset_limit(&ctx.server.config);
            let mut set = Set::default();
            for m in result.unwrap_or_default() {
                set.add(&m, limit);
            }
            store(ctx, dst, set, "sinterstore")
        }
    }
}

/// Stores a computed set (an empty one deletes `dst`) and answers its size.
fn store(ctx: &mut Ctx, dst: &[u8], set: Set, event: &str) -> Reply {
    let n = set.len();
    if n == 0 {
        if ctx.delete(dst) {
            ctx.changed(dst, 'g', "del");
        }
        return Reply::Int(0);
    }
    ctx.store(dst, Value::Set(set));
    ctx.changed(dst, 's', event);
    Reply::Int(n as i64)
}

pub fn sunion(ctx: &mut Ctx, args: Args) -> Reply {
    union_diff(ctx, args, 1, false)
}

pub fn sunionstore(ctx: &mut Ctx, args: Args) -> Reply {
    union_diff(ctx, args, 2, false)
}

pub fn sdiff(ctx: &mut Ctx, args: Args) -> Reply {
    union_diff(ctx, args, 1, true)
}

pub fn sdiffstore(ctx: &mut Ctx, args: Args) -> Reply {
    union_diff(ctx, args, 2, true)
}

/// The union or difference of the sets from argument `first` on, built as a fresh set (an intset while it can
/// be, so the reply order is Redis's); with `first == 2`, stored at argument 1.
fn union_diff(ctx: &mut Ctx, args: Args, first: usize, diff: bool) -> Reply {
    let keys: Vec<&[u8]> = args.iter().skip(first).collect();
    let limit = intset_limit(&ctx.server.config);
    let result = {
        let sets = match lookup_all(ctx, &keys) {
            Ok(s) => s,
            Err(e) => return e,
        };
        let mut result = Set::default();
        if !diff {
            for m in sets.iter().flatten().flat_map(|s| s.iter()) {
                result.add(&m, limit);
            }
        } else if let Some(head) = sets[0] {
            // The same key given twice subtracts a set from itself.
            if !keys[1..].contains(&keys[0]) {
                for m in head.iter() {
                    if !sets[1..].iter().flatten().any(|s| s.contains(&m)) {
                        result.add(&m, limit);
                    }
                }
            }
        }
        result
    };
    if first == 2 {
        let event = if diff { "sdiffstore" } else { "sunionstore" };
        return store(ctx, args.get(1), result, event);
    }
    members_reply(Some(&result))
}
