//! Compile-time checks of the per-task overhead promised in the docs.

use super::header::{Header, SlotHead, TaskSlot, MAX_TASK_ALIGN, STORAGE_OFFSET};

const _: () = match usize::BITS {
    // The header (state, run link, vtable, scheduler, timer link with its queue) is 36 bytes,
    // padded to 40 by the deadline's 8-byte alignment, and the join waker adds 8. The sorted
    // list of `small-timer-queue` needs no back link: 32 bytes, and 40 with the join waker.
    32 => {
        let header = if cfg!(feature = "small-timer-queue") {
            32
        } else {
            40
        };
        assert!(size_of::<Header>() == header);
        assert!(size_of::<SlotHead>() == header + 8);
    }
    // The budget counter fills the padding after the state word.
    64 => {
        let header = if cfg!(feature = "small-timer-queue") {
            56
        } else {
            64
        };
        assert!(size_of::<Header>() == header);
        assert!(size_of::<SlotHead>() == header + 16);
    }
    _ => {}
};

// The storage (and so the slot) is aligned to what futures may need, right after the slot head.
const _: () = {
    assert!(align_of::<TaskSlot<1>>() == MAX_TASK_ALIGN);
    assert!(STORAGE_OFFSET == size_of::<SlotHead>().next_multiple_of(MAX_TASK_ALIGN));
};
