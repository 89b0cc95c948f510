//! The AOF rewrite (BGREWRITEAOF, the automatic rewrite, `CONFIG SET appendonly yes`), as Redis's
//! `rewriteAppendOnlyFileBackground` and `backgroundRewriteDoneHandler`, without fork().
//!
//! # Why nothing is lost or applied twice
//! The new base is a point-in-time snapshot (`persist::snapshot`) taken at an instant T when every shard is
//! locked. Every effect is appended to the feed under the shard locks of the write that made it, so at T the
//! feed holds exactly the effects of the writes the snapshot contains. At T (`snapshot::take_with`'s hook) the
//! writer is told to switch to the new increment file at the feed's offset then, and the feed puts a `SELECT`
//! before the next effect: the old files hold everything up to T, the new increment file everything after. The
//! new increment file is in the manifest (after the old ones) from the start, so a crash during the rewrite
//! loads the old base, the old increments and the new one. Once the base is written the manifest is switched
//! atomically to the new base and the new increment file, and the old files, now history, are deleted.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::manifest::{sync_dir, Names};
use super::writer::{Switch, Writer};
use super::{paths, AofState};
use crate::config::special::strerror;
use crate::db::Entry;
use crate::persist::child::{self, Dest};
use crate::persist::rdb::payload;
use crate::persist::rdb::value::{Encoder, Limits};
use crate::persist::rdbfile::KeyDelay;
use crate::persist::snapshot::{self, Encode, EntrySink, OnStart};
use crate::server::Server;

/// Why BGREWRITEAOF did not start one.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    InProgress,
    Scheduled,
    Failed,
}

/// BGREWRITEAOF: starts a rewrite now, or schedules it while a BGSAVE runs.
pub fn bgrewriteaof(server: &Server) -> Result<(), Refused> {
    let aof = &server.persist.aof;
    if aof.inner.lock().rewrite_started.is_some() {
        return Err(Refused::InProgress);
    }
    if server.persist.bgsave_in_progress() {
        aof.inner.lock().rewrite_scheduled = true;
        return Err(Refused::Scheduled);
    }
    start(server).map_err(|()| Refused::Failed)
}

/// `CONFIG SET appendonly yes` (Redis's `startAppendOnly`): the AOF waits for a rewrite whose increment file
/// collects the writes from the snapshot's instant on.
/// Inside EXEC (`in_exec`) the rewrite is scheduled, as Redis does.
pub(crate) fn start_enable(server: &Server, in_exec: bool) -> Result<(), ()> {
    let aof = &server.persist.aof;
    {
        let mut inner = aof.inner.lock();
        aof.set_state(&mut inner, AofState::WaitRewrite);
        if server.persist.bgsave_in_progress() {
            log::warn!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
            inner.rewrite_scheduled = true;
            return Ok(());
        }
        if in_exec {
            log::warn!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
            inner.rewrite_scheduled = true;
            return Ok(());
        }
    }
    if aof.inner.lock().rewrite_started.is_some() {
        log::warn!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
        kill(server);
    }
    start(server).inspect_err(|()| {
        let mut inner = aof.inner.lock();
        aof.set_state(&mut inner, AofState::Off);
        log::warn!("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
    })
}

/// Stops the running rewrite, as Redis's `killAppendOnlyChild` (SIGUSR1 to the writer child), and waits for
/// its thread.
pub fn kill(server: &Server) {
    let aof = &server.persist.aof;
    let running = aof.rewrite_thread.lock().take();
    if let Some((thread, child)) = running {
        if aof.inner.lock().rewrite_started.is_some() {
            log::info!("Killing running AOF rewrite child: {}", child.pid());
        }
        aof.cancel.store(true, Relaxed);
        child.signal(libc::SIGUSR1);
        let _ = thread.join();
        aof.cancel.store(false, Relaxed);
    }
}

/// What the new increment file is.
enum NewIncr {
    /// The AOF is on: a new numbered increment file, already in the manifest; the writer switches to it.
    Numbered(File),
    /// The AOF waits for this rewrite: a temp file, renamed into the manifest at the end; a writer starts on it.
    Temp(File),
    /// The AOF is off: the rewrite writes a base only.
    None,
}

/// Starts a rewrite thread (Redis's `rewriteAppendOnlyFileBackground`).
fn start(server: &Server) -> Result<(), ()> {
    let arc = server.arc().ok_or(())?;
    let (filename, dir) = paths(server);
    let names = Names {
        filename: &filename,
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        log::warn!(
            "Can't open or create append-only dir {}: {}",
            dir.display(),
            strerror(&e)
        );
        server.persist.aof.inner.lock().last_bgrewrite_ok = false;
        return Err(());
    }
    let aof = &server.persist.aof;
    let mut inner = aof.inner.lock();
    let incr = match inner.state {
        AofState::On => {
            let mut am = inner.manifest.clone();
            let name = am.new_incr(&names);
            let file = create(&dir.join(&name))?;
            am.persist(&dir, &names).map_err(|_| ())?;
            inner.manifest = am;
            log::info!("Creating AOF incr file {name} on background rewrite");
            NewIncr::Numbered(file)
        }
        AofState::WaitRewrite => {
            let name = temp_incr(&filename);
            let file = create(&dir.join(&name))?;
            log::info!("Creating AOF incr file {name} on background rewrite");
            NewIncr::Temp(file)
        }
        AofState::Off => NewIncr::None,
    };
    inner.rewrite_started = Some(Instant::now());
    inner.rewrite_scheduled = false;
    if let Some(w) = &inner.writer {
        w.shared.rewriting.store(true, Relaxed);
    }
    drop(inner);
    let spec = child::JobSpec {
        thread: "ferredis-aofrw",
        title: "redis-aof-rewrite",
        prefix: TEMP_PREFIX,
        suffix: ".aof",
        on_end_early: aof.cancel.clone(),
    };
    let started = child::start_job(spec, move |input, child| {
        let result = crate::crash::job_or(
            || run(&arc, input, incr),
            io::Error::other("the rewrite thread panicked"),
        );
        done(&arc, &child, result);
    });
    match started {
        Ok((thread, child)) => {
            log::info!(
                "Background append only file rewriting started by pid {}",
                child.pid()
            );
            *aof.rewrite_thread.lock() = Some((thread, child));
            Ok(())
        }
        Err(e) => {
            log::warn!("Can't rewrite append only file in background: fork: {e}");
            let mut inner = aof.inner.lock();
            inner.rewrite_started = None;
            inner.last_bgrewrite_ok = false;
            if let Some(w) = &inner.writer {
                w.shared.rewriting.store(false, Relaxed);
            }
            Err(())
        }
    }
}

/// The writer child's temp base file is `temp-rewriteaof-bg-<its pid>.aof`, as Redis's.
const TEMP_PREFIX: &str = "temp-rewriteaof-bg-";

fn temp_incr(filename: &str) -> String {
    format!("temp-{filename}.incr")
}

fn create(path: &Path) -> Result<File, ()> {
    File::create(path).map_err(|e| {
        log::warn!(
            "Can't open the append-only file {}: {}",
            path.display(),
            strerror(&e)
        )
    })
}

/// The hook run at the snapshot's instant: where the new increment file starts.
fn at_start(server: &Arc<Server>, incr: NewIncr) -> Option<OnStart> {
    let server = server.clone();
    match incr {
        NewIncr::None => None,
        NewIncr::Numbered(file) => Some(Box::new(move || {
            let at = server.feed.mark();
            let inner = server.persist.aof.inner.lock();
            if let Some(w) = &inner.writer {
                *w.shared.switch.lock() = Some(Switch { at, file });
            }
        })),
        NewIncr::Temp(file) => Some(Box::new(move || {
            let sub = server.feed.subscribe();
            match Writer::spawn(server.clone(), sub, file) {
                Ok(w) => {
                    w.shared.rewriting.store(true, Relaxed);
                    server.persist.aof.inner.lock().writer = Some(w);
                }
                Err(e) => log::warn!("Can't start the AOF writer: {e}"),
            }
        })),
    }
}

/// The rewrite thread's work: the new base, streamed to the writer child.
fn run(server: &Arc<Server>, input: child::Input, incr: NewIncr) -> io::Result<()> {
    // One snapshot at a time: wait for a BGSAVE that started meanwhile.
    server.persist.wait_bgsave();
    let rdb = server.config.get("aof-use-rdb-preamble").as_deref() != Some("no");
    let hook = at_start(server, incr);
    write_base(server, Dest::Child(input), rdb, hook)
}

/// Writes a base file from a snapshot of the keyspace: an RDB (`aof-use-rdb-preamble yes`), else commands.
/// The caller holds no shard lock.
pub fn write_base(server: &Server, dest: Dest, rdb: bool, hook: Option<OnStart>) -> io::Result<()> {
    let cancel = server.persist.aof.cancel.clone();
    let sink: Box<dyn EntrySink> = if rdb {
        crate::persist::rdbfile::rdb_sink(server, dest, Some(cancel), true, None)?
    } else {
        let mut out = BufWriter::with_capacity(1 << 20, dest);
        if server.config.get("aof-timestamp-enabled").as_deref() == Some("yes") {
            write!(out, "#TS:{}\r\n", crate::util::time::now_ms() / 1000)?;
        }
        // The function libraries first, as Redis's `rewriteFunctions`.
        for code in server.scripts.library_codes() {
            let mut cmd = Vec::new();
            crate::effects::encode_command(
                &mut cmd,
                [b"FUNCTION".as_slice(), b"LOAD", &code].into_iter(),
            );
            out.write_all(&cmd)?;
        }
        Box::new(CommandSink {
            key_delay: KeyDelay::new(
                crate::persist::rdbfile::int_param(server, "rdb-key-save-delay"),
                Some(cancel.clone()),
            ),
            out,
            enc: Encoder {
                compress: server.config.get("rdbcompression").as_deref() != Some("no"),
                limits: Limits::from_config(&server.config),
            },
            cancel,
        })
    };
    let keys = Arc::new(AtomicU64::new(0));
    let (sink, _stats) = snapshot::take_with(&server.keyspace, sink, keys, hook)?;
    sink.finish()
}

/// Redis's "Write error writing append only file on disk" for a base this process writes (at start-up).
pub fn write_base_file(server: &Server, path: &Path, rdb: bool) -> io::Result<u64> {
    let file = File::create(path).inspect_err(|e| {
        log::warn!(
            "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): {}",
            strerror(e)
        )
    })?;
    write_base(server, Dest::File(file), rdb, None).inspect_err(|e| {
        log::warn!(
            "Write error writing append only file on disk: {}",
            strerror(e)
        )
    })?;
    Ok(std::fs::metadata(path)?.len())
}

/// A base file of commands: each key as `RESTORE key <expire-at> <payload> ABSTTL`, which Redis and ferredis
/// both replay into the same value, encodings included.
struct CommandSink {
    out: BufWriter<Dest>,
    /// `rdb-key-save-delay`, which Redis applies to the AOF rewrite too.
    key_delay: KeyDelay,
    enc: Encoder,
    cancel: Arc<std::sync::atomic::AtomicBool>,
}

impl EntrySink for CommandSink {
    fn encoder(&self) -> Encode {
        let (enc, count) = (self.enc, self.key_delay.counter());
        Arc::new(
            move |out: &mut Vec<u8>, key: &[u8], entry: &Entry, at: Option<i64>| {
                count();
                let ttl = at.unwrap_or(0).to_string();
                let body = payload::dump(&entry.value, &enc);
                crate::effects::encode_command(
                    out,
                    [b"RESTORE".as_slice(), key, ttl.as_bytes(), &body, b"ABSTTL"].into_iter(),
                );
            },
        )
    }
    fn select_db(&mut self, db: usize, _keys: u64, _expires: u64) -> io::Result<()> {
        let mut buf = Vec::new();
        let db = db.to_string();
        crate::effects::encode_command(&mut buf, [b"SELECT".as_slice(), db.as_bytes()].into_iter());
        self.out.write_all(&buf)
    }
    fn append(&mut self, chunk: &[u8]) -> io::Result<()> {
        self.key_delay.pay();
        if self.cancel.load(Relaxed) {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "rewrite stopped",
            ));
        }
        self.out.write_all(chunk)
    }
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.key_delay.settle();
        if self.cancel.load(Relaxed) {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "rewrite stopped",
            ));
        }
        let dest = self.out.into_inner().map_err(|e| e.into_error())?;
        dest.complete()
    }
}

/// Redis's `backgroundRewriteDoneHandler`, from how the rewrite and its writer child ended: the new base and
/// increment file go into the manifest and the old files become history and are deleted, or the temp files go.
fn done(server: &Server, child: &child::Handle, result: io::Result<()>) {
    let aof = &server.persist.aof;
    log_child_failure(child);
    let end = child.wait();
    // Set by `kill`, or by the child's early end (which `end` tells apart).
    let cancelled = aof.cancel.swap(false, Relaxed);
    let outcome = match result {
        Ok(()) if !cancelled => install(server, child.pid()),
        _ => Err(()),
    };
    let mut inner = aof.inner.lock();
    if let Some(w) = &inner.writer {
        w.shared.rewriting.store(false, Relaxed);
    }
    inner.last_rewrite_secs = inner
        .rewrite_started
        .map_or(-1, |t| t.elapsed().as_secs() as i64);
    inner.rewrite_started = None;
    inner.last_cow_size = crate::persist::snapshot::COPIED.load(Relaxed);
    if outcome.is_ok() {
        inner.last_bgrewrite_ok = true;
        inner.rewrites += 1;
        inner.consecutive_failures = 0;
        if inner.state == AofState::WaitRewrite {
            aof.set_state(&mut inner, AofState::On);
        }
        log::info!("Background AOF rewrite finished successfully");
        return;
    }
    // SIGUSR1 is how the server stops its own rewrite: not an error.
    let stopped = match end {
        child::End::Signal(sig) => {
            if sig != libc::SIGUSR1 {
                inner.last_bgrewrite_ok = false;
                inner.consecutive_failures += 1;
            }
            log::warn!("Background AOF rewrite terminated by signal {sig}");
            sig == libc::SIGUSR1
        }
        child::End::Exited(0) if cancelled => {
            log::warn!(
                "Background AOF rewrite terminated by signal {}",
                libc::SIGUSR1
            );
            true
        }
        child::End::Exited(_) => {
            inner.last_bgrewrite_ok = false;
            inner.consecutive_failures += 1;
            log::warn!("Background AOF rewrite terminated with error");
            false
        }
    };
    let _ = std::fs::remove_file(child.file(TEMP_PREFIX, ".aof"));
    if inner.state == AofState::WaitRewrite {
        let (filename, dir) = paths(server);
        // The temp increment file is dropped; the AOF turns on at the next try.
        if let Some(w) = inner.writer.take() {
            drop(inner);
            w.stop();
            inner = aof.inner.lock();
        }
        let name = temp_incr(&filename);
        log::info!("Removing the temp incr aof file {name} in the background");
        let _ = std::fs::remove_file(dir.join(name));
        if !stopped && inner.state == AofState::WaitRewrite {
            inner.rewrite_scheduled = true;
        }
    }
}

/// The writer child's own failure, in the words of Redis's rewriting child.
fn log_child_failure(child: &child::Handle) {
    match child.failure() {
        Some((child::Step::Open, msg)) => {
            log::warn!("Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): {msg}")
        }
        Some((_, msg)) => log::warn!("Write error writing append only file on disk: {msg}"),
        None => {}
    }
}

/// Moves the new base (and the temp increment file) into the AOF directory and switches the manifest.
fn install(server: &Server, pid: u32) -> Result<(), ()> {
    log::info!("Background AOF rewrite terminated with success");
    let (filename, dir) = paths(server);
    let names = Names {
        filename: &filename,
    };
    let aof = &server.persist.aof;
    let mut inner = aof.inner.lock();
    let mut am = inner.manifest.clone();
    let rdb = server.config.get("aof-use-rdb-preamble").as_deref() != Some("no");
    let base = am.new_base(&names, rdb);
    let tmp = format!("{TEMP_PREFIX}{pid}.aof");
    if let Err(e) = std::fs::rename(&tmp, dir.join(&base)) {
        log::warn!(
            "Error trying to rename the temporary AOF base file {tmp} into {base}: {}",
            strerror(&e)
        );
        return Err(());
    }
    log::info!("Successfully renamed the temporary AOF base file {tmp} into {base}");
    match inner.state {
        AofState::WaitRewrite => {
            let temp = temp_incr(&filename);
            let name = am.new_incr(&names);
            if let Err(e) = std::fs::rename(dir.join(&temp), dir.join(&name)) {
                log::warn!(
                    "Error trying to rename the temporary AOF incr file {temp} into {name}: {}",
                    strerror(&e)
                );
                let _ = std::fs::remove_file(dir.join(&base));
                return Err(());
            }
            log::info!("Successfully renamed the temporary AOF incr file {temp} into {name}");
            am.incrs_to_history_but_last();
        }
        AofState::On => am.incrs_to_history_but_last(),
        AofState::Off => {
            am.incrs_to_history_but_last();
            if let Some(mut last) = am.incrs.pop() {
                last.kind = b'h';
                am.history.push(last);
            }
        }
    }
    if am.persist(&dir, &names).is_err() {
        let _ = std::fs::remove_file(dir.join(&base));
        return Err(());
    }
    let base_size = std::fs::metadata(dir.join(&base)).map_or(0, |m| m.len());
    let incr_size = inner
        .writer
        .as_ref()
        .map_or(0, |w| w.shared.incr_size.load(Relaxed));
    let written = inner
        .writer
        .as_ref()
        .map_or(0, |w| w.shared.written.load(Relaxed));
    inner.base_size = base_size + incr_size;
    inner.size_at_start = (base_size + incr_size).saturating_sub(written);
    delete_history(server, &mut am);
    let _ = sync_dir(&dir);
    inner.manifest = am;
    Ok(())
}

/// Redis's `aofDelHistoryFiles`: unless `aof-disable-auto-gc` is on, the history files are deleted and leave
/// the manifest.
fn delete_history(server: &Server, am: &mut super::manifest::Manifest) {
    let gc = server.config.get("aof-disable-auto-gc").as_deref() != Some("yes");
    if !gc || am.history.is_empty() {
        return;
    }
    let (filename, dir) = paths(server);
    for f in am.history.drain(..) {
        log::info!("Removing the history file {} in the background", f.name);
        let _ = std::fs::remove_file(dir.join(&f.name));
    }
    let _ = am.persist(
        &dir,
        &Names {
            filename: &filename,
        },
    );
}

/// `CONFIG SET aof-disable-auto-gc no` deletes the history kept while it was on (Redis's
/// `updateAofAutoGCEnabled`).
pub fn auto_gc_enabled(server: &Server) {
    let mut inner = server.persist.aof.inner.lock();
    let mut am = inner.manifest.clone();
    delete_history(server, &mut am);
    inner.manifest = am;
}

/// Redis's `aofRewriteLimited`: after 3 consecutive failures, automatic and scheduled rewrites wait 1 minute,
/// then 2, 4, ... up to an hour between tries, so a failing disk is not hammered. BGREWRITEAOF is not limited.
#[derive(Debug, Default)]
pub struct Limit {
    delay_minutes: i64,
    /// Unix seconds before which no rewrite starts; 0 when not limiting.
    next_at: i64,
}

impl Limit {
    const THRESHOLD: u64 = 3;
    const MAX_MINUTES: i64 = 60;

    /// Whether a rewrite must wait, given the failures so far and the time now.
    pub fn limited(&mut self, failures: u64, now: i64) -> bool {
        if failures < Self::THRESHOLD {
            *self = Limit::default();
            return false;
        }
        if self.next_at != 0 {
            if now < self.next_at {
                return true;
            }
            self.next_at = 0;
            return false;
        }
        self.delay_minutes = (self.delay_minutes * 2).clamp(1, Self::MAX_MINUTES);
        self.next_at = now + self.delay_minutes * 60;
        log::warn!("Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes", self.delay_minutes);
        true
    }
}

/// The rewrite part of `serverCron`: a scheduled rewrite once no BGSAVE runs, and the automatic rewrite when
/// the AOF grew by `auto-aof-rewrite-percentage` over its size after the last rewrite.
pub fn cron_tick(server: &Server) {
    let aof = &server.persist.aof;
    if server.persist.loading() || server.persist.bgsave_in_progress() {
        return;
    }
    let (scheduled, grow) = {
        let mut inner = aof.inner.lock();
        if inner.rewrite_started.is_some() {
            return;
        }
        let perc: u64 = server
            .config
            .get("auto-aof-rewrite-percentage")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let min: u64 = server
            .config
            .get("auto-aof-rewrite-min-size")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let current = super::Aof::current_size(&inner);
        let base = inner.base_size.max(1);
        let growth = (current * 100 / base) as i64 - 100;
        let grow =
            inner.state == AofState::On && perc > 0 && current > min && growth >= perc as i64;
        let now = crate::util::time::now_ms() / 1000;
        let failures = inner.consecutive_failures;
        // As `serverCron`: the limit is consulted only when a rewrite would start.
        let scheduled = inner.rewrite_scheduled && !inner.limit.limited(failures, now);
        let grow = !scheduled && grow && !inner.limit.limited(failures, now);
        (scheduled, grow.then_some(growth))
    };
    if scheduled {
        let _ = start(server);
    } else if let Some(growth) = grow {
        log::info!("Starting automatic rewriting of AOF on {growth}% growth");
        let _ = start(server);
    }
}

/// Runs `cron_tick` every 100 ms.
pub fn spawn_cron(server: Arc<Server>) {
    let spawned = std::thread::Builder::new()
        .name("ferredis-aofcron".into())
        .spawn(move || loop {
            std::thread::sleep(Duration::from_millis(100));
            cron_tick(&server);
        });
    if let Err(e) = spawned {
        log::warn!("could not start the AOF cron thread: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::Limit;

    #[test]
    fn repeated_failures_back_off_from_one_minute_to_an_hour() {
        let mut limit = Limit::default();
        assert!(!limit.limited(2, 1000));
        assert!(limit.limited(3, 1000));
        assert!(limit.limited(3, 1059));
        // The minute passed: one try, then the next wait is two minutes.
        assert!(!limit.limited(3, 1060));
        assert!(limit.limited(4, 1061));
        assert!(limit.limited(4, 1061 + 119));
        assert!(!limit.limited(4, 1061 + 120));
        for _ in 0..10 {
            assert!(limit.limited(5, 0));
            limit.next_at = 1;
            assert!(!limit.limited(5, 1));
        }
        assert_eq!(limit.delay_minutes, 60);
        // A success (failures back under 3) ends the limit.
        assert!(!limit.limited(0, 2));
        assert!(limit.limited(3, 2));
        assert_eq!(limit.delay_minutes, 1);
    }
}
