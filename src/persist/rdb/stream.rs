//! Streams in RDB: `RDB_TYPE_STREAM_LISTPACKS_2` (7.0) written and read, `RDB_TYPE_STREAM_LISTPACKS` (5.0 to 6.2)
//! read.
//!
//! The body is the nodes (a 16-byte big-endian master id and a listpack each), the length, the last id, (v2:) the
//! first id, the largest deleted id and the entries-added counter, then the consumer groups: name, last delivered
//! id, (v2:) entries read, the PEL (raw 16-byte ids with delivery time and count) and the consumers (name, seen
//! time, the raw ids they own).
//!
//! A node's listpack opens with a master entry (live count, deleted count, the master fields, 0); each entry is
//! flags, the id as deltas from the master id, the fields (unless flagged as the master's) and values, and the
//! entry's element count. Writing re-packs the live entries into the nodes ferredis models, with no tombstones.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use super::listpack::{self, ListpackBuilder, LpValue};
use super::string::{put_len, put_ms, put_string, Input};
use super::value::Encoder;
use super::{types, RdbError};
use crate::types::stream::{Consumer, Fields, Group, Nack, Stream, StreamId};

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;

pub fn put_stream(out: &mut Vec<u8>, s: &Stream, enc: &Encoder) {
    let nodes = split_nodes(s);
    put_len(out, nodes.len() as u64);
    for (master, entries) in &nodes {
        put_string(out, &master.encode(), enc.compress);
        put_string(out, &node_listpack(*master, entries), enc.compress);
    }
    put_len(out, s.len() as u64);
    put_id(out, s.last_id);
    put_id(out, s.first_id());
    put_id(out, s.max_deleted_id);
    put_len(out, s.entries_added);
    put_len(out, s.groups.len() as u64);
    for (name, g) in &s.groups {
        put_string(out, name, enc.compress);
        put_id(out, g.last_id);
        put_len(out, g.entries_read.unwrap_or(u64::MAX));
        put_len(out, g.pel.len() as u64);
        for (id, nack) in &g.pel {
            out.extend_from_slice(&id.encode());
            put_ms(out, nack.delivery_time);
            put_len(out, nack.delivery_count);
        }
        put_len(out, g.consumers.len() as u64);
        for (name, c) in &g.consumers {
            put_string(out, name, enc.compress);
            put_ms(out, c.seen_time);
            put_len(out, c.pel.len() as u64);
            c.pel
                .iter()
                .for_each(|id| out.extend_from_slice(&id.encode()));
        }
    }
}

fn put_id(out: &mut Vec<u8>, id: StreamId) {
    put_len(out, id.ms);
    put_len(out, id.seq);
}

type Node<'a> = (StreamId, Vec<(StreamId, &'a Fields)>);

/// The live entries grouped by the node each belongs to (the last master id at or before it).
fn split_nodes(s: &Stream) -> Vec<Node<'_>> {
    let masters: Vec<StreamId> = s.node_masters().collect();
    let mut nodes: Vec<Node<'_>> = Vec::new();
    let mut next = 0;
    for (id, fields) in s.entries() {
        let mut boundary = None;
        while next < masters.len() && masters[next] <= id {
            boundary = Some(masters[next]);
            next += 1;
        }
        match (boundary, nodes.last_mut()) {
            (None, Some(node)) => node.1.push((id, fields)),
            (b, _) => nodes.push((b.unwrap_or(id), vec![(id, fields)])),
        }
    }
    nodes
}

fn node_listpack(master: StreamId, entries: &[(StreamId, &Fields)]) -> Vec<u8> {
    let master_fields: Vec<&[u8]> = entries
        .first()
        .map(|(_, f)| f.iter().step_by(2).map(|v| &v[..]).collect())
        .unwrap_or_default();
    let mut lp = ListpackBuilder::new();
    lp.push_int(entries.len() as i64);
    lp.push_int(0);
    lp.push_int(master_fields.len() as i64);
    master_fields.iter().for_each(|f| lp.push(f));
    lp.push_int(0);
    for (id, fields) in entries {
        let nfields = (fields.len() / 2) as i64;
        let same = fields
            .iter()
            .step_by(2)
            .map(|v| &v[..])
            .eq(master_fields.iter().copied());
        lp.push_int(if same { FLAG_SAMEFIELDS } else { 0 });
        lp.push_int(id.ms.wrapping_sub(master.ms) as i64);
        lp.push_int(id.seq.wrapping_sub(master.seq) as i64);
        if same {
            fields.iter().skip(1).step_by(2).for_each(|v| lp.push(v));
            lp.push_int(nfields + 3);
        } else {
            lp.push_int(nfields);
            fields.iter().for_each(|v| lp.push(v));
            lp.push_int(nfields * 2 + 4);
        }
    }
    lp.finish()
}

/// A stream with the node layout it was saved with.
pub fn read_stream<R: Read>(input: &mut Input<R>, ty: u8) -> Result<Stream, RdbError> {
    let mut s = Stream::default();
    let nodes = input.length()?;
    let mut last_seen: Option<StreamId> = None;
    for _ in 0..nodes {
        let key = input.string()?;
        let master = <[u8; 16]>::try_from(&key[..])
            .map(decode_id)
            .map_err(|_| input.corrupt("Stream node key entry is not the size of a stream ID"))?;
        let blob = input.string()?;
        let lp = listpack::parse(&blob)
            .ok_or_else(|| input.corrupt("Stream listpack integrity check failed."))?;
        if lp.is_empty() {
            return Err(input.corrupt("Empty listpack inside stream"));
        }
        let (master_fields, entries) = node_entries(master, &lp)
            .ok_or_else(|| input.corrupt("Stream listpack integrity check failed."))?;
        for (id, _, _) in &entries {
            if last_seen.is_some_and(|l| *id <= l) || *id < master {
                return Err(input.corrupt("Stream entries out of order"));
            }
            last_seen = Some(*id);
        }
        s.load_node(master, master_fields, entries);
    }
    let length = input.length()?;
    s.last_id = read_id(input)?;
    if ty == types::STREAM_LISTPACKS_2 {
        read_id(input)?; // first id: ferredis derives it from the entries
        s.max_deleted_id = read_id(input)?;
        s.entries_added = input.length()?;
    } else {
        s.max_deleted_id = StreamId::MIN;
        s.entries_added = length;
    }
    if length != s.len() as u64 {
        return Err(input.corrupt("Stream length inconsistent with rax entries"));
    }
    let groups = input.length()?;
    for _ in 0..groups {
        let name = input.string()?;
        let group = read_group(input, ty, &s)?;
        if s.groups.insert(name, group).is_some() {
            return Err(input.corrupt("Duplicated consumer group name"));
        }
    }
    Ok(s)
}

fn read_id<R: Read>(input: &mut Input<R>) -> Result<StreamId, RdbError> {
    Ok(StreamId::new(input.length()?, input.length()?))
}

fn decode_id(raw: [u8; 16]) -> StreamId {
    let (ms, seq) = raw.split_at(8);
    let be = |b: &[u8]| u64::from_be_bytes(b.try_into().unwrap_or_default());
    StreamId::new(be(ms), be(seq))
}

fn read_group<R: Read>(input: &mut Input<R>, ty: u8, s: &Stream) -> Result<Group, RdbError> {
    let last_id = read_id(input)?;
    let entries_read = match ty {
        types::STREAM_LISTPACKS_2 => Some(input.length()?).filter(|&n| n != u64::MAX),
        _ => s.estimate_entries_read(last_id),
    };
    let mut g = Group::new(last_id, entries_read);
    for _ in 0..input.length()? {
        let id = decode_id(input.array()?);
        let nack = Nack {
            consumer: Vec::new(),
            delivery_time: input.ms()?,
            delivery_count: input.length()?,
        };
        if g.pel.insert(id, nack).is_some() {
            return Err(input.corrupt("Duplicated global PEL entry loading stream consumer group"));
        }
    }
    let mut consumers = BTreeMap::new();
    for _ in 0..input.length()? {
        let name = input.string()?;
        let seen_time = input.ms()?;
        let mut pel = BTreeSet::new();
        for _ in 0..input.length()? {
            let id = decode_id(input.array()?);
            let nack = g
                .pel
                .get_mut(&id)
                .ok_or_else(|| input.corrupt("Consumer entry not found in group global PEL"))?;
            if !nack.consumer.is_empty() || !pel.insert(id) {
                return Err(
                    input.corrupt("Stream consumer PEL entry already has a consumer assigned")
                );
            }
            nack.consumer = name.clone();
        }
        if consumers
            .insert(name, Consumer { seen_time, pel })
            .is_some()
        {
            return Err(input.corrupt("Duplicate stream consumer detected."));
        }
    }
    if g.pel.values().any(|n| n.consumer.is_empty()) {
        return Err(input.corrupt("Stream CG PEL entry without consumer"));
    }
    g.consumers = consumers;
    Ok(g)
}

/// A node's entries, deleted ones flagged, with its master fields; `None` if its layout is wrong.
type NodeEntries = (Fields, Vec<(StreamId, Fields, bool)>);

fn node_entries(master: StreamId, lp: &[LpValue<'_>]) -> Option<NodeEntries> {
    let mut it = lp.iter().copied();
    let int = |it: &mut dyn Iterator<Item = LpValue<'_>>| it.next()?.as_int();
    let count = int(&mut it)?;
    let deleted = int(&mut it)?;
    let nmaster = usize::try_from(int(&mut it)?)
        .ok()
        .filter(|&n| n <= lp.len())?;
    let mut master_fields = Vec::with_capacity(nmaster);
    for _ in 0..nmaster {
        master_fields.push(it.next()?.to_vec());
    }
    if int(&mut it)? != 0 || count < 0 || deleted < 0 {
        return None;
    }
    let mut out = Vec::new();
    while let Some(flags) = it.next() {
        let flags = flags.as_int()?;
        let ms = master.ms.wrapping_add(int(&mut it)? as u64);
        let seq = master.seq.wrapping_add(int(&mut it)? as u64);
        let mut fields = Vec::new();
        let same = flags & FLAG_SAMEFIELDS != 0;
        if same {
            for name in &master_fields {
                fields.push(name.clone());
                fields.push(it.next()?.to_vec());
            }
        } else {
            let n = usize::try_from(int(&mut it)?)
                .ok()
                .filter(|&n| n <= lp.len())?;
            for _ in 0..n * 2 {
                fields.push(it.next()?.to_vec());
            }
        }
        // The entry's element count closes it: flags, the id, the values, and the fields with their count.
        let pairs = (fields.len() / 2) as i64;
        let expected = if same { pairs + 3 } else { pairs * 2 + 4 };
        if int(&mut it)? != expected {
            return None;
        }
        out.push((
            StreamId::new(ms, seq),
            fields.into_boxed_slice(),
            flags & FLAG_DELETED != 0,
        ));
    }
    let live = out.iter().filter(|e| !e.2).count() as i64;
    (out.len() as i64 == count + deleted && live == count)
        .then_some((master_fields.into_boxed_slice(), out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(lp_count: i64) -> Vec<u8> {
        let mut lp = ListpackBuilder::new();
        [1, 0, 1].iter().for_each(|&n| lp.push_int(n));
        lp.push(b"f");
        lp.push_int(0);
        [FLAG_SAMEFIELDS, 0, 0].iter().for_each(|&n| lp.push_int(n));
        lp.push(b"v");
        lp.push_int(lp_count);
        lp.finish()
    }

    #[test]
    fn entries_must_close_with_their_element_count() {
        let master = StreamId::new(5, 0);
        let good = node(4);
        let parsed = listpack::parse(&good).and_then(|lp| node_entries(master, &lp));
        let (fields, entries) = parsed.expect("valid node");
        assert_eq!(fields.len(), 1);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, master);
        assert!(!entries[0].2);
        let bad = node(5);
        assert!(listpack::parse(&bad)
            .and_then(|lp| node_entries(master, &lp))
            .is_none());
    }
}
