//! RDB throughput: writes a keyspace shaped like `DEBUG POPULATE` (`key:N` → `value:N`) plus some collections with
//! `RdbWriter`, reads it back with `read_rdb`, and reads a file redis-server saved, timing each.
//!
//! Usage: `cargo run --release --example rdb_bench -- [KEYS] [REDIS_DUMP.rdb]`

use std::io::{BufReader, BufWriter};
use std::time::Instant;

use ferredis::db::{Entry, StrValue, Value};
use ferredis::persist::rdb::write::AuxInfo;
use ferredis::persist::rdb::{read_rdb, Limits, RdbItem, RdbOptions, RdbWriter};
use ferredis::types::collection::PackLimits;
use ferredis::types::hash::Hash;

fn entries(n: usize) -> Vec<(Vec<u8>, Entry)> {
    let mut out: Vec<(Vec<u8>, Entry)> = (0..n)
        .map(|i| {
            let v = Value::Str(StrValue::from_vec(format!("value:{i}").into_bytes()));
            (format!("key:{i}").into_bytes(), Entry::new(v))
        })
        .collect();
    let small = PackLimits {
        entries: 128,
        value: 64,
    };
    for i in 0..n / 1000 {
        let mut h = Hash::default();
        for f in 0..100 {
            h.set(
                format!("field{f}").as_bytes(),
                format!("{i}-{f}").into_bytes(),
                small,
            );
        }
        out.push((format!("hash:{i}").into_bytes(), Entry::new(Value::Hash(h))));
    }
    out
}

fn load(path: &str) -> (u64, f64) {
    let start = Instant::now();
    let file = BufReader::new(std::fs::File::open(path).expect("open"));
    let mut keys = 0;
    read_rdb(file, &Limits::default(), 0, |item| {
        if let RdbItem::Entry { .. } = item {
            keys += 1;
        }
        Ok(())
    })
    .expect("read");
    (keys, start.elapsed().as_secs_f64())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let redis_file = args.next();
    let data = entries(n);
    let path = std::env::temp_dir().join(format!("rdb_bench-{}.rdb", std::process::id()));
    for opts in [
        RdbOptions::default(),
        RdbOptions {
            compression: false,
            checksum: false,
        },
    ] {
        let start = Instant::now();
        let file = BufWriter::new(std::fs::File::create(&path).expect("create"));
        let mut w = RdbWriter::new(file, opts);
        w.header().expect("write");
        w.standard_aux(AuxInfo::default()).expect("write");
        w.select_db(0, data.len() as u64, 0).expect("write");
        for (k, e) in &data {
            w.entry(k, e, None).expect("write");
        }
        w.finish().expect("write");
        let save = start.elapsed().as_secs_f64();
        let size = std::fs::metadata(&path).map_or(0, |m| m.len());
        let (keys, secs) = load(path.to_str().unwrap_or_default());
        println!(
            "{opts:?}: {} keys, {size} bytes: save {save:.3}s, load {secs:.3}s ({keys} keys)",
            data.len()
        );
    }
    let _ = std::fs::remove_file(&path);
    if let Some(f) = redis_file {
        let (keys, secs) = load(&f);
        println!("redis-server's {f}: load {secs:.3}s ({keys} keys)");
    }
}
