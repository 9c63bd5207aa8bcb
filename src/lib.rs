//! isovm runs untrusted JavaScript in isolates, from Rust.
//!
//! One contract ([`engine_api`], re-exported here flat) and two backends picked by Cargo
//! feature:
//!
//! | feature    | backend                         | for                                         |
//! |------------|---------------------------------|---------------------------------------------|
//! | `boa-wasi` | Boa in wasm, run by wasmtime    | the hard sandbox: fuel, a hard memory cap    |
//! | `v8`       | V8 (crate `v8`)                 | speed: JIT, snapshots, code cache            |
//!
//! [`DefaultBackend`] is the Boa-WASI sandbox when it is compiled in, else V8.
//!
//! ```no_run
//! use isovm::{Context, DefaultBackend, Backend, EvalOptions, Isolate, IsolateOptions, Value};
//!
//! let isolate = <DefaultBackend as Backend>::Isolate::new(IsolateOptions {
//!     memory_limit_mb: 32,
//!     ..Default::default()
//! })?;
//! let context = isolate.create_context()?;
//! let v = context.eval("[1, 2, 3].map(x => x * 2)", &EvalOptions::copy())?;
//! assert_eq!(v, Value::from(vec![2, 4, 6]));
//! # Ok::<(), isovm::Error>(())
//! ```
#![deny(missing_docs)]

pub use engine_api::*;

#[cfg(feature = "v8")]
pub use backend_v8 as v8;
#[cfg(feature = "boa-wasi")]
pub use host_wasi as boa_wasi;

cfg_if::cfg_if! {
    if #[cfg(feature = "boa-wasi")] {
        /// The backend used when none is named: the Boa-WASI sandbox.
        pub type DefaultBackend = host_wasi::BoaWasi;
    } else if #[cfg(feature = "v8")] {
        /// The backend used when none is named: V8.
        pub type DefaultBackend = backend_v8::V8;
    } else {
        compile_error!("isovm needs at least one backend feature: `boa-wasi` or `v8`");
    }
}

/// Every backend name isovm knows, compiled in or not.
pub const BACKENDS: &[&str] = &["boa-wasi", "v8"];

/// The backends compiled into this build.
pub const COMPILED: &[&str] = &[
    #[cfg(feature = "boa-wasi")]
    "boa-wasi",
    #[cfg(feature = "v8")]
    "v8",
];

/// Whether the backend called `name` is compiled into this build.
pub fn is_compiled(name: &str) -> bool {
    COMPILED.contains(&name)
}

/// Code that runs on whichever backend is chosen at run time (see [`with_backend`]).
pub trait BackendVisitor {
    /// What the code returns.
    type Output;
    /// Runs the code on backend `E`.
    fn visit<E: Backend>(self) -> Self::Output;
}

/// Runs `visitor` on the backend called `name` (`boa-wasi` or `v8`). A name that is not
/// compiled in (or unknown) is an error that says how to get it, never a silent fallback.
pub fn with_backend<V: BackendVisitor>(name: &str, visitor: V) -> Result<V::Output> {
    match name {
        #[cfg(feature = "boa-wasi")]
        "boa-wasi" => Ok(visitor.visit::<host_wasi::BoaWasi>()),
        #[cfg(feature = "v8")]
        "v8" => Ok(visitor.visit::<backend_v8::V8>()),
        known if BACKENDS.contains(&known) => Err(Error::Backend {
            backend: "isovm",
            message: format!(
                "backend `{known}` is not compiled in: rebuild with `--features {known}`"
            ),
        }),
        other => Err(Error::InvalidArgument(format!(
            "unknown backend `{other}` (known: {})",
            BACKENDS.join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Name;
    impl BackendVisitor for Name {
        type Output = &'static str;
        fn visit<E: Backend>(self) -> &'static str {
            E::NAME
        }
    }

    #[test]
    fn with_backend_dispatches_or_explains() {
        for name in BACKENDS {
            match with_backend(name, Name) {
                Ok(got) => assert_eq!(got, *name),
                Err(e) => {
                    assert!(!is_compiled(name));
                    assert!(e.to_string().contains("--features"), "{e}");
                }
            }
        }
        assert!(matches!(
            with_backend("quickjs", Name),
            Err(Error::InvalidArgument(_))
        ));
    }
}
