//! Replies that wait for the AOF without a sleep per reply.
//!
//! A reply to a write may leave only once the write's effects are fsynced (`appendfsync always`) or written to
//! the file (`everysec`, `no`). Waiting for that on the connection thread costs two sleeps per request (one for
//! the AOF, one in `read` for the next request), and with a thread per connection those context switches, not the
//! disk, bounded the rate. So a batch whose effects are not in the file yet is queued on its connection, held
//! ([`Writing::held_until`]), and the thread goes back to reading; the AOF writer releases every held connection
//! its write or fsync covered ([`release`]), writing what their sockets take (the drainer writes the rest,
//! `super::drain`). Everything the connection sends meanwhile, its own next replies and other threads' messages,
//! queues behind the held replies, so the order on the wire is kept.
//!
//! [`Writing::held_until`]: super::unsent::Writing::held_until

use std::io;

use parking_lot::Mutex;

use super::stream::Stream;
use super::unsent::{send_deferred, Unsent};
use crate::persist::aof;

/// Connections with replies held, for the writer to release.
static HELD: Mutex<Vec<Stream>> = Mutex::new(Vec::new());

/// When this thread's effects are not fsynced (`always`) or written (`everysec`, `no`) yet: queues `out` on the connection,
/// held until they are, and returns true (the caller goes on reading). False when nothing needs holding, or when
/// the connection is behind with replies of its own (the caller then waits for the AOF and writes as before).
pub fn hold(stream: &Stream, unsent: &Unsent, out: &mut Vec<u8>) -> io::Result<bool> {
    if out.is_empty() || !unsent.is_empty() {
        return Ok(false);
    }
    let Some(until) = aof::unreleased(crate::effects::feed::last_appended()) else {
        return Ok(false);
    };
    // `everysec`, `no`: a thread that finds the file free writes it itself, and its replies go out at once.
    if aof::write_first() && aof::try_write() && aof::unreleased(until).is_none() {
        return Ok(false);
    }
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
    // The writer may have got past `until` before the connection was listed: then release it here.
    if aof::unreleased(until).is_none() {
        release_if(stream, u64::MAX);
    } else if aof::write_first() {
        // The thread that was writing may have let go of the file before this connection was listed.
        aof::try_write();
    }
    Ok(true)
}

/// The AOF writer fsynced (`always`) or wrote the feed up to `synced` (`u64::MAX`: the AOF stopped): held replies it covers go out.
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

/// Whether any connection has replies held (the thread that wrote the file looks again for what they wait for).
pub fn any() -> bool {
    !HELD.lock().is_empty()
}

/// Before the owner writes with blocking writes (it is about to sleep, hand its socket over or close): waits
/// for the write or fsync its held replies need and takes them back from the writer.
pub fn settle(stream: &Stream) {
    let until = stream.write_lock().held_until;
    if until == 0 {
        return;
    }
    aof::wait_released(until);
    stream.write_lock().held_until = 0;
}
