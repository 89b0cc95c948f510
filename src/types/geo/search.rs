//! Finding the members of a geo set inside a circle or a box: the nine geohash cells that cover the shape (Redis's
//! `geohashCalculateAreasByShapeWGS84`), read as score ranges of the sorted set in Redis's order, each member
//! checked against the exact shape.

use super::geohash::{
    self, bounding_box, decode, decode_score, encode, estimate_steps, neighbors, HashBits,
    WGS84_LAT, WGS84_LONG,
};
use crate::types::zset::range::ScoreRange;
use crate::types::zset::ZSet;

#[derive(Clone, Copy, Debug)]
pub enum Shape {
    /// BYRADIUS / GEORADIUS, in the request's unit.
    Circle { radius: f64 },
    /// BYBOX, in the request's unit.
    Box { width: f64, height: f64 },
}

/// A search area: a centre `[longitude, latitude]`, a shape and the meters in one unit of the request.
#[derive(Clone, Copy, Debug)]
pub struct Area {
    pub center: [f64; 2],
    pub shape: Shape,
    pub to_meters: f64,
}

/// One member found, with its decoded position, its distance from the centre in meters and its score.
#[derive(Clone, Debug)]
pub struct Point {
    pub member: Vec<u8>,
    pub xy: [f64; 2],
    pub dist: f64,
    pub score: f64,
}

impl Area {
    /// Whether the point stored as `score` is inside; its position and distance if so.
    fn contains(&self, score: f64) -> Option<([f64; 2], f64)> {
        let xy = decode_score(score);
        let [x, y] = self.center;
        match self.shape {
            Shape::Circle { radius } => {
                let dist = geohash::distance(x, y, xy[0], xy[1]);
                (dist <= radius * self.to_meters).then_some((xy, dist))
            }
            Shape::Box { width, height } => {
                let (width, height) = (width * self.to_meters, height * self.to_meters);
                if geohash::lat_distance(xy[1], y) > height / 2.0 {
                    return None;
                }
                if geohash::distance(xy[0], xy[1], x, xy[1]) > width / 2.0 {
                    return None;
                }
                Some((xy, geohash::distance(x, y, xy[0], xy[1])))
            }
        }
    }

    /// The radius that covers the shape: the circle's, or the box's half diagonal; in meters.
    fn radius_meters(&self) -> f64 {
        let r = match self.shape {
            Shape::Circle { radius } => radius,
            Shape::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.to_meters
    }

    fn bounds(&self) -> [f64; 4] {
        let (half_width, half_height) = match self.shape {
            Shape::Circle { radius } => (radius, radius),
            Shape::Box { width, height } => (width / 2.0, height / 2.0),
        };
        bounding_box(
            self.center,
            self.to_meters * half_width,
            self.to_meters * half_height,
        )
    }

    /// The cell holding the centre and its eight neighbours, in the order Redis searches them (centre, N, S, E,
    /// W, NE, NW, SE, SW); cells the shape cannot reach are zero.
    fn cells(&self) -> [HashBits; 9] {
        let [min_lon, min_lat, max_lon, max_lat] = self.bounds();
        let [longitude, latitude] = self.center;
        let mut steps = estimate_steps(self.radius_meters(), latitude);
        let at = |steps: u8| {
            let hash =
                encode(WGS84_LONG, WGS84_LAT, longitude, latitude, steps).unwrap_or_default();
            (hash, neighbors(hash), decode(hash).unwrap_or_default())
        };
        let (mut hash, mut n, mut area) = at(steps);
        // Near a cell's edge the estimated cells can be too small for the shape: one step coarser then.
        let edge = |h: HashBits| decode(h).unwrap_or_default();
        let too_small = edge(n.north).latitude.max < max_lat
            || edge(n.south).latitude.min > min_lat
            || edge(n.east).longitude.max < max_lon
            || edge(n.west).longitude.min > min_lon;
        if steps > 1 && too_small {
            steps -= 1;
            (hash, n, area) = at(steps);
        }
        // Neighbours on a side the shape does not reach are left out.
        if steps >= 2 {
            let zero = HashBits::default();
            if area.latitude.min < min_lat {
                (n.south, n.south_west, n.south_east) = (zero, zero, zero);
            }
            if area.latitude.max > max_lat {
                (n.north, n.north_east, n.north_west) = (zero, zero, zero);
            }
            if area.longitude.min < min_lon {
                (n.west, n.south_west, n.north_west) = (zero, zero, zero);
            }
            if area.longitude.max > max_lon {
                (n.east, n.south_east, n.north_east) = (zero, zero, zero);
            }
        }
        [
            hash,
            n.north,
            n.south,
            n.east,
            n.west,
            n.north_east,
            n.north_west,
            n.south_east,
            n.south_west,
        ]
    }

    /// Every member inside, in Redis's search order, stopping once `limit` are found (0: no limit; COUNT ANY).
    pub fn search(&self, zset: &ZSet, limit: usize) -> Vec<Point> {
        let cells = self.cells();
        let mut found = Vec::new();
        let mut last: usize = 0;
        for (i, cell) in cells.iter().enumerate() {
            if cell.is_zero() {
                continue;
            }
            // With a huge radius adjacent cells can be the same one. As in Redis, the comparison is with the
            // previous cell searched, never with the centre (index 0 doubles as "none yet").
            if last != 0 && *cell == cells[last] {
                continue;
            }
            if limit != 0 && found.len() >= limit {
                break;
            }
            self.search_cell(zset, *cell, limit, &mut found);
            last = i;
        }
        found
    }

    /// The members whose scores fall in the cell (min <= score < max) and inside the shape.
    fn search_cell(&self, zset: &ZSet, cell: HashBits, limit: usize, found: &mut Vec<Point>) {
        let next = HashBits {
            bits: cell.bits.wrapping_add(1),
            step: cell.step,
        };
        let range = ScoreRange {
            min: cell.align52() as f64,
            max: next.align52() as f64,
            minex: false,
            maxex: true,
        };
        let list = zset.list();
        let mut node = list.first_in(&range);
        while let Some(id) = node {
            let score = list.score(id);
            if score >= range.max {
                break;
            }
            if let Some((xy, dist)) = self.contains(score) {
                found.push(Point {
                    member: list.member(id).to_vec(),
                    xy,
                    dist,
                    score,
                });
            }
            if limit != 0 && found.len() >= limit {
                break;
            }
            node = list.next(id);
        }
    }
}
