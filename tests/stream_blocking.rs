//! XREAD / XREADGROUP BLOCK: compared with redis-server, many readers on several streams, group readers
//! sharing entries, and what wakes a reader.

mod common;
mod stream_support;

use common::{Client, Server};
use std::time::{Duration, Instant};
use stream_support::*;
fn blocking_scenario(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    let mut w = Client::connect(port);
    for cmd in [
        "xadd s 1-1 a 1",
        "xgroup create s g $",
        "xgroup create t g $ mkstream",
    ] {
        let args: Vec<&str> = cmd.split(' ').collect();
        out.push(w.cmd(&args));
    }
    let mut r: Vec<Client> = (0..4).map(|_| Client::connect(port)).collect();
    send(&mut r[0], "xread block 0 streams s t $ $");
    send(&mut r[1], "xread block 0 count 1 streams t s 0-0 $");
    send(&mut r[2], "xreadgroup group g c1 block 0 streams s t > >");
    // c1 must queue before c2: the group's entry goes to the first in line.
    settle(&mut w, 3);
    send(&mut r[3], "xreadgroup group g c2 block 0 streams s >");
    settle(&mut w, 4);
    // Every XREAD reader gets the entry; of the group's consumers only the first.
    out.push(w.cmd(&["xadd", "s", "2-1", "b", "2"]));
    for c in &mut r[..3] {
        out.push(c.read_reply());
    }
    send(&mut r[0], "xreadgroup group g c3 block 0 streams t >");
    send(&mut r[1], "xreadgroup group g c4 block 0 streams s >");
    send(&mut r[2], "xread block 100 streams u $");
    settle(&mut w, 4);
    // Deleting the key or the group answers XREADGROUP waiters with Redis's errors.
    out.push(w.cmd(&["del", "t"]));
    out.push(w.cmd(&["xgroup", "destroy", "s", "g"]));
    for c in &mut r {
        out.push(c.read_reply());
    }
    // An XREAD waiter ignores other types and deletions, and takes the stream created later.
    send(&mut r[3], "xread block 0 streams u $");
    settle(&mut w, 1);
    out.push(w.cmd(&["set", "u", "x"]));
    out.push(w.cmd(&["del", "u"]));
    out.push(w.cmd(&["xadd", "u", "5-5", "k", "v"]));
    out.push(r[3].read_reply());
    out.push(w.cmd(&["xinfo", "groups", "s"]));
    out
}

#[test]
fn blocking_reads_match_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (got, want) = (blocking_scenario(ours.port), blocking_scenario(redis.port));
    assert_eq!(got, want);
}

#[test]
fn many_readers_blocked_on_several_streams() {
    let s = Server::start();
    let mut w = s.client();
    for i in 0..5 {
        w.cmd(&["XADD", &format!("s{i}"), "1-1", "old", "x"]);
    }
    // Reader k watches s(k%5), s((k+1)%5), s((k+2)%5), all from `$`.
    let mut readers: Vec<Client> = (0..20).map(|_| s.client()).collect();
    for (k, r) in readers.iter_mut().enumerate() {
        let keys: Vec<String> = (0..3).map(|j| format!("s{}", (k + j) % 5)).collect();
        r.send(&[
            "XREAD", "BLOCK", "0", "STREAMS", &keys[0], &keys[1], &keys[2], "$", "$", "$",
        ]);
    }
    settle(&mut w, readers.len());
    assert_eq!(w.cmd(&["XADD", "s2", "2-1", "new", "y"]), "$3\r\n2-1\r\n");
    let want = "*1\r\n*2\r\n$2\r\ns2\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$3\r\nnew\r\n$1\r\ny\r\n";
    let mut woken = Vec::new();
    for (k, r) in readers.iter_mut().enumerate() {
        if [2, 1, 0].iter().any(|j| (k + j) % 5 == 2) {
            assert_eq!(r.read_reply(), want, "reader {k}");
            woken.push(k);
        }
    }
    assert_eq!(woken.len(), 12);
    // The others are still waiting: a write to one of their streams answers each of them with that stream.
    assert_eq!(w.cmd(&["XADD", "s4", "3-1", "n", "z"]), "$3\r\n3-1\r\n");
    for (k, r) in readers.iter_mut().enumerate() {
        if !woken.contains(&k) && [0, 1, 2].iter().any(|j| (k + j) % 5 == 4) {
            let reply = r.read_reply();
            assert!(
                reply.starts_with("*1\r\n*2\r\n$2\r\ns4\r\n"),
                "reader {k}: {reply}"
            );
            woken.push(k);
        }
    }
    // Every window of three streams holds s2 or s4, so every reader has now been answered exactly once.
    let rest: Vec<usize> = (0..20).filter(|k| !woken.contains(k)).collect();
    assert_eq!(rest, Vec::<usize>::new());
    for r in &mut readers {
        assert_eq!(r.cmd(&["PING"]), "+PONG\r\n");
    }
}

#[test]
fn blocked_group_consumers_share_new_entries() {
    let s = Server::start();
    let mut w = s.client();
    w.cmd(&["XGROUP", "CREATE", "q", "g", "$", "MKSTREAM"]);
    let mut a = s.client();
    let mut b = s.client();
    a.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "BLOCK",
        "0",
        "STREAMS",
        "q",
        ">",
    ]);
    settle(&mut w, 1);
    b.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "BLOCK",
        "0",
        "STREAMS",
        "q",
        ">",
    ]);
    settle(&mut w, 2);
    w.cmd(&["XADD", "q", "1-1", "job", "1"]);
    assert_eq!(
        a.read_reply(),
        "*1\r\n*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$3\r\njob\r\n$1\r\n1\r\n"
    );
    w.cmd(&["XADD", "q", "1-2", "job", "2"]);
    assert_eq!(
        b.read_reply(),
        "*1\r\n*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$3\r\n1-2\r\n*2\r\n$3\r\njob\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        pending(&mut w, "q", "g"),
        vec![p("1-1", "alice", 1), p("1-2", "bob", 1)]
    );
    // A timeout answers a null array.
    let start = Instant::now();
    assert_eq!(
        a.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "BLOCK",
            "100",
            "STREAMS",
            "q",
            ">"
        ]),
        "*-1\r\n"
    );
    assert!(start.elapsed() >= Duration::from_millis(100));
    // `$` means after the last id when blocking: older entries are not returned.
    a.send(&["XREAD", "BLOCK", "0", "STREAMS", "q", "$"]);
    settle(&mut w, 1);
    w.cmd(&["XADD", "q", "2-1", "late", "1"]);
    assert_eq!(
        a.read_reply(),
        "*1\r\n*2\r\n$1\r\nq\r\n*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$4\r\nlate\r\n$1\r\n1\r\n"
    );
}

fn wake_scenario(port: u16) -> Vec<String> {
    let mut w = Client::connect(port);
    let mut out = Vec::new();
    let cmd = |w: &mut Client, c: &str| {
        let args: Vec<&str> = c.split(' ').collect();
        w.cmd(&args)
    };
    for c in ["xadd s 1-1 a 1", "xadd s 1-2 a 2", "xgroup create s g $"] {
        out.push(cmd(&mut w, c));
    }
    let mut r = Client::connect(port);
    let mut r2 = Client::connect(port);
    send(&mut r, "xreadgroup group g c block 0 streams s >");
    send(&mut r2, "xread block 0 streams s $");
    settle(&mut w, 2);
    // None of these wakes anyone in Redis: only an XADD does.
    for c in [
        "xgroup setid s g 0",
        "xsetid s 5-5",
        "xgroup setid s g $",
        "xack s g 1-1",
    ] {
        out.push(cmd(&mut w, c));
    }
    out.push(cmd(&mut w, "xadd s 6-1 b 1"));
    out.push(r.read_reply());
    out.push(r2.read_reply());
    // A group moved back while its reader waits: the next XADD serves from the group's last id.
    send(&mut r, "xreadgroup group g c block 0 count 1 streams s >");
    settle(&mut w, 1);
    out.push(cmd(&mut w, "xgroup setid s g 0"));
    out.push(cmd(&mut w, "xadd s 7-1 b 2"));
    out.push(r.read_reply());
    out
}

#[test]
fn only_xadd_wakes_stream_readers_as_in_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    assert_eq!(wake_scenario(ours.port), wake_scenario(redis.port));
}

#[test]
fn destroying_the_group_answers_its_blocked_readers_with_nogroup() {
    let s = Server::start();
    let mut w = s.client();
    assert_eq!(
        w.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        "+OK\r\n"
    );
    let mut r = s.blocked_client(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(w.cmd(&["XGROUP", "DESTROY", "s", "g"]), ":1\r\n");
    assert_eq!(
        r.read_reply(),
        "-NOGROUP the consumer group this client was blocked on no longer exists\r\n"
    );
    assert_eq!(s.blocked_clients(), 0);
}
