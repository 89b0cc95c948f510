//! LOLWUT VERSION 5 (Schotter) and 6 (skyline) against redis-server, byte for byte. The art is random in both
//! servers (the C library's `rand()`, seeded from the time and the pid), so the comparisons pin Redis's seed:
//! redis-server runs with a preloaded shim whose `srand`/`srandom` always seed 12345, and ferredis's art for
//! seed 12345 comes from the library (`text_with_seed`). Replies that need no seed are compared as they are.

mod common;

use common::{assert_same_as_redis, Server};
use ferredis::ops::lolwut::text_with_seed;
use std::path::PathBuf;
use std::process::Command;

const SEED: u32 = 12345;

/// Builds the `srand` shim with the system C compiler (the build needs one already); fails without it.
fn seed_shim() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let source = dir.join("lolwut_seed_shim.c");
    let library = dir.join(format!("lolwut_seed_shim_{}.so", std::process::id()));
    let code = format!(
        "#define _GNU_SOURCE\n#include <dlfcn.h>\n\
         static void seed(void) {{ void (*real)(unsigned) = (void (*)(unsigned))dlsym(RTLD_NEXT, \"srandom\"); real({SEED}u); }}\n\
         void srand(unsigned s) {{ (void)s; seed(); }}\n\
         void srandom(unsigned s) {{ (void)s; seed(); }}\n"
    );
    std::fs::write(&source, code).expect("write shim source");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&library)
        .arg(&source)
        .arg("-ldl")
        .status()
        .expect("cc is needed to build the srand shim for redis-server");
    assert!(status.success(), "building the srand shim failed");
    library
}

/// redis-server whose generator is seeded with [`SEED`] (None under FERREDIS_NO_REDIS=1).
fn seeded_redis() -> Option<Server> {
    let shim = seed_shim();
    // Every test of this file that starts redis-server wants the shim, so setting it for the process is safe.
    std::env::set_var("LD_PRELOAD", &shim);
    Server::start_redis()
}

/// The verbatim reply's text, as RESP2 sends it (a bulk string).
fn bulk(text: &str) -> String {
    format!("${}\r\n{text}\r\n", text.len())
}

/// Random art, each drawing on a fresh redis-server (its first `rand()` calls after the pinned seed).
#[test]
fn random_art_matches_redis_for_the_same_seed() {
    let cases: &[(u32, &[i64])] = &[
        (5, &[]),
        (5, &[20, 3, 8]),
        (5, &[7, 2, 5]),
        (5, &[1, 1, 200]),
        (6, &[]),
        (6, &[40, 12]),
        (6, &[3, 30]),
        (6, &[200, 60]),
    ];
    for (version, numbers) in cases {
        let Some(redis) = seeded_redis() else {
            return;
        };
        let mut args = vec!["lolwut".to_string(), "version".into(), version.to_string()];
        args.extend(numbers.iter().map(|n| n.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let theirs = redis.client().cmd(&args);
        let ours = bulk(&text_with_seed(*version, numbers, SEED));
        assert_eq!(ours, theirs, "{args:?}");
    }
}

/// Without a pinned seed the two servers draw different pictures of the same size: compare what does not
/// depend on the seed, and what does not draw at all. Schotter's first two rows are never moved, and a skyline
/// one row tall has no building.
#[test]
fn unseeded_replies_match_redis() {
    assert_same_as_redis(&[
        &["lolwut"],
        &["lolwut", "version", "5", "10", "3", "2"],
        &["lolwut", "version", "5", "66", "8", "1"],
        &["lolwut", "version", "5", "1", "1", "1"],
        &["lolwut", "version", "5", "2", "1", "2"],
        &["lolwut", "version", "5", "-5", "0", "-1"],
        &[
            "lolwut", "version", "5", "3000", "1000", "2", "ignored", "x",
        ],
        &["lolwut", "version", "5", "33", "200", "2"],
        &["lolwut", "version", "6", "80", "1"],
        &["lolwut", "version", "6", "1", "-1"],
        &["lolwut", "version", "6", "5000", "0", "anything"],
        &["lolwut", "version", "4294967301", "10", "3", "2"],
        &["lolwut", "version", "7", "x"],
        &["lolwut", "version", "-1"],
        &["lolwut", "version", "5", "x"],
        &["lolwut", "version", "5", "10", "2", "x"],
        &["lolwut", "version", "5", "10", "99999999999999999999"],
        &["lolwut", "version", "6", "x"],
        &["lolwut", "version", "6", "10", "1.5"],
        &["lolwut", "version", "x"],
        &["lolwut", "5", "10"],
        &["lolwut", "version"],
        &["hello", "3"],
        &["lolwut", "version", "5", "12", "4", "2"],
        &["lolwut", "version", "6", "7", "1"],
    ]);
}

/// The text of a bulk reply.
fn text(reply: &str) -> &str {
    let body = reply.split_once("\r\n").map_or("", |(_, b)| b);
    body.strip_suffix("\r\n").unwrap_or(body)
}

/// Two drawings in a row differ (the generator moves on), and have the same shape: rows of equal length.
#[test]
fn art_is_random_and_well_formed() {
    let server = Server::start();
    let mut c = server.client();
    let a = c.cmd(&["lolwut", "version", "6", "30", "10"]);
    let b = c.cmd(&["lolwut", "version", "6", "30", "10"]);
    assert_ne!(a, b);
    let rows: Vec<&str> = text(&a).split('\n').collect();
    assert_eq!(rows.len(), 10 + 3, "{a:?}");
    for row in &rows[..10] {
        assert_eq!(row.matches(" \x1b[0m").count(), 30, "{row:?}");
    }
    assert_eq!(rows[12], "");
    // 40 x 58 pixels: 15 rows of 20 Braille cells, then a blank line (58 is not a multiple of 4).
    let schotter = c.cmd(&["lolwut", "version", "5", "20", "4", "6"]);
    let rows: Vec<&str> = text(&schotter).split('\n').collect();
    assert_eq!(rows.len(), 15 + 3, "{schotter:?}");
    for row in &rows[..15] {
        assert_eq!(row.chars().count(), 20, "{row:?}");
        assert!(row
            .chars()
            .all(|ch| ('\u{2800}'..='\u{28ff}').contains(&ch)));
    }
    assert_eq!(rows[15], "");
}
