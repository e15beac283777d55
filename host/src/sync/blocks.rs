//! The queue of the unbounded mpsc channel: blocks that grow geometrically, reused once emptied.
//!
//! Like Tokio's block list, messages go into the last block until it is full, then into a new
//! one; the first block is read from, and once empty it is set aside for reuse. Unlike Tokio's
//! fixed 32-message blocks, a new block is about as large as the queue already is (from
//! [`MIN_BLOCK`] messages up to [`MAX_BLOCK_BYTES`] of them), so a burst of `n` messages costs
//! `O(log n)` allocations while it grows, and no message is ever copied to make room.
//!
//! Up to [`SPARE_BLOCKS`] emptied blocks, and at most [`SPARE_BYTES`] of them, are kept; the rest
//! are freed (the smallest first). So a steady flow allocates nothing once warmed up, and a
//! drained burst leaves a few blocks, not its peak.
//!
//! Each block is a `VecDeque<T>` made with room for its messages and never filled past its
//! capacity, so it never reallocates. The list of blocks (the spine: a word or four per block)
//! grows with the number of blocks in use and shrinks once it is a quarter full, so it too
//! returns to a small size after a burst. Safe code only.

use std::collections::VecDeque;

/// Messages in the first block (Tokio's block size on 64-bit targets), and the least in any.
pub(crate) const MIN_BLOCK: usize = 32;

/// The most bytes of messages in one block (more for messages so large that [`MIN_BLOCK`] of
/// them take more).
pub(crate) const MAX_BLOCK_BYTES: usize = 16 * 1024;

/// Emptied blocks kept for reuse, at most; more are freed.
pub(crate) const SPARE_BLOCKS: usize = 4;

/// Bytes of messages in the emptied blocks kept for reuse, at most (beyond one block).
pub(crate) const SPARE_BYTES: usize = 32 * 1024;

/// The spine keeps room for at least this many blocks once it has grown to it.
const MIN_SPINE: usize = 16;

pub(crate) struct BlockQueue<T> {
    /// The block messages are read from.
    head: VecDeque<T>,
    /// Full blocks between `head` and `tail`, oldest first.
    middle: VecDeque<VecDeque<T>>,
    /// The block messages are written to, up to its capacity. When `head` and `middle` are
    /// empty, it becomes the head at the next read.
    tail: VecDeque<T>,
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
            head: VecDeque::new(),
            middle: VecDeque::new(),
            tail: VecDeque::new(),
            spare: Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The most messages in one block.
    fn max_block() -> usize {
        (MAX_BLOCK_BYTES / size_of::<T>().max(1)).max(MIN_BLOCK)
    }

    #[inline]
    pub(crate) fn push_back(&mut self, value: T) {
        // A block's `capacity()` is what it was made with (or more): filling it up to there
        // never reallocates. (A new queue's tail has capacity 0.)
        if self.tail.len() < self.tail.capacity() {
            self.tail.push_back(value);
        } else {
            self.push_to_new_block(value);
        }
        self.len += 1;
    }

    /// The tail block is full: it joins the blocks to read, and a spare block (the largest) or a
    /// new one about as large as the queue becomes the tail.
    #[cold]
    fn push_to_new_block(&mut self, value: T) {
        let largest = (0..self.spare.len()).max_by_key(|&i| self.spare[i].capacity());
        let block = match largest {
            Some(i) => self.spare.swap_remove(i),
            None => {
                let size = self
                    .len
                    .next_power_of_two()
                    .clamp(MIN_BLOCK, Self::max_block());
                VecDeque::with_capacity(size)
            }
        };
        let full = std::mem::replace(&mut self.tail, block);
        if !full.is_empty() {
            if self.head.is_empty() && self.middle.is_empty() {
                let emptied = std::mem::replace(&mut self.head, full);
                self.recycle(emptied);
            } else {
                self.middle.push_back(full);
            }
        } else {
            // The new queue's placeholder (capacity 0), or an emptied tail.
            self.recycle(full);
        }
        self.tail.push_back(value);
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        let value = match self.head.pop_front() {
            Some(value) => value,
            None => self.pop_slow()?,
        };
        self.len -= 1;
        Some(value)
    }

    /// `head` is empty: the next full block becomes the head, or else the tail block does.
    #[cold]
    fn pop_slow(&mut self) -> Option<T> {
        match self.middle.pop_front() {
            Some(mut next) => {
                let value = next.pop_front();
                let emptied = std::mem::replace(&mut self.head, next);
                self.recycle(emptied);
                self.shrink_spine();
                value
            }
            None => {
                if self.tail.is_empty() {
                    return None;
                }
                // Every message is in the tail block: it becomes the head (read without this
                // detour from now on), and the next push takes a spare block as the tail.
                let emptied = std::mem::replace(&mut self.head, std::mem::take(&mut self.tail));
                self.recycle(emptied);
                self.head.pop_front()
            }
        }
    }

    /// Keeps an emptied block for reuse, or frees it.
    fn recycle(&mut self, block: VecDeque<T>) {
        debug_assert!(block.is_empty());
        if block.capacity() == 0 {
            return;
        }
        self.spare.push(block);
        // Over the limits: free the smallest spares (the largest save the most allocations).
        let bytes = |spare: &[VecDeque<T>]| -> usize {
            spare.iter().map(|b| b.capacity() * size_of::<T>()).sum()
        };
        while self.spare.len() > SPARE_BLOCKS
            || (self.spare.len() > 1 && bytes(&self.spare) > SPARE_BYTES)
        {
            let smallest = (0..self.spare.len())
                .min_by_key(|&i| self.spare[i].capacity())
                .expect("a spare block");
            drop(self.spare.swap_remove(smallest));
        }
    }

    /// Shrinks the list of full blocks when it is mostly unused.
    fn shrink_spine(&mut self) {
        let used = self.middle.len();
        if self.middle.capacity() > MIN_SPINE && used * 4 <= self.middle.capacity() {
            self.middle.shrink_to((used * 2).max(MIN_SPINE));
        }
    }

    /// The number of blocks allocated (in use and spare), for tests of the policy.
    #[cfg(test)]
    fn blocks_allocated(&self) -> usize {
        let used = |b: &VecDeque<T>| usize::from(b.capacity() > 0);
        used(&self.head) + self.middle.len() + used(&self.tail) + self.spare.len()
    }

    /// The capacities of the blocks in use, oldest first, for tests of the policy.
    #[cfg(test)]
    fn block_sizes(&self) -> Vec<usize> {
        std::iter::once(&self.head)
            .chain(&self.middle)
            .chain(std::iter::once(&self.tail))
            .map(VecDeque::capacity)
            .filter(|&c| c > 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_across_blocks_and_reuse() {
        let mut q = BlockQueue::new();
        for round in 0..3 {
            for i in 0..(MIN_BLOCK * 5 + 7) {
                q.push_back((round, i));
            }
            assert_eq!(q.len(), MIN_BLOCK * 5 + 7);
            for i in 0..(MIN_BLOCK * 5 + 7) {
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
        let n = if cfg!(miri) {
            MIN_BLOCK * 40
        } else {
            MIN_BLOCK * 1000
        };
        for i in 0..n {
            q.push_back(i);
        }
        for i in 0..n {
            assert_eq!(q.pop_front(), Some(i));
        }
        assert!(
            q.middle.capacity() <= 2 * MIN_SPINE,
            "{}",
            q.middle.capacity()
        );
        assert!(q.blocks_allocated() <= 1 + SPARE_BLOCKS);
        let spare_bytes: usize = q.spare.iter().map(|b| b.capacity() * 8).sum();
        assert!(spare_bytes <= SPARE_BYTES, "{spare_bytes}");
    }

    #[test]
    fn blocks_grow_with_the_queue_up_to_a_bound() {
        let mut q = BlockQueue::new();
        for i in 0..100_000u64 {
            q.push_back(i);
        }
        let sizes = q.block_sizes();
        assert!(
            sizes[0] >= MIN_BLOCK && sizes[0] < 2 * MIN_BLOCK,
            "{sizes:?}"
        );
        assert!(
            sizes.iter().all(|&c| c * 8 <= 2 * MAX_BLOCK_BYTES),
            "{sizes:?}"
        );
        // Geometric growth: far fewer blocks than 32-message ones would take.
        assert!(
            sizes.len() < 100_000 / MIN_BLOCK / 8,
            "{} blocks",
            sizes.len()
        );
        // Large messages still get at least MIN_BLOCK per block.
        let mut big = BlockQueue::new();
        for _ in 0..1000 {
            big.push_back([0u8; 4096]);
        }
        assert!(big.block_sizes().iter().all(|&c| c >= MIN_BLOCK));
    }
}
