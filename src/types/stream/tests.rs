//! Unit tests of the stream internals: id parsing, the node model and trimming, and range cost on a big stream.

use std::time::{Duration, Instant};

use super::store::{NodeLimits, Strategy, Trim};
use super::{parse_id_generic, parse_range_bound, parse_strict_id, Stream, StreamId};

fn stream_of(n: u64, node_max: u64) -> Stream {
    let limits = NodeLimits {
        entries: node_max,
        bytes: 4096,
    };
    let mut s = Stream::default();
    for i in 1..=n {
        s.append(
            StreamId::new(i, 0),
            vec![b"f".to_vec(), b"v".to_vec()].into(),
            limits,
        );
    }
    s
}

#[test]
fn ids_parse_as_redis() {
    assert_eq!(parse_strict_id(b"5").unwrap(), StreamId::new(5, 0));
    assert_eq!(parse_strict_id(b"5-7").unwrap(), StreamId::new(5, 7));
    assert_eq!(
        parse_strict_id(b"18446744073709551615-18446744073709551615").unwrap(),
        StreamId::MAX
    );
    for bad in [
        &b"-"[..],
        b"+",
        b"-1",
        b"1-",
        b"1-x",
        b"18446744073709551616",
        b"1-2-3",
        b"",
    ] {
        assert!(
            parse_strict_id(bad).is_err(),
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert!(parse_strict_id(&[b'1'; 128]).is_err());
    let auto = parse_id_generic(b"7-*", 0, true, true).unwrap();
    assert_eq!((auto.id, auto.seq_given), (StreamId::new(7, 0), false));
    assert!(parse_id_generic(b"7-*", 0, true, false).is_err());
    assert_eq!(
        parse_range_bound(b"5", false).unwrap(),
        StreamId::new(5, u64::MAX)
    );
    assert_eq!(parse_range_bound(b"(5", true).unwrap(), StreamId::new(5, 1));
    assert_eq!(
        parse_range_bound(b"(5", false).unwrap(),
        StreamId::new(5, u64::MAX - 1)
    );
    assert_eq!(
        parse_range_bound(b"(5-0", false).unwrap(),
        StreamId::new(4, u64::MAX)
    );
    assert!(parse_range_bound(b"(0-0", false).is_err());
    assert!(parse_range_bound(b"(-", true).is_err());
    assert_eq!(
        parse_range_bound(b"(", true).unwrap_err(),
        super::invalid_id()
    );
}

#[test]
fn auto_ids_never_go_back() {
    let mut s = stream_of(0, 100);
    s.last_id = StreamId::new(1000, 5);
    assert_eq!(s.next_id(None, 10), Some(StreamId::new(1000, 6)));
    assert_eq!(s.next_id(None, 2000), Some(StreamId::new(2000, 0)));
    s.last_id = StreamId::new(1000, u64::MAX);
    assert_eq!(s.next_id(None, 10), Some(StreamId::new(1001, 0)));
    s.last_id = StreamId::MAX;
    assert_eq!(s.next_id(None, 10), None);
}

#[test]
fn nodes_fill_and_trim_whole() {
    let mut s = stream_of(350, 100);
    assert_eq!(s.node_count(), 4);
    // Approximate trimming frees only whole nodes.
    let approx = |strategy| Trim {
        strategy,
        approx: true,
        limit: 10_000,
    };
    assert_eq!(s.trim(approx(Strategy::MaxLen(300))), 0);
    assert_eq!(s.trim(approx(Strategy::MaxLen(240))), 100);
    assert_eq!(s.trim(approx(Strategy::MinId(StreamId::new(299, 0)))), 100);
    assert_eq!(s.len(), 150);
    // A LIMIT below a node's size stops before it.
    let limited = Trim {
        strategy: Strategy::MaxLen(0),
        approx: true,
        limit: 99,
    };
    assert_eq!(s.trim(limited), 0);
    // Exact trimming goes inside the node.
    let exact = Trim {
        strategy: Strategy::MaxLen(10),
        approx: false,
        limit: 0,
    };
    assert_eq!(s.trim(exact), 140);
    assert_eq!(s.first_id(), StreamId::new(341, 0));
    // A node emptied by XDEL is freed; the next entry goes into the previous node when it has room.
    let mut s = stream_of(101, 100);
    assert_eq!(s.node_count(), 2);
    assert!(s.delete(StreamId::new(101, 0)));
    assert_eq!(s.node_count(), 1);
}

#[test]
fn nodes_also_fill_by_listpack_bytes() {
    let mut s = Stream::default();
    for i in 1..=200 {
        let fields = vec![
            b"name".to_vec(),
            vec![b'x'; 100],
            b"n".to_vec(),
            i.to_string().into_bytes(),
        ];
        s.append(StreamId::new(i, 0), fields.into(), NodeLimits::default());
    }
    // What redis-server reports for the same XADDs: 6 nodes of about 4 KB rather than 2 of 100 entries.
    assert_eq!((s.node_count(), s.rax_node_count()), (6, 14));
}

#[test]
fn rax_nodes_match_redis_shapes() {
    // One key: a compressed node of 16 bytes and the key's node (XINFO shows 2).
    assert_eq!(stream_of(1, 100).rax_node_count(), 2);
    assert_eq!(Stream::default().rax_node_count(), 1);
    // Masters 1-0 and 101-0 share 7 bytes, then branch; each branch is 8 compressed bytes and a key node
    // (redis-server reports 6 for this stream).
    assert_eq!(stream_of(101, 100).rax_node_count(), 6);
}

#[test]
fn ranges_on_a_million_entries_cost_log_n() {
    let s = stream_of(1_000_000, 100);
    let start = Instant::now();
    for k in 0..10_000u64 {
        let from = StreamId::new(1 + k * 97, 0);
        let got = s.range(from, StreamId::MAX, false, 5);
        assert_eq!(got.len(), 5);
        assert_eq!(got[0].0, from);
        let back = s.range(StreamId::MIN, from, true, 1);
        assert_eq!(back[0].0, from);
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "20,000 range queries took {:?}",
        start.elapsed()
    );
}

#[test]
fn xread_replies_are_maps_in_resp3_and_pairs_in_resp2() {
    use super::commands_read::read_reply;
    use crate::protocol::{encode, Protocol, Reply};
    let served = || vec![(b"s".to_vec(), Reply::Array(Vec::new()))];
    let wire = |p| {
        let mut out = Vec::new();
        encode(&read_reply(p, served()), p, &mut out);
        String::from_utf8(out).unwrap()
    };
    // What redis-server 7.0 sends for one stream with no entries, in each protocol.
    assert_eq!(wire(Protocol::Resp2), "*1\r\n*2\r\n$1\r\ns\r\n*0\r\n");
    assert_eq!(wire(Protocol::Resp3), "%1\r\n$1\r\ns\r\n*0\r\n");
}
