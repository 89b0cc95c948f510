//! The slow log (SLOWLOG): the last `slowlog-max-len` commands that took at least `slowlog-log-slower-than`
//! microseconds, newest first, with their arguments trimmed as Redis trims them.

use std::collections::VecDeque;
use std::sync::atomic::Ordering::Relaxed;

use parking_lot::Mutex;

use super::{SLOWER_THAN_US, SLOWLOG_MAX_LEN};
use crate::commands::Args;
use crate::protocol::Reply;
use crate::server::clients::ClientInfo;

/// Redis's `SLOWLOG_ENTRY_MAX_ARGC` and `SLOWLOG_ENTRY_MAX_STRING`.
const MAX_ARGC: usize = 32;
const MAX_STRING: usize = 128;

struct Entry {
    id: u64,
    time: i64,
    duration: u64,
    args: Vec<Vec<u8>>,
    peer: String,
    name: Vec<u8>,
}

#[derive(Default)]
struct SlowLog {
    /// Newest first.
    entries: VecDeque<Entry>,
    next_id: u64,
}

static LOG: Mutex<SlowLog> = Mutex::new(SlowLog {
    entries: VecDeque::new(),
    next_id: 0,
});

/// Logs the command if it took `usec` or more than the threshold (a negative threshold disables the log).
/// Arguments whose bit is set in `redacted` are logged as `(redacted)`.
pub fn push_if_needed(info: &ClientInfo, args: Args, usec: u64, redacted: u64) {
    let threshold = SLOWER_THAN_US.load(Relaxed);
    if threshold < 0 || usec < threshold as u64 {
        return;
    }
    let entry = Entry {
        id: 0,
        time: crate::util::time::now_ms() / 1000,
        duration: usec,
        args: trimmed(args, redacted),
        peer: info.addr.to_string(),
        name: info.name.lock().clone(),
    };
    let mut log = LOG.lock();
    let id = log.next_id;
    log.next_id += 1;
    log.entries.push_front(Entry { id, ..entry });
    let max = SLOWLOG_MAX_LEN.load(Relaxed) as usize;
    log.entries.truncate(max);
}

/// At most 32 arguments (the last saying how many more there were), each at most 128 bytes (plus how many more).
fn trimmed(args: Args, redacted: u64) -> Vec<Vec<u8>> {
    let argc = args.len();
    let kept = argc.min(MAX_ARGC);
    (0..kept)
        .map(|j| {
            if kept != argc && j == kept - 1 {
                return format!("... ({} more arguments)", argc - kept + 1).into_bytes();
            }
            if j < 64 && redacted & (1 << j) != 0 {
                return b"(redacted)".to_vec();
            }
            let arg = args.get(j);
            if arg.len() > MAX_STRING {
                let mut out = arg[..MAX_STRING].to_vec();
                out.extend_from_slice(
                    format!("... ({} more bytes)", arg.len() - MAX_STRING).as_bytes(),
                );
                return out;
            }
            arg.to_vec()
        })
        .collect()
}

/// Applies a lowered `slowlog-max-len` at once.
pub fn trim() {
    let max = SLOWLOG_MAX_LEN.load(Relaxed) as usize;
    LOG.lock().entries.truncate(max);
}

pub fn len() -> usize {
    LOG.lock().entries.len()
}

pub fn reset() {
    LOG.lock().entries.clear();
}

/// SLOWLOG GET's reply: the newest `count` entries.
pub fn get(count: usize) -> Reply {
    let log = LOG.lock();
    Reply::Array(
        log.entries
            .iter()
            .take(count)
            .map(|e| {
                Reply::Array(vec![
                    Reply::Int(e.id as i64),
                    Reply::Int(e.time),
                    Reply::Int(e.duration as i64),
                    Reply::Array(e.args.iter().map(Reply::bulk).collect()),
                    Reply::bulk(&e.peer),
                    Reply::bulk(&e.name),
                ])
            })
            .collect(),
    )
}
