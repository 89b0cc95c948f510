//! BGSAVE while clients write: the file is the dataset of one instant. Writers run
//! `MULTI; INCR c<i>; RPUSH l<i> x; EXEC` on several pairs while saves run; in every saved file each list is
//! exactly as long as its counter says (read back with the RDB reader).

mod common;
use common::{Client, Server};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferredis::db::Value;
use ferredis::persist::rdb::{read_rdb, Limits, RdbItem};

fn info_field(c: &mut Client, name: &str) -> String {
    let info = c.cmd(&["info", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
        .unwrap_or_default()
}

/// (counter, list length) per pair index, from a saved file.
fn pairs_in(file: &std::path::Path) -> HashMap<String, (Option<i64>, Option<usize>)> {
    let bytes = std::fs::read(file).expect("saved file");
    let mut pairs: HashMap<String, (Option<i64>, Option<usize>)> = HashMap::new();
    read_rdb(&bytes[..], &Limits::default(), 0, |item| {
        if let RdbItem::Entry { key, entry, .. } = item {
            let key = String::from_utf8_lossy(&key).into_owned();
            match (key.split_once(':'), &entry.value) {
                (Some(("c", i)), Value::Str(s)) => {
                    let n = std::str::from_utf8(s).ok().and_then(|s| s.parse().ok());
                    pairs.entry(i.to_string()).or_default().0 = n;
                }
                (Some(("l", i)), Value::List(l)) => {
                    pairs.entry(i.to_string()).or_default().1 = Some(l.len())
                }
                _ => {}
            }
        }
        Ok(())
    })
    .expect("a readable file");
    pairs
}

#[test]
fn every_saved_list_is_as_long_as_its_counter() {
    let dir = std::env::temp_dir().join(format!("ferredis-consistency-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let s = Server::start_with(&[
        "--dir",
        dir.to_str().expect("utf-8"),
        "--enable-debug-command",
        "yes",
    ]);
    let mut admin = s.client();
    // Enough keys that a save takes a while, spread over every shard.
    assert_eq!(admin.cmd(&["debug", "populate", "200000"]), "+OK\r\n");
    let stop = Arc::new(AtomicBool::new(false));
    // Writers that have acknowledged all their pairs once: the saves start only when every pair exists.
    let ready = Arc::new(AtomicUsize::new(0));
    let port = s.port;
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (stop, ready) = (stop.clone(), ready.clone());
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                let mut done = 0u64;
                while !stop.load(Relaxed) {
                    for p in 0..8 {
                        let (cnt, list) = (format!("c:{w}-{p}"), format!("l:{w}-{p}"));
                        c.send(&["multi"]);
                        c.send(&["incr", &cnt]);
                        c.send(&["rpush", &list, "x"]);
                        c.send(&["exec"]);
                        for _ in 0..3 {
                            c.read_reply();
                        }
                        let exec = c.read_reply();
                        assert!(exec.starts_with("*2\r\n:"), "{exec}");
                    }
                    if done == 0 {
                        ready.fetch_add(1, Relaxed);
                    }
                    done += 1;
                }
                done
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while ready.load(Relaxed) < 4 {
        assert!(Instant::now() < deadline, "writers never wrote every pair");
        std::thread::sleep(Duration::from_millis(5));
    }
    let file = dir.join("dump.rdb");
    for round in 0..3 {
        assert_eq!(admin.cmd(&["bgsave"]), "+Background saving started\r\n");
        let deadline = Instant::now() + Duration::from_secs(30);
        while info_field(&mut admin, "rdb_bgsave_in_progress") != "0" {
            assert!(Instant::now() < deadline, "BGSAVE did not finish");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(info_field(&mut admin, "rdb_last_bgsave_status"), "ok");
        let pairs = pairs_in(&file);
        assert_eq!(
            pairs.len(),
            32,
            "round {round}: every pair was written before the save"
        );
        for (i, (counter, len)) in &pairs {
            assert_eq!(
                counter.map(|c| c as usize),
                *len,
                "round {round}: pair {i} saved from two different instants"
            );
        }
    }
    stop.store(true, Relaxed);
    let rounds: u64 = writers.into_iter().map(|t| t.join().expect("writer")).sum();
    assert!(rounds > 0);
    let _ = std::fs::remove_dir_all(&dir);
}
