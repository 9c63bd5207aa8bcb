//! Identity inside one copy: how objects are numbered ([`Value#identity`]), checking
//! back-references, and expanding them into a tree for consumers that need one (serde).

use std::collections::HashMap;

use crate::{Error, MAX_TRANSFER_DEPTH, Result, TypedArrayKind, Value};

/// How many bytes (as [`ExternalCopy::size`](crate::ExternalCopy::size) counts them) an
/// expansion may add by copying shared objects again. The DAG bomb (`a = [a, a]` 22 times)
/// is 22 objects as a `Value` and 4 million once expanded: it stops here, with an error.
pub const MAX_EXPANSION_BYTES: usize = 64 << 20;

/// What one number of a copy stands for.
#[derive(Clone, Copy)]
enum Slot<'v> {
    /// The object itself.
    Object(&'v Value),
    /// The buffer of a `Value::TypedArray` (its second number).
    BufferOf(&'v Value),
}

/// How many numbers `v` takes in its copy: one per object, two for a `TypedArray` (the
/// view, then its buffer), none for primitives, handles and back-references.
pub(crate) fn numbers_of(v: &Value) -> u32 {
    match v {
        Value::Array(_)
        | Value::Object(_)
        | Value::Map(_)
        | Value::Set(_)
        | Value::Date(_)
        | Value::RegExp { .. }
        | Value::Error(_)
        | Value::ArrayBuffer(_)
        | Value::SharedArrayBuffer(_)
        | Value::TypedArrayView { .. } => 1,
        Value::TypedArray { .. } => 2,
        _ => 0,
    }
}

/// The children of `v`, in visit order (array and set items, object values, map keys and
/// values by entry).
fn children(v: &Value) -> Box<dyn DoubleEndedIterator<Item = &Value> + '_> {
    match v {
        Value::Array(items) | Value::Set(items) => Box::new(items.iter()),
        Value::Object(props) => Box::new(props.iter().map(|(_, v)| v)),
        Value::Map(entries) => Box::new(entries.iter().flat_map(|(k, v)| [k, v])),
        _ => Box::new(std::iter::empty()),
    }
}

fn bad_backref(n: u32, seen: usize) -> Error {
    Error::InvalidArgument(format!(
        "a back-reference to object {n} where only {seen} came before it"
    ))
}

/// Whether `v` (or an external copy inside) holds back-references or views.
pub(crate) fn has_shared(v: &Value) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Backref(_) | Value::TypedArrayView { .. } => return true,
            Value::ExternalCopy(c) | Value::CopyInto(c) if c.has_shared() => return true,
            _ => stack.extend(children(v)),
        }
    }
    false
}

/// The numbered objects of one copy, in visit order, after checking every back-reference.
struct Index<'v> {
    slots: Vec<Slot<'v>>,
    /// The number of each container (for cycles while expanding).
    numbers: HashMap<*const Value, u32>,
}

impl<'v> Index<'v> {
    /// Numbers the objects of `root` in visit order (without recursion) and checks that
    /// every back-reference and view points at an earlier object of the right kind.
    fn new(root: &'v Value, with_numbers: bool) -> Result<Index<'v>> {
        let mut index = Index {
            slots: Vec::new(),
            numbers: HashMap::new(),
        };
        let mut stack = vec![root];
        while let Some(v) = stack.pop() {
            match v {
                Value::Backref(n) => {
                    if *n as usize >= index.slots.len() {
                        return Err(bad_backref(*n, index.slots.len()));
                    }
                }
                Value::TypedArrayView {
                    kind,
                    buffer,
                    byte_offset,
                    byte_length,
                } => {
                    let len = index.buffer_len(*buffer)?;
                    check_view(*kind, len, *byte_offset, *byte_length)?;
                    index.slots.push(Slot::Object(v));
                }
                Value::TypedArray { .. } => {
                    index.slots.push(Slot::Object(v));
                    index.slots.push(Slot::BufferOf(v));
                }
                Value::Array(_) | Value::Object(_) | Value::Map(_) | Value::Set(_) => {
                    if with_numbers {
                        index.numbers.insert(v, index.slots.len() as u32);
                    }
                    index.slots.push(Slot::Object(v));
                    stack.extend(children(v).rev());
                }
                other => {
                    if numbers_of(other) == 1 {
                        index.slots.push(Slot::Object(other));
                    }
                }
            }
        }
        Ok(index)
    }

    /// The length of buffer number `n`; an error if `n` is not an earlier buffer.
    fn buffer_len(&self, n: u32) -> Result<usize> {
        match self.slots.get(n as usize) {
            Some(Slot::Object(Value::ArrayBuffer(b))) => Ok(b.len()),
            Some(Slot::Object(Value::SharedArrayBuffer(b))) => Ok(b.len()),
            Some(Slot::BufferOf(Value::TypedArray { bytes, .. })) => Ok(bytes.len()),
            Some(_) => Err(Error::InvalidArgument(format!(
                "a typed array view over object {n}, which is not a buffer"
            ))),
            None => Err(bad_backref(n, self.slots.len())),
        }
    }

    /// The bytes of buffer number `n`.
    fn buffer_bytes(&self, n: u32) -> Result<Vec<u8>> {
        match self.slots.get(n as usize) {
            Some(Slot::Object(Value::ArrayBuffer(b))) => Ok(b.clone()),
            Some(Slot::Object(Value::SharedArrayBuffer(b))) => Ok(b.to_vec()),
            Some(Slot::BufferOf(Value::TypedArray { bytes, .. })) => Ok(bytes.clone()),
            _ => Err(bad_backref(n, self.slots.len())),
        }
    }
}

/// Checks that a `kind` view of `byte_length` bytes from `byte_offset` fits a buffer of
/// `len` bytes and is aligned to whole elements.
pub fn check_view(
    kind: TypedArrayKind,
    len: usize,
    byte_offset: usize,
    byte_length: usize,
) -> Result<()> {
    let size = kind.element_size();
    let fits = byte_offset
        .checked_add(byte_length)
        .is_some_and(|end| end <= len);
    if !fits || !byte_offset.is_multiple_of(size) || !byte_length.is_multiple_of(size) {
        return Err(Error::InvalidArgument(format!(
            "a {} of {byte_length} bytes from {byte_offset} over a buffer of {len}",
            kind.name()
        )));
    }
    Ok(())
}

/// Expands one copy's back-references into copies of what they point at.
struct Expander<'v, 'f> {
    index: Index<'v>,
    /// The containers being expanded, outermost first (a back-reference to one is a cycle).
    open: Vec<u32>,
    /// Bytes the expansion may still add.
    left: usize,
    on_cycle: &'f mut dyn FnMut(u32) -> Option<Value>,
}

impl<'v> Expander<'v, '_> {
    fn charge(&mut self, v: &Value) -> Result<()> {
        let bytes = std::mem::size_of::<Value>().saturating_add(match v {
            Value::String(s) | Value::BigInt(s) => s.len(),
            Value::Object(props) => props.iter().map(|(k, _)| k.len()).sum(),
            Value::RegExp { source, flags } => source.len() + flags.len(),
            Value::Error(e) => e.name.len() + e.message.len(),
            Value::ArrayBuffer(b) | Value::TypedArray { bytes: b, .. } => b.len(),
            Value::SharedArrayBuffer(b) => b.len(),
            Value::TypedArrayView { byte_length, .. } => *byte_length,
            _ => 0,
        });
        match self.left.checked_sub(bytes) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(Error::Deserialize(format!(
                "expanding shared references would copy more than {MAX_EXPANSION_BYTES} bytes"
            ))),
        }
    }

    /// `v` as a tree; `again` when it is reached through a back-reference (copied again).
    fn expand(&mut self, v: &'v Value, depth: usize, again: bool) -> Result<Value> {
        if again {
            self.charge(v)?;
        }
        Ok(match v {
            Value::Backref(n) => match self.index.slots.get(*n as usize).copied() {
                _ if self.open.contains(n) => match (self.on_cycle)(*n) {
                    Some(v) => v,
                    None => return Err(Error::Deserialize("a cyclic value is not a tree".into())),
                },
                Some(Slot::Object(target)) => self.expand(target, depth, true)?,
                Some(Slot::BufferOf(target)) => {
                    self.charge(target)?;
                    Value::ArrayBuffer(self.index.buffer_bytes(*n)?)
                }
                None => return Err(bad_backref(*n, self.index.slots.len())),
            },
            Value::TypedArrayView {
                kind,
                buffer,
                byte_offset,
                byte_length,
            } => {
                let all = self.index.buffer_bytes(*buffer)?;
                let bytes = all
                    .get(*byte_offset..byte_offset.saturating_add(*byte_length))
                    .ok_or_else(|| bad_backref(*buffer, self.index.slots.len()))?
                    .to_vec();
                Value::TypedArray { kind: *kind, bytes }
            }
            Value::Array(_) | Value::Object(_) | Value::Map(_) | Value::Set(_) => {
                if depth >= MAX_TRANSFER_DEPTH {
                    return Err(Error::NotTransferable(format!(
                        "value nested deeper than {MAX_TRANSFER_DEPTH} levels"
                    )));
                }
                let n = self.index.numbers.get(&(v as *const Value)).copied();
                self.open.extend(n);
                let out = self.container(v, depth + 1, again);
                if n.is_some() {
                    self.open.pop();
                }
                out?
            }
            Value::ExternalCopy(c) | Value::CopyInto(c) if c.has_shared() => {
                // Its own copy, numbered on its own.
                let mut on_cycle = |n| (self.on_cycle)(n);
                expand_with(c.value()?, self.left, &mut on_cycle)?
            }
            other => other.clone(),
        })
    }

    fn container(&mut self, v: &'v Value, d: usize, again: bool) -> Result<Value> {
        Ok(match v {
            Value::Array(items) => Value::Array(self.all(items, d, again)?),
            Value::Set(items) => Value::Set(self.all(items, d, again)?),
            Value::Object(props) => {
                let mut out = Vec::with_capacity(props.len());
                for (k, v) in props {
                    out.push((k.clone(), self.expand(v, d, again)?));
                }
                Value::Object(out)
            }
            Value::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    out.push((self.expand(k, d, again)?, self.expand(v, d, again)?));
                }
                Value::Map(out)
            }
            other => other.clone(),
        })
    }

    fn all(&mut self, items: &'v [Value], d: usize, again: bool) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            out.push(self.expand(item, d, again)?);
        }
        Ok(out)
    }
}

fn expand_with(
    v: &Value,
    budget: usize,
    on_cycle: &mut dyn FnMut(u32) -> Option<Value>,
) -> Result<Value> {
    let mut e = Expander {
        index: Index::new(v, true)?,
        open: Vec::new(),
        left: budget,
        on_cycle,
    };
    e.expand(v, 0, false)
}

impl Value {
    /// How many numbers this value itself takes in its copy (see
    /// [Identity](Value#identity)): 1 for an object, 2 for a `TypedArray` (the view, then
    /// its buffer), 0 for primitives, handles and back-references. Its children count
    /// on their own.
    pub fn object_numbers(&self) -> u32 {
        numbers_of(self)
    }

    /// Checks the back-references and views of this copy: each must point at an earlier
    /// object (a view at an earlier buffer it fits in). Hand-built values and values from
    /// untrusted sources are checked with this before use.
    ///
    /// Fails with [`Error::InvalidArgument`] naming the first bad one.
    ///
    /// ```
    /// use engine_api::Value;
    /// let cyclic = Value::Array(vec![Value::Backref(0)]);
    /// assert!(cyclic.check_backrefs().is_ok());
    /// assert!(Value::Array(vec![Value::Backref(1)]).check_backrefs().is_err());
    /// ```
    pub fn check_backrefs(&self) -> Result<()> {
        Index::new(self, false).map(drop)
    }

    /// Whether this value has back-references or views (directly or inside external
    /// copies), so that it is a graph rather than a tree.
    pub fn has_backrefs(&self) -> bool {
        has_shared(self)
    }

    /// This value as a tree: every back-reference replaced by a copy of its object, every
    /// view by a typed array of its own bytes. Consumers that need a tree (serde, JSON)
    /// read through this.
    ///
    /// Fails with [`Error::Deserialize`] on a cycle, or when the copies would add more
    /// than [`MAX_EXPANSION_BYTES`]; with [`Error::InvalidArgument`] for a bad
    /// back-reference.
    ///
    /// ```
    /// use engine_api::Value;
    /// let shared = Value::Array(vec![Value::Array(vec![1.into()]), Value::Backref(1)]);
    /// let tree = shared.expand_backrefs().unwrap();
    /// assert_eq!(tree.as_array().unwrap()[1], Value::Array(vec![1.into()]));
    /// assert!(Value::Array(vec![Value::Backref(0)]).expand_backrefs().is_err());
    /// ```
    pub fn expand_backrefs(&self) -> Result<Value> {
        self.expand_backrefs_with(|_| None)
    }

    /// As [`expand_backrefs`](Value::expand_backrefs), but a back-reference to an object
    /// that contains it (a cycle) becomes what `on_cycle` makes of its number (`None`:
    /// fail), e.g. a `"[Circular *1]"` string for printing.
    pub fn expand_backrefs_with(
        &self,
        mut on_cycle: impl FnMut(u32) -> Option<Value>,
    ) -> Result<Value> {
        if !has_shared(self) {
            return Ok(self.clone());
        }
        expand_with(self, MAX_EXPANSION_BYTES, &mut on_cycle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bomb(levels: usize) -> Value {
        // [[..], Backref(next)] nested: object k's second element is the same as its first.
        // Level d (0 outermost) is array number d; its second item is its first.
        let mut v = Value::Array(vec![1.into()]);
        for d in (0..levels as u32).rev() {
            v = Value::Array(vec![v, Value::Backref(d + 1)]);
        }
        v
    }

    #[test]
    fn forward_and_out_of_range_refs_are_errors() {
        for bad in [
            Value::Backref(0),
            Value::Array(vec![Value::Backref(5)]),
            Value::Array(vec![Value::Backref(2), Value::Array(vec![])]),
        ] {
            assert!(matches!(
                bad.check_backrefs(),
                Err(Error::InvalidArgument(_))
            ));
            assert!(bad.expand_backrefs().is_err());
        }
    }

    #[test]
    fn views_must_fit_and_point_at_buffers() {
        let ab = Value::ArrayBuffer(vec![0; 8]);
        let view = |buffer, off, len| Value::TypedArrayView {
            kind: TypedArrayKind::Uint16,
            buffer,
            byte_offset: off,
            byte_length: len,
        };
        let ok = Value::Array(vec![ab.clone(), view(1, 2, 6)]);
        assert!(ok.check_backrefs().is_ok());
        let tree = ok.expand_backrefs().unwrap();
        assert_eq!(
            tree.as_array().unwrap()[1],
            Value::TypedArray {
                kind: TypedArrayKind::Uint16,
                bytes: vec![0; 6]
            }
        );
        for bad in [
            Value::Array(vec![ab.clone(), view(1, 4, 6)]),
            Value::Array(vec![ab.clone(), view(1, 1, 2)]),
            Value::Array(vec![ab.clone(), view(0, 0, 2)]),
            Value::Array(vec![ab.clone(), view(1, usize::MAX, 2)]),
        ] {
            assert!(bad.check_backrefs().is_err());
        }
    }

    #[test]
    fn cycles_fail_or_print() {
        let v = Value::object([("self", Value::Backref(0))]);
        assert!(matches!(v.expand_backrefs(), Err(Error::Deserialize(_))));
        let shown = v
            .expand_backrefs_with(|n| Some(Value::String(format!("[Circular *{n}]"))))
            .unwrap();
        assert_eq!(shown.get("self"), Some(&Value::from("[Circular *0]")));
    }

    #[test]
    fn an_expansion_bomb_hits_the_limit() {
        let small = bomb(3);
        let tree = small.expand_backrefs().unwrap();
        assert!(!tree.has_backrefs());
        let big = bomb(40);
        assert!(big.check_backrefs().is_ok());
        assert!(matches!(big.expand_backrefs(), Err(Error::Deserialize(_))));
    }
}
