//! Stream consumer groups: XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM and XINFO against the real
//! redis-server, and delivery counts and pending lists across them.

mod common;
mod stream_support;

use common::Server;
use stream_support::*;
#[test]
fn xgroup_matches_redis() {
    same(
        "xgroup create g1 grp $
         xgroup create g1 grp $ mkstream
         xgroup create g1 grp $ mkstream
         xgroup create g1 grp2 0 entriesread 5
         xgroup create g1 grp3 0 entriesread -2
         xgroup create g1 grp3 0 entriesread x
         xgroup create g1 grp3 0 foo
         xgroup create g1 grp3 abc
         xgroup create g1 grp3 -
         xgroup create g1 grp3 0 mkstream entriesread 1 foo
         xgroup create g1 grp3
         xgroup
         xgroup foo
         xgroup foo a b c
         xgroup setid g1 nogrp 0
         xgroup setid nokey nogrp 0
         xgroup setid g1 grp 0 mkstream
         xgroup setid g1 grp 0 entriesread 3
         xgroup setid g1 grp -
         xgroup setid g1 grp +
         xgroup setid g1 grp abc
         xgroup destroy g1 nogrp
         xgroup destroy g1 grp2
         xgroup destroy g1 grp2 x
         xgroup destroy nokey grp2
         xgroup createconsumer g1 grp c1
         xgroup createconsumer g1 grp c1
         xgroup createconsumer g1 nogrp c1
         xgroup createconsumer nokey nogrp c1
         xgroup delconsumer g1 grp nobody
         xgroup delconsumer g1 grp c1
         xgroup delconsumer g1 nogrp c1
         xgroup help
         xgroup help x
         xgroup create g1 zgrp 5-5 entriesread 3
         xgroup create g1 agrp 0
         xinfo groups g1",
    );
}

#[test]
fn xreadgroup_xack_xpending_match_redis() {
    same(
        "xadd g1 1-1 a 1
         xadd g1 1-2 a 2
         xadd g1 1-3 a 3
         xadd g1 1-4 a 4
         xadd g1 1-5 a 5
         xgroup create g1 grp 0
         xinfo groups g1
         xreadgroup group grp alice count 2 streams g1 >
         xinfo groups g1
         xreadgroup group grp bob streams g1 >
         xreadgroup group grp bob streams g1 >
         xreadgroup group grp bob block 10 streams g1 >
         xinfo groups g1
         xreadgroup group grp alice streams g1 0
         xreadgroup group grp alice streams g1 1-1
         xreadgroup group grp alice count 1 streams g1 0
         xreadgroup group grp nobody streams g1 0
         xpending g1 grp
         xpending g1 grp - + 0
         xpending g1 grp - + 10 nobody
         xpending g1 grp - + x
         xpending g1 grp idle x - + 10
         xpending g1 grp idle 10 - +
         xpending g1 grp foo
         xpending g1 grp - +
         xpending g1 nogrp
         xpending nokey grp
         xpending g1 grp abc + 10
         xpending g1 grp (- + 10
         xpending g1 grp - (0-0 10
         xpending g1 grp idle 100000000 - + 10
         xack g1 grp 1-1 1-9 1-2
         xack g1 grp 1-1
         xack g1 nogrp 1-1
         xack nokey grp 1-1
         xack g1 grp abc
         xack g1 grp 1-3 abc
         xpending g1 grp
         xdel g1 1-3
         xreadgroup group grp bob streams g1 0
         xinfo groups g1
         xinfo consumers g1 nogrp
         xinfo consumers nokey grp
         xreadgroup group grp alice streams g1 $
         xreadgroup group grp alice streams g1
         xreadgroup group grp alice streams g1 > >
         xreadgroup streams g1 >
         xreadgroup group grp alice noack foo streams g1 >
         xreadgroup group nogrp alice streams g1 >
         xreadgroup group grp alice streams nokey >
         xreadgroup group grp alice streams g1 abc
         xadd g1 2-1 z 1
         xadd g1 2-2 z 2
         xreadgroup group grp carol noack streams g1 >
         xpending g1 grp
         xinfo groups g1
         xgroup createconsumer g1 grp dave
         xgroup delconsumer g1 grp bob
         xpending g1 grp
         xgroup destroy g1 grp
         xinfo groups g1
         xreadgroup group grp alice streams g1 0",
    );
}

#[test]
fn xclaim_and_xautoclaim_match_redis() {
    same(
        "xadd c 1-1 a 1
         xadd c 1-2 a 2
         xadd c 1-3 a 3
         xadd c 1-4 a 4
         xadd c 1-5 a 5
         xgroup create c g 0
         xreadgroup group g alice streams c >
         xclaim c g bob 0 1-1 1-2 1-9
         xpending c g
         xclaim c g bob 0 1-3 justid
         xclaim c g bob 0 1-3 justid retrycount 7
         xclaim c g bob 0 1-4 time 1000 retrycount 2
         xclaim c g bob 0 1-6 force
         xclaim c g bob 0 1-5 1-6 force justid lastid 1-9
         xinfo groups c
         xclaim c g bob 1000000 1-1
         xclaim c g bob x 1-1
         xclaim c g bob -5 1-1 justid
         xclaim c g bob 0 1-1 idle x
         xclaim c g bob 0 1-1 time x
         xclaim c g bob 0 1-1 retrycount x
         xclaim c g bob 0 1-1 lastid x
         xclaim c g bob 0 1-1 foo
         xclaim c g bob 0 1-1 idle
         xclaim c g bob 0 foo
         xclaim c nog bob 0 1-1
         xclaim nokey g bob 0 1-1
         xdel c 1-2
         xclaim c g carol 0 1-2 1-1 justid
         xpending c g
         xadd c 1-6 a 6
         xadd c 1-7 a 7
         xgroup setid c g 1-5
         xreadgroup group g dave streams c >
         xdel c 1-6
         xautoclaim c g erin 0 0 count 2
         xautoclaim c g erin 0 0 count 2 justid
         xautoclaim c g erin 0 (1-5 justid
         xautoclaim c g erin 0 0-0 count 100
         xautoclaim c g erin 0 - count 1
         xautoclaim c g erin 10000000 - count 1
         xautoclaim c g erin 10000000 - count 3
         xautoclaim c g erin 0 - count 0
         xautoclaim c g erin 0 - count x
         xautoclaim c g erin 0 - foo
         xautoclaim c g erin x -
         xautoclaim c g erin 0 x
         xautoclaim c nog erin 0 0
         xautoclaim nokey g erin 0 0
         xautoclaim c g erin 0 (18446744073709551615-18446744073709551615
         xpending c g
         xgroup delconsumer c g erin
         xpending c g
         xinfo groups c",
    );
}

#[test]
fn lag_and_entries_read_match_redis() {
    same(
        "xadd l 1-1 a 1
         xadd l 1-2 a 2
         xadd l 1-3 a 3
         xgroup create l g 0
         xgroup create l dollar $
         xgroup create l mid 1-2
         xinfo groups l
         xreadgroup group g c count 1 streams l >
         xinfo groups l
         xdel l 1-2
         xinfo groups l
         xreadgroup group g c streams l >
         xinfo groups l
         xadd l 1-4 a 4
         xinfo groups l
         xsetid l 1-9 maxdeletedid 1-5 entriesadded 10
         xinfo groups l
         xgroup setid l g 0 entriesread 0
         xinfo groups l
         xgroup setid l g $
         xinfo groups l
         xtrim l maxlen 0
         xinfo groups l
         xinfo stream l
         xgroup create empty g $ mkstream
         xinfo groups empty
         xinfo stream empty",
    );
}

#[test]
fn xinfo_matches_redis() {
    same(
        "xinfo stream nokey
         xinfo groups nokey
         xinfo consumers nokey g
         xadd i 1-1 f v
         xadd i 2-1 f v g w
         xinfo stream i
         xinfo stream i full
         xinfo stream i full count 1
         xinfo stream i full count 0
         xinfo stream i full count -5
         xinfo stream i full count x
         xinfo stream i foo
         xinfo stream i full count
         xinfo stream i full cnt 5
         xinfo stream i full count 1 x
         xinfo help
         xinfo help x
         xinfo
         xinfo foo
         xinfo groups
         xinfo consumers i
         xgroup create i g 0
         xgroup create i a $
         xinfo groups i
         xinfo stream i
         xreadgroup group g c streams i >
         type i
         object encoding i
         copy i i2
         xinfo stream i2
         xinfo groups i2
         xpending i2 g
         xadd i2 3-3 c d
         xlen i
         xlen i2",
    );
}

#[test]
fn group_edge_cases_match_redis() {
    same(
        "xgroup create e g $ mkstream
         xreadgroup group g c streams e >
         xreadgroup group g c streams e 0
         xreadgroup group g c count 0 streams e 0
         xadd e 1-1 a b
         xadd e 1-2 a b
         xreadgroup group g c count 0 streams e >
         xreadgroup group g c count 0 streams e 0
         xclaim e g d 0 1-1 1-1 justid
         xclaim e g d 0 1-1 1-2 retrycount -3
         xclaim e g d 0 1-1 idle -5 justid
         xclaim e g d 0
         xclaim e g d 0 1-1 force force justid justid
         xgroup create e g2 0 entriesread 1
         xinfo groups e
         xreadgroup group g2 c streams e >
         xinfo groups e
         xgroup setid e g2 1-1 entriesread 1
         xinfo groups e
         xgroup setid e g2 1-1 entriesread -1
         xinfo groups e
         xadd e 1-3 a b
         xreadgroup group g2 c streams e e > >
         xreadgroup group g c noack streams e 0
         xread streams e e 0 1-2
         xinfo stream e
         xdel e 1-1 1-2 1-3
         xinfo stream e
         xinfo groups e
         xreadgroup group g c streams e 0
         xautoclaim e g z 0 0
         xautoclaim e g z 0 0
         xpending e g
         xadd e 2-1 a b
         xinfo groups e
         xtrim e maxlen 0
         xinfo stream e
         xinfo groups e
         xadd big 1-1 a b
         xgroup create big g 0
         xreadgroup group g c count 1 streams big >
         xsetid big 5-5 entriesadded 1
         xinfo groups big
         xsetid big 5-5 entriesadded 0",
    );
}

#[test]
fn duplicate_keys_and_trim_limits_match_redis() {
    same(
        "xadd s 1-1 a b
         xread streams s s 0 0
         xgroup create s g 0
         xreadgroup group g c streams s s > >
         xreadgroup group g c streams s s 0 0
         xadd s 1-2 a b
         xreadgroup group g c count 1 streams s s > >
         xinfo groups s
         xtrim s minid ~ 5 limit 1
         xtrim s minid ~ 5 limit 0
         xinfo stream s
         xadd s maxlen ~ 0 limit 0 5-5 c d
         xinfo stream s
         xadd s minid ~ 6 limit 10 6-6 c d
         xlen s
         xgroup create s g2 0 entriesread 0 entriesread 1
         xinfo groups s
         xclaim s g c 0 1-1 1-1 retrycount 5 justid
         xdel s 1-1 1-1
         xreadgroup group g c2 streams s 0",
    );
}

#[test]
fn delivery_counts_and_pending_lists_across_commands() {
    let s = Server::start();
    let mut c = s.client();
    run(
        &mut c,
        "XADD s 1-1 a 1
         XADD s 1-2 a 2
         XADD s 1-3 a 3
         XADD s 1-4 a 4
         XGROUP CREATE s g 0",
    );
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "3",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(
        pending(&mut c, "s", "g"),
        vec![
            p("1-1", "alice", 1),
            p("1-2", "alice", 1),
            p("1-3", "alice", 1)
        ]
    );
    // Re-reading history counts a delivery each time.
    c.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", "0"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        "0",
    ]);
    assert_eq!(
        pending(&mut c, "s", "g"),
        vec![
            p("1-1", "alice", 3),
            p("1-2", "alice", 2),
            p("1-3", "alice", 2)
        ]
    );
    // XCLAIM moves ownership and counts a delivery; JUSTID does not count; RETRYCOUNT sets.
    c.cmd(&["XCLAIM", "s", "g", "bob", "0", "1-1"]);
    c.cmd(&["XCLAIM", "s", "g", "bob", "0", "1-2", "JUSTID"]);
    c.cmd(&["XCLAIM", "s", "g", "bob", "0", "1-3", "RETRYCOUNT", "9"]);
    assert_eq!(
        pending(&mut c, "s", "g"),
        vec![p("1-1", "bob", 4), p("1-2", "bob", 2), p("1-3", "bob", 9)]
    );
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g"]),
        "*4\r\n:3\r\n$3\r\n1-1\r\n$3\r\n1-3\r\n*1\r\n*2\r\n$3\r\nbob\r\n$1\r\n3\r\n"
    );
    // A min-idle-time the entries have not reached claims nothing.
    assert_eq!(
        c.cmd(&["XCLAIM", "s", "g", "carol", "3600000", "1-1"]),
        "*0\r\n"
    );
    // XAUTOCLAIM takes them in id order and reports the cursor.
    assert_eq!(
        c.cmd(&[
            "XAUTOCLAIM",
            "s",
            "g",
            "carol",
            "0",
            "-",
            "COUNT",
            "2",
            "JUSTID"
        ]),
        "*3\r\n$3\r\n1-3\r\n*2\r\n$3\r\n1-1\r\n$3\r\n1-2\r\n*0\r\n"
    );
    c.cmd(&["XAUTOCLAIM", "s", "g", "carol", "0", "1-3"]);
    assert_eq!(
        pending(&mut c, "s", "g"),
        vec![
            p("1-1", "carol", 4),
            p("1-2", "carol", 2),
            p("1-3", "carol", 10)
        ]
    );
    // The fourth entry goes to dave; NOACK deliveries never enter the PEL.
    c.cmd(&["XREADGROUP", "GROUP", "g", "dave", "STREAMS", "s", ">"]);
    c.cmd(&["XADD", "s", "1-5", "a", "5"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "dave",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(pending(&mut c, "s", "g").len(), 4);
    // A deleted entry stays pending until a claim drops it and reports it.
    c.cmd(&["XDEL", "s", "1-2"]);
    assert_eq!(
        c.cmd(&["XREADGROUP", "GROUP", "g", "carol", "STREAMS", "s", "0"]),
        "*1\r\n*2\r\n$1\r\ns\r\n*3\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$3\r\n1-2\r\n*-1\r\n*2\r\n$3\r\n1-3\r\n*2\r\n$1\r\na\r\n$1\r\n3\r\n"
    );
    assert_eq!(
        c.cmd(&["XAUTOCLAIM", "s", "g", "erin", "0", "-", "JUSTID"]),
        "*3\r\n$3\r\n0-0\r\n*3\r\n$3\r\n1-1\r\n$3\r\n1-3\r\n$3\r\n1-4\r\n*1\r\n$3\r\n1-2\r\n"
    );
    assert_eq!(
        pending(&mut c, "s", "g"),
        vec![
            p("1-1", "erin", 5),
            p("1-3", "erin", 11),
            p("1-4", "erin", 1)
        ]
    );
    // XACK clears both the group's and the consumer's lists.
    assert_eq!(c.cmd(&["XACK", "s", "g", "1-1", "1-3", "1-2"]), ":2\r\n");
    assert_eq!(pending(&mut c, "s", "g"), vec![p("1-4", "erin", 1)]);
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g", "-", "+", "10", "carol"]),
        "*0\r\n"
    );
    assert_eq!(
        c.cmd(&["XGROUP", "DELCONSUMER", "s", "g", "erin"]),
        ":1\r\n"
    );
    assert_eq!(
        c.cmd(&["XPENDING", "s", "g"]),
        "*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n"
    );
}

#[test]
fn xpending_idle_filter_and_xclaim_idle() {
    let s = Server::start();
    let mut c = s.client();
    run(
        &mut c,
        "XADD s 1-1 a 1\nXADD s 1-2 a 2\nXGROUP CREATE s g 0",
    );
    c.cmd(&["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"]);
    // IDLE sets the delivery time in the past; the IDLE filter of XPENDING then sees it.
    c.cmd(&["XCLAIM", "s", "g", "b", "0", "1-1", "IDLE", "500000"]);
    let R::Arr(items) = parse(&c.cmd(&["XPENDING", "s", "g", "IDLE", "400000", "-", "+", "10"]))
    else {
        panic!()
    };
    assert_eq!(items.len(), 1);
    let R::Arr(f) = &items[0] else { panic!() };
    assert_eq!(f[0], R::Str("1-1".into()));
    assert_eq!(f[1], R::Str("b".into()));
    let R::Int(idle) = f[2] else { panic!() };
    assert!((500000..510000).contains(&idle), "idle {idle}");
    // XAUTOCLAIM with a min-idle only takes the old one.
    assert_eq!(
        c.cmd(&["XAUTOCLAIM", "s", "g", "c", "400000", "-", "JUSTID"]),
        "*3\r\n$3\r\n0-0\r\n*1\r\n$3\r\n1-1\r\n*0\r\n"
    );
    // TIME in the future is clamped to now: idle 0.
    c.cmd(&[
        "XCLAIM",
        "s",
        "g",
        "d",
        "0",
        "1-2",
        "TIME",
        "99999999999999",
    ]);
    let R::Arr(items) = parse(&c.cmd(&["XPENDING", "s", "g", "-", "+", "10", "d"])) else {
        panic!()
    };
    let R::Arr(f) = &items[0] else { panic!() };
    let R::Int(idle) = f[2] else { panic!() };
    assert!(idle < 1000, "idle {idle}");
}
