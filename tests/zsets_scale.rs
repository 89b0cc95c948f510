//! Sorted sets at scale: ranks and ranges checked against a sorted-Vec model over 10,000 random operations,
//! O(log n) rank queries on a million members, and ZSCAN's cursor over a big set.

mod common;

use common::{Client, Server};

/// A 2,000-member set: ZSCAN walks the member dict with a cursor and returns each member present throughout at
/// least once, though the set grows to 6,000 and shrinks back mid-scan.
#[test]
fn zscan_on_a_big_set_covers_every_member() {
    let s = Server::start();
    let mut c = s.client();
    let mut batch = Vec::new();
    for i in 0..2000 {
        batch.extend(Client::encode(&[
            b"ZADD",
            b"z",
            i.to_string().as_bytes(),
            format!("m{i}").as_bytes(),
        ]));
    }
    c.send_raw(&batch);
    for _ in 0..2000 {
        c.read_reply();
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let r = c.cmd(&["ZSCAN", "z", &cursor, "COUNT", "100"]);
        calls += 1;
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        let items: Vec<&str> = lines[4..]
            .iter()
            .copied()
            .filter(|l| !l.starts_with('$') && !l.is_empty())
            .collect();
        for pair in items.chunks(2) {
            assert_eq!(pair[0][1..], *pair[1], "score of {}", pair[0]);
            seen.insert(pair[0].to_string());
        }
        // Growth and shrinkage mid-scan (rehashing the member dict) must not hide a member present throughout.
        if calls == 3 {
            let more: Vec<String> = (2000..6000)
                .flat_map(|i| [i.to_string(), format!("m{i}")])
                .collect();
            let mut args = vec!["ZADD", "z"];
            args.extend(more.iter().map(|s| s.as_str()));
            assert_eq!(c.cmd(&args), ":4000\r\n");
        }
        if calls == 6 {
            assert_eq!(
                c.cmd(&["ZREMRANGEBYSCORE", "z", "2000", "+inf"]),
                ":4000\r\n"
            );
        }
        if cursor == "0" {
            break;
        }
    }
    assert!(
        (0..2000).all(|i| seen.contains(&format!("m{i}"))),
        "a member present throughout was missed"
    );
    assert!(calls > 5, "a big set is scanned in steps");
}

/// Ranks and ranges over 10,000 random writes and reads, checked against a Vec sorted by (score, member).
#[test]
fn random_operations_match_a_sorted_vec_model() {
    let s = Server::start();
    let mut c = s.client();
    fastrand::seed(42);
    let mut model: Vec<(i64, String)> = Vec::new();
    let bulk = |v: &str| format!("${}\r\n{v}\r\n", v.len());
    let array = |items: Vec<String>| format!("*{}\r\n{}", items.len(), items.concat());
    for _ in 0..10_000 {
        let member = format!("m{}", fastrand::u32(..200));
        let score = fastrand::i64(-50..50);
        let pos = model.iter().position(|(_, m)| *m == member);
        let (cmd, want): (Vec<String>, String) = match fastrand::u8(..8) {
            0 | 1 => {
                if let Some(i) = pos {
                    model.remove(i);
                }
                model.push((score, member.clone()));
                (
                    vec!["ZADD".into(), "z".into(), score.to_string(), member],
                    format!(":{}\r\n", pos.is_none() as i32),
                )
            }
            2 => {
                if let Some(i) = pos {
                    model.remove(i);
                }
                (
                    vec!["ZREM".into(), "z".into(), member],
                    format!(":{}\r\n", pos.is_some() as i32),
                )
            }
            3 => {
                let rank = pos.map(|_| {
                    model.sort();
                    model.iter().position(|(_, m)| *m == member).unwrap_or(0)
                });
                let want = rank.map_or("$-1\r\n".to_string(), |r| format!(":{r}\r\n"));
                (vec!["ZRANK".into(), "z".into(), member], want)
            }
            4 => {
                model.sort();
                let len = model.len() as i64;
                let (a, b) = (
                    fastrand::i64(-len - 5..len + 5),
                    fastrand::i64(-len - 5..len + 5),
                );
                let start = if a < 0 { (len + a).max(0) } else { a };
                let end = if b < 0 { len + b } else { b.min(len - 1) };
                let items = if start > end || start >= len {
                    vec![]
                } else {
                    model[start as usize..=end as usize]
                        .iter()
                        .map(|(_, m)| bulk(m))
                        .collect()
                };
                (
                    vec!["ZRANGE".into(), "z".into(), a.to_string(), b.to_string()],
                    array(items),
                )
            }
            5 => {
                model.sort();
                let (lo, hi) = (fastrand::i64(-60..60), fastrand::i64(-60..60));
                let (off, lim) = (fastrand::i64(0..5), fastrand::i64(-1..10));
                let inside: Vec<&(i64, String)> =
                    model.iter().filter(|(s, _)| *s > lo && *s <= hi).collect();
                let items: Vec<String> = inside
                    .iter()
                    .skip(off as usize)
                    .take(if lim < 0 { usize::MAX } else { lim as usize })
                    .flat_map(|(s, m)| [bulk(m), bulk(&s.to_string())])
                    .collect();
                let cmd = [
                    "ZRANGEBYSCORE",
                    "z",
                    &format!("({lo}"),
                    &hi.to_string(),
                    "WITHSCORES",
                    "LIMIT",
                    &off.to_string(),
                    &lim.to_string(),
                ];
                (cmd.iter().map(|s| s.to_string()).collect(), array(items))
            }
            6 => {
                let (lo, hi) = (fastrand::i64(-60..60), fastrand::i64(-60..60));
                let n = model.iter().filter(|(s, _)| *s >= lo && *s < hi).count();
                (
                    vec![
                        "ZCOUNT".into(),
                        "z".into(),
                        lo.to_string(),
                        format!("({hi}"),
                    ],
                    format!(":{n}\r\n"),
                )
            }
            _ => {
                model.sort();
                let rank = pos.map(|_| {
                    model.len() - 1 - model.iter().position(|(_, m)| *m == member).unwrap_or(0)
                });
                let want = rank.map_or("$-1\r\n".to_string(), |r| format!(":{r}\r\n"));
                (vec!["ZREVRANK".into(), "z".into(), member], want)
            }
        };
        let args: Vec<&str> = cmd.iter().map(|s| s.as_str()).collect();
        assert_eq!(c.cmd(&args), want, "{args:?}");
    }
    assert_eq!(c.cmd(&["ZCARD", "z"]), format!(":{}\r\n", model.len()));
}

/// Rank queries on a 1,000,000-member set are O(log n): a thousand ZRANK / ZRANGE calls finish quickly even in
/// a debug build.
#[test]
fn rank_queries_on_a_million_members_are_logarithmic() {
    let s = Server::start();
    let mut c = s.client();
    let mut batch = Vec::new();
    for chunk in 0..1000 {
        let mut args: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), b"big".to_vec()];
        for i in chunk * 1000..(chunk + 1) * 1000 {
            args.push(i.to_string().into_bytes());
            args.push(format!("m{i}").into_bytes());
        }
        let refs: Vec<&[u8]> = args.iter().map(|a| a.as_slice()).collect();
        batch.extend(Client::encode(&refs));
    }
    c.send_raw(&batch);
    for _ in 0..1000 {
        assert_eq!(c.read_reply(), ":1000\r\n");
    }
    let start = std::time::Instant::now();
    for i in (0..1_000_000).step_by(1000) {
        assert_eq!(
            c.cmd(&["ZRANK", "big", &format!("m{i}")]),
            format!(":{i}\r\n")
        );
        let r = c.cmd(&["ZRANGE", "big", &i.to_string(), &i.to_string()]);
        assert_eq!(r, format!("*1\r\n${}\r\nm{i}\r\n", format!("m{i}").len()));
    }
    assert!(
        start.elapsed() < std::time::Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}
