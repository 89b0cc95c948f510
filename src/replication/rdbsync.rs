//! The RDB of a full sync, shared by the replicas that asked together: one point-in-time snapshot per [`Job`],
//! streamed into a buffer the members read as it grows (a diskless replica gets the bytes while they are
//! produced, as from Redis's fork child), and one feed subscription per member starting at the snapshot's very
//! instant, so each replica gets every write exactly once (in the RDB or in the stream that follows).
//!
//! A job forms while its first member waits `repl-diskless-sync-delay` seconds (or until
//! `repl-diskless-sync-max-replicas` wait); replicas that ask meanwhile join it. A disk-based sync starts at
//! once, and a replica asking while one is being produced joins it too, as long as the feed still holds the
//! writes since its instant (Redis attaches it to the BGSAVE in progress). A job whose members all left stops.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::db::Entry;
use crate::effects::Subscription;
use crate::persist::rdb::{AccessStamps, AuxInfo, Limits, RdbOptions, RdbWriter};
use crate::persist::rdbfile::KeyDelay;
use crate::persist::snapshot::{self, Encode, EntrySink};
use crate::server::Server;
use crate::util::time::now_ms;

/// One shared full-sync snapshot.
pub struct Job {
    /// Whether the RDB goes to sockets (`$EOF:` framing, joinable only before it starts).
    pub diskless: bool,
    state: Mutex<JobState>,
    changed: Condvar,
    /// Set when every member left: the snapshot stops early (Redis kills a useless RDB child).
    cancel: Arc<AtomicBool>,
    created: Instant,
}

#[derive(Default)]
struct JobState {
    next_member: u64,
    /// Members waiting for the instant; each gets its subscription there.
    waiting: Vec<u64>,
    subs: HashMap<u64, Subscription>,
    members: usize,
    /// (replid, offset, feed offset) at the snapshot's instant.
    started: Option<(String, i64, u64)>,
    rdb: Vec<u8>,
    done: bool,
    failed: bool,
}

/// What a member gets at the instant.
pub struct Start {
    pub replid: String,
    pub offset: i64,
    pub sub: Subscription,
}

/// A member's place in a job; leaving (drop) tells the job.
pub struct Member {
    pub job: Arc<Job>,
    id: u64,
}

impl Drop for Member {
    fn drop(&mut self) {
        let mut st = self.job.state.lock();
        st.waiting.retain(|&w| w != self.id);
        st.subs.remove(&self.id);
        st.members -= 1;
        if st.members == 0 && !st.done {
            self.job.cancel.store(true, Relaxed);
        }
    }
}

impl Member {
    /// Waits for the snapshot's instant; `tick` runs every 100 ms meanwhile (the keepalive, the check that the
    /// replica is still there).
    pub fn wait_start(&self, mut tick: impl FnMut() -> io::Result<()>) -> io::Result<Start> {
        loop {
            {
                let mut st = self.job.state.lock();
                if st.failed {
                    return Err(io::Error::other("Background RDB transfer failed"));
                }
                if let Some((replid, offset, _)) = st.started.clone() {
                    if let Some(sub) = st.subs.remove(&self.id) {
                        return Ok(Start {
                            replid,
                            offset,
                            sub,
                        });
                    }
                    return Err(io::Error::other("no subscription for the full sync"));
                }
                self.job
                    .changed
                    .wait_for(&mut st, Duration::from_millis(100));
            }
            tick()?;
        }
    }

    /// The RDB bytes from `at` on: waits for more (up to `timeout`); `Ok(None)` once all was read and the
    /// snapshot is done.
    pub fn read(&self, at: usize, timeout: Duration) -> io::Result<Option<Vec<u8>>> {
        let mut st = self.job.state.lock();
        if st.rdb.len() == at && !st.done && !st.failed {
            self.job.changed.wait_for(&mut st, timeout);
        }
        if st.failed {
            return Err(io::Error::other("Background RDB transfer failed"));
        }
        if st.rdb.len() > at {
            return Ok(Some(st.rdb[at..].to_vec()));
        }
        Ok(if st.done { None } else { Some(Vec::new()) })
    }

    /// The whole RDB, once the snapshot is done (a disk-based transfer sends its length first).
    pub fn wait_done(&self, mut tick: impl FnMut() -> io::Result<()>) -> io::Result<Vec<u8>> {
        loop {
            {
                let mut st = self.job.state.lock();
                if st.failed {
                    return Err(io::Error::other("Background RDB transfer failed"));
                }
                if st.done {
                    return Ok(st.rdb.clone());
                }
                self.job
                    .changed
                    .wait_for(&mut st, Duration::from_millis(100));
            }
            tick()?;
        }
    }
}

/// Joins the job forming (or, for a disk-based sync, one being produced whose writes since its instant the feed
/// still holds), or starts a new one.
pub fn join(server: &Server, diskless: bool) -> io::Result<Member> {
    let mut forming = server.repl.forming.lock();
    if let Some(job) = forming.as_ref().filter(|j| j.diskless == diskless) {
        if let Some(member) = try_join(server, job) {
            return Ok(member);
        }
    }
    let job = Arc::new(Job {
        diskless,
        state: Mutex::new(JobState::default()),
        changed: Condvar::new(),
        cancel: Arc::new(AtomicBool::new(false)),
        created: Instant::now(),
    });
    let member = try_join(server, &job).ok_or_else(|| io::Error::other("cannot join"))?;
    *forming = Some(job.clone());
    drop(forming);
    let arc = server
        .arc()
        .ok_or_else(|| io::Error::other("shutting down"))?;
    std::thread::Builder::new()
        .name("repl-rdb".into())
        .spawn(move || run(&arc, &job))?;
    Ok(member)
}

fn try_join(server: &Server, job: &Arc<Job>) -> Option<Member> {
    let mut st = job.state.lock();
    if st.done || st.failed || job.cancel.load(Relaxed) {
        return None;
    }
    let id = st.next_member;
    match st.started {
        None => st.waiting.push(id),
        Some((_, _, at)) => {
            // Started already: only a disk-based one takes late members, from the feed's kept bytes.
            if job.diskless {
                return None;
            }
            let sub = server.feed.subscribe_from(at)?;
            st.subs.insert(id, sub);
        }
    }
    st.next_member += 1;
    st.members += 1;
    Some(Member {
        job: job.clone(),
        id,
    })
}

/// The job's thread: waits for members as `repl-diskless-sync-delay` / `-max-replicas` say, then snapshots.
fn run(server: &Arc<Server>, job: &Arc<Job>) {
    server.repl.syncs_running.fetch_add(1, Relaxed);
    wait_for_members(server, job);
    let outcome = if job.cancel.load(Relaxed) {
        Err(io::Error::other("no replica left"))
    } else {
        // A panic fails the transfer: its replicas retry.
        crate::crash::job_or(
            || snapshot_into(server, job),
            io::Error::other("the snapshot thread panicked"),
        )
    };
    {
        let mut forming = server.repl.forming.lock();
        if forming.as_ref().is_some_and(|j| Arc::ptr_eq(j, job)) {
            *forming = None;
        }
    }
    let mut st = job.state.lock();
    match outcome {
        Ok(()) => {
            st.done = true;
            log::info!("Background RDB transfer terminated with success");
        }
        Err(e) => {
            st.failed = true;
            log::warn!("Background transfer error: {e}");
        }
    }
    drop(st);
    job.changed.notify_all();
    server.repl.syncs_running.fetch_sub(1, Relaxed);
}

fn wait_for_members(server: &Server, job: &Arc<Job>) {
    if !job.diskless {
        return;
    }
    let delay = Duration::from_secs(
        super::commands::int_param(server, "repl-diskless-sync-delay").max(0) as u64,
    );
    loop {
        let max = super::commands::int_param(server, "repl-diskless-sync-max-replicas");
        let waiting = job.state.lock().waiting.len() as i64;
        let asleep = crate::ops::pause::asleep();
        if job.cancel.load(Relaxed)
            || (!asleep && (job.created.elapsed() >= delay || (max > 0 && waiting >= max)))
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // A diskless job takes nobody once its snapshot starts.
    let mut forming = server.repl.forming.lock();
    if forming.as_ref().is_some_and(|j| Arc::ptr_eq(j, job)) {
        *forming = None;
    }
}

/// The RDB stream into the job's buffer, as a snapshot sink.
struct JobSink {
    writer: RdbWriter<JobWriter>,
    key_delay: KeyDelay,
}

/// Appends to the job's buffer and wakes its members.
struct JobWriter(Arc<Job>);

impl Write for JobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.0.cancel.load(Relaxed) {
            return Err(io::Error::other("no replica left"));
        }
        self.0.state.lock().rdb.extend_from_slice(buf);
        self.0.changed.notify_all();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl EntrySink for JobSink {
    fn encoder(&self) -> Encode {
        let (enc, count) = (self.writer.entry_encoder(), self.key_delay.counter());
        Arc::new(
            move |out: &mut Vec<u8>, key: &[u8], entry: &Entry, at: Option<i64>| {
                count();
                enc.encode(out, key, entry, at)
            },
        )
    }
    fn select_db(&mut self, db: usize, keys: u64, expires: u64) -> io::Result<()> {
        self.writer.select_db(db, keys, expires)
    }
    fn append(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.key_delay.pay();
        self.writer.raw(chunk)
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.key_delay.settle();
        self.writer.finish().map(|_| ())
    }
}

/// Takes the snapshot (waiting while another one, a BGSAVE, runs); members get their subscriptions at its
/// instant and read the RDB as it is written.
fn snapshot_into(server: &Arc<Server>, job: &Arc<Job>) -> io::Result<()> {
    let _one = server.repl.syncing.lock();
    let deadline = Instant::now() + Duration::from_secs(3600);
    loop {
        match try_snapshot(server, job) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                if job.cancel.load(Relaxed) {
                    return Err(io::Error::other("no replica left"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

fn try_snapshot(server: &Arc<Server>, job: &Arc<Job>) -> io::Result<()> {
    let yes = |name: &str| server.config.get(name).as_deref() != Some("no");
    let opts = RdbOptions {
        compression: yes("rdbcompression"),
        checksum: yes("rdbchecksum"),
    };
    // From here to the snapshot's instant a replica's link applies nothing, so the database its stream is in
    // (`repl-stream-db`, which the replica selects after loading) is the one at the instant.
    let gate = server.repl.apply_gate.clone();
    gate.pause();
    // Resumed at the instant, or however this ends (an error, a panic).
    let _resume = Resume(&gate);
    let sink = start_sink(server, job, opts)?;
    let at_start = {
        let (server, job, gate) = (server.clone(), job.clone(), gate.clone());
        Box::new(move || {
            at_instant(&server, &job);
            gate.resume();
        })
    };
    let taken = snapshot::take_with(
        &server.keyspace,
        sink,
        Arc::new(AtomicU64::new(0)),
        Some(at_start),
    );
    match taken {
        Ok((sink, _stats)) => sink.finish(),
        Err(e) if job.state.lock().started.is_none() => {
            // Another snapshot is in progress: the caller retries (the buffer starts again).
            Err(io::Error::new(io::ErrorKind::WouldBlock, e))
        }
        Err(e) => Err(e),
    }
}

/// Lets the replica's link apply its stream again when dropped.
struct Resume<'a>(&'a super::ApplyGate);

impl Drop for Resume<'_> {
    fn drop(&mut self) {
        self.0.resume();
    }
}

/// The sink, with the RDB's header, AUX fields and function libraries written into the job's buffer (nobody
/// reads it before the instant; a retry starts it again).
fn start_sink(server: &Server, job: &Arc<Job>, opts: RdbOptions) -> io::Result<Box<JobSink>> {
    job.state.lock().rdb.clear();
    let policy = server.config.get("maxmemory-policy").unwrap_or_default();
    let mut writer = RdbWriter::new(JobWriter(job.clone()), opts)
        .with_limits(Limits::from_config(&server.config))
        .with_access_stamps(AccessStamps::for_policy(&policy), now_ms());
    writer.header()?;
    writer.standard_aux(AuxInfo {
        used_mem: crate::server::stats::allocated_bytes(),
        aof_base: false,
        ctime: now_ms() / 1000,
    })?;
    let db = super::replica::stream_db(server).to_string();
    writer.aux(b"repl-stream-db", db.as_bytes())?;
    for code in server.scripts.library_codes() {
        writer.function(&code)?;
    }
    Ok(Box::new(JobSink {
        writer,
        key_delay: KeyDelay::new(
            super::commands::int_param(server, "rdb-key-save-delay"),
            Some(job.cancel.clone()),
        ),
    }))
}

/// At the snapshot's instant (every shard locked): the offset the members' streams start at, and their
/// subscriptions.
fn at_instant(server: &Server, job: &Job) {
    let mut st = job.state.lock();
    let (replid, shift) = {
        let r = server.repl.state();
        (r.replid.clone(), r.shift)
    };
    let feed_at = server.feed.offset();
    for id in std::mem::take(&mut st.waiting) {
        st.subs.insert(id, server.feed.subscribe());
    }
    st.started = Some((replid, feed_at as i64 + shift, feed_at));
    drop(st);
    job.changed.notify_all();
    log::info!(
        "Starting BGSAVE for SYNC with target: {}",
        if job.diskless {
            "replicas sockets"
        } else {
            "disk"
        }
    );
}
