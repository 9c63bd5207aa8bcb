//! Moving buffers instead of sharing them: `transferOut` and `transferList` of
//! `new ivm.ExternalCopy` detach the source, `transferIn` and `release` on `copy`,
//! `copyInto` and `derefInto` invalidate the handle (isolated-vm's semantics), and
//! references and copies travel inside copies.

use engine_api::{Backend, Context, EvalOptions, ExternalCopy, TransferOptions, Value};
use serde_json::json;

use crate::Case;
use crate::support::{R, eval_json, setup};

/// The transfer cases.
pub fn cases<E: Backend>() -> Vec<Case> {
    vec![
        Case::new(
            "transfer_list/transfer_out_buffer",
            transfer_out_buffer::<E>,
        ),
        Case::new("transfer_list/transfer_out_view", transfer_out_view::<E>),
        Case::new(
            "transfer_list/transfer_out_refused",
            transfer_out_refused::<E>,
        ),
        Case::new("transfer_list/listed_buffers", listed_buffers::<E>),
        Case::new("transfer_list/list_refused", list_refused::<E>),
        Case::new("transfer_list/copy_transfer_in", copy_transfer_in::<E>),
        Case::new("transfer_list/copy_into_release", copy_into_release::<E>),
        Case::new(
            "transfer_list/copy_into_transfer_in",
            copy_into_transfer_in::<E>,
        ),
        Case::new("transfer_list/deref_into_release", deref_into_release::<E>),
        Case::new(
            "transfer_list/handles_inside_copy",
            handles_inside_copy::<E>,
        ),
        Case::new(
            "transfer_list/reference_inside_copy_between_isolates",
            reference_inside_copy_between_isolates::<E>,
        ),
        Case::new(
            "transfer_list/own_reference_passed_back",
            own_reference_passed_back::<E>,
        ),
        Case::new(
            "transfer_list/deref_into_its_isolate",
            deref_into_its_isolate::<E>,
        ),
    ]
}

/// `t(f)`: `'ok'` or the error's `Name: message`.
const T: &str = "const t = (f) => { try { f(); return 'ok'; } catch (e) { return e.name + ': ' + e.message; } };";

fn transfer_out_buffer<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    eval_json(
        &c,
        "const ab = new Uint8Array([1, 2, 3]).buffer;
         const ec = new ivm.ExternalCopy(ab, { transferOut: true });
         const back = new Uint8Array(ec.copy());
         [ab.byteLength, back.length, back[2], ec.copy().byteLength]",
        json!([0, 3, 3, 3]),
    )
}

fn transfer_out_view<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    eval_json(
        &c,
        "const ta = new Float64Array([1.5, 2, 4]);
         const part = new Float64Array(ta.buffer, 8, 2);
         const ec = new ivm.ExternalCopy(part, { transferOut: true });
         const back = ec.copy();
         [ta.length, ta.buffer.byteLength, part.length, back instanceof Float64Array,
          back.length, back[0], back[1]]",
        json!([0, 0, 0, true, 2, 2, 4]),
    )
}

fn transfer_out_refused<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    eval_json(
        &c,
        &format!(
            "{T}
             const detached = new ArrayBuffer(4);
             new ivm.ExternalCopy(detached, {{ transferOut: true }});
             const sab = new SharedArrayBuffer(4);
             [t(() => new ivm.ExternalCopy({{ a: 1 }}, {{ transferOut: true }})),
              t(() => new ivm.ExternalCopy('x', {{ transferOut: true }})),
              t(() => new ivm.ExternalCopy(sab, {{ transferOut: true }})),
              t(() => new ivm.ExternalCopy(new Uint8Array(sab), {{ transferOut: true }})),
              t(() => new ivm.ExternalCopy(detached, {{ transferOut: true }})),
              sab.byteLength]"
        ),
        json!([
            "TypeError: transferOut applies to an ArrayBuffer, a typed array or a DataView",
            "TypeError: transferOut applies to an ArrayBuffer, a typed array or a DataView",
            "TypeError: transferOut: the buffer cannot be detached (shared, or detached already)",
            "TypeError: transferOut: the buffer cannot be detached (shared, or detached already)",
            "TypeError: transferOut: the buffer cannot be detached (shared, or detached already)",
            4
        ]),
    )
}

fn listed_buffers<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    // The copy keeps the buffers' identity (the view still views the copied buffer); the
    // listed sources are detached; an unlisted buffer is copied and stays.
    eval_json(
        &c,
        "const a = new ArrayBuffer(8); new Uint8Array(a)[3] = 9;
         const b = new ArrayBuffer(4); const kept = new ArrayBuffer(2);
         const ec = new ivm.ExternalCopy({ a, view: new Uint8Array(a, 2, 2), b, kept },
                                         { transferList: [a, b] });
         const c = ec.copy();
         [a.byteLength, b.byteLength, kept.byteLength, c.a.byteLength, c.b.byteLength,
          c.view.buffer === c.a, c.view[1], c.kept.byteLength]",
        json!([0, 0, 2, 8, 4, true, 9, 2]),
    )
}

fn list_refused<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    // Every refusal (a bad list, or a value that cannot be copied) detaches nothing.
    eval_json(
        &c,
        &format!(
            "{T}
             const a = new ArrayBuffer(8);
             const gone = new ArrayBuffer(1);
             new ivm.ExternalCopy(0, {{ transferList: [gone] }});
             [t(() => new ivm.ExternalCopy({{ a }}, {{ transferList: [a, 1] }})),
              t(() => new ivm.ExternalCopy({{ a }}, {{ transferList: [a, new SharedArrayBuffer(1)] }})),
              t(() => new ivm.ExternalCopy({{ a }}, {{ transferList: [a, a] }})),
              t(() => new ivm.ExternalCopy({{ a }}, {{ transferList: [gone] }})),
              t(() => new ivm.ExternalCopy({{ a }}, {{ transferList: [new Uint8Array(a)] }})),
              t(() => new ivm.ExternalCopy({{ a, f() {{}} }}, {{ transferList: [a] }})).startsWith('ok'),
              t(() => new ivm.ExternalCopy({{ a }}, {{ transferList: new Array(5000).fill(a) }})),
              a.byteLength, gone.byteLength]"
        ),
        json!([
            "TypeError: transferList[1] is not an ArrayBuffer",
            "TypeError: transferList[1] is not an ArrayBuffer",
            "TypeError: transferList[1] is listed twice",
            "TypeError: transferList[0] is detached already or cannot be detached",
            "TypeError: transferList[0] is not an ArrayBuffer",
            false,
            "TypeError: transferList holds more than 4096 buffers",
            8,
            0
        ]),
    )
}

fn copy_transfer_in<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    // The data comes in; the handle is invalid afterwards (for copy and copyInto alike).
    eval_json(
        &c,
        &format!(
            "{T}
             const ec = new ivm.ExternalCopy(new Uint8Array([9, 8]).buffer);
             const v = ec.copy({{ transferIn: true }});
             [new Uint8Array(v)[0], t(() => ec.copy()).startsWith('ok'),
              t(() => ec.copyInto()).startsWith('ok')]"
        ),
        json!([9, false, false]),
    )
}

/// Runs `code` as a closure whose `$0` is a reference to a function of the same isolate
/// that answers what its arguments arrived as.
fn with_probe<C: Context>(c: &C, code: &str) -> R<Value> {
    let probe = c.eval(
        "(...args) => args.map(a => a instanceof ArrayBuffer ? ['buffer', a.byteLength]
                                   : Array.isArray(a) ? ['array', a.length]
                                   : [typeof a, String(a)])",
        &EvalOptions {
            result: TransferOptions::reference(),
            ..Default::default()
        },
    )?;
    Ok(c.eval_closure(&format!("{T} {code}"), vec![probe], &EvalOptions::copy())?)
}

fn copy_into_release<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    // The handle is released at once; the marker still carries the data, every time.
    let got = with_probe(
        &c,
        "const ec = new ivm.ExternalCopy([1, 2, 3]);
         const m = ec.copyInto({ release: true });
         return [t(() => ec.copy()).startsWith('ok'),
                 $0.applySync(undefined, [m], { result: { copy: true } }),
                 $0.applySync(undefined, [m], { result: { copy: true } })];",
    )?;
    let seen = Value::Array(vec![Value::Array(vec!["array".into(), 3.into()])]);
    crate::ensure_eq!(got, Value::Array(vec![false.into(), seen.clone(), seen]));
    Ok(())
}

fn copy_into_transfer_in<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    // A transferIn marker moves the data on its first crossing; a second one is refused.
    let got = with_probe(
        &c,
        "const ec = new ivm.ExternalCopy(new ArrayBuffer(16));
         const m = ec.copyInto({ transferIn: true });
         return [t(() => ec.copy()).startsWith('ok'),
                 $0.applySync(undefined, [m], { result: { copy: true } }),
                 t(() => $0.applySync(undefined, [m], { result: { copy: true } })).startsWith('ok')];",
    )?;
    let seen = Value::Array(vec![Value::Array(vec!["buffer".into(), 16.into()])]);
    crate::ensure_eq!(got, Value::Array(vec![false.into(), seen, false.into()]));
    Ok(())
}

fn deref_into_release<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    let got = with_probe(
        &c,
        "const r = new ivm.Reference([4, 5]);
         const m = r.derefInto({ release: true });
         return [t(() => r.deref()).startsWith('ok'),
                 $0.applySync(undefined, [m], { result: { copy: true } }),
                 t(() => r.derefInto({ relase: true }))];",
    )?;
    let seen = Value::Array(vec![Value::Array(vec!["array".into(), 2.into()])]);
    crate::ensure_eq!(
        got,
        Value::Array(vec![
            false.into(),
            seen,
            "TypeError: unknown option \"relase\"".into()
        ])
    );
    Ok(())
}

fn handles_inside_copy<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    // isolated-vm's `new ExternalCopy({ isolate, context, global })`: handles nested in
    // a copy come out as handles.
    eval_json(
        &c,
        "const target = { n: 41 };
         const ec = new ivm.ExternalCopy({ r: new ivm.Reference(target),
                                           inner: new ivm.ExternalCopy('deep'), list: [1] });
         const c = ec.copy();
         [c.r instanceof ivm.Reference, c.r.deref() === target, c.r.getSync('n'),
          c.inner instanceof ivm.ExternalCopy, c.inner.copy(), c.list[0]]",
        json!([true, true, 41, true, "deep", 1]),
    )
}

fn reference_inside_copy_between_isolates<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    let copy = ca.eval(
        "globalThis.counter = { n: 1 };
         ({ who: 'a', counter: new ivm.Reference(counter), bump: new ivm.Reference(() => ++counter.n) })",
        &EvalOptions {
            result: TransferOptions::external_copy(),
            ..Default::default()
        },
    )?;
    let Value::ExternalCopy(copy) = copy else {
        return Err(format!("expected an external copy, got {copy:?}").into());
    };
    let copy: ExternalCopy = copy;
    let got = cb.eval_closure(
        "const d = $0;
         d.bump.applySync(undefined, []);
         return [d.who, d.counter.typeof, d.counter.getSync('n'), d.bump.applySync(undefined, [])];",
        vec![copy.copy_into()?],
        &EvalOptions::copy(),
    )?;
    crate::ensure_eq!(
        got,
        Value::Array(vec!["a".into(), "object".into(), 2.into(), 3.into()])
    );
    crate::ensure_eq!(crate::support::eval(&ca, "counter.n")?, Value::from(3));
    Ok(())
}

fn own_reference_passed_back<E: Backend>() -> R {
    let (_i, c) = setup::<E>()?;
    // A reference to a value of the isolate itself stays a reference when it comes back.
    let r = c.eval(
        "globalThis.kept = { n: 7 }; kept",
        &EvalOptions {
            result: TransferOptions::reference(),
            ..Default::default()
        },
    )?;
    let got = c.eval_closure(
        "return [$0 instanceof ivm.Reference, $0.typeof, $0.deref() === kept, $0.getSync('n')]",
        vec![r],
        &EvalOptions::copy(),
    )?;
    crate::ensure_eq!(
        got,
        Value::Array(vec![true.into(), "object".into(), true.into(), 7.into()])
    );
    Ok(())
}

fn deref_into_its_isolate<E: Backend>() -> R {
    let (_a, ca) = setup::<E>()?;
    let (_b, cb) = setup::<E>()?;
    // Isolate A holds references into B; `derefInto()` of one, passed to a function of B,
    // arrives there as B's own object.
    let reference = EvalOptions {
        result: TransferOptions::reference(),
        ..Default::default()
    };
    let obj = cb.eval("globalThis.obj = { tag: 'b' }; obj", &reference)?;
    let same = cb.eval("(x) => [x === obj, x.tag]", &reference)?;
    let got = ca.eval_closure(
        "return $1.applySync(undefined, [$0.derefInto()], { result: { copy: true } })",
        vec![obj, same],
        &EvalOptions::copy(),
    )?;
    crate::ensure_eq!(got, Value::Array(vec![true.into(), "b".into()]));
    Ok(())
}
