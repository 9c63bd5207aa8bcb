//! How the run-time-chosen handle types ([`Isolate`](crate::Isolate), [`Context`](crate::Context),
//! ..) hold one backend's handle and forward to it.

/// Declares the enum inside a dynamic handle `$outer($name)`: one variant per compiled
/// backend, holding that backend's handle type, and `From` each backend handle.
macro_rules! handle_enum {
    ($outer:ident, $name:ident, $boa:ty, $v8:ty) => {
        #[derive(Clone, Debug)]
        pub(crate) enum $name {
            #[cfg(feature = "boa-wasi")]
            BoaWasi($boa),
            #[cfg(feature = "v8")]
            V8($v8),
        }

        #[cfg(feature = "boa-wasi")]
        impl From<$boa> for $name {
            fn from(h: $boa) -> Self {
                $name::BoaWasi(h)
            }
        }

        #[cfg(feature = "v8")]
        impl From<$v8> for $name {
            fn from(h: $v8) -> Self {
                $name::V8(h)
            }
        }

        #[cfg(feature = "boa-wasi")]
        impl From<$boa> for $outer {
            fn from(h: $boa) -> Self {
                $outer($name::BoaWasi(h))
            }
        }

        #[cfg(feature = "v8")]
        impl From<$v8> for $outer {
            fn from(h: $v8) -> Self {
                $outer($name::V8(h))
            }
        }

        impl $name {
            #[allow(dead_code)]
            pub(crate) fn kind(&self) -> $crate::BackendKind {
                match self {
                    #[cfg(feature = "boa-wasi")]
                    $name::BoaWasi(_) => $crate::BackendKind::BoaWasi,
                    #[cfg(feature = "v8")]
                    $name::V8(_) => $crate::BackendKind::V8,
                }
            }
        }
    };
}

/// `dispatch!(Enum, value, h => expr)`: runs `expr` with `h` bound to the backend handle
/// inside `value` (an `Enum` or `&Enum`), whatever the backend.
macro_rules! dispatch {
    ($name:ident, $value:expr, $h:ident => $body:expr) => {
        match $value {
            #[cfg(feature = "boa-wasi")]
            $name::BoaWasi($h) => $body,
            #[cfg(feature = "v8")]
            $name::V8($h) => $body,
        }
    };
}

/// `dispatch2!(EnumA, a, EnumB, b, (x, y) => expr)`: like [`dispatch!`] for two handles
/// that must be of the same backend; a mix is `Error::WrongIsolate` (a handle of one
/// backend can never belong to an isolate of another).
macro_rules! dispatch2 {
    ($na:ident, $a:expr, $nb:ident, $b:expr, ($x:ident, $y:ident) => $body:expr) => {
        #[allow(unreachable_patterns)]
        match ($a, $b) {
            #[cfg(feature = "boa-wasi")]
            ($na::BoaWasi($x), $nb::BoaWasi($y)) => $body,
            #[cfg(feature = "v8")]
            ($na::V8($x), $nb::V8($y)) => $body,
            _ => Err(engine_api::Error::WrongIsolate),
        }
    };
}

pub(crate) use {dispatch, dispatch2, handle_enum};
