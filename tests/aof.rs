//! The append-only file: restart and DEBUG LOADAOF give back the dataset, `appendfsync always` keeps every
//! acknowledged write through SIGKILL, a rewrite under load loses nothing, directories are exchanged with
//! redis-server 7.0.15 both ways and checked by redis-check-aof, bad files stop start-up with Redis's texts;
//! `everysec` on a slow disk postpones writes for 2 s, never holding writers up; a deadline in the past replayed
//! from the AOF keeps the key while loading.

mod common;
use common::{info_field, wait_until, Client, Dir, Server};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn args<'a>(dir: &'a Dir, log: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "--dir",
        dir.s(),
        "--enable-debug-command",
        "yes",
        "--appendonly",
        "yes",
    ];
    a.extend(["--logfile", log]);
    a.extend(extra);
    a
}

fn start(dir: &Dir, extra: &[&str]) -> Server {
    start_env(dir, extra, &[])
}

/// `start` with environment variables (the test-only hooks).
fn start_env(dir: &Dir, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let log = dir.file("log");
    let s = Server::start_with_env(&args(dir, log.to_str().expect("utf-8"), extra), env);
    wait_loaded(&s);
    s
}

/// Clients may connect while the AOF loads; they are answered -LOADING until it is loaded.
fn wait_loaded(s: &Server) {
    let mut c = s.client();
    wait_until("the AOF to load", || c.cmd(&["ping"]) == "+PONG\r\n");
}

fn shutdown_nosave(s: &mut Server, c: &mut Client) {
    c.send(&["shutdown", "nosave"]);
    assert!(c.is_closed());
    assert!(s
        .wait_exit(Duration::from_secs(10))
        .is_some_and(|st| st.success()));
}

fn start_redis(dir: &Dir) -> Option<Server> {
    Server::start_redis_with(&[
        "--dir",
        dir.s(),
        "--enable-debug-command",
        "yes",
        "--appendonly",
        "yes",
    ])
}

/// Runs ferredis to its exit (a start-up that must fail) and returns its status.
fn run_to_exit(dir: &Dir, extra: &[&str]) -> std::process::ExitStatus {
    let log = dir.file("log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .current_dir(dir.s())
        .args(["--port", &common::free_port().to_string(), "--save", ""])
        .args(args(dir, log.to_str().expect("utf-8"), extra))
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("ferredis did not exit; log:\n{}", dir.log());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_rewrite(c: &mut Client) {
    wait_until("the AOF rewrite to finish", || {
        info_field(c, "aof_rewrite_in_progress") == "0"
            && info_field(c, "aof_rewrite_scheduled") == "0"
    });
}

fn digest(c: &mut Client) -> String {
    let d = c.cmd(&["debug", "digest"]);
    assert!(d.starts_with('+'), "{d}");
    d
}

/// Every type with TTLs, a transaction and several databases.
fn fill(c: &mut Client, tag: &str) {
    let stream = format!("stream:{tag}");
    let stream = stream.as_str();
    for db in ["0", "3", "15"] {
        c.cmd(&["select", db]);
        let cmds: &[&[&str]] = &[
            &["set", "str", tag],
            &["set", "ttl", "v", "ex", "1000"],
            &["incrbyfloat", "f", "1.5"],
            &["rpush", "list", "a", "b", "1"],
            &["sadd", "intset", "1", "2"],
            &["sadd", "set", "x", tag],
            &["hset", "hash", "f", "v", "g", tag],
            &["zadd", "zset", "1.5", "a", "-2", tag],
            &["xadd", stream, "*", "f", "v"],
            &["xgroup", "create", stream, "g", "0"],
            &[
                "xreadgroup",
                "group",
                "g",
                "c",
                "count",
                "1",
                "streams",
                stream,
                ">",
            ],
            &["pfadd", "hll", "a", "b"],
        ];
        for cmd in cmds {
            let r = c.cmd(cmd);
            assert!(!r.starts_with('-'), "{cmd:?}: {r}");
        }
        c.cmd(&["multi"]);
        c.cmd(&["incr", "counter"]);
        c.cmd(&["lpush", "list", tag]);
        assert!(c.cmd(&["exec"]).starts_with('*'));
    }
    c.cmd(&["select", "0"]);
}

#[test]
fn restart_and_debug_loadaof_give_back_the_dataset() {
    let dir = Dir::new("aof-restart");
    let mut s = start(&dir, &["--appendfsync", "always"]);
    let mut c = s.client();
    fill(&mut c, "one");
    let before = digest(&mut c);
    assert_eq!(c.cmd(&["debug", "loadaof"]), "+OK\r\n");
    assert_eq!(digest(&mut c), before);
    assert_eq!(
        c.cmd(&["bgrewriteaof"]),
        "+Background append only file rewriting started\r\n"
    );
    wait_rewrite(&mut c);
    fill(&mut c, "two");
    let before = digest(&mut c);
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    assert_eq!(info_field(&mut c, "aof_rewrites"), "1");
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    let manifest = std::fs::read_to_string(dir.aof("appendonly.aof.manifest")).unwrap();
    assert_eq!(
        manifest,
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    assert!(
        !dir.aof("appendonly.aof.1.incr.aof").exists(),
        "history removed"
    );
    drop(s); // SIGKILL
    s = start(&dir, &[]);
    let mut c = s.client();
    assert_eq!(digest(&mut c), before);
    assert!(dir
        .log()
        .contains("DB loaded from incr file appendonly.aof.2.incr.aof"));
    // The same with a base made of commands.
    assert_eq!(
        c.cmd(&["config", "set", "aof-use-rdb-preamble", "no"]),
        "+OK\r\n"
    );
    assert!(c.cmd(&["bgrewriteaof"]).starts_with('+'));
    wait_rewrite(&mut c);
    assert!(dir.aof("appendonly.aof.3.base.aof").exists());
    assert_eq!(c.cmd(&["debug", "loadaof"]), "+OK\r\n");
    assert_eq!(digest(&mut c), before);
    drop(s);
}

#[test]
fn config_set_appendonly_starts_a_rewrite_and_bgrewriteaof_answers_as_redis() {
    let dir = Dir::new("aof-config");
    let log = dir.file("log");
    let s = Server::start_with(&[
        "--dir",
        dir.s(),
        "--logfile",
        log.to_str().unwrap(),
        "--enable-debug-command",
        "yes",
    ]);
    wait_loaded(&s);
    let mut c = s.client();
    c.cmd(&["set", "before", "1"]);
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
    assert_eq!(c.cmd(&["config", "set", "appendonly", "yes"]), "+OK\r\n");
    c.cmd(&["set", "after", "2"]);
    wait_rewrite(&mut c);
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    c.cmd(&["set", "later", "3"]);
    let d = digest(&mut c);
    assert_eq!(c.cmd(&["debug", "loadaof"]), "+OK\r\n");
    assert_eq!(digest(&mut c), d);
    assert_eq!(c.cmd(&["dbsize"]), ":3\r\n");
    assert!(dir
        .log()
        .contains("Background AOF rewrite finished successfully"));
    assert_eq!(
        c.cmd(&["bgrewriteaof", "x"]),
        "-ERR wrong number of arguments for 'bgrewriteaof' command\r\n"
    );
    c.cmd(&["multi"]);
    c.cmd(&["bgrewriteaof"]);
    assert_eq!(
        c.cmd(&["exec"]),
        "*1\r\n+Background append only file rewriting scheduled\r\n"
    );
    wait_rewrite(&mut c);
    assert_eq!(c.cmd(&["config", "set", "appendonly", "no"]), "+OK\r\n");
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
}

/// Several clients INCR their own counters under `appendfsync always`; SIGKILL at a random moment; after a
/// restart each counter is its last acknowledged value or one more (sent, applied, not yet acknowledged).
#[test]
fn appendfsync_always_keeps_every_acknowledged_write_through_sigkill() {
    acknowledged_writes_survive_sigkill("always");
}

/// `everysec` writes before it replies, as Redis: a killed process (not a crashed machine) loses nothing.
#[test]
fn appendfsync_everysec_keeps_every_acknowledged_write_through_sigkill() {
    acknowledged_writes_survive_sigkill("everysec");
}

fn acknowledged_writes_survive_sigkill(policy: &str) {
    let dir = Dir::new(&format!("aof-crash-{policy}"));
    for round in 0..3 {
        let s = start(&dir, &["--appendfsync", policy]);
        let port = s.port;
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..4)
            .map(|i| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut c = Client::connect(port);
                    c.set_timeout(Duration::from_secs(5));
                    let key = format!("counter:{i}");
                    let mut acked: i64 = match c.cmd(&["get", &key]).as_str() {
                        "$-1\r\n" => 0,
                        r => r.lines().nth(1).unwrap().parse().unwrap(),
                    };
                    while !stop.load(Ordering::Relaxed) {
                        c.send(&["incr", &key]);
                        let mut b = [0u8; 1];
                        // A reply cut by the kill ends the loop; only complete replies count.
                        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            c.read_reply()
                        }));
                        match r {
                            Ok(r) if r.starts_with(':') => {
                                acked = r[1..r.len() - 2].parse().unwrap()
                            }
                            _ => break,
                        }
                        let _ = &mut b;
                    }
                    (key, acked)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150 + fastrand_ms(round)));
        drop(s); // SIGKILL while the workers write
        stop.store(true, Ordering::Relaxed);
        let acked: Vec<(String, i64)> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        let s = start(&dir, &[]);
        let mut c = s.client();
        for (key, n) in &acked {
            let got: i64 = c
                .cmd(&["get", key])
                .lines()
                .nth(1)
                .unwrap_or("0")
                .parse()
                .unwrap();
            assert!(
                got == *n || got == n + 1,
                "round {round}: {key} acknowledged {n}, found {got} after the restart"
            );
        }
        assert!(
            acked.iter().all(|(_, n)| *n > 0),
            "the workers wrote: {acked:?}"
        );
        drop(s);
    }
}

/// A pseudo-random kill delay per round, without a dependency.
fn fastrand_ms(round: u64) -> u64 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    (t ^ (round * 7919)) % 250
}

/// Writers keep going while two rewrites run; after a restart the dataset is the one the clients left.
#[test]
fn a_rewrite_under_load_loses_nothing() {
    let dir = Dir::new("aof-load");
    let mut s = start(&dir, &[]);
    let port = s.port;
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|i| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    c.cmd(&["multi"]);
                    c.cmd(&["incr", &format!("c{i}")]);
                    c.cmd(&["rpush", &format!("l{i}"), &n.to_string()]);
                    c.cmd(&["exec"]);
                    c.cmd(&["set", &format!("k{i}:{}", n % 500), &n.to_string()]);
                }
                n
            })
        })
        .collect();
    let mut c = s.client();
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(100));
        assert!(c.cmd(&["bgrewriteaof"]).starts_with('+'));
        wait_rewrite(&mut c);
    }
    stop.store(true, Ordering::Relaxed);
    let counts: Vec<i64> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    let before = digest(&mut c);
    shutdown_nosave(&mut s, &mut c);
    drop(s);
    let s = start(&dir, &[]);
    let mut c = s.client();
    assert_eq!(digest(&mut c), before);
    for (i, n) in counts.iter().enumerate() {
        assert_eq!(
            c.cmd(&["get", &format!("c{i}")]),
            format!("${}\r\n{n}\r\n", n.to_string().len())
        );
    }
}

#[test]
fn directories_are_exchanged_with_redis_both_ways() {
    let dir = Dir::new("aof-interop");
    let mut s = start(&dir, &[]);
    let mut c = s.client();
    fill(&mut c, "ferredis");
    assert!(c.cmd(&["bgrewriteaof"]).starts_with('+'));
    wait_rewrite(&mut c);
    fill(&mut c, "again");
    let ours = digest(&mut c);
    shutdown_nosave(&mut s, &mut c);
    drop(s);
    let check = Command::new("redis-check-aof")
        .arg(dir.aof("appendonly.aof.manifest"))
        .output();
    if std::env::var_os("FERREDIS_NO_REDIS").is_none() {
        let check = check.expect("redis-check-aof is needed (or FERREDIS_NO_REDIS=1)");
        let out = String::from_utf8_lossy(&check.stdout);
        assert!(
            out.contains("All AOF files and manifest are valid"),
            "{out}"
        );
    }
    let Some(mut redis) = start_redis(&dir) else {
        return;
    };
    wait_loaded(&redis);
    let mut r = redis.client();
    assert_eq!(
        digest(&mut r),
        ours,
        "redis-server loads what ferredis wrote"
    );
    fill(&mut r, "redis");
    assert!(r.cmd(&["bgrewriteaof"]).starts_with('+'));
    wait_until("redis's rewrite", || {
        info_field(&mut r, "aof_rewrite_in_progress") == "0"
    });
    r.cmd(&["set", "tail", "1"]);
    let theirs = digest(&mut r);
    shutdown_nosave(&mut redis, &mut r);
    drop(redis);
    let s = start(&dir, &[]);
    let mut c = s.client();
    assert_eq!(
        digest(&mut c),
        theirs,
        "ferredis loads what redis-server wrote"
    );
}

#[test]
fn truncated_and_corrupt_files() {
    let dir = Dir::new("aof-bad");
    let mut s = start(&dir, &[]);
    let mut c = s.client();
    c.cmd(&["set", "a", "1"]);
    c.cmd(&["set", "b", "2"]);
    shutdown_nosave(&mut s, &mut c);
    drop(s);
    let incr = dir.aof("appendonly.aof.1.incr.aof");
    let good = std::fs::read(&incr).unwrap();
    // A last command cut short: refused with aof-load-truncated no, loaded without it with yes.
    std::fs::write(&incr, &good[..good.len() - 3]).unwrap();
    let status = run_to_exit(&dir, &["--aof-load-truncated", "no"]);
    assert!(!status.success());
    assert!(dir
        .log()
        .contains("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"));
    let mut s = start(&dir, &["--aof-load-truncated", "yes"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["get", "a"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd(&["get", "b"]), "$-1\r\n");
    assert!(dir.log().contains(
        "AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled"
    ));
    shutdown_nosave(&mut s, &mut c);
    drop(s);
    // Garbage: a format error, whatever aof-load-truncated says.
    let mut bad = std::fs::read(&incr).unwrap();
    bad.extend_from_slice(b"garbage\r\n");
    std::fs::write(&incr, &bad).unwrap();
    assert!(!run_to_exit(&dir, &[]).success());
    assert!(dir
        .log()
        .contains("Bad file format reading the append only file appendonly.aof.1.incr.aof"));
    std::fs::write(&incr, &good).unwrap();
    // A corrupt manifest.
    std::fs::write(dir.aof("appendonly.aof.manifest"), "file x seq 1\n").unwrap();
    assert!(!run_to_exit(&dir, &[]).success());
    assert!(dir.log().contains("Invalid AOF manifest file format"));
    // A file the manifest names is missing.
    std::fs::write(
        dir.aof("appendonly.aof.manifest"),
        "file missing.aof seq 1 type i\n",
    )
    .unwrap();
    assert!(!run_to_exit(&dir, &[]).success());
    assert!(dir
        .log()
        .contains("Unable to obtain the AOF file missing.aof length"));
}

#[test]
fn an_old_single_file_aof_is_upgraded() {
    let dir = Dir::new("aof-upgrade");
    std::fs::write(
        dir.file("appendonly.aof"),
        "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$5\r\nvalue\r\n",
    )
    .unwrap();
    let s = start(&dir, &[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["get", "old"]), "$5\r\nvalue\r\n");
    assert!(dir.log().contains(
        "Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir)."
    ));
    assert_eq!(
        std::fs::read_to_string(dir.aof("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    c.cmd(&["set", "new", "1"]);
    assert_eq!(c.cmd(&["debug", "loadaof"]), "+OK\r\n");
    assert_eq!(c.cmd(&["dbsize"]), ":2\r\n");
}

/// A pop served to a blocked client is in the AOF once that client has its reply (`appendfsync always`).
#[test]
fn a_served_blocking_pop_is_kept() {
    let dir = Dir::new("aof-blpop");
    let s = start(&dir, &["--appendfsync", "always"]);
    let mut waiter = s.client();
    waiter.send(&["blpop", "list", "0"]);
    s.wait_blocked(|n| n == 1);
    let mut c = s.client();
    assert_eq!(c.cmd(&["rpush", "list", "a", "b"]), ":2\r\n");
    assert_eq!(waiter.read_reply(), "*2\r\n$4\r\nlist\r\n$1\r\na\r\n");
    drop(s); // SIGKILL
    let s = start(&dir, &[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["lrange", "list", "0", "-1"]), "*1\r\n$1\r\nb\r\n");
}

fn incr_file(dir: &Dir) -> Vec<u8> {
    std::fs::read(dir.aof("appendonly.aof.1.incr.aof")).unwrap_or_default()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

const DELAYED: &str =
    "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer \
                       without waiting for fsync to complete, this may slow down Redis.";

#[test]
fn everysec_postpones_writes_during_a_slow_fsync_for_2_seconds_then_writes() {
    let dir = Dir::new("aof-fsync-slow");
    let s = start_env(
        &dir,
        &["--appendfsync", "everysec"],
        &[("FERREDIS_TEST_FSYNC_STALL_MS", "3000")],
    );
    let mut c = s.client();
    assert_eq!(c.cmd(&["set", "before", "1"]), "+OK\r\n");
    wait_until("the first write in the file", || {
        contains(&incr_file(&dir), "before")
    });
    // The background fsync starts within a second of the write and then stalls for 3 s.
    wait_until("a background fsync", || {
        info_field(&mut c, "aof_pending_bio_fsync") == "1"
    });
    let started = Instant::now();
    assert_eq!(c.cmd(&["set", "during", "1"]), "+OK\r\n");
    // Held back while the fsync runs (less than 2 s): acknowledged, not written yet.
    let poll_until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < poll_until {
        assert!(
            !contains(&incr_file(&dir), "during"),
            "written during the fsync"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(info_field(&mut c, "aof_delayed_fsync"), "0");
    // Writers are never held up meanwhile.
    let mut n = 0;
    while !dir.log().contains(DELAYED) {
        let t = Instant::now();
        assert_eq!(c.cmd(&["incr", "n"]), format!(":{}\r\n", n + 1));
        assert!(t.elapsed() < Duration::from_millis(500), "a write waited");
        n += 1;
        assert!(started.elapsed() < Duration::from_secs(10), "never written");
    }
    assert!(started.elapsed() >= Duration::from_millis(1900));
    assert_eq!(info_field(&mut c, "aof_delayed_fsync"), "1");
    wait_until("the postponed writes in the file", || {
        contains(&incr_file(&dir), "during")
    });
    wait_until("the slow fsync to end", || {
        info_field(&mut c, "aof_pending_bio_fsync") == "0"
    });
    // Nothing was lost: the file gives back what the clients saw.
    assert_eq!(c.cmd(&["debug", "loadaof"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["get", "n"]),
        format!("${}\r\n{n}\r\n", n.to_string().len())
    );
    assert_eq!(c.cmd(&["dbsize"]), ":3\r\n");
}

#[test]
fn a_deadline_in_the_past_replayed_from_the_aof_keeps_the_key_until_loaded() {
    let dir = Dir::new("aof-fsync-pexpireat");
    let aof_dir = dir.file("appendonlydir");
    std::fs::create_dir_all(&aof_dir).expect("aof dir");
    std::fs::write(
        aof_dir.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .expect("manifest");
    let cmds: &[&[&str]] = &[
        &["rpush", "list", "foo"],
        &["pexpireat", "list", "1000"],
        &["rpush", "list", "bar"],
        &["set", "k", "v"],
        &["expire", "k", "-1"],
        &["append", "k", "w"],
    ];
    let mut body = Vec::new();
    for cmd in cmds {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        body.extend(Client::encode(&args));
    }
    std::fs::write(aof_dir.join("appendonly.aof.1.incr.aof"), body).expect("incr");
    let s = start(&dir, &[]);
    let mut c = s.client();
    // Replayed as Redis replays it: the second RPUSH and the APPEND went to the keys with their past deadlines,
    // so both keys are gone once loaded, rather than holding `bar` and `w`.
    assert_eq!(c.cmd(&["llen", "list"]), ":0\r\n");
    assert_eq!(c.cmd(&["get", "k"]), "$-1\r\n");
    assert_eq!(c.cmd(&["exists", "list", "k"]), ":0\r\n");
    // Outside loading a deadline in the past still deletes at once.
    assert_eq!(c.cmd(&["rpush", "l2", "a"]), ":1\r\n");
    assert_eq!(c.cmd(&["pexpireat", "l2", "1000"]), ":1\r\n");
    assert_eq!(c.cmd(&["rpush", "l2", "b"]), ":1\r\n");
}

/// A replica started with `replicaof` is a read-only replica while it loads, yet the scripts its AOF replays
/// still write: the loader is obeyed, as Redis's `mustObeyClient` (the suite's "EVAL can process writes from
/// AOF in read-only replicas").
#[test]
fn a_read_only_replica_replays_the_scripts_of_its_aof() {
    let dir = Dir::new("aof-replica-scripts");
    std::fs::create_dir_all(dir.aof("")).unwrap();
    std::fs::write(
        dir.aof("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .unwrap();
    let script = |body: &str| {
        format!(
            "*4\r\n$4\r\neval\r\n${}\r\n{body}\r\n$1\r\n1\r\n$3\r\nfoo\r\n",
            body.len()
        )
    };
    let aof = [
        "*2\r\n$6\r\nselect\r\n$1\r\n9\r\n".to_string(),
        script("redis.call('set',KEYS[1],'100')"),
        script("redis.call('incr',KEYS[1])"),
        script("redis.call('incr',KEYS[1])"),
    ];
    std::fs::write(dir.aof("appendonly.aof.1.incr.aof"), aof.concat()).unwrap();
    let s = start(
        &dir,
        &[
            "--replicaof",
            "127.0.0.1",
            "0",
            "--replica-read-only",
            "yes",
        ],
    );
    let mut c = s.client();
    assert!(c
        .cmd(&["info", "replication"])
        .contains("\r\nrole:slave\r\n"));
    c.cmd(&["select", "9"]);
    assert_eq!(c.cmd(&["get", "foo"]), "$3\r\n102\r\n");
    assert_eq!(
        c.cmd(&["set", "foo", "1"]),
        "-READONLY You can't write against a read only replica.\r\n"
    );
}

/// Replies held until the AOF has their writes (fsynced with `always`, written with `everysec`) come in order,
/// for six clients pipelining writes and reads at once (with `everysec` a client whose thread finds another
/// writing the file holds its replies instead of waiting), then a write before a blocking command and before QUIT.
#[test]
fn replies_held_for_the_fsync_come_in_order() {
    replies_held_for_the_aof_come_in_order("always");
}

#[test]
fn replies_held_for_the_write_come_in_order() {
    replies_held_for_the_aof_come_in_order("everysec");
}

fn replies_held_for_the_aof_come_in_order(policy: &str) {
    let dir = Dir::new(&format!("aof-held-{policy}"));
    let s = start(&dir, &["--appendfsync", policy]);
    let port = s.port;
    let clients: Vec<_> = (0..6)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                let mut batch = Vec::new();
                let mut expected = String::new();
                let counter = format!("n{t}");
                for i in 0..500 {
                    let k = format!("{t}:{i}");
                    batch.extend(Client::encode(&[b"INCR", counter.as_bytes()]));
                    batch.extend(Client::encode(&[b"SET", k.as_bytes(), k.as_bytes()]));
                    batch.extend(Client::encode(&[b"GET", k.as_bytes()]));
                    expected.push_str(&format!(":{}\r\n+OK\r\n${}\r\n{k}\r\n", i + 1, k.len()));
                }
                c.send_raw(&batch);
                let mut got = String::new();
                for _ in 0..1500 {
                    got.push_str(&c.read_reply());
                }
                assert_eq!(got, expected, "client {t}");
            })
        })
        .collect();
    for c in clients {
        c.join().unwrap();
    }
    let mut c = s.client();
    // A write then a blocking command: the write's reply first, then the timeout's.
    c.send_raw(
        &[
            Client::encode(&[b"SET", b"k", b"v"]),
            Client::encode(&[b"BLPOP", b"empty", b"0.01"]),
        ]
        .concat(),
    );
    assert_eq!(c.read_reply(), "+OK\r\n");
    assert_eq!(c.read_reply(), "*-1\r\n");
    // A write then QUIT: both replies, then the close.
    c.send_raw(
        &[
            Client::encode(&[b"SET", b"q", b"1"]),
            Client::encode(&[b"QUIT"]),
        ]
        .concat(),
    );
    assert_eq!(c.read_reply(), "+OK\r\n");
    assert_eq!(c.read_reply(), "+OK\r\n");
    assert_eq!(c.read_until_closed(), Some(0));
    let mut other = s.client();
    assert_eq!(other.cmd(&["GET", "q"]), "$1\r\n1\r\n");
    for t in 0..6 {
        assert_eq!(other.cmd(&["GET", &format!("n{t}")]), "$3\r\n500\r\n");
    }
}

/// A full disk: the increment file is `/dev/full`, where every write fails with ENOSPC. The write that fails is
/// kept to retry (its reply already went out, as Redis's does under `everysec`), every later write is refused
/// with Redis's -MISCONF text, reads still work, INFO says `aof_last_write_status:err`, and the log has Redis's
/// line.
#[test]
fn a_full_disk_refuses_writes_with_misconf() {
    let dir = Dir::new("aof-full");
    std::fs::create_dir_all(dir.file("appendonlydir")).unwrap();
    std::os::unix::fs::symlink("/dev/full", dir.aof("appendonly.aof.1.incr.aof")).unwrap();
    let s = start(&dir, &[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["SET", "a", "1"]), "+OK\r\n");
    wait_until("the write error", || {
        info_field(&mut c, "aof_last_write_status") == "err"
    });
    let misconf = "-MISCONF Errors writing to the AOF file: No space left on device\r\n";
    assert_eq!(c.cmd(&["SET", "b", "1"]), misconf);
    assert_eq!(c.cmd(&["INCR", "a"]), misconf);
    assert_eq!(c.cmd(&["PING"]), misconf);
    assert_eq!(c.cmd(&["GET", "a"]), "$1\r\n1\r\n");
    assert_eq!(c.cmd(&["GET", "b"]), "$-1\r\n");
    let log = dir.log();
    assert!(
        log.contains("Error writing to the AOF file: No space left on device"),
        "{log}"
    );
}
