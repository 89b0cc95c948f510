//! `list-max-listpack-size` shapes a list's real quicklist nodes as in Redis: DEBUG OBJECT's `ql_*` fields (node
//! count, average entries a node, bytes) equal redis-server's after the same pushes, for entry-count fills,
//! byte-size fills and the 8 KB safety limit of positive fills; with `list-compress-depth`, every list command
//! answers as redis-server does while the interior nodes are compressed, and the list takes less memory.

mod common;
use common::{Client, Server};

const DEBUG_ON: &[&str] = &["--enable-debug-command", "yes"];

/// The `ql_*` part of DEBUG OBJECT's line.
fn quicklist(c: &mut Client, key: &str) -> String {
    let line = c.cmd(&["debug", "object", key]);
    match line.find(" ql_nodes:") {
        Some(at) => line[at..].trim_end().to_string(),
        None => panic!("no quicklist fields in {line:?}"),
    }
}

/// Runs the same pushes on both servers under `fill` and compares the node layout.
fn same_nodes(ours: &mut Client, redis: &mut Client, fill: &str, pushes: &[Vec<String>]) {
    for c in [&mut *ours, &mut *redis] {
        assert_eq!(
            c.cmd(&["config", "set", "list-max-listpack-size", fill]),
            "+OK\r\n"
        );
        c.cmd(&["del", "l"]);
        for p in pushes {
            let args: Vec<&str> = p.iter().map(String::as_str).collect();
            assert!(c.cmd(&args).starts_with(':'));
        }
    }
    let (got, want) = (quicklist(ours, "l"), quicklist(redis, "l"));
    let first = pushes.first().map(|p| &p[..3.min(p.len())]);
    assert_eq!(
        got,
        want,
        "fill {fill}, {} pushes from {first:?}",
        pushes.len()
    );
}

fn one_by_one(cmd: &str, items: impl Iterator<Item = String>) -> Vec<Vec<String>> {
    items
        .map(|i| vec![cmd.to_string(), "l".into(), i])
        .collect()
}

fn at_once(cmd: &str, items: impl Iterator<Item = String>) -> Vec<Vec<String>> {
    vec![[cmd.to_string(), "l".into()]
        .into_iter()
        .chain(items)
        .collect()]
}

/// ferredis and redis-server, both with DEBUG enabled (None only when the run opts out of redis-server).
fn both() -> Option<(Server, Server)> {
    let redis = Server::start_redis_with(DEBUG_ON)?;
    Some((Server::start_with(DEBUG_ON), redis))
}

#[test]
fn nodes_follow_list_max_listpack_size_as_in_redis() {
    let Some((ours, redis)) = both() else { return };
    let (mut a, mut b) = (ours.client(), redis.client());
    let short = |n: usize| (0..n).map(|i| format!("item-{i}"));
    let long = |n: usize, len: usize| (0..n).map(move |i| format!("{i}-{}", "x".repeat(len)));
    for fill in ["1", "3", "0", "128"] {
        same_nodes(&mut a, &mut b, fill, &one_by_one("rpush", short(10)));
        same_nodes(&mut a, &mut b, fill, &one_by_one("lpush", short(10)));
        same_nodes(&mut a, &mut b, fill, &at_once("rpush", short(300)));
        same_nodes(&mut a, &mut b, fill, &at_once("lpush", short(300)));
    }
    // The 8 KB safety limit of a positive fill: 1,000-byte entries, 8 a node whatever the count allows.
    same_nodes(&mut a, &mut b, "100", &one_by_one("rpush", long(20, 1000)));
    same_nodes(&mut a, &mut b, "100", &at_once("lpush", long(20, 1000)));
    for fill in ["-1", "-2", "-3", "-5", "-9"] {
        same_nodes(&mut a, &mut b, fill, &one_by_one("rpush", long(300, 40)));
        same_nodes(&mut a, &mut b, fill, &at_once("rpush", long(3000, 40)));
        same_nodes(&mut a, &mut b, fill, &at_once("lpush", long(40, 3000)));
    }
}

#[test]
fn a_bad_fill_is_refused_and_a_list_keeps_its_elements_across_fills() {
    let ours = Server::start_with(DEBUG_ON);
    let mut c = ours.client();
    assert_eq!(
        c.cmd(&["config", "set", "list-max-listpack-size", "x"]),
        "-ERR CONFIG SET failed (possibly related to argument 'list-max-listpack-size') - argument couldn't be parsed into an integer\r\n"
    );
    assert_eq!(
        c.cmd(&["config", "set", "list-max-listpack-size", "2"]),
        "+OK\r\n"
    );
    for i in 0..7 {
        c.cmd(&["rpush", "l", &format!("e{i}")]);
    }
    assert!(quicklist(&mut c, "l").starts_with(" ql_nodes:4 ql_avg_node:1.75 ql_listpack_max:2 "));
    assert_eq!(
        c.cmd(&["config", "set", "list-max-listpack-size", "-2"]),
        "+OK\r\n"
    );
    c.cmd(&["linsert", "l", "before", "e3", "new"]);
    c.cmd(&["lset", "l", "0", "first"]);
    assert_eq!(
        common::bulks(&c.cmd(&["lrange", "l", "0", "-1"])),
        ["first", "e1", "e2", "new", "e3", "e4", "e5", "e6"]
    );
}

/// One random list command on key `l` (items drawn from a few compressible shapes), as text arguments.
fn random_list_command(len: usize) -> Vec<String> {
    let item = || match fastrand::u8(..4) {
        0 => format!("item:{:0>30}", fastrand::u8(..20)),
        1 => "y".repeat(fastrand::usize(100..3000)),
        2 => fastrand::u32(..).to_string(),
        _ => format!("e{}", fastrand::u8(..50)),
    };
    let index = || fastrand::i64(-(len as i64) - 2..len as i64 + 2).to_string();
    let words: Vec<String> = match fastrand::u8(..14) {
        0..=2 => vec!["rpush".into(), "l".into(), item(), item()],
        3..=4 => vec!["lpush".into(), "l".into(), item()],
        5 => vec!["lpop".into(), "l".into(), fastrand::u8(..40).to_string()],
        6 => vec!["rpop".into(), "l".into()],
        7 => vec!["lset".into(), "l".into(), index(), item()],
        8 => {
            let side = if fastrand::bool() { "before" } else { "after" };
            vec!["linsert".into(), "l".into(), side.into(), item(), item()]
        }
        9 => vec![
            "lrem".into(),
            "l".into(),
            fastrand::i8(-3..3).to_string(),
            item(),
        ],
        10 => vec![
            "ltrim".into(),
            "l".into(),
            fastrand::u8(..5).to_string(),
            "-3".into(),
        ],
        11 => vec!["lindex".into(), "l".into(), index()],
        12 => vec![
            "lpos".into(),
            "l".into(),
            item(),
            "count".into(),
            "0".into(),
        ],
        _ => vec!["lrange".into(), "l".into(), index(), index()],
    };
    words
}

#[test]
fn compressed_lists_answer_as_redis_does() {
    let Some((ours, redis)) = both() else { return };
    let (mut a, mut b) = (ours.client(), redis.client());
    fastrand::seed(2026);
    for depth in ["1", "2"] {
        for c in [&mut a, &mut b] {
            assert_eq!(
                c.cmd(&["config", "set", "list-compress-depth", depth]),
                "+OK\r\n"
            );
            c.cmd(&["del", "l"]);
            // A long list first, so that most commands reach compressed nodes.
            let fill: Vec<String> = (0..3000).map(|i| format!("item:{:0>30}", i % 20)).collect();
            let mut args = vec!["rpush", "l"];
            args.extend(fill.iter().map(String::as_str));
            assert_eq!(c.cmd(&args), ":3000\r\n");
        }
        for step in 0..1500 {
            let len: usize = a.cmd(&["llen", "l"])[1..].trim_end().parse().unwrap_or(0);
            let words = random_list_command(len);
            let args: Vec<&str> = words.iter().map(String::as_str).collect();
            assert_eq!(
                a.cmd(&args),
                b.cmd(&args),
                "depth {depth}, step {step}: {args:?}"
            );
        }
        // Node layouts may part here: integers and strings of 64 bytes or more take different bytes in the two
        // servers' listpacks, so nodes fill differently (`middle_edits_leave_the_nodes_redis_leaves` compares
        // layouts with elements that do not). The flag agrees.
        for c in [&mut a, &mut b] {
            let ql = quicklist(c, "l");
            assert!(ql.contains(" ql_compressed:1 "), "{ql}");
        }
        let whole = ["lrange", "l", "0", "-1"];
        assert_eq!(a.cmd(&whole), b.cmd(&whole));
        assert_eq!(a.cmd(&["debug", "digest"]), b.cmd(&["debug", "digest"]));
    }
}

#[test]
fn compression_saves_memory_and_survives_a_reload() {
    let ours = Server::start_with(DEBUG_ON);
    let mut c = ours.client();
    let usage = |c: &mut Client, key: &str| -> usize {
        let r = c.cmd(&["memory", "usage", key, "samples", "0"]);
        r[1..].trim_end().parse().unwrap_or_else(|_| panic!("{r}"))
    };
    let items: Vec<String> = (0..20_000)
        .map(|i| format!("user:{:0>12}:active", i % 100))
        .collect();
    let mut args = vec!["rpush", "plain"];
    args.extend(items.iter().map(String::as_str));
    assert_eq!(c.cmd(&args), ":20000\r\n");
    assert_eq!(
        c.cmd(&["config", "set", "list-compress-depth", "1"]),
        "+OK\r\n"
    );
    args[1] = "packed";
    assert_eq!(c.cmd(&args), ":20000\r\n");
    let (plain, packed) = (usage(&mut c, "plain"), usage(&mut c, "packed"));
    assert!(
        packed * 5 < plain,
        "compressed {packed} bytes, plain {plain}"
    );
    let digest = c.cmd(&["debug", "digest-value", "packed"]);
    assert_eq!(digest, c.cmd(&["debug", "digest-value", "plain"]));
    assert_eq!(
        c.cmd(&["lindex", "packed", "10001"]),
        "$24\r\nuser:000000000001:active\r\n"
    );
    assert_eq!(c.cmd(&["debug", "reload"]), "+OK\r\n");
    assert_eq!(c.cmd(&["debug", "digest-value", "packed"]), digest);
    // Loaded under depth 1, the list is compressed again.
    assert!(usage(&mut c, "packed") * 5 < plain);
    assert_eq!(
        c.cmd(&["config", "get", "list-compress-depth"]),
        "*2\r\n$19\r\nlist-compress-depth\r\n$1\r\n1\r\n"
    );
}

/// DEBUG QUICKLIST-PACKED-THRESHOLD: elements of at least that size get nodes of their own (Redis's plain
/// nodes), through pushes, LINSERT and LSET in the middle; the node layout, the DUMP payload (plain nodes as
/// plain containers) and the elements equal redis-server's, and a reload keeps the list.
#[test]
fn large_elements_take_nodes_of_their_own_as_in_redis() {
    let Some((ours, redis)) = both() else {
        return;
    };
    let (mut o, mut r) = (ours.client(), redis.client());
    let steps: &[&[&str]] = &[
        &["rpush", "l", "a", "b", "xxxxxxxxxxxx", "c", "d"],
        &["linsert", "l", "before", "c", "yyyyyyyyyyyyyyy"],
        &["lset", "l", "0", "zzzzzzzzzzzzzzzzzz"],
        &["linsert", "l", "after", "d", "qqqqqqqqqqqqqqqq"],
        &["rpush", "l", "e", "f"],
        &["lpush", "l", "wwwwwwwwwwwwwwwwwwwwww", "g"],
        &["lset", "l", "3", "h"],
    ];
    for c in [&mut o, &mut r] {
        // Uncompressed payloads: the two servers' LZF output may differ.
        assert_eq!(c.cmd(&["config", "set", "rdbcompression", "no"]), "+OK\r\n");
        assert_eq!(
            c.cmd(&["debug", "quicklist-packed-threshold", "10b"]),
            "+OK\r\n"
        );
        for step in steps {
            assert!(c.cmd(step).starts_with([':', '+']), "{step:?}");
        }
    }
    let nodes = |c: &mut Client| {
        let ql = quicklist(c, "l");
        ql.split(' ')
            .find(|f| f.starts_with("ql_nodes:"))
            .map(str::to_string)
    };
    assert_eq!(nodes(&mut o), Some("ql_nodes:9".to_string()));
    assert_eq!(nodes(&mut o), nodes(&mut r));
    let range = o.cmd(&["lrange", "l", "0", "-1"]);
    assert_eq!(range, r.cmd(&["lrange", "l", "0", "-1"]));
    assert_eq!(o.cmd(&["dump", "l"]), r.cmd(&["dump", "l"]));
    assert_eq!(o.cmd(&["debug", "reload"]), "+OK\r\n");
    assert_eq!(o.cmd(&["lrange", "l", "0", "-1"]), range);
    assert_eq!(nodes(&mut o), Some("ql_nodes:9".to_string()));
    // Back to the default threshold: small elements share nodes again.
    assert_eq!(
        o.cmd(&["debug", "quicklist-packed-threshold", "0"]),
        "+OK\r\n"
    );
    assert_eq!(
        o.cmd(&["rpush", "m", "xxxxxxxxxxxx", "yyyyyyyyyyyyyyy"]),
        ":2\r\n"
    );
    let ql = quicklist(&mut o, "m");
    assert!(ql.starts_with(" ql_nodes:1 "), "{ql}");
    assert_eq!(
        o.cmd(&["debug", "quicklist-packed-threshold", "5gb"]),
        "-ERR argument must be a memory value bigger than 1 and smaller than 4gb\r\n"
    );
}

/// Edits in the middle (LINSERT before and after, LSET, LREM) leave the nodes redis-server leaves: the same
/// inserts into the pivot's node, into its neighbour, into a node of their own or a split of the pivot's node
/// with its neighbours merged; LSET in place; LREM in place. Strings of under 64 bytes that are not integers
/// take the same bytes in both servers' listpacks, so the node layouts compare exactly.
#[test]
fn middle_edits_leave_the_nodes_redis_leaves() {
    let Some((ours, redis)) = both() else { return };
    let (mut a, mut b) = (ours.client(), redis.client());
    fastrand::seed(7);
    let item = || match fastrand::u8(..3) {
        0 => format!("item:{:0>30}", fastrand::u8(..20)),
        1 => "w".repeat(fastrand::usize(1..60)),
        _ => format!("e{}", fastrand::u8(..50)),
    };
    for fill in ["-1", "-2", "5", "100"] {
        for c in [&mut a, &mut b] {
            assert_eq!(
                c.cmd(&["config", "set", "list-max-listpack-size", fill]),
                "+OK\r\n"
            );
            c.cmd(&["del", "l"]);
            let start: Vec<String> = (0..600).map(|i| format!("item:{:0>30}", i % 20)).collect();
            let mut args = vec!["rpush", "l"];
            args.extend(start.iter().map(String::as_str));
            assert_eq!(c.cmd(&args), ":600\r\n");
        }
        for step in 0..800 {
            let len: usize = a.cmd(&["llen", "l"])[1..].trim_end().parse().unwrap_or(0);
            let index = fastrand::i64(-(len as i64)..len as i64 + 1).to_string();
            let words: Vec<String> = match fastrand::u8(..8) {
                0..=3 => {
                    let side = if fastrand::bool() { "before" } else { "after" };
                    ["linsert", "l", side]
                        .map(String::from)
                        .into_iter()
                        .chain([item(), item()])
                        .collect()
                }
                4 | 5 => vec!["lset".into(), "l".into(), index, item()],
                6 => vec![
                    "lrem".into(),
                    "l".into(),
                    fastrand::i8(-2..3).to_string(),
                    item(),
                ],
                _ => vec!["rpush".into(), "l".into(), item()],
            };
            let args: Vec<&str> = words.iter().map(String::as_str).collect();
            assert_eq!(
                a.cmd(&args),
                b.cmd(&args),
                "fill {fill}, step {step}: {args:?}"
            );
            assert_eq!(
                quicklist(&mut a, "l"),
                quicklist(&mut b, "l"),
                "fill {fill}, step {step}: {args:?}"
            );
        }
        assert_eq!(a.cmd(&["debug", "digest"]), b.cmd(&["debug", "digest"]));
    }
}
