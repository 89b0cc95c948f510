//! SAVE / BGSAVE / LASTSAVE, loading at start-up, save points, SHUTDOWN and SIGTERM saves, MISCONF, DEBUG RELOAD,
//! and files exchanged with redis-server 7.0.15.

mod common;
use common::{info_field, wait_until, Client, Dir, Server};
use std::time::{Duration, Instant};

fn start_in(dir: &Dir, extra: &[&str]) -> Server {
    let log = dir.file("log");
    let mut args = vec!["--dir", dir.s(), "--enable-debug-command", "yes"];
    args.extend(["--logfile", log.to_str().expect("utf-8")]);
    args.extend(extra);
    Server::start_with(&args)
}

/// Leaves `dir` with a dump.rdb of `keys` keys of DEBUG POPULATE, saved by a server that then stopped.
fn save_populated(dir: &Dir, keys: &str) {
    let mut s = start_in(dir, &[]);
    let mut c = s.client();
    c.cmd(&["debug", "populate", keys]);
    assert_eq!(c.cmd(&["save"]), "+OK\r\n");
    c.send(&["shutdown", "nosave"]);
    s.wait_exit(Duration::from_secs(5)).expect("exit");
}

fn wait_bgsave(c: &mut Client) {
    wait_until("the BGSAVE to finish", || {
        info_field(c, "rdb_bgsave_in_progress") == "0"
    });
}

/// Every type (each encoding), with and without TTLs, in all 16 databases.
fn fill_all_types(c: &mut Client) {
    for db in 0..16 {
        let db = db.to_string();
        c.cmd(&["select", &db]);
        let cmds: &[&[&str]] = &[
            &["set", "str", &db],
            &["set", "int", "12345"],
            &["set", "ttl", "v", "ex", "1000"],
            &["rpush", "list", "a", "b", "1"],
            &["sadd", "intset", "1", "2"],
            &["sadd", "set", "x", "y"],
            &["hset", "hash", "f", "v"],
            &["zadd", "zset", "1.5", "a", "-2", "b"],
            &["xadd", "stream", "1-1", "f", "v"],
            &["pexpire", "list", "5000000"],
        ];
        for cmd in cmds {
            let r = c.cmd(cmd);
            assert!(!r.starts_with('-'), "{cmd:?}: {r}");
        }
    }
    c.cmd(&["select", "0"]);
    c.cmd(&["config", "set", "hash-max-listpack-entries", "1"]);
    c.cmd(&["hset", "bighash", "a", "1", "b", "2"]);
}

#[test]
fn save_then_restart_loads_every_type_in_every_database() {
    let dir = Dir::new("persist-restart");
    let digest;
    {
        let mut s = start_in(&dir, &[]);
        let mut c = s.client();
        fill_all_types(&mut c);
        digest = c.cmd(&["debug", "digest"]);
        let before = c.cmd(&["lastsave"]);
        assert_eq!(c.cmd(&["save"]), "+OK\r\n");
        assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
        assert_eq!(info_field(&mut c, "rdb_saves"), "1");
        assert!(c.cmd(&["lastsave"]) >= before);
        c.send(&["shutdown", "nosave"]);
        assert!(s.wait_exit(Duration::from_secs(5)).expect("exit").success());
    }
    assert!(dir.file("dump.rdb").exists());
    let leftovers = std::fs::read_dir(&dir.0)
        .expect("dir")
        .filter_map(|e| e.ok());
    assert!(
        leftovers
            .filter(|e| e.file_name().to_string_lossy().starts_with("temp-"))
            .count()
            == 0
    );
    let s = start_in(&dir, &[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["debug", "digest"]), digest);
    assert_eq!(c.cmd(&["dbsize"]), ":10\r\n");
    assert_eq!(c.cmd(&["select", "15"]), "+OK\r\n");
    assert_eq!(c.cmd(&["get", "str"]), "$2\r\n15\r\n");
    let ttl = c.cmd(&["ttl", "ttl"]);
    assert!(ttl.starts_with(":99") || ttl == ":1000\r\n", "{ttl}");
    assert_eq!(c.cmd(&["object", "encoding", "intset"]), "$6\r\nintset\r\n");
    assert_eq!(
        info_field(&mut c, "rdb_last_load_keys_loaded"),
        (16 * 9 + 1).to_string()
    );
    assert_eq!(info_field(&mut c, "loading"), "0");
    let log = dir.log();
    assert!(log.contains("DB loaded from disk: "), "{log}");
    assert!(log.contains("Ready to accept connections"), "{log}");
}

#[test]
fn keys_expired_on_disk_are_dropped_on_load() {
    let dir = Dir::new("persist-expired");
    {
        let mut s = start_in(&dir, &[]);
        let mut c = s.client();
        c.cmd(&["set", "soon", "v", "px", "300"]);
        c.cmd(&["set", "kept", "v"]);
        assert_eq!(c.cmd(&["save"]), "+OK\r\n");
        c.send(&["shutdown", "nosave"]);
        s.wait_exit(Duration::from_secs(5)).expect("exit");
    }
    std::thread::sleep(Duration::from_millis(400));
    let s = start_in(&dir, &[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["keys", "*"]), "*1\r\n$4\r\nkept\r\n");
    assert_eq!(info_field(&mut c, "rdb_last_load_keys_expired"), "1");
    assert_eq!(info_field(&mut c, "rdb_last_load_keys_loaded"), "1");
}

/// Starts ferredis on `dir` expecting it to refuse to start; returns its exit status and log.
fn start_failing(dir: &Dir) -> (std::process::ExitStatus, String) {
    let port = common::free_port().to_string();
    let log = dir.file("log");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args([
            "--port",
            &port,
            "--dir",
            dir.s(),
            "--logfile",
            log.to_str().expect("utf-8"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run ferredis");
    (status, dir.log())
}

#[test]
fn a_corrupt_or_truncated_file_stops_start_up() {
    let dir = Dir::new("persist-corrupt");
    save_populated(&dir, "1000");
    let good = std::fs::read(dir.file("dump.rdb")).expect("saved file");
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            good[..good.len() / 2].to_vec(),
            "Short read or OOM loading DB. Unrecoverable error, aborting now.",
        ),
        (
            {
                let mut bad = good.clone();
                let at = bad.len() - 3;
                bad[at] ^= 0xFF;
                bad
            },
            "Wrong RDB checksum expected: (",
        ),
        (
            b"NOTREDIS0010garbage".to_vec(),
            "Wrong signature trying to load DB from file",
        ),
    ];
    for (bytes, line) in cases {
        std::fs::write(dir.file("dump.rdb"), &bytes).expect("write");
        let _ = std::fs::remove_file(dir.file("log"));
        let (status, log) = start_failing(&dir);
        assert!(!status.success(), "{status}");
        assert!(
            status.code().is_some(),
            "exited, not killed by a signal (no panic): {status}"
        );
        assert!(log.contains(line), "{line} not in {log}");
        assert!(!log.contains("panicked"), "{log}");
        assert!(!log.contains("Ready to accept connections"), "{log}");
    }
}

#[test]
fn bgsave_replies_and_errors() {
    let dir = Dir::new("persist-bgsave");
    let s = start_in(&dir, &[]);
    let mut c = s.client();
    c.cmd(&["debug", "populate", "2000"]);
    assert_eq!(c.cmd(&["bgsave", "foo"]), "-ERR syntax error\r\n");
    assert_eq!(c.cmd(&["bgsave", "schedule", "x"]), "-ERR syntax error\r\n");
    assert_eq!(
        c.cmd(&["lastsave", "x"]),
        "-ERR wrong number of arguments for 'lastsave' command\r\n"
    );
    assert_eq!(
        c.cmd(&["save", "x"]),
        "-ERR wrong number of arguments for 'save' command\r\n"
    );
    // 2000 keys at 1 ms each: the save is still running for the next commands.
    assert_eq!(
        c.cmd(&["config", "set", "rdb-key-save-delay", "1000"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["bgsave"]), "+Background saving started\r\n");
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
    assert_eq!(
        c.cmd(&["bgsave"]),
        "-ERR Background save already in progress\r\n"
    );
    assert_eq!(
        c.cmd(&["bgsave", "schedule"]),
        "-ERR Background save already in progress\r\n"
    );
    assert_eq!(
        c.cmd(&["save"]),
        "-ERR Background save already in progress\r\n"
    );
    assert_eq!(c.cmd(&["set", "during", "v"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["config", "set", "rdb-key-save-delay", "0"]),
        "+OK\r\n"
    );
    wait_bgsave(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(
        info_field(&mut c, "rdb_changes_since_last_save"),
        "1",
        "the SET after the snapshot"
    );
    // Inside MULTI a BGSAVE is scheduled, and the save-point thread starts it.
    c.cmd(&["multi"]);
    c.cmd(&["bgsave"]);
    assert_eq!(c.cmd(&["exec"]), "*1\r\n+Background saving scheduled\r\n");
    wait_until("the scheduled BGSAVE", || {
        info_field(&mut c, "rdb_saves") == "2"
    });
    wait_bgsave(&mut c);
    let log = dir.log();
    assert!(log.contains("Background saving started by pid "), "{log}");
    assert!(
        log.contains("Background saving terminated with success"),
        "{log}"
    );
    assert_eq!(
        c.cmd(&["config", "get", "rdb-key-save-delay"]),
        "*2\r\n$18\r\nrdb-key-save-delay\r\n$1\r\n0\r\n"
    );
    assert_eq!(
        c.cmd(&["config", "get", "rdb-key-*"]),
        "*0\r\n",
        "hidden from globs, as in Redis"
    );
}

#[test]
fn a_failed_bgsave_stops_writes_with_misconf() {
    let dir = Dir::new("persist-misconf");
    let s = start_in(
        &dir,
        &["--save", "900 1", "--enable-protected-configs", "yes"],
    );
    let mut c = s.client();
    c.cmd(&["set", "k", "v"]);
    // A transaction queued before the failure: its EXEC is refused as a write.
    let mut queued = s.client();
    queued.cmd(&["multi"]);
    assert_eq!(queued.cmd(&["incr", "n"]), "+QUEUED\r\n");
    // Nothing can be created in /proc, not even by root.
    assert_eq!(c.cmd(&["config", "set", "dir", "/proc"]), "+OK\r\n");
    assert_eq!(c.cmd(&["bgsave"]), "+Background saving started\r\n");
    wait_bgsave(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    let misconf = "-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.\r\n";
    assert_eq!(c.cmd(&["set", "k", "v2"]), misconf);
    assert_eq!(c.cmd(&["ping"]), misconf);
    // Redis's rejectCommand on EXEC: execCommandAbort.
    assert_eq!(
        queued.cmd(&["exec"]),
        format!(
            "-EXECABORT Transaction discarded because of: {}",
            &misconf[1..]
        )
    );
    assert_eq!(c.cmd(&["get", "k"]), "$1\r\nv\r\n");
    c.cmd(&["multi"]);
    assert_eq!(c.cmd(&["del", "k"]), misconf);
    assert_eq!(
        c.cmd(&["exec"]),
        "-EXECABORT Transaction discarded because of previous errors.\r\n"
    );
    assert_eq!(
        c.cmd(&["save"]),
        "-ERR\r\n",
        "a failed SAVE answers the bare error"
    );
    assert_eq!(
        c.cmd(&["shutdown"]),
        "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    // With stop-writes-on-bgsave-error off writes go on; a successful save clears the error.
    assert_eq!(
        c.cmd(&["config", "set", "stop-writes-on-bgsave-error", "no"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["set", "k", "v3"]), "+OK\r\n");
    c.cmd(&["config", "set", "stop-writes-on-bgsave-error", "yes"]);
    assert_eq!(c.cmd(&["config", "set", "dir", dir.s()]), "+OK\r\n");
    assert_eq!(c.cmd(&["set", "k", "v4"]), misconf);
    assert_eq!(c.cmd(&["save"]), "+OK\r\n");
    assert_eq!(c.cmd(&["set", "k", "v4"]), "+OK\r\n");
    let log = dir.log();
    assert!(
        log.contains("Failed opening the temp RDB file temp-"),
        "{log}"
    );
    assert!(
        log.contains("(in server root dir /proc) for saving: No such file or directory"),
        "{log}"
    );
    assert!(log.contains("Background saving error"), "{log}");
}

#[test]
fn save_points_fire_and_flushall_saves() {
    let dir = Dir::new("persist-savepoints");
    let s = start_in(&dir, &["--save", "1 2"]);
    let mut c = s.client();
    c.cmd(&["set", "a", "1"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        info_field(&mut c, "rdb_saves"),
        "0",
        "one change is not enough for `save 1 2`"
    );
    c.cmd(&["set", "b", "2"]);
    wait_until("the save point", || info_field(&mut c, "rdb_saves") == "1");
    wait_bgsave(&mut c);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert!(
        dir.log().contains("2 changes in 1 seconds. Saving..."),
        "{}",
        dir.log()
    );
    // FLUSHALL counts the keys it removed, then saves the empty dataset (save points are set).
    c.cmd(&["set", "c", "3"]);
    assert_eq!(c.cmd(&["flushall"]), "+OK\r\n");
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    let len = std::fs::metadata(dir.file("dump.rdb")).expect("file").len();
    assert!(len < 200, "an empty dataset's file: {len} bytes");
}

#[test]
fn flushall_without_save_points_counts_the_removed_keys() {
    let dir = Dir::new("persist-flushall");
    let s = start_in(&dir, &[]);
    let mut c = s.client();
    c.cmd(&["mset", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "3");
    c.cmd(&["flushall"]);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "6");
    assert!(!dir.file("dump.rdb").exists());
}

#[test]
fn shutdown_save_and_sigterm_save_before_exiting() {
    let dir = Dir::new("persist-shutdown");
    {
        let mut s = start_in(&dir, &[]);
        let mut c = s.client();
        c.cmd(&["set", "one", "1"]);
        c.send(&["shutdown", "save"]);
        assert!(s.wait_exit(Duration::from_secs(5)).expect("exit").success());
    }
    let log = dir.log();
    for line in [
        "User requested shutdown...",
        "Saving the final RDB snapshot before exiting.",
        "DB saved on disk",
        "Redis is now ready to exit, bye bye...",
    ] {
        assert!(log.contains(line), "{line} not in {log}");
    }
    {
        let mut s = start_in(&dir, &["--save", "900 1"]);
        let mut c = s.client();
        assert_eq!(c.cmd(&["get", "one"]), "$1\r\n1\r\n");
        c.cmd(&["set", "two", "2"]);
        // SAFETY: a signal to our own child process.
        unsafe { libc::kill(s.pid() as i32, libc::SIGTERM) };
        assert!(s.wait_exit(Duration::from_secs(5)).expect("exit").success());
    }
    assert!(dir
        .log()
        .contains("Received SIGTERM scheduling shutdown..."));
    let s = start_in(&dir, &[]);
    assert_eq!(
        s.client().cmd(&["mget", "one", "two"]),
        "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
}

#[test]
fn debug_reload_keeps_the_dataset() {
    let dir = Dir::new("persist-reload");
    let s = start_in(&dir, &[]);
    let mut c = s.client();
    fill_all_types(&mut c);
    let digest = c.cmd(&["debug", "digest"]);
    assert_eq!(c.cmd(&["debug", "reload"]), "+OK\r\n");
    assert_eq!(c.cmd(&["debug", "digest"]), digest);
    c.cmd(&["set", "extra", "1"]);
    assert_eq!(c.cmd(&["debug", "reload", "nosave"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["debug", "digest"]),
        digest,
        "NOSAVE loads the file as saved before"
    );
    c.cmd(&["set", "extra", "1"]);
    assert_eq!(
        c.cmd(&["debug", "reload", "nosave", "noflush", "merge"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["get", "extra"]), "$1\r\n1\r\n");
    assert_eq!(
        c.cmd(&["debug", "reload", "nope"]),
        "-ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.\r\n"
    );
    assert!(dir.log().contains("DB reloaded by DEBUG RELOAD"));
}

#[test]
fn loading_answers_loading_until_done() {
    let dir = Dir::new("persist-loading");
    save_populated(&dir, "400");
    // 400 keys (some 8 KB) at 5 ms each: two seconds of loading. Clients are answered from the first 1,024 bytes read on
    // (Redis's loader serves them every `loading-process-events-interval-bytes`), here at once.
    let s = start_in(
        &dir,
        &[
            "--key-load-delay",
            "5000",
            "--loading-process-events-interval-bytes",
            "1024",
        ],
    );
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["get", "key:1"]),
        "-LOADING Redis is loading the dataset in memory\r\n"
    );
    assert_eq!(info_field(&mut c, "loading"), "1");
    let info = c.cmd(&["info", "persistence"]);
    for f in [
        "loading_start_time:",
        "loading_total_bytes:",
        "loading_loaded_bytes:",
        "loading_eta_seconds:",
    ] {
        assert!(info.contains(f), "{f} not in {info}");
    }
    wait_until("the load", || info_field(&mut c, "loading") == "0");
    assert_eq!(c.cmd(&["dbsize"]), ":400\r\n");
    assert_eq!(c.cmd(&["get", "key:1"]), "$7\r\nvalue:1\r\n");
}

/// A load that has not read `loading-process-events-interval-bytes` (2 MB) yet answers nobody, as Redis's
/// loader serves clients only there: a command sent meanwhile waits and gets its reply, never -LOADING.
#[test]
fn small_load_makes_clients_wait_not_fail() {
    let dir = Dir::new("persist-loading-small");
    save_populated(&dir, "40");
    // 40 keys at 20 ms each: most of a second of loading.
    let s = start_in(&dir, &["--key-load-delay", "20000"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["get", "key:1"]), "$7\r\nvalue:1\r\n");
    assert_eq!(c.cmd(&["dbsize"]), ":40\r\n");
}

#[test]
fn redis_server_loads_a_file_ferredis_saved() {
    let dir = Dir::new("persist-cross");
    let digest = {
        let s = start_in(&dir, &[]);
        let mut c = s.client();
        fill_all_types(&mut c);
        c.cmd(&["debug", "populate", "5000"]);
        assert_eq!(c.cmd(&["bgsave"]), "+Background saving started\r\n");
        wait_bgsave(&mut c);
        c.cmd(&["debug", "digest"])
    };
    let Some(redis) =
        Server::start_redis_with(&["--dir", dir.s(), "--enable-debug-command", "yes"])
    else {
        return;
    };
    assert_eq!(redis.client().cmd(&["debug", "digest"]), digest);
}

#[test]
fn info_persistence_has_redis_fields_in_order() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let names = |c: &mut Client| -> Vec<String> {
        c.cmd(&["info", "persistence"])
            .lines()
            .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
            .collect()
    };
    assert_eq!(names(&mut ours.client()), names(&mut redis.client()));
}

#[test]
fn rdbchecksum_no_writes_a_zero_trailer_that_still_loads() {
    let dir = Dir::new("persist-nochecksum");
    {
        let mut s = start_in(&dir, &["--rdbchecksum", "no", "--rdbcompression", "no"]);
        let mut c = s.client();
        c.cmd(&["set", "k", &"x".repeat(200)]);
        assert_eq!(c.cmd(&["save"]), "+OK\r\n");
        c.send(&["shutdown", "nosave"]);
        s.wait_exit(Duration::from_secs(5)).expect("exit");
    }
    let bytes = std::fs::read(dir.file("dump.rdb")).expect("file");
    assert_eq!(&bytes[bytes.len() - 8..], &[0; 8], "no checksum");
    assert!(
        bytes.windows(200).any(|w| w == "x".repeat(200).as_bytes()),
        "stored uncompressed"
    );
    let s = start_in(&dir, &[]);
    assert_eq!(s.client().cmd(&["strlen", "k"]), ":200\r\n");
}

#[test]
fn a_failed_save_point_bgsave_is_retried_after_five_seconds() {
    let dir = Dir::new("persist-retry");
    let s = start_in(
        &dir,
        &["--save", "1 1", "--enable-protected-configs", "yes"],
    );
    let mut c = s.client();
    assert_eq!(c.cmd(&["config", "set", "dir", "/proc"]), "+OK\r\n");
    c.cmd(&["set", "k", "v"]);
    wait_until("the first save-point BGSAVE", || {
        info_field(&mut c, "rdb_saves") == "1"
    });
    wait_bgsave(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    let failed_at = Instant::now();
    // The save point is still due, but Redis waits CONFIG_BGSAVE_RETRY_DELAY (5 s) after a failure.
    while failed_at.elapsed() < Duration::from_millis(4000) {
        assert_eq!(info_field(&mut c, "rdb_saves"), "1", "retried too early");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(c.cmd(&["config", "set", "dir", dir.s()]), "+OK\r\n");
    wait_until("the retry", || {
        info_field(&mut c, "rdb_last_bgsave_status") == "ok"
    });
    assert!(failed_at.elapsed() >= Duration::from_secs(4));
    assert_eq!(info_field(&mut c, "rdb_saves"), "2");
}

/// An EXEC whose queue holds a write is refused with MISCONF once a BGSAVE failed after the commands were queued,
/// and an EXEC of reads still runs, as Redis's `processCommand` judges EXEC by its queue. Same replies on both.
#[test]
fn exec_of_queued_writes_is_refused_after_a_failed_bgsave() {
    let run = |s: &Server| {
        let (mut c, mut writes, mut reads) = (s.client(), s.client(), s.client());
        let mut out = vec![c.cmd(&["set", "k", "v"])];
        out.extend([writes.cmd(&["multi"]), writes.cmd(&["set", "k", "v2"])]);
        out.extend([reads.cmd(&["multi"]), reads.cmd(&["get", "k"])]);
        out.push(c.cmd(&["config", "set", "dir", "/proc"]));
        out.push(c.cmd(&["bgsave"]));
        wait_bgsave(&mut c);
        out.push(writes.cmd(&["exec"]));
        out.push(reads.cmd(&["exec"]));
        out.push(writes.cmd(&["discard"]));
        out.push(c.cmd(&["get", "k"]));
        out
    };
    let args = ["--save", "900 1", "--enable-protected-configs", "yes"];
    let dir = Dir::new("persist-misconf-exec");
    let ours = run(&start_in(&dir, &args));
    let Some(redis) = Server::start_redis_with(&args) else {
        return;
    };
    assert_eq!(ours, run(&redis));
    assert!(
        ours[7].starts_with("-EXECABORT Transaction discarded because of: MISCONF "),
        "{ours:?}"
    );
}
