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

/// The registry CLIENT UNBLOCK reads is per process, keyed by client id, and every test server numbers its
/// clients from 1: the tests that block clients run one at a time.
static SERIAL: parking_lot::Mutex<()> = parking_lot::const_mutex(());

/// Runs one command for `client` through the dispatcher, as the connection loop does.
fn execute(server: &Server, client: &mut ClientState, args: &[&str]) -> Reply {
    let mut data = Vec::new();
    let mut spans = Vec::new();
    for a in args {
        spans.push((data.len(), data.len() + a.len()));
        data.extend_from_slice(a.as_bytes());
    }
    dispatch::execute(server, client, Frame::new(&data, &spans))
}

/// A registered client whose peer end stays open (returned with it).
fn new_client(server: &Arc<Server>) -> (ClientState, TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (ours, addr) = listener.accept().unwrap();
    let info = server
        .clients
        .register(ours.try_clone().unwrap(), addr, addr, 0);
    (ClientState::new(info), ours, peer)
}

/// A client blocked in `BLPOP key 0`.
fn blocked_on(server: &Arc<Server>, key: &str) -> (ClientState, TcpStream, TcpStream) {
    let (mut client, ours, peer) = new_client(server);
    assert_eq!(
        execute(server, &mut client, &["blpop", key, "0"]),
        Reply::NoReply
    );
    assert!(pending(&client));
    (client, ours, peer)
}

fn blocked_client(server: &Arc<Server>) -> (ClientState, TcpStream, TcpStream) {
    blocked_on(server, "k")
}

fn answered(client: &ClientState) -> bool {
    let blocked = client.ext.blocked.as_ref().unwrap();
    let state = blocked.waiter.state.lock();
    matches!(*state, super::State::Answered(_))
}

#[test]
fn a_push_answers_only_the_waiters_of_its_key() {
    let _serial = SERIAL.lock();
    let server = Server::new(Config::new());
    let waiters: Vec<_> = (0..20)
        .map(|i| blocked_on(&server, &format!("key{i}")))
        .collect();
    let (mut pusher, _ours, _peer) = new_client(&server);
    assert_eq!(
        execute(&server, &mut pusher, &["rpush", "key7", "v"]),
        Reply::Int(1)
    );
    for (i, (client, _, _)) in waiters.iter().enumerate() {
        assert_eq!(answered(client), i == 7, "waiter {i}");
    }
}

#[test]
fn client_unblock_error_and_timeout() {
    let _serial = SERIAL.lock();
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
        let unblocking_server = server.clone();
        let unblocker = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            unblock(&unblocking_server, id, error)
        });
        assert_eq!(wait(&server, &mut client, &ours), want);
        assert!(unblocker.join().unwrap());
        assert!(!unblock(&server, id, error), "no longer blocked");
        assert!(!client
            .info
            .blocked
            .load(std::sync::atomic::Ordering::Relaxed));
    }
}

#[test]
fn client_unblock_command_replies() {
    let _serial = SERIAL.lock();
    let server = Server::new(Config::new());
    let (mut client, ours, _peer) = blocked_client(&server);
    let id = client.id().to_string();
    let mut other = blocked_client(&server).0;
    other.ext.blocked = None;
    let run = |other: &mut ClientState, args: &[&str]| {
        let mut data = Vec::new();
        let mut spans = Vec::new();
        for a in ["client", "unblock"].iter().chain(args) {
            spans.push((data.len(), data.len() + a.len()));
            data.extend_from_slice(a.as_bytes());
        }
        let mut ctx = crate::commands::Ctx {
            server: &server,
            client: other,
            keys: crate::db::KeyLocks::new(&server, crate::db::LockSet::empty(), 0),
            cmd: &super::CLIENT_UNBLOCK,
        };
        super::client_unblock(&mut ctx, Frame::new(&data, &spans))
    };
    assert_eq!(
        run(&mut other, &[&id, "timeout", "x"]),
        Reply::err(
            "unknown subcommand or wrong number of arguments for 'unblock'. Try CLIENT HELP."
        )
    );
    assert_eq!(run(&mut other, &["abc"]), Reply::not_integer());
    assert_eq!(
        run(&mut other, &["abc", "foo"]),
        Reply::err("CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
    assert_eq!(run(&mut other, &["-5"]), Reply::Int(0));
    assert_eq!(run(&mut other, &[&id, "ERROR"]), Reply::Int(1));
    assert_eq!(
        wait(&server, &mut client, &ours),
        Reply::error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    );
    assert_eq!(run(&mut other, &[&id]), Reply::Int(0));
}

#[test]
fn client_kill_ends_the_wait_at_once() {
    let _serial = SERIAL.lock();
    let server = Server::new(Config::new());
    let (mut client, ours, _peer) = blocked_client(&server);
    let info = client.info.clone();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        info.kill();
    });
    let start = std::time::Instant::now();
    assert_eq!(wait(&server, &mut client, &ours), Reply::NoReply);
    assert!(client.close_after_reply);
    // Well under the 100 ms socket check: the kill itself woke the waiter.
    assert!(
        start.elapsed() < Duration::from_millis(70),
        "{:?}",
        start.elapsed()
    );
    killer.join().unwrap();
    let (mut pusher, _o, _p) = new_client(&server);
    assert_eq!(
        execute(&server, &mut pusher, &["rpush", "k", "v"]),
        Reply::Int(1)
    );
    assert_eq!(execute(&server, &mut pusher, &["llen", "k"]), Reply::Int(1));
}
