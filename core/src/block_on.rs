//! A portable `block_on` for tests and bare metal.

use core::future::Future;
use core::task::{Context, Poll};

/// Polls `future` in a busy loop until it completes.
///
/// This is the simplest correct way to drive a future without an OS: it never sleeps, so it burns
/// a core while the future waits. Use it in tests, or on bare metal through
/// [`block_on_with_idle`] with `wfi`. Services should use a driver's `block_on`
/// (ebbtide-std, ebbtide-wasi), which waits in the OS; to run spawned tasks as well, use
/// [`Runner::run_until`](crate::Runner::run_until).
///
/// # Examples
///
/// ```
/// assert_eq!(ebbtide_core::block_on(async { 6 * 7 }), 42);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    block_on_with_idle(future, core::hint::spin_loop)
}

/// Polls `future` until it completes, calling `idle` after every `Pending`.
///
/// The future's waker does nothing, so `idle` must return by itself: `wfi` returns at the next
/// interrupt, which is how every wake-up reaches a bare-metal program.
///
/// # Examples
///
/// ```
/// let mut idles = 0;
/// let mut polls = 0;
/// let out = ebbtide_core::block_on_with_idle(
///     core::future::poll_fn(|_| {
///         polls += 1;
///         if polls < 3 { core::task::Poll::Pending } else { core::task::Poll::Ready(polls) }
///     }),
///     || idles += 1,
/// );
/// assert_eq!((out, idles), (3, 2));
/// ```
pub fn block_on_with_idle<F: Future>(future: F, mut idle: impl FnMut()) -> F::Output {
    // Pinned on this stack frame, which it never leaves.
    pin_utils::pin_mut!(future);
    let mut cx = Context::from_waker(&crate::raw::waker::NOOP);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        idle();
    }
}
