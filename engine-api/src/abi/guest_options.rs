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
}

impl OptionType {
    fn article(self) -> &'static str {
        match self {
            OptionType::Boolean => "a boolean",
            OptionType::Number => "a number",
            OptionType::Transfer => "an object",
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

/// `reference.deref(options)` and `externalCopy.copy(options)`.
pub const RELEASE: OptionsSpec = OptionsSpec {
    known: &[("release", OptionType::Boolean)],
    unsupported: &["transferIn"],
};

/// `new ivm.Reference(value, options)`.
pub const NEW_REFERENCE: OptionsSpec = OptionsSpec {
    known: &[("unsafeInherit", OptionType::Boolean)],
    unsupported: &[],
};

/// `new ivm.ExternalCopy(value, options)`.
pub const NEW_EXTERNAL_COPY: OptionsSpec = OptionsSpec {
    known: &[],
    unsupported: &["transferOut", "transferList"],
};

/// `externalCopy.copyInto(options)` (the copy is read when it crosses, so it cannot be
/// released at once).
pub const COPY_INTO: OptionsSpec = OptionsSpec {
    known: &[],
    unsupported: &["release", "transferIn"],
};

/// Every spec, by the number the V8 backend's JavaScript names it with.
pub const BY_NUMBER: [&OptionsSpec; 6] = [
    &APPLY,
    &PROPERTY,
    &RELEASE,
    &NEW_REFERENCE,
    &NEW_EXTERNAL_COPY,
    &COPY_INTO,
];
