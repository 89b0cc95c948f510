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

/// Redis's fatal config error text, naming the file and line.
pub fn fatal(path: &Path, line: usize, text: &str, reason: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (ferredis {}) ***\nReading the configuration file '{}', at line {line}\n>>> '{text}'\n{reason}",
        env!("CARGO_PKG_VERSION"),
        path.display()
    )
}
