//! Host-side objects the guest holds by id: references, external copies, callbacks and
//! the resolvers of promises the host settles.

use std::collections::HashMap;

use engine_api::{AnyReference, Callback, ExternalCopy};

/// Host-side objects the guest holds by id.
#[derive(Default)]
pub(crate) struct Tables {
    next: u64,
    pub refs: HashMap<u64, AnyReference>,
    pub copies: HashMap<u64, ExternalCopy>,
    /// The bytes counted against the isolate's limit for the copies the guest made itself.
    pub guest_copies: HashMap<u64, usize>,
    pub callbacks: Vec<Callback>,
    pub resolvers: HashMap<u64, (v8::Global<v8::PromiseResolver>, v8::Global<v8::Context>)>,
    /// Errors of host callbacks thrown into the guest, to tell them when they end a call.
    pub callback_errors: crate::errors::CallbackErrors,
}

impl Tables {
    pub fn next_id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Keeps a reference the guest holds; returns its id.
    pub fn add_ref(&mut self, r: AnyReference) -> u64 {
        let id = self.next_id();
        self.refs.insert(id, r);
        id
    }

    /// Keeps an external copy the guest holds; returns its id.
    pub fn add_copy(&mut self, c: ExternalCopy) -> u64 {
        let id = self.next_id();
        self.copies.insert(id, c);
        id
    }
}
