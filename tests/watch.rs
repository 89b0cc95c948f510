//! WATCH / UNWATCH: invalidation by every kind of change (writes, deletes, expiry, RENAME, MOVE, FLUSHDB,
//! FLUSHALL, SWAPDB) with Redis 7.0's rules for stale keys, the clean-up on EXEC, DISCARD, UNWATCH and disconnect,
//! and the optimistic-lock pattern WATCH exists for.

mod common;
mod session;

use std::thread;
use std::time::Duration;

use common::Server;
use session::{assert_session_same_as_redis, PAUSE};

/// The reply to WATCH key; (other client writes); MULTI; PING; EXEC.
fn exec_after_watch(s: &Server, key: &str, change: &[&[&str]]) -> String {
    let (mut watcher, mut other) = (s.client(), s.client());
    assert_eq!(watcher.cmd(&["WATCH", key]), "+OK\r\n");
    for cmd in change {
        other.cmd(cmd);
    }
    assert_eq!(watcher.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(watcher.cmd(&["PING"]), "+QUEUED\r\n");
    watcher.cmd(&["EXEC"])
}

const ABORTED: &str = "*-1\r\n";
const RAN: &str = "*1\r\n+PONG\r\n";

#[test]
fn watch_sessions_match_redis() {
    assert_session_same_as_redis(
        2,
        &[
            // Another client's write aborts; a failed EXEC clears the watch, so the retry runs.
            (0, &["WATCH", "x"]),
            (1, &["SET", "x", "1"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // Its own write before MULTI aborts too.
            (0, &["WATCH", "x"]),
            (0, &["INCR", "x"]),
            (0, &["MULTI"]),
            (0, &["EXEC"]),
            // Deleting a key that does not exist changes nothing.
            (0, &["WATCH", "nokey"]),
            (1, &["DEL", "nokey"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // Reading changes nothing; watching twice is watching once.
            (0, &["WATCH", "x", "x"]),
            (0, &["WATCH", "x"]),
            (1, &["GET", "x"]),
            (1, &["EXISTS", "x"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // UNWATCH forgets; DISCARD forgets.
            (0, &["WATCH", "x"]),
            (0, &["UNWATCH"]),
            (1, &["SET", "x", "2"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["WATCH", "x"]),
            (0, &["MULTI"]),
            (0, &["DISCARD"]),
            (1, &["SET", "x", "3"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // A dirty watch cleared by DISCARD does not abort the next transaction.
            (0, &["WATCH", "x"]),
            (1, &["SET", "x", "4"]),
            (0, &["MULTI"]),
            (0, &["DISCARD"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // A watch remembers its database.
            (0, &["WATCH", "x"]),
            (1, &["SELECT", "1"]),
            (1, &["SET", "x", "other-db"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["SELECT", "1"]),
            (0, &["WATCH", "x"]),
            (0, &["SELECT", "0"]),
            (1, &["SET", "x", "again"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // A doomed transaction says EXECABORT even when a watched key changed too.
            (0, &["WATCH", "x"]),
            (1, &["SET", "x", "6"]),
            (0, &["MULTI"]),
            (0, &["nosuchcommand"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // The transaction's own writes to a watched key do not abort it.
            (0, &["WATCH", "x"]),
            (0, &["MULTI"]),
            (0, &["SET", "x", "7"]),
            (0, &["EXEC"]),
            (0, &["GET", "x"]),
            // A rejected EXEC drops the watches as well.
            (0, &["WATCH", "x"]),
            (0, &["exec", "x"]),
            (1, &["SET", "x", "5"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
        ],
    );
}

#[test]
fn watch_and_expiry_follow_redis_7() {
    assert_session_same_as_redis(
        2,
        &[
            // Live at WATCH, expired before EXEC: modified, even if nobody touched it.
            (0, &["SET", "x", "1", "PX", "30"]),
            (0, &["WATCH", "x"]),
            (PAUSE, &["80"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // Already expired at WATCH: its deletion is no change.
            (0, &["SET", "y", "1", "PX", "1"]),
            (PAUSE, &["20"]),
            (0, &["WATCH", "y"]),
            (1, &["DEL", "y"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // ...but bringing it back is.
            (0, &["SET", "z", "1", "PX", "1"]),
            (PAUSE, &["20"]),
            (0, &["WATCH", "z"]),
            (1, &["SET", "z", "2"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // A TTL set on a watched key is a change.
            (0, &["SET", "t", "1"]),
            (0, &["WATCH", "t"]),
            (1, &["SET", "t", "1", "EX", "100"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
        ],
    );
}

#[test]
fn watch_is_invalidated_by_writes_and_deletes() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(exec_after_watch(&s, "w", &[&["SET", "w", "1"]]), ABORTED);
    assert_eq!(exec_after_watch(&s, "w", &[&["INCR", "w"]]), ABORTED);
    assert_eq!(exec_after_watch(&s, "w", &[&["DEL", "w"]]), ABORTED);
    assert_eq!(exec_after_watch(&s, "w", &[&["DEL", "w"]]), RAN);
    assert_eq!(exec_after_watch(&s, "w", &[&["GET", "w"]]), RAN);
    // A failed write changes nothing.
    c.cmd(&["SET", "w", "text"]);
    assert_eq!(exec_after_watch(&s, "w", &[&["INCR", "w"]]), RAN);
    // A write inside another client's EXEC counts.
    assert_eq!(
        exec_after_watch(&s, "w", &[&["MULTI"], &["SET", "w", "2"], &["EXEC"]]),
        ABORTED
    );
    // Another key in the same shard or elsewhere does not.
    let others: Vec<String> = (0..200).map(|i| format!("other{i}")).collect();
    let writes: Vec<[&str; 3]> = others.iter().map(|k| ["SET", k.as_str(), "1"]).collect();
    let writes: Vec<&[&str]> = writes.iter().map(|w| &w[..]).collect();
    assert_eq!(exec_after_watch(&s, "w", &writes), RAN);
}

#[test]
fn watch_is_invalidated_by_active_expiry() {
    // Nobody reads the key: the server's expiry cycle deletes it, which must still abort the EXEC.
    let s = Server::start_with(&["--hz", "100"]);
    let mut c = s.client();
    c.cmd(&["SET", "e", "1", "PX", "20"]);
    assert_eq!(c.cmd(&["WATCH", "e"]), "+OK\r\n");
    let mut other = s.client();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while other.cmd(&["DBSIZE"]) != ":0\r\n" && std::time::Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(other.cmd(&["DBSIZE"]), ":0\r\n", "expiry cycle did not run");
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), "+QUEUED\r\n");
    assert_eq!(c.cmd(&["EXEC"]), ABORTED);
}

#[test]
fn a_disconnected_watcher_leaves_nothing_behind() {
    let s = Server::start();
    for _ in 0..20 {
        let mut gone = s.client();
        assert_eq!(gone.cmd(&["WATCH", "d1", "d2", "d3"]), "+OK\r\n");
        assert_eq!(gone.cmd(&["MULTI"]), "+OK\r\n");
        assert_eq!(gone.cmd(&["SET", "d1", "x"]), "+QUEUED\r\n");
    }
    // Writers keep working (the dropped watchers' entries were removed under their locks), and a fresh watcher
    // sees only its own state.
    let mut c = s.client();
    assert_eq!(c.cmd(&["SET", "d1", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "d1"]), "$1\r\n1\r\n");
    assert_eq!(exec_after_watch(&s, "d2", &[]), RAN);
    assert_eq!(exec_after_watch(&s, "d2", &[&["SET", "d2", "1"]]), ABORTED);
}

#[test]
fn optimistic_locking_counts_exactly() {
    // The pattern WATCH exists for: read, compute, write back only if nobody else wrote in between.
    const CLIENTS: usize = 10;
    const PER_CLIENT: usize = 50;
    let s = Server::start();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let mut c = s.client();
            thread::spawn(move || {
                let mut retries = 0;
                for _ in 0..PER_CLIENT {
                    loop {
                        assert_eq!(c.cmd(&["WATCH", "counter"]), "+OK\r\n");
                        let current = match c.cmd(&["GET", "counter"]).as_str() {
                            "$-1\r\n" => 0,
                            reply => reply.split("\r\n").nth(1).unwrap().parse::<u64>().unwrap(),
                        };
                        assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
                        let next = (current + 1).to_string();
                        assert_eq!(c.cmd(&["SET", "counter", &next]), "+QUEUED\r\n");
                        match c.cmd(&["EXEC"]).as_str() {
                            "*1\r\n+OK\r\n" => break,
                            "*-1\r\n" => retries += 1,
                            other => panic!("unexpected EXEC reply {other:?}"),
                        }
                    }
                }
                retries
            })
        })
        .collect();
    let retries: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    let mut c = s.client();
    let want = (CLIENTS * PER_CLIENT).to_string();
    assert_eq!(
        c.cmd(&["GET", "counter"]),
        format!("${}\r\n{want}\r\n", want.len())
    );
    // Ten clients racing on one key: some EXECs must have been refused, or WATCH did nothing.
    assert!(retries > 0, "no EXEC was ever aborted");
}

#[test]
fn watch_is_invalidated_by_keyspace_commands() {
    assert_session_same_as_redis(
        2,
        &[
            (1, &["FLUSHALL"]),
            // EXPIRE and PERSIST on a watched key.
            (1, &["SET", "x", "1"]),
            (0, &["WATCH", "x"]),
            (1, &["EXPIRE", "x", "100"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["WATCH", "x"]),
            (1, &["PERSIST", "x"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // RENAME touches its source and its destination.
            (0, &["WATCH", "x"]),
            (1, &["RENAME", "x", "y"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["WATCH", "x"]),
            (1, &["RENAME", "y", "x"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // MOVE touches the key in both databases.
            (0, &["WATCH", "x"]),
            (1, &["MOVE", "x", "1"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["SELECT", "1"]),
            (0, &["WATCH", "x"]),
            (0, &["SELECT", "0"]),
            (1, &["SELECT", "1"]),
            (1, &["MOVE", "x", "0"]),
            (1, &["SELECT", "0"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // FLUSHDB and FLUSHALL touch watched keys that exist, and only those.
            (0, &["WATCH", "x"]),
            (1, &["FLUSHDB"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["WATCH", "x"]),
            (1, &["FLUSHDB"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (1, &["SET", "x", "1"]),
            (0, &["WATCH", "x"]),
            (1, &["FLUSHALL"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["WATCH", "x"]),
            (1, &["FLUSHALL", "ASYNC"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // SWAPDB touches watched keys that exist on either side.
            (1, &["SELECT", "9"]),
            (1, &["SET", "x", "in-9"]),
            (0, &["WATCH", "x"]),
            (1, &["SWAPDB", "0", "9"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["WATCH", "x"]),
            (1, &["SWAPDB", "0", "9"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["WATCH", "nowhere"]),
            (1, &["SWAPDB", "0", "9"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            // A stale watched key flushed is no change.
            (1, &["SELECT", "0"]),
            (1, &["SET", "s", "1", "PX", "1"]),
            (PAUSE, &["20"]),
            (0, &["WATCH", "s"]),
            (1, &["FLUSHDB"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
        ],
    );
}

#[test]
fn client_list_flags_a_dirty_watch() {
    // CLIENT LIST's `d` (a watched key changed) and `x` (in MULTI), read by another client, as redis-server shows
    // them at each step.
    fn flags_at_each_step(s: &Server) -> Vec<String> {
        let (mut watcher, mut other) = (s.client(), s.client());
        watcher.cmd(&["CLIENT", "SETNAME", "watcher"]);
        let flags = |other: &mut common::Client| {
            let list = other.cmd(&["CLIENT", "LIST"]);
            let line = list.lines().find(|l| l.contains("name=watcher")).unwrap();
            line.split(' ')
                .find(|f| f.starts_with("flags="))
                .unwrap()
                .to_string()
        };
        let mut seen = Vec::new();
        watcher.cmd(&["WATCH", "k"]);
        seen.push(flags(&mut other));
        other.cmd(&["SET", "k", "1"]);
        seen.push(flags(&mut other));
        watcher.cmd(&["MULTI"]);
        seen.push(flags(&mut other));
        watcher.cmd(&["EXEC"]);
        seen.push(flags(&mut other));
        watcher.cmd(&["WATCH", "k"]);
        other.cmd(&["DEL", "k"]);
        seen.push(flags(&mut other));
        watcher.cmd(&["UNWATCH"]);
        seen.push(flags(&mut other));
        seen
    }
    let ours = flags_at_each_step(&Server::start());
    assert_eq!(
        ours,
        ["flags=N", "flags=d", "flags=xd", "flags=N", "flags=d", "flags=N"]
    );
    if let Some(redis) = Server::start_redis() {
        assert_eq!(ours, flags_at_each_step(&redis));
    }
}

/// Redis counts only changes to a stream's entries (and its creation) for WATCH: consumer-group bookkeeping
/// (creating or moving a group, delivering, acknowledging, claiming, consumers coming and going, destroying a group)
/// leaves a watching transaction free to run.
#[test]
fn consumer_group_bookkeeping_leaves_watch_alone() {
    let s = Server::start();
    let mut setup = s.client();
    let fresh = |setup: &mut common::Client| {
        setup.cmd(&["FLUSHALL"]);
        assert_eq!(setup.cmd(&["XADD", "s", "1-1", "f", "v"]), "$3\r\n1-1\r\n");
        assert_eq!(setup.cmd(&["XGROUP", "CREATE", "s", "g", "0"]), "+OK\r\n");
        assert_eq!(setup.cmd(&["XGROUP", "CREATE", "s", "g2", "0"]), "+OK\r\n");
    };
    let delivered: &[&str] = &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"];
    let cases: &[&[&[&str]]] = &[
        &[delivered],
        &[delivered, &["XACK", "s", "g", "1-1"]],
        &[delivered, &["XCLAIM", "s", "g", "c2", "0", "1-1"]],
        &[delivered, &["XAUTOCLAIM", "s", "g", "c3", "0", "0"]],
        &[&["XGROUP", "CREATE", "s", "g3", "$"]],
        &[&["XGROUP", "SETID", "s", "g", "0"]],
        &[&["XGROUP", "CREATECONSUMER", "s", "g", "c9"]],
        &[delivered, &["XGROUP", "DELCONSUMER", "s", "g", "c"]],
        &[&["XGROUP", "DESTROY", "s", "g2"]],
    ];
    for change in cases {
        fresh(&mut setup);
        assert_eq!(exec_after_watch(&s, "s", change), RAN, "after {change:?}");
    }
    // Entries and the stream's existence still count.
    fresh(&mut setup);
    assert_eq!(
        exec_after_watch(&s, "s", &[&["XADD", "s", "*", "f", "v"]]),
        ABORTED
    );
    fresh(&mut setup);
    assert_eq!(exec_after_watch(&s, "s", &[&["XDEL", "s", "1-1"]]), ABORTED);
    setup.cmd(&["FLUSHALL"]);
    let mkstream: &[&str] = &["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"];
    assert_eq!(exec_after_watch(&s, "s", &[mkstream]), ABORTED);
}

#[test]
fn consumer_group_bookkeeping_and_watch_match_redis() {
    assert_session_same_as_redis(
        2,
        &[
            (1, &["XADD", "s", "1-1", "f", "v"]),
            (1, &["XGROUP", "CREATE", "s", "g", "0"]),
            (0, &["WATCH", "s"]),
            (1, &["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]),
            (1, &["XACK", "s", "g", "1-1"]),
            (1, &["XGROUP", "SETID", "s", "g", "0"]),
            (1, &["XGROUP", "DESTROY", "s", "g"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
            (0, &["WATCH", "s"]),
            (1, &["XGROUP", "CREATE", "s", "g", "$"]),
            (1, &["XTRIM", "s", "MAXLEN", "0"]),
            (0, &["MULTI"]),
            (0, &["PING"]),
            (0, &["EXEC"]),
        ],
    );
}
