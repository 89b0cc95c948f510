//! The same scenarios on ferredis and on the real redis-server, whose replication stream a `SYNC` client reads:
//! the effects must match once absolute times and generated IDs are masked. Skipped (with a note) when
//! redis-server is not installed, unless `CI` is set.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{parse_commands, Harness};
use crate::protocol::Reply;

/// One step: which client runs it, whether it blocks (its reply is not awaited), the command.
pub(super) type Step = (usize, bool, &'static [&'static str]);

/// A redis-server with a replica connection reading its stream.
struct Reference {
    child: Child,
    port: u16,
    replica: BufReader<TcpStream>,
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Reference {
    fn start() -> Option<Reference> {
        for _ in 0..5 {
            let port = free_port();
            let spawned = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args([
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--repl-diskless-sync-delay",
                    "0",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            let child = match spawned {
                Ok(c) => c,
                Err(e) => {
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "redis-server is required in CI: {e}"
                    );
                    eprintln!("redis-server not installed; skipping the comparison");
                    return None;
                }
            };
            let mut reference = Reference {
                child,
                port,
                replica: BufReader::new(match connect(port) {
                    Some(s) => s,
                    None => continue,
                }),
            };
            // Another process may have taken the port first: then this server exited.
            if !matches!(reference.child.try_wait(), Ok(None)) {
                continue;
            }
            reference.sync();
            return Some(reference);
        }
        panic!("redis-server did not start");
    }

    /// Attaches as a replica and skips the RDB payload.
    fn sync(&mut self) {
        self.replica.get_mut().write_all(b"SYNC\r\n").unwrap();
        let mut line = String::new();
        // Newlines are keep-alives sent while the RDB is prepared.
        while line.trim().is_empty() {
            line.clear();
            self.replica.read_line(&mut line).unwrap();
        }
        let len: usize = line.trim().trim_start_matches('$').parse().unwrap();
        let mut rdb = vec![0; len];
        self.replica.read_exact(&mut rdb).unwrap();
    }

    /// The stream's commands up to a sentinel write made after everything else, without pings.
    fn effects(&mut self) -> Vec<String> {
        let mut sentinel = connect(self.port).unwrap();
        command(&mut sentinel, &["set", "__end__", "1"]);
        let mut out: Vec<String> = Vec::new();
        loop {
            let cmd = read_command(&mut self.replica);
            if cmd == ["set", "__end__", "1"] {
                break;
            }
            // The master's keepalive, `PING` or `ping` depending on who sends it (its cron or the sync's start).
            if !(cmd.len() == 1 && cmd[0].eq_ignore_ascii_case("ping")) {
                out.push(cmd.join(" "));
            }
        }
        // The sentinel's connection is in database 0: drop a SELECT made for it alone.
        if out.last().is_some_and(|l| l == "SELECT 0") {
            out.pop();
        }
        out
    }
}

/// A port above the kernel's ephemeral range (where this process's loopback listeners get theirs) and above the
/// range the integration tests hand out, free when asked.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = (std::process::id() % 4000) as u16;
    (0..4000)
        .map(|_| 61_000 + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % 4000)
        .find(|&p| TcpListener::bind(("127.0.0.1", p)).is_ok())
        .expect("a free port")
}

fn connect(port: u16) -> Option<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(s) = TcpStream::connect(("127.0.0.1", port)) {
            // A stream that stops short fails the test instead of hanging it.
            s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

fn send(conn: &mut TcpStream, args: &[&str]) {
    let mut out = Vec::new();
    super::super::encode_command(&mut out, args.iter());
    conn.write_all(&out).unwrap();
}

/// Sends a command and reads its reply whole.
fn command(conn: &mut TcpStream, args: &[&str]) {
    send(conn, args);
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    skip_reply(&mut reader);
}

fn skip_reply(r: &mut impl BufRead) {
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let n: i64 = line[1..].trim().parse().unwrap_or(0);
    match line.as_bytes()[0] {
        b'$' if n >= 0 => {
            let mut data = vec![0; n as usize + 2];
            r.read_exact(&mut data).unwrap();
        }
        b'*' => (0..n.max(0)).for_each(|_| skip_reply(r)),
        _ => {}
    }
}

fn read_command(r: &mut impl BufRead) -> Vec<String> {
    let mut head = String::new();
    r.read_line(&mut head).unwrap();
    let mut bytes = head.clone().into_bytes();
    let n: usize = head.trim().trim_start_matches('*').parse().unwrap();
    for _ in 0..n {
        let mut len = String::new();
        r.read_line(&mut len).unwrap();
        let size: usize = len.trim().trim_start_matches('$').parse().unwrap();
        let mut data = vec![0; size + 2];
        r.read_exact(&mut data).unwrap();
        bytes.extend_from_slice(len.as_bytes());
        bytes.extend_from_slice(&data);
    }
    parse_commands(&bytes).remove(0)
}

/// Runs `steps` on redis-server and returns its effects; `None` if it is not installed.
fn on_redis(steps: &[Step]) -> Option<Vec<String>> {
    let mut reference = Reference::start()?;
    let clients = steps.iter().map(|s| s.0).max().unwrap_or(0) + 1;
    let mut conns: Vec<TcpStream> = (0..clients)
        .map(|_| connect(reference.port).unwrap())
        .collect();
    for &(c, blocks, args) in steps {
        if blocks {
            send(&mut conns[c], args);
            // Give the server time to block the client before the next step feeds it.
            std::thread::sleep(Duration::from_millis(100));
        } else {
            command(&mut conns[c], args);
        }
    }
    Some(reference.effects())
}

/// Runs `steps` on ferredis and returns its effects.
fn on_ferredis(steps: &[Step]) -> Vec<String> {
    let mut h = Harness::new();
    let clients = steps.iter().map(|s| s.0).max().unwrap_or(0) + 1;
    let mut conns: Vec<_> = (0..clients).map(|_| h.client()).collect();
    for &(c, blocks, args) in steps {
        let reply = h.run(&mut conns[c], args);
        assert_eq!(blocks, reply == Reply::NoReply, "{args:?}: {reply:?}");
    }
    h.effects()
}

/// Asserts that ferredis and redis-server propagate the same effects for `steps`.
pub(super) fn assert_same_effects(steps: &[Step]) {
    let ours = super::rewrites::normalized(on_ferredis(steps));
    if let Some(theirs) = on_redis(steps) {
        assert_eq!(ours, super::rewrites::normalized(theirs), "{steps:?}");
    }
}

const STRINGS: &[Step] = &[
    (0, false, &["set", "k", "v"]),
    (0, false, &["set", "k2", "v", "EX", "100", "NX"]),
    (0, false, &["set", "k3", "v", "KEEPTTL", "GET"]),
    (0, false, &["set", "k3", "w", "get", "GET", "XX"]),
    (0, false, &["getset", "k3", "x"]),
    (0, false, &["setnx", "k6", "x"]),
    (0, false, &["setex", "k4", "100", "v"]),
    (0, false, &["psetex", "k5", "100000", "v"]),
    (0, false, &["expire", "k", "100"]),
    (0, false, &["expire", "k", "100", "XX"]),
    (0, false, &["expireat", "k2", "99999999999"]),
    (0, false, &["pexpire", "k3", "100000", "NX"]),
    (0, false, &["pexpireat", "k", "99999999999999"]),
    (0, false, &["persist", "k"]),
    (0, false, &["expire", "k", "-1"]),
    (0, false, &["set", "g", "v"]),
    (0, false, &["getex", "g", "EX", "100"]),
    (0, false, &["getex", "g", "PXAT", "99999999999999"]),
    (0, false, &["getex", "g", "PERSIST"]),
    (0, false, &["getex", "g", "EXAT", "1"]),
    (0, false, &["set", "g", "v"]),
    (0, false, &["getdel", "g"]),
    (0, false, &["incrbyfloat", "f", "1.5"]),
    (0, false, &["incrbyfloat", "f", "1e3"]),
    (0, false, &["hincrbyfloat", "h", "f", "1.5"]),
    (0, false, &["mset", "a", "1", "b", "2"]),
    (0, false, &["incr", "a"]),
    (0, false, &["append", "a", "x"]),
    (0, false, &["del", "a", "b", "nothing"]),
    (0, false, &["set", "k", "v", "NX"]),
];

const POPS: &[Step] = &[
    (0, false, &["lpush", "l", "a", "b", "c"]),
    (0, false, &["blpop", "l", "0"]),
    (0, false, &["brpop", "nothing", "l", "0"]),
    (0, false, &["blmove", "l", "l2", "RIGHT", "left", "0"]),
    (0, false, &["brpoplpush", "l2", "l", "0"]),
    (0, false, &["rpush", "lm", "a", "b", "c"]),
    (0, false, &["lmpop", "1", "lm", "left", "count", "2"]),
    (
        0,
        false,
        &["blmpop", "0", "2", "nothing", "lm", "RIGHT", "COUNT", "5"],
    ),
    (0, false, &["zadd", "z", "1", "a", "2", "b", "3", "c"]),
    (0, false, &["zmpop", "1", "z", "min", "count", "1"]),
    (0, false, &["bzpopmax", "z", "0"]),
    (0, false, &["bzmpop", "0", "1", "z", "MIN", "COUNT", "9"]),
    (0, false, &["ltrim", "l", "0", "0"]),
    (0, false, &["ltrim", "l", "0", "-1"]),
];

const SERVED: &[Step] = &[
    (1, false, &["select", "3"]),
    (0, true, &["blpop", "bl", "0"]),
    (1, false, &["rpush", "bl", "x", "y"]),
    (0, true, &["blmove", "bm", "dst", "left", "right", "0"]),
    (1, false, &["rpush", "bm", "x"]),
    (0, true, &["brpoplpush", "bm", "dst", "0"]),
    (1, false, &["rpush", "bm", "x"]),
    (0, true, &["blmpop", "0", "1", "bm", "RIGHT", "COUNT", "5"]),
    (1, false, &["rpush", "bm", "x", "y"]),
    (0, true, &["bzpopmin", "bz", "0"]),
    (1, false, &["zadd", "bz", "1", "a", "2", "b"]),
    (0, true, &["bzmpop", "0", "1", "bz", "MAX", "COUNT", "5"]),
    (1, false, &["zadd", "bz", "1", "a"]),
];

const TRANSACTIONS: &[Step] = &[
    (0, false, &["multi"]),
    (0, false, &["set", "a", "1"]),
    (0, false, &["get", "a"]),
    (0, false, &["exec"]),
    (0, false, &["multi"]),
    (0, false, &["set", "a", "1"]),
    (0, false, &["select", "1"]),
    (0, false, &["incr", "b"]),
    (0, false, &["exec"]),
    (0, false, &["multi"]),
    (0, false, &["get", "a"]),
    (0, false, &["exec"]),
    (0, false, &["swapdb", "0", "1"]),
    (0, false, &["move", "b", "0"]),
    (0, false, &["flushdb"]),
    (0, false, &["flushall"]),
];

const STREAMS: &[Step] = &[
    (0, false, &["xadd", "k", "1-1", "f", "v"]),
    (0, false, &["xadd", "k", "2-1", "f", "v"]),
    (0, false, &["xadd", "k", "3-1", "f", "v"]),
    (0, false, &["xadd", "k", "MAXLEN", "~", "1", "*", "f", "v"]),
    (0, false, &["xadd", "s", "5-*", "f", "v"]),
    (0, false, &["xtrim", "k", "MAXLEN", "3"]),
    (0, false, &["xgroup", "create", "k", "g", "0"]),
    (
        0,
        false,
        &[
            "xreadgroup",
            "GROUP",
            "g",
            "c1",
            "COUNT",
            "2",
            "STREAMS",
            "k",
            ">",
        ],
    ),
    (
        0,
        false,
        &["xreadgroup", "GROUP", "g", "c1", "STREAMS", "k", "0"],
    ),
    (
        0,
        false,
        &[
            "xreadgroup",
            "GROUP",
            "g",
            "c2",
            "NOACK",
            "STREAMS",
            "k",
            ">",
        ],
    ),
    (0, false, &["xack", "k", "g", "2-1", "9-9"]),
    (0, false, &["xclaim", "k", "g", "c3", "0", "3-1", "FORCE"]),
    (
        0,
        false,
        &["xclaim", "k", "g", "c3", "0", "3-1", "LASTID", "5-0"],
    ),
    (0, false, &["xgroup", "setid", "k", "g", "0"]),
    (
        0,
        false,
        &["xclaim", "k", "g", "c3", "0", "2-1", "LASTID", "5-0"],
    ),
    (0, false, &["xdel", "k", "3-1"]),
    (0, false, &["xautoclaim", "k", "g", "c4", "0", "0"]),
    (0, false, &["xgroup", "createconsumer", "k", "g", "c9"]),
    (0, false, &["xgroup", "delconsumer", "k", "g", "c9"]),
    (0, false, &["xgroup", "delconsumer", "k", "g", "nobody"]),
    (0, false, &["xgroup", "destroy", "k", "g"]),
    (0, false, &["xgroup", "create", "k2", "g", "$", "MKSTREAM"]),
    (0, false, &["xsetid", "k", "99999999999999-5"]),
    (
        1,
        true,
        &[
            "xreadgroup",
            "GROUP",
            "g",
            "c1",
            "BLOCK",
            "0",
            "STREAMS",
            "k2",
            ">",
        ],
    ),
    (0, false, &["xadd", "k2", "7-1", "a", "b"]),
    (
        1,
        true,
        &[
            "xreadgroup",
            "GROUP",
            "g",
            "c5",
            "NOACK",
            "BLOCK",
            "0",
            "STREAMS",
            "k2",
            ">",
        ],
    ),
    (0, false, &["xadd", "k2", "8-1", "a", "b"]),
];

#[test]
fn strings_and_expiries_match_redis() {
    assert_same_effects(STRINGS);
}

#[test]
fn pops_match_redis() {
    assert_same_effects(POPS);
}

#[test]
fn served_blocked_clients_match_redis() {
    assert_same_effects(SERVED);
}

#[test]
fn transactions_and_whole_database_commands_match_redis() {
    assert_same_effects(TRANSACTIONS);
}

#[test]
fn streams_and_consumer_groups_match_redis() {
    assert_same_effects(STREAMS);
}
