//! Helpers shared by the bitmap and HyperLogLog test files: the keyspace events a sequence of writes raises, and
//! which writes a WATCH sees.
#![allow(dead_code)]

use crate::common::{Client, Server};

/// Turns keyspace events on, runs `cmds` on `c`, and returns the `event key` pairs raised, in order.
pub fn events_of(server: &Server, c: &mut Client, cmds: &[&[&str]]) -> Vec<String> {
    let mut sub = server.client();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "KEA"]),
        "+OK\r\n"
    );
    sub.cmd(&["PSUBSCRIBE", "__keyevent@0__:*"]);
    for cmd in cmds {
        c.cmd(cmd);
    }
    c.cmd(&["SET", "__last__", "x"]);
    let mut events = Vec::new();
    loop {
        let msg = sub.read_reply();
        let lines: Vec<&str> = msg.lines().collect();
        if lines[8] == "__last__" {
            return events;
        }
        let event = lines[6].trim_start_matches("__keyevent@0__:");
        events.push(format!("{event} {}", lines[8]));
    }
}

/// For each (command, aborts): WATCH `key` on a second client, run the command on `c`, and check that EXEC
/// aborts exactly when the command should have changed the key.
pub fn assert_watch_effects(server: &Server, c: &mut Client, key: &str, cases: &[(&[&str], bool)]) {
    let mut w = server.client();
    for (cmd, aborted) in cases {
        assert_eq!(w.cmd(&["WATCH", key]), "+OK\r\n");
        c.cmd(cmd);
        w.cmd(&["MULTI"]);
        w.cmd(&["PING"]);
        let want = if *aborted {
            "*-1\r\n"
        } else {
            "*1\r\n+PONG\r\n"
        };
        assert_eq!(w.cmd(&["EXEC"]), want, "after {cmd:?}");
    }
}
