//! DEBUG subcommands that describe one key's low-level representation: OBJECT, SDSLEN, LISTPACK, QUICKLIST.
//!
//! ferredis stores values differently from Redis, so these report what Redis would show for the same contents
//! where that is meaningful (the encoding, the refcount, the LRU clock, `serializedlength` as a save would write
//! the value, the list's real node count).

use crate::commands::Ctx;
use crate::config::Threshold;
use crate::db::{Entry, Value};
use crate::persist::rdb::value::{put_body, Encoder};
use crate::persist::rdb::Limits;
use crate::protocol::Reply;
use crate::types::list::List;

pub const HELP_LINES: &[&str] = &[
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
];

/// The entry at `key` in `db` even if logically expired: DEBUG looks at the dict itself, as Redis's `dictFind`.
pub fn raw_entry<'c>(ctx: &'c Ctx, db: usize, key: &[u8]) -> Option<&'c Entry> {
    let hash = ctx.server.keyspace.hash(key);
    ctx.keys.shard(db, key).dict.get(hash, key)
}

fn no_such_key() -> Reply {
    Reply::err("no such key")
}

/// DEBUG OBJECT key: Redis's line, with the quicklist fields for a list.
pub fn object(ctx: &mut Ctx, key: &[u8]) -> Reply {
    let db = ctx.db();
    let Some(entry) = raw_entry(ctx, db, key) else {
        return no_such_key();
    };
    let lru = entry.lru.get();
    let idle_secs = if crate::db::access_policy::lfu() {
        0
    } else {
        crate::db::lru_clock().saturating_sub(lru)
    };
    let extra = match &entry.value {
        Value::List(l) => quicklist_fields(ctx, l),
        _ => String::new(),
    };
    Reply::Status(
        format!(
            "Value at:{:p} refcount:{} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}{}",
            &entry.value as *const Value,
            crate::commands::object::refcount_of(entry),
            entry.encoding(),
            serialized_len(ctx, &entry.value),
            lru & 0xFF_FFFF,
            idle_secs,
            extra
        )
        .into(),
    )
}

/// ` ql_nodes:.. ql_avg_node:.. ql_listpack_max:.. ql_compressed:.. ql_uncompressed_size:..` of the list's real
/// nodes (entries and bytes each; a listpack's 6 header bytes and end byte counted, as Redis's `sz`).
fn quicklist_fields(ctx: &Ctx, list: &List) -> String {
    // Clamped, as the quicklist keeps it (quicklistSetFill).
    let fill = (ctx.server.config)
        .threshold(Threshold::ListMaxListpackSize)
        .clamp(-5, (1 << 15) - 1);
    let compress = ctx
        .server
        .config
        .get("list-compress-depth")
        .is_some_and(|d| d != "0");
    let (mut nodes, mut bytes) = (0usize, 0usize);
    for (_, node_bytes) in list.node_sizes() {
        nodes += 1;
        bytes += node_bytes + 7;
    }
    let avg = if nodes > 0 {
        list.len() as f64 / nodes as f64
    } else {
        0.0
    };
    format!(
        " ql_nodes:{nodes} ql_avg_node:{avg:.2} ql_listpack_max:{fill} ql_compressed:{} ql_uncompressed_size:{bytes}",
        compress as u8
    )
}

/// What RDB writes for `value` (Redis's `rdbSavedObjectLen`): the body as a save would encode it now.
fn serialized_len(ctx: &Ctx, value: &Value) -> usize {
    let config = &ctx.server.config;
    let enc = Encoder {
        compress: config.get("rdbcompression").as_deref() != Some("no"),
        limits: Limits::from_config(config),
    };
    let mut out = Vec::new();
    put_body(&mut out, value, &enc);
    out.len()
}

/// DEBUG SDSLEN key: for a string not stored as an integer, its lengths (ferredis keeps no spare room).
pub fn sdslen(ctx: &mut Ctx, key: &[u8]) -> Reply {
    let db = ctx.db();
    let Some(entry) = raw_entry(ctx, db, key) else {
        return no_such_key();
    };
    match &entry.value {
        Value::Str(s) if entry.encoding() != "int" => Reply::Status(
            format!(
                "key_sds_len:{}, key_sds_avail:0, key_zmalloc: {}, val_sds_len:{}, val_sds_avail:0, val_zmalloc: {}",
                key.len(),
                key.len() + 4,
                s.len(),
                s.len() + 4
            )
            .into(),
        ),
        _ => Reply::err("Not an sds encoded string."),
    }
}

/// The live value at `key`, or Redis's "no such key" (`objectCommandLookupOrReply`).
fn live<'c>(ctx: &'c Ctx, key: &[u8]) -> Result<&'c Entry, Reply> {
    ctx.keys.peek(ctx.db(), key).ok_or_else(no_such_key)
}

pub fn listpack(ctx: &mut Ctx, key: &[u8]) -> Reply {
    match live(ctx, key) {
        Ok(e) if e.encoding() == "listpack" => {
            Reply::status("Listpack structure printed on stdout")
        }
        Ok(_) => Reply::err("Not a listpack encoded object."),
        Err(e) => e,
    }
}

pub fn quicklist(ctx: &mut Ctx, key: &[u8]) -> Reply {
    match live(ctx, key) {
        Ok(e) if e.encoding() == "quicklist" => {
            Reply::status("Quicklist structure printed on stdout")
        }
        Ok(_) => Reply::err("Not a quicklist encoded object."),
        Err(e) => e,
    }
}
