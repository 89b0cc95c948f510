//! One connection's loop: read, run every complete request in the buffer, write all replies at once.
//!
//! This is the hot path: one `read` into a reused buffer, arguments as slices of it, replies appended to a reused
//! output buffer, one `write` per batch. A panic in a handler is caught here: that client is closed, the server
//! goes on (parking_lot locks do not poison).

use std::io::{self, Write};
use std::net::TcpStream;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::clients::{ClientInfo, ClientState};
use super::fence::{self, StampedRead};
use super::{stats, Server};
use crate::commands::client::{describe, Running};
use crate::commands::dispatch;
use crate::protocol::{encode, query_sample, ProtocolError, Reply, RequestLimits, RequestReader};
use crate::util::time::now_ms;

/// Replies are flushed early once this much is pending, so a huge pipeline does not buffer without bound.
const FLUSH_AT: usize = 64 * 1024;

pub fn serve(server: Arc<Server>, mut stream: TcpStream, info: Arc<ClientInfo>) {
    let mut client = ClientState::new(info.clone());
    client.authenticated = server.config.requirepass().is_empty();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        connection_loop(&server, &mut stream, &mut client)
    }));
    let graceful = matches!(outcome, Ok(Ok(())));
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
    crate::pubsub::disconnect(&server, &mut client, &stream, graceful);
    crate::commands::transaction::discard_transaction(&server, &mut client);
    server.clients.unregister(info.id);
    info.input.finished();
    log::debug!("Client closed connection id={}", info.id);
}

fn connection_loop(
    server: &Server,
    stream: &mut TcpStream,
    client: &mut ClientState,
) -> io::Result<()> {
    let mut reader = RequestReader::new();
    let mut out: Vec<u8> = Vec::with_capacity(16 * 1024);
    let info = client.info.clone();
    info.rbs.store(reader.capacity(), Relaxed);
    loop {
        if client.ext.pubsub.has_outbox() || fence::watched(&info) {
            fence::announce(stream, &info.input)?;
        }
        let n = reader.read_from(&mut StampedRead {
            stream,
            input: &info.input,
        })?;
        if n == 0 || info.killed.load(Relaxed) {
            return Ok(());
        }
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
                unauthenticated: !client.authenticated,
            };
            match reader.next_frame(limits) {
                Ok(Some(frame)) => {
                    let mut reply = dispatch::execute(server, client, frame);
                    if crate::blocking::pending(client) {
                        // Earlier pipelined replies go out before this client sleeps.
                        flush(stream, &mut out)?;
                        // Asleep counts as done for fences: what it sent before has run.
                        info.input.finished();
                        reply = crate::blocking::wait(server, client, stream);
                    }
                    if client.reply_wanted() {
                        encode(&reply, client.protocol, &mut out);
                    }
                    if client.ext.pubsub.has_outbox() {
                        // Subscribed or monitoring: the writer thread owns the output.
                        crate::pubsub::after_command(server, client, stream, &mut out, flush)?;
                    }
                    if client.close_after_reply {
                        flush(stream, &mut out)?;
                        return Ok(());
                    }
                    if out.len() >= FLUSH_AT {
                        flush(stream, &mut out)?;
                    }
                }
                Ok(None) => {
                    info.input.finished();
                    break;
                }
                Err(e) => {
                    log_protocol_error(&reader, &info, e);
                    if !client.reply_off {
                        reply_error(&e.message(), &mut out);
                    }
                    if client.ext.pubsub.has_outbox() {
                        crate::pubsub::after_command(server, client, stream, &mut out, flush)?;
                    }
                    flush(stream, &mut out)?;
                    return Ok(());
                }
            }
        }
        reader.release_if_idle();
        info.qbuf.store(reader.pending(), Relaxed);
        info.rbs.store(reader.capacity(), Relaxed);
        flush(stream, &mut out)?;
    }
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
        info.qbuf.store(reader.pending(), Relaxed);
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
    info.qbuf.store(reader.unparsed().len(), Relaxed);
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
    };
    describe(info, &between_commands)
}

fn flush(stream: &mut TcpStream, out: &mut Vec<u8>) -> io::Result<()> {
    if out.is_empty() {
        return Ok(());
    }
    stream.write_all(out)?;
    stats::with_local(|s| s.net_output_bytes.add_local(out.len() as u64));
    out.clear();
    if out.capacity() > 4 * FLUSH_AT {
        out.shrink_to(16 * 1024);
    }
    Ok(())
}
