//! A blocked client is not served a key that expired while the command that fed it ran: serving after EXEC (or
//! a script) judges expiry by the time now, as Redis's `handleClientsBlockedOnKeys` does, not by the
//! transaction's frozen clock (unit/type/list "MULTI + LPUSH + EXPIRE + DEBUG SLEEP on blocked client, key
//! already expired"). Run on ferredis and redis-server; the clients must read the same.

mod common;

use common::{Client, Server};

fn scenario(srv: &Server) -> Vec<String> {
    let mut r = srv.client();
    let mut out = vec![
        r.cmd(&["debug", "set-active-expire", "0"]),
        r.cmd(&["flushall"]),
    ];
    let mut rd = srv.client();
    let id = rd.cmd(&["client", "id"]);
    let id = id.trim_start_matches(':').trim_end().to_string();
    rd.send(&["brpop", "k", "0"]);
    srv.wait_blocked(|n| n == 1);
    for args in [
        &["multi"][..],
        &["rpush", "k", "hello"],
        &["pexpire", "k", "100"],
        &["debug", "sleep", "0.2"],
        &["exec"],
    ] {
        out.push(r.cmd(args));
    }
    // Still blocked: the key had expired when EXEC's serves looked, and is gone.
    let listed = r.cmd(&["client", "list", "id", &id]);
    out.push(format!("blocked: {}", listed.contains("flags=b")));
    out.push(r.cmd(&["exists", "k"]));
    out.push(r.cmd(&["client", "unblock", &id]));
    out.push(Client::read_reply(&mut rd));
    out.push(r.cmd(&["debug", "set-active-expire", "1"]));
    out
}

#[test]
fn exec_does_not_serve_a_key_that_expired_during_the_transaction() {
    let debug = ["--enable-debug-command", "yes"];
    let ours = scenario(&Server::start_with(&debug));
    // Without redis-server to compare with, the essentials: still blocked, unblocked by CLIENT UNBLOCK with
    // a null reply, the key gone.
    assert_eq!(
        ours[7..11],
        ["blocked: true", ":0\r\n", ":1\r\n", "*-1\r\n"],
        "{ours:?}"
    );
    if let Some(redis) = Server::start_redis_with(&debug) {
        assert_eq!(ours, scenario(&redis));
    }
}
