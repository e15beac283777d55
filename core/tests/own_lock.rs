//! The default lock of core's primitives on std (`CriticalSectionRawMutex` with the `std`
//! feature: a lock per value, not the process-wide critical section): it excludes other
//! threads, lets its holder in again, is freed by a closure that panics, and a waiter that finds
//! it held for long (the holder asleep) still gets it.
#![cfg(feature = "std")]

use std::cell::UnsafeCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use ebbtide_core::blocking_mutex::{CriticalSectionRawMutex, RawMutex};

/// A counter only touched under `lock` (a plain cell: overlapping closures would be a data
/// race, which Miri reports).
struct Guarded {
    lock: CriticalSectionRawMutex,
    value: UnsafeCell<u64>,
}

// SAFETY: `value` is only reached inside `lock`'s closures, which never overlap (what these
// tests check).
unsafe impl Sync for Guarded {}

impl Guarded {
    fn new() -> Guarded {
        Guarded {
            lock: CriticalSectionRawMutex::INIT,
            value: UnsafeCell::new(0),
        }
    }

    fn add(&self, n: u64) {
        self.lock.lock(|| {
            // SAFETY: inside the lock (see `Sync` above).
            let value = unsafe { &mut *self.value.get() };
            let old = *value;
            // Widen the window a second thread would need to interleave.
            std::hint::spin_loop();
            *value = old + n;
        });
    }

    fn get(&self) -> u64 {
        // SAFETY: inside the lock.
        self.lock.lock(|| unsafe { *self.value.get() })
    }
}

#[test]
fn threads_are_excluded_and_every_increment_counts() {
    const THREADS: u64 = 4;
    let rounds: u64 = if cfg!(miri) { 50 } else { 20_000 };
    let shared = Arc::new(Guarded::new());
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for _ in 0..rounds {
                    shared.add(1);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(shared.get(), THREADS * rounds);
}

#[test]
fn the_holder_may_lock_again_inside() {
    let lock = CriticalSectionRawMutex::INIT;
    let inner = lock.lock(|| lock.lock(|| lock.lock(|| 7)));
    assert_eq!(inner, 7);
    // Free again afterwards: another thread takes it.
    thread::scope(|s| s.spawn(|| lock.lock(|| ())).join().unwrap());
}

#[test]
fn a_closure_that_panics_frees_the_lock() {
    let shared = Guarded::new();
    let result = catch_unwind(AssertUnwindSafe(|| {
        shared.lock.lock(|| panic!("inside the lock"));
    }));
    assert!(result.is_err());
    thread::scope(|s| s.spawn(|| shared.add(5)).join().unwrap());
    assert_eq!(shared.get(), 5);
    // A panic in a nested call leaves the outer holder holding, then frees it at the end.
    shared.lock.lock(|| {
        let nested = catch_unwind(AssertUnwindSafe(|| shared.lock.lock(|| panic!("nested"))));
        assert!(nested.is_err());
    });
    thread::scope(|s| s.spawn(|| shared.add(1)).join().unwrap());
    assert_eq!(shared.get(), 6);
}

#[test]
fn a_waiter_gets_a_lock_held_across_a_sleep() {
    let shared = Arc::new(Guarded::new());
    let held = Arc::new(AtomicBool::new(false));
    let holder = {
        let (shared, held) = (Arc::clone(&shared), Arc::clone(&held));
        thread::spawn(move || {
            shared.lock.lock(|| {
                held.store(true, Ordering::Release);
                // Long enough for the waiter to go through spinning and yielding to napping.
                thread::sleep(Duration::from_millis(if cfg!(miri) { 1 } else { 20 }));
                // SAFETY: inside the lock.
                unsafe { *shared.value.get() = 100 };
            });
        })
    };
    while !held.load(Ordering::Acquire) {
        thread::yield_now();
    }
    shared.add(1);
    holder.join().unwrap();
    assert_eq!(
        shared.get(),
        101,
        "the waiter ran before the holder was done"
    );
}
