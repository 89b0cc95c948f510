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
    // Redis has 37: these and SORT, SORT_RO, which ferredis lacks.
    let sortedset = names(
        &mut ours,
        &["command", "list", "filterby", "aclcat", "sortedset"],
    );
    assert_eq!(sortedset.len(), 35, "{sortedset:?}");
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
