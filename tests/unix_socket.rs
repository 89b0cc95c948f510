//! `unixsocket` / `unixsocketperm`: clients of the unix socket get the same service as TCP clients, CLIENT LIST
//! shows them as Redis does (`addr=<path>:0 laddr=<path>:0`, flag `U`), the socket file gets the mode asked for,
//! a stale file at the path is replaced at start, and SHUTDOWN removes it. Compared with redis-server.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use common::{Client, Server};

/// A directory of its own for the socket file, removed at the end.
struct SockDir(PathBuf);

impl SockDir {
    fn new(tag: &str) -> SockDir {
        let dir = std::env::temp_dir().join(format!("ferredis-unix-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        SockDir(dir)
    }

    fn path(&self) -> String {
        self.0.join("server.sock").display().to_string()
    }
}

impl Drop for SockDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// One CLIENT LIST field of `line`.
fn field<'a>(line: &'a str, name: &str) -> &'a str {
    line.split(' ')
        .find_map(|f| f.strip_prefix(&format!("{name}=")))
        .unwrap_or_default()
}

/// What a client of the unix socket sees, with the socket's path written as `SOCK`.
fn scenario(mut server: Server, dir: &SockDir) -> Vec<String> {
    let path = dir.path();
    let mut seen = Vec::new();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    seen.push(format!("mode {mode:o}"));
    let mut u = Client::connect_unix(&path);
    seen.push(u.cmd(&["ping"]));
    seen.push(u.cmd(&["set", "k", "v"]));
    seen.push(u.cmd(&["get", "k"]));
    let info = u.cmd(&["client", "info"]);
    for name in ["addr", "laddr", "flags", "cmd"] {
        seen.push(format!(
            "{name}={}",
            field(&info, name).replace(&path, "SOCK")
        ));
    }
    // A TCP client sees the unix one in CLIENT LIST.
    let mut t = server.client();
    let list = t.cmd(&["client", "list"]);
    let unix_line = list
        .lines()
        .find(|l| field(l, "flags") == "U")
        .unwrap_or("");
    seen.push(format!(
        "listed addr={}",
        field(unix_line, "addr").replace(&path, "SOCK")
    ));
    // Blocking commands work across the two kinds of connection.
    u.send(&["blpop", "q", "0"]);
    server.wait_blocked(|n| n == 1);
    seen.push(t.cmd(&["rpush", "q", "x"]));
    seen.push(u.read_reply());
    // CLIENT KILL by its address ends it.
    seen.push(t.cmd(&["client", "kill", "addr", &format!("{path}:0")]));
    seen.push(format!("closed {}", u.is_closed()));
    // SHUTDOWN through the socket removes the socket file.
    let mut u = Client::connect_unix(&path);
    u.send(&["shutdown", "nosave"]);
    seen.push(format!(
        "exit {:?}",
        server
            .wait_exit(Duration::from_secs(20))
            .map(|s| s.success())
    ));
    seen.push(format!(
        "file left {}",
        std::path::Path::new(&path).exists()
    ));
    seen
}

fn args(dir: &SockDir) -> Vec<String> {
    // A stale file where the socket goes: replaced at start.
    std::fs::write(dir.path(), "stale").unwrap();
    ["--unixsocket", &dir.path(), "--unixsocketperm", "700"]
        .map(String::from)
        .to_vec()
}

#[test]
fn unix_socket_clients_as_redis() {
    let dir = SockDir::new("ferredis");
    let a = args(&dir);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let ours = scenario(Server::start_with(&a), &dir);
    assert_eq!(
        ours,
        [
            "mode 700",
            "+PONG\r\n",
            "+OK\r\n",
            "$1\r\nv\r\n",
            "addr=SOCK:0",
            "laddr=SOCK:0",
            "flags=U",
            "cmd=client|info",
            "listed addr=SOCK:0",
            ":1\r\n",
            "*2\r\n$1\r\nq\r\n$1\r\nx\r\n",
            ":1\r\n",
            "closed true",
            "exit Some(true)",
            "file left false",
        ]
    );
    let dir = SockDir::new("redis");
    let a = args(&dir);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    if let Some(redis) = Server::start_redis_with(&a) {
        assert_eq!(ours, scenario(redis, &dir));
    }
}

/// A path the socket cannot be made at: the server does not start, as Redis exits.
#[test]
fn unusable_path_stops_the_start() {
    let dir = SockDir::new("bad");
    let bad = dir
        .0
        .join("no-such-dir")
        .join("s.sock")
        .display()
        .to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args([
            "--port",
            &common::free_port().to_string(),
            "--unixsocket",
            &bad,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(log.contains("# Failed opening Unix socket: "), "{log}");
}
