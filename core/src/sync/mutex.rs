//! [`Mutex`]: an async lock whose guard may be held across `.await`.
//!
//! Built, like tokio's, on a [`Semaphore`] with one permit, so it inherits its fairness: tasks get
//! the lock in the order they asked for it.
//!
//! Prefer a [`blocking_mutex`](crate::blocking_mutex) lock (or no lock) when the guard is never
//! held across an `.await`; this one is for when it is.
//!
//! No user code runs under the lock of the semaphore's queue (wakers are cloned before it is
//! taken and dropped after), so a foreign waker may use the mutex again. The `T` itself is only
//! reached through a [`MutexGuard`], never under that lock.
//!
//! # Examples
//!
//! ```
//! use ebbtide_core::sync::Mutex;
//!
//! static COUNTER: Mutex<u32> = Mutex::new(0);
//!
//! ebbtide_core::block_on(async {
//!     *COUNTER.lock().await += 1;
//!     assert_eq!(*COUNTER.lock().await, 1);
//! });
//! ```

use core::fmt;
use core::mem::ManuallyDrop;
use core::ops::{Deref, DerefMut};
use core::ptr;

use crate::blocking_mutex::{CriticalSectionRawMutex, RawMutex};
use crate::loom::UnsafeCell;
use crate::sync::semaphore::{Semaphore, TryAcquireError};

/// An async, fair (FIFO) mutual-exclusion lock around a `T`.
///
/// Generic over the [`RawMutex`] that guards the queue of waiting tasks (see
/// [`blocking_mutex`](crate::blocking_mutex)); `T` itself is reached only through a
/// [`MutexGuard`].
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::Mutex;
/// use ebbtide_core::{Executor, TaskPool};
///
/// static EXECUTOR: Executor = Executor::new();
/// static POOL: TaskPool<4> = TaskPool::new();
/// static LOG: Mutex<[u8; 4]> = Mutex::new([0; 4]);
///
/// let runner = EXECUTOR.runner().unwrap();
/// let spawner = runner.spawner();
/// let tasks = [1u8, 2].map(|id| {
///     spawner
///         .spawn(&POOL, async move {
///             let mut log = LOG.lock().await;
///             ebbtide_core::task::yield_now().await; // the guard is held across an await
///             log[id as usize] = id;
///         })
///         .unwrap()
/// });
/// runner.run_until(async { for t in tasks { t.await.unwrap() } }, || {});
/// assert_eq!(*LOG.try_lock().unwrap(), [0, 1, 2, 0]);
/// ```
pub struct Mutex<T: ?Sized, M: RawMutex = CriticalSectionRawMutex> {
    semaphore: Semaphore<M>,
    data: UnsafeCell<T>,
}

// SAFETY: the semaphore's one permit gives one guard at a time access to `data`, like
// `std::sync::Mutex`: `T: Send` is enough, since the data is handed between threads, never shared.
unsafe impl<T: ?Sized + Send, M: RawMutex + Sync> Sync for Mutex<T, M> {}
// SAFETY: moving the mutex moves the data.
unsafe impl<T: ?Sized + Send, M: RawMutex + Send> Send for Mutex<T, M> {}

impl<T> Mutex<T> {
    crate::loom_const_fn! {
        /// An unlocked mutex holding `value`, with a [`CriticalSectionRawMutex`] guarding its
        /// queue; see [`Mutex::with_mutex`] for another lock.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::sync::Mutex;
        ///
        /// static CONFIG: Mutex<Option<u32>> = Mutex::new(None);
        /// let local = Mutex::new(5);
        /// assert_eq!(local.into_inner(), 5);
        /// # let _ = &CONFIG;
        /// ```
        pub fn new(value: T) -> Mutex<T> {
            Mutex::with_mutex(value)
        }
    }
}

impl<T, M: RawMutex> Mutex<T, M> {
    crate::loom_const_fn! {
        /// An unlocked mutex holding `value`, with the lock `M` guarding its queue.
        ///
        /// # Examples
        ///
        /// ```
        /// use ebbtide_core::blocking_mutex::LocalRawMutex;
        /// use ebbtide_core::sync::Mutex;
        ///
        /// let mutex: Mutex<u32, LocalRawMutex> = Mutex::with_mutex(1);
        /// assert_eq!(*mutex.try_lock().unwrap(), 1);
        /// ```
        pub fn with_mutex(value: T) -> Mutex<T, M> {
            Mutex { semaphore: Semaphore::with_mutex(1), data: UnsafeCell::new(value) }
        }
    }

    /// Consumes the mutex and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Mutex;
    ///
    /// assert_eq!(Mutex::new("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `self` is consumed, so no guard exists; the value is read once and `this` is
        // never dropped, so it is not dropped twice.
        let value = this.data.with(|data| unsafe { ptr::read(data) });
        // SAFETY: the semaphore is dropped once, here, and not touched again.
        unsafe { ptr::drop_in_place(&mut this.semaphore) };
        value
    }
}

impl<T: ?Sized, M: RawMutex> Mutex<T, M> {
    /// Waits for the lock, in FIFO order, and returns a guard that unlocks on drop.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future gives up its place in the queue and never leaves the
    /// mutex locked.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Mutex;
    ///
    /// let mutex = Mutex::new(vec![1]);
    /// ebbtide_core::block_on(async {
    ///     mutex.lock().await.push(2);
    /// });
    /// assert_eq!(mutex.into_inner(), [1, 2]);
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T, M> {
        match self.semaphore.acquire().await {
            Ok(permit) => {
                permit.forget();
                MutexGuard { mutex: self }
            }
            Err(_) => unreachable!("a Mutex's semaphore is never closed"),
        }
    }

    /// Takes the lock if it is free and nobody waits for it.
    ///
    /// # Errors
    ///
    /// [`TryLockError`] if the lock is held (or tasks wait for it).
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Mutex;
    ///
    /// let mutex = Mutex::new(1);
    /// let guard = mutex.try_lock().unwrap();
    /// assert!(mutex.try_lock().is_err());
    /// drop(guard);
    /// assert!(mutex.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T, M>, TryLockError> {
        match self.semaphore.try_acquire() {
            Ok(permit) => {
                permit.forget();
                Ok(MutexGuard { mutex: self })
            }
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => Err(TryLockError(())),
        }
    }

    /// The value, through `&mut self`: no locking needed.
    ///
    /// # Examples
    ///
    /// ```
    /// use ebbtide_core::sync::Mutex;
    ///
    /// let mut mutex = Mutex::new(1);
    /// *mutex.get_mut() += 1;
    /// assert_eq!(mutex.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard exists and nobody else can reach the data.
        self.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug, M: RawMutex> fmt::Debug for Mutex<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Exclusive access to a [`Mutex`]'s value; unlocks on drop.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::Mutex;
///
/// let mutex = Mutex::new(String::from("a"));
/// let mut guard = mutex.try_lock().unwrap();
/// guard.push('b');
/// assert_eq!(&*guard, "ab");
/// ```
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized, M: RawMutex = CriticalSectionRawMutex> {
    mutex: &'a Mutex<T, M>,
}

// SAFETY: a guard hands out `&T` to whoever shares it, so sharing needs `T: Sync`.
unsafe impl<T: ?Sized + Sync, M: RawMutex + Sync> Sync for MutexGuard<'_, T, M> {}

impl<T: ?Sized, M: RawMutex> Deref for MutexGuard<'_, T, M> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard owns the semaphore's only permit, so no `&mut T` exists elsewhere.
        self.mutex.data.with(|data| unsafe { &*data })
    }
}

impl<T: ?Sized, M: RawMutex> DerefMut for MutexGuard<'_, T, M> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard owns the only permit, and `&mut self` makes this the only reference.
        self.mutex.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: ?Sized, M: RawMutex> Drop for MutexGuard<'_, T, M> {
    fn drop(&mut self) {
        self.mutex.semaphore.add_permits(1);
    }
}

impl<T: ?Sized + fmt::Debug, M: RawMutex> fmt::Debug for MutexGuard<'_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display, M: RawMutex> fmt::Display for MutexGuard<'_, T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// The mutex is locked (or tasks wait for it), so [`Mutex::try_lock`] could not take it.
///
/// # Examples
///
/// ```
/// use ebbtide_core::sync::Mutex;
///
/// let mutex = Mutex::new(());
/// let _guard = mutex.try_lock().unwrap();
/// let error = mutex.try_lock().unwrap_err();
/// assert_eq!(error.to_string(), "the mutex is locked; await `lock` to wait for it");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TryLockError(());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the mutex is locked; await `lock` to wait for it")
    }
}

impl core::error::Error for TryLockError {}
