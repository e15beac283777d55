//! Shared by the benchmark binaries: command-line parsing, timing and the JSON lines they print.
//!
//! Each binary runs one runtime. Invoked as `<binary> <workload> <samples>`, it runs the workload
//! once to warm up, then `samples` times, printing one line per sample:
//! `{"workload":"spawn_many_1000","runtime":"tokio-ct","ns":123456}` (plus `"late_ns"`, the mean
//! wake lateness, for timer workloads). `<binary> list` prints the workloads it knows.
//! `cargo xtask bench` runs every binary, alternating runtimes sample by sample, and writes the
//! report. Nothing here depends on a runtime, so that each binary links only its own.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

pub mod harness;
pub mod mem;

pub use harness::{main, sizes, time, Sample, CHANNEL_WORKLOADS, EXECUTOR_WORKLOADS};

pub mod fs;
pub mod http;
pub mod https;
pub mod hyper_service;
pub mod net;

/// The owned-channel workloads (Tokio-style `channel()` constructors whose ends are `'static`
/// values): ebbtide's `ebbtide_std::sync` channels against Tokio's, on the same executors as
/// [`EXECUTOR_WORKLOADS`]. Each channel is made inside the timed run, as a Tokio program does.
pub const OWNED_CHANNEL_WORKLOADS: &[&str] = &[
    "owned_mpsc_uncontended",
    "owned_mpsc_contended",
    "owned_unbounded",
    "owned_oneshot_ping_pong",
    "owned_request_reply",
    "owned_broadcast",
];

/// The multi-thread scheduler workloads (Tokio's `rt_multi_threaded` shapes, and an imbalanced
/// one), run by the `mt_*` binaries, in report order. See [`mt`].
pub const MT_WORKLOADS: &[&str] = &[
    "mt_spawn_many_local",
    "mt_spawn_many_remote_idle",
    "mt_yield_many",
    "mt_ping_pong",
    "mt_chained_spawn",
    "mt_imbalanced",
];

/// Worker threads of the peers' multi-thread runtimes on the `mt_*` workloads: `tokio-mt2`
/// (`new_multi_thread().worker_threads(2)`) and `smol-mt2` (one `async-executor` run on 2
/// threads). Their runtime names say 2: change them with this. ebbtide's worker counts are listed
/// in `bench/src/bin/mt_ebbtide.rs` (`VARIANTS`).
pub const PEER_WORKERS: usize = 2;

/// Helpers of the multi-thread workloads (`mt_*`), the same for every runtime.
///
/// Every `mt_*` workload runs on a runtime whose workers are threads of their own; the
/// benchmark's main thread only spawns (the root task, or every task for the `remote` shapes) and
/// then blocks until the tasks are done, as Tokio's `rt_multi_threaded` benchmark does: the last
/// task to finish counts a [`Countdown`](mt::Countdown) to zero, which sends on a `std::sync::mpsc` channel the
/// main thread waits on (`mt_spawn_many_remote_idle` awaits its join handles instead).
pub mod mt {
    use std::hint::black_box;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
    use std::sync::Arc;

    /// Counts tasks down to zero; the task that reaches zero tells the waiting thread.
    pub struct Countdown {
        left: AtomicUsize,
        done: SyncSender<()>,
    }

    impl Countdown {
        /// A countdown from `n` (at least 1), and the receiving end [`wait`](Countdown::wait)
        /// blocks on.
        pub fn new(n: usize) -> (Arc<Countdown>, Receiver<()>) {
            assert!(n > 0, "a countdown from 0 would never fire");
            let (done, rx) = sync_channel(1);
            let countdown = Countdown {
                left: AtomicUsize::new(n),
                done,
            };
            (Arc::new(countdown), rx)
        }

        /// Counts one down: the last one wakes the waiting thread.
        pub fn count_down(&self) {
            if self.left.fetch_sub(1, Ordering::AcqRel) == 1 {
                self.done.send(()).expect("the waiting thread is gone");
            }
        }

        /// Blocks the calling thread (not a runtime worker) until the countdown reaches zero.
        pub fn wait(rx: Receiver<()>) {
            rx.recv()
                .expect("every task dropped its countdown before the end");
        }
    }

    /// Times `f` (which runs the whole workload once), with the CPU time every thread of the
    /// process used meanwhile as `cpu_ns` (`getrusage(RUSAGE_SELF)`, microsecond resolution):
    /// the workers, spinning or not, and the main thread. On a machine shared with other work,
    /// CPU time says what a runtime costs where wall time also says how much of the cores it got.
    pub fn time_cpu(f: impl FnOnce()) -> crate::Sample {
        let cpu = crate::net::process_cpu_ns();
        let sample = crate::time(f);
        let cpu = crate::net::process_cpu_ns().saturating_sub(cpu);
        sample.with("cpu_ns", cpu as f64)
    }

    /// A fixed computation of `steps` dependent multiply-xorshift steps (`mt_imbalanced`'s busy
    /// work, see [`BUSY_STEPS`](crate::sizes::BUSY_STEPS)); returns the result so that it is not
    /// optimised away.
    pub fn busy_work(steps: u64) -> u64 {
        let mut x = black_box(0x9E37_79B9_7F4A_7C15_u64);
        for i in 0..steps {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x = x.wrapping_add(i);
        }
        black_box(x)
    }
}

/// The sleep of timer `k` of task `task` in `timers_fire_100k`: [`timer_micros`] of its index
/// among all 100,000, so 1 to 10 ms, each task's spread over the whole range.
pub fn fire_micros(task: usize, k: usize) -> u64 {
    timer_micros(task * sizes::FIRE_PER_TASK + k)
}

/// The sleep of timer `i` of `timers_cancel_100k`: 1 s and [`timer_micros`], so it never fires
/// before it is dropped.
pub fn cancel_micros(i: usize) -> u64 {
    1_000_000 + timer_micros(i)
}

/// Awaits every timer of `timers` together in the current task (the shape of
/// `timers_fire_100k`, the same on every runtime): each poll polls every timer still pending, in
/// turn, so each one registers with the runtime's timer queue through the task's own waker. A
/// timer is `(future, micros)`, `micros` its sleep counted from `begin`. Returns the sum of the
/// timers' lateness in ns (when this join saw each one complete, past `begin + micros`).
///
/// Hand-written rather than a `FuturesUnordered`-like join that polls only the woken timers:
/// Embassy's and ebbtide's timer queues keep one entry per task, found from the task's waker, so
/// the timers must see the task's own waker.
pub fn join_timers<F: Future + Unpin>(
    begin: Instant,
    timers: Vec<(F, u64)>,
) -> impl Future<Output = u64> {
    JoinTimers {
        begin,
        timers,
        late_ns: 0,
    }
}

struct JoinTimers<F> {
    begin: Instant,
    timers: Vec<(F, u64)>,
    late_ns: u64,
}

impl<F: Future + Unpin> Future for JoinTimers<F> {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let this = self.get_mut();
        let mut i = 0;
        while i < this.timers.len() {
            let (timer, micros) = &mut this.timers[i];
            if Pin::new(timer).poll(cx).is_ready() {
                let late = (this.begin.elapsed().as_nanos() as u64).saturating_sub(*micros * 1_000);
                this.late_ns += late;
                this.timers.swap_remove(i);
            } else {
                i += 1;
            }
        }
        if this.timers.is_empty() {
            Poll::Ready(this.late_ns)
        } else {
            Poll::Pending
        }
    }
}

/// Polls `future` once with the current task's context, then drops it (the shape of
/// `timers_cancel_100k`: a timer polled once is registered with the runtime's queue, and
/// dropping it cancels it). Returns whether it was ready.
pub async fn poll_once_and_drop<F: Future>(future: F) -> bool {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx).is_ready())).await
}

/// The sleep of timer task `i`: 1 to 10 ms, spread deterministically (distinct deadlines).
pub fn timer_micros(i: usize) -> u64 {
    1_000 + (i as u64 * 7_919) % 9_000
}

/// One sample of a timer workload (`timers`, `timers_fire_100k`, `timers_cancel_100k`), the same
/// on every runtime: empties `late_ns` (where the workload sums each timer's lateness), runs
/// `run`, which returns how many timers fired, and reports its wall time, the mean lateness, and
/// as `cpu_ns` the CPU of every thread of the process ([`mt::time_cpu`]): a runtime with a timer
/// thread of its own (Embassy's std driver) spends part of its work there, in parallel with the
/// wall time.
pub fn timer_sample(late_ns: &std::sync::atomic::AtomicU64, run: impl FnOnce() -> usize) -> Sample {
    use std::sync::atomic::Ordering;
    late_ns.store(0, Ordering::Relaxed);
    let mut timers = 0;
    let sample = mt::time_cpu(|| timers = run());
    Sample {
        late_ns: (timers > 0).then(|| u128::from(late_ns.load(Ordering::Relaxed)) / timers as u128),
        ..sample
    }
}
