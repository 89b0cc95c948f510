//! The pieces that need no network client: timeout parsing and CLIENT UNBLOCK's entry point.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use super::{parse_timeout, pending, unblock, wait, Unit};
use crate::commands::dispatch;
use crate::config::Config;
use crate::protocol::{Frame, Reply};
use crate::server::clients::ClientState;
use crate::server::Server;

#[test]
fn timeouts_parse_as_redis() {
    let ms = |s: &str| parse_timeout(s.as_bytes(), Unit::Seconds);
    assert_eq!(ms("0"), Ok(None));
    assert_eq!(
        ms("0.0001"),
        Ok(None),
        "under a millisecond truncates to forever, as in Redis"
    );
    assert_eq!(ms("1.5"), Ok(Some(Duration::from_millis(1500))));
    assert_eq!(ms("1e300"), Err(Reply::err("timeout is negative")));
    assert_eq!(ms("-1"), Err(Reply::err("timeout is negative")));
    assert_eq!(
        ms("x"),
        Err(Reply::err("timeout is not a float or out of range"))
    );
    assert_eq!(ms("9.3e15"), Err(Reply::err("timeout is negative")));
    assert!(
        matches!(ms("9223372036854770"), Ok(Some(t)) if t.as_secs() > 9_000_000_000_000_000),
        "a huge timeout blocks"
    );
    let ms = |s: &str| parse_timeout(s.as_bytes(), Unit::Millis);
    assert_eq!(ms("250"), Ok(Some(Duration::from_millis(250))));
    assert_eq!(
        ms("1.5"),
        Err(Reply::err("timeout is not an integer or out of range"))
    );
}

/// A server with one registered client whose peer end stays open, and that client blocked in BLPOP.
fn blocked_client(server: &Arc<Server>) -> (ClientState, TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (ours, addr) = listener.accept().unwrap();
    let info = server
        .clients
        .register(ours.try_clone().unwrap(), addr, addr, 0);
    let mut client = ClientState::new(info);
    let data = b"blpopk0";
    let spans = [(0, 5), (5, 6), (6, 7)];
    let reply = dispatch::execute(server, &mut client, Frame::new(data, &spans));
    assert_eq!(reply, Reply::NoReply);
    assert!(pending(&client));
    (client, ours, peer)
}

#[test]
fn client_unblock_error_and_timeout() {
    let server = Server::new(Config::new());
    for (error, want) in [
        (
            true,
            Reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK"),
        ),
        (false, Reply::NilArray),
    ] {
        let (mut client, ours, _peer) = blocked_client(&server);
        let id = client.id();
        let unblocker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            unblock(id, error)
        });
        assert_eq!(wait(&server, &mut client, &ours), want);
        assert!(unblocker.join().unwrap());
        assert!(!unblock(id, error), "no longer blocked");
        assert!(!client
            .info
            .blocked
            .load(std::sync::atomic::Ordering::Relaxed));
    }
}
