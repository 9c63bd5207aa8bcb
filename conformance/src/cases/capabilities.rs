//! Optional capabilities: each works where the backend declares it and gives
//! `Error::Unsupported` where it does not.

use engine_api::{
    Backend, Capability, DeterministicSeed, Error, Isolate, IsolateOptions, SnapshotScript, Value,
};

use crate::support::{R, eval, expect_err, setup, setup_with};
use crate::{Case, ensure, ensure_eq};

/// The capability cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new("capabilities/snapshot", snapshot::<E>),
        Case::new("capabilities/deterministic_seed", deterministic::<E>),
        Case::new(
            "capabilities/random_differs_between_isolates",
            random_differs::<E>,
        ),
        Case::new("capabilities/clock_is_sane", clock::<E>),
        Case::new("capabilities/require_matches_has", require_matches::<E>),
    ]
}

fn snapshot<E: Backend>() -> R {
    let scripts = [SnapshotScript {
        code: "globalThis.fromSnapshot = 42; function helper() { return 'helped' }".into(),
        origin: Default::default(),
    }];
    if !E::capabilities().snapshots {
        expect_err(
            E::create_snapshot(&scripts, None),
            "Unsupported(Snapshots)",
            |e| matches!(e, Error::Unsupported(Capability::Snapshots)),
        )?;
        let fake = engine_api::Snapshot(vec![0u8; 4].into());
        let r = E::Isolate::new(IsolateOptions {
            snapshot: Some(fake),
            ..Default::default()
        });
        expect_err(r, "Unsupported(Snapshots)", |e| {
            matches!(e, Error::Unsupported(Capability::Snapshots))
        })?;
        return Ok(());
    }
    let snap = E::create_snapshot(&scripts, Some("helper(); helper();"))?;
    let (_i, c) = setup_with::<E>(IsolateOptions {
        snapshot: Some(snap),
        ..Default::default()
    })?;
    ensure_eq!(
        eval(&c, "[fromSnapshot, helper()]")?,
        Value::Array(vec![42.into(), "helped".into()])
    );
    Ok(())
}

fn seeded(seed: u64) -> IsolateOptions {
    IsolateOptions {
        deterministic: Some(DeterministicSeed {
            start_time_ms: 1_600_000_000_000,
            random_seed: seed,
        }),
        ..Default::default()
    }
}

fn deterministic<E: Backend>() -> R {
    if !E::capabilities().deterministic {
        expect_err(
            E::Isolate::new(seeded(1)),
            "Unsupported(Deterministic)",
            |e| matches!(e, Error::Unsupported(Capability::Deterministic)),
        )?;
        return Ok(());
    }
    let code = "[Math.random(), Math.random(), Date.now()]";
    let (_a, ca) = setup_with::<E>(seeded(7))?;
    let (_b, cb) = setup_with::<E>(seeded(7))?;
    let (_x, cx) = setup_with::<E>(seeded(8))?;
    let (va, vb, vx) = (eval(&ca, code)?, eval(&cb, code)?, eval(&cx, code)?);
    ensure_eq!(va, vb);
    ensure!(va != vx, "different seeds gave the same sequence");
    let now = va
        .as_array()
        .and_then(|a| a[2].as_f64())
        .ok_or("no Date.now")?;
    ensure!((now - 1.6e12).abs() < 60_000.0, "seeded clock {now}");
    Ok(())
}

fn random_differs<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let code = "[Math.random(), Math.random(), Math.random()]";
    ensure!(
        eval(&ca, code)? != eval(&cb, code)?,
        "two isolates share a random sequence"
    );
    Ok(())
}

fn clock<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let guest = eval(&c, "Date.now()")?
        .as_f64()
        .ok_or("Date.now not a number")?;
    let host = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis() as f64;
    ensure!(
        (guest - host).abs() < 600_000.0,
        "guest clock {guest} vs host {host}"
    );
    Ok(())
}

fn require_matches<E: Backend>() -> R {
    let caps = E::capabilities();
    for cap in [
        Capability::Fuel,
        Capability::HardMemoryCap,
        Capability::Snapshots,
        Capability::CodeCache,
        Capability::Inspector,
        Capability::Deterministic,
        Capability::SharedMemory,
        Capability::CatchableStackOverflow,
    ] {
        ensure_eq!(caps.require(cap).is_ok(), caps.has(cap));
    }
    Ok(())
}
