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
    info_fields(c, name, &[3, 4, 5, 8])
}

/// Fields `at` of the COMMAND INFO entry of one command.
fn info_fields(c: &mut Client, name: &str, at: &[usize]) -> Vec<Resp> {
    match parse(&c.cmd(&["command", "info", name])) {
        Resp::Array(entries) => match entries.into_iter().next() {
            Some(Resp::Array(fields)) => at.iter().map(|&i| fields[i].clone()).collect(),
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
        &["sort", "k1", "store", "k2"],
        &["sort", "k1", "by", "w*", "store", "k2", "store", "k3"],
        &["sort_ro", "k1", "by", "w*"],
        &["eval", "return 1", "2", "a", "b", "c"],
        &["evalsha_ro", "abc", "1", "a"],
        &["georadius", "g", "0", "0", "1", "km", "store", "d"],
        &["georadius", "g", "0", "0", "1", "km", "storedist", "d"],
        &["georadiusbymember", "g", "m", "1", "km", "store", "d"],
        &["zdiffstore", "d", "2", "a", "b"],
        &["lcs", "a", "b"],
        &["pfmerge", "d", "a", "b"],
        &["eval", "return 1", "0"],
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

/// Every command both servers have: the same arity, flags (`movablekeys` included), ACL categories and tips in
/// COMMAND INFO.
#[test]
fn command_info_flags_match_redis_for_every_command() {
    let (srv, redis) = (Server::start(), Server::start_redis());
    let Some(redis) = redis else { return };
    let (mut ours, mut theirs) = (srv.client(), redis.client());
    let theirs_all = names(&mut theirs, &["command", "list"]);
    let head = |c: &mut Client, name: &str| info_fields(c, name, &[1, 2, 6, 7]);
    let mut differ = Vec::new();
    for name in names(&mut ours, &["command", "list"]).intersection(&theirs_all) {
        let (a, b) = (head(&mut ours, name), head(&mut theirs, name));
        if a != b {
            differ.push(format!("{name}: ours {a:?} redis {b:?}"));
        }
    }
    assert!(differ.is_empty(), "{}", differ.join("\n"));
    let movable = head(&mut ours, "zunionstore");
    assert!(
        format!("{movable:?}").contains("movablekeys"),
        "{movable:?}"
    );
}

/// `subcommands` pairs sorted by name (Redis lists them in its dict's order) and kept only where both servers
/// have the subcommand (`keep`).
fn normalize_docs(reply: Resp, keep: &BTreeSet<String>) -> Resp {
    let Resp::Array(items) = reply else {
        return reply;
    };
    let mut out = Vec::with_capacity(items.len());
    let mut items = items.into_iter();
    while let Some(item) = items.next() {
        if item == Resp::Bulk(Some("subcommands".into())) {
            let Some(Resp::Array(subs)) = items.next() else {
                panic!("subcommands without a map");
            };
            let mut pairs: Vec<(Resp, Resp)> = subs
                .chunks(2)
                .filter(|p| matches!(&p[0], Resp::Bulk(Some(n)) if keep.contains(n)))
                .map(|p| (p[0].clone(), normalize_docs(p[1].clone(), keep)))
                .collect();
            pairs.sort_by_key(|(name, _)| format!("{name:?}"));
            out.push(item);
            out.push(Resp::Array(
                pairs.into_iter().flat_map(|(a, b)| [a, b]).collect(),
            ));
            continue;
        }
        out.push(normalize_docs(item, keep));
    }
    Resp::Array(out)
}

/// COMMAND DOCS of every command both servers have: summary, since, group, complexity, doc flags, history and the
/// argument trees, the same as Redis 7.0's.
#[test]
fn command_docs_match_redis_for_every_command() {
    let (srv, redis) = (Server::start(), Server::start_redis());
    let Some(redis) = redis else { return };
    let (mut ours, mut theirs) = (srv.client(), redis.client());
    let both: BTreeSet<String> = names(&mut ours, &["command", "list"])
        .intersection(&names(&mut theirs, &["command", "list"]))
        .cloned()
        .collect();
    for name in both.iter().filter(|n| !n.contains('|')) {
        let docs =
            |c: &mut Client| normalize_docs(parse(&c.cmd(&["command", "docs", name])), &both);
        assert_eq!(docs(&mut ours), docs(&mut theirs), "{name}");
    }
    // RESP3: maps, sets of flags; a command without subcommands compares byte for byte.
    ours.cmd(&["hello", "3"]);
    theirs.cmd(&["hello", "3"]);
    for cmd in [
        &["command", "docs", "set", "zadd"][..],
        &["command", "docs", "client|kill"],
    ] {
        assert_eq!(ours.cmd(cmd), theirs.cmd(cmd), "{cmd:?}");
    }
}

/// COMMAND LIST's filters and errors, and COMMAND's replies for what the server lacks.
#[test]
fn command_list_filters_match_redis() {
    common::assert_same_as_redis(&[
        &["command", "list", "filterby", "module", "foo"],
        &["command", "list", "filterby", "aclcat", "nosuch"],
        &["command", "list", "filterby", "pattern", "xgroup|h*"],
        &["command", "list", "filterby", "pattern", "lolwu?"],
        &["command", "list", "filterby", "nosuch", "x"],
        &["command", "list", "filterby", "pattern"],
        &["command", "list", "nosuch"],
        &["command", "info", "nosuch", "get"],
        &["command", "docs", "nosuch"],
        &["command", "docs", "slowlog|get", "latency|histogram"],
        &[
            "command",
            "info",
            "slowlog|get",
            "latency|doctor",
            "module|list",
            "lolwut",
        ],
        &["command", "getkeys", "slowlog", "get"],
        &["command", "count", "x"],
    ]);
}
