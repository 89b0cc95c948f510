//! The background writer process: what stands in for the child Redis forks for BGSAVE and BGREWRITEAOF.
//!
//! # Why a process, when threads take the snapshot
//! The snapshot is taken without fork() (`persist::snapshot`), but operators and tools treat the save as a
//! process of its own: they find it with `pgrep -P`, `kill -9` it, and expect the save to fail cleanly, with
//! Redis's log line and INFO status, and the server to go on. Redis's own suite does exactly that. So the file
//! is written by a child process: the snapshot's bytes are piped into its stdin, it writes them to
//! `<prefix><its pid><suffix>` in the working directory, fsyncs the file and exits 0 at the end of its input.
//! The parent renames the file into place only once the child exited 0 and the parent's side of the snapshot
//! succeeded, so a killed child, a stopped save or a failed snapshot never installs a partial file.
//!
//! The child is this same binary, run as `<binary> --ferredis-background-writer <prefix> <suffix> <parent pid>`
//! ([`run_if_child`] is checked before anything else in `main`). It dies with its parent (`PR_SET_PDEATHSIG`).

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{ChildStdin, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};

use crate::config::special::strerror;

/// The first argument that runs the binary as a background writer.
const WRITER_ARG: &str = "--ferredis-background-writer";

/// Child processes started, and how long the last start took (INFO's `total_forks`, `latest_fork_usec`).
pub static STARTED: AtomicU64 = AtomicU64::new(0);
pub static LATEST_START_US: AtomicU64 = AtomicU64::new(0);

/// How a child ended, as `waitpid` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Exited(i32),
    Signal(i32),
}

/// What the child reports on failure: the step that failed (exit code) and `strerror` of the error (stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Open = 1,
    Write = 2,
    Fsync = 3,
}

struct Shared {
    pid: u32,
    /// `None` while the child runs; set (under this lock) before the child is reaped, so [`Handle::signal`]
    /// never signals a pid the system may have given to another process.
    end: Mutex<Option<End>>,
    ended: Condvar,
    /// The child's stderr: `strerror` of what failed.
    message: Mutex<String>,
}

/// The parent's view of a running writer: its pid, a way to signal it and its end.
#[derive(Clone)]
pub struct Handle(Arc<Shared>);

impl Handle {
    pub fn pid(&self) -> u32 {
        self.0.pid
    }

    /// The temp file the child writes.
    pub fn file(&self, prefix: &str, suffix: &str) -> String {
        format!("{prefix}{}{suffix}", self.0.pid)
    }

    /// Sends `sig` to the child if it has not ended yet (Redis's `killRDBChild` sends SIGUSR1).
    pub fn signal(&self, sig: i32) {
        let end = self.0.end.lock();
        if end.is_none() {
            // SAFETY: kill has no memory preconditions; the pid is still our unreaped child (checked above).
            unsafe { libc::kill(self.0.pid as libc::pid_t, sig) };
        }
    }

    /// Waits for the child to end.
    pub fn wait(&self) -> End {
        let mut end = self.0.end.lock();
        loop {
            if let Some(e) = *end {
                return e;
            }
            self.0.ended.wait(&mut end);
        }
    }

    /// Which step failed and why, for a child that exited with an error.
    pub fn failure(&self) -> Option<(Step, String)> {
        let step = match self.wait() {
            End::Exited(1) => Step::Open,
            End::Exited(2) => Step::Write,
            End::Exited(3) => Step::Fsync,
            _ => return None,
        };
        Some((step, self.0.message.lock().clone()))
    }
}

/// The write end of a writer's input. Dropped without [`Input::finish`], it kills the child: a file the parent
/// did not finish must not be completed.
pub struct Input {
    stdin: Option<ChildStdin>,
    handle: Handle,
}

impl Input {
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Closes the input and waits for the child to sync the file and exit. Ok only if it exited 0.
    pub fn finish(mut self) -> io::Result<()> {
        drop(self.stdin.take());
        match self.handle.wait() {
            End::Exited(0) => Ok(()),
            End::Exited(_) => {
                let msg = self.handle.0.message.lock().clone();
                Err(io::Error::other(msg))
            }
            End::Signal(sig) => Err(io::Error::other(format!(
                "the writer process ended by signal {sig}"
            ))),
        }
    }
}

impl Write for Input {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.stdin {
            Some(s) => s.write(buf),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            self.handle.signal(libc::SIGKILL);
        }
    }
}

/// Starts a writer for `<prefix><pid><suffix>`, titled `title` (as Redis's `redis-rdb-bgsave`). `on_end_early`
/// is set when the child ends other than by a clean exit, so the snapshot feeding it stops at once.
pub fn spawn(
    title: &str,
    prefix: &str,
    suffix: &str,
    on_end_early: Arc<AtomicBool>,
) -> io::Result<(Input, Handle)> {
    let started = Instant::now();
    let mut child = Command::new("/proc/self/exe")
        .arg0(title)
        .arg(WRITER_ARG)
        .arg(prefix)
        .arg(suffix)
        .arg(std::process::id().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    STARTED.fetch_add(1, Relaxed);
    LATEST_START_US.store(started.elapsed().as_micros() as u64, Relaxed);
    let handle = Handle(Arc::new(Shared {
        pid: child.id(),
        end: Mutex::new(None),
        ended: Condvar::new(),
        message: Mutex::new(String::new()),
    }));
    let stdin = child.stdin.take();
    let mut stderr = child.stderr.take();
    let watched = handle.clone();
    let watcher = std::thread::Builder::new()
        .name("ferredis-child".into())
        .spawn(move || {
            let mut message = String::new();
            if let Some(err) = stderr.as_mut() {
                let _ = err.read_to_string(&mut message);
            }
            *watched.0.message.lock() = message.trim_end().to_string();
            let end = wait_exited(watched.0.pid);
            if end != End::Exited(0) {
                on_end_early.store(true, Relaxed);
            }
            *watched.0.end.lock() = Some(end);
            // Reaped only now: `signal` checks `end` under its lock first.
            let _ = child.wait();
            watched.0.ended.notify_all();
        });
    if let Err(e) = watcher {
        handle.signal(libc::SIGKILL);
        // SAFETY: waitpid on our own child with a null status pointer, which it allows.
        unsafe { libc::waitpid(handle.pid() as libc::pid_t, std::ptr::null_mut(), 0) };
        return Err(e);
    }
    let input = Input {
        stdin,
        handle: handle.clone(),
    };
    Ok((input, handle))
}

/// What a background job's thread must know to start its writer: the thread's name, the child's title, its
/// temp file's `<prefix><pid><suffix>`, and the flag its early end sets (see [`spawn`]).
pub struct JobSpec {
    pub thread: &'static str,
    pub title: &'static str,
    pub prefix: &'static str,
    pub suffix: &'static str,
    pub on_end_early: Arc<AtomicBool>,
}

/// Starts a background job (BGSAVE, BGREWRITEAOF): a thread that starts its writer child, then runs `job` with
/// the child's input. The thread starts the child itself because the child dies with the thread that started it
/// (`PR_SET_PDEATHSIG`), and this thread lives as long as the job. Returns once the child runs, so its pid can be
/// logged and replied before the command returns.
pub fn start_job(
    spec: JobSpec,
    job: impl FnOnce(Input, Handle) + Send + 'static,
) -> io::Result<(std::thread::JoinHandle<()>, Handle)> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let thread =
        std::thread::Builder::new()
            .name(spec.thread.into())
            .spawn(move || {
                match spawn(spec.title, spec.prefix, spec.suffix, spec.on_end_early) {
                    Ok((input, handle)) => {
                        let _ = tx.send(Ok(handle.clone()));
                        job(input, handle);
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            })?;
    let child = rx
        .recv_timeout(std::time::Duration::from_secs(5))
        .unwrap_or_else(|_| Err(io::Error::other("timed out")))?;
    Ok((thread, child))
}

/// Waits until the child has ended, leaving it unreaped (`WNOWAIT`), and says how it ended.
fn wait_exited(pid: u32) -> End {
    loop {
        // SAFETY: siginfo_t is plain data, zeroed as waitid expects; the pointer is valid for the call.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if rc == 0 {
            // SAFETY: waitid filled in a child's status.
            let status = unsafe { info.si_status() };
            return if info.si_code == libc::CLD_EXITED {
                End::Exited(status)
            } else {
                End::Signal(status)
            };
        }
        if io::Error::last_os_error().kind() != io::ErrorKind::Interrupted {
            return End::Signal(libc::SIGKILL);
        }
    }
}

/// In `main`, before anything else: if this process is a background writer, runs it and gives its exit code.
pub fn run_if_child() -> Option<ExitCode> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    if args.first().and_then(|a| a.to_str()) != Some(WRITER_ARG) || args.len() != 4 {
        return None;
    }
    let parent: i32 = args[3].to_str()?.parse().ok()?;
    Some(writer_main(&args[1], &args[2], parent))
}

/// The writer: stdin to `<prefix><pid><suffix>`, then fsync. The exit code is the [`Step`] that failed.
fn writer_main(prefix: &OsString, suffix: &OsString, parent: i32) -> ExitCode {
    // SAFETY: prctl(PR_SET_PDEATHSIG) and getppid have no memory preconditions.
    let orphan = unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        libc::getppid() != parent
    };
    if orphan {
        return ExitCode::from(Step::Open as u8);
    }
    let mut name = prefix.clone();
    name.push(std::process::id().to_string());
    name.push(suffix);
    let fail = |step: Step, e: io::Error| {
        eprintln!("{}", strerror(&e));
        ExitCode::from(step as u8)
    };
    let mut file = match File::create(&name) {
        Ok(f) => f,
        Err(e) => return fail(Step::Open, e),
    };
    if let Err(e) = io::copy(&mut io::stdin().lock(), &mut file) {
        return fail(Step::Write, e);
    }
    match file.sync_all() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(Step::Fsync, e),
    }
}

/// Where a saved file's bytes go: a file this process writes (SAVE, start-up), or a writer child (BGSAVE,
/// BGREWRITEAOF).
pub enum Dest {
    File(File),
    Child(Input),
}

impl Dest {
    /// Makes the file durable: fsync here, or the child's fsync and clean exit.
    pub fn complete(self) -> io::Result<()> {
        match self {
            Dest::File(f) => f.sync_all(),
            Dest::Child(c) => c.finish(),
        }
    }
}

impl Write for Dest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Dest::File(f) => f.write(buf),
            Dest::Child(c) => c.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Dest::File(f) => f.flush(),
            Dest::Child(c) => c.flush(),
        }
    }
}
