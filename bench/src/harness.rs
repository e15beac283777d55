//! The benchmark binaries' command line, timing and output, and the sizes of the workloads: the
//! part of this crate that needs nothing but `std`, so that a binary built outside the workspace
//! with another feature set of ebbtide-core (`bench/bare`) includes this file (`#[path]`)
//! instead of linking the crate, which links ebbtide-std.

use std::time::Instant;

/// The executor and channel workloads every `exec_*` binary runs, in report order.
pub const EXECUTOR_WORKLOADS: &[&str] = &[
    "spawn_many_1000",
    "spawn_many_10000",
    "yield_many",
    "ping_pong",
    "chained_spawn",
    "mpsc_uncontended",
    "spsc_uncontended",
    "mpsc_contended",
    "request_reply",
];

/// The workloads of [`EXECUTOR_WORKLOADS`] that use channels: the ones a runtime's second flavour
/// of channel lock (`ebbtide-local`, `embassy-cs`) runs.
pub const CHANNEL_WORKLOADS: &[&str] = &[
    "ping_pong",
    "mpsc_uncontended",
    "spsc_uncontended",
    "mpsc_contended",
    "request_reply",
];

/// Sizes of the workloads (the same on every runtime).
pub mod sizes {
    /// Tasks spawned by `spawn_many_1000`.
    pub const SPAWN_SMALL: usize = 1_000;
    /// Tasks spawned by `spawn_many_10000`.
    pub const SPAWN_LARGE: usize = 10_000;
    /// Tasks of `yield_many`.
    pub const YIELD_TASKS: usize = 200;
    /// Yields per task of `yield_many`.
    pub const YIELDS: usize = 1_000;
    /// Parent tasks of `ping_pong`.
    pub const PING_PONG: usize = 1_000;
    /// Length of the chain of `chained_spawn`.
    pub const CHAIN: usize = 1_000;
    /// Messages of `mpsc_uncontended` (and its channel's capacity).
    pub const UNCONTENDED: usize = 5_000;
    /// Producers of `mpsc_contended`.
    pub const PRODUCERS: usize = 5;
    /// Messages per producer of `mpsc_contended`.
    pub const PER_PRODUCER: usize = 1_000;
    /// Capacity of the channel of `mpsc_contended`.
    pub const CONTENDED_CAPACITY: usize = 100;
    /// Round trips of `request_reply`.
    pub const ROUND_TRIPS: usize = 1_000;
    /// Capacity of the request channel of `request_reply`.
    pub const REQUEST_CAPACITY: usize = 10;
    /// Receiver tasks of `owned_broadcast`.
    pub const BROADCAST_RECEIVERS: usize = 10;
    /// Messages of `owned_broadcast` (each received by every receiver).
    pub const BROADCAST_MESSAGES: usize = 1_000;
    /// Capacity of the channel of `owned_broadcast` (no receiver lags).
    pub const BROADCAST_CAPACITY: usize = 1_024;
    /// Sleeping tasks of `timers`.
    pub const TIMERS: usize = 10_000;
    /// Tasks of `timers_fire_100k`.
    pub const FIRE_TASKS: usize = 100;
    /// Timers each task of `timers_fire_100k` awaits together (see [`join_timers`](crate::join_timers)).
    pub const FIRE_PER_TASK: usize = 1_000;
    /// Timers registered and cancelled by `timers_cancel_100k`.
    pub const CANCELS: usize = 100_000;
    /// Tasks spawned by `mt_spawn_many_local` (from one task) and `mt_spawn_many_remote_idle`
    /// (from outside the runtime).
    pub const MT_SPAWN: usize = 10_000;
    /// Tasks of `mt_yield_many`.
    pub const MT_YIELD_TASKS: usize = 200;
    /// Yields per task of `mt_yield_many`.
    pub const MT_YIELDS: usize = 1_000;
    /// Parent tasks of `mt_ping_pong`.
    pub const MT_PING_PONG: usize = 1_000;
    /// Length of the chain of `mt_chained_spawn`.
    pub const MT_CHAIN: usize = 1_000;
    /// Tasks of `mt_imbalanced`, all spawned from one task.
    pub const IMBALANCED_TASKS: usize = 200;
    /// Rounds of busy work then `yield_now` per task of `mt_imbalanced`.
    pub const IMBALANCED_ROUNDS: usize = 20;
    /// Steps of [`busy_work`](crate::mt::busy_work) per round of `mt_imbalanced`: about 50 µs
    /// on the benchmark machine (a 2-core VM). The same fixed computation on every runtime, so
    /// that a worker preempted mid-round does not shorten it (a spin on the clock would).
    pub const BUSY_STEPS: u64 = 24_000;
}

/// What one run of a workload measured.
///
/// `ns` is the workload's primary figure, lower is better: the wall time of the whole workload
/// for executor workloads, the mean time per request for network workloads. Memory and idle
/// workloads report their figure in `extra` (`bytes`, `per_sec`) and leave `ns` at 0.
pub struct Sample {
    /// Wall time of the whole workload (or per request, see above).
    pub ns: u128,
    /// Mean wake lateness (timer workloads only).
    pub late_ns: Option<u128>,
    /// Further named figures printed as extra JSON keys, e.g. `("p99_ns", 41_000.0)`,
    /// `("rps", 98_000.0)`, `("cpu_ns", 3_100.0)` (server CPU per request), `("bytes", 64.0)`,
    /// `("per_sec", 0.0)`. Keys are plain identifiers; values are finite numbers.
    pub extra: Vec<(&'static str, f64)>,
}

impl Sample {
    /// A sample with only the primary figure.
    pub fn ns(ns: u128) -> Sample {
        Sample {
            ns,
            late_ns: None,
            extra: Vec::new(),
        }
    }

    /// Adds a named figure (builder style).
    pub fn with(mut self, key: &'static str, value: f64) -> Sample {
        self.extra.push((key, value));
        self
    }
}

impl From<std::time::Duration> for Sample {
    fn from(d: std::time::Duration) -> Sample {
        Sample::ns(d.as_nanos())
    }
}

/// Times `f` (which runs the whole workload once).
pub fn time(f: impl FnOnce()) -> Sample {
    let start = Instant::now();
    f();
    start.elapsed().into()
}

/// The entry point of a benchmark binary. `matrix` lists, per runtime variant the binary runs,
/// the workloads it runs. Arguments: `list` prints `runtime workload` lines; `<runtime>
/// <workload> <samples>` calls `run(runtime, workload)` once to warm up, then `samples` times,
/// printing each sample as a JSON line.
pub fn main(matrix: &[(&str, &[&str])], mut run: impl FnMut(&str, &str) -> Sample) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => list(matrix),
        [list_cmd] if list_cmd == "list" => list(matrix),
        [runtime, workload, rest @ ..] => {
            let known = matrix
                .iter()
                .any(|(r, ws)| r == runtime && ws.contains(&workload.as_str()));
            if !known {
                eprintln!("unknown runtime/workload `{runtime} {workload}`");
                std::process::exit(3);
            }
            let samples: usize = rest.first().and_then(|s| s.parse().ok()).unwrap_or(1);
            run(runtime, workload);
            for _ in 0..samples {
                let sample = run(runtime, workload);
                let mut late = match sample.late_ns {
                    Some(late) => format!(",\"late_ns\":{late}"),
                    None => String::new(),
                };
                for (key, value) in &sample.extra {
                    late.push_str(&format!(",\"{key}\":{value}"));
                }
                println!(
                    "{{\"workload\":\"{workload}\",\"runtime\":\"{runtime}\",\"ns\":{}{late}}}",
                    sample.ns
                );
            }
        }
        _ => {
            eprintln!("usage: <binary> list | <binary> <runtime> <workload> [samples]");
            std::process::exit(2);
        }
    }
}

fn list(matrix: &[(&str, &[&str])]) {
    for (runtime, workloads) in matrix {
        for w in *workloads {
            println!("{runtime} {w}");
        }
    }
}
