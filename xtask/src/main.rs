//! Project automation for the cilium-rs workspace.
//!
//! `cargo xtask test` is the project's single test command; CI runs it through
//! `.ci/run` on a fresh Debian 12 machine as root. It:
//!
//! 1. installs the Debian packages the tests need (root only, see [`DEB_PACKAGES`]),
//! 2. mounts bpffs at `/sys/fs/bpf` and a cgroup v2 hierarchy if none is mounted (root only),
//! 3. decides privileged mode (`CILIUM_PRIVILEGED_TESTS=1` for the child processes when root),
//! 4. runs, stopping at the first failure: `cargo fmt --check`, `cargo clippy -D warnings`,
//!    the purity check of the pure crates, `cargo test --workspace`, and `cargo package`,
//! 5. prints a summary of every step with its outcome and elapsed time.
//!
//! Only `std` and `anyhow` are used; arguments are parsed by hand.

use std::ffi::OsStr;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};

/// Debian packages the test suite needs; installed when missing (root only).
///
/// Later work adds packages here (for example `iperf3`).
const DEB_PACKAGES: &[&str] = &[
    "clang-19",
    "libbpf-dev",
    "iproute2",
    "bpftool",
    "linux-libc-dev",
    // cilium-identity: the etcd tests start a real etcd (3.4).
    "etcd-server",
    // cilium-identity: etcd-client's build script compiles etcd's protos with protoc, which
    // needs the well-known protos (google/protobuf/*.proto) of libprotobuf-dev.
    "protobuf-compiler",
    "libprotobuf-dev",
    // cilium-l7: the DNS proxy test forwards to a real dnsmasq (the demo runs one too).
    "dnsmasq-base",
    // The reference agent: a real CNI client (our runner over Debian's libcni, built with
    // Debian's Go) chaining our plugin with the reference portmap and tuning plugins.
    "golang-go",
    "golang-github-appc-cni-dev",
    "containernetworking-plugins",
    "iptables",
];

/// Crates that must stay free of OS / async / BPF dependencies (design doc rule), each with
/// the extra `cargo tree` arguments that select its pure part: `cilium-identity`'s allocator
/// core is pure once its store backends (default features) are off, `cilium-maps`' ABI types
/// and event decoding once its `kernel` feature (aya, libc) is off, and `cilium-hubble`'s flow
/// model, parser and filters once its `server` feature (the I/O shell) is off.
const PURE_CRATES: &[(&str, &[&str])] = &[
    ("cilium-core", &[]),
    ("cilium-policy", &[]),
    ("cilium-lb", &[]),
    ("cilium-identity", &["--no-default-features"]),
    ("cilium-maps", &["--no-default-features"]),
    ("cilium-hubble", &["--no-default-features"]),
    ("cilium-l7", &["--no-default-features"]),
];

/// Crates a pure crate must not depend on, directly or transitively.
const FORBIDDEN_IN_PURE: &[&str] = &[
    "tokio",
    "aya",
    "aya-obj",
    "libc",
    "mio",
    "socket2",
    "etcd-client",
    "kube",
    "kube-client",
];

/// Environment variable that turns skipping privileged tests into failing them.
const PRIVILEGED_ENV: &str = "CILIUM_PRIVILEGED_TESTS";

/// Where bpffs is mounted.
const BPFFS_DIR: &str = "/sys/fs/bpf";

/// Where a cgroup v2 hierarchy is mounted when the machine has none.
const CGROUP2_DIR: &str = "/sys/fs/cgroup/unified";

/// Usage text for `cargo xtask help`.
const USAGE: &str = "\
Usage: cargo xtask <COMMAND>

Commands:
  test [OPTIONS] [-- <TEST ARGS>...]   Run the project's full test command (what CI runs)
  demo [--no-install]                  The main job (root): build the reference agent, CNI
                                       plugin and CLI, run the demo cluster, clean up
  help                                 Print this help

Options of `test`:
  --no-install      Do not install missing Debian packages (only report them)
  --skip-clippy     Skip the `cargo clippy` step
  --package-check   Verify the packaged crates too (builds each .crate; slow).
                    Without it the packaging step still runs, with --no-verify.
  -- <TEST ARGS>    Passed to the test binaries, e.g. `cargo xtask test -- --nocapture`

As root, missing packages are installed, bpffs / cgroup2 are mounted and the tests run with
CILIUM_PRIVILEGED_TESTS=1 (privileged tests fail instead of skipping) unless that variable
is already set. Not as root, privileged tests are skipped.
";

fn main() -> ExitCode {
    match real_main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Parses the command line and dispatches to the subcommand.
fn real_main() -> Result<ExitCode> {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("test") => {
            let opts = TestOptions::parse(args)?;
            if opts.help {
                print!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            run_test(&opts)
        }
        Some("demo") => run_demo(args.collect()),
        Some("help" | "--help" | "-h") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => {
            eprint!("{USAGE}");
            bail!("unknown command `{other}`")
        }
        None => {
            eprint!("{USAGE}");
            bail!("no command given")
        }
    }
}

/// Options of `cargo xtask test`.
#[derive(Debug, Default)]
struct TestOptions {
    /// `--no-install`: only report missing Debian packages.
    no_install: bool,
    /// `--skip-clippy`: skip the clippy step.
    skip_clippy: bool,
    /// `--package-check`: verify (build) the packaged crates.
    package_check: bool,
    /// `--help` given after `test`.
    help: bool,
    /// Arguments after `--`, passed to the test binaries.
    test_args: Vec<String>,
}

impl TestOptions {
    /// Parses the arguments that follow `test`.
    fn parse(args: impl Iterator<Item = String>) -> Result<Self> {
        let mut opts = Self::default();
        let mut args = args;
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--no-install" => opts.no_install = true,
                "--skip-clippy" => opts.skip_clippy = true,
                "--package-check" => opts.package_check = true,
                "--help" | "-h" => opts.help = true,
                "--" => {
                    opts.test_args = args.by_ref().collect();
                }
                other => bail!(
                    "unknown argument `{other}` for `cargo xtask test` (see `cargo xtask help`)"
                ),
            }
        }
        Ok(opts)
    }
}

/// Outcome of one step.
#[derive(Debug, Clone)]
enum Status {
    /// The step succeeded.
    Ok,
    /// The step did not run its check, with the reason.
    Skipped(String),
    /// The step failed, with the reason.
    Failed(String),
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ok => write!(f, "ok"),
            Self::Skipped(why) => write!(f, "skipped ({why})"),
            Self::Failed(why) => write!(f, "FAILED ({why})"),
        }
    }
}

/// One finished step, for the summary.
#[derive(Debug)]
struct StepRecord {
    /// Step name as shown in the header.
    name: &'static str,
    /// What happened.
    status: Status,
    /// Wall-clock seconds the step took.
    secs: f64,
}

/// Runs steps, prints their headers and collects the summary.
struct Runner {
    /// Workspace root, the working directory of every command.
    root: PathBuf,
    /// The `cargo` to invoke (the one running us when known).
    cargo: String,
    /// Whether `Cargo.lock` exists (then cargo commands get `--locked`).
    locked: bool,
    /// Environment passed to every child command.
    child_env: Vec<(String, String)>,
    /// Finished steps.
    records: Vec<StepRecord>,
    /// Workspace members left out of clippy, doc and test (with the reason printed once).
    exclude: Vec<&'static str>,
}

impl Runner {
    /// Runs one step: prints its header, times it and records its outcome.
    ///
    /// Returns `false` when the step failed (the caller then stops).
    fn step(&mut self, name: &'static str, body: impl FnOnce(&mut Self) -> Result<Status>) -> bool {
        println!();
        println!("==> [xtask] {name}");
        let start = Instant::now();
        let status = match body(self) {
            Ok(status) => status,
            Err(err) => Status::Failed(format!("{err:#}")),
        };
        let secs = start.elapsed().as_secs_f64();
        match &status {
            Status::Ok => println!("==> [xtask] {name}: ok ({secs:.1}s)"),
            Status::Skipped(why) => println!("==> [xtask] {name}: skipped: {why} ({secs:.1}s)"),
            Status::Failed(why) => eprintln!("==> [xtask] {name}: FAILED: {why} ({secs:.1}s)"),
        }
        let ok = !matches!(status, Status::Failed(_));
        self.records.push(StepRecord { name, status, secs });
        ok
    }

    /// A `cargo` command run from the workspace root with the child environment.
    /// `--exclude` arguments for [`Runner::exclude`].
    fn exclude_args(&self) -> Vec<String> {
        self.exclude
            .iter()
            .flat_map(|c| ["--exclude".to_owned(), (*c).to_owned()])
            .collect()
    }

    fn cargo<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(&self.cargo);
        cmd.args(args).current_dir(&self.root).stdin(Stdio::null());
        for (k, v) in &self.child_env {
            cmd.env(k, v);
        }
        cmd
    }

    /// `--locked` when `Cargo.lock` exists, else nothing.
    fn locked_flag(&self) -> Option<&'static str> {
        self.locked.then_some("--locked")
    }

    /// Prints the summary table.
    fn print_summary(&self, total_secs: f64) {
        println!();
        println!("==> [xtask] summary");
        for r in &self.records {
            println!("  {:<28} {:>7.1}s  {}", r.name, r.secs, r.status);
        }
        println!("  {:<28} {:>7.1}s", "total", total_secs);
    }
}

/// `cargo xtask test`.
fn run_test(opts: &TestOptions) -> Result<ExitCode> {
    let started = Instant::now();
    let root = workspace_root()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let is_root = effective_uid()? == 0;

    // Privileged mode: root, unless the user already chose via the variable.
    let mut child_env = Vec::new();
    let privileged = match std::env::var(PRIVILEGED_ENV) {
        Ok(value) => {
            println!("[xtask] {PRIVILEGED_ENV}={value} already set; respecting it");
            value == "1"
        }
        Err(_) if is_root => {
            child_env.push((PRIVILEGED_ENV.to_owned(), "1".to_owned()));
            println!(
                "[xtask] running as root: privileged mode, tests run with {PRIVILEGED_ENV}=1 \
                 (tests needing BPF, clang or namespaces fail instead of skipping)"
            );
            true
        }
        Err(_) => {
            println!(
                "[xtask] not root: privileged tests (real BPF maps and programs, network \
                 namespaces) will be skipped; run as root to run them"
            );
            false
        }
    };

    let mut runner = Runner {
        locked: root.join("Cargo.lock").is_file(),
        root,
        cargo,
        child_env,
        records: Vec::new(),
        exclude: Vec::new(),
    };
    if !privileged && !clang_available() {
        println!(
            "[xtask] no clang: skipping cilium-datapath (its build script compiles the eBPF \
             programs with clang); install clang-19 and libbpf-dev, or run as root"
        );
        runner.exclude.push("cilium-datapath");
    }

    let ok = runner.step("install Debian packages", |_| {
        install_packages(is_root, opts.no_install)
    }) && runner.step("mount bpffs and cgroup2", |_| {
        setup_mounts(is_root, privileged)
    }) && runner.step("cargo fmt --check", step_fmt)
        && runner.step("cargo clippy", |r| {
            if opts.skip_clippy {
                Ok(Status::Skipped("--skip-clippy".to_owned()))
            } else {
                step_clippy(r)
            }
        })
        && runner.step("purity of pure crates", step_purity)
        && runner.step("cargo doc (-D warnings)", step_doc)
        && runner.step("cargo test --workspace", |r| step_test(r, &opts.test_args))
        && runner.step("cargo package", |r| step_package(r, opts.package_check));

    runner.print_summary(started.elapsed().as_secs_f64());
    if ok {
        println!("[xtask] all steps passed");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("[xtask] stopped at the first failing step");
        Ok(ExitCode::FAILURE)
    }
}

/// `cargo xtask demo`: installs what is missing (root), mounts bpffs, builds the agent, the
/// CNI plugin and the CLI (release), and runs `cilium-demo run`, which removes everything it
/// made, also on Ctrl-C.
fn run_demo(extra: Vec<String>) -> Result<ExitCode> {
    let root = workspace_root()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let is_root = effective_uid()? == 0;
    if !is_root {
        bail!("the demo creates network namespaces and loads eBPF programs: run it as root");
    }
    let no_install = extra.iter().any(|a| a == "--no-install");
    install_packages(true, no_install)?;
    setup_mounts(true, true)?;
    let mut build = Command::new(&cargo);
    build.current_dir(&root).args([
        "build",
        "--release",
        "-p",
        "cilium-agent",
        "-p",
        "cilium-cni",
        "-p",
        "cilium-dbg",
    ]);
    if root.join("Cargo.lock").is_file() {
        build.arg("--locked");
    }
    run_checked(&mut build, "cargo build --release (agent, plugin, CLI)")?;
    let demo = root.join("target/release/cilium-demo");
    let status = Command::new(&demo)
        .arg("run")
        .status()
        .with_context(|| format!("could not start {}", demo.display()))?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> Result<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| anyhow!("xtask's manifest dir has no parent"))
}

/// Effective uid, from `/proc/self/status` (fallback: `id -u`).
fn effective_uid() -> Result<u32> {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        // "Uid:\t<real>\t<effective>\t<saved>\t<fs>"
        if let Some(euid) = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
        {
            return Ok(euid);
        }
    }
    let out = Command::new("id")
        .arg("-u")
        .output()
        .context("running `id -u`")?;
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .context("parsing `id -u` output")
}

/// Runs a command to completion with inherited output; errors unless it exits 0.
fn run_checked(cmd: &mut Command, what: &str) -> Result<()> {
    println!("[xtask] $ {}", display_cmd(cmd));
    let status = cmd
        .status()
        .with_context(|| format!("could not start {what}"))?;
    if status.success() {
        Ok(())
    } else {
        bail!("{what} failed ({status})")
    }
}

/// Renders a command line for logs.
fn display_cmd(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Step 1: install the missing [`DEB_PACKAGES`] (root only).
fn install_packages(is_root: bool, no_install: bool) -> Result<Status> {
    let probe = Command::new("dpkg-query")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        return Ok(Status::Skipped(
            "dpkg-query not found (not a Debian system)".to_owned(),
        ));
    }
    let missing: Vec<&str> = DEB_PACKAGES
        .iter()
        .copied()
        .filter(|pkg| !deb_installed(pkg))
        .collect();
    if missing.is_empty() {
        println!("[xtask] all present: {}", DEB_PACKAGES.join(" "));
        return Ok(Status::Ok);
    }
    let list = missing.join(" ");
    if !is_root {
        println!(
            "[xtask] missing Debian packages: {list}; not root, so not installing them: \
             tests needing them will be skipped"
        );
        return Ok(Status::Skipped(format!("not root; missing: {list}")));
    }
    if no_install {
        println!("[xtask] missing Debian packages: {list}; --no-install given, not installing");
        return Ok(Status::Skipped(format!("--no-install; missing: {list}")));
    }
    println!("[xtask] installing missing Debian packages: {list}");
    let apt = |args: &[&str]| {
        let mut cmd = Command::new("apt-get");
        cmd.args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null());
        cmd
    };
    let fail = |e: anyhow::Error| e.context(format!("installing Debian packages {list}"));
    run_checked(&mut apt(&["update", "-q"]), "apt-get update").map_err(fail)?;
    let mut install = apt(&["install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    run_checked(&mut install, "apt-get install").map_err(fail)?;
    let still: Vec<&str> = missing
        .iter()
        .copied()
        .filter(|pkg| !deb_installed(pkg))
        .collect();
    if !still.is_empty() {
        bail!(
            "still not installed after apt-get install: {}",
            still.join(" ")
        );
    }
    println!("[xtask] installed: {list}");
    Ok(Status::Ok)
}

/// Whether `dpkg-query` reports the package as "install ok installed".
fn deb_installed(pkg: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", pkg])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success() && out.stdout.trim_ascii() == b"install ok installed")
}

/// One line of `/proc/mounts`: (mount point, file system type).
fn mounts() -> Result<Vec<(String, String)>> {
    let text = fs::read_to_string("/proc/mounts").context("reading /proc/mounts")?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _source = fields.next()?;
            let target = fields.next()?;
            let fstype = fields.next()?;
            Some((target.to_owned(), fstype.to_owned()))
        })
        .collect())
}

/// Creates `dir` and mounts a `fstype` filesystem there; a failure is added to `problems`.
fn mount_fs(fstype: &str, source: &str, dir: &str, what: &str, problems: &mut Vec<String>) {
    let res = fs::create_dir_all(dir)
        .with_context(|| format!("creating {dir}"))
        .and_then(|()| {
            run_checked(
                Command::new("mount").args(["-t", fstype, source, dir]),
                &format!("mount {what}"),
            )
        });
    match res {
        Ok(()) => println!("[xtask] mounted {what} at {dir}"),
        Err(e) => problems.push(format!("{e:#}")),
    }
}

/// Step 2: bpffs at [`BPFFS_DIR`] and some cgroup v2 mount (root only).
///
/// A failed mount fails the step in privileged mode (privileged tests would fail anyway)
/// and is only reported otherwise.
fn setup_mounts(is_root: bool, privileged: bool) -> Result<Status> {
    if !is_root {
        return Ok(Status::Skipped("not root".to_owned()));
    }
    let mut problems = Vec::new();
    let current = mounts()?;

    if current.iter().any(|(t, ty)| t == BPFFS_DIR && ty == "bpf") {
        println!("[xtask] bpffs already mounted at {BPFFS_DIR}");
    } else {
        mount_fs("bpf", "bpf", BPFFS_DIR, "bpffs", &mut problems);
    }

    if let Some((target, _)) = current.iter().find(|(_, ty)| ty == "cgroup2") {
        println!("[xtask] cgroup v2 already mounted at {target}");
    } else {
        mount_fs("cgroup2", "none", CGROUP2_DIR, "cgroup v2", &mut problems);
    }

    if problems.is_empty() {
        Ok(Status::Ok)
    } else if privileged {
        bail!("{}", problems.join("; "))
    } else {
        let why = problems.join("; ");
        println!("[xtask] warning: {why} (not privileged mode, continuing)");
        Ok(Status::Skipped(why))
    }
}

/// Step 4a: `cargo fmt --all -- --check`.
fn step_fmt(r: &mut Runner) -> Result<Status> {
    let mut cmd = r.cargo(["fmt", "--all", "--", "--check"]);
    println!("[xtask] $ {}", display_cmd(&cmd));
    let status = cmd
        .status()
        .context("could not start cargo fmt (is rustfmt installed?)")?;
    if !status.success() {
        bail!("cargo fmt --check failed ({status}); run `cargo fmt --all` to fix");
    }
    Ok(Status::Ok)
}

/// Step 4b: `cargo clippy --workspace --all-targets [--locked] -- -D warnings`.
fn step_clippy(r: &mut Runner) -> Result<Status> {
    let mut cmd = r.cargo(["clippy", "--workspace", "--all-targets"]);
    cmd.args(r.exclude_args())
        .args(r.locked_flag())
        .args(["--", "-D", "warnings"]);
    run_checked(&mut cmd, "cargo clippy")?;
    Ok(Status::Ok)
}

/// Step 4c: the pure crates must not depend on any of [`FORBIDDEN_IN_PURE`].
fn step_purity(r: &mut Runner) -> Result<Status> {
    let mut violations = Vec::new();
    for &(krate, extra) in PURE_CRATES {
        let mut cmd = r.cargo(["tree", "-p", krate, "-e", "normal", "--prefix", "none"]);
        cmd.args(extra).args(r.locked_flag());
        println!("[xtask] $ {}", display_cmd(&cmd));
        let out = cmd
            .stderr(Stdio::inherit())
            .output()
            .context("could not start cargo tree")?;
        if !out.status.success() {
            bail!("cargo tree -p {krate} failed ({})", out.status);
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let offenders = forbidden_deps(&text);
        if offenders.is_empty() {
            let how = if extra.is_empty() {
                String::new()
            } else {
                format!(" ({})", extra.join(" "))
            };
            println!(
                "[xtask] {krate}{how}: pure (no {})",
                FORBIDDEN_IN_PURE.join("/")
            );
            continue;
        }
        for offender in offenders {
            eprintln!("[xtask] {krate} depends on forbidden crate `{offender}`; dependency path:");
            let mut inv = r.cargo(["tree", "-p", krate, "-e", "normal", "-i", offender]);
            inv.args(extra).args(r.locked_flag());
            // Best effort: the path is for the reader, the failure is already decided.
            if let Ok(path) = inv.output() {
                eprint!("{}", String::from_utf8_lossy(&path.stdout));
                eprint!("{}", String::from_utf8_lossy(&path.stderr));
            }
            violations.push(format!("{krate} -> {offender}"));
        }
    }
    if violations.is_empty() {
        Ok(Status::Ok)
    } else {
        bail!(
            "pure crates must not depend on tokio, aya, libc, etcd-client or kube (design doc): {}",
            violations.join(", ")
        )
    }
}

/// The [`FORBIDDEN_IN_PURE`] crates named in `cargo tree --prefix none` output
/// (first word of each line), sorted and deduplicated.
fn forbidden_deps(tree: &str) -> Vec<&str> {
    let mut offenders: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| FORBIDDEN_IN_PURE.contains(name))
        .collect();
    offenders.sort_unstable();
    offenders.dedup();
    offenders
}

/// Step 4d: `cargo test --workspace [--locked] [-- <test args>]`.
/// `cargo doc --workspace --no-deps` with rustdoc warnings (broken links) as errors: every
/// crate's first lines are what a newcomer reads.
fn step_doc(r: &mut Runner) -> Result<Status> {
    let mut cmd = r.cargo(["doc", "--workspace", "--no-deps"]);
    cmd.args(r.exclude_args())
        .args(r.locked_flag())
        .env("RUSTDOCFLAGS", "-D warnings");
    run_checked(&mut cmd, "cargo doc")?;
    Ok(Status::Ok)
}

/// `cargo test --workspace --no-fail-fast`: every failing test binary shows in the log.
fn step_test(r: &mut Runner, test_args: &[String]) -> Result<Status> {
    let mut cmd = r.cargo(["test", "--workspace", "--no-fail-fast"]);
    cmd.args(r.exclude_args()).args(r.locked_flag());
    if !test_args.is_empty() {
        cmd.arg("--").args(test_args);
    }
    run_checked(&mut cmd, "cargo test")?;
    Ok(Status::Ok)
}

/// Names of workspace members with `publish = false` (or `publish = []`).
///
/// Read from the manifests by hand (no TOML parser): the root `members = [...]` list
/// and each member's `[package]` section.
fn unpublished_members(root: &Path) -> Result<Vec<String>> {
    let manifest = fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    // The `members = [ ... ]` list, comments stripped, as one string.
    let mut list = String::new();
    let mut in_list = false;
    for line in manifest.lines() {
        let line = line.split('#').next().unwrap_or_default();
        if !in_list {
            let Some(rest) = line.trim_start().strip_prefix("members") else {
                continue;
            };
            let Some((_, rest)) = rest.split_once('[') else {
                continue;
            };
            in_list = true;
            list.push_str(rest);
        } else {
            list.push_str(line);
        }
        if list.contains(']') {
            break;
        }
    }
    let list = list.split(']').next().unwrap_or_default();
    let members: Vec<&str> = list
        .split(',')
        .map(|m| m.trim().trim_matches('"'))
        .filter(|m| !m.is_empty())
        .collect();
    if members.is_empty() {
        bail!("no `members = [...]` list found in the workspace Cargo.toml");
    }

    let mut out = Vec::new();
    for dir in members {
        let path = root.join(dir).join("Cargo.toml");
        let text =
            fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let mut section = "";
        let mut name = None;
        let mut unpublished = false;
        for line in text.lines().map(str::trim) {
            if line.starts_with('[') {
                section = line;
                continue;
            }
            if section != "[package]" {
                continue;
            }
            if let Some((key, value)) = line.split_once('=') {
                let (key, value) = (key.trim(), value.trim());
                match key {
                    "name" => name = Some(value.trim_matches('"').to_owned()),
                    "publish" => unpublished = value == "false" || value == "[]",
                    _ => {}
                }
            }
        }
        if unpublished {
            out.push(name.ok_or_else(|| anyhow!("no package name in {}", path.display()))?);
        }
    }
    Ok(out)
}

/// Step 4e: `cargo package --workspace` for the publishable crates.
///
/// Cargo (≥ 1.90) packages workspace members together, resolving their path
/// dependencies on each other through a temporary local registry, so unpublished
/// interdependent crates package fine. It still reads the crates.io index for the
/// external dependencies; if that is unreachable the step is skipped, not failed.
/// Without `--package-check` the step uses `--no-verify` (under a second); with it the
/// packaged crates are also built.
fn step_package(r: &mut Runner, verify: bool) -> Result<Status> {
    let excluded = unpublished_members(&r.root)?;
    let mut cmd = r.cargo(["package", "--workspace", "--allow-dirty"]);
    if !verify {
        cmd.arg("--no-verify");
    }
    cmd.args(r.locked_flag());
    for name in &excluded {
        cmd.args(["--exclude", name]);
    }
    println!("[xtask] $ {}", display_cmd(&cmd));
    let out = cmd.output().context("could not start cargo package")?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprint!("{stderr}");
    if out.status.success() {
        return Ok(Status::Ok);
    }
    let network = [
        "failed to query replaced source",
        "Unable to update registry",
        "failed to download",
        "spurious network error",
        "Could not resolve host",
        "failed to get successful HTTP response",
        "attempting to make an HTTP request, but --offline was specified",
    ];
    if let Some(hint) = network.iter().find(|n| stderr.contains(*n)) {
        return Ok(Status::Skipped(format!(
            "crates.io index unreachable (`{hint}`); cargo package needs it to resolve external dependencies"
        )));
    }
    bail!("cargo package failed ({})", out.status)
}

/// Whether a clang for the eBPF programs is on the PATH (`$CLANG`, `clang-19` or `clang`).
fn clang_available() -> bool {
    let candidates = match std::env::var("CLANG") {
        Ok(c) => vec![c],
        Err(_) => vec!["clang-19".to_owned(), "clang".to_owned()],
    };
    candidates.iter().any(|c| {
        Command::new(c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<TestOptions> {
        TestOptions::parse(args.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn parses_flags_and_test_args() {
        let o = parse(&[
            "--no-install",
            "--skip-clippy",
            "--",
            "--nocapture",
            "--skip-clippy",
        ])
        .unwrap();
        assert!(o.no_install && o.skip_clippy && !o.package_check);
        assert_eq!(o.test_args, ["--nocapture", "--skip-clippy"]);
    }

    #[test]
    fn rejects_unknown_argument() {
        let err = parse(&["--bogus"]).unwrap_err().to_string();
        assert!(err.contains("--bogus"), "{err}");
    }

    #[test]
    fn spots_forbidden_deps_by_first_word() {
        let tree = "cilium-x v0.1.0 (/w/x)\nregex v1.11.1\nlibc v0.2.191\n\
                    aya v0.14.0\nlibc v0.2.191 (*)\nlibc-print v0.1.0\nmy-tokio v1.0.0\n";
        assert_eq!(forbidden_deps(tree), ["aya", "libc"]);
        assert!(forbidden_deps("cilium-core v0.1.0\nregex v1\n").is_empty());
    }

    #[test]
    fn finds_unpublished_members() {
        let mut names = unpublished_members(&workspace_root().unwrap()).unwrap();
        names.sort();
        assert!(names.iter().any(|n| n == "xtask"), "{names:?}");
        assert!(!names.iter().any(|n| n == "cilium-core"), "{names:?}");
    }
}
