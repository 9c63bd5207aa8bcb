//! The isovm conformance suite: every case is written once, generic over
//! [`engine_api::Backend`], and runs as one trial per compiled backend
//! (`boa-wasi/<case>`, `v8/<case>`).
//!
//! A backend that cannot pass a case declares it in [`expected::DECLARED_FAILURES`] with a
//! reason; a declared failure that passes fails the run. Cases that depend on a capability
//! check [`engine_api::Backend::capabilities`] and expect `Error::Unsupported` where it is
//! missing, so a missing capability is tested, not skipped.

pub mod cases;
pub mod cross;
pub mod expected;
pub mod same_answer;
pub mod support;

use std::sync::Arc;

/// One conformance case, bound to one backend.
#[derive(Clone)]
pub struct Case {
    /// Case name (without the backend prefix).
    pub name: String,
    /// Runs the case.
    pub run: Arc<dyn Fn() -> support::R + Send + Sync>,
}

impl Case {
    /// A case from a plain function.
    pub fn new(name: impl Into<String>, f: fn() -> support::R) -> Case {
        Case {
            name: name.into(),
            run: Arc::new(f),
        }
    }

    /// A case from a closure (data-driven cases).
    pub fn with(
        name: impl Into<String>,
        f: impl Fn() -> support::R + Send + Sync + 'static,
    ) -> Case {
        Case {
            name: name.into(),
            run: Arc::new(f),
        }
    }
}

/// Every case, for backend `E`.
pub fn all_cases<E: engine_api::Backend>() -> Vec<Case> {
    let mut out = Vec::new();
    out.extend(cases::eval::cases::<E>());
    out.extend(cases::errors::cases::<E>());
    out.extend(cases::error_kinds::cases::<E>());
    out.extend(cases::contexts::cases::<E>());
    out.extend(cases::scripts::cases::<E>());
    out.extend(cases::modules::cases::<E>());
    out.extend(cases::rejections::cases::<E>());
    out.extend(cases::references::cases::<E>());
    out.extend(cases::properties::cases::<E>());
    out.extend(cases::reentrancy::cases::<E>());
    out.extend(cases::external_copy::cases::<E>());
    out.extend(cases::clone_identity::cases::<E>());
    out.extend(cases::transfers::cases::<E>());
    out.extend(cases::transfer_list::cases::<E>());
    out.extend(cases::typed::cases::<E>());
    out.extend(cases::stacks::cases::<E>());
    out.extend(cases::callbacks::cases::<E>());
    out.extend(cases::guest_api::cases::<E>());
    out.extend(cases::guest_options::cases::<E>());
    out.extend(cases::limits::cases::<E>());
    out.extend(cases::containment::cases::<E>());
    out.extend(cases::memory::cases::<E>());
    out.extend(cases::isolates::cases::<E>());
    out.extend(cases::ordering::cases::<E>());
    out.extend(cases::cancellation::cases::<E>());
    out.extend(cases::capabilities::cases::<E>());
    out.extend(cases::seed::cases::<E>());
    out
}
