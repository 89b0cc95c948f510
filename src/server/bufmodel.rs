//! Redis's view of a client's query and reply buffers, for CLIENT LIST's `qbuf`, `qbuf-free`, `rbs`, `rbp` and
//! `tot-mem`, and for client eviction.
//!
//! ferredis reads into its own buffer (`crate::protocol::RequestReader`, which already gives back what a big
//! request made it grow) and writes replies from a per-connection `Vec`; neither has Redis's sizes. Tools and
//! Redis's own tests read those figures (an idle client's query buffer drops to 0 after 2 s, a busy one's
//! reply buffer grows to 16 KB...), so each client carries this small model of what Redis 7.0.15 would hold:
//! the sds query buffer as `readQueryFromClient` grows it (16 KB reads, big arguments sized exactly) and
//! `clientsCronResizeQueryBuffer` shrinks it, and the reply buffer as `clientsCronResizeOutputBuffer` resizes
//! it between 1 KB and 16 KB from its recent peak. The connection thread feeds it per read and per batch; the
//! clients cron (`spawn_cron`, every 100 ms as Redis's `hz 10`) resizes. Sizes are rounded to jemalloc's size
//! classes as Redis's `zmalloc_usable` does.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use super::Server;
use crate::util::time::now_ms;

/// `PROTO_IOBUF_LEN`: what Redis makes room for before each read.
const IOBUF_LEN: usize = 16 * 1024;
/// `PROTO_RESIZE_THRESHOLD`: a query buffer under this is never trimmed to its peak.
const RESIZE_THRESHOLD: usize = 32 * 1024;
/// `PROTO_MBULK_BIG_ARG`: an argument this long gets a query buffer of exactly its size.
pub const BIG_ARG: usize = 32 * 1024;
/// `PROTO_REPLY_CHUNK_BYTES` and `PROTO_REPLY_MIN_BYTES`: the reply buffer's largest and smallest size.
const REPLY_CHUNK: usize = 16 * 1024;
const REPLY_MIN: usize = 1024;
/// `REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME` in ms.
const DEFAULT_PEAK_RESET_MS: i64 = 5000;

/// DEBUG REPLYBUFFER PEAK-RESET-TIME (ms; -1 never) and RESIZING.
static PEAK_RESET_MS: AtomicI64 = AtomicI64::new(DEFAULT_PEAK_RESET_MS);
static RESIZING: AtomicBool = AtomicBool::new(true);

/// DEBUG REPLYBUFFER PEAK-RESET-TIME: `None` restores the default (RESET), -1 never resets the peak.
pub fn set_peak_reset_time(ms: Option<i64>) {
    PEAK_RESET_MS.store(ms.unwrap_or(DEFAULT_PEAK_RESET_MS), Relaxed);
}

/// DEBUG REPLYBUFFER RESIZING 0|1.
pub fn set_resizing(on: bool) {
    RESIZING.store(on, Relaxed);
}

/// The size class jemalloc serves a request of `n` bytes from (4 classes per doubling above 128 bytes).
pub fn size_class(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return n.div_ceil(16) * 16;
    }
    let lg = usize::BITS - 1 - (n - 1).leading_zeros();
    let spacing = 1usize << (lg - 2);
    n.div_ceil(spacing) * spacing
}

/// An sds header's size for a string of `len` bytes (types 8, 16, 32, 64).
fn sds_header(len: usize) -> usize {
    match len {
        0..=255 => 3,
        256..=65_535 => 5,
        65_536..=0xffff_ffff => 9,
        _ => 17,
    }
}

/// The `alloc` of an sds made with room for `len` bytes (`s_malloc_usable`: the class's slack is usable).
fn sds_alloc_for(len: usize) -> usize {
    let hdr = sds_header(len);
    size_class(len + hdr + 1) - hdr - 1
}

/// Bytes the allocator holds for an sds of `alloc` (`sdsZmallocSize`).
fn sds_malloc_size(alloc: usize) -> usize {
    size_class(alloc + sds_header(alloc) + 1)
}

/// The query buffer Redis makes for a big argument once its header is read: the whole announced length (plus
/// CRLF) at once. ferredis's own buffer grows only with the bytes that arrive, but CLIENT LIST and client
/// eviction weigh what Redis would hold, so a client announcing a huge argument is evicted as in Redis.
fn big_arg_alloc(bulk: usize) -> usize {
    sds_alloc_for(bulk.saturating_add(2))
}

/// The query buffer as Redis's sds: `len` bytes buffered, `alloc` reserved.
#[derive(Debug)]
struct QueryBuf {
    len: usize,
    alloc: usize,
    /// `querybuf_peak`: the largest `len` since the last cron pass.
    peak: usize,
    /// The length of a big argument being received, if any (`bulklen` in Redis).
    bulk: Option<usize>,
}

/// The fixed reply buffer: `buf_usable_size` and `buf_peak`.
#[derive(Debug)]
struct ReplyBuf {
    usable: usize,
    peak: usize,
    last_reset_ms: i64,
}

/// Both buffers of one client.
#[derive(Debug)]
pub struct BufModel {
    query: QueryBuf,
    reply: ReplyBuf,
}

impl Default for BufModel {
    fn default() -> Self {
        BufModel {
            query: QueryBuf {
                len: 0,
                alloc: 0,
                peak: 0,
                bulk: None,
            },
            // Redis stamps the first reset in seconds and compares with milliseconds: the first pass resets.
            reply: ReplyBuf {
                usable: REPLY_CHUNK,
                peak: REPLY_CHUNK,
                last_reset_ms: 0,
            },
        }
    }
}

impl BufModel {
    /// `n` bytes were read with `before` already buffered; `big` is the length of the big argument (at least
    /// [`BIG_ARG`]) whose payload was being read, if any.
    pub fn read(&mut self, before: usize, n: usize, big: Option<usize>) {
        let q = &mut self.query;
        q.len = before;
        match big {
            Some(bulk) => q.alloc = q.alloc.max(big_arg_alloc(bulk)),
            None if q.alloc < IOBUF_LEN => q.alloc = sds_alloc_for(before + IOBUF_LEN),
            None if q.alloc - before.min(q.alloc) < IOBUF_LEN => {
                // sdsMakeRoomFor's greedy growth.
                let needed = before + IOBUF_LEN;
                let target = if needed < 1 << 20 {
                    needed * 2
                } else {
                    needed + (1 << 20)
                };
                q.alloc = sds_alloc_for(target);
            }
            None => {}
        }
        q.len = before + n;
        if q.len > q.alloc {
            q.alloc = sds_alloc_for(q.len);
        }
        q.peak = q.peak.max(q.len);
        q.bulk = big;
    }

    /// A batch of requests has run: `left` bytes stay buffered (a partial request), `bulk` the big argument
    /// being received, if any. `replied` bytes of replies were produced since the last write.
    pub fn batch_done(&mut self, left: usize, bulk: Option<usize>, replied: usize) {
        let q = &mut self.query;
        q.len = left;
        q.bulk = bulk;
        if let Some(bulk) = bulk {
            q.alloc = q.alloc.max(big_arg_alloc(bulk));
        }
        if q.len > q.alloc {
            q.alloc = sds_alloc_for(q.len);
        }
        let r = &mut self.reply;
        r.peak = r.peak.max(replied.min(r.usable));
    }

    /// `qbuf` and `qbuf-free`.
    pub fn query(&self) -> (usize, usize) {
        (
            self.query.len,
            self.query.alloc - self.query.len.min(self.query.alloc),
        )
    }

    /// `rbs` and `rbp`.
    pub fn reply(&self) -> (usize, usize) {
        (self.reply.usable, self.reply.peak)
    }

    /// What Redis's allocator would hold for both buffers (part of `tot-mem`).
    pub fn memory(&self) -> usize {
        self.query_memory() + self.reply.usable
    }

    /// What Redis's allocator would hold for the query buffer.
    pub fn query_memory(&self) -> usize {
        sds_malloc_size(self.query.alloc)
    }

    /// One clients-cron pass over this client, idle for `idle_secs`.
    pub fn cron(&mut self, idle_secs: i64, now: i64) {
        self.cron_query(idle_secs);
        self.cron_reply(now);
    }

    /// `clientsCronResizeQueryBuffer`.
    fn cron_query(&mut self, idle_secs: i64) {
        let q = &mut self.query;
        if q.alloc.saturating_sub(q.len) > 4 * 1024 {
            if idle_secs > 2 {
                q.alloc = q.len;
            } else if q.alloc > RESIZE_THRESHOLD && q.alloc / 2 > q.peak {
                q.alloc = q.len.max(q.peak).max(q.bulk.unwrap_or(0));
            }
        }
        q.peak = q.len.max(q.bulk.unwrap_or(0));
    }

    /// `clientsCronResizeOutputBuffer` (the buffer is empty between batches here).
    fn cron_reply(&mut self, now: i64) {
        if !RESIZING.load(Relaxed) {
            return;
        }
        let r = &mut self.reply;
        let mut new_size = 0;
        if r.usable / 2 >= REPLY_MIN && r.peak < r.usable / 2 {
            new_size = REPLY_MIN.max(r.peak + 1);
        } else if r.usable * 2 < REPLY_CHUNK * 2 && r.peak == r.usable {
            new_size = REPLY_CHUNK.min(r.usable * 2);
        }
        let reset = PEAK_RESET_MS.load(Relaxed);
        if reset >= 0 && now - r.last_reset_ms >= reset {
            r.peak = 0;
            r.last_reset_ms = now;
        }
        if new_size != 0 {
            r.usable = size_class(new_size);
        }
    }
}

/// Starts the clients cron: every 100 ms, each client's buffers are resized as Redis's `clientsCron` does, and
/// subscribers idle over the pubsub soft output limit for too long are closed.
pub fn spawn_cron(server: Arc<Server>) {
    let spawned = std::thread::Builder::new()
        .name("ferredis-clients-cron".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            let now = now_ms();
            for c in server.clients.all() {
                let idle = c.idle_secs();
                c.bufs.lock().cron(idle, now);
            }
            server.pubsub.check_soft_limits(&server.config);
        });
    if let Err(e) = spawned {
        log::warn!("could not start the clients cron thread: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_are_jemallocs() {
        assert_eq!(size_class(1), 8);
        assert_eq!(size_class(17), 32);
        assert_eq!(size_class(129), 160);
        assert_eq!(size_class(16390), 20480);
        assert_eq!(size_class(400_012), 458_752);
        assert_eq!(size_class(1024), 1024);
        assert_eq!(size_class(1025), 1280);
    }

    #[test]
    fn query_buffer_follows_redis() {
        let mut m = BufModel::default();
        m.read(0, 26, None);
        assert_eq!(m.query(), (26, 20448));
        m.batch_done(0, None, 5);
        assert_eq!(m.query(), (0, 20474));
        assert_eq!(m.memory(), 20480 + 16384);
        // Idle for 3 s: given back.
        m.cron(3, 1);
        assert_eq!(m.query(), (0, 0));
        assert_eq!(m.memory(), 8 + 16384);
    }

    #[test]
    fn big_argument_buffer_shrinks_to_the_peak() {
        let mut m = BufModel::default();
        m.read(0, 16384, None);
        m.read(16384, 400_000 - 16384, Some(400_000));
        m.batch_done(0, None, 5);
        assert_eq!(m.query(), (0, 458_742));
        m.cron(0, 1);
        // The peak (the whole request) still holds it; the next pass, with a small peak, trims.
        m.read(0, 40, None);
        m.batch_done(0, None, 5);
        m.cron(0, 2);
        assert_eq!(m.query(), (0, 40));
    }

    #[test]
    fn reply_buffer_shrinks_when_idle_and_grows_when_busy() {
        let mut m = BufModel::default();
        m.cron(0, 10_000);
        assert_eq!(m.reply(), (16384, 0));
        m.cron(0, 10_100);
        assert_eq!(m.reply().0, 1024);
        set_peak_reset_time(Some(-1));
        for _ in 0..4 {
            m.batch_done(0, None, 32_777);
            m.cron(0, 10_200);
        }
        set_peak_reset_time(None);
        assert_eq!(m.reply().0, 16384);
    }
}
