//! Generic key commands: DEL, EXISTS, ...

use super::flags::*;
use super::{Args, Command, Ctx};
use crate::protocol::Reply;

pub const COMMANDS: &[Command] = &[
    Command::new("del", -2, WRITE, del)
        .keys(1, -1, 1)
        .doc("generic", "1.0.0", "Delete a key"),
    Command::new("exists", -2, READONLY | FAST, exists)
        .keys(1, -1, 1)
        .doc("generic", "1.0.0", "Determine if a key exists"),
];

fn del(ctx: &mut Ctx, args: Args) -> Reply {
    let mut n = 0;
    for key in args.iter().skip(1) {
        if ctx.delete(key) {
            ctx.notify('g', "del", key);
            n += 1;
        }
    }
    Reply::Int(n)
}

fn exists(ctx: &mut Ctx, args: Args) -> Reply {
    let db = ctx.db();
    Reply::Int(
        args.iter()
            .skip(1)
            .filter(|k| ctx.keys.contains(db, k))
            .count() as i64,
    )
}
