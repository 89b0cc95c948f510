//! SORT and SORT_RO against redis-server byte for byte: lists, sets and sorted sets, numeric and ALPHA, ASC/DESC,
//! LIMIT, BY (nosort, keys, hash fields), GET (#, keys, hash fields), STORE, errors, RESP3, events and WATCH, and
//! BY/GET reading keys in every shard (which the lock plan must cover), alone and inside MULTI.

mod collections;
mod common;
mod vs_redis;

use collections::{same, same_events, same_resp3};
use common::Server;
use proptest::prelude::*;
use vs_redis::with_pair;

const LIST: &str = "RPUSH l 3 1 2 10 -5 1.5 +inf";
const WEIGHTS: &str = "MSET w_3 30 w_1 10 w_2 20 w_10 5 w_-5 -50 d_3 three d_1 one";

#[test]
fn numeric_and_alpha_on_a_list() {
    same(&[
        LIST,
        "SORT l",
        "SORT l DESC",
        "SORT l ALPHA",
        "SORT l ALPHA DESC",
        "SORT l asc desc asc",
        "SORT_RO l DESC",
        "RPUSH e \"\" 0x10 1e2 -0 00 0",
        "SORT e",
        "SORT e DESC",
        "RPUSH bad a 1 b",
        "SORT bad",
        "SORT bad ALPHA",
        "SORT bad DESC LIMIT 0 1",
        "RPUSH n 1 nan",
        "SORT n",
        "SORT nokey",
        "SORT nokey DESC ALPHA LIMIT 0 1",
    ]);
}

#[test]
fn limit_windows() {
    same(&[
        LIST,
        "SORT l LIMIT 1 3",
        "SORT l LIMIT 1 3 DESC",
        "SORT l LIMIT -5 2",
        "SORT l LIMIT 5 100",
        "SORT l LIMIT 100 1",
        "SORT l LIMIT 0 0",
        "SORT l LIMIT 0 -3",
        "SORT l LIMIT 6 1",
        "SORT l LIMIT 7 1",
        "SORT l LIMIT 0 1 LIMIT 2 2",
        "SORT l LIMIT x 1",
        "SORT l LIMIT 1 y",
        "SORT l LIMIT 99999999999999999999 1",
        "SORT l LIMIT 1",
        "SORT l BY nosort LIMIT 2 3",
        "SORT l BY nosort DESC LIMIT 2 3",
        "SORT l BY nosort LIMIT 10 3",
        "SORT l BY nosort LIMIT -1 -1 DESC",
        "SORT nokey LIMIT 0 5",
        "SORT nokey BY nosort LIMIT 1 5",
    ]);
}

#[test]
fn by_and_get_patterns() {
    same(&[
        LIST,
        WEIGHTS,
        "SORT l BY nosort",
        "SORT l BY nosort DESC",
        "SORT l BY w_*",
        "SORT l BY w_* DESC GET # GET d_*",
        "SORT l BY w_* GET d_* GET nosuch GET #",
        "SORT l GET d_* LIMIT 0 2",
        "SORT l BY w_* ALPHA",
        "SORT l BY w_* ALPHA DESC",
        "SORT l BY w_* LIMIT 1 2",
        "SORT l BY w_* LIMIT 1 2 DESC",
        "SORT l BY nosort BY w_*",
        "SORT l BY w_* BY nosort GET d_*",
        "SORT l BY *",
        "SORT l GET *",
        "SORT l GET #x",
        "SORT l BY w_* ALPHA GET # GET w_*",
        "HSET h_3 f 3 g z",
        "HSET h_1 f 1 g a",
        "HSET h_2 f 2",
        "SORT l BY h_*->f GET h_*->g GET # GET h_*->",
        "SORT l BY h_*->g ALPHA GET h_*->g",
        "SORT l BY h_*->f DESC GET h_*->f",
        "SORT l BY d_*->f",
        "SORT l GET h_*->f->g",
        "SORT l GET d_*->x",
        "SORT l BY nosort GET h_*->f",
        "SET w_2 notanumber",
        "SORT l BY w_*",
        "SORT l BY w_* ALPHA",
        "SORT_RO l BY w_* ALPHA GET d_*",
    ]);
}

#[test]
fn sets_and_sorted_sets() {
    same(&[
        WEIGHTS,
        "SADD s 5 3 9 1 7 -5 10",
        "SORT s",
        "SORT s DESC",
        "SORT s BY nosort",
        "SORT s BY nosort LIMIT 1 3",
        "SORT s BY w_* GET d_* GET #",
        "SORT s LIMIT 1 2 ALPHA",
        "SADD s2 b a c aa ab",
        "SORT s2 ALPHA",
        "SORT s2 ALPHA DESC LIMIT 1 2",
        "SORT s2",
        "ZADD z 1 c 2 a 3 b 0 x 2 b2",
        "SORT z ALPHA",
        "SORT z BY nosort",
        "SORT z BY nosort DESC",
        "SORT z BY nosort LIMIT 1 2",
        "SORT z BY nosort DESC LIMIT 1 2",
        "SORT z BY nosort LIMIT 1 100",
        "SORT z BY nosort LIMIT 9 100",
        "SORT z",
        "OBJECT ENCODING z",
        "ZADD z2 1 3 2 1 3 2",
        "SORT_RO z2",
        "OBJECT ENCODING z2",
        "SORT_RO z2 BY nosort DESC GET w_*",
    ]);
}

/// ALPHA BY weights that tie (equal, or missing): Redis orders them by its partial quicksort when LIMIT cuts the
/// result, by its stable merge sort otherwise.
#[test]
fn tied_weights_keep_redis_order() {
    let mut push = String::from("RPUSH l");
    let mut weights = String::from("MSET");
    for i in 0..70 {
        push.push_str(&format!(" e{i}"));
        if i % 3 != 0 {
            weights.push_str(&format!(" w_e{i} {}", i % 4));
        }
    }
    same(&[
        &push,
        &weights,
        "SORT l BY w_* ALPHA LIMIT 0 5",
        "SORT l BY w_* ALPHA LIMIT 10 20 DESC",
        "SORT l BY w_* ALPHA LIMIT 60 20",
        "SORT l BY w_* ALPHA",
        "SORT l BY w_* ALPHA DESC",
        "SORT l BY w_* ALPHA LIMIT 3 4 STORE dst",
        "LRANGE dst 0 -1",
        "SORT l BY w_* LIMIT 0 10",
    ]);
}

#[test]
fn store() {
    same(&[
        LIST,
        WEIGHTS,
        "SORT l BY w_* STORE dst",
        "LRANGE dst 0 -1",
        "SORT l BY w_* GET d_* GET # STORE dst",
        "LRANGE dst 0 -1",
        "EXPIRE dst 100",
        "SORT l STORE dst DESC",
        "TTL dst",
        "LRANGE dst 0 -1",
        "OBJECT ENCODING dst",
        "SORT l LIMIT 100 1 STORE dst",
        "EXISTS dst",
        "SORT nokey STORE dst",
        "SADD s 5 3 9 b a",
        "SORT s BY nosort STORE dst",
        "LRANGE dst 0 -1",
        "SORT s BY nosort STORE dst LIMIT 1 2 DESC",
        "LRANGE dst 0 -1",
        "ZADD z 1 c 2 a 3 b",
        "SORT z BY nosort STORE dst DESC",
        "LRANGE dst 0 -1",
        "SORT l STORE a STORE b",
        "EXISTS a",
        "LRANGE b 0 -1",
        "SORT l STORE l",
        "LRANGE l 0 -1",
        "SET str x",
        "SORT l STORE str",
        "TYPE str",
    ]);
}

#[test]
fn errors() {
    same(&[
        LIST,
        "SET str x",
        "HSET hash f v",
        "SORT str",
        "SORT hash",
        "SORT str LIMIT x 1",
        "SORT l bogus",
        "SORT l GET",
        "SORT l BY",
        "SORT l STORE",
        "SORT l LIMIT",
        "SORT l LIMIT 0",
        "SORT_RO l STORE x",
        "SORT_RO str",
        "SORT",
        "SORT_RO",
    ]);
}

#[test]
fn resp3_replies() {
    same_resp3(&[
        LIST,
        WEIGHTS,
        "SORT l GET d_* GET #",
        "SORT l BY nosort",
        "SORT nokey",
        "SORT l STORE dst",
    ]);
}

#[test]
fn keyspace_events() {
    same_events(&[
        LIST,
        "SORT l STORE dst",
        "SORT l STORE dst DESC LIMIT 0 2",
        "SORT l LIMIT 100 1 STORE dst",
        "SORT l LIMIT 100 1 STORE dst",
        "SORT nokey STORE dst",
        "SORT l",
    ]);
}

#[test]
fn command_rows() {
    let server = Server::start();
    let mut c = server.client();
    let info = c.cmd(&["COMMAND", "INFO", "sort", "sort_ro"]);
    for category in [
        "+@write",
        "+@set",
        "+@sortedset",
        "+@list",
        "+@slow",
        "+@dangerous",
    ] {
        assert!(
            info.contains(&format!("{category}\r\n")),
            "{category} in {info}"
        );
    }
    assert!(!info.contains("+@keyspace"), "{info}");
    assert!(info.contains("+@read\r\n"), "{info}");
    let keys = [
        "COMMAND", "GETKEYS", "SORT", "l", "LIMIT", "0", "1", "GET", "store", "STORE", "d",
    ];
    assert_eq!(c.cmd(&keys), "*2\r\n$1\r\nl\r\n$1\r\nd\r\n");
    let keys = ["COMMAND", "GETKEYS", "SORT_RO", "l", "GET", "x"];
    assert_eq!(c.cmd(&keys), "*1\r\n$1\r\nl\r\n");
}

/// BY and GET patterns reach keys of every shard: the lock plan takes the whole database, alone and in EXEC (a
/// key used without its lock would panic and close the connection).
#[test]
fn patterns_reach_every_shard() {
    let server = Server::start();
    let mut c = server.client();
    let n = 200;
    let mut push = vec!["RPUSH".to_string(), "l".to_string()];
    let mut mset = vec!["MSET".to_string()];
    for i in 0..n {
        push.push(i.to_string());
        mset.extend([format!("w_{i}"), (n - i).to_string()]);
        mset.extend([format!("d_{i}"), format!("v{i}")]);
    }
    let refs = |v: &[String]| v.iter().map(String::clone).collect::<Vec<_>>();
    let args: Vec<String> = refs(&push);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&argv), format!(":{n}\r\n"));
    let args: Vec<String> = refs(&mset);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&argv), "+OK\r\n");
    let first_three = "*3\r\n$4\r\nv199\r\n$4\r\nv198\r\n$4\r\nv197\r\n";
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "w_*", "GET", "d_*", "LIMIT", "0", "3"]),
        first_three
    );
    let hset = ["HSET", "h_5", "f", "-1"];
    assert_eq!(c.cmd(&hset), ":1\r\n");
    let top = c.cmd(&["SORT", "l", "BY", "h_*->f", "LIMIT", "0", "1"]);
    assert_eq!(top, "*1\r\n$1\r\n5\r\n");
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "w_*", "GET", "d_*", "STORE", "out"]),
        "+QUEUED\r\n"
    );
    assert_eq!(
        c.cmd(&["SORT_RO", "l", "BY", "w_*", "GET", "d_*", "LIMIT", "0", "3"]),
        "+QUEUED\r\n"
    );
    assert_eq!(c.cmd(&["EXEC"]), format!("*2\r\n:{n}\r\n{first_three}"));
    assert_eq!(c.cmd(&["LINDEX", "out", "0"]), "$4\r\nv199\r\n");
}

#[test]
fn store_invalidates_watch() {
    let server = Server::start();
    let (mut a, mut b) = (server.client(), server.client());
    assert_eq!(a.cmd(&["RPUSH", "l", "2", "1"]), ":2\r\n");
    for store in [
        ["SORT", "l", "STORE", "dst"],
        ["SORT", "nokey", "STORE", "dst"],
    ] {
        assert_eq!(a.cmd(&["WATCH", "dst"]), "+OK\r\n");
        assert_eq!(a.cmd(&["MULTI"]), "+OK\r\n");
        assert_eq!(a.cmd(&["PING"]), "+QUEUED\r\n");
        assert!(b.cmd(&store).starts_with(':'));
        assert_eq!(
            a.cmd(&["EXEC"]),
            "*-1\r\n",
            "{store:?} must abort the watcher"
        );
    }
}

/// A random SORT request over a list or an intset whose elements are small integers or short words.
#[derive(Debug, Clone)]
struct Case {
    elements: Vec<String>,
    as_set: bool,
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    by: Option<&'static str>,
    gets: Vec<&'static str>,
    store: bool,
    /// Elements with no weight key or hash field (only where missing weights cannot tie in ALPHA order).
    unweighted: Vec<bool>,
}

fn element() -> impl Strategy<Value = String> {
    prop_oneof![
        (-20..20i32).prop_map(|n| n.to_string()),
        "[a-c]{1,2}",
        Just("1.5".to_string()),
        Just(String::new()),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    let options = (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::option::of((-3..12i64, -3..12i64)),
        prop::option::of(prop::sample::select(vec!["nosort", "w_*", "h_*->f"])),
        prop::collection::vec(
            prop::sample::select(vec!["#", "d_*", "h_*->g", "nokey_*"]),
            0..3,
        ),
        any::<bool>(),
    );
    (
        prop::collection::vec(element(), 0..24),
        options,
        prop::collection::vec(any::<bool>(), 24),
    )
        .prop_map(
            |(elements, (as_set, desc, alpha, limit, by, gets, store), unweighted)| Case {
                elements,
                as_set,
                desc,
                alpha,
                limit,
                by,
                gets,
                store,
                unweighted,
            },
        )
}

impl Case {
    /// The data: the list (or an intset of its integers), and distinct weights (a string and a hash field) per
    /// element, left out for some in numeric order.
    fn load(&self, p: &mut vs_redis::Pair) {
        let (cmd, elements): (&str, Vec<&String>) = if self.as_set {
            let ints = self
                .elements
                .iter()
                .filter(|e| e.parse::<i64>().is_ok())
                .collect();
            ("SADD", ints)
        } else {
            ("RPUSH", self.elements.iter().collect())
        };
        if !elements.is_empty() {
            let mut args = vec![cmd.to_string(), "src".to_string()];
            args.extend(elements.iter().map(|e| e.to_string()));
            p.same_owned(&args);
        }
        for (i, e) in self.elements.iter().enumerate() {
            if self.unweighted[i] && !self.alpha {
                continue;
            }
            let weight = ((i * 7919) % 1009).to_string();
            p.same_owned(&["SET".into(), format!("w_{e}"), weight.clone()]);
            p.same_owned(&["SET".into(), format!("d_{e}"), format!("data-{e}")]);
            let hash = [
                "HSET".into(),
                format!("h_{e}"),
                "f".into(),
                weight,
                "g".into(),
                format!("g{i}"),
            ];
            p.same_owned(&hash);
        }
    }

    fn command(&self) -> Vec<String> {
        let mut cmd = vec!["SORT".to_string(), "src".to_string()];
        if let Some(by) = self.by {
            cmd.extend(["BY".into(), by.into()]);
        }
        if let Some((offset, count)) = self.limit {
            cmd.extend(["LIMIT".into(), offset.to_string(), count.to_string()]);
        }
        for get in &self.gets {
            cmd.extend(["GET".into(), get.to_string()]);
        }
        if self.desc {
            cmd.push("DESC".into());
        }
        if self.alpha {
            cmd.push("ALPHA".into());
        }
        if self.store {
            cmd.extend(["STORE".into(), "dst".into()]);
        }
        cmd
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_sorts_match_redis(case in case()) {
        with_pair(|p| {
            case.load(p);
            p.same_owned(&case.command());
            p.same(&["LRANGE", "dst", "0", "-1"]);
            let mut ro = case.command();
            ro[0] = "SORT_RO".into();
            if case.store {
                ro.truncate(ro.len() - 2);
            }
            p.same_owned(&ro);
        });
    }
}

/// A list stored by SORT ... STORE serves a client blocked on it, as Redis's setKey does; an empty result does not.
#[test]
fn store_serves_blocked_pops() {
    for server in [Some(Server::start()), Server::start_redis()]
        .into_iter()
        .flatten()
    {
        let mut c = server.client();
        assert_eq!(c.cmd(&["RPUSH", "l", "3", "1", "2"]), ":3\r\n");
        let mut waiter = server.blocked_client(&["BLPOP", "dst", "0"]);
        assert_eq!(c.cmd(&["SORT", "nokey", "STORE", "dst"]), ":0\r\n");
        assert_eq!(c.cmd(&["SORT", "l", "STORE", "dst", "DESC"]), ":3\r\n");
        assert_eq!(waiter.read_reply(), "*2\r\n$3\r\ndst\r\n$1\r\n3\r\n");
        assert_eq!(
            c.cmd(&["LRANGE", "dst", "0", "-1"]),
            "*2\r\n$1\r\n2\r\n$1\r\n1\r\n"
        );
    }
}
