//! Replication with the real redis-server 7.0 in both roles: full sync while clients write, partial resync after
//! the link breaks, diskless and disk transfers, a chain of replicas, promotion with PSYNC2's replid2, WAIT,
//! read-only replicas and expiry through the master's DELs. Datasets are compared with DEBUG DIGEST.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Server};

/// DEBUG DIGEST, and diskless syncs that start at once (Redis waits 5 s for more replicas by default).
const DEBUG: &[&str] = &[
    "--enable-debug-command",
    "yes",
    "--repl-diskless-sync-delay",
    "0",
];

fn ferredis() -> Server {
    Server::start_with(DEBUG)
}

/// redis-server in a directory of its own: as a replica it writes the RDB it receives to `dump.rdb` there, which
/// must not land where other tests' servers would load it.
fn redis(extra: &[&str]) -> Server {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ferredis-repl-redis-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let dir = dir.display().to_string();
    let mut args = vec![
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        "--dir",
        &dir,
    ];
    args.extend_from_slice(extra);
    Server::start_redis_with(&args).expect("redis-server")
}

/// One field of INFO `section`.
fn info(c: &mut Client, section: &str, field: &str) -> String {
    let text = c.cmd(&["info", section]);
    text.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_default()
}

fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn replicate(replica: &Server, master: &Server) {
    let mut c = replica.client();
    assert_eq!(
        c.cmd(&["replicaof", "127.0.0.1", &master.port.to_string()]),
        "+OK\r\n"
    );
}

/// Waits until the replica's link is up, its offset is the master's and DEBUG DIGEST agrees (a key expiring on
/// the master meanwhile makes the two differ until its DEL arrives, so the comparison is retried).
fn assert_in_sync(master: &Server, replica: &Server) {
    let (mut m, mut r) = (master.client(), replica.client());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let caught_up = info(&mut r, "replication", "master_link_status") == "up"
            && info(&mut r, "replication", "slave_repl_offset")
                == info(&mut m, "replication", "master_repl_offset");
        let digest = m.cmd(&["debug", "digest"]);
        assert_ne!(digest, "+0000000000000000000000000000000000000000\r\n");
        if caught_up && r.cmd(&["debug", "digest"]) == digest {
            return;
        }
        if Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut mk = common::bulks(&m.cmd(&["keys", "*"]));
    let mut rk = common::bulks(&r.cmd(&["keys", "*"]));
    mk.sort();
    rk.sort();
    let differ: Vec<_> = mk
        .iter()
        .filter(|k| m.cmd(&["debug", "digest-value", k]) != r.cmd(&["debug", "digest-value", k]))
        .take(5)
        .collect();
    panic!(
        "not in sync: {} keys on the master, {} on the replica; values differ at {differ:?}; {:?} / {:?}",
        mk.len(),
        rk.len(),
        m.cmd(&["info", "keyspace"]),
        r.cmd(&["info", "keyspace"])
    );
}

fn fill(c: &mut Client, prefix: &str, n: usize) {
    for i in 0..n {
        let k = format!("{prefix}{i}");
        c.send(&["set", &k, &i.to_string()]);
        c.send(&["rpush", &format!("{k}:l"), "a", "b"]);
        c.send(&["hset", &format!("{k}:h"), "f", "v"]);
    }
    for _ in 0..3 * n {
        c.read_reply();
    }
}

/// Writes from another connection while `during` runs: the full sync must carry every one of them exactly once.
fn writing_while(master: &Server, during: impl FnOnce()) {
    let port = master.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut c = Client::connect(port);
            let mut i = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                c.cmd(&["incr", "counter"]);
                c.cmd(&["sadd", "set", &i.to_string()]);
                c.cmd(&["zadd", "z", &i.to_string(), &format!("m{}", i % 50)]);
                i += 1;
            }
            i
        })
    };
    during();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);
}

/// The replica attaches to the master while a client writes to it; then both hold the same dataset.
fn sync_while_writing(master: &Server, replica: &Server) {
    writing_while(master, || {
        replicate(replica, master);
        let mut r = replica.client();
        wait_until("link up", Duration::from_secs(20), || {
            info(&mut r, "replication", "master_link_status") == "up"
        });
    });
    assert_in_sync(master, replica);
}

#[test]
fn redis_replica_of_ferredis_full_sync_while_writing_then_partial_resync() {
    for diskless in ["yes", "no"] {
        redis_replica_of_ferredis(diskless);
    }
}

fn redis_replica_of_ferredis(diskless: &str) {
    let master = Server::start_with(&[
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
        "--repl-diskless-sync",
        diskless,
    ]);
    let replica = redis(&[]);
    fill(&mut master.client(), "k", 2000);
    sync_while_writing(&master, &replica);
    let mut m = master.client();
    assert_eq!(info(&mut m, "stats", "sync_full"), "1");
    let role = m.cmd(&["role"]);
    assert!(role.starts_with("*3\r\n$6\r\nmaster\r\n:"), "{role}");
    assert!(
        role.contains(&format!("$5\r\n{}\r\n", replica.port)),
        "{role}"
    );
    // A blocking command does not wait for the replica's link (it is no client whose order matters).
    let started = Instant::now();
    assert_eq!(m.cmd(&["blpop", "nolist", "0.1"]), "*-1\r\n");
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    // WAIT: the one replica acknowledges what was written.
    assert_eq!(m.cmd(&["set", "w", "1"]), "+OK\r\n");
    assert_eq!(m.cmd(&["wait", "1", "5000"]), ":1\r\n");
    assert_eq!(m.cmd(&["wait", "2", "100"]), ":1\r\n");
    // The link breaks; the replica resumes from the backlog.
    assert_eq!(m.cmd(&["client", "kill", "type", "replica"]), ":1\r\n");
    m.cmd(&["set", "after", "kill"]);
    wait_until("partial resync", Duration::from_secs(20), || {
        info(&mut m, "stats", "sync_partial_ok") == "1"
    });
    assert_in_sync(&master, &replica);
    assert_eq!(info(&mut m, "stats", "sync_full"), "1");
    assert_eq!(replica.client().cmd(&["get", "after"]), "$4\r\nkill\r\n");
}

#[test]
fn ferredis_replica_of_redis_disk_and_diskless_and_partial_resync() {
    for diskless in ["yes", "no"] {
        let master = redis(&["--repl-diskless-sync", diskless]);
        let replica = ferredis();
        fill(&mut master.client(), "k", 2000);
        master.client().cmd(&["set", "gone", "v", "px", "300"]);
        sync_while_writing(&master, &replica);
        let mut r = replica.client();
        assert_eq!(
            r.cmd(&["set", "x", "1"]),
            "-READONLY You can't write against a read only replica.\r\n"
        );
        assert_eq!(
            r.cmd(&["eval", "return redis.pcall('set','x','1')", "0"]),
            "-READONLY You can't write against a read only replica.\r\n"
        );
        assert_eq!(
            r.cmd(&["wait", "1", "0"]),
            "-ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.\r\n"
        );
        let role = r.cmd(&["role"]);
        assert!(
            role.starts_with(&format!(
                "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:{}\r\n$9\r\nconnected\r\n:",
                master.port
            )),
            "{role}"
        );
        // Expiry comes from the master's DEL: the key disappears on the replica too.
        wait_until("the expired key's DEL", Duration::from_secs(10), || {
            master.client().cmd(&["exists", "gone"]) == ":0\r\n"
                && r.cmd(&["dbsize"]) == master.client().cmd(&["dbsize"])
        });
        let mut m = master.client();
        let ok_before = info(&mut m, "stats", "sync_partial_ok");
        assert_eq!(m.cmd(&["client", "kill", "type", "replica"]), ":1\r\n");
        m.cmd(&["set", "after", "kill"]);
        wait_until("partial resync", Duration::from_secs(20), || {
            info(&mut m, "stats", "sync_partial_ok") != ok_before
        });
        assert_in_sync(&master, &replica);
        assert_eq!(
            info(&mut m, "stats", "sync_full"),
            "1",
            "diskless {diskless}"
        );
    }
}

#[test]
fn chain_and_promotion_keep_the_history() {
    let master = ferredis();
    let a = ferredis();
    let b = ferredis();
    fill(&mut master.client(), "k", 500);
    replicate(&a, &master);
    assert_in_sync(&master, &a);
    // b replicates from a while the master is written to: the same stream, the same offsets.
    writing_while(&master, || {
        replicate(&b, &a);
        let mut r = b.client();
        wait_until("link up", Duration::from_secs(20), || {
            info(&mut r, "replication", "master_link_status") == "up"
        });
    });
    master.client().cmd(&["set", "through", "the chain"]);
    assert_in_sync(&master, &b);
    // A sub-replica that syncs while the stream is in database 5 goes on in database 5 (`repl-stream-db`).
    let mut db5 = master.client();
    db5.cmd(&["select", "5"]);
    db5.cmd(&["set", "in5", "before"]);
    let c = ferredis();
    replicate(&c, &a);
    assert_in_sync(&master, &c);
    db5.cmd(&["set", "in5", "after"]);
    assert_in_sync(&master, &c);
    drop(c);
    assert_eq!(
        info(&mut b.client(), "replication", "master_replid"),
        info(&mut master.client(), "replication", "master_replid")
    );
    // The master goes; a is promoted; b follows it and resumes without a full sync.
    let old_id = info(&mut master.client(), "replication", "master_replid");
    drop(master);
    let mut ac = a.client();
    assert_eq!(ac.cmd(&["replicaof", "no", "one"]), "+OK\r\n");
    assert_eq!(info(&mut ac, "replication", "master_replid2"), old_id);
    assert_eq!(ac.cmd(&["set", "new", "master"]), "+OK\r\n");
    wait_until("b to follow", Duration::from_secs(20), || {
        b.client().cmd(&["get", "new"]) == "$6\r\nmaster\r\n"
    });
    assert_in_sync(&a, &b);
    assert_eq!(
        info(&mut ac, "stats", "sync_full"),
        "2",
        "b and c, nothing after the promotion"
    );
}

#[test]
fn replication_commands_reply_as_redis() {
    let f = ferredis();
    let mut c = f.client();
    assert_eq!(c.cmd(&["replicaof", "no", "one"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["replicaof", "localhost", "x"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(
        c.cmd(&["replconf", "listening-port"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        c.cmd(&["replconf", "foo", "bar"]),
        "-ERR Unrecognized REPLCONF option: foo\r\n"
    );
    assert_eq!(c.cmd(&["replconf", "listening-port", "1"]), "+OK\r\n");
    // A PSYNC offset that is not a number is refused, as Redis's syncCommand does.
    assert_eq!(
        c.cmd(&["psync", "abc", "xyz"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    common::assert_same_as_redis(&[&["psync", "abc", "xyz"]]);
    assert_eq!(c.cmd(&["wait", "0", "0"]), ":0\r\n");
    assert_eq!(c.cmd(&["wait", "1", "-1"]), "-ERR timeout is negative\r\n");
    assert_eq!(
        c.cmd(&["role"]),
        format!("*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n")
    );
    c.cmd(&["config", "set", "min-replicas-to-write", "1"]);
    assert_eq!(
        c.cmd(&["set", "k", "v"]),
        "-NOREPLICAS Not enough good replicas to write.\r\n"
    );
    assert_eq!(c.cmd(&["get", "k"]), "$-1\r\n");
    c.cmd(&["config", "set", "min-replicas-to-write", "0"]);
    // A client blocked when the server turns replica is answered at once (the stream must not serve it).
    let blocked = f.blocked_client(&["blpop", "list", "0"]);
    let port = common::free_port().to_string();
    assert_eq!(c.cmd(&["replicaof", "127.0.0.1", &port]), "+OK\r\n");
    let mut blocked = blocked;
    assert_eq!(
        blocked.read_reply(),
        "-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n"
    );
    assert_eq!(
        c.cmd(&["replicaof", "127.0.0.1", &port]),
        "+OK Already connected to specified master\r\n"
    );
    assert_eq!(
        c.cmd(&["psync", "?", "-1"]),
        "-NOMASTERLINK Can't SYNC while not connected with my master\r\n"
    );
    assert_eq!(c.cmd(&["replicaof", "no", "one"]), "+OK\r\n");
}

#[test]
fn failover_hands_the_master_role_to_a_replica() {
    for target_is_redis in [false, true] {
        let master = ferredis();
        let replica = if target_is_redis {
            redis(&[])
        } else {
            ferredis()
        };
        let mut m = master.client();
        assert_eq!(
            m.cmd(&["failover"]),
            "-ERR FAILOVER requires connected replicas.\r\n"
        );
        assert_eq!(
            m.cmd(&["failover", "abort"]),
            "-ERR No failover in progress.\r\n"
        );
        assert_eq!(
            m.cmd(&["failover", "to", "127.0.0.1", "1", "force"]),
            "-ERR FAILOVER requires connected replicas.\r\n"
        );
        fill(&mut m, "k", 200);
        replicate(&replica, &master);
        assert_in_sync(&master, &replica);
        assert_eq!(
            m.cmd(&["failover", "to", "127.0.0.1", "1"]),
            "-ERR FAILOVER target HOST and PORT is not a replica.\r\n"
        );
        assert_eq!(
            m.cmd(&["failover", "timeout", "0"]),
            "-ERR FAILOVER timeout must be greater than 0\r\n"
        );
        assert_eq!(
            m.cmd(&[
                "failover",
                "to",
                "127.0.0.1",
                &replica.port.to_string(),
                "timeout",
                "5000"
            ]),
            "+OK\r\n"
        );
        let mut r = replica.client();
        wait_until("the roles to swap", Duration::from_secs(20), || {
            r.cmd(&["role"]).starts_with("*3\r\n$6\r\nmaster\r\n")
                && info(&mut m, "replication", "master_link_status") == "up"
        });
        assert_eq!(
            m.cmd(&["set", "x", "1"]),
            "-READONLY You can't write against a read only replica.\r\n"
        );
        assert_eq!(r.cmd(&["set", "after", "failover"]), "+OK\r\n");
        assert_in_sync(&replica, &master);
        assert_eq!(info(&mut r, "stats", "sync_partial_ok"), "1");
        assert_eq!(info(&mut r, "stats", "sync_full"), "0");
    }
}

#[test]
fn wait_does_not_count_a_stopped_replica_and_the_link_survives_sigstop() {
    let master = ferredis();
    let replica = ferredis();
    master.client().cmd(&["set", "k", "v"]);
    replicate(&replica, &master);
    assert_in_sync(&master, &replica);
    let mut m = master.client();
    stop_process(&replica);
    assert_eq!(m.cmd(&["incr", "foo"]), ":1\r\n");
    assert_eq!(m.cmd(&["wait", "1", "500"]), ":0\r\n");
    replica.signal("-CONT");
    assert_eq!(m.cmd(&["wait", "1", "5000"]), ":1\r\n");
    assert_eq!(info(&mut m, "stats", "sync_full"), "1");
    assert_eq!(info(&mut m, "stats", "sync_partial_ok"), "0");
    // A key written with a TTL on a writable replica is the replica's to expire (no DEL will come for it).
    let mut r = replica.client();
    assert_eq!(
        r.cmd(&["config", "set", "replica-read-only", "no"]),
        "+OK\r\n"
    );
    assert_eq!(r.cmd(&["select", "5"]), "+OK\r\n");
    assert_eq!(r.cmd(&["set", "local", "v", "px", "200"]), "+OK\r\n");
    assert_eq!(r.cmd(&["dbsize"]), ":1\r\n");
    wait_until("the replica's own expiry", Duration::from_secs(5), || {
        r.cmd(&["dbsize"]) == ":0\r\n"
    });
}

/// A replica busy with a long script leaves its master's stream waiting instead of answering it -BUSY (Redis
/// does not read the master link meanwhile): with `propagation-error-behavior panic`, an error sent to the
/// master would end the replica. Once the script ends, the writes made meanwhile are applied.
#[test]
fn a_busy_script_on_the_replica_holds_the_master_stream() {
    let master = ferredis();
    let replica = Server::start_with(&[
        "--enable-debug-command",
        "yes",
        "--busy-reply-threshold",
        "100",
        "--propagation-error-behavior",
        "panic",
    ]);
    replicate(&replica, &master);
    let mut r = replica.client();
    wait_until("the link", Duration::from_secs(10), || {
        info(&mut r, "replication", "master_link_status") == "up"
    });
    let mut looping = replica.client();
    looping.send(&[
        "eval",
        "local t = redis.call('time') repeat until redis.call('time')[1] - t[1] >= 2 return 1",
        "0",
    ]);
    // Until the script passes the threshold, PING answers PONG; then BUSY.
    wait_until("the script to be busy", Duration::from_secs(10), || {
        r.cmd(&["ping"]).starts_with("-BUSY")
    });
    let mut m = master.client();
    for i in 0..20 {
        assert_eq!(m.cmd(&["set", &format!("k{i}"), "v"]), "+OK\r\n");
        assert_eq!(m.cmd(&["ping"]), "+PONG\r\n");
    }
    assert_eq!(looping.read_reply(), ":1\r\n");
    assert_in_sync(&master, &replica);
    assert_eq!(r.cmd(&["get", "k19"]), "$1\r\nv\r\n");
}

/// While a replica loads its master's RDB asynchronously (`repl-diskless-load swapdb` with the same replication
/// history), it serves the old data but refuses what would disturb the load as Redis does: -LOADING for REPLICAOF
/// (a NO_ASYNC_LOADING command) and for CONFIG SET of a DENY_LOADING parameter such as appendonly.
#[test]
fn async_loading_refuses_replicaof_and_deny_loading_configs() {
    let master = Server::start_with(&[
        "--enable-debug-command",
        "yes",
        "--repl-diskless-sync",
        "yes",
        "--repl-diskless-sync-delay",
        "0",
    ]);
    let replica = Server::start_with(&["--repl-diskless-load", "swapdb"]);
    replicate(&replica, &master);
    let (mut m, mut r) = (master.client(), replica.client());
    wait_until("the first sync", Duration::from_secs(10), || {
        info(&mut r, "replication", "master_link_status") == "up"
    });
    assert_eq!(m.cmd(&["debug", "populate", "300"]), "+OK\r\n");
    assert_eq!(m.cmd(&["set", "old", "kept"]), "+OK\r\n");
    wait_until(
        "the old key on the replica",
        Duration::from_secs(10),
        || r.cmd(&["get", "old"]) == "$4\r\nkept\r\n",
    );
    let delay = ["config", "set", "rdb-key-save-delay", "10000"];
    assert_eq!(m.cmd(&delay), "+OK\r\n");
    // A second full sync with the same history, forced as the suite forces it: the link is cut, then more is
    // written than the shrunk backlog holds.
    let big = "A".repeat(16384);
    m.send(&["multi"]);
    m.send(&["client", "kill", "type", "replica"]);
    m.send(&["config", "set", "repl-backlog-size", "16384"]);
    for i in 0..4 {
        m.send(&["set", &format!("big{i}"), &big]);
    }
    m.send(&["exec"]);
    for _ in 0..7 {
        m.read_reply();
    }
    let exec = m.read_reply();
    assert!(exec.starts_with("*6\r\n:1\r\n+OK\r\n+OK\r\n"), "{exec}");
    wait_until("async loading", Duration::from_secs(10), || {
        info(&mut r, "persistence", "async_loading") == "1"
    });
    let loading = "-LOADING Redis is loading the dataset in memory\r\n";
    assert_eq!(r.cmd(&["config", "set", "appendonly", "no"]), loading);
    assert_eq!(
        r.cmd(&[
            "config",
            "set",
            "maxmemory",
            "0",
            "appendonly",
            "no",
            "nosuch",
            "1"
        ]),
        loading
    );
    assert_eq!(
        r.cmd(&["config", "set", "maxmemory", "0", "dir", "/tmp"]),
        "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"
    );
    assert_eq!(r.cmd(&["replicaof", "no", "one"]), loading);
    assert_eq!(r.cmd(&["config", "set", "maxmemory", "0"]), "+OK\r\n");
    // The old data is served meanwhile.
    assert_eq!(r.cmd(&["get", "old"]), "$4\r\nkept\r\n");
    assert_eq!(r.cmd(&["exists", "big0"]), ":0\r\n");
    // 300 keys at 10 ms each: the load ends within seconds.
    wait_until("the load to end", Duration::from_secs(30), || {
        info(&mut r, "persistence", "async_loading") == "0"
            && info(&mut r, "replication", "master_link_status") == "up"
    });
    assert_eq!(r.cmd(&["config", "set", "appendonly", "no"]), "+OK\r\n");
}

/// SIGSTOP, then waits until the process is stopped (the signal is delivered asynchronously).
fn stop_process(server: &Server) {
    server.signal("-STOP");
    let stat = format!("/proc/{}/stat", server.pid());
    wait_until("the process to stop", Duration::from_secs(5), || {
        std::fs::read_to_string(&stat)
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()
                    .map(|r| r.trim_start().starts_with('T'))
            })
            .unwrap_or(false)
    });
}

/// FAILOVER .. FORCE to a replica that was stopped: when it resumes, the master's last write (still in the
/// link's socket) and the hand-over PSYNC are both waiting; it applies the write first, so it continues the
/// history from the old master's offset (+CONTINUE), as Redis (integration/failover "failover to a replica with
/// force works").
#[test]
fn forced_failover_to_a_resumed_replica_applies_the_stream_first() {
    let (master, replica) = (ferredis(), ferredis());
    let mut m = master.client();
    fill(&mut m, "k", 50);
    replicate(&replica, &master);
    assert_in_sync(&master, &replica);
    stop_process(&replica);
    assert_eq!(m.cmd(&["set", "case", "2"]), "+OK\r\n");
    let port = replica.port.to_string();
    let failover = [
        "failover",
        "to",
        "127.0.0.1",
        &port,
        "timeout",
        "100",
        "force",
    ];
    assert_eq!(m.cmd(&failover), "+OK\r\n");
    wait_until("the forced hand-over", Duration::from_secs(10), || {
        info(&mut m, "replication", "master_failover_state") == "failover-in-progress"
    });
    replica.signal("-CONT");
    let mut r = replica.client();
    wait_until("the roles to swap", Duration::from_secs(20), || {
        info(&mut m, "replication", "master_failover_state") == "no-failover"
            && r.cmd(&["role"]).starts_with("*3\r\n$6\r\nmaster\r\n")
            && info(&mut m, "replication", "master_link_status") == "up"
    });
    assert_eq!(r.cmd(&["get", "case"]), "$1\r\n2\r\n");
    assert_eq!(info(&mut r, "stats", "sync_partial_ok"), "1");
    assert_eq!(info(&mut r, "stats", "sync_full"), "0");
    assert_in_sync(&replica, &master);
}

/// A link our master has closed is down for every client from that moment, as in Redis (whose event loop handles
/// the close before a later request): the suite cuts the link, then waits for `master_link_status:up` again, and
/// must not be told "up" about the link already gone.
#[test]
fn a_link_the_master_closed_is_down_at_once() {
    let (master, replica) = (ferredis(), ferredis());
    let mut m = master.client();
    fill(&mut m, "k", 10);
    replicate(&replica, &master);
    assert_in_sync(&master, &replica);
    let mut r = replica.client();
    for _ in 0..5 {
        assert_eq!(m.cmd(&["client", "kill", "type", "replica"]), ":1\r\n");
        assert_eq!(info(&mut r, "replication", "master_link_status"), "down");
        wait_until("the link again", Duration::from_secs(20), || {
            info(&mut r, "replication", "master_link_status") == "up"
        });
    }
}
