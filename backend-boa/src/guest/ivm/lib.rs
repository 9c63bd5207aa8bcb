//! `ivm.lib`: isolated-vm's utility functions inside the guest (`hrtime`).

use std::cell::OnceCell;
use std::time::{Duration, Instant};

use boa_engine::{Context, JsResult, JsValue, js_string, object::builtins::JsArray};

use super::{arg, type_error};

const NANOS: u64 = 1_000_000_000;

thread_local! {
    /// The arbitrary past instant `hrtime` counts from (its first use in this instance).
    static EPOCH: OnceCell<Instant> = const { OnceCell::new() };
}

/// The guest's monotonic clock (WASI's, seeded in deterministic isolates), in nanoseconds.
fn now_ns() -> u64 {
    let elapsed = EPOCH.with(|e| e.get_or_init(Instant::now).elapsed());
    u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
}

/// `ivm.lib.hrtime([previous])`: `[seconds, nanoseconds]` of a monotonic clock, or the time
/// since `previous` (an earlier result), as Node's `process.hrtime`.
pub(super) fn hrtime(_: &JsValue, args: &[JsValue], ctx: &mut Context) -> JsResult<JsValue> {
    let previous = arg(args, 0);
    let mut ns = now_ns();
    if !previous.is_undefined() {
        ns = ns.saturating_sub(previous_ns(&previous, ctx)?);
    }
    let pair = [(ns / NANOS) as f64, (ns % NANOS) as f64].map(JsValue::from);
    Ok(JsArray::from_iter(pair, ctx).into())
}

/// An earlier `hrtime` result: an array of two whole numbers (seconds, nanoseconds).
fn previous_ns(v: &JsValue, ctx: &mut Context) -> JsResult<u64> {
    let bad = || type_error("hrtime diff must be 2-length array");
    let Some(array) = v.as_object().filter(|o| o.is_array()) else {
        return Err(bad());
    };
    if array.get(js_string!("length"), ctx)?.as_number() != Some(2.0) {
        return Err(bad());
    }
    let mut part = |i: u32| -> JsResult<u64> {
        let n = array.get(i, ctx)?.as_number().ok_or_else(bad)?;
        if !(0.0..=f64::from(u32::MAX)).contains(&n) || n.fract() != 0.0 {
            return Err(type_error("hrtime diff must hold two whole numbers"));
        }
        Ok(n as u64)
    };
    let (seconds, nanos) = (part(0)?, part(1)?);
    Ok(Duration::from_secs(seconds)
        .saturating_add(Duration::from_nanos(nanos))
        .as_nanos()
        .try_into()
        .unwrap_or(u64::MAX))
}
