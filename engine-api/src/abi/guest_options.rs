//! The options objects the guest-side `ivm` API takes, checked the same way by every
//! backend: an unknown name, a wrong type, or an isolated-vm option this API does not
//! implement is a `TypeError` naming it (isolated-vm ignores unknown names, so a typo
//! like `{ timout: 20 }` silently meant no timeout).
//!
//! The check reads the object's own string keys first (unknown names fail, in key
//! order), then each known option once, in the order of its [`OptionsSpec`]; `undefined`
//! (or a missing property) leaves an option unset. `undefined` or `null` options are none.
//!
//! ```
//! use engine_api::abi::guest_options::{APPLY, Problem};
//! assert_eq!(APPLY.check_name("", "timout"), Some(Problem::Unknown("timout".into())));
//! assert_eq!(Problem::Unknown("result.copyy".into()).message(),
//!            "unknown option \"result.copyy\"");
//! ```

/// The type a known option must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionType {
    /// `true` or `false`.
    Boolean,
    /// A number (milliseconds for `timeout`).
    Number,
    /// A nested [`TRANSFER`] options object.
    Transfer,
    /// An array (`transferList`).
    Array,
}

impl OptionType {
    fn article(self) -> &'static str {
        match self {
            OptionType::Boolean => "a boolean",
            OptionType::Number => "a number",
            OptionType::Transfer => "an object",
            OptionType::Array => "an array",
        }
    }
}

/// The options one method takes.
#[derive(Clone, Copy, Debug)]
pub struct OptionsSpec {
    /// Known names and their types, in the order they are read.
    pub known: &'static [(&'static str, OptionType)],
    /// isolated-vm options this API does not implement: refused unless `undefined` or
    /// `false`.
    pub unsupported: &'static [&'static str],
}

/// What is wrong with an options object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The options (at this path, `""` for the top level) are not an object.
    NotObject(String),
    /// A name no method of this API knows.
    Unknown(String),
    /// A known option of the wrong type.
    WrongType(String, OptionType),
    /// An isolated-vm option this API does not implement.
    Unsupported(String),
}

impl Problem {
    /// The `TypeError` message.
    pub fn message(&self) -> String {
        match self {
            Problem::NotObject(path) if path.is_empty() => "options must be an object".into(),
            Problem::NotObject(path) => format!("option \"{path}\" must be an object"),
            Problem::Unknown(path) => format!("unknown option \"{path}\""),
            Problem::WrongType(path, t) => format!("option \"{path}\" must be {}", t.article()),
            Problem::Unsupported(path) => format!("option \"{path}\" is not supported"),
        }
    }
}

impl OptionsSpec {
    /// The problem with an own key `name` of options at `prefix` (`""` or `"result."`).
    pub fn check_name(&self, prefix: &str, name: &str) -> Option<Problem> {
        let known = self.known.iter().any(|(n, _)| *n == name) || self.unsupported.contains(&name);
        (!known).then(|| Problem::Unknown(format!("{prefix}{name}")))
    }
}

/// `TransferOptions`: how a value crosses (`arguments`, `result`, get's and set's options).
pub const TRANSFER: OptionsSpec = OptionsSpec {
    known: &[
        ("copy", OptionType::Boolean),
        ("externalCopy", OptionType::Boolean),
        ("reference", OptionType::Boolean),
        ("promise", OptionType::Boolean),
    ],
    unsupported: &[],
};

/// `reference.apply*(receiver, args, options)`.
pub const APPLY: OptionsSpec = OptionsSpec {
    known: &[
        ("arguments", OptionType::Transfer),
        ("result", OptionType::Transfer),
        ("timeout", OptionType::Number),
    ],
    unsupported: &[],
};

/// `reference.get*(key, options)` and `set*(key, value, options)`.
pub const PROPERTY: OptionsSpec = OptionsSpec {
    known: &[
        ("accessors", OptionType::Boolean),
        ("copy", OptionType::Boolean),
        ("externalCopy", OptionType::Boolean),
        ("reference", OptionType::Boolean),
        ("promise", OptionType::Boolean),
    ],
    unsupported: &[],
};

/// `reference.deref(options)` and `reference.derefInto(options)`: `release` invalidates
/// the handle (a `derefInto` marker keeps the value).
pub const RELEASE: OptionsSpec = OptionsSpec {
    known: &[("release", OptionType::Boolean)],
    unsupported: &[],
};

/// `externalCopy.copy(options)`: `transferIn` moves the data in and invalidates the
/// handle; for the guest it is `release`, since every copy into an isolate is made from
/// host-held data anyway.
pub const COPY: OptionsSpec = OptionsSpec {
    known: &[
        ("release", OptionType::Boolean),
        ("transferIn", OptionType::Boolean),
    ],
    unsupported: &[],
};

/// `new ivm.Reference(value, options)`.
pub const NEW_REFERENCE: OptionsSpec = OptionsSpec {
    known: &[("unsafeInherit", OptionType::Boolean)],
    unsupported: &[],
};

/// `new ivm.ExternalCopy(value, options)`.
///
/// `transferOut` detaches the `ArrayBuffer` (or the buffer of the typed array or
/// `DataView`) that is copied; `transferList` detaches each listed `ArrayBuffer` once the
/// copy is made. See [`TransferRefusal`] for what is refused.
pub const NEW_EXTERNAL_COPY: OptionsSpec = OptionsSpec {
    known: &[
        ("transferOut", OptionType::Boolean),
        ("transferList", OptionType::Array),
    ],
    unsupported: &[],
};

/// `externalCopy.copyInto(options)`: `release` invalidates the handle at once (the marker
/// keeps the data); `transferIn` too, and the marker moves the data on its first crossing
/// (a second crossing finds it released).
pub const COPY_INTO: OptionsSpec = OptionsSpec {
    known: &[
        ("release", OptionType::Boolean),
        ("transferIn", OptionType::Boolean),
    ],
    unsupported: &[],
};

/// Why `new ivm.ExternalCopy(value, { transferOut, transferList })` refuses to detach a
/// buffer: the same `TypeError` on every backend. Nothing is detached when the copy is
/// refused, for this or any other reason.
///
/// ```
/// use engine_api::abi::guest_options::TransferRefusal;
/// assert_eq!(TransferRefusal::Duplicate(1).message(),
///            "transferList[1] is listed twice");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferRefusal {
    /// `transferOut` on a value that is no `ArrayBuffer`, typed array or `DataView`.
    NotABuffer,
    /// `transferOut` on a buffer that cannot be detached (shared, or detached already).
    NotDetachable,
    /// `transferList[i]` is no `ArrayBuffer` (a `SharedArrayBuffer` included: its memory
    /// is shared, not moved).
    NotArrayBuffer(usize),
    /// `transferList[i]` is detached already, or cannot be detached.
    Detached(usize),
    /// `transferList[i]` appears earlier in the list too.
    Duplicate(usize),
    /// `transferList` holds more than [`MAX_TRANSFER_LIST`] entries.
    TooLong,
}

impl TransferRefusal {
    /// The `TypeError` message.
    pub fn message(self) -> String {
        match self {
            TransferRefusal::NotABuffer => {
                "transferOut applies to an ArrayBuffer, a typed array or a DataView".into()
            }
            TransferRefusal::NotDetachable => {
                "transferOut: the buffer cannot be detached (shared, or detached already)".into()
            }
            TransferRefusal::NotArrayBuffer(i) => {
                format!("transferList[{i}] is not an ArrayBuffer")
            }
            TransferRefusal::Detached(i) => {
                format!("transferList[{i}] is detached already or cannot be detached")
            }
            TransferRefusal::Duplicate(i) => format!("transferList[{i}] is listed twice"),
            TransferRefusal::TooLong => {
                format!("transferList holds more than {MAX_TRANSFER_LIST} buffers")
            }
        }
    }
}

/// The longest `transferList` accepted (each entry is checked against every earlier one).
pub const MAX_TRANSFER_LIST: usize = 4096;

/// Every spec, by the number the V8 backend's JavaScript names it with.
pub const BY_NUMBER: [&OptionsSpec; 7] = [
    &APPLY,
    &PROPERTY,
    &RELEASE,
    &NEW_REFERENCE,
    &NEW_EXTERNAL_COPY,
    &COPY_INTO,
    &COPY,
];
