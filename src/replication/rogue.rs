//! A command other than `REPLCONF` on an attached replica's link. Redis runs it, and the reply it produces makes
//! Redis drop the replica ("Replica generated a reply to command ..., disconnecting it", `networking.c`); a
//! command that touches the keyspace is refused first ("Replica can't interact with the keyspace"), an error
//! Redis logs as CRITICAL. ferredis drops the replica the same way, with the same lines, without running it: a
//! replica left attached would keep the master's PINGs flowing into the stream (a later replica's `+FULLRESYNC`
//! would then name a later offset than Redis's).

use crate::commands::client::{describe, Running};
use crate::commands::dispatch::{resolve, Resolved};
use crate::commands::{flags, table};
use crate::protocol::Frame;
use crate::server::clients::ClientInfo;

/// Whether `frame` is one a replica may send on its link (`REPLCONF ...`, answered by nothing).
pub fn allowed(frame: &Frame) -> bool {
    !frame.is_empty() && frame.get(0).eq_ignore_ascii_case(b"replconf")
}

/// Logs why the replica is dropped, as Redis does; the caller then closes the link.
pub fn drop_replica(info: &ClientInfo, frame: &Frame) {
    let table = table::get();
    let (name, keyspace) = match resolve(table, *frame) {
        Resolved::Command(id) => {
            let cmd = table.get(id);
            let touches =
                cmd.has(flags::WRITE) || cmd.has(flags::READONLY) || cmd.has(flags::MAY_REPLICATE);
            (table.full_name(id).to_string(), touches)
        }
        Resolved::Rejected(_) | Resolved::WrongArity(_) => ("<unknown>".to_string(), false),
    };
    let running = Running {
        id: info.id,
        cmd: &name,
        argv_mem: 0,
        argc: 0,
    };
    log::warn!(
        "Replica generated a reply to command '{name}', disconnecting it: {}",
        describe(info, &running)
    );
    if keyspace {
        log::warn!(
            "== CRITICAL == This master is sending an error to its replica: 'Replica can't interact with the keyspace' after processing the command '{name}'"
        );
    }
}
