//! ACL users from files: the `aclfile` (start-up, ACL SAVE, ACL LOAD and its errors), the config's `user` lines,
//! and CONFIG REWRITE writing the users back.

mod common;

use std::time::{Duration, Instant};

use common::{Client, Server};

const HASH: &str = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";

#[test]
fn user_directives_and_the_acl_file() {
    let dir = std::env::temp_dir().join(format!("ferredis-acl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("users.acl");
    std::fs::write(
        &file,
        format!("user alice on #{HASH} ~a* +get\n\nuser default on nopass ~* &* +@all\n"),
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let server = Server::start_with(&["--aclfile", path]);
    let mut c = server.client();
    assert_eq!(
        common::bulks(&c.cmd(&["ACL", "LIST"])),
        [
            format!("user alice on #{HASH} ~a* resetchannels -@all +get"),
            "user default on nopass ~* &* +@all".to_string()
        ]
    );
    assert_eq!(c.cmd(&["AUTH", "alice", "password"]), "+OK\r\n");
    assert_eq!(c.cmd(&["RESET"]), "+RESET\r\n");
    assert_eq!(
        c.cmd(&["ACL", "SETUSER", "bob", "on", ">x", "+@all"]),
        "+OK\r\n"
    );
    assert_eq!(c.cmd(&["ACL", "SAVE"]), "+OK\r\n");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        saved,
        format!(
            "user alice on #{HASH} ~a* resetchannels -@all +get\nuser bob on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 resetchannels +@all\nuser default on nopass ~* &* +@all\n"
        )
    );
    // A broken file changes nothing, and says why.
    std::fs::write(&file, "user carol on +nosuch\nuser carol\nnot a user\n").unwrap();
    let err = c.cmd(&["ACL", "LOAD"]);
    assert_eq!(
        err,
        format!(
            "-ERR {path}:1: Error in applying operation '+nosuch': Unknown command or category name in ACL. \
             WARNING: Duplicate user 'carol' found on line 2. {path}:3 should start with user keyword followed \
             by the username. WARNING: ACL errors detected, no change to the previously active ACL rules was \
             performed\r\n"
        )
    );
    assert_eq!(
        common::bulks(&c.cmd(&["ACL", "USERS"])),
        ["alice", "bob", "default"]
    );
    // A good one replaces every user; the default user comes back as it starts when the file has none.
    std::fs::write(&file, "user carol on nopass +@all\n").unwrap();
    assert_eq!(c.cmd(&["ACL", "LOAD"]), "+OK\r\n");
    assert_eq!(
        common::bulks(&c.cmd(&["ACL", "USERS"])),
        ["carol", "default"]
    );
    drop(server);

    // `user` lines of the configuration.
    let server = Server::start_with(&["--user", "dave", "on", ">pw", "~*", "+@all"]);
    let mut c = server.client();
    assert_eq!(
        common::bulks(&c.cmd(&["ACL", "LIST"]))[0],
        "user dave on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* resetchannels +@all"
    );
    assert_eq!(c.cmd(&["AUTH", "dave", "pw"]), "+OK\r\n");
    // Both at once is refused, as Redis refuses it.
    let both = std::process::Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args(["--port", &common::free_port().to_string()])
        .args(["--aclfile", path, "--user", "x", "on"])
        .output()
        .unwrap();
    assert!(!both.status.success());
    let log = String::from_utf8_lossy(&both.stdout);
    assert!(
        log.contains("Configuring Redis with users defined in redis.conf and at the same setting an ACL file"),
        "{log}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// CONFIG REWRITE writes the users in place of the file's first `user` line, as Redis does.
#[test]
fn config_rewrite_writes_the_users() {
    let dir = std::env::temp_dir().join(format!("ferredis-acl-rw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("ferredis.conf");
    std::fs::write(
        &conf,
        "user alice on >pw ~* +@all\nsave \"\"\nuser carol on nopass\n",
    )
    .unwrap();
    let port = common::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .arg(&conf)
        .args(["--port", &port.to_string(), "--dir", dir.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Until this server is the process listening on the port (a probe connection could reach another process
    // that took the port, as `Server::start` guards against too); a server that exited says so.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !common::listens_on(child.id(), port) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("ferredis exited at start-up: {status}");
        }
        assert!(Instant::now() < deadline, "ferredis did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut c = Client::connect(port);
    assert_eq!(c.cmd(&["ACL", "SETUSER", "bob", "on"]), "+OK\r\n");
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), "+OK\r\n");
    let text = std::fs::read_to_string(&conf).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        text.starts_with(
            "user alice on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 ~* resetchannels +@all\n\
             user bob on resetchannels -@all\n\
             user carol on nopass resetchannels -@all\n\
             user default on nopass ~* &* +@all\n\
             save \"\"\n"
        ),
        "{text}"
    );
}

/// A bad `user` line stops the start as a config-file error, worded as Redis words it (Redis names the line's word
/// at the failing rule's index: here the user's name).
#[test]
fn a_bad_user_line_is_a_config_error() {
    let dir = std::env::temp_dir().join(format!("ferredis-acl-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("bad.conf");
    std::fs::write(&conf, "save \"\"\nuser alice on #abc\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .arg(&conf)
        .args(["--port", &common::free_port().to_string()])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "at line 2\n>>> 'user alice on #abc'\nError in user declaration 'alice': The password hash must be \
             exactly 64 characters and contain only lowercase hexadecimal characters"
        ),
        "{err}"
    );
}
