//! Macros over `TryCatch` scopes (whose types are long to spell).

/// The error a `TryCatch` scope caught.
macro_rules! caught {
    ($tc:expr) => {{
        let terminated = $tc.has_terminated();
        let exception = $tc.exception();
        let message = $tc.message();
        $crate::convert::error_from($tc, terminated, exception, message)
    }};
}

/// Runs the microtasks a call queued, then transfers its result (a macro: it works on
/// any `TryCatch` scope).
macro_rules! finish {
    ($tc:expr, $result:expr, $opts:expr, $fallback:expr) => {{
        $tc.perform_microtask_checkpoint();
        if $tc.has_terminated() || $tc.is_execution_terminating() {
            Err($crate::empty())
        } else if let Some(e) = $crate::rejections::take($tc) {
            Err(e)
        } else {
            match $crate::pending::transfer_out($tc, $result, $opts, $fallback) {
                Err(e) if $crate::is_empty(&e) && $tc.has_caught() => Err(caught!($tc)),
                other => other,
            }
        }
    }};
}
