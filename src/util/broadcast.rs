//! A wake-everyone event: threads wait until a generation counter moves past what they saw, and one call wakes
//! them all at once.
//!
//! The AOF gates need this shape. After a commit every waiting connection thread is satisfied together, and each
//! must write its reply as soon as a core is free. A condition variable under a mutex hands the wake-up from one
//! thread to the next: parking_lot's `notify_all` requeues the waiters on the mutex, so the fiftieth waits for
//! the forty-nine before it to be scheduled, run and unlock. A futex on the counter wakes them all in one system
//! call, with no lock between them.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

#[derive(Default)]
pub struct Broadcast {
    generation: AtomicU32,
    waiters: AtomicUsize,
}

impl Broadcast {
    pub const fn new() -> Broadcast {
        Broadcast {
            generation: AtomicU32::new(0),
            waiters: AtomicUsize::new(0),
        }
    }

    /// The generation to pass to [`Broadcast::wait`]: read it before checking the condition waited for, so a
    /// notification between the check and the wait is not missed.
    pub fn generation(&self) -> u32 {
        self.generation.load(SeqCst)
    }

    /// Sleeps until the generation moves past `seen` (or `timeout` passes, or a spurious wake-up); callers check
    /// their condition again, in a loop.
    pub fn wait(&self, seen: u32, timeout: Duration) {
        self.waiters.fetch_add(1, SeqCst);
        if self.generation.load(SeqCst) == seen {
            futex_wait(&self.generation, seen, timeout);
        }
        self.waiters.fetch_sub(1, SeqCst);
    }

    /// Moves the generation on and wakes every waiter; a load and an increment when nobody waits.
    pub fn notify_all(&self) {
        self.generation.fetch_add(1, SeqCst);
        if self.waiters.load(SeqCst) != 0 {
            futex_wake_all(&self.generation);
        }
    }
}

#[cfg(target_os = "linux")]
fn futex_wait(word: &AtomicU32, seen: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: the futex word is a live AtomicU32 borrowed for the call; FUTEX_WAIT only reads it, and `ts` lives
    // until the call returns. Any error (EAGAIN: the word moved, EINTR, ETIMEDOUT) just returns to the caller's
    // loop.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            seen,
            &ts as *const libc::timespec,
        );
    }
}

#[cfg(target_os = "linux")]
fn futex_wake_all(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE reads nothing through the pointer; it wakes the threads waiting on that address.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}

/// Elsewhere, a short sleep stands in for the wait (the callers loop on their condition).
#[cfg(not(target_os = "linux"))]
fn futex_wait(word: &AtomicU32, seen: u32, timeout: Duration) {
    if word.load(SeqCst) == seen {
        std::thread::sleep(timeout.min(Duration::from_micros(50)));
    }
}

#[cfg(not(target_os = "linux"))]
fn futex_wake_all(_word: &AtomicU32) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn a_notification_wakes_every_waiter() {
        let event = Arc::new(Broadcast::new());
        let done = Arc::new(AtomicBool::new(false));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (event, done) = (event.clone(), done.clone());
                std::thread::spawn(move || {
                    let start = Instant::now();
                    loop {
                        let seen = event.generation();
                        if done.load(Relaxed) {
                            break;
                        }
                        event.wait(seen, Duration::from_secs(30));
                    }
                    start.elapsed()
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(50));
        done.store(true, Relaxed);
        event.notify_all();
        for t in threads {
            let waited = t.join().expect("waiter panicked");
            assert!(waited < Duration::from_secs(10), "woken late: {waited:?}");
        }
    }

    #[test]
    fn a_wait_for_a_passed_generation_returns_at_once() {
        let event = Broadcast::new();
        let seen = event.generation();
        event.notify_all();
        let start = Instant::now();
        event.wait(seen, Duration::from_secs(30));
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_wait_ends_at_its_timeout() {
        let event = Broadcast::new();
        let start = Instant::now();
        event.wait(event.generation(), Duration::from_millis(20));
        assert!(start.elapsed() >= Duration::from_millis(15));
    }
}
