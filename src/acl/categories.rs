//! Command bitmaps and ACL categories, both derived from the command table: a command's categories are the ones
//! COMMAND INFO shows (its row's, plus those Redis's `setImplicitACLCategories` derives from its flags).

use std::sync::OnceLock;

use crate::commands::introspection::{categories as command_categories, CATEGORIES};
use crate::commands::table;

/// One bit per command id, plus one for "commands that do not exist yet" (set by `+@all` only, as Redis's
/// reserved bit: it tells `+@all -x` from `-@all +everything-but-x`).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Bits(Vec<u64>);

fn bit_count() -> usize {
    table::get().len() + 1
}

impl Bits {
    pub fn empty() -> Self {
        Bits(vec![0; bit_count().div_ceil(64)])
    }

    pub fn full() -> Self {
        Bits(vec![u64::MAX; bit_count().div_ceil(64)])
    }

    pub fn get(&self, id: usize) -> bool {
        self.0
            .get(id / 64)
            .is_some_and(|w| w & (1 << (id % 64)) != 0)
    }

    pub fn set(&mut self, id: usize, on: bool) {
        if let Some(w) = self.0.get_mut(id / 64) {
            if on {
                *w |= 1 << (id % 64);
            } else {
                *w &= !(1 << (id % 64));
            }
        }
    }

    /// Whether `+@all` was the last word on all commands (the reserved bit is set).
    pub fn future_commands(&self) -> bool {
        self.get(bit_count() - 1)
    }
}

/// The categories of every command id, as bit masks over `CATEGORIES`.
fn masks() -> &'static [u32] {
    static MASKS: OnceLock<Vec<u32>> = OnceLock::new();
    MASKS.get_or_init(|| {
        let t = table::get();
        (0..t.len())
            .map(|id| {
                command_categories(t.get(id))
                    .iter()
                    .filter_map(|c| by_name(c))
                    .fold(0, |m, i| m | 1 << i)
            })
            .collect()
    })
}

/// A category's index by name, any case.
pub fn by_name(name: &str) -> Option<usize> {
    CATEGORIES
        .iter()
        .position(|(n, _)| n.eq_ignore_ascii_case(name))
}

pub fn count() -> usize {
    CATEGORIES.len()
}

pub fn name(i: usize) -> &'static str {
    CATEGORIES[i].0
}

pub fn names() -> impl Iterator<Item = &'static str> {
    CATEGORIES.iter().map(|(n, _)| *n)
}

pub fn has(id: usize, cat: usize) -> bool {
    masks().get(id).is_some_and(|m| m & (1 << cat) != 0)
}

/// The command tree, computed once: every id in walking order, each command's subcommands, each category's
/// commands (rule changes and descriptions walk these for every rule).
struct Tree {
    order: Vec<usize>,
    children: Vec<Vec<usize>>,
    members: Vec<Vec<usize>>,
}

fn tree() -> &'static Tree {
    static TREE: OnceLock<Tree> = OnceLock::new();
    TREE.get_or_init(|| {
        let t = table::get();
        let mut children = vec![Vec::new(); t.len()];
        let mut order = Vec::with_capacity(t.len());
        for id in t.top_level() {
            order.push(id);
            children[id] = t.subcommand_ids(id).collect();
            order.extend_from_slice(&children[id]);
        }
        let members = (0..count())
            .map(|cat| order.iter().copied().filter(|&id| has(id, cat)).collect())
            .collect();
        Tree {
            order,
            children,
            members,
        }
    })
}

/// Every command id, containers before their subcommands, in table order (Redis walks its command dict so).
pub fn all_ids() -> impl Iterator<Item = usize> {
    tree().order.iter().copied()
}

/// A container's subcommands.
pub fn children(id: usize) -> &'static [usize] {
    tree().children.get(id).map_or(&[], Vec::as_slice)
}

/// The commands of a category, in walking order.
pub fn members(cat: usize) -> &'static [usize] {
    tree().members.get(cat).map_or(&[], Vec::as_slice)
}
