//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

use super::Command;
use crate::protocol::Reply;
use crate::server::clients::ClientState;

pub const COMMANDS: &[Command] = &[];

/// Called for every resolved command before it runs: inside MULTI, queues it and answers `+QUEUED`.
pub fn queue_if_multi(_client: &mut ClientState, _id: usize, _args: super::Args) -> Option<Reply> {
    None
}

/// Called when a command is rejected (unknown, wrong arity): inside MULTI this dooms the EXEC.
pub fn on_rejected(_client: &mut ClientState) {}

/// True while a transaction's queued commands run: blocking commands then act as their non-blocking forms.
pub fn in_exec(_client: &ClientState) -> bool {
    false
}
