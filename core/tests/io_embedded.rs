//! Code written against embedded-io-async, running over ebbtide streams through `EmbeddedIo`.

use embedded_io_async::{BufRead, Read, Write};

use ebbtide_core::io::{AsyncWriteExt, BufReader, EmbeddedIo, ErrorKind, Pipe};
use ebbtide_core::{block_on, Executor, TaskPool};

/// A length-prefixed frame codec, generic over embedded-io-async.
async fn write_frame<W: Write>(writer: &mut W, payload: &[u8]) -> Result<(), W::Error> {
    writer.write_all(&[payload.len() as u8]).await?;
    writer.write_all(payload).await?;
    writer.flush().await
}

async fn read_frame<R: Read>(
    reader: &mut R,
    out: &mut [u8],
) -> Result<usize, embedded_io_async::ReadExactError<R::Error>> {
    let mut len = [0u8; 1];
    reader.read_exact(&mut len).await?;
    let len = usize::from(len[0]);
    reader.read_exact(&mut out[..len]).await?;
    Ok(len)
}

/// Counts the lines of a stream through `BufRead`.
async fn count_lines<R: BufRead>(reader: &mut R) -> Result<usize, R::Error> {
    let mut lines = 0;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(lines);
        }
        let n = buf.len();
        lines += buf.iter().filter(|&&b| b == b'\n').count();
        reader.consume(n);
    }
}

#[test]
fn frames_through_a_pipe_between_tasks() {
    static EXECUTOR: Executor = Executor::new();
    static POOL: TaskPool<1> = TaskPool::new();
    static PIPE: Pipe<4> = Pipe::new();
    let runner = EXECUTOR.runner().unwrap();
    let (rx, tx) = PIPE.split();
    let writer = runner
        .spawner()
        .spawn(&POOL, async move {
            let mut tx = EmbeddedIo::new(tx);
            write_frame(&mut tx, b"hello").await?;
            write_frame(&mut tx, b"embedded").await
        })
        .unwrap();
    let mut rx = EmbeddedIo::new(rx);
    let mut out = [0u8; 16];
    let n = runner
        .run_until(read_frame(&mut rx, &mut out), || {})
        .unwrap();
    assert_eq!(&out[..n], b"hello");
    let n = runner
        .run_until(read_frame(&mut rx, &mut out), || {})
        .unwrap();
    assert_eq!(&out[..n], b"embedded");
    assert_eq!(runner.run_until(writer, || {}), Ok(Ok(())));
    // The writer is gone: a new frame ends early.
    assert_eq!(
        block_on(read_frame(&mut rx, &mut out)),
        Err(embedded_io_async::ReadExactError::UnexpectedEof)
    );
}

#[test]
fn errors_keep_their_kind() {
    let pipe: Pipe<4> = Pipe::new();
    let (rx, tx) = pipe.split();
    drop(rx);
    let mut tx = EmbeddedIo::new(tx);
    assert_eq!(
        block_on(write_frame(&mut tx, b"x")),
        Err(ErrorKind::BrokenPipe)
    );
}

#[test]
fn buf_read_over_a_buf_reader() {
    let pipe: Pipe<16> = Pipe::new();
    let (rx, mut tx) = pipe.split();
    block_on(async {
        tx.write_all(b"a\nbb\nccc\n").await.unwrap();
    });
    drop(tx);
    let mut reader = EmbeddedIo::new(BufReader::<_, 4>::new(rx));
    assert_eq!(block_on(count_lines(&mut reader)), Ok(3));
}
