//! COMMAND's view of the table against redis-server: ACL categories (COMMAND LIST FILTERBY ACLCAT, COMMAND INFO).
mod common;

use std::collections::BTreeSet;

use common::{bulks, Client, Server};

fn names(c: &mut Client, args: &[&str]) -> BTreeSet<String> {
    bulks(&c.cmd(args)).into_iter().collect()
}

/// For every ACL category Redis has, the commands in it are the same on both servers, among the commands both
/// have (ferredis has a few of Redis 7.2's, such as CLIENT NO-TOUCH).
#[test]
fn command_list_filterby_aclcat_matches_redis_for_every_category() {
    let (srv, redis) = (Server::start(), Server::start_redis());
    let Some(redis) = redis else { return };
    let (mut ours, mut theirs) = (srv.client(), redis.client());
    let ours_all = names(&mut ours, &["command", "list"]);
    let theirs_all = names(&mut theirs, &["command", "list"]);
    let categories = bulks(&theirs.cmd(&["acl", "cat"]));
    assert_eq!(categories.len(), 21);
    for cat in &categories {
        let args = ["command", "list", "filterby", "aclcat", cat.as_str()];
        let ours_in: BTreeSet<String> = names(&mut ours, &args)
            .intersection(&theirs_all)
            .cloned()
            .collect();
        let theirs_in: BTreeSet<String> = names(&mut theirs, &args)
            .intersection(&ours_all)
            .cloned()
            .collect();
        assert_eq!(ours_in, theirs_in, "@{cat}");
    }
    // Redis 7.0 has 37, SORT and SORT_RO among them.
    let sortedset = names(
        &mut ours,
        &["command", "list", "filterby", "aclcat", "sortedset"],
    );
    assert_eq!(sortedset.len(), 37, "{sortedset:?}");
}

/// The categories part of COMMAND INFO, for a spread of commands.
#[test]
fn command_info_categories_match_redis() {
    let (srv, redis) = (Server::start(), Server::start_redis());
    let Some(redis) = redis else { return };
    let (mut ours, mut theirs) = (srv.client(), redis.client());
    for cmd in [
        "zadd",
        "bzpopmin",
        "flushall",
        "flushdb",
        "swapdb",
        "dbsize",
        "keys",
        "info",
        "command",
        "pubsub",
        "get",
        "multi",
        "client",
        "xreadgroup",
        "sunionstore",
        "hset",
        "lmove",
        "publish",
    ] {
        let info = |c: &mut Client| {
            let reply = c.cmd(&["command", "info", cmd]);
            bulks(&reply)
                .into_iter()
                .filter(|b| b.starts_with('@'))
                .collect::<Vec<_>>()
        };
        assert_eq!(info(&mut ours), info(&mut theirs), "{cmd}");
    }
    for sub in ["help", "channels"] {
        let reply = |c: &mut Client| {
            c.cmd(&[
                "command",
                "list",
                "filterby",
                "pattern",
                &format!("pubsub|{sub}"),
            ])
        };
        assert_eq!(reply(&mut ours), reply(&mut theirs));
    }
}

/// A parsed RESP2 reply, enough to pick COMMAND INFO apart.
#[derive(Debug, PartialEq, Clone)]
enum Resp {
    Line(String),
    Int(i64),
    Bulk(Option<String>),
    Array(Vec<Resp>),
}

fn parse(text: &str) -> Resp {
    fn one(lines: &mut std::str::Split<'_, &str>) -> Resp {
        let line = lines.next().unwrap_or_default();
        let (kind, rest) = line.split_at(1);
        match kind {
            "+" | "-" => Resp::Line(line.to_string()),
            ":" => Resp::Int(rest.parse().unwrap_or_default()),
            "$" if rest == "-1" => Resp::Bulk(None),
            "$" => Resp::Bulk(lines.next().map(str::to_string)),
            _ => {
                let n: i64 = rest.parse().unwrap_or_default();
                Resp::Array((0..n.max(0)).map(|_| one(lines)).collect())
            }
        }
    }
    one(&mut text.split("\r\n"))
}

/// COMMAND INFO's key positions (first, last, step) and key specs of one command.
fn key_part(c: &mut Client, name: &str) -> Vec<Resp> {
    match parse(&c.cmd(&["command", "info", name])) {
        Resp::Array(entries) => match entries.into_iter().next() {
            Some(Resp::Array(fields)) => [3, 4, 5, 8].iter().map(|&i| fields[i].clone()).collect(),
            other => panic!("{name}: {other:?}"),
        },
        other => panic!("{name}: {other:?}"),
    }
}

/// Every command both servers have: the same key positions and key specs (flags, begin_search, find_keys,
/// notes) in COMMAND INFO.
#[test]
fn command_info_key_specs_match_redis_for_every_command() {
    let (srv, redis) = (Server::start(), Server::start_redis());
    let Some(redis) = redis else { return };
    let (mut ours, mut theirs) = (srv.client(), redis.client());
    let theirs_all = names(&mut theirs, &["command", "list"]);
    let mut compared = 0;
    for name in names(&mut ours, &["command", "list"]).intersection(&theirs_all) {
        assert_eq!(
            key_part(&mut ours, name),
            key_part(&mut theirs, name),
            "{name}"
        );
        compared += 1;
    }
    assert!(compared > 200, "{compared}");
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS over a spread of commands: keys and their access flags, and the errors.
#[test]
fn getkeysandflags_matches_redis() {
    let cases: &[&[&str]] = &[
        &["lmove", "src", "dst", "left", "right"],
        &["blmove", "src", "dst", "left", "right", "0"],
        &["rpoplpush", "a", "b"],
        &["set", "k", "v"],
        &["set", "k", "v", "get"],
        &["set", "k", "v", "nx", "GET"],
        &["get", "k"],
        &["getex", "k", "persist"],
        &["getdel", "k"],
        &["del", "a", "b", "c"],
        &["mset", "a", "1", "b", "2"],
        &["msetnx", "a", "1", "b", "2"],
        &["rename", "a", "b"],
        &["copy", "a", "b", "db", "2"],
        &["smove", "a", "b", "m"],
        &["sunionstore", "d", "a", "b"],
        &["sintercard", "2", "a", "b", "limit", "3"],
        &["zunionstore", "d", "2", "a", "b", "weights", "1", "2"],
        &["zinter", "2", "a", "b"],
        &["zrangestore", "d", "src", "0", "-1"],
        &["lmpop", "2", "a", "b", "left"],
        &["blmpop", "0", "2", "a", "b", "left", "count", "2"],
        &["bzmpop", "0", "1", "z", "min"],
        &["bzpopmin", "a", "b", "0"],
        &["xread", "count", "2", "streams", "s1", "s2", "0", "0"],
        &["xreadgroup", "group", "g", "c", "streams", "s", ">"],
        &["xadd", "s", "*", "f", "v"],
        &["xgroup", "create", "s", "g", "$"],
        &["xinfo", "stream", "s"],
        &["object", "encoding", "k"],
        &["expire", "k", "10"],
        &["watch", "a", "b"],
        &["hset", "h", "f", "v"],
        &["lpush", "l", "x"],
        &["incr", "n"],
        &["append", "k", "x"],
        &["exists", "a", "b"],
        &["type", "k"],
        &["spublish", "chan", "msg"],
        &["zunionstore", "d", "5", "a", "b"],
        &["zunionstore", "d", "x", "a"],
        &["ping"],
        &["get"],
        &["nosuchcommand", "k"],
    ];
    let mut script: Vec<Vec<&str>> = Vec::new();
    for case in cases {
        for sub in ["getkeys", "getkeysandflags"] {
            let mut args = vec!["command", sub];
            args.extend_from_slice(case);
            script.push(args);
        }
    }
    let script: Vec<&[&str]> = script.iter().map(Vec::as_slice).collect();
    common::assert_same_as_redis(&script);
}
