//! Property tests: whatever bytes arrive, decoding answers (a value or an error), never panics, and never
//! allocates what a corrupt length asks for before the bytes are there.

use proptest::prelude::*;

use super::payload::{self, PayloadError};
use super::value::{Encoder, Limits};
use super::{crc64, read_rdb, RdbOptions, RdbWriter};
use crate::db::{Entry, StrValue, Value};
use crate::types::collection::PackLimits;
use crate::types::hash::Hash;
use crate::types::list::{End, List};
use crate::types::set::Set;
use crate::types::stream::{Group, NodeLimits, Stream, StreamId};
use crate::types::zset::ZSet;

/// One value of each type and encoding, as seeds for damage.
fn samples() -> Vec<Value> {
    let mut list = List::default();
    (0..300).for_each(|i| list.push(End::Right, format!("e{i}").as_bytes()));
    let small = PackLimits {
        entries: 128,
        value: 64,
    };
    let mut hash = Hash::default();
    hash.set(b"f", b"v".to_vec(), small);
    let mut big_hash = Hash::default();
    (0..200).for_each(|i| {
        big_hash.set(format!("f{i}").as_bytes(), b"v".to_vec(), small);
    });
    let mut ints = Set::for_member(b"1");
    (0..20).for_each(|i| {
        ints.add(i.to_string().as_bytes(), 512);
    });
    let mut strs = Set::for_member(b"a");
    strs.add(b"a", 512);
    strs.add(b"b", 512);
    let zset = ZSet::from_items(vec![(b"a".to_vec(), 1.5), (b"b".to_vec(), -2.0)], small);
    let big_zset = ZSet::from_items(
        (0..200)
            .map(|i| (format!("m{i}").into_bytes(), i as f64))
            .collect(),
        small,
    );
    let mut stream = Stream::default();
    for i in 1..20u64 {
        let fields: Box<[Vec<u8>]> = vec![b"k".to_vec(), i.to_string().into_bytes()].into();
        stream.append(StreamId::new(i, 0), fields, NodeLimits::default());
    }
    stream
        .groups
        .insert(b"g".to_vec(), Group::new(StreamId::new(3, 0), Some(3)));
    vec![
        Value::Str(StrValue::from_slice(b"hello")),
        Value::Str(StrValue::from_slice(b"12345")),
        Value::Str(StrValue::from_vec("abc".repeat(50).into_bytes())),
        Value::List(Box::new(list)),
        Value::Hash(hash),
        Value::Hash(big_hash),
        Value::Set(ints),
        Value::Set(strs),
        Value::ZSet(zset),
        Value::ZSet(big_zset),
        Value::Stream(Box::new(stream)),
    ]
}

/// Fuzz seeds (type byte first) in the forms only older versions write: a ziplist list, a zipmap hash, a
/// quicklist of ziplists (these three valid), a ziplist hash with a wrong header, and a 7.0 stream.
fn legacy_bodies() -> Vec<Vec<u8>> {
    use super::string::{put_len, put_string};
    let entries: [&[u8]; 3] = [&[0, 0x01, b'a'], &[3, 0xF8], &[2, 0xC0, 0x2C, 0x01]];
    let body: Vec<u8> = entries.concat();
    let mut zl = ((11 + body.len()) as u32).to_le_bytes().to_vec();
    zl.extend_from_slice(&15u32.to_le_bytes());
    zl.extend_from_slice(&3u16.to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(0xFF);
    let zipmap = [2u8, 1, b'f', 2, 1, b'v', b'w', 0, 1, b'g', 0, 0, 0xFF];
    let with = |ty: u8, parts: &[&[u8]], nodes: Option<u64>| {
        let mut out = vec![ty];
        if let Some(n) = nodes {
            put_len(&mut out, n);
        }
        parts.iter().for_each(|p| put_string(&mut out, p, false));
        out
    };
    let mut stream = payload::dump(&samples()[10], &encoder());
    stream.truncate(stream.len() - 10);
    vec![
        with(10, &[&zl], None),
        with(9, &[&zipmap], None),
        with(14, &[&zl, &zl], Some(2)),
        with(
            13,
            &[&[&zl[..10], &[0, 1, b'a', 3, 0xF8, 0xFF]].concat()],
            None,
        ),
        stream,
    ]
}

/// `body` framed as a payload with a valid version and checksum, so only the decoder judges it.
fn framed(body: &[u8]) -> Vec<u8> {
    let mut p = body.to_vec();
    p.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64(&p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

fn encoder() -> Encoder {
    Encoder {
        compress: true,
        limits: Limits::default(),
    }
}

#[test]
fn every_sample_round_trips() {
    for v in samples() {
        let p = payload::dump(&v, &encoder());
        let back = payload::restore(&p, &Limits::default()).map(|b| payload::dump(&b, &encoder()));
        let back = back.unwrap_or_default();
        // A hash table's order depends on its insertion history; the rest must come back byte for byte.
        let same = match v.encoding() {
            "hashtable" => back.len() == p.len() && back[0] == p[0],
            _ => back == p,
        };
        assert!(
            same,
            "{} {} does not round-trip",
            v.type_name(),
            v.encoding()
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bodies_are_answered(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = payload::restore(&framed(&body), &Limits::default());
    }

    #[test]
    fn damaged_payloads_are_answered(which in 0usize..11, at in any::<usize>(), byte in any::<u8>(), cut in any::<usize>()) {
        let samples = samples();
        let p = payload::dump(&samples[which % samples.len()], &encoder());
        let mut body = p[..p.len() - 10].to_vec();
        let i = at % body.len();
        body[i] = byte;
        let _ = payload::restore(&framed(&body), &Limits::default());
        body.truncate(cut % (body.len() + 1));
        let _ = payload::restore(&framed(&body), &Limits::default());
        let mut unframed = p.clone();
        unframed[i] ^= 1;
        prop_assert_eq!(payload::restore(&unframed, &Limits::default()).err(), Some(PayloadError::VersionOrChecksum));
    }

    #[test]
    fn damaged_legacy_payloads_are_answered(which in 0usize..5, at in any::<usize>(), byte in any::<u8>()) {
        let mut body = legacy_bodies()[which].clone();
        let i = at % body.len();
        body[i] = byte;
        let _ = payload::restore(&framed(&body), &Limits::default());
    }

    #[test]
    fn damaged_files_are_answered(at in any::<usize>(), byte in any::<u8>()) {
        let mut w = RdbWriter::new(Vec::new(), RdbOptions { compression: true, checksum: false });
        w.header().ok();
        w.select_db(0, 11, 0).ok();
        for (i, v) in samples().into_iter().enumerate() {
            w.entry(format!("k{i}").as_bytes(), &Entry::new(v), Some(1 << 40)).ok();
        }
        let mut file = w.finish().unwrap_or_default();
        let i = at % file.len();
        file[i] = byte;
        let _ = read_rdb(&file[..], &Limits::default(), 0, |_| Ok(()));
    }
}

#[test]
fn legacy_samples_load() {
    for (i, body) in legacy_bodies().iter().enumerate().take(3) {
        assert!(
            payload::restore(&framed(body), &Limits::default()).is_ok(),
            "legacy sample {i}"
        );
    }
}
