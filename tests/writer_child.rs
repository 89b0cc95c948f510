//! BGSAVE and BGREWRITEAOF write their files from a child process, as Redis's forked child: it can be found
//! (`pgrep -P`) and killed, a killed child fails the save or rewrite with Redis's log line and INFO status and
//! leaves no temp file, the child dies with the server, INFO counts the children in `total_forks`, and
//! `rdb-key-save-delay` slows the save, never a client's write.

mod common;
use common::{info_field, wait_until, Client, Dir, Server};
use std::time::{Duration, Instant};

fn start(dir: &Dir, extra: &[&str]) -> Server {
    let log = dir.file("log");
    let mut args = vec![
        "--dir",
        dir.s(),
        "--enable-debug-command",
        "yes",
        "--logfile",
        log.to_str().expect("utf-8"),
    ];
    args.extend(extra);
    Server::start_with(&args)
}

/// The pids whose parent is `parent`, as `pgrep -P` finds them.
fn children(parent: u32) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`: the name may hold spaces, so fields are counted after the last ')'.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        if after.split_whitespace().nth(1) == Some(parent.to_string().as_str()) {
            found.push(pid);
        }
    }
    found
}

fn only_child(parent: u32) -> u32 {
    let kids = children(parent);
    assert_eq!(kids.len(), 1, "children of {parent}: {kids:?}");
    kids[0]
}

fn kill(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}

fn process_exists(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')')
            .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
    })
}

/// A field of INFO stats.
fn stat(c: &mut Client, name: &str) -> u64 {
    let info = c.cmd(&["info", "stats"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:"))?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {info}"))
}

fn wait_log(dir: &Dir, line: &str) {
    wait_until(line, || dir.log().contains(line));
}

/// One key, saved at 10 s per key: a save's child stays until killed.
fn slow_saves(c: &mut Client) {
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]),
        "+OK\r\n"
    );
}

fn bgrewriteaof(c: &mut Client) {
    assert_eq!(
        c.cmd(&["BGREWRITEAOF"]),
        "+Background append only file rewriting started\r\n"
    );
}

fn slow_bgsave(c: &mut Client) {
    slow_saves(c);
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    assert_eq!(info_field(c, "rdb_bgsave_in_progress"), "1");
}

#[test]
fn a_killed_bgsave_child_fails_the_save_and_leaves_the_old_file() {
    let dir = Dir::new("child-bgsave");
    let s = start(&dir, &["--save", "3600 1"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["SET", "old", "1"]), "+OK\r\n");
    assert_eq!(c.cmd(&["SAVE"]), "+OK\r\n");
    let saved = std::fs::read(dir.file("dump.rdb")).expect("dump.rdb");
    let forks = stat(&mut c, "total_forks");

    slow_bgsave(&mut c);
    let child = only_child(s.pid());
    let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap();
    assert!(cmdline.starts_with(b"redis-rdb-bgsave\0"), "{cmdline:?}");
    assert!(dir
        .log()
        .contains(&format!("Background saving started by pid {child}")));
    assert_eq!(stat(&mut c, "total_forks"), forks + 1);
    // Client writes do not wait for the 10 s the save takes per key.
    let t = Instant::now();
    assert_eq!(c.cmd(&["SET", "k", "changed"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DEL", "old"]), ":1\r\n");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());

    kill(child, "-9");
    wait_until("the save to end", || {
        info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    });
    wait_log(&dir, "Background saving terminated by signal 9");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    assert!(!dir.file(&format!("temp-{child}.rdb")).exists());
    assert_eq!(std::fs::read(dir.file("dump.rdb")).unwrap(), saved);
    // With save points set, a failed background save stops writes, as Redis's stop-writes-on-bgsave-error.
    assert!(c.cmd(&["SET", "x", "1"]).starts_with("-MISCONF "));
    // A script's write is refused too, unless the script has already written.
    let script_set = "return redis.call('set','x',1)";
    assert!(c.cmd(&["EVAL", script_set, "0"]).starts_with("-MISCONF "));
    assert_eq!(
        c.cmd(&["EVAL", "return redis.call('get','k')", "0"]),
        "$7\r\nchanged\r\n"
    );
    assert_eq!(c.cmd(&["GET", "x"]), "$-1\r\n");

    // The next save succeeds and clears the error.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    wait_until("the second save", || {
        info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    });
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_eq!(c.cmd(&["SET", "x", "1"]), "+OK\r\n");
    assert_ne!(std::fs::read(dir.file("dump.rdb")).unwrap(), saved);
    assert!(children(s.pid()).is_empty());
}

#[test]
fn flushall_stops_a_bgsave_child_without_an_error() {
    let dir = Dir::new("child-flush");
    let s = start(&dir, &[]);
    let mut c = s.client();
    slow_bgsave(&mut c);
    let child = only_child(s.pid());
    assert_eq!(c.cmd(&["FLUSHALL"]), "+OK\r\n");
    wait_until("the save to end", || {
        info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    });
    wait_log(&dir, "Background saving terminated by signal 10");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert!(!process_exists(child));
    assert!(!dir.file(&format!("temp-{child}.rdb")).exists());
}

#[test]
fn the_writer_child_dies_with_the_server() {
    let dir = Dir::new("child-orphan");
    let mut s = start(&dir, &[]);
    let mut c = s.client();
    slow_bgsave(&mut c);
    let child = only_child(s.pid());
    s.signal("-9");
    assert!(s.wait_exit(Duration::from_secs(5)).is_some());
    wait_until("the child to die", || !process_exists(child));
}

#[test]
fn a_killed_rewrite_child_fails_the_rewrite_and_three_failures_limit_automatic_ones() {
    let dir = Dir::new("child-aofrw");
    let s = start(&dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    slow_saves(&mut c);
    for round in 1..=3 {
        bgrewriteaof(&mut c);
        let child = only_child(s.pid());
        let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap();
        assert!(cmdline.starts_with(b"redis-aof-rewrite\0"), "{cmdline:?}");
        kill(child, "-9");
        wait_until("the rewrite to end", || {
            info_field(&mut c, "aof_rewrite_in_progress") == "0"
        });
        assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "err");
        assert_eq!(
            info_field(&mut c, "aof_rewrites_consecutive_failures"),
            round.to_string()
        );
        assert!(!dir
            .file(&format!("temp-rewriteaof-bg-{child}.aof"))
            .exists());
    }
    let log = dir.log();
    assert_eq!(
        log.matches("Background AOF rewrite terminated by signal 9")
            .count(),
        3
    );
    // Each try opened an increment file, as Redis's: the writes since are in the last one and nothing is lost.
    let manifest = std::fs::read_to_string(dir.aof("appendonly.aof.manifest")).expect("manifest");
    assert_eq!(
        manifest,
        "file appendonly.aof.1.base.rdb seq 1 type b\n\
         file appendonly.aof.1.incr.aof seq 1 type i\n\
         file appendonly.aof.2.incr.aof seq 2 type i\n\
         file appendonly.aof.3.incr.aof seq 3 type i\n\
         file appendonly.aof.4.incr.aof seq 4 type i\n"
    );
    assert_eq!(c.cmd(&["SET", "after", "1"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["MGET", "k", "after"]),
        "*2\r\n$1\r\nv\r\n$1\r\n1\r\n"
    );

    // Three failures in a row: the automatic rewrite waits, and says so once.
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "auto-aof-rewrite-percentage",
            "1",
            "auto-aof-rewrite-min-size",
            "0"
        ]),
        "+OK\r\n"
    );
    wait_log(&dir, "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in 1 minutes");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(info_field(&mut c, "aof_rewrite_in_progress"), "0");
    assert_eq!(dir.log().matches("triggered the limit").count(), 1);
    // BGREWRITEAOF is not limited, and a success ends the limit.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "auto-aof-rewrite-percentage", "0"]),
        "+OK\r\n"
    );
    bgrewriteaof(&mut c);
    wait_until("the rewrite to succeed", || {
        info_field(&mut c, "aof_last_bgrewrite_status") == "ok"
            && info_field(&mut c, "aof_rewrite_in_progress") == "0"
    });
    assert_eq!(info_field(&mut c, "aof_rewrites_consecutive_failures"), "0");
    assert_eq!(
        std::fs::read_to_string(dir.aof("appendonly.aof.manifest")).unwrap(),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.5.incr.aof seq 5 type i\n"
    );
    assert!(children(s.pid()).is_empty());
}

#[test]
fn turning_the_aof_off_stops_the_rewrite_child_without_an_error() {
    let dir = Dir::new("child-aofoff");
    let s = start(&dir, &["--appendonly", "yes"]);
    let mut c = s.client();
    slow_saves(&mut c);
    bgrewriteaof(&mut c);
    let child = only_child(s.pid());
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "no"]), "+OK\r\n");
    assert_eq!(info_field(&mut c, "aof_rewrite_in_progress"), "0");
    assert!(dir
        .log()
        .contains(&format!("Killing running AOF rewrite child: {child}")));
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    wait_until("the child to be gone", || !process_exists(child));
}

#[test]
fn info_reports_what_the_snapshot_copied_because_of_writes() {
    let dir = Dir::new("child-cow");
    let s = start(&dir, &[]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["DEBUG", "POPULATE", "2000"]), "+OK\r\n");
    assert_eq!(info_field(&mut c, "current_cow_size"), "0");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "1000"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["BGSAVE"]), "+Background saving started\r\n");
    assert_eq!(info_field(&mut c, "current_save_keys_total"), "2000");
    // Writes to keys the snapshot has not saved yet make their writers save them first: that is the copy.
    for i in (0..2000).step_by(97) {
        let key = format!("key:{i}");
        assert_eq!(c.cmd(&["SET", &key, "changed"]), "+OK\r\n");
    }
    let copied: u64 = info_field(&mut c, "current_cow_size").parse().unwrap();
    assert!(copied > 0, "{copied}");
    assert_eq!(info_field(&mut c, "current_cow_peak"), copied.to_string());
    wait_until("the save to make progress", || {
        info_field(&mut c, "current_fork_perc")
            .parse::<f64>()
            .unwrap()
            > 0.0
    });
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]),
        "+OK\r\n"
    );
    wait_until("the save to end", || {
        info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    });
    let last: u64 = info_field(&mut c, "rdb_last_cow_size").parse().unwrap();
    assert!(last >= copied, "{last} < {copied}");
    assert_eq!(info_field(&mut c, "current_cow_size"), "0");
    assert_eq!(info_field(&mut c, "current_fork_perc"), "0.00");
}
