//! The master side: REPLCONF, PSYNC/SYNC, and feeding an attached replica.
//!
//! PSYNC hands the connection over ([`ClientRepl::handoff`]): after the reply the connection thread becomes the
//! replica's writer ([`serve`]): the RDB for a full sync, then the feed from the exact offset, while a reader
//! thread takes the replica's `REPLCONF ACK`s.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use super::{rdbsync, Attached};
use crate::commands::{Args, Ctx};
use crate::effects::Subscription;
use crate::protocol::{Reply, RequestLimits, RequestReader};
use crate::server::clients::ClientState;
use crate::server::stream::Stream;
use crate::server::Server;
use crate::util::time::now_ms;

/// Per-client replication state: what the replica announced with REPLCONF, and the hand-over PSYNC asks for.
#[derive(Default)]
pub struct ClientRepl {
    pub listening_port: i64,
    pub ip: Option<String>,
    pub capa_eof: bool,
    pub capa_psync2: bool,
    /// Set on the link this server (as a replica) applies its master's stream through.
    pub is_master: bool,
    pub handoff: Option<Handoff>,
}

/// What the connection turns into after PSYNC/SYNC.
pub enum Handoff {
    /// A full sync; `psync` is false for the old SYNC (no `+FULLRESYNC` line).
    Full { psync: bool },
    /// `+CONTINUE` was replied; the stream goes on from this subscription.
    Continue(Subscription),
}

/// REPLCONF option value ...
pub fn replconf(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len().is_multiple_of(2) {
        return Reply::err("syntax error");
    }
    let repl = &mut ctx.client.ext.repl;
    for pair in args.iter().skip(1).collect::<Vec<_>>().chunks(2) {
        let (opt, val) = (pair[0].to_ascii_lowercase(), pair[1]);
        match opt.as_slice() {
            b"listening-port" => match std::str::from_utf8(val).ok().and_then(|v| v.parse().ok()) {
                Some(p) => repl.listening_port = p,
                None => return Reply::err("value is not an integer or out of range"),
            },
            b"ip-address" => repl.ip = Some(String::from_utf8_lossy(val).into_owned()),
            b"capa" => {
                if val.eq_ignore_ascii_case(b"eof") {
                    repl.capa_eof = true
                } else if val.eq_ignore_ascii_case(b"psync2") {
                    repl.capa_psync2 = true
                }
            }
            // ACKs come on the replica's own link (read by `serve`); GETACK is answered by the replica's link.
            b"ack" | b"getack" => return Reply::NoReply,
            b"rdb-only" | b"rdb-filter-only" => {}
            _ => {
                return Reply::err(&format!(
                    "Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(&opt)
                ))
            }
        }
    }
    Reply::Ok
}

/// PSYNC replid offset: `+CONTINUE` when the history asked for is still kept, else a full sync.
pub fn psync(ctx: &mut Ctx, args: Args) -> Reply {
    if args.len() > 3 && args.get(3).eq_ignore_ascii_case(b"failover") {
        if let Some(reply) = failover_request(ctx, args.get(1)) {
            return reply;
        }
    }
    if let Some(reply) = refuse_sync(ctx) {
        return reply;
    }
    let server = ctx.server;
    let replid = String::from_utf8_lossy(args.get(1)).into_owned();
    let Some(offset) = std::str::from_utf8(args.get(2))
        .ok()
        .and_then(|o| o.parse::<i64>().ok())
    else {
        log::warn!(
            "Replica {} asks for synchronization but with a wrong offset",
            describe(ctx.client)
        );
        return Reply::not_integer();
    };
    if let Some(sub) = try_continue(server, &replid, offset) {
        server.repl.sync_partial_ok.fetch_add(1, Relaxed);
        let id = server.repl.state().replid.clone();
        let backlog = server.feed.offset().saturating_sub(sub.offset());
        ctx.client.ext.repl.handoff = Some(Handoff::Continue(sub));
        log::info!(
            "Partial resynchronization request from {} accepted. Sending {backlog} bytes of backlog starting from offset {}.",
            describe(ctx.client),
            offset
        );
        return if ctx.client.ext.repl.capa_psync2 {
            Reply::Raw(format!("+CONTINUE {id}\r\n").into_bytes())
        } else {
            Reply::Raw(b"+CONTINUE\r\n".to_vec())
        };
    }
    if replid != "?" {
        server.repl.sync_partial_err.fetch_add(1, Relaxed);
    }
    ctx.client.ext.repl.handoff = Some(Handoff::Full { psync: true });
    Reply::NoReply
}

/// SYNC: a full sync without the `+FULLRESYNC` line.
pub fn sync(ctx: &mut Ctx, _args: Args) -> Reply {
    if let Some(reply) = refuse_sync(ctx) {
        return reply;
    }
    ctx.client.ext.repl.handoff = Some(Handoff::Full { psync: false });
    Reply::NoReply
}

/// `PSYNC <replid> <offset> FAILOVER` from our master handing over: we become the master, keeping its history.
fn failover_request(ctx: &Ctx, replid: &[u8]) -> Option<Reply> {
    let server = ctx.server;
    let replid = String::from_utf8_lossy(replid);
    log::warn!("Failover request received for replid {replid}.");
    if !server.repl.is_replica() {
        return Some(Reply::err("PSYNC FAILOVER can't be sent to a master."));
    }
    if replid != server.repl.state().replid {
        return Some(Reply::err("PSYNC FAILOVER replid must match my replid."));
    }
    super::replica::drain(server, Duration::from_secs(1));
    super::commands::promote(server);
    log::info!(
        "MASTER MODE enabled (failover request from 'id={}')",
        ctx.client.id()
    );
    None
}

fn refuse_sync(ctx: &Ctx) -> Option<Reply> {
    if ctx.server.repl.failover.lock().state != super::failover::NONE {
        return Some(Reply::error("NOMASTERLINK Can't SYNC while failing over"));
    }
    if ctx.server.repl.is_replica() && !super::replica::link_up(ctx.server) {
        return Some(Reply::error(
            "NOMASTERLINK Can't SYNC while not connected with my master",
        ));
    }
    None
}

fn describe(client: &ClientState) -> String {
    let port = client.ext.repl.listening_port;
    format!("{}:{}", client.info.addr.ip(), port)
}

/// The subscription resuming at Redis offset `offset` (the first byte the replica lacks), if `replid` is our
/// history and those bytes are kept.
fn try_continue(server: &Server, replid: &str, offset: i64) -> Option<Subscription> {
    super::resize_backlog(server);
    let st = server.repl.state();
    let ours = replid == st.replid || (replid == st.replid2 && offset <= st.second_offset);
    let from = st.backlog_from?;
    // Redis offsets name bytes from 1: the replica's next byte `offset` is feed byte `offset - 1 - shift`.
    let at = offset - 1 - st.shift;
    if !ours || at < from as i64 {
        return None;
    }
    server.feed.subscribe_from(u64::try_from(at).ok()?)
}

/// After PSYNC/SYNC: this connection is a replica's link until it breaks.
pub fn serve(
    server: &Server,
    client: &mut ClientState,
    stream: &mut Stream,
    handoff: Handoff,
    pending: Vec<u8>,
) -> io::Result<()> {
    let attached = Arc::new(Attached {
        client: client.info.clone(),
        ip: client
            .ext
            .repl
            .ip
            .clone()
            .unwrap_or_else(|| client.info.addr.ip().to_string()),
        port: AtomicI64::new(client.ext.repl.listening_port),
        state: AtomicU8::new(0),
        ack_offset: AtomicI64::new(0),
        ack_ms: AtomicI64::new(now_ms()),
        acked: Default::default(),
        written_to: AtomicU64::new(super::outbuf::NO_STREAM),
        soft_since: AtomicI64::new(0),
        link_closed: AtomicBool::new(false),
        in_writer: AtomicU64::new(0),
    });
    client.info.repl_kind.store(1, Relaxed);
    // The connection loop is left mid-batch: fences must not wait for the rest of it, nor for its ACKs.
    server.clients.set_watched(&client.info, false);
    client.info.input.finished();
    server.repl.replicas.lock().push(attached.clone());
    let result = feed_replica(server, client, stream, handoff, &attached, pending);
    {
        let mut replicas = server.repl.replicas.lock();
        replicas.retain(|a| !Arc::ptr_eq(a, &attached));
        if replicas.is_empty() {
            server
                .repl
                .no_replicas_since
                .store(now_ms() / 1000, Relaxed);
        }
    }
    log::warn!("Connection with replica {} lost.", describe(client));
    let _ = stream.tcp().shutdown(std::net::Shutdown::Both);
    result
}

fn feed_replica(
    server: &Server,
    client: &ClientState,
    stream: &mut Stream,
    handoff: Handoff,
    attached: &Arc<Attached>,
    pending: Vec<u8>,
) -> io::Result<()> {
    let (mut sub, eof) = match handoff {
        Handoff::Continue(sub) => (sub, false),
        Handoff::Full { psync } => full_sync(server, client, stream, psync, attached)?,
    };
    attached.written_to.store(sub.offset(), Relaxed);
    if !eof {
        attached.state.store(2, Relaxed);
    }
    attached.ack_ms.store(now_ms(), Relaxed);
    let reader = {
        let (input, attached) = (stream.try_clone()?, attached.clone());
        let server = server
            .arc()
            .ok_or_else(|| io::Error::other("shutting down"))?;
        std::thread::Builder::new()
            .name("repl-acks".into())
            .spawn(move || {
                read_acks(&server, input, &attached, &pending);
                attached.link_closed.store(true, Relaxed);
                server.feed.wake_readers();
            })?
    };
    let result = stream_feed(server, client, stream, &mut sub, attached);
    if !attached.link_closed.load(Relaxed) {
        // The reader is still waiting on the replica: ending the link ends it. A reader that ended on its
        // own leaves the socket open until `serve` has logged the loss, so a client told of the close by EOF
        // finds the line in the log, as after Redis's close.
        let _ = stream.tcp().shutdown(std::net::Shutdown::Both);
    }
    let _ = reader.join();
    result
}

fn stream_feed(
    server: &Server,
    client: &ClientState,
    stream: &mut Stream,
    sub: &mut Subscription,
    attached: &Attached,
) -> io::Result<()> {
    let closed = || attached.link_closed.load(Relaxed);
    loop {
        if closed() || client.info.killed.load(Relaxed) {
            return Ok(());
        }
        if crate::ops::pause::sleep_through() {
            // Redis's event loop reads the ACKs that waited before its cron judges the replica's silence.
            attached.ack_ms.store(now_ms(), Relaxed);
        }
        let timeout_ms = super::commands::int_param(server, "repl-timeout") * 1000;
        if now_ms() - attached.ack_ms.load(Relaxed) > timeout_ms {
            log::warn!(
                "Disconnecting timedout replica (streaming sync): {}",
                attached.ip
            );
            return Ok(());
        }
        if !attached.online() {
            if !attached.acked.load(Relaxed) {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            attached.state.store(2, Relaxed);
        }
        let bytes = sub.read_unless(Duration::from_millis(100), closed);
        if !bytes.is_empty() {
            attached.in_writer.store(bytes.len() as u64, Relaxed);
            stream.write_all(&bytes)?;
            attached.in_writer.store(0, Relaxed);
            attached.written_to.store(sub.offset(), Relaxed);
        }
    }
}

/// Joins a shared snapshot (see `rdbsync`), sends `+FULLRESYNC` at its instant, then the RDB: streamed as it is
/// produced with `$EOF:` framing to a diskless replica, or as `$<len>` once complete; returns the subscription
/// that follows it and whether the transfer was diskless.
fn full_sync(
    server: &Server,
    client: &ClientState,
    stream: &mut Stream,
    psync: bool,
    attached: &Attached,
) -> io::Result<(Subscription, bool)> {
    server.repl.sync_full.fetch_add(1, Relaxed);
    log::info!("Replica {} asks for synchronization", describe(client));
    {
        let mut st = server.repl.state();
        if st.backlog_from.is_none() {
            // As Redis's syncCommand when the first replica attaches: a new history starts here.
            st.replid = super::new_replid();
            st.replid2 = "0".repeat(40);
            st.second_offset = -1;
            log::info!(
                "Replication backlog created, my new replication IDs are '{}' and '{}'",
                st.replid,
                st.replid2
            );
        }
        super::ensure_backlog(server, &mut st);
    }
    let diskless = server.config.get("repl-diskless-sync").as_deref() == Some("yes")
        && client.ext.repl.capa_eof;
    let member = rdbsync::join(server, diskless)?;
    let mut alive = Keepalive::default();
    let start = member.wait_start(|| alive.tick(client, stream))?;
    attached.written_to.store(start.sub.offset(), Relaxed);
    if psync {
        let line = format!("+FULLRESYNC {} {}\r\n", start.replid, start.offset);
        stream.write_all(line.as_bytes())?;
    }
    if diskless {
        let mark = super::new_replid();
        stream.write_all(format!("$EOF:{mark}\r\n").as_bytes())?;
        let mut at = 0;
        while let Some(bytes) = member.read(at, Duration::from_millis(100))? {
            Keepalive::check(client, stream)?;
            stream.write_all(&bytes)?;
            at += bytes.len();
        }
        stream.write_all(mark.as_bytes())?;
        log::info!(
            "Streamed RDB transfer with replica {} succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming",
            describe(client)
        );
    } else {
        let rdb = member.wait_done(|| alive.tick(client, stream))?;
        attached.state.store(1, Relaxed);
        stream.write_all(format!("${}\r\n", rdb.len()).as_bytes())?;
        stream.write_all(&rdb)?;
        log::info!(
            "Synchronization with replica {} succeeded",
            describe(client)
        );
    }
    Ok((start.sub, diskless))
}

/// A replica waiting for its RDB: the newline it gets every second, as Redis's `replicationCron` (none while
/// DEBUG SLEEP has the server asleep), and the check that it is still there.
struct Keepalive {
    last: std::time::Instant,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            last: std::time::Instant::now(),
        }
    }
}

impl Keepalive {
    fn tick(&mut self, client: &ClientState, stream: &mut Stream) -> io::Result<()> {
        Self::check(client, stream)?;
        if self.last.elapsed() >= Duration::from_secs(1) && !crate::ops::pause::asleep() {
            stream.write_all(b"\n")?;
            self.last = std::time::Instant::now();
        }
        Ok(())
    }

    /// A replica killed (CLIENT KILL) or gone ends its transfer at once.
    fn check(client: &ClientState, stream: &Stream) -> io::Result<()> {
        if client.info.killed.load(Relaxed) || crate::blocking::peer_closed(stream.tcp()) {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "replica gone during the transfer",
            ));
        }
        Ok(())
    }
}

/// The replica's half of the link: `REPLCONF ACK <offset>` lines, until it closes (or sends another command:
/// see `rogue`). `pending`: what it sent after PSYNC/SYNC in the same read.
fn read_acks(server: &Server, mut input: Stream, attached: &Attached, pending: &[u8]) {
    let mut reader = RequestReader::new();
    let mut rest = pending;
    'link: loop {
        let read = match rest.is_empty() {
            false => reader.read_from(&mut rest),
            true => reader.read_from(&mut input),
        };
        match read {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        while let Ok(Some(frame)) = reader.next_frame(RequestLimits::DEFAULT) {
            if !super::rogue::allowed(&frame) {
                super::rogue::drop_replica(&attached.client, &frame);
                break 'link;
            }
            attached.ack_ms.store(now_ms(), Relaxed);
            let is_ack = frame.len() >= 3
                && frame.get(0).eq_ignore_ascii_case(b"replconf")
                && frame.get(1).eq_ignore_ascii_case(b"ack");
            if let Some(off) = is_ack
                .then(|| std::str::from_utf8(frame.get(2)).ok()?.parse::<i64>().ok())
                .flatten()
            {
                attached.ack_offset.store(off, Relaxed);
                attached.acked.store(true, Relaxed);
                server.repl.note_ack();
            }
        }
    }
}

/// `repl-backlog-ttl`: a master without replicas for that many seconds frees its backlog and starts a new
/// history, as Redis's `replicationCron` (a replica keeps its backlog: it may be promoted).
fn backlog_ttl(server: &Server) {
    let ttl = super::commands::int_param(server, "repl-backlog-ttl");
    if ttl <= 0 || server.repl.is_replica() || !server.repl.replicas.lock().is_empty() {
        return;
    }
    let idle = now_ms() / 1000 - server.repl.no_replicas_since.load(Relaxed);
    let mut st = server.repl.state();
    if st.backlog_from.is_none() || idle <= ttl {
        return;
    }
    st.backlog_from = None;
    st.replid = super::new_replid();
    st.replid2 = "0".repeat(40);
    st.second_offset = -1;
    server.feed.drop_backlog();
    drop(st);
    log::info!("Replication backlog freed after {ttl} seconds without connected replicas.");
}

/// Once a second: the keepalive `PING` into the stream every `repl-ping-replica-period` seconds, as Redis's
/// `replicationCron` (a replica forwards its master's instead).
pub fn cron(server: &Server, tick: i64) {
    super::outbuf::check(server);
    super::resize_backlog(server);
    backlog_ttl(server);
    let period = super::commands::int_param(server, "repl-ping-replica-period").max(1);
    if server.repl.is_replica()
        || server.repl.replicas.lock().is_empty()
        || tick % period != 0
        || crate::ops::pause::asleep()
    {
        return;
    }
    server.feed.append_raw(b"*1\r\n$4\r\nPING\r\n");
}
