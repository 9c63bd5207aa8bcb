//! Declared failures: cases a backend cannot pass yet, each with its reason.
//!
//! A case listed here that passes fails the run, so this list can only shrink honestly.

/// `(backend, case, reason)`.
pub const DECLARED_FAILURES: &[(&str, &str, &str)] = &[];

/// The reason a case is declared to fail on `backend`, if it is.
pub fn declared(backend: &str, case: &str) -> Option<&'static str> {
    DECLARED_FAILURES
        .iter()
        .find(|(b, c, _)| *b == backend && *c == case)
        .map(|(_, _, why)| *why)
}
