//! The set type and its commands.

use crate::commands::Command;

#[derive(Default, Clone)]
pub struct Set {}

impl Set {
    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "set"
    }
}

pub const COMMANDS: &[Command] = &[];
