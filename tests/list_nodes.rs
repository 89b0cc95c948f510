//! `list-max-listpack-size` shapes a list's real quicklist nodes as in Redis: DEBUG OBJECT's `ql_*` fields (node
//! count, average entries a node, bytes) equal redis-server's after the same pushes, for entry-count fills,
//! byte-size fills and the 8 KB safety limit of positive fills.

mod common;
use common::{Client, Server};

const DEBUG_ON: &[&str] = &["--enable-debug-command", "yes"];

/// The `ql_*` part of DEBUG OBJECT's line.
fn quicklist(c: &mut Client, key: &str) -> String {
    let line = c.cmd(&["debug", "object", key]);
    match line.find(" ql_nodes:") {
        Some(at) => line[at..].trim_end().to_string(),
        None => panic!("no quicklist fields in {line:?}"),
    }
}

/// Runs the same pushes on both servers under `fill` and compares the node layout.
fn same_nodes(ours: &mut Client, redis: &mut Client, fill: &str, pushes: &[Vec<String>]) {
    for c in [&mut *ours, &mut *redis] {
        assert_eq!(
            c.cmd(&["config", "set", "list-max-listpack-size", fill]),
            "+OK\r\n"
        );
        c.cmd(&["del", "l"]);
        for p in pushes {
            let args: Vec<&str> = p.iter().map(String::as_str).collect();
            assert!(c.cmd(&args).starts_with(':'));
        }
    }
    let (got, want) = (quicklist(ours, "l"), quicklist(redis, "l"));
    let first = pushes.first().map(|p| &p[..3.min(p.len())]);
    assert_eq!(
        got,
        want,
        "fill {fill}, {} pushes from {first:?}",
        pushes.len()
    );
}

fn one_by_one(cmd: &str, items: impl Iterator<Item = String>) -> Vec<Vec<String>> {
    items
        .map(|i| vec![cmd.to_string(), "l".into(), i])
        .collect()
}

fn at_once(cmd: &str, items: impl Iterator<Item = String>) -> Vec<Vec<String>> {
    vec![[cmd.to_string(), "l".into()]
        .into_iter()
        .chain(items)
        .collect()]
}

#[test]
fn nodes_follow_list_max_listpack_size_as_in_redis() {
    let Some(redis) = Server::start_redis_with(DEBUG_ON) else {
        return;
    };
    let ours = Server::start_with(DEBUG_ON);
    let (mut a, mut b) = (ours.client(), redis.client());
    let short = |n: usize| (0..n).map(|i| format!("item-{i}"));
    let long = |n: usize, len: usize| (0..n).map(move |i| format!("{i}-{}", "x".repeat(len)));
    for fill in ["1", "3", "0", "128"] {
        same_nodes(&mut a, &mut b, fill, &one_by_one("rpush", short(10)));
        same_nodes(&mut a, &mut b, fill, &one_by_one("lpush", short(10)));
        same_nodes(&mut a, &mut b, fill, &at_once("rpush", short(300)));
        same_nodes(&mut a, &mut b, fill, &at_once("lpush", short(300)));
    }
    // The 8 KB safety limit of a positive fill: 1,000-byte entries, 8 a node whatever the count allows.
    same_nodes(&mut a, &mut b, "100", &one_by_one("rpush", long(20, 1000)));
    same_nodes(&mut a, &mut b, "100", &at_once("lpush", long(20, 1000)));
    for fill in ["-1", "-2", "-3", "-5", "-9"] {
        same_nodes(&mut a, &mut b, fill, &one_by_one("rpush", long(300, 40)));
        same_nodes(&mut a, &mut b, fill, &at_once("rpush", long(3000, 40)));
        same_nodes(&mut a, &mut b, fill, &at_once("lpush", long(40, 3000)));
    }
}

#[test]
fn a_bad_fill_is_refused_and_a_list_keeps_its_elements_across_fills() {
    let ours = Server::start_with(DEBUG_ON);
    let mut c = ours.client();
    assert_eq!(
        c.cmd(&["config", "set", "list-max-listpack-size", "x"]),
        "-ERR CONFIG SET failed (possibly related to argument 'list-max-listpack-size') - argument couldn't be parsed into an integer\r\n"
    );
    assert_eq!(
        c.cmd(&["config", "set", "list-max-listpack-size", "2"]),
        "+OK\r\n"
    );
    for i in 0..7 {
        c.cmd(&["rpush", "l", &format!("e{i}")]);
    }
    assert!(quicklist(&mut c, "l").starts_with(" ql_nodes:4 ql_avg_node:1.75 ql_listpack_max:2 "));
    assert_eq!(
        c.cmd(&["config", "set", "list-max-listpack-size", "-2"]),
        "+OK\r\n"
    );
    c.cmd(&["linsert", "l", "before", "e3", "new"]);
    c.cmd(&["lset", "l", "0", "first"]);
    assert_eq!(
        common::bulks(&c.cmd(&["lrange", "l", "0", "-1"])),
        ["first", "e1", "e2", "new", "e3", "e4", "e5", "e6"]
    );
}
