//! Log lines written from a signal handler: no allocation, no lock, only `clock_gettime`, `open` and `write(2)`
//! (all async-signal-safe), in the same `pid:role dd Mon yyyy hh:mm:ss.mmm # message` form as `logging`.
//!
//! Local time without `localtime_r` (which takes glibc's time zone lock): the offset from UTC is read once at
//! start-up and the date computed by arithmetic, as Redis's `nolocks_localtime` does (a daylight saving change
//! after start-up is not seen; Redis has the same limit).

use std::ffi::CString;
use std::fmt::{self, Write};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};
use std::sync::OnceLock;

/// `logfile`, when the log is a file (None: stdout).
static LOGFILE: OnceLock<Option<CString>> = OnceLock::new();
/// Seconds east of UTC, read at start-up.
static UTC_OFFSET: AtomicI64 = AtomicI64::new(0);

/// Remembers where the log goes and the local time offset (called once, before any handler can run).
pub fn init(logfile: &str) {
    let path = (!logfile.is_empty()).then(|| CString::new(logfile.replace('\0', "")).ok());
    let _ = LOGFILE.set(path.flatten());
    // SAFETY: time(NULL) and localtime_r into a zeroed plain struct.
    unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&now, &mut tm);
        UTC_OFFSET.store(tm.tm_gmtoff, Relaxed);
    }
}

/// A descriptor on the log, opened for this report (the file is opened per use as `logging` does, so a rotated
/// file is followed). -1 when it cannot be opened.
pub struct LogFd(libc::c_int);

impl LogFd {
    pub fn open() -> LogFd {
        match LOGFILE.get() {
            Some(Some(path)) => {
                // SAFETY: open(2) with a NUL-terminated path.
                let fd = unsafe {
                    libc::open(
                        path.as_ptr(),
                        libc::O_WRONLY | libc::O_APPEND | libc::O_CREAT | libc::O_CLOEXEC,
                        0o644,
                    )
                };
                LogFd(fd)
            }
            _ => LogFd(libc::STDOUT_FILENO),
        }
    }

    /// Writes all of `bytes` (retrying short writes); errors are dropped, there is nowhere to report them.
    pub fn raw(&self, mut bytes: &[u8]) {
        while !bytes.is_empty() && self.0 >= 0 {
            // SAFETY: write(2) from a live slice.
            let n = unsafe { libc::write(self.0, bytes.as_ptr().cast(), bytes.len()) };
            if n <= 0 {
                return;
            }
            bytes = &bytes[n as usize..];
        }
    }

    /// One warning line with the log prefix.
    pub fn line(&self, args: fmt::Arguments) {
        let mut buf = StackBuf::new();
        prefix(&mut buf);
        let _ = buf.write_fmt(args);
        buf.truncate_for_newline();
        let _ = buf.write_str("\n");
        self.raw(buf.as_bytes());
    }
}

impl Drop for LogFd {
    fn drop(&mut self) {
        if self.0 > libc::STDERR_FILENO {
            // SAFETY: closing the descriptor this value opened.
            unsafe { libc::close(self.0) };
        }
    }
}

/// A fixed buffer that `write!` fills without allocating; what does not fit is cut.
pub struct StackBuf {
    buf: [u8; 1024],
    len: usize,
}

impl StackBuf {
    pub fn new() -> StackBuf {
        StackBuf {
            buf: [0; 1024],
            len: 0,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Leaves room for the final newline.
    fn truncate_for_newline(&mut self) {
        self.len = self.len.min(self.buf.len() - 1);
    }
}

impl Write for StackBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `pid:role dd Mon yyyy hh:mm:ss.mmm # ` for now.
fn prefix(buf: &mut StackBuf) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime into a local struct; getpid cannot fail.
    let pid = unsafe {
        libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts);
        libc::getpid()
    };
    let local = ts.tv_sec + UTC_OFFSET.load(Relaxed);
    write_prefix(buf, pid, local, ts.tv_nsec / 1_000_000);
}

fn write_prefix(buf: &mut StackBuf, pid: i32, local_secs: i64, millis: i64) {
    let (year, month, day) = civil_from_days(local_secs.div_euclid(86_400));
    let secs = local_secs.rem_euclid(86_400);
    let _ = write!(
        buf,
        "{pid}:{} {day:02} {} {year} {:02}:{:02}:{:02}.{millis:03} # ",
        crate::logging::role() as char,
        MONTHS[(month - 1) as usize],
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
    );
}

/// Days since 1970-01-01 to (year, month 1..=12, day 1..=31): Howard Hinnant's `civil_from_days`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_the_calendar() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_424), (2025, 12, 2));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }

    #[test]
    fn the_prefix_reads_as_a_log_line() {
        let mut buf = StackBuf::new();
        write_prefix(&mut buf, 42, 1_764_653_710, 215);
        let text = String::from_utf8_lossy(buf.as_bytes()).into_owned();
        assert!(text.starts_with("42:"), "{text}");
        assert!(text.ends_with(" 02 Dec 2025 05:35:10.215 # "), "{text}");
    }

    #[test]
    fn a_long_line_is_cut_not_overflowed() {
        let mut buf = StackBuf::new();
        let long = "x".repeat(5000);
        let _ = buf.write_str(&long);
        buf.truncate_for_newline();
        let _ = buf.write_str("\n");
        assert_eq!(buf.as_bytes().len(), 1024);
        assert_eq!(buf.as_bytes()[1023], b'\n');
    }
}
