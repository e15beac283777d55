//! The process-wide handle table: every listener, stream, timer and channel a C program holds
//! is a `u64` that names a slot of it.
//!
//! A handle is `kind << 56 | generation << 24 | index`: 24 bits of slot index, 32 bits of
//! generation (bumped each time the slot is freed, never 0) and 7 bits of kind. A closed, stale
//! (its slot reused), forged or wrong-kind handle finds no entry: an error code, never a wrong
//! object. Handles are positive as `int64_t` (the top bit is always 0), so a callback's result
//! can carry one. The table is one `std::sync::Mutex`, held for a few instructions at a time and
//! never while C code runs.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::chan::Chan;
use crate::error::EMFILE;
use crate::rt::RtShared;
use crate::tcp::{ListenerSlot, StreamSlot};
use crate::timer::TimerSlot;

const INDEX_BITS: u32 = 24;
const GENERATION_BITS: u32 = 32;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
const KIND_SHIFT: u32 = INDEX_BITS + GENERATION_BITS;

/// What a handle names; part of the handle, so one kind's handle never finds another kind.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Listener = 1,
    Stream = 2,
    Timer = 3,
    Chan = 4,
}

/// What a slot holds.
pub(crate) enum Entry {
    Listener(ListenerSlot),
    Stream(StreamSlot),
    Timer(TimerSlot),
    Chan(Arc<Chan>),
}

impl Entry {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Entry::Listener(_) => Kind::Listener,
            Entry::Stream(_) => Kind::Stream,
            Entry::Timer(_) => Kind::Timer,
            Entry::Chan(_) => Kind::Chan,
        }
    }

    /// The runtime the entry belongs to.
    pub(crate) fn rt(&self) -> &Arc<RtShared> {
        match self {
            Entry::Listener(slot) => &slot.rt,
            Entry::Stream(slot) => &slot.rt,
            Entry::Timer(slot) => &slot.rt,
            Entry::Chan(chan) => &chan.rt,
        }
    }
}

struct Slot {
    generation: u32,
    entry: Option<Entry>,
}

/// The slots, and the indices of the free ones.
pub(crate) struct Table {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    slots: Vec::new(),
    free: Vec::new(),
});

/// Locks the table. A panic while it was held (a bug, caught at the API boundary) leaves it
/// usable: every method keeps it consistent between statements.
pub(crate) fn table() -> MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(PoisonError::into_inner)
}

fn encode(kind: Kind, generation: u32, index: u32) -> u64 {
    (kind as u64) << KIND_SHIFT | u64::from(generation) << INDEX_BITS | u64::from(index)
}

impl Table {
    /// Stores `entry` and returns its handle; `-EMFILE` when 2^24 handles are open.
    pub(crate) fn insert(&mut self, entry: Entry) -> Result<u64, i32> {
        let kind = entry.kind();
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                if self.slots.len() as u64 > INDEX_MASK {
                    return Err(EMFILE);
                }
                self.slots.push(Slot {
                    generation: 1,
                    entry: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.entry = Some(entry);
        Ok(encode(kind, slot.generation, index))
    }

    /// The slot of `handle` if it is live and of `kind`.
    fn slot(&mut self, handle: u64, kind: Kind) -> Option<&mut Slot> {
        if handle >> KIND_SHIFT != kind as u64 {
            return None;
        }
        let generation = (handle >> INDEX_BITS) as u32;
        let slot = self.slots.get_mut((handle & INDEX_MASK) as usize)?;
        let live = slot.generation == generation && slot.entry.as_ref()?.kind() == kind;
        live.then_some(slot)
    }

    /// The entry of `handle`, if it is live and of `kind`.
    pub(crate) fn get(&mut self, handle: u64, kind: Kind) -> Option<&mut Entry> {
        self.slot(handle, kind)?.entry.as_mut()
    }

    /// Takes the entry of `handle` out (if live and of `kind`); the handle is stale from now on.
    /// Drop what it returns after unlocking the table.
    pub(crate) fn remove(&mut self, handle: u64, kind: Kind) -> Option<Entry> {
        let slot = self.slot(handle, kind)?;
        let entry = slot.entry.take();
        slot.generation = slot.generation.wrapping_add(1).max(1);
        self.free.push((handle & INDEX_MASK) as u32);
        entry
    }

    /// Takes out every entry of runtime `rt` (for `ebbtide_rt_free`). Drop them after
    /// unlocking the table.
    pub(crate) fn remove_all_of(&mut self, rt: &Arc<RtShared>) -> Vec<Entry> {
        let mut removed = Vec::new();
        for (index, slot) in self.slots.iter_mut().enumerate() {
            if slot
                .entry
                .as_ref()
                .is_some_and(|entry| Arc::ptr_eq(entry.rt(), rt))
            {
                removed.extend(slot.entry.take());
                slot.generation = slot.generation.wrapping_add(1).max(1);
                self.free.push(index as u32);
            }
        }
        removed
    }
}
