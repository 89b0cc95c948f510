//! String commands: every option and error, compared byte for byte with redis-server where the sequence is
//! deterministic, with exact expected replies where it depends on time.

mod common;

use common::{assert_same_as_redis, Server};

#[test]
fn get_set_and_options_match_redis() {
    assert_same_as_redis(&[
        &["GET", "k"],
        &["SET", "k", "v"],
        &["GET", "k"],
        &["SET", "k", "v2", "NX"],
        &["SET", "k", "v2", "XX"],
        &["SET", "nokey", "v", "XX"],
        &["GET", "nokey"],
        &["SET", "k", "v3", "GET"],
        &["SET", "new", "v", "GET"],
        &["SET", "k", "v4", "NX", "GET"],
        &["SET", "absent", "v", "XX", "GET"],
        &["GET", "absent"],
        &["SET", "k", "v", "NX", "XX"],
        &["SET", "k", "v", "XX", "NX"],
        &["SET", "k", "v", "nx", "nx"],
        &["SET", "k", "v", "EX", "10", "PX", "100"],
        &["SET", "k", "v", "EX", "10", "EX", "20"],
        &["TTL", "k"],
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k", "v", "KEEPTTL", "EX", "10"],
        &["SET", "k", "v", "KEEPTTL"],
        &["TTL", "k"],
        &["SET", "k", "v"],
        &["TTL", "k"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "EX", "abc"],
        &["SET", "k", "v", "EX", "abc", "NX", "XX"],
        &["SET", "k", "v", "EX", "0"],
        &["SET", "k", "v", "EX", "-5"],
        &["SET", "k", "v", "PX", "0"],
        &["SET", "k", "v", "EXAT", "0"],
        &["SET", "k", "v", "PXAT", "-1"],
        &["SET", "k", "v", "EX", "9223372036854775807"],
        &["SET", "k", "v", "PX", "9223372036854775807"],
        &["SET", "k", "v", "EX", "9223372036854775"],
        &["SET", "k", "v", "EXAT", "9223372036854775"],
        &["SET", "k", "v", "EXAT", "9223372036854776"],
        &["SET", "k", "v", "PERSIST"],
        &["SET", "k", "v", "FOO"],
        &["SET", "k"],
        &["GET"],
        &["GET", "a", "b"],
        &["SET", "list", "v", "GET"],
        &["SET", "list", "v", "NX"],
        &["SET", "list", "v"],
        &["SET", "k", "v", "PXAT", "1"],
        &["GET", "k"],
        &["EXISTS", "k"],
    ]);
}

#[test]
fn set_with_expiry_sets_ttl() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(c.cmd(&["SET", "k", "v", "EX", "100"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v2", "KEEPTTL"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":100\r\n");
    assert_eq!(
        c.cmd(&["SET", "k", "v3", "PX", "50000", "GET"]),
        "$2\r\nv2\r\n"
    );
    assert_eq!(c.cmd(&["TTL", "k"]), ":50\r\n");
    assert_eq!(c.cmd(&["SET", "k", "v3", "EXAT", "32000000000"]), "+OK\r\n");
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), ":32000000000\r\n");
    assert_eq!(
        c.cmd(&["SET", "k", "v3", "PXAT", "32000000000123"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), ":32000000000123\r\n");
    assert_eq!(c.cmd(&["SETEX", "k", "30", "x"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":30\r\n");
    assert_eq!(c.cmd(&["PSETEX", "k", "20000", "x"]), "+OK\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":20\r\n");
    assert_eq!(c.cmd(&["GETSET", "k", "y"]), "$1\r\nx\r\n");
    assert_eq!(c.cmd(&["TTL", "k"]), ":-1\r\n");
    assert_eq!(c.cmd(&["PSETEX", "k", "30", "x"]), "+OK\r\n");
    std::thread::sleep(std::time::Duration::from_millis(60));
    assert_eq!(c.cmd(&["GET", "k"]), "$-1\r\n");
}

#[test]
fn setnx_setex_psetex_getset_match_redis() {
    assert_same_as_redis(&[
        &["SETNX", "k", "a"],
        &["SETNX", "k", "b"],
        &["GET", "k"],
        &["SETNX", "k"],
        &["SETEX", "k", "0", "v"],
        &["SETEX", "k", "-1", "v"],
        &["SETEX", "k", "x", "v"],
        &["SETEX", "k", "9223372036854775807", "v"],
        &["SETEX", "k", "100", "v"],
        &["TTL", "k"],
        &["SETEX", "k", "100"],
        &["PSETEX", "k", "0", "v"],
        &["PSETEX", "k", "1.5", "v"],
        &["PSETEX", "k", "100000", "v"],
        &["TTL", "k"],
        &["GETSET", "k", "new"],
        &["TTL", "k"],
        &["GETSET", "missing", "x"],
        &["GET", "missing"],
    ]);
}

#[test]
fn getex_getdel_match_redis() {
    assert_same_as_redis(&[
        &["GETEX", "missing"],
        &["GETEX", "missing", "EX", "10"],
        &["SET", "k", "v"],
        &["GETEX", "k"],
        &["GETEX", "k", "EX", "100"],
        &["TTL", "k"],
        &["GETEX", "k", "PX", "200000"],
        &["TTL", "k"],
        &["GETEX", "k", "EXAT", "32000000000"],
        &["EXPIRETIME", "k"],
        &["GETEX", "k", "PXAT", "32000000001000"],
        &["EXPIRETIME", "k"],
        &["GETEX", "k", "PERSIST"],
        &["TTL", "k"],
        &["GETEX", "k", "PERSIST", "EX", "10"],
        &["GETEX", "k", "EX", "10", "PERSIST"],
        &["GETEX", "k", "EX", "10", "PX", "10"],
        &["GETEX", "k", "EX", "10", "EX", "20"],
        &["TTL", "k"],
        &["GETEX", "k", "KEEPTTL"],
        &["GETEX", "k", "NX"],
        &["GETEX", "k", "GET"],
        &["GETEX", "k", "EX"],
        &["GETEX", "k", "EX", "0"],
        &["GETEX", "k", "EX", "x"],
        &["GETEX", "missing", "EX", "x"],
        &["GETEX", "k", "EXAT", "1"],
        &["EXISTS", "k"],
        &["GETEX"],
        &["SET", "k", "v"],
        &["GETDEL", "k"],
        &["GETDEL", "k"],
        &["EXISTS", "k"],
        &["GETDEL"],
    ]);
}

#[test]
fn mget_mset_msetnx_match_redis() {
    assert_same_as_redis(&[
        &["MSET", "a", "1", "b", "2"],
        &["MGET", "a", "b", "c"],
        &["MSET", "a", "1", "b"],
        &["MSET", "a"],
        &["MSETNX", "a", "x", "z", "y"],
        &["MGET", "a", "z"],
        &["MSETNX", "x", "1", "y", "2"],
        &["MSETNX", "x", "1", "y"],
        &["MSET", "a", "first", "a", "second"],
        &["GET", "a"],
        &["MSETNX", "n", "first", "n", "second"],
        &["GET", "n"],
        &["MSET", "s", "now-a-string"],
        &["MGET"],
        &["SET", "t", "v", "EX", "100"],
        &["MSET", "t", "w"],
        &["TTL", "t"],
    ]);
}

#[test]
fn incr_family_matches_redis() {
    assert_same_as_redis(&[
        &["INCR", "n"],
        &["INCR", "n"],
        &["DECR", "n"],
        &["DECR", "m"],
        &["INCRBY", "n", "10"],
        &["INCRBY", "n", "-20"],
        &["DECRBY", "n", "5"],
        &["DECRBY", "n", "-5"],
        &["INCRBY", "n", "x"],
        &["INCRBY", "n", "1.5"],
        &["INCRBY", "n", " 1"],
        &["INCRBY", "n", "+1"],
        &["INCRBY", "n", "9223372036854775808"],
        &["DECRBY", "n", "-9223372036854775808"],
        &["DECRBY", "n", "9223372036854775807"],
        &["DECRBY", "n", "9223372036854775807"],
        &["SET", "big", "9223372036854775807"],
        &["INCR", "big"],
        &["INCRBY", "big", "0"],
        &["SET", "small", "-9223372036854775808"],
        &["DECR", "small"],
        &["INCRBY", "small", "-1"],
        &["SET", "s", "abc"],
        &["INCR", "s"],
        &["SET", "s", " 12"],
        &["INCR", "s"],
        &["SET", "s", "012"],
        &["INCR", "s"],
        &["SET", "s", "12 "],
        &["DECR", "s"],
        &["SET", "s", ""],
        &["INCR", "s"],
        &["SET", "s", "-0"],
        &["INCR", "s"],
        &["SET", "s", "1e3"],
        &["INCR", "s"],
        &["SET", "t", "5", "EX", "100"],
        &["INCR", "t"],
        &["TTL", "t"],
        &["INCR"],
        &["INCRBY", "n"],
        &["DECRBY", "n", "1", "2"],
    ]);
}

#[test]
fn incrbyfloat_matches_redis() {
    assert_same_as_redis(&[
        &["INCRBYFLOAT", "f", "10.5"],
        &["INCRBYFLOAT", "f", "0.1"],
        &["INCRBYFLOAT", "f", "-5"],
        &["INCRBYFLOAT", "f", "5.0e3"],
        &["INCRBYFLOAT", "f", "2.0e2"],
        &["INCRBYFLOAT", "f", "1.23456789012345678901"],
        &["INCRBYFLOAT", "f", "-10000"],
        &["INCRBYFLOAT", "f", "abc"],
        &["INCRBYFLOAT", "f", ""],
        &["INCRBYFLOAT", "f", " 1"],
        &["INCRBYFLOAT", "f", "nan"],
        &["INCRBYFLOAT", "f", "inf"],
        &["INCRBYFLOAT", "f", "-inf"],
        &["INCRBYFLOAT", "f", "1e400"],
        &["GET", "f"],
        &["SET", "i", "3"],
        &["INCRBYFLOAT", "i", "0"],
        &["INCRBYFLOAT", "i", "1.5"],
        &["INCR", "i"],
        &["SET", "s", "x"],
        &["INCRBYFLOAT", "s", "1"],
        &["SET", "s", "1.5 "],
        &["INCRBYFLOAT", "s", "1"],
        &["SET", "s", "0x10"],
        &["INCRBYFLOAT", "s", "1"],
        &["SET", "s", "1.7976931348623157e308"],
        &["INCRBYFLOAT", "s", "1.7976931348623157e308"],
        &["SET", "t", "1", "EX", "100"],
        &["INCRBYFLOAT", "t", "1.1"],
        &["TTL", "t"],
        &["INCRBYFLOAT", "f"],
    ]);
}

#[test]
fn append_strlen_getrange_setrange_match_redis() {
    assert_same_as_redis(&[
        &["APPEND", "k", "Hello"],
        &["APPEND", "k", " World"],
        &["APPEND", "k", ""],
        &["GET", "k"],
        &["STRLEN", "k"],
        &["STRLEN", "missing"],
        &["GETRANGE", "k", "0", "4"],
        &["GETRANGE", "k", "-5", "-1"],
        &["GETRANGE", "k", "0", "-1"],
        &["GETRANGE", "k", "0", "-100"],
        &["GETRANGE", "k", "-100", "3"],
        &["GETRANGE", "k", "-1", "-5"],
        &["GETRANGE", "k", "5", "3"],
        &["GETRANGE", "k", "100", "200"],
        &["GETRANGE", "k", "3", "1000"],
        &["GETRANGE", "k", "x", "1"],
        &["GETRANGE", "k", "1", "x"],
        &["GETRANGE", "missing", "0", "-1"],
        &["GETRANGE", "missing", "x", "-1"],
        &["GETRANGE", "k", "0", "9223372036854775807"],
        &[
            "GETRANGE",
            "k",
            "-9223372036854775808",
            "-9223372036854775808",
        ],
        &["SUBSTR", "k", "1", "3"],
        &["SUBSTR", "k", "1"],
        &["SET", "e", ""],
        &["GETRANGE", "e", "0", "-1"],
        &["SETRANGE", "k", "6", "Redis"],
        &["GET", "k"],
        &["SETRANGE", "k", "20", "!"],
        &["GET", "k"],
        &["SETRANGE", "k", "0", ""],
        &["SETRANGE", "k", "-1", "x"],
        &["SETRANGE", "k", "x", "x"],
        &["SETRANGE", "new", "3", "abc"],
        &["GET", "new"],
        &["SETRANGE", "empty", "5", ""],
        &["EXISTS", "empty"],
        &["SETRANGE", "k", "536870911", ""],
        &["SETRANGE", "k", "536870912", "x"],
        &["SETRANGE", "absent", "536870912", "x"],
        &["SETRANGE", "absent", "9223372036854775807", "x"],
        &["EXISTS", "absent"],
        &["SET", "n", "123"],
        &["APPEND", "n", "4"],
        &["INCR", "n"],
        &["SETRANGE", "n", "0", "9"],
        &["GET", "n"],
        &["SET", "t", "abc", "EX", "100"],
        &["APPEND", "t", "d"],
        &["SETRANGE", "t", "0", "x"],
        &["TTL", "t"],
        &["GET", "t"],
    ]);
}

#[test]
fn lcs_matches_redis() {
    assert_same_as_redis(&[
        &["MSET", "key1", "ohmytext", "key2", "mynewtext"],
        &["LCS", "key1", "key2"],
        &["LCS", "key1", "key2", "LEN"],
        &["LCS", "key1", "key2", "IDX"],
        &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4"],
        &[
            "LCS",
            "key1",
            "key2",
            "IDX",
            "MINMATCHLEN",
            "4",
            "WITHMATCHLEN",
        ],
        &["LCS", "key1", "key2", "IDX", "WITHMATCHLEN"],
        &["LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-3"],
        &["LCS", "key1", "key2", "MINMATCHLEN", "x"],
        &["LCS", "key1", "key2", "MINMATCHLEN"],
        &["LCS", "key1", "key2", "IDX", "LEN"],
        &["LCS", "key1", "key2", "FOO"],
        &["LCS", "key1", "missing"],
        &["LCS", "missing", "missing2", "IDX"],
        &["LCS", "key1", "missing", "LEN"],
        &["MSET", "a", "rhubarbtart", "b", "rubarbtarts"],
        &["LCS", "a", "b"],
        &["LCS", "a", "b", "IDX", "WITHMATCHLEN"],
        &["LCS", "b", "a", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "2"],
        &["LCS", "a", "a", "IDX"],
        &["LCS", "key1"],
    ]);
}

#[test]
fn lcs_idx_is_a_map_in_resp3() {
    let s = Server::start();
    let mut c = s.client();
    assert!(c.cmd(&["HELLO", "3"]).starts_with("%7\r\n"));
    c.cmd(&["MSET", "a", "abcd", "b", "xbcy"]);
    assert_eq!(
        c.cmd(&["LCS", "a", "b", "IDX"]),
        "%2\r\n$7\r\nmatches\r\n*1\r\n*2\r\n*2\r\n:1\r\n:2\r\n*2\r\n:1\r\n:2\r\n$3\r\nlen\r\n:2\r\n"
    );
}

#[test]
fn lcs_refuses_a_table_beyond_proto_max_bulk_len() {
    let s = Server::start();
    let mut c = s.client();
    let big = "a".repeat(12_000);
    c.cmd(&["MSET", "a", &big, "b", &big]);
    assert_eq!(
        c.cmd(&["LCS", "a", "b", "LEN"]),
        "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len\r\n"
    );
}

#[test]
fn binary_safe_keys_and_values() {
    let s = Server::start();
    let mut c = s.client();
    let key: &[u8] = b"k\0\r\n\xff";
    let value: &[u8] = b"\0\x01\r\n$3\r\n\xfe";
    assert_eq!(c.cmd_bytes(&[b"SET", key, value]), b"+OK\r\n");
    let mut want = format!("${}\r\n", value.len()).into_bytes();
    want.extend_from_slice(value);
    want.extend_from_slice(b"\r\n");
    assert_eq!(c.cmd_bytes(&[b"GET", key]), want);
    assert_eq!(c.cmd_bytes(&[b"GET", b"k"]), b"$-1\r\n");
    assert_eq!(c.cmd_bytes(&[b"APPEND", key, b"\0"]), b":10\r\n");
    assert_eq!(
        c.cmd_bytes(&[b"GETRANGE", key, b"0", b"1"]),
        b"$2\r\n\0\x01\r\n"
    );
    assert_eq!(c.cmd_bytes(&[b"STRLEN", key]), b":10\r\n");
}

#[test]
fn concurrent_incr_is_exact() {
    let s = Server::start();
    let threads: Vec<_> = (0..20)
        .map(|_| {
            let mut c = s.client();
            std::thread::spawn(move || {
                for _ in 0..500 {
                    assert!(c.cmd(&["INCR", "counter"]).starts_with(':'));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.client().cmd(&["GET", "counter"]), "$5\r\n10000\r\n");
}

#[test]
fn wrong_type_errors_match_redis() {
    assert_same_as_redis(&[
        &["RPUSH", "l", "a"],
        &["GET", "l"],
        &["SET", "l", "v", "GET"],
        &["SET", "l", "v", "NX"],
        &["GETSET", "l", "x"],
        &["SETNX", "l", "x"],
        &["GETDEL", "l"],
        &["GETEX", "l"],
        &["GETEX", "l", "PERSIST"],
        &["MGET", "l", "nothing"],
        &["INCR", "l"],
        &["DECRBY", "l", "1"],
        &["INCRBYFLOAT", "l", "1"],
        &["APPEND", "l", "x"],
        &["STRLEN", "l"],
        &["GETRANGE", "l", "0", "1"],
        &["SETRANGE", "l", "0", "x"],
        &["SETRANGE", "l", "0", ""],
        &["SET", "s", "abc"],
        &["LCS", "s", "l"],
        &["LCS", "l", "missing"],
        &["TYPE", "l"],
        &["SETEX", "l", "10", "x"],
        &["TYPE", "l"],
        &["RPUSH", "l2", "a"],
        &["MSET", "l2", "now-a-string"],
        &["GET", "l2"],
    ]);
}

#[test]
fn strings_cannot_grow_beyond_proto_max_bulk_len() {
    let s = Server::start_with(&["--proto-max-bulk-len", "1mb"]);
    let mut c = s.client();
    let too_big = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
    let almost = "x".repeat((1 << 20) - 1);
    assert_eq!(c.cmd(&["SET", "k", &almost]), "+OK\r\n");
    assert_eq!(c.cmd(&["APPEND", "k", "y"]), ":1048576\r\n");
    assert_eq!(c.cmd(&["APPEND", "k", "z"]), too_big);
    assert_eq!(c.cmd(&["SETRANGE", "k", "1048575", "z"]), ":1048576\r\n");
    assert_eq!(c.cmd(&["SETRANGE", "k", "1048576", "z"]), too_big);
    assert_eq!(c.cmd(&["SETRANGE", "new", "1048575", "zz"]), too_big);
    assert_eq!(c.cmd(&["EXISTS", "new"]), ":0\r\n");
    assert_eq!(c.cmd(&["STRLEN", "k"]), ":1048576\r\n");
}

/// The same limit set at run time, against redis-server: the type check comes first, an empty SETRANGE value
/// is never too long, and an offset past any size fails without creating the key.
#[test]
fn proto_max_bulk_len_limit_matches_redis() {
    let almost = "x".repeat((1 << 20) - 2);
    assert_same_as_redis(&[
        &["CONFIG", "SET", "proto-max-bulk-len", "1mb"],
        &["SET", "k", &almost],
        &["APPEND", "k", "yy"],
        &["APPEND", "k", "z"],
        &["SETRANGE", "k", "1048575", "z"],
        &["SETRANGE", "k", "1048575", "zz"],
        &["SETRANGE", "k", "9223372036854775807", "z"],
        &["SETRANGE", "k", "9223372036854775807", ""],
        &["SETRANGE", "new", "1048576", ""],
        &["SETRANGE", "new", "1048576", "z"],
        &["EXISTS", "new"],
        &["RPUSH", "list", "a"],
        &["SETRANGE", "list", "1048576", "z"],
        &["APPEND", "list", &almost],
        &["STRLEN", "k"],
        &["CONFIG", "SET", "proto-max-bulk-len", "512mb"],
    ]);
}

/// MSET takes all its keys' locks at once: a concurrent MGET never sees half of it.
#[test]
fn mset_is_atomic_for_mget() {
    let s = Server::start();
    let mut writer = s.client();
    let mut reader = s.client();
    writer.cmd(&["MSET", "x", "0", "y", "0"]);
    let w = std::thread::spawn(move || {
        for i in 1..=2000 {
            let v = i.to_string();
            assert_eq!(writer.cmd(&["MSET", "x", &v, "y", &v]), "+OK\r\n");
        }
    });
    for _ in 0..2000 {
        let reply = reader.cmd(&["MGET", "x", "y"]);
        let parts: Vec<&str> = reply.split("\r\n").collect();
        assert_eq!(parts[2], parts[4], "torn MSET seen: {reply:?}");
    }
    w.join().unwrap();
}

#[test]
fn encodings_after_in_place_edits_match_redis() {
    assert_same_as_redis(&[
        &["SET", "n", "123"],
        &["OBJECT", "ENCODING", "n"],
        &["OBJECT", "REFCOUNT", "n"],
        &["APPEND", "n", "4"],
        &["OBJECT", "ENCODING", "n"],
        &["OBJECT", "REFCOUNT", "n"],
        &["INCR", "n"],
        &["OBJECT", "ENCODING", "n"],
        &["APPEND", "fresh", "42"],
        &["OBJECT", "ENCODING", "fresh"],
        &["SETRANGE", "fresh", "0", "7"],
        &["OBJECT", "ENCODING", "fresh"],
        &["SETRANGE", "new", "1", "x"],
        &["OBJECT", "ENCODING", "new"],
        &["SET", "f", "5.0e3"],
        &["INCRBYFLOAT", "f", "2.0e2"],
        &["OBJECT", "ENCODING", "f"],
        &[
            "INCRBYFLOAT",
            "f",
            "1000000000000000000000000000000000000000000000",
        ],
        &["OBJECT", "ENCODING", "f"],
        &["COPY", "fresh", "copy"],
        &["OBJECT", "ENCODING", "copy"],
        &["SET", "fresh", "42"],
        &["OBJECT", "ENCODING", "fresh"],
    ]);
}
