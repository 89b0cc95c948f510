//! Clients blocked on keys (BLPOP family, BZPOPMIN family, XREAD/XREADGROUP BLOCK), waiting on `Condvar`s.
//!
//! The registry lives in each shard ([`BlockedKeys`]) so the writer that makes a key ready, still holding that
//! shard's write lock, can hand data to waiters in FIFO order and wake exactly them. Filled in by the lists work.

#[derive(Default)]
pub struct BlockedKeys {}

impl BlockedKeys {
    /// Called by the "key changed" hook for every write.
    pub fn key_changed(&mut self, _key: &[u8]) {}
}

/// Whether the last command left the client waiting (its handler registered it and answered `NoReply`).
pub fn pending(_client: &crate::server::clients::ClientState) -> bool {
    false
}

/// Waits, with no lock held and the client's earlier replies already written, until the client is served, times
/// out, is unblocked or disconnects; returns the reply to send.
pub fn wait(
    _server: &crate::server::Server,
    _client: &mut crate::server::clients::ClientState,
    _stream: &std::net::TcpStream,
) -> crate::protocol::Reply {
    crate::protocol::Reply::NoReply
}

/// Serves clients blocked on keys that the command just run made ready; called with the command's locks held.
pub fn serve_ready(_ctx: &mut crate::commands::Ctx) {}
