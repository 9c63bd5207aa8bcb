//! The cases, one file per area of the contract.

pub mod callbacks;
pub mod cancellation;
pub mod capabilities;
pub mod clone_identity;
pub mod containment;
pub mod contexts;
pub mod error_kinds;
pub mod errors;
pub mod eval;
pub mod external_copy;
pub mod guest_api;
pub mod guest_options;
pub mod isolates;
pub mod limits;
pub mod memory;
pub mod modules;
pub mod ordering;
pub mod properties;
pub mod reentrancy;
pub mod references;
pub mod rejections;
pub mod scripts;
pub mod seed;
pub mod stacks;
pub mod transfers;
pub mod typed;
