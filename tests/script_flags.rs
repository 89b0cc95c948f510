//! The flags the gates judge a script by before it runs (Redis's `getCommandFlags`): an EVALSHA of a cached
//! script and an FCALL of a function count as writes unless declared `no-writes`, for CLIENT PAUSE WRITE, the
//! OOM refusal, -NOREPLICAS and -READONLY alike. Each scenario runs on ferredis and on redis-server and the
//! clients must read the same.

mod common;

use common::{scenario_same_as_redis, Client, Server};
use std::time::Duration;

const LIBRARY: &str = "#!lua name=lib\n\
    redis.register_function{function_name='f_ro', callback=function() return 'ro' end, flags={'no-writes'}}\n\
    redis.register_function('f_rw', function() return 'rw' end)\n\
    redis.register_function{function_name='f_oom', callback=function() return 'oom' end, flags={'allow-oom'}}";

/// Caches a compatibility-mode script, a shebang one (may write) and a `no-writes` one, loads the library, and
/// returns the three SHAs in that order.
fn load_scripts(c: &mut Client) -> [String; 3] {
    let sha = |c: &mut Client, body: &str| {
        let reply = c.cmd(&["script", "load", body]);
        common::bulks(&reply)[0].clone()
    };
    assert_eq!(
        c.cmd(&["function", "load", LIBRARY]),
        "$3\r\nlib\r\n",
        "FUNCTION LOAD"
    );
    [
        sha(c, "return 1"),
        sha(c, "#!lua\nreturn 2"),
        sha(c, "#!lua flags=no-writes\nreturn 3"),
    ]
}

/// A SHA no script has.
const UNKNOWN_SHA: &str = "ffffffffffffffffffffffffffffffffffffffff";

/// Sends `args` on a new connection and returns the client with its reply still to read.
fn sent(srv: &Server, args: &[&str]) -> Client {
    let mut c = srv.client();
    c.send(args);
    c
}

/// CLIENT PAUSE WRITE lets through what declares `no-writes` (and the `_ro` forms) and holds what may write: an
/// EVALSHA of a cached script without `no-writes` (with or without a shebang), of an unknown SHA, an FCALL of a
/// function that may write or does not exist, and an EXEC whose queue holds one.
fn pause_write(srv: &Server) -> Vec<String> {
    let mut admin = srv.client();
    let [compat, writes, no_writes] = load_scripts(&mut admin);
    let mut tx_ro = srv.client();
    tx_ro.cmd(&["multi"]);
    tx_ro.cmd(&["evalsha", &no_writes, "0"]);
    tx_ro.cmd(&["fcall", "f_ro", "0"]);
    let mut tx_rw = srv.client();
    tx_rw.cmd(&["multi"]);
    tx_rw.cmd(&["fcall", "f_rw", "0"]);
    let mut out = vec![admin.cmd(&["client", "pause", "60000", "write"])];
    // Answered during the pause (a read timeout fails the test instead of hanging it).
    let mut reader = srv.client();
    reader.set_timeout(Duration::from_secs(20));
    for args in [
        &["evalsha", no_writes.as_str(), "0"][..],
        &["evalsha_ro", &no_writes, "0"],
        &["evalsha_ro", &compat, "0"],
        &["fcall", "f_ro", "0"],
        &["fcall_ro", "f_ro", "0"],
        &["eval", "#!lua flags=no-writes\nreturn 4", "0"],
    ] {
        out.push(reader.cmd(args));
    }
    out.push(tx_ro.cmd(&["exec"]));
    // Held until UNPAUSE.
    let held_commands: [&[&str]; 7] = [
        &["evalsha", &compat, "0"],
        &["evalsha", &writes, "0"],
        &["evalsha", UNKNOWN_SHA, "0"],
        &["fcall", "f_rw", "0"],
        &["fcall", "nosuch", "0"],
        &["eval", "#!lua\nreturn 5", "0"],
        &["exec"],
    ];
    let mut held: Vec<Client> = held_commands[..6].iter().map(|a| sent(srv, a)).collect();
    tx_rw.send(held_commands[6]);
    held.push(tx_rw);
    srv.wait_blocked(|n| n == held.len());
    out.push(admin.cmd(&["client", "unpause"]));
    out.extend(held.iter_mut().map(Client::read_reply));
    out
}

#[test]
fn pause_write_judges_cached_scripts_and_functions_by_their_flags() {
    scenario_same_as_redis(pause_write);
}

/// Runs, on one client, every script command a gate judges: the compatibility-mode script and the `no-writes`
/// ones pass, the rest are refused before they run.
fn judged(c: &mut Client, shas: &[String; 3]) -> Vec<String> {
    let [compat, writes, no_writes] = shas;
    [
        &["evalsha", compat.as_str(), "0"][..],
        &["evalsha", writes, "0"],
        &["evalsha", no_writes, "0"],
        &["fcall", "f_rw", "0"],
        &["fcall", "f_ro", "0"],
        &["fcall", "f_oom", "0"],
        &["eval", "#!lua\nreturn 6", "0"],
    ]
    .iter()
    .map(|args| c.cmd(args))
    .collect()
}

/// Over `maxmemory`, a script or function that may write and did not declare `allow-oom` is `denyoom`.
fn out_of_memory(srv: &Server) -> Vec<String> {
    let mut c = srv.client();
    let shas = load_scripts(&mut c);
    let mut out = vec![c.cmd(&["config", "set", "maxmemory", "1"])];
    out.extend(judged(&mut c, &shas));
    out.push(c.cmd(&["config", "set", "maxmemory", "0"]));
    out
}

#[test]
fn oom_refusal_judges_cached_scripts_and_functions_by_their_flags() {
    scenario_same_as_redis(out_of_memory);
}

/// With `min-replicas-to-write` unmet, the scripts that may write are refused with -NOREPLICAS.
fn no_replicas(srv: &Server) -> Vec<String> {
    let mut c = srv.client();
    let shas = load_scripts(&mut c);
    let mut out = vec![c.cmd(&["config", "set", "min-replicas-to-write", "1"])];
    out.extend(judged(&mut c, &shas));
    out
}

#[test]
fn noreplicas_judges_cached_scripts_and_functions_by_their_flags() {
    scenario_same_as_redis(no_replicas);
}

/// On a read-only replica (its master unreachable) they are refused with -READONLY.
fn read_only_replica(srv: &Server) -> Vec<String> {
    let mut c = srv.client();
    let shas = load_scripts(&mut c);
    let nobody = common::free_port().to_string();
    let mut out = vec![c.cmd(&["replicaof", "127.0.0.1", &nobody])];
    out.extend(judged(&mut c, &shas));
    out.push(c.cmd(&["replicaof", "no", "one"]));
    out
}

#[test]
fn readonly_replica_judges_cached_scripts_and_functions_by_their_flags() {
    scenario_same_as_redis(read_only_replica);
}

/// A MONITOR client may not run what may touch the keyspace; a script that declared `no-writes` (and is not an
/// `_ro` command) is neither, so it runs.
fn monitor_client(srv: &Server) -> Vec<String> {
    let mut c = srv.client();
    let [compat, _, no_writes] = load_scripts(&mut c);
    let mut out = vec![c.cmd(&["monitor"])];
    c.set_timeout(Duration::from_secs(20));
    for args in [
        &["evalsha", compat.as_str(), "0"][..],
        &["fcall", "f_rw", "0"],
        &["evalsha", &no_writes, "0"],
        &["fcall", "f_ro", "0"],
    ] {
        c.send(args);
        // The monitor's own lines (timestamped `+` replies) come before the command's reply.
        let reply = loop {
            let r = c.read_reply();
            if !r.starts_with('+') {
                break r;
            }
        };
        out.push(reply);
    }
    out
}

#[test]
fn monitor_clients_judge_scripts_by_their_flags() {
    scenario_same_as_redis(monitor_client);
}
