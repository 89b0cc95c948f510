//! The real `redis-sentinel` managing ferredis: three sentinels watch a ferredis master with two ferredis
//! replicas; the master dies; a replica is promoted, the other follows it, clients that ask Sentinel for the
//! master write again, and a write acknowledged by WAIT survives.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{bulks, free_port, Client, Server};

struct Sentinel {
    child: Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Sentinel {
    fn start(master_port: u16) -> Sentinel {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("ferredis-sentinel-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("sentinel dir");
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nsentinel monitor mymaster 127.0.0.1 {master_port} 2\n\
                 sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 10000\n",
                dir.display()
            ),
        )
        .expect("sentinel.conf");
        let child = Command::new("redis-sentinel")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-sentinel is needed for this test");
        Sentinel { child, port, dir }
    }

    fn cmd(&self, args: &[&str]) -> String {
        // The sentinel may not listen yet: an empty reply, and the caller polls again.
        match std::net::TcpStream::connect(("127.0.0.1", self.port)) {
            Ok(_) => Client::connect(self.port).cmd(args),
            Err(_) => String::new(),
        }
    }
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wait_until(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn sentinel_promotes_a_ferredis_replica_and_the_other_follows() {
    if std::env::var_os("FERREDIS_NO_REDIS").is_some_and(|v| v == "1") {
        return;
    }
    // Diskless syncs start at once (Redis's default waits 5 s for more replicas).
    let start = || Server::start_with(&["--repl-diskless-sync-delay", "0"]);
    let master = start();
    let replicas = [start(), start()];
    for r in &replicas {
        let port = master.port.to_string();
        assert_eq!(
            r.client().cmd(&["replicaof", "127.0.0.1", &port]),
            "+OK\r\n"
        );
    }
    let mut m = master.client();
    assert_eq!(m.cmd(&["set", "acked", "yes"]), "+OK\r\n");
    wait_until("both replicas", Duration::from_secs(10), || {
        m.cmd(&["wait", "2", "100"]) == ":2\r\n"
    });
    let sentinels: Vec<Sentinel> = (0..3).map(|_| Sentinel::start(master.port)).collect();
    wait_until(
        "the sentinels to know everyone",
        Duration::from_secs(15),
        || {
            sentinels.iter().all(|s| {
                let master_info = s.cmd(&["sentinel", "master", "mymaster"]);
                let fields = bulks(&master_info);
                let get = |name: &str| {
                    fields
                        .iter()
                        .position(|f| f == name)
                        .and_then(|i| fields.get(i + 1).cloned())
                };
                get("num-slaves").as_deref() == Some("2")
                    && get("num-other-sentinels").as_deref() == Some("2")
            })
        },
    );
    let old_port = master.port;
    drop(master);
    let mut new_port = 0u16;
    wait_until("a new master", Duration::from_secs(30), || {
        let addr = bulks(&sentinels[0].cmd(&["sentinel", "get-master-addr-by-name", "mymaster"]));
        new_port = addr.get(1).and_then(|p| p.parse().ok()).unwrap_or(0);
        new_port != 0 && new_port != old_port
    });
    let promoted = replicas
        .iter()
        .find(|r| r.port == new_port)
        .expect("a replica was promoted");
    let other = replicas
        .iter()
        .find(|r| r.port != new_port)
        .expect("the other replica");
    // Sentinel kills normal clients when it reconfigures a server: each check uses a new connection, and one
    // killed under it counts as "not yet".
    let ask = |server: &Server, args: &[&str]| -> String {
        let port = server.port;
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        std::thread::spawn(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Client::connect(port).cmd(&args)
        })
        .join()
        .unwrap_or_default()
    };
    wait_until("the writable new master", Duration::from_secs(10), || {
        ask(promoted, &["set", "after", "failover"]) == "+OK\r\n"
    });
    assert!(ask(promoted, &["role"]).starts_with("*3\r\n$6\r\nmaster\r\n"));
    assert_eq!(ask(promoted, &["get", "acked"]), "$3\r\nyes\r\n");
    let following =
        format!("*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:{new_port}\r\n$9\r\nconnected\r\n");
    wait_until(
        "the other replica to follow",
        Duration::from_secs(20),
        || {
            ask(other, &["role"]).starts_with(&following)
                && ask(other, &["get", "after"]) == "$8\r\nfailover\r\n"
        },
    );
    assert_eq!(ask(other, &["get", "acked"]), "$3\r\nyes\r\n");
}
