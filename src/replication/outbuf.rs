//! `client-output-buffer-limit replica`: a replica whose unsent stream passes the hard limit, or the soft one
//! for longer than its seconds, is disconnected with Redis's log line, rather than the feed holding its bytes
//! without bound. What a replica has pending is everything appended to the feed after the last byte written to
//! its socket, from the instant of its full sync's snapshot on (Redis counts the shared replication buffer a
//! replica references, also while it waits for its RDB). Checked once a second by the replication cron.

use std::sync::atomic::Ordering::Relaxed;

use crate::config::special::parse_buffer_limits;
use crate::pubsub::{over_limits, Limits};
use crate::server::Server;

/// `Attached::written_to` before the replica's stream has a start (it waits for its snapshot's instant).
pub const NO_STREAM: u64 = u64::MAX;

/// Disconnects the replicas over the limits.
pub fn check(server: &Server) {
    let value = server
        .config
        .get("client-output-buffer-limit")
        .unwrap_or_default();
    let [_, replica, _] = parse_buffer_limits(&value);
    // A hard limit below `repl-backlog-size` counts as the backlog's size, as in Redis (a replica resumed from
    // the backlog would otherwise be dropped again at once).
    let backlog = super::commands::int_param(server, "repl-backlog-size").max(0) as u64;
    let limits = Limits {
        hard: if replica.hard > 0 {
            replica.hard.max(backlog)
        } else {
            0
        },
        soft: replica.soft,
        soft_secs: replica.soft_seconds,
    };
    let end = server.feed.offset();
    for r in server.repl.attached() {
        let at = r.written_to.load(Relaxed);
        if at == NO_STREAM {
            continue;
        }
        let pending = end.saturating_sub(at);
        r.client.omem.store(pending as usize, Relaxed);
        if (limits.hard == 0 && limits.soft == 0) || !over_limits(pending, limits, &r.soft_since) {
            continue;
        }
        crate::server::output_limit::log_closing(&r.client);
        r.client.kill();
    }
}
