//! Containment: what a hostile script makes cannot take the host past the isolate's
//! limits, and a limit that fires ends the call with its error. The isolated-vm behaviours
//! of its own tests (microtasks left after a timeout, CPU and wall timers, heap limits on
//! copies) and the escapes of issue 7.

use std::time::{Duration, Instant};

use engine_api::{
    Backend, Callback, Context, Error, EvalOptions, ExternalCopy, Isolate, IsolateOptions,
    TransferOptions, Value,
};

use crate::support::{R, setup_with};
use crate::{Case, ensure, ensure_eq};

/// The containment cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new(
            "containment/microtasks_cleared_after_timeout",
            microtasks_cleared::<E>,
        ),
        Case::new(
            "containment/spinning_getter_in_result_times_out",
            getter_in_result::<E>,
        ),
        Case::new(
            "containment/error_name_object_does_not_run",
            error_name_object::<E>,
        ),
        Case::new(
            "containment/sparse_array_result_bounded",
            sparse_array_result::<E>,
        ),
        Case::new("containment/dag_result_bounded", dag_result::<E>),
        Case::new(
            "containment/repeated_string_result_bounded",
            repeated_string_result::<E>,
        ),
        Case::new(
            "containment/guest_external_copies_count",
            guest_external_copies::<E>,
        ),
        Case::new("containment/deep_host_value_refused", deep_host_value::<E>),
        Case::new("containment/huge_timeout_accepted", huge_timeout::<E>),
        Case::new(
            "containment/promise_nothing_can_settle_ends",
            promise_never_settles::<E>,
        ),
        Case::new(
            "containment/resizable_buffers_count",
            resizable_buffers::<E>,
        ),
        Case::new(
            "containment/dropped_resizable_buffers_give_back",
            dropped_resizable_buffers::<E>,
        ),
        Case::new(
            "containment/huge_array_operations_end_in_time",
            huge_array_operations::<E>,
        ),
        Case::new(
            "containment/cpu_time_excludes_host_callbacks",
            cpu_excludes_host::<E>,
        ),
        Case::new(
            "containment/cpu_time_counts_guest_work",
            cpu_counts_guest::<E>,
        ),
        Case::new(
            "containment/cpu_time_grows_while_running",
            cpu_grows_while_running::<E>,
        ),
    ]
}

fn limited<E: Backend>(mb: u64) -> R<(E::Isolate, E::Context)> {
    setup_with::<E>(IsolateOptions {
        memory_limit_mb: mb,
        ..Default::default()
    })
}

fn copy_within(ms: u64) -> EvalOptions {
    EvalOptions::copy().with_timeout(Duration::from_millis(ms))
}

/// Generous bound for a call that should end at its limit (a loaded 2-core machine).
const ENDS_WITHIN: Duration = Duration::from_secs(10);

/// Runs `code` and checks it ends in one of the limit errors `ok`, in time.
fn ends_in<C: Context>(c: &C, code: &str, ms: u64, ok: &[fn(&Error) -> bool]) -> R<Error> {
    let t = Instant::now();
    let r = c.eval(code, &copy_within(ms));
    let took = t.elapsed();
    ensure!(took < ENDS_WITHIN, "took {took:?}");
    match r {
        Err(e) if ok.iter().any(|f| f(&e)) => Ok(e),
        other => Err(format!("expected a limit error, got {other:?}").into()),
    }
}

fn timeout(e: &Error) -> bool {
    matches!(e, Error::Timeout { .. })
}

fn memory(e: &Error) -> bool {
    matches!(e, Error::MemoryLimit)
}

fn microtasks_cleared<E: Backend>() -> R {
    let (i, c) = limited::<E>(64)?;
    ends_in(
        &c,
        "Promise.resolve().then(function f() { Promise.resolve().then(f) }); 1",
        100,
        &[timeout],
    )?;
    // The next call starts clean: the loop the stopped call queued does not run in it (or
    // the backend disposed the isolate and says so).
    let t = Instant::now();
    match c.eval("1 + 1", &copy_within(2000)) {
        Ok(v) => ensure_eq!(v, Value::from(2)),
        Err(Error::Disposed) => ensure!(i.is_disposed(), "Disposed, yet not disposed"),
        Err(e) => return Err(format!("the next call failed: {e:?}").into()),
    }
    ensure!(t.elapsed() < ENDS_WITHIN);
    Ok(())
}

fn getter_in_result<E: Backend>() -> R {
    let (_i, c) = limited::<E>(64)?;
    ends_in(
        &c,
        "({ a: 1, get b() { while (true) {} } })",
        100,
        &[timeout],
    )?;
    Ok(())
}

fn error_name_object<E: Backend>() -> R {
    let (_i, c) = limited::<E>(64)?;
    let t = Instant::now();
    let r = c.eval(
        "const e = new Error('x'); e.name = { toString() { while (true) {} } }; e",
        &copy_within(100),
    );
    ensure!(t.elapsed() < ENDS_WITHIN);
    match r {
        // The copy does not call the object's toString: the name falls back.
        Ok(Value::Error(e)) => ensure_eq!(e.message, "x"),
        Err(Error::Timeout { .. }) => {}
        other => return Err(format!("unexpected {other:?}").into()),
    }
    Ok(())
}

fn sparse_array_result<E: Backend>() -> R {
    let (_i, c) = limited::<E>(32)?;
    ends_in(
        &c,
        "const a = []; a[2 ** 32 - 2] = 1; a",
        2000,
        &[memory, timeout],
    )?;
    let (_i, c) = limited::<E>(32)?;
    ends_in(
        &c,
        "const a = []; a.length = 2 ** 32 - 1; a",
        2000,
        &[memory, timeout],
    )?;
    Ok(())
}

fn dag_result<E: Backend>() -> R {
    let (_i, c) = limited::<E>(32)?;
    // 2^22 leaves through 22 shared levels: a few hundred bytes in the isolate, and 23
    // arrays and back-references once copied (see clone_identity/dag_bomb_is_cheap).
    let t = Instant::now();
    let v = c.eval(
        "let a = [1]; for (let i = 0; i < 22; i++) a = [a, a]; a",
        &copy_within(2000),
    )?;
    ensure!(t.elapsed() < ENDS_WITHIN);
    ensure!(v.has_backrefs());
    Ok(())
}

fn repeated_string_result<E: Backend>() -> R {
    let (_i, c) = limited::<E>(32)?;
    // One 1 MiB string, 200 times: 200 MiB once copied out.
    ends_in(
        &c,
        "const s = 'x'.repeat(1 << 20); const a = []; for (let i = 0; i < 200; i++) a.push(s); a",
        2000,
        &[memory, timeout],
    )?;
    Ok(())
}

fn guest_external_copies<E: Backend>() -> R {
    let before = ExternalCopy::total_external_size();
    let (_i, c) = limited::<E>(32)?;
    ends_in(
        &c,
        "const s = 'x'.repeat(1 << 20); const keep = []; \
         for (let i = 0; i < 200; i++) keep.push(new ivm.ExternalCopy(s + i)); keep.length",
        5000,
        &[memory, timeout],
    )?;
    let held = ExternalCopy::total_external_size().saturating_sub(before);
    // Other trials run at once and may hold copies; 200 MiB would be this one's.
    ensure!(held < 100 << 20, "{held} bytes of external copies held");
    Ok(())
}

fn deep_host_value<E: Backend>() -> R {
    let mut v = Value::Null;
    for _ in 0..200_000 {
        v = Value::Array(vec![v]);
    }
    match ExternalCopy::new(v) {
        Err(Error::NotTransferable(_)) => {}
        other => return Err(format!("expected NotTransferable, got {other:?}").into()),
    }
    let (_i, c) = limited::<E>(32)?;
    let mut v = Value::Null;
    for _ in 0..200_000 {
        v = Value::Array(vec![v]);
    }
    let r = c.eval_closure("return 1", vec![v], &EvalOptions::copy());
    ensure!(
        matches!(r, Err(Error::NotTransferable(_))),
        "a 200,000-deep argument: {r:?}"
    );
    Ok(())
}

fn huge_timeout<E: Backend>() -> R {
    let (_i, c) = limited::<E>(32)?;
    let v = c.eval("1 + 1", &EvalOptions::copy().with_timeout(Duration::MAX))?;
    ensure_eq!(v, Value::from(2));
    Ok(())
}

fn promise_never_settles<E: Backend>() -> R {
    let (_i, c) = limited::<E>(32)?;
    let opts = EvalOptions {
        result: TransferOptions {
            promise: true,
            ..TransferOptions::copy()
        },
        ..Default::default()
    };
    let t = Instant::now();
    let r = c.eval("new Promise(() => {})", &opts);
    ensure!(
        matches!(r, Err(Error::PromiseNeverSettles)),
        "a promise nothing can settle: {r:?}"
    );
    ensure!(t.elapsed() < ENDS_WITHIN);
    // One an async host call settles later is still awaited, and the isolate is usable.
    let later = Callback::new_async(|_| {
        std::thread::sleep(Duration::from_millis(100));
        Ok(Value::from(5))
    });
    c.eval_closure(
        "globalThis.later = $0",
        vec![later.into()],
        &EvalOptions::default(),
    )?;
    let v = c.eval("later().then((x) => x + 1)", &opts)?;
    ensure_eq!(v, Value::from(6));
    Ok(())
}

/// Whether the backend's engine has resizable / growable buffers (else those cases are
/// only about the fixed-length fallback, which other cases cover).
fn has_resizable<C: Context>(c: &C) -> R<bool> {
    let v = c.eval(
        "typeof ArrayBuffer.prototype.resize === 'function' && \
         typeof SharedArrayBuffer === 'function' && \
         typeof SharedArrayBuffer.prototype.grow === 'function'",
        &EvalOptions::copy(),
    )?;
    Ok(v == Value::from(true))
}

fn resizable_buffers<E: Backend>() -> R {
    for code in [
        "const b = new ArrayBuffer(0, { maxByteLength: 2 ** 30 }); b.resize(2 ** 30); \
         new Uint8Array(b).fill(1); b.byteLength",
        "const b = new SharedArrayBuffer(0, { maxByteLength: 2 ** 30 }); b.grow(2 ** 30); \
         new Uint8Array(b).fill(1); b.byteLength",
        "const b = new ArrayBuffer(2 ** 30, { maxByteLength: 2 ** 30 }); \
         new Uint8Array(b).fill(1); b.byteLength",
        "const b = new ArrayBuffer(8, { maxByteLength: 2 ** 30 }); const c = b.transfer(2 ** 30); \
         new Uint8Array(c).fill(1); c.byteLength",
        "const keep = []; for (let i = 0; i < 64; i++) { \
         const b = new ArrayBuffer(0, { maxByteLength: 1 << 20 }); b.resize(1 << 20); keep.push(b) } 1",
        // The constructor and resize reached without the globals, first touch included.
        "delete globalThis.ArrayBuffer; const P = Object.getPrototypeOf(new Uint8Array(1).buffer); \
         const r = Object.getOwnPropertyDescriptor(P, 'resize').value; \
         const b = new P.constructor(0, { maxByteLength: 2 ** 30 }); r.call(b, 2 ** 30); \
         new Uint8Array(b).fill(1); 1",
        // Built-ins the accounting uses, replaced before the first touch.
        "Reflect.apply = () => 0; WeakMap.prototype.get = () => ({ bytes: -1e9 }); \
         Object.defineProperty(Object.prototype, 'get', { value: () => 0 }); \
         const b = new ArrayBuffer(0, { maxByteLength: 2 ** 30 }); b.resize(2 ** 30); \
         new Uint8Array(b).fill(1); 1",
    ] {
        let (_i, c) = limited::<E>(32)?;
        if !has_resizable(&c)? {
            return Ok(());
        }
        ends_in(&c, code, 5000, &[memory])?;
    }
    Ok(())
}

fn dropped_resizable_buffers<E: Backend>() -> R {
    let (_i, c) = limited::<E>(32)?;
    if !has_resizable(&c)? {
        return Ok(());
    }
    // 128 MiB in all, never more than 1 MiB alive: within a 32 MB limit.
    let v = c.eval(
        "for (let i = 0; i < 128; i++) { \
         const b = new ArrayBuffer(0, { maxByteLength: 1 << 20 }); b.resize(1 << 20); } \
         class X extends ArrayBuffer {}; const x = new X(4, { maxByteLength: 8 }); x.resize(8); \
         [x instanceof X, x.byteLength, new Uint8Array(2).buffer.constructor === ArrayBuffer]",
        &copy_within(10_000),
    )?;
    ensure_eq!(
        v,
        Value::Array(vec![Value::from(true), Value::from(8), Value::from(true)])
    );
    Ok(())
}

fn huge_array_operations<E: Backend>() -> R {
    for code in [
        "Array(1e9).fill(0)",
        "Array.from({ length: 5e7 }).length",
        "Array.prototype.fill.call({ length: 1e9 }, 0); 1",
    ] {
        let (_i, c) = limited::<E>(32)?;
        ends_in(&c, code, 100, &[memory, timeout])?;
    }
    // Ordinary fills and array-likes are untouched.
    let (_i, c) = limited::<E>(32)?;
    let v = c.eval(
        "[Array(3).fill(7), Array(4).fill(1, 2), Array.from({ length: 2 }, (_, i) => i), \
         Array.prototype.fill.length, Array.from.name]",
        &EvalOptions::copy(),
    )?;
    let n = |x: i32| Value::from(x);
    ensure_eq!(
        v,
        Value::Array(vec![
            Value::Array(vec![n(7), n(7), n(7)]),
            Value::Array(vec![Value::Undefined, Value::Undefined, n(1), n(1)]),
            Value::Array(vec![n(0), n(1)]),
            n(1),
            Value::from("from"),
        ])
    );
    Ok(())
}

fn cpu_excludes_host<E: Backend>() -> R {
    let (i, c) = limited::<E>(32)?;
    let sleep = Callback::new(|_| {
        std::thread::sleep(Duration::from_millis(100));
        Ok(Value::Undefined)
    });
    c.eval_closure(
        "globalThis.nap = $0",
        vec![sleep.into()],
        &EvalOptions::default(),
    )?;
    let cpu0 = i.cpu_time();
    let t = Instant::now();
    c.eval("nap(); nap(); nap(); 1", &EvalOptions::copy())?;
    let wall = t.elapsed();
    let cpu = i.cpu_time().saturating_sub(cpu0);
    ensure!(wall >= Duration::from_millis(300), "slept {wall:?}");
    ensure!(
        cpu < Duration::from_millis(150),
        "300 ms asleep in host callbacks counted as {cpu:?} of CPU"
    );
    Ok(())
}

fn cpu_counts_guest<E: Backend>() -> R {
    let (i, c) = limited::<E>(32)?;
    let cpu0 = i.cpu_time();
    let t = Instant::now();
    c.eval(
        "const t = Date.now(); let n = 0; while (Date.now() - t < 200) n++; n",
        &EvalOptions::copy(),
    )?;
    let wall = t.elapsed();
    let cpu = i.cpu_time().saturating_sub(cpu0);
    // A loaded machine may give the loop far less than its wall time, never more.
    ensure!(
        cpu > Duration::from_millis(20) && cpu <= wall + Duration::from_millis(5),
        "a busy loop of {wall:?} counted {cpu:?}"
    );
    Ok(())
}

fn cpu_grows_while_running<E: Backend>() -> R {
    let (i, c) = limited::<E>(32)?;
    let cpu0 = i.cpu_time();
    let task = c.eval_async(
        "const t = Date.now(); let n = 0; while (Date.now() - t < 1500) n++; n",
        EvalOptions::copy(),
    );
    let t = Instant::now();
    let mut grew = false;
    while t.elapsed() < Duration::from_millis(1200) && !grew {
        std::thread::sleep(Duration::from_millis(50));
        grew = i.cpu_time() > cpu0 + Duration::from_millis(10);
    }
    ensure!(grew, "cpu time did not move during a running call");
    task.wait()?;
    Ok(())
}
