//! `signal`: a SIGINT sent to the own process completes `ctrl_c()` and does not kill it; every
//! waiting task wakes; SIGTERM and SIGHUP through `signal()`.
//!
//! Every test installs its handler before it sends, and a handler stays installed for the life
//! of the process, so signals from one test never kill another (they may wake its listeners
//! early, which the tests allow).

use ebbtide_std::signal::{self, SignalKind};
use ebbtide_std::time::{timeout, Duration};
use ebbtide_std::Runtime;

fn raise(signum: libc::c_int) {
    // SAFETY: `kill` with our own pid and a signal number; a handler for it is installed.
    let rc = unsafe { libc::kill(libc::getpid(), signum) };
    assert_eq!(rc, 0);
}

#[test]
fn ctrl_c_completes_on_sigint_and_the_process_lives() {
    Runtime::new().unwrap().block_on(async {
        let ctrl_c = signal::ctrl_c();
        raise(libc::SIGINT);
        timeout(Duration::from_secs(5), ctrl_c)
            .await
            .expect("ctrl_c() did not complete within 5 s")
            .unwrap();
    });
}

#[test]
fn every_waiting_task_wakes() {
    Runtime::new().unwrap().block_on(async {
        let waiters: Vec<_> = (0..3)
            .map(|_| ebbtide_std::spawn(signal::ctrl_c()).unwrap())
            .collect();
        // Let the waiters park first.
        ebbtide_std::time::sleep(Duration::from_millis(5)).await;
        raise(libc::SIGINT);
        for waiter in waiters {
            timeout(Duration::from_secs(5), waiter)
                .await
                .expect("a waiter did not wake within 5 s")
                .unwrap()
                .unwrap();
        }
    });
}

#[test]
fn terminate_and_hangup_arrive_through_signal() {
    Runtime::new().unwrap().block_on(async {
        let mut terms = signal::unix::signal(SignalKind::terminate()).unwrap();
        let mut hangups = signal::signal(SignalKind::hangup()).unwrap();
        raise(libc::SIGTERM);
        timeout(Duration::from_secs(5), terms.recv())
            .await
            .expect("SIGTERM did not arrive within 5 s")
            .unwrap();
        raise(libc::SIGHUP);
        timeout(Duration::from_secs(5), hangups.recv())
            .await
            .expect("SIGHUP did not arrive within 5 s")
            .unwrap();
        // Nothing more is pending.
        assert!(timeout(Duration::from_millis(20), terms.recv())
            .await
            .is_err());
    });
}

#[test]
fn forbidden_signals_are_errors() {
    Runtime::new().unwrap().block_on(async {
        assert!(signal::signal(SignalKind::from_raw(libc::SIGKILL)).is_err());
    });
}

#[test]
fn outside_a_runtime_ctrl_c_is_an_error() {
    let outcome = ebbtide_core::block_on(signal::ctrl_c());
    assert!(outcome.is_err());
}
