//! redis.conf-style files: `directive arg arg`, `#` comments, quoted values split as Redis splits them.

use std::path::Path;

use crate::protocol::split_args;

/// One directive: its line number, its name (lower case) and its arguments joined by spaces.
pub struct Directive {
    pub line: usize,
    pub text: String,
    pub name: String,
    pub value: String,
}

/// Reads `path` into directives; a line that cannot be split is reported with its number.
pub fn read(path: &Path) -> Result<Vec<Directive>, String> {
    let content = std::fs::read(path).map_err(|e| {
        format!(
            "Fatal error, can't open config file '{}': {e}",
            path.display()
        )
    })?;
    let mut out = Vec::new();
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
        if rest.is_empty() {
            return Err(fatal(path, n + 1, &text, "wrong number of arguments"));
        }
        let value = rest
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        out.push(Directive {
            line: n + 1,
            text,
            name: String::from_utf8_lossy(name).to_ascii_lowercase(),
            value,
        });
    }
    Ok(out)
}

/// Redis's fatal config error text, naming the file and line.
pub fn fatal(path: &Path, line: usize, text: &str, reason: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (ferredis {}) ***\nReading the configuration file '{}', at line {line}\n>>> '{text}'\n{reason}",
        env!("CARGO_PKG_VERSION"),
        path.display()
    )
}
