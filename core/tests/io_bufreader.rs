//! `BufReader` and the line helpers: lines split across reads, over-long lines, CRLF.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use ebbtide_core::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, ErrorKind, ErrorType, Pipe,
    ReadUntilError,
};
use ebbtide_core::{block_on, Executor, TaskPool};

/// Yields `data` a few bytes per read, and counts the reads.
struct Chunks {
    data: &'static [u8],
    chunk: usize,
    reads: usize,
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
        self.reads += 1;
        let n = buf.len().min(self.chunk).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(n))
    }
}

fn chunks(data: &'static [u8], chunk: usize) -> Chunks {
    Chunks {
        data,
        chunk,
        reads: 0,
    }
}

#[test]
fn lines_split_across_reads() {
    let mut reader = BufReader::<_, 4>::new(chunks(b"first line\nsecond\nlast", 3));
    let mut line = heapless::Vec::<u8, 16>::new();
    assert_eq!(block_on(reader.read_line(&mut line)), Ok(11));
    assert_eq!(&line[..], b"first line\n");
    line.clear();
    assert_eq!(block_on(reader.read_line(&mut line)), Ok(7));
    assert_eq!(&line[..], b"second\n");
    line.clear();
    assert_eq!(block_on(reader.read_line(&mut line)), Ok(4));
    assert_eq!(&line[..], b"last", "the last line may lack its newline");
    line.clear();
    assert_eq!(block_on(reader.read_line(&mut line)), Ok(0));
    assert!(line.is_empty());
}

#[test]
fn crlf_lines_keep_their_ending_and_trim_cleanly() {
    // "\r" and "\n" land in different reads.
    let mut reader = BufReader::<_, 8>::new(chunks(b"HELO x\r\nQUIT\r\n", 7));
    let mut line = heapless::Vec::<u8, 16>::new();
    block_on(reader.read_line(&mut line)).unwrap();
    assert_eq!(&line[..], b"HELO x\r\n");
    assert_eq!(line.trim_ascii_end(), b"HELO x");
    line.clear();
    block_on(reader.read_line(&mut line)).unwrap();
    assert_eq!(line.trim_ascii_end(), b"QUIT");
}

#[test]
fn over_long_line_is_an_error_that_loses_nothing() {
    let mut reader = BufReader::<_, 4>::new(chunks(b"0123456789\nok\n", 5));
    let mut line = heapless::Vec::<u8, 4>::new();
    assert_eq!(
        block_on(reader.read_line(&mut line)),
        Err(ReadUntilError::TooLong)
    );
    assert_eq!(&line[..], b"0123");
    line.clear();
    assert_eq!(
        block_on(reader.read_line(&mut line)),
        Err(ReadUntilError::TooLong)
    );
    assert_eq!(&line[..], b"4567");
    line.clear();
    assert_eq!(block_on(reader.read_line(&mut line)), Ok(3));
    assert_eq!(&line[..], b"89\n");
    line.clear();
    assert_eq!(block_on(reader.read_line(&mut line)), Ok(3));
    assert_eq!(&line[..], b"ok\n");
}

#[test]
fn a_line_that_exactly_fills_the_vec_fits() {
    let mut reader = BufReader::<_, 8>::new(chunks(b"abc\n", 8));
    let mut line = heapless::Vec::<u8, 4>::new();
    assert_eq!(block_on(reader.read_line(&mut line)), Ok(4));
    assert_eq!(&line[..], b"abc\n");
    // A full vec with no room left is `TooLong` at once, and takes nothing.
    let mut reader = BufReader::<_, 8>::new(chunks(b"x\n", 8));
    assert_eq!(
        block_on(reader.read_line(&mut line)),
        Err(ReadUntilError::TooLong)
    );
    line.clear();
    assert_eq!(block_on(reader.read_line(&mut line)), Ok(2));
}

#[test]
fn read_until_other_delimiters() {
    let mut reader = BufReader::<_, 4>::new(chunks(b"a=1;b=22;", 2));
    let mut field = heapless::Vec::<u8, 8>::new();
    block_on(reader.read_until(b';', &mut field)).unwrap();
    assert_eq!(&field[..], b"a=1;");
    field.clear();
    block_on(reader.read_until(b';', &mut field)).unwrap();
    assert_eq!(&field[..], b"b=22;");
}

#[test]
fn small_reads_come_from_the_buffer_and_large_reads_bypass_it() {
    let mut reader = BufReader::<_, 8>::new(chunks(b"0123456789abcdefghij", 100));
    let mut one = [0u8; 1];
    block_on(reader.read_exact(&mut one)).unwrap();
    assert_eq!(reader.get_ref().reads, 1);
    assert_eq!(reader.buffer(), b"1234567");
    let mut seven = [0u8; 7];
    block_on(reader.read_exact(&mut seven)).unwrap();
    assert_eq!(&seven, b"1234567");
    assert_eq!(reader.get_ref().reads, 1, "served from the buffer");
    let mut big = [0u8; 12];
    block_on(reader.read_exact(&mut big)).unwrap();
    assert_eq!(&big, b"89abcdefghij");
    assert!(reader.buffer().is_empty(), "a large read skips the buffer");
}

#[test]
fn cancelled_read_line_keeps_its_bytes() {
    static PIPE: Pipe<16> = Pipe::new();
    let (rx, mut tx) = PIPE.split();
    let mut reader = BufReader::<_, 8>::new(rx);
    let mut line = heapless::Vec::<u8, 16>::new();
    block_on(tx.write_all(b"hal")).unwrap();
    {
        // Poll once: it takes "hal" and waits for more; then drop it (as `select!` would).
        let mut pending = core::pin::pin!(reader.read_line(&mut line));
        let mut cx = Context::from_waker(core::task::Waker::noop());
        assert!(pending.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(&line[..], b"hal");
    block_on(tx.write_all(b"f\n")).unwrap();
    block_on(reader.read_line(&mut line)).unwrap();
    assert_eq!(&line[..], b"half\n");
}

#[test]
fn stdin_style_line_reader_between_tasks() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static PIPE: Pipe<4> = Pipe::new();
    let runner = EXECUTOR.runner().unwrap();
    let (rx, mut tx) = PIPE.split();
    runner
        .spawner()
        .spawn(&POOL, async move {
            tx.write_all(b"one\r\ntwo\nthree\n").await.unwrap();
        })
        .unwrap(); // dropping the handle detaches the task
    let count = runner.run_until(
        async move {
            let mut lines = BufReader::<_, 4>::new(rx);
            let mut line = heapless::Vec::<u8, 8>::new();
            let mut count = 0;
            while lines.read_line(&mut line).await.unwrap() > 0 {
                let text = line.trim_ascii_end();
                assert_eq!(text, [&b"one"[..], b"two", b"three"][count]);
                count += 1;
                line.clear();
            }
            count
        },
        || {},
    );
    assert_eq!(count, 3);
}
