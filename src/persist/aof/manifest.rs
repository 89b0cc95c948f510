//! The multi-part AOF's manifest (`appendonly.aof.manifest` in `appenddirname`): which base, increment and
//! history files make up the AOF, in Redis 7.0's text format (`file <name> seq <n> type b|i|h`), read with
//! Redis's checks and error texts, written atomically (temp file, fsync, rename, fsync of the directory).

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// One file of the AOF (Redis's `aofInfo`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: i64,
    /// `b` base, `i` increment, `h` history.
    pub kind: u8,
}

/// Redis's `aofManifest`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub incrs: Vec<AofFile>,
    pub history: Vec<AofFile>,
    pub base_seq: i64,
    pub incr_seq: i64,
}

/// Why a manifest cannot be used: the lines Redis logs before exiting.
pub type Fatal = Vec<String>;

/// The names Redis derives from `appendfilename`.
pub struct Names<'a> {
    pub filename: &'a str,
}

impl Names<'_> {
    pub fn manifest(&self) -> String {
        format!("{}.manifest", self.filename)
    }
    pub fn temp_manifest(&self) -> String {
        format!("temp-{}.manifest", self.filename)
    }
    pub fn base(&self, seq: i64, rdb: bool) -> String {
        let ext = if rdb { "rdb" } else { "aof" };
        format!("{}.{seq}.base.{ext}", self.filename)
    }
    pub fn incr(&self, seq: i64) -> String {
        format!("{}.{seq}.incr.aof", self.filename)
    }
}

impl Manifest {
    /// Parses a manifest's text as Redis's `aofLoadManifestFromFile`.
    pub fn parse(text: &[u8]) -> Result<Manifest, Fatal> {
        let mut am = Manifest::default();
        let mut linenum = 0;
        let mut maxseq = 0;
        let mut rest = text;
        if rest.is_empty() {
            return Err(fatal(None, 0, "Found an empty AOF manifest"));
        }
        while !rest.is_empty() {
            let (raw, complete) = match rest.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let line = &rest[..=i];
                    rest = &rest[i + 1..];
                    (line, true)
                }
                None => {
                    let line = rest;
                    rest = &[];
                    (line, false)
                }
            };
            linenum += 1;
            if raw.first() == Some(&b'#') {
                continue;
            }
            if !complete || raw.len() > 1024 {
                return Err(fatal(
                    None,
                    linenum,
                    "The AOF manifest file contains too long line",
                ));
            }
            let line = String::from_utf8_lossy(raw)
                .trim_matches([' ', '\t', '\r', '\n'])
                .to_string();
            let info = parse_line(&line).map_err(|e| fatal(Some(&line), linenum, e))?;
            match info.kind {
                b'b' => {
                    if am.base.is_some() {
                        return Err(fatal(
                            Some(&line),
                            linenum,
                            "Found duplicate base file information",
                        ));
                    }
                    am.base_seq = info.seq;
                    am.base = Some(info);
                }
                b'h' => am.history.push(info),
                b'i' => {
                    if info.seq <= maxseq {
                        return Err(fatal(
                            Some(&line),
                            linenum,
                            "Found a non-monotonic sequence number",
                        ));
                    }
                    maxseq = info.seq;
                    am.incr_seq = info.seq;
                    am.incrs.push(info);
                }
                _ => return Err(fatal(Some(&line), linenum, "Unknown AOF file type")),
            }
        }
        Ok(am)
    }

    /// The manifest's text, as Redis's `getAofManifestAsString`: base, history, then increments.
    pub fn format(&self) -> String {
        let mut out = String::new();
        let files = self.base.iter().chain(&self.history).chain(&self.incrs);
        for f in files {
            out.push_str(&format!(
                "file {} seq {} type {}\n",
                quote(&f.name),
                f.seq,
                f.kind as char
            ));
        }
        out
    }

    /// A new base file name; the current base becomes history (`getNewBaseFileNameAndMarkPreAsHistory`). As in
    /// Redis, the newest history comes first.
    pub fn new_base(&mut self, names: &Names, rdb: bool) -> String {
        if let Some(mut old) = self.base.take() {
            old.kind = b'h';
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let name = names.base(self.base_seq, rdb);
        self.base = Some(AofFile {
            name: name.clone(),
            seq: self.base_seq,
            kind: b'b',
        });
        name
    }

    /// A new increment file appended to the list (`getNewIncrAofName`).
    pub fn new_incr(&mut self, names: &Names) -> String {
        self.incr_seq += 1;
        let name = names.incr(self.incr_seq);
        self.incrs.push(AofFile {
            name: name.clone(),
            seq: self.incr_seq,
            kind: b'i',
        });
        name
    }

    /// Every increment but the last becomes history (`markRewrittenIncrAofAsHistory`), in their order, before
    /// the older history.
    pub fn incrs_to_history_but_last(&mut self) {
        let keep = self.incrs.pop();
        let rewritten: Vec<AofFile> = self
            .incrs
            .drain(..)
            .map(|f| AofFile { kind: b'h', ..f })
            .collect();
        self.history.splice(0..0, rewritten);
        self.incrs.extend(keep);
    }

    /// Writes the manifest to `dir` atomically, with Redis's log lines on failure.
    pub fn persist(&self, dir: &Path, names: &Names) -> io::Result<()> {
        let tmp = dir.join(names.temp_manifest());
        let result = (|| {
            let mut f = File::create(&tmp)?;
            f.write_all(self.format().as_bytes())?;
            f.sync_all()
        })();
        if let Err(e) = result {
            log::warn!(
                "Error trying to write the temporary AOF manifest file {}: {}",
                names.temp_manifest(),
                crate::config::special::strerror(&e)
            );
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        if let Err(e) = std::fs::rename(&tmp, dir.join(names.manifest())) {
            log::warn!(
                "Error trying to rename the temporary AOF manifest file {} into {}: {}",
                names.temp_manifest(),
                names.manifest(),
                crate::config::special::strerror(&e)
            );
            return Err(e);
        }
        sync_dir(dir)
    }
}

/// fsyncs a directory so a rename in it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).inspect_err(|e| {
        log::warn!(
            "Fail to fsync AOF directory {}: {}.",
            dir.display(),
            crate::config::special::strerror(e)
        )
    })
}

/// Reads the manifest of `dir`, if there is one (`aofLoadManifestFromDisk`).
pub fn load(dir: &Path, names: &Names) -> Result<Manifest, Fatal> {
    let path: PathBuf = dir.join(names.manifest());
    if !dir.is_dir() || !path.exists() {
        return Ok(Manifest::default());
    }
    match std::fs::read(&path) {
        Ok(text) => Manifest::parse(&text),
        Err(e) => Err(vec![format!(
            "Fatal error: can't open the AOF manifest file {} for reading: {}",
            path.display(),
            crate::config::special::strerror(&e)
        )]),
    }
}

fn fatal(line: Option<&str>, linenum: usize, err: &str) -> Fatal {
    let mut lines = vec!["\n*** FATAL AOF MANIFEST FILE ERROR ***\n".to_string()];
    if let Some(line) = line {
        lines.push(format!("Reading the manifest file, at line {linenum}\n"));
        lines.push(format!(">>> '{line}'\n"));
    }
    lines.push(format!("{err}\n"));
    lines
}

/// One line's `key value` pairs, as Redis's `sdssplitargs` reads them (quoted names included).
fn parse_line(line: &str) -> Result<AofFile, &'static str> {
    const BAD: &str = "Invalid AOF manifest file format";
    if line.is_empty() {
        return Err(BAD);
    }
    let argv = crate::protocol::inline::split_args(line.as_bytes()).ok_or(BAD)?;
    if argv.len() < 6 || argv.len() % 2 != 0 {
        return Err(BAD);
    }
    let (mut name, mut seq, mut kind) = (None, 0i64, 0u8);
    for pair in argv.chunks_exact(2) {
        let value = String::from_utf8_lossy(&pair[1]).into_owned();
        match pair[0].to_ascii_lowercase().as_slice() {
            b"file" => {
                if value.contains('/') {
                    return Err("File can't be a path, just a filename");
                }
                name = Some(value);
            }
            b"seq" => seq = atoll(&value),
            b"type" => kind = value.bytes().next().unwrap_or(0),
            _ => {}
        }
    }
    match name {
        Some(name) if seq != 0 && kind != 0 => Ok(AofFile { name, seq, kind }),
        _ => Err(BAD),
    }
}

/// C's `atoll`: leading digits, 0 when there are none.
fn atoll(s: &str) -> i64 {
    let s = s.trim_start();
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.wrapping_mul(10).wrapping_add(i64::from(d - b'0'))
        });
    if neg {
        -n
    } else {
        n
    }
}

/// A file name as Redis writes it in the manifest: quoted with escapes when it needs it (`sdscatrepr`).
fn quote(name: &str) -> String {
    let needs = name.bytes().any(|b| {
        b.is_ascii_whitespace() || b == b'"' || b == b'\'' || b == b'\\' || !b.is_ascii_graphic()
    });
    if !needs {
        return name.to_string();
    }
    let mut out = String::from("\"");
    for b in name.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_round_trips_and_bad_ones_are_refused_with_redis_texts() {
        let text = b"file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let am = Manifest::parse(text).unwrap();
        assert_eq!(am.base_seq, 1);
        assert_eq!(am.incr_seq, 2);
        assert_eq!(am.format().as_bytes(), text);
        let err = |t: &[u8]| Manifest::parse(t).unwrap_err().last().cloned().unwrap();
        assert_eq!(err(b""), "Found an empty AOF manifest\n");
        assert_eq!(err(b"file a seq 1 type x\n"), "Unknown AOF file type\n");
        assert_eq!(err(b"file a seq 1\n"), "Invalid AOF manifest file format\n");
        assert_eq!(
            err(b"file a/b seq 1 type b\n"),
            "File can't be a path, just a filename\n"
        );
        assert_eq!(
            err(b"file a seq 2 type i\nfile b seq 1 type i\n"),
            "Found a non-monotonic sequence number\n"
        );
        assert_eq!(
            err(b"file a seq 1 type b\nfile b seq 2 type b\n"),
            "Found duplicate base file information\n"
        );
        assert_eq!(
            err(b"file a seq 1 type b"),
            "The AOF manifest file contains too long line\n"
        );
        assert_eq!(quote("a b"), "\"a b\"");
    }

    #[test]
    fn a_rewrite_turns_the_old_files_into_history() {
        let names = Names {
            filename: "appendonly.aof",
        };
        let mut am = Manifest::default();
        am.new_base(&names, true);
        am.new_incr(&names);
        am.new_incr(&names);
        am.new_base(&names, true);
        am.incrs_to_history_but_last();
        assert_eq!(
            am.format(),
            "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.1.incr.aof seq 1 type h\n\
             file appendonly.aof.1.base.rdb seq 1 type h\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
        );
        // A second rewrite puts its history before the first one's, as Redis's manifest lists it.
        am.new_incr(&names);
        am.new_base(&names, true);
        am.incrs_to_history_but_last();
        let kinds: Vec<(i64, u8)> = am.history.iter().map(|f| (f.seq, f.kind)).collect();
        assert_eq!(kinds, [(2, b'h'), (2, b'h'), (1, b'h'), (1, b'h')]);
        assert_eq!(am.history[0].name, "appendonly.aof.2.incr.aof");
        assert_eq!(am.history[1].name, "appendonly.aof.2.base.rdb");
    }
}
