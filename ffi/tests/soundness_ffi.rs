//! The C API's unsafe boundary from Rust, adversarially, so that Miri checks it (`cargo miri test
//! -p ebbtide-ffi --test soundness_ffi`, in CI's `miri` stage): callbacks that call back into the
//! API (re-entrancy from user code), calls from other threads while the runtime runs, buffers
//! that the API holds until their callback, forged and stale handles, NULL everywhere, and a
//! runtime freed with operations pending (each callback called exactly once, `-ECANCELED`).

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering::SeqCst};

use ebbtide_ffi::*;

const EINVAL: i32 = -libc::EINVAL;
const EBADF: i32 = -libc::EBADF;
const ENOENT: i32 = -libc::ENOENT;
const EDEADLK: i32 = -libc::EDEADLK;
const ECANCELED: i64 = -(libc::ECANCELED as i64);

fn new_rt() -> *mut ebbtide_rt {
    let mut rt = ptr::null_mut();
    // SAFETY: NULL options (defaults) and a valid out-pointer.
    assert_eq!(unsafe { ebbtide_rt_new(ptr::null(), &mut rt) }, 0);
    assert!(!rt.is_null());
    rt
}

/// What a callback saw: how often it ran, and its last result.
struct Seen {
    calls: AtomicUsize,
    last: AtomicI64,
}

impl Seen {
    const fn new() -> Seen {
        Seen {
            calls: AtomicUsize::new(0),
            last: AtomicI64::new(i64::MIN),
        }
    }

    fn as_user(&self) -> *mut c_void {
        ptr::from_ref(self).cast_mut().cast()
    }
}

/// Records the call in the `Seen` at `user`.
unsafe extern "C" fn record(user: *mut c_void, result: i64) {
    // SAFETY: every test passes a `Seen` that outlives the runtime.
    let seen = unsafe { &*user.cast::<Seen>() };
    seen.last.store(result, SeqCst);
    seen.calls.fetch_add(1, SeqCst);
}

/// The state of [`reenter`]: the runtime, a pending timer to cancel, and what it did.
struct Reentry {
    rt: *mut ebbtide_rt,
    long_timer: AtomicU64,
    cancelled: Seen,
    spawned: Seen,
    run_inside: AtomicI64,
}

/// Stops the runtime at `user`.
unsafe extern "C" fn stopper(user: *mut c_void, _result: i64) {
    // SAFETY: the test's live runtime.
    unsafe { ebbtide_rt_stop(user.cast()) };
}

/// A timer callback that calls back into the API: cancels another timer, spawns, tries to run
/// the runtime (refused: `-EDEADLK`) and to free it (refused: it stays), then stops it.
unsafe extern "C" fn reenter(user: *mut c_void, result: i64) {
    // SAFETY: `user` is the test's `Reentry`, alive until after the runtime is freed.
    let state = unsafe { &*user.cast::<Reentry>() };
    assert_eq!(result, 0);
    // SAFETY: `rt` is live (freed only after `ebbtide_rt_run` returns).
    unsafe {
        let long_timer = state.long_timer.load(SeqCst);
        assert_eq!(ebbtide_timer_cancel(state.rt, long_timer), 0);
        assert_eq!(ebbtide_timer_cancel(state.rt, long_timer), ENOENT);
        assert_eq!(
            ebbtide_spawn(state.rt, Some(record), state.spawned.as_user()),
            0
        );
        state
            .run_inside
            .store(ebbtide_rt_run(state.rt).into(), SeqCst);
        // Refused inside a callback: the runtime is still there for the stop below.
        ebbtide_rt_free(state.rt);
        ebbtide_rt_stop(state.rt);
    }
}

#[test]
fn callbacks_call_back_into_the_api() {
    let rt = new_rt();
    // Shared from here on: every pointer to it (the callbacks' `user`) comes from this one.
    let state: &Reentry = Box::leak(Box::new(Reentry {
        rt,
        long_timer: AtomicU64::new(0),
        cancelled: Seen::new(),
        spawned: Seen::new(),
        run_inside: AtomicI64::new(0),
    }));
    let mut long = 0;
    // SAFETY: live runtime, callbacks with the right signature, users that outlive the runtime.
    unsafe {
        assert_eq!(
            ebbtide_timer(
                rt,
                3_600_000_000_000,
                Some(record),
                state.cancelled.as_user(),
                &mut long
            ),
            0
        );
        state.long_timer.store(long, SeqCst);
        let user = ptr::from_ref(state).cast_mut().cast();
        assert_eq!(
            ebbtide_timer(rt, 1_000_000, Some(reenter), user, ptr::null_mut()),
            0
        );
        assert_eq!(ebbtide_rt_run(rt), 0);
        // The spawned task and the cancelled timer's -ECANCELED may come in a second run.
        assert_eq!(
            ebbtide_timer(rt, 10_000_000, Some(stopper), rt.cast(), ptr::null_mut()),
            0
        );
        assert_eq!(ebbtide_rt_run(rt), 0);
        ebbtide_rt_free(rt);
    }
    assert_eq!(state.run_inside.load(SeqCst), EDEADLK.into());
    assert_eq!(state.cancelled.calls.load(SeqCst), 1);
    assert_eq!(state.cancelled.last.load(SeqCst), ECANCELED);
    assert_eq!(state.spawned.calls.load(SeqCst), 1);
    assert_eq!(state.spawned.last.load(SeqCst), 0);
}

/// The address of a runtime, sendable to another thread (the API is thread-safe).
#[derive(Clone, Copy)]
struct RtPtr(*mut ebbtide_rt);
// SAFETY: every function the threads below call is documented thread-safe.
unsafe impl Send for RtPtr {}

#[test]
fn other_threads_spawn_send_and_stop_while_it_runs() {
    static SPAWNED: Seen = Seen::new();
    static RECEIVED: Seen = Seen::new();
    let rt = new_rt();
    let mut chan = 0;
    // SAFETY: live runtime, a valid out-pointer.
    assert_eq!(unsafe { ebbtide_chan_new(rt, 2, 8, &mut chan) }, 0);
    let mut inbox = [0u8; 8];
    // SAFETY: `inbox` stays put and untouched until the callback (after `ebbtide_rt_run`).
    let receiving = unsafe {
        ebbtide_chan_recv(
            chan,
            inbox.as_mut_ptr().cast(),
            Some(record),
            RECEIVED.as_user(),
        )
    };
    assert_eq!(receiving, 0);
    let shared = RtPtr(rt);
    let helper = std::thread::spawn(move || {
        let rt = shared;
        let message = 0x0102_0304_0506_0708u64.to_le_bytes();
        // SAFETY: thread-safe calls on a live runtime; `message` is read during the call only.
        unsafe {
            for _ in 0..3 {
                assert_eq!(ebbtide_spawn(rt.0, Some(record), SPAWNED.as_user()), 0);
            }
            assert_eq!(ebbtide_chan_try_send(chan, message.as_ptr().cast()), 0);
            // Until the receive has taken it, then stop the run.
            while RECEIVED.calls.load(SeqCst) == 0 || SPAWNED.calls.load(SeqCst) < 3 {
                std::thread::yield_now();
            }
            ebbtide_rt_stop(rt.0);
        }
    });
    // SAFETY: live runtime.
    assert_eq!(unsafe { ebbtide_rt_run(rt) }, 0);
    helper.join().unwrap();
    assert_eq!(RECEIVED.last.load(SeqCst), 8);
    assert_eq!(u64::from_le_bytes(inbox), 0x0102_0304_0506_0708);
    assert_eq!(SPAWNED.calls.load(SeqCst), 3);
    assert_eq!(ebbtide_chan_free(chan), 0);
    assert_eq!(ebbtide_chan_free(chan), EBADF);
    // SAFETY: live runtime, freed once, outside its callbacks.
    unsafe { ebbtide_rt_free(rt) };
}

#[test]
fn forged_stale_and_null_arguments_are_error_codes() {
    let rt = new_rt();
    let mut chan = 0;
    // SAFETY: each call below passes what it documents as allowed, or NULL / a forged handle,
    // which must come back as an error code.
    unsafe {
        assert_eq!(ebbtide_rt_new(ptr::null(), ptr::null_mut()), EINVAL);
        assert_eq!(
            ebbtide_spawn(ptr::null_mut(), Some(record), ptr::null_mut()),
            EINVAL
        );
        assert_eq!(ebbtide_spawn(rt, None, ptr::null_mut()), EINVAL);
        assert_eq!(ebbtide_timer_cancel(rt, 12345), ENOENT);
        assert_eq!(ebbtide_chan_new(rt, 1, 4, &mut chan), 0);
        // A channel's handle is not a stream's, a listener's or a timer's.
        assert_eq!(ebbtide_tcp_close(chan), EBADF);
        assert_eq!(ebbtide_timer_cancel(rt, chan), ENOENT);
        let mut buf = [0u8; 4];
        assert_eq!(
            ebbtide_tcp_read(
                chan,
                buf.as_mut_ptr().cast(),
                4,
                Some(record),
                ptr::null_mut()
            ),
            EBADF
        );
        // Forged: every bit pattern is refused, never followed.
        for forged in [0, 1, u64::MAX, chan ^ (1 << 30), chan + 1, 1 << 57] {
            assert!(ebbtide_tcp_close(forged) < 0);
            assert!(ebbtide_chan_try_send(forged, buf.as_ptr().cast()) < 0);
        }
        assert_eq!(ebbtide_chan_try_send(chan, ptr::null()), EINVAL);
        assert_eq!(ebbtide_chan_free(chan), 0);
        // Stale: the same handle after its channel is gone.
        assert_eq!(ebbtide_chan_try_send(chan, buf.as_ptr().cast()), EBADF);
        ebbtide_rt_free(rt);
        // Freeing and stopping NULL do nothing.
        ebbtide_rt_free(ptr::null_mut());
        ebbtide_rt_stop(ptr::null_mut());
    }
}

#[test]
fn freeing_with_operations_pending_calls_each_callback_once_with_ecanceled() {
    static TIMER: Seen = Seen::new();
    static RECV: Seen = Seen::new();
    let rt = new_rt();
    let mut chan = 0;
    let mut inbox = Box::new([0u8; 16]);
    // SAFETY: live runtime; `inbox` outlives the runtime and is untouched until the callback.
    unsafe {
        assert_eq!(
            ebbtide_timer(
                rt,
                3_600_000_000_000,
                Some(record),
                TIMER.as_user(),
                ptr::null_mut()
            ),
            0
        );
        assert_eq!(ebbtide_chan_new(rt, 1, 16, &mut chan), 0);
        assert_eq!(
            ebbtide_chan_recv(
                chan,
                inbox.as_mut_ptr().cast(),
                Some(record),
                RECV.as_user()
            ),
            0
        );
        ebbtide_rt_free(rt);
    }
    for seen in [&TIMER, &RECV] {
        assert_eq!(seen.calls.load(SeqCst), 1);
        assert_eq!(seen.last.load(SeqCst), ECANCELED);
    }
    // The channel went with its runtime.
    assert_eq!(ebbtide_chan_free(chan), EBADF);
    drop(inbox);
}
