//! `used_memory`: a global allocator that counts what the server holds, as Redis's zmalloc counts.
//!
//! Every allocation and free adds or subtracts the block's usable size (`malloc_usable_size`, what glibc really
//! reserved for it, as zmalloc counts jemalloc's size classes) to a counter. One shared atomic would be a cache
//! line every thread writes on every allocation; instead each thread adds to one of [`SLOTS`] cache-padded
//! atomics, picked once per thread, and a read sums them. A block freed by another thread than the one that
//! allocated it makes one slot go down and another up: only the sum means anything, and it is exact.
//!
//! The cost (bench/run.sh, GET/SET side by side with the binary before this allocator) is in the README.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering::Relaxed};

use crossbeam_utils::CachePadded;

/// Counters threads spread over; more than the threads that allocate at once on most machines.
const SLOTS: usize = 64;

struct Counters([CachePadded<AtomicI64>; SLOTS]);

static COUNTERS: Counters = Counters([const { CachePadded::new(AtomicI64::new(0)) }; SLOTS]);
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// This thread's slot; `usize::MAX` until its first allocation. No destructor, so it is usable while the
    /// thread's other thread-locals are being torn down.
    static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
}

#[inline]
fn slot() -> &'static AtomicI64 {
    let i = SLOT
        .try_with(|s| {
            let mut i = s.get();
            if i == usize::MAX {
                i = NEXT_SLOT.fetch_add(1, Relaxed) % SLOTS;
                s.set(i);
            }
            i
        })
        .unwrap_or(0);
    &COUNTERS.0[i]
}

/// The usable size of a live block from the system allocator.
#[inline]
fn usable(ptr: *mut u8, layout: Layout) -> i64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let _ = layout;
        // SAFETY: `ptr` is a live block from `System` (malloc or posix_memalign), as malloc_usable_size requires.
        unsafe { libc::malloc_usable_size(ptr.cast()) as i64 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = ptr;
        layout.size() as i64
    }
}

/// The system allocator, counted.
pub struct Counting;

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated around it.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            slot().fetch_add(usable(p, layout), Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            slot().fetch_add(usable(p, layout), Relaxed);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        slot().fetch_sub(usable(ptr, layout), Relaxed);
        System.dealloc(ptr, layout);
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let before = usable(ptr, layout);
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            // SAFETY: `realloc` succeeded, so `p` is a live block of `new_size` bytes with `layout`'s alignment.
            let after = usable(
                p,
                Layout::from_size_align_unchecked(new_size, layout.align()),
            );
            slot().fetch_add(after - before, Relaxed);
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes the server holds now (INFO `used_memory`), summed over every thread's counter.
pub fn used() -> u64 {
    COUNTERS
        .0
        .iter()
        .map(|c| c.load(Relaxed))
        .sum::<i64>()
        .max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Other tests allocate and free at the same time in this process: the blocks here are far bigger than what
    /// they hold (and never touched, so they cost no RAM).
    const BIG: i64 = 512 << 20;
    const NOISE: i64 = 128 << 20;

    #[test]
    fn counts_what_is_held_and_forgets_what_is_freed() {
        let before = used() as i64;
        // black_box: an allocation nothing reads may be elided by the optimizer (it was, after unrelated code
        // changed inlining), and the test would measure nothing.
        let v: Vec<u8> = std::hint::black_box(Vec::with_capacity(BIG as usize));
        let during = used() as i64;
        drop(v);
        let after = used() as i64;
        assert!(during - before >= BIG - NOISE, "{before} -> {during}");
        assert!((after - before).abs() < NOISE, "{before} -> {after}");
    }

    #[test]
    fn realloc_counts_the_new_size() {
        let mut v: Vec<u8> = std::hint::black_box(Vec::with_capacity(16));
        let before = used() as i64;
        v.reserve_exact(BIG as usize);
        std::hint::black_box(&v);
        assert!(used() as i64 - before >= BIG - NOISE);
    }
}
