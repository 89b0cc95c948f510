//! Protected mode (`protected-mode yes`, the default): with no password for the default user, only clients on
//! the loopback interface may connect; others get Redis's `-DENIED` text and are closed. Protected commands
//! (DEBUG, MODULE LOAD) and protected parameters obey `enable-debug-command`, `enable-module-command` and
//! `enable-protected-configs`.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::Ordering::Relaxed;

use crate::protocol::Reply;
use crate::server::clients::ClientInfo;
use crate::server::{stats, Server};

const DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Refuses a new connection protected mode does not allow (counted in `rejected_connections`); true if it did.
pub fn refuse(server: &Server, stream: &mut TcpStream) -> bool {
    if !server.config.protected_mode() || !server.config.requirepass().is_empty() {
        return false;
    }
    let local = stream.peer_addr().is_ok_and(|a| a.ip().is_loopback());
    if local {
        return false;
    }
    let _ = stream.write_all(DENIED);
    stats::global().rejected_connections.fetch_add(1, Relaxed);
    true
}

/// `enable-debug-command`, `enable-module-command`, `enable-protected-configs`: `yes`, or `local` for a client
/// on the loopback interface (Redis's `allowProtectedAction`).
pub fn allowed(server: &Server, info: &ClientInfo, param: &str) -> bool {
    match server.config.get(param).as_deref() {
        Some("yes") => true,
        Some("local") => info.addr.ip().is_loopback(),
        _ => false,
    }
}

/// The refusal of a PROTECTED command (`top` is its top-level name: `debug`, `module`) that its
/// `enable-<top>-command` does not allow; the dispatcher rejects it before authentication, as Redis does.
pub fn refuse_command(server: &Server, info: &ClientInfo, top: &str) -> Option<Reply> {
    let param = format!("enable-{top}-command");
    (!allowed(server, info, &param)).then(|| {
        Reply::err(&format!(
            "{} command not allowed. If the {param} option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.",
            top.to_ascii_uppercase()
        ))
    })
}
