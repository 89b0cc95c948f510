//! LZF, the compression Redis uses for RDB strings (and quicklist nodes): a byte-oriented LZ77 with 8 KB of
//! history. Written here rather than taken from the `lzf` crate, whose 1.0 compressor indexes past its output
//! buffer on some inputs (a panic that killed a full sync's snapshot thread) and zeroes a 512 KB table per call.
//!
//! The format (liblzf's, which Redis embeds), one control byte at a time:
//! - `000LLLLL`: a literal run of `L + 1` bytes follows;
//! - `LLLOOOOO oooooooo`: a back reference of `L + 2` bytes starting `(O << 8 | o) + 1` bytes back;
//! - `111OOOOO llllllll oooooooo`: the same with length `l + 9` (up to 264).
//!
//! Both directions are total: `compress` gives up (None) when the output would not fit, and `decompress` refuses
//! (None) any input that is not a complete, in-bounds encoding of exactly the announced length.

/// Longest literal run one control byte announces.
const MAX_LIT: usize = 32;
/// Farthest back a reference reaches.
const MAX_OFF: usize = 1 << 13;
/// Longest back reference, in bytes.
const MAX_REF: usize = (1 << 8) + (1 << 3);
/// liblzf's hash table: 2^16 slots of input offsets (0: empty).
const HLOG: u32 = 16;

thread_local! {
    /// The hash table, kept per thread: zeroing 2^16 slots for every short string would cost more than
    /// compressing it. The slots a call wrote are cleared when it ends, so every call starts from an empty
    /// table and gives liblzf's output.
    static TABLE: std::cell::RefCell<Vec<u32>> = std::cell::RefCell::new(vec![0; 1 << HLOG]);
}

/// Compresses `input` into at most `max_out` bytes as liblzf's `lzf_compress` (with Redis's settings:
/// `HLOG` 16, `VERY_FAST`) does, byte for byte, giving up in the same cases; None when it gives up (the caller
/// stores the string raw). DUMP payloads and RDB files match redis-server's.
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    if input.len() < 2 || input.len() > u32::MAX as usize {
        return None;
    }
    TABLE.with(|table| {
        let mut table = table.borrow_mut();
        let mut written = Vec::new();
        let out = Compressor {
            input,
            out: Vec::with_capacity(max_out.min(input.len()) + 4),
            max_out,
        }
        .run(&mut table, &mut written);
        for slot in written {
            table[slot] = 0;
        }
        out
    })
}

struct Compressor<'a> {
    input: &'a [u8],
    /// Literal runs are written with a placeholder control byte first, fixed when the run ends.
    out: Vec<u8>,
    max_out: usize,
}

impl Compressor<'_> {
    fn run(mut self, table: &mut [u32], written: &mut Vec<usize>) -> Option<Vec<u8>> {
        let (data, n) = (self.input, self.input.len());
        let mut set = |table: &mut [u32], slot: usize, at: usize| {
            table[slot] = at as u32;
            written.push(slot);
        };
        self.out.push(0); // start a run
        let mut lit = 0usize;
        let mut ip = 0usize;
        let mut hval = first(data, 0);
        while ip + 2 < n {
            hval = next(hval, data, ip);
            let slot = idx(hval);
            let reference = table[slot] as usize;
            set(table, slot, ip);
            let off = ip.wrapping_sub(reference).wrapping_sub(1);
            if off < MAX_OFF
                && ip + 4 < n
                && reference > 0
                && reference < n - 2
                && data[reference..reference + 3] == data[ip..ip + 3]
            {
                let maxlen = (n - ip - 2).min(MAX_REF);
                let mut len = 3;
                while len < maxlen && data[reference + len] == data[ip + len] {
                    len += 1;
                }
                self.end_run(lit);
                if self.out.len() + 4 >= self.max_out {
                    return None;
                }
                let len = len - 2; // octets - 1, as the format counts
                ip += 1;
                if len < 7 {
                    self.out.push((off >> 8) as u8 + ((len as u8) << 5));
                } else {
                    self.out.push((off >> 8) as u8 + (7 << 5));
                    self.out.push((len - 7) as u8);
                }
                self.out.push(off as u8);
                self.out.push(0); // start a run
                lit = 0;
                ip += len - 1;
                if ip >= n {
                    break;
                }
                hval = first(data, ip);
                for _ in 0..2 {
                    hval = next(hval, data, ip);
                    set(table, idx(hval), ip);
                    ip += 1;
                }
            } else {
                if self.out.len() >= self.max_out {
                    return None;
                }
                self.literal(&mut lit, data[ip]);
                ip += 1;
            }
        }
        // At most 3 bytes are left.
        if self.out.len() + 3 > self.max_out {
            return None;
        }
        for &b in &data[ip.min(n)..] {
            self.literal(&mut lit, b);
        }
        self.end_run(lit);
        (self.out.len() <= self.max_out).then_some(self.out)
    }

    fn literal(&mut self, lit: &mut usize, b: u8) {
        *lit += 1;
        self.out.push(b);
        if *lit == MAX_LIT {
            let at = self.out.len() - MAX_LIT - 1;
            self.out[at] = (MAX_LIT - 1) as u8;
            *lit = 0;
            self.out.push(0); // start a run
        }
    }

    /// Ends the literal run in progress: writes its control byte, or takes back the placeholder of an empty one.
    fn end_run(&mut self, lit: usize) {
        if lit == 0 {
            self.out.pop();
        } else {
            let at = self.out.len() - lit - 1;
            self.out[at] = (lit - 1) as u8;
        }
    }
}

fn first(p: &[u8], at: usize) -> u32 {
    u32::from(p[at]) << 8 | u32::from(p[at + 1])
}

fn next(v: u32, p: &[u8], at: usize) -> u32 {
    v << 8 | u32::from(p[at + 2])
}

fn idx(h: u32) -> usize {
    ((h >> (24 - HLOG)).wrapping_sub(h.wrapping_mul(5)) & ((1 << HLOG) - 1)) as usize
}

/// Decompresses `input`, which must decode to exactly `out_len` bytes; None for anything else (truncated input,
/// a reference before the start, more or fewer bytes than announced). Memory grows with what `input` can really
/// produce, never with `out_len` alone.
pub fn decompress(input: &[u8], out_len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(out_len.min(input.len().saturating_mul(MAX_REF / 3 + 1)));
    let mut i = 0;
    while i < input.len() {
        let ctrl = usize::from(input[i]);
        i += 1;
        if ctrl < MAX_LIT {
            let run = input.get(i..i + ctrl + 1)?;
            if out.len() + run.len() > out_len {
                return None;
            }
            out.extend_from_slice(run);
            i += run.len();
            continue;
        }
        let mut len = ctrl >> 5;
        if len == 7 {
            len += usize::from(*input.get(i)?);
            i += 1;
        }
        let low = usize::from(*input.get(i)?);
        i += 1;
        let distance = ((ctrl & 0x1f) << 8 | low) + 1;
        let len = len + 2;
        let start = out.len().checked_sub(distance)?;
        if out.len() + len > out_len {
            return None;
        }
        // Byte by byte: a reference may overlap what it produces (a run of one repeated byte).
        for k in start..start + len {
            out.push(out[k]);
        }
    }
    (out.len() == out_len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(input: &[u8]) {
        if let Some(c) = compress(input, input.len()) {
            assert!(c.len() <= input.len());
            assert_eq!(decompress(&c, input.len()).as_deref(), Some(input));
        }
    }

    #[test]
    fn repetitive_text_shrinks_and_comes_back() {
        let text: Vec<u8> = (0..200)
            .flat_map(|i| format!("word{} ", i % 17).into_bytes())
            .collect();
        let c = compress(&text, text.len() - 4).expect("compressible");
        assert!(c.len() < text.len() / 4, "{} of {}", c.len(), text.len());
        assert_eq!(decompress(&c, text.len()), Some(text));
    }

    #[test]
    fn long_runs_use_long_references() {
        let run = vec![b'a'; 10_000];
        let c = compress(&run, run.len()).expect("compressible");
        assert!(c.len() < 150, "{}", c.len());
        assert_eq!(decompress(&c, run.len()), Some(run));
    }

    #[test]
    fn incompressible_input_gives_up() {
        let noise: Vec<u8> = (0..64u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(compress(&noise, noise.len() - 4), None);
        assert_eq!(compress(b"abcabc", 2), None);
    }

    /// What liblzf (and so redis-server) writes for a known input decodes here.
    #[test]
    fn decodes_liblzf_output() {
        // "aaaaaaaaaaaaaaaaaaaa" (20 bytes) as liblzf encodes it: literal 'a', then a 19-byte reference 1 back.
        let c = [0x00, b'a', 0xe0, 0x0a, 0x00];
        assert_eq!(decompress(&c, 20), Some(vec![b'a'; 20]));
    }

    #[test]
    fn malformed_input_is_refused() {
        assert_eq!(decompress(&[0x05, b'a'], 6), None, "truncated literal");
        assert_eq!(
            decompress(&[0x20, 0x00], 3),
            None,
            "reference before the start"
        );
        assert_eq!(
            decompress(&[0x00, b'a', 0xe0], 20),
            None,
            "truncated reference"
        );
        assert_eq!(decompress(&[0x00, b'a'], 2), None, "short");
        assert_eq!(decompress(&[0x01, b'a', b'b'], 1), None, "long");
        assert_eq!(decompress(&[], 0), Some(Vec::new()));
    }

    proptest! {
        #[test]
        fn any_input_round_trips(input in proptest::collection::vec(0u8..4, 0..3000)) {
            round_trip(&input);
        }

        #[test]
        fn any_bytes_round_trip(input in proptest::collection::vec(any::<u8>(), 0..600)) {
            round_trip(&input);
        }

        #[test]
        fn decompress_never_panics(input in proptest::collection::vec(any::<u8>(), 0..200), len in 0usize..2000) {
            if let Some(out) = decompress(&input, len) {
                prop_assert_eq!(out.len(), len);
            }
        }
    }
}
