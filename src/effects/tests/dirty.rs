//! The dirty counter: what each write adds, with Redis's amounts (`server.dirty += n`). The harness runs commands
//! on the test's own thread, so the thread's counter moves only with them.

use super::Harness;
use crate::server::stats;

fn local_dirty() -> u64 {
    stats::with_local(|s| s.dirty.get())
}

/// How much each command of `commands` adds to the dirty counter.
fn dirty_of(commands: &[&[&str]]) -> Vec<u64> {
    let h = Harness::new();
    let mut c = h.client();
    commands
        .iter()
        .map(|cmd| {
            let before = local_dirty();
            h.run(&mut c, cmd);
            local_dirty() - before
        })
        .collect()
}

#[test]
fn writes_count_as_redis_counts_them() {
    assert_eq!(
        dirty_of(&[
            &["set", "k", "v"],
            &["get", "k"],
            &["sadd", "s", "a", "b", "c"],
            &["sadd", "s", "a", "d"],
            &["srem", "s", "a", "b", "x"],
            &["rpush", "l", "a", "b", "c"],
            &["lpop", "l", "2"],
            &["hset", "h", "a", "1", "b", "2"],
            &["mset", "x", "1", "y", "2", "z", "3"],
            &["del", "x", "y", "nothing"],
            &["zadd", "zs", "1", "a", "2", "b"],
            &["rename", "zs", "z2"],
            &["incr", "k"],
            &["set", "k", "v", "NX"],
        ]),
        [1, 0, 3, 1, 2, 3, 2, 2, 3, 2, 2, 1, 0, 0]
    );
}

#[test]
fn consumer_group_bookkeeping_counts_and_xack_counts_without_notifying() {
    assert_eq!(
        dirty_of(&[
            &["xadd", "st", "1-1", "f", "v"],
            &["xadd", "st", "2-1", "f", "v"],
            &["xgroup", "create", "st", "g", "0"],
            &["xgroup", "createconsumer", "st", "g", "c"],
            &["xreadgroup", "GROUP", "g", "c", "STREAMS", "st", ">"],
            &["xack", "st", "g", "1-1", "2-1", "3-1"],
            &["xgroup", "delconsumer", "st", "g", "nobody"],
        ]),
        [1, 1, 1, 1, 1, 2, 0]
    );
}

#[test]
fn flushes_count_the_keys_they_removed() {
    assert_eq!(
        dirty_of(&[
            &["mset", "a", "1", "b", "2"],
            &["flushdb"],
            &["flushall"],
            &["swapdb", "0", "1"]
        ]),
        [2, 2, 0, 1]
    );
}

#[test]
fn the_total_sums_every_thread() {
    let before = stats::dirty_total();
    let h = Harness::new();
    let mut c = h.client();
    h.run(&mut c, &["mset", "a", "1", "b", "2"]);
    std::thread::spawn(move || {
        h.run(&mut c, &["set", "c", "3"]);
    })
    .join()
    .unwrap();
    // Other tests run at the same time and add to the total too.
    assert!(stats::dirty_total() - before >= 3);
}
