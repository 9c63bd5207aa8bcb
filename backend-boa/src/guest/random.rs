//! `Math.random` seeded per instance by `isovm_start` (xorshift128+).

use std::cell::Cell;

use boa_engine::{
    Context, JsResult, JsValue, NativeFunction, js_string, object::FunctionObjectBuilder,
};

thread_local! {
    static STATE: Cell<(u64, u64)> = const { Cell::new((0x9E37_79B9_7F4A_7C15, 0xD1B5_4A32_D192_ED03)) };
}

/// Seeds the generator (called by `isovm_start`, after the image was snapshotted).
pub fn seed(lo: u64, hi: u64) {
    // splitmix64 so that weak seeds (0, small numbers) still give a good state.
    let mut s = lo ^ hi.rotate_left(32);
    let mut next = || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let a = next() ^ hi;
    let b = next() | 1;
    STATE.with(|st| st.set((a, b)));
}

/// A float in `[0, 1)`.
fn next_f64() -> f64 {
    STATE.with(|st| {
        let (mut s1, s0) = st.get();
        let result = s0.wrapping_add(s1);
        s1 ^= s1 << 23;
        s1 ^= s0 ^ (s1 >> 17) ^ (s0 >> 26);
        st.set((s0, s1));
        (result >> 11) as f64 / (1u64 << 53) as f64
    })
}

fn random(_: &JsValue, _: &[JsValue], _: &mut Context) -> JsResult<JsValue> {
    Ok(JsValue::from(next_f64()))
}

/// Replaces `Math.random` in the current realm.
pub fn install(ctx: &mut Context) -> JsResult<()> {
    let math = ctx.global_object().get(js_string!("Math"), ctx)?;
    if let Some(math) = math.as_object() {
        let f = FunctionObjectBuilder::new(ctx.realm(), NativeFunction::from_fn_ptr(random))
            .name(js_string!("random"))
            .length(0)
            .build();
        math.set(js_string!("random"), f, false, ctx)?;
    }
    Ok(())
}
