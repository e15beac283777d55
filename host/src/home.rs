//! The fence that lets a [`Runtime`](crate::Runtime) move between threads: [`HomeRunner`].
//!
//! A core [`Runner`] is `!Send` because the tasks spawned through it need not be `Send`: they
//! must be polled and dropped on one thread. The shell spawns such tasks only through
//! [`spawn_local`](crate::spawn_local), which marks the runtime's shell (`Shell::local_tasks`).
//! Until the first mark, every task of the runtime is `Send`, and the runner may poll them on any
//! thread; after it, the runner is bound to the thread that ran the runtime then, its *home*.
//!
//! The home is not stored apart: it is the thread that last ran the runtime. `spawn_local` runs
//! only on a thread inside the runtime's `block_on` (the one place that polls the runner with the
//! spawn gate open), and [`HomeRunner::claim`] records that thread before it hands out the
//! runner. Once the mark is set, `claim` refuses every other thread, so the last thread stays the
//! home for the rest of the runtime's life.

use std::cell::Cell;
use std::thread::{self, ThreadId};

use ebbtide_core::Runner;

use crate::shell::Shell;

/// A runtime's [`Runner`], which polls (and lets its tasks be dropped) only on the runtime's home
/// thread once a `!Send` task was spawned, and on any thread before.
pub(crate) struct HomeRunner {
    runner: Runner,
    /// The thread that last ran the runtime (claimed the runner), if any.
    last: Cell<Option<ThreadId>>,
}

// SAFETY: `Runner` is `!Send` for two reasons. (a) Its `in_poll` cell is used without
// synchronisation: a `HomeRunner` is moved, never shared (it is `!Sync`, being made of `Cell`s,
// and so is the `Runtime` that holds it), and moving it needs `&mut`/ownership, so no poll is
// running when it moves; the move itself (a thread spawn, a channel) orders the accesses.
// (b) Tasks spawned through it may be `!Send`: such a future must be polled and dropped only on
// the thread that spawned it. The shell spawns `!Send` futures only in `crate::spawn_local`, which
// marks the shell first (`Shell::mark_local_task`, reset only when every task of the runtime is
// complete and its parts are reused) and runs only on the thread that claimed the runner for the
// `block_on` it is inside (`context::current()` is set only there and in `Runtime`'s `Drop`, where
// the spawn gate is closed). The runner's futures are reached in exactly two ways, both through
// this type: polling, through [`HomeRunner::claim`], which after a mark refuses every thread but
// the last claimant (the spawner of every `!Send` task); and dropping them at shutdown
// (`TaskMemory::cancel_all`, `Runner::poll` on cancelled tasks), through
// [`HomeRunner::for_drop`], which refuses the same threads unless no task is left at all, and
// then the runtime leaks its tasks instead (the `HomeRunner` stays in its `ManuallyDrop`).
// `into_inner` is called only at the end of `Runtime`'s `Drop` on a thread that `for_drop`
// allowed, to put the bare runner in the recycling bin (whose `Parts` have their own proof: every
// task complete) or drop it there. (`Runner` has no destructor anyway: dropping one touches no
// task.)
unsafe impl Send for HomeRunner {}

impl HomeRunner {
    /// A runner that has run no task yet.
    pub(crate) fn new(runner: Runner) -> HomeRunner {
        HomeRunner {
            runner,
            last: Cell::new(None),
        }
    }

    /// The runner, to run the runtime of `shell` on this thread, which becomes the last thread.
    ///
    /// # Panics
    ///
    /// If a `!Send` task was spawned on the runtime and this is not its home thread.
    pub(crate) fn claim(&self, shell: &Shell) -> &Runner {
        let here = thread::current().id();
        if shell.had_local_tasks() && self.last.get() != Some(here) {
            panic!(
                "this ebbtide runtime ran spawn_local tasks on another thread ({:?}), and tasks \
                 that are not Send must stay on that thread: run it there, or do not use \
                 spawn_local on a runtime that moves between threads",
                self.last.get().expect("a runtime with local tasks has run")
            );
        }
        self.last.set(Some(here));
        &self.runner
    }

    /// The runner, to cancel and drop the tasks of `shell` on this thread at shutdown; `None` when
    /// this thread must not drop them (some may be `!Send` futures of another thread). Call it
    /// after the spawn gate closed, so that no task can appear afterwards.
    pub(crate) fn for_drop(&self, shell: &Shell) -> Option<&Runner> {
        let here = Some(thread::current().id());
        if !shell.had_local_tasks() || self.last.get() == here || shell.tasks.is_empty() {
            Some(&self.runner)
        } else {
            None
        }
    }

    /// The bare runner, for the recycling bin (see `recycle::Parts::new`).
    pub(crate) fn into_inner(self) -> Runner {
        self.runner
    }
}
