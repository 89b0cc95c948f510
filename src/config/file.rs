//! redis.conf-style files: `directive arg arg`, `#` comments, quoted values split as Redis splits them,
//! `include other.conf` read in place.

use std::path::{Path, PathBuf};

use crate::protocol::split_args;

/// One directive: where it is, its text, its name (lower case) and its arguments.
pub struct Directive {
    pub path: PathBuf,
    pub line: usize,
    pub text: String,
    pub name: String,
    pub args: Vec<String>,
}

/// How deep `include`s may nest before a loop is assumed.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Reads `path` into directives, includes expanded; a line that cannot be split is reported with its number.
pub fn read(path: &Path) -> Result<Vec<Directive>, String> {
    let mut out = Vec::new();
    read_into(path, 0, &mut out)?;
    Ok(out)
}

fn read_into(path: &Path, depth: usize, out: &mut Vec<Directive>) -> Result<(), String> {
    let content = std::fs::read(path).map_err(|e| {
        format!(
            "Fatal error, can't open config file '{}': {}",
            path.display(),
            super::special::strerror(&e)
        )
    })?;
    parse_into(&content, path, depth, out)
}

/// Config lines that come from elsewhere than a file (stdin); `path` names them in errors.
pub fn parse_text(text: &str, path: &Path) -> Result<Vec<Directive>, String> {
    let mut out = Vec::new();
    parse_into(text.as_bytes(), path, 0, &mut out)?;
    Ok(out)
}

fn parse_into(
    content: &[u8],
    path: &Path,
    depth: usize,
    out: &mut Vec<Directive>,
) -> Result<(), String> {
    for (n, raw) in content.split(|&b| b == b'\n').enumerate() {
        let trimmed = raw.trim_ascii();
        if trimmed.is_empty() || trimmed[0] == b'#' {
            continue;
        }
        let text = String::from_utf8_lossy(trimmed).into_owned();
        let args = split_args(trimmed).ok_or_else(|| {
            fatal(
                path,
                n + 1,
                &text,
                "Unbalanced quotes in configuration line",
            )
        })?;
        let Some((name, rest)) = args.split_first() else {
            continue;
        };
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let args: Vec<String> = rest
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if name == "include" && args.len() == 1 {
            if depth >= MAX_INCLUDE_DEPTH {
                return Err(fatal(path, n + 1, &text, "Too many nested includes"));
            }
            read_into(Path::new(&args[0]), depth + 1, out)?;
            continue;
        }
        out.push(Directive {
            path: path.to_path_buf(),
            line: n + 1,
            text,
            name,
            args,
        });
    }
    Ok(())
}

/// Redis's fatal config error text, naming the line (and the file, when the line came from one: Redis only
/// says "the configuration file", which does not help once files include others).
pub fn fatal(path: &Path, line: usize, text: &str, reason: &str) -> String {
    let file = if path.as_os_str().is_empty() {
        String::new()
    } else {
        format!(" '{}'", path.display())
    };
    format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\nReading the configuration file{file}, at line {line}\n>>> '{text}'\n{reason}",
        crate::commands::connection::REDIS_VERSION,
    )
}
