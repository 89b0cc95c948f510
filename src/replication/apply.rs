//! Applying the master's stream on a replica: one command at a time through the normal command path, its bytes
//! forwarded to our own feed once applied (those of a transaction once its EXEC ran), `REPLCONF GETACK`
//! answered on the spot.

use std::io::{self, Write};
use std::sync::atomic::Ordering::Relaxed;

use crate::commands::dispatch;
use crate::protocol::{Frame, Reply};
use crate::server::clients::ClientState;
use crate::server::Server;

pub(super) fn send_ack(server: &Server, w: &mut impl Write) -> io::Result<()> {
    let off = super::offset(server).to_string();
    let mut out = Vec::new();
    crate::effects::encode_command(
        &mut out,
        [b"REPLCONF" as &[u8], b"ACK", off.as_bytes()].into_iter(),
    );
    w.write_all(&out)
}

/// Runs every complete command in `data`; returns the bytes used. Each command's bytes go to our feed after it
/// ran, so our offset is our master's and sub-replicas get the very same stream; those of a transaction wait in
/// `held` for its EXEC, so a link cut inside MULTI resumes from before it (as Redis's `reploff`).
pub(super) fn apply_frames(
    server: &Server,
    client: &mut ClientState,
    w: &mut impl Write,
    data: &[u8],
    held: &mut Vec<u8>,
) -> io::Result<usize> {
    let mut used = 0;
    let mut spans = Vec::new();
    while let Some(len) = parse_command(&data[used..], &mut spans)? {
        let raw = &data[used..used + len];
        let frame = Frame::new(raw, &spans);
        let _applying = server.repl.apply_gate.begin_apply();
        if frame.len() >= 2
            && frame.get(0).eq_ignore_ascii_case(b"replconf")
            && frame.get(1).eq_ignore_ascii_case(b"getack")
        {
            send_ack(server, w)?;
        } else if !frame.is_empty() {
            if let Reply::Error(e) = dispatch::execute(server, client, frame) {
                critical(server, frame.get(0), &e);
            }
        }
        if !spans.is_empty() {
            held.extend_from_slice(raw);
            if client.info.multi_len.load(Relaxed) < 0 {
                server.feed.append_raw(held);
                held.clear();
            }
        }
        used += len;
        server.repl.stream_db.store(client.db, Relaxed);
    }
    Ok(used)
}

/// A command of our master's stream failed here: the datasets may have diverged. Logged as Redis's
/// `afterErrorReply` does for a master client; `propagation-error-behavior panic` (or `panic-on-replicas`) on a
/// read-only replica stops the server, as Redis panics.
fn critical(server: &Server, name: &[u8], error: &str) {
    let known = crate::commands::table::get().lookup(name).is_some();
    let name = if known {
        String::from_utf8_lossy(name).to_ascii_lowercase()
    } else {
        "<unknown>".to_string()
    };
    let error: String = error.chars().take(4096).collect();
    log::warn!(
        "== CRITICAL == This replica is sending an error to its master: '{error}' after processing the command '{name}'"
    );
    let behavior = server
        .config
        .get("propagation-error-behavior")
        .unwrap_or_default();
    let read_only = server.config.get("replica-read-only").as_deref() == Some("yes");
    if read_only && behavior.starts_with("panic") {
        log::warn!("This replica panicked sending an error to its master after processing the command '{name}'");
        std::process::abort();
    }
}

/// Parses one RESP array of bulk strings at the start of `data` into `spans`; `Ok(None)` if incomplete.
fn parse_command(data: &[u8], spans: &mut Vec<(usize, usize)>) -> io::Result<Option<usize>> {
    spans.clear();
    let bad = || io::Error::other("Protocol error from MASTER");
    let line = |at: usize| -> Option<(i64, usize)> {
        let end = data[at..].windows(2).position(|w| w == b"\r\n")? + at;
        let n = std::str::from_utf8(&data[at + 1..end]).ok()?.parse().ok()?;
        Some((n, end + 2))
    };
    if data.is_empty() {
        return Ok(None);
    }
    if data[0] != b'*' {
        // Inline newlines (keepalives) carry nothing.
        return match data.iter().position(|&b| b == b'\n') {
            Some(p) if data[..p].iter().all(|b| b.is_ascii_whitespace()) => Ok(Some(p + 1)),
            Some(_) => Err(bad()),
            None => Ok(None),
        };
    }
    let Some((count, mut at)) = line(0) else {
        return if data.len() > 64 * 1024 {
            Err(bad())
        } else {
            Ok(None)
        };
    };
    for _ in 0..count.max(0) {
        if at >= data.len() {
            return Ok(None);
        }
        if data[at] != b'$' {
            return Err(bad());
        }
        let Some((len, start)) = line(at) else {
            return Ok(None);
        };
        let len = usize::try_from(len).map_err(|_| bad())?;
        if data.len() < start + len + 2 {
            return Ok(None);
        }
        spans.push((start, start + len));
        at = start + len + 2;
    }
    Ok(Some(at))
}
