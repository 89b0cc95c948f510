//! The command table: the one list of every command ferredis has.
//!
//! Each group of commands is declared beside its code (`types::string::COMMANDS`, ...); `GROUPS` below is where
//! they are all named. Dispatch, arity errors, COMMAND / COMMAND INFO / COMMAND DOCS / COMMAND COUNT, INFO
//! commandstats and the MULTI queue all read this table and nothing else.

use std::cell::Cell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::OnceLock;

use super::{
    client, cluster, config_cmd, connection, debug, expire, info, introspection, keys, migrate,
    object, scan, server_cmds, sort, transaction, Command,
};
use crate::types;

/// Every command group. Add a new group here and it exists everywhere.
const GROUPS: &[&[Command]] = &[
    connection::COMMANDS,
    client::COMMANDS,
    cluster::COMMANDS,
    server_cmds::COMMANDS,
    info::COMMANDS,
    config_cmd::COMMANDS,
    introspection::COMMANDS,
    keys::COMMANDS,
    expire::COMMANDS,
    scan::COMMANDS,
    object::COMMANDS,
    sort::COMMANDS,
    migrate::COMMANDS,
    debug::COMMANDS,
    types::string::COMMANDS,
    types::string::BITMAP_COMMANDS,
    types::list::COMMANDS,
    types::hash::COMMANDS,
    types::set::COMMANDS,
    types::zset::COMMANDS,
    types::geo::COMMANDS,
    types::stream::COMMANDS,
    types::hyperloglog::COMMANDS,
    crate::pubsub::COMMANDS,
    transaction::COMMANDS,
    crate::persist::COMMANDS,
    crate::persist::commands::COMMANDS,
    crate::persist::aof::commands::COMMANDS,
    crate::scripting::COMMANDS,
    crate::scripting::functions::COMMANDS,
    crate::memory::command::COMMANDS,
    crate::acl::commands::COMMANDS,
    crate::ops::COMMANDS,
    crate::replication::COMMANDS,
];

/// Commands that exist only in the crate's own unit tests (e.g. one whose handler panics).
#[cfg(test)]
const TEST_GROUPS: &[&[Command]] = &[crate::server::test_commands::COMMANDS];
#[cfg(not(test))]
const TEST_GROUPS: &[&[Command]] = &[];

pub struct CommandTable {
    /// Indexed by command id: top-level commands and subcommands alike.
    commands: Vec<&'static Command>,
    /// Redis's full names (`get`, `config|get`), by id.
    full_names: Vec<String>,
    parents: Vec<Option<usize>>,
    /// FNV-1a rather than SipHash: the lookup runs for every request, and a fixed table of short names cannot
    /// be flooded (clients only look names up).
    top: HashMap<&'static [u8], usize, BuildHasherDefault<NameHasher>>,
    subs: HashMap<(usize, &'static [u8]), usize, BuildHasherDefault<NameHasher>>,
}

impl CommandTable {
    fn build() -> Self {
        let mut t = CommandTable {
            commands: Vec::new(),
            full_names: Vec::new(),
            parents: Vec::new(),
            top: HashMap::default(),
            subs: HashMap::default(),
        };
        for cmd in declared() {
            let id = t.push(cmd, None);
            let previous = t.top.insert(cmd.name.as_bytes(), id);
            assert!(previous.is_none(), "command {} declared twice", cmd.name);
            for sub in cmd.subcommands {
                let sid = t.push(sub, Some(id));
                t.subs.insert((id, sub.name.as_bytes()), sid);
            }
        }
        for (old, new) in RENAMES.lock().iter() {
            if let Some(id) = t.top.remove(old.as_bytes()) {
                if !new.is_empty() {
                    // Start-up only, a few bytes per directive: leaking keeps the table's keys `'static`.
                    t.top
                        .insert(Box::leak(new.clone().into_bytes().into_boxed_slice()), id);
                }
            }
        }
        t
    }

    fn push(&mut self, cmd: &'static Command, parent: Option<usize>) -> usize {
        self.commands.push(cmd);
        self.full_names.push(match parent {
            Some(p) => format!("{}|{}", self.commands[p].name, cmd.name),
            None => cmd.name.to_string(),
        });
        self.parents.push(parent);
        self.commands.len() - 1
    }

    pub fn len(&self) -> usize {
        self.commands.len()
    }

    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// A top-level command by name, any case.
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        if let Some(id) = LastLookup::get(name) {
            return Some(id);
        }
        let id = with_lowercase(name, |lower| self.top.get(lower).copied())?;
        LastLookup::set(name, id);
        Some(id)
    }

    /// A top-level command by the name it was declared with, whatever `rename-command` did (ACL rules name
    /// commands so).
    pub fn by_declared_name(&self, name: &str) -> Option<usize> {
        self.top_level().find(|&id| self.commands[id].name == name)
    }

    pub fn lookup_sub(&self, parent: usize, name: &[u8]) -> Option<usize> {
        with_lowercase(name, |lower| self.subs.get(&(parent, lower)).copied())
    }

    pub fn get(&self, id: usize) -> &'static Command {
        self.commands[id]
    }

    pub fn full_name(&self, id: usize) -> &str {
        &self.full_names[id]
    }

    pub fn parent(&self, id: usize) -> Option<usize> {
        self.parents[id]
    }

    /// Ids of top-level commands, in declaration order.
    pub fn top_level(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.commands.len()).filter(|&i| self.parents[i].is_none())
    }

    pub fn subcommand_ids(&self, parent: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.commands.len()).filter(move |&i| self.parents[i] == Some(parent))
    }
}

/// FNV-1a: a few instructions per byte for names of a few bytes.
#[derive(Default)]
struct NameHasher(u64);

impl Hasher for NameHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &b in bytes {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// The last command name this thread looked up, spelled as the client spelled it, and its id. A thread serves one
/// connection, and a connection mostly sends the same command again (a pipeline of SETs, a benchmark): then
/// the lookup is one short comparison instead of lower-casing, hashing and probing. Sound because a process has
/// one table (`get`), whose ids never change.
#[derive(Clone, Copy)]
struct LastLookup {
    len: u8,
    name: [u8; 15],
    id: u32,
}

thread_local! {
    static LAST_LOOKUP: Cell<LastLookup> = const { Cell::new(LastLookup { len: 0, name: [0; 15], id: 0 }) };
}

impl LastLookup {
    fn get(name: &[u8]) -> Option<usize> {
        let last = LAST_LOOKUP.with(Cell::get);
        (last.len != 0 && name == &last.name[..last.len as usize]).then_some(last.id as usize)
    }

    fn set(name: &[u8], id: usize) {
        if let (1..=15, Ok(id)) = (name.len(), u32::try_from(id)) {
            let mut last = LastLookup {
                len: name.len() as u8,
                name: [0; 15],
                id,
            };
            last.name[..name.len()].copy_from_slice(name);
            LAST_LOOKUP.with(|c| c.set(last));
        }
    }
}

/// Lower-cases a command name without allocating for names of ordinary length.
fn with_lowercase<R>(name: &[u8], f: impl FnOnce(&[u8]) -> Option<R>) -> Option<R> {
    let mut buf = [0u8; 32];
    if name.len() <= buf.len() {
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        f(lower)
    } else {
        f(&name.to_ascii_lowercase())
    }
}

fn declared() -> impl Iterator<Item = &'static Command> {
    GROUPS.iter().chain(TEST_GROUPS).flat_map(|g| g.iter())
}

static TABLE: OnceLock<CommandTable> = OnceLock::new();

/// `rename-command old new` directives of the configuration, lower case, in order; applied when the table is
/// built, which happens after the configuration is read (the first request, or `Server::new`).
static RENAMES: parking_lot::Mutex<Vec<(String, String)>> = parking_lot::Mutex::new(Vec::new());

/// Redis's `rename-command`: `old` answers to `new` from now on, or to nothing when `new` is empty. The errors
/// are Redis's config-file reasons.
pub fn rename_at_startup(old: &str, new: &str) -> Result<(), &'static str> {
    if TABLE.get().is_some() {
        return Err("rename-command is only read at start-up");
    }
    let mut renames = RENAMES.lock();
    let mut names: Vec<String> = declared().map(|c| c.name.to_string()).collect();
    for (o, n) in renames.iter() {
        names.retain(|x| x != o);
        if !n.is_empty() {
            names.push(n.clone());
        }
    }
    let (old, new) = (old.to_ascii_lowercase(), new.to_ascii_lowercase());
    if !names.contains(&old) {
        return Err("No such command in rename-command");
    }
    if !new.is_empty() && new != old && names.contains(&new) {
        return Err("Target command name already exists");
    }
    renames.push((old, new));
    Ok(())
}

/// The table, built once.
pub fn get() -> &'static CommandTable {
    TABLE.get_or_init(CommandTable::build)
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_builds_and_names_are_lowercase() {
        let t = super::get();
        assert!(t.len() >= 5);
        for id in 0..t.len() {
            let c = t.get(id);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(c.arity != 0, "{} has arity 0", t.full_name(id));
            assert!(!(c.has(super::super::flags::WRITE) && c.has(super::super::flags::READONLY)));
        }
        assert!(t.lookup(b"GeT").is_some());
    }

    /// Every group is spelled as COMMAND DOCS shows it, and every ACL category a row lists exists: a typo
    /// (`sorted_set`) would silently drop the category.
    #[test]
    fn groups_and_acl_categories_are_known() {
        use super::super::introspection::CATEGORIES;
        const GROUPS: &[&str] = &[
            "generic",
            "string",
            "list",
            "set",
            "sorted-set",
            "hash",
            "pubsub",
            "transactions",
            "connection",
            "server",
            "scripting",
            "hyperloglog",
            "cluster",
            "sentinel",
            "geo",
            "stream",
            "bitmap",
        ];
        let t = super::get();
        for id in 0..t.len() {
            let c = t.get(id);
            assert!(
                GROUPS.contains(&c.group),
                "{}: group {}",
                t.full_name(id),
                c.group
            );
            for cat in c.acl.unwrap_or_default() {
                assert!(
                    CATEGORIES.iter().any(|(n, _)| n == cat),
                    "{}: {cat}",
                    t.full_name(id)
                );
            }
        }
        for (_, group) in CATEGORIES {
            assert!(group.is_none_or(|g| GROUPS.contains(&g)), "{group:?}");
        }
    }

    #[test]
    fn the_last_lookup_cache_never_answers_for_another_name() {
        let t = super::get();
        let get = t.lookup(b"get").expect("get exists");
        let set = t.lookup(b"set").expect("set exists");
        assert_ne!(get, set);
        for _ in 0..2 {
            assert_eq!(t.lookup(b"GET"), Some(get));
            assert_eq!(t.lookup(b"GET"), Some(get), "served from the cache");
            assert_eq!(t.lookup(b"GETX"), None, "a longer name is another name");
            assert_eq!(t.lookup(b"GE"), None, "so is a prefix");
            assert_eq!(t.lookup(b"SET"), Some(set));
            assert_eq!(t.lookup(b"sEt"), Some(set));
        }
        // Names too long to cache still resolve, and do not disturb the cached one.
        assert_eq!(t.lookup(b"set"), Some(set));
        assert_eq!(t.lookup(b"zrangebyscorexyz"), None);
        assert_eq!(t.lookup(b"set"), Some(set));
        assert_eq!(
            t.lookup(b"zremrangebyscore").map(|id| t.full_name(id)),
            Some("zremrangebyscore")
        );
        assert_eq!(t.lookup(b"set"), Some(set));
    }
}
