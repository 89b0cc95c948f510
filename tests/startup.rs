//! Starting as redis-server starts: its log format and start-up lines (which Redis's test suite waits for), its
//! command-line conventions (`--save ''`, a name and value in one argument), `rename-command`, hidden
//! parameters and the defaults CONFIG GET reports.

mod common;

use std::time::{Duration, Instant};

use common::{assert_same_as_redis, Server};

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ferredis-startup-{name}-{}", std::process::id()))
}

/// Waits until the log holds `needle`, then returns it.
fn read_log_until(path: &std::path::Path, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `pid:role dd Mon yyyy hh:mm:ss.mmm c message`
fn split_line(line: &str) -> (u32, char, &str, char, &str) {
    let (pid, rest) = line.split_once(':').expect("pid:");
    let role = rest.chars().next().expect("role");
    let stamp = &rest[2..26];
    let level = rest[27..].chars().next().expect("level");
    (pid.parse().expect("pid"), role, stamp, level, &rest[29..])
}

#[test]
fn start_up_lines_are_redis_lines() {
    let log = temp_path("log");
    let _ = std::fs::remove_file(&log);
    let s = Server::start_with(&["--logfile", log.to_str().unwrap(), "--loglevel", "notice"]);
    let text = read_log_until(&log, "Ready to accept connections");
    let lines: Vec<&str> = text.lines().collect();
    let expected = [
        (
            'C',
            '#',
            "oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo".to_string(),
        ),
        (
            'C',
            '#',
            format!(
                "Redis version=7.0.15, bits=64, commit=00000000, modified=0, pid={}, just started",
                s.pid()
            ),
        ),
        ('C', '#', "Configuration loaded".to_string()),
        ('M', '*', "monotonic clock: POSIX clock_gettime".to_string()),
        (
            'M',
            '*',
            format!("Running mode=standalone, port={}.", s.port),
        ),
        ('M', '#', "Server initialized".to_string()),
        ('M', '*', "Ready to accept connections".to_string()),
    ];
    assert_eq!(lines.len(), expected.len(), "{text}");
    for (line, (role, level, message)) in lines.iter().zip(expected) {
        let (pid, r, stamp, l, m) = split_line(line);
        assert_eq!(
            (pid, r, l, m),
            (s.pid(), role, level, message.as_str()),
            "{line}"
        );
        // dd Mon yyyy hh:mm:ss.mmm
        let b = stamp.as_bytes();
        assert!(
            b[2] == b' ' && b[6] == b' ' && b[11] == b' ' && b[14] == b':' && b[20] == b'.',
            "{stamp}"
        );
    }
    let _ = std::fs::remove_file(&log);
}

#[test]
fn the_logo_carries_the_pid_and_loglevel_filters() {
    let log = temp_path("logo");
    let _ = std::fs::remove_file(&log);
    let s = Server::start_with(&[
        "--logfile",
        log.to_str().unwrap(),
        "--always-show-logo",
        "yes",
    ]);
    let text = read_log_until(&log, "Ready to accept connections");
    assert!(text.contains(&format!("     PID: {}\n", s.pid())), "{text}");
    assert!(text.contains(&format!("     Port: {}\n", s.port)), "{text}");
    assert!(text.contains("Redis 7.0.15 (00000000/0) 64 bit"), "{text}");
    assert!(!text.contains("Running mode="), "{text}");
    drop(s);

    let quiet = temp_path("quiet");
    let _ = std::fs::remove_file(&quiet);
    let s = Server::start_with(&[
        "--logfile",
        quiet.to_str().unwrap(),
        "--loglevel",
        "warning",
    ]);
    let text = read_log_until(&quiet, "Server initialized");
    assert!(text.contains(" # Server initialized\n"), "{text}");
    assert!(
        !text.contains(" * "),
        "notice lines under loglevel warning: {text}"
    );
    drop(s);
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&quiet);
}

#[test]
fn command_line_as_redis_reads_it() {
    let s = Server::start_with(&["--maxmemory 700mb", "--hz", "20", "--save"]);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        "*2\r\n$9\r\nmaxmemory\r\n$9\r\n734003200\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "hz"]),
        "*2\r\n$2\r\nhz\r\n$2\r\n20\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
    );
    drop(s);
    let s = Server::start_with(&["--save", "60", "1", "--save", "30 2"]);
    assert_eq!(
        s.client().cmd(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$9\r\n60 1 30 2\r\n"
    );
}

#[test]
fn rename_command_renames_or_disables() {
    let conf = temp_path("rename.conf");
    std::fs::write(
        &conf,
        "rename-command flushdb badger\nrename-command keys \"\"\n",
    )
    .unwrap();
    let s = Server::start_with(&["--include", conf.to_str().unwrap()]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["SET", "k", "v"]), "+OK\r\n");
    assert_eq!(
        c.cmd(&["FLUSHDB"]),
        "-ERR unknown command 'FLUSHDB', with args beginning with: \r\n"
    );
    assert_eq!(c.cmd(&["BADGER"]), "+OK\r\n");
    assert_eq!(c.cmd(&["DBSIZE"]), ":0\r\n");
    assert_eq!(
        c.cmd(&["keys", "*"]),
        "-ERR unknown command 'keys', with args beginning with: '*' \r\n"
    );
    drop(s);
    std::fs::write(&conf, "rename-command nosuch x\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No such command in rename-command"), "{err}");
    std::fs::write(&conf, "rename-command get set\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .arg(&conf)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Target command name already exists"), "{err}");
    let _ = std::fs::remove_file(&conf);
}

#[test]
fn hidden_parameters_answer_only_to_their_name() {
    assert_same_as_redis(&[
        &["CONFIG", "GET", "key-load-delay"],
        &["CONFIG", "SET", "key-load-delay", "50"],
        &["CONFIG", "GET", "key-load-delay"],
        &["CONFIG", "GET", "key-load*"],
        &["CONFIG", "SET", "key-load-delay", "x"],
        &["CONFIG", "GET", "loading-process-events-interval-bytes"],
        &[
            "CONFIG",
            "SET",
            "loading-process-events-interval-bytes",
            "10",
        ],
    ]);
}

#[test]
fn defaults_are_redis_defaults() {
    // Without `--save ''`: the default save points.
    let s = Server::start_with(&["--save", "3600 1 300 100 60 10000"]);
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "bind"]),
        "*2\r\n$4\r\nbind\r\n$6\r\n* -::*\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "save"]),
        "*2\r\n$4\r\nsave\r\n$23\r\n3600 1 300 100 60 10000\r\n"
    );
    // `*` and `-::*` both listen: IPv4 and (where there is IPv6) IPv6 on the same port.
    assert!(std::net::TcpStream::connect(("127.0.0.1", s.port)).is_ok());
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "bind", "127.0.0.1"]),
        "+OK\r\n",
        "a specific address under the wildcard"
    );
    assert_eq!(common::Client::connect(s.port).cmd(&["PING"]), "+PONG\r\n");
}
