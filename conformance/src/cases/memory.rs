//! Memory fidelity (issue 9): what the guest released is collected before the memory
//! limit ends the isolate, and copies into the isolate cost about what they hold. Each
//! case has a live-set counterpart: what is still held above the limit still ends in
//! `MemoryLimit`, the isolate disposed and the host unaffected.

use engine_api::{
    ApplyOptions, Backend, Context, Error, EvalOptions, Isolate, IsolateOptions, Reference,
    TransferOptions, Value,
};

use crate::support::{R, setup_with};
use crate::{Case, ensure, ensure_eq};

/// The memory cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new(
            "memory/released_contexts_are_collected",
            released_contexts::<E>,
        ),
        Case::new(
            "memory/held_contexts_end_in_memory_limit",
            held_contexts::<E>,
        ),
        Case::new(
            "memory/garbage_arguments_are_collected",
            garbage_arguments::<E>,
        ),
        Case::new(
            "memory/held_arguments_end_in_memory_limit",
            held_arguments::<E>,
        ),
        Case::new("memory/large_string_copies_in", large_string::<E>),
        Case::new(
            "memory/too_large_string_ends_in_memory_limit",
            too_large_string::<E>,
        ),
        Case::new("memory/dropped_buffers_are_collected", dropped_buffers::<E>),
        Case::new(
            "memory/too_large_buffer_in_ends_in_memory_limit",
            too_large_buffer_in::<E>,
        ),
    ]
}

fn limited<E: Backend>(mb: u64) -> R<E::Isolate> {
    Ok(E::Isolate::new(IsolateOptions {
        memory_limit_mb: mb,
        ..Default::default()
    })?)
}

/// Code that keeps 16 MiB in the context's globals: half in an array buffer, half in
/// ordinary arrays of doubles (8 bytes each on both engines).
const KEEP_16_MB: &str = "globalThis.keep = { bytes: new Uint8Array(8 << 20).fill(1), \
     doubles: Array.from({ length: 8 }, (_, i) => new Array(1 << 17).fill(i + 0.5)) }; \
     keep.bytes.length + keep.doubles.length";

/// Code that keeps 16 MiB of flat strings (1 MiB each, one byte a character on both
/// engines; `toLowerCase` flattens V8's rope that `repeat` makes) in the globals.
const KEEP_16_MB_STRINGS: &str = "globalThis.keep = Array.from({ length: 16 }, \
     (_, i) => String.fromCharCode(65 + i).repeat(1 << 20).toLowerCase()); \
     (keep.length - 1) * (1 << 19) + keep[15].length / 2 + 8";

/// Code that keeps some 16 MiB of small objects on V8 (more on Boa, whose objects are
/// larger) in the context's globals.
const KEEP_OBJECTS: &str = "globalThis.keep = Array.from({ length: 1 << 18 }, \
     (_, i) => ({ i, half: i + 0.5 })); (1 << 23) + 8 + keep[5].i - 5";

/// After a limit fired: the isolate is disposed, and a fresh isolate works.
fn host_unaffected<E: Backend>(i: &E::Isolate) -> R {
    ensure!(i.is_disposed(), "the isolate outlived its memory limit");
    let (_j, c) = setup_with::<E>(IsolateOptions::default())?;
    ensure_eq!(c.eval("6 * 7", &EvalOptions::copy())?, Value::from(42));
    Ok(())
}

fn released_contexts<E: Backend>() -> R {
    // 320 MiB made in all, never more than 16 MiB of it reachable: within 128 MB.
    for keep in [KEEP_16_MB, KEEP_16_MB_STRINGS, KEEP_OBJECTS] {
        let i = limited::<E>(128)?;
        for n in 0..20 {
            let c = i.create_context()?;
            let v = c
                .eval(keep, &EvalOptions::copy())
                .map_err(|e| format!("context {n}: {e:?}"))?;
            ensure_eq!(v, Value::from((8 << 20) + 8));
            c.release();
        }
        ensure!(!i.is_disposed());
        let c = i.create_context()?;
        ensure_eq!(c.eval("1 + 1", &EvalOptions::copy())?, Value::from(2));
    }
    Ok(())
}

fn held_contexts<E: Backend>() -> R {
    // The same contexts, kept: 320 MiB reachable cannot fit in 128 MB.
    held_contexts_keeping::<E>(KEEP_16_MB)?;
    held_contexts_keeping::<E>(KEEP_16_MB_STRINGS)
}

fn held_contexts_keeping<E: Backend>(keep: &str) -> R {
    let i = limited::<E>(128)?;
    let mut held = Vec::new();
    for _ in 0..20 {
        let c = match i.create_context() {
            Ok(c) => c,
            Err(Error::MemoryLimit | Error::Disposed) => break,
            Err(e) => return Err(format!("create_context: {e:?}").into()),
        };
        match c.eval(keep, &EvalOptions::copy()) {
            Ok(_) => held.push(c),
            Err(Error::MemoryLimit) => return host_unaffected::<E>(&i),
            Err(e) => return Err(format!("expected MemoryLimit, got {e:?}").into()),
        }
    }
    Err(format!("{} contexts of 16 MiB fit in 128 MB", held.len()).into())
}

/// An argument of about 150 KB on the wire: 1,000 records with a 100-character string.
fn record_list(n: usize) -> Value {
    Value::Array(
        (0..1000)
            .map(|k| {
                Value::Object(vec![
                    ("k".into(), Value::from(k as f64)),
                    ("s".into(), Value::from(format!("{n:>50}{k:>50}"))),
                ])
            })
            .collect(),
    )
}

fn garbage_arguments<E: Backend>() -> R {
    // 500 applies and 500 closures, each with an argument it drops: some 150 MB made in
    // all, nothing kept, within 32 MB.
    let i = limited::<E>(32)?;
    let c = i.create_context()?;
    let f = c.eval(
        "(function (list) { return list.length + list[999].s.length })",
        &EvalOptions {
            result: TransferOptions::reference(),
            ..Default::default()
        },
    )?;
    let f = f.as_reference().ok_or("not a reference")?;
    let f = E::Reference::from_any(f).ok_or("not this backend's reference")?;
    for n in 0..500 {
        let v = f
            .apply(
                Value::Undefined,
                vec![record_list(n)],
                &ApplyOptions::copy(),
            )
            .map_err(|e| format!("apply {n}: {e:?}"))?;
        ensure_eq!(v, Value::from(1100));
    }
    for n in 0..500 {
        let v = c
            .eval_closure(
                "return $0.length + $0[0].s.length",
                vec![record_list(n)],
                &EvalOptions::copy(),
            )
            .map_err(|e| format!("closure {n}: {e:?}"))?;
        ensure_eq!(v, Value::from(1100));
    }
    ensure!(!i.is_disposed());
    Ok(())
}

fn held_arguments<E: Backend>() -> R {
    // The same arguments, each kept: 500 of them cannot fit in 32 MB.
    let i = limited::<E>(32)?;
    let c = i.create_context()?;
    for n in 0..500 {
        match c.eval_closure(
            "(globalThis.kept ??= []).push($0); return kept.length",
            vec![record_list(n)],
            &EvalOptions::copy(),
        ) {
            Ok(_) => {}
            Err(Error::MemoryLimit) => return host_unaffected::<E>(&i),
            Err(e) => return Err(format!("call {n}: expected MemoryLimit, got {e:?}").into()),
        }
    }
    Err("500 kept arguments of 150 KB fit in 32 MB".into())
}

fn large_string<E: Backend>() -> R {
    // An 11 MiB string (ASCII, then with a character beyond Latin-1) into a 32 MB isolate.
    for (unit, units) in [("x", 11 << 20), ("x\u{20ac}", 11 << 19)] {
        let i = limited::<E>(32)?;
        let c = i.create_context()?;
        let s = unit.repeat(units / unit.chars().count());
        let chars = s.chars().count();
        let v = c
            .eval_closure(
                "return [$0.length, $0.charCodeAt($0.length - 1)]",
                vec![Value::from(s)],
                &EvalOptions::copy(),
            )
            .map_err(|e| format!("{chars} characters of {unit:?}: {e:?}"))?;
        let last = unit.chars().last().map_or(0, |c| c as u32);
        ensure_eq!(
            v,
            Value::Array(vec![
                Value::from(chars as f64),
                Value::from(f64::from(last))
            ])
        );
        // The isolate keeps working, and the string is gone with the call.
        ensure_eq!(c.eval("'ok'", &EvalOptions::copy())?, Value::from("ok"));
        ensure!(!i.is_disposed());
    }
    Ok(())
}

fn too_large_string<E: Backend>() -> R {
    // 48 MiB of characters cannot enter a 32 MB isolate: refused or MemoryLimit, never
    // a crash, and the host is fine.
    let i = limited::<E>(32)?;
    let c = i.create_context()?;
    let s = "y".repeat(48 << 20);
    match c.eval_closure(
        "globalThis.kept = $0; return $0.length",
        vec![Value::from(s)],
        &EvalOptions::copy(),
    ) {
        Err(Error::MemoryLimit) => host_unaffected::<E>(&i),
        other => Err(format!("expected MemoryLimit, got {other:?}").into()),
    }
}

fn dropped_buffers<E: Backend>() -> R {
    // 256 MiB of array buffers made in one call, never more than 1 MiB reachable.
    let i = limited::<E>(32)?;
    let c = i.create_context()?;
    let v = c.eval(
        "let sum = 0; for (let n = 0; n < 256; n++) { \
         const b = new Uint8Array(1 << 20); b[n] = 1; sum += b[n] } sum",
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(256));
    // Kept, they end in MemoryLimit.
    match c.eval(
        "const kept = []; for (let n = 0; n < 256; n++) kept.push(new Uint8Array(1 << 20)); 1",
        &EvalOptions::copy(),
    ) {
        Err(Error::MemoryLimit) => host_unaffected::<E>(&i),
        other => Err(format!("expected MemoryLimit, got {other:?}").into()),
    }
}

fn too_large_buffer_in<E: Backend>() -> R {
    // A host buffer larger than the isolate's whole limit, copied in (as an argument,
    // bare and inside a typed array): a typed MemoryLimit, never an abort (V8 ends the
    // process when its allocator refuses a buffer made through its API).
    let bytes = || vec![7u8; 48 << 20];
    for arg in [
        Value::ArrayBuffer(bytes()),
        Value::TypedArray {
            kind: engine_api::TypedArrayKind::Uint8,
            bytes: bytes(),
        },
    ] {
        let i = limited::<E>(32)?;
        let c = i.create_context()?;
        match c.eval_closure("return $0.byteLength", vec![arg], &EvalOptions::copy()) {
            Err(Error::MemoryLimit) => host_unaffected::<E>(&i)?,
            other => return Err(format!("expected MemoryLimit, got {other:?}").into()),
        }
    }
    // What fits still copies in.
    let i = limited::<E>(32)?;
    let c = i.create_context()?;
    let v = c.eval_closure(
        "return $0.byteLength",
        vec![Value::ArrayBuffer(vec![1u8; 4 << 20])],
        &EvalOptions::copy(),
    )?;
    ensure_eq!(v, Value::from(4 << 20));
    Ok(())
}
