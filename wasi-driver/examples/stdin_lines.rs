//! Reads lines from stdin while a timer ticks in another task, and prints each processed line.
//!
//! ```text
//! cargo build -p ebbtide-wasi --example stdin_lines --target wasm32-wasip1
//! printf 'hello\nworld\n' | tools/wasi-runner target/wasm32-wasip1/debug/examples/stdin_lines.wasm
//! (sleep 1; echo slow) | .tools/wasmtime-46.0.3/bin/wasmtime run target/wasm32-wasip1/debug/examples/stdin_lines.wasm
//! ```
//!
//! It ticks while it waits on every host (wasmtime 46 with and without `-S preview2=n`, the
//! newest wasmtime, Node), with a pipe or a terminal; stdin from a file or `/dev/null` is read
//! at once (see `ebbtide_wasi::io::Stdin` for the one host that cannot take `/dev/null`).
//!
//! Output, one line per event: `tick N` from the ticker task every 20 ms (up to 50 ticks, or
//! until input ends), `line N: <TEXT IN CAPITALS>` per line read, and at the end of input
//! `eof: L lines, T ticks`. While it waits for input the runtime waits in one `poll_oneoff` call
//! for both stdin (`FD_READ`) and the ticker's next deadline: `fd_read` is only called once stdin
//! is readable, so the ticker keeps running while nothing is typed. Pass `--no-ticks` to print
//! only the lines (handy for a test that compares output).
//!
//! On other targets it prints that it needs WASI and exits with status 1.

#[cfg(target_os = "wasi")]
fn main() {
    use std::cell::Cell;
    use std::rc::Rc;

    use ebbtide_wasi::io::{stdin, stdout, AsyncBufReadExt, AsyncWriteExt, BufReader};
    use ebbtide_wasi::time::{interval, Duration};

    let quiet = std::env::args().any(|arg| arg == "--no-ticks");
    let runtime = ebbtide_wasi::Runtime::new().expect("a runtime");
    runtime.block_on(async move {
        let ticks = Rc::new(Cell::new(0u32));
        let ticker = {
            let ticks = ticks.clone();
            ebbtide_wasi::spawn_local(async move {
                let mut every = interval(Duration::from_millis(20));
                every.tick().await; // the first tick is immediate
                for n in 1..=50 {
                    every.tick().await;
                    ticks.set(n);
                    if !quiet {
                        let line = format!("tick {n}\n");
                        stdout().write_all(line.as_bytes()).await.unwrap();
                    }
                }
            })
            .expect("room for the ticker")
        };

        let mut input = BufReader::<_, 256>::new(stdin());
        let mut line = heapless::Vec::<u8, 1024>::new();
        let mut out = stdout();
        let mut count = 0;
        loop {
            line.clear();
            let n = input.read_line(&mut line).await.expect("read a line");
            if n == 0 {
                break;
            }
            count += 1;
            let text = String::from_utf8_lossy(line.trim_ascii_end()).to_uppercase();
            let processed = format!("line {count}: {text}\n");
            out.write_all(processed.as_bytes()).await.unwrap();
        }
        ticker.abort();
        let summary = if quiet {
            format!("eof: {count} lines\n")
        } else {
            format!("eof: {count} lines, {} ticks\n", ticks.get())
        };
        out.write_all(summary.as_bytes()).await.unwrap();
    });
}

#[cfg(not(target_os = "wasi"))]
fn main() {
    eprintln!("stdin_lines runs on wasm32-wasip1: see its doc comment for the commands");
    std::process::exit(1);
}
