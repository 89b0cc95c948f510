//! Helpers shared by the stream test files: scripts compared with redis-server, a small reply decoder, the
//! pending-list view, and sending commands that block.
#![allow(dead_code)]

use std::time::Duration;

use crate::common::{assert_same_as_redis, Client, Server};

/// Runs a script (one command a line, arguments split on spaces, `#` lines ignored) on both servers.
pub fn same(script: &str) {
    let lines: Vec<Vec<&str>> = script
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let cmds: Vec<&[&str]> = lines.iter().map(Vec::as_slice).collect();
    assert_same_as_redis(&cmds);
}

/// Like `same`, after running `setup` on both servers without comparing its replies (HELLO 3 carries the
/// client id and server version).
pub fn same_after(setup: &str, script: &str) {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    let lines = |text: &str| -> Vec<Vec<String>> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| l.split_whitespace().map(String::from).collect())
            .collect()
    };
    for cmd in lines(setup) {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        a.cmd(&args);
        b.cmd(&args);
    }
    for cmd in lines(script) {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        assert_eq!(
            a.cmd(&args),
            b.cmd(&args),
            "reply to {args:?} differs from redis-server"
        );
    }
}

pub fn run(c: &mut Client, script: &str) {
    for l in script.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let args: Vec<&str> = l.split_whitespace().collect();
        let reply = c.cmd(&args);
        assert!(!reply.starts_with('-'), "{l}: {reply}");
    }
}

/// A decoded reply, enough to pick fields out of XPENDING and XINFO answers.
#[derive(Debug, PartialEq)]
pub enum R {
    Int(i64),
    Str(String),
    Nil,
    Arr(Vec<R>),
}

pub fn parse(text: &str) -> R {
    fn one(lines: &mut std::str::Split<'_, &str>) -> R {
        let line = lines.next().expect("truncated reply");
        let (kind, body) = line.split_at(1);
        match kind {
            ":" => R::Int(body.parse().unwrap()),
            "+" => R::Str(body.to_string()),
            "$" if body == "-1" => R::Nil,
            "$" => R::Str(lines.next().unwrap().to_string()),
            "*" if body == "-1" => R::Nil,
            "*" => R::Arr(
                (0..body.parse::<usize>().unwrap())
                    .map(|_| one(lines))
                    .collect(),
            ),
            "%" => R::Arr(
                (0..2 * body.parse::<usize>().unwrap())
                    .map(|_| one(lines))
                    .collect(),
            ),
            "_" => R::Nil,
            _ => panic!("unexpected reply line {line:?}"),
        }
    }
    one(&mut text.split("\r\n"))
}

/// XPENDING's extended form as (id, consumer, delivery count), the idle times left out.
pub fn pending(c: &mut Client, key: &str, group: &str) -> Vec<(String, String, i64)> {
    let R::Arr(items) = parse(&c.cmd(&["XPENDING", key, group, "-", "+", "100"])) else {
        panic!("XPENDING did not answer an array");
    };
    items
        .into_iter()
        .map(|item| match item {
            R::Arr(f) => match &f[..] {
                [R::Str(id), R::Str(owner), R::Int(_), R::Int(n)] => {
                    (id.clone(), owner.clone(), *n)
                }
                other => panic!("bad XPENDING item {other:?}"),
            },
            other => panic!("bad XPENDING item {other:?}"),
        })
        .collect()
}

pub fn p(id: &str, owner: &str, n: i64) -> (String, String, i64) {
    (id.to_string(), owner.to_string(), n)
}

/// Sends a command without waiting for its reply (the client blocks).
pub fn send(c: &mut Client, cmd: &str) {
    let args: Vec<&str> = cmd.split(' ').collect();
    c.send(&args);
}

/// Lets blocked clients reach their wait before the command that wakes them.
/// Waits until at least `n` clients are blocked on the server `w` talks to (INFO's `blocked_clients`, which
/// both servers report), so the order in which readers queued is the order the test sent them in.
pub fn settle(w: &mut Client, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let info = w.cmd(&["INFO", "clients"]);
        let blocked = info
            .lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        if blocked >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never {n} blocked clients"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}
