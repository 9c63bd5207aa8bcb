//! Why a reference refused to reach a property.

use crate::Error;

/// Why a reference refused a property access that would have run guest code (see
/// [`PropertyOptions`](crate::PropertyOptions)). Every backend fails it as
/// [`Error::Js`] with a `TypeError` of [`message`](Self::message), so the same
/// refusal reads the same on each.
///
/// ```
/// use engine_api::{Error, PropertyRefusal};
/// let Error::Js(e) = PropertyRefusal::Accessor.error() else { unreachable!() };
/// assert_eq!((e.name.as_str(), e.message.as_str()), ("TypeError", PropertyRefusal::Accessor.message()));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PropertyRefusal {
    /// The property is a getter / setter (own, or inherited through an inheriting
    /// reference) and `accessors` is off.
    Accessor,
    /// The object (or, through an inheriting reference, one on its prototype chain) is a
    /// Proxy and `accessors` is off: even looking up a property runs its traps.
    Proxy,
    /// `delete` through a reference to a Proxy (it would run the `deleteProperty` trap).
    ProxyDelete,
    /// The key is an object: turning it into a property key would call its `toString`.
    ObjectKey,
}

impl PropertyRefusal {
    /// The `TypeError`'s message.
    pub fn message(self) -> &'static str {
        match self {
            Self::Accessor => {
                "the property is an accessor: pass `accessors: true` to run its getter or setter"
            }
            Self::Proxy => "the object is a Proxy: pass `accessors: true` to run its traps",
            Self::ProxyDelete => "delete through a reference does not run Proxy traps",
            Self::ObjectKey => "a property key must be a string, number or symbol, not an object",
        }
    }

    /// The error: a `TypeError` with [`message`](Self::message).
    pub fn error(self) -> Error {
        Error::js("TypeError", self.message())
    }
}
