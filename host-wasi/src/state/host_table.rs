//! `HostTable`: the host objects (`HostObject`) a guest holds ids of.

use std::collections::HashMap;

use engine_api::{AnyReference, Callback, ExternalCopy};

/// Something of the host's that the guest holds an id of.
#[derive(Clone)]
pub(crate) enum HostObject {
    Callback(Callback),
    Reference(AnyReference),
    Copy(ExternalCopy),
}

/// Host ids → host objects, per isolate.
#[derive(Default)]
pub(crate) struct HostTable {
    objects: HashMap<u32, HostObject>,
    next_id: u32,
    /// Bytes of the external copies in `objects`.
    copy_bytes: usize,
    /// Ids of the callbacks inserted last: passing the same callback again reuses its id
    /// (the guest never releases plain functions, so ids would pile up otherwise).
    recent_callbacks: Vec<u32>,
}

/// How many recent callbacks `HostTable::insert` checks for reuse.
const RECENT_CALLBACKS: usize = 16;

impl HostTable {
    pub(crate) fn insert(&mut self, object: HostObject) -> u32 {
        if let HostObject::Callback(c) = &object {
            let same = |id: &&u32| matches!(self.objects.get(id), Some(HostObject::Callback(old)) if old.ptr_eq(c));
            if let Some(&id) = self.recent_callbacks.iter().find(same) {
                return id;
            }
        }
        loop {
            self.next_id = self.next_id.wrapping_add(1).max(1);
            if !self.objects.contains_key(&self.next_id) {
                break;
            }
        }
        match &object {
            HostObject::Copy(c) => self.copy_bytes = self.copy_bytes.saturating_add(c.size()),
            HostObject::Callback(_) => {
                if self.recent_callbacks.len() == RECENT_CALLBACKS {
                    self.recent_callbacks.remove(0);
                }
                self.recent_callbacks.push(self.next_id);
            }
            HostObject::Reference(_) => {}
        }
        self.objects.insert(self.next_id, object);
        self.next_id
    }

    pub(crate) fn get(&self, id: u32) -> Option<&HostObject> {
        self.objects.get(&id)
    }

    pub(crate) fn remove(&mut self, id: u32) {
        if let Some(HostObject::Copy(c)) = self.objects.remove(&id) {
            self.copy_bytes = self.copy_bytes.saturating_sub(c.size());
        }
    }

    /// Bytes of external copies the guest holds.
    pub(crate) fn external_bytes(&self) -> usize {
        self.copy_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine_api::Value;

    #[test]
    fn the_same_callback_keeps_its_id() {
        let mut table = HostTable::default();
        let cb = Callback::new(|_| Ok(Value::Undefined));
        let a = table.insert(HostObject::Callback(cb.clone()));
        let b = table.insert(HostObject::Callback(cb.clone()));
        let other = table.insert(HostObject::Callback(Callback::new(|_| Ok(Value::Null))));
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(table.objects.len(), 2);
    }

    #[test]
    fn copy_bytes_follow_inserts_and_removals() {
        let mut table = HostTable::default();
        let copy = ExternalCopy::new(Value::from("x".repeat(1000))).expect("copy");
        let id = table.insert(HostObject::Copy(copy.clone()));
        assert_eq!(table.external_bytes(), copy.size());
        table.remove(id);
        assert_eq!(table.external_bytes(), 0);
    }
}
