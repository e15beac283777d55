//! Task slots: the header every task starts with, and the storage its future lives in.
//!
//! A [`TaskSlot`] is `#[repr(C)]`: a [`Header`], the join waker, then `SIZE` bytes of storage that
//! hold the future while it runs and its output once it is done. A task is named everywhere by a
//! `NonNull<Header>` made from a pointer to the *whole slot*, so its provenance covers the join
//! waker and the storage too; the storage is found at a fixed offset ([`STORAGE_OFFSET`]) that does
//! not depend on `SIZE`.
//!
//! The future's type is erased behind a [`TaskVTable`], one `static` per future type.

use core::future::Future;
use core::marker::PhantomData;
use core::mem::{offset_of, ManuallyDrop, MaybeUninit};
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::task::{Context, Poll};

use super::budget;
use super::join_waker::JoinWaker;
use super::scheduler::Scheduler;
use super::task;
use super::waker::waker_for;
use crate::loom::{AtomicPtr, AtomicU32, UnsafeCell};

/// The part of a task slot the executor, wakers and the timer queue share.
///
/// On 32-bit targets it is 36 bytes: state (4), run-queue link (4), vtable (4), scheduler (4), and
/// the intrusive timer link (deadline 8, in two 4-byte halves; two links 8; its queue 4); the
/// storage after the slot head is 8-byte aligned, so the head is 48 bytes with the join waker. On
/// 64-bit targets (64 bytes) the cooperative budget fills the 4 bytes of padding after the state
/// word. With `small-timer-queue` the timer link has one link, not two: 32 bytes (56 on 64-bit);
/// with `one-timer-queue` it has no queue field, and with `task-wakers-only` too the join waker
/// takes that word instead. `raw/size_check.rs` checks each case at compile time.
#[repr(C)]
pub(crate) struct Header {
    /// The state word; see [`super::state`].
    pub(crate) state: AtomicU32,
    /// What is left of the task's cooperative budget in its current poll, on targets where the
    /// header holds it (64-bit, where it costs no space; empty elsewhere): see [`super::budget`].
    /// Reset by `task::run` before each poll, and only touched by the thread that polls the task.
    pub(crate) budget: budget::InHeader,
    /// The next task in the scheduler's run queue (an intrusive list).
    pub(crate) run_next: AtomicPtr<Header>,
    /// The future's vtable. Written at spawn while `SCHEDULED` keeps every waker out.
    pub(crate) vtable: VTableCell,
    /// The scheduler of the executor that runs the task. Written at spawn, like `vtable`, and
    /// rewritten only by whoever holds `SCHEDULED` on a task it took out of a run queue (a steal,
    /// see [`super::steal`]), never while a waker that set `SCHEDULED` may read it. Atomic
    /// (Release stores; a wake's load is Relaxed, ordered by the Acquire of the compare-exchange
    /// that set `SCHEDULED`) because code inside a task may read it through a waker lent to
    /// another thread while a thief rewrites it.
    pub(crate) scheduler: AtomicPtr<Scheduler>,
    /// The task's entry in a timer queue; owned by whoever holds that queue's lock.
    pub(crate) timer: TimerLink,
    /// With `task-wakers-only` and `one-timer-queue`, the join waker (one word, where the timer
    /// entry's queue field is otherwise): see [`SlotHead`].
    #[cfg(all(feature = "task-wakers-only", feature = "one-timer-queue"))]
    join_waker: JoinWaker,
}

/// A deadline as a [`TimerLink`] keeps it: a `u64`, or on 32-bit targets its two halves (low
/// first), so that the link is 4-byte aligned and packs with the header's other words (a `u64`
/// field would align the link to 8 and pad it to a multiple of 8 bytes).
#[cfg(target_pointer_width = "32")]
pub(crate) type DeadlineBits = [u32; 2];
/// A deadline as a [`TimerLink`] keeps it: a `u64`, or on 32-bit targets its two halves.
#[cfg(not(target_pointer_width = "32"))]
pub(crate) type DeadlineBits = u64;

/// `value` as [`DeadlineBits`].
#[inline(always)]
pub(crate) const fn deadline_bits(value: u64) -> DeadlineBits {
    #[cfg(target_pointer_width = "32")]
    return [value as u32, (value >> 32) as u32];
    #[cfg(not(target_pointer_width = "32"))]
    return value;
}

/// The `u64` that `bits` hold.
#[inline(always)]
pub(crate) const fn deadline_value(bits: DeadlineBits) -> u64 {
    #[cfg(target_pointer_width = "32")]
    return bits[0] as u64 | (bits[1] as u64) << 32;
    #[cfg(not(target_pointer_width = "32"))]
    return bits;
}

/// The intrusive timer-queue entry in every task header.
///
/// The entry is in at most one timer queue at a time: the one `queue` names (null: none). That
/// queue's lock owns the other fields: they are only read or written under it. `queue` itself is
/// only changed under the lock of the queue it names (cleared) or is about to name (set, from
/// null), so a queue that reads its own address there under its lock knows the entry is its own.
/// A slot stays linked when its task finishes, and a new task in the slot inherits the entry: at
/// worst it is woken once, spuriously.
#[derive(Debug)]
pub(crate) struct TimerLink {
    /// The deadline in ticks, stored inverted (`!deadline`): the deadline `u64::MAX`, which means
    /// "not in the queue", is stored as 0, so that a free slot is all zeros (a `static` pool then
    /// goes to `.bss` and costs no flash). Only the timer queue reads it, through its accessors.
    pub(crate) expires_at: UnsafeCell<DeadlineBits>,
    /// The timing wheel's back link; the sorted list of `small-timer-queue` has none.
    #[cfg(not(feature = "small-timer-queue"))]
    pub(crate) prev: UnsafeCell<*const Header>,
    pub(crate) next: UnsafeCell<*const Header>,
    /// The address of the timer queue the entry is linked in (a `&'static TimerQueue`), or null
    /// when it is in none. Null is zero, so a free slot stays all zeros. Not there with
    /// `one-timer-queue`, where only the global queue links entries.
    #[cfg(not(feature = "one-timer-queue"))]
    pub(crate) queue: AtomicPtr<()>,
}

impl TimerLink {
    crate::loom_const_fn! {
        pub(crate) fn new() -> TimerLink {
            TimerLink {
                // `!u64::MAX`: not in the queue.
                expires_at: UnsafeCell::new(deadline_bits(0)),
                #[cfg(not(feature = "small-timer-queue"))]
                prev: UnsafeCell::new(ptr::null()),
                next: UnsafeCell::new(ptr::null()),
                #[cfg(not(feature = "one-timer-queue"))]
                queue: AtomicPtr::new(ptr::null_mut()),
            }
        }
    }
}

/// The type-erased operations on a task's future and output.
///
/// There is a vtable per future type and kind of task ([`RawTask::JOINABLE`],
/// [`RawTask::DETACHED`]; an uncancellable task has none, see below): what a task does when it ends
/// depends on its kind, and only the ends of the kinds a program spawns are linked into it. A
/// program whose tasks are all detached links no join protocol (no `JoinHandle` to hand the
/// output to, no join waker to wake, no `HANDLE` to wait for).
///
/// A task whose storage may be dropped from outside its poll (a cancellable or joinable one) has
/// a [`DropVTable`], which begins with this one. An uncancellable task has no vtable: its header
/// holds its `poll` function itself (see [`VTableCell`]). Its future is only ever dropped by its
/// own completion, in `poll`, it keeps no output, and its `finish` is the same function for every
/// future type ([`task::finish_detached`], which the run loop calls for it), so neither its drop
/// glue nor a table is linked (8 bytes of flash per future type on 32-bit targets). Its state
/// word says which (`UNCANCELLABLE`, see [`super::state`]).
#[repr(C)]
pub(crate) struct TaskVTable {
    /// Polls the future with the task's own waker and, on `Ready`, ends the task: drops the
    /// future, stores the output for the `JoinHandle` (or, for a detached task, drops it) and
    /// completes the task as its kind does. If the poll (or the future's destructor) unwinds,
    /// the task is marked to be finished by the executor's next look at it
    /// (`task::poll_unwound`); if it was the destructor, the slot's vtable is [`GONE`] afterwards.
    ///
    /// The waker and its `Context` are made inside, not passed in: there they are constants to
    /// the future's inlined poll (a `wake_by_ref` becomes a direct call), and the run loop does
    /// not build and store a `Context` for an opaque callee per task. The run loop does not look
    /// at the result either: the end of a task is here, in code that knows the task's kind.
    pub(crate) poll: unsafe fn(NonNull<Header>),
    /// Finishes a task that the executor dequeued with `COMPLETE` or `CANCELLED` set (the
    /// second argument: its state word, `SCHEDULED` cleared): lets the slot of a complete task
    /// go, or drops (or retires) the future of a cancelled one and completes it. See
    /// `task::run_finishing` and its detached forms.
    pub(crate) finish: unsafe fn(NonNull<Header>, u32),
}

/// The vtable of a task whose storage may be dropped from outside its poll: a joinable task (its
/// output, which its `JoinHandle` may never take, and its future, which an abort drops) or a
/// detached cancellable one (its future). [`TaskVTable`] first, so that a pointer to the whole is
/// a pointer to it.
#[repr(C)]
pub(crate) struct DropVTable {
    pub(crate) task: TaskVTable,
    /// Drops what the storage holds, in place: the output if the second argument is
    /// [`OUTPUT`](super::state::OUTPUT)'s bit (only a joinable task keeps one), else the future.
    /// One entry for both drops: a detached task has no output to drop.
    pub(crate) drop_storage: unsafe fn(NonNull<Header>, u32),
}

impl DropVTable {
    /// A pointer to the vtable as a [`TaskVTable`], for a header: made from the whole, so that
    /// [`VTableCell::drops`] may read it as the whole again.
    pub(crate) const fn as_task(&'static self) -> *const TaskVTable {
        ptr::from_ref(self).cast()
    }

    /// Drops the live future in place.
    ///
    /// # Safety
    ///
    /// The storage holds the task's live future, which is never used again.
    #[inline]
    pub(crate) unsafe fn drop_future(&self, header: NonNull<Header>) {
        // SAFETY: by our caller.
        unsafe { (self.drop_storage)(header, 0) };
    }

    /// Drops the output in place.
    ///
    /// # Safety
    ///
    /// The storage holds the task's output (`OUTPUT` is set, which only a joinable task's
    /// completion sets), which is never used again.
    #[inline]
    pub(crate) unsafe fn drop_output(&self, header: NonNull<Header>) {
        // SAFETY: by our caller.
        unsafe { (self.drop_storage)(header, super::state::OUTPUT) };
    }
}

/// The vtable field of a header: null until the slot's first spawn writes it, so that a free slot
/// is all zeros (a `static` pool then goes to `.bss` and costs no flash).
///
/// It holds a raw pointer, not a reference: a [`DropVTable`]'s is stored as a pointer to its
/// first field, made from the whole ([`DropVTable::as_task`]), and read as the whole again by
/// [`drops`](VTableCell::drops); a reference to the first field alone would not reach the rest.
/// An uncancellable task's holds its `poll` function instead, cast to the pointer's type
/// ([`poll_fn_as_vtable`]): [`poll`](VTableCell::poll) knows it by the task's state, and nothing
/// else reads it but to compare it with [`GONE`].
/// The vtable may only be read once a spawn has written it (which the state word already
/// demands: nothing reads the vtable of a slot whose `CLAIMED` was never set).
#[repr(transparent)]
pub(crate) struct VTableCell(UnsafeCell<*const TaskVTable>);

impl VTableCell {
    crate::loom_const_fn! {
        /// Null: no task was ever spawned in the slot.
        pub(crate) fn new() -> VTableCell {
            VTableCell(UnsafeCell::new(ptr::null()))
        }
    }

    /// The task's `poll`: the function itself for an uncancellable task, its vtable's for the
    /// others. `state`: the task's state word.
    ///
    /// # Safety
    ///
    /// A spawn wrote it (the slot was claimed), and nobody writes it meanwhile (the caller owns
    /// the live task's fields, or it is the executor reading a task it runs; see
    /// [`super::state`]); the task is live, not cancelled (so not [`GONE`], which only a
    /// cancelled task's slot points at).
    #[inline(always)]
    pub(crate) unsafe fn poll(&self, state: u32) -> unsafe fn(NonNull<Header>) {
        // SAFETY: by our caller, nobody writes the field meanwhile.
        let p = self.0.with(|p| unsafe { *p });
        if state & super::state::UNCANCELLABLE != 0 {
            // SAFETY: an uncancellable task's spawn stored its `poll` itself
            // (`poll_fn_as_vtable`), and it is not `GONE` (by our caller).
            unsafe { core::mem::transmute::<*const (), unsafe fn(NonNull<Header>)>(p.cast()) }
        } else {
            // SAFETY: by our caller, a pointer that a spawn stored, to a `static` vtable (or a
            // promoted constant one).
            unsafe { (*p).poll }
        }
    }

    /// The vtable's `finish`.
    ///
    /// # Safety
    ///
    /// As for [`poll`](VTableCell::poll), but the task may be cancelled, and it is not
    /// uncancellable (its state has no `UNCANCELLABLE`), or its vtable is [`GONE`].
    #[inline(always)]
    pub(crate) unsafe fn finish(&self) -> unsafe fn(NonNull<Header>, u32) {
        // SAFETY: by our caller, a pointer to a `static` vtable (a `DropVTable`'s first field,
        // made from the whole, or `GONE`).
        self.0.with(|p| unsafe { (**p).finish })
    }

    /// Whether the slot points at [`GONE`] (only ever after a future's destructor unwound).
    ///
    /// # Safety
    ///
    /// As for [`poll`](VTableCell::poll), but the task may be cancelled.
    #[cfg(panic = "unwind")]
    #[inline]
    pub(crate) unsafe fn is_gone(&self) -> bool {
        // SAFETY: by our caller, nobody writes the field meanwhile; the pointer is only compared.
        self.0.with(|p| ptr::eq(unsafe { *p }, &GONE))
    }

    /// The vtable of a task whose storage may be dropped from outside its poll.
    ///
    /// # Safety
    ///
    /// As for [`get`](VTableCell::get), and the task is joinable or detached cancellable (its
    /// state has no `UNCANCELLABLE`), and its vtable is not [`GONE`].
    #[inline(always)]
    pub(crate) unsafe fn drops(&self) -> &'static DropVTable {
        // SAFETY: by our caller: a spawn of such a task stored `DropVTable::as_task`, a pointer
        // to the whole `DropVTable`.
        self.0.with(|p| unsafe { &*(*p).cast::<DropVTable>() })
    }

    /// Stores `vtable`.
    ///
    /// # Safety
    ///
    /// The caller owns the task's fields (between a claim and the first push, or as the executor
    /// running the live task); `vtable` points to a `static` vtable (a [`DropVTable`]'s through
    /// [`DropVTable::as_task`]).
    #[inline(always)]
    pub(crate) unsafe fn set(&self, vtable: *const TaskVTable) {
        // SAFETY: by our caller, nobody else reads or writes the field now.
        self.0.with_mut(|p| unsafe { *p = vtable });
    }
}

/// The header and the join waker: the part of a slot whose layout is independent of `SIZE`.
///
/// The join waker (see [`super::join_waker`]) follows the header, or, with `task-wakers-only` and
/// `one-timer-queue`, is the header's last word; [`SlotHead::join_waker`] finds it either way.
#[repr(C)]
pub(crate) struct SlotHead {
    pub(crate) header: Header,
    /// The waker of whoever awaits the `JoinHandle`; see `JOIN_WAKER` in [`super::state`].
    #[cfg(not(all(feature = "task-wakers-only", feature = "one-timer-queue")))]
    join_waker: JoinWaker,
    /// Under loom, a cell that stands for the storage: every access to the storage goes through
    /// [`storage_mut`], which touches it, so loom checks that the state word really hands the
    /// storage to one owner at a time (the storage itself is raw bytes loom cannot see).
    #[cfg(loom)]
    pub(crate) storage_tracker: UnsafeCell<()>,
}

impl SlotHead {
    /// The join waker, wherever the configuration keeps it.
    #[inline(always)]
    pub(crate) fn join_waker(&self) -> &JoinWaker {
        #[cfg(not(all(feature = "task-wakers-only", feature = "one-timer-queue")))]
        return &self.join_waker;
        #[cfg(all(feature = "task-wakers-only", feature = "one-timer-queue"))]
        return &self.header.join_waker;
    }
}

/// The storage for a future or its output, aligned to [`MAX_TASK_ALIGN`].
#[repr(C)]
pub(crate) struct Storage<const SIZE: usize> {
    /// Takes no space; gives the storage its alignment.
    _align: [<Align<MAX_TASK_ALIGN> as AlignTo>::Zst; 0],
    bytes: core::cell::UnsafeCell<MaybeUninit<[u8; SIZE]>>,
}

/// The largest alignment a task's future or output may need.
///
/// 16 bytes on 64-bit targets (where `u128` and SIMD types need it), 8 elsewhere.
pub const MAX_TASK_ALIGN: usize = if usize::BITS == 64 { 16 } else { 8 };

/// A zero-sized type aligned to `A` bytes, for the alignments [`MAX_TASK_ALIGN`] takes: `Storage`
/// follows that constant without repeating its choice.
struct Align<const A: usize>;

/// Names the zero-sized type of an [`Align`].
trait AlignTo {
    type Zst;
}

/// Zero-sized and 8-byte aligned.
#[repr(align(8))]
struct Align8;

/// Zero-sized and 16-byte aligned.
#[repr(align(16))]
struct Align16;

impl AlignTo for Align<8> {
    type Zst = Align8;
}

impl AlignTo for Align<16> {
    type Zst = Align16;
}

/// Memory for one task: a header, a join waker and `SIZE` bytes for the future or its output.
///
/// A [`TaskPool`](crate::TaskPool) holds an array of them; a [`SlicePool`](crate::SlicePool) a
/// slice made at run time.
#[repr(C)]
pub struct TaskSlot<const SIZE: usize> {
    pub(crate) head: SlotHead,
    pub(crate) storage: Storage<SIZE>,
}

/// Where the storage starts, counted from the header: the same for every `SIZE`.
pub(crate) const STORAGE_OFFSET: usize = offset_of!(TaskSlot<8>, storage);

// SAFETY: every field is an atomic or is guarded by the state word's protocol (see `state.rs`),
// which hands each field to one owner at a time; futures that are not `Send` only enter a slot
// through `Spawner`, which is `!Send`.
unsafe impl<const SIZE: usize> Sync for TaskSlot<SIZE> {}
// SAFETY: as for `Sync`.
unsafe impl<const SIZE: usize> Send for TaskSlot<SIZE> {}

impl<const SIZE: usize> TaskSlot<SIZE> {
    crate::loom_const_fn! {
        /// A free slot, for a [`SlicePool`](crate::SlicePool) made at run time.
        pub fn new() -> TaskSlot<SIZE> {
            TaskSlot {
                head: SlotHead {
                    header: Header {
                        state: AtomicU32::new(0),
                        budget: budget::InHeader::new(),
                        run_next: AtomicPtr::new(ptr::null_mut()),
                        vtable: VTableCell::new(),
                        scheduler: AtomicPtr::new(ptr::null_mut()),
                        timer: TimerLink::new(),
                        #[cfg(all(feature = "task-wakers-only", feature = "one-timer-queue"))]
                        join_waker: JoinWaker::new(),
                    },
                    #[cfg(not(all(feature = "task-wakers-only", feature = "one-timer-queue")))]
                    join_waker: JoinWaker::new(),
                    #[cfg(loom)]
                    storage_tracker: UnsafeCell::new(()),
                },
                storage: Storage {
                    _align: [],
                    bytes: core::cell::UnsafeCell::new(MaybeUninit::uninit()),
                },
            }
        }
    }

    /// The task's name everywhere else: a pointer to the header whose provenance is the whole slot.
    #[inline]
    pub(crate) fn header_ptr(&'static self) -> NonNull<Header> {
        NonNull::from(self).cast()
    }
}

impl<const SIZE: usize> Default for TaskSlot<SIZE> {
    fn default() -> Self {
        Self::new()
    }
}

/// The storage of the task `header` belongs to.
///
/// # Safety
///
/// `header` must come from [`TaskSlot::header_ptr`].
#[inline]
pub(crate) unsafe fn storage(header: NonNull<Header>) -> *mut u8 {
    // SAFETY: the caller's pointer has the provenance of the whole slot, and the storage lies
    // `STORAGE_OFFSET` bytes after the start of the slot, inside it.
    unsafe { header.cast::<u8>().as_ptr().add(STORAGE_OFFSET) }
}

/// The storage of the task `header` belongs to, for a caller that owns it now (by the state
/// word's rules). Under loom the access is recorded, so a model sees two owners that overlap.
///
/// # Safety
///
/// As for [`storage`].
#[inline]
pub(crate) unsafe fn storage_mut(header: NonNull<Header>) -> *mut u8 {
    #[cfg(loom)]
    // SAFETY: by the caller.
    unsafe { slot_head(header) }
        .storage_tracker
        .with_mut(|_| ());
    // SAFETY: by the caller.
    unsafe { storage(header) }
}

/// The slot head `header` belongs to.
///
/// # Safety
///
/// `header` must come from [`TaskSlot::header_ptr`]; the reference must not outlive the slot
/// (slots live in `'static` pools).
#[inline]
pub(crate) unsafe fn slot_head<'a>(header: NonNull<Header>) -> &'a SlotHead {
    // SAFETY: `SlotHead` is the `#[repr(C)]` first field of the slot and `Header` its first field,
    // so the pointers coincide; every field of it allows shared access (atomics and cells).
    unsafe { header.cast::<SlotHead>().as_ref() }
}

/// Fails to compile (when instantiated) if `F` or its output does not fit a slot of `SIZE` bytes.
pub(crate) struct AssertFits<F, const SIZE: usize>(PhantomData<F>);

impl<F: Future, const SIZE: usize> AssertFits<F, SIZE> {
    /// Whether `F` and its output fit, as a value (no compile error).
    pub(crate) const fn fits() -> bool {
        size_of::<F>() <= SIZE
            && size_of::<F::Output>() <= SIZE
            && align_of::<F>() <= MAX_TASK_ALIGN
            && align_of::<F::Output>() <= MAX_TASK_ALIGN
    }

    pub(crate) const OK: () = {
        assert!(
            size_of::<F>() <= SIZE,
            "this future does not fit the task pool's slots: raise SIZE in TaskPool<N, SIZE> \
             (or box the future's large state)"
        );
        assert!(
            size_of::<F::Output>() <= SIZE,
            "this task's output does not fit the task pool's slots: raise SIZE in TaskPool<N, SIZE>"
        );
        assert!(
            align_of::<F>() <= MAX_TASK_ALIGN && align_of::<F::Output>() <= MAX_TASK_ALIGN,
            "this future or its output needs more alignment than task slots offer (MAX_TASK_ALIGN)"
        );
    };
}

/// The vtable of a task whose future's destructor unwound after it returned `Ready`: the future
/// is gone and no output was stored, so there is nothing left to drop (and nothing to poll: the
/// task is `CANCELLED` before anyone could). Its end completes the task without a drop, by the
/// general protocol, right for every kind of task (a detached task is one whose `HANDLE` is
/// clear).
pub(crate) static GONE: TaskVTable = TaskVTable {
    poll: |_| {},
    finish: task::run_finishing_gone,
};

/// Points a slot's vtable at [`GONE`] when dropped: the guard of a finished future's drop.
struct PointAtGone(NonNull<Header>);

impl Drop for PointAtGone {
    fn drop(&mut self) {
        // SAFETY: only made in `RawTask::poll`, which the task's executor runs while it owns the
        // live task's fields (the vtable among them, see `super::state`); the slot is static.
        let head = unsafe { slot_head(self.0) };
        // SAFETY: as above: nobody else reads or writes the field now; `GONE` is a static.
        unsafe { head.header.vtable.set(&GONE) };
    }
}

/// An uncancellable task's `poll` as its header's vtable pointer holds it (see [`VTableCell`]).
#[inline(always)]
fn poll_fn_as_vtable(poll: unsafe fn(NonNull<Header>)) -> *const TaskVTable {
    (poll as *const ()).cast()
}

/// The future and output type of one task, behind its vtable.
pub(crate) struct RawTask<F>(PhantomData<F>);

impl<F: Future> RawTask<F> {
    /// [`JOINABLE`](RawTask::JOINABLE), as a `'static` reference.
    pub(crate) const JOINABLE_REF: &'static DropVTable = &Self::JOINABLE;
    /// [`DETACHED`](RawTask::DETACHED), as a `'static` reference.
    pub(crate) const DETACHED_REF: &'static DropVTable = &Self::DETACHED;

    /// The vtable of tasks whose future is `F` and that have a `JoinHandle` (which may abort
    /// them, and takes the output).
    const JOINABLE: DropVTable = DropVTable {
        task: TaskVTable {
            poll: Self::poll::<false>,
            finish: task::run_finishing,
        },
        drop_storage: Self::drop_storage,
    };

    /// The vtable of detached tasks whose future is `F`: their output is dropped as soon as the
    /// future returns it, and their end does not look for a `JoinHandle` (see
    /// `task::complete_detached`).
    const DETACHED: DropVTable = DropVTable {
        task: TaskVTable {
            poll: Self::poll::<true>,
            finish: task::run_finishing_detached,
        },
        drop_storage: Self::drop_storage,
    };

    /// What a header of a detached uncancellable task whose future is `F` holds in place of a
    /// vtable: its `poll` itself (see [`VTableCell`]). No `drop_storage`, so the future's
    /// destructor (the drop glue of every state it can wait in) is only linked through `poll`'s
    /// own completion, and a cancellation retires the task (see `RETIRED`); no `finish`, since
    /// it is [`task::finish_detached`] for every such task, which the run loop calls by the
    /// state's `UNCANCELLABLE`.
    pub(crate) fn detached_uncancellable() -> *const TaskVTable {
        poll_fn_as_vtable(Self::poll::<true>)
    }

    /// Polls the task and, if its future returned `Ready`, ends it: see [`TaskVTable::poll`].
    /// `DETACHED`: the task has no `JoinHandle` (its vtable is one of the detached ones), so the
    /// output is dropped here and the task completes without the join protocol.
    ///
    /// # Safety
    ///
    /// The storage holds a live, pinned `F`, and the caller is the task's executor running it
    /// (which owns a live task's storage; see [`super::state`]), having taken it out of its run
    /// queue.
    unsafe fn poll<const DETACHED: bool>(header: NonNull<Header>) {
        // SAFETY: ground rule 1.
        let head = unsafe { slot_head(header) };
        // If the poll (or a destructor below) unwinds, the task is finished by the executor's
        // next look at it, outside the unwinding (see `task::poll_unwound`).
        let unwound = task::PanicGuard(header, head);
        // SAFETY: by the caller, the storage holds an `F` that nobody else touches meanwhile;
        // it never moves (the slot is static), so pinning it is sound.
        let future = unsafe { Pin::new_unchecked(&mut *storage_mut(header).cast::<F>()) };
        // SAFETY: the waker is only lent to `poll`; the header comes from a static slot.
        let waker = ManuallyDrop::new(unsafe { waker_for(header) });
        let Poll::Ready(output) = future.poll(&mut Context::from_waker(&waker)) else {
            core::mem::forget(unwound);
            return;
        };
        // If the future's destructor (or a detached task's output's) unwinds, the future is
        // gone all the same (a destructor runs once): the guard points the slot at `GONE`, so
        // that finishing the task does not drop it again.
        let gone = PointAtGone(header);
        // SAFETY: the future is done and is dropped once, here; the output then takes its
        // place in the storage, which fits it by `FITS`.
        unsafe { ptr::drop_in_place(storage_mut(header).cast::<F>()) };
        if DETACHED {
            // Nobody will ever take it.
            drop(output);
        } else {
            // SAFETY: as above.
            unsafe { ptr::write(storage_mut(header).cast::<F::Output>(), output) };
        }
        core::mem::forget(gone);
        core::mem::forget(unwound);
        // Outside the guards: the join waker a joinable task's end wakes may be user code.
        if DETACHED {
            // SAFETY: the future is gone (its output too), and we are its executor's thread.
            unsafe { task::finish_detached(header, super::state::COMPLETE) };
        } else {
            // SAFETY: the future is gone and its output is in the storage; as above.
            unsafe { task::complete_output(header, head) };
        }
    }

    /// Drops the output (`what` is `OUTPUT`) or else the future, in place.
    ///
    /// # Safety
    ///
    /// The storage holds what `what` names (a live `F`, or its output), never used again.
    unsafe fn drop_storage(header: NonNull<Header>, what: u32) {
        if what == super::state::OUTPUT {
            // SAFETY: by the caller.
            unsafe { ptr::drop_in_place(storage_mut(header).cast::<F::Output>()) }
        } else {
            // SAFETY: by the caller.
            unsafe { ptr::drop_in_place(storage_mut(header).cast::<F>()) }
        }
    }
}
