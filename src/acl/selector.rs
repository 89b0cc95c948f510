//! A selector: which commands, keys and channels one set of rules allows (Redis 7.0's `aclSelector`). A user has
//! a root selector and any number of `(...)` selectors; a command runs if one of them allows all of it.

use std::collections::BTreeMap;

use super::categories::{self, Bits};
use super::OpError;
use crate::commands::{chan, keyspec, table, Args};
use crate::util::glob::glob_match;

/// Key pattern permissions (`%R~`, `%W~`, `~` is both).
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
pub const ALL: u8 = READ | WRITE;

/// Why a selector refused a command; ordered as Redis ranks them when picking the error to report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denied {
    Command,
    /// The argument index of the key.
    Key(usize),
    /// The argument index of the channel.
    Channel(usize),
}

impl Denied {
    fn rank(self) -> (u8, usize) {
        match self {
            Denied::Command => (1, 0),
            Denied::Key(i) => (2, i),
            Denied::Channel(i) => (4, i),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Selector {
    pub root: bool,
    /// Set by `+@all` / `allcommands` only, cleared by any removal (Redis's `SELECTOR_FLAG_ALLCOMMANDS`).
    pub allcommands: bool,
    pub bits: Bits,
    /// `+select|0`: first arguments allowed for a command whose bit is off, by command id.
    pub firstargs: BTreeMap<usize, Vec<Vec<u8>>>,
    pub allkeys: bool,
    pub patterns: Vec<(Vec<u8>, u8)>,
    pub allchannels: bool,
    pub channels: Vec<Vec<u8>>,
}

impl Selector {
    /// An empty selector: no command, no key; channels as `acl-pubsub-default` says.
    pub fn new(root: bool) -> Self {
        Selector {
            root,
            allcommands: false,
            bits: Bits::empty(),
            firstargs: BTreeMap::new(),
            allkeys: false,
            patterns: Vec::new(),
            allchannels: super::pubsub_default_all(),
            channels: Vec::new(),
        }
    }

    /// Whether this selector lets anything through without looking at the arguments.
    pub fn unrestricted(&self) -> bool {
        self.allcommands && self.allkeys && self.allchannels
    }

    /// Applies one rule (Redis's `ACLSetSelector`).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), OpError> {
        let lower = op.to_ascii_lowercase();
        match lower.as_slice() {
            b"allkeys" | b"~*" => {
                self.allkeys = true;
                self.patterns.clear();
            }
            b"resetkeys" => {
                self.allkeys = false;
                self.patterns.clear();
            }
            b"allchannels" | b"&*" => {
                self.allchannels = true;
                self.channels.clear();
            }
            b"resetchannels" => {
                self.allchannels = false;
                self.channels.clear();
            }
            b"allcommands" | b"+@all" => {
                self.bits = Bits::full();
                self.allcommands = true;
                self.firstargs.clear();
            }
            b"nocommands" | b"-@all" => {
                self.bits = Bits::empty();
                self.allcommands = false;
                self.firstargs.clear();
            }
            _ => return self.apply_pattern_or_command(op),
        }
        Ok(())
    }

    fn apply_pattern_or_command(&mut self, op: &[u8]) -> Result<(), OpError> {
        match op.first() {
            Some(b'~' | b'%') => self.add_key_pattern(op),
            Some(b'&') => self.add_channel(&op[1..]),
            Some(b'+') if op.get(1) != Some(&b'@') => self.allow_command(&op[1..]),
            Some(b'-') if op.get(1) != Some(&b'@') => {
                let id = lookup(&op[1..]).ok_or(OpError::UnknownName)?;
                self.change(id, false);
                Ok(())
            }
            Some(b'+' | b'-') => {
                let allow = op[0] == b'+';
                let cat = std::str::from_utf8(&op[2..]).map_err(|_| OpError::UnknownName)?;
                let cat = categories::by_name(cat).ok_or(OpError::UnknownName)?;
                self.change_category(cat, allow);
                Ok(())
            }
            _ => Err(OpError::Syntax),
        }
    }

    fn add_key_pattern(&mut self, op: &[u8]) -> Result<(), OpError> {
        if self.allkeys {
            return Err(OpError::KeyAfterAll);
        }
        let (flags, offset) = if op[0] == b'%' {
            let mut flags = 0;
            let mut offset = 1;
            let mut ok = true;
            while offset < op.len() {
                let c = op[offset];
                if c.eq_ignore_ascii_case(&b'R') && flags & READ == 0 {
                    flags |= READ;
                } else if c.eq_ignore_ascii_case(&b'W') && flags & WRITE == 0 {
                    flags |= WRITE;
                } else if c == b'~' {
                    offset += 1;
                    break;
                } else {
                    ok = false;
                    break;
                }
                offset += 1;
            }
            if flags == 0 || !ok {
                return Err(OpError::Syntax);
            }
            (flags, offset)
        } else {
            (ALL, 1)
        };
        let pattern = &op[offset.min(op.len())..];
        if has_spaces(pattern) {
            return Err(OpError::Syntax);
        }
        match self.patterns.iter_mut().find(|(p, _)| p == pattern) {
            Some((_, f)) => *f |= flags,
            None => self.patterns.push((pattern.to_vec(), flags)),
        }
        self.allkeys = false;
        Ok(())
    }

    fn add_channel(&mut self, pattern: &[u8]) -> Result<(), OpError> {
        if self.allchannels {
            return Err(OpError::ChannelAfterAll);
        }
        if has_spaces(pattern) {
            return Err(OpError::Syntax);
        }
        if !self.channels.iter().any(|c| c == pattern) {
            self.channels.push(pattern.to_vec());
        }
        self.allchannels = false;
        Ok(())
    }

    /// `+cmd`, `+cmd|sub`, or `+cmd|firstarg` for a command without subcommands.
    fn allow_command(&mut self, name: &[u8]) -> Result<(), OpError> {
        let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
            let id = lookup(name).ok_or(OpError::UnknownName)?;
            self.change(id, true);
            return Ok(());
        };
        let (cmd, sub) = (&name[..bar], &name[bar + 1..]);
        let id = lookup(cmd).ok_or(OpError::UnknownName)?;
        let t = table::get();
        if t.parent(id).is_some() {
            return Err(OpError::FirstArgOfSub);
        }
        if sub.is_empty() {
            return Err(OpError::Syntax);
        }
        if !t.get(id).subcommands.is_empty() {
            let sid = t.lookup_sub(id, sub).ok_or(OpError::UnknownName)?;
            self.change(sid, true);
        } else {
            log::warn!(
                "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL \
                 and may get disabled in the future (offender: +{})",
                String::from_utf8_lossy(name)
            );
            let list = self.firstargs.entry(id).or_default();
            if !list.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                list.push(sub.to_vec());
            }
        }
        Ok(())
    }

    /// Redis's `ACLChangeSelectorPerm`: the command and, for a container, all its subcommands.
    pub fn change(&mut self, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.firstargs.remove(&id);
        for &sub in categories::children(id) {
            self.set_bit(sub, allow);
        }
    }

    fn set_bit(&mut self, id: usize, allow: bool) {
        self.bits.set(id, allow);
        if !allow {
            self.allcommands = false;
        }
    }

    /// `+@cat` / `-@cat`: every command in the category (a container in it brings its subcommands along).
    pub fn change_category(&mut self, cat: usize, allow: bool) {
        for &id in categories::members(cat) {
            self.change(id, allow);
        }
    }

    /// Redis's `ACLSelectorCheckCmd`. `keys` caches the command's keys across selectors.
    pub fn check(
        &self,
        id: usize,
        args: Args,
        keys: &mut Option<Vec<(usize, u16)>>,
    ) -> Result<(), Denied> {
        let t = table::get();
        let cmd = t.get(id);
        if !self.allcommands
            && !cmd.has(crate::commands::flags::NO_AUTH)
            && !self.bits.get(id)
            && !self.first_arg_allowed(id, args)
        {
            return Err(Denied::Command);
        }
        if !self.allkeys && keyspec::has_keys(cmd) {
            let keys = keys.get_or_insert_with(|| keyspec::keys_and_flags(cmd, args));
            for &(i, flags) in keys.iter() {
                if !self.key_allowed(args.get(i), flags) {
                    return Err(Denied::Key(i));
                }
            }
        }
        if !self.allchannels && cmd.channels & (chan::PUBLISH | chan::SUBSCRIBE) != 0 {
            let pattern = cmd.channels & chan::PATTERN != 0;
            let last = if cmd.channels & chan::PUBLISH != 0 {
                2.min(args.len())
            } else {
                args.len()
            };
            for i in 1..last {
                if !self.channel_allowed(args.get(i), pattern) {
                    return Err(Denied::Channel(i));
                }
            }
        }
        Ok(())
    }

    fn first_arg_allowed(&self, id: usize, args: Args) -> bool {
        let idx = if table::get().parent(id).is_some() {
            2
        } else {
            1
        };
        args.len() > idx
            && self
                .firstargs
                .get(&id)
                .is_some_and(|l| l.iter().any(|a| a.eq_ignore_ascii_case(args.get(idx))))
    }

    /// Redis's `ACLSelectorCheckKey`: a pattern with every permission the key spec's flags need must match.
    pub fn key_allowed(&self, key: &[u8], spec_flags: u16) -> bool {
        if self.allkeys {
            return true;
        }
        let need = needed(spec_flags);
        self.patterns
            .iter()
            .any(|(p, f)| f & need == need && glob_match(p, key, false))
    }

    /// Whether some pattern with the permissions `spec_flags` need is `*` (Redis's
    /// `ACLSelectorHasUnrestrictedKeyAccess`).
    pub fn all_keys_for(&self, spec_flags: u16) -> bool {
        let need = needed(spec_flags);
        self.allkeys
            || self
                .patterns
                .iter()
                .any(|(p, f)| f & need == need && p.as_slice() == b"*")
    }

    /// A channel is matched against the patterns; a PSUBSCRIBE pattern only literally.
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.allchannels
            || self.channels.iter().any(|p| {
                if is_pattern {
                    p.as_slice() == channel
                } else {
                    glob_match(p, channel, false)
                }
            })
    }
}

/// The key-pattern permissions a key spec's flags need.
fn needed(spec_flags: u16) -> u8 {
    use keyspec::flags::{ACCESS, DELETE, INSERT, UPDATE};
    let mut need = 0;
    if spec_flags & ACCESS != 0 {
        need |= READ;
    }
    if spec_flags & (INSERT | DELETE | UPDATE) != 0 {
        need |= WRITE;
    }
    need
}

/// The most relevant refusal over all selectors, as Redis's `ACLCheckAllUserCommandPerm` picks it.
pub fn worst(a: Denied, b: Denied) -> Denied {
    if b.rank() > a.rank() {
        b
    } else {
        a
    }
}

/// A command or `container|sub` by name, from the table as declared (renames do not change ACL names).
pub fn lookup(name: &[u8]) -> Option<usize> {
    let t = table::get();
    let text = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    match text.split_once('|') {
        Some((cmd, sub)) => {
            let id = t.by_declared_name(cmd)?;
            t.lookup_sub(id, sub.as_bytes())
        }
        None => t.by_declared_name(&text),
    }
}

/// Redis's `ACLStringHasSpaces`: whitespace or NUL.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| b == 0 || matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
}
