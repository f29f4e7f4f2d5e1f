//! Thin wrappers over the system calls and commands the system benchmarks need: network
//! namespaces, CPU pinning, cgroup v2 directories, commands run inside a namespace.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};

/// Where the system benchmarks mount or find cgroup v2.
pub const CGROUP2_ROOT: &str = "/sys/fs/cgroup/unified";

/// The prefix of every namespace, cgroup and pin directory a benchmark creates.
pub const PREFIX: &str = "cilrs-bench";

/// Runs `cmd`, failing with its stderr if it exits non-zero; returns its stdout.
pub fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    if !out.status.success() {
        bail!(
            "{:?} {:?} failed: {}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Runs `ip` with `args`.
pub fn ip(args: &[&str]) -> Result<String> {
    run(Command::new("ip").args(args))
}

/// The bind-mount file of the named network namespace `ns` (made by `ip netns add`).
pub fn netns_path(ns: &str) -> PathBuf {
    PathBuf::from(format!("/var/run/netns/{ns}"))
}

/// Moves the calling thread into network namespace `ns`.
pub fn enter_netns(ns: &str) -> Result<()> {
    let file = File::open(netns_path(ns)).with_context(|| format!("open netns {ns}"))?;
    // SAFETY: setns(2) on a valid namespace fd that `file` keeps open; it changes only the
    // calling thread's namespace.
    let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
    if rc != 0 {
        bail!("setns {ns}: {}", io::Error::last_os_error());
    }
    Ok(())
}

/// Runs `f` on a thread that has entered network namespace `ns`, and returns what it returns.
pub fn in_netns<T: Send>(ns: &str, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    std::thread::scope(|s| {
        s.spawn(|| {
            enter_netns(ns)?;
            f()
        })
        .join()
        .map_err(|_| anyhow::anyhow!("thread in netns {ns} panicked"))?
    })
}

/// Pins the calling thread to CPU `cpu`.
pub fn pin_to_cpu(cpu: usize) -> Result<()> {
    // SAFETY: cpu_set_t is a plain bit array; zeroed is its empty value.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET writes one bit of `set`, which we own; `cpu` is checked by the kernel.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: pid 0 is the calling thread; `set` is a valid cpu_set_t of the size given.
    let rc = unsafe { libc::sched_setaffinity(0, size_of::<libc::cpu_set_t>(), &set) };
    if rc != 0 {
        bail!(
            "sched_setaffinity to CPU {cpu}: {}",
            io::Error::last_os_error()
        );
    }
    Ok(())
}

/// A command that runs `program` inside network namespace `ns` (entered between fork and
/// exec, so no `ip netns exec` overhead is timed).
pub fn command_in_netns(ns: &str, program: &str) -> Result<Command> {
    let file = File::open(netns_path(ns)).with_context(|| format!("open netns {ns}"))?;
    let mut cmd = Command::new(program);
    // SAFETY: the closure runs in the forked child before exec and only calls setns(2),
    // which is async-signal-safe, on the fd of `file`, which the closure owns.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    Ok(cmd)
}

/// Writes `value` to `/proc/sys/<key>` (`key` like `net/ipv4/ip_forward`) in the calling
/// thread's network namespace.
pub fn sysctl(key: &str, value: &str) -> Result<()> {
    std::fs::write(format!("/proc/sys/{key}"), value).with_context(|| format!("sysctl {key}"))
}

/// Fails unless the process runs as root.
pub fn require_root() -> Result<()> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        bail!("this benchmark needs root (network namespaces, BPF, cgroups, iptables)");
    }
    Ok(())
}

/// Makes sure cgroup v2 is mounted at [`CGROUP2_ROOT`] (mounting it if
/// `cgroup.controllers` is missing, as the project's test command does).
pub fn ensure_cgroup2() -> Result<PathBuf> {
    let root = PathBuf::from(CGROUP2_ROOT);
    if !root.join("cgroup.controllers").exists() {
        std::fs::create_dir_all(&root).with_context(|| format!("mkdir {CGROUP2_ROOT}"))?;
        run(Command::new("mount").args(["-t", "cgroup2", "none", CGROUP2_ROOT]))?;
    }
    Ok(root)
}

/// A cgroup v2 directory the benchmark created; removed on drop (once its processes exited).
#[derive(Debug)]
pub struct CgroupDir {
    path: PathBuf,
}

impl CgroupDir {
    /// Creates `<cgroup2 root>/<name>`.
    pub fn create(name: &str) -> Result<Self> {
        let path = ensure_cgroup2()?.join(name);
        std::fs::create_dir(&path).with_context(|| format!("mkdir {}", path.display()))?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for CgroupDir {
    fn drop(&mut self) {
        // A process that just exited can stay listed for a moment.
        for _ in 0..50 {
            if std::fs::remove_dir(&self.path).is_ok() || !self.path.exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("warning: could not remove cgroup {}", self.path.display());
    }
}

/// Moves the calling process into the cgroup v2 directory `dir`.
pub fn join_cgroup(dir: &Path) -> Result<()> {
    std::fs::write(dir.join("cgroup.procs"), std::process::id().to_string())
        .with_context(|| format!("join cgroup {}", dir.display()))
}

/// A directory (a bpffs pin directory, a scratch directory) removed on drop.
#[derive(Debug)]
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Takes ownership of `path` (which need not exist yet); anything there is removed first.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        let _ = std::fs::remove_dir_all(&path);
        Self { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A unique name for one object of this run: `cilrs-bench-<pid>-<what>`.
pub fn unique_name(what: &str) -> String {
    format!("{PREFIX}-{}-{what}", std::process::id())
}

static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Turns SIGINT and SIGTERM into a flag (read by `check_interrupted`) so that the benchmark stops
/// between runs and its drop guards clean up.
pub fn install_interrupt_flag() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe { libc::signal(sig, on_signal as *const () as libc::sighandler_t) };
    }
}

/// Whether SIGINT or SIGTERM arrived; an error to return if so.
pub fn check_interrupted() -> Result<()> {
    if INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed) {
        bail!("interrupted");
    }
    Ok(())
}

/// Removes what an earlier benchmark process that died without cleaning up left behind:
/// network namespaces, cgroups and bpffs directories named `cilrs-bench-<pid>-…` whose pid
/// is no longer running. Objects of live processes are left alone.
pub fn remove_stale() {
    let dead = |name: &str| {
        name.strip_prefix(PREFIX)
            .and_then(|r| r.strip_prefix('-'))
            .and_then(|r| r.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists())
    };
    let names = |dir: &str| -> Vec<String> {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.flatten()
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| dead(n))
                    .collect()
            })
            .unwrap_or_default()
    };
    for ns in names("/var/run/netns") {
        eprintln!("removing stale namespace {ns}");
        let _ = ip(&["netns", "del", &ns]);
    }
    for cg in names(CGROUP2_ROOT) {
        eprintln!("removing stale cgroup {cg}");
        let _ = std::fs::remove_dir(Path::new(CGROUP2_ROOT).join(cg));
    }
    for pin in names("/sys/fs/bpf") {
        eprintln!("removing stale pins {pin}");
        let _ = std::fs::remove_dir_all(Path::new("/sys/fs/bpf").join(pin));
    }
}

/// A network namespace the benchmark created (`ip netns add`); deleted on drop, which removes
/// everything in it (interfaces, iptables rules, attachments).
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `cilrs-bench-<pid>-<what>`.
    pub fn create(what: &str) -> Result<Self> {
        let name = unique_name(what);
        ip(&["netns", "add", &name])?;
        Ok(Self { name })
    }

    /// Its name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            eprintln!("warning: {e}");
        }
    }
}

/// Runs `binary` (an `iptables-restore` variant) in namespace `ns` with `rules` on stdin,
/// with `--noflush` if asked; returns its wall time (fork to exit).
pub fn iptables_restore(ns: &str, binary: &str, rules: &Path, noflush: bool) -> Result<Duration> {
    let mut cmd = command_in_netns(ns, binary)?;
    if noflush {
        cmd.arg("--noflush");
    }
    cmd.stdin(File::open(rules).with_context(|| format!("open {}", rules.display()))?)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let t0 = std::time::Instant::now();
    let out = cmd.output().with_context(|| format!("running {binary}"))?;
    let dt = t0.elapsed();
    if !out.status.success() {
        bail!(
            "{binary} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(dt)
}
