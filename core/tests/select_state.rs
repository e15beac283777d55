//! What a `select!` keeps across its `await`: the futures and the enabled flags, not the
//! branches' outputs. An output comes out of the poll that made it, so a task that selects
//! between futures with large outputs is not made larger by them.

use core::future::{ready, Future};
use core::mem::size_of_val;
use core::pin::Pin;
use core::task::{Context, Poll};

use ebbtide_core::select;

/// Pending on its first poll, then ready with a kilobyte.
struct BigLater {
    polled: bool,
}

impl Future for BigLater {
    type Output = [u8; 1024];

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<[u8; 1024]> {
        if self.polled {
            Poll::Ready([7; 1024])
        } else {
            self.polled = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

#[test]
fn outputs_are_not_kept_across_the_await() {
    let task = async {
        let picked = select! {
            big = BigLater { polled: false } => big[0] as usize + big[1023] as usize,
            // Both are ready on the second poll and `select!` picks one at random: the same
            // result either way.
            other = BigLater { polled: false } => other[0] as usize + other[1023] as usize,
        };
        picked
    };
    // Two futures of a byte each, their pins, the flags and the state: far below one output.
    let size = size_of_val(&task);
    assert!(
        size < 256,
        "the select! task is {size} bytes: an output lives across the await"
    );
    assert_eq!(ebbtide_core::block_on(task), 14);
}

#[test]
fn a_pattern_that_binds_by_mutable_reference_still_works() {
    let picked = ebbtide_core::block_on(async {
        select! {
            Some(ref mut v) = ready(Some(vec![1, 2])) => {
                v.push(3);
                v.len()
            }
            else => 0,
        }
    });
    assert_eq!(picked, 3);
}
