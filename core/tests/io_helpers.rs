//! The read/write helpers, `copy` and `copy_bidirectional`, over pipes and hand-made streams.

use core::pin::Pin;
use core::task::{Context, Poll};

use ebbtide_core::io::{
    copy, copy_bidirectional, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt,
    CopyBidirectionalError, CopyError, Duplex, ErrorKind, ErrorType, Pipe, ReadExactError,
    WriteAllError,
};
use ebbtide_core::{block_on, Executor, TaskPool};

/// A writer that takes at most `chunk` bytes per write, up to `limit` in all, then fails or
/// takes nothing; records what it got and how many writes it saw.
struct Trickle {
    got: Vec<u8>,
    chunk: usize,
    limit: usize,
    writes: usize,
    flushes: usize,
    shutdowns: usize,
    /// Past `limit`: `Some(error)` fails, `None` returns `Ok(0)`.
    at_limit: Option<ErrorKind>,
}

impl Trickle {
    fn new(chunk: usize) -> Trickle {
        Trickle {
            got: Vec::new(),
            chunk,
            limit: usize::MAX,
            writes: 0,
            flushes: 0,
            shutdowns: 0,
            at_limit: None,
        }
    }
}

impl ErrorType for Trickle {
    type Error = ErrorKind;
}

impl AsyncWrite for Trickle {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, ErrorKind>> {
        self.writes += 1;
        let room = self.limit - self.got.len();
        if room == 0 {
            return Poll::Ready(self.at_limit.map_or(Ok(0), Err));
        }
        let n = buf.len().min(self.chunk).min(room);
        self.got.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
        self.flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Result<(), ErrorKind>> {
        self.shutdowns += 1;
        Poll::Ready(Ok(()))
    }
}

/// A reader that yields `data` in chunks of `chunk` bytes, then `end`: EOF or an error.
struct Chunks {
    data: &'static [u8],
    chunk: usize,
    end: Option<ErrorKind>,
}

impl ErrorType for Chunks {
    type Error = ErrorKind;
}

impl AsyncRead for Chunks {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, ErrorKind>> {
        if self.data.is_empty() {
            return Poll::Ready(self.end.map_or(Ok(0), Err));
        }
        let n = buf.len().min(self.chunk).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

#[test]
fn read_exact_collects_across_reads() {
    let mut reader = Chunks {
        data: b"abcdefg",
        chunk: 2,
        end: None,
    };
    let mut buf = [0u8; 5];
    assert_eq!(block_on(reader.read_exact(&mut buf)), Ok(()));
    assert_eq!(&buf, b"abcde");
}

#[test]
fn read_exact_reports_early_eof() {
    let mut reader = Chunks {
        data: b"abc",
        chunk: 2,
        end: None,
    };
    let mut buf = [0u8; 5];
    assert_eq!(
        block_on(reader.read_exact(&mut buf)),
        Err(ReadExactError::UnexpectedEof)
    );
    assert_eq!(&buf[..3], b"abc");
}

#[test]
fn read_exact_passes_errors_on() {
    let mut reader = Chunks {
        data: b"a",
        chunk: 2,
        end: Some(ErrorKind::ConnectionReset),
    };
    let mut buf = [0u8; 3];
    assert_eq!(
        block_on(reader.read_exact(&mut buf)),
        Err(ReadExactError::Other(ErrorKind::ConnectionReset))
    );
}

#[test]
fn read_to_limit_stops_at_eof_or_full() {
    let mut reader = Chunks {
        data: b"0123456789",
        chunk: 3,
        end: None,
    };
    let mut small = [0u8; 4];
    assert_eq!(block_on(reader.read_to_limit(&mut small)), Ok(4));
    assert_eq!(&small, b"0123");
    let mut rest = [0u8; 16];
    assert_eq!(block_on(reader.read_to_limit(&mut rest)), Ok(6));
    assert_eq!(&rest[..6], b"456789");
}

#[test]
fn write_all_retries_partial_writes() {
    let mut writer = Trickle::new(3);
    assert_eq!(block_on(writer.write_all(b"0123456789")), Ok(()));
    assert_eq!(writer.got, b"0123456789");
    assert_eq!(writer.writes, 4); // 3 + 3 + 3 + 1
}

#[test]
fn write_all_reports_write_zero_and_errors() {
    let mut stuck = Trickle::new(3);
    stuck.limit = 4;
    assert_eq!(
        block_on(stuck.write_all(b"0123456789")),
        Err(WriteAllError::WriteZero)
    );
    assert_eq!(stuck.got, b"0123");

    let mut broken = Trickle::new(3);
    broken.limit = 3;
    broken.at_limit = Some(ErrorKind::BrokenPipe);
    assert_eq!(
        block_on(broken.write_all(b"0123")),
        Err(WriteAllError::Other(ErrorKind::BrokenPipe))
    );
}

#[test]
fn write_vectored_default_writes_first_non_empty_buffer() {
    let mut writer = Trickle::new(8);
    assert_eq!(block_on(writer.write_vectored(&[b"", b"ab", b"cd"])), Ok(2));
    assert_eq!(writer.got, b"ab");
    assert_eq!(block_on(writer.write_vectored(&[b"", b""])), Ok(0));
}

#[test]
fn flush_and_shutdown_reach_the_writer() {
    let mut writer = Trickle::new(8);
    block_on(writer.flush()).unwrap();
    block_on(writer.shutdown()).unwrap();
    assert_eq!((writer.flushes, writer.shutdowns), (1, 1));
}

#[test]
fn copy_counts_bytes_through_partial_writes() {
    let mut reader = Chunks {
        data: b"the quick brown fox",
        chunk: 5,
        end: None,
    };
    let mut writer = Trickle::new(3);
    let mut buf = [0u8; 4];
    assert_eq!(block_on(copy(&mut reader, &mut writer, &mut buf)), Ok(19));
    assert_eq!(writer.got, b"the quick brown fox");
    assert!(writer.flushes >= 1, "copy flushes at the end");
    assert_eq!(writer.shutdowns, 0, "copy does not shut the writer down");
}

#[test]
fn copy_says_which_side_failed() {
    let mut failing_reader = Chunks {
        data: b"abc",
        chunk: 8,
        end: Some(ErrorKind::ConnectionReset),
    };
    let mut writer = Trickle::new(8);
    let mut buf = [0u8; 8];
    assert_eq!(
        block_on(copy(&mut failing_reader, &mut writer, &mut buf)),
        Err(CopyError::Read(ErrorKind::ConnectionReset))
    );
    assert_eq!(writer.got, b"abc", "bytes before the error were copied");

    let mut reader = Chunks {
        data: b"abcdef",
        chunk: 8,
        end: None,
    };
    let mut failing_writer = Trickle::new(8);
    failing_writer.limit = 2;
    failing_writer.at_limit = Some(ErrorKind::BrokenPipe);
    assert_eq!(
        block_on(copy(&mut reader, &mut failing_writer, &mut buf)),
        Err(CopyError::Write(ErrorKind::BrokenPipe))
    );

    let mut reader = Chunks {
        data: b"abcdef",
        chunk: 8,
        end: None,
    };
    let mut full = Trickle::new(8);
    full.limit = 2;
    assert_eq!(
        block_on(copy(&mut reader, &mut full, &mut buf)),
        Err(CopyError::WriteZero)
    );
}

#[test]
#[should_panic(expected = "non-empty buffer")]
fn copy_rejects_an_empty_buffer() {
    let mut reader = Chunks {
        data: b"",
        chunk: 1,
        end: None,
    };
    let mut writer = Trickle::new(1);
    drop(copy(&mut reader, &mut writer, &mut []));
}

#[test]
fn copy_through_pipes_between_tasks() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2> = TaskPool::new();
    static INPUT: Pipe<4> = Pipe::new();
    static OUTPUT: Pipe<4> = Pipe::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let (mut from, mut feed) = INPUT.split();
    let (mut check, mut to) = OUTPUT.split();
    let producer = spawner
        .spawn(&POOL, async move {
            for _ in 0..5 {
                feed.write_all(b"0123456").await.unwrap();
            }
        })
        .unwrap();
    let copier = spawner
        .spawn(&POOL, async move {
            let mut buf = [0u8; 3];
            let copied = copy(&mut from, &mut to, &mut buf).await;
            drop(to); // end of stream for `check`
            copied
        })
        .unwrap();
    let mut all = [0u8; 40];
    let n = runner
        .run_until(check.read_to_limit(&mut all), || {})
        .unwrap();
    assert_eq!(n, 35);
    assert_eq!(&all[..7], b"0123456");
    assert_eq!(&all[28..35], b"0123456");
    runner.run_until(producer, || {}).unwrap();
    assert_eq!(runner.run_until(copier, || {}), Ok(Ok(35)));
}

/// A reader and writer that are always ready: a copy between them must still yield.
struct Endless;

impl ErrorType for Endless {
    type Error = ErrorKind;
}

impl AsyncRead for Endless {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, ErrorKind>> {
        buf.fill(b'x');
        Poll::Ready(Ok(buf.len()))
    }
}

impl AsyncWrite for Endless {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, ErrorKind>> {
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
        Poll::Ready(Ok(()))
    }
}

#[test]
#[cfg_attr(
    feature = "no-coop-budget",
    ignore = "without a budget an endless copy never yields (by design)"
)]
fn copy_between_always_ready_streams_lets_other_tasks_run() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    let runner = EXECUTOR.runner().unwrap();
    // Never finishes by itself; the budget makes it yield.
    let endless = runner
        .spawner()
        .spawn(&POOL, async {
            let mut buf = [0u8; 2];
            let _ = copy(&mut Endless, &mut Endless, &mut buf).await;
        })
        .unwrap();
    // `run_until` polls the copying task between polls of this future: it completes only if
    // the copy gives the executor back.
    let mut polls = 0;
    runner.run_until(
        core::future::poll_fn(|cx| {
            polls += 1;
            if polls < 3 {
                cx.waker().wake_by_ref();
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        }),
        || {},
    );
    endless.abort();
    runner.run_until(ebbtide_core::task::yield_now(), || {});
}

#[test]
fn copy_bidirectional_half_closes_each_direction() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<2> = TaskPool::new();
    static CLIENT_SIDE: Duplex<4> = Duplex::new();
    static SERVER_SIDE: Duplex<4> = Duplex::new();
    let runner = EXECUTOR.runner().unwrap();
    let spawner = runner.spawner();
    let (mut client, mut a) = CLIENT_SIDE.split();
    let (mut b, mut server) = SERVER_SIDE.split();
    let proxy = spawner
        .spawn(&POOL, async move {
            let (mut buf_a, mut buf_b) = ([0u8; 3], [0u8; 3]);
            copy_bidirectional(&mut a, &mut b, &mut buf_a, &mut buf_b).await
        })
        .unwrap();
    // The server reads the whole request (until the client's half-close comes through the
    // proxy), then answers, then closes.
    let server = spawner
        .spawn(&POOL, async move {
            let mut request = [0u8; 16];
            let n = server.read_to_limit(&mut request).await.unwrap();
            assert_eq!(&request[..n], b"request!");
            server.write_all(b"the response").await.unwrap();
            server.shutdown().await.unwrap();
        })
        .unwrap();
    let counts = runner.run_until(
        async {
            client.write_all(b"request!").await.unwrap();
            client.shutdown().await.unwrap();
            // Our direction is closed; the other still delivers.
            let mut response = [0u8; 16];
            let n = client.read_to_limit(&mut response).await.unwrap();
            assert_eq!(&response[..n], b"the response");
            proxy.await.unwrap()
        },
        || {},
    );
    assert_eq!(counts, Ok((8, 12)));
    runner.run_until(server, || {}).unwrap();
}

#[test]
fn copy_bidirectional_reports_direction_and_side() {
    static LINK: Duplex<4> = Duplex::new();
    let (a, mut peer) = LINK.split();
    let mut a = a;
    // `b` reads "hi", then its writes fail: a to b fails on writing b.
    struct FailingB(Chunks);
    impl ErrorType for FailingB {
        type Error = ErrorKind;
    }
    impl AsyncRead for FailingB {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<Result<usize, ErrorKind>> {
            Pin::new(&mut self.0).poll_read(cx, buf)
        }
    }
    impl AsyncWrite for FailingB {
        fn poll_write(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            _buf: &[u8],
        ) -> Poll<Result<usize, ErrorKind>> {
            Poll::Ready(Err(ErrorKind::ConnectionAborted))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), ErrorKind>> {
            Poll::Ready(Ok(()))
        }
    }
    let mut b = FailingB(Chunks {
        data: b"hi",
        chunk: 8,
        end: None,
    });
    block_on(peer.write_all(b"x")).unwrap();
    let (mut buf_a, mut buf_b) = ([0u8; 4], [0u8; 4]);
    let result = block_on(copy_bidirectional(&mut a, &mut b, &mut buf_a, &mut buf_b));
    assert_eq!(
        result,
        Err(CopyBidirectionalError::AToB(CopyError::Write(
            ErrorKind::ConnectionAborted
        )))
    );
}
