//! A full sync's RDB on the replica side, after `+FULLRESYNC`: loaded from the socket as it arrives (a diskless
//! load, `repl-diskless-load`), or received into a temp file and loaded from there (a disk load).
//!
//! A diskless load with keys present (`swapdb`) loads beside the live dataset, into a keyspace of its own, and
//! swaps the two once the whole RDB is read, as Redis's temp databases: a transfer that breaks leaves the data the
//! replica kept untouched, and no file is written.

use std::fs::File;
use std::io;
use std::sync::atomic::Ordering::Relaxed;

use super::payload::Payload;
use super::replica::{disconnect_replicas, Conn, Link};
use crate::db::{KeyLocks, LockPlan};
use crate::persist::rdbfile::{self, Beside, Duplicates};
use crate::server::Server;
use crate::util::time::now_ms;

/// Loads a full sync's RDB: from the socket as it arrives when `repl-diskless-load` allows it (into the emptied
/// dataset, or beside it when it holds keys), or else into a temp file first, which is then loaded.
pub(super) fn full_sync(
    server: &Server,
    link: &Link,
    conn: &mut Conn,
    id: &str,
    off: i64,
) -> io::Result<()> {
    let mode = diskless_load(server, id);
    let loaded = match mode {
        LoadMode::Disk => load_through_file(server, link, conn),
        _ if dataset_is_empty(server) => load_from_socket(server, link, conn, None),
        _ => load_beside(server, link, conn),
    };
    mode.end(server);
    loaded?;
    synced(server, id, off);
    Ok(())
}

/// Whether no database holds a key: a load from the socket then has nothing to keep should the transfer break
/// (Redis's `on-empty-db` case).
fn dataset_is_empty(server: &Server) -> bool {
    let ks = &server.keyspace;
    (0..ks.db_count()).all(|db| ks.db_sizes(db).0 == 0)
}

/// A `swapdb` load with keys present: the RDB is loaded into a keyspace beside the live one, which stays as it
/// was (served meanwhile under `async_loading`, else answered -LOADING), then the two are swapped and the old
/// data freed in the background. A transfer that breaks discards what was loaded.
fn load_beside(server: &Server, link: &Link, conn: &mut Conn) -> io::Result<()> {
    let mut beside = Beside::new(server);
    if let Err(e) = load_from_socket(server, link, conn, Some(&mut beside)) {
        log::info!("MASTER <-> REPLICA sync: Discarding temporary DB in background");
        discard_in_background(beside);
        return Err(e);
    }
    log::info!("MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
    {
        let ks = &server.keyspace;
        let mut plan = LockPlan::new();
        plan.all_dbs(ks, true);
        let mut keys = KeyLocks::new(server, plan.acquire(ks), now_ms());
        keys.swap_keyspace(&beside.keyspace);
    }
    server
        .scripts
        .install_libraries(std::mem::take(&mut beside.libraries));
    discard_in_background(beside);
    log::info!("MASTER <-> REPLICA sync: Discarding old DB in background");
    Ok(())
}

/// Frees a keyspace no client sees on a thread of its own, as Redis's lazy free of its temp databases: a big
/// dataset takes a while to free and the link has a stream to apply.
fn discard_in_background(beside: Beside) {
    let freeing = std::thread::Builder::new()
        .name("lazyfree".into())
        .spawn(move || drop(beside));
    if let Err(e) = freeing {
        log::warn!("Freeing the old dataset in the background: {e}");
    }
}

/// A diskless load: the RDB is parsed as it comes off the link, no file written, into the emptied dataset or
/// `beside` it. A transfer that breaks, or a payload that cannot be read, leaves the dataset empty (or the
/// `beside` load incomplete, for the caller to discard), as Redis's load leaves it, and the link retries.
fn load_from_socket(
    server: &Server,
    link: &Link,
    conn: &mut Conn,
    beside: Option<&mut Beside>,
) -> io::Result<()> {
    let _loading = crate::crash::watchdog_busy();
    let head = conn.line()?;
    if beside.is_none() {
        log::info!("MASTER <-> REPLICA sync: Flushing old data");
        crate::persist::commands::empty_all(server);
    }
    log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    let mut payload = Payload::open(&head, &mut conn.r, link)?;
    let total = link.sync_total.load(Relaxed).max(0) as u64;
    let into_live = beside.is_none();
    let loaded = match beside {
        Some(beside) => rdbfile::load_beside(server, beside, &mut payload, total),
        None => {
            rdbfile::load_from(server, &mut payload, total, Duplicates::Replace).map(|(l, _)| l)
        }
    };
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
            if into_live {
                crate::persist::commands::empty_all(server);
            }
            Err(io::Error::other("diskless load failed"))
        }
    }
}

/// Receives the RDB into a temp file, then renames it over `dbfilename`, empties the dataset and loads it
/// (clients get -LOADING meanwhile).
fn load_through_file(server: &Server, link: &Link, conn: &mut Conn) -> io::Result<()> {
    let tmp = format!("temp-{}.{}.rdb", now_ms() / 1000, std::process::id());
    match receive_rdb(link, conn, &tmp) {
        Ok(leftover) => conn.leftover = leftover,
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
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
    log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    let loaded = {
        let _loading = crate::crash::watchdog_busy();
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
/// socket, answering -LOADING meanwhile, or, with `swapdb` and our master's own replication ID, serves the old
/// data as `async_loading` (`load_beside`).
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
