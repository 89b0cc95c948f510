//! Sets: every command against redis-server byte for byte (intsets answer in numeric order, as in Redis), the
//! error paths, the random commands' contracts and SSCAN's cursor over a hashtable.

mod collections;
mod common;

use collections::{same, same_events, same_resp3};
use common::{Client, Server};

#[test]
fn membership_commands() {
    same(&[
        "SADD s 3 1 2 2",
        "SADD s 1 4",
        "SMEMBERS s",
        "SCARD s",
        "SISMEMBER s 1",
        "SISMEMBER s 9",
        "SISMEMBER nope 9",
        "SMISMEMBER s 1 9 4",
        "SMISMEMBER nope 1",
        "SREM s 1 9",
        "SREM nope 1",
        "SMEMBERS s",
        "SMEMBERS nope",
        "SCARD nope",
        "SREM s 2 3 4",
        "EXISTS s",
        "SADD s",
        "SREM s",
        "SISMEMBER s",
        "SMISMEMBER s",
        "SET str x",
        "SADD str a",
        "SREM str a",
        "SMEMBERS str",
        "SISMEMBER str a",
        "SMISMEMBER str a",
        "SCARD str",
        "SADD n -5 10 -9223372036854775808 9223372036854775807 0",
        "SMEMBERS n",
    ]);
}

#[test]
fn smove_and_pops() {
    same(&[
        "SADD a 1 2 3",
        "SADD b 3",
        "SMOVE a b 1",
        "SMOVE a b 3",
        "SMOVE a b 9",
        "SMOVE a a 2",
        "SMOVE a a 9",
        "SMOVE nope b 1",
        "SMOVE a c 2",
        "EXISTS a",
        "SMEMBERS b",
        "SMEMBERS c",
        "SET str x",
        "SMOVE str b 1",
        "SMOVE b str 1",
        "SMOVE nope str 1",
        "SADD p 5 3 1",
        "SPOP p 0",
        "SPOP p 3",
        "EXISTS p",
        "SPOP p",
        "SPOP p 3",
        "SPOP p -1",
        "SPOP p x",
        "SPOP p 1 2",
        "SPOP str",
        "SPOP str 0",
        "SADD q 1 2",
        "SRANDMEMBER q 5",
        "SRANDMEMBER q 0",
        "SRANDMEMBER nope",
        "SRANDMEMBER nope 3",
        "SRANDMEMBER q x",
        "SRANDMEMBER q 1 2",
        "SRANDMEMBER q -9223372036854775808",
        "SRANDMEMBER str",
    ]);
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&["SADD", "s", "a", "b", "c", "d", "e"]);
    for _ in 0..20 {
        let r = c.cmd(&["SRANDMEMBER", "s", "3"]);
        let items: Vec<&str> = r
            .split("\r\n")
            .skip(2)
            .step_by(2)
            .filter(|l| !l.is_empty())
            .collect();
        let mut dedup = items.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(items.len(), 3, "{r}");
        assert_eq!(dedup.len(), 3, "distinct for a positive count: {r}");
        let r = c.cmd(&["SRANDMEMBER", "s", "-20"]);
        assert!(r.starts_with("*20\r\n"), "{r}");
    }
    let r = c.cmd(&["SPOP", "s", "2"]);
    assert!(r.starts_with("*2\r\n"), "{r}");
    assert_eq!(c.cmd(&["SCARD", "s"]), ":3\r\n");
    let one = c.cmd(&["SPOP", "s"]);
    assert!(one.starts_with("$1\r\n"));
    assert_eq!(c.cmd(&["SISMEMBER", "s", &one[4..5]]), ":0\r\n");
}

#[test]
fn algebra() {
    same(&[
        "SADD a 1 2 3 4",
        "SADD b 3 4 5",
        "SADD c 4 x",
        "SINTER a b",
        "SINTER a b c",
        "SINTER a nope",
        "SINTER a a",
        "SUNION a b",
        "SUNION a b nope",
        "SDIFF a b",
        "SDIFF a b c",
        "SDIFF a a",
        "SDIFF nope a",
        "SINTERCARD 2 a b",
        "SINTERCARD 2 a b LIMIT 1",
        "SINTERCARD 2 a b LIMIT 0",
        "SINTERCARD 2 a nope",
        "SINTERCARD 0 a",
        "SINTERCARD x a",
        "SINTERCARD 3 a b",
        "SINTERCARD 1 a LIMIT -1",
        "SINTERCARD 1 a LIMIT x",
        "SINTERCARD 1 a LIMIT",
        "SINTERCARD 1 a FOO",
        "SINTERSTORE d a b",
        "SMEMBERS d",
        "SUNIONSTORE d a b",
        "SMEMBERS d",
        "SDIFFSTORE d a b",
        "SMEMBERS d",
        "SINTERSTORE d a nope",
        "EXISTS d",
        "SADD d 1",
        "SDIFFSTORE d a a",
        "EXISTS d",
        "SET str x",
        "SINTER a str",
        "SINTER nope str",
        "SUNION a str",
        "SDIFF str a",
        "SINTERCARD 2 a str",
        "SUNIONSTORE str a",
        "SMEMBERS str",
        "SINTERSTORE d str",
        "SINTER",
        "SINTERSTORE d",
    ]);
}

#[test]
fn sscan_small_and_errors() {
    same(&[
        "SADD s 3 1 2",
        "SSCAN s 0",
        "SSCAN s 0 MATCH 1* COUNT 1",
        "SSCAN s 0 COUNT 0",
        "SSCAN s 0 COUNT",
        "SSCAN s 0 MATCH",
        "SSCAN s x",
        "SSCAN s 18446744073709551616",
        "SSCAN nope 0",
        "SADD t a b",
        "SET str x",
        "SSCAN str 0",
    ]);
}

/// A hashtable set scanned while it grows: every member present throughout is returned.
#[test]
fn sscan_covers_members_across_growth() {
    let s = Server::start();
    let mut c = s.client();
    let mut batch = Vec::new();
    for i in 0..1000 {
        batch.extend(Client::encode(&[b"SADD", b"s", format!("m{i}").as_bytes()]));
    }
    c.send_raw(&batch);
    for _ in 0..1000 {
        assert_eq!(c.read_reply(), ":1\r\n");
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut step = 0;
    loop {
        let r = c.cmd(&["SSCAN", "s", &cursor, "COUNT", "20"]);
        let lines: Vec<&str> = r.split("\r\n").collect();
        cursor = lines[2].to_string();
        for m in lines[4..].iter().filter(|l| l.starts_with('m')) {
            seen.insert(m.to_string());
        }
        step += 1;
        if step == 5 {
            for i in 1000..3000 {
                c.cmd(&["SADD", "s", &format!("n{i}")]);
            }
        }
        if cursor == "0" {
            break;
        }
    }
    for i in 0..1000 {
        assert!(seen.contains(&format!("m{i}")), "m{i} missed");
    }
}

#[test]
fn intset_becomes_hashtable_past_512_or_on_a_string() {
    let s = Server::start();
    let mut c = s.client();
    let nums: Vec<String> = (0..513).map(|i| i.to_string()).collect();
    let mut args = vec!["SADD", "s"];
    args.extend(nums.iter().take(512).map(|s| s.as_str()));
    assert_eq!(c.cmd(&args), ":512\r\n");
    let r = c.cmd(&["SMEMBERS", "s"]);
    assert!(
        r.starts_with("*512\r\n$1\r\n0\r\n$1\r\n1\r\n$1\r\n2\r\n"),
        "still sorted"
    );
    assert_eq!(c.cmd(&["SADD", "s", "512"]), ":1\r\n");
    assert_eq!(c.cmd(&["SISMEMBER", "s", "512"]), ":1\r\n");
    assert_eq!(c.cmd(&["SCARD", "s"]), ":513\r\n");
}

#[test]
fn keyspace_events() {
    same_events(&[
        "SADD s 1 2 3",
        "SADD s 1",
        "SREM s 9",
        "SREM s 1",
        "SMOVE s t 2",
        "SMOVE s t 9",
        "SMOVE t t 2",
        "SMOVE s t 3",
        "SADD u 1 2",
        "SINTERSTORE d t u",
        "SUNIONSTORE d t u",
        "SDIFFSTORE d t u",
        "SINTERSTORE d t nope",
        "SADD p 1 2",
        "SPOP p",
        "SPOP p 5",
        "SPOP p 1",
    ]);
}

#[test]
fn resp3_replies() {
    same_resp3(&[
        "SADD s 3 1 2",
        "SMEMBERS s",
        "SMEMBERS nope",
        "SINTER s s",
        "SUNION s nope",
        "SDIFF s nope",
        "SMISMEMBER s 1 9",
        "SRANDMEMBER s 5",
        "SRANDMEMBER nope",
        "SPOP s 0",
        "SPOP nope",
        "SPOP nope 2",
        "SPOP s 3",
    ]);
}

#[test]
fn arity_errors() {
    same(&[
        "SADD s",
        "SREM s",
        "SMEMBERS",
        "SISMEMBER s",
        "SMISMEMBER s",
        "SCARD",
        "SPOP",
        "SRANDMEMBER",
        "SMOVE a b",
        "SINTER",
        "SINTERCARD 1",
        "SINTERSTORE d",
        "SUNION",
        "SUNIONSTORE d",
        "SDIFF",
        "SDIFFSTORE d",
        "SSCAN s",
        "SCARD a b",
        "SMEMBERS a b",
    ]);
}

#[test]
fn object_encoding() {
    let ints = (0..513)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let script = [
        "SADD s 1 2".to_string(),
        "OBJECT ENCODING s".into(),
        "SADD s a".into(),
        "OBJECT ENCODING s".into(),
        "SREM s a".into(),
        "OBJECT ENCODING s".into(),
        "SADD t a".into(),
        "OBJECT ENCODING t".into(),
        format!("SADD n {ints}"),
        "OBJECT ENCODING n".into(),
        "SINTERSTORE d n s".into(),
        "OBJECT ENCODING d".into(),
        "SMOVE t e a".into(),
        "OBJECT ENCODING e".into(),
    ];
    let refs: Vec<&str> = script.iter().map(|s| s.as_str()).collect();
    same(&refs);
}

#[test]
fn copy_and_type() {
    same(&[
        "SADD s 1 2 a",
        "SADD i 1 2",
        "COPY s s2",
        "COPY i i2",
        "SREM s a",
        "SADD i 3",
        "SISMEMBER s2 a",
        "SMEMBERS i2",
        "TYPE s2",
        "OBJECT ENCODING i2",
    ]);
}
