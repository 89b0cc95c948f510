//! Real clients: each script in `tests/clients/` drives a fresh ferredis through redis-py (installed by `.ci/run`).
//! A script that fails fails this test. Without python3 or redis-py the scripts are skipped locally, but with
//! `CI` set that is a failure: CI must not pass by skipping its client suite.

mod common;

use std::process::Command;

use common::Server;

/// Every script in tests/clients/, each run against its own fresh server.
const SCRIPTS: &[&str] = &[
    "basic",
    "auth",
    "pipeline",
    "pubsub",
    "scan_iter",
    "blocking",
    "transactions",
    "scripting",
];

/// Whether python3 with redis-py can run; in CI their absence is an error.
fn python_ready() -> bool {
    let probe = Command::new("python3")
        .args(["-c", "import redis"])
        .output();
    let ok = matches!(&probe, Ok(out) if out.status.success());
    if !ok {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "CI=true but python3 with redis-py is missing (.ci/run installs it): {probe:?}"
        );
        eprintln!("python3 or redis-py missing: client scripts skipped (CI would fail)");
    }
    ok
}

fn run_script(name: &str) {
    let server = Server::start();
    let path = format!("{}/tests/clients/{name}.py", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(&path)
        .arg(server.port.to_string())
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "client script {name}.py failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn redis_py_scripts() {
    if !python_ready() {
        return;
    }
    for name in SCRIPTS {
        run_script(name);
    }
}

#[test]
fn every_script_is_listed() {
    let dir = format!("{}/tests/clients", env!("CARGO_MANIFEST_DIR"));
    let mut found: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".py")
                .map(String::from)
        })
        .collect();
    found.sort();
    let mut listed: Vec<String> = SCRIPTS.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(found, listed, "every script in tests/clients/ is run");
}

/// CLIENT KILL frees its clients at once in Redis, so INFO's `connected_clients` right after it no longer counts
/// them, even those blocked in a command (here their threads leave a moment later).
#[test]
fn killed_clients_leave_connected_clients_at_once() {
    let server = Server::start();
    let mut me = server.client();
    let mut others: Vec<_> = (0..4).map(|_| server.client()).collect();
    for c in &mut others[..2] {
        assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
        c.send(&["BLPOP", "nothing", "0"]);
    }
    let count = |c: &mut common::Client| {
        let info = c.cmd(&["INFO", "clients"]);
        info.lines()
            .find_map(|l| l.strip_prefix("connected_clients:").map(str::to_string))
            .unwrap_or_default()
    };
    for c in &mut others[2..] {
        assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    }
    assert_eq!(count(&mut me), "5");
    assert_eq!(me.cmd(&["CLIENT", "KILL", "SKIPME", "yes"]), ":4\r\n");
    assert_eq!(count(&mut me), "1");
    let mut fresh: Vec<_> = (0..2).map(|_| server.client()).collect();
    for c in &mut fresh {
        assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    }
    assert_eq!(count(&mut me), "3");
    drop(others);
}
