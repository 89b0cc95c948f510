//! Geo commands: points stored in a sorted set, each member's score its 52-bit geohash (`geohash`), searched by
//! circle or box over the few score ranges that cover the shape (`search`). GEOADD, GEOPOS, GEODIST and GEOHASH
//! are in `commands`; the GEORADIUS / GEOSEARCH family, which shares one parser and one reply, in `query`.
//!
//! A geo set is an ordinary sorted set: ZRANGE, ZREM and the rest work on it, and GEOADD is ZADD with computed
//! scores (it fires `zadd` events, as in Redis).

mod commands;
pub mod geohash;
mod query;
pub mod search;
mod table;

use crate::commands::Command;
use crate::protocol::Reply;
use crate::util::numbers::{c_format, parse_f64};

pub const COMMANDS: &[Command] = table::COMMANDS;

/// Meters in one `m`, `km`, `ft` or `mi` (any case); Redis's error otherwise.
fn unit_to_meters(unit: &[u8]) -> Result<f64, Reply> {
    const UNITS: [(&str, f64); 4] = [("m", 1.0), ("km", 1000.0), ("ft", 0.3048), ("mi", 1609.34)];
    UNITS
        .iter()
        .find(|(name, _)| unit.eq_ignore_ascii_case(name.as_bytes()))
        .map(|&(_, meters)| meters)
        .ok_or_else(|| Reply::err("unsupported unit provided. please use M, KM, FT, MI"))
}

/// A float argument, with Redis's message for it (`need numeric radius`) or its generic one.
fn float_or(arg: &[u8], message: Option<&str>) -> Result<f64, Reply> {
    parse_f64(arg).ok_or_else(|| match message {
        Some(m) => Reply::err(m),
        None => Reply::not_float(),
    })
}

/// A `longitude latitude` pair, validated against the encodable ranges.
fn lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], Reply> {
    let xy = [float_or(lon, None)?, float_or(lat, None)?];
    let valid = (geohash::LONG_MIN..=geohash::LONG_MAX).contains(&xy[0])
        && (geohash::LAT_MIN..=geohash::LAT_MAX).contains(&xy[1]);
    if !valid {
        return Err(Reply::err(&format!(
            "invalid longitude,latitude pair {},{}",
            c_format(c"%f", xy[0]),
            c_format(c"%f", xy[1])
        )));
    }
    Ok(xy)
}

/// Distances print with four decimals (Redis's `fixedpoint_d2string(.., 4)`): rounded half to even on the
/// scaled value, as `llrint` does.
fn distance_reply(meters_in_unit: f64) -> Reply {
    if meters_in_unit == 0.0 {
        return Reply::bulk("0.0000");
    }
    let scaled = (meters_in_unit * 10000.0).round_ties_even() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let v = scaled.unsigned_abs();
    Reply::bulk_vec(format!("{sign}{}.{:04}", v / 10000, v % 10000).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_have_four_decimals() {
        assert_eq!(distance_reply(0.0), Reply::bulk("0.0000"));
        assert_eq!(
            distance_reply(166274.15156960033),
            Reply::bulk("166274.1516")
        );
        assert_eq!(distance_reply(0.00005), Reply::bulk("0.0000"));
        assert_eq!(distance_reply(0.7), Reply::bulk("0.7000"));
    }

    #[test]
    fn coordinates_are_validated() {
        assert!(lon_lat(b"180", b"85.05112878").is_ok());
        assert_eq!(
            lon_lat(b"181", b"0"),
            Err(Reply::err(
                "invalid longitude,latitude pair 181.000000,0.000000"
            ))
        );
        assert_eq!(lon_lat(b"x", b"0"), Err(Reply::not_float()));
    }
}
