//! Which backend an isolate runs on, as a value chosen at run time.

use std::fmt;
use std::str::FromStr;

use engine_api::{Backend as _, Capabilities, Error};

/// A backend isovm knows, compiled into this build or not.
///
/// ```
/// use isovm::BackendKind;
/// let kind: BackendKind = "v8".parse()?;
/// assert_eq!(kind.name(), "v8");
/// assert!(BackendKind::ALL.contains(&BackendKind::default()));
/// assert!("quickjs".parse::<BackendKind>().is_err());
/// # Ok::<(), isovm::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Boa compiled to wasm, run by wasmtime (Cargo feature `boa-wasi`): the hard sandbox.
    BoaWasi,
    /// V8 (Cargo feature `v8`): speed.
    V8,
}

impl BackendKind {
    /// Every backend isovm knows, compiled in or not.
    pub const ALL: [BackendKind; 2] = [BackendKind::BoaWasi, BackendKind::V8];

    /// The backend's name: `boa-wasi` or `v8` (as `--backend` takes it).
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::BoaWasi => "boa-wasi",
            BackendKind::V8 => "v8",
        }
    }

    /// Whether this backend is compiled into this build.
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::BoaWasi => cfg!(feature = "boa-wasi"),
            BackendKind::V8 => cfg!(feature = "v8"),
        }
    }

    /// The backends compiled into this build, the default first.
    pub fn compiled() -> impl Iterator<Item = BackendKind> {
        let default = BackendKind::default();
        std::iter::once(default).chain(
            BackendKind::ALL
                .into_iter()
                .filter(move |k| *k != default && k.is_compiled()),
        )
    }

    /// What the backend supports, or why it cannot say (not compiled in).
    pub fn capabilities(self) -> Result<Capabilities, Error> {
        match self {
            #[cfg(feature = "boa-wasi")]
            BackendKind::BoaWasi => Ok(backend_boa::BoaWasi::capabilities()),
            #[cfg(feature = "v8")]
            BackendKind::V8 => Ok(backend_v8::V8::capabilities()),
            #[allow(unreachable_patterns)]
            other => Err(other.not_compiled()),
        }
    }

    /// The error for using a backend this build lacks: it says how to get it.
    pub(crate) fn not_compiled(self) -> Error {
        Error::backend(
            "isovm",
            format!(
                "backend `{}` is not compiled in: rebuild with `--features {}`",
                self.name(),
                self.name()
            ),
        )
    }
}

impl Default for BackendKind {
    /// Boa-WASI when it is compiled in, else V8.
    fn default() -> Self {
        if cfg!(feature = "boa-wasi") {
            BackendKind::BoaWasi
        } else {
            BackendKind::V8
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = Error;

    /// `boa-wasi` or `v8`; anything else is `InvalidArgument` naming the known ones.
    fn from_str(name: &str) -> Result<Self, Error> {
        BackendKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                Error::InvalidArgument(format!(
                    "unknown backend `{name}` (known: {})",
                    BackendKind::ALL.map(BackendKind::name).join(", ")
                ))
            })
    }
}
