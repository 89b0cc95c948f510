//! `repl-diskless-load`: a replica with an empty dataset parses its master's RDB as it comes off the socket, with
//! no file written, from a master that sends `$EOF:<mark>` (diskless) or `$<len>` (disk); a transfer that breaks
//! half way leaves it empty, with Redis's log lines, and the next attempt succeeds. With keys present (`swapdb`)
//! it loads beside them and swaps the loaded data in at the end.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Dir, Server};

fn info(c: &mut Client, field: &str) -> String {
    let text = c.cmd(&["info", "everything"]);
    text.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_default()
}

fn wait_until(what: &str, within: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A ferredis replica in `dir` (its files and log there) loading with `repl-diskless-load <load>`.
fn replica_in(dir: &Dir, load: &str) -> Server {
    let log = dir.file("log");
    Server::start_with(&[
        "--dir",
        dir.s(),
        "--logfile",
        log.to_str().expect("utf-8 path"),
        "--repl-diskless-load",
        load,
    ])
}

fn redis_master(diskless_sync: &str, dir: &Dir) -> Server {
    Server::start_redis_with(&[
        "--repl-diskless-sync",
        diskless_sync,
        "--repl-diskless-sync-delay",
        "0",
        "--dir",
        dir.s(),
    ])
    .expect("redis-server")
}

fn fill(c: &mut Client, n: usize) {
    let big = "v".repeat(5000);
    for i in 0..n {
        c.send(&["set", &format!("s{i}"), &big]);
        c.send(&["rpush", &format!("l{i}"), "a", "b", &i.to_string()]);
        c.send(&["hset", &format!("h{i}"), "f", &i.to_string()]);
    }
    for _ in 0..3 * n {
        c.read_reply();
    }
}

/// A redis-server master holding 3,000 keys that it sends at 10 ms a key: a transfer takes half a minute, time
/// enough to cut it.
fn slow_master(dir: &Dir) -> Server {
    let master = redis_master("yes", dir);
    let mut m = master.client();
    fill(&mut m, 1000);
    assert_eq!(
        m.cmd(&["config", "set", "rdb-key-save-delay", "10000"]),
        "+OK\r\n"
    );
    master
}

/// Makes `r` a replica of `master` and waits until its full sync has loaded some of the RDB.
fn replicate_until_loading(r: &mut Client, master: &Server) {
    let port = master.port.to_string();
    assert_eq!(r.cmd(&["replicaof", "127.0.0.1", &port]), "+OK\r\n");
    wait_until("keys loading", Duration::from_secs(20), || {
        info(r, "loading_loaded_bytes").parse::<u64>().unwrap_or(0) > 50_000
    });
}

fn in_sync(master: &mut Client, replica: &mut Client) -> bool {
    info(replica, "master_link_status") == "up"
        && info(replica, "slave_repl_offset") == info(master, "master_repl_offset")
        && master.cmd(&["debug", "digest"]) == replica.cmd(&["debug", "digest"])
}

/// Files the replica wrote in its directory besides its log.
fn files_besides_log(dir: &Dir) -> Vec<String> {
    let entries = std::fs::read_dir(&dir.0).expect("replica dir");
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != "log")
        .collect();
    names.sort();
    names
}

#[test]
fn an_empty_replica_loads_from_the_socket_without_writing_a_file() {
    for (kind, diskless_sync) in [
        ("redis-diskless", "yes"),
        ("redis-disk", "no"),
        ("ferredis", ""),
    ] {
        let dir = Dir::new(&format!("diskless-load-{kind}"));
        let master_dir = Dir::new(&format!("diskless-load-master-{kind}"));
        let master = match kind {
            "ferredis" => Server::start_with(&["--dir", master_dir.s()]),
            _ => redis_master(diskless_sync, &master_dir),
        };
        let mut m = master.client();
        fill(&mut m, 1000);
        let replica = replica_in(&dir, "on-empty-db");
        let mut r = replica.client();
        let port = master.port.to_string();
        assert_eq!(r.cmd(&["replicaof", "127.0.0.1", &port]), "+OK\r\n");
        wait_until(
            &format!("{kind}: the sync"),
            Duration::from_secs(20),
            || in_sync(&mut m, &mut r),
        );
        assert_eq!(r.cmd(&["dbsize"]), ":3000\r\n", "{kind}");
        // No RDB file and no temp file: the payload went straight into the dataset.
        assert_eq!(files_besides_log(&dir), Vec::<String>::new(), "{kind}");
        let log = dir.log();
        let loading = log.find("MASTER <-> REPLICA sync: Loading DB in memory");
        let done = log.find("MASTER <-> REPLICA sync: Finished with success");
        assert!(loading.is_some() && loading < done, "{kind}: {log}");
        // The stream goes on after the payload.
        m.cmd(&["set", "after", "sync"]);
        wait_until("the stream", Duration::from_secs(10), || {
            r.cmd(&["get", "after"]) == "$4\r\nsync\r\n"
        });
    }
}

#[test]
fn a_transfer_cut_while_loading_leaves_the_replica_empty_and_the_next_sync_succeeds() {
    let master_dir = Dir::new("diskless-cut-master");
    let master = slow_master(&master_dir);
    let mut m = master.client();
    let dir = Dir::new("diskless-cut");
    let replica = replica_in(&dir, "on-empty-db");
    let mut r = replica.client();
    replicate_until_loading(&mut r, &master);
    assert!(r.cmd(&["get", "s1"]).starts_with("-LOADING"));
    // The next snapshot is made at full speed; the one under way is cut.
    m.cmd(&["config", "set", "rdb-key-save-delay", "0"]);
    assert_eq!(m.cmd(&["client", "kill", "type", "replica"]), ":1\r\n");
    let failed = "Failed trying to load the MASTER synchronization DB from socket";
    wait_until("the failed load's log", Duration::from_secs(20), || {
        dir.log().contains(failed)
    });
    wait_until("the next sync", Duration::from_secs(30), || {
        in_sync(&mut m, &mut r)
    });
    assert_eq!(r.cmd(&["dbsize"]), ":3000\r\n");
    let log = dir.log();
    let cut = log.find("Internal error in RDB reading offset");
    let failed = log.find(failed);
    let done = log.find("MASTER <-> REPLICA sync: Finished with success");
    assert!(cut.is_some() && cut < failed && failed < done, "{log}");
    assert_eq!(files_besides_log(&dir), Vec::<String>::new());
}

/// `repl-diskless-load swapdb` with keys present loads beside them: a transfer cut half way (the master killed)
/// leaves the replica's own keys and libraries as they were, and a full load replaces them at once, keys,
/// libraries and all, invalidating the transactions that watched them. No file is written either way.
#[test]
fn a_swapdb_replica_keeps_its_data_until_the_loaded_data_is_swapped_in() {
    let dir = Dir::new("diskless-swapdb");
    let replica = replica_in(&dir, "swapdb");
    let mut r = replica.client();
    let lib = |name: &str| {
        // `no-writes`: FCALL of a function that may write is refused on a read-only replica.
        format!(
            "#!lua name={name}\nredis.register_function{{function_name='{name}', \
             callback=function() return '{name}' end, flags={{'no-writes'}}}}"
        )
    };
    assert_eq!(r.cmd(&["set", "local", "1"]), "+OK\r\n");
    assert_eq!(r.cmd(&["rpush", "mylist", "x"]), ":1\r\n");
    assert_eq!(r.cmd(&["function", "load", &lib("mine")]), "$4\r\nmine\r\n");

    let slow_dir = Dir::new("diskless-swapdb-slow-master");
    let slow = slow_master(&slow_dir);
    replicate_until_loading(&mut r, &slow);
    drop(slow);
    wait_until("the discarded load", Duration::from_secs(20), || {
        dir.log()
            .contains("MASTER <-> REPLICA sync: Discarding temporary DB in background")
    });
    assert_eq!(r.cmd(&["dbsize"]), ":2\r\n");
    assert_eq!(r.cmd(&["get", "local"]), "$1\r\n1\r\n");
    assert_eq!(r.cmd(&["fcall", "mine", "0"]), "$4\r\nmine\r\n");
    assert!(!dir.log().contains("Swapping active DB"));

    let mut w = replica.client();
    assert_eq!(w.cmd(&["watch", "local"]), "+OK\r\n");
    let master_dir = Dir::new("diskless-swapdb-master");
    let master = redis_master("yes", &master_dir);
    let mut m = master.client();
    fill(&mut m, 1000);
    assert_eq!(
        m.cmd(&["function", "load", &lib("theirs")]),
        "$6\r\ntheirs\r\n"
    );
    let port = master.port.to_string();
    assert_eq!(r.cmd(&["replicaof", "127.0.0.1", &port]), "+OK\r\n");
    wait_until("the sync", Duration::from_secs(30), || {
        in_sync(&mut m, &mut r)
    });
    assert_eq!(r.cmd(&["dbsize"]), ":3000\r\n");
    assert_eq!(r.cmd(&["exists", "local", "mylist"]), ":0\r\n");
    assert_eq!(r.cmd(&["fcall", "theirs", "0"]), "$6\r\ntheirs\r\n");
    assert_eq!(
        r.cmd(&["fcall", "mine", "0"]),
        "-ERR Function not found\r\n"
    );
    assert_eq!(w.cmd(&["multi"]), "+OK\r\n");
    assert_eq!(w.cmd(&["get", "local"]), "+QUEUED\r\n");
    assert_eq!(w.cmd(&["exec"]), "*-1\r\n");
    let log = dir.log();
    let swapped = log.find("MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
    let freed = log.find("MASTER <-> REPLICA sync: Discarding old DB in background");
    let done = log.rfind("MASTER <-> REPLICA sync: Finished with success");
    assert!(
        swapped.is_some() && swapped < freed && freed < done,
        "{log}"
    );
    assert!(
        !log[swapped.unwrap_or(0)..].contains("Flushing old data"),
        "{log}"
    );
    assert_eq!(files_besides_log(&dir), Vec::<String>::new());
}
