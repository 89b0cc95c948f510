//! A full sync's RDB on the replica side, after `+FULLRESYNC`: loaded from the socket as it arrives (a
//! diskless load, `repl-diskless-load` with an empty dataset), or staged in a temp file and loaded from there,
//! so that a transfer that breaks leaves the data the replica kept untouched.

use std::fs::File;
use std::io;
use std::sync::atomic::Ordering::Relaxed;

use super::payload::Payload;
use super::replica::{disconnect_replicas, Conn, Link};
use crate::persist::rdbfile::{self, Duplicates};
use crate::server::Server;
use crate::util::time::now_ms;

/// Loads a full sync's RDB: from the socket as it arrives when `repl-diskless-load` allows it and the dataset is
/// empty, or else into a temp file first, which is then loaded.
pub(super) fn full_sync(
    server: &Server,
    link: &Link,
    conn: &mut Conn,
    id: &str,
    off: i64,
) -> io::Result<()> {
    let mode = diskless_load(server, id);
    if matches!(mode, LoadMode::Loading) && dataset_is_empty(server) {
        let loaded = load_from_socket(server, link, conn);
        mode.end(server);
        loaded?;
    } else {
        load_through_file(server, link, conn, mode)?;
    }
    synced(server, id, off);
    Ok(())
}

/// Whether no database holds a key: a load from the socket then has nothing to keep should the transfer break
/// (Redis's `on-empty-db` case; with keys, `swapdb` keeps them while the RDB is staged in a file).
fn dataset_is_empty(server: &Server) -> bool {
    let ks = &server.keyspace;
    (0..ks.db_count()).all(|db| ks.db_sizes(db).0 == 0)
}

/// A diskless load: the RDB is parsed as it comes off the link, no file written, while clients are answered
/// -LOADING. A transfer that breaks, or a payload that cannot be read, leaves the dataset empty, as Redis's
/// `on-empty-db` load leaves it, and the link retries.
fn load_from_socket(server: &Server, link: &Link, conn: &mut Conn) -> io::Result<()> {
    let _loading = crate::crash::watchdog_busy();
    let head = conn.line()?;
    log::info!("MASTER <-> REPLICA sync: Flushing old data");
    crate::persist::commands::empty_all(server);
    log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    let mut payload = Payload::open(&head, &mut conn.r, link)?;
    let total = link.sync_total.load(Relaxed).max(0) as u64;
    let loaded = rdbfile::load_from(server, &mut payload, total, Duplicates::Replace);
    let broken = payload.broken();
    let finished = match loaded {
        Ok(_) => payload.finish().map_err(|_| Vec::new()),
        Err(lines) => Err(lines),
    };
    match finished {
        Ok(leftover) => {
            conn.leftover = leftover;
            Ok(())
        }
        Err(lines) => {
            if broken || lines.is_empty() {
                log::warn!(
                    "Internal error in RDB reading offset {}, function at rdb.c:0 -> Unexpected EOF reading RDB file",
                    link.sync_read.load(Relaxed)
                );
            } else {
                // What the loader found wrong, without the start-up load's exit notice.
                lines
                    .iter()
                    .filter(|l| !l.starts_with("Terminating server"))
                    .for_each(|l| log::warn!("{l}"));
            }
            log::warn!("Failed trying to load the MASTER synchronization DB from socket, check server logs.");
            crate::persist::commands::empty_all(server);
            Err(io::Error::other("diskless load failed"))
        }
    }
}

/// Receives the RDB into a temp file, then empties the dataset and loads it (clients get -LOADING meanwhile).
fn load_through_file(
    server: &Server,
    link: &Link,
    conn: &mut Conn,
    mode: LoadMode,
) -> io::Result<()> {
    let tmp = format!("temp-{}.{}.rdb", now_ms() / 1000, std::process::id());
    let diskless = !matches!(mode, LoadMode::Disk);
    let _loading = diskless.then(crate::crash::watchdog_busy);
    if diskless {
        // Redis loads from the socket from here on, and says so.
        log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    }
    let received = receive_rdb(link, conn, &tmp);
    mode.end(server);
    match received {
        Ok(leftover) => conn.leftover = leftover,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            if diskless {
                // Redis's lines for a transfer that breaks while it loads from the socket.
                log::warn!(
                    "Internal error in RDB reading offset {}, function at rdb.c:0 -> Unexpected EOF reading RDB file",
                    link.sync_read.load(Relaxed)
                );
                log::warn!("Failed trying to load the MASTER synchronization DB from socket, check server logs.");
            }
            return Err(e);
        }
    }
    let filename = server
        .config
        .get("dbfilename")
        .unwrap_or_else(|| "dump.rdb".into());
    std::fs::rename(&tmp, &filename)?;
    log::info!("MASTER <-> REPLICA sync: Flushing old data");
    let p = &server.persist;
    // Clients wait for the load until it has read its first interval of bytes, as Redis's replica serves
    // clients only there.
    p.loading_answers.store(false, Relaxed);
    p.loading.store(true, Relaxed);
    crate::persist::commands::empty_all(server);
    if !diskless {
        log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    }
    let loaded = {
        let _loading = (!diskless).then(crate::crash::watchdog_busy);
        rdbfile::load(server, Duplicates::Replace)
    };
    p.loading.store(false, Relaxed);
    if let Err(lines) = loaded {
        lines.iter().for_each(|l| log::warn!("{l}"));
        crate::persist::commands::empty_all(server);
        return Err(io::Error::other(
            "Failed trying to load the MASTER synchronization DB from disk",
        ));
    }
    Ok(())
}

/// A full sync is loaded: the replication history is our master's from offset `off` on.
fn synced(server: &Server, id: &str, off: i64) {
    {
        let mut st = server.repl.state();
        st.replid = id.to_string();
        st.replid2 = "0".repeat(40);
        st.second_offset = -1;
        st.shift = off - server.feed.offset() as i64;
        super::ensure_backlog(server, &mut st);
        st.backlog_from = Some(server.feed.offset());
    }
    server.feed.forget_db();
    server
        .repl
        .stream_db
        .store(server.repl.loaded_stream_db.load(Relaxed), Relaxed);
    disconnect_replicas(server);
    log::info!("MASTER <-> REPLICA sync: Finished with success");
}

/// How the dataset looks while a full sync's RDB arrives, after `repl-diskless-load` (Redis's
/// `useDisklessLoad`): `disabled` serves the old data; `swapdb` (or `on-empty-db` with no keys) loads from the
/// socket in Redis, which answers -LOADING meanwhile, or, with `swapdb` and our master's own replication ID,
/// serves the old data as `async_loading`. With keys present the RDB is staged in a temp file (rather than in
/// temporary databases), so a transfer that breaks leaves the old data as it was, as Redis's swapdb restores
/// it; with none it is loaded from the socket (`load_from_socket`).
enum LoadMode {
    Disk,
    Loading,
    Async,
}

fn diskless_load(server: &Server, master_replid: &str) -> LoadMode {
    let conf = server.config.get("repl-diskless-load").unwrap_or_default();
    let mode = match conf.as_str() {
        "swapdb" if server.repl.state().replid == master_replid => LoadMode::Async,
        "swapdb" => LoadMode::Loading,
        "on-empty-db" if dataset_is_empty(server) => LoadMode::Loading,
        _ => LoadMode::Disk,
    };
    match mode {
        LoadMode::Loading => {
            // The RDB arrives over the socket meanwhile: clients are answered -LOADING throughout.
            server.persist.loading_answers.store(true, Relaxed);
            server.persist.loading.store(true, Relaxed);
        }
        LoadMode::Async => server.repl.async_loading.store(true, Relaxed),
        LoadMode::Disk => {}
    }
    mode
}

impl LoadMode {
    fn end(&self, server: &Server) {
        match self {
            LoadMode::Loading => server.persist.loading.store(false, Relaxed),
            LoadMode::Async => server.repl.async_loading.store(false, Relaxed),
            LoadMode::Disk => {}
        }
    }
}

/// The payload after `+FULLRESYNC` (see [`Payload`]), written to `tmp`; returns what was read past it (the
/// stream's first bytes).
fn receive_rdb(link: &Link, conn: &mut Conn, tmp: &str) -> io::Result<Vec<u8>> {
    let head = conn.line()?;
    let mut file = io::BufWriter::with_capacity(1 << 20, File::create(tmp)?);
    let mut payload = Payload::open(&head, &mut conn.r, link)?;
    io::copy(&mut payload, &mut file)?;
    let leftover = payload.finish()?;
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(leftover)
}
