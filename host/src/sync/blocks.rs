//! The queue of the unbounded mpsc channel: fixed-size blocks, reused once emptied.
//!
//! Like Tokio's block list, messages go into the last block until it holds [`BLOCK`] of them,
//! then into a new one; the first block is read from, and once empty it is set aside for reuse.
//! Up to [`SPARE_BLOCKS`] emptied blocks are kept; the rest are freed. So a steady flow (with
//! up to `SPARE_BLOCKS * BLOCK` messages more or fewer in flight from one moment to the next)
//! allocates nothing once warmed up, and a drained burst leaves a few blocks, not its peak.
//!
//! Each block is a `VecDeque<T>` made with room for [`BLOCK`] messages and never filled past
//! it, so it never reallocates. The list of blocks (the spine: a word or four per block) grows
//! with the number of blocks in use and shrinks once it is a quarter full, so it too returns
//! to a small size after a burst. Safe code only.

use std::collections::VecDeque;

/// Messages per block, as in Tokio (on 64-bit targets).
pub(crate) const BLOCK: usize = 32;

/// Emptied blocks kept for reuse; more are freed.
pub(crate) const SPARE_BLOCKS: usize = 4;

/// The spine keeps room for at least this many blocks once it has grown to it.
const MIN_SPINE: usize = 16;

pub(crate) struct BlockQueue<T> {
    /// The blocks in use, oldest first. Every block but the last is non-empty; the last one
    /// (which may also be the first) takes the pushes until it holds `BLOCK` messages.
    blocks: VecDeque<VecDeque<T>>,
    /// Emptied blocks, room intact, for the next pushes.
    spare: Vec<VecDeque<T>>,
    /// Messages queued, over all blocks.
    len: usize,
}

impl<T> Default for BlockQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> BlockQueue<T> {
    /// An empty queue; allocates nothing until the first push.
    pub(crate) const fn new() -> Self {
        BlockQueue {
            blocks: VecDeque::new(),
            spare: Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn push_back(&mut self, value: T) {
        match self.blocks.back_mut() {
            Some(block) if block.len() < BLOCK => block.push_back(value),
            _ => {
                let mut block = self
                    .spare
                    .pop()
                    .unwrap_or_else(|| VecDeque::with_capacity(BLOCK));
                block.push_back(value);
                self.blocks.push_back(block);
            }
        }
        self.len += 1;
    }

    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let head = self.blocks.front_mut()?;
        // Empty only when it is the last block too, i.e. the queue is empty.
        let value = head.pop_front()?;
        self.len -= 1;
        if head.is_empty() && self.blocks.len() > 1 {
            if let Some(block) = self.blocks.pop_front() {
                self.recycle(block);
            }
        }
        Some(value)
    }

    /// Keeps an emptied block for reuse, or frees it; shrinks the spine when it is mostly
    /// unused.
    fn recycle(&mut self, block: VecDeque<T>) {
        debug_assert!(block.is_empty());
        if self.spare.len() < SPARE_BLOCKS {
            self.spare.push(block);
        } else {
            drop(block);
        }
        let used = self.blocks.len();
        if self.blocks.capacity() > MIN_SPINE && used * 4 <= self.blocks.capacity() {
            self.blocks.shrink_to((used * 2).max(MIN_SPINE));
        }
    }

    /// The number of blocks allocated (in use and spare), for tests of the policy.
    #[cfg(test)]
    fn blocks_allocated(&self) -> usize {
        self.blocks.len() + self.spare.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_across_blocks_and_reuse() {
        let mut q = BlockQueue::new();
        for round in 0..3 {
            for i in 0..(BLOCK * 5 + 7) {
                q.push_back((round, i));
            }
            assert_eq!(q.len(), BLOCK * 5 + 7);
            for i in 0..(BLOCK * 5 + 7) {
                assert_eq!(q.pop_front(), Some((round, i)));
            }
            assert_eq!(q.pop_front(), None);
            assert_eq!(q.len(), 0);
            assert!(q.blocks_allocated() <= 1 + SPARE_BLOCKS);
        }
    }

    #[test]
    fn spine_shrinks_after_a_burst() {
        let mut q = BlockQueue::new();
        let n = if cfg!(miri) { BLOCK * 40 } else { BLOCK * 1000 };
        for i in 0..n {
            q.push_back(i);
        }
        for i in 0..n {
            assert_eq!(q.pop_front(), Some(i));
        }
        assert!(
            q.blocks.capacity() <= 2 * MIN_SPINE,
            "{}",
            q.blocks.capacity()
        );
        assert!(q.blocks_allocated() <= 1 + SPARE_BLOCKS);
    }
}
