//! Start-up snapshots.

use std::sync::Arc;

use crate::ScriptOrigin;

/// A start-up snapshot made by `Backend::create_snapshot`.
#[derive(Clone, Debug)]
pub struct Snapshot(pub Arc<[u8]>);

/// A script that goes into a snapshot.
#[derive(Clone, Debug, Default)]
pub struct SnapshotScript {
    /// The source.
    pub code: String,
    /// Where it came from.
    pub origin: ScriptOrigin,
}
