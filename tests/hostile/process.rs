//! Running one child process under a hard deadline, measuring its wall time and peak
//! resident size (`wait4`'s `ru_maxrss`), and killing it if it outgrows its budget.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

/// One finished child.
#[derive(Debug)]
pub struct Run {
    pub exit: Exit,
    pub wall: Duration,
    pub peak_rss_mb: u64,
    pub stdout: String,
    pub stderr: String,
    /// Why we killed it, if we did.
    pub killed: Option<String>,
}

/// The most output kept per stream; the rest is counted and dropped.
const KEEP: usize = 64 * 1024;

fn drain(mut r: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let (mut kept, mut total, mut buf) = (Vec::new(), 0usize, vec![0u8; 64 * 1024]);
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
            let room = KEEP.saturating_sub(kept.len());
            kept.extend_from_slice(&buf[..n.min(room)]);
        }
        let mut s = String::from_utf8_lossy(&kept).into_owned();
        if total > kept.len() {
            s.push_str(&format!("\n[.. {} more bytes]", total - kept.len()));
        }
        s
    })
}

/// The child's current resident size in MiB, from /proc.
fn rss_mb(pid: libc::pid_t) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

/// Signal names for reports.
pub fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGABRT => "SIGABRT".into(),
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGBUS => "SIGBUS".into(),
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGILL => "SIGILL".into(),
        libc::SIGTRAP => "SIGTRAP".into(),
        libc::SIGFPE => "SIGFPE".into(),
        other => format!("signal {other}"),
    }
}

/// Runs `cmd` to its end, or kills it once it runs past `deadline` or its resident size
/// passes `rss_kill_mb`.
pub fn run(mut cmd: Command, deadline: Duration, rss_kill_mb: u64) -> Result<Run, String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot spawn: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let out = drain(child.stdout.take().expect("piped stdout"));
    let err = drain(child.stderr.take().expect("piped stderr"));
    let mut killed = None;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data; all zeroes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (we never call `Child::wait`);
        // `status` and `usage` are valid for writes.
        let got = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if got == pid {
            break;
        }
        if got < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(format!("wait4: {e}"));
        }
        if killed.is_none() {
            let why = if start.elapsed() > deadline {
                Some(format!(
                    "killed at the hard deadline ({:.1} s, {} MB resident)",
                    deadline.as_secs_f64(),
                    rss_mb(pid).unwrap_or(0)
                ))
            } else {
                rss_mb(pid).filter(|&mb| mb > rss_kill_mb).map(|mb| {
                    format!(
                        "killed at {mb} MB resident after {:.1} s",
                        start.elapsed().as_secs_f64()
                    )
                })
            };
            if let Some(why) = why {
                // SAFETY: signalling our own unreaped child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                killed = Some(why);
            }
        }
        thread::sleep(Duration::from_millis(5));
    }
    let wall = start.elapsed();
    drop(child);
    let exit = if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(libc::WEXITSTATUS(status))
    };
    Ok(Run {
        exit,
        wall,
        peak_rss_mb: (usage.ru_maxrss as u64) / 1024,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        killed,
    })
}
