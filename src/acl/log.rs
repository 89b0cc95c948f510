//! ACL LOG: the recent refusals and failed AUTHs, newest first, similar ones grouped (Redis's `addACLLogEntry`).

use std::collections::VecDeque;

use parking_lot::Mutex;

use crate::protocol::Reply;
use crate::util::time::now_ms;

/// Entries this close in time (and otherwise equal) are one entry with a count.
const GROUPING_MS: i64 = 60_000;
/// How many recent entries are searched for one to group with.
const GROUPING_SCAN: usize = 10;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reason {
    Command,
    Key,
    Channel,
    Auth,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Context {
    Toplevel,
    Multi,
    Lua,
}

struct Entry {
    count: u64,
    reason: Reason,
    context: Context,
    object: Vec<u8>,
    username: Vec<u8>,
    ctime: i64,
    cinfo: String,
}

#[derive(Default)]
pub struct Log {
    entries: Mutex<VecDeque<Entry>>,
}

impl Log {
    pub fn add(
        &self,
        reason: Reason,
        context: Context,
        object: &[u8],
        username: &[u8],
        cinfo: String,
        max_len: usize,
    ) {
        let now = now_ms();
        let mut entries = self.entries.lock();
        let similar = entries.iter().take(GROUPING_SCAN).position(|e| {
            e.reason == reason
                && e.context == context
                && (e.ctime - now).abs() <= GROUPING_MS
                && e.object == object
                && e.username == username
        });
        if let Some(at) = similar {
            if let Some(mut e) = entries.remove(at) {
                e.count += 1;
                e.ctime = now;
                e.cinfo = cinfo;
                entries.push_front(e);
            }
            return;
        }
        entries.push_front(Entry {
            count: 1,
            reason,
            context,
            object: object.to_vec(),
            username: username.to_vec(),
            ctime: now,
            cinfo,
        });
        entries.truncate(max_len);
    }

    pub fn reset(&self) {
        self.entries.lock().clear();
    }

    /// ACL LOG [count]: the newest `count` entries with Redis's seven fields.
    pub fn reply(&self, count: usize) -> Reply {
        let now = now_ms();
        let entries = self.entries.lock();
        let field = |k: &'static str, v: Reply| (Reply::bulk(k), v);
        Reply::Array(
            entries
                .iter()
                .take(count)
                .map(|e| {
                    Reply::Map(vec![
                        field("count", Reply::Int(e.count as i64)),
                        field("reason", Reply::bulk(reason_name(e.reason))),
                        field("context", Reply::bulk(context_name(e.context))),
                        field("object", Reply::bulk(&e.object)),
                        field("username", Reply::bulk(&e.username)),
                        field(
                            "age-seconds",
                            Reply::Double((now - e.ctime) as f64 / 1000.0),
                        ),
                        field("client-info", Reply::bulk(&e.cinfo)),
                    ])
                })
                .collect(),
        )
    }
}

fn reason_name(r: Reason) -> &'static str {
    match r {
        Reason::Command => "command",
        Reason::Key => "key",
        Reason::Channel => "channel",
        Reason::Auth => "auth",
    }
}

fn context_name(c: Context) -> &'static str {
    match c {
        Context::Toplevel => "toplevel",
        Context::Multi => "multi",
        Context::Lua => "lua",
    }
}
