//! The failure beneath an [`Error`](crate::Error), kept as a source.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

/// The underlying failure of an [`Error::Backend`](crate::Error::Backend) or an
/// [`Error::Callback`](crate::Error::Callback): a wasmtime error, an I/O error of the module
/// cache, the error a host callback returned. [`std::error::Error::source`] on the outer
/// error returns it, so error reporters (`anyhow`, `eyre`) print the whole chain.
///
/// It is shared (`Clone` is cheap) and compares equal to another cause with the same
/// message, so that [`Error`](crate::Error) stays `Clone + PartialEq`.
///
/// ```
/// use engine_api::{Cause, Error};
/// let io = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "read-only");
/// let e = Error::backend_with("boa-wasi", "cannot write the module cache", io);
/// let source = std::error::Error::source(&e).expect("a source");
/// assert_eq!(source.to_string(), "read-only");
/// assert!(matches!(e, Error::Backend { source: Some(c), .. } if c.is::<std::io::Error>()));
/// # let _ = Cause::new("unused");
/// ```
#[derive(Clone)]
pub struct Cause(Arc<dyn StdError + Send + Sync>);

impl Cause {
    /// Keeps `error` (any error type, an `anyhow`/`wasmtime` error, or a message).
    pub fn new(error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Cause(Arc::from(error.into()))
    }

    /// The failure as a trait object.
    pub fn get(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.0
    }

    /// Whether the failure is a `T`.
    pub fn is<T: StdError + 'static>(&self) -> bool {
        self.0.is::<T>()
    }

    /// The failure as a `T`, if it is one (for a host callback's error: `Error`).
    pub fn downcast_ref<T: StdError + 'static>(&self) -> Option<&T> {
        self.0.downcast_ref::<T>()
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&*self.0, f)
    }
}

impl StdError for Cause {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// Causes compare by message: two failures that read the same are the same failure.
impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.to_string() == other.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::Cause;
    use crate::Error;

    #[test]
    fn equal_by_message_and_downcast() {
        let a = Cause::new(std::io::Error::other("disk full"));
        let b = Cause::new("disk full");
        assert_eq!(a, b);
        assert_ne!(a, Cause::new("disk empty"));
        assert!(a.is::<std::io::Error>());
        assert!(b.downcast_ref::<std::io::Error>().is_none());
    }

    #[test]
    fn an_error_can_be_the_cause_of_another() {
        let inner = Error::js("TypeError", "bad input");
        let outer = Error::from_callback(inner.clone());
        assert_eq!(outer.callback_error(), Some(&inner));
        let source = std::error::Error::source(&outer).expect("a source");
        assert_eq!(source.to_string(), inner.to_string());
        // Already a callback failure: not wrapped twice.
        assert_eq!(Error::from_callback(outer.clone()), outer);
    }
}
