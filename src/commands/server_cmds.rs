//! Server commands: COMMAND, CONFIG, INFO, TIME, SHUTDOWN, DBSIZE, FLUSHDB, FLUSHALL.

use super::flags::*;
use super::{Args, Command, Ctx, Scope};
use crate::protocol::Reply;

pub const COMMANDS: &[Command] = &[Command::new("dbsize", 1, READONLY | FAST, dbsize)
    .scope(Scope::WholeDb)
    .doc(
        "server",
        "1.0.0",
        "Return the number of keys in the selected database",
    )];

fn dbsize(ctx: &mut Ctx, _args: Args) -> Reply {
    let db = ctx.db();
    Reply::Int(ctx.keys.shards(db).map(|(_, s)| s.len()).sum::<usize>() as i64)
}
