//! Two builds in one script, by target:
//!
//! - for `wasm32` (the guest): gives it an 8 MiB shadow stack (Boa's parser and native
//!   re-entry recurse on it) and exports its stack pointer, so that the host can tell a
//!   shadow-stack overflow (the stack sits below the data, so running past it traps out of
//!   bounds) from other traps;
//! - for the host: builds the Boa guest (this crate as a cdylib for `wasm32-wasip1`,
//!   profile `guest`, in `target/isovm-guest`) so that a plain `cargo build` needs no
//!   manual step, and copies the module into `OUT_DIR/guest.wasm` for `include_bytes!`;
//!   then, in release builds for the host, compiles it ahead of time with `host-wasi` (the
//!   same engine configuration as the runtime's; cargo builds that build dependency once,
//!   for the build script and the program both) into `OUT_DIR/guest.precompiled`, so the
//!   first run of a fresh build loads the guest instead of compiling it for seconds.
//!
//! `ISOVM_GUEST_WASM=/path/to/guest.wasm` skips the build and embeds that file instead.
//! `ISOVM_PRECOMPILE` says what to compile ahead of time: `plain` (the default: the engine
//! without fuel, ~6.6 MB more per binary), `all` (the fuel engine's too, ~8 MB more) or
//! `none`. Debug-profile builds, builds for another target and builds without the
//! `precompile` feature compile nothing ahead of time.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const TARGET: &str = "wasm32-wasip1";
const PROFILE: &str = "guest";

fn main() {
    if let Err(message) = run() {
        eprintln!("error: {message}");
        println!(
            "cargo:warning=backend-boa: {}",
            message.lines().next().unwrap_or("")
        );
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    if env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rerun-if-changed=build.rs");
        println!("cargo:rustc-link-arg=-zstack-size=8388608");
        println!("cargo:rustc-link-arg=--export=__stack_pointer");
        println!("cargo:rustc-link-arg=--stack-first");
        return Ok(());
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let dest = out_dir.join("guest.wasm");
    println!("cargo:rerun-if-env-changed=ISOVM_GUEST_WASM");
    copy_guest(&dest)?;
    // The hash keys the compiled-module cache; computing it here saves every process
    // hashing 8 MB at start-up.
    let wasm = fs::read(&dest).map_err(|e| format!("reading {}: {e}", dest.display()))?;
    let digest: [u8; 32] = Sha256::digest(&wasm).into();
    fs::write(out_dir.join("guest.sha256"), digest).map_err(|e| e.to_string())?;
    precompile(&out_dir, &wasm)
}

/// What a build compiles ahead of time (`ISOVM_PRECOMPILE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Precompile {
    None,
    Plain,
    All,
}

/// Writes `OUT_DIR/guest.precompiled`: the guest compiled for the runtime's engines, or
/// an empty file when this build compiles nothing ahead of time (see the crate doc); sets
/// `ISOVM_BOA_PRECOMPILED` to what it holds or why it is empty.
fn precompile(out_dir: &Path, wasm: &[u8]) -> Result<(), String> {
    println!("cargo:rerun-if-env-changed=ISOVM_PRECOMPILE");
    let dest = out_dir.join("guest.precompiled");
    let requested = match env::var("ISOVM_PRECOMPILE").as_deref() {
        Err(_) | Ok("" | "plain") => Precompile::Plain,
        Ok("all") => Precompile::All,
        Ok("none") => Precompile::None,
        Ok(other) => {
            return Err(format!(
                "ISOVM_PRECOMPILE={other}: expected `plain` (the default), `all` or `none`"
            ));
        }
    };
    let profile = env::var("PROFILE").unwrap_or_default();
    let skip = if requested == Precompile::None {
        Some("none (ISOVM_PRECOMPILE=none)")
    } else if env::var_os("CARGO_FEATURE_PRECOMPILE").is_none() {
        Some("none (feature `precompile` off)")
    } else if profile != "release" {
        Some("none (not a release-profile build)")
    } else if env::var("TARGET").ok() != env::var("HOST").ok() {
        Some("none (built for another target)")
    } else {
        None
    };
    let (artifact, what) = match skip {
        Some(why) => (Vec::new(), why),
        None => (
            compile_ahead(wasm, requested == Precompile::All)?,
            if requested == Precompile::All {
                "plain,fuel"
            } else {
                "plain"
            },
        ),
    };
    // Unchanged bytes keep their timestamp: nothing that embeds them relinks.
    if fs::read(&dest).ok().as_deref() != Some(&artifact[..]) {
        fs::write(&dest, &artifact).map_err(|e| format!("writing {}: {e}", dest.display()))?;
    }
    println!("cargo:rustc-env=ISOVM_BOA_PRECOMPILED={what}");
    Ok(())
}

#[cfg(feature = "precompile")]
fn compile_ahead(wasm: &[u8], with_fuel: bool) -> Result<Vec<u8>, String> {
    let guest = host_wasi::GuestModule::from_bytes("boa", wasm.to_vec());
    host_wasi::precompile(&guest, &host_wasi::RuntimeConfig::default(), with_fuel)
        .map_err(|e| format!("compiling the Boa guest ahead of time: {e}"))
}

#[cfg(not(feature = "precompile"))]
fn compile_ahead(_: &[u8], _: bool) -> Result<Vec<u8>, String> {
    Err("compiling ahead of time needs the `precompile` feature".into())
}

/// Where a packaged crate carries its prebuilt guest (`cargo package` ships it; a
/// workspace build keeps it current; it is not in git).
const SHIPPED: &str = "guest/boa.wasm";

/// Puts the guest module at `dest`: `ISOVM_GUEST_WASM`, else a fresh build when this crate
/// sits in the isovm workspace, else the guest shipped in the package (a crate from a
/// registry, which cannot build its own guest: that needs the workspace's `guest`
/// profile and the `wasm32-wasip1` target).
fn copy_guest(dest: &Path) -> Result<(), String> {
    if let Some(path) = env::var_os("ISOVM_GUEST_WASM").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        println!("cargo:rerun-if-changed={}", path.display());
        fs::copy(&path, dest)
            .map_err(|e| format!("copying ISOVM_GUEST_WASM={}: {e}", path.display()))?;
        return Ok(());
    }

    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let root = manifest_dir
        .parent()
        .ok_or("backend-boa has no parent directory (workspace root)")?
        .to_path_buf();
    let shipped = manifest_dir.join(SHIPPED);
    let in_workspace =
        root.join("Cargo.toml").is_file() && root.join("engine-api").join("Cargo.toml").is_file();
    if !in_workspace {
        println!("cargo:rerun-if-changed={}", shipped.display());
        fs::copy(&shipped, dest).map_err(|e| {
            format!(
                "this backend-boa has no prebuilt guest ({}: {e}) and is not in the isovm \
                 workspace to build one; set ISOVM_GUEST_WASM to a guest module",
                shipped.display()
            )
        })?;
        return Ok(());
    }
    for p in [
        "backend-boa/src",
        "backend-boa/Cargo.toml",
        "backend-boa/build.rs",
        "engine-api/src",
        "engine-api/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        let path = root.join(p);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }

    let target_dir = root.join("target").join("isovm-guest");
    build_guest(&root, &target_dir, true)?;
    let built = target_dir
        .join(TARGET)
        .join(PROFILE)
        .join("backend_boa.wasm");
    fs::copy(&built, dest).map_err(|e| format!("copying {}: {e}", built.display()))?;
    // Keep the copy `cargo package` ships current (best effort: a read-only checkout only
    // loses the ability to package).
    let fresh = fs::read(&built).ok();
    if fresh.is_some() && fs::read(&shipped).ok() != fresh {
        let _ = fs::create_dir_all(manifest_dir.join("guest"));
        let _ = fs::copy(&built, &shipped);
    }
    Ok(())
}

/// Runs the nested cargo; on a missing `wasm32-wasip1` std, installs it once and retries.
fn build_guest(root: &Path, target_dir: &Path, may_install: bool) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(root)
        .args([
            "rustc",
            "-p",
            "backend-boa",
            "--lib",
            "--crate-type",
            "cdylib",
            // The guest needs no build dependency on the wasm host (`precompile`).
            "--no-default-features",
        ])
        .args(["--target", TARGET, "--profile", PROFILE])
        .env("CARGO_TARGET_DIR", target_dir);
    // Settings of the outer build must not leak into the guest build.
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let leaks = matches!(
            key,
            "CARGO_ENCODED_RUSTFLAGS"
                | "RUSTFLAGS"
                | "RUSTDOCFLAGS"
                | "CARGO_BUILD_TARGET"
                | "CARGO_BUILD_TARGET_DIR"
                | "RUSTC_WRAPPER"
                | "RUSTC_WORKSPACE_WRAPPER"
                | "CARGO_MAKEFLAGS"
                | "MAKEFLAGS"
                | "MFLAGS"
                | "__CARGO_FIX_PLZ"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_DIR"
                | "TARGET"
                | "HOST"
                | "OPT_LEVEL"
                | "PROFILE"
                | "DEBUG"
                | "NUM_JOBS"
        ) || key.starts_with("CARGO_PROFILE_")
            || key.starts_with("CARGO_BUILD_RUSTC")
            || key.starts_with("CARGO_CFG_")
            || key.starts_with("CARGO_FEATURE_")
            || key.starts_with("CARGO_ENCODED_");
        if leaks {
            cmd.env_remove(key);
        }
    }
    let output = cmd.output().map_err(|e| {
        format!(
            "running {} to build the Boa guest: {e}",
            cargo.to_string_lossy()
        )
    })?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let missing_std = stderr.contains("can't find crate for `std`")
        || stderr.contains("can't find crate for `core`")
        || stderr.contains("target may not be installed");
    if missing_std && may_install {
        let installed = Command::new("rustup")
            .current_dir(root)
            .args(["target", "add", TARGET])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if installed {
            return build_guest(root, target_dir, false);
        }
        return Err(format!(
            "the {TARGET} standard library is not installed and `rustup target add {TARGET}` \
             failed; install it, or set ISOVM_GUEST_WASM to a prebuilt guest module"
        ));
    }
    Err(format!(
        "building the Boa guest (cargo rustc -p backend-boa --lib --crate-type cdylib --target \
         {TARGET} --profile {PROFILE}) failed:\n{stderr}"
    ))
}
