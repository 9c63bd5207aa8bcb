//! Where compiled guests are cached, and whether that place can be written.
//!
//! The directory is `$ISOVM_CACHE_DIR` if set, else the platform cache directory
//! (`$XDG_CACHE_HOME/isovm`, then `~/.cache/isovm` on Linux and other unixes;
//! `~/Library/Caches/isovm` on macOS; `%LOCALAPPDATA%\isovm` on Windows). When that cannot
//! be found or written, a private directory under the system temporary directory is used
//! instead (`isovm-<uid>`, mode 0700 on unix, refused if another user owns it or may write
//! to it: a compiled module is native code).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::CacheStatus;

/// The directories a runtime may cache in, in order of preference.
#[derive(Debug)]
pub(crate) struct CacheDirs {
    /// The configured or platform directory (`None`: none could be found).
    preferred: Option<PathBuf>,
    /// The per-user directory under the system temporary directory.
    fallback: Option<PathBuf>,
    disabled: bool,
}

impl CacheDirs {
    /// The directories for `explicit` (a configured directory) or, without one, the
    /// environment; no caching at all when `enabled` is false.
    pub(crate) fn new(enabled: bool, explicit: Option<PathBuf>) -> Self {
        let env = std::env::var_os("ISOVM_CACHE_DIR");
        let disabled =
            !enabled || (explicit.is_none() && env.as_ref().is_some_and(|d| d.is_empty()));
        let preferred = explicit
            .or_else(|| env.filter(|d| !d.is_empty()).map(PathBuf::from))
            .or_else(platform_dir);
        CacheDirs {
            preferred,
            fallback: temp_dir(),
            disabled,
        }
    }

    /// Finds the directory to write to: the preferred one if it can be created and
    /// written, else the private temporary one. Touches the file system (a probe file).
    pub(crate) fn resolve(&self) -> CacheStatus {
        if self.disabled {
            return CacheStatus::Disabled;
        }
        let mut refused = Vec::new();
        match &self.preferred {
            Some(dir) => match writable(dir) {
                Ok(()) => return CacheStatus::Enabled(dir.clone()),
                Err(e) => refused.push(format!("{}: {e}", dir.display())),
            },
            None => refused.push(NO_PLATFORM_DIR.to_owned()),
        }
        match &self.fallback {
            Some(dir) => match private_dir(dir).and_then(|()| writable(dir)) {
                Ok(()) => return CacheStatus::Enabled(dir.clone()),
                Err(e) => refused.push(format!("{}: {e}", dir.display())),
            },
            None => refused.push("no per-user temporary directory".to_owned()),
        }
        CacheStatus::Unavailable(refused.join("; "))
    }

    /// Directories a cached module may be read from besides the one written to: the
    /// preferred one even when it cannot be written (a read-only, pre-filled cache).
    pub(crate) fn read_only(&self, status: &CacheStatus) -> Option<&Path> {
        if self.disabled {
            return None;
        }
        let dir = self.preferred.as_deref()?;
        match status {
            CacheStatus::Enabled(written) if written == dir => None,
            _ => Some(dir),
        }
    }
}

#[cfg(all(unix, not(target_os = "macos")))]
const NO_PLATFORM_DIR: &str = "no platform cache directory (XDG_CACHE_HOME and HOME unset)";
#[cfg(target_os = "macos")]
const NO_PLATFORM_DIR: &str = "no platform cache directory (HOME unset)";
#[cfg(not(unix))]
const NO_PLATFORM_DIR: &str = "no platform cache directory (LOCALAPPDATA unset)";

/// A non-empty environment variable holding an absolute path (the XDG rule: relative
/// paths are ignored).
fn env_dir(name: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(name)?);
    dir.is_absolute().then_some(dir)
}

#[cfg(all(unix, not(target_os = "macos")))]
fn platform_dir() -> Option<PathBuf> {
    env_dir("XDG_CACHE_HOME")
        .or_else(|| env_dir("HOME").map(|home| home.join(".cache")))
        .map(|dir| dir.join("isovm"))
}

#[cfg(target_os = "macos")]
fn platform_dir() -> Option<PathBuf> {
    env_dir("HOME").map(|home| home.join("Library").join("Caches").join("isovm"))
}

#[cfg(not(unix))]
fn platform_dir() -> Option<PathBuf> {
    env_dir("LOCALAPPDATA").map(|dir| dir.join("isovm"))
}

/// `<temp>/isovm-<uid>` (unix) or `<temp>/isovm-<user>`.
fn temp_dir() -> Option<PathBuf> {
    let base = std::env::temp_dir();
    base.is_absolute()
        .then(|| base.join(format!("isovm-{}", user_tag())))
}

#[cfg(unix)]
fn user_tag() -> String {
    // SAFETY: geteuid takes no arguments, cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() }.to_string()
}

#[cfg(not(unix))]
fn user_tag() -> String {
    let user = std::env::var("USERNAME").unwrap_or_default();
    let user: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect();
    if user.is_empty() {
        "user".to_owned()
    } else {
        user
    }
}

/// Creates `dir` (mode 0700 on unix) if needed and checks that only we can write to it:
/// it must be a real directory (not a symbolic link) that we own, writable by no group or
/// other user.
#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    let meta = std::fs::symlink_metadata(dir)?;
    // SAFETY: as in `user_tag`.
    let me = unsafe { libc::geteuid() };
    let refuse = |why: &str| {
        Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            why,
        ))
    };
    if !meta.file_type().is_dir() {
        return refuse("not a directory (refused)");
    }
    if meta.uid() != me {
        return refuse("owned by another user (refused)");
    }
    if meta.mode() & 0o022 != 0 {
        return refuse("writable by other users (refused)");
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Creates `dir` and checks that a file can be made in it.
fn writable(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(unique_name(".probe"));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

/// `<prefix>.<pid>.<n>`: unique among the processes and threads of this machine.
pub(crate) fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}.{}.{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(unique_name(&format!("isovm-{name}")));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        dir
    }

    #[test]
    fn an_explicit_directory_is_used_and_created() {
        let dir = scratch("explicit").join("nested");
        let dirs = CacheDirs::new(true, Some(dir.clone()));
        assert_eq!(dirs.resolve(), CacheStatus::Enabled(dir.clone()));
        assert!(dir.is_dir());
        assert_eq!(dirs.read_only(&CacheStatus::Enabled(dir.clone())), None);
        let _ = std::fs::remove_dir_all(dir.parent().expect("parent"));
    }

    #[test]
    fn disabled_caching_touches_nothing() {
        let dirs = CacheDirs::new(false, Some(PathBuf::from("/nonexistent/isovm")));
        assert_eq!(dirs.resolve(), CacheStatus::Disabled);
        assert_eq!(dirs.read_only(&CacheStatus::Disabled), None);
    }

    #[cfg(unix)]
    #[test]
    fn an_unwritable_directory_falls_back_to_the_private_temp_dir() {
        let dirs = CacheDirs {
            preferred: Some(PathBuf::from("/proc/isovm-cannot-exist")),
            fallback: Some(scratch("fallback").join("isovm-me")),
            disabled: false,
        };
        let status = dirs.resolve();
        assert_eq!(
            status,
            CacheStatus::Enabled(dirs.fallback.clone().expect("fallback"))
        );
        assert_eq!(
            dirs.read_only(&status),
            Some(Path::new("/proc/isovm-cannot-exist"))
        );
        if let Some(scratch) = dirs.fallback.as_deref().and_then(Path::parent) {
            let _ = std::fs::remove_dir_all(scratch);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_shared_temp_dir_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let shared = scratch("shared");
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let dirs = CacheDirs {
            preferred: None,
            fallback: Some(shared.clone()),
            disabled: false,
        };
        match dirs.resolve() {
            CacheStatus::Unavailable(why) => {
                assert!(why.contains("writable by other users"), "{why}");
                assert!(why.contains("no platform cache directory"), "{why}");
            }
            other => panic!("a world-writable cache dir was accepted: {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&shared);
    }

    #[cfg(unix)]
    #[test]
    fn a_temp_dir_of_another_user_is_refused() {
        let theirs = scratch("theirs");
        // Only root can give a directory away; elsewhere this case cannot be set up.
        if std::os::unix::fs::chown(&theirs, Some(65534), None).is_err() {
            let _ = std::fs::remove_dir_all(&theirs);
            return;
        }
        match private_dir(&theirs) {
            Err(e) => assert!(e.to_string().contains("another user"), "{e}"),
            Ok(()) => panic!("a directory owned by uid 65534 was accepted"),
        }
        let _ = std::fs::remove_dir_all(&theirs);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_temp_dir_is_refused() {
        let base = scratch("link");
        let target = base.join("target");
        std::fs::create_dir(&target).expect("target");
        let link = base.join("isovm-me");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        assert!(private_dir(&link).is_err());
        let _ = std::fs::remove_dir_all(&base);
    }
}
