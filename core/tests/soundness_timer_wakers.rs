//! No user code runs while the timer queue's lock is held: a foreign waker (one from another
//! executor) whose `clone`, `drop` or `wake` calls back into the timer queue must work, not
//! panic on a re-entered lock (or worse, get a second `&mut` to the queue).

use core::mem::ManuallyDrop;
use core::task::{RawWaker, RawWakerVTable, Waker};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};

use ebbtide_core::time::{queue, Instant};
use ebbtide_mock_time::MockDriver;

/// A foreign waker that uses the timer queue from inside its `clone`, `drop` and `wake`.
struct Adversary {
    clones: AtomicUsize,
    drops: AtomicUsize,
    /// Wakes by value (each also releases a waker) and by reference.
    wakes: AtomicUsize,
    wakes_by_ref: AtomicUsize,
    /// What `queue::next_deadline` said from inside the last `clone`, `drop` or `wake`
    /// (`u64::MAX`: `None`; `NOT_YET`: not called yet).
    seen: AtomicU64,
    /// If not 0, the next `clone` also registers this same waker for that deadline.
    register_on_clone: AtomicU64,
}

const NOT_YET: u64 = u64::MAX - 1;

impl Adversary {
    const fn new() -> Adversary {
        Adversary {
            clones: AtomicUsize::new(0),
            drops: AtomicUsize::new(0),
            wakes: AtomicUsize::new(0),
            wakes_by_ref: AtomicUsize::new(0),
            seen: AtomicU64::new(NOT_YET),
            register_on_clone: AtomicU64::new(0),
        }
    }

    /// The test's own handle on the waker: made from raw parts, never cloned or dropped through
    /// the vtable, so the counters only count what the timer queue does.
    fn waker(&'static self) -> ManuallyDrop<Waker> {
        // SAFETY: the vtable's functions treat `data` as the `&'static Adversary` it is, and are
        // thread-safe.
        ManuallyDrop::new(unsafe { Waker::from_raw(raw(self)) })
    }

    /// Wakers the timer queue holds: clones made minus those it dropped or woke by value.
    fn held(&self) -> usize {
        self.clones.load(SeqCst) - self.drops.load(SeqCst) - self.wakes.load(SeqCst)
    }

    /// Re-enters the timer queue, as user code may.
    fn use_the_queue(&self) {
        let next = queue::next_deadline().unwrap_or(u64::MAX);
        self.seen.store(next, SeqCst);
    }

    fn seen(&self) -> Option<u64> {
        let seen = self.seen.load(SeqCst);
        assert_ne!(seen, NOT_YET, "the waker's code never ran");
        (seen != u64::MAX).then_some(seen)
    }
}

/// A `static`, so that its address is unique and `Waker::will_wake` recognises clones.
static VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_waker, wake_waker_by_ref, drop_waker);

fn raw(adversary: &'static Adversary) -> RawWaker {
    RawWaker::new(adversary as *const Adversary as *const (), &VTABLE)
}

/// # Safety
///
/// `data` comes from [`raw`].
unsafe fn adversary(data: *const ()) -> &'static Adversary {
    // SAFETY: by the caller, `data` is a `&'static Adversary`.
    unsafe { &*(data as *const Adversary) }
}

unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // SAFETY: every waker with this vtable comes from `raw`.
    let adversary = unsafe { adversary(data) };
    adversary.clones.fetch_add(1, SeqCst);
    adversary.use_the_queue();
    let at = adversary.register_on_clone.swap(0, SeqCst);
    if at != 0 {
        queue::schedule_wake(at, &adversary.waker());
    }
    raw(adversary)
}

unsafe fn wake_waker(data: *const ()) {
    // SAFETY: as in `clone`.
    let adversary = unsafe { adversary(data) };
    adversary.wakes.fetch_add(1, SeqCst);
    adversary.use_the_queue();
}

unsafe fn wake_waker_by_ref(data: *const ()) {
    // SAFETY: as in `clone`.
    let adversary = unsafe { adversary(data) };
    adversary.wakes_by_ref.fetch_add(1, SeqCst);
    adversary.use_the_queue();
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: as in `clone`.
    let adversary = unsafe { adversary(data) };
    adversary.drops.fetch_add(1, SeqCst);
    adversary.use_the_queue();
}

/// Queuing a foreign waker clones it: the clone may read the queue.
#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "task-timers-only keeps (and clones) no foreign waker"
)]
fn a_foreign_wakers_clone_may_use_the_timer_queue() {
    let _clock = MockDriver::lock_for_test();
    static ADVERSARY: Adversary = Adversary::new();
    let waker = ADVERSARY.waker();
    assert!(queue::schedule_wake(100, &waker), "the first deadline arms");
    assert_eq!(ADVERSARY.clones.load(SeqCst), 1);
    assert_eq!(
        ADVERSARY.seen(),
        None,
        "the clone ran before anything was queued"
    );
    assert_eq!(ADVERSARY.held(), 1);
    assert_eq!(queue::next_deadline(), Some(100));

    // An earlier deadline for the same waker: the entry is reused.
    assert!(queue::schedule_wake(60, &waker));
    assert_eq!(ADVERSARY.held(), 1);
    assert_eq!(queue::next_deadline(), Some(60));

    MockDriver::advance_to(Instant::from_ticks(60));
    assert_eq!(ADVERSARY.wakes.load(SeqCst), 1, "woken once, by value");
    assert_eq!(
        ADVERSARY.seen(),
        None,
        "woken after its entry left the queue"
    );
    assert_eq!(ADVERSARY.held(), 0);
    assert_eq!(queue::next_deadline(), None);
}

/// The clone registers the same waker first (re-entering `schedule_wake`), so the queue already
/// holds it when the outer call goes on: the outer clone is surplus and dropped, and that drop
/// uses the queue too.
#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "task-timers-only keeps (and clones) no foreign waker"
)]
fn a_foreign_wakers_drop_may_use_the_timer_queue() {
    let _clock = MockDriver::lock_for_test();
    static ADVERSARY: Adversary = Adversary::new();
    let waker = ADVERSARY.waker();
    ADVERSARY.register_on_clone.store(40, SeqCst);
    assert!(
        !queue::schedule_wake(100, &waker),
        "the clone's own registration (40) armed earlier"
    );
    assert_eq!(
        ADVERSARY.clones.load(SeqCst),
        2,
        "the outer and inner clones"
    );
    assert_eq!(ADVERSARY.drops.load(SeqCst), 1, "the surplus clone");
    assert_eq!(
        ADVERSARY.seen(),
        Some(40),
        "the drop ran after the clone's registration"
    );
    assert_eq!(ADVERSARY.held(), 1);
    assert_eq!(queue::next_deadline(), Some(40));

    MockDriver::advance_to(Instant::from_ticks(40));
    assert_eq!(ADVERSARY.wakes.load(SeqCst), 1);
    assert_eq!(ADVERSARY.held(), 0);
    assert_eq!(queue::next_deadline(), None);
}

/// A deadline that has passed wakes at once, by reference, and the table being full does too:
/// both outside the lock, and nothing is kept.
#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "task-timers-only keeps (and clones) no foreign waker"
)]
fn a_foreign_waker_woken_at_once_may_use_the_timer_queue() {
    let _clock = MockDriver::lock_for_test();
    static ADVERSARIES: [Adversary; queue::FOREIGN_WAKER_CAPACITY + 1] =
        [const { Adversary::new() }; queue::FOREIGN_WAKER_CAPACITY + 1];
    MockDriver::advance_to(Instant::from_ticks(1_000));
    let (last, rest) = ADVERSARIES.split_last().unwrap();

    assert!(!queue::schedule_wake(999, &last.waker()));
    assert_eq!(last.wakes_by_ref.load(SeqCst), 1);
    assert_eq!(last.held(), 0);
    assert_eq!(last.seen(), None);

    for (i, adversary) in rest.iter().enumerate() {
        queue::schedule_wake(2_000 + i as u64, &adversary.waker());
        assert_eq!(adversary.held(), 1);
    }
    assert!(!queue::schedule_wake(1_500, &last.waker()), "no room");
    assert_eq!(last.wakes_by_ref.load(SeqCst), 2);
    assert_eq!(last.held(), 0, "a waker that did not fit is not kept");
    assert_eq!(last.seen(), Some(2_000));

    // Emptying the queue wakes every entry by value, each seeing the queue.
    MockDriver::reset();
    for adversary in rest {
        assert_eq!(adversary.wakes.load(SeqCst), 1);
        assert_eq!(adversary.held(), 0);
    }
    assert_eq!(queue::next_deadline(), None);
}

/// A queued waker scheduled again for a deadline that has passed is woken at once and its entry
/// goes: the clone the queue held is dropped, outside the lock (the drop uses the queue, and sees
/// it without the entry).
#[test]
#[cfg_attr(
    feature = "task-timers-only",
    ignore = "task-timers-only keeps (and clones) no foreign waker"
)]
fn a_foreign_waker_rescheduled_into_the_past_drops_its_entry_outside_the_lock() {
    let _clock = MockDriver::lock_for_test();
    static ADVERSARY: Adversary = Adversary::new();
    MockDriver::advance_to(Instant::from_ticks(1_000));
    let waker = ADVERSARY.waker();
    assert!(queue::schedule_wake(2_000, &waker));
    assert_eq!(ADVERSARY.held(), 1);

    assert!(!queue::schedule_wake(500, &waker), "passed: woken at once");
    assert_eq!(ADVERSARY.wakes_by_ref.load(SeqCst), 1);
    assert_eq!(ADVERSARY.drops.load(SeqCst), 1, "the entry's clone");
    assert_eq!(ADVERSARY.held(), 0);
    assert_eq!(
        ADVERSARY.seen(),
        None,
        "dropped after its entry left the queue"
    );
    assert_eq!(queue::next_deadline(), None);

    MockDriver::advance_to(Instant::from_ticks(2_000));
    assert_eq!(
        ADVERSARY.wakes.load(SeqCst),
        0,
        "not woken again at the old deadline"
    );
}
