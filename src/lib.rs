//! isovm
