//! How a reference reads and writes a property.

use crate::TransferOptions;

/// How [`Reference::get`](crate::Reference::get) and [`set`](crate::Reference::set) reach
/// a property: isolated-vm's `reference.get(key, { accessors, ...TransferOptions })`.
///
/// By default no guest code runs: `get` reads an own data property (or, through an
/// [inheriting](crate::Reference::inheriting) reference, the first data property on the
/// prototype chain) and `undefined` when there is none; `set` writes or defines an own
/// data property (`false` when it is not writable or the object is not extensible),
/// never calling a setter. An accessor or a Proxy on the way is refused with a
/// `TypeError` ([`Error::Js`](crate::Error::Js), see [`PropertyRefusal`](crate::PropertyRefusal)).
/// With `accessors`, the ordinary `value[key]` / `value[key] = v` run, getters, setters
/// and Proxy traps included.
///
/// Where one is taken, a `&TransferOptions` converts into one (with `accessors` off), so
/// `get(key, &TransferOptions::copy())` reads as before:
///
/// ```
/// use engine_api::{PropertyOptions, TransferOptions};
/// let copy: PropertyOptions = (&TransferOptions::copy()).into();
/// assert!(copy.transfer.copy && !copy.accessors);
/// assert!(PropertyOptions::copy().with_accessors().accessors);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PropertyOptions {
    /// How the value crosses: `get`'s result, `set`'s value.
    pub transfer: TransferOptions,
    /// Run getters, setters and Proxy traps (isolated-vm's `accessors: true`).
    pub accessors: bool,
}

impl PropertyOptions {
    /// `{ copy: true }`.
    pub fn copy() -> Self {
        (&TransferOptions::copy()).into()
    }
    /// `{ externalCopy: true }`.
    pub fn external_copy() -> Self {
        (&TransferOptions::external_copy()).into()
    }
    /// `{ reference: true }`.
    pub fn reference() -> Self {
        (&TransferOptions::reference()).into()
    }
    /// `{ accessors: true }`.
    pub fn accessors() -> Self {
        Self::default().with_accessors()
    }
    /// The same options, also running accessors and Proxy traps.
    pub fn with_accessors(mut self) -> Self {
        self.accessors = true;
        self
    }
    /// The same options, also awaiting a promise (`get`'s result).
    pub fn with_promise(mut self) -> Self {
        self.transfer.promise = true;
        self
    }
}

impl From<&TransferOptions> for PropertyOptions {
    fn from(transfer: &TransferOptions) -> Self {
        PropertyOptions {
            transfer: *transfer,
            accessors: false,
        }
    }
}
