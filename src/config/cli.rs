//! The command line, shaped like redis-server's: `ferredis [/path/to/redis.conf] [--param value ...]`.
//!
//! Every parameter of the table is a `--name value` flag (so `--help` lists them all); flags override the file.

use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, Command};

use super::params::{MULTI_ARG, PARAMS};
use super::{file, Config, SetError};

#[derive(Debug)]
pub struct StartupError(pub String);

fn command() -> Command {
    let mut cmd = Command::new("ferredis")
        .version(env!("CARGO_PKG_VERSION"))
        .about("A Redis 7.0 compatible in-memory data server")
        .after_help("Examples:\n  ferredis\n  ferredis /etc/redis/6379.conf\n  ferredis --port 7777\n  ferredis /etc/myredis.conf --loglevel verbose")
        .arg(Arg::new("config-file").value_name("CONFIG_FILE").help("a redis.conf-style file; flags given after it override it"));
    for p in PARAMS {
        let mut arg = Arg::new(p.name)
            .long(p.name)
            .value_name("VALUE")
            .num_args(1..)
            .allow_negative_numbers(true)
            .action(ArgAction::Append)
            .help(p.help());
        if let Some(alias) = p.alias {
            arg = arg.alias(alias);
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

/// Directives Redis 7.0 still accepts but ignores.
const DEPRECATED: &[&str] = &[
    "list-max-ziplist-entries",
    "list-max-ziplist-value",
    "lua-replicate-commands",
];

/// Applies a config file as Redis reads one: each single-valued parameter takes exactly one argument, and
/// `save` lines add up (the first one replaces the default, `save ""` clears).
fn load_file(config: &Config, path: &Path) -> Result<(), StartupError> {
    let mut save_seen = false;
    for d in file::read(path).map_err(StartupError)? {
        let fail = |reason: &str| StartupError(file::fatal(&d.path, d.line, &d.text, reason));
        if DEPRECATED.contains(&d.name.as_str()) && d.args.len() == 1 {
            continue;
        }
        let Some(i) = Config::find(&d.name) else {
            return Err(fail("Bad directive or wrong number of arguments"));
        };
        let param = Config::param(i);
        let multi = param.flags & MULTI_ARG != 0;
        if d.args.is_empty() || (!multi && d.args.len() != 1) {
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

/// Builds the configuration from the process arguments (file first, then flags).
pub fn parse_command_line<I, T>(args: I) -> Result<Config, StartupError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let matches = command()
        .try_get_matches_from(args)
        .map_err(|e| StartupError(e.to_string()))?;
    let config = Config::new();
    if let Some(path) = matches.get_one::<String>("config-file") {
        let path = PathBuf::from(path);
        config.set_file(std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone()));
        load_file(&config, &path)?;
    }
    for p in PARAMS {
        if let Some(values) = matches.get_many::<String>(p.name) {
            let value = values.cloned().collect::<Vec<_>>().join(" ");
            config.set(p.name, &value, true).map_err(|e| {
                let reason = match e {
                    SetError::Invalid(msg) => msg,
                    _ => "Bad directive or wrong number of arguments".into(),
                };
                StartupError(format!(
                    "*** FATAL CONFIG ERROR *** --{} {value}: {reason}",
                    p.name
                ))
            })?;
        }
    }
    Ok(config)
}
