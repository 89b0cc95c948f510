//! Pub/Sub: channels, patterns and shard channels, each subscriber fed through a crossbeam channel.

use crate::commands::Command;
use crate::protocol::Reply;
use crate::server::clients::ClientState;

pub const COMMANDS: &[Command] = &[];

/// The RESP2 pub/sub context: a subscribed client may only run (P|S)(UN)SUBSCRIBE, PING, QUIT and RESET.
pub fn gate(_client: &ClientState, _id: usize) -> Option<Reply> {
    None
}
