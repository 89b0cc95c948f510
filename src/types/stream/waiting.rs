//! XREAD / XREADGROUP BLOCK on the shared blocking machinery (`crate::blocking`).
//!
//! Unlike a list pop, a stream read consumes nothing: every XREAD waiter with entries after its id is served them,
//! and the others are passed over. A waiter answers with the one stream that woke it, as Redis does. XREADGROUP
//! waiters wake only when entries were added since they blocked, read after the group's last delivered id at the
//! time of serving (another consumer of the group may have taken the entries first), and are answered with an
//! error when the key or the group goes away. Other writes (XSETID, XGROUP SETID, XACK) wake nobody, as in Redis.

use super::commands_read::read_reply;
use super::group::{read_group, ReadFrom};
use super::propagate;
use super::{entry_reply, StreamId};
use crate::blocking::{Request, Serve};
use crate::commands::Ctx;
use crate::db::Value;
use crate::protocol::{Protocol, Reply};

pub struct StreamWait {
    /// The streams waited on, in request order.
    pub keys: Vec<WaitKey>,
    /// (group, consumer) for XREADGROUP.
    pub group: Option<(Vec<u8>, Vec<u8>)>,
    pub count: usize,
    pub noack: bool,
    /// The waiting client's protocol: the serve runs on the writer's connection.
    pub protocol: Protocol,
}

pub struct WaitKey {
    pub key: Vec<u8>,
    /// XREAD: the id new entries must be above (`$` resolved when blocking).
    pub after: StreamId,
    /// XREADGROUP: the stream's entries-added counter when blocking. Only an XADD wakes a group reader: Redis
    /// does not wake it when XGROUP SETID moves the group back or XSETID moves the stream's last id.
    pub added: u64,
}

impl Request for StreamWait {
    fn serve(&self, ctx: &mut Ctx, key: &[u8]) -> Serve {
        let db = ctx.db();
        let now = ctx.keys.now();
        let stream = match ctx.keys.get_value_mut(db, key) {
            Some(Value::Stream(s)) => Some(s),
            _ => None,
        };
        let Some(wait) = self.keys.iter().find(|w| w.key == key) else {
            return Serve::Pass;
        };
        let after = wait.after;
        let Some((group, consumer)) = &self.group else {
            let Some(s) = stream else { return Serve::Pass };
            let Some(start) = after.incr().filter(|_| s.last_valid_id() > after) else {
                return Serve::Pass;
            };
            let entries = s.range(start, StreamId::MAX, false, self.count);
            let entries = Reply::Array(
                entries
                    .into_iter()
                    .map(|(id, f)| entry_reply(id, f))
                    .collect(),
            );
            return Serve::Served(read_reply(self.protocol, vec![(key.to_vec(), entries)]));
        };
        let Some(s) = stream else {
            return Serve::Served(Reply::error("UNBLOCKED the stream key no longer exists"));
        };
        let (added, last_valid) = (s.entries_added, s.last_valid_id());
        let Some(g) = s.groups.get_mut(group.as_slice()) else {
            return Serve::Served(Reply::error(
                "NOGROUP the consumer group this client was blocked on no longer exists",
            ));
        };
        if added <= wait.added || last_valid <= g.last_id {
            return Serve::Pass;
        }
        let created = g.touch_consumer(consumer, now);
        let (entries, delivered) = read_group(
            s,
            group,
            consumer,
            ReadFrom::New,
            self.count,
            self.noack,
            now,
        );
        let read = propagate::GroupRead::after(
            s, key, group, consumer, created, self.noack, delivered, now,
        );
        propagate::group_read(ctx, read);
        Serve::Served(read_reply(self.protocol, vec![(key.to_vec(), entries)]))
    }
}
