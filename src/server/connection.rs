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
use crate::commands::dispatch;
use crate::protocol::{encode, Reply, RequestReader};
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
        loop {
            let max_bulk = server.config.proto_max_bulk_len();
            match reader.next_frame(max_bulk) {
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
                    log::debug!(
                        "Protocol error ({}) from client id={} addr={}",
                        e.0,
                        info.id,
                        info.addr
                    );
                    encode(&Reply::Error(e.0.into()), client.protocol, &mut out);
                    if client.ext.pubsub.has_outbox() {
                        crate::pubsub::after_command(server, client, stream, &mut out, flush)?;
                    }
                    flush(stream, &mut out)?;
                    return Ok(());
                }
            }
        }
        info.qbuf.store(reader.pending(), Relaxed);
        info.rbs.store(reader.capacity(), Relaxed);
        flush(stream, &mut out)?;
    }
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
