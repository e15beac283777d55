//! Every operation on what C hands over: raw pointers, callbacks and strings. The rest of the
//! crate is safe Rust on the types defined here, whose constructors are `unsafe` and state what
//! the C caller promised.

use std::ffi::{c_char, c_void, CStr};

/// A C completion callback: `void (*)(void *user, int64_t result)`.
///
/// `result >= 0` is success (what it means depends on the operation), `result < 0` a negative
/// errno-style code (see `ebbtide_strerror`). A callback must
/// return normally: it must not unwind (a C++ exception or a `longjmp` out of it aborts the
/// process or is undefined behaviour).
#[allow(non_camel_case_types)]
pub type ebbtide_cb = Option<unsafe extern "C" fn(user: *mut c_void, result: i64)>;

/// A callback and its user pointer, which the API calls once, on a runtime thread (or in
/// `ebbtide_rt_free`).
#[derive(Clone, Copy)]
pub(crate) struct Callback {
    f: unsafe extern "C" fn(*mut c_void, i64),
    user: *mut c_void,
}

// SAFETY: the API's contract (crate docs, "Threads") is that a callback and its `user` pointer
// may be used on the runtime's threads; the pointer is only handed back to the callback.
unsafe impl Send for Callback {}

impl Callback {
    /// The callback, or `None` for a NULL function pointer.
    pub(crate) fn new(cb: ebbtide_cb, user: *mut c_void) -> Option<Callback> {
        cb.map(|f| Callback { f, user })
    }

    /// Calls it.
    pub(crate) fn call(self, result: i64) {
        // SAFETY: `f` is a non-NULL function pointer the caller passed as an `ebbtide_cb`, so it
        // has this signature; the contract says it returns without unwinding and that calling
        // it on this thread with `user` is fine.
        unsafe { (self.f)(self.user, result) }
    }
}

/// A C buffer the API writes into until the operation's callback runs.
pub(crate) struct BufMut {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the caller hands the buffer over to the API until the callback (see `BufMut::new`);
// nobody else touches it meanwhile, so using it from another thread is a plain transfer.
unsafe impl Send for BufMut {}

impl BufMut {
    /// The buffer `ptr[..len]`, or `None` when `ptr` is NULL or `len` is 0.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for reads and writes of `len` bytes, and nothing else may read or
    /// write those bytes until the operation's callback is called (or, for a synchronous call,
    /// until it returns).
    pub(crate) unsafe fn new(ptr: *mut c_void, len: usize) -> Option<BufMut> {
        (!ptr.is_null() && len > 0 && len <= isize::MAX as usize).then_some(BufMut {
            ptr: ptr.cast(),
            len,
        })
    }

    /// The buffer as a slice, for as long as `self` is borrowed.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: `new`'s contract: valid for `len` bytes and ours alone until the callback,
        // which is called only after the last use of `self`.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

/// A C buffer the API reads from until the operation's callback runs.
pub(crate) struct BufRef {
    ptr: *const u8,
    len: usize,
}

// SAFETY: as for `BufMut`: the bytes are the API's to read until the callback.
unsafe impl Send for BufRef {}

impl BufRef {
    /// The buffer `ptr[..len]`, or `None` when `ptr` is NULL or `len` is 0.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for reads of `len` bytes, and nothing may write them until the
    /// operation's callback is called (or, for a synchronous call, until it returns).
    pub(crate) unsafe fn new(ptr: *const c_void, len: usize) -> Option<BufRef> {
        (!ptr.is_null() && len > 0 && len <= isize::MAX as usize).then_some(BufRef {
            ptr: ptr.cast(),
            len,
        })
    }

    /// The buffer as a slice, for as long as `self` is borrowed.
    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `new`'s contract: readable for `len` bytes and unchanged until the callback,
        // which is called only after the last use of `self`.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

/// The NUL-terminated C string at `ptr` as UTF-8, or `None` for NULL or invalid UTF-8.
///
/// # Safety
///
/// `ptr` must be NULL or point to a NUL-terminated string that stays unchanged during the call.
pub(crate) unsafe fn c_str<'a>(ptr: *const c_char) -> Option<&'a str> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's promise.
    unsafe { CStr::from_ptr(ptr) }.to_str().ok()
}

/// Stores `value` at `out`; `false` (and nothing stored) for NULL.
///
/// # Safety
///
/// `out` must be NULL or valid for a write of a `T` (alignment included).
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) -> bool {
    if out.is_null() {
        return false;
    }
    // SAFETY: non-NULL and valid for writes by the caller's promise.
    unsafe { out.write(value) };
    true
}

/// The value at `ptr`, or `None` for NULL.
///
/// # Safety
///
/// `ptr` must be NULL or point to a live `T` that is not written during `'a`.
pub(crate) unsafe fn as_ref<'a, T>(ptr: *const T) -> Option<&'a T> {
    // SAFETY: the caller's promise, and `as_ref` checks for NULL.
    unsafe { ptr.as_ref() }
}
