//! Clients blocked in XREADGROUP when their stream goes away: deleted, replaced by another type, flushed, or
//! swapped out by SWAPDB. Redis answers them `-UNBLOCKED the stream key no longer exists` (or NOGROUP when the
//! stream is replaced by one without their group); XREAD clients keep waiting. Each case runs on ferredis and on
//! redis-server with the same expectations.
mod common;

use common::Server;

const GONE: &str = "-UNBLOCKED the stream key no longer exists\r\n";
const NOGROUP: &str = "-NOGROUP the consumer group this client was blocked on no longer exists\r\n";

fn servers() -> Vec<Server> {
    let mut all = vec![Server::start()];
    all.extend(Server::start_redis());
    all
}

/// Sets up `mystream` with group `mygroup` in db 9, blocks a reader there, runs `then` from another client (in db
/// 9) and returns what the reader got.
fn blocked_then(srv: &Server, then: &[&[&str]]) -> String {
    let mut r = srv.client();
    assert_eq!(r.cmd(&["select", "9"]), "+OK\r\n");
    r.cmd(&["del", "mystream"]);
    assert_eq!(
        r.cmd(&["xadd", "mystream", "666", "f", "v"]),
        "$5\r\n666-0\r\n"
    );
    assert_eq!(
        r.cmd(&["xgroup", "create", "mystream", "mygroup", "$"]),
        "+OK\r\n"
    );
    let before = srv.blocked_clients();
    let mut rd = srv.client();
    assert_eq!(rd.cmd(&["select", "9"]), "+OK\r\n");
    rd.send(&[
        "xreadgroup",
        "group",
        "mygroup",
        "Alice",
        "block",
        "0",
        "streams",
        "mystream",
        ">",
    ]);
    srv.wait_blocked(|n| n > before);
    for args in then {
        r.cmd(args);
    }
    rd.read_reply()
}

#[test]
fn deleted_or_retyped_stream_unblocks_xreadgroup() {
    for srv in servers() {
        assert_eq!(blocked_then(&srv, &[&["del", "mystream"]]), GONE);
        assert_eq!(blocked_then(&srv, &[&["set", "mystream", "val1"]]), GONE);
        let multi: &[&[&str]] = &[
            &["multi"],
            &["del", "mystream"],
            &["sadd", "mystream", "e1"],
            &["exec"],
        ];
        assert_eq!(blocked_then(&srv, multi), GONE);
    }
}

#[test]
fn flushall_and_flushdb_unblock_xreadgroup() {
    for srv in servers() {
        assert_eq!(blocked_then(&srv, &[&["flushall"]]), GONE);
        assert_eq!(blocked_then(&srv, &[&["flushdb"]]), GONE);
        assert_eq!(blocked_then(&srv, &[&["flushall", "async"]]), GONE);
    }
}

#[test]
fn swapdb_unblocks_xreadgroup() {
    for srv in servers() {
        let mut r = srv.client();
        r.cmd(&["select", "4"]);
        r.cmd(&["flushdb"]);
        assert_eq!(blocked_then(&srv, &[&["swapdb", "4", "9"]]), GONE);
        r.cmd(&["flushall"]);
        r.cmd(&["lpush", "mystream", "e1"]);
        assert_eq!(blocked_then(&srv, &[&["swapdb", "4", "9"]]), GONE);
        r.cmd(&["flushall"]);
        r.cmd(&["xadd", "mystream", "1", "a", "b"]);
        assert_eq!(blocked_then(&srv, &[&["swapdb", "4", "9"]]), NOGROUP);
    }
}

/// A flushed or deleted stream leaves XREAD waiting: it is served by the next entry added.
#[test]
fn xread_keeps_waiting_through_flush_and_delete() {
    for srv in servers() {
        let mut r = srv.client();
        for wipe in [&["flushall"][..], &["del", "s"], &["set", "s", "x"]] {
            r.cmd(&["del", "s"]);
            r.cmd(&["xadd", "s", "1", "f", "v"]);
            let mut rd = srv.blocked_client(&["xread", "block", "0", "streams", "s", "$"]);
            r.cmd(wipe);
            r.cmd(&["del", "s"]);
            r.cmd(&["xadd", "s", "2", "f", "v"]);
            assert_eq!(
                rd.read_reply(),
                "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
            );
        }
    }
}

/// An error answered to a blocked client counts as its command's failure: XGROUP DESTROY's NOGROUP and an
/// `UNBLOCKED` from a deleted stream show in INFO errorstats, commandstats and `total_error_replies`, as Redis
/// counts them when it unblocks the client.
#[test]
fn errors_to_blocked_clients_are_counted() {
    for srv in servers() {
        let mut r = srv.client();
        assert_eq!(r.cmd(&["config", "resetstat"]), "+OK\r\n");
        assert_eq!(
            blocked_then(&srv, &[&["xgroup", "destroy", "mystream", "mygroup"]]),
            NOGROUP
        );
        assert_eq!(blocked_then(&srv, &[&["del", "mystream"]]), GONE);
        let info = r.cmd(&["info", "all"]);
        let line = |prefix: &str| {
            info.lines()
                .find(|l| l.starts_with(prefix))
                .map(|l| l.split(",rejected").next().unwrap_or(l).to_owned())
        };
        assert_eq!(
            line("errorstat_NOGROUP:").as_deref(),
            Some("errorstat_NOGROUP:count=1")
        );
        assert_eq!(
            line("errorstat_UNBLOCKED:").as_deref(),
            Some("errorstat_UNBLOCKED:count=1")
        );
        assert_eq!(
            line("total_error_replies:").as_deref(),
            Some("total_error_replies:2")
        );
        let xreadgroup = info
            .lines()
            .find(|l| l.starts_with("cmdstat_xreadgroup:"))
            .expect("cmdstat_xreadgroup");
        assert!(
            xreadgroup.starts_with("cmdstat_xreadgroup:calls=2,"),
            "{xreadgroup}"
        );
        assert!(
            xreadgroup.ends_with("rejected_calls=0,failed_calls=2"),
            "{xreadgroup}"
        );
    }
}
