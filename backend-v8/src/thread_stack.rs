//! The native stack left on this thread, for the backend's own recursion.

thread_local! {
    /// The lowest usable address of this thread's stack (0 if unknown).
    static STACK_LOW: usize = stack_low();
}

fn stack_low() -> usize {
    // SAFETY: `attr` is initialised by `pthread_getattr_np` before use and destroyed after;
    // the out-pointers are valid locals.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) != 0 {
            return 0;
        }
        let mut addr: *mut libc::c_void = std::ptr::null_mut();
        let mut size: libc::size_t = 0;
        let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
        libc::pthread_attr_destroy(&mut attr);
        if rc != 0 { 0 } else { addr as usize }
    }
}

/// Whether this thread has less than `margin` bytes of stack left.
pub(crate) fn stack_low_on(margin: usize) -> bool {
    let here = 0u8;
    let here = &here as *const u8 as usize;
    STACK_LOW.with(|low| *low != 0 && here.saturating_sub(*low) < margin)
}
