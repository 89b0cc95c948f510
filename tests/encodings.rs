//! The encoding thresholds at run time (`hash-max-listpack-*`, `set-max-intset-entries`, `zset-max-listpack-*`
//! and their `*-ziplist-*` aliases): CONFIG SET changes which writes convert a key, one way, and OBJECT ENCODING
//! reports what redis-server 7.0 reports. Every script runs against redis-server byte for byte, and the encodings
//! ferredis reports are also checked against the expected list, so a script that converts nothing cannot pass.

mod common;

use common::{assert_same_as_redis, Client, Server};

fn words<'a>(script: &[&'a str]) -> Vec<Vec<&'a str>> {
    script
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect()
}

/// Runs `script` (whitespace-separated commands) on ferredis and redis-server and compares every reply; then
/// asserts the OBJECT ENCODING answers of ferredis, in order, are `want`.
fn check(script: &[&str], want: &[&str]) {
    let cmds = words(script);
    let refs: Vec<&[&str]> = cmds.iter().map(Vec::as_slice).collect();
    assert_same_as_redis(&refs);
    let ours = Server::start();
    assert_eq!(encodings(&mut ours.client(), &cmds), want);
}

/// The OBJECT ENCODING answers (as plain text) while `cmds` run.
fn encodings(c: &mut Client, cmds: &[Vec<&str>]) -> Vec<String> {
    let mut out = Vec::new();
    for cmd in cmds {
        let reply = c.cmd(cmd);
        if cmd[0].eq_ignore_ascii_case("OBJECT") {
            out.push(reply.lines().last().unwrap_or_default().to_string());
        }
    }
    out
}

#[test]
fn hash_entries_threshold_converts_on_the_next_write() {
    check(
        &[
            "CONFIG SET hash-max-listpack-entries 2",
            "HSET h a 1 b 2",
            "OBJECT ENCODING h",
            "HGETALL h",
            "HSET h c 3",
            "OBJECT ENCODING h",
            "HDEL h c b",
            "OBJECT ENCODING h",
            "HSET big a 1 b 2 c 3",
            "OBJECT ENCODING big",
            "HMSET big2 a 1 b 2 c 3",
            "OBJECT ENCODING big2",
            // Raised then lowered: the key stays a listpack until a write, even an update, finds it too big.
            "CONFIG SET hash-max-listpack-entries 512",
            "HSET k a 1 b 2 c 3",
            "HSET u a 1 b 2 c 3",
            "HSET i a 1 b 2 c 3",
            "HSET n a 1 b 2 c 3",
            "CONFIG SET hash-max-listpack-entries 2",
            "OBJECT ENCODING k",
            "HGETALL k",
            "HSETNX k a 9",
            "OBJECT ENCODING k",
            "HSET u a 9",
            "OBJECT ENCODING u",
            "HINCRBY i a 1",
            "OBJECT ENCODING i",
            "HDEL n a",
            "HINCRBYFLOAT n b 1.5",
            "OBJECT ENCODING n",
            "HSETNX k d 4",
            "OBJECT ENCODING k",
            // Raising it again converts nothing back.
            "CONFIG SET hash-max-listpack-entries 512",
            "HDEL u a b",
            "HSET u x 1",
            "OBJECT ENCODING u",
            "CONFIG SET hash-max-listpack-entries 0",
            "HSET zero a 1",
            "OBJECT ENCODING zero",
            "HLEN zero",
        ],
        &[
            "listpack",
            "hashtable",
            "hashtable",
            "hashtable",
            "hashtable",
            "listpack",
            "listpack",
            "hashtable",
            "hashtable",
            "listpack",
            "hashtable",
            "hashtable",
            "hashtable",
        ],
    );
}

#[test]
fn hash_value_threshold_checks_fields_and_values() {
    check(
        &[
            "CONFIG SET hash-max-listpack-value 4",
            "HSET v a 1234",
            "OBJECT ENCODING v",
            "HSET v b 12345",
            "OBJECT ENCODING v",
            "HSET f 12345 x",
            "OBJECT ENCODING f",
            "HSET m a 1 b 2 c 12345",
            "OBJECT ENCODING m",
            "HSET up a 1",
            "HSET up a 12345",
            "OBJECT ENCODING up",
            // HSETNX on a field already there writes nothing, so converts nothing.
            "HSET nx a 1",
            "HSETNX nx a 12345",
            "OBJECT ENCODING nx",
            "HSETNX nx b 12345",
            "OBJECT ENCODING nx",
            "HSET incr a 9999",
            "HINCRBY incr a 1",
            "OBJECT ENCODING incr",
            "HINCRBY incr2 abcde 1",
            "OBJECT ENCODING incr2",
            "HSET fl a 1",
            "HINCRBYFLOAT fl a 0.5",
            "OBJECT ENCODING fl",
            "HINCRBYFLOAT fl a 0.25",
            "OBJECT ENCODING fl",
            "HGET fl a",
            "CONFIG SET hash-max-listpack-value 0",
            "HSET empty a 1",
            "OBJECT ENCODING empty",
        ],
        &[
            "listpack",
            "hashtable",
            "hashtable",
            "hashtable",
            "hashtable",
            "listpack",
            "hashtable",
            "hashtable",
            "hashtable",
            "listpack",
            "listpack",
            "hashtable",
        ],
    );
}

#[test]
fn ziplist_aliases_set_the_same_parameters() {
    check(
        &[
            "CONFIG SET hash-max-ziplist-entries 1",
            "CONFIG GET hash-max-listpack-entries",
            "HSET h a 1 b 2",
            "OBJECT ENCODING h",
            "CONFIG SET hash-max-ziplist-value 2",
            "CONFIG SET hash-max-listpack-entries 512",
            "HSET v a 123",
            "OBJECT ENCODING v",
            "CONFIG SET zset-max-ziplist-entries 1",
            "CONFIG GET zset-max-listpack-entries",
            "ZADD z 1 a 2 b",
            "OBJECT ENCODING z",
            "CONFIG SET zset-max-ziplist-value 2",
            "CONFIG SET zset-max-listpack-entries 128",
            "ZADD w 1 abc",
            "OBJECT ENCODING w",
            "ZADD y 1 ab",
            "OBJECT ENCODING y",
            "CONFIG GET zset-max-ziplist-value",
        ],
        &["hashtable", "hashtable", "skiplist", "skiplist", "listpack"],
    );
}

#[test]
fn set_intset_entries_threshold() {
    check(
        &[
            "CONFIG SET set-max-intset-entries 3",
            "SADD s 3 1 2",
            "OBJECT ENCODING s",
            "SMEMBERS s",
            "SADD s 4",
            "OBJECT ENCODING s",
            "SREM s 4 3",
            "OBJECT ENCODING s",
            "SADD new 1 2 3 4",
            "OBJECT ENCODING new",
            // Lowered under an existing intset: only an addition converts it, not a member already there.
            "CONFIG SET set-max-intset-entries 512",
            "SADD low 1 2 3 4 5",
            "CONFIG SET set-max-intset-entries 3",
            "SADD low 1",
            "OBJECT ENCODING low",
            "SREM low 1",
            "OBJECT ENCODING low",
            "SMEMBERS low",
            "SADD low 9",
            "OBJECT ENCODING low",
            "CONFIG SET set-max-intset-entries 0",
            "SADD zero 1",
            "OBJECT ENCODING zero",
            "SMOVE s moved 1",
            "OBJECT ENCODING moved",
            "CONFIG SET set-max-intset-entries 512",
            "SADD str a",
            "OBJECT ENCODING str",
        ],
        &[
            "intset",
            "hashtable",
            "hashtable",
            "hashtable",
            "intset",
            "intset",
            "hashtable",
            "hashtable",
            "hashtable",
            "hashtable",
        ],
    );
}

#[test]
fn set_results_are_built_under_the_limit_in_force() {
    check(
        &[
            "SADD a 1 2 3 4 5",
            "SADD b 4 5 6",
            "CONFIG SET set-max-intset-entries 3",
            "OBJECT ENCODING a",
            "SUNIONSTORE u a b",
            "OBJECT ENCODING u",
            "SINTERSTORE i a b",
            "OBJECT ENCODING i",
            "SMEMBERS i",
            "SINTERSTORE i2 a a",
            "OBJECT ENCODING i2",
            "SDIFFSTORE d a b",
            "OBJECT ENCODING d",
            "SMEMBERS d",
            "SDIFFSTORE d2 b",
            "OBJECT ENCODING d2",
            "CONFIG SET set-max-intset-entries 2",
            "SDIFFSTORE d3 b",
            "OBJECT ENCODING d3",
            "SCARD d3",
        ],
        &[
            "intset",
            "hashtable",
            "intset",
            "hashtable",
            "intset",
            "intset",
            "hashtable",
        ],
    );
}

/// SPOP's answer is random, so this one compares everything else by hand. A count leaving more than a fifth of
/// what it pops keeps the encoding (an intset even past a lowered limit); one leaving fewer moves them to a fresh
/// set, so a hashtable of integers becomes an intset again if they fit.
#[test]
fn spop_reencodes_only_the_few_members_it_moves() {
    let script = words(&[
        "SADD ints 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
        "SADD mixed a 1 2 3 4 5 6 7 8 9",
        "SADD two a 1 2 3 4 5 6 7 8 9",
        "SADD str a b c d e f g h i",
        "CONFIG SET set-max-intset-entries 3",
        "SPOP ints 16",
        "SCARD ints",
        "OBJECT ENCODING ints",
        "SREM mixed a",
        "SREM two a",
        "SPOP mixed 7",
        "OBJECT ENCODING mixed",
        "SPOP mixed 1",
        "SCARD mixed",
        "OBJECT ENCODING mixed",
        "SPOP two 8",
        "SCARD two",
        "OBJECT ENCODING two",
        "SPOP str 8",
        "OBJECT ENCODING str",
        "CONFIG SET set-max-intset-entries 0",
        "SADD zero 1 2 3 4 5 6",
        "SPOP zero 5",
        "OBJECT ENCODING zero",
    ]);
    let ours = Server::start();
    let got = encodings(&mut ours.client(), &script);
    let want = [
        "intset",
        "hashtable",
        "hashtable",
        "intset",
        "hashtable",
        "hashtable",
    ];
    assert_eq!(got, want);
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let fresh = Server::start();
    let (mut a, mut b) = (fresh.client(), redis.client());
    for cmd in &script {
        let (x, y) = (a.cmd(cmd), b.cmd(cmd));
        if cmd[0] != "SPOP" {
            assert_eq!(x, y, "reply to {cmd:?} differs from redis-server");
        }
    }
}

#[test]
fn zset_entries_threshold() {
    check(
        &[
            "CONFIG SET zset-max-listpack-entries 2",
            "ZADD z 1 a 2 b",
            "OBJECT ENCODING z",
            "ZADD z 3 c",
            "OBJECT ENCODING z",
            "ZREM z c b",
            "OBJECT ENCODING z",
            "ZADD new 1 a 2 b 3 c",
            "OBJECT ENCODING new",
            "ZINCRBY inc 1 a",
            "OBJECT ENCODING inc",
            // Lowered under an existing listpack: updates never convert, a new member does.
            "CONFIG SET zset-max-listpack-entries 128",
            "ZADD low 1 a 2 b 3 c",
            "CONFIG SET zset-max-listpack-entries 2",
            "ZADD low 5 a",
            "ZINCRBY low 1 b",
            "ZADD low XX 7 c",
            "OBJECT ENCODING low",
            "ZRANGE low 0 -1 WITHSCORES",
            "ZADD low NX 1 d",
            "OBJECT ENCODING low",
            "CONFIG SET zset-max-listpack-entries 128",
            "ZREM low a b c",
            "ZADD low 1 e",
            "OBJECT ENCODING low",
            "CONFIG SET zset-max-listpack-entries 0",
            "ZADD zero 1 a",
            "OBJECT ENCODING zero",
            "ZADD zero2 XX 1 a",
            "EXISTS zero2",
        ],
        &[
            "listpack", "skiplist", "skiplist", "skiplist", "listpack", "listpack", "skiplist",
            "skiplist", "skiplist",
        ],
    );
}

#[test]
fn zset_value_threshold() {
    check(
        &[
            "CONFIG SET zset-max-listpack-value 3",
            "ZADD v 1 abc",
            "OBJECT ENCODING v",
            "ZADD v 2 abcd",
            "OBJECT ENCODING v",
            "ZADD first 1 abcd 2 a",
            "OBJECT ENCODING first",
            "ZADD second 1 a 2 abcd",
            "OBJECT ENCODING second",
            "ZINCRBY inc 1 abcd",
            "OBJECT ENCODING inc",
            // A long member already there, added under a higher limit, converts nothing when updated.
            "CONFIG SET zset-max-listpack-value 64",
            "ZADD up 1 abcdef",
            "CONFIG SET zset-max-listpack-value 3",
            "ZADD up 2 abcdef",
            "ZINCRBY up 1 abcdef",
            "OBJECT ENCODING up",
            "ZADD up 1 b",
            "OBJECT ENCODING up",
        ],
        &[
            "listpack", "skiplist", "skiplist", "skiplist", "skiplist", "listpack", "listpack",
        ],
    );
}

#[test]
fn zset_store_results_follow_redis_builders() {
    check(
        &[
            "ZADD src 1 a 2 b 3 c",
            "ZADD long 1 a 2 abcdef",
            "CONFIG SET zset-max-listpack-entries 2",
            "OBJECT ENCODING src",
            "ZUNIONSTORE u 1 src",
            "OBJECT ENCODING u",
            "ZINTERSTORE i 2 src src",
            "OBJECT ENCODING i",
            "ZDIFFSTORE d 1 src",
            "OBJECT ENCODING d",
            "ZRANGESTORE r src 0 -1",
            "OBJECT ENCODING r",
            "ZRANGESTORE r2 src 0 1",
            "OBJECT ENCODING r2",
            "ZRANGESTORE r3 src -inf +inf BYSCORE LIMIT 0 2",
            "OBJECT ENCODING r3",
            "ZRANGESTORE r4 src (a + BYLEX",
            "OBJECT ENCODING r4",
            // A skiplist result that fits is stored as a listpack.
            "ZUNIONSTORE u2 1 u WEIGHTS 2",
            "ZREM u a",
            "ZUNIONSTORE u3 1 u",
            "OBJECT ENCODING u3",
            "CONFIG SET zset-max-listpack-value 3",
            "ZUNIONSTORE l 1 long",
            "OBJECT ENCODING l",
            "ZRANGESTORE l2 long 0 0",
            "OBJECT ENCODING l2",
            "ZRANGESTORE l3 long 0 -1",
            "OBJECT ENCODING l3",
            "ZRANGE l3 0 -1 WITHSCORES",
        ],
        &[
            "listpack", "skiplist", "skiplist", "skiplist", "skiplist", "listpack", "listpack",
            "listpack", "listpack", "skiplist", "listpack", "skiplist",
        ],
    );
}

/// -0 keeps its sign in a skiplist only: a ZRANGESTORE by score starts as a listpack and converts when the
/// limit is passed, so the members added before lose the sign; a rank range longer than the limit starts as a
/// skiplist; ZUNIONSTORE builds a skiplist and keeps it when the result does not fit.
#[test]
fn negative_zero_follows_the_encoding_while_a_result_is_built() {
    check(
        &[
            "CONFIG SET zset-max-listpack-entries 0",
            "ZADD neg -0 a -0 b -0 c",
            "ZSCORE neg a",
            "CONFIG SET zset-max-listpack-entries 2",
            "ZRANGESTORE byscore neg -inf +inf BYSCORE",
            "ZSCORE byscore a",
            "ZSCORE byscore c",
            "OBJECT ENCODING byscore",
            "ZRANGESTORE byrank neg 0 -1",
            "ZSCORE byrank a",
            "ZUNIONSTORE union 1 neg",
            "ZSCORE union a",
            "OBJECT ENCODING union",
            "ZRANGESTORE small neg 0 1",
            "ZSCORE small a",
            "OBJECT ENCODING small",
        ],
        &["skiplist", "skiplist", "listpack"],
    );
}

/// COPY duplicates the encoding as it is, even past limits lowered since.
#[test]
fn copy_keeps_the_encoding() {
    check(
        &[
            "HSET h a 1 b 2 c 3",
            "SADD s 1 2 3",
            "ZADD z 1 a 2 b 3 c",
            "CONFIG SET hash-max-listpack-entries 1",
            "CONFIG SET set-max-intset-entries 1",
            "CONFIG SET zset-max-listpack-entries 1",
            "COPY h h2",
            "COPY s s2",
            "COPY z z2",
            "OBJECT ENCODING h2",
            "OBJECT ENCODING s2",
            "OBJECT ENCODING z2",
            "HSET h2 a 9",
            "OBJECT ENCODING h2",
            "COPY h2 h3",
            "OBJECT ENCODING h3",
        ],
        &["listpack", "intset", "listpack", "hashtable", "hashtable"],
    );
}

/// The value thresholds take memory units, as in Redis; bad values and 7.2's listpack-set parameters are refused
/// with Redis 7.0's errors, leaving the limit in force unchanged.
#[test]
fn threshold_values_units_and_errors() {
    let (fits, over) = ("x".repeat(1024), "x".repeat(1025));
    let (hset_fits, hset_over) = (format!("HSET h a {fits}"), format!("HSET h b {over}"));
    // `k` is 1000 bytes, `kb` 1024, as Redis's memtoull reads them.
    let (zadd_fits, zadd_over) = (
        format!("ZADD z 1 {}", &fits[24..]),
        format!("ZADD z 1 {}", &fits[23..]),
    );
    check(
        &[
            "CONFIG SET hash-max-listpack-value 1kb",
            "CONFIG GET hash-max-listpack-value",
            &hset_fits,
            "OBJECT ENCODING h",
            &hset_over,
            "OBJECT ENCODING h",
            "CONFIG SET zset-max-ziplist-value 1k",
            &zadd_fits,
            "OBJECT ENCODING z",
            &zadd_over,
            "OBJECT ENCODING z",
            "CONFIG SET hash-max-listpack-entries -1",
            "CONFIG SET set-max-intset-entries abc",
            "CONFIG SET zset-max-listpack-value 1zb",
            "CONFIG SET set-max-listpack-entries 1",
            "CONFIG SET set-max-listpack-value 1",
            "CONFIG GET set-max-listpack-*",
            "SADD s 1 2 3",
            "OBJECT ENCODING s",
        ],
        &["listpack", "hashtable", "listpack", "skiplist", "intset"],
    );
}
