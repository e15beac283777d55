//! Channels of fixed-size messages between C threads and callbacks.
//!
//! A ring of `capacity` messages of `msg_size` bytes, allocated once, and FIFO queues of the
//! sends and receives that wait, behind one `std::sync::Mutex` (held while bytes are copied,
//! never while C code runs). Every completion is posted to the runtime's queue, so callbacks
//! run on the thread in `ebbtide_rt_run`, in the order the operations completed, and never
//! inside the call that started them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::error::{EAGAIN, EBADF, ECANCELED, EINVAL, ENOMEM, EPIPE};
use crate::raw::{BufMut, BufRef, Callback};
use crate::rt::RtShared;
use crate::table::{table, Entry, Kind};

/// The largest ring: 1 GiB.
const MAX_RING_BYTES: usize = 1 << 30;

/// A channel.
pub(crate) struct Chan {
    pub(crate) rt: Arc<RtShared>,
    msg_size: usize,
    capacity: usize,
    state: Mutex<State>,
}

struct State {
    ring: Box<[u8]>,
    head: usize,
    len: usize,
    /// Sends that wait for room, oldest first; each message is read when it moves in.
    senders: VecDeque<(BufRef, Callback)>,
    /// Receives that wait for a message, oldest first (only while the ring is empty).
    receivers: VecDeque<(BufMut, Callback)>,
    closed: bool,
}

/// Completions to post once the lock is released.
type Posts = Vec<(Callback, i64)>;

impl Chan {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn post(&self, posts: Posts) {
        for (cb, result) in posts {
            self.rt.post(cb, result);
        }
    }

    /// Moves a message into the ring, or straight to a waiting receiver; `false` if it fits
    /// nowhere now (or if earlier sends wait, which go first).
    fn push(&self, state: &mut State, msg: &[u8], posts: &mut Posts) -> bool {
        if let Some((mut buf, cb)) = state.receivers.pop_front() {
            buf.as_mut_slice().copy_from_slice(msg);
            posts.push((cb, self.msg_size as i64));
            return true;
        }
        if !state.senders.is_empty() || state.len == self.capacity {
            return false;
        }
        let at = (state.head + state.len) % self.capacity * self.msg_size;
        state.ring[at..at + self.msg_size].copy_from_slice(msg);
        state.len += 1;
        true
    }

    /// Takes the oldest message into `buf` (then lets the oldest waiting send in); `false`
    /// when there is none.
    fn pop(&self, state: &mut State, buf: &mut [u8], posts: &mut Posts) -> bool {
        if state.len > 0 {
            let at = state.head * self.msg_size;
            buf.copy_from_slice(&state.ring[at..at + self.msg_size]);
            state.head = (state.head + 1) % self.capacity;
            state.len -= 1;
            if let Some((msg, cb)) = state.senders.pop_front() {
                let at = (state.head + state.len) % self.capacity * self.msg_size;
                state.ring[at..at + self.msg_size].copy_from_slice(msg.as_slice());
                state.len += 1;
                posts.push((cb, 0));
            }
            true
        } else if let Some((msg, cb)) = state.senders.pop_front() {
            // Capacity 0: straight from the waiting sender.
            buf.copy_from_slice(msg.as_slice());
            posts.push((cb, 0));
            true
        } else {
            false
        }
    }

    /// Cancels what waits: sends with `send_code`, receives with `recv_code`.
    fn flush_waiters(state: &mut State, send_code: i32, recv_code: i64, posts: &mut Posts) {
        posts.extend(
            state
                .senders
                .drain(..)
                .map(|(_, cb)| (cb, send_code.into())),
        );
        posts.extend(state.receivers.drain(..).map(|(_, cb)| (cb, recv_code)));
    }
}

impl Drop for Chan {
    /// A channel freed with operations waiting (`ebbtide_chan_free`, `ebbtide_rt_free`):
    /// they complete with `-ECANCELED`.
    fn drop(&mut self) {
        let mut posts = Posts::new();
        Chan::flush_waiters(&mut self.state(), ECANCELED, ECANCELED.into(), &mut posts);
        self.post(posts);
    }
}

/// The channel of `handle`.
fn get(handle: u64) -> Result<Arc<Chan>, i32> {
    match table().get(handle, Kind::Chan) {
        Some(Entry::Chan(chan)) => Ok(chan.clone()),
        _ => Err(EBADF),
    }
}

/// `ebbtide_chan_new`.
pub(crate) fn new(rt: &Arc<RtShared>, capacity: usize, msg_size: usize) -> Result<u64, i32> {
    rt.check_open()?;
    if msg_size == 0 {
        return Err(EINVAL);
    }
    let bytes = capacity
        .checked_mul(msg_size)
        .filter(|bytes| *bytes <= MAX_RING_BYTES)
        .ok_or(ENOMEM)?;
    let chan = Chan {
        rt: rt.clone(),
        msg_size,
        capacity,
        state: Mutex::new(State {
            ring: vec![0; bytes].into_boxed_slice(),
            head: 0,
            len: 0,
            senders: VecDeque::new(),
            receivers: VecDeque::new(),
            closed: false,
        }),
    };
    table().insert(Entry::Chan(Arc::new(chan)))
}

/// The channel's message size, which every buffer passed to it must have.
pub(crate) fn msg_size(handle: u64) -> Result<usize, i32> {
    Ok(get(handle)?.msg_size)
}

/// `ebbtide_chan_send`: `cb(user, 0)` once the message is in (`-EPIPE` if the channel is
/// closed while it waits).
pub(crate) fn send(handle: u64, msg: BufRef, cb: Callback) -> Result<(), i32> {
    let chan = get(handle)?;
    chan.rt.check_open()?;
    let mut posts = Posts::new();
    {
        let mut state = chan.state();
        if state.closed {
            return Err(EPIPE);
        }
        if chan.push(&mut state, msg.as_slice(), &mut posts) {
            posts.push((cb, 0));
        } else {
            state.senders.push_back((msg, cb));
        }
    }
    chan.post(posts);
    Ok(())
}

/// `ebbtide_chan_try_send`: in now, or `-EAGAIN`.
pub(crate) fn try_send(handle: u64, msg: &[u8]) -> Result<(), i32> {
    let chan = get(handle)?;
    let mut posts = Posts::new();
    let pushed = {
        let mut state = chan.state();
        if state.closed {
            return Err(EPIPE);
        }
        chan.push(&mut state, msg, &mut posts)
    };
    chan.post(posts);
    if pushed {
        Ok(())
    } else {
        Err(EAGAIN)
    }
}

/// `ebbtide_chan_recv`: `cb(user, msg_size)` once a message is in `buf`, `cb(user, 0)` when
/// the channel is closed and empty.
pub(crate) fn recv(handle: u64, mut buf: BufMut, cb: Callback) -> Result<(), i32> {
    let chan = get(handle)?;
    chan.rt.check_open()?;
    let mut posts = Posts::new();
    {
        let mut state = chan.state();
        if chan.pop(&mut state, buf.as_mut_slice(), &mut posts) {
            posts.push((cb, chan.msg_size as i64));
        } else if state.closed {
            posts.push((cb, 0));
        } else {
            state.receivers.push_back((buf, cb));
        }
    }
    chan.post(posts);
    Ok(())
}

/// `ebbtide_chan_try_recv`: `msg_size` with a message in `buf`, 0 when closed and empty,
/// `-EAGAIN` when empty.
pub(crate) fn try_recv(handle: u64, buf: &mut [u8]) -> Result<usize, i32> {
    let chan = get(handle)?;
    let mut posts = Posts::new();
    let result = {
        let mut state = chan.state();
        if chan.pop(&mut state, buf, &mut posts) {
            Ok(chan.msg_size)
        } else if state.closed {
            Ok(0)
        } else {
            Err(EAGAIN)
        }
    };
    chan.post(posts);
    result
}

/// `ebbtide_chan_close`: no more sends (waiting ones fail with `-EPIPE`); receivers get what
/// is queued, then 0.
pub(crate) fn close(handle: u64) -> Result<(), i32> {
    let chan = get(handle)?;
    let mut posts = Posts::new();
    {
        let mut state = chan.state();
        state.closed = true;
        Chan::flush_waiters(&mut state, EPIPE, 0, &mut posts);
    }
    chan.post(posts);
    Ok(())
}

/// `ebbtide_chan_free`: the handle goes stale; waiting operations complete with
/// `-ECANCELED`.
pub(crate) fn free(handle: u64) -> Result<(), i32> {
    let entry = table().remove(handle, Kind::Chan).ok_or(EBADF)?;
    drop(entry);
    Ok(())
}
