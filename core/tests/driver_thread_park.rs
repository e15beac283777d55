//! A third driver, written against `ebbtide_core::driver` alone: a std thread that parks, with
//! no IO. The driver is the first section (under 100 lines: the `Park`, the wake hook and the
//! time driver); the tests below run core's behaviour (spawn and join, sleep, timeout, interval,
//! channels, `select!`, wake-ups from other threads) on it.

// ---- The driver ----------------------------------------------------------------------------

use std::sync::{Mutex, OnceLock};
use std::task::Waker;
use std::thread::{self, Thread};

use ebbtide_core::driver::{self, Park, Wait};
use ebbtide_core::time::queue;
use ebbtide_core::{Executor, SendSpawner};

/// The clock: microseconds since the first reading (1 MHz ticks, embassy-time's default).
fn now_ticks() -> u64 {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_micros() as u64
}

/// The threads that run a runtime now, to end their waits when a timer moves earlier.
static PARKED: Mutex<Vec<Thread>> = Mutex::new(Vec::new());

struct TimeDriver;

impl embassy_time_driver::Driver for TimeDriver {
    fn now(&self) -> u64 {
        now_ticks()
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        // Rule 3: the earliest deadline moved earlier; a parked thread must look again.
        if queue::schedule_wake(at, waker) {
            unpark_all();
        }
    }
}

embassy_time_driver::time_driver_impl!(static TIME: TimeDriver = TimeDriver);

/// Waits in `thread::park`, which latches an `unpark` that came first (rule 1).
struct ThreadPark;

impl Park for ThreadPark {
    type Error = std::convert::Infallible;

    fn now(&self) -> u64 {
        now_ticks()
    }

    fn park(&mut self, wait: Wait) -> Result<(), Self::Error> {
        match wait {
            Wait::Poll => {}
            Wait::Until(deadline) => {
                let micros = deadline.saturating_sub(now_ticks());
                thread::park_timeout(std::time::Duration::from_micros(micros));
            }
            Wait::Forever => thread::park(),
        }
        Ok(())
    }
}

/// Rule 2: the wake hook unparks the runtimes' threads. (One hook for every executor here: an
/// `unpark` of a thread whose executor has nothing to do only makes it look again.)
fn unpark_all() {
    PARKED.lock().unwrap().iter().for_each(Thread::unpark);
}

/// Runs the future `main` makes on `executor`, on this thread, until it completes; `main` gets
/// the executor's spawner.
fn block_on<F: std::future::Future>(
    executor: &'static Executor,
    main: impl FnOnce(SendSpawner) -> F,
) -> F::Output {
    let runner = executor.runner().unwrap();
    let future = main(executor.send_spawner());
    PARKED.lock().unwrap().push(thread::current());
    let output = driver::block_on(&runner, &mut ThreadPark, future);
    let me = thread::current().id();
    PARKED.lock().unwrap().retain(|t| t.id() != me);
    match output {
        Ok(output) => output,
        Err(never) => match never {},
    }
}

// ---- Core's behaviour on it ----------------------------------------------------------------

use ebbtide_core::sync::{mpsc, oneshot, Notify};
use ebbtide_core::time::{interval, sleep, timeout, Duration, Instant};
use ebbtide_core::{select, TaskPool};

/// An executor whose wake hook unparks the runtimes' threads.
macro_rules! executor {
    () => {{
        static EXECUTOR: Executor = Executor::with_wake_hook(&unpark_all);
        &EXECUTOR
    }};
}

static POOL: TaskPool<64> = TaskPool::named("driver_thread_park");

#[test]
fn spawned_tasks_return_their_values() {
    let sum = block_on(executor!(), |spawner| async move {
        let mut handles = Vec::new();
        for i in 0..10u32 {
            handles.push(spawner.spawn(&POOL, async move { i * i }).unwrap());
        }
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..10).map(|i| i * i).sum());
}

#[test]
fn sleep_never_wakes_before_its_deadline() {
    block_on(executor!(), |_| async {
        for millis in [1, 5, 20] {
            let start = Instant::now();
            sleep(Duration::from_millis(millis)).await;
            assert!(start.elapsed() >= Duration::from_millis(millis));
        }
    });
}

#[test]
fn timeout_gives_up_and_interval_ticks() {
    block_on(executor!(), |_| async {
        let late = timeout(Duration::from_millis(5), std::future::pending::<()>()).await;
        assert!(late.is_err());
        let start = Instant::now();
        let mut ticks = interval(Duration::from_millis(3));
        for _ in 0..4 {
            ticks.tick().await;
        }
        // The first tick is immediate; three periods follow.
        assert!(start.elapsed() >= Duration::from_millis(9));
    });
}

#[test]
fn a_wake_from_another_thread_ends_an_endless_wait() {
    static ANSWER: oneshot::Channel<u32> = oneshot::Channel::new();
    let (send, recv) = ANSWER.split();
    let sender = thread::spawn(move || {
        thread::sleep(std::time::Duration::from_millis(20));
        send.send(42).unwrap();
    });
    // No timer is pending: the runtime parks with `Wait::Forever` until the hook unparks it.
    assert_eq!(block_on(executor!(), |_| recv), Ok(42));
    sender.join().unwrap();
}

#[test]
fn channels_and_select_between_tasks_and_threads() {
    static JOBS: mpsc::Channel<u32, 4> = mpsc::Channel::new();
    static STOP: Notify = Notify::new();
    let (jobs, mut inbox) = JOBS.split();
    let producer = thread::spawn(move || {
        for job in 1..=100 {
            // A std thread blocks on the bounded channel through core's own busy loop.
            ebbtide_core::block_on(jobs.send(job)).unwrap();
        }
        STOP.notify_one();
    });
    let total = block_on(executor!(), |_| async move {
        let mut total = 0;
        loop {
            select! {
                Some(job) = inbox.recv() => total += job,
                () = STOP.notified() => {
                    while let Ok(job) = inbox.try_recv() {
                        total += job;
                    }
                    return total;
                }
            }
        }
    });
    producer.join().unwrap();
    assert_eq!(total, (1..=100).sum());
}

#[test]
fn two_runtimes_on_two_threads_park_apart() {
    let other = thread::spawn(|| {
        block_on(executor!(), |_| async {
            sleep(Duration::from_millis(30)).await;
            1
        })
    });
    let mine = block_on(executor!(), |spawner| async move {
        let task = spawner
            .spawn(&POOL, async {
                sleep(Duration::from_millis(10)).await;
                2
            })
            .unwrap();
        task.await.unwrap()
    });
    assert_eq!(other.join().unwrap() + mine, 3);
}
