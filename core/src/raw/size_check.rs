//! Compile-time checks of the per-task overhead promised in the docs.

use super::header::{Header, SlotHead, TaskSlot, MAX_TASK_ALIGN, STORAGE_OFFSET};

/// Whether the join waker is one word at the header's end (see `join_waker`).
const JOIN_IN_HEADER: bool = cfg!(all(
    feature = "task-wakers-only",
    feature = "one-timer-queue"
));

/// The header's size, field by field, rounded up to its alignment (a word): state (4), on
/// 64-bit the budget counter in the padding after it (4), run link, vtable and scheduler (a word
/// each), the timer entry (deadline 8, in two halves on 32-bit targets; next link; the wheel's
/// back link unless `small-timer-queue`; its queue unless `one-timer-queue`), and the join
/// waker's word when the header holds it. On 32-bit targets: 36 bytes by default, 32 with
/// `small-timer-queue` (and still 32 with it, `one-timer-queue` and the join waker inside: the
/// slot head's whole size then).
const HEADER: usize = {
    let word = size_of::<usize>();
    let words = 3
        + 1
        + if cfg!(feature = "small-timer-queue") {
            0
        } else {
            1
        }
        + if cfg!(feature = "one-timer-queue") {
            0
        } else {
            1
        }
        + if JOIN_IN_HEADER { 1 } else { 0 };
    (4 + if word == 8 { 4 } else { 0 } + 8 + words * word).next_multiple_of(word)
};

const _: () = {
    assert!(size_of::<Header>() == HEADER);
    // The join waker, a `Waker` of two words, follows the header unless the header holds it.
    let join = if JOIN_IN_HEADER {
        0
    } else {
        2 * size_of::<usize>()
    };
    assert!(size_of::<SlotHead>() == HEADER + join);
    // What `bench/size` counts on: with the small-target features, a slot head of 32 bytes on
    // 32-bit targets, as embassy-executor's task header.
    if usize::BITS == 32 && cfg!(feature = "small-timer-queue") && JOIN_IN_HEADER {
        assert!(size_of::<SlotHead>() == 32);
    }
};

// The storage (and so the slot) is aligned to what futures may need, right after the slot head.
const _: () = {
    assert!(align_of::<TaskSlot<1>>() == MAX_TASK_ALIGN);
    assert!(STORAGE_OFFSET == size_of::<SlotHead>().next_multiple_of(MAX_TASK_ALIGN));
};
