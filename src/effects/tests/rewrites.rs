//! Each rewrite, against what redis-server 7.0.15 propagated for the same commands (captured from its replication
//! stream with a `SYNC` client); `reference` runs more scenarios against a live redis-server. Absolute times become `<ms>` and generated stream IDs `<id>`; the tests that care
//! check those values on their own.

use super::{effects_of, Harness};
use crate::protocol::Reply;

/// Replaces millisecond Unix times (13 digits) by `<ms>` and stream IDs made of one by `<id>`.
pub(super) fn normalized(effects: Vec<String>) -> Vec<String> {
    let is_ms = |w: &str| w.len() == 13 && w.bytes().all(|b| b.is_ascii_digit());
    effects
        .into_iter()
        .map(|line| {
            line.split(' ')
                .map(|w| match w.split_once('-') {
                    _ if is_ms(w) => "<ms>".to_string(),
                    Some((ms, seq)) if is_ms(ms) && seq.parse::<u64>().is_ok() => {
                        "<id>".to_string()
                    }
                    _ => w.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn check(commands: &[&[&str]], expected: &[&str]) {
    assert_eq!(normalized(effects_of(commands)), expected, "{commands:?}");
}

#[test]
fn a_plain_write_is_its_own_effect_after_a_select() {
    check(
        &[&["set", "k", "v"], &["get", "k"]],
        &["SELECT 0", "set k v"],
    );
}

#[test]
fn relative_expiries_become_absolute() {
    check(
        &[
            &["set", "k", "v"],
            &["set", "k2", "v", "EX", "100", "NX"],
            &["expire", "k", "100"],
            &["expire", "k", "100", "XX"],
            &["pexpireat", "k", "99999999999999"],
            &["expire", "k", "-1"],
        ],
        &[
            "SELECT 0",
            "set k v",
            "SET k2 v PXAT <ms>",
            "PEXPIREAT k <ms>",
            "PEXPIREAT k <ms> XX",
            "pexpireat k 99999999999999",
            "DEL k",
        ],
    );
}

#[test]
fn the_absolute_time_is_the_one_set() {
    let mut h = Harness::new();
    let mut c = h.client();
    let before = crate::util::time::now_ms();
    h.run(&mut c, &["set", "k", "v", "EX", "100"]);
    let after = crate::util::time::now_ms();
    let effects = h.effects();
    let at: i64 = effects[1].rsplit(' ').next().unwrap().parse().unwrap();
    assert!(
        (before + 100_000..=after + 100_000).contains(&at),
        "{effects:?}"
    );
    assert_eq!(h.run(&mut c, &["pexpiretime", "k"]), Reply::Int(at));
}

#[test]
fn getex_and_getdel_become_expire_persist_and_del() {
    check(
        &[
            &["set", "g", "v"],
            &["getex", "g", "EX", "100"],
            &["getex", "g", "PERSIST"],
            &["getex", "g"],
            &["getdel", "g"],
        ],
        &[
            "SELECT 0",
            "set g v",
            "PEXPIREAT g <ms>",
            "PERSIST g",
            "DEL g",
        ],
    );
}

#[test]
fn spop_becomes_srem_or_del() {
    let effects = normalized(effects_of(&[
        &["sadd", "s", "a", "b", "c", "d", "e"],
        &["spop", "s"],
        &["spop", "s", "2"],
        &["spop", "s", "10"],
    ]));
    let shape: Vec<&str> = effects
        .iter()
        .map(|e| e.rsplit_once(' ').map_or(e.as_str(), |(head, _)| head))
        .collect();
    assert_eq!(
        shape,
        [
            "SELECT",
            "sadd s a b c d",
            "SREM s",
            "MULTI",
            "SREM s",
            "SREM s",
            "EXEC",
            "DEL"
        ],
        "{effects:?}"
    );
    // The members removed are the five added, each once.
    let mut removed: Vec<&str> = [2, 4, 5]
        .iter()
        .map(|&i| effects[i].rsplit(' ').next().unwrap())
        .collect();
    removed.sort_unstable();
    removed.dedup();
    assert_eq!(removed.len(), 3);
}

#[test]
fn float_increments_become_their_results() {
    check(
        &[
            &["incrbyfloat", "f", "1.5"],
            &["hincrbyfloat", "h", "f", "1.5"],
        ],
        &["SELECT 0", "SET f 1.5 KEEPTTL", "HSET h f 1.5"],
    );
}

#[test]
fn xadd_gets_its_generated_id_and_an_exact_trim() {
    check(
        &[
            &["xadd", "st", "*", "a", "1"],
            &["xadd", "st", "MAXLEN", "~", "1", "*", "a", "2"],
            &["xadd", "s2", "5-*", "a", "3"],
            &["xadd", "s2", "7-1", "a", "4"],
            &["xtrim", "s2", "MINID", "~", "6"],
            &["xtrim", "s2", "MINID", "6"],
        ],
        &[
            "SELECT 0",
            "xadd st <id> a 1",
            "xadd st MAXLEN = 2 <id> a 2",
            "xadd s2 5-0 a 3",
            "xadd s2 7-1 a 4",
            "xtrim s2 MINID 6",
        ],
    );
}

#[test]
fn scripts_propagate_their_effects_not_themselves() {
    check(
        &[
            &[
                "eval",
                "redis.call('set', KEYS[1], '1') return redis.call('get', KEYS[1])",
                "1",
                "a",
            ],
            &[
                "eval",
                "redis.call('set', 'a', '2') redis.call('incr', 'a') return 1",
                "0",
            ],
            &["eval", "return redis.call('get', 'a')", "0"],
        ],
        &["SELECT 0", "set a 1", "MULTI", "set a 2", "incr a", "EXEC"],
    );
}

#[test]
fn transactions_are_wrapped_only_when_they_did_several_things() {
    let mut h = Harness::new();
    let mut c = h.client();
    for cmd in [
        &["multi"][..],
        &["set", "a", "1"],
        &["get", "a"],
        &["exec"],
        &["multi"],
        &["set", "a", "1"],
        &["select", "1"],
        &["set", "b", "2"],
        &["exec"],
        &["multi"],
        &["get", "a"],
        &["exec"],
    ] {
        h.run(&mut c, cmd);
    }
    assert_eq!(
        h.effects(),
        ["SELECT 0", "set a 1", "MULTI", "set a 1", "SELECT 1", "set b 2", "EXEC"]
    );
}

#[test]
fn blocking_pops_that_need_no_wait_become_plain_pops() {
    check(
        &[
            &["lpush", "l", "a", "b"],
            &["blpop", "l", "0"],
            &["blmove", "l", "l2", "RIGHT", "left", "0"],
            &["lpush", "lm", "a", "b", "c"],
            &["lmpop", "1", "lm", "left", "count", "10"],
            &["zadd", "zm", "1", "a", "2", "b"],
            &["zmpop", "1", "zm", "min", "count", "5"],
            &["zadd", "z", "1", "a"],
            &["bzpopmin", "z", "0"],
        ],
        &[
            "SELECT 0",
            "lpush l a b",
            "LPOP l",
            "LMOVE l l2 RIGHT left",
            "lpush lm a b c",
            "LPOP lm 3",
            "zadd zm 1 a 2 b",
            "ZPOPMIN zm 2",
            "zadd z 1 a",
            "ZPOPMIN z",
        ],
    );
}

/// A client blocked with `args`, served by `push` from another client: the push, then the pop by the served
/// client as a unit of its own.
fn served(block: &[&str], push: &[&str]) -> Vec<String> {
    let mut h = Harness::new();
    let (mut waiter, mut pusher) = (h.client(), h.client());
    assert_eq!(h.run(&mut waiter, block), Reply::NoReply);
    h.run(&mut pusher, push);
    h.effects()
}

#[test]
fn served_blocked_clients_propagate_the_plain_command() {
    assert_eq!(
        served(&["blpop", "bl", "0"], &["rpush", "bl", "x", "y"]),
        ["SELECT 0", "rpush bl x y", "LPOP bl"]
    );
    assert_eq!(
        served(
            &["blmove", "bm", "dst", "left", "right", "0"],
            &["rpush", "bm", "x"]
        ),
        ["SELECT 0", "rpush bm x", "LMOVE bm dst left right"]
    );
    assert_eq!(
        served(&["brpoplpush", "bm", "dst", "0"], &["rpush", "bm", "x"]),
        ["SELECT 0", "rpush bm x", "RPOPLPUSH bm dst"]
    );
    assert_eq!(
        served(
            &["blmpop", "0", "1", "bm", "RIGHT", "COUNT", "5"],
            &["rpush", "bm", "x", "y"]
        ),
        ["SELECT 0", "rpush bm x y", "RPOP bm 2"]
    );
    assert_eq!(
        served(
            &["bzpopmin", "bz", "0"],
            &["zadd", "bz", "1", "a", "2", "b"]
        ),
        ["SELECT 0", "zadd bz 1 a 2 b", "ZPOPMIN bz"]
    );
    assert_eq!(
        served(
            &["bzmpop", "0", "1", "bz", "MAX", "COUNT", "5"],
            &["zadd", "bz", "1", "a"]
        ),
        ["SELECT 0", "zadd bz 1 a", "ZPOPMAX bz 1"]
    );
}

#[test]
fn a_served_client_in_another_database_gets_its_select() {
    let mut h = Harness::new();
    let (mut waiter, mut pusher) = (h.client(), h.client());
    h.run(&mut pusher, &["select", "3"]);
    h.run(&mut waiter, &["select", "3"]);
    assert_eq!(h.run(&mut waiter, &["blpop", "l", "0"]), Reply::NoReply);
    h.run(&mut pusher, &["rpush", "l", "x"]);
    h.run(&mut pusher, &["select", "0"]);
    h.run(&mut pusher, &["set", "k", "v"]);
    assert_eq!(
        h.effects(),
        ["SELECT 3", "rpush l x", "LPOP l", "SELECT 0", "set k v"]
    );
}

#[test]
fn flushes_are_propagated_even_when_empty() {
    check(
        &[
            &["select", "1"],
            &["set", "x", "1"],
            &["flushall"],
            &["flushdb"],
        ],
        &["SELECT 1", "set x 1", "flushall", "flushdb"],
    );
}

#[test]
fn a_write_that_finds_its_key_expired_deletes_it_first_in_a_transaction() {
    let mut h = Harness::new();
    let mut c = h.client();
    h.run(&mut c, &["set", "e", "v", "px", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    h.run(&mut c, &["incr", "e"]);
    assert_eq!(
        normalized(h.effects()),
        [
            "SELECT 0",
            "SET e v PXAT <ms>",
            "MULTI",
            "DEL e",
            "incr e",
            "EXEC"
        ]
    );
}

#[test]
fn the_active_expiry_propagates_dels_without_a_transaction() {
    let mut h = Harness::new();
    let mut c = h.client();
    for k in ["a", "b"] {
        h.run(&mut c, &["set", k, "v", "px", "1"]);
    }
    h.effects();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let slot = std::sync::atomic::AtomicUsize::new(0);
    crate::db::expiry::run_cycle(&h.server, std::time::Duration::from_secs(1), &slot);
    let mut effects = h.effects();
    effects.sort();
    assert_eq!(effects, ["DEL a", "DEL b"]);
}

#[test]
fn writes_that_change_nothing_are_not_effects() {
    check(
        &[
            &["set", "k", "v", "NX"],
            &["set", "k", "w", "NX"],
            &["del", "nothing"],
            &["srem", "nothing", "x"],
            &["expire", "nothing", "10"],
            &["ltrim", "nothing", "0", "1"],
            &["incr", "k"],
        ],
        &["SELECT 0", "set k v NX"],
    );
}

#[test]
fn the_offset_counts_every_byte() {
    let mut h = Harness::new();
    let mut c = h.client();
    let start = h.server.feed.offset();
    h.run(&mut c, &["set", "k", "v"]);
    let bytes = h.feed.take();
    assert_eq!(
        bytes,
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\nk\r\n$1\r\nv\r\n"
    );
    assert_eq!(h.server.feed.offset() - start, bytes.len() as u64);
    assert_eq!(h.feed.offset(), h.server.feed.offset());
}

#[test]
fn a_served_xreadgroup_replicates_as_xclaim() {
    let mut h = Harness::new();
    let (mut waiter, mut pusher) = (h.client(), h.client());
    h.run(
        &mut pusher,
        &["xgroup", "create", "k2", "g", "$", "MKSTREAM"],
    );
    let block = [
        "xreadgroup",
        "GROUP",
        "g",
        "c1",
        "BLOCK",
        "0",
        "STREAMS",
        "k2",
        ">",
    ];
    assert_eq!(h.run(&mut waiter, &block), Reply::NoReply);
    h.run(&mut pusher, &["xadd", "k2", "7-1", "a", "b"]);
    assert_eq!(
        normalized(h.effects()),
        [
            "SELECT 0",
            "xgroup create k2 g $ MKSTREAM",
            "xadd k2 7-1 a b",
            "XCLAIM k2 g c1 0 7-1 TIME <ms> RETRYCOUNT 1 FORCE JUSTID LASTID 7-1"
        ]
    );
}

#[test]
fn deleting_an_expired_key_propagates_its_expiry() {
    let mut h = Harness::new();
    let mut c = h.client();
    h.run(&mut c, &["set", "e", "v", "px", "1"]);
    h.effects();
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert_eq!(h.run(&mut c, &["del", "e"]), Reply::Int(0));
    assert_eq!(h.effects(), ["DEL e"]);
}

#[test]
fn overwriting_an_expired_key_expires_it_first() {
    let mut h = Harness::new();
    let mut c = h.client();
    h.run(&mut c, &["set", "e", "v", "px", "1"]);
    h.effects();
    std::thread::sleep(std::time::Duration::from_millis(5));
    h.run(&mut c, &["mset", "e", "w", "f", "x"]);
    assert_eq!(h.effects(), ["MULTI", "DEL e", "mset e w f x", "EXEC"]);
}

/// A fake MIGRATE target on a free port: answers `+OK` to each command of the one request it reads (SELECT and
/// the RESTOREs), then keeps the connection open.
fn accepting_target() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else {
            return;
        };
        let mut buf = vec![0u8; 64 * 1024];
        // SELECT and two RESTOREs: three multibulk headers (the small payloads hold no `*`).
        let mut headers = 0;
        while headers < 3 {
            match conn.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => headers += buf[..n].iter().filter(|&&b| b == b'*').count(),
            }
        }
        let _ = conn.write_all(b"+OK\r\n+OK\r\n+OK\r\n");
        std::thread::sleep(std::time::Duration::from_secs(5));
    });
    port
}

#[test]
fn migrate_propagates_the_keys_that_left_as_one_del() {
    let port = accepting_target().to_string();
    check(
        &[
            &["set", "a", "1"],
            &["set", "b", "2"],
            &[
                "migrate",
                "127.0.0.1",
                &port,
                "",
                "0",
                "2000",
                "KEYS",
                "a",
                "missing",
                "b",
            ],
        ],
        &["SELECT 0", "set a 1", "set b 2", "DEL a b"],
    );
}
