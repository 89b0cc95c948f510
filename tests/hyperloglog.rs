//! HyperLogLog commands: replies, errors and the stored bytes compared with redis-server, random inputs counted
//! by both servers, sketches copied between them with GET/SET in both directions, and corrupt sketches.

mod bits_support;
mod common;

use bits_support::{assert_watch_effects, events_of};
use common::{assert_same_as_redis, Client, Server};

#[test]
fn commands_and_errors_match_redis() {
    assert_same_as_redis(&[
        &["PFADD", "h"],
        &["PFADD", "h"],
        &["GET", "h"],
        &["OBJECT", "ENCODING", "h"],
        &["PFCOUNT", "h"],
        &["PFADD", "h", "a", "b", "c"],
        &["PFADD", "h", "a", "b"],
        &["PFCOUNT", "h"],
        &["GET", "h"],
        &["PFCOUNT", "h", "nokey"],
        &["PFCOUNT", "nokey"],
        &["PFCOUNT", "nokey", "nokey2"],
        &["PFADD", "h2", "c", "d", "e"],
        &["PFMERGE", "m", "h", "h2", "nokey"],
        &["PFCOUNT", "m"],
        &["GET", "m"],
        &["PFMERGE", "h", "h2"],
        &["PFCOUNT", "h"],
        &["PFMERGE", "empty"],
        &["GET", "empty"],
        &["PFMERGE", "empty2", "nokey"],
        &["PFCOUNT", "empty2"],
        &["PFDEBUG", "ENCODING", "h"],
        &["PFDEBUG", "DECODE", "h"],
        &["PFDEBUG", "decode", "nokey"],
        &["PFDEBUG", "NOPE", "h"],
        &["PFDEBUG", "NOPE", "nokey"],
        &["PFDEBUG", "TODENSE", "h"],
        &["PFDEBUG", "TODENSE", "h"],
        &["PFDEBUG", "ENCODING", "h"],
        &["PFDEBUG", "DECODE", "h"],
        &["PFCOUNT", "h"],
        &["PFADD", "h", "zz"],
        &["PFCOUNT", "h", "h2"],
        &["PFMERGE", "m2", "h", "h2"],
        &["PFDEBUG", "ENCODING", "m2"],
        &["PFCOUNT", "m2"],
        &["SET", "s", "not an hll"],
        &["PFADD", "s", "a"],
        &["PFCOUNT", "s"],
        &["PFCOUNT", "s", "h"],
        &["PFMERGE", "s", "h"],
        &["PFMERGE", "h", "s"],
        &["PFDEBUG", "ENCODING", "s"],
        &["SET", "n", "12345678901234567"],
        &["PFADD", "n", "a"],
        &["LPUSH", "l", "a"],
        &["PFADD", "l", "a"],
        &["PFCOUNT", "l"],
        &["PFCOUNT", "h", "l"],
        &["PFMERGE", "l", "h"],
        &["PFMERGE", "h", "l"],
        &["PFDEBUG", "ENCODING", "l"],
        &["PFADD"],
        &["PFCOUNT"],
        &["PFMERGE"],
        &["PFDEBUG", "ENCODING"],
        &["PFDEBUG", "ENCODING", "h", "x"],
        &["PFSELFTEST", "x"],
    ]);
}

#[test]
fn corrupt_sketches_are_detected_as_redis() {
    assert_same_as_redis(&[
        // A sparse sketch with a tail past the last register.
        &["PFADD", "a", "x"],
        &["APPEND", "a", "hello"],
        &["PFCOUNT", "a"],
        &["PFADD", "a", "y", "z"],
        &["PFCOUNT", "a", "a"],
        &["PFMERGE", "b", "a"],
        &["PFDEBUG", "GETREG", "a"],
        &["PFDEBUG", "TODENSE", "a"],
        // Broken magic, unknown encoding, a dense sketch of the wrong length.
        &["PFADD", "c", "x"],
        &["SETRANGE", "c", "0", "0"],
        &["PFCOUNT", "c"],
        &["PFADD", "d", "x"],
        &["SETRANGE", "d", "4", "x"],
        &["PFCOUNT", "d"],
        &["PFADD", "e", "x"],
        &["PFDEBUG", "TODENSE", "e"],
        &["APPEND", "e", "hello"],
        &["PFCOUNT", "e"],
        &["PFADD", "e", "y"],
        // Too short to hold a header; a header with no registers.
        &["SET", "f", "HYLL"],
        &["PFCOUNT", "f"],
        &["PFADD", "g", "x"],
        &["GETRANGE", "g", "0", "15"],
        &["SET", "h", "HYLL\u{1}\0\0\0\0\0\0\0\0\0\0\0"],
        &["PFCOUNT", "h"],
        &["PFADD", "h", "x"],
        &["PFCOUNT", "h", "h"],
        &["PFDEBUG", "DECODE", "h"],
        // A stale cache bit with registers that overflow.
        &[
            "SET",
            "i",
            "HYLL\u{1}\0\0\0\0\0\0\0\0\0\0\u{7f}\u{7f}\u{7f}\u{7f}\u{7f}",
        ],
        &["PFCOUNT", "i"],
        &["PFADD", "i", "a", "b", "c"],
        &["PFDEBUG", "DECODE", "i"],
        // A truncated XZERO opcode at the very end.
        &["SET", "j", "HYLL\u{1}\0\0\0\0\0\0\0\0\0\0\u{7f}\u{7f}"],
        &["PFADD", "j", "a"],
        &["PFCOUNT", "j"],
    ]);
}

/// A fixed pseudo-random sequence (no seed from the clock: a failure must replay).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Runs `args` on both clients and asserts identical replies.
fn both(ours: &mut Client, redis: &mut Client, args: &[&[u8]]) -> Vec<u8> {
    let (got, want) = (ours.cmd_bytes(args), redis.cmd_bytes(args));
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want),
        "reply to {:?}",
        args.iter()
            .map(|a| String::from_utf8_lossy(a))
            .collect::<Vec<_>>()
    );
    got
}

#[test]
fn random_sketches_count_and_encode_as_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let server = Server::start();
    let (mut a, mut b) = (server.client(), redis.client());
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (round, max_bytes) in ["3000", "200", "10000"].iter().enumerate() {
        both(
            &mut a,
            &mut b,
            &[
                b"CONFIG",
                b"SET",
                b"hll-sparse-max-bytes",
                max_bytes.as_bytes(),
            ],
        );
        let key = format!("h{round}");
        let mut added = 0;
        // Batches that grow from a few elements (sparse) to many (dense).
        for batch in [1, 3, 10, 30, 100, 300, 1000, 3000, 10000] {
            let elements: Vec<Vec<u8>> = (0..batch)
                .map(|_| format!("e{}", rng.next() % 1_000_000).into_bytes())
                .collect();
            let mut args: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
            args.extend(elements.iter().map(|e| e.as_slice()));
            both(&mut a, &mut b, &args);
            added += batch;
            both(&mut a, &mut b, &[b"PFCOUNT", key.as_bytes()]);
            both(&mut a, &mut b, &[b"GET", key.as_bytes()]);
            both(&mut a, &mut b, &[b"PFDEBUG", b"ENCODING", key.as_bytes()]);
        }
        assert!(added > 10000);
    }
    both(&mut a, &mut b, &[b"PFCOUNT", b"h0", b"h1", b"h2"]);
    both(&mut a, &mut b, &[b"PFMERGE", b"all", b"h0", b"h1"]);
    both(&mut a, &mut b, &[b"GET", b"all"]);
    both(&mut a, &mut b, &[b"PFCOUNT", b"all"]);
    // Merging sparse sketches into a sparse destination, then past the sparse limit.
    both(
        &mut a,
        &mut b,
        &[b"CONFIG", b"SET", b"hll-sparse-max-bytes", b"3000"],
    );
    for i in 0..20 {
        let key = format!("s{i}");
        let elements: Vec<String> = (0..20).map(|_| format!("x{}", rng.next())).collect();
        let mut args: Vec<&[u8]> = vec![b"PFADD", key.as_bytes()];
        args.extend(elements.iter().map(|e| e.as_bytes()));
        both(&mut a, &mut b, &args);
        both(&mut a, &mut b, &[b"PFMERGE", b"sm", key.as_bytes()]);
        both(&mut a, &mut b, &[b"GET", b"sm"]);
        both(&mut a, &mut b, &[b"PFCOUNT", b"sm", b"s0"]);
    }
    both(&mut a, &mut b, &[b"PFCOUNT", b"sm"]);
}

#[test]
fn sketches_copied_between_servers_count_the_same() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let server = Server::start();
    let (mut a, mut b) = (server.client(), redis.client());
    let mut rng = Rng(42);
    for (from_redis, n) in [(true, 50), (true, 5000), (false, 60), (false, 7000)] {
        let (src, dst) = if from_redis {
            (&mut b, &mut a)
        } else {
            (&mut a, &mut b)
        };
        let elements: Vec<String> = (0..n).map(|_| format!("{}", rng.next())).collect();
        let mut args: Vec<&[u8]> = vec![b"PFADD", b"k"];
        args.extend(elements.iter().map(|e| e.as_bytes()));
        src.cmd_bytes(&args);
        let count = src.cmd_bytes(&[b"PFCOUNT", b"k"]);
        let value = bulk_payload(&src.cmd_bytes(&[b"GET", b"k"]));
        assert_eq!(dst.cmd_bytes(&[b"SET", b"k", &value]), b"+OK\r\n");
        assert_eq!(dst.cmd_bytes(&[b"PFCOUNT", b"k"]), count, "cached count");
        // A stale cache forces both to recount from the registers.
        src.cmd_bytes(&[b"PFADD", b"k", b"one more"]);
        dst.cmd_bytes(&[b"PFADD", b"k", b"one more"]);
        both(&mut a, &mut b, &[b"PFCOUNT", b"k"]);
        both(&mut a, &mut b, &[b"GET", b"k"]);
        both(&mut a, &mut b, &[b"DEL", b"k"]);
    }
}

fn bulk_payload(reply: &[u8]) -> Vec<u8> {
    let start = reply.iter().position(|&c| c == b'\n').expect("bulk header") + 1;
    reply[start..reply.len() - 2].to_vec()
}

#[test]
fn writes_notify_and_invalidate_watch_as_redis() {
    let server = Server::start();
    let mut c = server.client();
    let events = events_of(
        &server,
        &mut c,
        &[
            &["PFADD", "h", "a"],
            &["PFADD", "h", "a"], // no register changed: no event
            &["PFCOUNT", "h"],    // caches the count: no event
            &["PFMERGE", "m", "h"],
        ],
    );
    assert_eq!(events, ["pfadd h", "pfadd m"]);
    assert_watch_effects(
        &server,
        &mut c,
        "h",
        &[
            (&["PFADD", "h", "a"], false),
            (&["PFCOUNT", "h"], false),
            (&["PFADD", "h", "b"], true),
            (&["PFCOUNT", "h"], true),
            (&["PFCOUNT", "h"], false),
            (&["PFMERGE", "h", "m"], true),
        ],
    );
}

#[test]
fn pfcount_inside_multi_caches_under_the_transaction_locks() {
    let server = Server::start();
    let mut c = server.client();
    c.cmd(&["PFADD", "h", "a", "b", "c"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["PFCOUNT", "h"]);
    c.cmd(&["PFCOUNT", "h", "h"]);
    assert_eq!(c.cmd(&["EXEC"]), "*2\r\n:3\r\n:3\r\n");
    assert_eq!(c.cmd(&["GETRANGE", "h", "8", "9"]), "$2\r\n\u{3}\0\r\n");
}

#[test]
fn command_info_and_getreg_match_redis() {
    assert_same_as_redis(&[
        &[
            "COMMAND",
            "INFO",
            "pfadd",
            "pfcount",
            "pfmerge",
            "pfselftest",
            "pfdebug",
        ],
        &["COMMAND", "GETKEYS", "PFCOUNT", "a", "b", "c"],
        &["COMMAND", "GETKEYS", "PFMERGE", "a", "b", "c"],
        &["PFADD", "h", "a", "b", "c", "d"],
        &["PFDEBUG", "GETREG", "h"],
        &["PFDEBUG", "ENCODING", "h"],
    ]);
}

#[test]
fn keyspace_hits_and_misses_count_as_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let server = Server::start();
    let (mut a, mut b) = (server.client(), redis.client());
    for cmd in [
        &["PFADD", "h", "a"][..],
        &["PFADD", "nokey1"],
        &["PFCOUNT", "h"],
        &["PFCOUNT", "nokey"],
        &["PFCOUNT", "h", "nokey", "h"],
        &["PFMERGE", "m", "h", "nokey"],
        &["PFDEBUG", "ENCODING", "h"],
        &["SETBIT", "b", "1", "1"],
        &["GETBIT", "b", "1"],
        &["GETBIT", "nob", "1"],
        &["BITCOUNT", "b"],
        &["BITPOS", "nob", "1"],
        &["BITOP", "OR", "d", "b", "nob"],
        &["BITFIELD", "b", "GET", "u8", "0"],
        &["BITFIELD", "b", "SET", "u8", "0", "1"],
        &["BITFIELD_RO", "nob", "GET", "u8", "0"],
    ] {
        both(
            &mut a,
            &mut b,
            &cmd.iter().map(|s| s.as_bytes()).collect::<Vec<_>>(),
        );
    }
    let stats = |c: &mut Client| -> Vec<String> {
        c.cmd(&["INFO", "stats"])
            .lines()
            .filter(|l| l.starts_with("keyspace_"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(stats(&mut a), stats(&mut b));
}

/// Whether a sparse sketch's last opcode is an XZERO cut in half: Redis then reads the byte past its string's end
/// (whatever its last write left there), which ferredis reads as zero; such sketches are left out below.
fn ends_in_half_an_opcode(v: &[u8]) -> bool {
    let mut p = 16;
    while p < v.len() {
        p += if v[p] & 0xc0 == 0x40 { 2 } else { 1 };
    }
    v[4] == 1 && p > v.len()
}

#[test]
fn randomly_corrupted_sketches_behave_as_in_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let server = Server::start();
    let (mut a, mut b) = (server.client(), redis.client());
    let mut rng = Rng(7);
    let mut compared = 0;
    while compared < 300 {
        both(&mut a, &mut b, &[b"DEL", b"h", b"h2"]);
        let n = [1, 5, 50, 500][(rng.next() % 4) as usize];
        let elements: Vec<String> = (0..n).map(|_| rng.next().to_string()).collect();
        let mut args: Vec<&[u8]> = vec![b"PFADD", b"h"];
        args.extend(elements.iter().map(|e| e.as_bytes()));
        both(&mut a, &mut b, &args);
        if rng.next().is_multiple_of(3) {
            both(&mut a, &mut b, &[b"PFDEBUG", b"TODENSE", b"h"]);
        }
        let mut v = bulk_payload(&a.cmd_bytes(&[b"GET", b"h"]));
        for _ in 0..1 + rng.next() % 4 {
            let at = 16 + (rng.next() as usize) % (v.len() - 16);
            match rng.next() % 4 {
                0 | 1 => v[at] = rng.next() as u8,
                2 if at > 16 => v.truncate(at),
                _ => v.extend((0..1 + rng.next() % 3).map(|_| rng.next() as u8)),
            }
        }
        if ends_in_half_an_opcode(&v) {
            continue;
        }
        compared += 1;
        both(&mut a, &mut b, &[b"SET", b"h", &v]);
        let more: Vec<String> = (0..[1, 10, 100][(rng.next() % 3) as usize])
            .map(|_| rng.next().to_string())
            .collect();
        let mut pfadd: Vec<&[u8]> = vec![b"PFADD", b"h"];
        pfadd.extend(more.iter().map(|e| e.as_bytes()));
        for cmd in [
            &[&b"PFCOUNT"[..], b"h"][..],
            &pfadd,
            &[b"PFCOUNT", b"h"],
            &[b"PFCOUNT", b"h", b"h"],
            &[b"PFMERGE", b"h2", b"h"],
            &[b"GET", b"h"],
            &[b"GET", b"h2"],
            &[b"PFDEBUG", b"GETREG", b"h"],
        ] {
            both(&mut a, &mut b, cmd);
        }
    }
}
