//! The kinds of typed array views.

/// The kind of a typed array view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum TypedArrayKind {
    Int8,
    Uint8,
    Uint8Clamped,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Float32,
    Float64,
    BigInt64,
    BigUint64,
    DataView,
}

impl TypedArrayKind {
    /// Bytes per element (1 for `DataView`).
    pub fn element_size(self) -> usize {
        use TypedArrayKind::*;
        match self {
            Int8 | Uint8 | Uint8Clamped | DataView => 1,
            Int16 | Uint16 => 2,
            Int32 | Uint32 | Float32 => 4,
            Float64 | BigInt64 | BigUint64 => 8,
        }
    }

    /// The JS constructor name (`Uint8Array`, `DataView`, ..).
    pub fn name(self) -> &'static str {
        use TypedArrayKind::*;
        match self {
            Int8 => "Int8Array",
            Uint8 => "Uint8Array",
            Uint8Clamped => "Uint8ClampedArray",
            Int16 => "Int16Array",
            Uint16 => "Uint16Array",
            Int32 => "Int32Array",
            Uint32 => "Uint32Array",
            Float32 => "Float32Array",
            Float64 => "Float64Array",
            BigInt64 => "BigInt64Array",
            BigUint64 => "BigUint64Array",
            DataView => "DataView",
        }
    }

    /// The kind for a constructor name.
    pub fn from_name(name: &str) -> Option<Self> {
        use TypedArrayKind::*;
        [
            Int8,
            Uint8,
            Uint8Clamped,
            Int16,
            Uint16,
            Int32,
            Uint32,
            Float32,
            Float64,
            BigInt64,
            BigUint64,
            DataView,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}
