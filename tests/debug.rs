//! DEBUG: the gate, DIGEST / DIGEST-VALUE equal to redis-server's for every type and encoding, and the
//! subcommands the official test suite calls.

mod common;
use common::Server;

const DEBUG_ON: &[&str] = &["--enable-debug-command", "yes"];

/// Every type in each of its encodings, with a TTL on some, spread over two databases.
const DATA: &[&[&str]] = &[
    &["set", "int", "12345"],
    &["set", "embstr", "hello"],
    &[
        "set",
        "raw",
        "a string longer than forty-four bytes, stored raw in Redis",
    ],
    &["set", "ttl", "v", "ex", "1000"],
    &["rpush", "list", "a", "b", "1", "2", "c"],
    &["rpush", "ordered", "c", "b", "a"],
    &["sadd", "intset", "1", "2", "3", "-7"],
    &["sadd", "set", "x", "y", "z", "1"],
    &["hset", "hash", "f1", "v1", "f2", "2"],
    &["zadd", "zset", "1.5", "a", "-2", "b", "3", "c", "inf", "d"],
    &["config", "set", "zset-max-listpack-entries", "1"],
    &[
        "zadd",
        "bigzset",
        "0.1",
        "x",
        "1e100",
        "y",
        "-0.3333333333333333",
        "z",
    ],
    &["config", "set", "hash-max-listpack-entries", "1"],
    &["hset", "bighash", "a", "1", "b", "2", "c", "3"],
    &["xadd", "stream", "1-1", "f", "v", "g", "w"],
    &["xadd", "stream", "2-5", "f", "v2"],
    &["select", "3"],
    &["set", "int", "12345"],
    &["lpush", "l3", "z"],
    &["select", "0"],
];

fn run_all(client: &mut common::Client) {
    for cmd in DATA {
        client.cmd(cmd);
    }
}

#[test]
fn digest_matches_redis_server_for_every_type() {
    let Some(redis) = Server::start_redis_with(DEBUG_ON) else {
        return;
    };
    let ours = Server::start_with(DEBUG_ON);
    let (mut a, mut b) = (ours.client(), redis.client());
    assert_eq!(
        a.cmd(&["debug", "digest"]),
        format!("+{}\r\n", "0".repeat(40))
    );
    assert_eq!(
        b.cmd(&["debug", "digest"]),
        format!("+{}\r\n", "0".repeat(40))
    );
    run_all(&mut a);
    run_all(&mut b);
    let digest = a.cmd(&["debug", "digest"]);
    assert_eq!(digest, b.cmd(&["debug", "digest"]));
    let keys = [
        "int", "embstr", "raw", "ttl", "list", "ordered", "intset", "set", "hash", "zset",
        "bigzset", "bighash", "stream", "missing",
    ];
    for key in keys {
        let cmd = ["debug", "digest-value", key];
        assert_eq!(a.cmd(&cmd), b.cmd(&cmd), "DEBUG DIGEST-VALUE {key}");
    }
    // Order matters for a list, the database number for the whole dataset.
    a.cmd(&["rpush", "ordered", "d"]);
    assert_ne!(a.cmd(&["debug", "digest"]), digest);
    a.cmd(&["rpop", "ordered"]);
    assert_eq!(a.cmd(&["debug", "digest"]), digest);
    a.cmd(&["move", "embstr", "5"]);
    assert_ne!(a.cmd(&["debug", "digest"]), digest);
}

#[test]
fn debug_is_refused_unless_enabled() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["debug", "digest"]),
        "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n"
    );
    let local = Server::start_with(&["--enable-debug-command", "local"]);
    assert_eq!(local.client().cmd(&["debug", "log", "hi"]), "+OK\r\n");
}

#[test]
fn subcommands_answer_as_redis_does() {
    let Some(redis) = Server::start_redis_with(DEBUG_ON) else {
        return;
    };
    let ours = Server::start_with(DEBUG_ON);
    let (mut a, mut b) = (ours.client(), redis.client());
    let cmds: &[&[&str]] = &[
        &["debug", "jmap"],
        &["debug", "nosuch", "x"],
        &["debug", "sleep"],
        &["debug", "sleep", "0"],
        &["debug", "sleep", "0.01"],
        &["debug", "digest", "x"],
        &["debug", "set-active-expire", "0"],
        &["debug", "set-active-expire", "1"],
        &["debug", "quicklist-packed-threshold", "0"],
        &["debug", "quicklist-packed-threshold", "100mb"],
        &["debug", "quicklist-packed-threshold", "5gb"],
        &["debug", "quicklist-packed-threshold", "abc"],
        &["debug", "protocol", "string"],
        &["debug", "protocol", "integer"],
        &["debug", "protocol", "double"],
        &["debug", "protocol", "bignum"],
        &["debug", "protocol", "null"],
        &["debug", "protocol", "array"],
        &["debug", "protocol", "set"],
        &["debug", "protocol", "map"],
        &["debug", "protocol", "attrib"],
        &["debug", "protocol", "push"],
        &["debug", "protocol", "true"],
        &["debug", "protocol", "false"],
        &["debug", "protocol", "verbatim"],
        &["debug", "protocol", "nope"],
        &["debug", "object", "nokey"],
        &["debug", "sdslen", "nokey"],
        &["debug", "listpack", "nokey"],
        &["debug", "error", "FOO bar\r\nbaz"],
        &["debug", "change-repl-id"],
        &["debug", "set-skip-checksum-validation", "1"],
        &["debug", "replybuffer", "resizing", "1"],
        &["debug", "replybuffer", "nope", "1"],
        &["debug", "pause-cron", "0"],
        &["rpush", "l", "a", "b", "c"],
        &["set", "n", "10"],
        &["set", "s", "abc"],
        &["debug", "listpack", "l"],
        &["debug", "quicklist", "l"],
        &["debug", "quicklist", "n"],
        &["debug", "sdslen", "n"],
        &["debug", "populate", "-1"],
        &["debug", "populate", "x"],
        &["debug", "populate", "10"],
        &["debug", "populate", "3", "pre", "20"],
        &["debug", "populate", "3", "pre", "-20"],
        &["dbsize"],
        &["get", "key:7"],
        &["get", "pre:2"],
        &["debug", "digest-value"],
        &["debug", "help", "x"],
        &["debug", "help"],
        &["hello", "3"],
        &["debug", "protocol", "attrib"],
        &["debug", "protocol", "push"],
        &["debug", "protocol", "map"],
        &["debug", "protocol", "verbatim"],
    ];
    for cmd in cmds {
        assert_eq!(
            a.cmd(cmd),
            b.cmd(cmd),
            "reply to {cmd:?} differs from redis-server"
        );
    }
    assert_eq!(a.cmd(&["debug", "digest"]), b.cmd(&["debug", "digest"]));
}

#[test]
fn object_shows_redis_fields() {
    let s = Server::start_with(DEBUG_ON);
    let mut c = s.client();
    c.cmd(&["set", "n", "1"]);
    c.cmd(&["rpush", "l", "a", "b", "c"]);
    let n = c.cmd(&["debug", "object", "n"]);
    assert!(n.starts_with("+Value at:0x"), "{n}");
    assert!(
        n.contains(" refcount:2147483647 encoding:int serializedlength:2 lru:"),
        "{n}"
    );
    assert!(n.ends_with(" lru_seconds_idle:0\r\n"), "{n}");
    let l = c.cmd(&["debug", "object", "l"]);
    assert!(
        l.contains(" refcount:1 encoding:quicklist serializedlength:19 "),
        "{l}"
    );
    assert!(
        l.ends_with(" ql_nodes:1 ql_avg_node:3.00 ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:16\r\n"),
        "{l}"
    );
    assert_eq!(
        c.cmd(&["debug", "object"]),
        "-ERR unknown subcommand or wrong number of arguments for 'object'. Try DEBUG HELP.\r\n"
    );
}

/// DEBUG SLEEP stalls the whole server, as Redis's does: another client's command sent during the sleep is
/// answered only once it ends, then everything goes on.
#[test]
fn debug_sleep_holds_every_client() {
    let s = Server::start_with(&["--enable-debug-command", "yes"]);
    let (mut sleeper, mut other) = (s.client(), s.client());
    assert_eq!(other.cmd(&["ping"]), "+PONG\r\n");
    sleeper.send(&["debug", "sleep", "0.5"]);
    std::thread::sleep(std::time::Duration::from_millis(100));
    let sent = std::time::Instant::now();
    assert_eq!(other.cmd(&["set", "k", "v"]), "+OK\r\n");
    let waited = sent.elapsed();
    assert!(
        waited >= std::time::Duration::from_millis(300),
        "{waited:?}"
    );
    assert_eq!(sleeper.read_reply(), "+OK\r\n");
    assert_eq!(other.cmd(&["get", "k"]), "$1\r\nv\r\n");
}
