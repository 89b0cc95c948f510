//! PFSELFTEST and PFDEBUG: Redis's internal commands for testing and inspecting sketches (the official test
//! suite relies on both).

use super::commands::{sparse_max, with_sketch};
use super::{
    add, corrupt_reply, dense, estimate, histogram, new_sparse, sparse, DENSE, DENSE_SIZE, HDR,
    REGISTERS, SPARSE,
};
use crate::commands::{Args, Ctx};
use crate::protocol::Reply;

/// PFSELFTEST: Redis's two checks. Random register values read back unchanged and leave their neighbours
/// alone; and up to 10 million distinct elements added to a dense and a sparse sketch at once keep the two
/// estimates equal, the sparse one sparse while small, and the error within 6 standard errors.
pub fn pfselftest(ctx: &mut Ctx, _args: Args) -> Reply {
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    let mut expected = vec![0u8; REGISTERS];
    for _ in 0..1000 {
        for (i, e) in expected.iter_mut().enumerate() {
            *e = fastrand::u8(0..64);
            dense::set(&mut regs, i, *e);
        }
        for (i, &e) in expected.iter().enumerate() {
            let got = dense::get(&regs, i);
            if got != e {
                return Reply::error(format!(
                    "TESTFAILED Register {i} should be {e} but is {got}"
                ));
            }
        }
    }
    let max_bytes = sparse_max(ctx);
    let mut dense_hll = new_sparse();
    if sparse::to_dense(&mut dense_hll).is_err() {
        return Reply::error("TESTFAILED dense conversion");
    }
    let mut sparse_hll = new_sparse();
    let rel_err = 1.04 / (REGISTERS as f64).sqrt();
    let seed = fastrand::u64(..);
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let element = (j ^ seed).to_ne_bytes();
        let _ = add(&mut dense_hll, &element, max_bytes);
        let _ = add(&mut sparse_hll, &element, max_bytes);
        if j != checkpoint {
            continue;
        }
        if j < max_bytes as u64 / 2 && sparse_hll[4] != SPARSE {
            return Reply::error("TESTFAILED sparse encoding not used");
        }
        let count = |v: &[u8]| histogram(v).map(|h| estimate(&h)).unwrap_or(u64::MAX);
        let card = count(&dense_hll);
        if card != count(&sparse_hll) {
            return Reply::error("TESTFAILED dense/sparse disagree");
        }
        let abs_err = (checkpoint as i64 - card as i64).unsigned_abs();
        let max_err = if j == 10 {
            1
        } else {
            (rel_err * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abs_err > max_err {
            return Reply::error(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abs_err}"
            ));
        }
        checkpoint *= 10;
    }
    Reply::Ok
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key
pub fn pfdebug(ctx: &mut Ctx, args: Args) -> Reply {
    let (sub, key) = (args.get(1).to_ascii_lowercase(), args.get(2));
    // GETREG turns a sparse sketch dense: Redis counts that in the dirty counter so it propagates (TODENSE,
    // oddly, does not).
    let mut converted = false;
    let result = with_sketch(ctx, key, |v| match sub.as_slice() {
        b"getreg" => {
            converted = v[4] != DENSE;
            if sparse::to_dense(v).is_err() {
                return corrupt_reply();
            }
            Reply::Array(
                (0..REGISTERS)
                    .map(|i| Reply::Int(dense::get(&v[HDR..], i) as i64))
                    .collect(),
            )
        }
        b"decode" if v[4] != SPARSE => Reply::err("HLL encoding is not sparse"),
        b"decode" => Reply::bulk(sparse::decode(&v[HDR..])),
        b"encoding" if v[4] == DENSE => Reply::status("dense"),
        b"encoding" => Reply::status("sparse"),
        b"todense" if v[4] == DENSE => Reply::Int(0),
        b"todense" => match sparse::to_dense(v) {
            Ok(()) => Reply::Int(1),
            Err(_) => corrupt_reply(),
        },
        _ => Reply::err(&format!(
            "Unknown PFDEBUG subcommand '{}'",
            String::from_utf8_lossy(args.get(1))
        )),
    });
    if converted && matches!(result, Some(Ok(Reply::Array(_)))) {
        ctx.count_dirty(1);
    }
    match result {
        None => Reply::err("The specified key does not exist"),
        Some(Ok(reply)) | Some(Err(reply)) => reply,
    }
}
