//! TCP: listeners and streams in the handle table, one task per accept, connect, read and
//! write.
//!
//! Each handle has a *lane* per kind of operation (a listener's accepts; a stream's reads, and
//! its writes): one operation at a time per lane (`-EBUSY` otherwise). The socket object rests
//! in the lane between operations; the operation's task takes it out when it starts and puts it
//! back before it calls the callback, so the callback can start the next one at once. Closing a
//! handle removes it from the table and aborts the lanes' tasks: their callbacks report
//! `-ECANCELED`, and the socket closes when the last task holding a part of it is gone.

use std::net::SocketAddr;
use std::sync::Arc;

use ebbtide_std::io::{AsyncReadExt, AsyncWriteExt, WriteAllError};
use ebbtide_std::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
use ebbtide_std::JoinHandle;

use crate::error::{io_code, EBADF, EBUSY, EINVAL, EIO, EPIPE};
use crate::raw::{BufMut, BufRef, Callback};
use crate::rt::{Completion, RtShared};
use crate::table::{table, Entry, Kind};

/// One kind of operation on a handle: the socket object while idle, and the task running.
pub(crate) struct Lane<T> {
    io: Option<T>,
    busy: bool,
    /// Counts the operations started, to tell this operation's bookkeeping from the next one's.
    seq: u64,
    task: Option<JoinHandle<()>>,
}

impl<T> Lane<T> {
    fn new(io: T) -> Lane<T> {
        Lane {
            io: Some(io),
            busy: false,
            seq: 0,
            task: None,
        }
    }
}

/// A listener as accept takes it: the std listener until the first accept registers it with the
/// runtime (from inside a task, so that `listen` needs no runtime context).
pub(crate) enum ListenerIo {
    Std(std::net::TcpListener),
    Registered(TcpListener),
}

/// A listening socket.
pub(crate) struct ListenerSlot {
    pub(crate) rt: Arc<RtShared>,
    local_addr: SocketAddr,
    accept: Lane<ListenerIo>,
}

/// A connected socket, split so that a read and a write can be in flight together.
pub(crate) struct StreamSlot {
    pub(crate) rt: Arc<RtShared>,
    read: Lane<OwnedReadHalf>,
    write: Lane<OwnedWriteHalf>,
}

/// The lane of `T`s in an entry.
trait LaneOf: Sized + Send + 'static {
    const KIND: Kind;
    fn lane(entry: &mut Entry) -> Option<&mut Lane<Self>>;
}

impl LaneOf for ListenerIo {
    const KIND: Kind = Kind::Listener;
    fn lane(entry: &mut Entry) -> Option<&mut Lane<Self>> {
        match entry {
            Entry::Listener(slot) => Some(&mut slot.accept),
            _ => None,
        }
    }
}

impl LaneOf for OwnedReadHalf {
    const KIND: Kind = Kind::Stream;
    fn lane(entry: &mut Entry) -> Option<&mut Lane<Self>> {
        match entry {
            Entry::Stream(slot) => Some(&mut slot.read),
            _ => None,
        }
    }
}

impl LaneOf for OwnedWriteHalf {
    const KIND: Kind = Kind::Stream;
    fn lane(entry: &mut Entry) -> Option<&mut Lane<Self>> {
        match entry {
            Entry::Stream(slot) => Some(&mut slot.write),
            _ => None,
        }
    }
}

/// Starts an operation on `handle`'s lane of `T`: checks the handle (and, with `rt`, that it
/// belongs to that runtime), marks the lane busy and spawns `op(seq, rt)`.
fn start<T: LaneOf, F>(
    handle: u64,
    rt: Option<&Arc<RtShared>>,
    op: impl FnOnce(u64, Arc<RtShared>) -> F,
) -> Result<(), i32>
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let (seq, shared) = {
        let mut table = table();
        let entry = table.get(handle, T::KIND).ok_or(EBADF)?;
        if rt.is_some_and(|rt| !Arc::ptr_eq(rt, entry.rt())) {
            return Err(EBADF);
        }
        let shared = entry.rt().clone();
        shared.check_open()?;
        let lane = T::lane(entry).ok_or(EBADF)?;
        if lane.busy {
            return Err(EBUSY);
        }
        if lane.io.is_none() {
            // An earlier operation lost the socket (a failed registration).
            return Err(EIO);
        }
        lane.busy = true;
        lane.seq += 1;
        (lane.seq, shared)
    };
    let spawned = shared.spawn(op(seq, shared.clone()));
    let mut table = table();
    let lane = table.get(handle, T::KIND).and_then(T::lane);
    match (spawned, lane) {
        (Ok(task), Some(lane)) if lane.busy && lane.seq == seq => {
            lane.task = Some(task);
            Ok(())
        }
        // Done already, or the handle was closed meanwhile: the task handle detaches.
        (Ok(task), _) => {
            drop(table);
            drop(task);
            Ok(())
        }
        (Err(code), lane) => {
            if let Some(lane) = lane.filter(|lane| lane.seq == seq) {
                lane.busy = false;
            }
            Err(code)
        }
    }
}

/// The socket object of operation `seq`, taken out of its lane; `None` if the handle was
/// closed.
fn take_io<T: LaneOf>(handle: u64, seq: u64) -> Option<T> {
    let mut table = table();
    let lane = T::lane(table.get(handle, T::KIND)?)?;
    if lane.seq == seq {
        lane.io.take()
    } else {
        None
    }
}

/// Puts the socket object back when operation `seq` ends (or drops it, if the handle was
/// closed meanwhile), and marks the lane idle.
fn put_io<T: LaneOf>(handle: u64, seq: u64, io: Option<T>) {
    let mut table = table();
    let lane = table
        .get(handle, T::KIND)
        .and_then(T::lane)
        .filter(|lane| lane.seq == seq);
    let (leftover, task) = match lane {
        Some(lane) => {
            lane.io = io;
            lane.busy = false;
            (None, lane.task.take())
        }
        None => (io, None),
    };
    drop(table);
    drop(leftover);
    drop(task);
}

/// Makes a stream handle for a new connection.
fn insert_stream(rt: &Arc<RtShared>, stream: TcpStream) -> Result<u64, i32> {
    // Request-response traffic (an echo) must not wait for Nagle's algorithm.
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    table().insert(Entry::Stream(StreamSlot {
        rt: rt.clone(),
        read: Lane::new(read),
        write: Lane::new(write),
    }))
}

fn parse_addr(addr: &str) -> Result<SocketAddr, i32> {
    addr.parse().map_err(|_| EINVAL)
}

/// `ebbtide_tcp_listen`: binds `addr` (`"IP:PORT"`) and returns the listener's handle.
pub(crate) fn listen(rt: &Arc<RtShared>, addr: &str) -> Result<u64, i32> {
    rt.check_open()?;
    let addr = parse_addr(addr)?;
    let listener = std::net::TcpListener::bind(addr).map_err(|e| io_code(&e))?;
    let local_addr = listener.local_addr().map_err(|e| io_code(&e))?;
    table().insert(Entry::Listener(ListenerSlot {
        rt: rt.clone(),
        local_addr,
        accept: Lane::new(ListenerIo::Std(listener)),
    }))
}

/// `ebbtide_tcp_local_port`: the port a listener is bound to.
pub(crate) fn local_port(handle: u64) -> Result<u16, i32> {
    match table().get(handle, Kind::Listener) {
        Some(Entry::Listener(slot)) => Ok(slot.local_addr.port()),
        _ => Err(EBADF),
    }
}

/// `ebbtide_tcp_accept`: the next connection's handle, through `cb`.
pub(crate) fn accept(rt: &Arc<RtShared>, handle: u64, cb: Callback) -> Result<(), i32> {
    start::<ListenerIo, _>(handle, Some(rt), move |seq, shared| {
        // Made here, so that a refused start never calls `cb`.
        let completion = Completion::new(cb);
        async move {
            let Some(io) = take_io::<ListenerIo>(handle, seq) else {
                return; // closed before it started: `completion` reports -ECANCELED
            };
            let listener = match io {
                ListenerIo::Registered(listener) => listener,
                ListenerIo::Std(listener) => match TcpListener::from_std(listener) {
                    Ok(listener) => listener,
                    Err(error) => {
                        put_io::<ListenerIo>(handle, seq, None);
                        return completion.complete(&shared, io_code(&error).into());
                    }
                },
            };
            let result = match listener.accept().await {
                Ok((stream, _peer)) => {
                    insert_stream(&shared, stream).map_or_else(i64::from, |h| h as i64)
                }
                Err(error) => io_code(&error).into(),
            };
            put_io(handle, seq, Some(ListenerIo::Registered(listener)));
            completion.complete(&shared, result);
        }
    })
}

/// `ebbtide_tcp_connect`: connects to `addr` (`"IP:PORT"`); the new stream's handle through
/// `cb`.
pub(crate) fn connect(rt: &Arc<RtShared>, addr: &str, cb: Callback) -> Result<(), i32> {
    let addr = parse_addr(addr)?;
    let completion = Completion::new(cb);
    let shared = rt.clone();
    rt.spawn(async move {
        // Boxed: the connect future (about 400 bytes) would not fit the 256-byte task slot of
        // every other operation (see `RtShared::spawn`); one allocation per connection.
        let result = match Box::pin(TcpStream::connect(addr)).await {
            Ok(stream) => insert_stream(&shared, stream).map_or_else(i64::from, |h| h as i64),
            Err(error) => io_code(&error).into(),
        };
        completion.complete(&shared, result);
    })?;
    Ok(())
}

/// `ebbtide_tcp_read`: up to `buf.len()` bytes; the count (0 at end of stream) through `cb`.
pub(crate) fn read(handle: u64, mut buf: BufMut, cb: Callback) -> Result<(), i32> {
    start::<OwnedReadHalf, _>(handle, None, move |seq, shared| {
        // Made here, so that a refused start never calls `cb`.
        let completion = Completion::new(cb);
        async move {
            let Some(mut half) = take_io::<OwnedReadHalf>(handle, seq) else {
                return;
            };
            let result = match half.read(buf.as_mut_slice()).await {
                Ok(n) => n as i64,
                Err(error) => io_code(&error).into(),
            };
            put_io(handle, seq, Some(half));
            completion.complete(&shared, result);
        }
    })
}

/// `ebbtide_tcp_write_all`: all of `buf`; its length through `cb`.
pub(crate) fn write_all(handle: u64, buf: BufRef, cb: Callback) -> Result<(), i32> {
    start::<OwnedWriteHalf, _>(handle, None, move |seq, shared| {
        // Made here, so that a refused start never calls `cb`.
        let completion = Completion::new(cb);
        async move {
            let Some(mut half) = take_io::<OwnedWriteHalf>(handle, seq) else {
                return;
            };
            let bytes = buf.as_slice();
            let result = match half.write_all(bytes).await {
                Ok(()) => bytes.len() as i64,
                Err(WriteAllError::Other(error)) => io_code(&error).into(),
                Err(WriteAllError::WriteZero) => EPIPE.into(),
            };
            put_io(handle, seq, Some(half));
            completion.complete(&shared, result);
        }
    })
}

/// `ebbtide_tcp_close`: a listener or a stream.
pub(crate) fn close(handle: u64) -> Result<(), i32> {
    let entry = {
        let mut table = table();
        table
            .remove(handle, Kind::Stream)
            .or_else(|| table.remove(handle, Kind::Listener))
    };
    let tasks = match entry {
        Some(Entry::Stream(slot)) => [slot.read.task, slot.write.task],
        Some(Entry::Listener(slot)) => [slot.accept.task, None],
        _ => return Err(EBADF),
    };
    for task in tasks.iter().flatten() {
        // Dropped before its next poll: its completion reports -ECANCELED.
        task.abort();
    }
    Ok(())
}
