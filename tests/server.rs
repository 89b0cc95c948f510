//! Connection and server commands: PING/ECHO/SELECT/RESET/AUTH/HELLO (RESP2), CLIENT, INFO, TIME, SHUTDOWN,
//! COMMAND, with exact replies and Redis's error texts.

mod common;

use std::time::Duration;

use common::{assert_same_as_redis, Client, Server};

#[test]
fn connection_commands_match_redis() {
    assert_same_as_redis(&[
        &["PING"],
        &["PING", "hello"],
        &["PING", "a", "b"],
        &["ECHO", "x y"],
        &["ECHO"],
        &["SELECT", "15"],
        &["SELECT", "16"],
        &["SELECT", "-1"],
        &["SELECT", "abc"],
        &["SELECT"],
        &["AUTH", "pw"],
        &["AUTH", "default", "anything"],
        &["AUTH", "nobody", "pw"],
        &["AUTH", "a", "b", "c"],
        &["AUTH"],
        &["RESET"],
        &["RESET", "x"],
        &["HELLO", "abc"],
        &["HELLO", "1"],
        &["HELLO", "4"],
        &["HELLO", "3", "foo"],
        &["HELLO", "3", "auth", "a"],
        &["HELLO", "2", "SETNAME", "bad name"],
        &["HELLO", "2", "AUTH", "nobody", "pw"],
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME", "a b"],
        &["CLIENT", "SETNAME", "a\nb"],
        &["CLIENT", "SETNAME", "conn-1"],
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME", ""],
        &["CLIENT", "GETNAME"],
        &["CLIENT", "SETNAME"],
        &["CLIENT"],
        &["CLIENT", "FOO"],
        &["CLIENT", "NO-EVICT", "on"],
        &["CLIENT", "NO-EVICT", "maybe"],
        &["CLIENT", "NO-EVICT", "off"],
        &["CLIENT", "KILL", "1.2.3.4:5"],
        &["CLIENT", "KILL", "ID", "999"],
        &["CLIENT", "KILL", "ID", "abc"],
        &["CLIENT", "KILL", "ID", "0"],
        &["CLIENT", "KILL", "ADDR", "1.2.3.4:5"],
        &["CLIENT", "KILL", "LADDR", "1.2.3.4:5"],
        &["CLIENT", "KILL", "TYPE", "foo"],
        &["CLIENT", "KILL", "TYPE", "pubsub"],
        &["CLIENT", "KILL", "TYPE", "master"],
        &["CLIENT", "KILL", "USER", "nobody"],
        &["CLIENT", "KILL", "SKIPME", "maybe"],
        &["CLIENT", "KILL", "foo", "bar"],
        &["CLIENT", "KILL", "ID", "1", "ID"],
        &["CLIENT", "LIST", "TYPE", "foo"],
        &["CLIENT", "LIST", "ID", "abc"],
        &["CLIENT", "LIST", "ID", "0"],
        &["CLIENT", "LIST", "foo"],
        &["CLIENT", "LIST", "ID"],
        &["CLIENT", "LIST", "TYPE", "pubsub"],
        &["CLIENT", "INFO", "x"],
        &["CLIENT", "UNBLOCK", "999"],
        &["CLIENT", "UNBLOCK", "abc"],
        &["CLIENT", "UNBLOCK", "1", "maybe"],
        &["CLIENT", "UNBLOCK"],
        &["TIME", "x"],
        &["SHUTDOWN", "foo"],
        &["SHUTDOWN", "NOSAVE", "SAVE"],
        &["SHUTDOWN", "NOSAVE", "ABORT"],
        &["SHUTDOWN", "ABORT"],
        &["INFO", "nosuchsection"],
    ]);
}

#[test]
fn hello_reply_map_in_resp2() {
    let s = Server::start();
    let mut c = s.client();
    let id = c.cmd(&["CLIENT", "ID"]);
    let id = id.trim_start_matches(':').trim_end();
    let want = format!(
        "*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:2\r\n\
         $2\r\nid\r\n:{id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n\
         $7\r\nmodules\r\n*0\r\n"
    );
    assert_eq!(c.cmd(&["HELLO"]), want);
    assert_eq!(c.cmd(&["HELLO", "2", "SETNAME", "named"]), want);
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$5\r\nnamed\r\n");
}

#[test]
fn requirepass_makes_auth_necessary() {
    let s = Server::start_with(&["--requirepass", "s3cret"]);
    let mut c = s.client();
    assert_eq!(c.cmd(&["GET", "k"]), "-NOAUTH Authentication required.\r\n");
    // Unknown commands and arity are checked before authentication, as in Redis.
    assert!(c
        .cmd(&["NOSUCH"])
        .starts_with("-ERR unknown command 'NOSUCH'"));
    assert_eq!(
        c.cmd(&["HELLO", "3"]),
        "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> \
         AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol \
         version at the same time\r\n"
    );
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(
        c.cmd(&["AUTH", "other", "s3cret"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(c.cmd(&["AUTH", "s3cret"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
    // RESET logs the connection out again.
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["PING"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(c.cmd(&["AUTH", "default", "s3cret"]), "+OK\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");

    let mut d = s.client();
    assert!(c
        .cmd(&["HELLO", "2", "AUTH", "default", "bad"])
        .starts_with("-WRONGPASS"));
    let hello = d.cmd(&["HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "d"]);
    assert!(hello.starts_with("*14\r\n$6\r\nserver\r\n"), "{hello}");
    assert_eq!(d.cmd(&["CLIENT", "GETNAME"]), "$1\r\nd\r\n");
    // Changing the password does not log anyone out; an empty one turns authentication off for new clients.
    assert_eq!(d.cmd(&["CONFIG", "SET", "requirepass", ""]), "+OK\r\n");
    assert_eq!(d.cmd(&["PING"]), "+PONG\r\n");
    let mut e = s.client();
    assert_eq!(e.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        e.cmd(&["AUTH", "x"]),
        "-ERR AUTH <password> called without any password configured for the default user. Are you \
         sure your configuration is correct?\r\n"
    );
}

#[test]
fn reset_restores_a_fresh_connection() {
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&["HELLO", "3", "SETNAME", "x"]);
    c.cmd(&["SELECT", "3"]);
    c.cmd(&["CLIENT", "NO-EVICT", "on"]);
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), "$-1\r\n");
    let info = c.cmd(&["CLIENT", "INFO"]);
    assert!(info.contains(" db=0 "), "{info}");
    assert!(info.contains(" flags=N "), "{info}");
    assert!(info.contains(" resp=2 "), "{info}");
}

/// Waits until the server counts `n` clients: the start-up probe's connection may still be closing.
fn settle(c: &mut Client, n: usize) {
    let want = format!("connected_clients:{n}\r\n");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !c.cmd(&["INFO", "clients"]).contains(&want) {
        assert!(std::time::Instant::now() < deadline, "never {n} clients");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The `key=value` fields of a CLIENT LIST / INFO line.
fn fields(line: &str) -> Vec<(String, String)> {
    line.trim_end()
        .split(' ')
        .map(|f| {
            let (k, v) = f.split_once('=').unwrap_or((f, ""));
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The body of a bulk-string reply.
fn bulk_body(reply: &str) -> String {
    let (_, body) = reply.split_once("\r\n").expect("bulk header");
    body.strip_suffix("\r\n").unwrap_or(body).to_string()
}

#[test]
fn client_list_has_redis_fields_in_order_with_true_values() {
    let s = Server::start();
    let mut a = s.client();
    let mut b = s.client();
    a.cmd(&["CLIENT", "SETNAME", "alpha"]);
    a.cmd(&["SELECT", "2"]);
    a.cmd(&["CLIENT", "SETINFO", "lib-name", "redis-py"]);
    a.cmd(&["CLIENT", "SETINFO", "lib-ver", "8.1.0"]);
    b.cmd(&["PING"]);
    settle(&mut b, 2);
    let a_id = a.cmd(&["CLIENT", "ID"]);
    let a_id = a_id.trim_start_matches(':').trim_end().to_string();
    let list = bulk_body(&b.cmd(&["CLIENT", "LIST"]));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(list.ends_with('\n'));
    let names: Vec<String> = fields(lines[0]).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        names,
        [
            "id",
            "addr",
            "laddr",
            "fd",
            "name",
            "age",
            "idle",
            "flags",
            "db",
            "sub",
            "psub",
            "ssub",
            "multi",
            "qbuf",
            "qbuf-free",
            "argv-mem",
            "multi-mem",
            "rbs",
            "rbp",
            "obl",
            "oll",
            "omem",
            "tot-mem",
            "events",
            "cmd",
            "user",
            "redir",
            "resp",
            "lib-name",
            "lib-ver"
        ]
    );
    let a_fields = fields(lines[0]);
    let get = |k: &str| a_fields.iter().find(|(n, _)| n == k).unwrap().1.clone();
    assert_eq!(get("id"), a_id);
    assert_eq!(get("name"), "alpha");
    assert_eq!(get("db"), "2");
    assert_eq!(get("cmd"), "client|id");
    assert_eq!(get("lib-name"), "redis-py");
    assert_eq!(get("lib-ver"), "8.1.0");
    assert_eq!(get("laddr"), format!("127.0.0.1:{}", s.port));
    let b_line = fields(lines[1]);
    assert_eq!(
        b_line.iter().find(|(k, _)| k == "cmd").unwrap().1,
        "client|list"
    );

    // ID filter, in the order given, unknown ids skipped; TYPE filter.
    let by_id = bulk_body(&b.cmd(&["CLIENT", "LIST", "ID", "99999", &a_id]));
    assert_eq!(by_id.lines().count(), 1);
    assert!(by_id.starts_with(&format!("id={a_id} ")));
    let normal = bulk_body(&b.cmd(&["CLIENT", "LIST", "TYPE", "normal"]));
    assert_eq!(normal.lines().count(), 2);
    assert_eq!(b.cmd(&["CLIENT", "LIST", "TYPE", "replica"]), "$0\r\n\r\n");

    let info = bulk_body(&a.cmd(&["CLIENT", "INFO"]));
    assert!(
        info.starts_with(&format!("id={a_id} addr=127.0.0.1:")),
        "{info}"
    );
    assert!(info.contains(" cmd=client|info "), "{info}");
}

#[test]
fn client_setinfo_validates() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-name", "a b"]),
        "-ERR lib-name cannot contain spaces, newlines or special characters.\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "foo", "x"]),
        "-ERR Unrecognized option 'foo'\r\n"
    );
    assert_eq!(
        c.cmd(&["CLIENT", "SETINFO", "lib-ver"]),
        "-ERR wrong number of arguments for 'client|setinfo' command\r\n"
    );
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "LIB-VER", "1.0"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "on"]), "+OK\r\n");
    assert!(c.cmd(&["CLIENT", "INFO"]).contains(" flags=T "));
    assert_eq!(c.cmd(&["CLIENT", "NO-TOUCH", "x"]), "-ERR syntax error\r\n");
}

#[test]
fn client_kill_forms() {
    let s = Server::start();
    let mut killer = s.client();
    let mut victim = s.client();
    let victim_id = victim.cmd(&["CLIENT", "ID"]);
    let victim_id = victim_id.trim_start_matches(':').trim_end().to_string();
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "ID", &victim_id]), ":1\r\n");
    victim.set_timeout(Duration::from_secs(2));
    assert!(victim.is_closed());

    // The old form: by address, OK or an error.
    let mut v2 = s.client();
    let info = v2.cmd(&["CLIENT", "INFO"]);
    let addr = fields(&bulk_body(&info))
        .into_iter()
        .find(|(k, _)| k == "addr")
        .unwrap()
        .1;
    assert_eq!(killer.cmd(&["CLIENT", "KILL", &addr]), "+OK\r\n");
    assert!(v2.is_closed());
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", &addr]),
        "-ERR No such client\r\n"
    );

    // SKIPME: the caller survives by default; with SKIPME no it gets its reply, then is closed.
    let mut other = s.client();
    // Registered once it has been served.
    assert_eq!(other.cmd(&["PING"]), "+PONG\r\n");
    settle(&mut killer, 2);
    let laddr = format!("127.0.0.1:{}", s.port);
    assert_eq!(killer.cmd(&["CLIENT", "KILL", "LADDR", &laddr]), ":1\r\n");
    assert_eq!(killer.cmd(&["PING"]), "+PONG\r\n");
    assert_eq!(
        killer.cmd(&["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"]),
        ":1\r\n"
    );
    assert!(killer.is_closed());
}

#[test]
fn client_help_and_command_help_are_status_lines() {
    let s = Server::start();
    let mut c = s.client();
    let help = c.cmd(&["CLIENT", "HELP"]);
    assert!(help.starts_with(
        "*45\r\n+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+GETNAME\r\n"
    ));
    assert!(help.ends_with("+HELP\r\n+    Prints this help.\r\n"));
    assert_same_as_redis(&[&["COMMAND", "HELP"], &["CONFIG", "HELP"]]);
}

#[test]
fn time_is_now() {
    let s = Server::start();
    let mut c = s.client();
    let reply = c.cmd(&["TIME"]);
    let parts: Vec<&str> = reply.split("\r\n").collect();
    assert_eq!(parts[0], "*2");
    let secs: u64 = parts[2].parse().unwrap();
    let usec: u64 = parts[4].parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(secs.abs_diff(now) <= 2);
    assert!(usec < 1_000_000);
}

/// INFO's fields as a map, from the body of its reply.
fn info_map(c: &mut Client, section: &str) -> Vec<(String, String)> {
    let reply = c.cmd(&["INFO", section]);
    bulk_body(&reply)
        .split("\r\n")
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn info_field(map: &[(String, String)], key: &str) -> String {
    map.iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("INFO has no {key}"))
        .1
        .clone()
}

#[test]
fn info_sections_and_true_values() {
    let s = Server::start();
    let mut c = s.client();
    let mut other = s.client();
    other.cmd(&["PING"]);
    settle(&mut c, 2);
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2", "EX", "100"]);
    c.cmd(&["GET", "a"]);
    c.cmd(&["GET", "nosuch"]);

    let reply = c.cmd(&["INFO"]);
    let headers: Vec<&str> = reply.lines().filter(|l| l.starts_with('#')).collect();
    assert_eq!(
        headers,
        [
            "# Server",
            "# Clients",
            "# Memory",
            "# Persistence",
            "# Stats",
            "# Replication",
            "# CPU",
            "# Modules",
            "# Errorstats",
            "# Cluster",
            "# Keyspace"
        ]
    );
    let server = info_map(&mut c, "server");
    assert_eq!(info_field(&server, "redis_version"), "7.0.15");
    assert_eq!(info_field(&server, "process_id"), s.pid().to_string());
    assert_eq!(info_field(&server, "tcp_port"), s.port.to_string());
    assert!(!info_field(&server, "ferredis_version").is_empty());

    let clients = info_map(&mut c, "clients");
    assert_eq!(info_field(&clients, "connected_clients"), "2");
    assert_eq!(info_field(&clients, "blocked_clients"), "0");
    assert_eq!(info_field(&clients, "maxclients"), "10000");

    let memory = info_map(&mut c, "memory");
    let rss: u64 = info_field(&memory, "used_memory_rss").parse().unwrap();
    assert!(rss > 100_000, "rss {rss}");
    assert!(info_field(&memory, "used_memory_human").ends_with(['K', 'M']));
    let used: u64 = info_field(&memory, "used_memory").parse().unwrap();
    let peak: u64 = info_field(&memory, "used_memory_peak").parse().unwrap();
    assert!(peak >= used, "peak {peak} < used {used}");

    let stats = info_map(&mut c, "stats");
    assert_eq!(info_field(&stats, "keyspace_hits"), "1");
    assert_eq!(info_field(&stats, "keyspace_misses"), "1");
    let _: u64 = info_field(&stats, "instantaneous_ops_per_sec")
        .parse()
        .unwrap();
    let processed: u64 = info_field(&stats, "total_commands_processed")
        .parse()
        .unwrap();
    assert!(processed >= 9, "{processed}");

    let cpu = info_map(&mut c, "cpu");
    assert!(info_field(&cpu, "used_cpu_user").contains('.'));

    let keyspace = bulk_body(&c.cmd(&["INFO", "keyspace"]));
    let avg_ttl: i64 = keyspace
        .strip_prefix("# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=")
        .and_then(|rest| rest.strip_suffix("\r\n"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{keyspace}"));
    // The only key with a TTL has about 100 s left (8 draws in its shard of at most two keys find it).
    assert!((90_000..=100_000).contains(&avg_ttl), "{avg_ttl}");
    // Several sections, in Redis's order whatever the argument order; unknown names add nothing.
    c.cmd(&["PERSIST", "b"]);
    let two = c.cmd(&["INFO", "keyspace", "nosuch", "CLUSTER"]);
    assert_eq!(
        bulk_body(&two),
        "# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n"
    );

    c.cmd(&["NOSUCH"]);
    c.cmd(&["SELECT", "x"]);
    c.cmd(&["SET", "a", "1", "PX", "0"]);
    let errors = c.cmd(&["INFO", "errorstats"]);
    assert_eq!(
        bulk_body(&errors),
        "# Errorstats\r\nerrorstat_ERR:count=3\r\n"
    );

    let all = c.cmd(&["INFO", "all"]);
    assert!(all.contains("# Commandstats\r\ncmdstat_"));
    let cmdstats = info_map(&mut c, "commandstats");
    let set = info_field(&cmdstats, "cmdstat_set");
    assert!(set.starts_with("calls=3,usec="), "{set}");
    assert!(set.ends_with(",rejected_calls=0,failed_calls=1"), "{set}");
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), "+OK\r\n");
    let stats = info_map(&mut c, "stats");
    assert_eq!(info_field(&stats, "keyspace_hits"), "0");
}

/// A known command called with the wrong number of arguments counts as that command's rejected call, as in
/// Redis (`rejectCommand` once the command is looked up): directly, queued in MULTI, and from a script; an
/// unknown command or subcommand counts for no command. The suite's "errorstats: rejected call due to wrong
/// arity" and "... within MULTI/EXEC" check this.
#[test]
fn wrong_arity_counts_as_the_commands_rejected_call() {
    let s = Server::start();
    let mut c = s.client();
    assert_eq!(
        c.cmd(&["SET", "k"]),
        "-ERR wrong number of arguments for 'set' command\r\n"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET"]),
        "-ERR wrong number of arguments for 'config|get' command\r\n"
    );
    assert_eq!(c.cmd(&["MULTI"]), "+OK\r\n");
    c.cmd(&["SET"]);
    assert!(c.cmd(&["EXEC"]).starts_with("-EXECABORT"));
    assert_eq!(
        c.cmd(&["EVAL", "return redis.pcall('set')", "0"]),
        "-ERR Wrong number of args calling Redis command from script\r\n"
    );
    c.cmd(&["NOSUCH"]);
    c.cmd(&["CONFIG", "NOSUCH"]);
    let cmdstats = info_map(&mut c, "commandstats");
    let set = info_field(&cmdstats, "cmdstat_set");
    assert!(set.starts_with("calls=0,usec=0,"), "{set}");
    assert!(set.ends_with(",rejected_calls=3,failed_calls=0"), "{set}");
    let get = info_field(&cmdstats, "cmdstat_config|get");
    assert!(get.ends_with(",rejected_calls=1,failed_calls=0"), "{get}");
    let exec = info_field(&cmdstats, "cmdstat_exec");
    assert!(exec.ends_with(",rejected_calls=0,failed_calls=1"), "{exec}");
    let errors = c.cmd(&["INFO", "errorstats"]);
    assert_eq!(
        bulk_body(&errors),
        "# Errorstats\r\nerrorstat_ERR:count=6\r\nerrorstat_EXECABORT:count=1\r\n"
    );
}

#[test]
fn command_introspection() {
    let s = Server::start();
    let mut c = s.client();
    let count = c.cmd(&["COMMAND", "COUNT"]);
    let n: usize = count.trim_start_matches(':').trim_end().parse().unwrap();
    let all = c.cmd(&["COMMAND"]);
    assert!(all.starts_with(&format!("*{n}\r\n")), "{}", &all[..20]);
    assert_eq!(
        c.cmd(&["COMMAND", "INFO", "nosuch"]),
        "*1\r\n$-1\r\n",
        "unknown commands are null entries"
    );
    assert_eq!(
        c.cmd(&["COMMAND", "INFO", "client|id"]),
        "*1\r\n*10\r\n$9\r\nclient|id\r\n:2\r\n*3\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n\
         *2\r\n+@slow\r\n+@connection\r\n*0\r\n*0\r\n*0\r\n"
    );
    let list = c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*"]);
    assert!(list.contains("$9\r\nclient|id\r\n"));
    assert!(!list.contains("$4\r\nping\r\n"));
    let conn = c.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "connection"]);
    assert!(conn.contains("$4\r\nping\r\n") && conn.contains("$5\r\nhello\r\n"));
    assert_eq!(
        c.cmd(&["COMMAND", "LIST", "FILTERBY", "MODULE", "x"]),
        "*0\r\n"
    );
    let docs = c.cmd(&["COMMAND", "DOCS", "ping"]);
    assert_eq!(
        docs,
        "*2\r\n$4\r\nping\r\n*10\r\n$7\r\nsummary\r\n$15\r\nPing the server\r\n$5\r\nsince\r\n\
         $5\r\n1.0.0\r\n$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n\
         $9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$7\r\nmessage\r\n$4\r\ntype\r\n$6\r\nstring\r\n\
         $5\r\nflags\r\n*1\r\n+optional\r\n"
    );
    assert_same_as_redis(&[
        &["COMMAND", "GETKEYS", "GET", "k"],
        &["COMMAND", "GETKEYS", "SET", "a", "b"],
        &["COMMAND", "GETKEYS", "DEL", "a", "b", "c"],
        &["COMMAND", "GETKEYS", "NOSUCH", "a"],
        &["COMMAND", "GETKEYS", "PING", "x"],
        &["COMMAND", "GETKEYS", "GET"],
        &["COMMAND", "GETKEYS", "GET", "a", "b"],
        &["COMMAND", "GETKEYS"],
        &["COMMAND", "GETKEYSANDFLAGS", "GET", "k"],
        &["COMMAND", "LIST", "FILTERBY"],
        &["COMMAND", "LIST", "FILTERBY", "FOO", "x"],
        &["COMMAND", "LIST", "foo"],
        &["COMMAND", "NOSUCH"],
        &["COMMAND", "INFO", "get", "echo", "nosuch"],
    ]);
}

#[test]
fn client_reply_off_and_skip() {
    let s = Server::start();
    let mut c = s.client();
    // OFF silences its own reply and everything after it until ON.
    for cmd in [
        &["CLIENT", "REPLY", "OFF"][..],
        &["SET", "a", "1"],
        &["GET", "a"],
        &["NOSUCH"],
    ] {
        c.send(cmd);
    }
    assert_eq!(c.cmd(&["CLIENT", "REPLY", "ON"]), "+OK\r\n");
    assert_eq!(c.cmd(&["GET", "a"]), "$1\r\n1\r\n");
    // SKIP silences itself and the next command.
    c.send(&["CLIENT", "REPLY", "SKIP"]);
    c.send(&["PING"]);
    assert_eq!(c.cmd(&["ECHO", "x"]), "$1\r\nx\r\n");
    assert_eq!(
        c.cmd(&["CLIENT", "REPLY", "maybe"]),
        "-ERR syntax error\r\n"
    );
    // RESET turns replies back on.
    c.send(&["CLIENT", "REPLY", "OFF"]);
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn monitor_never_shows_credentials() {
    let s = Server::start();
    let mut monitor = s.client();
    assert_eq!(monitor.cmd(&["MONITOR"]), "+OK\r\n");
    let mut c = s.client();
    assert_eq!(c.cmd(&["AUTH", "default", "secret1"]), "+OK\r\n");
    c.cmd(&["HELLO", "2", "AUTH", "default", "secret2", "SETNAME", "n"]);
    let auth = monitor.read_reply();
    assert!(
        auth.ends_with("] \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"),
        "{auth}"
    );
    let hello = monitor.read_reply();
    assert!(
        hello.ends_with(
            "] \"HELLO\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\" \"SETNAME\" \"n\"\r\n"
        ),
        "{hello}"
    );
    c.cmd(&["ECHO", "secret3"]);
    assert!(monitor.read_reply().ends_with("] \"ECHO\" \"secret3\"\r\n"));
}
