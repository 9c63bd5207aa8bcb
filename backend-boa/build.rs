//! Gives the wasm guest an 8 MiB shadow stack (Boa's parser and native re-entry recurse on
//! it) and exports its stack pointer, so that the host can tell a shadow-stack overflow
//! (the stack sits below the data, so running past it traps out of bounds) from other
//! traps. `host-wasi` links this rlib-only crate as a cdylib (`cargo rustc --crate-type cdylib`),
//! so the flag goes to every linked wasm32 target.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg=-zstack-size=8388608");
        println!("cargo:rustc-link-arg=--export=__stack_pointer");
        println!("cargo:rustc-link-arg=--stack-first");
    }
}
