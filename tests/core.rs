//! Protocol and connection behaviour of the core: framing, pipelining, protocol errors, concurrency.

mod common;

use common::{Client, Server};

#[test]
fn ping_echo_and_unknown_command() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(c.cmd(&["ping", "hi"]), "$2\r\nhi\r\n");
    assert_eq!(
        c.cmd(&["PING", "a", "b"]),
        "-ERR wrong number of arguments for 'ping' command\r\n"
    );
    assert_eq!(
        c.cmd(&["ECHO"]),
        "-ERR wrong number of arguments for 'echo' command\r\n"
    );
    assert_eq!(
        c.cmd(&["foo", "a", "b"]),
        "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    );
    assert_eq!(
        c.cmd(&["foo"]),
        "-ERR unknown command 'foo', with args beginning with: \r\n"
    );
}

#[test]
fn inline_commands_with_quotes() {
    let s = Server::start();
    let mut c = s.client();
    c.send_raw(b"SET k \"a b\\x41\"\r\nGET k\r\n\r\nPING\n");
    assert_eq!(c.read_reply(), "+OK\r\n");
    assert_eq!(c.read_reply(), "$4\r\na bA\r\n");
    assert_eq!(c.read_reply(), "+PONG\r\n");
}

#[test]
fn pipelining_a_thousand_commands_in_one_write() {
    let s = Server::start();
    let mut c = s.client();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(Client::encode(&[
            b"SET",
            format!("k{i}").as_bytes(),
            format!("v{i}").as_bytes(),
        ]));
    }
    for i in 0..1000 {
        batch.extend(Client::encode(&[b"GET", format!("k{i}").as_bytes()]));
    }
    c.send_raw(&batch);
    for _ in 0..1000 {
        assert_eq!(c.read_reply(), "+OK\r\n");
    }
    for i in 0..1000 {
        let v = format!("v{i}");
        assert_eq!(c.read_reply(), format!("${}\r\n{v}\r\n", v.len()));
    }
}

#[test]
fn protocol_errors_close_only_that_connection() {
    let s = Server::start();
    let mut bystander = s.client();
    let cases: &[(&[u8], &str)] = &[
        (
            b"*abc\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*2147483648\r\n",
            "-ERR Protocol error: invalid multibulk length\r\n",
        ),
        (
            b"*1\r\n$-1\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\n$536870913\r\n",
            "-ERR Protocol error: invalid bulk length\r\n",
        ),
        (
            b"*1\r\nPING\r\n",
            "-ERR Protocol error: expected '$', got 'P'\r\n",
        ),
        (
            b"SET k \"unterminated\r\n",
            "-ERR Protocol error: unbalanced quotes in request\r\n",
        ),
    ];
    for (input, want) in cases {
        let mut c = s.client();
        assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
        c.send_raw(input);
        assert_eq!(
            c.read_reply(),
            *want,
            "for {:?}",
            String::from_utf8_lossy(input)
        );
        assert!(c.is_closed());
        assert_eq!(bystander.cmd(&["PING"]), "+PONG\r\n");
    }
}

#[test]
fn too_big_inline_request() {
    let s = Server::start();
    let mut c = s.client();
    c.send_raw(&vec![b'a'; 70 * 1024]);
    assert_eq!(
        c.read_reply(),
        "-ERR Protocol error: too big inline request\r\n"
    );
    assert!(c.is_closed());
}

#[test]
fn binary_safe_keys_and_values() {
    let s = Server::start();
    let mut c = s.client();
    let key: &[u8] = b"k\0\r\n\xff";
    let value: &[u8] = b"\0\x01\r\n$-1\r\n\xfe";
    assert_eq!(c.cmd_bytes(&[b"SET", key, value]), b"+OK\r\n");
    let mut want = format!("${}\r\n", value.len()).into_bytes();
    want.extend_from_slice(value);
    want.extend_from_slice(b"\r\n");
    assert_eq!(c.cmd_bytes(&[b"GET", key]), want);
}

#[test]
fn quit_replies_then_closes() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(c.cmd(&["QUIT"]), "+OK\r\n");
    assert!(c.is_closed());
}

#[test]
fn random_garbage_never_kills_the_server() {
    let s = Server::start();
    let mut seed = 0x2545F4914F6CDD1Du64;
    for round in 0..200 {
        let mut c = s.client();
        c.set_timeout(std::time::Duration::from_millis(50));
        let len = 1 + (round * 37) % 600;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Bias towards protocol characters so the parser's branches are all reached.
                match seed % 8 {
                    0 => b'*',
                    1 => b'$',
                    2 => b'\r',
                    3 => b'\n',
                    4 => b'0' + (seed >> 8) as u8 % 10,
                    _ => (seed >> 16) as u8,
                }
            })
            .collect();
        c.send_raw(&bytes);
    }
    let mut c = s.client();
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn fifty_threads_incr_one_key() {
    let s = Server::start();
    let port = s.port;
    let threads: Vec<_> = (0..50)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Client::connect(port);
                for _ in 0..1000 {
                    c.send(&["INCR", "counter"]);
                }
                for _ in 0..1000 {
                    assert!(c.read_reply().starts_with(':'));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.client().cmd(&["GET", "counter"]), "$5\r\n50000\r\n");
}

/// A pipelining client must never hold a shard lock while it waits on anything: the rest of a request, a reader
/// of its replies, a blocking pop later in the same batch.
mod pipelined_locks {
    use super::*;
    use std::time::Duration;

    #[test]
    fn released_while_the_rest_of_a_request_is_awaited() {
        let s = Server::start();
        let mut a = s.client();
        let mut b = s.client();
        b.set_timeout(Duration::from_secs(2));
        a.send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\na\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n");
        assert_eq!(a.read_reply(), "+OK\r\n");
        assert_eq!(b.cmd(&["GET", "k"]), "$1\r\na\r\n");
        assert_eq!(b.cmd(&["SET", "k", "b"]), "+OK\r\n");
        a.send_raw(b"$1\r\nc\r\n");
        assert_eq!(a.read_reply(), "+OK\r\n");
        assert_eq!(b.cmd(&["GET", "k"]), "$1\r\nc\r\n");
    }

    #[test]
    fn released_while_replies_wait_for_a_client_that_does_not_read() {
        let s = Server::start();
        let mut a = s.client();
        let mut b = s.client();
        b.set_timeout(Duration::from_secs(2));
        let big = "x".repeat(256 * 1024);
        assert_eq!(a.cmd(&["SET", "big", &big]), "+OK\r\n");
        // 64 MB of replies: far more than the socket buffers hold, so the server blocks writing them.
        let mut batch = Vec::new();
        for _ in 0..256 {
            batch.extend(Client::encode(&[b"GET", b"big"]));
        }
        a.send_raw(&batch);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(b.cmd(&["SET", "big", "small"]), "+OK\r\n");
        assert_eq!(b.cmd(&["APPEND", "big", "!"]), ":6\r\n");
        let mut replies = 0;
        while replies < 256 {
            let r = a.read_reply_bytes();
            assert!(r.starts_with(b"$"), "a bulk string");
            replies += 1;
        }
        assert_eq!(a.cmd(&["GET", "big"]), "$6\r\nsmall!\r\n");
    }

    #[test]
    fn released_before_a_blocking_pop_in_the_same_batch_sleeps() {
        let s = Server::start();
        let mut a = s.client();
        let mut b = s.client();
        b.set_timeout(Duration::from_secs(2));
        let mut batch = Client::encode(&[b"SET", b"k", b"1"]);
        batch.extend(Client::encode(&[b"BLPOP", b"q", b"0"]));
        a.send_raw(&batch);
        assert_eq!(a.read_reply(), "+OK\r\n");
        s.wait_blocked(|n| n == 1);
        assert_eq!(b.cmd(&["INCR", "k"]), ":2\r\n");
        assert_eq!(b.cmd(&["LPUSH", "q", "v"]), ":1\r\n");
        assert_eq!(a.read_reply(), "*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
    }
}
