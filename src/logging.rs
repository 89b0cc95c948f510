//! The server log, written as Redis 7.0 writes it, because tools (and Redis's own test suite, which waits for
//! ` PID: ` and `Ready to accept connections`) read it:
//!
//! `pid:role dd Mon yyyy hh:mm:ss.mmm <level> message`
//!
//! The role is `C` until the configuration is loaded (Redis has no server pid yet then), then `M`, or `S` for a
//! replica. Levels map from the `log` crate: trace is Redis's debug (`.`), debug is verbose (`-`), info is
//! notice (`*`), warn and error are warning (`#`). `log::max_level` is the `loglevel` filter (CONFIG SET
//! changes it at run time). Lines go to stdout, or are appended to `logfile` (opened per line, as Redis does, so
//! an external rotation just works), and also to syslog when `syslog-enabled` is set.

use std::ffi::CString;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::Config;

/// What `REDIS_VERSION` a log line, the logo and `--version` name.
pub use crate::commands::connection::REDIS_VERSION;

static ROLE: AtomicU8 = AtomicU8::new(b'C');

/// The role character lines are written with now.
pub fn role() -> u8 {
    ROLE.load(Relaxed)
}

/// Sets the role character of the lines that follow (`M` master, `S` replica, `C` before start-up).
pub fn set_role(role: u8) {
    ROLE.store(role, Relaxed);
}

struct RedisLogger {
    /// None: stdout.
    file: Option<PathBuf>,
    /// Also sent to syslog (openlog already called).
    syslog: bool,
}

impl log::Log for RedisLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        let line = format_line(
            SystemTime::now(),
            std::process::id(),
            ROLE.load(Relaxed),
            level_char(record.level()),
            &message,
        );
        self.write(line.as_bytes());
        if self.syslog {
            send_to_syslog(record.level(), &message);
        }
    }

    fn flush(&self) {
        let _ = std::io::stdout().flush();
    }
}

impl RedisLogger {
    fn write(&self, bytes: &[u8]) {
        match &self.file {
            None => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(bytes).and_then(|_| out.flush());
            }
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path);
                // One write per line: O_APPEND keeps lines of concurrent threads whole.
                if let Ok(mut f) = file {
                    let _ = f.write_all(bytes);
                }
            }
        }
    }
}

/// The level character Redis prints: `.` debug, `-` verbose, `*` notice, `#` warning.
fn level_char(level: log::Level) -> u8 {
    match level {
        log::Level::Trace => b'.',
        log::Level::Debug => b'-',
        log::Level::Info => b'*',
        log::Level::Warn | log::Level::Error => b'#',
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// One log line: `pid:role dd Mon yyyy hh:mm:ss.mmm c message\n`, in local time as Redis prints it.
fn format_line(now: SystemTime, pid: u32, role: u8, level: u8, message: &str) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let tm = local_time(since.as_secs() as libc::time_t);
    let month = MONTHS.get(tm.tm_mon as usize).copied().unwrap_or("Jan");
    format!(
        "{pid}:{} {:02} {month} {} {:02}:{:02}:{:02}.{:03} {} {message}\n",
        role as char,
        tm.tm_mday,
        tm.tm_year + 1900,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        since.subsec_millis(),
        level as char,
    )
}

fn local_time(secs: libc::time_t) -> libc::tm {
    // SAFETY: localtime_r only writes the `tm` it is given; a zeroed `tm` is a valid value of that plain struct.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    }
}

fn send_to_syslog(level: log::Level, message: &str) {
    let priority = match level {
        log::Level::Trace => libc::LOG_DEBUG,
        log::Level::Debug => libc::LOG_INFO,
        log::Level::Info => libc::LOG_NOTICE,
        log::Level::Warn | log::Level::Error => libc::LOG_WARNING,
    };
    if let Ok(text) = CString::new(message.replace('\0', " ")) {
        // SAFETY: a constant "%s" format with one C string argument.
        unsafe { libc::syslog(priority, c"%s".as_ptr(), text.as_ptr()) };
    }
}

fn syslog_facility(name: &str) -> libc::c_int {
    match name {
        "user" => libc::LOG_USER,
        "local1" => libc::LOG_LOCAL1,
        "local2" => libc::LOG_LOCAL2,
        "local3" => libc::LOG_LOCAL3,
        "local4" => libc::LOG_LOCAL4,
        "local5" => libc::LOG_LOCAL5,
        "local6" => libc::LOG_LOCAL6,
        "local7" => libc::LOG_LOCAL7,
        _ => libc::LOG_LOCAL0,
    }
}

/// Installs the logger from `logfile`, `loglevel` and the `syslog-*` parameters.
pub fn init(config: &Config) {
    let logfile = config.get("logfile").unwrap_or_default();
    let syslog = config.get("syslog-enabled").as_deref() == Some("yes");
    if syslog {
        let ident = config.get("syslog-ident").unwrap_or_default();
        let facility = syslog_facility(&config.get("syslog-facility").unwrap_or_default());
        // openlog keeps the pointer for the life of the process, so the name is leaked on purpose.
        let ident: &'static CString = Box::leak(Box::new(
            CString::new(ident.replace('\0', "")).unwrap_or_default(),
        ));
        // SAFETY: `ident` lives for the rest of the process.
        unsafe {
            libc::openlog(
                ident.as_ptr(),
                libc::LOG_PID | libc::LOG_NDELAY | libc::LOG_NOWAIT,
                facility,
            )
        };
    }
    let logger = RedisLogger {
        file: (!logfile.is_empty()).then(|| PathBuf::from(logfile)),
        syslog,
    };
    if log::set_logger(Box::leak(Box::new(logger))).is_ok() {
        log::set_max_level(crate::config::log_level(
            &config.get("loglevel").unwrap_or_default(),
        ));
    }
}

/// Writes text as is (no prefix), at notice level, where the log goes: the logo.
fn raw(config: &Config, text: &str) {
    if log::max_level() < log::LevelFilter::Info {
        return;
    }
    let logfile = config.get("logfile").unwrap_or_default();
    RedisLogger {
        file: (!logfile.is_empty()).then(|| PathBuf::from(logfile)),
        syslog: false,
    }
    .write(text.as_bytes());
}

/// Redis's start-up logo (from its asciilogo.h, BSD licensed). `{v}` `{mode}` `{port}` `{pid}` are filled in.
const LOGO: &str = r"                _._                                                  
           _.-``__ ''-._                                             
      _.-``    `.  `_.  ''-._           Redis {v} (00000000/0) 64 bit
  .-`` .-```.  ```\/    _.,_ ''-._                                  
 (    '      ,       .-`  | `,    )     Running in {mode} mode
 |`-._`-...-` __...-.``-._|'` _.-'|     Port: {port}
 |    `-._   `._    /     _.-'    |     PID: {pid}
  `-._    `-._  `-./  _.-'    _.-'                                   
 |`-._`-._    `-.__.-'    _.-'_.-'|                                  
 |    `-._`-._        _.-'_.-'    |           https://redis.io       
  `-._    `-._`-.__.-'_.-'    _.-'                                   
 |`-._`-._    `-.__.-'    _.-'_.-'|                                  
 |    `-._`-._        _.-'_.-'    |                                  
  `-._    `-._`-.__.-'_.-'    _.-'                                   
      `-._    `-.__.-'    _.-'                                       
          `-._        _.-'                                           
              `-.__.-'                                               

";

/// The logo, or the one line that replaces it, decided as Redis decides: shown when the log is a terminal's
/// stdout and syslog is off, or when `always-show-logo` forces it.
pub fn announce_mode(config: &Config, port: u16) {
    let to_stdout = config.get("logfile").unwrap_or_default().is_empty();
    let syslog = config.get("syslog-enabled").as_deref() == Some("yes");
    // SAFETY: isatty only inspects the descriptor.
    let tty = unsafe { libc::isatty(1) } == 1;
    let forced = config.get("always-show-logo").as_deref() == Some("yes");
    if (!syslog && to_stdout && tty) || forced {
        let logo = LOGO
            .replace("{v}", REDIS_VERSION)
            .replace("{mode}", "standalone")
            .replace("{port}", &port.to_string())
            .replace("{pid}", &std::process::id().to_string());
        raw(config, &logo);
    } else {
        log::info!("Running mode=standalone, port={port}.");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_line_reads_as_redis_writes_it() {
        std::env::set_var("TZ", "UTC");
        let at = UNIX_EPOCH + Duration::from_millis(1_764_653_710_215);
        assert_eq!(
            format_line(at, 16788, b'M', b'*', "Ready to accept connections"),
            "16788:M 02 Dec 2025 05:35:10.215 * Ready to accept connections\n"
        );
        assert_eq!(
            format_line(UNIX_EPOCH + Duration::from_millis(7), 1, b'C', b'#', "x"),
            "1:C 01 Jan 1970 00:00:00.007 # x\n"
        );
    }

    #[test]
    fn levels_map_to_redis_characters() {
        let chars: Vec<u8> = [
            log::Level::Trace,
            log::Level::Debug,
            log::Level::Info,
            log::Level::Warn,
            log::Level::Error,
        ]
        .into_iter()
        .map(level_char)
        .collect();
        assert_eq!(chars, b".-*##");
    }

    #[test]
    fn the_logo_keeps_its_shape() {
        let lines: Vec<&str> = LOGO.lines().collect();
        assert_eq!(lines.len(), 18);
        assert!(lines[6].ends_with("PID: {pid}"));
        assert_eq!(lines[0].len(), 69);
    }
}
