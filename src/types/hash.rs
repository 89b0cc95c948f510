//! The hash type and its commands.

use crate::commands::Command;

#[derive(Default, Clone)]
pub struct Hash {}

impl Hash {
    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "hash"
    }
}

pub const COMMANDS: &[Command] = &[];
