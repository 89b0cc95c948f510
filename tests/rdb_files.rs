//! Whole RDB files between ferredis and redis-server 7.0.15: a file Redis saved (every type and encoding, several
//! databases, TTLs) read with `ferredis::persist::rdb`, and a file `RdbWriter` wrote loaded by redis-server and
//! passed by `redis-check-rdb`; with and without compression and checksums.

mod common;
mod rdb_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, Client, Server};
use ferredis::db::Entry;
use ferredis::persist::rdb::payload;
use ferredis::persist::rdb::value::Encoder;
use ferredis::persist::rdb::write::AuxInfo;
use ferredis::persist::rdb::{
    read_rdb, AccessStamps, Limits, RdbError, RdbItem, RdbOptions, RdbSummary, RdbWriter,
};
use rdb_support::{cmd, dump, fixtures, restore, run};

const DBS: [usize; 3] = [0, 3, 15];

/// A redis-server of our own, with its files in `dir`; killed on drop.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start(dir: &Path, file: &str, extra: &[&str]) -> Option<Redis> {
        let port = free_port();
        let spawned = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--dir", dir.to_str()?, "--dbfilename", file])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = spawned else {
            assert!(
                std::env::var_os("CI").is_none(),
                "redis-server is required in CI"
            );
            return None;
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                let mut r = Redis { child, port };
                if r.client().cmd(&["PING"]) == "+PONG\r\n" {
                    return Some(r);
                }
                let _ = r.child.kill();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start");
    }

    fn client(&mut self) -> Client {
        Client::connect(self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferredis-rdb-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Builds every fixture in each of `DBS`, plus keys with TTLs.
fn populate(c: &mut Client) {
    for db in DBS {
        c.cmd(&["SELECT", &db.to_string()]);
        for f in fixtures() {
            f.setup.iter().for_each(|s| {
                run(c, s);
            });
        }
        c.cmd(&["SET", "volatile", &format!("in-db-{db}"), "PX", "500000"]);
        c.cmd(&["PEXPIREAT", "l", "4102444800000"]);
    }
    c.cmd(&["SELECT", "0"]);
}

/// Reads back every fixture (and the TTLs) on both servers, database by database, and compares.
fn compare(a: &mut Client, b: &mut Client, what: &str) {
    for db in DBS {
        let select = cmd(&["SELECT", &db.to_string()]);
        run(a, &select);
        run(b, &select);
        let mut checks: Vec<Vec<String>> = fixtures().into_iter().flat_map(|f| f.check).collect();
        checks.push(cmd(&["DBSIZE"]));
        checks.push(cmd(&["GET", "volatile"]));
        checks.push(cmd(&["PEXPIRETIME", "volatile"]));
        checks.push(cmd(&["PEXPIRETIME", "l"]));
        checks.push(cmd(&["PEXPIRETIME", "s"]));
        for c in &checks {
            assert_eq!(run(a, c), run(b, c), "{what}: db {db}: {c:?}");
        }
    }
}

struct FileContents {
    summary: RdbSummary,
    aux: BTreeMap<Vec<u8>, Vec<u8>>,
    entries: Vec<(usize, Vec<u8>, Entry, Option<i64>)>,
    functions: Vec<Vec<u8>>,
}

fn read_file(path: &Path) -> Result<FileContents, RdbError> {
    let mut aux = BTreeMap::new();
    let mut entries = Vec::new();
    let mut functions = Vec::new();
    let file = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    let summary = read_rdb(file, &Limits::default(), now_ms(), |item| {
        match item {
            RdbItem::Aux { key, value } => {
                aux.insert(key, value);
            }
            RdbItem::Entry {
                db,
                key,
                entry,
                expire,
            } => entries.push((db, key, entry, expire)),
            RdbItem::Function(code) => functions.push(code),
            RdbItem::ResizeDb { .. } => {}
        }
        Ok(())
    })?;
    Ok(FileContents {
        summary,
        aux,
        entries,
        functions,
    })
}

/// Redis saves a file; ferredis reads it; the values, placed in a ferredis server, read back as Redis's do.
fn redis_file_reads_in_ferredis(name: &str, redis_args: &[&str], checksum: bool) {
    let dir = temp_dir(name);
    let Some(mut redis) = Redis::start(&dir, "dump.rdb", redis_args) else {
        return;
    };
    let mut r = redis.client();
    populate(&mut r);
    assert_eq!(r.cmd(&["SAVE"]), "+OK\r\n");
    let file = read_file(&dir.join("dump.rdb")).expect("ferredis reads Redis's file");
    assert_eq!(file.summary.version, 10);
    assert_eq!(file.summary.checksum_verified, checksum);
    assert_eq!(
        file.aux.get(&b"redis-ver"[..]).map(Vec::as_slice),
        Some(&b"7.0.15"[..])
    );
    assert_eq!(
        file.aux.get(&b"redis-bits"[..]).map(Vec::as_slice),
        Some(&b"64"[..])
    );
    let per_db = fixtures().iter().map(|f| f.keys().len()).sum::<usize>() + 1;
    assert_eq!(file.summary.keys as usize, per_db * DBS.len());
    let ours = Server::start();
    let mut f = ours.client();
    let enc = Encoder {
        compress: true,
        limits: Limits::default(),
    };
    for (db, key, entry, expire) in &file.entries {
        assert!(DBS.contains(db), "db {db}");
        let key = std::str::from_utf8(key).unwrap();
        f.cmd(&["SELECT", &db.to_string()]);
        let at = expire.map_or("0".to_string(), |t| t.to_string());
        let p = payload::dump(&entry.value, &enc);
        assert_eq!(
            restore(&mut f, key, &at, &p, &["ABSTTL"]),
            "+OK\r\n",
            "{key}"
        );
    }
    compare(&mut f, &mut r, "redis file -> ferredis");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_redis_saved_reads_in_ferredis() {
    redis_file_reads_in_ferredis("from-redis", &[], true);
}

#[test]
fn a_file_redis_saved_uncompressed_and_unchecksummed_reads_in_ferredis() {
    redis_file_reads_in_ferredis(
        "from-redis-plain",
        &["--rdbcompression", "no", "--rdbchecksum", "no"],
        false,
    );
}

/// A key, its entry and its deadline (Unix ms) if it has a TTL.
type Keyed = (String, Entry, Option<i64>);

/// The entries of a ferredis server, taken out through DUMP (the test's way to get `Entry` values).
fn entries_of(c: &mut Client) -> Vec<(usize, Vec<Keyed>)> {
    let limits = Limits::default();
    let mut out = Vec::new();
    for db in DBS {
        c.cmd(&["SELECT", &db.to_string()]);
        let reply = c.cmd(&["KEYS", "*"]);
        let keys: Vec<String> = reply
            .split("\r\n")
            .skip(2)
            .step_by(2)
            .filter(|k| !k.is_empty())
            .map(String::from)
            .collect();
        let mut entries = Vec::new();
        for k in keys {
            let value = payload::restore(&dump(c, &k), &limits).expect("own payload");
            let at: i64 = c.cmd(&["PEXPIRETIME", &k])[1..].trim().parse().unwrap();
            entries.push((k, Entry::new(value), (at > 0).then_some(at)));
        }
        out.push((db, entries));
    }
    c.cmd(&["SELECT", "0"]);
    out
}

fn write_file(path: &Path, dbs: &[(usize, Vec<Keyed>)], opts: RdbOptions) {
    write_file_with(path, dbs, opts, |w| w, &[]);
}

fn write_file_with(
    path: &Path,
    dbs: &[(usize, Vec<Keyed>)],
    opts: RdbOptions,
    setup: impl FnOnce(
        RdbWriter<std::io::BufWriter<std::fs::File>>,
    ) -> RdbWriter<std::io::BufWriter<std::fs::File>>,
    functions: &[&[u8]],
) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = setup(RdbWriter::new(file, opts));
    w.header().unwrap();
    w.standard_aux(AuxInfo {
        used_mem: 1 << 20,
        aof_base: false,
        ctime: 1_700_000_000,
    })
    .unwrap();
    for code in functions {
        w.function(code).unwrap();
    }
    for (db, entries) in dbs {
        let expires = entries.iter().filter(|(_, _, at)| at.is_some()).count();
        w.select_db(*db, entries.len() as u64, expires as u64)
            .unwrap();
        for (k, e, at) in entries {
            w.entry(k.as_bytes(), e, *at).unwrap();
        }
    }
    w.finish().unwrap();
}

/// ferredis writes a file with `RdbWriter`; redis-check-rdb passes it and redis-server loads the same values.
fn ferredis_file_loads_in_redis(name: &str, opts: RdbOptions) {
    let dir = temp_dir(name);
    let ours = Server::start();
    let mut f = ours.client();
    populate(&mut f);
    let path = dir.join("ours.rdb");
    write_file(&path, &entries_of(&mut f), opts);
    let bytes = std::fs::read(&path).unwrap();
    assert!(bytes.starts_with(b"REDIS0010"));
    assert_eq!(
        bytes[bytes.len() - 8..] == [0; 8],
        !opts.checksum,
        "CRC trailer"
    );
    let check = Command::new("redis-check-rdb").arg(&path).output();
    if let Ok(out) = check {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("RDB looks OK"),
            "redis-check-rdb:\n{text}"
        );
    }
    let reread = read_file(&path).expect("ferredis reads its own file");
    assert_eq!(reread.summary.checksum_verified, opts.checksum);
    let Some(mut redis) = Redis::start(&dir, "ours.rdb", &[]) else {
        return;
    };
    let mut r = redis.client();
    compare(&mut f, &mut r, "ferredis file -> redis");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_file_ferredis_wrote_loads_in_redis() {
    ferredis_file_loads_in_redis("to-redis", RdbOptions::default());
}

#[test]
fn a_file_ferredis_wrote_uncompressed_and_unchecksummed_loads_in_redis() {
    let opts = RdbOptions {
        compression: false,
        checksum: false,
    };
    ferredis_file_loads_in_redis("to-redis-plain", opts);
}

/// Damaged files fail with the line Redis logs for the same damage.
#[test]
fn damaged_files_fail_with_redis_s_messages() {
    let dir = temp_dir("damaged");
    let ours = Server::start();
    let mut f = ours.client();
    f.cmd(&["SET", "k", "v"]);
    f.cmd(&["RPUSH", "l", "a", "b"]);
    let path = dir.join("good.rdb");
    write_file(&path, &entries_of(&mut f), RdbOptions::default());
    let good = std::fs::read(&path).unwrap();
    let read = |bytes: &[u8]| {
        read_rdb(bytes, &Limits::default(), 0, |_| Ok(()))
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(read(&good), Ok(()));
    assert_eq!(
        read(b"RADIS0010"),
        Err("Wrong signature trying to load DB from file".into())
    );
    assert_eq!(
        read(b"REDIS0011\xff"),
        Err("Can't handle RDB format version 11".into())
    );
    assert_eq!(
        read(b"REDISabcd\xff"),
        Err("Can't handle RDB format version 0".into())
    );
    let short = "Short read or OOM loading DB. Unrecoverable error, aborting now.";
    for cut in [5, 9, 20, good.len() / 2, good.len() - 1] {
        assert_eq!(read(&good[..cut]), Err(short.into()), "cut at {cut}");
    }
    let mut flipped = good.clone();
    let n = flipped.len();
    flipped[n - 9 - 3] ^= 1; // inside the last value, before EOF and the CRC
    let err = read(&flipped).unwrap_err();
    assert!(
        err.starts_with("Wrong RDB checksum expected: (") && err.ends_with("). Aborting now."),
        "{err}"
    );
    let sink_error = read_rdb(&good[..], &Limits::default(), 0, |_| {
        Err(RdbError::Io("stop".into()))
    });
    assert_eq!(sink_error, Err(RdbError::Io("stop".into())));
    let _ = std::fs::remove_dir_all(&dir);
}

const LIBRARY: &[u8] =
    b"#!lua name=mylib\nredis.register_function('myfunc', function(keys, args) return 7 end)";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Function libraries and LRU idle times cross in both directions (Redis writes IDLE under an LRU policy).
#[test]
fn functions_and_idle_times_cross_over() {
    let dir = temp_dir("functions");
    let lru = ["--maxmemory-policy", "allkeys-lru"];
    let Some(mut redis) = Redis::start(&dir, "dump.rdb", &lru) else {
        return;
    };
    let mut r = redis.client();
    let lib = std::str::from_utf8(LIBRARY).unwrap();
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", lib]), "$5\r\nmylib\r\n");
    r.cmd(&["SET", "src", "v"]);
    let p = dump(&mut r, "src");
    assert_eq!(
        restore(&mut r, "k", "0", &p, &["IDLETIME", "777"]),
        "+OK\r\n"
    );
    assert_eq!(r.cmd(&["SAVE"]), "+OK\r\n");
    drop(redis);
    let file = read_file(&dir.join("dump.rdb")).expect("readable");
    assert_eq!(file.functions, vec![LIBRARY.to_vec()]);
    let (_, _, k, _) = file
        .entries
        .iter()
        .find(|(_, key, _, _)| key == b"k")
        .expect("k");
    let idle = k.access().idle_secs(now_ms());
    assert!((777..=780).contains(&idle), "idle {idle}");

    let ours = Server::start();
    let mut f = ours.client();
    f.cmd(&["SET", "s", "v"]);
    let dbs: Vec<_> = entries_of(&mut f)
        .into_iter()
        .filter(|(_, e)| !e.is_empty())
        .collect();
    let now = now_ms();
    dbs.iter()
        .flat_map(|(_, e)| e)
        .for_each(|(_, e, _)| e.access().restore(Some(5000), None, now));
    let path = dir.join("ours.rdb");
    let stamps = |w: RdbWriter<_>| w.with_access_stamps(AccessStamps::Idle, now);
    write_file_with(&path, &dbs, RdbOptions::default(), stamps, &[LIBRARY]);
    let Some(mut redis) = Redis::start(&dir, "ours.rdb", &lru) else {
        return;
    };
    let mut r = redis.client();
    let idle: i64 = r.cmd(&["OBJECT", "IDLETIME", "s"])[1..]
        .trim()
        .parse()
        .unwrap();
    assert!((5000..=5003).contains(&idle), "idle {idle}");
    assert_eq!(r.cmd(&["FCALL", "myfunc", "0"]), ":7\r\n");
    let _ = std::fs::remove_dir_all(&dir);
}
