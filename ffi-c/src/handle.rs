//! Ownership of the handles C holds: one box per handle, given out and taken back in one place.

/// A handle type that C owns through a pointer to a box: made by
/// [`Handle::into_raw`], freed by [`free`]. As rustls-ffi's `Castable` with
/// `free_box`, ownership is declared once per type instead of at each
/// allocation and free.
pub(crate) trait Handle: Sized {
    /// Boxes the handle and gives its ownership to C.
    fn into_raw(self) -> *mut Self {
        Box::into_raw(Box::new(self))
    }
}

/// Takes back and drops a handle C gives up. NULL is ignored.
///
/// The C caller guarantees `handle` is NULL or came from [`Handle::into_raw`]
/// and is not used afterwards (the `_free` functions' documented contract).
pub(crate) fn free<T: Handle>(handle: *mut T) {
    if !handle.is_null() {
        // SAFETY: not NULL, from Box::into_raw in `Handle::into_raw`, and the
        // caller gives up its ownership here.
        drop(unsafe { Box::from_raw(handle) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static DROPPED: AtomicUsize = AtomicUsize::new(0);

    struct Counted;

    impl Handle for Counted {}

    impl Drop for Counted {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn a_freed_handle_is_dropped_once_and_null_is_ignored() {
        free(Counted.into_raw());
        free::<Counted>(std::ptr::null_mut());
        assert_eq!(DROPPED.load(Ordering::SeqCst), 1);
    }
}
