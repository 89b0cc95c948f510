//! Connection commands: PING, ECHO, QUIT, SELECT, RESET, HELLO, AUTH.

use super::flags::*;
use super::{Args, Command, Ctx};
use crate::protocol::{Protocol, Reply};
use crate::util::numbers::parse_i64;

/// The Redis release ferredis answers as (`HELLO`, `INFO server`): clients gate features on it.
pub const REDIS_VERSION: &str = "7.0.15";

pub const COMMANDS: &[Command] = &[
    Command::new("ping", -1, FAST, ping)
        .doc("connection", "1.0.0", "Ping the server")
        .complexity("O(1)"),
    Command::new("echo", 2, LOADING | STALE | FAST, echo)
        .doc("connection", "1.0.0", "Echo the given string")
        .complexity("O(1)"),
    Command::new(
        "quit",
        -1,
        ALLOW_BUSY | NOSCRIPT | LOADING | STALE | FAST | NO_AUTH,
        quit,
    )
    .doc("connection", "1.0.0", "Close the connection")
    .complexity("O(1)"),
    Command::new("select", 2, LOADING | STALE | FAST, select)
        .doc(
            "connection",
            "1.0.0",
            "Change the selected database for the current connection",
        )
        .complexity("O(1)"),
    Command::new(
        "reset",
        1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        reset,
    )
    .doc("connection", "6.2.0", "Reset the connection")
    .complexity("O(1)"),
    Command::new(
        "hello",
        -1,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        hello,
    )
    .doc("connection", "6.0.0", "Handshake with Redis")
    .complexity("O(1)"),
    Command::new(
        "auth",
        -2,
        NOSCRIPT | LOADING | STALE | FAST | NO_AUTH | ALLOW_BUSY,
        auth,
    )
    .doc("connection", "1.0.0", "Authenticate to the server")
    .complexity("O(N) where N is the number of passwords defined for the user"),
];

fn ping(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() <= 2 {
        if let Some(reply) =
            crate::pubsub::ping_reply(ctx.client, (args.len() == 2).then(|| args.get(1)))
        {
            return reply;
        }
    }
    match args.len() {
        1 => Reply::status("PONG"),
        2 => Reply::bulk(args.get(1)),
        _ => Reply::wrong_arity("ping"),
    }
}

fn echo(_ctx: &mut Ctx, args: Args) -> Reply {
    Reply::bulk(args.get(1))
}

/// Leaves every channel before answering: once the client reads `+OK`, no PUBLISH counts it any more.
fn quit(ctx: &mut Ctx, _args: Args) -> Reply {
    crate::pubsub::leave_all(ctx.server, ctx.client);
    ctx.client.close_after_reply = true;
    Reply::Ok
}

fn select(ctx: &mut Ctx, args: Args) -> Reply {
    let Some(db) = parse_i64(args.get(1)) else {
        return Reply::not_integer();
    };
    if db < 0 || db >= ctx.server.keyspace.db_count() as i64 {
        return Reply::err("DB index is out of range");
    }
    ctx.client.select(db as usize);
    Reply::Ok
}

/// Back to a fresh connection's state, as Redis's `clearClientConnectionState`: no subscriptions, no MULTI and no
/// WATCH, RESP2, db 0, no name, no NO-EVICT/NO-TOUCH, and authenticated only if the default user needs no password.
fn reset(ctx: &mut Ctx, _args: Args) -> Reply {
    crate::pubsub::leave_all(ctx.server, ctx.client);
    super::transaction::discard_transaction(ctx.server, ctx.client);
    crate::tracking::disable(ctx.server, ctx.client);
    ctx.client.select(0);
    ctx.client.set_protocol(Protocol::Resp2);
    let acl = crate::acl::acl();
    crate::acl::set_client_user(ctx.client, acl.default_user());
    ctx.client.authenticated = !acl.auth_required();
    ctx.client.reply_off = false;
    ctx.client.skip_replies = 0;
    let info = &ctx.client.info;
    info.name.lock().clear();
    info.no_evict
        .store(false, std::sync::atomic::Ordering::Relaxed);
    info.no_touch
        .store(false, std::sync::atomic::Ordering::Relaxed);
    Reply::status("RESET")
}

/// The reply of a failed password check, shared by AUTH and HELLO ... AUTH.
fn wrong_pass() -> Reply {
    Reply::error("WRONGPASS invalid username-password pair or user is disabled.")
}

/// Checks `user`/`pass` against the ACL users (`crate::acl`); on success the client runs as that user. `command`
/// is the name the client sent (AUTH, HELLO), for the ACL log.
fn authenticate(ctx: &mut Ctx, command: &[u8], user: &[u8], pass: &[u8]) -> Result<(), Reply> {
    if crate::acl::authenticate(ctx.client, user, pass, command) {
        Ok(())
    } else {
        Err(wrong_pass())
    }
}

fn auth(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 3 {
        return Reply::syntax_error();
    }
    // MONITOR never sees credentials, as in Redis.
    ctx.client.redacted = if args.len() == 2 { 0b10 } else { 0b110 };
    let (user, pass) = if args.len() == 2 {
        if crate::acl::acl().default_user().nopass {
            return Reply::err(
                "AUTH <password> called without any password configured for the default user. \
                 Are you sure your configuration is correct?",
            );
        }
        (&b"default"[..], args.get(1))
    } else {
        (args.get(1), args.get(2))
    };
    match authenticate(ctx, args.get(0), user, pass) {
        Ok(()) => Reply::Ok,
        Err(e) => e,
    }
}

/// `HELLO [protover [AUTH user pass] [SETNAME name]]`: every option is checked before anything changes, in
/// Redis's order (version, options, credentials, name, then the switch).
fn hello(ctx: &mut Ctx, args: Args) -> Reply {
    let mut version = None;
    if args.len() >= 2 {
        match parse_i64(args.get(1)) {
            None => return Reply::err("Protocol version is not an integer or out of range"),
            Some(v @ 2..=3) => version = Some(v),
            Some(_) => return Reply::error("NOPROTO unsupported protocol version"),
        }
    }
    let mut credentials = None;
    let mut name = None;
    let mut j = 2;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args.get(j);
        if opt.eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            credentials = Some((args.get(j + 1), args.get(j + 2)));
            if j + 2 < 64 {
                ctx.client.redacted |= 0b11 << (j + 1);
            }
            j += 3;
        } else if opt.eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            name = Some(args.get(j + 1));
            j += 2;
        } else {
            return Reply::err(&format!(
                "Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(opt)
            ));
        }
    }
    if let Some((user, pass)) = credentials {
        if let Err(e) = authenticate(ctx, args.get(0), user, pass) {
            return e;
        }
    }
    if !ctx.client.authenticated {
        return Reply::error(
            "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO \
             <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP \
             protocol version at the same time",
        );
    }
    if let Some(name) = name {
        if let Err(e) = super::client::set_name(ctx, name) {
            return e;
        }
    }
    match version {
        Some(3) => ctx.client.set_protocol(Protocol::Resp3),
        Some(_) => ctx.client.set_protocol(Protocol::Resp2),
        None => {}
    }
    let field = |k: &str, v: Reply| (Reply::bulk(k), v);
    let role = match ctx.server.repl.is_replica() {
        true => "replica",
        false => "master",
    };
    Reply::Map(vec![
        field("server", Reply::bulk("redis")),
        field("version", Reply::bulk(REDIS_VERSION)),
        field("proto", Reply::Int(ctx.client.protocol.number())),
        field("id", Reply::Int(ctx.client.id() as i64)),
        field("mode", Reply::bulk("standalone")),
        field("role", Reply::bulk(role)),
        field("modules", Reply::Array(Vec::new())),
    ])
}
