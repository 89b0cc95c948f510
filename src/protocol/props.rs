//! Property tests for the request reader and the inline splitter: whatever bytes arrive, in whatever pieces, they
//! never panic and never take memory out of proportion to the input; valid requests parse to the same arguments
//! however they are cut. Case counts are kept small so this runs in a few seconds.

use std::io::Read;

use proptest::prelude::*;

use super::inline::split_args_into;
use super::reader::{RequestLimits, RequestReader};
use super::{encode, Protocol, Reply};

/// A source that hands out `data` in pieces of the given sizes (cycled), as a socket would.
struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [usize],
    turn: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let size = self.sizes[self.turn % self.sizes.len()].max(1);
        self.turn += 1;
        let n = size.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Feeds `data` in pieces, parsing after every read as the connection does. Returns the frames parsed, whether
/// a protocol error ended it, and the most heap the reader ever held.
fn parse_in_pieces(
    data: &[u8],
    sizes: &[usize],
    limits: RequestLimits,
) -> (Vec<Vec<Vec<u8>>>, bool, usize) {
    let mut reader = RequestReader::new();
    let mut src = Pieces {
        data,
        sizes,
        turn: 0,
    };
    let (mut frames, mut peak) = (Vec::new(), reader.heap_bytes());
    while !src.data.is_empty() {
        reader.read_from(&mut src).unwrap_or(0);
        loop {
            match reader.next_frame(limits) {
                Ok(Some(frame)) => frames.push(frame.iter().map(<[u8]>::to_vec).collect()),
                Ok(None) => break,
                Err(_) => return (frames, true, peak.max(reader.heap_bytes())),
            }
        }
        peak = peak.max(reader.heap_bytes());
    }
    (frames, false, peak)
}

/// Bytes that exercise the parser, mostly protocol punctuation, digits, quotes and NUL, some anything. Mapped
/// from plain random bytes, which proptest generates much faster than a per-byte choice.
fn hostile_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    const PUNCTUATION: &[u8] = b"*$\r\n0123456789- \"'\\x\0";
    prop::collection::vec(any::<u8>(), 0..max).prop_map(|raw| {
        raw.into_iter()
            .map(|b| match b {
                0..=199 => PUNCTUATION[b as usize % PUNCTUATION.len()],
                other => other,
            })
            .collect()
    })
}

/// A request as clients send it: a RESP2 array of bulk strings, which is how the encoder writes one.
fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let array = Reply::Array(args.iter().map(|a| Reply::Bulk(a[..].into())).collect());
    let mut out = Vec::new();
    encode(&array, Protocol::Resp2, &mut out);
    out
}

/// An inline line whose arguments are double-quoted with every byte as `\xHH`, which must round-trip.
fn inline(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for a in args {
        out.extend_from_slice(b" \"");
        for b in a {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        }
        out.push(b'"');
    }
    out.extend_from_slice(b"\r\n");
    out
}

fn requests() -> impl Strategy<Value = Vec<(bool, Vec<Vec<u8>>)>> {
    let arg = prop::collection::vec(any::<u8>(), 0..40);
    let args = prop::collection::vec(arg, 1..6);
    prop::collection::vec((any::<bool>(), args), 1..8)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn random_bytes_never_panic_nor_hoard(
        data in hostile_bytes(6000),
        sizes in prop::collection::vec(1usize..3000, 1..6),
        unauthenticated in any::<bool>(),
        max_bulk in prop::sample::select(vec![5usize, 1 << 20, 512 << 20]),
    ) {
        let limits = RequestLimits { max_bulk, unauthenticated };
        let (_, _, peak) = parse_in_pieces(&data, &sizes, limits);
        // The 16 KB read buffer (doubled at most once for 6 KB of input) plus spans and inline arguments, each a
        // small multiple of the input.
        prop_assert!(peak <= 64 * 1024 + 32 * data.len(), "peak {} for {} bytes", peak, data.len());
    }

    #[test]
    fn huge_announced_lengths_take_nothing(
        count in 0i64..=i32::MAX as i64,
        bulk in 0u64..=(512 << 20),
        tail in prop::collection::vec(any::<u8>(), 0..100),
    ) {
        let data = [format!("*{count}\r\n${bulk}\r\n").as_bytes(), &tail].concat();
        let (_, _, peak) = parse_in_pieces(&data, &[7], RequestLimits::DEFAULT);
        prop_assert!(peak <= 16 * 1024 + 1024);
    }

    #[test]
    fn requests_parse_the_same_however_they_are_cut(
        requests in requests(),
        sizes in prop::collection::vec(1usize..64, 1..6),
    ) {
        let mut data = Vec::new();
        for (as_inline, args) in &requests {
            data.extend(if *as_inline { inline(args) } else { multibulk(args) });
        }
        let want: Vec<Vec<Vec<u8>>> = requests.into_iter().map(|(_, args)| args).collect();
        let whole = parse_in_pieces(&data, &[data.len()], RequestLimits::DEFAULT);
        prop_assert_eq!(&whole.0, &want);
        prop_assert!(!whole.1);
        let cut = parse_in_pieces(&data, &sizes, RequestLimits::DEFAULT);
        prop_assert_eq!(&cut.0, &want);
        prop_assert!(!cut.1);
    }

    #[test]
    fn inline_split_never_outgrows_its_line(line in hostile_bytes(2000)) {
        let (mut data, mut spans) = (Vec::new(), Vec::new());
        split_args_into(&line, &mut data, &mut spans);
        prop_assert!(data.len() <= line.len());
        prop_assert!(spans.len() <= line.len());
        prop_assert!(spans.iter().all(|&(s, e)| s <= e && e <= data.len()));
    }
}
