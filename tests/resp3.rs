//! RESP3: HELLO in every form and error, switching protocol on one connection, and the RESP3 encoding of each
//! reply kind ferredis produces, compared byte for byte with redis-server where the reply is deterministic.
//! (The encoder's lowering of every kind, push and big number included, is unit-tested in `protocol::encode`.)

mod common;

use common::{Client, Server};

/// Runs `commands` on one fresh connection to each server, in order, and asserts identical replies.
fn assert_same_as_redis_on_one_connection(commands: &[&[&str]]) {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    for cmd in commands {
        let (got, want) = (a.cmd(cmd), b.cmd(cmd));
        assert_eq!(got, want, "reply to {cmd:?} differs from redis-server");
    }
}

/// The HELLO map, RESP3 or RESP2, for client `id`.
fn hello_reply(proto: u8, id: &str) -> String {
    let body = format!(
        "$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:{proto}\r\n\
         $2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n\
         $7\r\nmodules\r\n*0\r\n"
    );
    if proto == 3 {
        format!("%7\r\n{body}")
    } else {
        format!("*14\r\n{body}")
    }
}

fn client_id(c: &mut Client) -> String {
    c.cmd(&["CLIENT", "ID"])
        .trim_start_matches(':')
        .trim_end()
        .to_string()
}

#[test]
fn hello_forms_match_redis() {
    assert_same_as_redis_on_one_connection(&[
        &["HELLO", "3"],
        &["CLIENT", "GETNAME"],
        &["HELLO", "3", "SETNAME", "resp3-conn"],
        &["CLIENT", "GETNAME"],
        &["HELLO"],
        &["HELLO", "3", "AUTH", "default", "whatever", "SETNAME", "x"],
        &["HELLO", "4"],
        &["HELLO", "0"],
        &["HELLO", "-1"],
        &["HELLO", "three"],
        &["HELLO", "3", "SETNAME"],
        &["HELLO", "3", "AUTH", "default"],
        &["HELLO", "3", "AUTH", "nobody", "pw"],
        &["HELLO", "3", "SETNAME", "bad name"],
        &["HELLO", "3", "BOGUS"],
        &["HELLO", "2"],
        &["CLIENT", "GETNAME"],
        &["HELLO", "3"],
        &["RESET"],
        &["GET", "missing"],
        &["HELLO", "3"],
    ]);
}

#[test]
fn hello_switches_the_connection_both_ways() {
    let s = Server::start();
    let mut c = s.client();
    let id = client_id(&mut c);
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
    assert_eq!(c.cmd(&["HELLO", "3"]), hello_reply(3, &id));
    assert_eq!(c.cmd(&["GET", "missing"]), "_\r\n");
    assert!(c.cmd(&["CLIENT", "INFO"]).contains(" resp=3 "));
    let list = c.cmd(&["CLIENT", "LIST"]);
    assert!(list.starts_with('=') && list.contains(" resp=3 "), "{list}");
    // A failed HELLO changes nothing.
    assert_eq!(
        c.cmd(&["HELLO", "2", "SETNAME", "bad name"]),
        "-ERR Client names cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(c.cmd(&["GET", "missing"]), "_\r\n");
    assert_eq!(c.cmd(&["HELLO", "2"]), hello_reply(2, &id));
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
    assert!(c.cmd(&["CLIENT", "INFO"]).contains(" resp=2 "));
    // HELLO without a version keeps the protocol.
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["HELLO"]), hello_reply(3, &id));
    // RESET goes back to RESP2.
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["GET", "missing"]), "$-1\r\n");
}

#[test]
fn each_reply_kind_in_resp3_matches_redis() {
    assert_same_as_redis_on_one_connection(&[
        &["HELLO", "3"],
        // simple string, error, integer, bulk, null
        &["PING"],
        &["SET", "k", "v"],
        &["NOSUCHCOMMAND"],
        &["INCR", "n"],
        &["GET", "k"],
        &["GET", "nokey"],
        &["CLIENT", "GETNAME"],
        &["ECHO", "bin\r\n\0ary"],
        // map
        &["CONFIG", "GET", "maxmemory"],
        &["CONFIG", "GET", "nosuch"],
        // verbatim string
        &["INFO", "keyspace"],
        &["INFO", "nosuchsection"],
        // sets inside arrays; a null entry
        &["COMMAND", "INFO", "get", "echo", "nosuch"],
        &["COMMAND", "GETKEYSANDFLAGS", "GET", "k"],
        // status lines in an array
        &["CONFIG", "HELP"],
        &["COMMAND", "HELP"],
        &["CLIENT", "NO-EVICT", "on"],
        &["SELECT", "99"],
        // nulls inside an array; a map from a data type
        &["MGET", "k", "nokey", "k"],
        &["SET", "k1", "ohmytext"],
        &["SET", "k2", "mynewtext"],
        &["LCS", "k1", "k2", "IDX", "MINMATCHLEN", "2", "WITHMATCHLEN"],
        // push frames; in RESP3 a subscribed client may still run anything
        &["SUBSCRIBE", "news"],
        &["GET", "k"],
        &["PING"],
        &["UNSUBSCRIBE", "news"],
    ]);
}

#[test]
fn resp3_aggregates_from_ferredis_alone() {
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&["HELLO", "3"]);
    // TIME: an array of two bulk strings.
    let time = c.cmd(&["TIME"]);
    assert!(time.starts_with("*2\r\n$10\r\n"), "{time}");
    // CONFIG GET with several parameters: one map.
    let map = c.cmd(&["CONFIG", "GET", "timeout", "hz"]);
    assert_eq!(
        map,
        "%2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n$2\r\nhz\r\n$2\r\n10\r\n"
    );
    // CLIENT INFO: a verbatim string whose length counts the "txt:" prefix.
    let info = c.cmd(&["CLIENT", "INFO"]);
    let (header, rest) = info.split_once("\r\n").unwrap();
    let len: usize = header.trim_start_matches('=').parse().unwrap();
    assert!(rest.starts_with("txt:id="));
    assert_eq!(rest.len(), len + 2);
    // COMMAND DOCS: a map of maps.
    let docs = c.cmd(&["COMMAND", "DOCS", "client"]);
    assert!(
        docs.starts_with("%1\r\n$6\r\nclient\r\n%"),
        "{}",
        &docs[..40]
    );
    assert!(docs.contains("$11\r\nsubcommands\r\n%"));
    // Whole COMMAND reply: flags and categories are sets.
    let all = c.cmd(&["COMMAND", "INFO", "client|id"]);
    assert!(all.contains("~3\r\n+noscript\r\n+loading\r\n+stale\r\n"));
    assert!(all.contains("~2\r\n+@slow\r\n+@connection\r\n"));
}
