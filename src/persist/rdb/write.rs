//! [`RdbWriter`]: streams an RDB file as redis-server 7.0 writes one.
//!
//! The caller drives it: `header`, `standard_aux` (and any `aux`), then per non-empty database `select_db`
//! followed by one `entry` per key, optionally `function` for each library, and `finish`, which writes the EOF
//! opcode and the CRC-64 of everything before it (zero with `rdbchecksum no`, as Redis writes it).

use std::io::Write;

use super::string::{put_len, put_ms, put_string, CRC64};
use super::value::{put_body, type_of, Encoder, Limits};
use super::{opcodes, RDB_VERSION};
use crate::db::Entry;

/// `rdbcompression` and `rdbchecksum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RdbOptions {
    pub compression: bool,
    pub checksum: bool,
}

impl Default for RdbOptions {
    fn default() -> Self {
        RdbOptions {
            compression: true,
            checksum: true,
        }
    }
}

/// Which access stamp each key carries, from `maxmemory-policy` as Redis decides: its idle seconds (IDLE
/// opcode) under an LRU policy, its LFU counter (FREQ opcode) under an LFU one, nothing otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AccessStamps {
    #[default]
    None,
    Idle,
    Freq,
}

impl AccessStamps {
    pub fn for_policy(policy: &str) -> Self {
        if policy.contains("lru") {
            AccessStamps::Idle
        } else if policy.contains("lfu") {
            AccessStamps::Freq
        } else {
            AccessStamps::None
        }
    }
}

/// What the standard AUX fields report.
#[derive(Clone, Copy, Debug, Default)]
pub struct AuxInfo {
    /// `used-mem`: bytes in use.
    pub used_mem: u64,
    /// `aof-base`: whether the file is the base of an AOF.
    pub aof_base: bool,
    /// `ctime`: Unix seconds of the save.
    pub ctime: i64,
}

/// Encodes entries exactly as [`RdbWriter::entry`] does, without the writer: it can be copied to other threads.
#[derive(Clone, Copy)]
pub struct EntryEncoder {
    compress: bool,
    enc: Encoder,
    stamps: (AccessStamps, i64),
}

impl EntryEncoder {
    /// `expire_at`: the key's deadline (Unix ms), if it has a TTL.
    pub fn encode(&self, out: &mut Vec<u8>, key: &[u8], entry: &Entry, expire_at: Option<i64>) {
        if let Some(at) = expire_at {
            out.push(opcodes::EXPIRETIME_MS);
            put_ms(out, at);
        }
        match self.stamps {
            (AccessStamps::None, _) => {}
            (AccessStamps::Idle, now) => {
                out.push(opcodes::IDLE);
                put_len(out, entry.lru.idle_secs(now));
            }
            (AccessStamps::Freq, now) => {
                out.push(opcodes::FREQ);
                out.push(entry.lru.lfu_counter(now).min(255) as u8);
            }
        }
        out.push(type_of(&entry.value));
        put_string(out, key, self.compress);
        put_body(out, &entry.value, &self.enc);
    }
}

pub struct RdbWriter<W: Write> {
    w: W,
    opts: RdbOptions,
    enc: Encoder,
    digest: crc::Digest<'static, u64>,
    written: u64,
    /// The access stamps to write, and the time (Unix ms) idle times count to.
    stamps: (AccessStamps, i64),
    /// Reused for every record, so a save allocates once per large value at most.
    buf: Vec<u8>,
}

impl<W: Write> RdbWriter<W> {
    pub fn new(w: W, opts: RdbOptions) -> Self {
        RdbWriter {
            w,
            opts,
            enc: Encoder {
                compress: opts.compression,
                limits: Limits::default(),
            },
            digest: CRC64.digest(),
            written: 0,
            stamps: (AccessStamps::None, 0),
            buf: Vec::new(),
        }
    }

    /// The thresholds that split lists and streams into nodes (Redis's defaults unless set).
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.enc.limits = limits;
        self
    }

    /// Writes each key's idle time or LFU counter as of `now_ms` (Redis does under LRU and LFU policies).
    pub fn with_access_stamps(mut self, stamps: AccessStamps, now_ms: i64) -> Self {
        self.stamps = (stamps, now_ms);
        self
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// `REDIS0010`.
    pub fn header(&mut self) -> std::io::Result<()> {
        self.buf.clear();
        self.buf
            .extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
        self.flush_buf()
    }

    pub fn aux(&mut self, key: &[u8], value: &[u8]) -> std::io::Result<()> {
        self.buf.clear();
        self.buf.push(opcodes::AUX);
        put_string(&mut self.buf, key, self.opts.compression);
        put_string(&mut self.buf, value, self.opts.compression);
        self.flush_buf()
    }

    /// The fields redis-server 7.0 writes in every file, in its order: `redis-ver`, `redis-bits`, `ctime`,
    /// `used-mem`, then `aof-base` (the replication ones are for replication to add).
    pub fn standard_aux(&mut self, info: AuxInfo) -> std::io::Result<()> {
        self.aux(
            b"redis-ver",
            crate::commands::connection::REDIS_VERSION.as_bytes(),
        )?;
        self.aux(b"redis-bits", b"64")?;
        self.aux(b"ctime", info.ctime.to_string().as_bytes())?;
        self.aux(b"used-mem", info.used_mem.to_string().as_bytes())?;
        self.aux(b"aof-base", if info.aof_base { b"1" } else { b"0" })
    }

    /// SELECTDB and the RESIZEDB hint: the database's key count and how many of them have a TTL.
    pub fn select_db(&mut self, db: usize, keys: u64, expires: u64) -> std::io::Result<()> {
        self.buf.clear();
        self.buf.push(opcodes::SELECTDB);
        put_len(&mut self.buf, db as u64);
        self.buf.push(opcodes::RESIZEDB);
        put_len(&mut self.buf, keys);
        put_len(&mut self.buf, expires);
        self.flush_buf()
    }

    /// One key: EXPIRETIME_MS if it has a TTL, IDLE or FREQ if asked for, the type byte, the key, the value.
    pub fn entry(
        &mut self,
        key: &[u8],
        entry: &Entry,
        expire_at: Option<i64>,
    ) -> std::io::Result<()> {
        self.buf.clear();
        self.entry_encoder()
            .encode(&mut self.buf, key, entry, expire_at);
        self.flush_buf()
    }

    /// How this writer encodes an entry, for threads that encode entries in parallel and hand the bytes to
    /// [`RdbWriter::raw`] (a snapshot's writers each saving a shard).
    pub fn entry_encoder(&self) -> EntryEncoder {
        EntryEncoder {
            compress: self.opts.compression,
            enc: self.enc,
            stamps: self.stamps,
        }
    }

    /// Entries already encoded by an [`EntryEncoder`] of this writer, appended (and checksummed) as they are.
    pub fn raw(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.opts.checksum {
            self.digest.update(bytes);
        }
        self.w.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// A function library (FUNCTION2 opcode), its code as the scripting engine gives it.
    pub fn function(&mut self, code: &[u8]) -> std::io::Result<()> {
        self.buf.clear();
        self.buf.push(opcodes::FUNCTION2);
        put_string(&mut self.buf, code, self.opts.compression);
        self.flush_buf()
    }

    /// EOF and the checksum; returns the inner writer (flushed).
    pub fn finish(mut self) -> std::io::Result<W> {
        self.buf.clear();
        self.buf.push(opcodes::EOF);
        self.flush_buf()?;
        let crc = if self.opts.checksum {
            self.digest.clone().finalize()
        } else {
            0
        };
        self.w.write_all(&crc.to_le_bytes())?;
        self.written += 8;
        self.w.flush()?;
        Ok(self.w)
    }

    fn flush_buf(&mut self) -> std::io::Result<()> {
        if self.opts.checksum {
            self.digest.update(&self.buf);
        }
        self.w.write_all(&self.buf)?;
        self.written += self.buf.len() as u64;
        Ok(())
    }
}
