//! Hub-level tests that need no socket traffic: frames per protocol and keyspace notifications.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;

use super::outbox::{Chunk, Outbox};
use super::*;
use crate::config::{params::notify, Config};

/// A registered client (its socket is a loopback pair) and an outbox whose queue the test reads directly.
fn subscriber(server: &Server) -> (Arc<Outbox>, Receiver<Chunk>, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stream = TcpStream::connect(addr).unwrap();
    let (peer, _) = listener.accept().unwrap();
    let info = server
        .clients
        .register(stream.try_clone().unwrap(), addr, addr, 0);
    let (outbox, rx) = Outbox::new(info);
    (outbox, rx, peer)
}

fn drain(rx: &Receiver<Chunk>) -> String {
    let mut out = Vec::new();
    while let Ok(chunk) = rx.try_recv() {
        match chunk {
            Chunk::Shared(b) => out.extend_from_slice(&b),
            Chunk::Owned(b) => out.extend_from_slice(&b),
            Chunk::Stop => {}
        }
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn messages_are_push_frames_in_resp3() {
    let server = Server::new(Config::new());
    let (two, rx2, _p2) = subscriber(&server);
    let (three, rx3, _p3) = subscriber(&server);
    three.info.resp.store(3, Relaxed);
    let hub = &server.pubsub;
    for o in [&two, &three] {
        hub.subscribe(Kind::Channel, b"ch", o, None);
        hub.subscribe(Kind::Pattern, b"c*", o, None);
    }
    assert_eq!(hub.publish(&server.config, Kind::Channel, b"ch", b"hi"), 4);
    let tail = "$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n";
    let ptail = "$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\nhi\r\n";
    let resp2 = format!("*3\r\n{tail}*4\r\n{ptail}");
    assert_eq!(drain(&rx2), resp2);
    assert_eq!(drain(&rx3), format!(">3\r\n{tail}>4\r\n{ptail}"));
    // Counted until a writer has written them.
    assert_eq!(two.queued(), resp2.len());
}

#[test]
fn a_closed_outbox_is_not_counted() {
    let server = Server::new(Config::new());
    let (o, _rx, _p) = subscriber(&server);
    server.pubsub.subscribe(Kind::Shard, b"s", &o, None);
    assert_eq!(
        server
            .pubsub
            .publish(&server.config, Kind::Shard, b"s", b"x"),
        1
    );
    o.info.kill();
    let tiny = Limits {
        hard: 1,
        soft: 0,
        soft_secs: 0,
    };
    assert!(!o.push(Chunk::Owned(vec![0; 10]), 10, tiny));
    assert!(o.is_closed());
    assert_eq!(
        server
            .pubsub
            .publish(&server.config, Kind::Shard, b"s", b"x"),
        0
    );
}

#[test]
fn keyspace_notifications_follow_the_flags() {
    let server = Server::new(Config::new());
    let (o, rx, _p) = subscriber(&server);
    let hub = &server.pubsub;
    hub.subscribe(Kind::Channel, b"__keyspace@3__:k", &o, None);
    hub.subscribe(Kind::Pattern, b"__keyevent@*", &o, None);
    let flags = notify::parse("KE$").unwrap();
    notify_keyspace(&server, flags, '$', "set", 3, b"k");
    assert_eq!(
        drain(&rx),
        "*3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@3__:k\r\n$3\r\nset\r\n\
         *4\r\n$8\r\npmessage\r\n$12\r\n__keyevent@*\r\n$18\r\n__keyevent@3__:set\r\n$1\r\nk\r\n"
    );
    // The class is off: nothing. Only E: only the event channel.
    notify_keyspace(&server, flags, 'g', "del", 3, b"k");
    assert_eq!(drain(&rx), "");
    notify_keyspace(&server, notify::parse("Eg").unwrap(), 'g', "del", 3, b"k");
    assert_eq!(
        drain(&rx),
        "*4\r\n$8\r\npmessage\r\n$12\r\n__keyevent@*\r\n$18\r\n__keyevent@3__:del\r\n$1\r\nk\r\n"
    );
    // `A` does not include key-miss events; `m` does.
    notify_keyspace(
        &server,
        notify::parse("KA").unwrap(),
        'm',
        "keymiss",
        3,
        b"k",
    );
    assert_eq!(drain(&rx), "");
    notify_keyspace(
        &server,
        notify::parse("Km").unwrap(),
        'm',
        "keymiss",
        3,
        b"k",
    );
    assert!(drain(&rx).ends_with("$7\r\nkeymiss\r\n"));
}

#[test]
fn the_keyspace_reports_keys_the_expiry_deletes() {
    use crate::db::{expiry, KeyLocks, Keyspace, LockPlan, Value};
    use crate::util::time::now_ms;
    use parking_lot::Mutex;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    let ks = Keyspace::new(4);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    ks.on_key_event(Box::new(move |db, _, event, key| {
        if event == "expired" {
            log.lock().push((db, key.to_vec()))
        }
    }));
    let write = |key: &[u8], at: i64| {
        let mut plan = LockPlan::new();
        plan.key(&ks, 2, key, true);
        let mut keys = KeyLocks::new(&ks, plan.acquire(&ks), now_ms());
        keys.insert(2, key, Value::Str(crate::db::StrValue::from_slice(b"v")));
        assert!(keys.set_expire(2, key, Some(at)));
    };
    write(b"lazy", now_ms() - 1);
    write(b"active", now_ms() - 1);
    // Lazy: a writer finds the key expired.
    let mut plan = LockPlan::new();
    plan.key(&ks, 2, b"lazy", true);
    let mut keys = KeyLocks::new(&ks, plan.acquire(&ks), now_ms());
    assert!(keys.get_mut(2, b"lazy").is_none());
    drop(keys);
    assert_eq!(*seen.lock(), vec![(2, b"lazy".to_vec())]);
    // Active: the cycle finds the other one.
    expiry::run_cycle(&ks, Duration::from_millis(100), &AtomicUsize::new(0));
    assert_eq!(seen.lock().len(), 2);
    assert_eq!(seen.lock()[1], (2, b"active".to_vec()));
}
