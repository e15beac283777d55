//! Compile-time checks of the per-task overhead promised in the docs.

use super::header::{Header, SlotHead};

// On 32-bit targets the header (state, run link, vtable, executor, timer link) is 32 bytes, and
// the join waker adds 8.
#[cfg(target_pointer_width = "32")]
const _: () = {
    assert!(size_of::<Header>() == 32);
    assert!(size_of::<SlotHead>() == 40);
};

#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(size_of::<Header>() == 56);
    assert!(size_of::<SlotHead>() == 72);
};
