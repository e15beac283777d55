//! Watching the other workers' pollers while idle (Linux epoll, work stealing on).
//!
//! A worker that found nothing to do waits in the OS. Without a watch it waits in its own epoll
//! only: a busy worker's connections (one that runs a long task, or that the OS descheduled)
//! wait for that worker even while this one sleeps. With a watch, the idle worker waits in an
//! epoll of its own that holds its own epoll (level-triggered: its own events, its waker and its
//! timer alarm wake it exactly as before) and the epoll of every other worker (edge-triggered: a
//! new event there wakes it once). Woken by another worker's event, it runs its search, which
//! takes that worker's events if the worker is not waiting in its poller itself
//! (`Reactor::help`), and steals the tasks they woke.
//!
//! The watch is used only while some other worker is busy (not waiting in its poller); when
//! every worker waits, each waits in its own epoll, and one event wakes one thread. A worker
//! that starts to wait after a watcher looked costs that watcher one spurious wake: its next
//! wait sees the worker waiting and leaves it alone.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use super::Reactor;

/// The data of the watcher's own epoll in the watch epoll (the others' carry their index).
const OWN: u64 = u64::MAX;

/// An epoll over a worker's own epoll and the other workers' (see the module docs).
pub(crate) struct Watch {
    epoll: OwnedFd,
    others: Box<[&'static Reactor]>,
}

impl Watch {
    /// A watch for the worker whose epoll is `own`, over the pollers of `others`.
    pub(crate) fn new(own: RawFd, others: Box<[&'static Reactor]>) -> io::Result<Watch> {
        // SAFETY: plain system call; the result is checked.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is a new epoll descriptor that nothing else owns.
        let epoll = unsafe { OwnedFd::from_raw_fd(fd) };
        add(epoll.as_raw_fd(), own, libc::EPOLLIN as u32, OWN)?;
        for (index, other) in others.iter().enumerate() {
            add(
                epoll.as_raw_fd(),
                other.poller_fd(),
                (libc::EPOLLIN | libc::EPOLLET) as u32,
                index as u64,
            )?;
        }
        Ok(Watch { epoll, others })
    }

    /// Whether another worker is busy (not waiting in its poller): only then is watching worth
    /// the wake-ups it may cost.
    pub(crate) fn worth_it(&self) -> bool {
        self.others.iter().any(|other| !other.is_waiting())
    }

    /// Waits until the worker's own epoll has an event, another worker's epoll gets a new one,
    /// or `timeout` (`None`: no limit) passes. The caller then takes its own events.
    pub(crate) fn wait(&self, timeout: Option<Duration>) -> io::Result<()> {
        let millis = timeout.map_or(-1, |timeout| {
            // Rounded up: never wake before a deadline that has no timerfd.
            let millis = timeout.as_nanos().div_ceil(1_000_000);
            libc::c_int::try_from(millis).unwrap_or(libc::c_int::MAX)
        });
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 8];
        // SAFETY: `events` is a live buffer of 8 entries; the descriptor is ours.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                events.as_mut_ptr(),
                events.len() as libc::c_int,
                millis,
            )
        };
        if n < 0 {
            let error = io::Error::last_os_error();
            if error.kind() != io::ErrorKind::Interrupted {
                return Err(error);
            }
        }
        Ok(())
    }
}

/// Adds `fd` to the epoll `epoll` with `flags` and `data`.
fn add(epoll: RawFd, fd: RawFd, flags: u32, data: u64) -> io::Result<()> {
    let mut event = libc::epoll_event {
        events: flags,
        u64: data,
    };
    // SAFETY: both descriptors are open (the callers' epolls are leaked with their reactors);
    // `event` is a live struct the kernel only reads.
    if unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut event) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
