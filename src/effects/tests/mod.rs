//! The effects feed seen from the outside: commands run through the dispatcher as a connection runs them, and
//! the feed read back as commands. `rewrites` checks each rewrite against what redis-server 7.0.15 propagates
//! (recorded from `redis-cli --replica`); `table` runs every write command of the table.

mod dirty;
mod order;
mod reference;
mod rewrites;
mod table;

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use super::Subscription;
use crate::commands::dispatch;
use crate::config::Config;
use crate::protocol::{Frame, Reply};
use crate::server::clients::ClientState;
use crate::server::Server;

/// A server with a feed subscription and clients to drive it.
pub(super) struct Harness {
    pub server: Arc<Server>,
    pub feed: Subscription,
}

/// A registered client and the two ends of its loopback socket, kept open while it lives.
pub(super) struct Client {
    pub state: ClientState,
    _sockets: (TcpStream, TcpStream),
}

impl Harness {
    pub fn new() -> Self {
        let server = Server::new(Config::new());
        let feed = server.feed.subscribe();
        Harness { server, feed }
    }

    pub fn client(&self) -> Client {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, addr) = listener.accept().unwrap();
        let info = self
            .server
            .clients
            .register(ours.try_clone().unwrap(), addr, addr, 0);
        Client {
            state: ClientState::new(info),
            _sockets: (ours, peer),
        }
    }

    /// Runs one command as `client`, through the dispatcher.
    pub fn run(&self, client: &mut Client, args: &[&str]) -> Reply {
        let mut data = Vec::new();
        let mut spans = Vec::new();
        for a in args {
            spans.push((data.len(), data.len() + a.len()));
            data.extend_from_slice(a.as_bytes());
        }
        let reply = dispatch::execute(&self.server, &mut client.state, Frame::new(&data, &spans));
        // Each command is a batch, as the connection loop ends one: a client that ran keyed commands stops being
        // watched by fences. Without this, a harness client whose thread was done (its peer socket closed, so
        // its socket reads as input that came first) made every other client's write wait out the fence's
        // patience, 1 s a command.
        crate::server::fence::batch_end(&self.server, &client.state);
        client.state.info.input.finished();
        reply
    }

    /// The effects appended since the last call, one command per line, arguments joined by spaces.
    pub fn effects(&mut self) -> Vec<String> {
        parse_commands(&self.feed.take())
            .into_iter()
            .map(|c| c.join(" "))
            .collect()
    }
}

/// Splits RESP arrays of bulk strings (the feed's only form) into commands.
pub(super) fn parse_commands(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8_lossy(bytes);
    let mut lines = text.split("\r\n");
    let mut out = Vec::new();
    while let Some(head) = lines.next() {
        let Some(n) = head.strip_prefix('*') else {
            assert!(head.is_empty(), "not an array: {head:?}");
            continue;
        };
        let n: usize = n.parse().unwrap();
        let args = (0..n)
            .map(|_| {
                let len = lines.next().unwrap();
                let arg = lines.next().unwrap().to_string();
                assert_eq!(len, format!("${}", arg.len()), "bulk length of {arg:?}");
                arg
            })
            .collect();
        out.push(args);
    }
    out
}

/// Runs `commands` on one client of a fresh harness and returns the effects they produced.
pub(super) fn effects_of(commands: &[&[&str]]) -> Vec<String> {
    let mut h = Harness::new();
    let mut c = h.client();
    for cmd in commands {
        h.run(&mut c, cmd);
    }
    h.effects()
}
