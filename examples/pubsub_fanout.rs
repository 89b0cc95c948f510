//! PUBLISH fan-out load generator: N subscribers on one channel, one publisher pipelining M messages; prints the
//! messages delivered per second (N × M over the time until the last subscriber has read its last message).
//!
//! Usage: `cargo run --release --example pubsub_fanout -- --port 6379 --subscribers 50 --messages 20000 --size 64`

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier};
use std::time::Instant;

fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads exactly `n` bytes, discarding them.
fn skip(stream: &mut TcpStream, mut n: usize, buf: &mut [u8]) -> std::io::Result<()> {
    while n > 0 {
        let want = n.min(buf.len());
        let got = stream.read(&mut buf[..want])?;
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        n -= got;
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let (mut port, mut subscribers, mut messages, mut size) =
        (6379u16, 50usize, 20000usize, 64usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let v = args
            .next()
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        match a.as_str() {
            "--port" => port = v as u16,
            "--subscribers" => subscribers = v.max(1),
            "--messages" => messages = v.max(1),
            "--size" => size = v,
            _ => {}
        }
    }
    let channel = b"bench-fanout";
    let payload = vec![b'x'; size];
    let frame_len = {
        let mut f = b"*3\r\n$7\r\nmessage\r\n".to_vec();
        f.extend(format!("${}\r\n", channel.len()).bytes());
        f.len() + channel.len() + 2 + format!("${size}\r\n").len() + size + 2
    };
    let confirm_len =
        format!("*3\r\n$9\r\nsubscribe\r\n${}\r\n", channel.len()).len() + channel.len() + 6;
    let ready = Arc::new(Barrier::new(subscribers + 1));
    let mut handles = Vec::new();
    for _ in 0..subscribers {
        let ready = ready.clone();
        handles.push(std::thread::spawn(move || -> std::io::Result<Instant> {
            let mut s = TcpStream::connect(("127.0.0.1", port))?;
            s.write_all(&encode(&[b"subscribe", channel]))?;
            let mut buf = vec![0u8; 64 * 1024];
            // Once the confirmation (`... :1`) is read, the subscription is registered.
            skip(&mut s, confirm_len, &mut buf)?;
            ready.wait();
            skip(&mut s, frame_len * messages, &mut buf)?;
            Ok(Instant::now())
        }));
    }
    ready.wait();
    let mut p = TcpStream::connect(("127.0.0.1", port))?;
    let mut buf = vec![0u8; 64 * 1024];
    let start = Instant::now();
    let publish = encode(&[b"publish", channel, &payload]);
    const BATCH: usize = 100;
    let mut sent = 0;
    while sent < messages {
        let n = BATCH.min(messages - sent);
        p.write_all(&publish.repeat(n))?;
        let mut lines = 0;
        while lines < n {
            let got = p.read(&mut buf)?;
            if got == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            lines += buf[..got].iter().filter(|&&b| b == b'\n').count();
        }
        sent += n;
    }
    let mut last = start;
    for h in handles {
        let done = h
            .join()
            .map_err(|_| std::io::Error::other("subscriber panicked"))??;
        last = last.max(done);
    }
    let secs = (last - start).as_secs_f64();
    println!(
        "subscribers={subscribers} messages={messages} size={size} seconds={secs:.3} delivered_per_sec={:.0}",
        (subscribers * messages) as f64 / secs
    );
    Ok(())
}
