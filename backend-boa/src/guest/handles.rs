//! The handle table: what the host holds by number.

use std::cell::RefCell;
use std::collections::HashSet;

use boa_engine::{JsValue, realm::Realm};

use engine_api::abi::{ErrorKind, GuestError, Handle};

use super::errors;
use super::module_entry::ModuleEntry;
use super::script_entry::ScriptEntry;

/// One slot's content.
pub enum Entry {
    /// A context (a realm).
    Context(Realm),
    /// A compiled script.
    Script(ScriptEntry),
    /// A compiled module.
    Module(ModuleEntry),
    /// A referenced value and the realm it was created in.
    Value(JsValue, Realm),
}

impl Entry {
    fn kind(&self) -> &'static str {
        match self {
            Self::Context(_) => "context",
            Self::Script(_) => "script",
            Self::Module(_) => "module",
            Self::Value(..) => "reference",
        }
    }
}

/// `Vec` of slots plus a free list; handle `n` is slot `n - 1`, so 0 is never valid.
#[derive(Default)]
struct Table {
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    /// Slots of references the guest made with `unsafeInherit` (their `get` follows the
    /// prototype chain whatever the host's request says).
    inheriting: HashSet<usize>,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::default();
}

/// Stores `entry`, returns its new handle.
pub fn insert(entry: Entry) -> Handle {
    TABLE.with_borrow_mut(|t| {
        let index = match t.free.pop() {
            Some(i) => {
                t.slots[i] = Some(entry);
                i
            }
            None => {
                t.slots.push(Some(entry));
                t.slots.len() - 1
            }
        };
        (index + 1) as Handle
    })
}

/// Removes a handle (any kind).
pub fn remove(handle: Handle) -> Result<Entry, GuestError> {
    TABLE.with_borrow_mut(|t| {
        let index = (handle as usize).wrapping_sub(1);
        let entry = t
            .slots
            .get_mut(index)
            .and_then(Option::take)
            .ok_or_else(|| released(handle))?;
        t.free.push(index);
        t.inheriting.remove(&index);
        if let Entry::Context(realm) = &entry {
            // Scripts cache one parse per realm: drop the released context's.
            for slot in t.slots.iter_mut().flatten() {
                if let Entry::Script(script) = slot {
                    script.forget_realm(realm);
                }
            }
        }
        Ok(entry)
    })
}

/// Runs `f` on a handle's entry (the table stays borrowed: `f` must not run JS).
pub fn with<R>(
    handle: Handle,
    f: impl FnOnce(&mut Entry) -> Result<R, GuestError>,
) -> Result<R, GuestError> {
    TABLE.with_borrow_mut(|t| {
        let index = (handle as usize).wrapping_sub(1);
        match t.slots.get_mut(index).and_then(Option::as_mut) {
            Some(entry) => f(entry),
            None => Err(released(handle)),
        }
    })
}

fn released(handle: Handle) -> GuestError {
    errors::guest(
        ErrorKind::Released,
        "ReferenceError",
        format!("handle {handle} was released or never existed"),
    )
}

/// The error for a handle of the wrong kind.
pub fn wrong_kind(entry: &Entry, expected: &str) -> GuestError {
    errors::guest(
        ErrorKind::WrongKind,
        "TypeError",
        format!("expected a {expected} handle, got a {}", entry.kind()),
    )
}

/// The realm of a context handle.
pub fn context(handle: Handle) -> Result<Realm, GuestError> {
    with(handle, |e| match e {
        Entry::Context(realm) => Ok(realm.clone()),
        other => Err(wrong_kind(other, "context")),
    })
}

/// The value (and its realm) of a reference handle.
pub fn value(handle: Handle) -> Result<(JsValue, Realm), GuestError> {
    with(handle, |e| match e {
        Entry::Value(value, realm) => Ok((value.clone(), realm.clone())),
        other => Err(wrong_kind(other, "reference")),
    })
}

/// The meta of the module entry holding `module`, if it has one.
pub fn module_meta(module: &boa_engine::Module) -> Option<engine_api::abi::WireValue> {
    TABLE.with_borrow(|t| {
        t.slots.iter().flatten().find_map(|e| match e {
            Entry::Module(m) if m.module == *module => m.meta.clone(),
            _ => None,
        })
    })
}

/// Marks a reference handle as inheriting (`new ivm.Reference(v, { unsafeInherit: true })`
/// handed to the host).
pub fn mark_inheriting(handle: Handle) {
    TABLE.with_borrow_mut(|t| {
        let index = (handle as usize).wrapping_sub(1);
        if matches!(t.slots.get(index), Some(Some(Entry::Value(..)))) {
            t.inheriting.insert(index);
        }
    })
}

/// Whether the guest made this reference handle inheriting.
pub fn inherits(handle: Handle) -> bool {
    TABLE.with_borrow(|t| t.inheriting.contains(&(handle as usize).wrapping_sub(1)))
}
