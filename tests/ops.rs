//! SLOWLOG, LATENCY, CLIENT PAUSE/UNPAUSE, MODULE and LOLWUT against redis-server: exact replies and errors, and
//! the behaviour behind them (what is logged, who waits during a pause).

mod common;

use common::{assert_same_as_redis, bulks, Client, Server};
use std::time::{Duration, Instant};

/// Replies that do not depend on timing: help texts, errors, empty logs, refusals.
#[test]
fn fixed_replies_match_redis() {
    assert_same_as_redis(&[
        &["slowlog", "help"],
        &["slowlog", "get", "-2"],
        &["slowlog", "get", "x"],
        &["slowlog", "get", "1", "2"],
        &["slowlog", "len", "x"],
        &["slowlog", "nosuch"],
        &["slowlog"],
        &["latency", "help"],
        &["latency", "help", "xxx"],
        &["latency", "latest"],
        &["latency", "history", "command"],
        &["latency", "graph", "command"],
        &["latency", "reset", "nosuch"],
        &["latency", "reset"],
        &["latency", "doctor"],
        &["latency", "histogram", "nosuchcommand"],
        &["module", "help"],
        &["module", "list"],
        &["module", "load", "/nonexistent.so"],
        &["module", "loadex", "/nonexistent.so"],
        &["module", "unload", "nosuch"],
        &["module", "nosuch"],
        &["lolwut"],
        &["lolwut", "version", "7"],
        &["lolwut", "version", "x"],
        &["client", "pause"],
        &["client", "pause", "x"],
        &["client", "pause", "-1"],
        &["client", "pause", "10", "foo"],
        &["client", "pause", "10", "write", "x"],
        &["client", "pause", "9223372036854775807"],
        &["client", "unpause", "x"],
        &["client", "unpause"],
        &["config", "set", "slowlog-max-len", "-1"],
        &["config", "set", "slowlog-log-slower-than", "-2"],
        &["config", "set", "latency-monitor-threshold", "-1"],
        // Protected commands are refused before they run: inside MULTI the transaction is doomed.
        &["debug", "sleep", "0"],
        &["multi"],
        &["debug", "sleep", "0"],
        &["module", "unload", "x"],
        &["module", "list"],
        &["exec"],
    ]);
}

/// MODULE LOAD allowed by `enable-module-command`: the load fails as a missing file fails in Redis.
#[test]
fn module_load_when_allowed_matches_redis() {
    let args = ["--enable-module-command", "yes"];
    let Some(redis) = Server::start_redis_with(&args) else {
        return;
    };
    let ours = Server::start_with(&args);
    for cmd in [
        &["module", "load", "/nonexistent.so", "a"][..],
        &["module", "unload", "nosuch"],
        &["module", "list"],
    ] {
        assert_eq!(ours.client().cmd(cmd), redis.client().cmd(cmd), "{cmd:?}");
    }
}

/// The arguments and client name of the newest entries of SLOWLOG GET (id, time, duration and address vary).
fn slow_args(c: &mut Client, count: &str) -> Vec<Vec<String>> {
    let reply = c.cmd(&["slowlog", "get", count]);
    let mut out = Vec::new();
    let mut entry = Vec::new();
    for line in reply.split("\r\n") {
        if line == "*6" {
            if !entry.is_empty() {
                out.push(std::mem::take(&mut entry));
            }
            continue;
        }
        entry.push(line.to_string());
    }
    if !entry.is_empty() {
        out.push(entry);
    }
    // Drop the integer fields and the address (`:id`, `:time`, `:usec`, then `$n` / `ip:port`).
    out.into_iter()
        .map(|e| {
            e.into_iter()
                .filter(|l| !l.starts_with(':') && !l.starts_with("127.0.0.1:"))
                .filter(|l| !l.starts_with('$') || l == "$0")
                .collect()
        })
        .collect()
}

#[test]
fn slowlog_entries_match_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let long = "A".repeat(129);
    let many: Vec<String> = (0..40).map(|i| i.to_string()).collect();
    let mut sadd: Vec<&str> = vec!["sadd", "set"];
    sadd.extend(many.iter().map(String::as_str));
    let script: Vec<Vec<&str>> = vec![
        vec!["config", "set", "slowlog-log-slower-than", "0"],
        vec!["config", "set", "slowlog-max-len", "20"],
        vec!["client", "setname", "logger"],
        vec!["slowlog", "reset"],
        sadd,
        vec!["set", "k", &long],
        vec!["incrbyfloat", "n", "1.5"],
        vec!["multi"],
        vec!["set", "a", "1"],
        vec!["exec"],
        vec!["auth", "secret"],
    ];
    let mut compared = Vec::new();
    for server in [&ours, &redis] {
        let mut c = server.client();
        for cmd in &script {
            c.cmd(cmd);
        }
        let len = c.cmd(&["slowlog", "len"]);
        compared.push((len, slow_args(&mut c, "-1")));
    }
    assert_eq!(compared[0], compared[1]);
    assert!(format!("{:?}", compared[0]).contains("(1 more bytes)"));
}

#[test]
fn slowlog_threshold_max_len_and_disable() {
    let srv = Server::start_with(&["--enable-debug-command", "yes"]);
    let mut c = srv.client();
    c.cmd(&["config", "set", "slowlog-log-slower-than", "100000"]);
    c.cmd(&["get", "fast"]);
    assert_eq!(c.cmd(&["slowlog", "len"]), ":0\r\n");
    c.cmd(&["debug", "sleep", "0.15"]);
    assert_eq!(c.cmd(&["slowlog", "len"]), ":1\r\n");
    let entry = c.cmd(&["slowlog", "get"]);
    assert!(bulks(&entry).starts_with(&["debug".into(), "sleep".into(), "0.15".into()]));
    c.cmd(&["config", "set", "slowlog-log-slower-than", "0"]);
    c.cmd(&["config", "set", "slowlog-max-len", "3"]);
    for _ in 0..5 {
        c.cmd(&["ping"]);
    }
    assert_eq!(c.cmd(&["slowlog", "len"]), ":3\r\n");
    assert_eq!(c.cmd(&["slowlog", "get", "0"]), "*0\r\n");
    c.cmd(&["config", "set", "slowlog-log-slower-than", "-1"]);
    c.cmd(&["slowlog", "reset"]);
    c.cmd(&["debug", "sleep", "0.01"]);
    assert_eq!(c.cmd(&["slowlog", "len"]), ":0\r\n");
}

/// A blocked BLPOP is logged when it is served, as Redis logs it on unblocking; one that times out is not.
#[test]
fn slowlog_logs_served_blocked_commands() {
    let srv = Server::start();
    let mut c = srv.client();
    c.cmd(&["config", "set", "slowlog-log-slower-than", "0"]);
    let mut waiter = srv.blocked_client(&["blpop", "l", "0"]);
    c.cmd(&["slowlog", "reset"]);
    c.cmd(&["lpush", "l", "x"]);
    assert_eq!(waiter.read_reply(), "*2\r\n$1\r\nl\r\n$1\r\nx\r\n");
    let logged = c.cmd(&["slowlog", "get"]);
    assert!(
        logged.contains("$5\r\nblpop\r\n$1\r\nl\r\n$1\r\n0\r\n"),
        "{logged}"
    );
    c.cmd(&["slowlog", "reset"]);
    assert_eq!(waiter.cmd(&["blpop", "l", "0.01"]), "*-1\r\n");
    let logged = c.cmd(&["slowlog", "get"]);
    assert!(!logged.contains("blpop"), "{logged}");
}

#[test]
fn latency_monitor_records_slow_commands() {
    let srv = Server::start_with(&["--enable-debug-command", "yes"]);
    let mut c = srv.client();
    assert_eq!(c.cmd(&["latency", "latest"]), "*0\r\n");
    c.cmd(&["config", "set", "latency-monitor-threshold", "50"]);
    c.cmd(&["debug", "sleep", "0.1"]);
    let latest = c.cmd(&["latency", "latest"]);
    assert!(
        latest.starts_with("*1\r\n*4\r\n$7\r\ncommand\r\n:"),
        "{latest}"
    );
    let history = c.cmd(&["latency", "history", "command"]);
    assert!(history.starts_with("*1\r\n*2\r\n:"), "{history}");
    let graph = c.cmd(&["latency", "graph", "command"]);
    assert!(graph.contains("command - high "), "{graph}");
    let doctor = c.cmd(&["latency", "doctor"]);
    assert!(doctor.contains("1. command: 1 latency spikes"), "{doctor}");
    assert_eq!(c.cmd(&["latency", "reset", "COMMAND"]), ":1\r\n");
    assert_eq!(c.cmd(&["latency", "latest"]), "*0\r\n");
}

#[test]
fn latency_histogram_and_latencystats() {
    let srv = Server::start();
    let mut c = srv.client();
    c.cmd(&["config", "resetstat"]);
    c.cmd(&["set", "a", "b"]);
    c.cmd(&["set", "c", "d"]);
    c.cmd(&["client", "id"]);
    let h = c.cmd(&["latency", "histogram", "set", "client", "nosuch"]);
    assert!(
        h.starts_with("*4\r\n$3\r\nset\r\n*4\r\n$5\r\ncalls\r\n:2\r\n$14\r\nhistogram_usec\r\n*"),
        "{h}"
    );
    assert!(
        h.contains("$9\r\nclient|id\r\n*4\r\n$5\r\ncalls\r\n:1\r\n"),
        "{h}"
    );
    let info = c.cmd(&["info", "latencystats"]);
    assert!(
        info.contains("# Latencystats\r\nlatency_percentiles_usec_"),
        "{info}"
    );
    let set = info
        .lines()
        .find(|l| l.starts_with("latency_percentiles_usec_set:"));
    let set = set.unwrap_or_default();
    assert!(
        set.contains(":p50=") && set.contains(",p99=") && set.contains(",p99.9="),
        "{set}"
    );
    c.cmd(&[
        "config",
        "set",
        "latency-tracking-info-percentiles",
        "50 100",
    ]);
    let info = c.cmd(&["info", "latencystats"]);
    assert!(info.contains("latency_percentiles_usec_set:p50="), "{info}");
    assert!(info.contains(",p100="), "{info}");
    assert!(!c.cmd(&["info"]).contains("Latencystats"));
    c.cmd(&["config", "set", "latency-tracking", "no"]);
    assert_eq!(
        c.cmd(&["info", "latencystats"]),
        "$16\r\n# Latencystats\r\n\r\n"
    );
}

/// Waits until INFO's `blocked_clients` is `n`.
fn wait_blocked(srv: &Server, n: usize) {
    srv.wait_blocked(|b| b == n);
}

#[test]
fn pause_write_holds_writes_only() {
    let srv = Server::start();
    let mut admin = srv.client();
    admin.cmd(&["set", "k", "v"]);
    // Queued before the pause; queuing a write during it would wait too, as in Redis.
    let mut tx = srv.client();
    tx.cmd(&["multi"]);
    tx.cmd(&["incr", "n"]);
    assert_eq!(admin.cmd(&["client", "pause", "60000", "write"]), "+OK\r\n");
    // Reads, errors found before running, and read-only transactions go on.
    let mut reader = srv.client();
    assert_eq!(reader.cmd(&["get", "k"]), "$1\r\nv\r\n");
    assert_eq!(
        reader.cmd(&["set", "k"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
    reader.cmd(&["multi"]);
    reader.cmd(&["get", "k"]);
    assert_eq!(reader.cmd(&["exec"]), "*1\r\n$1\r\nv\r\n");
    assert_eq!(
        reader.cmd(&["eval", "#!lua flags=no-writes\nreturn 1", "0"]),
        ":1\r\n"
    );
    // Writes, PUBLISH, EVAL and an EXEC that writes wait.
    let mut writer = srv.client();
    writer.send(&["set", "k", "w"]);
    let mut publisher = srv.client();
    publisher.send(&["publish", "ch", "m"]);
    tx.send(&["exec"]);
    let mut script = srv.client();
    script.send(&["eval", "return 1", "0"]);
    wait_blocked(&srv, 4);
    assert_eq!(admin.cmd(&["get", "k"]), "$1\r\nv\r\n");
    assert_eq!(admin.cmd(&["client", "unpause"]), "+OK\r\n");
    assert_eq!(writer.read_reply(), "+OK\r\n");
    assert_eq!(publisher.read_reply(), ":0\r\n");
    assert_eq!(tx.read_reply(), "*1\r\n:1\r\n");
    assert_eq!(script.read_reply(), ":1\r\n");
    assert_eq!(admin.cmd(&["get", "k"]), "$1\r\nw\r\n");
    wait_blocked(&srv, 0);
}

/// ALL holds every command (INFO too, so the test cannot poll): a PING sent during a 300 ms pause is answered
/// when it ends.
#[test]
fn pause_all_holds_everything_until_it_ends() {
    let srv = Server::start();
    let mut admin = srv.client();
    let start = Instant::now();
    admin.cmd(&["client", "pause", "300"]);
    let mut reader = srv.client();
    assert_eq!(reader.cmd(&["ping"]), "+PONG\r\n");
    assert!(start.elapsed() >= Duration::from_millis(290));
}

/// A client that goes away while paused leaves: it no longer counts as blocked.
#[test]
fn paused_client_that_leaves_is_gone() {
    let srv = Server::start();
    let mut admin = srv.client();
    admin.cmd(&["client", "pause", "60000", "write"]);
    let mut leaver = srv.client();
    leaver.send(&["set", "x", "1"]);
    wait_blocked(&srv, 1);
    drop(leaver);
    wait_blocked(&srv, 0);
    admin.cmd(&["client", "unpause"]);
    assert_eq!(admin.cmd(&["exists", "x"]), ":0\r\n");
}

/// While clients are paused nothing expires (the key reads as gone but stays counted); after UNPAUSE the active
/// expiry deletes it.
#[test]
fn pause_stops_the_active_expiry() {
    let srv = Server::start_with(&["--hz", "100"]);
    let mut c = srv.client();
    c.cmd(&["client", "pause", "60000", "write"]);
    let mut other = srv.client();
    // Paused clients hold writes; this one was sent before the pause reached it, so set up with another pause
    // lifted: unpause, write, pause again.
    other.cmd(&["client", "unpause"]);
    other.cmd(&["set", "a", "1", "px", "20"]);
    other.cmd(&["client", "pause", "60000", "write"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while c.cmd(&["get", "a"]) != "$-1\r\n" {
        assert!(Instant::now() < deadline);
    }
    // 30 expiry periods at hz 100: the cycle would have deleted the key many times over.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.cmd(&["dbsize"]), ":1\r\n");
    assert!(c.cmd(&["info", "stats"]).contains("expired_keys:0\r\n"));
    c.cmd(&["client", "unpause"]);
    while c.cmd(&["dbsize"]) != ":0\r\n" {
        assert!(Instant::now() < deadline);
    }
}

/// This machine's address on its default route (not loopback), to connect as an external client would.
fn outside_address() -> std::net::IpAddr {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").expect("udp socket");
    // A UDP connect sends nothing: it only picks the route and so the local address.
    probe
        .connect(("192.0.2.1", 9))
        .or_else(|_| probe.connect(("1.1.1.1", 9)))
        .expect("a non-loopback route: protected mode needs an outside address to be tested");
    let ip = probe.local_addr().expect("local address").ip();
    assert!(!ip.is_loopback(), "{ip}");
    ip
}

/// What a client from outside the loopback interface reads on connecting.
fn outside_greeting(srv: &Server) -> String {
    use std::io::{BufRead, Write};
    let mut s = std::net::TcpStream::connect((outside_address(), srv.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = s.write_all(b"PING\r\n");
    let mut line = String::new();
    let _ = std::io::BufReader::new(s).read_line(&mut line);
    line
}

#[test]
fn protected_mode_refuses_outside_clients_without_a_password() {
    let srv = Server::start();
    let denied = outside_greeting(&srv);
    assert!(
        denied.starts_with("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user.")
            && denied.ends_with("to start accepting connections from the outside.\r\n"),
        "{denied}"
    );
    assert!(srv
        .client()
        .cmd(&["info", "stats"])
        .contains("rejected_connections:1\r\n"));
    // Off, or with a password, outside clients are served.
    srv.client().cmd(&["config", "set", "protected-mode", "no"]);
    assert_eq!(outside_greeting(&srv), "+PONG\r\n");
    let with_password = Server::start_with(&["--requirepass", "p"]);
    assert!(outside_greeting(&with_password).starts_with("-NOAUTH"));
}

/// `enable-protected-configs local`: CONFIG SET of a protected parameter from the loopback interface only.
#[test]
fn protected_configs_local() {
    let srv = Server::start_with(&["--enable-protected-configs", "local"]);
    assert_eq!(srv.client().cmd(&["config", "set", "dir", "."]), "+OK\r\n");
    let refused = Server::start();
    assert_eq!(
        refused.client().cmd(&["config", "set", "dir", "."]),
        "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"
    );
}
