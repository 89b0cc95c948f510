//! INFO replication and the sync counters of INFO stats, with Redis 7.0's fields in its order.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use super::replica;
use crate::server::Server;
use crate::util::time::now_ms;

macro_rules! field {
    ($out:expr, $name:expr, $value:expr) => {
        let _ = write!($out, "{}:{}\r\n", $name, $value);
    };
}

/// `sync_full`, `sync_partial_ok`, `sync_partial_err` of INFO stats.
pub fn stats_fields(server: &Server, out: &mut String) {
    let r = &server.repl;
    field!(out, "sync_full", r.sync_full.load(Relaxed));
    field!(out, "sync_partial_ok", r.sync_partial_ok.load(Relaxed));
    field!(out, "sync_partial_err", r.sync_partial_err.load(Relaxed));
}

pub fn info_section(server: &Server, out: &mut String) {
    out.push_str("# Replication\r\n");
    let offset = super::offset(server);
    let link = server.repl.link.lock().clone();
    match &link {
        Some(link) => replica_fields(server, link, offset, out),
        None => {
            field!(out, "role", "master");
        }
    }
    let replicas = server.repl.attached();
    field!(out, "connected_slaves", replicas.len());
    let now = now_ms();
    for (i, r) in replicas.iter().enumerate() {
        let _ = write!(
            out,
            "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
            r.ip,
            r.port.load(Relaxed),
            r.state_name(),
            r.ack_offset.load(Relaxed),
            (now - r.ack_ms.load(Relaxed)) / 1000
        );
    }
    let st = server.repl.state();
    let failover = server.repl.failover.lock().state;
    field!(
        out,
        "master_failover_state",
        super::failover::state_name(failover)
    );
    field!(out, "master_replid", st.replid);
    field!(out, "master_replid2", st.replid2);
    field!(out, "master_repl_offset", offset);
    field!(out, "second_repl_offset", st.second_offset);
    let (start, end) = server.feed.kept();
    let first = st.backlog_from.map(|f| start.max(f));
    field!(out, "repl_backlog_active", u8::from(first.is_some()));
    field!(
        out,
        "repl_backlog_size",
        server.config.get("repl-backlog-size").unwrap_or_default()
    );
    match first {
        Some(first) => {
            field!(
                out,
                "repl_backlog_first_byte_offset",
                first as i64 + st.shift + 1
            );
            field!(out, "repl_backlog_histlen", end - first);
        }
        None => {
            field!(out, "repl_backlog_first_byte_offset", 0);
            field!(out, "repl_backlog_histlen", 0);
        }
    }
}

fn replica_fields(server: &Server, link: &replica::Link, offset: i64, out: &mut String) {
    let state = link.state.load(Relaxed);
    let up = link.is_up();
    let now = now_ms();
    field!(out, "role", "slave");
    field!(out, "master_host", link.host);
    field!(out, "master_port", link.port);
    field!(out, "master_link_status", if up { "up" } else { "down" });
    let last_io = if up {
        (now - link.last_io_ms.load(Relaxed)) / 1000
    } else {
        -1
    };
    field!(out, "master_last_io_seconds_ago", last_io);
    field!(
        out,
        "master_sync_in_progress",
        u8::from(state == replica::TRANSFER)
    );
    field!(out, "slave_read_repl_offset", offset);
    field!(out, "slave_repl_offset", offset);
    if state == replica::TRANSFER {
        let total = link.sync_total.load(Relaxed);
        let read = link.sync_read.load(Relaxed);
        field!(out, "master_sync_total_bytes", total);
        field!(out, "master_sync_read_bytes", read);
        field!(out, "master_sync_left_bytes", total - read);
        field!(
            out,
            "master_sync_perc",
            if total > 0 {
                format!("{:.2}", read as f64 * 100.0 / total as f64)
            } else {
                "0.00".into()
            }
        );
        field!(
            out,
            "master_sync_last_io_seconds_ago",
            (now - link.sync_last_io_ms.load(Relaxed)) / 1000
        );
    }
    if !up {
        field!(
            out,
            "master_link_down_since_seconds",
            (now - link.down_since_ms.load(Relaxed)) / 1000
        );
    }
    field!(
        out,
        "slave_priority",
        server.config.get("replica-priority").unwrap_or_default()
    );
    let ro = server.config.get("replica-read-only").as_deref() == Some("yes");
    field!(out, "slave_read_only", u8::from(ro));
    let announced = server.config.get("replica-announced").as_deref() != Some("no");
    field!(out, "replica_announced", u8::from(announced));
}
