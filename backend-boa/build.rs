//! Gives the wasm guest an 8 MiB shadow stack (Boa's parser and native re-entry recurse on
//! it). `host-wasi` links this rlib-only crate as a cdylib (`cargo rustc --crate-type cdylib`),
//! so the flag goes to every linked wasm32 target.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size=8388608");
    }
}
