//! GEORADIUS, GEORADIUSBYMEMBER (and their `_RO` forms), GEOSEARCH and GEOSEARCHSTORE: one parser and one search
//! for all six, switched by a `Variant`, as Redis's `georadiusGeneric` is. The checks run in Redis's order, since
//! that order decides which error a bad request gets (a missing key answers before a bad radius is noticed in
//! GEORADIUSBYMEMBER, and a missing FROMMEMBER member is looked up while parsing).

use super::search::{Area, Point, Shape};
use super::{distance_reply, float_or, geohash, lon_lat, unit_to_meters};
use crate::commands::{Args, Ctx};
use crate::db::{Keyspace, LockPlan};
use crate::protocol::Reply;
use crate::types::collection::{self, PackLimits};
use crate::types::zset::ZSet;
use crate::util::numbers::parse_i64;
use crate::util::pqsort::partial_sort;
use std::cmp::Ordering;

/// Which command is running.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// GEORADIUS key longitude latitude radius unit ...
    Radius { store: bool },
    /// GEORADIUSBYMEMBER key member radius unit ...
    ByMember { store: bool },
    /// GEOSEARCH key (FROMMEMBER|FROMLONLAT) (BYRADIUS|BYBOX) ...
    Search,
    /// GEOSEARCHSTORE destination source ...
    SearchStore,
}

impl Variant {
    fn is_search(self) -> bool {
        matches!(self, Variant::Search | Variant::SearchStore)
    }

    /// Whether STORE / STOREDIST with a key are options (GEORADIUS and GEORADIUSBYMEMBER, not the `_RO` forms).
    fn takes_store_key(self) -> bool {
        matches!(
            self,
            Variant::Radius { store: true } | Variant::ByMember { store: true }
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    Unsorted,
    Asc,
    Desc,
}

/// Everything a request asks for, once parsed.
struct Query<'a> {
    area: Option<Area>,
    center: Option<[f64; 2]>,
    shape: Option<(Shape, f64)>,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    order: Order,
    any: bool,
    /// 0: no COUNT.
    count: usize,
    store_key: Option<&'a [u8]>,
    store_dist: bool,
}

pub(super) fn georadius(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, Variant::Radius { store: true })
}

pub(super) fn georadius_ro(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, Variant::Radius { store: false })
}

pub(super) fn georadiusbymember(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, Variant::ByMember { store: true })
}

pub(super) fn georadiusbymember_ro(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, Variant::ByMember { store: false })
}

pub(super) fn geosearch(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, Variant::Search)
}

pub(super) fn geosearchstore(ctx: &mut Ctx, args: Args) -> Reply {
    generic(ctx, args, Variant::SearchStore)
}

/// COMMAND GETKEYS of GEORADIUS: Redis 7.0 answers from the key specs, so the source, then the key after the
/// first STORE and the one after the first STOREDIST from argument 6 on (a last argument is never a keyword).
pub(super) fn georadius_keys(args: Args) -> Vec<usize> {
    spec_keys(args, 6)
}

/// GEORADIUSBYMEMBER's, whose options start at argument 5.
pub(super) fn georadiusbymember_keys(args: Args) -> Vec<usize> {
    spec_keys(args, 5)
}

fn spec_keys(args: Args, from: usize) -> Vec<usize> {
    let mut keys = vec![1];
    for keyword in [&b"store"[..], b"storedist"] {
        let found = (from..args.len().saturating_sub(1))
            .find(|&i| args.get(i).eq_ignore_ascii_case(keyword));
        keys.extend(found.map(|i| i + 1));
    }
    keys
}

/// The locks of GEORADIUS and GEORADIUSBYMEMBER: the source, and every argument after a STORE or STOREDIST
/// from argument 5 on, all for writing. The handler stores to the last such key (it reads options from 6 or 5
/// on, a unit at 5 in GEORADIUS), so this covers it whatever the spec-based key list above says.
pub(super) fn radius_locks(args: Args, db: usize, ks: &Keyspace, plan: &mut LockPlan) {
    plan.key(ks, db, args.get(1), true);
    for i in 5..args.len().saturating_sub(1) {
        let arg = args.get(i);
        if arg.eq_ignore_ascii_case(b"store") || arg.eq_ignore_ascii_case(b"storedist") {
            plan.key(ks, db, args.get(i + 1), true);
        }
    }
}

fn generic(ctx: &mut Ctx, args: Args, variant: Variant) -> Reply {
    let src = if variant == Variant::SearchStore {
        2
    } else {
        1
    };
    let zset = match collection::read::<ZSet>(ctx, args.get(src)) {
        Ok(z) => z,
        Err(e) => return e,
    };
    let query = match parse(args, variant, zset) {
        Ok(q) => q,
        Err(e) => return e,
    };
    let (Some(zset), Some(area)) = (zset, query.area) else {
        // No source key: nothing to find (a BYMEMBER search of a missing key gets here without its radius read).
        return match query.store_key {
            Some(dest) => store(ctx, variant, dest, Vec::new(), false),
            None => Reply::Array(Vec::new()),
        };
    };
    let mut points = area.search(zset, if query.any { query.count } else { 0 });
    let wanted = match query.count {
        0 => points.len(),
        n => n.min(points.len()),
    };
    // COUNT without an order means the nearest ones, so it sorts ascending (COUNT ANY takes any).
    let order = match query.order {
        Order::Unsorted if query.count != 0 && !query.any => Order::Asc,
        o => o,
    };
    let by_dist = |a: &Point, b: &Point| {
        let asc = a.dist.partial_cmp(&b.dist).unwrap_or(Ordering::Equal);
        if order == Order::Desc {
            asc.reverse()
        } else {
            asc
        }
    };
    // As Redis: glibc's qsort (a merge sort: stable) for all the matches, its partial quicksort for the first
    // COUNT of them, which decides the order of equally distant points.
    if order != Order::Unsorted {
        if wanted == points.len() {
            points.sort_by(by_dist);
        } else {
            partial_sort(&mut points, 0, wanted as i64 - 1, by_dist);
        }
    }
    points.truncate(wanted);
    for p in &mut points {
        p.dist /= area.to_meters;
    }
    match query.store_key {
        Some(dest) => store(ctx, variant, dest, points, query.store_dist),
        None => reply(&query, points),
    }
}

/// The matches as an array: bare members, or `[member, dist?, hash?, [lon, lat]?]` when any WITH option is on.
fn reply(query: &Query, points: Vec<Point>) -> Reply {
    let with_any = query.with_dist || query.with_hash || query.with_coord;
    let items = points
        .into_iter()
        .map(|p| {
            let member = Reply::bulk_vec(p.member);
            if !with_any {
                return member;
            }
            let mut item = vec![member];
            if query.with_dist {
                item.push(distance_reply(p.dist));
            }
            if query.with_hash {
                item.push(Reply::Int(p.score as i64));
            }
            if query.with_coord {
                item.push(Reply::Array(vec![
                    Reply::HumanDouble(p.xy[0]),
                    Reply::HumanDouble(p.xy[1]),
                ]));
            }
            Reply::Array(item)
        })
        .collect();
    Reply::Array(items)
}

/// STORE / STOREDIST / GEOSEARCHSTORE: the matches become a sorted set at `dest` scored by geohash or by
/// distance (in the request's unit); no match deletes `dest`. Replies with the number stored.
fn store(ctx: &mut Ctx, variant: Variant, dest: &[u8], points: Vec<Point>, by_dist: bool) -> Reply {
    let n = points.len();
    if n == 0 {
        if ctx.delete(dest) {
            ctx.changed(dest, 'g', "del");
        }
        return Reply::Int(0);
    }
    let items = points
        .into_iter()
        .map(|p| (p.member, if by_dist { p.dist } else { p.score }))
        .collect();
    let zset = ZSet::from_items(items, PackLimits::zset(&ctx.server.config));
    ctx.store(dest, crate::db::Value::ZSet(zset));
    let event = if variant.is_search() {
        "geosearchstore"
    } else {
        "georadiusstore"
    };
    ctx.changed(dest, 'z', event);
    Reply::Int(n as i64)
}

/// Parses the request after the source key, in Redis's order and with its errors. `zset` is the source (FROMMEMBER
/// and GEORADIUSBYMEMBER look their member up while parsing).
fn parse<'a>(args: Args<'a>, variant: Variant, zset: Option<&ZSet>) -> Result<Query<'a>, Reply> {
    let mut q = Query {
        area: None,
        center: None,
        shape: None,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        order: Order::Unsorted,
        any: false,
        count: 0,
        store_key: None,
        store_dist: false,
    };
    let first_option = match variant {
        Variant::Radius { .. } => {
            q.center = Some(lon_lat(args.get(2), args.get(3))?);
            q.shape = Some(radius(args.get(4), args.get(5))?);
            6
        }
        Variant::ByMember { .. } => {
            if let Some(z) = zset {
                q.center = Some(member_position(z, args.get(2))?);
                q.shape = Some(radius(args.get(3), args.get(4))?);
            }
            5
        }
        Variant::Search => 2,
        Variant::SearchStore => {
            q.store_key = Some(args.get(1));
            3
        }
    };
    parse_options(args, first_option, variant, zset, &mut q)?;
    check_combinations(args, variant, &q)?;
    if let (Some(center), Some((shape, to_meters))) = (q.center, q.shape) {
        q.area = Some(Area {
            center,
            shape,
            to_meters,
        });
    }
    Ok(q)
}

/// The options, each checked as it is met (so the first bad one decides the error).
fn parse_options<'a>(
    args: Args<'a>,
    first: usize,
    variant: Variant,
    zset: Option<&ZSet>,
    q: &mut Query<'a>,
) -> Result<(), Reply> {
    let search = variant.is_search();
    let (mut from_member, mut from_lonlat) = (false, false);
    let mut i = first;
    while i < args.len() {
        let left = args.len() - i - 1;
        let arg = args.get(i);
        let is = |name: &str| arg.eq_ignore_ascii_case(name.as_bytes());
        if is("withdist") {
            q.with_dist = true;
        } else if is("withhash") {
            q.with_hash = true;
        } else if is("withcoord") {
            q.with_coord = true;
        } else if is("any") {
            q.any = true;
        } else if is("asc") {
            q.order = Order::Asc;
        } else if is("desc") {
            q.order = Order::Desc;
        } else if is("count") && left >= 1 {
            let count = parse_i64(args.get(i + 1)).ok_or_else(Reply::not_integer)?;
            if count <= 0 {
                return Err(Reply::err("COUNT must be > 0"));
            }
            q.count = usize::try_from(count).unwrap_or(usize::MAX);
            i += 1;
        } else if (is("store") || is("storedist")) && left >= 1 && variant.takes_store_key() {
            q.store_key = Some(args.get(i + 1));
            q.store_dist = is("storedist");
            i += 1;
        } else if is("storedist") && variant == Variant::SearchStore {
            q.store_dist = true;
        } else if is("frommember") && left >= 1 && search && !from_lonlat {
            if let Some(z) = zset {
                q.center = Some(member_position(z, args.get(i + 1))?);
            }
            from_member = true;
            i += 1;
        } else if is("fromlonlat") && left >= 2 && search && !from_member {
            q.center = Some(lon_lat(args.get(i + 1), args.get(i + 2))?);
            from_lonlat = true;
            i += 2;
        } else if is("byradius") && left >= 2 && search && !is_box(q) {
            q.shape = Some(radius(args.get(i + 1), args.get(i + 2))?);
            i += 2;
        } else if is("bybox") && left >= 3 && search && !is_circle(q) {
            q.shape = Some(bybox(args.get(i + 1), args.get(i + 2), args.get(i + 3))?);
            i += 3;
        } else {
            return Err(Reply::syntax_error());
        }
        i += 1;
    }
    if from_member && q.center.is_none() {
        // FROMMEMBER of a missing key: the search finds nothing, but the request must still be well formed.
        q.center = Some([0.0, 0.0]);
    }
    Ok(())
}

fn is_box(q: &Query) -> bool {
    matches!(q.shape, Some((Shape::Box { .. }, _)))
}

fn is_circle(q: &Query) -> bool {
    matches!(q.shape, Some((Shape::Circle { .. }, _)))
}

/// The checks Redis makes once every option is read.
fn check_combinations(args: Args, variant: Variant, q: &Query) -> Result<(), Reply> {
    if q.store_key.is_some() && (q.with_dist || q.with_hash || q.with_coord) {
        let who = if variant == Variant::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(Reply::err(&format!(
            "{who} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(args.get(0));
    if variant.is_search() && q.center.is_none() {
        return Err(Reply::err(&format!(
            "exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if variant.is_search() && q.shape.is_none() {
        return Err(Reply::err(&format!(
            "exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if q.any && q.count == 0 {
        return Err(Reply::err("the ANY argument requires COUNT argument"));
    }
    Ok(())
}

/// A member's position, or Redis's error for a member the set does not have.
fn member_position(zset: &ZSet, member: &[u8]) -> Result<[f64; 2], Reply> {
    zset.score(member)
        .map(geohash::decode_score)
        .ok_or_else(|| Reply::err("could not decode requested zset member"))
}

/// `radius unit`: the circle and the meters per unit.
fn radius(value: &[u8], unit: &[u8]) -> Result<(Shape, f64), Reply> {
    let radius = float_or(value, Some("need numeric radius"))?;
    if radius < 0.0 {
        return Err(Reply::err("radius cannot be negative"));
    }
    Ok((Shape::Circle { radius }, unit_to_meters(unit)?))
}

/// `width height unit`: the box and the meters per unit.
fn bybox(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(Shape, f64), Reply> {
    let width = float_or(width, Some("need numeric width"))?;
    let height = float_or(height, Some("need numeric height"))?;
    if height < 0.0 || width < 0.0 {
        return Err(Reply::err("height or width cannot be negative"));
    }
    Ok((Shape::Box { width, height }, unit_to_meters(unit)?))
}
