//! GEOADD, GEOPOS, GEODIST and GEOHASH: one member at a time, no area search.

use super::geohash::{self, decode_score, encode, Range, STEP_MAX};
use super::{distance_reply, lon_lat, unit_to_meters};
use crate::commands::{Args, Ctx};
use crate::protocol::Reply;
use crate::types::collection;
use crate::types::zset::commands::{add_pairs, AddFlags};
use crate::types::zset::ZSet;

/// GEOADD key [NX|XX] [CH] longitude latitude member [...]: ZADD with each pair's geohash as its score. Options
/// are read until the first argument that is not one; then the triples, every one validated before any is added.
pub(super) fn geoadd(ctx: &mut Ctx, args: Args) -> Reply {
    let mut f = AddFlags::default();
    let mut first = 2;
    while first < args.len() {
        let opt = args.get(first);
        if opt.eq_ignore_ascii_case(b"nx") {
            f.nx = true;
        } else if opt.eq_ignore_ascii_case(b"xx") {
            f.xx = true;
        } else if opt.eq_ignore_ascii_case(b"ch") {
            f.ch = true;
        } else {
            break;
        }
        first += 1;
    }
    let rest = args.len() - first;
    if rest == 0 || !rest.is_multiple_of(3) || (f.nx && f.xx) {
        return Reply::syntax_error();
    }
    let mut pairs = Vec::with_capacity(rest / 3);
    for i in (first..args.len()).step_by(3) {
        let [lon, lat] = match lon_lat(args.get(i), args.get(i + 1)) {
            Ok(xy) => xy,
            Err(e) => return e,
        };
        // The pair is in range, so it encodes.
        let bits = geohash::encode_wgs84(lon, lat, STEP_MAX).map_or(0, |h| h.align52());
        pairs.push((bits as f64, args.get(i + 2)));
    }
    add_pairs(ctx, args.get(1), pairs, f)
}

/// GEOPOS key member [...]: each member's `[longitude, latitude]`, a null array for a missing one.
pub(super) fn geopos(ctx: &mut Ctx, args: Args) -> Reply {
    let zset = match collection::read::<ZSet>(ctx, args.get(1)) {
        Ok(z) => z,
        Err(e) => return e,
    };
    let reply = args
        .iter()
        .skip(2)
        .map(|m| match zset.and_then(|z| z.score(m)) {
            Some(score) => {
                let [lon, lat] = decode_score(score);
                Reply::Array(vec![Reply::HumanDouble(lon), Reply::HumanDouble(lat)])
            }
            None => Reply::NilArray,
        })
        .collect();
    Reply::Array(reply)
}

/// GEODIST key member1 member2 [unit]: null unless both members exist.
pub(super) fn geodist(ctx: &mut Ctx, args: Args) -> Reply {
    let to_meters = match args.len() {
        4 => 1.0,
        5 => match unit_to_meters(args.get(4)) {
            Ok(m) => m,
            Err(e) => return e,
        },
        _ => return Reply::syntax_error(),
    };
    let zset = match collection::read::<ZSet>(ctx, args.get(1)) {
        Ok(Some(z)) => z,
        Ok(None) => return Reply::Nil,
        Err(e) => return e,
    };
    match (zset.score(args.get(2)), zset.score(args.get(3))) {
        (Some(a), Some(b)) => {
            let ([lon1, lat1], [lon2, lat2]) = (decode_score(a), decode_score(b));
            distance_reply(geohash::distance(lon1, lat1, lon2, lat2) / to_meters)
        }
        _ => Reply::Nil,
    }
}

/// GEOHASH key member [...]: the standard 11-character geohash of each member (null if missing). Scores are
/// encoded with latitudes in ±85.05°, standard geohashes in ±90°: decode, then encode again in the standard
/// ranges; the 11th character has no bits behind it and is always `0`.
pub(super) fn geohash_cmd(ctx: &mut Ctx, args: Args) -> Reply {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let zset = match collection::read::<ZSet>(ctx, args.get(1)) {
        Ok(z) => z,
        Err(e) => return e,
    };
    let standard = |score: f64| {
        let [lon, lat] = decode_score(score);
        let long_range = Range {
            min: -180.0,
            max: 180.0,
        };
        let lat_range = Range {
            min: -90.0,
            max: 90.0,
        };
        let bits = encode(long_range, lat_range, lon, lat, 26).map_or(0, |h| h.bits);
        let mut text: Vec<u8> = (0..10)
            .map(|i| ALPHABET[((bits >> (52 - (i + 1) * 5)) & 0x1f) as usize])
            .collect();
        text.push(b'0');
        Reply::bulk_vec(text)
    };
    let reply = args
        .iter()
        .skip(2)
        .map(|m| zset.and_then(|z| z.score(m)).map_or(Reply::Nil, standard))
        .collect();
    Reply::Array(reply)
}
