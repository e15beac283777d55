//! The IO layer's only `unsafe`: viewing initialised `MaybeUninit<u8>` memory as bytes.

use core::mem::MaybeUninit;

/// Writes zeros over `buf` and returns it as the initialised bytes it now is.
///
/// What [`AsyncRead::poll_read_uninit`](super::AsyncRead::poll_read_uninit)'s default does before
/// it reads, and what an implementation that can only read into initialised memory does with the
/// part of a buffer it is about to fill (zero only what the read can fill, not a whole 8 KiB
/// buffer for a 100-byte message).
///
/// # Examples
///
/// ```
/// use core::mem::MaybeUninit;
///
/// let mut storage = [MaybeUninit::<u8>::uninit(); 4];
/// let bytes: &mut [u8] = ebbtide_core::io::zero_uninit(&mut storage);
/// assert_eq!(bytes, &[0, 0, 0, 0]);
/// ```
pub fn zero_uninit(buf: &mut [MaybeUninit<u8>]) -> &mut [u8] {
    for byte in buf.iter_mut() {
        byte.write(0);
    }
    // SAFETY: every element was written just above, so the whole slice is initialised;
    // `MaybeUninit<u8>` has the size, alignment and layout of `u8`, so a slice of one is a valid
    // slice of the other with the same length, and the returned borrow is `buf`'s own (unique,
    // same lifetime), so nobody can un-initialise it while the `&mut [u8]` lives.
    unsafe { &mut *(buf as *mut [MaybeUninit<u8>] as *mut [u8]) }
}
