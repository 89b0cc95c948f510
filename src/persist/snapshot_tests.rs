//! The snapshot's promise, checked with writers running: every saved pair of keys changed together in one
//! atomic step is saved from the same instant.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::Mutex;

use super::snapshot::{take, Encode, EntrySink};
use crate::config::Config;
use crate::db::{Entry, KeyLocks, LockPlan, Value};
use crate::server::Server;
use crate::types::list::{End, List};

type Saved = Arc<Mutex<HashMap<(usize, Vec<u8>), Vec<u8>>>>;

/// Keeps strings as they are and lists as their length, written as text.
struct Collect {
    saved: Saved,
    db: usize,
}

/// `len key len value` with 4-byte lengths.
fn encode_text(out: &mut Vec<u8>, key: &[u8], entry: &Entry, _at: Option<i64>) {
    let v = match &entry.value {
        Value::Str(s) => s.to_vec(),
        Value::List(l) => l.len().to_string().into_bytes(),
        _ => b"?".to_vec(),
    };
    for part in [key, &v[..]] {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part);
    }
}

impl EntrySink for Collect {
    fn encoder(&self) -> Encode {
        Arc::new(encode_text)
    }
    fn select_db(&mut self, db: usize, _keys: u64, _expires: u64) -> std::io::Result<()> {
        self.db = db;
        Ok(())
    }
    fn append(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let mut parts = Vec::new();
        let mut at = 0;
        while at < chunk.len() {
            let len = u32::from_le_bytes(chunk[at..at + 4].try_into().expect("length")) as usize;
            parts.push(chunk[at + 4..at + 4 + len].to_vec());
            at += 4 + len;
        }
        let mut saved = self.saved.lock();
        for pair in parts.chunks_exact(2) {
            let fresh = saved
                .insert((self.db, pair[0].clone()), pair[1].clone())
                .is_none();
            assert!(fresh, "key saved twice");
        }
        Ok(())
    }
}

/// A server with Redis's 16 databases: `KeyLocks` need one (its configuration and effects feed).
fn server() -> Arc<Server> {
    Server::new(Config::new())
}

fn locked<'a>(server: &'a Server, db: usize, keys: &[&[u8]]) -> KeyLocks<'a> {
    let ks = &server.keyspace;
    let mut plan = LockPlan::new();
    keys.iter().for_each(|k| plan.key(ks, db, k, true));
    KeyLocks::new(server, plan.acquire(ks), crate::util::time::now_ms())
}

/// MULTI; INCR c; RPUSH l x; EXEC on one pair, as one locked step.
fn bump(ks: &Server, db: usize, c: &[u8], l: &[u8]) {
    let mut keys = locked(ks, db, &[c, l]);
    let n = match keys.get_value(db, c) {
        Some(Value::Str(s)) => crate::util::numbers::parse_i64(s).unwrap_or(0),
        _ => 0,
    };
    keys.insert(db, c, Value::Str((n + 1).to_string().as_bytes().into()));
    match keys.get_value_mut(db, l) {
        Some(Value::List(list)) => list.push(End::Right, b"x"),
        _ => {
            let mut list = List::default();
            list.push(End::Right, b"x");
            keys.insert(db, l, Value::List(Box::new(list)));
        }
    }
}

#[test]
fn pairs_changed_together_are_saved_from_one_instant() {
    let ks = server();
    for i in 0..20_000u32 {
        let key = format!("filler:{i}");
        let mut keys = locked(&ks, (i % 4) as usize, &[key.as_bytes()]);
        keys.insert(
            (i % 4) as usize,
            key.as_bytes(),
            Value::Str(b"v".as_slice().into()),
        );
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (ks, stop) = (ks.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut rounds = 0u64;
                while !stop.load(Relaxed) {
                    for p in 0..8 {
                        let (c, l) = (format!("c{w}:{p}"), format!("l{w}:{p}"));
                        bump(&ks, w % 4, c.as_bytes(), l.as_bytes());
                    }
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut checked = 0;
    for _ in 0..5 {
        let saved: Saved = Arc::default();
        let sink = Box::new(Collect {
            saved: saved.clone(),
            db: 0,
        });
        let (_, stats) = take(&ks.keyspace, sink, Arc::new(AtomicU64::new(0))).expect("snapshot");
        let saved = saved.lock();
        assert_eq!(stats.keys as usize, saved.len());
        for w in 0..4usize {
            for p in 0..8 {
                let c = saved.get(&(w % 4, format!("c{w}:{p}").into_bytes()));
                let l = saved.get(&(w % 4, format!("l{w}:{p}").into_bytes()));
                assert_eq!(c, l, "counter and list length differ for pair {w}:{p}");
                checked += 1;
            }
        }
        assert_eq!(
            saved
                .keys()
                .filter(|(_, k)| k.starts_with(b"filler:"))
                .count(),
            20_000
        );
    }
    stop.store(true, Relaxed);
    let rounds: u64 = writers.into_iter().map(|t| t.join().unwrap_or(0)).sum();
    assert!(rounds > 0 && checked == 160);
}

/// Signals when the snapshot has started writing, and writes slowly so a flush lands in the middle.
struct Slow {
    inner: Collect,
    started: Arc<AtomicBool>,
}

impl EntrySink for Slow {
    fn encoder(&self) -> Encode {
        Arc::new(
            |out: &mut Vec<u8>, key: &[u8], entry: &Entry, at: Option<i64>| {
                std::thread::sleep(std::time::Duration::from_micros(20));
                encode_text(out, key, entry, at)
            },
        )
    }
    fn select_db(&mut self, db: usize, k: u64, e: u64) -> std::io::Result<()> {
        self.started.store(true, Relaxed);
        self.inner.select_db(db, k, e)
    }
    fn append(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        self.inner.append(chunk)
    }
}

#[test]
fn deletes_during_the_snapshot_save_the_old_contents_first() {
    let ks = server();
    for i in 0..2000 {
        let key = format!("k{i}");
        locked(&ks, 1, &[key.as_bytes()]).insert(
            1,
            key.as_bytes(),
            Value::Str(b"v".as_slice().into()),
        );
    }
    let started = Arc::new(AtomicBool::new(false));
    let flusher = {
        let (ks, started) = (ks.clone(), started.clone());
        std::thread::spawn(move || {
            while !started.load(Relaxed) {
                std::thread::yield_now();
            }
            // Key by key, from the end: most keys sit in shards the serializer has not reached.
            for i in (0..2000).rev() {
                let key = format!("k{i}");
                locked(&ks, 1, &[key.as_bytes()]).remove(1, key.as_bytes());
            }
        })
    };
    let saved: Saved = Arc::default();
    let sink = Box::new(Slow {
        inner: Collect {
            saved: saved.clone(),
            db: 0,
        },
        started,
    });
    let (_, stats) = take(&ks.keyspace, sink, Arc::new(AtomicU64::new(0))).expect("snapshot");
    flusher.join().expect("flusher");
    assert!(
        stats.saved_by_writers > 0,
        "the flush saved the shards it reached first"
    );
    assert_eq!(stats.keys, 2000);
    assert_eq!(saved.lock().len(), 2000);
    assert_eq!(ks.keyspace.db_sizes(1), (0, 0));
}

/// A key expired but not yet deleted at the start is saved with its TTL, as Redis's `rdbSaveRio` saves it: the
/// loader decides (a master drops and counts it, a replica keeps it until its master's DEL).
#[test]
fn keys_expired_but_stored_at_the_start_are_saved() {
    let ks = server();
    let now = crate::util::time::now_ms();
    let mut keys = locked(&ks, 0, &[b"gone", b"later"]);
    keys.insert_entry_at(
        0,
        b"gone",
        Entry::new(Value::Str(b"v".as_slice().into())),
        Some(now - 10),
    );
    keys.insert_entry_at(
        0,
        b"later",
        Entry::new(Value::Str(b"v".as_slice().into())),
        Some(now + 100_000),
    );
    drop(keys);
    let saved: Saved = Arc::default();
    let sink = Box::new(Collect {
        saved: saved.clone(),
        db: 0,
    });
    take(&ks.keyspace, sink, Arc::new(AtomicU64::new(0))).expect("snapshot");
    let saved = saved.lock();
    assert_eq!(saved.len(), 2);
    assert!(saved.contains_key(&(0, b"gone".to_vec())));
    assert!(saved.contains_key(&(0, b"later".to_vec())));
}

/// Records the size of each shard it is asked to save.
#[derive(Default)]
struct Recorder(Mutex<Vec<(usize, usize, usize)>>);

impl crate::db::ShardSaver for Recorder {
    fn started(&self, _sizes: Vec<(u64, u64)>) {}
    fn save_segments(&self, db: usize, shard: &crate::db::Shard, segments: u64) {
        assert_eq!(
            segments,
            u64::MAX,
            "whole-shard changes save every segment at once"
        );
        self.0
            .lock()
            .push((db, shard as *const _ as usize, shard.len()));
    }
}

fn fill(ks: &Server, db: usize, n: usize) {
    for i in 0..n {
        let key = format!("k{i}");
        locked(ks, db, &[key.as_bytes()]).insert(
            db,
            key.as_bytes(),
            Value::Str(b"v".as_slice().into()),
        );
    }
}

#[test]
fn whole_shard_changes_save_every_shard_first() {
    let ks = server();
    fill(&ks, 0, 500);
    fill(&ks, 1, 300);
    let recorder = Arc::new(Recorder::default());
    assert!(ks.keyspace.begin_snapshot(recorder.clone()));
    assert!(
        !ks.keyspace.begin_snapshot(Arc::new(Recorder::default())),
        "one snapshot at a time"
    );
    let mut plan = LockPlan::new();
    plan.all_dbs(&ks.keyspace, true);
    let mut keys = KeyLocks::new(&ks, plan.acquire(&ks.keyspace), 0);
    keys.swap_dbs(0, 1);
    drop(keys.flush_db(0));
    drop(keys);
    for db in 0..2 {
        for shard in 0..crate::db::SHARDS {
            ks.keyspace.save_pending(db, shard);
        }
    }
    ks.keyspace.end_snapshot();
    let saved = recorder.0.lock();
    let mut shards: Vec<_> = saved.iter().map(|s| (s.0, s.1)).collect();
    shards.sort_unstable();
    shards.dedup();
    assert_eq!(shards.len(), saved.len(), "each shard at most once");
    let per_db = |db| {
        saved
            .iter()
            .filter(|s| s.0 == db)
            .map(|s| s.2)
            .sum::<usize>()
    };
    assert_eq!(
        (per_db(0), per_db(1)),
        (500, 300),
        "saved as they were before SWAPDB and the flush"
    );
}

/// Records which segments it is asked to save.
#[derive(Default)]
struct Segments(Mutex<Vec<u64>>);

impl crate::db::ShardSaver for Segments {
    fn started(&self, _sizes: Vec<(u64, u64)>) {}
    fn save_segments(&self, _db: usize, _shard: &crate::db::Shard, segments: u64) {
        self.0.lock().push(segments);
    }
}

#[test]
fn a_write_saves_only_its_keys_segment_unless_the_table_resizes() {
    let ks = server();
    fill(&ks, 0, 20_000);
    let saver = Arc::new(Segments::default());
    assert!(ks.keyspace.begin_snapshot(saver.clone()));
    // An in-place change and an overwrite: one segment each.
    let mut keys = locked(&ks, 0, &[b"k1"]);
    keys.get_value_mut(0, b"k1");
    drop(keys);
    let mut keys = locked(&ks, 0, &[b"k2"]);
    keys.insert(0, b"k2", Value::Str(b"w".as_slice().into()));
    drop(keys);
    {
        let saved = saver.0.lock();
        assert!(saved.iter().all(|s| s.count_ones() == 1), "{saved:x?}");
    }
    // Deleting most of a shard shrinks its dict: the rest of that shard is saved before.
    let shard_of_k3 = ks.keyspace.shard_of(b"k3");
    for i in 0..20_000 {
        let key = format!("k{i}");
        if ks.keyspace.shard_of(key.as_bytes()) == shard_of_k3 {
            locked(&ks, 0, &[key.as_bytes()]).remove(0, key.as_bytes());
        }
    }
    for shard in 0..crate::db::SHARDS {
        ks.keyspace.save_pending(0, shard);
    }
    ks.keyspace.end_snapshot();
    let saved = saver.0.lock();
    let total: u32 = saved.iter().map(|s| s.count_ones()).sum();
    assert!(total <= (crate::db::SHARDS * 64) as u32, "no segment twice");
}
