//! The attributes used for real, against a stand-in runtime with the same API as
//! `ebbtide_std::Runtime` (named through `crate = "..."`), so that the expansion is compiled and
//! run without the runtime crate. `ebbtide-std`'s own tests use them with the real runtime.

use std::cell::Cell;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// The stand-in runtime: `Runtime::builder()`, by-value builder methods, `build() ->
/// io::Result<Runtime>`, `block_on(&self, F) -> F::Output`.
mod rt {
    use super::*;

    thread_local! {
        /// The settings of the runtime built last on this thread.
        pub static BUILT: Cell<Option<Builder>> = const { Cell::new(None) };
    }

    #[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
    pub struct Builder {
        pub task_capacity: Option<usize>,
        pub event_capacity: Option<usize>,
        pub io_capacity: Option<usize>,
    }

    pub struct Runtime;

    impl Runtime {
        pub fn builder() -> Builder {
            Builder::default()
        }

        pub fn block_on<F: Future>(&self, future: F) -> F::Output {
            let mut future = pin!(future);
            let mut cx = Context::from_waker(Waker::noop());
            loop {
                if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                    return output;
                }
            }
        }
    }

    impl Builder {
        pub fn task_capacity(self, n: usize) -> Builder {
            Builder {
                task_capacity: Some(n),
                ..self
            }
        }

        pub fn event_capacity(self, n: usize) -> Builder {
            Builder {
                event_capacity: Some(n),
                ..self
            }
        }

        pub fn io_capacity(self, n: usize) -> Builder {
            Builder {
                io_capacity: Some(n),
                ..self
            }
        }

        pub fn build(self) -> io::Result<Runtime> {
            if self.task_capacity == Some(0) {
                return Err(io::Error::other("no room for tasks"));
            }
            BUILT.with(|built| built.set(Some(self)));
            Ok(Runtime)
        }
    }

    pub fn built() -> Builder {
        BUILT
            .with(|built| built.get())
            .expect("a runtime was built")
    }
}

/// A future that is pending once, so that `block_on` really polls twice.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|_| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            Poll::Pending
        }
    })
    .await;
}

#[ebbtide_macros::test(crate = "crate::rt")]
async fn a_plain_test_runs() {
    yield_once().await;
    assert_eq!(rt::built(), rt::Builder::default());
}

const EVENTS: usize = 32;

#[ebbtide_macros::test(crate = "crate::rt", task_capacity = 64, event_capacity = EVENTS, io_capacity = 4 * 4)]
async fn settings_reach_the_builder() {
    assert_eq!(
        rt::built(),
        rt::Builder {
            task_capacity: Some(64),
            event_capacity: Some(32),
            io_capacity: Some(16),
        }
    );
}

#[ebbtide_macros::test(crate = "crate::rt")]
async fn question_mark_and_return_work() -> Result<(), io::Error> {
    let parsed: u32 = "7".parse().map_err(io::Error::other)?;
    if parsed == 7 {
        return Ok(());
    }
    Err(io::Error::other("unreachable"))
}

#[ebbtide_macros::test(crate = "crate::rt")]
#[should_panic(expected = "boom")]
async fn should_panic_is_kept() {
    yield_once().await;
    panic!("boom");
}

#[ebbtide_macros::test(crate = "crate::rt")]
#[ignore = "kept to show that `#[ignore]` stays on the generated test"]
async fn ignore_is_kept() {
    panic!("an ignored test ran");
}

#[ebbtide_macros::test(crate = "crate::rt", task_capacity = 0)]
#[should_panic(expected = "failed to build the ebbtide runtime")]
async fn a_runtime_that_fails_to_build_panics() {}

/// `#[main]` on a function of another name, called from a test, to see what it returns.
#[ebbtide_macros::main(crate = "crate::rt", io_capacity = 2)]
async fn entry_point() -> Result<u32, String> {
    let captured = String::from("moved into the body");
    yield_once().await;
    let n: u32 = "41".parse().map_err(|_| captured)?;
    Ok(n + 1)
}

#[test]
fn main_blocks_on_the_body_and_returns_its_output() {
    assert_eq!(entry_point(), Ok(42));
    assert_eq!(rt::built().io_capacity, Some(2));
}
