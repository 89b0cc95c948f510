//! Connection commands: PING, ECHO, QUIT, SELECT.

use super::flags::*;
use super::{Args, Command, Ctx};
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;

pub const COMMANDS: &[Command] = &[
    Command::new("ping", -1, FAST, ping).doc("connection", "1.0.0", "Ping the server"),
    Command::new("echo", 2, FAST, echo).doc("connection", "1.0.0", "Echo the given string"),
    Command::new("quit", -1, ALLOW_BUSY | NO_AUTH | FAST, quit).doc(
        "connection",
        "1.0.0",
        "Close the connection",
    ),
    Command::new("select", 2, LOADING | STALE | FAST, select).doc(
        "connection",
        "1.0.0",
        "Change the selected database for the current connection",
    ),
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

fn quit(ctx: &mut Ctx, _args: Args) -> Reply {
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
