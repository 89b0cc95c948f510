//! The server-wide feed of effects: the byte stream a replica or the AOF would receive.
//!
//! One mutex guards the bytes. Appends happen only while somebody subscribed (otherwise writers skip the whole
//! path after one atomic load), each under the shard locks of the unit that produced it, so two writes to one key
//! appear in the order they happened. Encoding happens before the mutex is taken; under it, only the `SELECT`
//! decision and a copy. Readers keep their own position; bytes every reader has read are dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::encode_command;

thread_local! {
    /// The feed offset after the last unit this thread appended: what `appendfsync always` waits for before
    /// this thread's replies go out.
    static LAST_APPENDED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The feed offset after the last effect the calling thread appended (0 if none).
pub fn last_appended() -> u64 {
    LAST_APPENDED.with(|l| l.get())
}

/// The feed: see the module doc.
#[derive(Default)]
pub struct Feed {
    /// Subscriptions alive; writers record effects only while this is not zero.
    readers: AtomicUsize,
    inner: Mutex<Inner>,
    appended: Condvar,
    /// Set while this server is a replica: the feed carries its master's stream ([`Feed::append_raw`]) and
    /// nothing of its own (what the master's commands did is already in that stream).
    proxy: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Inner {
    /// Bytes ever appended: the replication offset.
    offset: u64,
    /// The offset of `backlog[0]`.
    start: u64,
    backlog: Vec<u8>,
    /// The database of the last effect appended; `None` forces a `SELECT` before the next one (as Redis's
    /// `slaveseldb = -1` after a new replica attaches).
    db: Option<usize>,
    /// (subscription id, offset it has read up to).
    positions: Vec<(u64, u64)>,
    next_id: u64,
    /// Bytes kept after every reader has read them: the replication backlog (`repl-backlog-size`); 0 for none.
    retain: u64,
}

impl Inner {
    fn push(&mut self, bytes: &[u8]) {
        self.backlog.extend_from_slice(bytes);
        self.offset += bytes.len() as u64;
    }

    fn select(&mut self, db: usize) {
        if self.db != Some(db) {
            let mut num = itoa::Buffer::new();
            let mut out = Vec::with_capacity(24);
            encode_command(&mut out, [b"SELECT", num.format(db).as_bytes()].into_iter());
            self.push(&out);
            self.db = Some(db);
        }
    }

    /// The first byte a resuming reader may start at: the backlog is the last `retain` bytes, or more while a
    /// slow reader still holds older ones (Redis 7.0's backlog grows over the shared replication buffer a slow
    /// replica references); `trim` drops in batches, so bytes before this may still be held.
    fn first_kept(&self) -> u64 {
        if self.retain == 0 {
            return self.start;
        }
        let readers_low = self
            .positions
            .iter()
            .map(|&(_, p)| p)
            .min()
            .unwrap_or(self.offset);
        self.start
            .max(readers_low.min(self.offset.saturating_sub(self.retain)))
    }

    /// Drops the bytes every subscription has read.
    fn trim(&mut self) {
        let low = self
            .positions
            .iter()
            .map(|&(_, p)| p)
            .min()
            .unwrap_or(self.offset)
            .min(self.offset.saturating_sub(self.retain))
            .max(self.start);
        let drop = (low - self.start) as usize;
        // With a backlog, drop in batches of at least its size, so the kept bytes move once per backlog's worth
        // of writes rather than on every append.
        if drop > 0 && (self.retain == 0 || drop as u64 >= self.retain.max(1 << 16)) {
            self.backlog.drain(..drop);
            self.start = low;
            // The memory a slow reader made the buffer grow to goes back once it is gone.
            let len = self.backlog.len();
            if self.backlog.capacity() > 4 * len.max(1 << 16) {
                self.backlog.shrink_to(2 * len);
            }
        }
    }
}

impl Feed {
    pub fn new() -> Arc<Self> {
        Arc::new(Feed::default())
    }

    /// Whether anybody listens: the one check a write pays while nobody does.
    #[inline]
    pub fn active(&self) -> bool {
        self.readers.load(Ordering::Relaxed) != 0
    }

    /// The replication offset: bytes appended so far.
    pub fn offset(&self) -> u64 {
        self.inner.lock().offset
    }

    /// Appends one execution unit: `buf` holds its effects as RESP arrays, `ops` where each starts and in which
    /// database it runs. `multi` wraps them in `MULTI` / `EXEC`, as Redis's `propagatePendingCommands` does for a
    /// unit of several effects; the `SELECT` for the first effect comes before `MULTI`.
    pub(crate) fn append(&self, buf: &[u8], ops: &[(usize, usize)], multi: bool) {
        let Some(&(first_db, _)) = ops.first() else {
            return;
        };
        if self.proxy.load(Ordering::Relaxed) {
            return;
        }
        let mut inner = self.inner.lock();
        if multi {
            inner.select(first_db);
            inner.push(b"*1\r\n$5\r\nMULTI\r\n");
        }
        for (i, &(db, start)) in ops.iter().enumerate() {
            let end = ops.get(i + 1).map_or(buf.len(), |&(_, next)| next);
            inner.select(db);
            inner.push(&buf[start..end]);
        }
        if multi {
            inner.push(b"*1\r\n$4\r\nEXEC\r\n");
        }
        inner.trim();
        let end = inner.offset;
        drop(inner);
        LAST_APPENDED.with(|l| l.set(end));
        self.appended.notify_all();
    }

    /// For a client woken with a reply another thread served (a blocking pop): its effect is in the feed by now
    /// (appended before the waiter was answered), so this thread's replies wait for everything appended so far.
    pub fn cover_served(&self) {
        let now = self.inner.lock().offset;
        LAST_APPENDED.with(|l| l.set(l.get().max(now)));
    }

    /// The offset now, and the next effect preceded by a `SELECT`: a reader that starts a new file at this
    /// offset (the AOF's increment file at a rewrite) gets a file that stands on its own.
    pub fn mark(&self) -> u64 {
        let mut inner = self.inner.lock();
        inner.db = None;
        inner.offset
    }

    /// Appends bytes already encoded (a master's stream that a replica forwards, the master's keepalive `PING`),
    /// without a `SELECT` of its own.
    pub fn append_raw(&self, bytes: &[u8]) {
        let mut inner = self.inner.lock();
        inner.push(bytes);
        inner.trim();
        drop(inner);
        self.appended.notify_all();
    }

    /// Makes every waiting reader return and check its `read_unless` condition again.
    pub fn wake_readers(&self) {
        let _inner = self.inner.lock();
        self.appended.notify_all();
    }

    /// Replica mode on or off (see the `proxy` field).
    pub fn set_proxy(&self, on: bool) {
        self.proxy.store(on, Ordering::Relaxed);
        self.forget_db();
    }

    /// The next effect appended is preceded by a `SELECT` (after a forwarded stream left the database unknown).
    pub fn forget_db(&self) {
        self.inner.lock().db = None;
    }

    /// Keeps the last `size` bytes even once every reader has read them: the replication backlog, from which a
    /// reconnecting replica resumes. The first call also makes the feed record while nobody subscribes.
    pub fn keep_backlog(&self, size: u64) {
        let mut inner = self.inner.lock();
        if inner.retain == 0 {
            self.readers.fetch_add(1, Ordering::Relaxed);
        }
        inner.retain = size.max(1);
    }

    /// A new `repl-backlog-size` for a backlog kept already (CONFIG SET); nothing when none is kept.
    pub fn resize_backlog(&self, size: u64) {
        let mut inner = self.inner.lock();
        if inner.retain != 0 && inner.retain != size.max(1) {
            inner.retain = size.max(1);
            inner.trim();
        }
    }

    /// Stops keeping a backlog (`repl-backlog-ttl`, or a start-up load that found no history to resume).
    pub fn drop_backlog(&self) {
        let mut inner = self.inner.lock();
        if inner.retain != 0 {
            inner.retain = 0;
            self.readers.fetch_sub(1, Ordering::Relaxed);
            inner.trim();
        }
    }

    /// (bytes held, of which the backlog's share): the replication buffer shared by the backlog and every
    /// reader that has not read them yet (Redis 7.0's shared replication buffer).
    pub fn held(&self) -> (u64, u64) {
        let inner = self.inner.lock();
        // The allocation is what the memory figures count.
        let held = inner.backlog.capacity() as u64;
        (held, held.min(inner.retain))
    }

    /// The database of the last effect appended (`None` when the next one starts with a `SELECT`).
    pub fn selected_db(&self) -> Option<usize> {
        self.inner.lock().db
    }

    /// (offset of the first byte kept, offset after the last byte): what [`Feed::subscribe_from`] can serve.
    pub fn kept(&self) -> (u64, u64) {
        let inner = self.inner.lock();
        (inner.first_kept(), inner.offset)
    }

    /// Starts reading the feed at offset `at`, if those bytes are still kept; the stream goes on as it was (no
    /// `SELECT` is forced), as a replica resuming with `+CONTINUE` expects.
    pub fn subscribe_from(self: &Arc<Self>, at: u64) -> Option<Subscription> {
        let mut inner = self.inner.lock();
        if at < inner.first_kept() || at > inner.offset {
            return None;
        }
        let id = inner.next_id;
        inner.next_id += 1;
        inner.positions.push((id, at));
        self.readers.fetch_add(1, Ordering::Relaxed);
        Some(Subscription {
            feed: self.clone(),
            id,
            at,
        })
    }

    /// Starts reading the feed from now on. The next effect is preceded by a `SELECT`.
    pub fn subscribe(self: &Arc<Self>) -> Subscription {
        let mut inner = self.inner.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        let at = inner.offset;
        inner.positions.push((id, at));
        inner.db = None;
        self.readers.fetch_add(1, Ordering::Relaxed);
        Subscription {
            feed: self.clone(),
            id,
            at,
        }
    }
}

/// One reader of the feed (the AOF writer, a replica, a test). Dropping it unsubscribes.
pub struct Subscription {
    feed: Arc<Feed>,
    id: u64,
    at: u64,
}

impl Subscription {
    /// The offset this reader has read up to.
    pub fn offset(&self) -> u64 {
        self.at
    }

    /// Everything appended since the last read, waiting up to `timeout` for something to arrive.
    pub fn read(&mut self, timeout: Duration) -> Vec<u8> {
        self.read_unless(timeout, || false)
    }

    /// As `read`, but a reader for which `stop` holds does not wait: checked under the feed's lock, so a thread
    /// that makes it hold and then calls [`Feed::wake_readers`] is never missed.
    pub fn read_unless(&mut self, timeout: Duration, stop: impl Fn() -> bool) -> Vec<u8> {
        let mut inner = self.feed.inner.lock();
        if inner.offset == self.at && !stop() {
            self.feed.appended.wait_for(&mut inner, timeout);
        }
        let from = (self.at - inner.start) as usize;
        let out = inner.backlog[from..].to_vec();
        self.at = inner.offset;
        let id = self.id;
        if let Some(p) = inner.positions.iter_mut().find(|(i, _)| *i == id) {
            p.1 = self.at;
        }
        inner.trim();
        out
    }

    /// Everything appended since the last read, without waiting.
    pub fn take(&mut self) -> Vec<u8> {
        self.read(Duration::ZERO)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut inner = self.feed.inner.lock();
        let id = self.id;
        inner.positions.retain(|(i, _)| *i != id);
        inner.trim();
        self.feed.readers.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(feed: &Feed, db: usize, cmds: &[&[&str]]) {
        let mut buf = Vec::new();
        let mut ops = Vec::new();
        for c in cmds {
            ops.push((db, buf.len()));
            encode_command(&mut buf, c.iter());
        }
        feed.append(&buf, &ops, ops.len() > 1);
    }

    fn text(bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap().replace("\r\n", " ")
    }

    #[test]
    fn readers_keep_their_own_place_and_read_bytes_are_dropped() {
        let feed = Feed::new();
        assert!(!feed.active());
        let mut a = feed.subscribe();
        assert!(feed.active());
        unit(&feed, 0, &[&["INCR", "k"]]);
        let mut b = feed.subscribe();
        unit(&feed, 0, &[&["DEL", "k"], &["SET", "k", "v"]]);
        assert_eq!(
            text(a.take()),
            "*2 $6 SELECT $1 0 *2 $4 INCR $1 k *2 $6 SELECT $1 0 *1 $5 MULTI *2 $3 DEL $1 k \
             *3 $3 SET $1 k $1 v *1 $4 EXEC "
        );
        // A new reader forces a SELECT before the next effect; both readers see it.
        assert_eq!(
            text(b.take()),
            "*2 $6 SELECT $1 0 *1 $5 MULTI *2 $3 DEL $1 k *3 $3 SET $1 k $1 v *1 $4 EXEC "
        );
        assert_eq!(a.offset(), feed.offset());
        assert_eq!(b.offset(), feed.offset());
        assert!(feed.inner.lock().backlog.is_empty(), "every byte was read");
        drop(a);
        unit(&feed, 2, &[&["SET", "x", "1"]]);
        assert_eq!(text(b.take()), "*2 $6 SELECT $1 2 *3 $3 SET $1 x $1 1 ");
        drop(b);
        assert!(!feed.active());
        assert!(feed.inner.lock().backlog.is_empty());
    }

    #[test]
    fn a_reader_waits_for_the_next_effect() {
        let feed = Feed::new();
        let mut sub = feed.subscribe();
        let writer = {
            let feed = feed.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(50));
                unit(&feed, 0, &[&["SET", "k", "v"]]);
            })
        };
        let got = sub.read(Duration::from_secs(10));
        writer.join().unwrap();
        assert!(text(got).ends_with("*3 $3 SET $1 k $1 v "));
        assert!(sub.read(Duration::from_millis(10)).is_empty());
    }
}
