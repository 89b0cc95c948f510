//! The list type and its commands.

use crate::commands::Command;

#[derive(Default, Clone)]
pub struct List {}

impl List {
    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "list"
    }
}

pub const COMMANDS: &[Command] = &[];
