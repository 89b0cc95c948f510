//! Geo commands against redis-server byte for byte: every option and error, RESP3, keyspace events, and random
//! points searched by circle and box (proptest, compared with redis-server case by case).

mod collections;
mod common;
mod vs_redis;

use collections::{same, same_events, same_resp3};
use common::Server;
use proptest::prelude::*;
use vs_redis::with_pair;

const SICILY: &str = "GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania";

#[test]
fn geoadd_options_and_errors() {
    same(&[
        SICILY,
        "GEOADD Sicily NX CH 13.361389 38.115556 Palermo 15 37 X",
        "GEOADD Sicily XX CH 13.361389 38.2 Palermo 15 37 Y",
        "GEOADD Sicily CH NX 1 1 Palermo 2 2 Z",
        "GEOADD Sicily XX 1 1 nope",
        "GEOADD Sicily NX XX 1 1 a",
        "GEOADD Sicily CH CH CH",
        "GEOADD Sicily 200 10 a",
        "GEOADD Sicily 10 86 a",
        "GEOADD Sicily -180 -85.05112878 edge1 180 85.05112878 edge2",
        "GEOADD Sicily -180.0001 0 a",
        "GEOADD Sicily inf 0 a",
        "GEOADD Sicily foo 1 a",
        "GEOADD Sicily 1 bar a",
        "GEOADD Sicily 1 1 a 2",
        "GEOADD Sicily 1 1 ok 2 200 bad",
        "ZRANGE Sicily 0 -1 WITHSCORES",
        "GEOADD",
        "GEOADD Sicily 1 1",
        "SET str x",
        "GEOADD str 1 1 a",
        "GEOADD str 1000 1 a",
    ]);
}

#[test]
fn geopos_geodist_geohash() {
    same(&[
        SICILY,
        "GEOADD Sicily -180 -85.05112878 edge1 180 85.05112878 edge2 0 0 zero",
        "ZADD Sicily 0 z0 -1 neg 1e300 huge 4503599627370496 big",
        "GEOPOS Sicily Palermo Catania nope edge1 edge2 zero z0 neg huge big",
        "GEOPOS nokey a b",
        "GEOPOS Sicily",
        "GEODIST Sicily Palermo Catania",
        "GEODIST Sicily Palermo Catania KM",
        "GEODIST Sicily Palermo Catania mi",
        "GEODIST Sicily Palermo Catania ft",
        "GEODIST Sicily Palermo Catania M",
        "GEODIST Sicily Palermo Palermo",
        "GEODIST Sicily edge1 edge2",
        "GEODIST Sicily Palermo Catania yards",
        "GEODIST Sicily Palermo Catania km extra",
        "GEODIST Sicily Palermo nope",
        "GEODIST nokey a b",
        "GEODIST nokey a b parsec",
        "GEODIST Sicily a",
        "GEOHASH Sicily Palermo Catania nope edge1 edge2 zero neg huge",
        "GEOHASH nokey a",
        "SET str x",
        "GEOPOS str a",
        "GEODIST str a b",
        "GEODIST str a b parsec",
        "GEOHASH str a",
    ]);
}

#[test]
fn georadius_options() {
    same(&[
        SICILY,
        "GEOADD Sicily 13.583333 37.316667 Agrigento 12.758489 38.788135 edge",
        "GEORADIUS Sicily 15 37 200 km",
        "GEORADIUS Sicily 15 37 200 km WITHDIST",
        "GEORADIUS Sicily 15 37 200 km WITHCOORD",
        "GEORADIUS Sicily 15 37 200 km WITHHASH",
        "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC",
        "GEORADIUS Sicily 15 37 200 km withhash withcoord withdist DESC",
        "GEORADIUS Sicily 15 37 200000 m ASC WITHDIST",
        "GEORADIUS Sicily 15 37 120 mi ASC WITHDIST",
        "GEORADIUS Sicily 15 37 600000 ft ASC WITHDIST",
        "GEORADIUS Sicily 15 37 200 km COUNT 2",
        "GEORADIUS Sicily 15 37 200 km COUNT 2 DESC",
        "GEORADIUS Sicily 15 37 200 km COUNT 1 ANY",
        "GEORADIUS Sicily 15 37 200 km COUNT 10 ANY ASC",
        "GEORADIUS Sicily 15 37 0 km",
        "GEORADIUS Sicily 13.361389 38.115556 0 km",
        "GEORADIUS Sicily 15 37 20000 km ASC",
        "GEORADIUS_RO Sicily 15 37 200 km WITHDIST ASC",
        "GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST ASC",
        "GEORADIUSBYMEMBER Sicily Palermo 100 km",
        "GEORADIUSBYMEMBER_RO Sicily Agrigento 100 km WITHCOORD DESC COUNT 2",
        "GEORADIUS nokey 15 37 200 km",
        "GEORADIUSBYMEMBER nokey a 200 km",
    ]);
}

#[test]
fn georadius_errors() {
    same(&[
        SICILY,
        "GEORADIUS Sicily 15 37 200 km ANY",
        "GEORADIUS Sicily 15 37 200 km COUNT 0",
        "GEORADIUS Sicily 15 37 200 km COUNT -1",
        "GEORADIUS Sicily 15 37 200 km COUNT x",
        "GEORADIUS Sicily 15 37 200 km COUNT 99999999999999999999",
        "GEORADIUS Sicily 15 37 200 km COUNT",
        "GEORADIUS Sicily 15 37 200 km BOGUS",
        "GEORADIUS Sicily 15 37 -200 km",
        "GEORADIUS Sicily 15 37 abc km",
        "GEORADIUS Sicily 15 37 200 lightyears",
        "GEORADIUS Sicily 200 37 200 km",
        "GEORADIUS Sicily x 37 200 km",
        "GEORADIUS Sicily 15 37 200",
        "GEORADIUS Sicily 15 37 200 km STORE dst WITHDIST",
        "GEORADIUS Sicily 15 37 200 km STOREDIST dst WITHHASH",
        "GEORADIUS_RO Sicily 15 37 200 km STORE dst",
        "GEORADIUS Sicily 15 37 200 km FROMLONLAT 1 1",
        "GEORADIUS Sicily 15 37 200 km STORE",
        "GEORADIUSBYMEMBER Sicily nope 200 km",
        "GEORADIUSBYMEMBER Sicily Palermo -1 km",
        "GEORADIUSBYMEMBER nokey nope abc km",
        "GEORADIUSBYMEMBER nokey nope 1 km BOGUS",
        "GEORADIUSBYMEMBER_RO Sicily Palermo 1 km STOREDIST x",
        "GEORADIUSBYMEMBER Sicily Palermo 1",
        "SET str x",
        "GEORADIUS str 15 37 200 km",
        "GEORADIUS str 1000 37 200 km",
        "GEORADIUSBYMEMBER str a 200 km",
    ]);
}

#[test]
fn georadius_store() {
    same(&[
        SICILY,
        "GEORADIUS Sicily 15 37 200 km STORE dst",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STOREDIST dst2",
        "ZRANGE dst2 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STOREDIST dst3 COUNT 1 DESC",
        "ZRANGE dst3 0 -1 WITHSCORES",
        "GEORADIUS Sicily 15 37 200 km STORE a STOREDIST b",
        "GEORADIUS Sicily 15 37 200 km STORE a STORE b2 STORE b3 STOREDIST b4",
        "ZRANGE b4 0 -1 WITHSCORES",
        "EXISTS b2 b3",
        "ZRANGE b 0 -1 WITHSCORES",
        "EXISTS a",
        "EXPIRE dst 100",
        "GEORADIUSBYMEMBER Sicily Palermo 10 km STORE dst",
        "TTL dst",
        "GEORADIUS Sicily 15 37 1 km STORE dst",
        "EXISTS dst",
        "GEORADIUS nokey 15 37 200 km STORE dst2",
        "EXISTS dst2",
        "GEORADIUSBYMEMBER nokey a 200 km STORE dst3",
        "EXISTS dst3",
        "SET str x",
        "GEORADIUS Sicily 15 37 200 km STORE str",
        "TYPE str",
        "OBJECT ENCODING str",
    ]);
}

#[test]
fn geosearch_options_and_errors() {
    same(&[
        SICILY,
        "GEOADD Sicily 13.583333 37.316667 Agrigento 12.758489 38.788135 edge",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHCOORD WITHDIST WITHHASH",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km ASC WITHCOORD WITHDIST WITHHASH",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km DESC COUNT 1",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km COUNT 2 ANY",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 200 100 mi",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 0 0 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 1 km",
        "GEOSEARCH Sicily FROMLONLAT 1 1 FROMLONLAT 15 37 BYRADIUS 1 km BYRADIUS 200 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 1 1 BYBOX 400 400 km",
        "GEOSEARCH Sicily FROMLONLAT 1 1 FROMMEMBER Palermo BYBOX 400 400 km",
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYRADIUS 1 km BYBOX 400 400 km",
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 1 km BYRADIUS 400 km",
        "GEOSEARCH Sicily BYBOX 400 400 km ASC",
        "GEOSEARCH Sicily FROMLONLAT 1 1 ASC WITHDIST",
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX -1 1 km",
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX a 1 km",
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 a km",
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 1 au",
        "GEOSEARCH Sicily FROMLONLAT 1 1 BYBOX 1 1",
        "GEOSEARCH Sicily FROMLONLAT 1 BYBOX 1 1 km",
        "GEOSEARCH Sicily FROMLONLAT 1 100 BYBOX 1 1 km",
        "GEOSEARCH Sicily FROMMEMBER nope BYBOX 1 1 km",
        "GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 1 km ANY",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
        "geosearch Sicily WITHDIST BYRADIUS 200 km",
        "GEOSEARCH nokey FROMMEMBER nope BYBOX 1 1 km",
        "GEOSEARCH nokey FROMMEMBER nope BYBOX -1 1 km",
        "GEOSEARCH nokey FROMLONLAT 1 1 BYBOX 1 1 km WITHDIST",
        "SET str x",
        "GEOSEARCH str FROMLONLAT 1 1 BYBOX 1 1 km",
    ]);
}

#[test]
fn geosearchstore() {
    same(&[
        SICILY,
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst Sicily FROMMEMBER Palermo BYBOX 500 500 km COUNT 1 DESC STOREDIST",
        "ZRANGE dst 0 -1 WITHSCORES",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STORE x",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 1 m",
        "EXISTS dst",
        "GEOSEARCHSTORE dst nokey FROMLONLAT 15 37 BYRADIUS 200 km",
        "SET str x",
        "GEOSEARCHSTORE dst str FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE str Sicily FROMLONLAT 15 37 BYRADIUS 200 km",
        "TYPE str",
    ]);
}

/// Points at one spot are equally distant: which of them COUNT returns is decided by Redis's partial quicksort
/// (and by its stable merge sort without COUNT).
#[test]
fn equal_distances_keep_redis_order() {
    let mut add = String::from("GEOADD t 1.1 1 far");
    for i in 0..60 {
        add.push_str(&format!(" 1 1 p{i}"));
        if i % 7 == 0 {
            add.push_str(&format!(" 1.0001 1 q{i}"));
        }
    }
    same(&[
        &add,
        "GEORADIUS t 1 1 100 km COUNT 3",
        "GEORADIUS t 1 1 100 km COUNT 5 DESC",
        "GEORADIUS t 1 1 100 km COUNT 30",
        "GEORADIUS t 1 1 100 km COUNT 69 DESC",
        "GEORADIUS t 1 1 100 km ASC",
        "GEORADIUS t 1 1 100 km DESC",
        "GEOSEARCH t FROMMEMBER p7 BYBOX 50 50 km COUNT 12 DESC WITHDIST",
        "GEOSEARCHSTORE dst t FROMMEMBER p7 BYBOX 50 50 km COUNT 12 DESC",
        "ZRANGE dst 0 -1",
    ]);
}

#[test]
fn resp3_replies() {
    same_resp3(&[
        SICILY,
        "GEOPOS Sicily Palermo nope",
        "GEODIST Sicily Palermo Catania",
        "GEODIST Sicily Palermo nope",
        "GEOHASH Sicily Palermo nope",
        "GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH ASC",
        "GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD",
        "GEOSEARCH nokey FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD",
    ]);
}

#[test]
fn keyspace_events() {
    same_events(&[
        SICILY,
        "GEOADD Sicily NX 13.361389 38.115556 Palermo",
        "GEOADD Sicily XX 13 38 Palermo",
        "GEORADIUS Sicily 15 37 200 km STORE dst",
        "GEORADIUSBYMEMBER Sicily Palermo 200 km STOREDIST dst",
        "GEOSEARCHSTORE dst2 Sicily FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOSEARCHSTORE dst2 Sicily FROMLONLAT 15 37 BYRADIUS 1 m",
        "GEORADIUS Sicily 15 37 1 m STORE dst",
        "GEORADIUS nokey 15 37 1 m STORE nothing",
    ]);
}

#[test]
fn a_store_invalidates_watch_on_the_destination() {
    let server = Server::start();
    let (mut a, mut b) = (server.client(), server.client());
    let args: Vec<&str> = SICILY.split_whitespace().collect();
    assert_eq!(a.cmd(&args), ":2\r\n");
    for store in [
        "GEORADIUS Sicily 15 37 200 km STORE dst",
        "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km",
        "GEOADD dst 1 1 x",
    ] {
        assert_eq!(a.cmd(&["WATCH", "dst"]), "+OK\r\n");
        assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
        assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
        let cmd: Vec<&str> = store.split_whitespace().collect();
        assert!(b.cmd(&cmd).starts_with(':'), "{store}");
        assert_eq!(
            a.cmd(&["EXEC"]),
            "*-1\r\n",
            "{store} must abort the watcher"
        );
    }
}

#[test]
fn command_info_rows() {
    let server = Server::start();
    let mut c = server.client();
    let mut cmd = |line: &str| c.cmd(&line.split_whitespace().collect::<Vec<_>>());
    let info = cmd("COMMAND INFO geosearchstore georadius_ro geoadd");
    assert!(info.contains("$14\r\ngeosearchstore\r\n:-8\r\n"), "{info}");
    assert!(info.contains("$12\r\ngeoradius_ro\r\n:-6\r\n"), "{info}");
    assert!(info.contains("+@geo\r\n"), "{info}");
    // Redis answers from its key specs: the first STORE's key, then the first STOREDIST's.
    let keys = cmd("COMMAND GETKEYS GEORADIUS s 1 1 1 km STORE d");
    assert_eq!(keys, "*2\r\n$1\r\ns\r\n$1\r\nd\r\n");
    let keys = cmd("COMMAND GETKEYS GEORADIUS s 1 1 STORE d");
    assert_eq!(keys, "*1\r\n$1\r\ns\r\n");
    let keys = cmd("COMMAND GETKEYS GEORADIUSBYMEMBER s m 1 km STOREDIST a STORE b");
    assert_eq!(keys, "*3\r\n$1\r\ns\r\n$1\r\nb\r\n$1\r\na\r\n");
    let keys = cmd("COMMAND GETKEYS GEORADIUS s 1 1 1 km STORE a STORE c");
    assert_eq!(keys, "*2\r\n$1\r\ns\r\n$1\r\na\r\n");
}

fn lon() -> impl Strategy<Value = f64> {
    -180.0..=180.0f64
}

fn lat() -> impl Strategy<Value = f64> {
    -85.05..=85.05f64
}

/// A cluster of points around a centre, so searches find some but not all.
fn cluster() -> impl Strategy<Value = ((f64, f64), Vec<(f64, f64)>)> {
    (lon(), lat()).prop_flat_map(|(x, y)| {
        let offsets = prop::collection::vec((-3.0..3.0f64, -3.0..3.0f64), 1..40);
        (Just((x, y)), offsets).prop_map(|((x, y), offs)| {
            let pts = offs
                .into_iter()
                .map(|(dx, dy)| (x + dx, y + dy))
                .filter(|(a, b)| (-180.0..=180.0).contains(a) && (-85.05..=85.05).contains(b))
                .collect();
            ((x, y), pts)
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_searches_match_redis(
        (center, points) in cluster(),
        radius_km in 0.0..500.0f64,
        box_km in (0.0..800.0f64, 0.0..800.0f64),
        count in 1..10usize,
    ) {
        with_pair(|p| {
            let mut add = vec!["GEOADD".to_string(), "pts".to_string()];
            for (i, (x, y)) in points.iter().enumerate() {
                add.extend([format!("{x:.6}"), format!("{y:.6}"), format!("p{i}")]);
            }
            p.same_owned(&add);
            let (cx, cy) = (format!("{:.6}", center.0), format!("{:.6}", center.1));
            let r = format!("{radius_km:.3}");
            let (w, h) = (format!("{:.3}", box_km.0), format!("{:.3}", box_km.1));
            let c = count.to_string();
            let last = format!("p{}", points.len().saturating_sub(1));
                        p.same(&["GEORADIUS", "pts", &cx, &cy, &r, "km", "WITHDIST", "WITHCOORD", "WITHHASH"]);
            p.same(&["GEORADIUS", "pts", &cx, &cy, &r, "km", "WITHDIST", "ASC"]);
            p.same(&["GEORADIUS", "pts", &cx, &cy, &r, "mi", "DESC", "COUNT", &c]);
            p.same(&["GEOSEARCH", "pts", "FROMLONLAT", &cx, &cy, "BYBOX", &w, &h, "km", "WITHDIST", "WITHCOORD"]);
            p.same(&["GEOSEARCH", "pts", "FROMLONLAT", &cx, &cy, "BYBOX", &w, &h, "km", "COUNT", &c, "ANY"]);
            p.same(&["GEOSEARCH", "pts", "FROMMEMBER", "p0", "BYRADIUS", &r, "km", "ASC", "WITHDIST", "COUNT", &c]);
            p.same(&["GEOSEARCHSTORE", "dst", "pts", "FROMMEMBER", "p0", "BYBOX", &w, &h, "ft", "STOREDIST"]);
            p.same(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]);
            p.same(&["GEODIST", "pts", "p0", &last, "km"]);
            p.same(&["GEOPOS", "pts", "p0", &last]);
            p.same(&["GEOHASH", "pts", "p0", &last]);
        });
    }
}

/// A sorted set stored by GEORADIUS ... STORE or GEOSEARCHSTORE serves a client blocked on it (BZPOPMIN).
#[test]
fn store_serves_blocked_pops() {
    for server in [Some(Server::start()), Server::start_redis()]
        .into_iter()
        .flatten()
    {
        let mut c = server.client();
        let args: Vec<&str> = SICILY.split_whitespace().collect();
        assert_eq!(c.cmd(&args), ":2\r\n");
        for store in [
            "GEORADIUS Sicily 15 37 200 km STOREDIST dst",
            "GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST",
        ] {
            let mut waiter = server.blocked_client(&["BZPOPMIN", "dst", "0"]);
            let store: Vec<&str> = store.split_whitespace().collect();
            assert_eq!(c.cmd(&store), ":2\r\n");
            assert_eq!(
                waiter.read_reply(),
                "*3\r\n$3\r\ndst\r\n$7\r\nCatania\r\n$18\r\n56.441257870158204\r\n"
            );
            assert_eq!(c.cmd(&["ZCARD", "dst"]), ":1\r\n");
            assert_eq!(c.cmd(&["DEL", "dst"]), ":1\r\n");
        }
    }
}
