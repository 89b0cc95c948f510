//! XADD, XLEN, XRANGE, XREVRANGE, XDEL, XTRIM and XSETID.

use super::store::{NodeLimits, Strategy, Trim};
use super::{
    entry_reply, parse_id_generic, parse_range_bound, parse_strict_id, ParsedId, Stream, StreamId,
};
use crate::commands::args::int_arg;
use crate::commands::{Args, Ctx};
use crate::config::Threshold;
use crate::db::Value;
use crate::effects::Change;
use crate::protocol::Reply;

/// `stream-node-max-entries` and `stream-node-max-bytes`, from the thresholds the config keeps as numbers (XADD
/// reads them every call; looking them up by name cost more than the append).
pub fn node_limits(ctx: &Ctx) -> NodeLimits {
    let config = &ctx.server.config;
    let get = |t: Threshold| u64::try_from(config.threshold(t)).unwrap_or(0);
    NodeLimits {
        entries: get(Threshold::StreamNodeMaxEntries),
        bytes: get(Threshold::StreamNodeMaxBytes),
    }
}

/// The stream at `key` for reading: Ok(None) if missing, Err(WRONGTYPE) if another type.
pub fn read_stream<'c>(ctx: &'c Ctx, key: &[u8]) -> Result<Option<&'c Stream>, Reply> {
    match ctx.lookup(key) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(Reply::wrong_type()),
    }
}

pub fn write_stream<'c>(ctx: &'c mut Ctx, key: &[u8]) -> Result<Option<&'c mut Stream>, Reply> {
    match ctx.lookup_mut(key) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(Reply::wrong_type()),
    }
}

/// What XADD and XTRIM share: the trimming options, and for XADD the id and NOMKSTREAM.
struct AddTrimArgs {
    trim: Option<Trim>,
    nomkstream: bool,
    /// None for `*`.
    id: Option<ParsedId>,
    /// Index of the id argument (XADD).
    id_pos: usize,
    /// Index of the MAXLEN / MINID threshold, rewritten in the effect of an approximate trim.
    trim_arg: usize,
}

/// Redis's `streamParseAddOrTrimArgsOrReply`.
/// `obey`: the client is the AOF loader (Redis's `mustObeyClient`): its trims were rewritten to be exact, so
/// LIMIT is ignored rather than refused or applied.
fn parse_add_trim(args: Args, xadd: bool, node_max: u64, obey: bool) -> Result<AddTrimArgs, Reply> {
    let incompatible =
        || Reply::err("syntax error, MAXLEN and MINID options at the same time are not compatible");
    let mut out = AddTrimArgs {
        trim: None,
        nomkstream: false,
        id: None,
        id_pos: args.len(),
        trim_arg: 0,
    };
    let mut strategy = None;
    let mut approx = false;
    let mut limit: Option<i64> = None;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if xadd && opt == b"*" {
            out.id_pos = i;
            break;
        }
        let is_maxlen = opt.eq_ignore_ascii_case(b"MAXLEN");
        if (is_maxlen || opt.eq_ignore_ascii_case(b"MINID")) && more > 0 {
            if strategy.is_some() {
                return Err(incompatible());
            }
            approx = false;
            let next = args.get(i + 1);
            if more >= 2 && (next == b"~" || next == b"=") {
                approx = next == b"~";
                i += 1;
            }
            let value = args.get(i + 1);
            out.trim_arg = i + 1;
            strategy = Some(if is_maxlen {
                let n = int_arg(value)?;
                if n < 0 {
                    return Err(Reply::err("The MAXLEN argument must be >= 0."));
                }
                Strategy::MaxLen(n as u64)
            } else {
                Strategy::MinId(parse_strict_id(value)?)
            });
            i += 2;
        } else if opt.eq_ignore_ascii_case(b"LIMIT") && more > 0 {
            let n = int_arg(args.get(i + 1))?;
            if n < 0 {
                return Err(Reply::err("The LIMIT argument must be >= 0."));
            }
            limit = Some(n);
            i += 2;
        } else if xadd && opt.eq_ignore_ascii_case(b"NOMKSTREAM") {
            out.nomkstream = true;
            i += 1;
        } else if xadd {
            out.id = Some(parse_id_generic(opt, 0, true, true)?);
            out.id_pos = i;
            break;
        } else {
            return Err(Reply::syntax_error());
        }
    }
    if limit.is_some_and(|l| l != 0) && strategy.is_none() {
        return Err(Reply::err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if !xadd && strategy.is_none() {
        return Err(Reply::err(
            "syntax error, XTRIM must be called with a trimming strategy",
        ));
    }
    let limit = match limit {
        _ if obey => 0,
        Some(_) if !approx => {
            return Err(Reply::err(
                "syntax error, LIMIT cannot be used without the special ~ option",
            ))
        }
        Some(l) => l as u64,
        // Without LIMIT, `~` trims at most 100 nodes' worth (10000 when nodes have no entry limit).
        None if approx => match node_max.saturating_mul(100) {
            0 => 10_000,
            n => n,
        },
        None => 0,
    };
    out.trim = strategy.map(|strategy| Trim {
        strategy,
        approx,
        limit,
    });
    Ok(out)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]
pub fn xadd(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let limits = node_limits(ctx);
    let parsed = match parse_add_trim(args, true, limits.entries, ctx.client.ext.must_obey) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let field_pos = parsed.id_pos + 1;
    let nfields = args.len().saturating_sub(field_pos);
    if nfields < 2 || nfields % 2 == 1 {
        return Reply::wrong_arity("xadd");
    }
    if let Some(ParsedId {
        id,
        seq_given: true,
    }) = parsed.id
    {
        if id.is_zero() {
            return Reply::err("The ID specified in XADD must be greater than 0-0");
        }
    }
    let now = ctx.keys.now().max(0) as u64;
    match write_stream(ctx, key) {
        Err(e) => return e,
        Ok(None) if parsed.nomkstream => return Reply::Nil,
        Ok(None) => ctx.store(key, Value::Stream(Box::default())),
        Ok(Some(_)) => {}
    }
    let Ok(Some(s)) = write_stream(ctx, key) else {
        return Reply::wrong_type();
    };
    if s.last_id == StreamId::MAX {
        return Reply::err(
            "The stream has exhausted the last possible ID, unable to add more items",
        );
    }
    let Some(id) = s.next_id(parsed.id, now) else {
        return Reply::err(
            "The ID specified in XADD is equal or smaller than the target stream top item",
        );
    };
    // A listpack holds at most 1 GB (checked after the id; Redis creates the key before refusing, and so do we).
    let payload: usize = (field_pos..args.len()).map(|i| args.get(i).len()).sum();
    if payload > 1 << 30 {
        return Reply::err("Elements are too large to be stored");
    }
    let fields: Vec<Vec<u8>> = (field_pos..args.len())
        .map(|i| args.get(i).to_vec())
        .collect();
    s.append(id, fields.into_boxed_slice(), limits);
    let trimmed = parsed.trim.map_or(0, |t| s.trim(t));
    let after = (s.len(), s.first_id());
    ctx.changed(key, 't', "xadd");
    if trimmed > 0 {
        ctx.report(key, Change::event_only('t', "xtrim"));
    }
    let generated = !matches!(
        parsed.id,
        Some(ParsedId {
            seq_given: true,
            ..
        })
    );
    propagate_add_trim(ctx, args, &parsed, after, generated.then_some(id));
    id.reply()
}

/// XADD's and XTRIM's effect, as Redis 7.0 rewrites it: an approximate trim (`~`) as the exact one it did (`=` and
/// the resulting length, or the first ID left), and a generated XADD ID (`*`, `<ms>-*`) as the ID it got.
fn propagate_add_trim(
    ctx: &mut Ctx,
    args: Args,
    parsed: &AddTrimArgs,
    (len, first): (usize, StreamId),
    id: Option<StreamId>,
) {
    let approx = parsed.trim.is_some_and(|t| t.approx);
    if !ctx.feeding() || (!approx && id.is_none()) {
        return;
    }
    let mut out: Vec<Vec<u8>> = (0..args.len()).map(|i| args.get(i).to_vec()).collect();
    if let Some(t) = parsed.trim.filter(|t| t.approx) {
        out[parsed.trim_arg - 1] = b"=".to_vec();
        out[parsed.trim_arg] = match t.strategy {
            Strategy::MaxLen(_) => itoa::Buffer::new().format(len).as_bytes().to_vec(),
            Strategy::MinId(_) => first.to_string().into_bytes(),
        };
    }
    if let Some(id) = id {
        out[parsed.id_pos] = id.to_string().into_bytes();
    }
    let out: Vec<&[u8]> = out.iter().map(Vec::as_slice).collect();
    ctx.propagate_as(&out);
}

pub fn xlen(ctx: &mut Ctx, args: Args) -> Reply {
    match read_stream(ctx, args.get(1)) {
        Ok(s) => Reply::Int(s.map_or(0, |s| s.len() as i64)),
        Err(e) => e,
    }
}

pub fn xrange(ctx: &mut Ctx, args: Args) -> Reply {
    range_generic(ctx, args, false)
}

pub fn xrevrange(ctx: &mut Ctx, args: Args) -> Reply {
    range_generic(ctx, args, true)
}

/// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n].
fn range_generic(ctx: &mut Ctx, args: Args, rev: bool) -> Reply {
    let (start_arg, end_arg) = if rev {
        (args.get(3), args.get(2))
    } else {
        (args.get(2), args.get(3))
    };
    let start = match parse_range_bound(start_arg, true) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let end = match parse_range_bound(end_arg, false) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut count: Option<usize> = None;
    let mut j = 4;
    while j < args.len() {
        if args.get(j).eq_ignore_ascii_case(b"COUNT") && j + 1 < args.len() {
            count = match int_arg(args.get(j + 1)) {
                Ok(n) => Some(n.max(0) as usize),
                Err(e) => return e,
            };
            j += 2;
        } else {
            return Reply::syntax_error();
        }
    }
    let s = match read_stream(ctx, args.get(1)) {
        Err(e) => return e,
        Ok(None) => return Reply::Array(Vec::new()),
        Ok(Some(s)) => s,
    };
    if count == Some(0) {
        return Reply::NilArray;
    }
    Reply::Array(
        s.range(start, end, rev, count.unwrap_or(0))
            .into_iter()
            .map(|(id, f)| entry_reply(id, f))
            .collect(),
    )
}

/// XDEL key id [id ...]: all ids are parsed before anything is deleted.
pub fn xdel(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    match write_stream(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(_)) => {}
    }
    let mut ids = Vec::with_capacity(args.len() - 2);
    for i in 2..args.len() {
        match parse_strict_id(args.get(i)) {
            Ok(id) => ids.push(id),
            Err(e) => return e,
        }
    }
    let Ok(Some(s)) = write_stream(ctx, key) else {
        return Reply::Int(0);
    };
    let mut deleted = 0;
    for id in ids {
        if s.delete(id) {
            s.max_deleted_id = s.max_deleted_id.max(id);
            deleted += 1;
        }
    }
    if deleted > 0 {
        ctx.report(key, Change::new('t', "xdel").dirty(deleted as u64));
    }
    Reply::Int(deleted)
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
pub fn xtrim(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let parsed = match parse_add_trim(
        args,
        false,
        node_limits(ctx).entries,
        ctx.client.ext.must_obey,
    ) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let s = match write_stream(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::Int(0),
        Ok(Some(s)) => s,
    };
    let Some(trim) = parsed.trim else {
        return Reply::Int(0);
    };
    let deleted = s.trim(trim);
    let after = (s.len(), s.first_id());
    if deleted > 0 {
        ctx.report(key, Change::new('t', "xtrim").dirty(deleted));
        propagate_add_trim(ctx, args, &parsed, after, None);
    }
    Reply::Int(deleted as i64)
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
pub fn xsetid(ctx: &mut Ctx, args: Args) -> Reply {
    let key = args.get(1);
    let id = match parse_strict_id(args.get(2)) {
        Ok(id) => id,
        Err(e) => return e,
    };
    let mut entries_added: Option<u64> = None;
    let mut max_xdel = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args.get(i);
        if opt.eq_ignore_ascii_case(b"ENTRIESADDED") && more > 0 {
            match int_arg(args.get(i + 1)) {
                Err(e) => return e,
                Ok(n) if n < 0 => return Reply::err("entries_added must be positive"),
                Ok(n) => entries_added = Some(n as u64),
            }
        } else if opt.eq_ignore_ascii_case(b"MAXDELETEDID") && more > 0 {
            match parse_strict_id(args.get(i + 1)) {
                Err(e) => return e,
                Ok(m) if id < m => return Reply::err(
                    "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
                ),
                Ok(m) => max_xdel = m,
            }
        } else {
            return Reply::syntax_error();
        }
        i += 2;
    }
    let s = match write_stream(ctx, key) {
        Err(e) => return e,
        Ok(None) => return Reply::no_such_key(),
        Ok(Some(s)) => s,
    };
    if !s.is_empty() {
        if id < s.last_valid_id() {
            return Reply::err(
                "The ID specified in XSETID is smaller than the target stream top item",
            );
        }
        if entries_added.is_some_and(|n| (s.len() as u64) > n) {
            return Reply::err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            );
        }
    }
    s.last_id = id;
    if let Some(n) = entries_added {
        s.entries_added = n;
    }
    if !max_xdel.is_zero() {
        s.max_deleted_id = max_xdel;
    }
    ctx.changed(key, 't', "xsetid");
    Reply::Ok
}
