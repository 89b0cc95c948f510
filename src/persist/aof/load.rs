//! Loading the AOF: the base file (an RDB, or commands) then each increment file, replayed command by command
//! through the normal command path by a fake client, as Redis's `loadAppendOnlyFiles` and
//! `loadSingleAppendOnlyFile`, with their log lines, `aof-load-truncated` and their refusals.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::time::Instant;

use super::manifest::Manifest;
use crate::commands::dispatch::{self, Resolved};
use crate::commands::{table, transaction};
use crate::persist::rdbfile::{self, Duplicates};
use crate::protocol::Frame;
use crate::server::clients::ClientState;
use crate::server::Server;

/// How one file's load ended (Redis's `AOF_OK`, `AOF_EMPTY`, `AOF_TRUNCATED`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    NotExist,
    Empty,
    Truncated,
    OpenErr,
    Failed,
}

/// What a whole load found: its outcome, the total and the base file's sizes.
pub struct Loaded {
    pub outcome: Outcome,
    pub total_size: u64,
    pub base_size: u64,
}

/// Loads every file of `am` from `dir` (Redis's `loadAppendOnlyFiles`, after the upgrade step).
pub fn load_files(server: &Server, dir: &Path, am: &Manifest) -> Loaded {
    let mut loaded = Loaded {
        outcome: Outcome::Ok,
        total_size: 0,
        base_size: 0,
    };
    if am.base.is_none() && am.incrs.is_empty() {
        loaded.outcome = Outcome::NotExist;
        return loaded;
    }
    let files: Vec<_> = am.base.iter().chain(&am.incrs).collect();
    for f in &files {
        match std::fs::metadata(dir.join(&f.name)) {
            Ok(m) => loaded.total_size += m.len(),
            Err(e) => {
                log::warn!(
                    "Unable to obtain the AOF file {} length. stat: {}",
                    f.name,
                    crate::config::special::strerror(&e)
                );
                loaded.outcome = Outcome::Failed;
                return loaded;
            }
        }
    }
    if loaded.total_size == 0 {
        loaded.outcome = Outcome::Empty;
        return loaded;
    }
    let mut fake = match FakeClient::new(server) {
        Ok(f) => f,
        Err(e) => {
            log::warn!("Can't create the AOF loading client: {e}");
            loaded.outcome = Outcome::Failed;
            return loaded;
        }
    };
    for (i, f) in files.iter().enumerate() {
        let last = i + 1 == files.len();
        let is_base = am.base.as_ref() == Some(*f);
        if is_base {
            loaded.base_size = std::fs::metadata(dir.join(&f.name)).map_or(0, |m| m.len());
        }
        let start = Instant::now();
        let mut ret = load_one(server, &mut fake, dir, &f.name, false);
        if ret == Outcome::Ok || (ret == Outcome::Truncated && last) {
            let kind = if is_base { "base" } else { "incr" };
            log::info!(
                "DB loaded from {kind} file {}: {} seconds",
                f.name,
                rdbfile::seconds_since(start)
            );
        }
        if ret == Outcome::Empty && !is_base {
            ret = Outcome::Ok;
        }
        if ret == Outcome::Truncated && !last {
            ret = Outcome::Failed;
            log::warn!("Fatal error: the truncated file is not the last file");
        }
        loaded.outcome = ret;
        if matches!(ret, Outcome::OpenErr | Outcome::Failed) {
            break;
        }
    }
    loaded
}

/// Loads one file (Redis's `loadSingleAppendOnlyFile`). `old_style` is the single-file AOF of Redis < 7.
pub fn load_one(
    server: &Server,
    fake: &mut FakeClient,
    dir: &Path,
    name: &str,
    old_style: bool,
) -> Outcome {
    let path = dir.join(name);
    let mut file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            log::warn!(
                "The append log file {name} doesn't exist: {}",
                crate::config::special::strerror(&e)
            );
            return Outcome::NotExist;
        }
        Err(e) => {
            log::warn!(
                "Fatal error: can't open the append log file {name} for reading: {}",
                crate::config::special::strerror(&e)
            );
            return Outcome::OpenErr;
        }
    };
    let size = file.metadata().map_or(0, |m| m.len());
    if size == 0 {
        return Outcome::Empty;
    }
    let mut sig = [0u8; 5];
    let is_rdb = file.read_exact(&mut sig).is_ok() && &sig == b"REDIS";
    let mut start = 0;
    if is_rdb {
        if old_style {
            log::info!("Reading RDB preamble from AOF file...");
        } else {
            log::info!("Reading RDB base file on AOF loading...");
        }
        let reader = match File::open(&path) {
            Ok(f) => f,
            Err(_) => return Outcome::OpenErr,
        };
        match rdbfile::load_from(server, reader, size, Duplicates::Replace) {
            Ok((_, summary)) => start = summary.bytes,
            Err(lines) => {
                lines.iter().for_each(|l| log::warn!("{l}"));
                if old_style {
                    log::warn!("Error reading the RDB preamble of the AOF file {name}, AOF loading aborted");
                } else {
                    log::warn!("Error reading the RDB base file {name}, AOF loading aborted");
                }
                return Outcome::Failed;
            }
        }
        if old_style {
            log::info!("Reading the remaining AOF tail...");
        }
    }
    if file.seek(SeekFrom::Start(start)).is_err() {
        return Outcome::Failed;
    }
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let truncated_ok = server.config.get("aof-load-truncated").as_deref() == Some("yes");
    let delay = server
        .config
        .get("key-load-delay")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let mut replay = Replay {
        pos: start,
        valid_up_to: start,
        valid_before_multi: start,
    };
    let end = loop {
        match replay.next_command(&mut reader) {
            Ok(Some(cmd)) => {
                if let Err(unknown) = fake.run(server, &cmd, &mut replay) {
                    log::warn!(
                        "Unknown command '{}' reading the append only file {name}",
                        String::from_utf8_lossy(&unknown)
                    );
                    break Outcome::Failed;
                }
                replay.valid_up_to = replay.pos;
                if delay > 0 {
                    std::thread::sleep(std::time::Duration::from_micros(delay as u64));
                }
            }
            Ok(None) => {
                if fake.in_multi() {
                    log::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
                    replay.valid_up_to = replay.valid_before_multi;
                    fake.discard(server);
                    break Outcome::Truncated;
                }
                break Outcome::Ok;
            }
            Err(ReadError::Eof) => {
                fake.discard(server);
                break Outcome::Truncated;
            }
            Err(ReadError::Io(e)) => {
                log::warn!(
                    "Unrecoverable error reading the append only file {name}: {}",
                    crate::config::special::strerror(&e)
                );
                fake.discard(server);
                return Outcome::Failed;
            }
            Err(ReadError::Format) => {
                log::warn!("Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>");
                fake.discard(server);
                return Outcome::Failed;
            }
        }
    };
    if end != Outcome::Truncated {
        return end;
    }
    if truncated_ok {
        log::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
        log::warn!(
            "!!! Truncating the AOF {name} at offset {} !!!",
            replay.valid_up_to
        );
        match std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_len(replay.valid_up_to))
        {
            Ok(()) => {
                log::warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
                return Outcome::Truncated;
            }
            Err(e) => log::warn!(
                "Error truncating the AOF file {name}: {}",
                crate::config::special::strerror(&e)
            ),
        }
    }
    log::warn!("Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.");
    Outcome::Failed
}

enum ReadError {
    Eof,
    Io(io::Error),
    Format,
}

/// Where the replay is in the file, for `aof-load-truncated`.
pub struct Replay {
    pos: u64,
    valid_up_to: u64,
    valid_before_multi: u64,
}

/// One command read from the file: its arguments' bytes and spans.
pub struct Command {
    data: Vec<u8>,
    spans: Vec<(usize, usize)>,
}

/// Redis's line buffer for `*<argc>` and `$<len>` lines.
const LINE_MAX: usize = 1024;

impl Replay {
    fn line(&mut self, r: &mut impl BufRead) -> Result<Option<Vec<u8>>, ReadError> {
        let mut line = Vec::new();
        let n = r
            .by_ref()
            .take(LINE_MAX as u64)
            .read_until(b'\n', &mut line)
            .map_err(ReadError::Io)?;
        self.pos += n as u64;
        Ok((n > 0).then_some(line))
    }

    /// The next command, `None` at a clean end of file.
    fn next_command(&mut self, r: &mut impl BufRead) -> Result<Option<Command>, ReadError> {
        let head = loop {
            match self.line(r)? {
                None => return Ok(None),
                Some(l) if l.first() == Some(&b'#') => continue,
                Some(l) => break l,
            }
        };
        if head.first() != Some(&b'*') {
            return Err(ReadError::Format);
        }
        if head.len() == 1 || !head.ends_with(b"\n") {
            return Err(ReadError::Eof);
        }
        let argc = atoi(&head[1..]);
        if argc < 1 {
            return Err(ReadError::Format);
        }
        let mut cmd = Command {
            data: Vec::new(),
            spans: Vec::with_capacity(argc as usize),
        };
        for _ in 0..argc {
            let Some(l) = self.line(r)? else {
                return Err(ReadError::Eof);
            };
            if l.first() != Some(&b'$') {
                return Err(ReadError::Format);
            }
            if !l.ends_with(b"\n") {
                return Err(ReadError::Eof);
            }
            let len = atoi(&l[1..]).max(0) as usize;
            let from = cmd.data.len();
            cmd.data.resize(from + len, 0);
            read_exact(r, &mut cmd.data[from..])?;
            let mut crlf = [0u8; 2];
            read_exact(r, &mut crlf)?;
            self.pos += len as u64 + 2;
            cmd.spans.push((from, from + len));
        }
        Ok(Some(cmd))
    }
}

fn read_exact(r: &mut impl Read, buf: &mut [u8]) -> Result<(), ReadError> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => ReadError::Eof,
        _ => ReadError::Io(e),
    })
}

/// C's `atoi`/`strtol` on a header line: leading digits after an optional sign.
fn atoi(s: &[u8]) -> i64 {
    let (neg, digits) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .fold(0i64, |n, &d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    if neg {
        -n
    } else {
        n
    }
}

/// Redis's AOF client: a client that is not a connection, which commands run as while a file is replayed. It
/// needs a socket only because every client has one; it is not in the client list.
pub struct FakeClient {
    state: ClientState,
    _sockets: (TcpStream, TcpStream),
}

impl FakeClient {
    pub fn new(server: &Server) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let peer = TcpStream::connect(listener.local_addr()?)?;
        let (ours, addr) = listener.accept()?;
        let info = server.clients.register(ours.try_clone()?, addr, addr, -1);
        server.clients.unregister(info.id);
        let mut state = ClientState::new(info);
        state.ext.must_obey = true;
        Ok(FakeClient {
            state,
            _sockets: (ours, peer),
        })
    }

    fn in_multi(&self) -> bool {
        transaction::in_multi(&self.state)
    }

    /// Drops a transaction left open by a file that ended inside it.
    fn discard(&mut self, server: &Server) {
        transaction::discard_transaction(server, &mut self.state);
    }

    /// Runs one command as Redis's loader does: queued inside MULTI, else called; its reply is dropped. An
    /// unknown command is returned as `Err` with its name.
    fn run(&mut self, server: &Server, cmd: &Command, replay: &mut Replay) -> Result<(), Vec<u8>> {
        let frame = Frame::new(&cmd.data, &cmd.spans);
        let table = table::get();
        let id = match dispatch::resolve(table, frame) {
            Resolved::Command(id) => id,
            Resolved::Rejected(_) | Resolved::WrongArity(_) => {
                if table.lookup(frame.get(0)).is_none() {
                    return Err(frame.get(0).to_vec());
                }
                // A known command with bad arguments fails as it would in Redis: nothing happens.
                return Ok(());
            }
        };
        if table.get(id).name == "multi" {
            replay.valid_before_multi = replay.valid_up_to;
        }
        if transaction::queue_if_multi(&mut self.state, id, frame).is_none() {
            dispatch::run(server, &mut self.state, id, frame);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Result<Vec<Vec<String>>, &'static str> {
        let mut r = BufReader::new(bytes);
        let mut replay = Replay {
            pos: 0,
            valid_up_to: 0,
            valid_before_multi: 0,
        };
        let mut out = Vec::new();
        loop {
            match replay.next_command(&mut r) {
                Ok(Some(c)) => out.push(
                    c.spans
                        .iter()
                        .map(|&(a, b)| String::from_utf8_lossy(&c.data[a..b]).into_owned())
                        .collect(),
                ),
                Ok(None) => return Ok(out),
                Err(ReadError::Eof) => return Err("eof"),
                Err(ReadError::Format) => return Err("format"),
                Err(ReadError::Io(_)) => return Err("io"),
            }
        }
    }

    #[test]
    fn commands_annotations_truncation_and_garbage() {
        let ok =
            b"#TS:1\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n";
        assert_eq!(
            read_all(ok).unwrap(),
            vec![vec!["SELECT", "0"], vec!["SET", "k", ""]]
        );
        for cut in 1..ok.len() - 8 {
            let r = read_all(&ok[..ok.len() - cut]);
            assert!(
                r == Err("eof") || r.as_ref().is_ok_and(|v| v.len() == 1),
                "{cut}: {r:?}"
            );
        }
        assert_eq!(read_all(b"garbage\r\n"), Err("format"));
        assert_eq!(read_all(b"*1\r\nx\r\n"), Err("format"));
        assert_eq!(read_all(b"*0\r\n"), Err("format"));
    }
}
