//! Values held outside every isolate.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::{Error, MAX_TRANSFER_DEPTH, Result, Value};

static TOTAL_EXTERNAL_SIZE: AtomicUsize = AtomicUsize::new(0);

/// A value copied out of every isolate, ready to be copied into any isolate of any backend.
///
/// Cloning an `ExternalCopy` shares the data. The data is immutable; `release` only
/// invalidates this handle.
///
/// ```
/// use engine_api::{ExternalCopy, Value};
/// let copy = ExternalCopy::new(Value::object([("a", Value::from(1))])).unwrap();
/// assert_eq!(copy.copy().unwrap().get("a"), Some(&Value::from(1)));
///
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct Point { x: i32, y: i32 }
/// let copy = ExternalCopy::from_serde(&Point { x: 1, y: 2 }).unwrap();
/// assert_eq!(copy.to_serde::<Point>().unwrap(), Point { x: 1, y: 2 });
/// ```
#[derive(Clone)]
pub struct ExternalCopy {
    data: Arc<CopyData>,
    released: Arc<AtomicBool>,
}

struct CopyData {
    value: Value,
    size: usize,
    /// How deeply the data nests, counting copies nested inside it (see [`measure`]).
    depth: usize,
    /// Whether the data (or a copy inside) has back-references or views.
    shared: bool,
}

impl Drop for CopyData {
    fn drop(&mut self) {
        TOTAL_EXTERNAL_SIZE.fetch_sub(self.size, Ordering::Relaxed);
        crate::drop_values([std::mem::take(&mut self.value)]);
    }
}

impl ExternalCopy {
    /// Holds `value` outside every isolate. References and callbacks inside are kept as
    /// handles; everything else is data.
    ///
    /// Fails with [`Error::NotTransferable`] when `value` nests deeper than
    /// [`MAX_TRANSFER_DEPTH`] (copies nested inside count with their own depth), so that
    /// everything that later walks the data (copies into isolates, serde, `clone`) stays
    /// within the native stack. The check itself does not recurse.
    ///
    /// Identity is kept: shared objects and cycles inside `value` (as
    /// [`Value::Backref`]s) stay shared in every copy made from it. A back-reference that
    /// does not point at an earlier object fails with [`Error::InvalidArgument`].
    pub fn new(value: Value) -> Result<Self> {
        let shared = crate::value_identity::has_shared(&value);
        let checked = if shared {
            value.check_backrefs()
        } else {
            Ok(())
        };
        let (size, depth) = match checked.and_then(|()| measure(&value)) {
            Ok(measured) => measured,
            Err(e) => {
                // Too deep to drop recursively, too.
                crate::drop_values([value]);
                return Err(e);
            }
        };
        TOTAL_EXTERNAL_SIZE.fetch_add(size, Ordering::Relaxed);
        Ok(ExternalCopy {
            data: Arc::new(CopyData {
                value,
                size,
                depth,
                shared,
            }),
            released: Arc::new(AtomicBool::new(false)),
        })
    }

    /// Copies a Rust value in through serde (JSON-like: maps become objects with string
    /// keys, in their order).
    ///
    /// Fails with [`Error::NotTransferable`] for what has no data form (references,
    /// callbacks, maps with non-scalar keys) and for data nested deeper than
    /// [`MAX_TRANSFER_DEPTH`] (refused after that many levels, without overflowing the
    /// stack on deeper input).
    pub fn from_serde<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self> {
        ExternalCopy::new(Value::from_serde(value)?)
    }

    /// Reads the data out into a Rust value through serde (see [`Value::to_serde`]).
    pub fn to_serde<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        self.value()?.to_serde()
    }

    /// The data, borrowed.
    pub fn value(&self) -> Result<&Value> {
        if self.released.load(Ordering::Acquire) {
            return Err(Error::Released("external copy"));
        }
        Ok(&self.data.value)
    }

    /// A fresh copy of the data.
    pub fn copy(&self) -> Result<Value> {
        self.value().cloned()
    }

    /// A value that, passed to an isolate, arrives as a copy of this data.
    pub fn copy_into(&self) -> Result<Value> {
        self.value()?;
        Ok(Value::CopyInto(self.clone()))
    }

    /// Invalidates this handle (and its clones); the data is freed once no isolate holds it.
    pub fn release(&self) {
        self.released.store(true, Ordering::Release);
    }

    /// Whether `release` was called.
    pub fn is_released(&self) -> bool {
        self.released.load(Ordering::Acquire)
    }

    /// The approximate size in bytes of this copy's data.
    pub fn size(&self) -> usize {
        self.data.size
    }

    /// Whether two handles share the same data.
    pub fn ptr_eq(&self, other: &ExternalCopy) -> bool {
        Arc::ptr_eq(&self.data, &other.data)
    }

    /// Whether the data has back-references or views (is a graph, not a tree).
    pub(crate) fn has_shared(&self) -> bool {
        self.data.shared
    }

    /// Bytes held by all live external copies in this process.
    pub fn total_external_size() -> usize {
        TOTAL_EXTERNAL_SIZE.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for ExternalCopy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExternalCopy")
            .field("size", &self.data.size)
            .field("released", &self.is_released())
            .finish()
    }
}

/// The approximate size in bytes of `value` and how deeply it nests (0 for a primitive,
/// 1 for a container of primitives, ..), without recursion. Fails once the depth passes
/// [`MAX_TRANSFER_DEPTH`].
fn measure(value: &Value) -> Result<(usize, usize)> {
    let own = std::mem::size_of::<Value>();
    let mut size = 0usize;
    let mut deepest = 0;
    // (value, number of containers around it)
    let mut stack = vec![(value, 0usize)];
    while let Some((v, outer)) = stack.pop() {
        let inner = outer + 1;
        let mut depth = outer;
        let bytes = match v {
            Value::String(s) | Value::BigInt(s) => s.len(),
            Value::Array(items) | Value::Set(items) => {
                depth = inner;
                stack.extend(items.iter().map(|c| (c, inner)));
                0
            }
            Value::Object(props) => {
                depth = inner;
                stack.extend(props.iter().map(|(_, c)| (c, inner)));
                props.iter().map(|(k, _)| k.len()).sum()
            }
            Value::Map(entries) => {
                depth = inner;
                stack.extend(entries.iter().flat_map(|(k, c)| [(k, inner), (c, inner)]));
                0
            }
            Value::RegExp { source, flags } => source.len() + flags.len(),
            Value::Error(e) => e.name.len() + e.message.len(),
            Value::ArrayBuffer(b) | Value::TypedArray { bytes: b, .. } => b.len(),
            // Shared data, counted once by the copy that holds it; its depth adds to ours
            // because copying in and serde walk through it.
            Value::ExternalCopy(c) | Value::CopyInto(c) => {
                depth = outer.saturating_add(c.data.depth);
                0
            }
            _ => 0,
        };
        if depth > MAX_TRANSFER_DEPTH {
            return Err(Error::NotTransferable(format!(
                "value nested deeper than {MAX_TRANSFER_DEPTH} levels"
            )));
        }
        deepest = deepest.max(depth);
        size = size.saturating_add(own).saturating_add(bytes);
    }
    Ok((size, deepest))
}
