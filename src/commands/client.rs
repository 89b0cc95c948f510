//! CLIENT and its subcommands, over the registry in `server::clients`.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;

use super::flags::*;
use super::introspection::help_reply;
use super::{table, Args, Command, Ctx};
use crate::protocol::Reply;
use crate::server::clients::{ClientInfo, ClientState};
use crate::util::numbers::parse_i64;
use crate::util::time::now_ms;

const ADMIN_SUB: u32 = ADMIN | NOSCRIPT | LOADING | STALE;
const PLAIN_SUB: u32 = NOSCRIPT | LOADING | STALE;

const SUBCOMMANDS: &[Command] = &[
    sub("id", 2, PLAIN_SUB, id, "5.0.0", "Returns the client ID for the current connection").complexity("O(1)"),
    sub("setname", 3, PLAIN_SUB, setname, "2.6.9", "Set the current connection name").complexity("O(1)"),
    sub("getname", 2, PLAIN_SUB, getname, "2.6.9", "Get the current connection name").complexity("O(1)"),
    sub("list", -2, ADMIN_SUB | ORDERED, list, "2.4.0", "Get the list of client connections").complexity("O(N) where N is the number of client connections"),
    sub("info", 2, PLAIN_SUB, info, "6.2.0", "Returns information about the current client connection.").complexity("O(1)"),
    sub("kill", -3, ADMIN_SUB | ORDERED, kill, "2.4.0", "Kill the connection of a client").complexity("O(N) where N is the number of client connections"),
    sub("setinfo", 4, PLAIN_SUB, setinfo, "7.2.0", "Set client or connection specific info").complexity("O(1)"),
    sub("no-evict", 3, ADMIN_SUB, no_evict, "7.0.0", "Set client eviction mode for the current connection").complexity("O(1)"),
    sub("no-touch", 3, PLAIN_SUB, no_touch, "7.2.0", "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.").complexity("O(1)"),
    sub("reply", 3, PLAIN_SUB, reply, "3.2.0", "Instruct the server whether to reply to commands").complexity("O(1)"),
    crate::tracking::commands::CLIENT_TRACKING,
    crate::tracking::commands::CLIENT_CACHING,
    crate::tracking::commands::CLIENT_GETREDIR,
    crate::tracking::commands::CLIENT_TRACKINGINFO,
    // Owned by the blocking feature, which knows its waiters.
    crate::blocking::CLIENT_UNBLOCK.complexity("O(log N) where N is the number of client connections"),
    // Owned by `crate::ops`, with the pause itself.
    crate::ops::CLIENT_PAUSE,
    crate::ops::CLIENT_UNPAUSE,
    sub("help", 2, LOADING | STALE, help, "5.0.0", "Show helpful text about the different subcommands").complexity("O(1)"),
];

const fn sub(
    name: &'static str,
    arity: i32,
    flags: u32,
    handler: super::Handler,
    since: &'static str,
    summary: &'static str,
) -> Command {
    Command::new(name, arity, flags, handler).doc("connection", since, summary)
}

pub const COMMANDS: &[Command] = &[Command::new("client", -2, 0, help)
    .doc(
        "connection",
        "2.4.0",
        "A container for client connection commands",
    )
    .complexity("Depends on subcommand.")
    .subcommands(SUBCOMMANDS)];

fn id(ctx: &mut Ctx, _args: Args) -> Reply {
    Reply::Int(ctx.client.id() as i64)
}

/// Redis's `validateClientAttr`: printable ASCII without spaces.
fn valid_attr(v: &[u8]) -> bool {
    v.iter().all(|&c| (b'!'..=b'~').contains(&c))
}

/// Names the client (empty clears), shared with HELLO ... SETNAME.
pub fn set_name(ctx: &mut Ctx, name: &[u8]) -> Result<(), Reply> {
    if !valid_attr(name) {
        return Err(Reply::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    *ctx.client.info.name.lock() = name.to_vec();
    Ok(())
}

fn setname(ctx: &mut Ctx, args: Args) -> Reply {
    match set_name(ctx, args.get(2)) {
        Ok(()) => Reply::Ok,
        Err(e) => e,
    }
}

fn getname(ctx: &mut Ctx, _args: Args) -> Reply {
    let name = ctx.client.info.name.lock();
    if name.is_empty() {
        Reply::Nil
    } else {
        Reply::bulk(&*name)
    }
}

fn setinfo(ctx: &mut Ctx, args: Args) -> Reply {
    let (attr, value) = (args.get(2), args.get(3));
    let info = &ctx.client.info;
    let slot = if attr.eq_ignore_ascii_case(b"lib-name") {
        &info.lib_name
    } else if attr.eq_ignore_ascii_case(b"lib-ver") {
        &info.lib_ver
    } else {
        return Reply::err(&format!(
            "Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        ));
    };
    if !valid_attr(value) {
        return Reply::err(&format!(
            "{} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr)
        ));
    }
    *slot.lock() = value.to_vec();
    Reply::Ok
}

fn on_off(ctx: &mut Ctx, args: Args, set: fn(&ClientInfo, bool)) -> Reply {
    let arg = args.get(2);
    let on = if arg.eq_ignore_ascii_case(b"on") {
        true
    } else if arg.eq_ignore_ascii_case(b"off") {
        false
    } else {
        return Reply::syntax_error();
    };
    set(&ctx.client.info, on);
    Reply::Ok
}

/// CLIENT REPLY ON|OFF|SKIP. OFF silences this very reply; SKIP silences this one and the next; the connection
/// loop applies it (`ClientState::reply_wanted`).
fn reply(ctx: &mut Ctx, args: Args) -> Reply {
    let mode = args.get(2);
    let c = &mut *ctx.client;
    if mode.eq_ignore_ascii_case(b"on") {
        c.reply_off = false;
        c.skip_replies = 0;
    } else if mode.eq_ignore_ascii_case(b"off") {
        c.reply_off = true;
    } else if mode.eq_ignore_ascii_case(b"skip") {
        if !c.reply_off {
            c.skip_replies = 2;
        }
    } else {
        return Reply::syntax_error();
    }
    Reply::Ok
}

fn no_evict(ctx: &mut Ctx, args: Args) -> Reply {
    on_off(ctx, args, |c, on| c.no_evict.store(on, Relaxed))
}

fn no_touch(ctx: &mut Ctx, args: Args) -> Reply {
    on_off(ctx, args, |c, on| c.no_touch.store(on, Relaxed))
}

/// Client types as CLIENT LIST TYPE / CLIENT KILL TYPE name them (Redis's `getClientTypeByName`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum ClientType {
    Normal,
    Replica,
    PubSub,
    Master,
}

fn client_type_by_name(name: &[u8]) -> Result<ClientType, Reply> {
    let lower = name.to_ascii_lowercase();
    Ok(match lower.as_slice() {
        b"normal" => ClientType::Normal,
        b"slave" | b"replica" => ClientType::Replica,
        b"pubsub" => ClientType::PubSub,
        b"master" => ClientType::Master,
        _ => {
            return Err(Reply::err(&format!(
                "Unknown client type '{}'",
                String::from_utf8_lossy(name)
            )))
        }
    })
}

fn client_type(c: &ClientInfo) -> ClientType {
    match c.repl_kind.load(Relaxed) {
        1 => return ClientType::Replica,
        2 => return ClientType::Master,
        _ => {}
    }
    if subscribed(c) {
        ClientType::PubSub
    } else {
        ClientType::Normal
    }
}

fn subscribed(c: &ClientInfo) -> bool {
    c.subscriptions.load(Relaxed) + c.psubscriptions.load(Relaxed) + c.ssubscriptions.load(Relaxed)
        > 0
}

/// The client running CLIENT LIST / INFO: its id, the command's full name and its arguments' size, which Redis
/// reports for that client only (the others are between commands).
pub struct Running<'a> {
    pub id: u64,
    pub cmd: &'a str,
    pub argv_mem: usize,
    /// How many arguments it has (the argument array counts in `tot-mem`).
    pub argc: usize,
}

impl<'a> Running<'a> {
    fn new(ctx: &Ctx, cmd: &'a str, args: Args) -> Self {
        Running {
            id: ctx.client.id(),
            cmd,
            argv_mem: args.iter().map(<[u8]>::len).sum(),
            argc: args.len(),
        }
    }
}

/// One line of CLIENT LIST / CLIENT INFO, with Redis 7's fields in Redis's order (7.2's lib-name and lib-ver at
/// the end, since ferredis has CLIENT SETINFO). `omem` is what a subscriber's or monitor's writer has yet to
/// write, or the replies a client has not taken, as Redis's reply list counts them; `tot-mem` counts the read buffer, the
/// arguments, `omem`, the replies the socket holds unsent and the overhead of subscriptions and watched keys
/// (what client eviction counts).
pub fn describe(c: &ClientInfo, running: &Running) -> String {
    let now = now_ms();
    let mut flags = String::new();
    match c.repl_kind.load(Relaxed) {
        1 => flags.push('S'),
        2 => flags.push('M'),
        _ => {}
    }
    if subscribed(c) {
        flags.push('P');
    }
    if c.multi_len.load(Relaxed) >= 0 {
        flags.push('x');
    }
    if c.blocked.load(Relaxed) {
        flags.push('b');
    }
    if c.watch_dirty.is_dirty() {
        flags.push('d');
    }
    if c.addr.is_unix() {
        flags.push('U');
    }
    if c.no_evict.load(Relaxed) {
        flags.push('e');
    }
    if c.no_touch.load(Relaxed) {
        flags.push('T');
    }
    if flags.is_empty() {
        flags.push('N');
    }
    // The client asking sees the command it is running, as in Redis.
    let me = running.id == c.id;
    let cmd = match c.last_cmd.load(Relaxed) {
        _ if me => running.cmd.to_string(),
        u32::MAX => "NULL".to_string(),
        id => table::get().full_name(id as usize).to_string(),
    };
    let ((qbuf, qbuf_free), (rbs, rbp)) = {
        let bufs = c.bufs.lock();
        (bufs.query(), bufs.reply())
    };
    let argv_mem = if me { running.argv_mem } else { 0 };
    let argc = if me { running.argc } else { 0 };
    let omem = c.output_memory();
    let multi_mem = c.multi_mem.load(Relaxed);
    let mut out = String::with_capacity(300);
    let _ = write!(
        out,
        "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={flags} db={} sub={} psub={} ssub={} \
         multi={} qbuf={qbuf} qbuf-free={qbuf_free} argv-mem={argv_mem} multi-mem={multi_mem} rbs={rbs} rbp={rbp} obl=0 oll=0 omem={omem} \
         tot-mem={} \
         events=r cmd={cmd} user={} redir=-1 resp={} lib-name={} lib-ver={}",
        c.id,
        c.addr,
        c.laddr,
        c.fd,
        String::from_utf8_lossy(&c.name.lock()),
        (now - c.created_ms) / 1000,
        (now - c.last_interaction_ms.load(Relaxed)) / 1000,
        c.db.load(Relaxed),
        c.subscriptions.load(Relaxed),
        c.psubscriptions.load(Relaxed),
        c.ssubscriptions.load(Relaxed),
        c.multi_len.load(Relaxed),
        crate::memory::clients::total(c, argv_mem, argc),
        String::from_utf8_lossy(&c.user.lock()),
        c.resp.load(Relaxed),
        String::from_utf8_lossy(&c.lib_name.lock()),
        String::from_utf8_lossy(&c.lib_ver.lock()),
    );
    out
}

/// The client as CLIENT LIST shows it while it runs `cmd` (ACL LOG's `client-info`).
pub fn describe_current(client: &ClientState, cmd: &str, argv_mem: usize) -> String {
    let running = Running {
        id: client.id(),
        cmd,
        argv_mem,
        argc: 0,
    };
    describe(&client.info, &running)
}

fn info(ctx: &mut Ctx, args: Args) -> Reply {
    let running = Running::new(ctx, "client|info", args);
    let mut line = describe(&ctx.client.info, &running);
    line.push('\n');
    Reply::Verbatim("txt", line.into_bytes())
}

fn list(ctx: &mut Ctx, args: Args) -> Reply {
    let mut chosen: Vec<std::sync::Arc<ClientInfo>> = Vec::new();
    if args.len() == 4 && args.get(2).eq_ignore_ascii_case(b"type") {
        let wanted = match client_type_by_name(args.get(3)) {
            Ok(t) => t,
            Err(e) => return e,
        };
        chosen = ctx
            .server
            .clients
            .all()
            .into_iter()
            .filter(|c| client_type(c) == wanted)
            .collect();
    } else if args.len() > 3 && args.get(2).eq_ignore_ascii_case(b"id") {
        for arg in args.iter().skip(3) {
            let Some(id) = parse_i64(arg) else {
                return Reply::err("Invalid client ID");
            };
            chosen.extend(ctx.server.clients.get(id as u64));
        }
    } else if args.len() != 2 {
        return Reply::syntax_error();
    } else {
        chosen = ctx.server.clients.all();
    }
    let running = Running::new(ctx, "client|list", args);
    let mut out = String::new();
    // A killed client is gone for Redis at once, even if its thread has not noticed yet.
    for c in chosen.iter().filter(|c| !c.killed.load(Relaxed)) {
        out.push_str(&describe(c, &running));
        out.push('\n');
    }
    Reply::Verbatim("txt", out.into_bytes())
}

/// What CLIENT KILL's filters select; unset filters match every client.
#[derive(Default)]
struct KillFilter<'a> {
    id: Option<u64>,
    addr: Option<&'a [u8]>,
    laddr: Option<&'a [u8]>,
    kind: Option<ClientType>,
    user: Option<&'a [u8]>,
    skipme: bool,
}

fn parse_kill_filter(args: Args) -> Result<KillFilter, Reply> {
    let mut f = KillFilter {
        skipme: true,
        ..Default::default()
    };
    let mut i = 2;
    while i < args.len() {
        let more = i + 1 < args.len();
        let opt = args.get(i).to_ascii_lowercase();
        if !more {
            return Err(Reply::syntax_error());
        }
        let v = args.get(i + 1);
        match opt.as_slice() {
            b"id" => match parse_i64(v) {
                Some(id) if id >= 1 => f.id = Some(id as u64),
                _ => return Err(Reply::err("client-id should be greater than 0")),
            },
            b"type" => f.kind = Some(client_type_by_name(v)?),
            b"addr" => f.addr = Some(v),
            b"laddr" => f.laddr = Some(v),
            b"user" if crate::acl::acl().get(v).is_none() => {
                return Err(Reply::err(&format!(
                    "No such user '{}'",
                    String::from_utf8_lossy(v)
                )))
            }
            b"user" => f.user = Some(v),
            b"skipme" if v.eq_ignore_ascii_case(b"yes") => f.skipme = true,
            b"skipme" if v.eq_ignore_ascii_case(b"no") => f.skipme = false,
            _ => return Err(Reply::syntax_error()),
        }
        i += 2;
    }
    Ok(f)
}

fn kill(ctx: &mut Ctx, args: Args) -> Reply {
    // The pre-2.8.12 form, `CLIENT KILL ip:port`, replies OK or an error instead of a count.
    let old_form = args.len() == 3;
    let filter = if old_form {
        KillFilter {
            addr: Some(args.get(2)),
            skipme: false,
            ..Default::default()
        }
    } else {
        match parse_kill_filter(args) {
            Ok(f) => f,
            Err(e) => return e,
        }
    };
    let me = ctx.client.id();
    let mut killed = 0;
    let mut replicas = Vec::new();
    // A client already killed is gone for Redis, even if its thread has not noticed yet.
    for c in ctx.server.clients.live() {
        let matches = filter.id.is_none_or(|id| id == c.id)
            && filter
                .addr
                .is_none_or(|a| a == c.addr.to_string().as_bytes())
            && filter
                .laddr
                .is_none_or(|a| a == c.laddr.to_string().as_bytes())
            && filter.kind.is_none_or(|k| k == client_type(&c))
            && filter.user.is_none_or(|u| u == c.user.lock().as_slice());
        if !matches || (filter.skipme && c.id == me) {
            continue;
        }
        if c.id == me {
            // Our own reply must still go out: close after writing it, as Redis does.
            ctx.client.close_after_reply = true;
        } else {
            if c.repl_kind.load(Relaxed) == 1 {
                replicas.push(c.id);
            }
            c.kill();
        }
        killed += 1;
    }
    crate::replication::await_detached(ctx.server, &replicas);
    match (old_form, killed) {
        (true, 0) => Reply::err("No such client"),
        (true, _) => Reply::Ok,
        (false, n) => Reply::Int(n),
    }
}

fn help(_ctx: &mut Ctx, _args: Args) -> Reply {
    help_reply(
        "CLIENT",
        &[
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "SETINFO <option> <value>",
            "    Set client meta attr. Options are:",
            "    * LIB-NAME: the client lib name.",
            "    * LIB-VER: the client lib version.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "NO-TOUCH (ON|OFF)",
            "    Will not touch LRU/LFU stats when this mode is on.",
        ],
    )
}
