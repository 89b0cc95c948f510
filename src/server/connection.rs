//! One connection's loop: read, run every complete request in the buffer, write all replies at once.
//!
//! This is the hot path: one `read` into a reused buffer, arguments as slices of it, replies appended to a reused
//! output buffer, one `write` per batch. A panic in a handler is caught here: that client is closed, the server
//! goes on (parking_lot locks do not poison).

use std::io::{self, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::clients::{ClientInfo, ClientState};
use super::stream::Stream;
use super::unsent::Unsent;
use super::{stats, Server};
use crate::commands::client::{describe, Running};
use crate::commands::dispatch;
use crate::protocol::{encode, query_sample, ProtocolError, Reply, RequestLimits, RequestReader};
use crate::util::time::now_ms;

/// Replies are flushed early once this much is pending, so a huge pipeline does not buffer without bound.
const FLUSH_AT: usize = 64 * 1024;
/// The reply buffer of a running batch (Redis's `PROTO_REPLY_CHUNK_BYTES`).
const REPLY_CHUNK: usize = 16 * 1024;

pub fn serve(server: Arc<Server>, mut stream: Stream, info: Arc<ClientInfo>) {
    let mut client = ClientState::new(info.clone());
    client.authenticated = !crate::acl::acl().auth_required();
    let _ = info.push.set(stream.clone());
    crate::tracking::defer_broadcasts(&server, true);
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        connection_loop(&server, &mut stream, &mut client)
    }));
    crate::tracking::defer_broadcasts(&server, false);
    let graceful = matches!(outcome, Ok(Ok(())));
    // Gone as far as other threads are concerned (a tracking redirect to it is broken from now on).
    info.killed.store(true, Relaxed);
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => log::debug!("client id={} closed: {e}", info.id),
        Err(_) => log::warn!(
            "panic while serving client id={} addr={}: client closed",
            info.id,
            info.addr
        ),
    }
    // Off every channel before the client leaves the registry: PUBLISH stops counting it at once.
    crate::pubsub::disconnect(&server, &mut client, stream.tcp(), graceful);
    crate::commands::transaction::discard_transaction(&server, &mut client);
    crate::tracking::disable(&server, &mut client);
    server.clients.unregister(info.id);
    info.input.closed();
    log::debug!("Client closed connection id={}", info.id);
}

fn connection_loop(
    server: &Server,
    stream: &mut Stream,
    client: &mut ClientState,
) -> io::Result<()> {
    let mut reader = RequestReader::new();
    // The reply buffer exists only while a batch runs: 16 kB from its first request on, as a busy Redis client's
    // reply buffer (so a reply up to that size, INFO's, does not grow memory after `used_memory` was read for
    // it), given back once the batch is written, so a connection at rest holds none that nothing counts.
    let mut out: Vec<u8> = Vec::new();
    // Replies of earlier batches the socket has not taken yet (a client that does not read what it asked for).
    let mut unsent = Unsent::default();
    let info = client.info.clone();
    info.rbs.store(reader.capacity(), Relaxed);
    super::output_limit::begin();
    loop {
        if !unsent.is_empty() {
            unsent.wait_readable(stream, &info)?;
        }
        if client.ext.pubsub.has_outbox() || super::fence::watched(&info) {
            stream.announce(&info.input)?;
        }
        let (before, big) = (reader.buffered_as_redis(), reader.big_bulk());
        let n = stream.read_into(&mut reader, &info.input)?;
        if n == 0 || info.killed.load(Relaxed) {
            return Ok(());
        }
        out.reserve(REPLY_CHUNK);
        info.bufs.lock().read(before, n, big);
        info.last_interaction_ms.store(now_ms(), Relaxed);
        stats::with_local(|s| s.net_input_bytes.add_local(n as u64));
        if reader.unparsed().len() > server.config.client_query_buffer_limit() {
            close_over_query_limit(&reader, &info);
            return Ok(());
        }
        loop {
            // Read for every request: CONFIG SET and AUTH apply from the next one on.
            let limits = RequestLimits {
                max_bulk: server.config.proto_max_bulk_len(),
                unauthenticated: !client.authenticated && crate::acl::acl().auth_required(),
            };
            match reader.next_frame(limits) {
                Ok(Some(frame)) => {
                    if crate::ops::pause::holds(server, client, frame) {
                        // CLIENT PAUSE: earlier replies go out, then the client waits as a blocked one.
                        crate::tracking::end_batch(server, client, &mut out);
                        flush_all(stream, &mut unsent, &mut out)?;
                        // A pause may last long: held, the client counts as done for fences. DEBUG SLEEP holds
                        // every client and ends for all at once; there the held batch still counts as running,
                        // so a command that arrives after it and wakes first waits for it, as Redis's one
                        // thread would have run it first (obuf-limits' "No response for multi commands in
                        // pipeline": CLIENT LIST after the sleep must not find the pipelining client alive).
                        let stall = crate::ops::pause::asleep();
                        if !stall {
                            info.input.finished();
                        }
                        if !crate::ops::pause::wait(server, client, frame, stream.tcp()) {
                            return Ok(());
                        }
                        // The rest of the batch runs now: fences wait for it again.
                        info.input.resumed();
                        // Messages held while it counted as blocked follow this command's reply.
                        crate::tracking::after_wait(server, client);
                    }
                    let limits = super::output_limit::limits()
                        .filter(|l| l.hard != 0 && !client.ext.pubsub.has_outbox());
                    super::output_limit::set_reply_budget(limits);
                    let running = crate::crash::command_running(&info, frame);
                    let mut reply = dispatch::execute(server, client, frame);
                    drop(running);
                    if crate::blocking::pending(client) {
                        // Earlier pipelined replies go out before this client sleeps.
                        crate::tracking::end_batch(server, client, &mut out);
                        flush_all(stream, &mut unsent, &mut out)?;
                        // Asleep counts as done for fences: what it sent before has run.
                        info.input.finished();
                        reply = crate::blocking::wait(server, client, stream.tcp());
                        // The rest of the batch runs now: fences wait for it again.
                        info.input.resumed();
                        if crate::blocking::was_served() {
                            crate::ops::after_unblock(&info, frame);
                        }
                        crate::tracking::after_wait(server, client);
                        // `appendfsync always`: the reply waits for the served pop's effect too.
                        server.feed.cover_served();
                    }
                    client.ext.tracking.take_early(&mut out);
                    if client.reply_wanted() {
                        encode(&reply, client.protocol, &mut out);
                    }
                    client.ext.tracking.take_pending(&mut out);
                    if unauthenticated_over_limit(client, out.len()) {
                        return Ok(());
                    }
                    // A subscriber's output is its outbox's, limited by the pubsub class.
                    let limits =
                        super::output_limit::limits().filter(|_| !client.ext.pubsub.has_outbox());
                    if let Some(limits) = limits {
                        super::output_limit::check(&info, out.len() + unsent.len(), limits)?;
                    }
                    if client.close_after_reply {
                        // Gone for other threads before its last reply can be seen (QUIT: a tracking redirect
                        // to it is broken as soon as the client has read OK).
                        info.killed.store(true, Relaxed);
                    }
                    if client.ext.pubsub.has_outbox() {
                        // Subscribed or monitoring: the writer thread owns the output, after what is unsent.
                        unsent.drain(stream)?;
                        crate::pubsub::after_command(server, client, stream, &mut out, flush)?;
                    }
                    if let Some(handoff) = client.ext.repl.handoff.take() {
                        // PSYNC/SYNC: the connection now carries the replication stream.
                        flush_all(stream, &mut unsent, &mut out)?;
                        // The connection's buffers are not the link's: given back, they are not memory the
                        // replica holds uncounted (the suite's "replica buffer don't induce eviction").
                        let pending = reader.take_unparsed();
                        drop(std::mem::take(&mut out));
                        // A plain link gets a handle of its own (a duplicate of the socket, with its own write
                        // lock); a TLS one must share the session.
                        let mut link = match stream.is_tls() {
                            true => stream.clone(),
                            false => Stream::plain(stream.tcp().try_clone()?),
                        };
                        return crate::replication::serve_replica(
                            server, client, &mut link, handoff, pending,
                        );
                    }
                    if client.close_after_reply {
                        flush_all(stream, &mut unsent, &mut out)?;
                        return Ok(());
                    }
                    // Under an output limit a batch is written whole, once checked.
                    if out.len() >= FLUSH_AT && limits.is_none() {
                        flush_for(client, stream, &mut unsent, &mut out)?;
                    }
                }
                // The batch counts as run for fences once its buffers are accounted for, below.
                Ok(None) => break,
                Err(e) => {
                    log_protocol_error(&reader, &info, e);
                    if !client.reply_off {
                        reply_error(&e.message(), &mut out);
                    }
                    if client.ext.pubsub.has_outbox() {
                        // The writer thread owns the output, after what is unsent (as per command, above).
                        unsent.drain(stream)?;
                        crate::pubsub::after_command(server, client, stream, &mut out, flush)?;
                    }
                    flush_all(stream, &mut unsent, &mut out)?;
                    return Ok(());
                }
            }
        }
        reader.release_if_idle();
        info.rbs.store(reader.capacity(), Relaxed);
        // Redis's beforeSleep: BCAST broadcasts of this batch's writes, then the replies go out.
        crate::tracking::end_batch(server, client, &mut out);
        info.bufs
            .lock()
            .batch_done(reader.buffered_as_redis(), reader.big_bulk(), out.len());
        // What it read has run, and CLIENT LIST shows its buffers as they now are.
        super::fence::batch_end(server, client);
        info.input.finished();
        if client.ext.pubsub.has_outbox() && !out.is_empty() {
            crate::pubsub::after_command(server, client, stream, &mut out, flush)?;
        }
        flush_for(client, stream, &mut unsent, &mut out)?;
        // A woken client's reply is out (or queued, with what follows it kept behind it): tracking messages
        // held behind it follow.
        crate::tracking::release_hold(server, client, stream)?;
        if !client.ext.pubsub.has_outbox() {
            info.omem
                .store(super::output_limit::counted(unsent.len()), Relaxed);
        }
        if out.is_empty() {
            out = Vec::new();
        }
    }
}

/// What Redis lets a client that must still authenticate leave unsent: its 16 kB reply buffer, plus 1 kB of
/// reply list (`checkClientOutputBufferLimits`).
const UNAUTHENTICATED_PENDING: usize = 16 * 1024 + 1024;

/// Whether a client that must still authenticate has piled up more replies than Redis lets it: one batch of
/// pipelined commands whose replies pass the limit closes it, none of them sent, as Redis closes it without
/// writing. The kernel's socket buffers cannot stand in for that check: they may hold megabytes.
fn unauthenticated_over_limit(client: &ClientState, pending: usize) -> bool {
    let over = pending > UNAUTHENTICATED_PENDING
        && !client.authenticated
        && crate::acl::acl().auth_required();
    if over {
        log_unauthenticated_close(&client.info);
    }
    over
}

fn log_unauthenticated_close(info: &ClientInfo) {
    log::warn!(
        "Client {} closed for overcoming of output buffer limits.",
        describe_client(info)
    );
}

/// Writes a batch's replies as far as the socket takes them now; the rest waits in `unsent` while the
/// connection goes on reading (see `super::unsent`). A client that must still authenticate is closed rather
/// than kept when it does not read its replies: Redis limits such a client's output buffer to 1 kB, so it
/// cannot make the server hold memory for a stranger.
fn flush_for(
    client: &ClientState,
    stream: &mut Stream,
    unsent: &mut Unsent,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    if out.is_empty() && unsent.is_empty() {
        return Ok(());
    }
    // `appendfsync always`: no reply leaves before the writes it acknowledges are on disk. Held for the AOF
    // writer to release after its fsync, or waited for here.
    if super::held::hold(stream, unsent, out)? {
        return Ok(());
    }
    crate::persist::aof::wait_durable();
    unsent.write(stream, out)?;
    if !unsent.is_empty() && !client.authenticated && crate::acl::acl().auth_required() {
        log_unauthenticated_close(&client.info);
        return Err(io::Error::other(
            "unauthenticated client over its output limit",
        ));
    }
    Ok(())
}

/// Writes everything unsent and then `out`, waiting as long as the socket needs: before the connection sleeps,
/// hands its socket over, or closes.
fn flush_all(stream: &mut Stream, unsent: &mut Unsent, out: &mut Vec<u8>) -> io::Result<()> {
    unsent.drain(stream)?;
    flush(stream, out)
}

/// Appends a protocol error reply (the same in RESP2 and RESP3) and counts it as Redis does (`errorstat_ERR`,
/// `total_error_replies`). Raw bytes: the text may hold the client's unexpected byte as it came.
fn reply_error(message: &[u8], out: &mut Vec<u8>) {
    out.push(b'-');
    out.extend_from_slice(message);
    out.extend_from_slice(b"\r\n");
    stats::with_local(|s| s.count_error(&Reply::Error("ERR Protocol error".into())));
}

/// Redis logs protocol errors at verbose level, with the client and a sample of what it sent.
fn log_protocol_error(reader: &RequestReader, info: &ClientInfo, e: ProtocolError) {
    if log::log_enabled!(log::Level::Debug) {
        log::debug!(
            "Protocol error ({}) from client: {}. {}",
            e.reason(),
            describe_client(info),
            query_sample(reader.unparsed())
        );
    }
}

/// `client-query-buffer-limit` reached: the client is closed without a reply, with Redis's warning.
fn close_over_query_limit(reader: &RequestReader, info: &ClientInfo) {
    stats::global()
        .query_buffer_limit_disconnections
        .fetch_add(1, Relaxed);
    info.rbs.store(reader.capacity(), Relaxed);
    let unparsed = reader.unparsed();
    let mut head = Vec::new();
    crate::pubsub::repr(&unparsed[..unparsed.len().min(64)], &mut head);
    log::warn!(
        "Closing client that reached max query buffer length: {} (qbuf initial bytes: {})",
        describe_client(info),
        String::from_utf8_lossy(&head)
    );
}

/// The client as CLIENT LIST shows it, for log lines.
fn describe_client(info: &ClientInfo) -> String {
    let between_commands = Running {
        id: 0,
        cmd: "",
        argv_mem: 0,
        argc: 0,
    };
    describe(info, &between_commands)
}

fn flush(stream: &mut Stream, out: &mut Vec<u8>) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    // `appendfsync always`: no reply leaves before the writes it acknowledges are on disk.
    crate::persist::aof::wait_durable();
    stream.write_all(out)?;
    stats::with_local(|s| s.net_output_bytes.add_local(out.len() as u64));
    out.clear();
    if out.capacity() > REPLY_CHUNK {
        out.shrink_to(REPLY_CHUNK);
    }
    Ok(())
}
