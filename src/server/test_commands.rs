//! The panic boundary: a handler that panics halfway through a write closes its own client only; the server,
//! other clients and the shard lock the handler held all stay usable (parking_lot locks do not poison).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

use crate::commands::flags::WRITE;
use crate::commands::{Args, Command, Ctx};
use crate::config::Config;
use crate::db::{StrValue, Value};
use crate::protocol::Reply;
use crate::server::{connection, Server};

pub const COMMANDS: &[Command] =
    &[Command::new("test-panic", 2, WRITE, panic_midway).keys(1, 1, 1)];

fn panic_midway(ctx: &mut Ctx, args: Args) -> Reply {
    ctx.store(
        args.get(1),
        Value::Str(StrValue::from_slice(b"half-written")),
    );
    panic!("test-panic: a handler bug");
}

pub(crate) fn serve_forever(server: Arc<Server>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (addr, laddr) = (stream.peer_addr().unwrap(), stream.local_addr().unwrap());
            let info = server
                .clients
                .register(stream.try_clone().unwrap(), addr, laddr, 0);
            let server = server.clone();
            std::thread::spawn(move || {
                connection::serve(server, super::stream::Stream::plain(stream), info)
            });
        }
    });
    port
}

pub(crate) fn roundtrip(stream: &mut TcpStream, request: &[u8]) -> Vec<u8> {
    stream.write_all(request).unwrap();
    let mut buf = vec![0; 256];
    let n = stream.read(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

#[test]
fn a_panicking_handler_closes_only_its_client() {
    let server = Server::new(Config::new());
    let port = serve_forever(server.clone());
    let mut victim = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut bystander = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(roundtrip(&mut bystander, b"PING\r\n"), b"+PONG\r\n");

    victim.write_all(b"test-panic k\r\n").unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        victim.read(&mut buf).unwrap(),
        0,
        "the panicking client is closed"
    );

    // The same shard's write lock is free again, and other clients carry on.
    assert_eq!(roundtrip(&mut bystander, b"SET k v\r\n"), b"+OK\r\n");
    assert_eq!(roundtrip(&mut bystander, b"GET k\r\n"), b"$1\r\nv\r\n");
    let mut fresh = TcpStream::connect(("127.0.0.1", port)).unwrap();
    assert_eq!(roundtrip(&mut fresh, b"PING\r\n"), b"+PONG\r\n");
}
