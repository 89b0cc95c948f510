//! Replication's operational limits and restarts, with redis-server on the other side where it applies:
//! `repl-backlog-ttl`, `client-output-buffer-limit replica`, one snapshot shared by replicas that ask together
//! (`repl-diskless-sync-delay` / `-max-replicas`), and a restarted replica that resumes with `+CONTINUE` from
//! the replication ID and offset its RDB file recorded (`repl-id`, `repl-offset`, `repl-stream-db`).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{Client, Server};

/// One field of INFO `section`.
fn info(c: &mut Client, section: &str, field: &str) -> String {
    let text = c.cmd(&["info", section]);
    text.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
}

fn wait_for(what: &str, within: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A directory of its own for a server's files (its log, its RDB across a restart).
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferredis-replops-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

fn log_has(dir: &Path, line: &str) -> bool {
    std::fs::read_to_string(dir.join("log.txt")).is_ok_and(|log| log.contains(line))
}

fn log_count(dir: &Path, line: &str) -> usize {
    std::fs::read_to_string(dir.join("log.txt")).map_or(0, |log| log.matches(line).count())
}

/// The arguments of a server logging into `dir/log.txt`, working in `dir`.
fn args_in(dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = ["--dir", &dir.display().to_string(), "--logfile", "log.txt"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["--enable-debug-command", "yes"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn ferredis_in(dir: &Path, extra: &[&str]) -> Server {
    let args = args_in(dir, extra);
    Server::start_with(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn redis_in(dir: &Path, extra: &[&str]) -> Server {
    let args = args_in(dir, extra);
    Server::start_redis_with(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .expect("redis-server")
}

fn replicate(replica: &Server, master: &Server) {
    let reply = replica
        .client()
        .cmd(&["replicaof", "127.0.0.1", &master.port.to_string()]);
    assert_eq!(reply, "+OK\r\n");
}

fn wait_in_sync(master: &Server, replica: &Server) {
    let (mut m, mut r) = (master.client(), replica.client());
    wait_for("the replica to catch up", Duration::from_secs(20), || {
        info(&mut r, "replication", "master_link_status") == "up"
            && info(&mut r, "replication", "slave_repl_offset")
                == info(&mut m, "replication", "master_repl_offset")
            && m.cmd(&["debug", "digest"]) == r.cmd(&["debug", "digest"])
    });
}

/// A master whose last replica left frees its backlog `repl-backlog-ttl` seconds later and starts a new history,
/// as redis-server does, with its log line; the replica in between is redis-server or ferredis.
#[test]
fn backlog_ttl_frees_the_backlog_of_a_master_without_replicas() {
    let cases = [("ferredis", true), ("redis", false)];
    for (name, ferredis_master) in cases {
        let dir = scratch(&format!("ttl-{name}"));
        let args = ["--repl-backlog-ttl", "1", "--repl-diskless-sync-delay", "0"];
        let master = if ferredis_master {
            ferredis_in(&dir, &args)
        } else {
            redis_in(&dir, &args)
        };
        let replica = if ferredis_master {
            Server::start_redis_with(&["--enable-debug-command", "yes"]).expect("redis-server")
        } else {
            Server::start_with(&["--enable-debug-command", "yes"])
        };
        let mut m = master.client();
        assert_eq!(info(&mut m, "replication", "repl_backlog_active"), "0");
        replicate(&replica, &master);
        m.cmd(&["set", "k", "v"]);
        wait_in_sync(&master, &replica);
        assert_eq!(info(&mut m, "replication", "repl_backlog_active"), "1");
        let replid = info(&mut m, "replication", "master_replid");
        assert_eq!(replica.client().cmd(&["replicaof", "no", "one"]), "+OK\r\n");
        wait_for("the replica to leave", Duration::from_secs(5), || {
            info(&mut m, "replication", "connected_slaves") == "0"
        });
        // Still there within the ttl: a replica coming back would resume.
        assert_eq!(info(&mut m, "replication", "repl_backlog_active"), "1");
        wait_for("the backlog to be freed", Duration::from_secs(5), || {
            info(&mut m, "replication", "repl_backlog_active") == "0"
        });
        assert_ne!(
            info(&mut m, "replication", "master_replid"),
            replid,
            "{name}"
        );
        assert_eq!(info(&mut m, "replication", "repl_backlog_histlen"), "0");
        assert!(
            log_has(
                &dir,
                "Replication backlog freed after 1 seconds without connected replicas."
            ),
            "{name}'s log"
        );
    }
}

/// A replica that stops reading (SIGSTOP) while the master writes is disconnected once its unsent stream passes
/// the hard limit, with Redis's log line; once it runs again it syncs again, and the datasets agree.
#[test]
fn a_replica_over_its_output_buffer_limit_is_disconnected() {
    let dir = scratch("obuf");
    let master = ferredis_in(
        &dir,
        &[
            "--client-output-buffer-limit",
            "replica 1mb 0 0",
            "--repl-backlog-size",
            "16kb",
            "--repl-diskless-sync-delay",
            "0",
        ],
    );
    let replica = redis_replica_of(&master);
    let mut m = master.client();
    replica.signal("-STOP");
    // More than the socket buffers hold, so the stream stays in the master's buffer.
    let value = "x".repeat(1 << 20);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut i = 0;
    while info(&mut m, "replication", "connected_slaves") != "0" {
        assert!(
            Instant::now() < deadline,
            "the replica was never disconnected"
        );
        m.cmd(&["set", &format!("big{}", i % 64), &value]);
        i += 1;
    }
    replica.signal("-CONT");
    assert!(log_has(
        &dir,
        "scheduled to be closed ASAP for overcoming of output buffer limits."
    ));
    // A limit below repl-backlog-size counts as the backlog's size: a replica that resumed is not dropped again.
    wait_in_sync(&master, &replica);
    assert_eq!(info(&mut m, "replication", "connected_slaves"), "1");
}

/// Two replicas (redis-server and ferredis) that ask for a full sync within `repl-diskless-sync-delay` share one
/// snapshot: it starts as soon as `repl-diskless-sync-max-replicas` of them wait, both get the same RDB, and
/// writes made while it streams reach both.
#[test]
fn replicas_that_ask_together_share_one_snapshot() {
    let dir = scratch("shared");
    let master = ferredis_in(
        &dir,
        &[
            "--repl-diskless-sync",
            "yes",
            "--repl-diskless-sync-delay",
            "30",
            "--repl-diskless-sync-max-replicas",
            "2",
        ],
    );
    let mut m = master.client();
    m.cmd(&["debug", "populate", "2000", "key", "100"]);
    let a = Server::start_redis_with(&["--enable-debug-command", "yes"]).expect("redis-server");
    let b = Server::start_with(&["--enable-debug-command", "yes"]);
    let started = Instant::now();
    replicate(&a, &master);
    replicate(&b, &master);
    m.cmd(&["set", "written", "while syncing"]);
    wait_in_sync(&master, &a);
    wait_in_sync(&master, &b);
    // The 30 s delay was cut short by the second replica.
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(info(&mut m, "stats", "sync_full"), "2");
    assert_eq!(
        log_count(
            &dir,
            "Starting BGSAVE for SYNC with target: replicas sockets"
        ),
        1
    );
    assert_eq!(
        a.client().cmd(&["get", "written"]),
        "$13\r\nwhile syncing\r\n"
    );
    assert_eq!(b.client().cmd(&["dbsize"]), ":2001\r\n");
}

/// A replica restarted from the RDB it saved at SHUTDOWN resumes with `+CONTINUE` (its master counts a partial
/// sync, not a second full one) and gets what its master wrote meanwhile, in the database the stream was in;
/// with a ferredis and a redis-server master.
#[test]
fn a_restarted_replica_resumes_from_its_rdb() {
    for ferredis_master in [true, false] {
        let master = if ferredis_master {
            Server::start_with(&[
                "--enable-debug-command",
                "yes",
                "--repl-diskless-sync-delay",
                "0",
            ])
        } else {
            Server::start_redis_with(&[
                "--enable-debug-command",
                "yes",
                "--repl-diskless-sync-delay",
                "0",
            ])
            .expect("redis-server")
        };
        let name = if ferredis_master { "ferredis" } else { "redis" };
        let dir = scratch(&format!("restart-{name}"));
        let mut replica = ferredis_in(&dir, &[]);
        replicate(&replica, &master);
        let mut m = master.client();
        m.cmd(&["select", "3"]);
        m.cmd(&["set", "before", "1"]);
        wait_in_sync(&master, &replica);
        let mut r = replica.client();
        r.send(&["shutdown", "save"]);
        assert!(replica.wait_exit(Duration::from_secs(10)).is_some());
        // Written while the replica is down: the stream is still in database 3.
        m.cmd(&["set", "meanwhile", "2"]);
        m.cmd(&["incr", "before"]);
        let master_port = master.port.to_string();
        let replica = ferredis_in(&dir, &["--replicaof", "127.0.0.1", &master_port]);
        wait_in_sync(&master, &replica);
        assert_eq!(info(&mut m, "stats", "sync_full"), "1", "{name}");
        assert_eq!(info(&mut m, "stats", "sync_partial_ok"), "1", "{name}");
        let mut r = replica.client();
        r.cmd(&["select", "3"]);
        assert_eq!(
            r.cmd(&["mget", "before", "meanwhile"]),
            "*2\r\n$1\r\n2\r\n$1\r\n2\r\n"
        );
    }
}

/// A server started with `replicaof` is a replica while it still loads its RDB, as redis-server (which reads
/// `replicaof` with its configuration) says: INFO, ROLE and HELLO report the replica role, with the link down.
#[test]
fn a_configured_replica_is_a_replica_while_it_loads() {
    let dir = scratch("configured-loading");
    let seed = ferredis_in(&dir, &["--enable-debug-command", "yes"]);
    let mut c = seed.client();
    assert_eq!(c.cmd(&["debug", "populate", "1000"]), "+OK\r\n");
    assert_eq!(c.cmd(&["save"]), "+OK\r\n");
    drop(seed);
    // Nothing listens on the master's port; 1,000 keys at 2 ms each keep the load going for 2 s, and clients are
    // answered once the first 1,024 bytes are read.
    let nowhere = common::free_port().to_string();
    let args = [
        "--replicaof",
        "127.0.0.1",
        &nowhere,
        "--key-load-delay",
        "2000",
        "--loading-process-events-interval-bytes",
        "1024",
    ];
    let loading = ferredis_in(&dir, &args);
    let mut r = loading.client();
    assert_eq!(info(&mut r, "persistence", "loading"), "1");
    assert_eq!(info(&mut r, "replication", "role"), "slave");
    assert_eq!(info(&mut r, "replication", "master_link_status"), "down");
    assert_eq!(
        r.cmd(&["role"]),
        format!("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:{nowhere}\r\n$7\r\nconnect\r\n:-1\r\n")
    );
    let hello = r.cmd(&["hello", "2"]);
    assert!(hello.contains("$4\r\nrole\r\n$7\r\nreplica\r\n"), "{hello}");
    wait_for("the load to finish", Duration::from_secs(20), || {
        info(&mut r, "persistence", "loading") == "0"
    });
    assert_eq!(r.cmd(&["dbsize"]), ":1000\r\n");
    assert_eq!(info(&mut r, "replication", "role"), "slave");
}

/// A replica that sends a command on its replication link is dropped, with Redis's log lines (a keyspace command
/// also gets the CRITICAL line), so that no replica stays attached and the master's PINGs do not move the
/// offset: a fresh server's first `+FULLRESYNC` names offset 0, as redis-server's does.
#[test]
fn a_replica_sending_commands_on_its_link_is_dropped() {
    for kind in ["ferredis", "redis"] {
        let dir = scratch(&format!("rogue-{kind}"));
        let extra = ["--repl-diskless-sync-delay", "0"];
        let server = match kind {
            "ferredis" => ferredis_in(&dir, &extra),
            _ => redis_in(&dir, &extra),
        };
        for (sync, command, name) in [
            (&["sync"][..], &["ping"][..], "ping"),
            (
                &["psync", "replicationid", "-1"][..],
                &["get", "foo"][..],
                "get",
            ),
        ] {
            let mut c = server.client();
            c.send(sync);
            if sync.len() > 1 {
                let line = c.read_reply();
                assert!(
                    line.starts_with("+FULLRESYNC ") && line.ends_with(" 0\r\n"),
                    "{kind}: {line}"
                );
            }
            c.send(command);
            // The RDB, then the end of the link.
            c.set_timeout(Duration::from_secs(20));
            while !c.is_closed() {}
            // Redis logs the loss right after closing; ferredis just before, so a client that saw the close
            // (the suite's next test) finds the line already there.
            let lost = "# Connection with replica 127.0.0.1:0 lost.";
            if kind == "ferredis" {
                assert_eq!(log_count(&dir, lost), if name == "ping" { 1 } else { 2 });
            }
            let line =
                format!("Replica generated a reply to command '{name}', disconnecting it: id=");
            wait_for("the log line", Duration::from_secs(10), || {
                log_has(&dir, &line)
            });
            let critical = "== CRITICAL == This master is sending an error to its replica: 'Replica can't interact with the keyspace' after processing the command 'get'";
            assert_eq!(log_has(&dir, critical), name == "get", "{kind}");
            let mut m = server.client();
            wait_for("the replica to leave", Duration::from_secs(10), || {
                info(&mut m, "replication", "connected_slaves") == "0"
            });
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A replica that stops reading makes the master hold its stream; that memory is the replica's
/// (`mem_clients_slaves`, `mem_not_counted_for_evict`) and costs no keys under `maxmemory`, as in Redis; once the
/// replica is killed it is gone from those figures.
#[test]
fn a_stalled_replica_s_buffer_is_not_counted_for_eviction() {
    use std::io::Write;
    for kind in ["ferredis", "redis"] {
        let dir = scratch(&format!("stalled-{kind}"));
        let extra = [
            "--repl-diskless-sync-delay",
            "0",
            "--repl-backlog-size",
            "10240",
            "--client-output-buffer-limit",
            "replica 100000000 100000000 300",
        ];
        let server = match kind {
            "ferredis" => ferredis_in(&dir, &extra),
            _ => redis_in(&dir, &extra),
        };
        let mut m = server.client();
        let payload = "A".repeat(100_000);
        for j in 0..100 {
            m.cmd(&["SET", &format!("key:{j}"), &payload[..100]]);
        }
        m.cmd(&["SET", "key:0", &payload]);
        // A replica that asks for the stream and never reads it.
        let mut stalled = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stalled.write_all(b"PSYNC ? -1\r\n").unwrap();
        wait_for("the replica to attach", Duration::from_secs(10), || {
            m.cmd(&["INFO", "replication"]).contains(",state=online,")
        });
        let used: u64 = info(&mut m, "memory", "used_memory").parse().unwrap();
        // Room for the writer's 100 kB query buffer; the 10 MB it sends must not need any.
        let limit = (used + 1_000_000).to_string();
        assert_eq!(m.cmd(&["CONFIG", "SET", "maxmemory", &limit]), "+OK\r\n");
        assert_eq!(
            m.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]),
            "+OK\r\n"
        );
        for _ in 0..100 {
            assert_eq!(
                m.cmd(&["SETRANGE", "key:0", "0", &payload]),
                ":100000\r\n",
                "{kind}"
            );
        }
        let buffered: u64 = info(&mut m, "memory", "mem_not_counted_for_evict")
            .parse()
            .unwrap();
        assert!(
            buffered > 2_000_000,
            "{kind}: mem_not_counted_for_evict {buffered}"
        );
        // Redis leaves a little of it counted (its estimate of the backlog's block overhead).
        let slaves: u64 = info(&mut m, "memory", "mem_clients_slaves")
            .parse()
            .unwrap();
        assert!(
            slaves.abs_diff(buffered) < 4096,
            "{kind}: {slaves} vs {buffered}"
        );
        assert_eq!(info(&mut m, "stats", "evicted_keys"), "0", "{kind}");
        assert_eq!(m.cmd(&["DBSIZE"]), ":100\r\n", "{kind}");
        assert_eq!(
            m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]),
            ":1\r\n",
            "{kind}"
        );
        wait_for(
            "the replica's buffer to go",
            Duration::from_secs(10),
            || info(&mut m, "memory", "mem_clients_slaves") == "0",
        );
        drop(stalled);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// CLIENT KILL of a replica that stopped reading (SIGSTOP, its link's thread blocked in a write) replies once
/// the replica is gone, as Redis frees it before replying: INFO right after shows no replica, and its share of
/// the replication buffer is no longer counted.
#[test]
fn client_kill_of_a_stopped_replica_frees_it_before_replying() {
    let dir = scratch("kill-stopped");
    let master = ferredis_in(&dir, &["--repl-diskless-sync-delay", "0"]);
    let replica = redis_replica_of(&master);
    let mut m = master.client();
    replica.signal("-STOP");
    // Far more than the socket buffers hold: the link's thread blocks in its write.
    let value = "x".repeat(1 << 20);
    for i in 0..40 {
        m.cmd(&["set", &format!("big{}", i % 8), &value]);
    }
    let held: u64 = info(&mut m, "memory", "mem_clients_slaves")
        .parse()
        .unwrap();
    assert!(held > 10 << 20, "mem_clients_slaves {held}");
    assert_eq!(m.cmd(&["client", "kill", "type", "replica"]), ":1\r\n");
    assert_eq!(info(&mut m, "replication", "connected_slaves"), "0");
    assert_eq!(info(&mut m, "memory", "mem_clients_slaves"), "0");
    replica.signal("-CONT");
}

/// A redis-server replica of `master`, in sync with it (one key written).
fn redis_replica_of(master: &Server) -> Server {
    let replica =
        Server::start_redis_with(&["--enable-debug-command", "yes"]).expect("redis-server");
    replicate(&replica, master);
    master.client().cmd(&["set", "k", "v"]);
    wait_in_sync(master, &replica);
    replica
}
