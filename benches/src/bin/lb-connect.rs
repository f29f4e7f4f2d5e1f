//! System benchmark: connect latency (p50, p99) and new connections per second to the first
//! and the last of N services, through no load balancer (`direct`), kube-proxy's iptables
//! rules (`iptables-legacy`, `iptables-nft`) and our cgroup socket LB (`ours`), all in the
//! same run. Needs root.
//!
//! ```text
//! lb-connect [--services 10,1000,10000,30000] [--connects K] [--warmup W] [--runs R]
//!     [--modes direct,ours,iptables-legacy,iptables-nft] [--backends B] [--cpu C] [--block B]
//! ```
//!
//! Each run builds fresh client/node/server topologies (see `cilium_benches::topo`):
//! `direct` and `ours` share one without iptables rules, each iptables mode gets its own with
//! kube-proxy's ruleset loaded in the node namespace. The client is this binary re-executed
//! in a hidden `--client` mode: it enters the client namespace, pins itself to CPU C and
//! times blocking `connect()`s (socket created before, closed after, not timed) for every
//! arm of its topology — (mode, first or last service) — in blocks of B connects that go
//! round the arms, moving itself into the arm's cgroup v2 directory before each block (the
//! socket LB is attached to `ours`'s cgroup only). So the arms compared in one topology see
//! the same moments of the machine. The server (accept and close) runs pinned to the same
//! CPU. Everything is removed at the end, also on Ctrl-C.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cilium_benches::ours::{self, OursLb};
use cilium_benches::report::{Table, median, ms, num, percentile, ratio, today_utc};
use cilium_benches::servers::{Server, ServerKind};
use cilium_benches::services::{BenchService, kube_proxy_full, server_ports, services};
use cilium_benches::sys::{
    CgroupDir, ScratchDir, check_interrupted, enter_netns, install_interrupt_flag,
    iptables_restore, join_cgroup, pin_to_cpu, remove_stale, require_root, unique_name,
};
use cilium_benches::topo::{SERVER, Topology};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Direct,
    Ours,
    IptablesLegacy,
    IptablesNft,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Direct => "direct",
            Mode::Ours => "ours",
            Mode::IptablesLegacy => "iptables-legacy",
            Mode::IptablesNft => "iptables-nft",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "direct" => Mode::Direct,
            "ours" => Mode::Ours,
            "iptables-legacy" => Mode::IptablesLegacy,
            "iptables-nft" => Mode::IptablesNft,
            other => bail!(
                "--modes: unknown mode {other:?} (direct, ours, iptables-legacy, iptables-nft)"
            ),
        })
    }

    fn restore_binary(self) -> Option<&'static str> {
        match self {
            Mode::IptablesLegacy => Some("iptables-legacy-restore"),
            Mode::IptablesNft => Some("iptables-nft-restore"),
            _ => None,
        }
    }
}

struct Args {
    services: Vec<usize>,
    connects: usize,
    warmup: usize,
    runs: usize,
    modes: Vec<Mode>,
    backends: usize,
    cpu: usize,
    block: usize,
}

fn list<T: std::str::FromStr>(flag: &str, s: &str) -> Result<Vec<T>> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{flag}: {p:?} is not valid"))
        })
        .collect()
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args> {
    let mut args = Args {
        services: vec![10, 1000, 10_000, 30_000],
        connects: 3000,
        warmup: 300,
        runs: 3,
        modes: vec![
            Mode::Direct,
            Mode::Ours,
            Mode::IptablesLegacy,
            Mode::IptablesNft,
        ],
        backends: 1,
        cpu: 1,
        block: 100,
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--services" => args.services = list(&flag, &value()?)?,
            "--connects" => args.connects = value()?.parse()?,
            "--warmup" => args.warmup = value()?.parse()?,
            "--runs" => args.runs = value()?.parse()?,
            "--modes" => {
                args.modes = value()?
                    .split(',')
                    .map(Mode::parse)
                    .collect::<Result<_>>()?
            }
            "--backends" => args.backends = value()?.parse()?,
            "--cpu" => args.cpu = value()?.parse()?,
            "--block" => args.block = value()?.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    if args.services.iter().any(|&n| n == 0 || n > 60_000) {
        bail!("--services: each N must be in 1..=60000");
    }
    if !(1..=10).contains(&args.backends) || args.connects == 0 || args.runs == 0 {
        bail!("--backends must be 1..=10, --connects and --runs at least 1");
    }
    args.modes.sort_unstable();
    args.modes.dedup();
    Ok(args)
}

// ---- the client (a child process) ----

/// One timed `connect()`; the socket is created before and closed after the timing.
fn connect_once(target: SocketAddrV4) -> std::io::Result<u64> {
    // SAFETY: socket(2) with constant arguments; the fd is owned right away.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let timeout = libc::timeval {
        tv_sec: 2,
        tv_usec: 0,
    };
    // SAFETY: setsockopt with a pointer to a timeval and its size; bounds a blocking connect.
    unsafe {
        libc::setsockopt(
            raw,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            (&raw const timeout).cast(),
            size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    let sa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: target.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*target.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let t0 = Instant::now();
    // SAFETY: connect(2) on our socket with a valid sockaddr_in and its size.
    let rc = unsafe {
        libc::connect(
            raw,
            (&raw const sa).cast(),
            size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    let dt = t0.elapsed();
    let result = if rc == 0 {
        Ok(dt.as_nanos() as u64)
    } else {
        Err(std::io::Error::last_os_error())
    };
    drop(fd);
    result
}

/// One arm of the client: connects to `target` from inside cgroup `cgroup`.
struct Arm {
    cgroup: String,
    target: SocketAddrV4,
    lat: Vec<u64>,
    busy: Duration,
    failures: usize,
    first_error: Option<String>,
}

/// `--arm CGROUP@IP:PORT`, repeated; blocks of `--block` connects go round the arms, the
/// process moving itself into each arm's cgroup before its block (outside the timing), so
/// every arm sees the same moments of the machine.
fn client_main(mut it: impl Iterator<Item = String>) -> Result<()> {
    let (mut netns, mut cpu, mut connects, mut warmup, mut block) =
        (None, 1usize, 1000usize, 100usize, 100usize);
    let mut arms = Vec::new();
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--netns" => netns = Some(value()?),
            "--cpu" => cpu = value()?.parse()?,
            "--arm" => {
                let v = value()?;
                let (cg, target) = v.rsplit_once('@').context("--arm CGROUP@IP:PORT")?;
                arms.push(Arm {
                    cgroup: cg.to_owned(),
                    target: target.parse()?,
                    lat: Vec::with_capacity(connects),
                    busy: Duration::ZERO,
                    failures: 0,
                    first_error: None,
                });
            }
            "--connects" => connects = value()?.parse()?,
            "--warmup" => warmup = value()?.parse()?,
            "--block" => block = value()?.parse::<usize>()?.max(1),
            other => bail!("client: unknown argument {other}"),
        }
    }
    if arms.is_empty() {
        bail!("client: no --arm");
    }
    // Still single-threaded: setns moves the whole process.
    enter_netns(&netns.context("client: --netns missing")?)?;
    pin_to_cpu(cpu)?;

    for arm in &arms {
        join_cgroup(Path::new(&arm.cgroup))?;
        for _ in 0..warmup {
            let _ = connect_once(arm.target);
        }
    }
    let mut done = 0;
    while done < connects {
        let n = block.min(connects - done);
        for arm in &mut arms {
            join_cgroup(Path::new(&arm.cgroup))?;
            let start = Instant::now();
            for _ in 0..n {
                match connect_once(arm.target) {
                    Ok(ns) => arm.lat.push(ns),
                    Err(e) => {
                        arm.failures += 1;
                        arm.first_error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            arm.busy += start.elapsed();
        }
        done += n;
        if arms.iter().any(|a| a.lat.is_empty() && a.failures >= 20) {
            break;
        }
    }
    let out: Vec<serde_json::Value> = arms
        .iter_mut()
        .map(|arm| {
            arm.lat.sort_unstable();
            let lat = &arm.lat;
            json!({
                "target": arm.target.to_string(),
                "ok": lat.len(),
                "failures": arm.failures,
                "first_error": arm.first_error,
                "p50_ns": percentile(lat, 50.0),
                "p99_ns": percentile(lat, 99.0),
                "mean_ns": if lat.is_empty() { 0 } else { lat.iter().sum::<u64>() / lat.len() as u64 },
                "conns_per_s": lat.len() as f64 / arm.busy.as_secs_f64(),
                "max_ns": lat.last().copied().unwrap_or(0),
                "over_1ms": lat.iter().filter(|&&ns| ns > 1_000_000).count(),
            })
        })
        .collect();
    println!("{}", serde_json::Value::Array(out));
    Ok(())
}

// ---- the parent ----

/// The CPU that is not the benchmark's (event draining, the parent).
fn drain_cpu(cpu: usize) -> usize {
    if cpu == 0 { 1 } else { 0 }
}

#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    p50_us: f64,
    p99_us: f64,
    rate: f64,
}

/// Runs the client in `topo`'s client namespace with `arms` (cgroup, target); one sample per
/// arm.
fn run_client(topo: &Topology, args: &Args, arms: &[(&Path, SocketAddrV4)]) -> Result<Vec<Sample>> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new(exe);
    cmd.args(["--client", "--netns", &topo.client])
        .args(["--cpu", &args.cpu.to_string()])
        .args(["--connects", &args.connects.to_string()])
        .args(["--warmup", &args.warmup.to_string()])
        .args(["--block", &args.block.to_string()]);
    for (cg, target) in arms {
        cmd.arg("--arm").arg(format!("{}@{target}", cg.display()));
    }
    let out = cmd
        .stderr(Stdio::inherit())
        .output()
        .context("running the client")?;
    if !out.status.success() {
        bail!("client failed ({})", out.status);
    }
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("client output {:?}", String::from_utf8_lossy(&out.stdout)))?;
    let mut samples = Vec::new();
    for a in v {
        let failures = a["failures"].as_u64().unwrap_or(0);
        if failures > 0 {
            bail!(
                "client to {}: {failures} connects failed (first: {})",
                a["target"],
                a["first_error"]
            );
        }
        if std::env::var_os("LB_CONNECT_DEBUG").is_some() {
            eprintln!("  client: {a}");
        }
        samples.push(Sample {
            p50_us: a["p50_ns"].as_f64().unwrap_or(f64::NAN) / 1e3,
            p99_us: a["p99_ns"].as_f64().unwrap_or(f64::NAN) / 1e3,
            rate: a["conns_per_s"].as_f64().unwrap_or(f64::NAN),
        });
    }
    Ok(samples)
}

#[derive(Default)]
struct Cell {
    samples: Vec<Sample>,
    program_ms: Vec<f64>,
}

fn main() -> Result<()> {
    let mut argv = std::env::args().skip(1).peekable();
    if argv.peek().map(String::as_str) == Some("--client") {
        argv.next();
        return client_main(argv);
    }
    let args = parse_args(argv)?;
    require_root()?;
    install_interrupt_flag();
    remove_stale();

    let scratch = ScratchDir::new(std::env::temp_dir().join(unique_name("lb-connect")));
    std::fs::create_dir_all(scratch.path())?;
    // (N, mode, target 0 = first / 1 = last) -> samples over runs
    let mut cells: BTreeMap<(usize, Mode, usize), Cell> = BTreeMap::new();
    let mut seq = 0usize;
    // `direct` and `ours` share a topology (no iptables rules in it) and one client that
    // interleaves them; each iptables mode gets a topology of its own.
    let mut groups: Vec<Vec<Mode>> = Vec::new();
    let shared: Vec<Mode> = args
        .modes
        .iter()
        .copied()
        .filter(|m| m.restore_binary().is_none())
        .collect();
    if !shared.is_empty() {
        groups.push(shared);
    }
    for &m in &args.modes {
        if m.restore_binary().is_some() {
            groups.push(vec![m]);
        }
    }
    for &n in &args.services {
        let svcs = services(n, args.backends);
        let rules = scratch.path().join(format!("rules-{n}.txt"));
        if args.modes.iter().any(|m| m.restore_binary().is_some()) {
            std::fs::write(&rules, kube_proxy_full(&svcs))?;
        }
        let ours_state = if args.modes.contains(&Mode::Ours) {
            Some(ours::state(&svcs)?)
        } else {
            None
        };
        let targets: Vec<&BenchService> = if n == 1 {
            vec![&svcs[0]]
        } else {
            vec![&svcs[0], &svcs[n - 1]]
        };
        for run in 0..args.runs {
            // Rotate the order of the groups so that none always runs first.
            for g in 0..groups.len() {
                let group = &groups[(g + run) % groups.len()];
                check_interrupted()?;
                seq += 1;
                let names: Vec<&str> = group.iter().map(|m| m.name()).collect();
                eprintln!("N={n} run {}/{} {}", run + 1, args.runs, names.join("+"));
                let tag = format!("c{seq}");
                let topo = Topology::build(&tag)?;
                let _server = Server::start(
                    &topo.server,
                    SERVER.addr,
                    &server_ports(n, args.backends),
                    args.cpu,
                    ServerKind::AcceptClose,
                )?;
                // Every client arm runs in a cgroup of ours; only `ours` has programs in it.
                let plain = CgroupDir::create(&unique_name(&format!("{tag}-plain")))?;
                let lb_cgroup = CgroupDir::create(&unique_name(&format!("{tag}-socklb")))?;
                let mut program_time = BTreeMap::new();
                let mut _ours = None;
                for &mode in group {
                    if let Some(bin) = mode.restore_binary() {
                        let dt = iptables_restore(&topo.node, bin, &rules, false)?;
                        program_time.insert(mode, dt);
                    }
                    if mode == Mode::Ours {
                        let state = ours_state.as_ref().expect("state built for ours");
                        let mut lb = OursLb::load(&tag, drain_cpu(args.cpu))?;
                        lb.attach_cgroup(lb_cgroup.path())?;
                        program_time.insert(mode, lb.apply(state.clone())?.0);
                        _ours = Some(lb);
                    }
                }
                let mut keys = Vec::new();
                let mut arms = Vec::new();
                for &mode in group {
                    for (ti, svc) in targets.iter().enumerate() {
                        let (cgroup, target) = match mode {
                            Mode::Direct => {
                                let (addr, port) = svc.backends[0];
                                (plain.path(), SocketAddrV4::new(addr, port))
                            }
                            Mode::Ours => (lb_cgroup.path(), SocketAddrV4::new(svc.vip, svc.port)),
                            _ => (plain.path(), SocketAddrV4::new(svc.vip, svc.port)),
                        };
                        keys.push((n, mode, ti));
                        arms.push((cgroup, target));
                    }
                }
                let samples = run_client(&topo, &args, &arms)
                    .with_context(|| format!("N={n} {}", names.join("+")))?;
                for (key, s) in keys.into_iter().zip(samples) {
                    let cell = cells.entry(key).or_default();
                    cell.samples.push(s);
                    if key.2 == 0
                        && let Some(dt) = program_time.get(&key.1)
                    {
                        cell.program_ms.push(ms(*dt));
                    }
                }
            }
        }
    }
    print_results(&args, &cells);
    Ok(())
}

fn print_results(args: &Args, cells: &BTreeMap<(usize, Mode, usize), Cell>) {
    let med =
        |c: &Cell, f: fn(&Sample) -> f64| median(&c.samples.iter().map(f).collect::<Vec<_>>());
    let mut table = Table::new(&[
        "N",
        "mode",
        "service",
        "p50 µs",
        "p99 µs",
        "conn/s",
        "p50 vs direct",
        "conn/s vs direct",
        "program ms",
    ]);
    let mut json_rows = Vec::new();
    for (&(n, mode, ti), cell) in cells {
        let p50 = med(cell, |s| s.p50_us);
        let p99 = med(cell, |s| s.p99_us);
        let rate = med(cell, |s| s.rate);
        let direct = cells.get(&(n, Mode::Direct, ti));
        let (p50_ratio, rate_ratio) = direct.map_or((f64::NAN, f64::NAN), |d| {
            (p50 / med(d, |s| s.p50_us), rate / med(d, |s| s.rate))
        });
        let program = if cell.program_ms.is_empty() {
            f64::NAN
        } else {
            median(&cell.program_ms)
        };
        let which = if ti == 0 { "first" } else { "last" };
        table.row(vec![
            n.to_string(),
            mode.name().to_owned(),
            which.to_owned(),
            num(p50, 1),
            num(p99, 1),
            num(rate, 0),
            ratio(p50_ratio),
            ratio(rate_ratio),
            num(program, 1),
        ]);
        json_rows.push(json!({
            "services": n,
            "mode": mode.name(),
            "service": which,
            "p50_us": p50,
            "p99_us": p99,
            "conns_per_s": rate,
            "p50_vs_direct": p50_ratio,
            "rate_vs_direct": rate_ratio,
            "program_ms": if program.is_nan() { None } else { Some(program) },
            "runs": cell.samples.len(),
        }));
    }
    println!(
        "lb-connect {}: medians of {} runs, {} connects each, client and server on CPU {}, {} backend(s) per service",
        today_utc(),
        args.runs,
        args.connects,
        args.cpu,
        args.backends
    );
    print!("{}", table.render());
    println!(
        "{}",
        json!({
            "bench": "lb-connect",
            "date": today_utc(),
            "runs": args.runs,
            "connects": args.connects,
            "cpu": args.cpu,
            "backends": args.backends,
            "results": json_rows,
        })
    );
}
