//! Redis 7.0 functions (FUNCTION ..., FCALL, FCALL_RO): replies and errors compared byte for byte with
//! redis-server, FUNCTION DUMP payloads and RDB files exchanged with redis-server both ways, FUNCTION KILL and
//! STATS while a function loops, and the `cmsgpack` / `struct` libraries scripts see.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{assert_same_as_redis, Client, Server};

/// One function per library: Redis lists a library's functions (and the libraries) in its dictionaries' order,
/// which a random hash seed changes from run to run, so replies compared byte for byte hold one of each.
const LIB: &str = "#!lua name=mylib\n\
    local function hello(keys, args) return 'hello ' .. (args[1] or '') end\n\
    redis.register_function('hello', hello)";
const RO: &str = "#!lua name=rolib\n\
    redis.register_function{function_name='getx', callback=function(keys) return redis.call('get', keys[1]) end, \
    flags={'no-writes', 'allow-stale'}, description='reads a key'}";
const WR: &str = "#!lua name=wlib\n\
    redis.register_function('setx', function(keys, args) return redis.call('set', keys[1], args[1]) end)";

const LOOP: &str = "#!lua name=looping\n\
    redis.register_function('spin', function() local a = 1 while true do a = a + 1 end end)";

#[test]
fn function_commands_answer_as_redis() {
    assert_same_as_redis(&[
        &["FUNCTION", "LOAD", LIB],
        &["FUNCTION", "LIST"],
        &["FUNCTION", "LOAD", LIB],
        &["FUNCTION", "LOAD", "REPLACE", LIB],
        &["FUNCTION", "LOAD", "foo", LIB],
        &["FUNCTION", "LOAD", RO],
        &["FUNCTION", "LOAD", WR],
        &["FCALL", "hello", "0", "world"],
        &["FCALL", "HELLO", "0"],
        &["FCALL", "setx", "1", "x", "42"],
        &["FCALL_RO", "getx", "1", "x"],
        &["FCALL_RO", "setx", "1", "x", "1"],
        &["FCALL", "nosuch", "0"],
        &["FCALL", "hello", "abc"],
        &["FCALL", "hello", "3", "a"],
        &["FCALL", "hello", "-1"],
        &["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "my*"],
        &["FUNCTION", "LIST", "LIBRARYNAME", "ro*"],
        &["FUNCTION", "LIST", "LIBRARYNAME", "other*"],
        &["FUNCTION", "LIST", "LIBRARYNAME"],
        &["FUNCTION", "LIST", "WITHCODE", "WITHCODE"],
        &["FUNCTION", "LIST", "bad\r\narg"],
        &["FUNCTION", "STATS"],
        &["FUNCTION", "RESTORE", "bad payload"],
        &["FUNCTION", "RESTORE", "a", "b", "c"],
        &["FUNCTION", "RESTORE", "a", "nope"],
        &["FUNCTION", "DELETE", "nosuch"],
        &["FUNCTION", "DELETE", "rolib"],
        &["FUNCTION", "DELETE", "wlib"],
        &["FUNCTION", "DUMP"],
        &["FUNCTION", "DELETE", "mylib"],
        &["FUNCTION", "FLUSH", "bad"],
        &["FUNCTION", "FLUSH", "SYNC", "extra"],
        &["FUNCTION", "FLUSH", "ASYNC"],
        &["FUNCTION", "KILL"],
        &["FUNCTION", "HELP"],
        &["FUNCTION", "nosuch"],
        &["COMMAND", "GETKEYS", "FCALL", "f", "2", "a", "b", "c"],
    ]);
}

#[test]
fn library_errors_answer_as_redis() {
    let load = |body: &str| format!("#!lua name=lib\n{body}");
    let bodies = [
        "redis.register_function('a', function() return 1 end)\nredis.register_function('a', function() end)",
        "redis.register_function()",
        "redis.register_function('f1')",
        "redis.register_function('f', function() end, 1)",
        "redis.register_function(nil, function() end)",
        "redis.register_function('a-b', function() end)",
        "redis.register_function('', function() end)",
        "redis.register_function('f', 'not a function')",
        "redis.register_function{function_name='f'}",
        "redis.register_function{callback=function() end}",
        "redis.register_function{function_name='f', callback=function() end, flags='x'}",
        "redis.register_function{function_name='f', callback=function() end, flags={'nope'}}",
        "redis.register_function{function_name='f', callback=function() end, other=1}",
        "redis.register_function{function_name='f', callback=function() end, description=function() end}",
        "return 1",
        "return math.random()",
        "return redis.call('ping')",
        "a = 1",
        "local x = getmetatable(_G)",
        "bad syntax here",
        "error('boom')",
        "local a = 1 while true do a = a + 1 end",
    ];
    let mut commands: Vec<Vec<String>> = bodies
        .iter()
        .map(|b| vec!["FUNCTION".into(), "LOAD".into(), load(b)])
        .collect();
    for code in [
        "no shebang",
        "#!lua name=x",
        "#!lua\nreturn 1",
        "#!lua name=a name=b\n",
        "#!lua name=a foo=bar\n",
        "#!nosuch name=a\n",
        "#! name=a\n",
        "#!lua name=a-b\n",
        "#!lua name=\"quoted\"\nredis.register_function('q', function() return 1 end)",
    ] {
        commands.push(vec!["FUNCTION".into(), "LOAD".into(), code.into()]);
    }
    let runtime = "#!lua name=rt\n\
        redis.register_function('keys_global', function() return KEYS end)\n\
        redis.register_function('raise', function() error('boom') end)\n\
        redis.register_function('table_err', function() return redis.error_reply('MY oops') end)\n\
        redis.register_function('register', function() redis.register_function('x', function() end) end)\n\
        redis.register_function('nested', function(k, a) return {k, a, {1, {2}}} end)";
    commands.push(vec!["FUNCTION".into(), "LOAD".into(), runtime.into()]);
    for f in ["keys_global", "raise", "table_err", "register"] {
        commands.push(vec!["FCALL".into(), f.into(), "0".into()]);
    }
    commands.push(
        ["FCALL", "nested", "2", "k1", "k2", "a1"]
            .map(String::from)
            .to_vec(),
    );
    commands.push(["FUNCTION", "STATS"].map(String::from).to_vec());
    let refs: Vec<Vec<&str>> = commands
        .iter()
        .map(|c| c.iter().map(String::as_str).collect())
        .collect();
    let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    assert_same_as_redis(&slices);
}

#[test]
fn restore_policies_answer_as_redis() {
    let other = "#!lua name=other\nredis.register_function('hello', function() return 2 end)";
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    for c in [&mut a, &mut b] {
        c.cmd(&["FUNCTION", "LOAD", LIB]);
    }
    let payload = bulk(&a.cmd_bytes(&[b"FUNCTION", b"DUMP"]));
    assert_eq!(payload, bulk(&b.cmd_bytes(&[b"FUNCTION", b"DUMP"])));
    let steps: &[&[&[u8]]] = &[
        &[b"FUNCTION", b"RESTORE", &payload],
        &[b"FUNCTION", b"RESTORE", &payload, b"REPLACE"],
        &[b"FUNCTION", b"FLUSH"],
        &[b"FUNCTION", b"LOAD", other.as_bytes()],
        &[b"FUNCTION", b"RESTORE", &payload, b"REPLACE"],
        &[b"FUNCTION", b"RESTORE", &payload, b"APPEND"],
        &[b"FUNCTION", b"RESTORE", &payload, b"FLUSH"],
        &[b"FUNCTION", b"LIST"],
        &[b"FCALL", b"hello", b"0", b"again"],
    ];
    for step in steps {
        assert_eq!(
            String::from_utf8_lossy(&a.cmd_bytes(step)),
            String::from_utf8_lossy(&b.cmd_bytes(step)),
            "reply to {:?} differs",
            step.iter()
                .map(|s| String::from_utf8_lossy(s))
                .collect::<Vec<_>>()
        );
    }
}

/// The body of a bulk-string reply.
fn bulk(reply: &[u8]) -> Vec<u8> {
    let text_end = reply.iter().position(|&b| b == b'\r').expect("a line");
    let len: usize = std::str::from_utf8(&reply[1..text_end])
        .expect("length")
        .parse()
        .expect("a bulk string");
    reply[text_end + 2..text_end + 2 + len].to_vec()
}

#[test]
fn dump_payloads_move_between_ferredis_and_redis() {
    let Some(redis) = Server::start_redis() else {
        return;
    };
    let ours = Server::start();
    let (mut a, mut b) = (ours.client(), redis.client());
    a.cmd(&["FUNCTION", "LOAD", LIB]);
    let payload = bulk(&a.cmd_bytes(&[b"FUNCTION", b"DUMP"]));
    assert_eq!(
        b.cmd_bytes(&[b"FUNCTION", b"RESTORE", &payload]),
        b"+OK\r\n"
    );
    assert_eq!(
        b.cmd(&["FCALL", "hello", "0", "redis"]),
        "$11\r\nhello redis\r\n"
    );
    b.cmd(&["FUNCTION", "LOAD", LOOP]);
    let payload = bulk(&b.cmd_bytes(&[b"FUNCTION", b"DUMP"]));
    assert_eq!(
        a.cmd_bytes(&[b"FUNCTION", b"RESTORE", &payload, b"FLUSH"]),
        b"+OK\r\n"
    );
    assert_eq!(a.cmd(&["FUNCTION", "STATS"]), b.cmd(&["FUNCTION", "STATS"]));
    let mut flipped = payload.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert_eq!(
        a.cmd_bytes(&[b"FUNCTION", b"RESTORE", &flipped]),
        b"-ERR DUMP payload version or checksum are wrong\r\n"
    );
}

/// A scratch directory for RDB files, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(tag: &str) -> Dir {
        let path =
            std::env::temp_dir().join(format!("ferredis-functions-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("temp dir");
        Dir(path)
    }

    fn s(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn rdb_functions_load_into_redis_and_back() {
    let dir = Dir::new("rdb");
    let args = ["--dir", dir.s(), "--dbfilename", "f.rdb"];
    {
        let ours = Server::start_with(&args);
        let mut a = ours.client();
        a.cmd(&["FUNCTION", "LOAD", LIB]);
        a.cmd(&["FUNCTION", "LOAD", RO]);
        a.cmd(&["SET", "k", "v"]);
        assert_eq!(a.cmd(&["SAVE"]), "+OK\r\n");
    }
    let Some(redis) = Server::start_redis_with(&args) else {
        return;
    };
    let mut b = redis.client();
    assert_eq!(b.cmd(&["FCALL", "hello", "0", "x"]), "$7\r\nhello x\r\n");
    assert_eq!(b.cmd(&["GET", "k"]), "$1\r\nv\r\n");
    let listed = b.cmd(&["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "ro*"]);
    b.cmd(&["FUNCTION", "LOAD", LOOP]);
    assert_eq!(b.cmd(&["SAVE"]), "+OK\r\n");
    let stats = b.cmd(&["FUNCTION", "STATS"]);
    drop(redis);
    let ours = Server::start_with(&args);
    let mut a = ours.client();
    assert_eq!(a.cmd(&["FUNCTION", "STATS"]), stats);
    assert_eq!(
        a.cmd(&["FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "ro*"]),
        listed
    );
    assert_eq!(a.cmd(&["FCALL_RO", "getx", "1", "k"]), "$1\r\nv\r\n");
}

#[test]
fn debug_reload_keeps_functions_and_merge_replaces_them() {
    let dir = Dir::new("reload");
    let ours = Server::start_with(&["--dir", dir.s(), "--enable-debug-command", "yes"]);
    let mut a = ours.client();
    a.cmd(&["FUNCTION", "LOAD", LIB]);
    assert_eq!(a.cmd(&["DEBUG", "RELOAD"]), "+OK\r\n");
    assert_eq!(a.cmd(&["FCALL", "hello", "0"]), "$6\r\nhello \r\n");
    assert_eq!(
        a.cmd(&["DEBUG", "RELOAD", "NOFLUSH"]),
        "-ERR Error trying to load the RDB dump\r\n"
    );
    assert_eq!(a.cmd(&["DEBUG", "RELOAD", "NOFLUSH", "MERGE"]), "+OK\r\n");
    assert_eq!(a.cmd(&["FLUSHALL"]), "+OK\r\n");
    assert_eq!(a.cmd(&["FCALL", "hello", "0"]), "$6\r\nhello \r\n");
}

fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn function_kill_stops_a_looping_function_and_script_kill_does_not() {
    let ours = Server::start();
    let mut c = ours.client();
    c.cmd(&["CONFIG", "SET", "busy-reply-threshold", "10"]);
    c.cmd(&["FUNCTION", "LOAD", LOOP]);
    let mut runner = ours.client();
    runner.send(&["FCALL", "spin", "0"]);
    wait_for("the BUSY reply", || c.cmd(&["PING"]).starts_with("-BUSY"));
    assert_eq!(
        c.cmd(&["PING"]),
        "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
    );
    assert_eq!(
        c.cmd(&["SCRIPT", "KILL"]),
        "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n"
    );
    let stats = c.cmd(&["FUNCTION", "STATS"]);
    assert!(
        stats.starts_with(
            "*4\r\n$14\r\nrunning_script\r\n*6\r\n$4\r\nname\r\n$4\r\nspin\r\n$7\r\ncommand\r\n*3\r\n$5\r\nFCALL\r\n\
             $4\r\nspin\r\n$1\r\n0\r\n$11\r\nduration_ms\r\n:"
        ),
        "{stats}"
    );
    assert_eq!(c.cmd(&["FUNCTION", "KILL"]), "+OK\r\n");
    assert!(runner
        .read_reply()
        .starts_with("-ERR Script killed by user with SCRIPT KILL..."));
    wait_for("PONG", || c.cmd(&["PING"]) == "+PONG\r\n");
    assert_eq!(
        c.cmd(&["FUNCTION", "KILL"]),
        "-NOTBUSY No scripts in execution right now.\r\n"
    );
    // A function that pcalls in a loop cannot swallow the kill.
    c.cmd(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=p\nredis.register_function('p', function() \
         local f = function() while 1 do redis.call('ping') end end while 1 do pcall(f) end end)",
    ]);
    runner.send(&["FCALL", "p", "0"]);
    wait_for("the BUSY reply", || c.cmd(&["PING"]).starts_with("-BUSY"));
    assert!(
        c.cmd(&["SCRIPT", "KILL"]).starts_with("-BUSY"),
        "SCRIPT KILL must not stop a function"
    );
    assert_eq!(c.cmd(&["FUNCTION", "KILL"]), "+OK\r\n");
    assert!(runner.read_reply().contains("killed by user"));
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}

#[test]
fn a_function_that_wrote_cannot_be_killed_and_its_writes_are_kept() {
    let ours = Server::start();
    let mut c = ours.client();
    c.cmd(&["CONFIG", "SET", "busy-reply-threshold", "10"]);
    c.cmd(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=w\nredis.register_function('w', function(k) redis.call('incr', k[1]) \
         local function us() local t = redis.call('time') return t[1] * 1000000 + t[2] end \
         local start = us() while us() - start < 300000 do end return 1 end)",
    ]);
    let mut runner = ours.client();
    runner.send(&["FCALL", "w", "1", "counter"]);
    wait_for("the BUSY reply", || c.cmd(&["PING"]).starts_with("-BUSY"));
    assert!(c.cmd(&["FUNCTION", "KILL"]).starts_with("-UNKILLABLE"));
    assert_eq!(runner.read_reply(), ":1\r\n");
    assert_eq!(c.cmd(&["GET", "counter"]), "$1\r\n1\r\n");
}

#[test]
fn msgpack_and_struct_give_redis_bytes() {
    let scripts = [
        "return cmsgpack.pack(0.1, -1099511627776, 1, 200, 70000, -40, -200, -40000, 'abc', true, false, nil, 3.5)",
        "return cmsgpack.pack({1, 2, {3, {a = 1}}}, string.rep('x', 40), string.rep('y', 300))",
        "local a = {} a[1] = a return cmsgpack.pack(a)",
        "local t = {cmsgpack.unpack(cmsgpack.pack(1, 'two', {3}, 4.5))} return {t[1], t[2], t[3][1], tostring(t[4])}",
        "return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 0)}",
        "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}",
        "return cmsgpack.unpack(string.char(0x93, 1))",
        "return cmsgpack.unpack(string.char(0xc1))",
        "return cmsgpack.unpack_one('a', 5)",
        "return cmsgpack.pack()",
        "return struct.pack('>i2hBs', 1, -2, 255, 'ab')",
        "return {struct.unpack('>i2hBs', struct.pack('>i2hBs', 1, -2, 255, 'ab'))}",
        "return {struct.unpack('<d', struct.pack('<d', 1.5))}",
        "return {struct.unpack('Bc0', struct.pack('Bc0', 3, 'abc'))}",
        "return struct.pack('!4bid', 1, 2, 3.5)",
        "return struct.size('!4bid')",
        "return struct.size('s')",
        "return struct.pack('q', 1)",
        "return struct.pack('i40', 1)",
        "return struct.unpack('i', 'ab')",
        "return {pcall(struct.unpack, 'c0', 'ab')}",
        "cmsgpack.pack = 1",
        "struct.x = 1",
    ];
    let commands: Vec<Vec<&str>> = scripts.iter().map(|s| vec!["EVAL", s, "0"]).collect();
    let slices: Vec<&[&str]> = commands.iter().map(Vec::as_slice).collect();
    assert_same_as_redis(&slices);
}

#[test]
fn fcall_writes_are_one_unit_for_concurrent_readers() {
    let ours = Server::start();
    let mut c = ours.client();
    c.cmd(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=mv\nredis.register_function('mv', function(k) redis.call('decr', k[1]) \
         redis.call('incr', k[2]) end)",
    ]);
    c.cmd(&["MSET", "a", "1000", "b", "0"]);
    let port = ours.port;
    let reader = std::thread::spawn(move || {
        let mut r = Client::connect(port);
        for _ in 0..500 {
            let reply = r.cmd(&["MGET", "a", "b"]);
            let sum: i64 = common::bulks(&reply)
                .iter()
                .map(|v| v.parse::<i64>().expect("number"))
                .sum();
            assert_eq!(sum, 1000, "a reader saw half a function: {reply}");
        }
    });
    for _ in 0..500 {
        c.cmd(&["FCALL", "mv", "2", "a", "b"]);
    }
    reader.join().expect("reader");
    assert_eq!(c.cmd(&["GET", "b"]), "$3\r\n500\r\n");
}

#[test]
fn monitor_shows_the_script_command_then_its_commands_from_lua() {
    let ours = Server::start();
    let mut m = ours.client();
    assert_eq!(m.cmd(&["MONITOR"]), "+OK\r\n");
    let mut c = ours.client();
    c.cmd(&["EVAL", "return redis.call('set', 'a', '1')", "0"]);
    c.cmd(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=m\nredis.register_function('m', function() return redis.call('get', 'a') end)",
    ]);
    c.cmd(&["FCALL", "m", "0"]);
    let mut lines = Vec::new();
    for _ in 0..5 {
        let line = m.read_reply();
        // "+<time> [0 <client>] args": keep the client's kind and the arguments.
        let rest = line.split_once(" [0 ").map(|(_, r)| r).unwrap_or("");
        let (who, args) = rest.split_once("] ").unwrap_or(("", ""));
        let who = if who == "lua" { "lua" } else { "client" };
        lines.push(format!("{who} {}", args.trim_end()));
    }
    assert_eq!(
        lines,
        [
            "client \"EVAL\" \"return redis.call('set', 'a', '1')\" \"0\"",
            "lua \"set\" \"a\" \"1\"",
            "client \"FUNCTION\" \"LOAD\" \"#!lua name=m\\nredis.register_function('m', function() return redis.call('get', 'a') end)\"",
            "client \"FCALL\" \"m\" \"0\"",
            "lua \"get\" \"a\"",
        ]
    );
}

/// INFO keyspace reads every shard: from a script or inside EXEC, whose locks the command already holds, it used
/// to wait forever for its own locks (and the server with it).
#[test]
fn info_keyspace_answers_from_a_script_and_inside_exec() {
    let ours = Server::start();
    let mut c = ours.client();
    c.set_timeout(Duration::from_secs(5));
    c.cmd(&["SET", "a", "1"]);
    let from_script = c.cmd(&["EVAL", "return redis.call('info', 'keyspace')", "0"]);
    assert!(
        from_script.contains("db0:keys=1,expires=0"),
        "{from_script}"
    );
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "b", "1"]);
    c.cmd(&["INFO", "keyspace"]);
    let exec = c.cmd(&["EXEC"]);
    assert!(exec.contains("db0:keys=2,expires=0"), "{exec}");
    assert_eq!(c.cmd(&["PING"]), "+PONG\r\n");
}
