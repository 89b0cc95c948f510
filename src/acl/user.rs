//! A user: on/off, passwords (SHA-256 hex, as Redis stores them), and its selectors (Redis's `ACLSetUser`).

use sha2::{Digest, Sha256};

use super::selector::{Denied, Selector};
use super::OpError;
use crate::commands::Args;

#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub enabled: bool,
    pub nopass: bool,
    /// `sanitize-payload` (true) / `skip-sanitize-payload` (false); neither until one is given.
    pub sanitize: Option<bool>,
    /// Lower-case hex SHA-256 of each password.
    pub passwords: Vec<String>,
    /// The root selector first, then the `(...)` ones.
    pub selectors: Vec<Selector>,
}

/// Redis's `ACLHashPassword`.
pub fn hash_password(pass: &[u8]) -> String {
    let digest = Sha256::digest(pass);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference, as Redis's `time_independent_strcmp`.
fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// The hash a password rule names: `>pass` / `<pass` hashed, `#hash` / `!hash` as given if well formed.
fn hash_of(op: &[u8]) -> Result<String, OpError> {
    let rest = &op[1..];
    match op[0] {
        b'>' | b'<' => Ok(hash_password(rest)),
        _ if valid_hash(rest) => Ok(String::from_utf8_lossy(rest).into_owned()),
        _ => Err(OpError::BadHash),
    }
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64 && h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

impl User {
    /// A new user as Redis creates one: off, no password, no command, no key, channels per
    /// `acl-pubsub-default`.
    pub fn new(name: &[u8]) -> Self {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(true)],
        }
    }

    /// The `default` user of a fresh server: everything allowed, no password.
    pub fn default_user() -> Self {
        let mut u = User::new(b"default");
        for op in [&b"+@all"[..], b"~*", b"&*", b"on", b"nopass"] {
            let _ = u.apply(op);
        }
        u
    }

    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }

    /// Whether the user may run anything at all without a look at the command (the hot path's test).
    pub fn unrestricted(&self) -> bool {
        self.selectors.iter().any(Selector::unrestricted)
    }

    /// Whether `pass` opens this (enabled) user.
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let hashed = hash_password(pass);
        // Every stored hash is compared, matching or not.
        self.passwords
            .iter()
            .fold(false, |ok, p| same_hash(&hashed, p) | ok)
    }

    /// Applies one rule (Redis's `ACLSetUser`).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), OpError> {
        if op.is_empty() {
            return Ok(());
        }
        let lower = op.to_ascii_lowercase();
        match lower.as_slice() {
            b"on" => self.enabled = true,
            b"off" => self.enabled = false,
            b"skip-sanitize-payload" => self.sanitize = Some(false),
            b"sanitize-payload" => self.sanitize = Some(true),
            b"nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            b"resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            b"clearselectors" => self.selectors.truncate(1),
            b"reset" => {
                for op in [
                    &b"resetpass"[..],
                    b"resetkeys",
                    b"resetchannels",
                    b"off",
                    b"sanitize-payload",
                    b"clearselectors",
                    b"-@all",
                ] {
                    self.apply(op)?;
                }
                if super::pubsub_default_all() {
                    self.apply(b"allchannels")?;
                }
            }
            _ => return self.apply_other(op),
        }
        Ok(())
    }

    fn apply_other(&mut self, op: &[u8]) -> Result<(), OpError> {
        match op[0] {
            b'>' | b'#' => {
                let hash = hash_of(op)?;
                if !self.passwords.contains(&hash) {
                    self.passwords.push(hash);
                }
                self.nopass = false;
            }
            b'<' | b'!' => {
                let hash = hash_of(op)?;
                let at = self
                    .passwords
                    .iter()
                    .position(|p| *p == hash)
                    .ok_or(OpError::NoSuchPassword)?;
                self.passwords.remove(at);
            }
            b'(' if op.ends_with(b")") && op.len() >= 2 => {
                let mut sel = Selector::new(false);
                let inner = &op[1..op.len() - 1];
                // Unbalanced quotes give an empty selector, as Redis's `sdssplitargs` failing does.
                for rule in crate::protocol::split_args(inner).unwrap_or_default() {
                    sel.apply(&rule)?;
                }
                self.selectors.push(sel);
            }
            _ => self.selectors[0].apply(op)?,
        }
        Ok(())
    }

    /// Applies `rules` all or nothing; the error is Redis's ACL SETUSER text.
    pub fn apply_all(&mut self, rules: &[Vec<u8>]) -> Result<(), String> {
        let merged = merge_selectors(rules).map_err(|start| {
            format!(
                "Unmatched parenthesis in acl selector starting at '{}'.",
                String::from_utf8_lossy(&start)
            )
        })?;
        let mut staged = self.clone();
        for op in &merged {
            staged.apply(op).map_err(|e| {
                format!(
                    "Error in ACL SETUSER modifier '{}': {}",
                    String::from_utf8_lossy(op),
                    e.message()
                )
            })?;
        }
        *self = staged;
        Ok(())
    }

    /// Redis's `ACLCheckAllUserCommandPerm`: allowed if one selector allows; otherwise the most relevant refusal.
    pub fn check(&self, id: usize, args: Args) -> Result<(), Denied> {
        let mut keys = None;
        let mut worst = Denied::Command;
        for sel in &self.selectors {
            match sel.check(id, args, &mut keys) {
                Ok(()) => return Ok(()),
                Err(d) => worst = super::selector::worst(worst, d),
            }
        }
        Err(worst)
    }

    /// Whether a selector that allows the command also allows reading every key.
    pub fn may_read_all_keys(&self, id: usize, args: Args) -> bool {
        let mut keys = None;
        self.selectors.iter().any(|s| {
            s.check(id, args, &mut keys).is_ok()
                && s.all_keys_for(crate::commands::keyspec::flags::ACCESS)
        })
    }

    /// Whether one selector allows `channel` (PUBLISH / SUBSCRIBE checks of pub/sub clients).
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.selectors
            .iter()
            .any(|s| s.channel_allowed(channel, is_pattern))
    }

    /// Whether every channel this user could reach before, `new` still allows (Redis's check before it kills
    /// pub/sub clients on ACL SETUSER).
    pub fn channels_kept_by(&self, new: &User) -> bool {
        if new.selectors.iter().any(|s| s.allchannels) {
            return true;
        }
        let upcoming: Vec<&Vec<u8>> = new.selectors.iter().flat_map(|s| &s.channels).collect();
        self.selectors
            .iter()
            .all(|s| !s.allchannels && s.channels.iter().all(|c| upcoming.contains(&c)))
    }
}

/// Joins `(` ... `)` spread over several arguments into one (Redis's `ACLMergeSelectorArguments`); on an
/// unclosed one, the argument that opened it.
pub fn merge_selectors(args: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, Vec<u8>> {
    let mut out = Vec::new();
    let mut open: Option<(Vec<u8>, &Vec<u8>)> = None;
    for op in args {
        if let Some((mut sel, start)) = open.take() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(sel);
            } else {
                open = Some((sel, start));
            }
            continue;
        }
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            open = Some((op.clone(), op));
            continue;
        }
        out.push(op.clone());
    }
    match open {
        Some((_, start)) => Err(start.clone()),
        None => Ok(out),
    }
}
