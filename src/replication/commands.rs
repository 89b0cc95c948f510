//! REPLICAOF/SLAVEOF, ROLE, WAIT, and what a replica (or a master short of good replicas) refuses.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use super::{master, replica};
use crate::commands::flags::*;
use crate::commands::{Args, Command, Ctx};
use crate::protocol::Reply;
use crate::server::clients::ClientState;
use crate::server::Server;
use crate::util::time::now_ms;

pub const COMMANDS: &[Command] = &[
    Command::new("replicaof", 3, NO_ASYNC_LOADING | ADMIN | NOSCRIPT | STALE | ORDERED, replicaof)
        .doc(
            "server",
            "5.0.0",
            "Make the server a replica of another instance, or promote it as master.",
        )
        .complexity("O(1)"),
    Command::new("slaveof", 3, NO_ASYNC_LOADING | ADMIN | NOSCRIPT | STALE | ORDERED, replicaof)
        .doc(
            "server",
            "1.0.0",
            "Make the server a replica of another instance, or promote it as master.",
        )
        .complexity("O(1)"),
    Command::new("role", 1, NOSCRIPT | LOADING | STALE | FAST, role)
        .acl(&["admin", "dangerous"])
        .doc(
            "server",
            "2.8.12",
            "Return the role of the instance in the context of replication",
        )
        .complexity("O(1)"),
    Command::new("wait", 3, NOSCRIPT, wait)
        .acl(&["connection"])
        .doc(
            "generic",
            "3.0.0",
            "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
        )
        .complexity("O(1)"),
    Command::new("failover", -1, ADMIN | NOSCRIPT | STALE, super::failover::failover)
        .doc(
            "server",
            "6.2.0",
            "Start a coordinated failover between this server and one of its replicas.",
        )
        .complexity("O(1)"),
    Command::new("replconf", -1, ADMIN | NOSCRIPT | LOADING | STALE | ALLOW_BUSY, master::replconf)
        .doc(
            "server",
            "3.0.0",
            "An internal command for configuring the replication stream",
        )
        .complexity("O(1)"),
    Command::new("psync", -3, NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT, master::psync)
        .doc("server", "2.8.0", "Internal command used for replication"),
    Command::new("sync", 1, NO_ASYNC_LOADING | ADMIN | NO_MULTI | NOSCRIPT, master::sync)
        .doc("server", "1.0.0", "Internal command used for replication"),
];

/// An integer parameter's value (0 if unset).
pub fn int_param(server: &Server, name: &str) -> i64 {
    server
        .config
        .get(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Redis's `processCommand` checks that belong to replication: -NOREPLICAS on a master short of good replicas,
/// -READONLY on a read-only replica, -MASTERDOWN on a replica whose link is down with
/// `replica-serve-stale-data no`. The master's own link is never refused.
/// `cmd_flags` are Redis's `getCommandFlags` (`transaction::effective_flags`): a script that declares flags is a
/// write unless it says `no-writes`.
pub fn gate(server: &Server, client: &ClientState, cmd_flags: u32) -> Option<Reply> {
    if client.ext.repl.is_master {
        return None;
    }
    let write = cmd_flags & WRITE != 0;
    if (write || cmd_flags & MAY_REPLICATE != 0)
        && server.repl.failover.lock().state != super::failover::NONE
    {
        super::failover::wait_writes(server);
    }
    if !server.repl.is_replica() {
        if write && !enough_good_replicas(server) {
            return Some(Reply::error(
                "NOREPLICAS Not enough good replicas to write.",
            ));
        }
        return None;
    }
    if write && refuses_writes(server, client) {
        return Some(Reply::error(
            "READONLY You can't write against a read only replica.",
        ));
    }
    // The link's state is looked at last: it costs a poll(2) of the link's socket.
    if cmd_flags & STALE == 0
        && server.config.get("replica-serve-stale-data").as_deref() == Some("no")
        && !replica::link_up(server)
    {
        return Some(Reply::error(
            "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        ));
    }
    None
}

/// Whether `client`'s writes are refused because this server is a read-only replica (scripts ask per call).
/// Our master's link and the AOF loader are obeyed (Redis's `mustObeyClient`): a replica started with
/// `replicaof` replays its AOF's scripts as a replica.
pub fn refuses_writes(server: &Server, client: &ClientState) -> bool {
    server.repl.is_replica()
        && !client.ext.repl.is_master
        && !client.ext.must_obey
        && server.config.get("replica-read-only").as_deref() == Some("yes")
}

/// `min-replicas-to-write` replicas online whose last ACK is at most `min-replicas-max-lag` seconds old.
pub fn enough_good_replicas(server: &Server) -> bool {
    let need = server.config.min_replicas_to_write();
    if need <= 0 {
        return true;
    }
    let max_lag = int_param(server, "min-replicas-max-lag");
    if max_lag <= 0 {
        return true;
    }
    let now = now_ms();
    let good = server
        .repl
        .attached()
        .iter()
        .filter(|r| r.online() && (now - r.ack_ms.load(Relaxed)) / 1000 <= max_lag)
        .count();
    good as i64 >= need
}

/// REPLICAOF host port | NO ONE.
fn replicaof(ctx: &mut Ctx, args: Args) -> Reply {
    let server = ctx.server;
    let (host, port) = (args.get(1), args.get(2));
    if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
        if server.repl.is_replica() {
            promote(server);
            log::info!(
                "MASTER MODE enabled (user request from 'id={}')",
                ctx.client.id()
            );
        }
        return Reply::Ok;
    }
    if ctx.client.ext.repl.is_master {
        return Reply::err("Command is not valid when client is a replica.");
    }
    let Some(port) = std::str::from_utf8(port)
        .ok()
        .and_then(|p| p.parse::<i64>().ok())
    else {
        return Reply::err("value is not an integer or out of range");
    };
    let Ok(port) = u16::try_from(port) else {
        return Reply::err("Invalid master port");
    };
    let host = String::from_utf8_lossy(host).into_owned();
    if let Some(link) = server.repl.link.lock().as_ref() {
        if link.host.eq_ignore_ascii_case(&host) && link.port == port {
            log::info!("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            return Reply::status("OK Already connected to specified master");
        }
    }
    become_replica(server, host.clone(), port, true);
    log::info!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={}')",
        ctx.client.id()
    );
    Reply::Ok
}

/// Follows `host:port`: our replicas are dropped (they come back and resume from our history). A master
/// turned replica by REPLICAOF offers its own history to the new master (Redis's
/// `replicationCacheMasterUsingMyself`); `replicaof` in the config starts with none (`PSYNC ? -1`).
pub fn become_replica(server: &Server, host: String, port: u16, own_history: bool) {
    follow(server, host, port, own_history, false);
}

/// FAILOVER's last step: follow the target with `PSYNC ... FAILOVER`, which promotes it.
pub fn become_replica_for_failover(server: &Server, host: String, port: u16) {
    follow(server, host, port, true, true);
}

fn follow(server: &Server, host: String, port: u16, own_history: bool, failover: bool) {
    // CONFIG GET / REWRITE show the master we follow, as Redis's `replicaof` does.
    let _ = server
        .config
        .set("replicaof", &format!("{host} {port}"), true);
    {
        let mut st = server.repl.state();
        st.master = Some((host.clone(), port));
        if own_history {
            super::ensure_backlog(server, &mut st);
        }
    }
    replica::disconnect_replicas(server);
    unblock_all(server);
    replica::start(server, host, port, failover);
}

/// Clients blocked on keys would be served by the master's stream, diverging from it: Redis's
/// `disconnectAllBlockedClients` answers them with an error first.
fn unblock_all(server: &Server) {
    let why = "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)";
    for c in server.clients.all() {
        crate::blocking::unblock_with(server, c.id, Some(Reply::error(why)));
    }
}

/// REPLICAOF NO ONE: a new history starts; the one we followed stays valid up to here, so the other replicas
/// of our old master can resume from us.
pub fn promote(server: &Server) {
    replica::stop(server);
    let mut st = server.repl.state();
    let off = server.feed.offset() as i64 + st.shift;
    st.replid2 = std::mem::replace(&mut st.replid, super::new_replid());
    st.second_offset = off + 1;
    st.master = None;
    drop(st);
    let _ = server.config.set("replicaof", "", true);
    server
        .repl
        .no_replicas_since
        .store(now_ms() / 1000, Relaxed);
    server.feed.forget_db();
    replica::disconnect_replicas(server);
}

/// ROLE: ["master", offset, [[ip, port, ack], ...]] or ["slave", host, port, state, offset].
fn role(ctx: &mut Ctx, _args: Args) -> Reply {
    let server = ctx.server;
    if let Some(link) = server.repl.link.lock().clone() {
        let state = link.state.load(Relaxed);
        let offset = if state == replica::CONNECTED {
            super::offset(server)
        } else {
            -1
        };
        return Reply::Array(vec![
            Reply::bulk("slave"),
            Reply::bulk(&link.host),
            Reply::Int(i64::from(link.port)),
            Reply::bulk(replica::state_name(state)),
            Reply::Int(offset),
        ]);
    }
    let replicas = server
        .repl
        .attached()
        .iter()
        .filter(|r| r.online())
        .map(|r| {
            Reply::Array(vec![
                Reply::bulk(&r.ip),
                Reply::bulk(r.port.load(Relaxed).to_string()),
                Reply::bulk(r.ack_offset.load(Relaxed).to_string()),
            ])
        })
        .collect();
    Reply::Array(vec![
        Reply::bulk("master"),
        Reply::Int(super::offset(server)),
        Reply::Array(replicas),
    ])
}

/// WAIT numreplicas timeout: how many replicas acknowledged everything written so far.
fn wait(ctx: &mut Ctx, args: Args) -> Reply {
    let server = ctx.server;
    if server.repl.is_replica() {
        return Reply::err("WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.");
    }
    let parse = |a: &[u8]| std::str::from_utf8(a).ok()?.parse::<i64>().ok();
    let Some(want) = parse(args.get(1)) else {
        return Reply::err("value is not an integer or out of range");
    };
    let Some(timeout) = parse(args.get(2)) else {
        return Reply::err("timeout is not an integer or out of range");
    };
    if timeout < 0 {
        return Reply::err("timeout is negative");
    }
    let target = super::offset(server);
    let acked = || {
        server
            .repl
            .attached()
            .iter()
            .filter(|r| r.online() && r.ack_offset.load(Relaxed) >= target)
            .count() as i64
    };
    let mut count = acked();
    if count >= want || crate::commands::transaction::in_exec(ctx.client) {
        return Reply::Int(count);
    }
    server
        .feed
        .append_raw(b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
    let deadline = (timeout > 0).then(|| Instant::now() + Duration::from_millis(timeout as u64));
    let mut acks = server.repl.acks.lock();
    while count < want && !ctx.client.info.killed.load(Relaxed) {
        let step = match deadline {
            Some(d) if Instant::now() >= d => break,
            Some(d) => d
                .saturating_duration_since(Instant::now())
                .min(Duration::from_millis(100)),
            None => Duration::from_millis(100),
        };
        server.repl.acked.wait_for(&mut acks, step);
        count = acked();
    }
    Reply::Int(count)
}
