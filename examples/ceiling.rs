//! The ceiling of ferredis's design: the cheapest blocking, thread-per-connection RESP responder.
//!
//! It is ferredis with everything but the model removed: the same `std::net` listener, a thread per connection,
//! the same request parser, one read and one write per batch; every request is answered `+OK` (CONFIG GET with an
//! empty array, so redis-benchmark starts quietly) without any work. `bench/run.sh` runs it beside ferredis and
//! redis-server: the gap between ferredis and this is what ferredis itself costs; the gap between this and Redis
//! is the price of the threading model on the machine at hand.
//!
//! Usage: `cargo run --release --example ceiling -- --port 6390`

use std::io::Write;
use std::net::{TcpListener, TcpStream};

use ferredis::protocol::RequestReader;

fn main() {
    let mut port = 6390u16;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--port" {
            port = args.next().and_then(|p| p.parse().ok()).unwrap_or(port);
        }
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap_or_else(|e| {
        eprintln!("ceiling: cannot listen on {port}: {e}");
        std::process::exit(1)
    });
    let mut pool = threadpool::Builder::new()
        .num_threads(8)
        .thread_stack_size(256 * 1024)
        .build();
    for stream in listener.incoming().flatten() {
        let _ = stream.set_nodelay(true);
        if pool.active_count() + pool.queued_count() >= pool.max_count() {
            let n = pool.max_count() * 2;
            pool.set_num_threads(n);
        }
        pool.execute(move || serve(stream));
    }
}

fn serve(mut stream: TcpStream) {
    let mut reader = RequestReader::new();
    let mut out = Vec::with_capacity(16 * 1024);
    loop {
        match reader.read_from(&mut stream) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            match reader.next_frame(ferredis::protocol::RequestLimits::DEFAULT) {
                Ok(Some(frame)) => {
                    if frame.get(0).eq_ignore_ascii_case(b"config") {
                        out.extend_from_slice(b"*0\r\n");
                    } else {
                        out.extend_from_slice(b"+OK\r\n");
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        if stream.write_all(&out).is_err() {
            return;
        }
        out.clear();
    }
}
