//! DEBUG SEGFAULT / PANIC / ASSERT / OOM / RESTART / CRASH-AND-RECOVER and the crash report: each crash ends the
//! process as redis-server's does (same signal, or exit 1 with `use-exit-on-panic`), after writing Redis's bug
//! report (START, the cause, STACK TRACE, INFO, CLIENT LIST, END) to the log.

mod common;
use common::Server;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

/// A log file of its own for each server of this process.
fn log_path(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ferredis-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("log directory");
    let path = dir.join(format!("{name}.log"));
    let _ = std::fs::remove_file(&path);
    path.to_string_lossy().into_owned()
}

/// ferredis logging to `log`, with DEBUG enabled.
fn start(log: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--enable-debug-command", "yes", "--logfile", log];
    args.extend_from_slice(extra);
    Server::start_with(&args)
}

/// Sends `debug <sub>` and waits for the process to end; the connection must close without a reply.
fn crash_with(server: &mut Server, sub: &[&str]) -> ExitStatus {
    let mut c = server.client();
    let mut args = vec!["debug"];
    args.extend_from_slice(sub);
    c.send(&args);
    c.set_timeout(Duration::from_secs(30));
    assert!(c.is_closed(), "DEBUG {sub:?} answered instead of crashing");
    server
        .wait_exit(Duration::from_secs(30))
        .expect("the server did not exit")
}

/// The parts, in this order, in the log.
fn assert_in_order(log: &str, parts: &[&str]) {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut at = 0;
    for part in parts {
        let found = text[at..].find(part);
        assert!(
            found.is_some(),
            "{part:?} (in this order) in the log:\n{text}"
        );
        at += found.unwrap_or(0) + part.len();
    }
}

const START: &str = "=== REDIS BUG REPORT START: Cut & paste starting from here ===";
const END: &str = "=== REDIS BUG REPORT END. Make sure to include from START to END. ===";
/// A whole report: START, the cause, the stack trace, INFO and CLIENT LIST, END.
fn full_report<'a>(cause: &[&'a str]) -> Vec<&'a str> {
    let mut parts = vec![START];
    parts.extend_from_slice(cause);
    parts.extend([
        "------ STACK TRACE ------",
        "------ INFO OUTPUT ------",
        "# Server\r\nredis_version:7.0.15",
        "------ CLIENT LIST OUTPUT ------",
        END,
    ]);
    parts
}

/// Crashes a new server with `debug <sub>`: its exit status and its log file.
fn crash_new_server(name: &str, extra: &[&str], sub: &[&str]) -> (ExitStatus, String) {
    let log = log_path(name);
    let mut server = start(&log, extra);
    (crash_with(&mut server, sub), log)
}

#[test]
fn debug_segfault_reports_then_dies_of_sigsegv() {
    let (status, log) = crash_new_server("segfault", &[], &["segfault"]);
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status}");
    let cause = [
        "# Redis 7.0.15 crashed by signal: 11, si_code: 2",
        "# Accessing address: 0x",
    ];
    assert_in_order(&log, &full_report(&cause));
    assert_in_order(
        &log,
        &["------ STACK TRACE ------", "debug::crash::segfault"],
    );
    assert_in_order(&log, &["------ CLIENT LIST OUTPUT ------", "id=", END]);
    // The client whose command crashed (Redis's logCurrentClient), then the memory test's section
    // (`crash-memcheck-enabled` is yes by default).
    assert_in_order(
        &log,
        &[
            "------ CLIENT LIST OUTPUT ------",
            "\n------ CURRENT CLIENT INFO ------\nid=",
            " cmd=debug ",
            "\nargv[0]: '\"debug\"'\nargv[1]: '\"segfault\"'\n",
            "\n------ FAST MEMORY TEST ------\nFast memory test skipped: ",
            END,
        ],
    );
}

#[test]
fn debug_panic_reports_then_aborts() {
    let (status, log) = crash_new_server("panic", &[], &["panic"]);
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status}");
    let cause = [
        "# ------------------------------------------------",
        "# !!! Software Failure. Press left mouse button to continue",
        "# Guru Meditation: DEBUG PANIC called at Unix time ",
    ];
    assert_in_order(&log, &full_report(&cause));
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        text.matches(START).count(),
        1,
        "one report, not a second for the abort"
    );
}

#[test]
fn debug_assert_reports_the_client_and_the_assertion() {
    let (status, log) = crash_new_server("assert", &[], &["assert", "extra"]);
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status}");
    let cause = [
        "# === ASSERTION FAILED CLIENT CONTEXT ===",
        "# client->argc = 3",
        "# client->argv[0] = \"debug\" (refcount: 1)",
        "# client->argv[2] = \"extra\" (refcount: 1)",
        "# === ASSERTION FAILED ===",
        "# ==> src/commands/debug/crash.rs:",
        " '1 == 2' is not true",
    ];
    assert_in_order(&log, &full_report(&cause));
    // Arguments as `sdscatrepr` writes them, at most 128 bytes each.
    assert_in_order(
        &log,
        &[
            "------ CURRENT CLIENT INFO ------\n",
            "argv[0]: '\"debug\"'\nargv[1]: '\"assert\"'\nargv[2]: '\"extra\"'\n",
            "------ FAST MEMORY TEST ------",
            END,
        ],
    );
}

/// A long or binary argument is shown as Redis shows it: escaped, cut at 128 bytes.
#[test]
fn current_client_arguments_are_escaped_and_cut() {
    let long = "x".repeat(300);
    let (_, log) = crash_new_server("assert-args", &[], &["assert", "a\nb\x01", &long]);
    let cut = format!("argv[3]: '\"{}\"'\n", "x".repeat(128));
    assert_in_order(
        &log,
        &[
            "------ CURRENT CLIENT INFO ------\n",
            "argv[2]: '\"a\\nb\\x01\"'\n",
            &cut,
            END,
        ],
    );
}

#[test]
fn debug_oom_reports_the_allocation_then_aborts() {
    let (status, log) = crash_new_server("oom", &[], &["oom"]);
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status}");
    assert_in_order(
        &log,
        &[
            "# Out Of Memory allocating 9223372036854775807 bytes!",
            START,
        ],
    );
    let cause = ["# Guru Meditation: Redis aborting for OUT OF MEMORY. Allocating 9223372036854775807 bytes!"];
    assert_in_order(&log, &full_report(&cause));
}

#[test]
fn use_exit_on_panic_exits_1_instead_of_aborting() {
    let (status, log) =
        crash_new_server("exit-on-panic", &["--use-exit-on-panic", "yes"], &["panic"]);
    assert_eq!(
        (status.code(), status.signal()),
        (Some(1), None),
        "{status}"
    );
    assert_in_order(&log, &[START, "Guru Meditation: DEBUG PANIC", END]);
}

#[test]
fn sigabrt_from_outside_is_reported_with_its_sender() {
    let log = log_path("sigabrt");
    let mut server = start(&log, &["--crash-memcheck-enabled", "no"]);
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc::kill(server.pid() as i32, libc::SIGABRT) }, 0);
    let status = server.wait_exit(Duration::from_secs(30)).expect("exit");
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status}");
    let sender = format!("# Killed by PID: {}, UID: ", std::process::id());
    let cause = ["# Redis 7.0.15 crashed by signal: 6, si_code: 0", &sender];
    assert_in_order(&log, &full_report(&cause));
    // No command was running, and the memory test is off.
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(!text.contains("CURRENT CLIENT INFO"), "{text}");
    assert!(!text.contains("FAST MEMORY TEST"), "{text}");
}

#[test]
fn crash_log_disabled_at_run_time_leaves_the_default_action() {
    let log = log_path("no-crash-log");
    let mut server = start(&log, &[]);
    let mut c = server.client();
    assert_eq!(
        c.cmd(&["config", "set", "crash-log-enabled", "no"]),
        "+OK\r\n"
    );
    let status = crash_with(&mut server, &["segfault"]);
    assert_eq!(status.signal(), Some(libc::SIGSEGV), "{status}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(
        !text.contains(START),
        "no report with crash-log-enabled no:\n{text}"
    );
}

/// The same crash ends redis-server the same way.
#[test]
fn each_crash_ends_the_process_as_redis_server_does() {
    for sub in ["segfault", "panic", "assert", "oom"] {
        let Some(mut redis) = Server::start_redis_with(&[
            "--enable-debug-command",
            "yes",
            "--crash-memcheck-enabled",
            "no",
        ]) else {
            return;
        };
        let theirs = crash_with(&mut redis, &[sub]);
        let mut ours = start(&log_path(&format!("vs-{sub}")), &[]);
        let mine = crash_with(&mut ours, &[sub]);
        assert_eq!(
            (mine.signal(), mine.code()),
            (theirs.signal(), theirs.code()),
            "DEBUG {sub}: ferredis {mine}, redis-server {theirs}"
        );
    }
}

#[test]
fn debug_restart_saves_and_comes_back_in_the_same_process() {
    let log = log_path("restart");
    let mut server = start(&log, &["--save", "3600 1"]);
    let pid = server.pid();
    let mut c = server.client();
    assert_eq!(
        c.cmd(&["debug", "restart", "soon"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(c.cmd(&["set", "kept", "1"]), "+OK\r\n");
    c.send(&["debug", "restart"]);
    assert!(c.is_closed(), "DEBUG RESTART answers only when it fails");
    let mut back = reconnect(&server);
    assert_eq!(
        back.cmd(&["get", "kept"]),
        "$1\r\n1\r\n",
        "saved before the exec, loaded after"
    );
    assert_eq!(server.pid(), pid);
    assert!(
        server.wait_exit(Duration::ZERO).is_none(),
        "still the same process"
    );

    // CRASH-AND-RECOVER saves nothing: what was written since is gone, the file from the restart is loaded.
    assert_eq!(back.cmd(&["set", "lost", "1"]), "+OK\r\n");
    back.send(&["debug", "crash-and-recover", "50"]);
    assert!(back.is_closed());
    let mut again = reconnect(&server);
    assert_eq!(again.cmd(&["exists", "kept", "lost"]), ":1\r\n");
    assert_in_order(
        &log,
        &[
            "User requested shutdown...",
            "DB saved on disk",
            "Ready to accept connections",
        ],
    );
}

/// A connection to the re-executed server, once it answers PING (connections made while the old process is
/// going away are reset: each try is a fresh one).
fn reconnect(server: &Server) -> common::Client {
    common::wait_until("the restarted server to answer", || {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", server.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    });
    server.client()
}

/// The log's text once it contains `part` (polled with a deadline).
fn log_with(log: &str, part: &str) -> String {
    let mut text = String::new();
    common::wait_until(&format!("{part:?} in the log"), || {
        text = std::fs::read_to_string(log).unwrap_or_default();
        text.contains(part)
    });
    text
}

/// The software watchdog: a command that runs longer than `watchdog-period` gets the header, the stack trace of
/// the thread running it (DEBUG's handler in it, by Redis's name) and the closing line, once, and the server
/// goes on; a period of 0 turns it off again.
#[test]
fn watchdog_logs_the_stack_of_a_command_running_past_the_period() {
    let log = log_path("watchdog");
    let server = start(&log, &[]);
    let mut c = server.client();
    assert_eq!(
        c.cmd(&["config", "set", "watchdog-period", "200"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["ping"]), "+PONG\r\n");
    assert_eq!(c.cmd(&["debug", "sleep", "1"]), "+OK\r\n");
    let text = log_with(&log, "--------\n");
    assert_in_order(
        &log,
        &[
            "# \n--- WATCHDOG TIMER EXPIRED ---\n",
            "------ STACK TRACE ------\nEIP:\n",
            "\nBacktrace:\n",
            "ops::pause::stall_for",
            "commands::debug::debugCommand",
            "commands::dispatch::",
            "# --------\n",
        ],
    );
    assert_eq!(text.matches("WATCHDOG TIMER EXPIRED").count(), 1, "{text}");
    assert_eq!(c.cmd(&["ping"]), "+PONG\r\n");
    // Off: another long command is not reported.
    assert_eq!(c.cmd(&["config", "set", "watchdog-period", "0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["debug", "sleep", "0.5"]), "+OK\r\n");
    assert_eq!(c.cmd(&["set", "k", "v"]), "+OK\r\n");
    let after = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        after.matches("WATCHDOG TIMER EXPIRED").count(),
        1,
        "{after}"
    );
}

/// `watchdog-period`'s replies are Redis's (a hidden parameter: only its exact name answers CONFIG GET).
#[test]
fn watchdog_period_config_replies_match_redis() {
    common::assert_same_as_redis(&[
        &["config", "set", "watchdog-period", "-1"],
        &["config", "set", "watchdog-period", "x"],
        &["config", "get", "watchdog*"],
        &["config", "set", "watchdog-period", "500"],
        &["config", "get", "watchdog-period"],
        &["config", "set", "watchdog-period", "0"],
        &["config", "get", "watchdog-period"],
    ]);
}
