//! The fixed table of IO resources: one [`ScheduledIo`] per registered file descriptor.
//!
//! The table is allocated once, when the runtime is built, with the capacity the builder asked
//! for; registering and deregistering never allocate. A slot's *generation* changes every time it
//! is given back, and is part of the mio token, so an event that arrives for a resource that was
//! deregistered meanwhile is recognised as stale and dropped.

use std::sync::Mutex;

use super::scheduled_io::ScheduledIo;

/// Bits of a token that hold the slot index; the rest hold the generation.
const INDEX_BITS: u32 = 24;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// The most slots a table may have.
pub(crate) const MAX_CAPACITY: usize = INDEX_MASK;

pub(crate) struct Slab {
    slots: Box<[ScheduledIo]>,
    /// Indices of free slots. Allocated with room for every slot, so pushing never allocates.
    free: Mutex<Vec<u32>>,
}

/// A slot taken from the table: its index and the generation that is current while it is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SlotId {
    pub(crate) index: u32,
    pub(crate) generation: usize,
}

impl SlotId {
    /// The mio token that names this slot in this generation.
    pub(crate) fn token(self) -> mio::Token {
        mio::Token((self.generation << INDEX_BITS) | self.index as usize)
    }

    /// The slot a token names (its generation still has to be checked).
    pub(crate) fn from_token(token: mio::Token) -> SlotId {
        SlotId {
            index: (token.0 & INDEX_MASK) as u32,
            generation: token.0 >> INDEX_BITS,
        }
    }
}

/// Generations wrap below this, so that no token reaches the reserved ones at the top.
const GENERATION_LIMIT: usize = (usize::MAX >> INDEX_BITS) - 1;

impl Slab {
    pub(crate) fn new(capacity: usize) -> Slab {
        assert!(
            capacity <= MAX_CAPACITY,
            "an IO capacity above {MAX_CAPACITY} is not supported"
        );
        let slots = (0..capacity).map(|_| ScheduledIo::new()).collect();
        // Hand out low indices first.
        let free = (0..capacity as u32).rev().collect();
        Slab {
            slots,
            free: Mutex::new(free),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Takes a free slot, or `None` when every slot is in use.
    pub(crate) fn allocate(&self) -> Option<SlotId> {
        let index = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop()?;
        let io = &self.slots[index as usize];
        io.reset();
        Some(SlotId {
            index,
            generation: io.generation(),
        })
    }

    /// Gives a slot back: its generation moves on, so late events for it are ignored.
    pub(crate) fn release(&self, id: SlotId) {
        let io = &self.slots[id.index as usize];
        io.retire(GENERATION_LIMIT);
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        debug_assert!(free.len() < free.capacity(), "a slot was released twice");
        free.push(id.index);
    }

    /// The resource a token names, if the token is of its current generation.
    pub(crate) fn get(&self, token: mio::Token) -> Option<&ScheduledIo> {
        let id = SlotId::from_token(token);
        let io = self.slots.get(id.index as usize)?;
        (io.generation() == id.generation).then_some(io)
    }

    pub(crate) fn slot(&self, id: SlotId) -> &ScheduledIo {
        &self.slots[id.index as usize]
    }

    /// How many slots are in use.
    pub(crate) fn len(&self) -> usize {
        self.capacity() - self.free.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}
