//! MONITOR, and keyspace notifications: the two ways the server publishes what commands do.

use std::sync::Arc;

use super::hub::Kind;
use super::outbox::Chunk;
use crate::commands::{flags, transaction, Args, Command, Ctx};
use crate::config::params::notify;
use crate::protocol::Reply;
use crate::server::Server;
use crate::util::time::now_us;

pub(super) fn monitor(ctx: &mut Ctx, _args: Args) -> Reply {
    if transaction::in_exec(ctx.client) {
        // Redis refuses clients that expect one reply per command (CLIENT_DENY_BLOCKING).
        return Reply::err("MONITOR isn't allowed for DENY BLOCKING client");
    }
    let info = ctx.client.info.clone();
    let ps = &mut ctx.client.ext.pubsub;
    if ps.monitor {
        return Reply::NoReply;
    }
    let outbox = ps.outbox(&info);
    ps.monitor = true;
    let server = ctx.server;
    let limits = server.pubsub.limits(&server.config);
    // +OK is queued under the monitors lock, so no line of another client's command can overtake it.
    server
        .pubsub
        .add_monitor(&outbox, Chunk::Owned(b"+OK\r\n".to_vec()), 5, limits);
    Reply::NoReply
}

/// Called by `dispatch::call` after a command ran, only while someone monitors. Admin commands and those flagged
/// skip_monitor are not shown, as in Redis.
pub fn feed_monitors(ctx: &mut Ctx, cmd: &Command, args: Args) {
    if cmd.has(flags::ADMIN | flags::SKIP_MONITOR) {
        return;
    }
    feed_line(ctx, args);
}

/// One MONITOR line for `args`, whatever the command's flags: EVAL and FCALL (flagged skip_monitor) feed their
/// own line before the commands their script runs, as Redis does; commands a script runs show `lua` as their
/// client.
pub fn feed_line(ctx: &mut Ctx, args: Args) {
    let mut line = Vec::with_capacity(64);
    let from_lua = crate::scripting::in_script();
    let us = now_us();
    line.extend_from_slice(
        format!(
            "+{}.{:06} [{} {}]",
            us / 1_000_000,
            us % 1_000_000,
            ctx.client.db,
            if from_lua {
                "lua".to_string()
            } else {
                ctx.client.info.addr.to_string()
            }
        )
        .as_bytes(),
    );
    for (i, arg) in args.iter().enumerate() {
        line.push(b' ');
        // Credentials given to AUTH / HELLO (see `ClientState::redacted`).
        if i < 64 && ctx.client.redacted & (1 << i) != 0 {
            line.extend_from_slice(b"\"(redacted)\"");
        } else {
            repr(arg, &mut line);
        }
    }
    line.extend_from_slice(b"\r\n");
    let line: Arc<[u8]> = line.into();
    let ps = &mut ctx.client.ext.pubsub;
    // A monitor sees its own command after its reply, as in Redis: the line waits for the reply to be queued.
    let own = ps.monitor.then(|| ps.outbox.clone()).flatten();
    if own.is_some() {
        ps.own_line = Some(line.clone());
    }
    ctx.server
        .pubsub
        .feed_monitors(&ctx.server.config, line, own.as_ref());
}

/// Redis's `sdscatrepr`: a double-quoted string with `\n`, `\r`, `\t`, `\a`, `\b`, `\\`, `\"` escaped and other
/// non-printable bytes as `\xHH`.
pub fn repr(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &c in s {
        match c {
            b'\\' | b'"' => out.extend_from_slice(&[b'\\', c]),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x07 => out.extend_from_slice(b"\\a"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x20..=0x7e => out.push(c),
            _ => out.extend_from_slice(format!("\\x{c:02x}").as_bytes()),
        }
    }
    out.push(b'"');
}

/// Redis's `notifyKeyspaceEvent`, with the class already known to be enabled in some way (`flags` is the
/// nonzero `notify-keyspace-events`): publishes `event` on `__keyspace@<db>__:<key>` and `key` on
/// `__keyevent@<db>__:<event>`, as the K and E flags ask.
pub fn notify_keyspace(
    server: &Server,
    flags: u32,
    class: char,
    event: &str,
    db: usize,
    key: &[u8],
) {
    let bit = match class {
        'm' => notify::KEY_MISS,
        c => notify::class(c),
    };
    if flags & bit == 0 {
        return;
    }
    if flags & notify::KEYSPACE != 0 {
        let mut channel = format!("__keyspace@{db}__:").into_bytes();
        channel.extend_from_slice(key);
        server
            .pubsub
            .publish(&server.config, Kind::Channel, &channel, event.as_bytes());
    }
    if flags & notify::KEYEVENT != 0 {
        let channel = format!("__keyevent@{db}__:{event}");
        server
            .pubsub
            .publish(&server.config, Kind::Channel, channel.as_bytes(), key);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn repr_escapes_as_sdscatrepr() {
        let mut out = Vec::new();
        super::repr(b"a\"b\\c\n\r\t\x07\x08\x01\xff ~", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""a\"b\\c\n\r\t\a\b\x01\xff ~""#
        );
    }
}
