//! Feeds arbitrary bytes to the request reader in pieces whose sizes come from the input itself, with the
//! limits an unauthenticated client gets or the defaults, and checks that it never panics and that its memory
//! stays a small multiple of what arrived.
#![no_main]

use std::io::Read;

use ferredis::protocol::{split_args, RequestLimits, RequestReader};
use libfuzzer_sys::fuzz_target;

/// Hands out the input in pieces of 1 to 256 bytes, sized by the input's first bytes.
struct Pieces<'a> {
    data: &'a [u8],
    sizes: &'a [u8],
    turn: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let size = self
            .sizes
            .get(self.turn % self.sizes.len().max(1))
            .copied()
            .unwrap_or(255) as usize
            + 1;
        self.turn += 1;
        let n = size.min(out.len()).min(self.data.len());
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    let split = input.len().min(8);
    let (sizes, data) = input.split_at(split);
    let limits = RequestLimits {
        max_bulk: 1 << 20,
        unauthenticated: sizes.first().is_some_and(|b| b & 1 == 1),
    };
    let _ = split_args(data);
    let mut reader = RequestReader::new();
    let mut src = Pieces {
        data,
        sizes,
        turn: 0,
    };
    while !src.data.is_empty() {
        if reader.read_from(&mut src).is_err() {
            return;
        }
        loop {
            match reader.next_frame(limits) {
                Ok(Some(frame)) => assert!(!frame.is_empty()),
                Ok(None) => break,
                Err(_) => return,
            }
        }
        assert!(reader.heap_bytes() <= 64 * 1024 + 32 * data.len());
    }
});
