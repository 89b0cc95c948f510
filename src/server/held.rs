//! `appendfsync always` without a sleep per reply.
//!
//! A reply to a write may leave only once the write's effects are fsynced. Waiting for that on the connection
//! thread costs two sleeps per request (one for the fsync, one in `read` for the next request), and with a thread
//! per connection those context switches, not the disk, bounded the rate. So a batch whose effects are not on disk
//! yet is queued on its connection, held ([`Writing::held_until`]), and the thread goes back to reading; the AOF
//! writer releases every held connection whose effects its fsync covered ([`release`]), writing what their
//! sockets take (the drainer writes the rest, `super::drain`). Everything the connection sends meanwhile, its own
//! next replies and other threads' messages, queues behind the held replies, so the order on the wire is kept.
//!
//! [`Writing::held_until`]: super::unsent::Writing::held_until

use std::io;

use parking_lot::Mutex;

use super::stream::Stream;
use super::unsent::{send_deferred, Unsent};
use crate::persist::aof;

/// Connections with replies held, for the writer to release.
static HELD: Mutex<Vec<Stream>> = Mutex::new(Vec::new());

/// With `appendfsync always`, when this thread's effects are not fsynced yet: queues `out` on the connection,
/// held until they are, and returns true (the caller goes on reading). False when nothing needs holding, or when
/// the connection is behind with replies of its own (the caller then waits for the fsync and writes as before).
pub fn hold(stream: &Stream, unsent: &Unsent, out: &mut Vec<u8>) -> io::Result<bool> {
    if out.is_empty() || !unsent.is_empty() {
        return Ok(false);
    }
    let Some(until) = aof::unsynced(crate::effects::feed::last_appended()) else {
        return Ok(false);
    };
    {
        let mut writing = stream.write_lock();
        if writing.behind {
            return Ok(false);
        }
        let mut sealed = Vec::new();
        let wire = stream.wire(out, &mut sealed)?;
        writing.deferred.extend_from_slice(wire);
        let first = writing.held_until == 0;
        writing.held_until = writing.held_until.max(until);
        if first {
            HELD.lock().push(stream.clone());
        }
    }
    out.clear();
    // The writer may have fsynced past `until` before the connection was listed: then release it here.
    if aof::unsynced(until).is_none() {
        release_if(stream, u64::MAX);
    }
    Ok(true)
}

/// The AOF writer fsynced the feed up to `synced` (`u64::MAX`: `always` is off): held replies it covers go out.
pub fn release(synced: u64) {
    let held = std::mem::take(&mut *HELD.lock());
    if held.is_empty() {
        return;
    }
    let still: Vec<Stream> = held
        .into_iter()
        .filter(|stream| !release_if(stream, synced))
        .collect();
    if !still.is_empty() {
        HELD.lock().extend(still);
    }
}

/// Releases `stream`'s held replies if `synced` covers them: whether it no longer holds any.
fn release_if(stream: &Stream, synced: u64) -> bool {
    let mut writing = stream.write_lock();
    if writing.held_until == 0 {
        return true;
    }
    if writing.held_until > synced {
        return false;
    }
    writing.held_until = 0;
    if !writing.behind && !writing.deferred.is_empty() && send_deferred(stream.tcp(), &mut writing)
    {
        super::drain::watch(stream);
    }
    true
}

/// Before the owner writes with blocking writes (it is about to sleep, hand its socket over or close): waits
/// for the fsync its held replies need and takes them back from the writer.
pub fn settle(stream: &Stream) {
    let until = stream.write_lock().held_until;
    if until == 0 {
        return;
    }
    aof::wait_synced(until);
    stream.write_lock().held_until = 0;
}
