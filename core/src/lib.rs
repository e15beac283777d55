//! The allocation-free, `no_std` core of the ebbtide async runtime.
//!
//! `ebbtide-core` holds everything of an async runtime that needs no operating system: an
//! executor that runs tasks from static pools, wakers, time through the `embassy-time-driver`
//! contract, channels and locks, and `join!`/`select!`. It never allocates and never blocks. A
//! *driver* (`ebbtide-std` on Linux and macOS, `ebbtide-wasi` on WASI, a few lines of your own on a
//! microcontroller) polls the executor and waits for the OS in between.
//!
//! # A tour
//!
//! Tasks live in a [`TaskPool`], run on an [`Executor`], and hand their output back through a
//! [`JoinHandle`]:
//!
//! ```
//! use ebbtide_core::{Executor, TaskPool};
//! use ebbtide_core::sync::mpsc;
//!
//! static EXECUTOR: Executor = Executor::new();
//! static WORKERS: TaskPool<4> = TaskPool::named("workers");
//! static JOBS: mpsc::Channel<u32, 8> = mpsc::Channel::new();
//!
//! let runner = EXECUTOR.runner().unwrap();
//! let spawner = runner.spawner();
//! // A channel hands out its ends once: clone the `Sender` for more producers.
//! let (jobs, mut inbox) = JOBS.split();
//! let sum = spawner
//!     .spawn(&WORKERS, async move {
//!         let mut sum = 0;
//!         while let Some(job) = inbox.recv().await {
//!             sum += job;
//!         }
//!         sum
//!     })
//!     .unwrap();
//! spawner
//!     .spawn(&WORKERS, async move {
//!         for job in 1..=4 {
//!             jobs.send(job).await.unwrap();
//!         }
//!         // Dropping the last `Sender` closes the channel: `recv` drains it, then gives `None`.
//!     })
//!     .unwrap();
//! // A driver's loop; here, a busy loop that also awaits `sum`.
//! assert_eq!(runner.run_until(sum, || {}), Ok(10));
//! ```
//!
//! Time comes from whichever `embassy-time-driver` the program links (ebbtide's drivers provide
//! one); [`time::sleep`], [`time::timeout`] and [`time::interval`] build on it, and so does
//! embassy-time's own `Timer`.
//!
//! # Several cores
//!
//! On a multi-core microcontroller (an RP2040, a dual-core STM32H7), run one [`Executor`] per
//! core, each in its core's main loop, and hand each core the other's [`SendSpawner`]: a task on
//! one core spawns `Send` tasks onto the other, and [`JoinHandle`]s, channels and wakers cross
//! between the cores. A task runs on the executor it was spawned on, for its whole life (no
//! stealing: each core's pools and queue are its own). Two things come from the board:
//!
//! - a `critical-section` implementation that is safe *across* cores (a hardware spinlock, as
//!   `rp2040-hal` and `embassy-rp` provide). The single-core one of `cortex-m` is not: it only
//!   masks interrupts on the core that takes it;
//! - a wake hook ([`Executor::with_wake_hook`](Executor#method.with_wake_hook), the `wake-hook` feature) that rouses the other
//!   core from `wfe` when one of its tasks is woken from here (`sev`, or a message through the
//!   inter-core FIFO).
//!
//! The same code builds for every target ebbtide-core supports, `thumbv6m-none-eabi`
//! (Cortex-M0+, as the RP2040's cores) included. Here two threads stand in for the two cores:
//!
//! ```
//! use ebbtide_core::sync::mpsc::Channel;
//! use ebbtide_core::sync::Notify;
//! use ebbtide_core::{Executor, SendSpawner, TaskPool};
//!
//! static CORE0: Executor = Executor::new();
//! static CORE1: Executor = Executor::new();
//! static TASKS0: TaskPool<4> = TaskPool::new();
//! static TASKS1: TaskPool<4> = TaskPool::new();
//! /// Readings from the sensor task on core 1 to the task on core 0.
//! static READINGS: Channel<u32, 4> = Channel::new();
//! /// Tells core 1's main loop to return (a real core's loop runs forever).
//! static STOP: Notify = Notify::new();
//!
//! // Core 1: hands its spawner to core 0, then runs its executor.
//! let (give, take) = std::sync::mpsc::channel::<SendSpawner>();
//! let core1 = std::thread::spawn(move || {
//!     let runner = CORE1.runner().unwrap();
//!     give.send(runner.spawner().make_send()).unwrap();
//!     // A busy loop here; on a board, `wfe` until the wake hook's `sev`.
//!     runner.run_until(STOP.notified(), || std::hint::spin_loop());
//! });
//!
//! // Core 0: spawns the sensor task onto core 1, sums its readings, joins it.
//! let core1_spawner = take.recv().unwrap();
//! let runner = CORE0.runner().unwrap();
//! let main = runner
//!     .spawner()
//!     .spawn(&TASKS0, async move {
//!         let (tx, mut rx) = READINGS.split();
//!         let sensor = core1_spawner
//!             .spawn(&TASKS1, async move {
//!                 for reading in [20, 21, 22, 23] {
//!                     tx.send(reading).await.unwrap();
//!                 }
//!                 "sensor done"
//!             })
//!             .unwrap();
//!         let mut sum = 0;
//!         while let Some(reading) = rx.recv().await {
//!             sum += reading; // `None` once the sensor task dropped its sender
//!         }
//!         (sum, sensor.await.unwrap())
//!     })
//!     .unwrap();
//! assert_eq!(runner.run_until(main, || std::hint::spin_loop()), Ok((86, "sensor done")));
//! STOP.notify_one();
//! core1.join().unwrap();
//! ```
//!
//! # Crate layout
//!
//! - [`Executor`], [`Runner`], [`Spawner`], [`SendSpawner`], [`TaskPool`], [`TaskCell`],
//!   [`JoinHandle`]: tasks.
//! - [`driver`]: how to write a driver: the [`Park`](driver::Park) contract and the one run loop
//!   every driver uses.
//! - [`task`]: `yield_now` and the cooperative budget.
//! - [`time`]: `Instant`, `Duration`, `sleep`, `timeout`, `interval`, and the timer queue drivers use.
//! - [`sync`]: `mpsc`, `spsc`, `oneshot`, `watch`, `broadcast`, `Notify`, `Mutex`, `Semaphore`.
//! - [`blocking_mutex`]: the locks those primitives are generic over.
//! - [`io`]: the async read/write traits drivers implement, helpers (`copy`, `BufReader`), `Pipe`.
//! - [`join!`], [`try_join!`], [`select!`]: waiting for several futures at once.
//! - `raw` (private): the unsafe engine (task slots, the state word, wakers, the run queue, the
//!   scheduler an executor wraps, the budget counter), fenced in one module that imports nothing
//!   from the rest of the crate.
//!
//! # Cargo features
//!
//! None is on by default. Drivers turn on what they need; a bare-metal app picks from the last
//! seven to trade generality for flash and RAM.
//!
//! | feature | what it does |
//! |---|---|
//! | `std` | `std::io::Error` as an IO error type, and the IO helpers that collect into `Vec`/`String` (drivers on an OS) |
//! | `futures-io` | `io::Compat` between ebbtide's IO traits and `futures-io`'s (implies `std`) |
//! | `steal` | work stealing between executors (`Executor::steal_from` and its kin); each executor marks the task it runs (one word, one store per task). Without it a task stays on the executor it was spawned on (ebbtide-std's workers turn it on) |
//! | `steal-batch` | `steal`, and a thief may take what is left of a running batch (ebbtide-std's workers) |
//! | `wake-hook` | [`Executor::with_wake_hook`](Executor#method.with_wake_hook): a function called when a task becomes ready while its executor sleeps, from whichever thread, core or interrupt woke it (drivers that park a thread or wait in the OS, a second core's `sev`). Without it an executor has no hook (8 B less RAM per executor on 32-bit targets, 12 B less flash): a bare-metal loop that sleeps in `wfi` with interrupts masked needs none (ebbtide-std's runtimes turn it on) |
//! | `dropped-timer-count` | `time::queue::dropped_timers`, for drivers that report deadlocks (ebbtide-wasi) |
//! | `small-timer-queue` | the timer queue as one sorted list through the task headers: 12 B of RAM (32-bit) instead of about 1.6 KB, O(n) insertion |
//! | `one-timer-queue` | only the global timer queue keeps task timers (another queue takes a task's waker as a foreign one), so a timer entry needs no owner and never moves between queues; about 260 B less flash (340 B with `task-timers-only`, which then builds no spin lock: no other queue ever holds a timer); with `task-wakers-only` too, a task's join waker is one word in its header (8 B less RAM per task: 32 B of slot overhead with `small-timer-queue`); under ebbtide-std every runtime then uses the global queue (a runtime's wait also ends for other runtimes' timers; with `task-timers-only` too, a `block_on` future's sleep is woken over and over until it is due) |
//! | `task-timers-only` | the timer queue keeps no foreign waker: a timer awaited under another executor's waker (or a foreign `block_on`) wakes it at once, a busy wait |
//! | `task-wakers-only` | `task-timers-only`, and no sync primitive keeps a foreign waker either: it waits with a no-op waker in its place and wakes the foreign waker at once; about 1 KB (small app) to 2.8 KB (sensor app) less flash in `bench/size`, and every kept waker is one word instead of two (4 B less per waiting future and waker slot on 32-bit targets) |
//! | `no-coop-budget` | no cooperative budget: [`task::poll_budget`] is always `Ready`, so a task whose resources are always ready is not made to yield (as on Embassy); about 150 B (small app) to 260 B (sensor app) less flash |
//! | `lifo-batches` | each round runs its tasks newest first, as Embassy does, instead of in the order they were woken ([`Runner::poll`]): every ready task still runs once per round; saves the walk that reverses a round's tasks (a pointer chase before the first poll, about 6% of `yield_many`'s time on x86); not smaller (24 B more flash on `bench/size`'s apps). For applications, never libraries |
//!
//! `task-timers-only` and `task-wakers-only` never lose a wake-up; they only make a foreign
//! waker's task poll in a loop. `no-coop-budget` never loses one either; it only lets a task that
//! never waits keep its executor to itself. `lifo-batches` changes no guarantee but the order
//! within a round.
//! Wakers of ebbtide tasks and of a runner's own future ([`Runner::run_until`], a driver's
//! `block_on`) are kept as usual, so a single-executor program loses nothing.
//!
//! # Panics
//!
//! `ebbtide-core` cannot catch a panic (`no_std` has no `catch_unwind`). On bare metal a panic
//! goes to the program's panic handler, which usually halts or resets. Where panics unwind (tests,
//! std), a task whose poll panics is marked as panicked, the panic propagates out of
//! [`Runner::poll`] with the rest of the batch re-queued (ebbtide-std catches it there and keeps
//! running), and the executor's next poll drops the panicked future, outside the unwinding;
//! then its [`JoinHandle`] yields [`JoinError::Panicked`]. A destructor that panics (while a task
//! is aborted, cancelled, or finishing) runs once: the task completes all the same.
//!
//! # Soundness
//!
//! Safe code can never cause undefined behaviour through this crate. The invariants that promise
//! rests on, which every new primitive and driver must keep:
//!
//! - **No user code under a lock, except where the API says so.** A primitive's state sits in a
//!   [`blocking_mutex`] lock held for a few instructions. No waker's `clone`, `wake` or `drop`
//!   runs inside (a foreign waker is user code): wakers are cloned before locking (or in place
//!   when they are ebbtide's own, whose clone runs no user code), swapped in under the lock, and
//!   dropped or woken after unlocking; no message is dropped inside either. What is left is
//!   where the value itself lives under the lock: the closures of `watch`'s `with` and
//!   `send_modify`, `T::clone` in `watch`'s `get` and `broadcast`'s receives, `T: Debug`. There a
//!   re-entrancy flag makes a nested use of the same primitive panic cleanly instead of aliasing
//!   its state (each method's `# Panics` says so). The timer queue follows the same rule.
//! - **A future is dropped exactly once, and before its memory is reused.** Every path that drops
//!   a future (abort, shutdown, completion) completes the task even if the destructor unwinds, so
//!   nothing drops it again; a future whose poll panicked is dropped (not leaked) before its slot
//!   is handed to another task, so a pinned node inside it (a wait-list entry) never outlives its
//!   destructor. Task slots themselves are never freed, so a stale waker or timer entry only
//!   finds a free slot or wakes a newer task once, spuriously.
//! - **`!Send` futures stay on their executor's thread.** A [`Runner`] and a [`Spawner`] are
//!   `!Send`: they exist only on the thread that polls the executor, and only they take futures
//!   that are not `Send`. Everything reachable from another thread ([`SendSpawner`],
//!   [`size_classes::SizeClassPools::spawn`], [`Executor::send_spawner`]) requires `Send` futures
//!   and outputs; a pool's own spawning side is private. Finding "the current executor" through a
//!   `Context`'s waker proves nothing about the thread, so [`Spawner::for_current_executor`] is
//!   `unsafe` and [`SendSpawner::for_current_executor`] is the safe way.
//! - **Unsafe code lives in `raw`**, where a task's state word hands each field of its slot to
//!   one owner at a time (see the `raw` module's ground rules). Wakers, the run queue and every
//!   pointer from a waker to a task or its executor are there too; the safe layer only calls
//!   `raw`'s functions, and `raw` imports nothing from it. Under `--cfg loom` every atomic,
//!   cell and task's storage goes through loom's checked types, and the models in
//!   `core/tests/loom_*.rs` check the cross-thread paths; the `soundness_*` tests are the
//!   adversarial cases of each rule above, run under Miri with several seeds.

#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

// The `std` feature's IO helpers (`read_to_end`, `read_to_string`) use std's `Vec` and `String`.
#[cfg(any(test, feature = "std"))]
extern crate std;

mod loom;

mod block_on;
pub mod blocking_mutex;
pub mod driver;
mod executor;
pub mod io;
mod join;
mod macros;
mod pool;
mod raw;
pub mod size_classes;
pub mod sync;
pub mod task;
pub mod time;

pub use block_on::{block_on, block_on_with_idle};
pub use executor::{Executor, Runner, SendSpawner, SpawnError, SpawnRefused, Spawner};
pub use join::{JoinError, JoinHandle};
pub use pool::{Pool, SlicePool, TaskCell, TaskPool, DEFAULT_TASK_SIZE};
pub use raw::{TaskSlot, MAX_TASK_ALIGN};

#[doc(hidden)]
pub mod __private {
    pub use crate::macros::support::*;
}
