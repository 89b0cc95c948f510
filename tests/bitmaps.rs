//! Bitmap commands (SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO): every option and error,
//! byte for byte against redis-server, plus the limits and side effects that need their own setup.

mod bits_support;
mod common;

use bits_support::{assert_watch_effects, events_of};
use common::{assert_same_as_redis, Server};

#[test]
fn setbit_and_getbit_match_redis() {
    assert_same_as_redis(&[
        &["SETBIT", "k", "7", "1"],
        &["GET", "k"],
        &["SETBIT", "k", "7", "1"],
        &["SETBIT", "k", "7", "0"],
        &["SETBIT", "k", "100", "1"],
        &["STRLEN", "k"],
        &["GETBIT", "k", "100"],
        &["GETBIT", "k", "99"],
        &["GETBIT", "k", "100000"],
        &["GETBIT", "nokey", "3"],
        &["OBJECT", "ENCODING", "k"],
        &["SET", "n", "12"],
        &["OBJECT", "ENCODING", "n"],
        &["GETBIT", "n", "2"],
        &["GETBIT", "n", "3"],
        &["SETBIT", "n", "0", "0"],
        &["OBJECT", "ENCODING", "n"],
        &["SET", "short", "abc"],
        &["SETBIT", "short", "1", "1"],
        &["OBJECT", "ENCODING", "short"],
        &["SETBIT", "k", "-1", "1"],
        &["SETBIT", "k", "abc", "1"],
        &["SETBIT", "k", "4294967296", "1"],
        &["SETBIT", "k", "1", "2"],
        &["SETBIT", "k", "1", "-1"],
        &["SETBIT", "k", "1", "x"],
        &["SETBIT", "k", "x", "x"],
        &["GETBIT", "k", "-1"],
        &["GETBIT", "k", "4294967296"],
        &["GETBIT", "k", "1.5"],
        &["LPUSH", "l", "a"],
        &["SETBIT", "l", "1", "1"],
        &["SETBIT", "l", "-1", "1"],
        &["GETBIT", "l", "1"],
        &["GETBIT", "l", "-1"],
        &["SETBIT", "k", "1"],
        &["GETBIT", "k"],
        &["SETBIT", "k", "1", "1", "1"],
    ]);
}

#[test]
fn bitcount_matches_redis_for_ranges_and_units() {
    let mut cmds: Vec<Vec<&str>> = vec![
        vec!["SET", "s", "foobar"],
        vec!["SET", "e", ""],
        vec!["BITCOUNT", "s"],
        vec!["BITCOUNT", "nokey"],
        vec!["BITCOUNT", "nokey", "a", "b"],
        vec!["BITCOUNT", "e"],
        vec!["BITCOUNT", "e", "0", "-1", "BIT"],
        vec!["BITCOUNT", "s", "1"],
        vec!["BITCOUNT", "s", "1", "2", "BIT", "x"],
        vec!["BITCOUNT", "s", "a", "1"],
        vec!["BITCOUNT", "s", "1", "a"],
        vec!["BITCOUNT", "s", "0", "1", "bits"],
        vec!["BITCOUNT", "s", "-1", "-2", "bits"],
        vec!["BITCOUNT", "s", "0", "99999999999999999999"],
        vec!["LPUSH", "l", "a"],
        vec!["BITCOUNT", "l"],
        vec!["BITCOUNT", "l", "x", "y"],
        vec!["BITCOUNT"],
    ];
    let ranges = [
        "0", "1", "2", "5", "6", "7", "8", "9", "15", "16", "47", "48", "100", "-1", "-2", "-7",
        "-8", "-9", "-48", "-100",
    ];
    for a in ranges {
        for b in ranges {
            cmds.push(vec!["BITCOUNT", "s", a, b]);
            cmds.push(vec!["BITCOUNT", "s", a, b, "BIT"]);
            cmds.push(vec!["BITCOUNT", "s", a, b, "byte"]);
        }
    }
    let refs: Vec<&[&str]> = cmds.iter().map(|c| c.as_slice()).collect();
    assert_same_as_redis(&refs);
}

#[test]
fn bitpos_matches_redis_for_ranges_and_units() {
    let mut cmds: Vec<Vec<&str>> = vec![
        vec![
            "BITFIELD", "s", "SET", "u16", "#0", "15", "SET", "u16", "#1", "65520", "SET", "u8",
            "#4", "0",
        ],
        vec!["SET", "ones", "\u{7f}\u{7f}"],
        vec!["SETBIT", "full", "15", "1"],
        vec!["BITOP", "NOT", "full", "full"],
        vec!["SET", "e", ""],
        vec!["BITPOS", "nokey", "0"],
        vec!["BITPOS", "nokey", "1"],
        vec!["BITPOS", "nokey", "2"],
        vec!["BITPOS", "nokey", "x"],
        vec!["BITPOS", "e", "0"],
        vec!["BITPOS", "e", "1"],
        vec!["BITPOS", "e", "0", "0", "-1", "BIT"],
        vec!["BITPOS", "full", "0"],
        vec!["BITPOS", "full", "0", "0"],
        vec!["BITPOS", "full", "0", "0", "-1"],
        vec!["BITPOS", "full", "1", "1", "-1", "BIT"],
        vec!["BITPOS", "s", "1", "0", "-1", "bit", "x"],
        vec!["BITPOS", "s", "1", "0", "-1", "bits"],
        vec!["BITPOS", "s", "1", "x"],
        vec!["BITPOS", "s", "1", "0", "x"],
        vec!["BITPOS", "s", "1", "0", "x", "nope"],
        vec!["LPUSH", "l", "a"],
        vec!["BITPOS", "l", "1"],
        vec!["BITPOS", "l", "3"],
        vec!["BITPOS", "s"],
    ];
    let ranges = [
        "0", "1", "2", "4", "7", "8", "12", "20", "39", "40", "100", "-1", "-2", "-9", "-40",
        "-100",
    ];
    for key in ["s", "ones"] {
        for bit in ["0", "1"] {
            cmds.push(vec!["BITPOS", key, bit]);
            for a in ranges {
                cmds.push(vec!["BITPOS", key, bit, a]);
                for b in ranges {
                    cmds.push(vec!["BITPOS", key, bit, a, b]);
                    cmds.push(vec!["BITPOS", key, bit, a, b, "BIT"]);
                    cmds.push(vec!["BITPOS", key, bit, a, b, "BYTE"]);
                }
            }
        }
    }
    let refs: Vec<&[&str]> = cmds.iter().map(|c| c.as_slice()).collect();
    assert_same_as_redis(&refs);
}

#[test]
fn bitop_matches_redis() {
    assert_same_as_redis(&[
        &["SET", "a", "foobar"],
        &["SET", "b", "abc"],
        &["SET", "n", "12345"],
        &["BITOP", "AND", "d", "a", "b"],
        &["GET", "d"],
        &["BITOP", "or", "d", "a", "b", "n"],
        &["GET", "d"],
        &["BITOP", "XOR", "d", "a", "b", "nokey"],
        &["GET", "d"],
        &["BITOP", "NOT", "d", "a"],
        &["GET", "d"],
        &["OBJECT", "ENCODING", "d"],
        &["BITOP", "AND", "d", "a", "nokey"],
        &["GET", "d"],
        &["BITOP", "NOT", "d", "a", "b"],
        &["BITOP", "NAND", "d", "a"],
        &["BITOP", "AND", "d"],
        &["EXPIRE", "d", "100"],
        &["BITOP", "OR", "d", "nokey", "nokey2"],
        &["EXISTS", "d"],
        &["BITOP", "OR", "d", "a"],
        &["TTL", "d"],
        &["LPUSH", "l", "x"],
        &["BITOP", "OR", "d", "a", "l"],
        &["BITOP", "OR", "l", "a"],
        &["TYPE", "l"],
        &["SET", "e", ""],
        &["BITOP", "OR", "d", "e"],
        &["EXISTS", "d"],
        &[
            "SET",
            "long1",
            "0123456789abcdefghijklmnopqrstuvwxyz0123456789",
        ],
        &[
            "SET",
            "long2",
            "zyxwvutsrqponmlkjihgfedcba9876543210zyxwvutsrqp",
        ],
        &["BITOP", "AND", "d", "long1", "long2"],
        &["GET", "d"],
        &["BITOP", "XOR", "d", "long1", "long2", "a"],
        &["GET", "d"],
    ]);
}

#[test]
fn bitfield_matches_redis() {
    assert_same_as_redis(&[
        &[
            "BITFIELD", "k", "SET", "i8", "0", "-100", "GET", "u4", "0", "GET", "i4", "#1",
        ],
        &[
            "BITFIELD", "k", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT", "INCRBY", "u2", "102",
            "1",
        ],
        &[
            "BITFIELD", "k", "OVERFLOW", "WRAP", "INCRBY", "u8", "#0", "200", "INCRBY", "u8", "#0",
            "200",
        ],
        &[
            "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "#0", "200", "GET", "u8", "#0",
        ],
        &[
            "BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i8", "8", "-1000", "INCRBY", "i8", "8",
            "1000",
        ],
        &[
            "BITFIELD",
            "k",
            "SET",
            "i64",
            "0",
            "-9223372036854775808",
            "INCRBY",
            "i64",
            "0",
            "-1",
        ],
        &[
            "BITFIELD",
            "k",
            "OVERFLOW",
            "SAT",
            "SET",
            "i64",
            "0",
            "9223372036854775807",
            "INCRBY",
            "i64",
            "0",
            "1",
        ],
        &[
            "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i64", "0", "1", "INCRBY", "i64", "0",
            "-1",
        ],
        &[
            "BITFIELD",
            "k",
            "SET",
            "u63",
            "3",
            "9223372036854775807",
            "GET",
            "u63",
            "3",
            "GET",
            "i64",
            "2",
        ],
        &[
            "BITFIELD", "k", "SET", "u8", "0", "-1", "OVERFLOW", "SAT", "SET", "u8", "8", "-1",
            "SET", "i4", "16", "100",
        ],
        &[
            "BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u8", "0", "256", "SET", "i8", "0", "-129",
            "GET", "u16", "0",
        ],
        // Redis's range checks wrap for values near i64's ends: this SET saturates to the maximum.
        &[
            "BITFIELD",
            "k",
            "OVERFLOW",
            "SAT",
            "SET",
            "i8",
            "0",
            "-9223372036854775808",
            "GET",
            "i8",
            "0",
        ],
        &[
            "BITFIELD",
            "k",
            "OVERFLOW",
            "WRAP",
            "SET",
            "i8",
            "0",
            "-9223372036854775807",
            "GET",
            "i8",
            "0",
        ],
        &[
            "BITFIELD",
            "k",
            "OVERFLOW",
            "SAT",
            "INCRBY",
            "i8",
            "0",
            "9223372036854775807",
        ],
        &[
            "BITFIELD",
            "k",
            "OVERFLOW",
            "SAT",
            "INCRBY",
            "i8",
            "0",
            "-9223372036854775808",
        ],
        &[
            "BITFIELD",
            "k",
            "OVERFLOW",
            "SAT",
            "SET",
            "i8",
            "0",
            "0",
            "INCRBY",
            "i8",
            "0",
            "-9223372036854775808",
        ],
        &[
            "BITFIELD",
            "k",
            "OVERFLOW",
            "SAT",
            "SET",
            "u8",
            "0",
            "-9223372036854775808",
            "INCRBY",
            "u8",
            "0",
            "-9223372036854775808",
        ],
        &["GET", "k"],
        &["OBJECT", "ENCODING", "k"],
        &["BITFIELD", "k"],
        &["BITFIELD", "k", "OVERFLOW", "SAT"],
        &["BITFIELD", "nokey", "GET", "u8", "0"],
        &["EXISTS", "nokey"],
        &["BITFIELD", "k", "GET", "u64", "0"],
        &["BITFIELD", "k", "GET", "i65", "0"],
        &["BITFIELD", "k", "GET", "i0", "0"],
        &["BITFIELD", "k", "GET", "x8", "0"],
        &["BITFIELD", "k", "GET", "i08", "0"],
        &["BITFIELD", "k", "GET", "", "0"],
        &["BITFIELD", "k", "GET", "u8", "-1"],
        &["BITFIELD", "k", "GET", "u8", "#-1"],
        &["BITFIELD", "k", "GET", "u8", "4294967296"],
        &["BITFIELD", "k", "GET", "u8", "#536870912"],
        &["BITFIELD", "k", "GET", "u8", "#1152921504606846976"],
        &[
            "BITFIELD",
            "k",
            "GET",
            "u8",
            "#2305843009213693952",
            "GET",
            "i64",
            "#288230376151711745",
        ],
        &["BITFIELD", "k", "GET", "u8", "x"],
        &["BITFIELD", "k", "SET", "u8", "0", "x"],
        &["BITFIELD", "k", "INCRBY", "u8", "0", "1.5"],
        &["BITFIELD", "k", "SET", "u8", "0"],
        &["BITFIELD", "k", "GET", "u8"],
        &["BITFIELD", "k", "OVERFLOW"],
        &["BITFIELD", "k", "OVERFLOW", "BAD", "GET", "u8", "0"],
        &["BITFIELD", "k", "BAD", "u8", "0"],
        &[
            "BITFIELD", "k", "GET", "u8", "0", "SET", "u8", "0", "1", "BAD",
        ],
        &["BITFIELD", "k", "SET", "u8", "0", "7", "GET", "i8", "x"],
        &["GET", "k"],
        &["BITFIELD_RO", "k", "GET", "u8", "0", "GET", "i16", "#1"],
        &["BITFIELD_RO", "k", "SET", "u8", "0", "1"],
        &["BITFIELD_RO", "k", "INCRBY", "u8", "0", "1"],
        &["BITFIELD_RO", "k", "OVERFLOW", "SAT"],
        &["BITFIELD_RO", "k", "GET", "u8", "x"],
        &["BITFIELD_RO", "k"],
        &["LPUSH", "l", "a"],
        &["BITFIELD", "l", "GET", "u8", "0"],
        &["BITFIELD", "l", "SET", "u8", "0", "1"],
        &["BITFIELD_RO", "l", "GET", "u8", "0"],
        &["BITFIELD_RO", "l", "SET", "u8", "0", "1"],
        &["BITFIELD"],
        &["BITFIELD_RO"],
        &["SET", "n", "1234"],
        &["BITFIELD", "n", "GET", "u32", "0"],
        &["OBJECT", "ENCODING", "n"],
        &["BITFIELD", "n", "SET", "u8", "0", "50"],
        &["OBJECT", "ENCODING", "n"],
        &["GET", "n"],
    ]);
}

#[test]
fn offsets_are_limited_by_proto_max_bulk_len() {
    assert_same_as_redis(&[
        &["CONFIG", "SET", "proto-max-bulk-len", "1000000"],
        &["SETBIT", "k", "7999999", "1"],
        &["STRLEN", "k"],
        &["SETBIT", "k", "8000000", "1"],
        &["GETBIT", "k", "8000000"],
        &["BITFIELD", "k", "GET", "u8", "7999999"],
        &["BITFIELD", "k", "SET", "u8", "7999999", "255"],
        &["STRLEN", "k"],
        &["BITFIELD", "k", "SET", "u8", "#1000000", "1"],
    ]);
}

#[test]
fn setbit_at_a_high_offset_grows_once_and_is_fast() {
    let server = Server::start();
    let mut c = server.client();
    let start = std::time::Instant::now();
    // Zero-filled in one allocation: the pages of a 512 MB string are not even touched.
    assert_eq!(c.cmd(&["SETBIT", "big", "4294967295", "1"]), ":0\r\n");
    assert_eq!(c.cmd(&["STRLEN", "big"]), ":536870912\r\n");
    assert_eq!(c.cmd(&["GETBIT", "big", "4294967295"]), ":1\r\n");
    assert_eq!(
        c.cmd(&["SETBIT", "big", "4294967296", "1"]),
        "-ERR bit offset is not an integer or out of range\r\n"
    );
    assert_eq!(c.cmd(&["DEL", "big"]), ":1\r\n");
    assert_eq!(c.cmd(&["SETBIT", "mid", "67108863", "1"]), ":0\r\n");
    assert_eq!(c.cmd(&["BITCOUNT", "mid"]), ":1\r\n");
    assert_eq!(c.cmd(&["BITPOS", "mid", "1"]), ":67108863\r\n");
    assert_eq!(
        c.cmd(&["BITPOS", "mid", "1", "1", "-1", "BIT"]),
        ":67108863\r\n"
    );
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}

#[test]
fn writes_notify_and_invalidate_watch_as_redis() {
    let server = Server::start();
    let mut c = server.client();
    let events = events_of(
        &server,
        &mut c,
        &[
            &["SETBIT", "k", "3", "1"],
            &["SETBIT", "k", "3", "1"], // unchanged: no event
            &["BITFIELD", "k", "SET", "u8", "0", "16"], // unchanged: no event
            &["BITFIELD", "k", "INCRBY", "u8", "0", "1"],
            &[
                "BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "1000",
            ], // refused: no event
            &["BITOP", "OR", "d", "k"],
            &["BITOP", "OR", "d", "nokey"],
            &["BITOP", "OR", "d", "nokey"], // nothing to delete: no event
        ],
    );
    assert_eq!(events, ["setbit k", "setbit k", "set d", "del d"]);
    assert_watch_effects(
        &server,
        &mut c,
        "k",
        &[
            (&["SETBIT", "k", "3", "1"], false),
            (&["BITFIELD", "k", "GET", "u8", "0"], false),
            (&["SETBIT", "k", "4", "1"], true),
            (&["BITFIELD", "k", "INCRBY", "u8", "0", "1"], true),
            (&["BITOP", "NOT", "k", "k"], true),
        ],
    );
}

#[test]
fn command_info_describes_the_bitmap_commands() {
    assert_same_as_redis(&[
        &[
            "COMMAND",
            "INFO",
            "getbit",
            "bitcount",
            "bitpos",
            "bitfield_ro",
        ],
        &["COMMAND", "GETKEYS", "BITOP", "AND", "d", "a", "b"],
    ]);
}
