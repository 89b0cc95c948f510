//! Pub/Sub: channels, patterns and shard channels, each subscriber fed through a crossbeam channel; MONITOR;
//! keyspace notifications.
//!
//! - `hub`: who listens to what, PUBLISH's fan-out.
//! - `outbox`: a subscribed client's queue and the writer thread that drains it while the connection thread
//!   keeps reading commands; the output-buffer limits.
//! - `commands`: the (P|S)(UN)SUBSCRIBE family, PUBLISH, SPUBLISH, PUBSUB.
//! - `monitor`: MONITOR and its feed; keyspace notifications.
//!
//! A connection enters "outbox mode" on its first subscription (or MONITOR) and leaves it when it holds none: the
//! writer is drained and stopped, and the connection goes back to writing its replies itself.

mod commands;
mod hub;
mod monitor;
mod outbox;

use std::collections::HashSet;
use std::io;
use std::net::TcpStream;

use crate::server::stream::Stream;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Receiver;

pub use hub::{Hub, Kind};
pub use monitor::{feed_line, feed_monitors, notify_keyspace, repr};
pub use outbox::{configured_limits, over_limits, Limits, Outbox, DEFAULT_LIMITS};

use crate::commands::{flags, table, Command};
use crate::protocol::{encode, Protocol, Reply};
use crate::server::clients::{ClientInfo, ClientState};
use crate::server::Server;
use outbox::{spawn_writer, Chunk, Writer};

/// Every pub/sub command, MONITOR included.
pub const COMMANDS: &[Command] = commands::COMMANDS;

/// How long a client that QUITs while subscribed is given to take its last replies.
const QUIT_PATIENCE: Duration = Duration::from_secs(2);

/// A connection's subscriptions and, while it has any, its outbox.
#[derive(Default)]
pub struct ClientPubSub {
    channels: HashSet<Box<[u8]>, ahash::RandomState>,
    /// In subscription order: PUNSUBSCRIBE without arguments confirms them in that order, as Redis's list.
    patterns: Vec<Box<[u8]>>,
    shards: HashSet<Box<[u8]>, ahash::RandomState>,
    monitor: bool,
    outbox: Option<Arc<Outbox>>,
    /// The receiving end of a fresh outbox, until the connection loop starts its writer.
    pending: Option<Receiver<Chunk>>,
    writer: Option<Writer>,
    /// A monitor's view of its own last command, queued after that command's reply.
    own_line: Option<Arc<[u8]>>,
}

impl ClientPubSub {
    /// Whether output goes through the writer: checked once per command by the connection loop.
    #[inline]
    pub fn has_outbox(&self) -> bool {
        self.outbox.is_some()
    }

    /// Redis's CLIENT_PUBSUB flag: any channel, pattern or shard channel.
    pub fn subscribed(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shards.is_empty())
    }

    /// The count (un)subscribe confirmations carry: shard channels count apart from the others.
    fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shards.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    fn names(&self, kind: Kind) -> Vec<Box<[u8]>> {
        match kind {
            Kind::Channel => self.channels.iter().cloned().collect(),
            Kind::Pattern => self.patterns.clone(),
            Kind::Shard => self.shards.iter().cloned().collect(),
        }
    }

    /// Records a subscription; false if the client already had it.
    fn add(&mut self, kind: Kind, name: &[u8]) -> bool {
        match kind {
            Kind::Channel => self.channels.insert(name.into()),
            Kind::Shard => self.shards.insert(name.into()),
            Kind::Pattern => {
                let new = !self.patterns.iter().any(|p| &**p == name);
                if new {
                    self.patterns.push(name.into());
                }
                new
            }
        }
    }

    fn remove(&mut self, kind: Kind, name: &[u8]) -> bool {
        match kind {
            Kind::Channel => self.channels.remove(name),
            Kind::Shard => self.shards.remove(name),
            Kind::Pattern => {
                let before = self.patterns.len();
                self.patterns.retain(|p| &**p != name);
                self.patterns.len() != before
            }
        }
    }

    /// Mirrors the counts into the shared client info, for CLIENT LIST `sub=`, `psub=`, `ssub=`.
    fn publish_counts(&self, info: &ClientInfo) {
        info.subscriptions
            .store(self.channels.len() as u32, Relaxed);
        info.psubscriptions
            .store(self.patterns.len() as u32, Relaxed);
        info.ssubscriptions.store(self.shards.len() as u32, Relaxed);
    }

    /// The client's outbox, made on first use; its writer starts after the current command.
    fn outbox(&mut self, info: &Arc<ClientInfo>) -> Arc<Outbox> {
        if let Some(o) = &self.outbox {
            return o.clone();
        }
        let (outbox, rx) = Outbox::new(info.clone());
        *info.outbox.lock() = Arc::downgrade(&outbox);
        self.outbox = Some(outbox.clone());
        self.pending = Some(rx);
        outbox
    }

    pub fn is_monitor(&self) -> bool {
        self.monitor
    }
}

/// A frame encoded for `proto`, ready to queue.
fn frame(reply: &Reply, proto: Protocol) -> (Chunk, usize) {
    let mut out = Vec::new();
    encode(reply, proto, &mut out);
    let len = out.len();
    (Chunk::Owned(out), len)
}

/// The RESP2 pub/sub context: a subscribed client may only run (P|S)(UN)SUBSCRIBE, PING, QUIT and RESET (RESP3
/// clients may run anything). A MONITOR client is a replica to Redis: it may not touch the keyspace.
#[inline]
/// `cmd_flags` as the other gates get them (`transaction::effective_flags`: a script's declared flags).
pub fn gate(client: &ClientState, id: usize, cmd_flags: u32) -> Option<Reply> {
    if !client.ext.pubsub.has_outbox() {
        return None;
    }
    gate_outbox_mode(client, id, cmd_flags)
}

#[cold]
fn gate_outbox_mode(client: &ClientState, id: usize, cmd_flags: u32) -> Option<Reply> {
    let ps = &client.ext.pubsub;
    let table = table::get();
    if ps.monitor && cmd_flags & (flags::WRITE | flags::READONLY | flags::MAY_REPLICATE) != 0 {
        return Some(Reply::err("Replica can't interact with the keyspace"));
    }
    const ALLOWED: &[&str] = &[
        "subscribe",
        "ssubscribe",
        "unsubscribe",
        "sunsubscribe",
        "psubscribe",
        "punsubscribe",
        "ping",
        "quit",
        "reset",
    ];
    let name = table.full_name(id);
    if client.protocol == Protocol::Resp2 && ps.subscribed() && !ALLOWED.contains(&name) {
        return Some(Reply::err(&format!(
            "Can't execute '{name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
        )));
    }
    None
}

/// PING in the RESP2 pub/sub context answers `["pong", <message or "">]`; `None` outside it.
pub fn ping_reply(client: &ClientState, message: Option<&[u8]>) -> Option<Reply> {
    (client.protocol == Protocol::Resp2 && client.ext.pubsub.subscribed()).then(|| {
        Reply::Array(vec![
            Reply::bulk("pong"),
            Reply::bulk(message.unwrap_or_default()),
        ])
    })
}

/// Called by the connection loop after each command while the client has an outbox, with the command's encoded
/// reply in `out`. Starts the writer of a fresh outbox (after writing what was answered before it with `flush`),
/// queues the reply otherwise, and stops the writer once the client holds no subscription.
pub fn after_command(
    server: &Server,
    client: &mut ClientState,
    stream: &mut Stream,
    out: &mut Vec<u8>,
    flush: fn(&mut Stream, &mut Vec<u8>) -> io::Result<()>,
) -> io::Result<()> {
    let ps = &mut client.ext.pubsub;
    let Some(outbox) = ps.outbox.clone() else {
        return Ok(());
    };
    if let Some(rx) = ps.pending.take() {
        flush(stream, out)?;
        ps.writer = Some(spawn_writer(outbox.clone(), rx, stream.try_clone()?)?);
    } else if !out.is_empty() {
        let len = out.len();
        let limits = server.pubsub.limits(&server.config);
        outbox.push(Chunk::Owned(std::mem::take(out)), len, limits);
    }
    if let Some(line) = ps.own_line.take() {
        let limits = server.pubsub.limits(&server.config);
        outbox.push(Chunk::Shared(line.clone()), line.len(), limits);
    }
    if !ps.subscribed() && !ps.monitor {
        // Back to normal mode: everything queued is written before the connection writes again itself.
        if let Some(writer) = ps.writer.take() {
            writer.finish(&outbox, stream.tcp(), None);
        }
        ps.outbox = None;
        if outbox.is_closed() {
            return Err(io::Error::other(
                "closed for overcoming output buffer limits",
            ));
        }
    }
    Ok(())
}

/// Leaves every channel, pattern and shard channel and stops monitoring, without confirmations: for RESET (whose
/// handler calls this; its reply then goes out through the writer, which the connection loop stops right after)
/// and for a closed connection.
pub fn leave_all(server: &Server, client: &mut ClientState) {
    let ps = &mut client.ext.pubsub;
    let Some(outbox) = ps.outbox.clone() else {
        return;
    };
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in ps.names(kind) {
            server.pubsub.unsubscribe(kind, &name, &outbox, None);
        }
    }
    ps.channels.clear();
    ps.patterns.clear();
    ps.shards.clear();
    if ps.monitor {
        server.pubsub.remove_monitor(&outbox);
        ps.monitor = false;
    }
    ps.publish_counts(&client.info);
}

/// The connection is closing: off every channel at once, then the writer is drained (a client that QUIT gets
/// its last replies, within [`QUIT_PATIENCE`]) or, for a vanished peer, cut off.
pub fn disconnect(server: &Server, client: &mut ClientState, stream: &TcpStream, graceful: bool) {
    leave_all(server, client);
    let ps = &mut client.ext.pubsub;
    let Some(outbox) = ps.outbox.take() else {
        return;
    };
    ps.pending = None;
    if let Some(writer) = ps.writer.take() {
        if !graceful {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        writer.finish(&outbox, stream, Some(QUIT_PATIENCE));
    }
}

#[cfg(test)]
mod tests;
