//! Scripted sessions run side by side on ferredis and redis-server, shared by the transaction and WATCH tests.
#![allow(dead_code)]

use std::thread;
use std::time::Duration;

use crate::common::{Client, Server};

/// One step of a scripted session: a command sent by client `.0` (or [`READ`], [`SEND`]), or ([`PAUSE`]) a pause
/// in ms.
pub type Step<'a> = (usize, &'a [&'a str]);
pub const PAUSE: usize = usize::MAX;
/// As a command: read one more reply (a pushed message, a blocked command's answer) without sending anything.
pub const READ: &[&str] = &["(read)"];
/// As a command's first word: send the rest without waiting for the reply (a command that blocks).
pub const SEND: &str = "(send)";

/// Like `assert_same_as_redis`, with several clients per server and pauses (for expiry), so that WATCH can be
/// invalidated by another connection.
pub fn assert_session_same_as_redis(clients: usize, steps: &[Step]) {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let mut a: Vec<Client> = (0..clients).map(|_| ours.client()).collect();
    let mut b: Vec<Client> = (0..clients).map(|_| redis.client()).collect();
    for &(who, cmd) in steps {
        if who == PAUSE {
            thread::sleep(Duration::from_millis(cmd[0].parse().unwrap()));
            continue;
        }
        if cmd.first() == Some(&SEND) {
            a[who].send(&cmd[1..]);
            b[who].send(&cmd[1..]);
            continue;
        }
        let (got, want) = if cmd == READ {
            (a[who].read_reply(), b[who].read_reply())
        } else {
            (a[who].cmd(cmd), b[who].cmd(cmd))
        };
        assert_eq!(
            got, want,
            "reply to {cmd:?} from client {who} differs from redis-server"
        );
    }
}

/// The elements of an array reply of bulk strings (`nil` for a null bulk).
pub fn bulk_strings(reply: &str) -> Vec<&str> {
    let mut lines = reply.split("\r\n").skip(1);
    let mut out = Vec::new();
    while let Some(header) = lines.next() {
        match header {
            "" => break,
            "$-1" => out.push("nil"),
            _ => out.push(lines.next().unwrap_or_default()),
        }
    }
    out
}
