//! CLIENT LIST's buffer figures as Redis 7.0.15 shows them: the query buffer (`qbuf`, `qbuf-free`) grown for
//! reads and shrunk by the clients cron, the reply buffer (`rbs`, `rbp`) resized between 1 KB and 16 KB from
//! its peak, DEBUG REPLYBUFFER, and `tot-mem`.

mod common;

use common::{Client, Server};

const DEBUG: &[&str] = &["--enable-debug-command", "yes"];

/// The value of `field` in the CLIENT LIST line of the client named `name`.
fn field_of(c: &mut Client, name: &str, field: &str) -> i64 {
    let list = c.cmd(&["CLIENT", "LIST"]);
    let line = list
        .lines()
        .find(|l| l.contains(&format!(" name={name} ")))
        .unwrap_or_else(|| panic!("no client {name} in {list}"));
    line.split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{field}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {line}"))
}

/// The named fields of one CLIENT INFO line.
fn fields(info: &str, names: &[&str]) -> Vec<String> {
    names
        .iter()
        .map(|n| {
            info.split(' ')
                .find(|kv| kv.starts_with(&format!("{n}=")))
                .unwrap_or_else(|| panic!("no {n} in {info}"))
                .to_string()
        })
        .collect()
}

#[test]
fn first_command_sees_redis_query_buffer() {
    let names = ["qbuf", "qbuf-free", "argv-mem", "rbs", "multi-mem", "omem"];
    let ours = fields(&Server::start().client().cmd(&["CLIENT", "INFO"]), &names);
    assert_eq!(
        ours,
        [
            "qbuf=26",
            "qbuf-free=20448",
            "argv-mem=10",
            "rbs=16384",
            "multi-mem=0",
            "omem=0"
        ]
    );
    if let Some(redis) = Server::start_redis() {
        assert_eq!(
            ours,
            fields(&redis.client().cmd(&["CLIENT", "INFO"]), &names)
        );
    }
}

#[test]
fn idle_query_buffer_is_given_back() {
    let server = Server::start();
    let mut idle = server.client();
    assert_eq!(idle.cmd(&["CLIENT", "SETNAME", "idle"]), "+OK\r\n");
    let mut c = server.client();
    let free = field_of(&mut c, "idle", "qbuf-free");
    assert!((16384..32768).contains(&free), "{free}");
    common::wait_until("the idle client's query buffer to be freed", || {
        field_of(&mut c, "idle", "idle") >= 3 && field_of(&mut c, "idle", "qbuf-free") == 0
    });
    assert_eq!(field_of(&mut c, "idle", "qbuf"), 0);
    // Used again: the 16 KB read buffer comes back.
    assert_eq!(idle.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(field_of(&mut c, "idle", "qbuf-free"), 20474);
}

#[test]
fn big_argument_buffer_shrinks_while_busy() {
    let server = Server::start();
    let mut busy = server.client();
    assert_eq!(busy.cmd(&["CLIENT", "SETNAME", "busy"]), "+OK\r\n");
    assert_eq!(busy.cmd(&["SET", "x", &"A".repeat(400_000)]), "+OK\r\n");
    let mut c = server.client();
    let small = "A".repeat(100);
    common::wait_until("the big query buffer to shrink", || {
        assert_eq!(busy.cmd(&["SET", "x", &small]), "+OK\r\n");
        let size = field_of(&mut c, "busy", "qbuf") + field_of(&mut c, "busy", "qbuf-free");
        size > 0 && size < 32768
    });
}

#[test]
fn reply_buffer_follows_debug_replybuffer() {
    let server = Server::start_with(DEBUG);
    let mut c = server.client();
    assert_eq!(
        c.cmd(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100"]),
        "+OK\r\n"
    );
    let mut tc = server.client();
    assert_eq!(tc.cmd(&["CLIENT", "SETNAME", "tc"]), "+OK\r\n");
    common::wait_until("an idle client's reply buffer to shrink", || {
        field_of(&mut c, "tc", "rbs") == 1024
    });
    assert_eq!(c.cmd(&["SET", "bigval", &"x".repeat(32768)]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never"]),
        "+OK\r\n"
    );
    common::wait_until("a busy client's reply buffer to grow", || {
        assert_eq!(tc.cmd(&["STRLEN", "bigval"]), ":32768\r\n");
        let _ = tc.cmd(&["GET", "bigval"]);
        field_of(&mut c, "tc", "rbs") == 16384
    });
    assert_eq!(field_of(&mut c, "tc", "rbp"), 16384);
    assert_eq!(
        c.cmd(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "reset"]),
        "+OK\r\n"
    );
    // RESIZING 0 stops the cron's resizing: the size stays.
    assert_eq!(c.cmd(&["DEBUG", "REPLYBUFFER", "RESIZING", "0"]), "+OK\r\n");
    assert_eq!(field_of(&mut c, "tc", "rbs"), 16384);
}

#[test]
fn debug_replybuffer_errors_as_redis() {
    let commands: &[&[&str]] = &[
        &["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "abc"],
        &["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "12x"],
        &["DEBUG", "REPLYBUFFER", "BOGUS", "1"],
        &["DEBUG", "REPLYBUFFER", "RESIZING"],
        &["DEBUG", "REPLYBUFFER", "RESIZING", "1"],
        &["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "reset"],
    ];
    let run = |server: &Server| -> Vec<String> {
        let mut c = server.client();
        commands.iter().map(|cmd| c.cmd(cmd)).collect()
    };
    let ours = run(&Server::start_with(DEBUG));
    assert_eq!(ours[0], "-ERR value is not an integer or out of range\r\n");
    assert_eq!(ours[4], "+OK\r\n");
    if let Some(redis) = Server::start_redis_with(DEBUG) {
        assert_eq!(ours, run(&redis));
    }
}

/// Reads until the server closes the connection; what it sent.
fn read_to_close(raw: &mut std::net::TcpStream) -> Vec<u8> {
    use std::io::Read;
    raw.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut got = Vec::new();
    let _ = raw.read_to_end(&mut got);
    got
}

#[test]
fn huge_random_replies_stop_at_the_hard_limit() {
    use std::io::Write;
    let server = Server::start();
    let mut admin = server.client();
    let limit = [
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "normal 1000000 0 0",
    ];
    assert_eq!(admin.cmd(&limit), "+OK\r\n");
    assert_eq!(admin.cmd(&["HSET", "h", "a", "b"]), ":1\r\n");
    assert_eq!(admin.cmd(&["SADD", "s", "a"]), ":1\r\n");
    assert_eq!(admin.cmd(&["ZADD", "z", "1", "a"]), ":1\r\n");
    let huge: &[&[&str]] = &[
        &["HRANDFIELD", "h", "-999999999"],
        &["HRANDFIELD", "h", "-999999999", "WITHVALUES"],
        &["SRANDMEMBER", "s", "-999999999"],
        &["ZRANDMEMBER", "z", "-999999999", "WITHSCORES"],
    ];
    for cmd in huge {
        // 999,999,999 picks would take GBs: the client is closed without a byte, at once.
        let mut raw = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        raw.write_all(&Client::encode(&args)).unwrap();
        let started = std::time::Instant::now();
        assert_eq!(read_to_close(&mut raw), b"", "{cmd:?}");
        // Building the whole reply first would take minutes (the read above gives up after 20 s).
        assert!(
            started.elapsed().as_secs() < 15,
            "{cmd:?} took {:?}",
            started.elapsed()
        );
    }
    // Within the limit, and in a script (whose replies go to the script), the picks are all there.
    assert_eq!(
        admin.cmd(&[
            "EVAL",
            "return #redis.call('HRANDFIELD', 'h', -300000)",
            "0"
        ]),
        ":300000\r\n"
    );
    let small = admin.cmd(&["SRANDMEMBER", "s", "-3"]);
    assert_eq!(small, "*3\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n");
    assert_eq!(admin.cmd(&["PING"]), "+PONG\r\n");
}
