//! The monotonic clock: `clock_gettime(CLOCK_MONOTONIC)`, in microseconds.
//!
//! Read directly rather than through `std::time::Instant`, whose epoch is hidden: the runtime's
//! timer ticks are this clock's microseconds, so that a deadline can be handed to the kernel as it
//! is (the timerfd alarm sets an absolute `CLOCK_MONOTONIC` time). Miri emulates this call.

/// Microseconds of the OS's monotonic clock, since an unspecified start (boot, on Linux).
pub(crate) fn monotonic_micros() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC exists on every supported OS.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    debug_assert_eq!(rc, 0);
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}
