//! One ferredis and one redis-server kept for a whole property run (starting a pair per case would dominate
//! its time), each case's commands compared byte for byte.
#![allow(dead_code)]

use std::cell::RefCell;

use crate::common::{Client, Server};

pub struct Pair {
    ours: Client,
    redis: Client,
    _servers: (Server, Server),
}

impl Pair {
    /// Sends `cmd` to both servers and asserts the same reply; returns it.
    pub fn same(&mut self, cmd: &[&str]) -> String {
        let ours = self.ours.cmd(cmd);
        assert_eq!(
            ours,
            self.redis.cmd(cmd),
            "reply to {cmd:?} differs from redis-server"
        );
        ours
    }

    /// `same` for owned arguments.
    pub fn same_owned(&mut self, cmd: &[String]) -> String {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        self.same(&args)
    }
}

thread_local! {
    static PAIR: RefCell<Option<Pair>> = const { RefCell::new(None) };
}

/// Runs `case` on this thread's pair, emptied first; does nothing without redis-server (outside CI).
pub fn with_pair(case: impl FnOnce(&mut Pair)) {
    PAIR.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            let Some(redis) = Server::start_redis() else {
                return;
            };
            let ours = Server::start();
            *cell = Some(Pair {
                ours: ours.client(),
                redis: redis.client(),
                _servers: (ours, redis),
            });
        }
        if let Some(pair) = cell.as_mut() {
            pair.same(&["FLUSHALL"]);
            case(pair);
        }
    });
}
