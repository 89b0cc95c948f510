//! The command line, read as redis-server 7.0 reads it: `ferredis [/path/to/redis.conf] [-] [--name value ...]`.
//!
//! Redis turns the options into config-file lines appended after the file (and after stdin, given `-`), and
//! loads them all with the one file loader, so the same rules hold everywhere: `--save ''` clears the save
//! points, one argument may hold a name and its value (`"--maxmemory 700mb"`), an option takes every argument up
//! to the next `--name`, and a bare `--save` (last, or followed by another option) means `save ""`.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::file::{self, Directive};
use super::params::{MULTI_ARG, PARAMS};
use super::{Config, SetError};
use crate::protocol::split_args;

#[derive(Debug)]
pub struct StartupError(pub String);

/// Directives Redis 7.0 still accepts but ignores.
const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// `--version`'s line, as redis-server prints it.
pub fn version_line() -> String {
    format!(
        "Redis server v={} sha=00000000:0 malloc=libc bits=64 build=0 (ferredis {})",
        crate::commands::connection::REDIS_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

/// `--help`: Redis's usage text, then every parameter the command line accepts.
fn usage() -> String {
    let mut out = String::from(
        "Usage: ./redis-server [/path/to/redis.conf] [options] [-]\n       ./redis-server - (read config from stdin)\n       ./redis-server -v or --version\n       ./redis-server -h or --help\n\nExamples:\n       ./redis-server (run the server with default conf)\n       ./redis-server /etc/redis/6379.conf\n       ./redis-server --port 7777\n       ./redis-server --port 7777 --replicaof 127.0.0.1 8888\n       ./redis-server /etc/myredis.conf --loglevel verbose -\n       ./redis-server /etc/myredis.conf --loglevel verbose\n\nParameters:\n",
    );
    for p in PARAMS.iter().filter(|p| !p.hidden()) {
        out.push_str(&format!("  --{:<40} {}\n", p.name, p.help()));
    }
    out
}

/// Groups the options after the config file into lines of words, as Redis builds its options text: `--name`
/// starts a line (and may hold its value too), other arguments are values of the line before.
fn option_lines(args: &[String], first_line: usize) -> Result<Vec<Vec<String>>, StartupError> {
    let mut lines: Vec<Vec<String>> = Vec::new();
    // false right after a bare `--name`: the next argument is its value even if it starts with `--`.
    let mut last_has_value = true;
    for (j, arg) in args.iter().enumerate() {
        let Some(option) = arg.strip_prefix("--").filter(|_| last_has_value) else {
            let Some(line) = lines.last_mut() else {
                let reason = "Bad directive or wrong number of arguments";
                return Err(StartupError(fatal_line(first_line, arg, reason)));
            };
            line.push(arg.clone());
            last_has_value = true;
            continue;
        };
        let words = split_args(option.as_bytes()).ok_or_else(|| {
            let reason = "Unbalanced quotes in configuration line";
            StartupError(fatal_line(first_line + lines.len(), option, reason))
        })?;
        let mut words: Vec<String> = words
            .iter()
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        last_has_value = words.len() > 1;
        // A bare `--save` last or before another option is `save ""` (Redis keeps pre-7.0 scripts working).
        let next_is_option = args.get(j + 1).is_none_or(|a| a.starts_with("--"));
        if arg.eq_ignore_ascii_case("--save") && next_is_option {
            words.push(String::new());
            last_has_value = true;
        }
        lines.push(words);
    }
    Ok(lines)
}

/// The options as directives, numbered after the file's lines as in Redis's one combined text; `--include`
/// reads its file in place.
fn options_to_directives(
    args: &[String],
    first_line: usize,
) -> Result<Vec<Directive>, StartupError> {
    let mut out = Vec::new();
    for (n, mut words) in option_lines(args, first_line)?.into_iter().enumerate() {
        if words.is_empty() {
            continue;
        }
        let name = words.remove(0).to_ascii_lowercase();
        if name == "include" && words.len() == 1 {
            out.extend(file::read(Path::new(&words[0])).map_err(StartupError)?);
            continue;
        }
        let text = std::iter::once(name.clone())
            .chain(words.iter().map(|w| repr(w)))
            .collect::<Vec<_>>()
            .join(" ");
        out.push(Directive {
            path: PathBuf::new(),
            line: first_line + n,
            text,
            name,
            args: words,
        });
    }
    Ok(out)
}

fn repr(word: &str) -> String {
    let mut out = Vec::new();
    crate::pubsub::repr(word.as_bytes(), &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn fatal_line(line: usize, text: &str, reason: &str) -> String {
    file::fatal(Path::new(""), line, text, reason)
}

/// Applies directives in order, as Redis loads its combined config text: each single-valued parameter takes
/// exactly one argument, `save` lines add up (the first one replaces the default, `save ""` clears), and
/// `rename-command` renames or (to "") disables a command.
fn apply(config: &Config, directives: &[Directive]) -> Result<(), StartupError> {
    let mut save_seen = false;
    for d in directives {
        let fail = |reason: &str| StartupError(file::fatal(&d.path, d.line, &d.text, reason));
        if DEPRECATED.contains(&d.name.as_str()) && d.args.len() == 1 {
            continue;
        }
        if d.name == "user" && !d.args.is_empty() {
            let (path, line, text) = (d.path.clone(), d.line, d.text.clone());
            let fatal = Box::new(move |reason: &str| file::fatal(&path, line, &text, reason));
            crate::acl::add_config_user(&d.args, fatal).map_err(|e| fail(&e))?;
            continue;
        }
        if d.name == "rename-command" && d.args.len() == 2 {
            crate::commands::table::rename_at_startup(&d.args[0], &d.args[1]).map_err(fail)?;
            continue;
        }
        let Some(i) = Config::find(&d.name) else {
            return Err(fail("Bad directive or wrong number of arguments"));
        };
        let param = Config::param(i);
        let multi = param.flags & MULTI_ARG != 0;
        // Several-word parameters check their own count, as in Redis: a bare `save` line clears the save points.
        if !multi && d.args.len() != 1 {
            return Err(fail("wrong number of arguments"));
        }
        let mut value = d.args.join(" ");
        if param.name == "save" {
            if save_seen && !value.is_empty() {
                value = format!("{} {value}", config.value(i)).trim().to_string();
            }
            save_seen = true;
        }
        config.set(&d.name, &value, true).map_err(|e| match e {
            SetError::Invalid(msg) => fail(&msg),
            _ => fail("Bad directive or wrong number of arguments"),
        })?;
    }
    Ok(())
}

/// Builds the configuration from the process arguments: the file, stdin (`-`), then the options.
/// `--help` and `--version` come back as errors whose text starts with `Usage` / `Redis server v=`.
pub fn parse_command_line<I, T>(args: I) -> Result<Config, StartupError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.into().to_string_lossy().into_owned())
        .collect();
    match args.first().map(String::as_str) {
        Some("-v" | "--version") => return Err(StartupError(version_line())),
        Some("-h" | "--help") => return Err(StartupError(usage())),
        _ => {}
    }
    let config = Config::new();
    let mut directives = Vec::new();
    let mut rest = &args[..];
    if let Some(path) = args.first().filter(|a| !a.starts_with('-')) {
        let path = PathBuf::from(path);
        config.set_file(std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone()));
        directives = file::read(&path).map_err(StartupError)?;
        rest = &args[1..];
    }
    // `-` first or last (after the file): read config lines from stdin, after the file's.
    let stdin_at = rest
        .iter()
        .position(|a| a == "-")
        .filter(|&p| p == 0 || p + 1 == rest.len());
    if let Some(p) = stdin_at {
        log::warn!("Reading config from stdin");
        let mut text = String::new();
        let _ = std::io::stdin().read_to_string(&mut text);
        directives.extend(file::parse_text(&text, Path::new("")).map_err(StartupError)?);
        let mut remaining = rest.to_vec();
        remaining.remove(p);
        let options = options_to_directives(&remaining, directives.len() + 1)?;
        directives.extend(options);
    } else {
        let first = directives.last().map_or(1, |d| d.line + 1);
        directives.extend(options_to_directives(rest, first)?);
    }
    apply(&config, &directives)?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, StartupError> {
        parse_command_line(std::iter::once("ferredis").chain(args.iter().copied()))
    }

    fn get(c: &Config, name: &str) -> String {
        c.get(name).unwrap_or_default()
    }

    #[test]
    fn empty_save_in_every_spelling() {
        for args in [
            &["--save", ""][..],
            &["--save"],
            &["--save", "--port", "7000"],
            &["--save ''"],
            &["--save \"\"", "--save"],
        ] {
            let c = parse(args).unwrap_or_else(|e| panic!("{args:?}: {}", e.0));
            assert_eq!(get(&c, "save"), "", "{args:?}");
        }
        let c = parse(&["--save", "--port", "7000"])
            .map_err(|e| e.0)
            .unwrap();
        assert_eq!(get(&c, "port"), "7000");
    }

    #[test]
    fn a_bare_save_line_clears_and_single_values_need_one_argument() {
        let config = Config::new();
        let lines = file::parse_text("save 60 1\nsave\n", Path::new("")).unwrap();
        apply(&config, &lines).map_err(|e| e.0).unwrap();
        assert_eq!(get(&config, "save"), "");
        let lines = file::parse_text("port\n", Path::new("")).unwrap();
        let e = apply(&config, &lines)
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.contains("wrong number of arguments"), "{e}");
    }

    #[test]
    fn name_and_value_in_one_argument() {
        let c = parse(&["--maxmemory 700mb", "--save", "60", "1", "--save", "30 2"])
            .map_err(|e| e.0)
            .unwrap();
        assert_eq!(get(&c, "maxmemory"), "734003200");
        assert_eq!(get(&c, "save"), "60 1 30 2");
    }

    #[test]
    fn a_bare_option_takes_the_next_argument_even_a_dashed_one() {
        let c = parse(&["--requirepass", "--secret"])
            .map_err(|e| e.0)
            .unwrap();
        assert_eq!(get(&c, "requirepass"), "--secret");
    }

    #[test]
    fn errors_name_the_line_and_the_reason() {
        let e = parse(&["--port", "1", "--maxclients", "0"])
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.contains("at line 2"), "{e}");
        assert!(e.contains(">>> 'maxclients \"0\"'"), "{e}");
        assert!(
            e.contains("argument must be between 1 and 4294967295 inclusive"),
            "{e}"
        );
        let e = parse(&["--port", "1", "2"])
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(e.contains("wrong number of arguments"), "{e}");
        let e = parse(&["--no-such-thing", "1"])
            .err()
            .map(|e| e.0)
            .unwrap_or_default();
        assert!(
            e.contains("Bad directive or wrong number of arguments"),
            "{e}"
        );
    }

    #[test]
    fn version_and_help_are_informational() {
        assert!(parse(&["--version"])
            .err()
            .is_some_and(|e| e.0.starts_with("Redis server v=7.0.15")));
        assert!(parse(&["-h"])
            .err()
            .is_some_and(|e| e.0.starts_with("Usage") && e.0.contains("--maxclients")));
    }
}
