//! FAILOVER [TO host port [FORCE]] [TIMEOUT ms] | ABORT, as Redis 7.0's coordinated failover: writes pause, the
//! target replica catches up, this server follows it with `PSYNC <replid> <offset> FAILOVER`, which makes the
//! target a master that resumes our history; writes are then answered -READONLY.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use super::{commands, replica};
use crate::commands::{Args, Ctx};
use crate::protocol::Reply;
use crate::server::Server;
use crate::util::time::now_ms;

pub const NONE: u8 = 0;
pub const WAITING: u8 = 1;
pub const IN_PROGRESS: u8 = 2;

/// The failover under way.
#[derive(Default)]
pub struct Failover {
    pub state: u8,
    pub target: Option<(String, u16)>,
    /// Unix ms after which the wait for the replica ends (0: never).
    pub deadline_ms: i64,
    pub force: bool,
}

pub fn state_name(s: u8) -> &'static str {
    match s {
        WAITING => "waiting-for-sync",
        IN_PROGRESS => "failover-in-progress",
        _ => "no-failover",
    }
}

struct Request {
    abort: bool,
    timeout: i64,
    to: Option<(String, i64)>,
    force: bool,
}

fn parse(args: Args) -> Result<Request, Reply> {
    let mut req = Request {
        abort: args.len() == 2 && args.get(1).eq_ignore_ascii_case(b"abort"),
        timeout: 0,
        to: None,
        force: false,
    };
    if req.abort {
        return Ok(req);
    }
    let int = |a: &[u8]| {
        std::str::from_utf8(a)
            .ok()
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| Reply::err("value is not an integer or out of range"))
    };
    let mut j = 1;
    while j < args.len() {
        let a = args.get(j);
        if a.eq_ignore_ascii_case(b"timeout") && j + 1 < args.len() && req.timeout == 0 {
            req.timeout = int(args.get(j + 1))?;
            if req.timeout <= 0 {
                return Err(Reply::err("FAILOVER timeout must be greater than 0"));
            }
            j += 2;
        } else if a.eq_ignore_ascii_case(b"to") && j + 2 < args.len() && req.to.is_none() {
            let port = int(args.get(j + 2))?;
            req.to = Some((String::from_utf8_lossy(args.get(j + 1)).into_owned(), port));
            j += 3;
        } else if a.eq_ignore_ascii_case(b"force") && !req.force {
            req.force = true;
            j += 1;
        } else {
            return Err(Reply::err("syntax error"));
        }
    }
    Ok(req)
}

pub fn failover(ctx: &mut Ctx, args: Args) -> Reply {
    let server = ctx.server;
    let req = match parse(args) {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    if req.abort {
        if server.repl.failover.lock().state == NONE {
            return Reply::err("No failover in progress.");
        }
        abort(server, "Failover manually aborted");
        return Reply::Ok;
    }
    if server.repl.failover.lock().state != NONE {
        return Reply::err("FAILOVER already in progress.");
    }
    if server.repl.is_replica() {
        return Reply::err("FAILOVER is not valid when server is a replica.");
    }
    let replicas = server.repl.attached();
    if replicas.is_empty() {
        return Reply::err("FAILOVER requires connected replicas.");
    }
    if req.force && (req.timeout == 0 || req.to.is_none()) {
        return Reply::err(
            "FAILOVER with force option requires both a timeout and target HOST and IP.",
        );
    }
    let mut target = None;
    if let Some((host, port)) = &req.to {
        let Some(r) = replicas
            .iter()
            .find(|r| r.ip.eq_ignore_ascii_case(host) && r.port.load(Relaxed) == *port)
        else {
            return Reply::err("FAILOVER target HOST and PORT is not a replica.");
        };
        if !r.online() {
            return Reply::err("FAILOVER target replica is not online.");
        }
        target = Some((host.clone(), *port as u16));
        log::info!("FAILOVER requested to {host}:{port}.");
    } else {
        log::info!("FAILOVER requested to any replica.");
    }
    *server.repl.failover.lock() = Failover {
        state: WAITING,
        target,
        deadline_ms: if req.timeout > 0 {
            now_ms() + req.timeout
        } else {
            0
        },
        force: req.force,
    };
    if let Some(server) = server.arc() {
        let _ = std::thread::Builder::new()
            .name("failover".into())
            .spawn(move || run(&server));
    }
    Reply::Ok
}

/// Ends the failover; if we already follow the target, we become a master again.
pub fn abort(server: &Server, why: &str) {
    let mut f = server.repl.failover.lock();
    if f.state == NONE {
        return;
    }
    match &f.target {
        Some((h, p)) => log::info!("FAILOVER to {h}:{p} aborted: {why}"),
        None => log::info!("FAILOVER to any replica aborted: {why}"),
    }
    if f.state == IN_PROGRESS {
        commands::promote(server);
    }
    *f = Failover::default();
    drop(f);
    server.repl.failover_done.notify_all();
}

/// Waits for the target (or any replica) to ACK our whole stream, then follows it.
fn run(server: &Server) {
    let mut asked = 0;
    loop {
        if asked % 100 == 0 {
            server
                .feed
                .append_raw(b"*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n");
        }
        asked += 1;
        // After the GETACK: the target must have the whole stream, GETACK included, before we follow it.
        let offset = super::offset(server);
        let mut f = server.repl.failover.lock();
        if f.state != WAITING {
            return;
        }
        if f.deadline_ms > 0 && now_ms() >= f.deadline_ms {
            if !f.force {
                drop(f);
                abort(server, "Replica never caught up before timeout");
                return;
            }
            if let Some((h, p)) = &f.target {
                log::info!("FAILOVER to {h}:{p} time out exceeded, failing over.");
            }
            break;
        }
        let caught_up = server.repl.attached().into_iter().find(|r| {
            r.ack_offset.load(Relaxed) >= offset
                && f.target.as_ref().is_none_or(|(h, p)| {
                    r.ip.eq_ignore_ascii_case(h) && r.port.load(Relaxed) == i64::from(*p)
                })
        });
        if let Some(r) = caught_up {
            let port = r.port.load(Relaxed) as u16;
            f.target = Some((r.ip.clone(), port));
            log::info!("Failover target {}:{port} is synced, failing over.", r.ip);
            break;
        }
        drop(f);
        std::thread::sleep(Duration::from_millis(10));
    }
    follow_target(server);
}

fn follow_target(server: &Server) {
    let target = {
        let mut f = server.repl.failover.lock();
        f.state = IN_PROGRESS;
        f.target.clone()
    };
    let Some((host, port)) = target else {
        return abort(server, "no target");
    };
    commands::become_replica_for_failover(server, host, port);
    let until = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < until {
        if replica::link_up(server) {
            *server.repl.failover.lock() = Failover::default();
            server.repl.failover_done.notify_all();
            return;
        }
        if server.repl.failover.lock().state != IN_PROGRESS {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    abort(server, "the target did not accept the failover");
}

/// Writes wait while a failover runs (Redis pauses them), then meet the role the failover left.
pub fn wait_writes(server: &Server) {
    let mut f = server.repl.failover.lock();
    while f.state != NONE {
        server
            .repl
            .failover_done
            .wait_for(&mut f, Duration::from_millis(100));
    }
}
