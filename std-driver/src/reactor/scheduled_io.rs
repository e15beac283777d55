//! The readiness of one registered IO resource, and the tasks waiting for it.
//!
//! The reactor sets readiness bits when the OS reports an event; a task that wants to read or
//! write checks the bits, tries the operation, and clears the bit again when the operation says
//! `WouldBlock`. Because readiness is edge-triggered, a bit that was cleared wrongly would never
//! come back: every event therefore also bumps a *tick*, and clearing only succeeds if the tick is
//! the one the task saw when it found the resource ready. An event that arrives between the task's
//! attempt and its clear keeps the bit set.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use atomic_waker::AtomicWaker;

/// The resource can be read (or accepted from).
pub(crate) const READABLE: usize = 1 << 0;
/// The resource can be written.
pub(crate) const WRITABLE: usize = 1 << 1;
/// The peer closed its writing side: reads will see EOF. Never cleared.
pub(crate) const READ_CLOSED: usize = 1 << 2;
/// The peer closed its reading side: writes will fail. Never cleared.
pub(crate) const WRITE_CLOSED: usize = 1 << 3;
/// The resource has an error pending; the next operation reports it (and consumes it). Cleared
/// with the direction's readiness when an operation says `WouldBlock`: the error is gone then,
/// and a stale bit would make every later wait return at once (a UDP socket after an ICMP error
/// would spin). A new error is a new event, which sets it again.
pub(crate) const ERROR: usize = 1 << 4;

const READINESS_MASK: usize = 0xff;
const TICK_SHIFT: u32 = 8;
const TICK_MASK: usize = 0xffff << TICK_SHIFT;

/// Which way a task wants to use a resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Reading, receiving, accepting.
    Read,
    /// Writing, sending, connecting.
    Write,
}

impl Direction {
    /// The bits that mean "try now" for this direction.
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }

    /// The bits a `WouldBlock` clears.
    fn clearable(self) -> usize {
        match self {
            Direction::Read => READABLE | ERROR,
            Direction::Write => WRITABLE | ERROR,
        }
    }
}

/// What a task saw when it found a resource ready: which bits, at which tick.
#[derive(Clone, Copy, Debug)]
pub struct ReadyEvent {
    direction: Direction,
    tick: usize,
    bits: usize,
}

impl ReadyEvent {
    /// Whether the peer has closed this direction (EOF on read, broken pipe on write).
    pub fn is_closed(&self) -> bool {
        self.bits
            & match self.direction {
                Direction::Read => READ_CLOSED,
                Direction::Write => WRITE_CLOSED,
            }
            != 0
    }
}

pub(crate) struct ScheduledIo {
    /// Readiness bits (low byte) and the tick (next 16 bits).
    readiness: AtomicUsize,
    /// Changes each time the slot is given back; part of the mio token.
    generation: AtomicUsize,
    reader: AtomicWaker,
    writer: AtomicWaker,
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            reader: AtomicWaker::new(),
            writer: AtomicWaker::new(),
        }
    }

    pub(crate) fn generation(&self) -> usize {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes a fresh slot: not ready, nobody waiting.
    pub(crate) fn reset(&self) {
        self.readiness.store(0, Ordering::Release);
    }

    /// Gives the slot up: wakes whoever still waits (they will find their resource gone) and
    /// moves the generation on.
    pub(crate) fn retire(&self, generation_limit: usize) {
        let next = (self.generation() + 1) % generation_limit;
        self.generation.store(next, Ordering::Release);
        self.readiness.store(0, Ordering::Release);
        self.reader.wake();
        self.writer.wake();
    }

    /// Records an event from the OS and wakes the tasks it concerns.
    pub(crate) fn set_readiness(&self, event: &mio::event::Event) {
        let mut bits = 0;
        if event.is_readable() {
            bits |= READABLE;
        }
        if event.is_writable() {
            bits |= WRITABLE;
        }
        if event.is_read_closed() {
            bits |= READ_CLOSED;
        }
        if event.is_write_closed() {
            bits |= WRITE_CLOSED;
        }
        if event.is_error() {
            bits |= ERROR;
        }
        self.set_bits(bits);
    }

    /// [`set_readiness`](ScheduledIo::set_readiness) from an epoll event's flags, read as mio
    /// reads them on Linux (for a worker that takes events from another worker's epoll).
    #[cfg(all(target_os = "linux", not(mio_unsupported_force_poll_poll), not(miri)))]
    pub(crate) fn set_readiness_epoll(&self, flags: u32) {
        let has = |flag: libc::c_int| flags as libc::c_int & flag != 0;
        let mut bits = 0;
        if has(libc::EPOLLIN) || has(libc::EPOLLPRI) {
            bits |= READABLE;
        }
        if has(libc::EPOLLOUT) {
            bits |= WRITABLE;
        }
        if has(libc::EPOLLHUP) || (has(libc::EPOLLIN) && has(libc::EPOLLRDHUP)) {
            bits |= READ_CLOSED;
        }
        if has(libc::EPOLLHUP)
            || (has(libc::EPOLLOUT) && has(libc::EPOLLERR))
            || flags as libc::c_int == libc::EPOLLERR
        {
            bits |= WRITE_CLOSED;
        }
        if has(libc::EPOLLERR) {
            bits |= ERROR;
        }
        self.set_bits(bits);
    }

    /// Adds `bits` to the readiness with a new tick, and wakes the tasks that wait.
    fn set_bits(&self, bits: usize) {
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            let tick = ((current & TICK_MASK) + (1 << TICK_SHIFT)) & TICK_MASK;
            let next = tick | (current & READINESS_MASK) | bits;
            match self.readiness.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        if bits & Direction::Read.mask() != 0 {
            self.reader.wake();
        }
        if bits & Direction::Write.mask() != 0 {
            self.writer.wake();
        }
    }

    /// Ready to try an operation in `direction`, or `Pending` with the task's waker stored.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<ReadyEvent> {
        if let Some(event) = self.ready_now(direction) {
            return Poll::Ready(event);
        }
        let waker = match direction {
            Direction::Read => &self.reader,
            Direction::Write => &self.writer,
        };
        waker.register(cx.waker());
        // An event may have arrived between the check and the registration.
        match self.ready_now(direction) {
            Some(event) => Poll::Ready(event),
            None => Poll::Pending,
        }
    }

    fn ready_now(&self, direction: Direction) -> Option<ReadyEvent> {
        let current = self.readiness.load(Ordering::Acquire);
        let bits = current & direction.mask();
        (bits != 0).then_some(ReadyEvent {
            direction,
            tick: current & TICK_MASK,
            bits,
        })
    }

    /// Clears the readiness `event` saw, unless a newer event arrived since.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            if current & TICK_MASK != event.tick {
                return;
            }
            let next = current & !event.direction.clearable();
            match self.readiness.compare_exchange_weak(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// Wakes both directions' waiters (used when a resource is shut down by its owner).
    pub(crate) fn wake_all(&self) {
        self.reader.wake();
        self.writer.wake();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::task::Waker;

    /// Two threads record events for one resource at once (its worker's turn, and another worker
    /// that takes the same epoll's events, see `Reactor::help`) while a task's thread clears the
    /// readiness it saw: no event is lost. Every event moves the tick on, so after `2 * SETS`
    /// events the tick has moved `2 * SETS` times; and a clear never hides an event that came
    /// after the readiness it saw (the last event leaves the resource ready).
    #[test]
    fn events_recorded_from_two_threads_at_once_are_all_counted() {
        const SETS: usize = if cfg!(miri) { 50 } else { 10_000 };
        let io = Arc::new(ScheduledIo::new());
        let stop = Arc::new(AtomicBool::new(false));
        let clearer = {
            let (io, stop) = (io.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut cx = Context::from_waker(Waker::noop());
                while !stop.load(Ordering::Acquire) {
                    if let Poll::Ready(event) = io.poll_ready(&mut cx, Direction::Read) {
                        io.clear_readiness(event);
                    }
                }
            })
        };
        let setters: Vec<_> = (0..2)
            .map(|_| {
                let io = io.clone();
                std::thread::spawn(move || {
                    for _ in 0..SETS {
                        io.set_bits(READABLE);
                    }
                })
            })
            .collect();
        for setter in setters {
            setter.join().unwrap();
        }
        stop.store(true, Ordering::Release);
        clearer.join().unwrap();
        let word = io.readiness.load(Ordering::Acquire);
        assert_eq!((word & TICK_MASK) >> TICK_SHIFT, 2 * SETS % (1 << 16));
        // An event after a task saw the readiness: the task's clear (of the older tick) keeps it.
        let mut cx = Context::from_waker(Waker::noop());
        io.set_bits(READABLE);
        let Poll::Ready(seen) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("an event makes the resource ready");
        };
        io.set_bits(READABLE);
        io.clear_readiness(seen);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
        // Without a newer event, the clear clears.
        let Poll::Ready(seen) = io.poll_ready(&mut cx, Direction::Read) else {
            unreachable!()
        };
        io.clear_readiness(seen);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
    }
}
