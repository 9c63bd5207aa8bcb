//! The few WASI preview 1 functions the guest imports, implemented here (no wasmtime-wasi):
//! clocks and randomness (seeded in deterministic isolates), stdout/stderr kept as a short
//! tail for error messages, empty args and environment, and `ENOSYS` for anything else.

use wasmtime::{Caller, Extern, Linker, Memory, Module, Val};

use crate::state::HostState;
use crate::trap::HostTrap;

const WASI: &str = "wasi_snapshot_preview1";

const SUCCESS: i32 = 0;
const EBADF: i32 = 8;
const EFAULT: i32 = 21;
const EINVAL: i32 = 28;
const ENOSYS: i32 = 52;

/// What `add_to_linker` defines.
const DEFINED: &[&str] = &[
    "args_sizes_get",
    "environ_sizes_get",
    "args_get",
    "environ_get",
    "clock_res_get",
    "clock_time_get",
    "random_get",
    "fd_write",
    "sched_yield",
    "fd_prestat_get",
    "proc_exit",
];

/// At most this many iovecs per `fd_write`.
const MAX_IOVECS: u32 = 1024;

/// Adds the WASI functions to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.func_wrap(WASI, "args_sizes_get", sizes_get)?;
    linker.func_wrap(WASI, "environ_sizes_get", sizes_get)?;
    linker.func_wrap(
        WASI,
        "args_get",
        |_: Caller<'_, HostState>, _: i32, _: i32| SUCCESS,
    )?;
    linker.func_wrap(
        WASI,
        "environ_get",
        |_: Caller<'_, HostState>, _: i32, _: i32| SUCCESS,
    )?;
    linker.func_wrap(WASI, "clock_res_get", clock_res_get)?;
    linker.func_wrap(WASI, "clock_time_get", clock_time_get)?;
    linker.func_wrap(WASI, "random_get", random_get)?;
    linker.func_wrap(WASI, "fd_write", fd_write)?;
    linker.func_wrap(WASI, "sched_yield", |_: Caller<'_, HostState>| SUCCESS)?;
    // No preopened directories: libc stops scanning at the first EBADF.
    linker.func_wrap(
        WASI,
        "fd_prestat_get",
        |_: Caller<'_, HostState>, _: i32, _: i32| EBADF,
    )?;
    linker.func_wrap(
        WASI,
        "proc_exit",
        |_: Caller<'_, HostState>, code: i32| -> wasmtime::Result<()> {
            Err(wasmtime::Error::new(HostTrap::Exit(code)))
        },
    )?;
    Ok(())
}

/// Defines every other WASI import of `module` as a function returning `ENOSYS`.
pub(crate) fn stub_unknown(
    linker: &mut Linker<HostState>,
    module: &Module,
) -> wasmtime::Result<()> {
    for import in module.imports() {
        if import.module() != WASI {
            continue;
        }
        let Some(ty) = import.ty().func().cloned() else {
            continue;
        };
        if DEFINED.contains(&import.name()) {
            continue;
        }
        linker.func_new(WASI, import.name(), ty, |_, _, results| {
            for (i, r) in results.iter_mut().enumerate() {
                *r = match (i, &*r) {
                    (0, Val::I32(_)) => Val::I32(ENOSYS),
                    (_, Val::I64(_)) => Val::I64(0),
                    (_, Val::F32(_)) => Val::F32(0),
                    (_, Val::F64(_)) => Val::F64(0),
                    _ => Val::I32(0),
                };
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn memory(caller: &mut Caller<'_, HostState>) -> Option<Memory> {
    if let Some(m) = caller.data().memory {
        return Some(m);
    }
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Some(m),
        _ => None,
    }
}

/// Writes `bytes` at guest address `ptr`, bounds-checked.
fn write(caller: &mut Caller<'_, HostState>, ptr: i32, bytes: &[u8]) -> Result<(), i32> {
    let mem = memory(caller).ok_or(EFAULT)?;
    mem.write(caller, ptr as u32 as usize, bytes)
        .map_err(|_| EFAULT)
}

fn errno(r: Result<(), i32>) -> i32 {
    r.err().unwrap_or(SUCCESS)
}

fn sizes_get(mut caller: Caller<'_, HostState>, count: i32, size: i32) -> i32 {
    errno(
        write(&mut caller, count, &0u32.to_le_bytes())
            .and_then(|()| write(&mut caller, size, &0u32.to_le_bytes())),
    )
}

fn clock_res_get(mut caller: Caller<'_, HostState>, id: i32, out: i32) -> i32 {
    if !(0..=3).contains(&id) {
        return EINVAL;
    }
    let res = caller.data().clock.resolution();
    errno(write(&mut caller, out, &res.to_le_bytes()))
}

fn clock_time_get(mut caller: Caller<'_, HostState>, id: i32, _precision: i64, out: i32) -> i32 {
    let clock = &mut caller.data_mut().clock;
    let now = match id {
        0 => clock.realtime(),
        // Process and thread CPU clocks read as the monotonic clock.
        1..=3 => clock.monotonic(),
        _ => return EINVAL,
    };
    errno(write(&mut caller, out, &now.to_le_bytes()))
}

fn random_get(mut caller: Caller<'_, HostState>, ptr: i32, len: i32) -> i32 {
    let Some(mem) = memory(&mut caller) else {
        return EFAULT;
    };
    let (start, len) = (ptr as u32 as usize, len as u32 as usize);
    let (data, state) = mem.data_and_store_mut(&mut caller);
    let Some(buf) = start
        .checked_add(len)
        .and_then(|end| data.get_mut(start..end))
    else {
        return EFAULT;
    };
    state.random.fill(buf);
    SUCCESS
}

fn fd_write(mut caller: Caller<'_, HostState>, fd: i32, iovs: i32, count: i32, out: i32) -> i32 {
    if !(1..=2).contains(&fd) {
        return EBADF;
    }
    let Some(mem) = memory(&mut caller) else {
        return EFAULT;
    };
    let count = (count as u32).min(MAX_IOVECS) as usize;
    let base = iovs as u32 as usize;
    let (data, state) = mem.data_and_store_mut(&mut caller);
    let mut written: u32 = 0;
    for i in 0..count {
        let Some(iov) = base
            .checked_add(i * 8)
            .and_then(|at| data.get(at..at.checked_add(8)?))
        else {
            return EFAULT;
        };
        let ptr = u32::from_le_bytes([iov[0], iov[1], iov[2], iov[3]]) as usize;
        let len = u32::from_le_bytes([iov[4], iov[5], iov[6], iov[7]]) as usize;
        let Some(bytes) = ptr.checked_add(len).and_then(|end| data.get(ptr..end)) else {
            return EFAULT;
        };
        if debug_output() {
            let shown = &bytes[..bytes.len().min(1 << 16)];
            eprint!("[isovm guest] {}", String::from_utf8_lossy(shown));
        }
        state.push_stderr(bytes);
        written = written.saturating_add(len as u32);
    }
    errno(write(&mut caller, out, &written.to_le_bytes()))
}

/// `ISOVM_GUEST_STDERR=1` echoes the guest's stdout/stderr to the host's stderr.
fn debug_output() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("ISOVM_GUEST_STDERR").is_some_and(|v| v != "0"))
}
