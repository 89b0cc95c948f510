//! The list commands, compared byte for byte with redis-server, plus exact replies where the comparison cannot
//! run (keyspace shapes, RESP3 kinds).
mod common;

use common::{assert_same_as_redis, Server};

#[test]
fn push_pop_and_length() {
    assert_same_as_redis(&[
        &["lpush", "l", "a", "b", "c"],
        &["rpush", "l", "x", "y"],
        &["lrange", "l", "0", "-1"],
        &["llen", "l"],
        &["llen", "nokey"],
        &["lpushx", "nokey", "a"],
        &["rpushx", "nokey", "a"],
        &["exists", "nokey"],
        &["lpushx", "l", "p", "q"],
        &["rpushx", "l", "r"],
        &["lpop", "l"],
        &["rpop", "l"],
        &["lpop", "l", "2"],
        &["rpop", "l", "2"],
        &["lpop", "l", "0"],
        &["lpop", "l", "100"],
        &["exists", "l"],
        &["lpop", "l"],
        &["rpop", "l", "3"],
        &["lpop", "nokey", "0"],
        &["lpop", "nokey", "1"],
        &["lpop", "l", "-1"],
        &["lpop", "l", "abc"],
        &["rpop", "l", "1", "2"],
        &["lpush", "l"],
        &["rpop"],
    ]);
}

#[test]
fn wrong_type_everywhere() {
    let mut cmds: Vec<&[&str]> = vec![&["set", "s", "x"]];
    let probes: &[&[&str]] = &[
        &["lpush", "s", "a"],
        &["rpush", "s", "a"],
        &["lpushx", "s", "a"],
        &["rpushx", "s", "a"],
        &["lpop", "s"],
        &["rpop", "s", "0"],
        &["llen", "s"],
        &["lrange", "s", "0", "1"],
        &["lindex", "s", "0"],
        &["lindex", "s", "abc"],
        &["lset", "s", "0", "a"],
        &["lset", "s", "x", "a"],
        &["linsert", "s", "before", "a", "b"],
        &["lrem", "s", "0", "a"],
        &["ltrim", "s", "0", "1"],
        &["lpos", "s", "a"],
        &["lmove", "s", "d", "left", "left"],
        &["rpoplpush", "s", "d"],
        &["lmpop", "1", "s", "left"],
        &["lmpop", "2", "nokey", "s", "left"],
        &["blpop", "s", "0"],
        &["blpop", "nokey", "s", "0"],
        &["brpop", "s", "0"],
        &["blmove", "s", "d", "left", "left", "0"],
        &["brpoplpush", "s", "d", "0"],
        &["blmpop", "0", "1", "s", "left"],
        &["rpush", "l", "a"],
        &["lmove", "l", "s", "left", "left"],
        &["rpoplpush", "l", "s"],
        &["blmove", "l", "s", "left", "left", "0"],
        &["lrange", "l", "0", "-1"],
    ];
    cmds.extend_from_slice(probes);
    assert_same_as_redis(&cmds);
}

#[test]
fn range_index_set() {
    assert_same_as_redis(&[
        &["rpush", "l", "a", "b", "c", "d", "e"],
        &["lrange", "l", "1", "3"],
        &["lrange", "l", "-3", "-1"],
        &["lrange", "l", "-100", "100"],
        &["lrange", "l", "3", "1"],
        &["lrange", "l", "5", "10"],
        &["lrange", "l", "-1", "-2"],
        &["lrange", "l", "a", "1"],
        &["lrange", "l", "0", "9223372036854775808"],
        &["lrange", "nokey", "0", "-1"],
        &["lindex", "l", "0"],
        &["lindex", "l", "-1"],
        &["lindex", "l", "5"],
        &["lindex", "l", "-6"],
        &["lindex", "l", "x"],
        &["lindex", "nokey", "x"],
        &["lset", "l", "0", "A"],
        &["lset", "l", "-1", "E"],
        &["lset", "l", "5", "z"],
        &["lset", "l", "-6", "z"],
        &["lset", "l", "x", "z"],
        &["lset", "nokey", "0", "z"],
        &["lrange", "l", "0", "-1"],
        &["lset", "l", "0"],
    ]);
}

#[test]
fn insert_remove_trim() {
    assert_same_as_redis(&[
        &["rpush", "l", "a", "b", "a", "c", "a", "b"],
        &["linsert", "l", "before", "b", "X"],
        &["linsert", "l", "AFTER", "b", "Y"],
        &["linsert", "l", "after", "zz", "Y"],
        &["linsert", "l", "middle", "b", "Y"],
        &["linsert", "nokey", "before", "b", "Y"],
        &["linsert", "nokey", "middle", "b", "Y"],
        &["lrange", "l", "0", "-1"],
        &["lrem", "l", "1", "a"],
        &["lrem", "l", "-1", "a"],
        &["lrange", "l", "0", "-1"],
        &["rpush", "l", "b", "b"],
        &["lrem", "l", "0", "b"],
        &["lrem", "l", "5", "nothing"],
        &["lrem", "l", "x", "a"],
        &["lrem", "nokey", "1", "a"],
        &["lrange", "l", "0", "-1"],
        &["lrem", "l", "0", "a"],
        &["lrem", "l", "0", "X"],
        &["lrem", "l", "0", "Y"],
        &["lrem", "l", "0", "c"],
        &["exists", "l"],
        &["rpush", "t", "1", "2", "3", "4", "5", "6"],
        &["ltrim", "t", "1", "-2"],
        &["lrange", "t", "0", "-1"],
        &["ltrim", "t", "-100", "100"],
        &["lrange", "t", "0", "-1"],
        &["ltrim", "t", "1", "x"],
        &["ltrim", "t", "2", "1"],
        &["exists", "t"],
        &["ltrim", "nokey", "0", "1"],
        &["rpush", "t", "1", "2"],
        &["ltrim", "t", "5", "10"],
        &["exists", "t"],
    ]);
}

#[test]
fn lpos_every_option() {
    assert_same_as_redis(&[
        &["rpush", "l", "a", "b", "c", "1", "2", "3", "c", "c"],
        &["lpos", "l", "c"],
        &["lpos", "l", "z"],
        &["lpos", "l", "c", "rank", "2"],
        &["lpos", "l", "c", "rank", "-1"],
        &["lpos", "l", "c", "rank", "-2"],
        &["lpos", "l", "c", "rank", "4"],
        &["lpos", "l", "c", "count", "0"],
        &["lpos", "l", "c", "count", "2"],
        &["lpos", "l", "c", "count", "2", "rank", "-1"],
        &["lpos", "l", "c", "count", "0", "rank", "2"],
        &["lpos", "l", "c", "count", "0", "maxlen", "7"],
        &["lpos", "l", "c", "rank", "-1", "maxlen", "1"],
        &["lpos", "l", "c", "rank", "-1", "maxlen", "2", "count", "0"],
        &["lpos", "l", "z", "count", "3"],
        &["lpos", "l", "c", "rank", "-9223372036854775808"],
        &[
            "lpos",
            "l",
            "c",
            "rank",
            "-9223372036854775808",
            "count",
            "2",
        ],
        &[
            "lpos",
            "l",
            "c",
            "rank",
            "9223372036854775807",
            "count",
            "2",
        ],
        &["lpos", "l", "c", "rank", "0"],
        &["lpos", "l", "c", "rank", "x"],
        &["lpos", "l", "c", "count", "-1"],
        &["lpos", "l", "c", "count", "x"],
        &["lpos", "l", "c", "maxlen", "-1"],
        &["lpos", "l", "c", "maxlen", "x"],
        &["lpos", "l", "c", "rank"],
        &["lpos", "l", "c", "foo", "1"],
        &["lpos", "nokey", "c"],
        &["lpos", "nokey", "c", "count", "1"],
        &["lpos", "nokey", "c", "rank", "0"],
        &["lpos", "l"],
    ]);
}

#[test]
fn lmove_and_rpoplpush() {
    assert_same_as_redis(&[
        &["rpush", "src", "a", "b", "c"],
        &["lmove", "src", "dst", "left", "right"],
        &["lmove", "src", "dst", "RIGHT", "LEFT"],
        &["lrange", "dst", "0", "-1"],
        &["rpoplpush", "src", "dst"],
        &["exists", "src"],
        &["lrange", "dst", "0", "-1"],
        &["lmove", "src", "dst", "left", "left"],
        &["rpoplpush", "src", "dst"],
        &["lmove", "dst", "dst", "left", "right"],
        &["lrange", "dst", "0", "-1"],
        &["rpoplpush", "dst", "dst"],
        &["lrange", "dst", "0", "-1"],
        &["lmove", "dst", "x", "up", "left"],
        &["lmove", "dst", "x", "left", "down"],
        &["lmove", "dst", "x", "left"],
        &["rpush", "one", "z"],
        &["lmove", "one", "one", "left", "left"],
        &["lrange", "one", "0", "-1"],
    ]);
}

#[test]
fn lmpop_and_its_errors() {
    assert_same_as_redis(&[
        &["rpush", "b", "1", "2", "3", "4"],
        &["lmpop", "2", "a", "b", "left"],
        &["lmpop", "2", "a", "b", "right", "count", "2"],
        &["lmpop", "2", "a", "b", "RIGHT", "COUNT", "10"],
        &["exists", "b"],
        &["lmpop", "2", "a", "b", "left"],
        &["lmpop", "0", "a", "left"],
        &["lmpop", "-1", "a", "left"],
        &["lmpop", "x", "a", "left"],
        &["lmpop", "3", "a", "b", "left"],
        &["lmpop", "9223372036854775807", "a", "left"],
        &["lmpop", "1", "a", "middle"],
        &["lmpop", "1", "a", "left", "count", "0"],
        &["lmpop", "1", "a", "left", "count", "-1"],
        &["lmpop", "1", "a", "left", "count", "x"],
        &["lmpop", "1", "a", "left", "count"],
        &["lmpop", "1", "a", "left", "count", "1", "count", "1"],
        &["lmpop", "1", "a", "left", "foo"],
        &["lmpop", "1", "a"],
        &["blmpop", "0", "1", "a", "middle"],
        &["blmpop", "x", "1", "a", "left", "count", "0"],
        &["blmpop", "x", "1", "a", "left"],
        &["blmpop", "-1", "1", "a", "left"],
        &["blmpop", "0", "0", "a", "left"],
        &["rpush", "c", "x", "y"],
        &["blmpop", "0", "2", "a", "c", "left", "count", "5"],
    ]);
}

#[test]
fn blocking_commands_with_data_do_not_block() {
    assert_same_as_redis(&[
        &["rpush", "l", "a", "b", "c", "d"],
        &["blpop", "nokey", "l", "0"],
        &["brpop", "nokey", "l", "0"],
        &["blmove", "l", "d", "left", "right", "0"],
        &["brpoplpush", "l", "d", "0"],
        &["lrange", "d", "0", "-1"],
        &["exists", "l"],
        &["blpop", "l", "x"],
        &["blpop", "l", "-1"],
        &["blpop", "l", "1e300"],
        &["blpop", "l", "inf"],
        &["blpop", "l", "nan"],
        &["blmove", "l", "d", "left", "up", "0"],
        &["blmove", "l", "d", "left", "left", "x"],
        &["brpoplpush", "l", "d", "-1"],
        &["blpop", "l"],
        &["blmove", "l", "d", "left", "left"],
    ]);
}

#[test]
fn timeouts_answer_null_array() {
    assert_same_as_redis(&[
        &["blpop", "a", "b", "0.01"],
        &["brpop", "a", "0.01"],
        &["blmove", "a", "b", "left", "left", "0.01"],
        &["brpoplpush", "a", "b", "0.01"],
        &["blmpop", "0.01", "1", "a", "left"],
    ]);
}

#[test]
fn large_list_window() {
    let srv = Server::start();
    let mut c = srv.client();
    let items: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
    let mut args: Vec<&str> = vec!["rpush", "big"];
    args.extend(items.iter().map(String::as_str));
    assert_eq!(c.cmd(&args), ":10000\r\n");
    assert_eq!(
        c.cmd(&["lrange", "big", "5000", "5002"]),
        "*3\r\n$4\r\n5000\r\n$4\r\n5001\r\n$4\r\n5002\r\n"
    );
    assert_eq!(c.cmd(&["lindex", "big", "-1"]), "$4\r\n9999\r\n");
    assert_eq!(c.cmd(&["lpos", "big", "9999"]), ":9999\r\n");
}

#[test]
fn arity_errors() {
    assert_same_as_redis(&[
        &["lpush", "k"],
        &["rpush", "k"],
        &["lpushx", "k"],
        &["rpushx", "k"],
        &["lpop"],
        &["rpop", "k", "1", "x"],
        &["llen"],
        &["llen", "k", "x"],
        &["lrange", "k", "0"],
        &["lindex", "k"],
        &["lset", "k", "0"],
        &["linsert", "k", "before", "x"],
        &["lrem", "k", "0"],
        &["ltrim", "k", "0"],
        &["lpos", "k"],
        &["lmove", "a", "b", "left"],
        &["rpoplpush", "a"],
        &["lmpop", "1", "k"],
        &["blpop", "k"],
        &["brpop", "k"],
        &["blmove", "a", "b", "left", "left"],
        &["brpoplpush", "a", "b"],
        &["blmpop", "0", "1", "k"],
    ]);
}

#[test]
fn binary_elements_and_empty_strings() {
    assert_same_as_redis(&[
        &["rpush", "l", "", "a\0b", "\r\n"],
        &["lrange", "l", "0", "-1"],
        &["lpos", "l", ""],
        &["lrem", "l", "0", ""],
        &["linsert", "l", "before", "a\0b", ""],
        &["lrange", "l", "0", "-1"],
    ]);
}

/// Runs `commands` on ferredis and on redis-server with every keyspace event on, and asserts that a
/// `PSUBSCRIBE __key*__:*` client of each receives the same events in the same order.
fn assert_same_events(commands: &[&[&str]]) {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start_with(&["--notify-keyspace-events", "KEA"]);
    assert_eq!(
        redis
            .client()
            .cmd(&["config", "set", "notify-keyspace-events", "KEA"]),
        "+OK\r\n"
    );
    let events = |srv: &Server| {
        let mut sub = srv.client();
        sub.cmd(&["psubscribe", "__key*__:*"]);
        let mut c = srv.client();
        for cmd in commands {
            c.cmd(cmd);
        }
        c.cmd(&["del", "end-of-test"]);
        c.cmd(&["rpush", "end-of-test", "x"]);
        let mut got = Vec::new();
        loop {
            let msg = sub.read_reply();
            if msg.contains("end-of-test") {
                return got;
            }
            got.push(msg);
        }
    };
    let want = events(&redis);
    assert!(
        want.len() > commands.len(),
        "redis-server sent too few events"
    );
    assert_eq!(events(&ours), want);
}

#[test]
fn keyspace_events_as_redis() {
    assert_same_events(&[
        &["rpush", "l", "a", "b", "c", "d"],
        &["lpush", "l", "z"],
        &["lpushx", "l", "y"],
        &["rpushx", "nokey", "y"],
        &["lpop", "l"],
        &["rpop", "l", "2"],
        &["lpop", "l", "0"],
        &["lset", "l", "0", "Y"],
        &["linsert", "l", "after", "Y", "w"],
        &["linsert", "l", "after", "nothing", "w"],
        &["lrem", "l", "1", "w"],
        &["lrem", "l", "1", "nothing"],
        &["ltrim", "l", "0", "-1"],
        &["lmove", "l", "m", "left", "right"],
        &["rpoplpush", "l", "m"],
        &["lmove", "m", "m", "left", "left"],
        &["lmpop", "2", "x", "m", "left", "count", "5"],
        &["rpush", "one", "v"],
        &["lmove", "one", "one", "left", "right"],
        &["blpop", "one", "0"],
        &["rpush", "t", "1", "2"],
        &["ltrim", "t", "5", "6"],
        &["rpush", "r", "1"],
        &["lrem", "r", "0", "1"],
        &["rpush", "s", "1"],
        &["blmove", "s", "d", "right", "left", "0"],
    ]);
}

#[test]
fn type_and_encoding() {
    let long = "x".repeat(10_000);
    assert_same_as_redis(&[
        &["rpush", "small", "a"],
        &["type", "small"],
        &["object", "encoding", "small"],
        &["rpush", "big", &long, &long],
        &["object", "encoding", "big"],
    ]);
}
