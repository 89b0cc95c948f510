//! How consumer-group changes are replicated, as Redis 7.0 does: XREADGROUP, XCLAIM and XAUTOCLAIM are never
//! their own effect (what they do depends on time and on the PEL); each entry they hand over becomes an
//! idempotent `XCLAIM ... FORCE JUSTID LASTID`, and a group whose last ID moved without one becomes `XGROUP SETID
//! ... ENTRIESREAD`.

use super::{Group, StreamId};
use crate::commands::Ctx;
use crate::effects::Change;

/// One pending entry handed to (or dropped by) a consumer, with the NACK as it is afterwards.
pub(super) struct Claimed {
    pub consumer: Vec<u8>,
    /// The ID as the command named it (XCLAIM keeps the client's spelling) or as Redis formats it.
    pub id: Vec<u8>,
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The group's last delivered ID at that moment.
    pub last_id: StreamId,
}

/// Redis's `streamPropagateXCLAIM`: `XCLAIM key group consumer 0 id TIME ms RETRYCOUNT n FORCE JUSTID LASTID id`.
pub(super) fn xclaim(ctx: &mut Ctx, key: &[u8], group: &[u8], c: &Claimed) {
    let (mut time, mut count) = (itoa::Buffer::new(), itoa::Buffer::new());
    let last = c.last_id.to_string();
    ctx.also_propagate(&[
        b"XCLAIM",
        key,
        group,
        &c.consumer,
        b"0",
        &c.id,
        b"TIME",
        time.format(c.delivery_time).as_bytes(),
        b"RETRYCOUNT",
        count.format(c.delivery_count).as_bytes(),
        b"FORCE",
        b"JUSTID",
        b"LASTID",
        last.as_bytes(),
    ]);
}

/// Redis's `streamPropagateGroupID`: `XGROUP SETID key group last-id ENTRIESREAD n` (-1 when unknown).
pub(super) fn group_id(
    ctx: &mut Ctx,
    key: &[u8],
    group: &[u8],
    last_id: StreamId,
    entries_read: Option<u64>,
) {
    let last = last_id.to_string();
    let read = entries_read.map_or(-1, |n| n as i64);
    let mut num = itoa::Buffer::new();
    ctx.also_propagate(&[
        b"XGROUP",
        b"SETID",
        key,
        group,
        last.as_bytes(),
        b"ENTRIESREAD",
        num.format(read).as_bytes(),
    ]);
}

/// What an XREADGROUP read of one stream did, for [`group_read`].
pub(super) struct GroupRead<'a> {
    pub key: &'a [u8],
    pub group: &'a [u8],
    pub consumer: &'a [u8],
    /// The read created the consumer.
    pub created: bool,
    pub noack: bool,
    /// New entries delivered (a `>` read), in order.
    pub delivered: Vec<StreamId>,
    /// The group's last ID and entries-read counter after the read.
    pub last_id: StreamId,
    pub entries_read: Option<u64>,
    pub now: i64,
}

impl<'a> GroupRead<'a> {
    /// What a read of `group` in `s` did: `delivered` by `read_group`, `created` by `touch_consumer`.
    #[allow(clippy::too_many_arguments)]
    pub fn after(
        s: &super::Stream,
        key: &'a [u8],
        group: &'a [u8],
        consumer: &'a [u8],
        created: bool,
        noack: bool,
        delivered: Vec<StreamId>,
        now: i64,
    ) -> Self {
        let (last_id, entries_read) = s
            .groups
            .get(group)
            .map_or((StreamId::MIN, None), |g| (g.last_id, g.entries_read));
        GroupRead {
            key,
            group,
            consumer,
            created,
            noack,
            delivered,
            last_id,
            entries_read,
            now,
        }
    }
}

/// Reports one stream served to XREADGROUP (directly or to a blocked client) and records its effects: the
/// consumer's creation, then an XCLAIM per entry delivered, or with NOACK (no PEL entry to claim) `XGROUP
/// CREATECONSUMER` and one `XGROUP SETID`.
pub(super) fn group_read(ctx: &mut Ctx, read: GroupRead) {
    let GroupRead {
        key,
        group,
        consumer,
        ..
    } = read;
    if read.created {
        ctx.report(key, Change::new('t', "xgroup-createconsumer").bookkeeping());
    }
    ctx.count_dirty(1);
    if !ctx.feeding() {
        return;
    }
    if read.noack {
        if read.created {
            ctx.also_propagate(&[b"XGROUP", b"CREATECONSUMER", key, group, consumer]);
        }
        if !read.delivered.is_empty() {
            group_id(ctx, key, group, read.last_id, read.entries_read);
        }
        return;
    }
    for id in read.delivered {
        let claimed = Claimed {
            consumer: consumer.to_vec(),
            id: id.to_string().into_bytes(),
            delivery_time: read.now,
            delivery_count: 1,
            last_id: id,
        };
        xclaim(ctx, key, group, &claimed);
    }
}

/// The effect of dropping a pending entry whose stream entry was deleted: an XCLAIM by its owner, which makes a
/// replica drop it too.
pub(super) fn dropped(g: &Group, id: StreamId, spelled: &[u8]) -> Option<Claimed> {
    g.pel.get(&id).map(|n| Claimed {
        consumer: n.consumer.clone(),
        id: spelled.to_vec(),
        delivery_time: n.delivery_time,
        delivery_count: n.delivery_count,
        last_id: g.last_id,
    })
}

/// XCLAIM's and XAUTOCLAIM's effects: one XCLAIM per entry claimed or dropped, each a change; never the command.
pub(super) fn claims(ctx: &mut Ctx, key: &[u8], group: &[u8], claims: &[Claimed]) {
    ctx.count_dirty(claims.len() as u64);
    for claim in claims {
        xclaim(ctx, key, group, claim);
    }
    ctx.prevent_propagation();
}
