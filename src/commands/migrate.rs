//! MIGRATE: moves keys to another server by sending it `RESTORE` commands, as Redis's `migrateCommand`.
//!
//! The keys' shards stay write-locked for the whole exchange (the command declares its keys), so nobody changes a
//! key between its DUMP payload being taken and its deletion here: the move is atomic for every other client, as
//! in Redis, whose whole server waits on the target. Other keys stay available meanwhile. A MIGRATE to this same
//! server therefore waits for its `timeout` and answers `IOERR`, as Redis does.
//!
//! Connections to targets are cached by `host:port` for 10 s of idleness (at most 64), remembering the database
//! last selected there, as Redis's `migrate_cached_sockets` (INFO stats counts them).

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::flags::*;
use super::{Args, Command, Ctx};
use crate::commands::keyspec::prelude::*;
use crate::persist::rdb::payload;
use crate::protocol::Reply;
use crate::util::numbers::parse_i64;
use crate::util::time::now_ms;

pub const COMMANDS: &[Command] = &[Command::new("migrate", -6, WRITE, migrate)
    .acl(&["keyspace", "dangerous"])
    .key_specs(&[
        ks(RW | ACCESS | DELETE, Index(3), Range(0, 1, 0)),
        ks(
            RW | ACCESS | DELETE | INCOMPLETE,
            Keyword("KEYS", -2),
            Range(-1, 1, 0),
        ),
    ])
    .keys(3, 3, 1)
    .movable(migrate_keys)
    .doc(
        "generic",
        "2.6.0",
        "Atomically transfer a key from a Redis instance to another one.",
    )
    .complexity(
        "This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target \
instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two \
instances is performed.",
    )];

/// Idle cached connections are closed after this long (Redis's `MIGRATE_SOCKET_CACHE_TTL`).
const CACHE_TTL: Duration = Duration::from_secs(10);
/// At most this many cached connections (Redis's `MIGRATE_SOCKET_CACHE_ITEMS`).
const CACHE_ITEMS: usize = 64;
/// The longest reply line read from the target (Redis reads into 1 KB buffers).
const MAX_LINE: u64 = 64 * 1024;

/// Redis's `migrateGetKeys`: the key at 3, or every argument after a `KEYS` option found from index 6, skipping
/// the arguments of AUTH (one) and AUTH2 (two); KEYS with a non-empty key argument gives none (a syntax error).
fn migrate_keys(args: Args) -> Vec<usize> {
    let mut i = 6;
    while i < args.len() {
        let word = args.get(i).to_ascii_lowercase();
        match word.as_slice() {
            b"keys" if !args.get(3).is_empty() => return Vec::new(),
            b"keys" => return (i + 1..args.len()).collect(),
            b"auth" => i += 1,
            b"auth2" => i += 2,
            _ => {}
        }
        i += 1;
    }
    vec![3]
}

/// MIGRATE's options, parsed in Redis's order.
struct Options<'a> {
    copy: bool,
    replace: bool,
    auth: Option<(Option<&'a [u8]>, &'a [u8])>,
    keys: Vec<&'a [u8]>,
    timeout: Duration,
    db: i64,
}

fn parse(args: Args) -> Result<Options, Reply> {
    let (mut copy, mut replace, mut auth) = (false, false, None);
    let mut keys = vec![args.get(3)];
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let word = args.get(j).to_ascii_lowercase();
        match word.as_slice() {
            b"copy" => copy = true,
            b"replace" => replace = true,
            b"auth" if more >= 1 => {
                auth = Some((None, args.get(j + 1)));
                j += 1;
            }
            b"auth2" if more >= 2 => {
                auth = Some((Some(args.get(j + 1)), args.get(j + 2)));
                j += 2;
            }
            b"keys" => {
                if !args.get(3).is_empty() {
                    return Err(Reply::err(
                        "When using MIGRATE KEYS option, the key argument must be set to the empty string",
                    ));
                }
                keys = args.iter().skip(j + 1).collect();
                break;
            }
            _ => return Err(Reply::err("syntax error")),
        }
        j += 1;
    }
    let (Some(timeout), Some(db)) = (parse_i64(args.get(5)), parse_i64(args.get(4))) else {
        return Err(Reply::not_integer());
    };
    let timeout = Duration::from_millis(if timeout <= 0 { 1000 } else { timeout as u64 });
    Ok(Options {
        copy,
        replace,
        auth,
        keys,
        timeout,
        db,
    })
}

fn migrate(ctx: &mut Ctx, args: Args) -> Reply {
    let o = match parse(args) {
        Ok(o) => o,
        Err(e) => return e,
    };
    // The keys to move, with their payloads and remaining TTLs (0 for none), as Redis builds its RESTOREs.
    let enc = crate::persist::dump_encoder(ctx);
    let now = now_ms();
    let mut moving: Vec<(&[u8], Vec<u8>, i64)> = Vec::new();
    for key in &o.keys {
        if ctx.lookup_entry(key).is_none() {
            continue;
        }
        let ttl = match ctx.keys.expire_at(ctx.db(), key) {
            Some(at) if at - now < 0 => continue,
            Some(at) => (at - now).max(1),
            None => 0,
        };
        let Some(entry) = ctx.peek_entry(key) else {
            continue;
        };
        moving.push((key, payload::dump(&entry.value, &enc), ttl));
    }
    if moving.is_empty() {
        return Reply::status("NOKEY");
    }
    let target = format!(
        "{}:{}",
        String::from_utf8_lossy(args.get(1)),
        String::from_utf8_lossy(args.get(2))
    );
    let (outcomes, link_error) = transfer(&target, &o, &moving);
    let mut deleted: Vec<&[u8]> = vec![b"DEL"];
    let mut first_error = None;
    for ((key, ..), outcome) in moving.iter().zip(outcomes) {
        match outcome {
            Err(text) => {
                first_error.get_or_insert(text);
            }
            Ok(()) if !o.copy => {
                if ctx.delete(key) {
                    ctx.changed(key, 'g', "del");
                    deleted.push(key);
                }
            }
            Ok(()) => {}
        }
    }
    // Replicas and the AOF see the keys that left as one DEL, as Redis rewrites the command.
    if deleted.len() > 1 {
        ctx.propagate_as(&deleted);
    }
    match (first_error, link_error) {
        (Some(text), _) => Reply::error(format!("ERR Target instance replied with error: {text}")),
        (None, Some(e)) => e.reply(),
        (None, None) => Reply::Ok,
    }
}

/// A cached connection to a target and the database last selected on it.
struct Link {
    reader: BufReader<TcpStream>,
    db: i64,
    used: Instant,
}

fn cache() -> &'static Mutex<HashMap<String, Link>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Link>>> = OnceLock::new();
    CACHE.get_or_init(|| {
        // Redis closes idle cached sockets from its cron, once a second.
        let reaper = std::thread::Builder::new().name("migrate-cache".into());
        let _ = reaper.spawn(|| loop {
            std::thread::sleep(Duration::from_secs(1));
            cache()
                .lock()
                .retain(|_, link| link.used.elapsed() <= CACHE_TTL);
        });
        Mutex::new(HashMap::new())
    })
}

/// INFO stats `migrate_cached_sockets`.
pub fn cached_sockets() -> usize {
    cache().lock().len()
}

/// What went wrong talking to the target, in Redis's words.
enum LinkError {
    Connect,
    Write(io::Error),
    Read(io::Error),
}

impl LinkError {
    fn timed_out(&self) -> bool {
        match self {
            LinkError::Connect => false,
            LinkError::Write(e) | LinkError::Read(e) => {
                matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                )
            }
        }
    }

    fn reply(&self) -> Reply {
        Reply::error(match self {
            LinkError::Connect => "IOERR error or timeout connecting to the client",
            LinkError::Write(_) => "IOERR error or timeout writing to target instance",
            LinkError::Read(_) => "IOERR error or timeout reading to target instance",
        })
    }
}

/// What the target answered for each key (`Err` holds its error line without the `-`), in order, and the link
/// error that cut the exchange short, if any (the keys after it have no outcome).
type Outcomes = (Vec<Result<(), String>>, Option<LinkError>);

/// Sends the RESTOREs and reads each key's outcome. A link error before any key was answered retries once on a
/// fresh connection (a cached connection the target closed), unless it timed out, as Redis's `socket_err` path.
fn transfer(target: &str, o: &Options, moving: &[(&[u8], Vec<u8>, i64)]) -> Outcomes {
    let mut retried = false;
    loop {
        let mut link = match take_link(target, o.timeout) {
            Ok(link) => link,
            Err(e) => return (Vec::new(), Some(e)),
        };
        let (outcomes, error) = exchange(&mut link, o, moving);
        match error {
            None => {
                // After any error the database selected there is no longer known.
                link.db = if outcomes.iter().all(Result::is_ok) {
                    o.db
                } else {
                    -1
                };
                put_link(target, link);
                return (outcomes, None);
            }
            Some(e) if outcomes.is_empty() && !e.timed_out() && !retried => retried = true,
            Some(e) => return (outcomes, Some(e)),
        }
    }
}

fn take_link(target: &str, timeout: Duration) -> Result<Link, LinkError> {
    let mut cache = cache().lock();
    if let Some(mut link) = cache.remove(target) {
        link.used = Instant::now();
        return Ok(link);
    }
    if cache.len() >= CACHE_ITEMS {
        if let Some(victim) = cache.keys().next().cloned() {
            cache.remove(&victim);
        }
    }
    drop(cache);
    let addr = target
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or(LinkError::Connect)?;
    // Redis connects without blocking and waits for the socket to turn writable: only a timeout (or an address it
    // cannot use) fails the connection itself; a refusal shows when it writes the request.
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => LinkError::Connect,
        _ => LinkError::Write(e),
    })?;
    let _ = stream.set_nodelay(true);
    Ok(Link {
        reader: BufReader::new(stream),
        db: -1,
        used: Instant::now(),
    })
}

fn put_link(target: &str, link: Link) {
    cache().lock().insert(target.to_owned(), link);
}

/// One round trip: AUTH and SELECT if needed, a RESTORE per key, then their replies in order.
fn exchange(link: &mut Link, o: &Options, moving: &[(&[u8], Vec<u8>, i64)]) -> Outcomes {
    let select = link.db != o.db;
    let mut out = Vec::new();
    if let Some((user, pass)) = o.auth {
        let mut cmd: Vec<&[u8]> = vec![b"AUTH"];
        cmd.extend(user);
        cmd.push(pass);
        encode(&mut out, &cmd);
    }
    if select {
        encode(&mut out, &[b"SELECT", o.db.to_string().as_bytes()]);
    }
    for (key, payload, ttl) in moving {
        let ttl = ttl.to_string();
        let mut cmd: Vec<&[u8]> = vec![b"RESTORE", key, ttl.as_bytes(), payload];
        if o.replace {
            cmd.push(b"REPLACE");
        }
        encode(&mut out, &cmd);
    }
    let stream = link.reader.get_mut();
    let _ = stream.set_write_timeout(Some(o.timeout));
    let _ = stream.set_read_timeout(Some(o.timeout));
    if let Err(e) = stream.write_all(&out) {
        return (Vec::new(), Some(LinkError::Write(e)));
    }
    // A failed AUTH or SELECT fails every key, as Redis checks them with each reply.
    let mut before = None;
    for _ in 0..usize::from(o.auth.is_some()) + usize::from(select) {
        match read_line(&mut link.reader) {
            Ok(line) => before = before.or(error_of(line)),
            Err(e) => return (Vec::new(), Some(e)),
        }
    }
    let mut outcomes = Vec::with_capacity(moving.len());
    for _ in moving {
        match read_line(&mut link.reader) {
            Ok(line) => outcomes.push(match before.clone().or(error_of(line)) {
                Some(text) => Err(text),
                None => Ok(()),
            }),
            Err(e) => return (outcomes, Some(e)),
        }
    }
    (outcomes, None)
}

/// The text of an error line (without its `-`), `None` for any other reply.
fn error_of(line: String) -> Option<String> {
    line.strip_prefix('-').map(str::to_owned)
}

fn read_line(reader: &mut BufReader<TcpStream>) -> Result<String, LinkError> {
    let mut line = Vec::new();
    let n = reader
        .by_ref()
        .take(MAX_LINE)
        .read_until(b'\n', &mut line)
        .map_err(LinkError::Read)?;
    if n == 0 || !line.ends_with(b"\n") {
        return Err(LinkError::Read(io::ErrorKind::UnexpectedEof.into()));
    }
    let text = String::from_utf8_lossy(&line);
    Ok(text.trim_end_matches(['\r', '\n']).to_owned())
}

fn encode(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}
