//! The paused clock on WASI: the same `time::{pause, advance, resume}` and `start_paused` as
//! ebbtide-std, over `poll_oneoff`.

use std::cell::RefCell;
use std::rc::Rc;

use ebbtide_wasi::time::{self, sleep, timeout, Duration, Instant};
use ebbtide_wasi::{Error, Runtime};

fn paused_runtime() -> Runtime {
    Runtime::builder().start_paused(true).build().unwrap()
}

#[test]
fn a_day_of_sleep_takes_no_real_day() {
    let real = std::time::Instant::now();
    let (start, end) = paused_runtime().block_on(async {
        let start = Instant::now();
        sleep(Duration::from_secs(24 * 3600)).await;
        (start, Instant::now())
    });
    // `sleep` rounds its deadline up by one tick; the paused clock jumps to it exactly.
    assert_eq!(
        end - start,
        Duration::from_secs(24 * 3600) + Duration::from_ticks(1)
    );
    assert!(real.elapsed() < std::time::Duration::from_secs(600));
}

#[test]
fn timers_fire_in_deadline_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    paused_runtime().block_on({
        let log = log.clone();
        async move {
            let mut tasks = Vec::new();
            for minutes in [50u64, 5, 30, 20] {
                let log = log.clone();
                tasks.push(
                    ebbtide_wasi::spawn_local(async move {
                        sleep(Duration::from_secs(minutes * 60)).await;
                        log.borrow_mut().push(minutes);
                    })
                    .unwrap(),
                );
            }
            for task in tasks {
                task.await.unwrap();
            }
        }
    });
    assert_eq!(*log.borrow(), [5, 20, 30, 50]);
}

#[test]
fn advance_and_resume() {
    Runtime::new().unwrap().block_on(async {
        time::pause();
        let start = Instant::now();
        let elapsed = timeout(Duration::from_secs(1), async {
            time::advance(Duration::from_millis(999)).await;
        })
        .await;
        assert!(elapsed.is_ok());
        assert_eq!(Instant::now() - start, Duration::from_millis(999));
        time::resume();
        let real = std::time::Instant::now();
        sleep(Duration::from_millis(3)).await;
        assert!(real.elapsed() >= std::time::Duration::from_millis(3));
    });
}

#[test]
fn a_paused_runtime_still_reports_a_deadlock() {
    // No timer and nothing that can wake the future: the paused clock has nowhere to jump.
    let (_tx, rx) = ebbtide_wasi::sync::oneshot::channel::<()>();
    let result = paused_runtime().try_block_on(rx);
    assert!(matches!(result, Err(Error::Deadlock)), "{result:?}");
}
