//! Lua scripting (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT): replies compared byte for byte with redis-server
//! for conversions both ways, errors with their script positions, the sandbox, the libraries, and the atomicity
//! of a script under concurrent readers.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use common::{assert_same_as_redis, Server};

#[test]
fn lua_values_become_replies() {
    assert_same_as_redis(&[
        &["EVAL", "return 1", "0"],
        &["EVAL", "return 3.99", "0"],
        &["EVAL", "return -3.99", "0"],
        &["EVAL", "return 'hello'", "0"],
        &["EVAL", "return true", "0"],
        &["EVAL", "return false", "0"],
        &["EVAL", "return nil", "0"],
        &["EVAL", "return {1,2,3,'ciao',{1,2},nil,3}", "0"],
        &["EVAL", "return {1,true,false,'x'}", "0"],
        &["EVAL", "return {}", "0"],
        &["EVAL", "return {ok='fine'}", "0"],
        &["EVAL", "return {err='My Error'}", "0"],
        &["EVAL", "return {err='multi\\r\\nline'}", "0"],
        &["EVAL", "return redis.error_reply('My Error')", "0"],
        &["EVAL", "return redis.error_reply('-WRONG x y')", "0"],
        &["EVAL", "return redis.error_reply(1)", "0"],
        &["EVAL", "return redis.status_reply('Fine')", "0"],
        &["EVAL", "return redis.status_reply()", "0"],
        &[
            "EVAL",
            "return {KEYS[1], KEYS[2], ARGV[1], #ARGV}",
            "2",
            "k1",
            "k2",
            "a1",
            "a2",
        ],
        &["EVAL", "return 1e20", "0"],
    ]);
}

#[test]
fn replies_become_lua_values() {
    assert_same_as_redis(&[
        &["SET", "s", "abc"],
        &["RPUSH", "l", "a", "b", "c"],
        &["HSET", "h", "f", "v"],
        &["EVAL", "return redis.call('get', 's')", "0"],
        &["EVAL", "return type(redis.call('get', 'missing'))", "0"],
        &["EVAL", "return tostring(redis.call('get', 'missing'))", "0"],
        &["EVAL", "return redis.call('incr', 'n')", "0"],
        &["EVAL", "return type(redis.call('incr', 'n'))", "0"],
        &["EVAL", "return redis.call('set', 'x', 'y')", "0"],
        &["EVAL", "return redis.call('set', 'x', 'y').ok", "0"],
        &["EVAL", "return redis.call('lrange', 'l', 0, -1)", "0"],
        &["EVAL", "return redis.call('hgetall', 'h')", "0"],
        &["EVAL", "return redis.pcall('incr', 's')", "0"],
        &["EVAL", "return redis.pcall('incr', 's').err", "0"],
        &["EVAL", "return redis.call('set', 'f', 3.5)", "0"],
        &["GET", "f"],
        &["EVAL", "return redis.call('set', 'f', 0.1)", "0"],
        &["GET", "f"],
        &["EVAL", "return redis.call('incrby', 'n', 10)", "0"],
        &[
            "EVAL",
            "redis.setresp(3); return redis.call('hgetall', 'h')",
            "0",
        ],
        &[
            "EVAL",
            "redis.setresp(3); return redis.call('get', 'missing')",
            "0",
        ],
        &["EVAL", "redis.setresp(3); return true", "0"],
        &["EVAL", "redis.setresp(3); return false", "0"],
        &["EVAL", "return redis.call('select', 1)", "0"],
        &[
            "EVAL",
            "redis.call('select', 2); return redis.call('set', 'indb2', 1)",
            "0",
        ],
        &["EXISTS", "indb2"],
        &["SELECT", "2"],
        &["GET", "indb2"],
    ]);
}

#[test]
fn errors_carry_the_script_position() {
    assert_same_as_redis(&[
        &["SET", "s", "a"],
        &["EVAL", "return redis.call('incr', 's')", "0"],
        &["EVAL", "local x = 1\nreturn redis.call('incr', 's')", "0"],
        &["EVAL", "return redis.call('incr', 'x', 'y')", "0"],
        &["EVAL", "return redis.call('nosuch')", "0"],
        &["EVAL", "return redis.call('config')", "0"],
        &["EVAL", "return redis.call('config', 'nosuch')", "0"],
        &["EVAL", "return redis.call('multi')", "0"],
        &["EVAL", "return redis.call('blpop', 'l', 0)", "0"],
        &["EVAL", "return redis.call('eval', 'return 1', 0)", "0"],
        &["EVAL", "return redis.call()", "0"],
        &["EVAL", "return redis.call({})", "0"],
        &["EVAL", "return redis.pcall()", "0"],
        &["EVAL", "error('x')", "0"],
        &["EVAL", "error({err='FOO bar'})", "0"],
        &["EVAL", "return +", "0"],
        &["EVAL", "return redis.setresp(4)", "0"],
        &["EVAL", "return redis.setresp()", "0"],
        &["EVAL", "redis.log(1)", "0"],
        &["EVAL", "redis.log('x', 'y')", "0"],
        &["EVAL", "redis.log(9, 'y')", "0"],
        &["EVAL", "redis.log(redis.LOG_WARNING, 'from a script')", "0"],
        &["EVAL", "return redis.set_repl(9)", "0"],
        &["EVAL", "return redis.set_repl()", "0"],
        &["EVAL", "redis.set_repl(redis.REPL_ALL); return 1", "0"],
        &["EVAL", "return redis.sha1hex()", "0"],
        &["EVAL_RO", "return redis.call('set', 'a', 'b')", "0"],
        &["EVAL_RO", "return redis.call('get', 's')", "0"],
        &["EVAL", "return 1", "1"],
        &["EVAL", "return 1", "-1"],
        &["EVAL", "return 1", "x"],
        &["EVAL", "return 1"],
        &["EVAL_RO", "return 1", "2", "a"],
    ]);
}

#[test]
fn the_sandbox_is_redis_sandbox() {
    assert_same_as_redis(&[
        &["EVAL", "a = 1", "0"],
        &["EVAL", "function f() end", "0"],
        &["EVAL", "return foo", "0"],
        &["EVAL", "return os", "0"],
        &["EVAL", "return io", "0"],
        &["EVAL", "return loadfile", "0"],
        &["EVAL", "return dofile", "0"],
        &["EVAL", "return print", "0"],
        &["EVAL", "return require", "0"],
        &["EVAL", "return debug", "0"],
        &["EVAL", "return setfenv", "0"],
        &["EVAL", "local t = {}; t.x = 1; return t.x", "0"],
        &["EVAL", "return {type(string), type(table), type(math), type(bit), type(cjson), type(unpack)}", "0"],
        &["EVAL", "return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM, redis.LOG_WARNING, redis.REPL_ALL}", "0"],
        &["EVAL", "return redis.replicate_commands()", "0"],
        &["EVAL", "return redis.sha1hex('')", "0"],
        &["EVAL", "return redis.sha1hex('abc')", "0"],
        &["EVAL", "return pcall(function() return undefined_thing end)", "0"],
        &["EVAL", "local ok, e = pcall(redis.call, 'incr', 'x', 'y'); return {tostring(ok), e}", "0"],
        &["EVAL", "local ok, e = pcall(error, {err='X y'}); return e", "0"],
        &["EVAL", "local ok, e = pcall(error, {1}); return e", "0"],
        &["EVAL", "return {pcall(function() return 1, nil, 3 end)}", "0"],
    ]);
}

#[test]
fn bit_and_cjson_match_redis() {
    assert_same_as_redis(&[
        &["EVAL", "return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0)}", "0"],
        &["EVAL", "return {bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.tobit(4294967297)}", "0"],
        &["EVAL", "return {bit.tohex(-1), bit.tohex(255, 2), bit.tohex(255, -4), bit.rol(1, 33), bit.bswap(1)}", "0"],
        &["EVAL", "return cjson.encode({1, 2.5, 'a', {x=1}, 1e20, 0.1, -0, 1/3})", "0"],
        &["EVAL", "return cjson.encode({a={b=true}})", "0"],
        &["EVAL", "return cjson.encode({})", "0"],
        &["EVAL", "return cjson.encode('a/b\"c\\n\\1')", "0"],
        &["EVAL", "return cjson.encode({[1]=1, [3]=3})", "0"],
        &["EVAL", "return cjson.encode({[20]=1})", "0"],
        &["EVAL", "return cjson.encode(function() end)", "0"],
        &["EVAL", "return cjson.encode(1/0)", "0"],
        &["EVAL", "return cjson.encode({[true]=1})", "0"],
        &["EVAL", "return cjson.decode('[1,2.5,\"x\",{\"a\":null}]')", "0"],
        &["EVAL", "return cjson.decode('{\"a\":[1,2,3]}').a[3]", "0"],
        &["EVAL", "return cjson.decode('\"\\\\u00e9\\\\n\"')", "0"],
        &["EVAL", "return cjson.decode('[1,')", "0"],
        &["EVAL", "return cjson.decode('')", "0"],
        &["EVAL", "return type(cjson.decode('null'))", "0"],
        &["EVAL", "return cjson.encode(cjson.decode('{\"k\":[true,false,null,-1.5e3]}'))", "0"],
    ]);
}

#[test]
fn evalsha_and_script_subcommands() {
    assert_same_as_redis(&[
        &["SCRIPT", "FLUSH"],
        &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
        &["SCRIPT", "LOAD", "return 1"],
        &[
            "SCRIPT",
            "EXISTS",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB",
            "x",
        ],
        &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
        &["EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"],
        &[
            "EVALSHA_RO",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
            "0",
        ],
        &["EVALSHA", "short", "0"],
        &["EVAL", "return 2", "0"],
        &["EVALSHA", "7f923f79fe76194c868d7e1d0820de36700eb649", "0"],
        &["SCRIPT", "LOAD", "return +"],
        &["SCRIPT", "FLUSH", "ASYNC"],
        &["SCRIPT", "FLUSH", "SYNC"],
        &["SCRIPT", "FLUSH", "x"],
        &["SCRIPT", "FLUSH", "SYNC", "x"],
        &[
            "SCRIPT",
            "EXISTS",
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
        ],
        &["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
        &["SCRIPT", "KILL"],
        &["SCRIPT", "HELP"],
        &["SCRIPT", "NOSUCH"],
        &["SCRIPT", "LOAD"],
        &["SCRIPT", "EXISTS"],
        &["SCRIPT"],
        &["EVALSHA"],
        &["COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"],
    ]);
}

#[test]
fn scripts_inside_multi_and_blocking_commands_do_not_block() {
    assert_same_as_redis(&[
        &["MULTI"],
        &["EVAL", "return redis.call('incr', 'm')", "0"],
        &["EVAL", "return redis.call('incr', 'm')", "0"],
        &["EXEC"],
        &[
            "EVAL",
            "return redis.call('blmpop', 0, 1, 'nolist', 'LEFT')",
            "0",
        ],
        &[
            "EVAL",
            "return redis.call('xread', 'STREAMS', 'nostream', '$')",
            "0",
        ],
    ]);
}

#[test]
fn shebang_flags() {
    assert_same_as_redis(&[
        &["EVAL", "#!lua\nreturn redis.call('set', 'k', 'v')", "0"],
        &[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('set', 'k', 'v')",
            "0",
        ],
        &[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('get', 'k')",
            "0",
        ],
        &["EVAL_RO", "#!lua\nreturn redis.call('get', 'k')", "0"],
        &[
            "EVAL_RO",
            "#!lua flags=no-writes,allow-oom\nreturn redis.call('get', 'k')",
            "0",
        ],
        &["EVAL", "#!lua flags=bogus\nreturn 1", "0"],
        &["EVAL", "#!lua bogus\nreturn 1", "0"],
        &["EVAL", "#!python\nreturn 1", "0"],
        &["EVAL", "#!lua", "0"],
        &["EVAL", "#!lua\nerror('on line two')", "0"],
        &["SCRIPT", "LOAD", "#!lua flags=bogus\nreturn 1"],
    ]);
}

/// A script moves value between two keys while readers MGET both: the sum is never seen half moved.
#[test]
fn a_script_is_atomic_for_other_clients() {
    const ROUNDS: usize = 3_000;
    let s = Server::start();
    let mut c = s.client();
    c.cmd(&["MSET", "acct:a", "1000", "acct:b", "0"]);
    let done = Arc::new(AtomicBool::new(false));
    let mover = {
        let mut c = s.client();
        thread::spawn(move || {
            let script = "local n = tonumber(ARGV[1]); redis.call('decrby', KEYS[1], n); \
                          redis.call('incrby', KEYS[2], n); return n";
            for i in 0..ROUNDS {
                let (from, to) = if i % 2 == 0 {
                    ("acct:a", "acct:b")
                } else {
                    ("acct:b", "acct:a")
                };
                assert_eq!(c.cmd(&["EVAL", script, "2", from, to, "7"]), ":7\r\n");
            }
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (mut c, done) = (s.client(), done.clone());
            thread::spawn(move || {
                let mut reads = 0;
                while !done.load(Ordering::Relaxed) {
                    let reply = c.cmd(&["MGET", "acct:a", "acct:b"]);
                    let nums: Vec<i64> =
                        reply.split("\r\n").filter_map(|l| l.parse().ok()).collect();
                    assert_eq!(nums.len(), 2, "{reply}");
                    assert_eq!(nums[0] + nums[1], 1000, "half a script seen: {reply}");
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    mover.join().expect("mover");
    done.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("reader") > 0);
    }
    assert_eq!(
        c.cmd(&["MGET", "acct:a", "acct:b"]),
        "*2\r\n$4\r\n1000\r\n$1\r\n0\r\n"
    );
}

#[test]
fn unpack_bounds_and_many_arguments() {
    assert_same_as_redis(&[
        &["EVAL", "return {unpack({1,2,3}, -2, 2147483647)}", "0"],
        &["EVAL", "return {unpack({1,2,3}, 0, 2147483647)}", "0"],
        &["EVAL", "return {unpack({1,2,3}, -2147483648, -2)}", "0"],
        &["EVAL", "return {unpack({1,2,3}, -1, -2)}", "0"],
        &["EVAL", "return {unpack({1,2,3}, 2)}", "0"],
        &[
            "EVAL",
            "local a = {} for i=1,7999 do a[i] = 1 end return redis.call('lpush', 'l', unpack(a))",
            "0",
        ],
        &[
            "EVAL",
            "return redis.call('lpush', 'l', 'a', nil, 'b')",
            "0",
        ],
    ]);
}

#[test]
fn info_memory_counts_cached_scripts() {
    let s = Server::start();
    let mut c = s.client();
    let info = |c: &mut common::Client| c.cmd(&["INFO", "memory"]);
    assert!(info(&mut c).contains("number_of_cached_scripts:0\r\n"));
    c.cmd(&["SCRIPT", "LOAD", "return 1"]);
    c.cmd(&["EVAL", "return 2", "0"]);
    // INFO from inside a script must not wait for the engine the script holds.
    let inner = c.cmd(&["EVAL", "return redis.call('info', 'memory')", "0"]);
    assert!(inner.contains("number_of_cached_scripts:3\r\n"), "{inner}");
    c.cmd(&["SCRIPT", "FLUSH"]);
    assert!(info(&mut c).contains("number_of_cached_scripts:0\r\n"));
}

#[test]
fn libraries_and_metatables_are_read_only() {
    assert_same_as_redis(&[
        &["EVAL", "setmetatable(_G, {})", "0"],
        &["EVAL", "local g = getmetatable(_G); g.__index = {}", "0"],
        &["EVAL", "redis = function() return 1 end", "0"],
        &["EVAL", "_G = {}", "0"],
        &["EVAL", "redis.call = function() return 1 end", "0"],
        &["EVAL", "cjson.encode = function() return 1 end", "0"],
        &["EVAL", "bit.lshift = function() return 1 end", "0"],
        &["EVAL", "string.x = 1", "0"],
        &[
            "EVAL",
            "getmetatable('').__index = function() return 1 end",
            "0",
        ],
        &["EVAL", "rawset(_G, 'x', 1)", "0"],
        &[
            "EVAL",
            "return loadstring(string.dump(function() return 1 end))()",
            "0",
        ],
        &["EVAL", "return loadstring('return 7')()", "0"],
        &["EVAL", "return ('abc'):upper()", "0"],
        &[
            "EVAL",
            "local t = setmetatable({}, {__index = function() return 5 end}); return t.x",
            "0",
        ],
        &["EVAL", "return loadfile", "0"],
    ]);
}

/// A script that runs past `busy-reply-threshold`: other clients are answered BUSY (but for ALLOW_BUSY commands),
/// SCRIPT KILL stops it while it has not written, and refuses once it has. The same on both servers.
fn busy_and_kill(srv: &Server) -> Vec<String> {
    let mut seen = Vec::new();
    let mut admin = srv.client();
    assert_eq!(
        admin.cmd(&["config", "set", "busy-reply-threshold", "100"]),
        "+OK\r\n"
    );
    seen.push(admin.cmd(&["script", "kill"]));
    let mut looping = srv.client();
    looping.send(&["eval", "while true do end", "0"]);
    seen.push(first_reply_unlike(&mut admin, &["ping"], "+PONG\r\n"));
    seen.push(admin.cmd(&["get", "x"]));
    seen.push(admin.cmd(&["script", "kill"]));
    seen.push(looping.read_reply());
    seen.push(admin.cmd(&["ping"]));
    looping.send(&["eval", "redis.call('set', 'x', '1') while true do end", "0"]);
    // Once the script runs past the threshold, PING is answered BUSY; then SCRIPT KILL refuses (it wrote).
    first_reply_unlike(&mut admin, &["ping"], "+PONG\r\n");
    seen.push(admin.cmd(&["script", "kill"]));
    seen
}

/// Sends `cmd` until the reply is not `unlike` (a script sent on another connection has not started, or not yet
/// run past the busy threshold, however loaded the machine), and returns that reply.
fn first_reply_unlike(c: &mut common::Client, cmd: &[&str], unlike: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let reply = c.cmd(cmd);
        if reply != unlike {
            return reply;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{cmd:?} stayed {unlike:?}"
        );
        thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn script_kill_and_busy_as_redis() {
    let ours = busy_and_kill(&Server::start());
    assert_eq!(
        ours[1],
        "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n"
    );
    assert_eq!(ours[3], "+OK\r\n");
    assert!(
        ours[4].starts_with("-ERR Script killed by user with SCRIPT KILL..."),
        "{ours:?}"
    );
    assert!(ours[6].starts_with("-UNKILLABLE "), "{ours:?}");
    if let Some(redis) = Server::start_redis() {
        assert_eq!(ours, busy_and_kill(&redis));
    }
}

/// The debugger's hooks outside a debugging session: `redis.breakpoint()` is not taken, `redis.debug()` prints
/// nothing and returns nothing, as redis-server answers.
#[test]
fn debugger_hooks_are_inert_outside_a_session() {
    assert_same_as_redis(&[
        &[
            "EVAL",
            "local a = redis.breakpoint(); local b = redis.debug('x', 1); return {tostring(a), tostring(b)}",
            "0",
        ],
        &["EVAL", "return redis.debug('x')", "0"],
        &["SCRIPT", "DEBUG", "NO"],
    ]);
}

#[test]
fn lua_enable_deprecated_api_keeps_setfenv_getfenv_and_newproxy() {
    let args = ["--lua-enable-deprecated-api", "yes"];
    let scripts = [
        "local f = function() return 1 end; setfenv(f, {}); return 0",
        "local f = function() return 1 end; getfenv(f); return 0",
        "getmetatable(newproxy(true)).__gc = function() return 1 end; return 0",
    ];
    let ours = Server::start_with(&args);
    let mut c = ours.client();
    for script in scripts {
        assert_eq!(c.cmd(&["EVAL", script, "0"]), ":0\r\n", "{script}");
    }
    // Fixed at start-up, as in Redis.
    let set = ["CONFIG", "SET", "lua-enable-deprecated-api", "no"];
    let refused = c.cmd(&set);
    assert!(refused.starts_with("-ERR CONFIG SET failed"), "{refused}");
    if let Some(redis) = Server::start_redis_with(&args) {
        let mut r = redis.client();
        for script in scripts {
            assert_eq!(r.cmd(&["EVAL", script, "0"]), ":0\r\n", "{script}");
        }
        assert_eq!(r.cmd(&set), refused);
    }
    // Without it, they are missing globals (the_sandbox_is_redis_sandbox compares the error with Redis's).
    let plain = Server::start();
    let mut p = plain.client();
    let e = p.cmd(&["EVAL", scripts[2], "0"]);
    assert!(
        e.contains("Script attempted to access nonexistent global variable 'newproxy'"),
        "{e}"
    );
}
