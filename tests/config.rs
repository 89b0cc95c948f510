//! Configuration and lifecycle: CONFIG GET/SET/REWRITE against Redis's replies, the config file and command
//! line, the parameters that take effect (maxclients, timeout, port, requirepass, loglevel, hz), SHUTDOWN and
//! signals.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{assert_same_as_redis, free_port, Client, Server};

#[test]
fn config_get_and_set_match_redis() {
    assert_same_as_redis(&[
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "GET", "MAXMEMORY"],
        &["CONFIG", "GET", "list-max-ziplist-size"],
        &["CONFIG", "GET", "hash-max-ziplist-entries"],
        &["CONFIG", "GET", "nosuchparam"],
        &["CONFIG", "GET", "client-output-buffer-limit"],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "GET", "oom-score-adj-values"],
        &["CONFIG", "GET", "latency-tracking-info-percentiles"],
        &["CONFIG", "GET"],
        &["CONFIG", "SET", "foo", "bar"],
        &["CONFIG", "SET", "daemonize", "yes"],
        &["CONFIG", "SET", "databases", "4"],
        &["CONFIG", "SET", "dir", "/tmp"],
        &["CONFIG", "SET", "dbfilename", "x.rdb"],
        &["CONFIG", "SET", "maxclients", "abc"],
        &["CONFIG", "SET", "maxclients", "0"],
        &["CONFIG", "SET", "timeout", "-1"],
        &["CONFIG", "SET", "timeout", "1", "timeout", "2"],
        &[
            "CONFIG",
            "SET",
            "timeout",
            "1",
            "hash-max-listpack-entries",
            "2",
            "hash-max-ziplist-entries",
            "3",
        ],
        &["CONFIG", "SET", "timeout"],
        &["CONFIG", "SET", "timeout", "1", "hz"],
        &["CONFIG", "SET", "loglevel", "loud"],
        &["CONFIG", "SET", "appendonly", "maybe"],
        &["CONFIG", "SET", "maxmemory", "1xb"],
        &["CONFIG", "SET", "maxmemory", "-1"],
        &["CONFIG", "SET", "save", "10 abc"],
        &["CONFIG", "SET", "save", "10"],
        &["CONFIG", "SET", "notify-keyspace-events", "Q"],
        &["CONFIG", "SET", "client-output-buffer-limit", "foo 1 2 3"],
        &["CONFIG", "SET", "client-output-buffer-limit", "normal 1 2"],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 1 x 3",
        ],
        &["CONFIG", "SET", "oom-score-adj-values", "1 2"],
        &["CONFIG", "SET", "oom-score-adj-values", "1 2 3000"],
        &["CONFIG", "SET", "oom-score-adj", "bogus"],
        &["CONFIG", "SET", "maxmemory-policy", "bogus"],
        &[
            "CONFIG",
            "SET",
            "latency-tracking-info-percentiles",
            "50 101",
        ],
        &["CONFIG", "SET", "latency-tracking-info-percentiles", "50 x"],
        // Successful sets, read back in canonical form.
        &[
            "CONFIG",
            "SET",
            "maxmemory",
            "1mb",
            "maxmemory-policy",
            "ALLKEYS-LRU",
        ],
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "SET", "hz", "1000"],
        &["CONFIG", "GET", "hz"],
        &["CONFIG", "SET", "hz", "0"],
        &["CONFIG", "GET", "hz"],
        &["CONFIG", "SET", "list-max-ziplist-size", "-3"],
        &["CONFIG", "GET", "list-max-listpack-size"],
        &[
            "CONFIG",
            "SET",
            "appendfsync",
            "ALWAYS",
            "activerehashing",
            "NO",
        ],
        &["CONFIG", "GET", "appendfsync"],
        &["CONFIG", "GET", "activerehashing"],
        &["CONFIG", "SET", "save", "100 10 20 1"],
        &["CONFIG", "GET", "save"],
        &["CONFIG", "SET", "save", ""],
        &["CONFIG", "SET", "notify-keyspace-events", "KEA"],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &["CONFIG", "SET", "notify-keyspace-events", "Elg$"],
        &["CONFIG", "GET", "notify-keyspace-events"],
        &[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 1mb 2kb 3 replica 1 2 3",
        ],
        &["CONFIG", "GET", "client-output-buffer-limit"],
        &["CONFIG", "SET", "oom-score-adj", "relative"],
        &["CONFIG", "GET", "oom-score-adj"],
        &[
            "CONFIG",
            "SET",
            "latency-tracking-info-percentiles",
            "1.5 99.90 100",
        ],
        &["CONFIG", "GET", "latency-tracking-info-percentiles"],
        &["CONFIG", "SET", "maxmemory-clients", "10%"],
        &["CONFIG", "GET", "maxmemory-clients"],
        &["CONFIG", "SET", "shutdown-on-sigterm", "nosave force"],
        &["CONFIG", "GET", "shutdown-on-sigterm"],
        &["CONFIG", "SET", "requirepass", ""],
        &["CONFIG", "REWRITE"],
        &["CONFIG", "RESETSTAT", "x"],
    ]);
}

#[test]
fn every_redis_parameter_exists_under_config_get_star() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let names = |c: &mut Client| -> Vec<String> {
        let reply = c.cmd(&["CONFIG", "GET", "*"]);
        let mut lines = reply.split("\r\n").skip(1);
        let mut out = Vec::new();
        while let (Some(_len), Some(name)) = (lines.next(), lines.next()) {
            out.push(name.to_string());
            lines.next();
            lines.next();
        }
        out.sort();
        out
    };
    let (theirs, mine) = (names(&mut redis.client()), names(&mut ours.client()));
    assert_eq!(mine, theirs);
}

#[test]
fn config_get_globs_match_names_and_aliases() {
    let s = Server::start();
    let mut c = s.client();
    let reply = c.cmd(&[
        "CONFIG",
        "GET",
        "hash-max-*-entries",
        "HASH-MAX-LISTPACK-ENTRIES",
    ]);
    assert!(reply.starts_with("*4\r\n"), "{reply}");
    assert!(reply.contains("$24\r\nhash-max-ziplist-entries\r\n$3\r\n512\r\n"));
    assert!(reply.contains("$25\r\nhash-max-listpack-entries\r\n$3\r\n512\r\n"));
    // A name without glob characters comes back spelled as asked.
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "MaxClients"]),
        "*2\r\n$10\r\nMaxClients\r\n$5\r\n10000\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "GET", "x*y"]), "*0\r\n");
}

#[test]
fn config_set_is_all_or_nothing() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "5", "maxclients", "nope"]),
        "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "timeout"]),
        "*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "5", "maxclients", "50"]),
        "+OK\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "timeout", "maxclients"]),
        "*4\r\n$7\r\ntimeout\r\n$1\r\n5\r\n$10\r\nmaxclients\r\n$2\r\n50\r\n"
    );
}

#[test]
fn loglevel_changes_at_runtime() {
    let s = Server::start_with(&["--loglevel", "warning"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["CONFIG", "SET", "loglevel", "DEBUG"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "loglevel"]),
        "*2\r\n$8\r\nloglevel\r\n$5\r\ndebug\r\n"
    );
}

#[test]
fn maxclients_refuses_the_extra_client() {
    let s = Server::start_with(&["--maxclients", "2"]);
    let mut a = s.client();
    assert_eq!(a.cmd(&["PING"]), "+PONG\r\n");
    // The start-up probe's connection may still be closing: wait until `a` is alone.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !a
        .cmd(&["INFO", "clients"])
        .contains("connected_clients:1\r\n")
    {
        assert!(std::time::Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut b = s.client();
    assert_eq!(b.cmd(&["PING"]), "+PONG\r\n");
    let mut c = s.client();
    assert_eq!(c.read_reply(), "-ERR max number of clients reached\r\n");
    assert!(c.is_closed());
    // Raising the limit at runtime lets the next one in.
    assert_eq!(a.cmd(&["CONFIG", "SET", "maxclients", "3"]), "+OK\r\n");
    let mut d = s.client();
    assert_eq!(d.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn timeout_closes_idle_clients_only() {
    let s = Server::start_with(&["--timeout", "1"]);
    let mut idle = s.client();
    let mut busy = s.client();
    assert_eq!(idle.cmd(&["PING"]), "+PONG\r\n");
    let start = std::time::Instant::now();
    while start.elapsed() < Duration::from_millis(2600) {
        assert_eq!(busy.cmd(&["PING"]), "+PONG\r\n");
        std::thread::sleep(Duration::from_millis(200));
    }
    idle.set_timeout(Duration::from_secs(2));
    assert!(idle.is_closed(), "idle client still open");
    assert_eq!(busy.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn config_set_port_moves_the_listener() {
    let s = Server::start();
    let mut c = s.client();
    let new_port = free_port();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "port", &new_port.to_string()]),
        "+OK\r\n"
    );
    let mut d = Client::connect(new_port);
    assert_eq!(d.cmd(&["PING"]), "+PONG\r\n");
    // The old port no longer accepts.
    std::thread::sleep(Duration::from_millis(100));
    assert!(std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err());
    // A port that cannot be bound changes nothing.
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = blocker.local_addr().unwrap().port().to_string();
    assert_eq!(
        d.cmd(&["CONFIG", "SET", "port", &taken]),
        "-ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port\r\n"
    );
    assert_eq!(
        d.cmd(&["CONFIG", "GET", "port"]),
        format!(
            "*2\r\n$4\r\nport\r\n${}\r\n{new_port}\r\n",
            new_port.to_string().len()
        )
    );
}

#[test]
fn config_set_bind_keeps_addresses_it_already_listens_on() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "bind", "127.0.0.1 -::1"]),
        "+OK\r\n"
    );
    // The socket on 127.0.0.1 is the same one: no connection is refused or dropped across the change.
    for _ in 0..10 {
        assert_eq!(Client::connect(s.port).cmd(&["PING"]), "+PONG\r\n");
    }
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "bind", "198.51.100.7"]),
        "-ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "bind"]),
        "*2\r\n$4\r\nbind\r\n$14\r\n127.0.0.1 -::1\r\n"
    );
}

/// ferredis started as `ferredis <file> --port P <flags>`: the file must come first on the command line.
struct FileServer {
    child: std::process::Child,
    port: u16,
}

impl FileServer {
    fn start(file: &str, flags: &[&str]) -> FileServer {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_ferredis"))
            .arg(file)
            .args(["--port", &port.to_string()])
            .args(flags)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let s = FileServer { child, port };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "ferredis did not start"
            );

            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_conf(text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "ferredis-test-{}-{}.conf",
        std::process::id(),
        free_port()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs ferredis expecting it to stop at start-up; returns (exit success, stdout + stderr).
fn run_failing(args: &[&str]) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("ferredis did not stop for {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    (status.success(), out)
}

#[test]
fn config_file_errors_name_file_and_line() {
    let path = write_conf("# comment\nport 6390\n\nmaxclients lots\n");
    let (ok, out) = run_failing(&[path.to_str().unwrap()]);
    assert!(!ok);
    assert!(out.contains(&format!("'{}'", path.display())), "{out}");
    assert!(out.contains("at line 4"), "{out}");
    assert!(out.contains(">>> 'maxclients lots'"), "{out}");
    assert!(
        out.contains("argument couldn't be parsed into an integer"),
        "{out}"
    );

    std::fs::write(&path, "port 6390\nnosuchdirective 1\n").unwrap();
    let (ok, out) = run_failing(&[path.to_str().unwrap()]);
    assert!(!ok);
    assert!(out.contains("at line 2"), "{out}");
    assert!(
        out.contains("Bad directive or wrong number of arguments"),
        "{out}"
    );

    std::fs::write(&path, "requirepass \"unbalanced\n").unwrap();
    let (ok, out) = run_failing(&[path.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        out.contains("Unbalanced quotes in configuration line"),
        "{out}"
    );
    let _ = std::fs::remove_file(&path);

    let (ok, out) = run_failing(&["/nonexistent/ferredis.conf"]);
    assert!(!ok);
    assert!(out.contains("/nonexistent/ferredis.conf"), "{out}");

    let (ok, out) = run_failing(&["--maxclients", "0"]);
    assert!(!ok);
    assert!(
        out.contains("argument must be between 1 and 4294967295 inclusive"),
        "{out}"
    );
    let (ok, out) = run_failing(&["--no-such-flag", "1"]);
    assert!(!ok, "{out}");
}

#[test]
fn help_documents_every_parameter() {
    let (ok, out) = run_failing(&["--help"]);
    assert!(ok);
    for flag in [
        "--port",
        "--bind",
        "--maxclients",
        "--timeout",
        "--loglevel",
        "--save",
        "--hash-max-listpack-entries",
    ] {
        assert!(out.contains(flag), "--help lacks {flag}");
    }
}

#[test]
fn flags_override_the_file_and_rewrite_keeps_it() {
    let path =
        write_conf("# my settings\ntimeout 7\nmaxclients 100\nhz 20\nrequirepass \"pass word\"\n");
    let s = FileServer::start(path.to_str().unwrap(), &["--maxclients", "200"]);
    let mut c = Client::connect(s.port);
    assert_eq!(c.cmd(&["AUTH", "pass word"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "timeout", "maxclients", "hz"]),
        "*6\r\n$7\r\ntimeout\r\n$1\r\n7\r\n$10\r\nmaxclients\r\n$3\r\n200\r\n$2\r\nhz\r\n$2\r\n20\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "9", "maxmemory", "2mb"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(
            "# my settings\ntimeout 9\nmaxclients 200\nhz 20\nrequirepass \"pass word\"\n"
        ),
        "{text}"
    );
    assert!(text.contains("# Generated by CONFIG REWRITE\n"), "{text}");
    assert!(text.contains("\nmaxmemory 2097152\n"), "{text}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn redis_conf_conventions() {
    let included = write_conf("hz 25\n");
    let main = write_conf(&format!(
        "bind 127.0.0.1 -203.0.113.77\nsave 900 1\nsave 300 10\n  # indented comment\n\
         list-max-ziplist-entries 512\ninclude {}\nnotify-keyspace-events \"\"\n\
         client-output-buffer-limit normal 1 2 3\nclient-output-buffer-limit pubsub 64mb 16mb 30\n",
        included.display()
    ));
    let s = FileServer::start(main.to_str().unwrap(), &[]);
    let mut c = Client::connect(s.port);
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$12\r\n900 1 300 10\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n25\r\n"
    );
    // The optional address that cannot be bound is skipped, and still shown.
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "bind"]),
        "*2\r\n$4\r\nbind\r\n$23\r\n127.0.0.1 -203.0.113.77\r\n"
    );
    // Each line changes only its class.
    let limits = "normal 1 2 3 slave 268435456 67108864 60 pubsub 67108864 16777216 30";
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "client-output-buffer-limit"]),
        format!(
            "*2\r\n$26\r\nclient-output-buffer-limit\r\n${}\r\n{limits}\r\n",
            limits.len()
        )
    );
    drop(s);

    // A single-valued parameter with two values is refused, naming the line.
    std::fs::write(&main, "port 1 2\n").unwrap();
    let (ok, out) = run_failing(&[main.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        out.contains("at line 1") && out.contains("wrong number of arguments"),
        "{out}"
    );
    let _ = std::fs::remove_file(&main);
    let _ = std::fs::remove_file(&included);
}

#[test]
fn shutdown_nosave_exits_zero() {
    let mut s = Server::start();
    let mut c = s.client();
    c.send(&["SHUTDOWN", "NOSAVE"]);
    let status = s.wait_exit(Duration::from_secs(5)).expect("server exited");
    assert!(status.success(), "{status}");
}

#[test]
fn shutdown_that_would_save_fails_as_a_failed_save_does() {
    // No file can be created in /proc, not even by root: the save before exiting fails.
    let mut s = Server::start_with(&["--save", "60 1", "--dir", "/proc"]);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["SHUTDOWN"]),
        "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    assert_eq!(
        c.cmd(&["SHUTDOWN", "SAVE"]),
        "-ERR Errors trying to SHUTDOWN. Check logs.\r\n"
    );
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    c.send(&["SHUTDOWN", "SAVE", "FORCE"]);
    let status = s.wait_exit(Duration::from_secs(5)).expect("server exited");
    assert!(status.success());
}

#[test]
fn sigterm_exits_zero() {
    let mut s = Server::start();
    let _c = s.client();
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(s.pid() as i32, libc::SIGTERM) };
    let status = s.wait_exit(Duration::from_secs(5)).expect("server exited");
    assert!(status.success(), "{status}");
}

#[test]
fn sigterm_with_save_points_behaves_as_a_failed_save() {
    let mut s = Server::start_with(&["--save", "60 1", "--dir", "/proc"]);
    let mut c = s.client();
    // SAFETY: sending a signal to our own child process.
    unsafe { libc::kill(s.pid() as i32, libc::SIGTERM) };
    assert!(s.wait_exit(Duration::from_millis(500)).is_none());
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "shutdown-on-sigterm", "force"]),
        "+OK\r\n"
    );
    unsafe { libc::kill(s.pid() as i32, libc::SIGTERM) };
    let status = s.wait_exit(Duration::from_secs(5)).expect("server exited");
    assert!(status.success(), "{status}");
}
