//! Shared test helpers: start the real ferredis binary (or the real redis-server, to compare against) on a free
//! port, and talk RESP to it over a plain `TcpStream`, reading replies back as exact text.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A port no other server of this test process was given. Binding port 0 and releasing it can hand the same port
/// to two tests starting servers at once: the second server fails to bind, its test talks to the first one and
/// sees "connection refused" when that one stops. So ports come in turn from a range below the kernel's ephemeral
/// ports (where clients' own sockets live), from a start that differs per process.
pub fn free_port() -> u16 {
    const LOW: u32 = 10_000;
    const SPAN: u32 = 22_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    for _ in 0..SPAN {
        let port = (LOW + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN) as u16;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port");
}

/// An empty directory for the server on `port` (its `dir`, where a SAVE or SHUTDOWN would write dump.rdb).
fn scratch_dir(port: u16) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ferredis-test-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch directory");
    dir
}

/// A server process that is killed when dropped.
pub struct Server {
    child: Child,
    pub port: u16,
    /// Set once the test has seen the process exit (`wait_exit`): any other exit is a crash and fails the test.
    exit_seen: bool,
}

impl Server {
    /// ferredis with default settings.
    pub fn start() -> Server {
        Self::start_with(&[])
    }

    /// ferredis with extra command-line arguments.
    pub fn start_with(args: &[&str]) -> Server {
        Self::start_with_env(args, &[])
    }

    /// ferredis with extra command-line arguments and environment variables (the test-only hooks).
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        Self::start_on_free_port(|port| {
            // No save points unless a test sets some (as redis-server below), and a working directory of its
            // own: a server must not write dump.rdb where another test's server would load it.
            Command::new(env!("CARGO_BIN_EXE_ferredis"))
                .current_dir(scratch_dir(port))
                .args(["--port", &port.to_string(), "--save", ""])
                .args(args)
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        })
        .expect("start ferredis")
    }

    /// The official redis-server, to compare against. A missing redis-server fails the test: comparisons that
    /// quietly skip can pass without testing anything. `None` only when the run opts out explicitly with
    /// `FERREDIS_NO_REDIS=1` (README, Tests), and then the comparison is skipped.
    pub fn start_redis() -> Option<Server> {
        Self::start_redis_with(&[])
    }

    /// The official redis-server with extra command-line arguments (`--enable-debug-command yes`, `--dir ...`).
    pub fn start_redis_with(args: &[&str]) -> Option<Server> {
        if std::env::var_os("FERREDIS_NO_REDIS").is_some_and(|v| v == "1") {
            eprintln!("FERREDIS_NO_REDIS=1: skipping the comparison with redis-server");
            return None;
        }
        let started = Self::start_on_free_port(|port| {
            // A directory of its own, as ferredis gets: a dump.rdb some test left in the working directory must
            // not be loaded into a server that is meant to start empty.
            Command::new("redis-server")
                .current_dir(scratch_dir(port))
                .args([
                    "--port",
                    &port.to_string(),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .args(["--bind", "127.0.0.1"])
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
        });
        match started {
            Ok(server) => Some(server),
            Err(e) => panic!(
                "redis-server is needed to compare against ({e}); install it, or set FERREDIS_NO_REDIS=1 to skip \
                 the comparisons"
            ),
        }
    }

    /// Starts a server and waits until it is the process listening on its port. Another process can take a
    /// port between `free_port` checking it and the server binding it (seen: a test served by a process that
    /// was not its server, then "connection refused"); the server then fails to bind and starts again elsewhere.
    /// An error only if the program cannot be started at all.
    fn start_on_free_port(
        spawn: impl Fn(u16) -> std::io::Result<Child>,
    ) -> std::io::Result<Server> {
        for _ in 0..5 {
            let port = free_port();
            let mut child = spawn(port)?;
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if listens_on(child.id(), port) {
                    return Ok(Server {
                        child,
                        port,
                        exit_seen: false,
                    });
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("the server could not listen on any of 5 free ports");
    }

    /// A new connection; if it cannot be made, the panic says whether the server process is still there.
    pub fn client(&self) -> Client {
        match TcpStream::connect(("127.0.0.1", self.port)) {
            Ok(stream) => Client::from_stream(stream),
            Err(e) => {
                let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()));
                panic!(
                    "connect to port {}: {e}; server process: {}",
                    self.port,
                    stat.unwrap_or_else(|e| format!("gone ({e})"))
                );
            }
        }
    }

    /// Waits for the process to exit by itself (after SHUTDOWN or a signal).
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.exit_seen = true;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `sig` (`-STOP`, `-CONT`, ...) to the server's process.
    pub fn signal(&self, sig: &str) {
        let status = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// INFO's `blocked_clients`, which ferredis and redis-server both report.
    pub fn blocked_clients(&self) -> usize {
        let info = self.client().cmd(&["INFO", "clients"]);
        info.lines()
            .find_map(|l| l.strip_prefix("blocked_clients:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Sends a blocking command on a new connection and returns once the server has it blocked; read its reply
    /// later.
    pub fn blocked_client(&self, args: &[&str]) -> Client {
        let before = self.blocked_clients();
        let mut c = self.client();
        c.send(args);
        self.wait_blocked(|n| n > before);
        c
    }

    /// Waits until the number of blocked clients satisfies `ok`: a test that sent a blocking command on another
    /// connection knows it queued (and in which order) instead of sleeping and hoping.
    pub fn wait_blocked(&self, ok: impl Fn(usize) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ok(self.blocked_clients()) {
            assert!(
                Instant::now() < deadline,
                "blocked clients never reached the expected count"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            if !self.exit_seen && !std::thread::panicking() {
                panic!("the server exited during the test: {status}");
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal RESP client: commands out as multibulk, replies back as their exact wire text.
pub struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Client {
    pub fn connect(port: u16) -> Client {
        Self::from_stream(TcpStream::connect(("127.0.0.1", port)).expect("connect"))
    }

    /// A client of a server's `unixsocket`. The descriptor is held in a `TcpStream`: the client only reads and
    /// writes it.
    pub fn connect_unix(path: &str) -> Client {
        use std::os::fd::{FromRawFd, IntoRawFd};
        let unix =
            std::os::unix::net::UnixStream::connect(path).expect("connect to the unix socket");
        // SAFETY: the descriptor moves out of the UnixStream into the TcpStream, which owns it from here on.
        Client::from_stream(unsafe { TcpStream::from_raw_fd(unix.into_raw_fd()) })
    }

    fn from_stream(stream: TcpStream) -> Client {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        Client {
            writer: stream.try_clone().unwrap(),
            reader: BufReader::new(stream),
        }
    }

    /// Closes the connection, returning once the server's kernel has taken the close (acknowledged the FIN).
    /// A plain drop sends the FIN, but the kernel may hold it back (TCP small queues, deferred softirqs on a
    /// loaded machine) until after a segment another socket sends next: the server could not have seen the close
    /// first, with any server.
    pub fn close_acknowledged(self) {
        use std::os::fd::AsRawFd;
        self.writer.shutdown(std::net::Shutdown::Write).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            // SAFETY: tcp_info is plain data; getsockopt fills at most `len` bytes of it.
            let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
            let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
            // SAFETY: a valid socket, and a buffer of `len` bytes that outlives the call.
            let rc = unsafe {
                libc::getsockopt(
                    self.writer.as_raw_fd(),
                    libc::IPPROTO_TCP,
                    libc::TCP_INFO,
                    (&mut info as *mut libc::tcp_info).cast(),
                    &mut len,
                )
            };
            assert_eq!(rc, 0, "TCP_INFO");
            // Acknowledged once nothing is in flight any more (FIN_WAIT2, or TIME_WAIT after a close of the
            // server's own).
            // Linux's TCP_FIN_WAIT1 and TCP_CLOSING (include/net/tcp_states.h; not in the libc crate).
            const FIN_WAIT1: u8 = 4;
            const CLOSING: u8 = 11;
            if info.tcpi_state != FIN_WAIT1 && info.tcpi_state != CLOSING {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the server never acknowledged the close"
            );
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    pub fn encode(args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    pub fn send(&mut self, args: &[&str]) {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        self.send_bytes(&args);
    }

    pub fn send_bytes(&mut self, args: &[&[u8]]) {
        self.writer.write_all(&Self::encode(args)).unwrap();
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).unwrap();
    }

    /// Sends one command and returns its reply as exact text, e.g. `"+OK\r\n"`.
    pub fn cmd(&mut self, args: &[&str]) -> String {
        self.send(args);
        self.read_reply()
    }

    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.send_bytes(args);
        self.read_reply_bytes()
    }

    pub fn read_reply(&mut self) -> String {
        String::from_utf8_lossy(&self.read_reply_bytes()).into_owned()
    }

    /// Reads exactly one complete reply (aggregates included).
    pub fn read_reply_bytes(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        self.read_into(&mut out);
        out
    }

    fn read_line(&mut self, out: &mut Vec<u8>) -> Vec<u8> {
        let mut line = Vec::new();
        self.reader
            .read_until(b'\n', &mut line)
            .expect("read reply");
        assert!(
            line.ends_with(b"\r\n"),
            "connection closed or bad line: {:?}",
            String::from_utf8_lossy(&line)
        );
        out.extend_from_slice(&line);
        line
    }

    fn read_into(&mut self, out: &mut Vec<u8>) {
        let line = self.read_line(out);
        let body = std::str::from_utf8(&line[1..line.len() - 2]).unwrap_or("0");
        match line[0] {
            b'$' | b'=' | b'!' => {
                let len: i64 = body.parse().unwrap();
                if len >= 0 {
                    let mut data = vec![0; len as usize + 2];
                    self.reader.read_exact(&mut data).unwrap();
                    out.extend_from_slice(&data);
                }
            }
            b'*' | b'~' | b'>' => {
                let n: i64 = body.parse().unwrap();
                for _ in 0..n.max(0) {
                    self.read_into(out);
                }
            }
            b'%' | b'|' => {
                let n: i64 = body.parse().unwrap();
                for _ in 0..2 * n.max(0) {
                    self.read_into(out);
                }
            }
            _ => {}
        }
    }

    /// True if the server closed the connection (EOF) within the read timeout.
    pub fn is_closed(&mut self) -> bool {
        let mut b = [0u8; 1];
        matches!(self.reader.read(&mut b), Ok(0) | Err(_))
    }

    /// Reads whatever is left until the server closes the connection: how many bytes came before the close,
    /// or `None` if it was still open at the read timeout.
    pub fn read_until_closed(&mut self) -> Option<usize> {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest).ok().map(|_| rest.len())
    }

    pub fn set_timeout(&mut self, d: Duration) {
        self.writer.set_read_timeout(Some(d)).unwrap();
    }
}

/// Runs each command on ferredis and on redis-server and asserts identical replies, byte for byte.
/// Both start empty; commands run in order on one connection each.
/// The bulk strings of a reply's exact text, nested arrays flattened, in order (nils skipped).
pub fn bulks(reply: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = reply.split("\r\n");
    while let Some(line) = lines.next() {
        if line.starts_with('$') && line != "$-1" {
            out.push(lines.next().unwrap_or_default().to_string());
        }
    }
    out
}

pub fn assert_same_as_redis(commands: &[&[&str]]) {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    for cmd in commands {
        let (got, want) = (a.cmd(cmd), b.cmd(cmd));
        assert_eq!(got, want, "reply to {cmd:?} differs from redis-server");
    }
}

/// Whether process `pid` holds the socket listening on `port`, from /proc: a listening socket of /proc/net/tcp
/// (or tcp6) on that port whose inode is one of the process's descriptors.
pub fn listens_on(pid: u32, port: u16) -> bool {
    let port_hex = format!(":{port:04X}");
    let listening: Vec<String> = ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let f: Vec<&str> = line.split_whitespace().collect();
                    let listen = f.len() > 9 && f[1].ends_with(&port_hex) && f[3] == "0A";
                    listen.then(|| format!("socket:[{}]", f[9]))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    if listening.is_empty() {
        return false;
    }
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    fds.filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
        .any(|target| listening.iter().any(|l| target.to_str() == Some(l)))
}

/// A field of INFO persistence, for the persistence and AOF tests.
pub fn info_field(c: &mut Client, name: &str) -> String {
    let info = c.cmd(&["info", "persistence"]);
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(str::to_string))
        .unwrap_or_else(|| panic!("no {name} in {info}"))
}

/// Polls `ok` every 20 ms for up to 20 s; fails the test with `what` if it never holds.
pub fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A scenario: runs on a fresh server and returns everything its clients read, in order.
pub type Scenario = fn(&Server) -> Vec<String>;

/// Runs `scenario` on ferredis and on redis-server and compares what the clients read.
pub fn scenario_same_as_redis(scenario: Scenario) {
    let ours = scenario(&Server::start());
    assert!(!ours.is_empty());
    if let Some(redis) = Server::start_redis() {
        assert_eq!(ours, scenario(&redis));
    }
}

/// A client switched to RESP3 (`HELLO 3`).
pub fn resp3_client(server: &Server) -> Client {
    let mut c = server.client();
    c.cmd(&["HELLO", "3"]);
    c
}

/// A fresh directory for one server's files (its `dir`, `--logfile` at `log`), removed at the end of the test;
/// the persistence and AOF tests share it. `tag` names it, unique per test.
pub struct Dir(pub std::path::PathBuf);

impl Dir {
    pub fn new(tag: &str) -> Dir {
        let path = std::env::temp_dir().join(format!("ferredis-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        Dir(path)
    }
    pub fn s(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
    pub fn file(&self, name: &str) -> std::path::PathBuf {
        self.0.join(name)
    }
    /// A file of the AOF directory (`appenddirname` left at its default).
    pub fn aof(&self, name: &str) -> std::path::PathBuf {
        self.0.join("appendonlydir").join(name)
    }
    /// The server's log so far (empty before it writes one).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.file("log")).unwrap_or_default()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
