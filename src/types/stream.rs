//! The stream type and its commands.

use crate::commands::Command;

#[derive(Default, Clone)]
pub struct Stream {}

impl Stream {
    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "stream"
    }
}

pub const COMMANDS: &[Command] = &[];
