//! Runs every conformance case once per compiled backend, as `backend/case` trials.

use conformance::{Case, expected};
use libtest_mimic::{Arguments, Failed, Trial};

#[cfg_attr(not(any(feature = "boa-wasi", feature = "v8")), allow(dead_code))]
fn trials_for(backend: &'static str, cases: Vec<Case>) -> Vec<Trial> {
    cases
        .into_iter()
        .map(|case| {
            let name = format!("{backend}/{}", case.name);
            let declared = expected::declared(backend, &case.name);
            let run = case.run.clone();
            Trial::test(name, move || {
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run()))
                    .unwrap_or_else(|p| {
                        let msg = p
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default();
                        Err(conformance::support::Failure(format!(
                            "case panicked: {msg}"
                        )))
                    });
                match (outcome, declared) {
                    (Ok(()), None) => Ok(()),
                    (Err(f), None) => Err(Failed::from(f.0)),
                    (Err(_), Some(_)) => Ok(()),
                    (Ok(()), Some(why)) => Err(Failed::from(format!(
                        "declared failure passed (remove it from expected.rs): {why}"
                    ))),
                }
            })
        })
        .collect()
}

fn main() {
    let args = Arguments::from_args();
    #[allow(unused_mut)]
    let mut trials: Vec<Trial> = Vec::new();
    #[cfg(feature = "boa-wasi")]
    trials.extend(trials_for(
        "boa-wasi",
        conformance::all_cases::<backend_boa::BoaWasi>(),
    ));
    #[cfg(feature = "v8")]
    trials.extend(trials_for("v8", conformance::all_cases::<backend_v8::V8>()));
    #[cfg(all(feature = "boa-wasi", feature = "v8"))]
    {
        use backend_boa::BoaWasi;
        use backend_v8::V8;
        trials.extend(trials_for(
            "cross/v8->boa-wasi",
            conformance::cross::cases::<V8, BoaWasi>(),
        ));
        trials.extend(trials_for(
            "cross/boa-wasi->v8",
            conformance::cross::cases::<BoaWasi, V8>(),
        ));
        trials.extend(trials_for(
            "same",
            conformance::same_answer::cases::<V8, BoaWasi>(),
        ));
    }
    libtest_mimic::run(&args, trials).exit();
}
