//! PFADD, PFCOUNT and PFMERGE.
//!
//! A sketch is edited as a `Vec<u8>` taken out of the string value and put back (for a sketch, always longer than
//! the inline size, both moves are free), so sparse opcodes can be spliced and a sparse sketch replaced by its
//! dense form.

use super::{
    add, cached, check, corrupt_reply, estimate, histogram, histogram_of_registers, merge_into,
    new_sparse, set_cached, sparse, Corrupt, DENSE, HDR, REGISTERS,
};
use crate::commands::{Args, Ctx};
use crate::config::Threshold;
use crate::db::{StrEncoding, StrValue, Value};
use crate::protocol::Reply;
use crate::types::string::store_raw;

pub(super) fn sparse_max(ctx: &Ctx) -> usize {
    ctx.server
        .config
        .threshold(Threshold::HllSparseMaxBytes)
        .max(0) as usize
}

/// Runs `f` on the sketch at `key`, unshared as Redis's `dbUnshareStringValue` leaves it (a `raw` string), after
/// the type and format checks. `None` when the key does not exist.
pub(super) fn with_sketch<R>(
    ctx: &mut Ctx,
    key: &[u8],
    f: impl FnOnce(&mut Vec<u8>) -> R,
) -> Option<Result<R, Reply>> {
    let db = ctx.db();
    let entry = ctx.keys.get_mut(db, key)?;
    let Value::Str(s) = &mut entry.value else {
        return Some(Err(Reply::wrong_type()));
    };
    if let Err(e) = check(s) {
        return Some(Err(e));
    }
    entry.str_encoding = StrEncoding::Raw;
    let mut v = std::mem::take(s).into_vec();
    let result = f(&mut v);
    *s = StrValue::from_vec(v);
    Some(Ok(result))
}

/// PFADD key [element ...]: 1 if a register changed (or the key was created), else 0.
pub fn pfadd(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let max = sparse_max(ctx);
    let add_all = |v: &mut Vec<u8>| -> Result<bool, Corrupt> {
        let mut updated = false;
        for i in 2..args.len() {
            updated |= add(v, args.get(i), max)?;
        }
        if updated {
            super::invalidate_cache(v);
        }
        Ok(updated)
    };
    let updated = match with_sketch(ctx, key, add_all) {
        Some(Ok(Ok(updated))) => updated,
        Some(Ok(Err(Corrupt))) => return corrupt_reply(),
        Some(Err(e)) => return e,
        None => {
            let mut v = new_sparse();
            // A new sketch is sparse and valid: adding to it cannot fail.
            let _ = add_all(&mut v);
            // Created counts as updated, so the new sketch's cache is stale even with no element.
            super::invalidate_cache(&mut v);
            store_raw(ctx, key, v);
            true
        }
    };
    if updated {
        ctx.changed(key, '$', "pfadd");
    }
    Reply::Int(updated as i64)
}

/// PFCOUNT key [key ...]: one key answers (and caches) its estimate; several, the estimate of their union.
pub fn pfcount(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 2 {
        let mut max = [0u8; REGISTERS];
        if let Err(e) = union_of(ctx, args, 1, &mut max) {
            return e;
        }
        return Reply::Int(estimate(&histogram_of_registers(&max)) as i64);
    }
    let key = args.get(1);
    // Redis looks the key up for reading here: counted in keyspace hits/misses, unlike the writes' lookups. A
    // missing or expired key counts 0 without the write lookup below, which would delete an expired key even on
    // a replica (Redis's read lookup leaves it there for the master's DEL).
    if ctx.peek_entry(key).is_none() {
        return Reply::Int(0);
    }
    let counted = with_sketch(ctx, key, |v| match cached(v) {
        Some(card) => Ok((card, false)),
        None => {
            let card = estimate(&histogram(v)?);
            set_cached(v, card);
            Ok((card, true))
        }
    });
    match counted {
        None => Reply::Int(0),
        Some(Err(e)) => e,
        Some(Ok(Err(Corrupt))) => corrupt_reply(),
        Some(Ok(Ok((card, recomputed)))) => {
            // The cache is part of the value: a recount is a change WATCH sees, with no event (as Redis).
            if recomputed {
                ctx.report(key, crate::effects::Change::silent());
            }
            Reply::Int(card as i64)
        }
    }
}

/// Raises `max` to the registers of every sketch at `args[from..]` (missing keys count as empty); answers
/// whether any of them is dense.
fn union_of(ctx: &Ctx, args: Args, from: usize, max: &mut [u8; REGISTERS]) -> Result<bool, Reply> {
    let mut any_dense = false;
    for i in from..args.len() {
        let s = match ctx.lookup(args.get(i)) {
            None => continue,
            Some(Value::Str(s)) => s,
            Some(_) => return Err(Reply::wrong_type()),
        };
        check(s)?;
        any_dense |= s[4] == DENSE;
        merge_into(max, s).map_err(|Corrupt| corrupt_reply())?;
    }
    Ok(any_dense)
}

/// PFMERGE destkey [sourcekey ...]: the union of every sketch, destkey's own included, stored at destkey (dense
/// if any input is).
pub fn pfmerge(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let mut max = [0u8; REGISTERS];
    let use_dense = match union_of(ctx, args, 1, &mut max) {
        Ok(d) => d,
        Err(e) => return e,
    };
    let sparse_max = sparse_max(ctx);
    let write = |v: &mut Vec<u8>| -> Result<(), Corrupt> {
        if use_dense {
            sparse::to_dense(v)?;
        }
        for (i, &m) in max.iter().enumerate().filter(|(_, &m)| m > 0) {
            match v[4] {
                DENSE => {
                    super::dense::set_if_greater(&mut v[HDR..], i, m);
                }
                // As Redis, a failure here is ignored: the destination was already read whole above.
                _ => {
                    let _ = sparse::set(v, i, m, sparse_max);
                }
            }
        }
        super::invalidate_cache(v);
        Ok(())
    };
    let written = match with_sketch(ctx, key, write) {
        Some(r) => r,
        None => {
            let mut v = new_sparse();
            let r = write(&mut v);
            store_raw(ctx, key, v);
            Ok(r)
        }
    };
    match written {
        Ok(Ok(())) => {
            ctx.changed(key, '$', "pfadd");
            Reply::Ok
        }
        Ok(Err(Corrupt)) => corrupt_reply(),
        Err(e) => e,
    }
}
