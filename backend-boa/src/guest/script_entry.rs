//! `ScriptEntry`: a compiled script in the handle table.

use boa_engine::{Script, realm::Realm};

use engine_api::abi::Origin;

/// A compiled script: its source, and one parse per realm it ran in.
pub struct ScriptEntry {
    pub(super) code: String,
    pub(super) origin: Origin,
    pub(super) parsed: Vec<(Realm, Script)>,
}

impl ScriptEntry {
    /// Drops the parse bound to `realm` (its context was released).
    pub fn forget_realm(&mut self, realm: &Realm) {
        self.parsed.retain(|(r, _)| r != realm);
    }
}
