//! The in-memory `Pipe` and `Duplex`: wrapping, waking, end of stream, broken pipes, reuse.

use core::future::Future;
use core::pin::pin;
use core::task::{Context, Poll, Waker};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Wake;

use ebbtide_core::blocking_mutex::LocalRawMutex;
use ebbtide_core::io::{AsyncReadExt, AsyncWriteExt, Duplex, ErrorKind, Pipe, WriteAllError};
use ebbtide_core::{block_on, Executor, TaskPool};

/// A waker that counts its wakes.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<Count>, Waker) {
    let count = Arc::new(Count(AtomicUsize::new(0)));
    (count.clone(), Waker::from(count))
}

#[test]
fn bytes_wrap_around_the_ring() {
    let pipe: Pipe<5> = Pipe::new();
    let (mut rx, mut tx) = pipe.split();
    let mut buf = [0u8; 5];
    for round in 0..7u8 {
        let data = [round, round + 1, round + 2];
        block_on(tx.write_all(&data)).unwrap();
        block_on(rx.read_exact(&mut buf[..3])).unwrap();
        assert_eq!(buf[..3], data);
    }
}

#[test]
fn write_takes_what_fits_and_read_what_is_there() {
    let pipe: Pipe<4> = Pipe::new();
    let (mut rx, mut tx) = pipe.split();
    assert_eq!(block_on(tx.write(b"abcdef")), Ok(4));
    let mut buf = [0u8; 8];
    assert_eq!(block_on(rx.read(&mut buf)), Ok(4));
    assert_eq!(&buf[..4], b"abcd");
}

#[test]
#[cfg_attr(
    feature = "task-wakers-only",
    ignore = "task-wakers-only keeps no foreign waker (it is woken at once)"
)]
fn a_waiting_reader_is_woken_by_a_write() {
    let pipe: Pipe<4> = Pipe::new();
    let (mut rx, mut tx) = pipe.split();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut buf = [0u8; 4];
    let mut read = pin!(rx.read(&mut buf));
    assert!(read.as_mut().poll(&mut cx).is_pending());
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    block_on(tx.write_all(b"x")).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(read.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
}

#[test]
fn a_waiting_writer_is_woken_by_a_read() {
    let pipe: Pipe<2> = Pipe::new();
    let (mut rx, mut tx) = pipe.split();
    block_on(tx.write_all(b"ab")).unwrap();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut write = pin!(tx.write(b"c"));
    assert!(write.as_mut().poll(&mut cx).is_pending());
    let mut one = [0u8; 1];
    block_on(rx.read_exact(&mut one)).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(write.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
}

#[test]
fn eof_after_shutdown_once_drained() {
    let pipe: Pipe<8> = Pipe::new();
    let (mut rx, mut tx) = pipe.split();
    block_on(tx.write_all(b"tail")).unwrap();
    block_on(tx.shutdown()).unwrap();
    let mut buf = [0u8; 8];
    assert_eq!(block_on(rx.read(&mut buf)), Ok(4));
    assert_eq!(block_on(rx.read(&mut buf)), Ok(0));
    assert_eq!(block_on(rx.read(&mut buf)), Ok(0));
    // Writing after shutdown is refused.
    assert_eq!(block_on(tx.write(b"more")), Err(ErrorKind::BrokenPipe));
}

#[test]
fn eof_when_the_writer_is_dropped_wakes_the_reader() {
    let pipe: Pipe<8> = Pipe::new();
    let (mut rx, tx) = pipe.split();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut buf = [0u8; 4];
    let mut read = pin!(rx.read(&mut buf));
    assert!(read.as_mut().poll(&mut cx).is_pending());
    drop(tx);
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(read.as_mut().poll(&mut cx), Poll::Ready(Ok(0)));
}

#[test]
fn writing_to_a_dropped_reader_is_a_broken_pipe() {
    let pipe: Pipe<1> = Pipe::new();
    let (rx, mut tx) = pipe.split();
    block_on(tx.write_all(b"a")).unwrap();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut write = pin!(tx.write_all(b"b"));
    assert!(write.as_mut().poll(&mut cx).is_pending(), "pipe full");
    drop(rx);
    assert_eq!(count.0.load(Ordering::SeqCst), 1, "the writer is told");
    assert_eq!(
        write.as_mut().poll(&mut cx),
        Poll::Ready(Err(WriteAllError::Other(ErrorKind::BrokenPipe)))
    );
}

#[test]
fn split_again_after_both_ends_are_gone() {
    static PIPE: Pipe<4> = Pipe::new();
    let (rx, mut tx) = PIPE.split();
    block_on(tx.write_all(b"old")).unwrap();
    assert!(PIPE.try_split().is_err());
    drop(tx);
    assert!(PIPE.try_split().is_err(), "the reader still lives");
    drop(rx);
    let (mut rx, mut tx) = PIPE.split();
    block_on(tx.write_all(b"new")).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(block_on(rx.read(&mut buf)), Ok(3), "old bytes are gone");
    assert_eq!(&buf[..3], b"new");
}

#[test]
fn empty_buffers_complete_at_once() {
    let pipe: Pipe<1> = Pipe::new();
    let (mut rx, mut tx) = pipe.split();
    assert_eq!(block_on(rx.read(&mut [])), Ok(0));
    block_on(tx.write_all(b"x")).unwrap();
    assert_eq!(block_on(tx.write(b"")), Ok(0), "even when full");
}

#[test]
fn local_pipe_between_tasks_of_one_executor() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let pipe: &'static Pipe<3, LocalRawMutex> = Box::leak(Box::new(Pipe::with_mutex()));
    let (mut rx, mut tx) = pipe.split();
    let writer = spawner
        .spawn(&POOL, async move {
            for chunk in [&b"hello "[..], b"pipe ", b"world"] {
                tx.write_all(chunk).await.unwrap();
            }
        })
        .unwrap();
    let mut all = [0u8; 32];
    let n = runner.run_until(rx.read_to_limit(&mut all), || {}).unwrap();
    assert_eq!(&all[..n], b"hello pipe world");
    runner.run_until(writer, || {}).unwrap();
}

#[test]
fn duplex_directions_are_independent() {
    let link: Duplex<4> = Duplex::new();
    let (mut a, mut b) = link.split();
    block_on(async {
        a.write_all(b"a2b").await.unwrap();
        b.write_all(b"b2a").await.unwrap();
        a.shutdown().await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(b.read_to_limit(&mut buf).await, Ok(3));
        assert_eq!(&buf[..3], b"a2b");
        assert_eq!(a.read(&mut buf).await, Ok(3));
        assert_eq!(&buf[..3], b"b2a");
        // b can still write after a shut its direction.
        b.write_all(b"!").await.unwrap();
        assert_eq!(a.read(&mut buf).await, Ok(1));
    });
    assert!(link.try_split().is_err());
    drop((a, b));
    assert!(link.try_split().is_ok());
}

#[test]
fn duplex_drop_breaks_the_peer() {
    let link: Duplex<4> = Duplex::new();
    let (mut a, b) = link.split();
    drop(b);
    let mut buf = [0u8; 1];
    assert_eq!(block_on(a.read(&mut buf)), Ok(0));
    assert_eq!(block_on(a.write(b"x")), Err(ErrorKind::BrokenPipe));
}
