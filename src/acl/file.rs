//! Users from outside: the config's `user` lines, the `aclfile` (ACL LOAD / ACL SAVE and start-up), in Redis's
//! format (`user <name> <rules...>`, one per line) and with its error texts.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::selector::has_spaces;
use super::user::merge_selectors;
use super::{acl, describe, OpError, User};
use crate::config::Config;

/// Words a config-file error for one directive (the config's fatal-error format, with its line).
pub type Fatal = Box<dyn Fn(&str) -> String + Send>;

/// A config `user` line: its arguments after `user`, and how to report an error in it.
struct ConfigUser {
    args: Vec<Vec<u8>>,
    fatal: Fatal,
}

/// The config's `user` lines, checked and loaded once the command table exists (after every `rename-command`).
static CONFIG_USERS: Mutex<Vec<ConfigUser>> = Mutex::new(Vec::new());

/// A `user <name> rules...` config directive (the arguments after `user`), kept for `load_at_startup`.
pub fn add_config_user(args: &[String], fatal: Fatal) -> Result<(), String> {
    let Some(name) = args.first() else {
        return Err("wrong number of arguments".into());
    };
    let mut users = CONFIG_USERS.lock();
    if users.iter().any(|u| u.args[0] == name.as_bytes()) {
        return Err(format!(
            "Error in user declaration '{name}': Duplicate user found. A user can only be defined once in \
             config files"
        ));
    }
    users.push(ConfigUser {
        args: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
        fatal,
    });
    Ok(())
}

/// Checks the config's `user` lines as Redis checks them while it reads the file; the error is the config file's
/// fatal error.
pub fn check_config_users() -> Result<(), String> {
    CONFIG_USERS.lock().iter().try_for_each(check_config_user)
}

/// Redis's `ACLAppendUserForLoading` check of a config `user` line: its rules on a scratch user, unknown commands
/// let through (they are reported when the line is loaded). The error is the config file's fatal error, naming
/// the directive's word at the failing rule's index, as Redis does (`argv[j]` of the whole line).
fn check_config_user(line: &ConfigUser) -> Result<(), String> {
    let Ok(rules) = merge_selectors(&line.args[1..]) else {
        return Ok(()); // Reported, as Redis reports it, when the line is loaded.
    };
    let mut scratch = User::new(&line.args[0]);
    for (j, rule) in rules.iter().enumerate() {
        match scratch.apply(rule) {
            Ok(()) | Err(OpError::UnknownName) => {}
            Err(e) => {
                let word = match j {
                    0 => "user".to_string(),
                    j => String::from_utf8_lossy(&line.args[j - 1]).into_owned(),
                };
                return Err((line.fatal)(&format!(
                    "Error in user declaration '{word}': {}",
                    e.message()
                )));
            }
        }
    }
    Ok(())
}

/// Redis's `ACLLoadUsersAtStartup`: the config's users, or the ACL file, never both. The error is the log line
/// Redis exits with.
pub fn load_at_startup(config: &Config) -> Result<(), String> {
    let path = config.get("aclfile").unwrap_or_default();
    let configured = std::mem::take(&mut *CONFIG_USERS.lock());
    if !path.is_empty() && !configured.is_empty() {
        return Err("Configuring Redis with users defined in redis.conf and at the same setting an ACL file \
                    path is invalid. This setup is very likely to lead to configuration errors and security \
                    holes, please define either an ACL file or declare users directly in your redis.conf, \
                    but not both."
            .into());
    }
    for line in &configured {
        load_configured(&line.args)?;
    }
    if !path.is_empty() {
        let users = load_file(&path)
            .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?;
        acl().replace_all(users);
    }
    Ok(())
}

/// One config `user` line: a redefined `default` starts from `reset`.
fn load_configured(line: &[Vec<u8>]) -> Result<(), String> {
    let name = &line[0];
    let shown = String::from_utf8_lossy(name).into_owned();
    if has_spaces(name) {
        return Err("Spaces not allowed in ACL usernames".into());
    }
    let mut user = match acl().get(name) {
        Some(u) => {
            let mut u = (*u).clone();
            let _ = u.apply(b"reset");
            u
        }
        None => User::new(name),
    };
    let rules = merge_selectors(&line[1..]).map_err(|start| {
        format!(
            "Error in user declaration '{}': Unmatched parenthesis in selector definition",
            String::from_utf8_lossy(&start)
        )
    })?;
    for rule in &rules {
        user.apply(rule).map_err(|e| {
            format!(
                "Error loading ACL rule '{}' for the user named '{shown}': {}",
                String::from_utf8_lossy(rule),
                e.message()
            )
        })?;
    }
    if !user.enabled {
        log::info!(
            "The user '{shown}' is disabled (there is no 'on' modifier in the user description). Make sure \
             this is not a configuration error."
        );
    }
    acl().put(user);
    Ok(())
}

/// Reads the ACL file into a new set of users, all or nothing (Redis's `ACLLoadFromFile`); the error lists
/// every problem found.
pub fn load_file(path: &str) -> Result<BTreeMap<Vec<u8>, Arc<User>>, String> {
    let content = std::fs::read(path).map_err(|e| {
        format!(
            "Error loading ACLs, opening file '{path}': {}",
            crate::config::special::strerror(&e)
        )
    })?;
    let mut users: BTreeMap<Vec<u8>, Arc<User>> = BTreeMap::new();
    let mut errors = String::new();
    for (n, raw) in content.split(|&b| b == b'\n').enumerate() {
        let line = raw.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let linenum = n + 1;
        let argv: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!(
                "{path}:{linenum} should start with user keyword followed by the username. "
            ));
            continue;
        }
        let name = argv[1];
        let shown = String::from_utf8_lossy(name);
        if has_spaces(name) {
            errors.push_str(&format!(
                "'{path}:{linenum}: username '{shown}' contains invalid characters. "
            ));
            continue;
        }
        if users.contains_key(name) {
            errors.push_str(&format!(
                "WARNING: Duplicate user '{shown}' found on line {linenum}. "
            ));
            continue;
        }
        let rules: Vec<Vec<u8>> = argv[2..].iter().map(|a| a.to_vec()).collect();
        let Ok(rules) = merge_selectors(&rules) else {
            errors.push_str(&format!(
                "{path}:{linenum}: Unmatched parenthesis in selector definition."
            ));
            continue;
        };
        let mut user = User::new(name);
        let mut syntax_error = false;
        for rule in &rules {
            let rule = trim_controls(rule);
            match user.apply(rule) {
                Ok(()) => {}
                Err(OpError::UnknownName) => errors.push_str(&format!(
                    "{path}:{linenum}: Error in applying operation '{}': {}. ",
                    String::from_utf8_lossy(rule),
                    OpError::UnknownName.message()
                )),
                Err(e) if !syntax_error => {
                    errors.push_str(&format!("{path}:{linenum}: {}. ", e.message()));
                    syntax_error = true;
                }
                Err(_) => {}
            }
        }
        users.insert(name.to_vec(), Arc::new(user));
    }
    if !errors.is_empty() {
        errors.push_str(
            "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
        );
        return Err(errors);
    }
    users
        .entry(b"default".to_vec())
        .or_insert_with(|| Arc::new(User::default_user()));
    Ok(users)
}

/// Redis trims each rule of tabs and line ends (not spaces: they already split the line).
fn trim_controls(rule: &[u8]) -> &[u8] {
    let is = |b: &u8| matches!(b, b'\t' | b'\r' | b'\n');
    let start = rule.iter().position(|b| !is(b)).unwrap_or(rule.len());
    let end = rule.iter().rposition(|b| !is(b)).map_or(start, |e| e + 1);
    &rule[start..end.max(start)]
}

/// Writes every user to `path` through a temporary file and a rename (Redis's `ACLSaveToFile`).
pub fn save_file(path: &str) -> Result<(), String> {
    let mut text = String::new();
    for u in acl().users() {
        text.push_str(&format!("user {} {}\n", u.name_lossy(), describe::user(&u)));
    }
    let tmp = format!(
        "{path}.tmp-{}-{}",
        std::process::id(),
        crate::util::time::now_ms()
    );
    let written = std::fs::write(&tmp, text.as_bytes())
        .map_err(|e| format!("Writing ACL file for ACL SAVE: {e}"))
        .and_then(|()| {
            std::fs::rename(&tmp, path).map_err(|e| format!("Renaming ACL file for ACL SAVE: {e}"))
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
