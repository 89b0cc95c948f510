//! The random commands pick uniformly: a chi-square test over 10 elements like Redis's suite uses ("SRANDMEMBER
//! histogram distribution"): with 9 degrees of freedom, a statistic of 40 or more has probability 0.00001.
mod common;

use std::collections::HashMap;

use common::{bulks, Client, Server};

const MEMBERS: [&str; 10] = [
    "1",
    "5",
    "10",
    "50",
    "125",
    "MARY",
    "PATRICIA",
    "LINDA",
    "BARBARA",
    "ELIZABETH",
];
const INTS: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// Redis's `chi_square_value`: the sum over distinct values of (count - mean)^2 / mean.
fn chi_square(picks: &[String]) -> f64 {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for p in picks {
        *counts.entry(p).or_default() += 1;
    }
    let mean = (picks.len() / counts.len()) as f64;
    counts
        .values()
        .map(|&c| (c as f64 - mean).powi(2) / mean)
        .sum()
}

fn assert_uniform(what: &str, picks: &[String], distinct: usize) {
    let found: std::collections::HashSet<&String> = picks.iter().collect();
    assert_eq!(found.len(), distinct, "{what}: {found:?}");
    let x2 = chi_square(picks);
    assert!(x2 < 40.0, "{what}: chi-square {x2}");
}

/// `cmd` run `times` times, every reply's elements together.
fn repeated(c: &mut Client, cmd: &[&str], times: usize) -> Vec<String> {
    (0..times).flat_map(|_| bulks(&c.cmd(cmd))).collect()
}

fn fill_set(c: &mut Client, members: &[&str]) {
    c.cmd(&["del", "myset"]);
    let mut args = vec!["sadd", "myset"];
    args.extend_from_slice(members);
    assert_eq!(c.cmd(&args), ":10\r\n");
}

#[test]
fn srandmember_is_uniform_for_hashtable_and_intset() {
    let srv = Server::start();
    let mut c = srv.client();
    for members in [&MEMBERS, &INTS] {
        fill_set(&mut c, members);
        assert_uniform(
            "SRANDMEMBER -1000",
            &repeated(&mut c, &["srandmember", "myset", "-1000"], 1),
            10,
        );
        assert_uniform(
            "SRANDMEMBER",
            &repeated(&mut c, &["srandmember", "myset"], 1000),
            10,
        );
        for size in ["8", "2"] {
            let times = 1000 / size.parse::<usize>().unwrap_or(1);
            let picks = repeated(&mut c, &["srandmember", "myset", size], times);
            assert_uniform("SRANDMEMBER count", &picks, 10);
        }
    }
}

#[test]
fn spop_is_uniform_with_and_without_count() {
    let srv = Server::start();
    let mut c = srv.client();
    for members in [&MEMBERS, &INTS] {
        for count in [None, Some("2")] {
            let mut picks = Vec::new();
            for _ in 0..500 {
                fill_set(&mut c, members);
                let mut cmd = vec!["spop", "myset"];
                cmd.extend(count);
                picks.extend(bulks(&c.cmd(&cmd)));
            }
            assert_uniform("SPOP", &picks, 10);
        }
    }
}

#[test]
fn hrandfield_is_uniform_for_listpack_and_hashtable() {
    let srv = Server::start();
    let mut c = srv.client();
    for entries in ["128", "0"] {
        c.cmd(&["config", "set", "hash-max-listpack-entries", entries]);
        c.cmd(&["del", "myhash"]);
        for m in MEMBERS {
            c.cmd(&["hset", "myhash", m, "v"]);
        }
        let fields: Vec<String> = repeated(&mut c, &["hrandfield", "myhash", "-1000"], 1);
        assert_uniform("HRANDFIELD -1000", &fields, 10);
        assert_uniform(
            "HRANDFIELD",
            &repeated(&mut c, &["hrandfield", "myhash"], 1000),
            10,
        );
        let picks = repeated(&mut c, &["hrandfield", "myhash", "2"], 500);
        assert_uniform("HRANDFIELD 2", &picks, 10);
    }
}

#[test]
fn zrandmember_is_uniform() {
    let srv = Server::start();
    let mut c = srv.client();
    for entries in ["128", "0"] {
        c.cmd(&["config", "set", "zset-max-listpack-entries", entries]);
        c.cmd(&["del", "myzset"]);
        for (i, m) in MEMBERS.iter().enumerate() {
            c.cmd(&["zadd", "myzset", &i.to_string(), m]);
        }
        let picks = repeated(&mut c, &["zrandmember", "myzset", "-1000"], 1);
        assert_uniform("ZRANDMEMBER -1000", &picks, 10);
        assert_uniform(
            "ZRANDMEMBER",
            &repeated(&mut c, &["zrandmember", "myzset"], 1000),
            10,
        );
        let picks = repeated(&mut c, &["zrandmember", "myzset", "2"], 500);
        assert_uniform("ZRANDMEMBER 2", &picks, 10);
    }
}

#[test]
fn randomkey_is_uniform() {
    let srv = Server::start();
    let mut c = srv.client();
    for m in MEMBERS {
        c.cmd(&["set", m, "v"]);
    }
    assert_uniform("RANDOMKEY", &repeated(&mut c, &["randomkey"], 1000), 10);
}
