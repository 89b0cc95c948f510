//! The zset type and its commands.

use crate::commands::Command;

#[derive(Default, Clone)]
pub struct ZSet {}

impl ZSet {
    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "zset"
    }
}

pub const COMMANDS: &[Command] = &[];
