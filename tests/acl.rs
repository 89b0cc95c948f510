//! ACL: users, rules, the ACL command and every check, compared with redis-server byte for byte.
//!
//! Rules whose description lists more than one single command are left out of the comparisons: Redis lists those
//! in its command dict's order, which is random per process.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Server};

/// Runs `script` on ferredis and on redis-server, each step on connection `n` of the step (connections opened
/// as needed), and asserts the same replies. ACL LOG's `age-seconds` and `client-info` values are masked.
fn same_as_redis(args: &[&str], script: &[(usize, &[&str])]) {
    let Some(redis) = Server::start_redis_with(args) else {
        return;
    };
    let ours = Server::start_with(args);
    let mut a: Vec<Client> = Vec::new();
    let mut b: Vec<Client> = Vec::new();
    for (n, cmd) in script {
        while a.len() <= *n {
            a.push(ours.client());
            b.push(redis.client());
        }
        let (got, want) = (mask(&a[*n].cmd(cmd)), mask(&b[*n].cmd(cmd)));
        assert_eq!(got, want, "reply to {cmd:?} on connection {n} differs");
    }
}

/// Masks the values that differ between two servers in ACL LOG entries (time, client details).
fn mask(reply: &str) -> String {
    let mut out = Vec::new();
    let mut lines = reply.split("\r\n").peekable();
    while let Some(line) = lines.next() {
        out.push(line.to_string());
        if line == "age-seconds" || line == "client-info" {
            if let Some(header) = lines.next() {
                out.push(if header.starts_with('$') { "$?" } else { "?" }.into());
                if header.starts_with('$') {
                    lines.next();
                    out.push("?".into());
                }
            }
        }
    }
    out.join("\r\n")
}

const HASH: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

#[test]
fn users_and_rules_as_redis() {
    same_as_redis(
        &[],
        &[
            (0, &["ACL", "LIST"]),
            (0, &["ACL", "USERS"]),
            (0, &["ACL", "SETUSER", "foo"]),
            (0, &["ACL", "LIST"]),
            (0, &["ACL", "GETUSER", "default"]),
            (0, &["ACL", "GETUSER", "foo"]),
            (0, &["ACL", "GETUSER", "nobody"]),
            (
                0,
                &[
                    "ACL",
                    "SETUSER",
                    "bar",
                    "on",
                    ">pw",
                    "~k*",
                    "%R~r*",
                    "%W~w*",
                    "%RW~b*",
                    "&ch",
                    "+get",
                    "(~x*",
                    "+set)",
                    "(&c2 +@hash)",
                ],
            ),
            (0, &["ACL", "GETUSER", "bar"]),
            (0, &["ACL", "LIST"]),
            (
                0,
                &[
                    "ACL",
                    "SETUSER",
                    "bar",
                    "clearselectors",
                    "resetkeys",
                    "~k*",
                    "~k*",
                ],
            ),
            (0, &["ACL", "GETUSER", "bar"]),
            (0, &["ACL", "SETUSER", "a1", "-@all", "+@read", "+@write"]),
            (0, &["ACL", "SETUSER", "a2", "+@all", "-@slow"]),
            (0, &["ACL", "SETUSER", "a3", "-@all", "+@slow"]),
            (0, &["ACL", "SETUSER", "a4", "-@all", "+config"]),
            (0, &["ACL", "SETUSER", "a5", "+@all", "-get"]),
            (0, &["ACL", "SETUSER", "a6", "-@all", "+@geo", "-geoadd"]),
            (0, &["ACL", "SETUSER", "a7", "nocommands", "+config|get"]),
            (0, &["ACL", "SETUSER", "a8", "-@all", "+select|0"]),
            (
                0,
                &[
                    "ACL", "SETUSER", "a9", "+@all", "-@all", "+@pubsub", "-publish",
                ],
            ),
            (0, &["ACL", "LIST"]),
            (
                0,
                &["ACL", "SETUSER", "p", "on", &format!("#{HASH}"), ">other"],
            ),
            (0, &["ACL", "GETUSER", "p"]),
            (0, &["ACL", "SETUSER", "p", &format!("!{HASH}"), "<other"]),
            (0, &["ACL", "GETUSER", "p"]),
            (
                0,
                &[
                    "ACL",
                    "SETUSER",
                    "p",
                    ">x",
                    "nopass",
                    "skip-sanitize-payload",
                ],
            ),
            (0, &["ACL", "GETUSER", "p"]),
            (0, &["ACL", "SETUSER", "p", "reset"]),
            (0, &["ACL", "LIST"]),
            (0, &["ACL", "USERS"]),
        ],
    );
}

#[test]
fn rule_errors_as_redis() {
    let bad: &[&[&str]] = &[
        &["+nosuch"],
        &["-nosuch"],
        &["+@nosuch"],
        &["~x", "allkeys", "~y"],
        &["&x", "allchannels", "&y"],
        &["#abc"],
        &["#5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"],
        &["!abc"],
        &["<nope"],
        &["(~x"],
        &["(~x", "+get"],
        &["(+nosuch)"],
        &["+config|get|x"],
        &["-get|x"],
        &["+config|"],
        &["%X~x"],
        &["%~x"],
        &["%RR~x"],
        &["bogus"],
        &["on", "+get", "+nosuch"],
    ];
    let mut script: Vec<(usize, Vec<&str>)> = Vec::new();
    for rules in bad {
        let mut cmd = vec!["ACL", "SETUSER", "bad"];
        cmd.extend_from_slice(rules);
        script.push((0, cmd));
    }
    script.push((0, vec!["ACL", "USERS"]));
    script.push((0, vec!["ACL", "SETUSER", "has space"]));
    script.push((0, vec!["ACL", "SETUSER", "ok", "+get|x", "%W~w", "%R~w"]));
    script.push((0, vec!["ACL", "GETUSER", "ok"]));
    script.push((0, vec!["ACL", "DELUSER", "default"]));
    script.push((0, vec!["ACL", "DELUSER", "ok", "nothere", "ok"]));
    script.push((0, vec!["ACL", "DELUSER", "nothere", "default"]));
    let steps: Vec<(usize, &[&str])> = script.iter().map(|(n, c)| (*n, c.as_slice())).collect();
    same_as_redis(&[], &steps);
}

#[test]
fn other_subcommands_as_redis() {
    same_as_redis(
        &[],
        &[
            (0, &["ACL", "CAT"]),
            (0, &["ACL", "CAT", "nosuch"]),
            (0, &["ACL", "CAT", "read", "x"]),
            (0, &["ACL", "GENPASS", "0"]),
            (0, &["ACL", "GENPASS", "4097"]),
            (0, &["ACL", "GENPASS", "x"]),
            (0, &["ACL", "GENPASS", "1", "2"]),
            (0, &["ACL", "WHOAMI"]),
            (0, &["ACL", "LOG", "x"]),
            (0, &["ACL", "LOG", "1", "2"]),
            (0, &["ACL", "LOG"]),
            (0, &["ACL", "LOG", "RESET"]),
            (0, &["ACL", "SAVE"]),
            (0, &["ACL", "LOAD"]),
            (0, &["ACL", "HELP"]),
            (0, &["ACL", "NOSUCH"]),
            (0, &["ACL", "GETUSER"]),
            (0, &["ACL", "SETUSER"]),
            (0, &["ACL", "DRYRUN", "default"]),
            (
                0,
                &[
                    "ACL",
                    "SETUSER",
                    "d",
                    "~a*",
                    "+get",
                    "&c*",
                    "+publish",
                    "+subscribe",
                    "+psubscribe",
                ],
            ),
            (0, &["ACL", "SETUSER", "d", "(%W~b* +set)"]),
            (0, &["ACL", "DRYRUN", "d", "get", "a1"]),
            (0, &["ACL", "DRYRUN", "d", "get", "b1"]),
            (0, &["ACL", "DRYRUN", "d", "set", "b1", "x"]),
            (0, &["ACL", "DRYRUN", "d", "set", "a1", "x"]),
            (0, &["ACL", "DRYRUN", "d", "publish", "c1", "x"]),
            (0, &["ACL", "DRYRUN", "d", "publish", "x1", "x"]),
            (0, &["ACL", "DRYRUN", "d", "subscribe", "c1", "x1", "x2"]),
            (0, &["ACL", "DRYRUN", "d", "psubscribe", "c*"]),
            (0, &["ACL", "DRYRUN", "d", "psubscribe", "c1"]),
            (0, &["ACL", "DRYRUN", "d", "incr", "a1"]),
            (0, &["ACL", "DRYRUN", "nouser", "get", "a"]),
            (0, &["ACL", "DRYRUN", "d", "nocmd", "a"]),
            (0, &["ACL", "DRYRUN", "d", "get"]),
            (0, &["ACL", "DRYRUN", "d", "config"]),
            (0, &["ACL", "DRYRUN", "d", "config", "nosuch"]),
            (0, &["ACL", "DRYRUN", "default", "config", "get", "x"]),
        ],
    );
    // Categories list the same commands (their order is Redis's dict order).
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    for cat in common::bulks(&b.cmd(&["ACL", "CAT"])) {
        let mut got = common::bulks(&a.cmd(&["ACL", "CAT", &cat]));
        let mut want = common::bulks(&b.cmd(&["ACL", "CAT", &cat]));
        // Only commands both have (ferredis has no MIGRATE; Redis 7.0 no CLIENT SETINFO).
        want.retain(|c| !a.cmd(&["COMMAND", "INFO", c]).ends_with("-1\r\n"));
        got.retain(|c| !b.cmd(&["COMMAND", "INFO", c]).ends_with("-1\r\n"));
        got.sort();
        want.sort();
        assert_eq!(got, want, "ACL CAT {cat}");
    }
    let pass = common::bulks(&a.cmd(&["ACL", "GENPASS"]));
    assert_eq!(pass[0].len(), 64);
    assert!(pass[0].bytes().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(common::bulks(&a.cmd(&["ACL", "GENPASS", "5"]))[0].len(), 2);
}

#[test]
fn auth_and_hello_as_redis() {
    same_as_redis(
        &[],
        &[
            (0, &["AUTH", "x"]),
            (0, &["AUTH", "a", "b", "c"]),
            (0, &["AUTH", "nouser", "pw"]),
            (0, &["ACL", "SETUSER", "u", ">pw", "+@all", "~*"]),
            (0, &["AUTH", "u", "pw"]),
            (0, &["ACL", "SETUSER", "u", "on"]),
            (0, &["AUTH", "u", "wrong"]),
            (0, &["AUTH", "u", "pw"]),
            (0, &["ACL", "WHOAMI"]),
            (1, &["HELLO", "2", "AUTH", "u", "wrong"]),
            (1, &["HELLO", "2", "AUTH", "u", "pw", "SETNAME", "me"]),
            (1, &["ACL", "WHOAMI"]),
            (1, &["RESET"]),
            (1, &["ACL", "WHOAMI"]),
            (2, &["ACL", "SETUSER", "default", ">secret"]),
            (2, &["GET", "k"]),
            (3, &["GET", "k"]),
            (3, &["AUTH", "wrong"]),
            (3, &["AUTH", "secret"]),
            (3, &["GET", "k"]),
            (3, &["ACL", "SETUSER", "default", "nopass"]),
            (4, &["GET", "k"]),
            (0, &["ACL", "LOG"]),
        ],
    );
}

#[test]
fn command_key_and_channel_checks_as_redis() {
    same_as_redis(
        &[],
        &[
            (0, &["SET", "a1", "x"]),
            (0, &["SET", "b1", "x"]),
            (0, &["RPUSH", "r1", "x"]),
            (
                0,
                &[
                    "ACL",
                    "SETUSER",
                    "u",
                    "on",
                    ">p",
                    "~a*",
                    "%R~r*",
                    "%W~w*",
                    "&c*",
                    "+@all",
                    "-flushall",
                ],
            ),
            (1, &["AUTH", "u", "p"]),
            (1, &["GET", "a1"]),
            (1, &["GET", "b1"]),
            (1, &["MGET", "a1", "b1"]),
            (1, &["FLUSHALL"]),
            (1, &["CONFIG", "GET", "maxmemory"]),
            (1, &["LRANGE", "r1", "0", "-1"]),
            (1, &["RPUSH", "r1", "y"]),
            (1, &["LMOVE", "r1", "w1", "LEFT", "LEFT"]),
            (1, &["LMOVE", "w1", "r1", "LEFT", "LEFT"]),
            (1, &["COPY", "r1", "w2"]),
            (1, &["SET", "w3", "v"]),
            (1, &["GET", "w3"]),
            (1, &["APPEND", "w3", "v"]),
            (1, &["SET", "w3", "v", "GET"]),
            (1, &["PUBLISH", "c1", "m"]),
            (1, &["PUBLISH", "d1", "m"]),
            (1, &["SPUBLISH", "d1", "m"]),
            (1, &["PSUBSCRIBE", "d*"]),
            (1, &["SUBSCRIBE", "c1", "d1"]),
            (1, &["MULTI"]),
            (1, &["GET", "a1"]),
            (1, &["GET", "b1"]),
            (1, &["EXEC"]),
            (1, &["MULTI"]),
            (1, &["GET", "a1"]),
            (1, &["SET", "a2", "v"]),
            (0, &["ACL", "SETUSER", "u", "resetkeys", "~a1"]),
            (1, &["EXEC"]),
            (1, &["EVAL", "return redis.call('get','b1')", "0"]),
            (1, &["EVAL", "return redis.call('get','a1')", "0"]),
            (1, &["EVAL", "return redis.pcall('flushall')", "0"]),
            (1, &["EVAL", "return redis.acl_check_cmd('get','b1')", "0"]),
            (1, &["EVAL", "return redis.acl_check_cmd('get','a1')", "0"]),
            (1, &["EVAL", "return redis.acl_check_cmd('nosuch')", "0"]),
            (1, &["EVAL", "return redis.acl_check_cmd('get')", "0"]),
            (1, &["EVAL", "return redis.acl_check_cmd('config')", "0"]),
            (
                1,
                &[
                    "EVAL",
                    "return redis.acl_check_cmd('config', 'nosuch')",
                    "0",
                ],
            ),
            (1, &["ACL", "SETUSER", "u", "-acl"]),
            (0, &["ACL", "LOG"]),
            (0, &["ACL", "LOG", "2"]),
            (0, &["ACL", "LOG", "RESET"]),
            (0, &["ACL", "LOG"]),
        ],
    );
}

/// Whether the server closes `client`'s connection within `within`.
fn closed_within(client: &mut Client, within: Duration) -> bool {
    client.set_timeout(within);
    client.is_closed()
}

#[test]
fn deleting_a_user_disconnects_its_clients() {
    let server = Server::start();
    let mut admin = server.client();
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "u", "on", ">p", "+@all", "~*"]),
        "+OK\r\n"
    );
    let mut u = server.client();
    assert_eq!(u.cmd(&["AUTH", "u", "p"]), "+OK\r\n");
    let mut other = server.client();
    assert_eq!(admin.cmd(&["CLIENT", "LIST"]).matches("user=u ").count(), 1);
    // SETUSER keeps the client, and changes what it may do at once.
    assert_eq!(admin.cmd(&["ACL", "SETUSER", "u", "-get"]), "+OK\r\n");
    assert_eq!(
        u.cmd(&["GET", "x"]),
        "-NOPERM this user has no permissions to run the 'get' command\r\n"
    );
    assert_eq!(admin.cmd(&["ACL", "DELUSER", "u"]), ":1\r\n");
    assert!(closed_within(&mut u, Duration::from_secs(5)));
    assert_eq!(other.cmd(&["PING"]), "+PONG\r\n");
    // A client deleting its own user gets the reply, then is closed.
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "v", "on", "nopass", "+@all"]),
        "+OK\r\n"
    );
    let mut v = server.client();
    assert_eq!(v.cmd(&["AUTH", "v", "x"]), "+OK\r\n");
    assert_eq!(v.cmd(&["ACL", "DELUSER", "v"]), ":1\r\n");
    assert!(closed_within(&mut v, Duration::from_secs(5)));
    assert_eq!(
        admin.cmd(&["CLIENT", "KILL", "USER", "nosuch"]),
        "-ERR No such user 'nosuch'\r\n"
    );
    // CLIENT KILL USER closes that user's clients only.
    admin.cmd(&["ACL", "SETUSER", "w", "on", "nopass", "+@all"]);
    let mut w = server.client();
    assert_eq!(w.cmd(&["AUTH", "w", "x"]), "+OK\r\n");
    assert_eq!(admin.cmd(&["CLIENT", "KILL", "USER", "w"]), ":1\r\n");
    assert!(closed_within(&mut w, Duration::from_secs(5)));
    assert_eq!(other.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn revoking_channels_disconnects_subscribers() {
    let server = Server::start();
    let mut admin = server.client();
    admin.cmd(&["ACL", "SETUSER", "s", "on", "nopass", "+@all", "&news*"]);
    let mut sub = server.client();
    assert_eq!(sub.cmd(&["AUTH", "s", "x"]), "+OK\r\n");
    sub.cmd(&["SUBSCRIBE", "news1"]);
    // Still allowed: the subscriber stays.
    admin.cmd(&["ACL", "SETUSER", "s", "&news1"]);
    assert_eq!(admin.cmd(&["PUBLISH", "news1", "m"]), ":1\r\n");
    assert!(sub.read_reply().contains("news1"));
    admin.cmd(&["ACL", "SETUSER", "s", "resetchannels", "&other"]);
    assert!(closed_within(&mut sub, Duration::from_secs(5)));
    let deadline = Instant::now() + Duration::from_secs(5);
    while admin.cmd(&["PUBLISH", "news1", "m"]) != ":0\r\n" {
        assert!(Instant::now() < deadline, "the subscriber is still there");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn requirepass_is_the_default_users_password() {
    same_as_redis(
        &["--requirepass", "pw"],
        &[
            (0, &["PING"]),
            (0, &["AUTH", "no"]),
            (0, &["AUTH", "pw"]),
            (0, &["ACL", "LIST"]),
            (0, &["CONFIG", "SET", "requirepass", "other"]),
            (0, &["ACL", "LIST"]),
            (1, &["AUTH", "pw"]),
            (1, &["AUTH", "default", "other"]),
            (0, &["CONFIG", "SET", "requirepass", ""]),
            (0, &["ACL", "LIST"]),
            (2, &["PING"]),
        ],
    );
}

#[test]
fn log_length_and_pubsub_default_as_redis() {
    same_as_redis(
        &[
            "--acl-pubsub-default",
            "allchannels",
            "--acllog-max-len",
            "2",
        ],
        &[
            (0, &["ACL", "SETUSER", "u", "on", "nopass", "~a", "+get"]),
            (
                0,
                &[
                    "ACL",
                    "SETUSER",
                    "v",
                    "on",
                    "nopass",
                    "resetchannels",
                    "(+@all)",
                ],
            ),
            (0, &["ACL", "LIST"]),
            (1, &["AUTH", "u", "x"]),
            (1, &["GET", "b"]),
            (1, &["GET", "b"]),
            (1, &["SET", "a", "1"]),
            (1, &["GET", "c"]),
            (1, &["PUBLISH", "ch", "m"]),
            (0, &["ACL", "LOG"]),
            (0, &["CONFIG", "SET", "acllog-max-len", "10"]),
            (1, &["AUTH", "nobody", "x"]),
            (1, &["AUTH", "nobody", "x"]),
            (0, &["ACL", "LOG", "1"]),
            (0, &["ACL", "LOG", "-1"]),
            (0, &["HELLO", "3"]),
            (0, &["ACL", "GETUSER", "v"]),
            (0, &["ACL", "LOG", "2"]),
        ],
    );
}

/// A client that must authenticate and never reads its replies is closed, not waited for (Redis: past 1 kB).
#[test]
fn unauthenticated_clients_that_do_not_read_are_closed() {
    use std::io::Write;
    let server = Server::start_with(&["--requirepass", "pw"]);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let batch = b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n5\r\n".repeat(1000);
    let deadline = Instant::now() + Duration::from_secs(20);
    let closed = loop {
        if stream.write_all(&batch).is_err() {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
    };
    assert!(
        closed,
        "the server kept reading from a client that reads nothing"
    );
    let mut c = server.client();
    assert_eq!(c.cmd(&["AUTH", "pw"]), "+OK\r\n");
}

/// Redis closes a client that must authenticate as soon as one batch's replies pass its 16 kB reply buffer plus
/// 1 kB, without sending any of them; a smaller batch is answered in full. The kernel's socket buffers (tens of
/// MB on some machines) must not stand in for that limit.
#[test]
fn an_unauthenticated_batch_over_17_kb_of_replies_is_closed_unanswered() {
    use std::io::{Read, Write};
    let server = Server::start_with(&["--requirepass", "pw"]);
    let set = b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$1\r\n5\r\n";
    let noauth = b"-NOAUTH Authentication required.\r\n";
    let answered = |count: usize, close_write: bool| {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(&set.repeat(count)).unwrap();
        if close_write {
            s.shutdown(std::net::Shutdown::Write).unwrap();
        }
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        got
    };
    // 400 replies of 34 bytes: 13,600 bytes, under the limit.
    assert_eq!(answered(400, true), noauth.repeat(400));
    // 2,000 in one write: past it at once.
    assert_eq!(answered(2000, false), b"");
    let mut c = server.client();
    assert_eq!(c.cmd(&["AUTH", "pw"]), "+OK\r\n");
}
