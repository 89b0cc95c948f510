//! Redis's geohash: longitude and latitude quantised to 26 bits each and interleaved into a 52-bit integer,
//! which is the sorted-set score of a geo member. Points close on the globe mostly share a score prefix, so a
//! search reads a few score ranges (one per covering box) instead of the whole set.
//!
//! Everything here reproduces Redis's arithmetic step for step (the same divisions, the same clamping, the same
//! C conversions), because the scores, distances and coordinates it produces are printed to the last digit.

/// Bits per coordinate in a stored score (26 * 2 = 52 bits, exact in a double).
pub const STEP_MAX: u8 = 26;
/// Latitudes beyond these cannot be encoded (the limits of EPSG:900913, Web Mercator).
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LONG_MIN: f64 = -180.0;
pub const LONG_MAX: f64 = 180.0;

/// Earth's quadratic mean radius for WGS-84, the one Redis measures every distance with.
const EARTH_RADIUS_IN_METERS: f64 = 6372797.560856;
/// Half the Mercator projection's width, in meters: where the radius-to-step estimate starts.
const MERCATOR_MAX: f64 = 20037726.37;

/// A geohash of `step` bits per coordinate. The zero value (bits 0, step 0) marks a neighbour that is not searched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The hash as a 52-bit score prefix: shifted left to fill 52 bits.
    pub fn align52(&self) -> u64 {
        self.bits << (52 - u32::from(self.step) * 2)
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The box a geohash stands for.
#[derive(Clone, Copy, Debug, Default)]
pub struct Area {
    pub longitude: Range,
    pub latitude: Range,
}

/// The coordinate ranges Redis encodes stored points in.
pub const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
pub const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// Spreads the 32 bits of `v` to the even bit positions of a u64.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// The inverse of `spread`: the even bits of `x`, packed.
fn squash(x: u64) -> u32 {
    let mut x = x & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0xFFFF_FFFF) as u32
}

/// Latitude bits at even positions, longitude bits at odd ones (Redis's `interleave64(lat, long)`).
fn interleave(lat: u32, long: u32) -> u64 {
    spread(lat) | (spread(long) << 1)
}

/// C's conversion of a non-negative double below 2^32 to `uint32_t` (truncation), as the encoder does.
fn to_u32(v: f64) -> u32 {
    v as u32
}

/// Encodes a point within the given ranges at `step` bits per coordinate; `None` where Redis's
/// `geohashEncode` fails (a step out of 1..=32, a point outside the ranges or the Mercator limits).
pub fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<HashBits> {
    if step == 0 || step > 32 {
        return None;
    }
    let outside = |v: f64, r: Range| v < r.min || v > r.max;
    if outside(longitude, WGS84_LONG) || outside(latitude, WGS84_LAT) {
        return None;
    }
    if outside(latitude, lat_range) || outside(longitude, long_range) {
        return None;
    }
    let scale = (1u64 << step) as f64;
    let lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min) * scale;
    let long_offset = (longitude - long_range.min) / (long_range.max - long_range.min) * scale;
    Some(HashBits {
        bits: interleave(to_u32(lat_offset), to_u32(long_offset)),
        step,
    })
}

/// `encode` in the stored ranges.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// The box `hash` stands for in the stored ranges; `None` for the zero hash.
pub fn decode(hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let lat_cells = squash(hash.bits);
    let long_cells = squash(hash.bits >> 1);
    let cells = (1u64 << hash.step) as f64;
    let edge = |i: u32, r: Range| r.min + (f64::from(i) * 1.0 / cells) * (r.max - r.min);
    Some(Area {
        latitude: Range {
            min: edge(lat_cells, WGS84_LAT),
            max: edge(lat_cells.wrapping_add(1), WGS84_LAT),
        },
        longitude: Range {
            min: edge(long_cells, WGS84_LONG),
            max: edge(long_cells.wrapping_add(1), WGS84_LONG),
        },
    })
}

/// The centre of a stored score's box, clamped to the encodable ranges: a member's `[longitude, latitude]`.
pub fn decode_score(score: f64) -> [f64; 2] {
    let hash = HashBits {
        bits: c_double_to_u64(score),
        step: STEP_MAX,
    };
    // A step of 26 is never the zero hash, so this always decodes, as in Redis.
    let area = decode(hash).unwrap_or_default();
    let long = (area.longitude.min + area.longitude.max) / 2.0;
    let lat = (area.latitude.min + area.latitude.max) / 2.0;
    [long.clamp(LONG_MIN, LONG_MAX), lat.clamp(LAT_MIN, LAT_MAX)]
}

/// `(uint64_t)d` as x86-64 code compiled by GCC computes it, for scores a client set with ZADD to anything:
/// below 2^63 a signed conversion (negative values wrap), above it the conversion of `d - 2^63` with the top bit
/// set; out of range or NaN, the conversion instruction's "integer indefinite" value.
pub fn c_double_to_u64(d: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    let cvt = |x: f64| -> u64 {
        if x.is_nan() || !(-TWO_63..TWO_63).contains(&x) {
            1 << 63
        } else {
            x as i64 as u64
        }
    };
    if d >= TWO_63 {
        cvt(d - TWO_63) ^ (1 << 63)
    } else {
        cvt(d)
    }
}

/// Moves a hash one cell east (`d > 0`) or west: the longitude bits (odd positions) are incremented or
/// decremented as one number, carries skipping the latitude bits.
fn move_x(hash: &mut HashBits, d: i8) {
    move_bits(hash, d, 0xaaaa_aaaa_aaaa_aaaa)
}

/// Moves a hash one cell north (`d > 0`) or south, on the latitude bits (even positions).
fn move_y(hash: &mut HashBits, d: i8) {
    move_bits(hash, d, 0x5555_5555_5555_5555)
}

fn move_bits(hash: &mut HashBits, d: i8, mask: u64) {
    if d == 0 {
        return;
    }
    let width = 64 - u32::from(hash.step) * 2;
    let moved = hash.bits & mask;
    let kept = hash.bits & !mask;
    // The other coordinate's positions, within the hash's width: filling them with ones makes a carry or borrow
    // run through them to the next bit of this coordinate.
    let others = !mask >> width;
    let moved = if d > 0 {
        moved.wrapping_add(others.wrapping_add(1))
    } else {
        (moved | others).wrapping_sub(others.wrapping_add(1))
    };
    hash.bits = (moved & (mask >> width)) | kept;
}

/// The eight neighbours of a cell.
#[derive(Clone, Copy, Debug, Default)]
pub struct Neighbors {
    pub north: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub south: HashBits,
    pub north_east: HashBits,
    pub south_east: HashBits,
    pub north_west: HashBits,
    pub south_west: HashBits,
}

pub fn neighbors(hash: HashBits) -> Neighbors {
    let at = |dx: i8, dy: i8| {
        let mut h = hash;
        move_x(&mut h, dx);
        move_y(&mut h, dy);
        h
    };
    Neighbors {
        north: at(0, 1),
        east: at(1, 0),
        west: at(-1, 0),
        south: at(0, -1),
        north_east: at(1, 1),
        south_east: at(1, -1),
        north_west: at(-1, 1),
        south_west: at(-1, -1),
    }
}

fn deg_rad(ang: f64) -> f64 {
    ang * (std::f64::consts::PI / 180.0)
}

fn rad_deg(ang: f64) -> f64 {
    ang / (std::f64::consts::PI / 180.0)
}

/// The distance between two latitudes on one meridian.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * (deg_rad(lat2) - deg_rad(lat1)).abs()
}

/// The haversine great-circle distance in meters, as Redis computes it (with its shortcut for equal longitudes).
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let (lon1r, lon2r) = (deg_rad(lon1), deg_rad(lon2));
    let v = ((lon2r - lon1r) / 2.0).sin();
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let (lat1r, lat2r) = (deg_rad(lat1), deg_rad(lat2));
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// The step (bits per coordinate) whose cells are about as large as a search of `range_meters` at `lat`.
pub fn estimate_steps(range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut range = range_meters;
    let mut step: i32 = 1;
    while range < MERCATOR_MAX {
        range *= 2.0;
        step += 1;
    }
    step -= 2;
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// `[min_long, min_lat, max_long, max_lat]` around `center`, `half_width` and `half_height` meters out; the
/// longitude span is taken at the latitude farther from the equator, where it is wider.
pub fn bounding_box(center: [f64; 2], half_width: f64, half_height: f64) -> [f64; 4] {
    let [longitude, latitude] = center;
    let lat_delta = rad_deg(half_height / EARTH_RADIUS_IN_METERS);
    let long_delta = |lat: f64| rad_deg(half_width / EARTH_RADIUS_IN_METERS / deg_rad(lat).cos());
    let long_delta = if latitude < 0.0 {
        long_delta(latitude - lat_delta)
    } else {
        long_delta(latitude + lat_delta)
    };
    [
        longitude - long_delta,
        latitude - lat_delta,
        longitude + long_delta,
        latitude + lat_delta,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleaving_round_trips() {
        for (lat, long) in [
            (0u32, 0u32),
            (1, 0),
            (0, 1),
            (0x3ff_ffff, 0x155_5555),
            (u32::MAX, 7),
        ] {
            let bits = interleave(lat, long);
            assert_eq!(squash(bits), lat);
            assert_eq!(squash(bits >> 1), long);
        }
    }

    #[test]
    fn palermo_encodes_to_redis_score() {
        // GEOADD Sicily 13.361389 38.115556 "Palermo" stores 3479099956230698 in Redis.
        let hash = encode_wgs84(13.361389, 38.115556, STEP_MAX).map(|h| h.align52());
        assert_eq!(hash, Some(3479099956230698));
        let [lon, lat] = decode_score(3479099956230698.0);
        assert_eq!(
            (format!("{lon:.17}"), format!("{lat:.17}")),
            ("13.36138933897018433".into(), "38.11555639549629859".into())
        );
    }

    #[test]
    fn neighbours_step_one_cell() {
        let h = encode_wgs84(0.1, 0.1, 4).unwrap_or_default();
        let n = neighbors(h);
        let centre = decode(h).unwrap_or_default();
        let east = decode(n.east).unwrap_or_default();
        let north = decode(n.north).unwrap_or_default();
        assert_eq!(east.longitude.min, centre.longitude.max);
        assert_eq!(north.latitude.min, centre.latitude.max);
        assert_eq!(east.latitude.min, centre.latitude.min);
    }

    #[test]
    fn distance_palermo_catania() {
        // GEODIST Sicily Palermo Catania: 166274.1516 in Redis, between the decoded positions.
        let at = |lon, lat| {
            decode_score(
                encode_wgs84(lon, lat, STEP_MAX)
                    .unwrap_or_default()
                    .align52() as f64,
            )
        };
        let ([x1, y1], [x2, y2]) = (at(13.361389, 38.115556), at(15.087269, 37.502669));
        let d = distance(x1, y1, x2, y2);
        assert_eq!(format!("{d:.4}"), "166274.1516");
        assert_eq!(c_double_to_u64(-1.0), u64::MAX);
        assert_eq!(c_double_to_u64(f64::NAN), 1 << 63);
    }
}
