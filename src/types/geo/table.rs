//! The geo command table, with Redis's arity, flags, key positions and docs.

use super::{commands, query};
use crate::commands::flags::*;
use crate::commands::keyspec::prelude::*;
use crate::commands::{Command, Handler, Scope};

const fn g(name: &'static str, arity: i32, flags: u32, handler: Handler) -> Command {
    Command::new(name, arity, flags, handler).keys(1, 1, 1)
}

const RADIUS_COMPLEXITY: &str =
    "O(N+log(M)) where N is the number of elements inside the bounding box of \
the circular area delimited by center and radius and M is the number of items inside the index.";
const SEARCH_COMPLEXITY: &str =
    "O(N+log(M)) where N is the number of elements in the grid-aligned bounding \
box area around the shape provided as the filter and M is the number of items inside the shape";

pub const COMMANDS: &[Command] = &[
    g("geoadd", -5, WRITE | DENYOOM, commands::geoadd)
        .key_specs(&[ks(RW | UPDATE, Index(1), Range(0, 1, 0))])
        .doc(
            "geo",
            "3.2.0",
            "Add one or more geospatial items in the geospatial index represented using a sorted set",
        )
        .complexity("O(log(N)) for each item added, where N is the number of elements in the sorted set."),
    g("geodist", -4, READONLY, commands::geodist)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "geo",
            "3.2.0",
            "Returns the distance between two members of a geospatial index",
        )
        .complexity("O(log(N))"),
    g("geohash", -2, READONLY, commands::geohash_cmd)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "geo",
            "3.2.0",
            "Returns members of a geospatial index as standard geohash strings",
        )
        .complexity(
            "O(log(N)) for each member requested, where N is the number of elements in the sorted set.",
        ),
    g("geopos", -2, READONLY, commands::geopos)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "geo",
            "3.2.0",
            "Returns longitude and latitude of members of a geospatial index",
        )
        .complexity("O(N) where N is the number of members requested."),
    // STORE / STOREDIST name a second key anywhere among the options: COMMAND GETKEYS and the locks differ there.
    g("georadius", -6, WRITE | DENYOOM, query::georadius)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0)), ks(OW | UPDATE, Keyword("STORE", 6), Range(0, 1, 0)), ks(OW | UPDATE, Keyword("STOREDIST", 6), Range(0, 1, 0))])
        .movable(query::georadius_keys)
        .scope(Scope::Custom(query::radius_locks))
        .doc(
            "geo",
            "3.2.0",
            "Query a sorted set representing a geospatial index to fetch members matching a given maximum \
             distance from a point",
        )
        .complexity(RADIUS_COMPLEXITY),
    g("georadius_ro", -6, READONLY, query::georadius_ro)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc("geo", "3.2.10", "A read-only variant for GEORADIUS")
        .complexity(RADIUS_COMPLEXITY),
    g("georadiusbymember", -5, WRITE | DENYOOM, query::georadiusbymember)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0)), ks(OW | UPDATE, Keyword("STORE", 5), Range(0, 1, 0)), ks(OW | UPDATE, Keyword("STOREDIST", 5), Range(0, 1, 0))])
        .movable(query::georadiusbymember_keys)
        .scope(Scope::Custom(query::radius_locks))
        .doc(
            "geo",
            "3.2.0",
            "Query a sorted set representing a geospatial index to fetch members matching a given maximum \
             distance from a member",
        )
        .complexity(RADIUS_COMPLEXITY),
    g("georadiusbymember_ro", -5, READONLY, query::georadiusbymember_ro)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc("geo", "3.2.10", "A read-only variant for GEORADIUSBYMEMBER")
        .complexity(RADIUS_COMPLEXITY),
    g("geosearch", -7, READONLY, query::geosearch)
        .key_specs(&[ks(RO | ACCESS, Index(1), Range(0, 1, 0))])
        .doc(
            "geo",
            "6.2.0",
            "Query a sorted set representing a geospatial index to fetch members inside an area of a box or \
             a circle.",
        )
        .complexity(SEARCH_COMPLEXITY),
    Command::new("geosearchstore", -8, WRITE | DENYOOM, query::geosearchstore)
        .key_specs(&[ks(OW | UPDATE, Index(1), Range(0, 1, 0)), ks(RO | ACCESS, Index(2), Range(0, 1, 0))])
        .keys(1, 2, 1)
        .doc(
            "geo",
            "6.2.0",
            "Query a sorted set representing a geospatial index to fetch members inside an area of a box or \
             a circle, and store the result in another key.",
        )
        .complexity(SEARCH_COMPLEXITY),
];
