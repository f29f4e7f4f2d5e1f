//! System benchmark: connect latency (p50, p99) and new connections per second to the first
//! and the last of N services, through no load balancer (`direct`), kube-proxy's iptables
//! rules (`iptables-legacy`, `iptables-nft`) and our cgroup socket LB (`ours`), all in the
//! same run. Needs root.
//!
//! ```text
//! lb-connect [--services 10,1000,10000,30000] [--connects K] [--warmup W] [--runs R]
//!     [--modes direct,ours,iptables-legacy,iptables-nft] [--backends B] [--cpu C]
//! ```
//!
//! Every (N, mode, run) gets a fresh client/node/server topology (see `cilium_benches::topo`)
//! and a fresh cgroup v2 directory; the client is this binary re-executed in a hidden
//! `--client` mode that enters the client namespace and the cgroup, pins itself to CPU C and
//! times K blocking `connect()`s (socket created before, closed after, not timed), printing
//! one JSON line. The server (accept and close) runs pinned to the same CPU. Everything is
//! removed at the end, also on Ctrl-C.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

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

fn client_main(mut it: impl Iterator<Item = String>) -> Result<()> {
    let (mut netns, mut cgroup, mut cpu, mut target, mut connects, mut warmup) =
        (None, None, 1usize, None, 1000usize, 100usize);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--netns" => netns = Some(value()?),
            "--cgroup" => cgroup = Some(value()?),
            "--cpu" => cpu = value()?.parse()?,
            "--target" => target = Some(value()?.parse::<SocketAddrV4>()?),
            "--connects" => connects = value()?.parse()?,
            "--warmup" => warmup = value()?.parse()?,
            other => bail!("client: unknown argument {other}"),
        }
    }
    let target = target.context("client: --target missing")?;
    // Still single-threaded: setns moves the whole process.
    enter_netns(&netns.context("client: --netns missing")?)?;
    if let Some(cg) = cgroup {
        join_cgroup(Path::new(&cg))?;
    }
    pin_to_cpu(cpu)?;

    for _ in 0..warmup {
        let _ = connect_once(target);
    }
    let mut lat = Vec::with_capacity(connects);
    let (mut failures, mut first_error) = (0usize, None);
    let start = Instant::now();
    for _ in 0..connects {
        match connect_once(target) {
            Ok(ns) => lat.push(ns),
            Err(e) => {
                failures += 1;
                first_error.get_or_insert_with(|| e.to_string());
                if lat.is_empty() && failures >= 20 {
                    break;
                }
            }
        }
    }
    let elapsed = start.elapsed();
    lat.sort_unstable();
    let out = json!({
        "ok": lat.len(),
        "failures": failures,
        "first_error": first_error,
        "p50_ns": percentile(&lat, 50.0),
        "p99_ns": percentile(&lat, 99.0),
        "mean_ns": if lat.is_empty() { 0 } else { lat.iter().sum::<u64>() / lat.len() as u64 },
        "conns_per_s": lat.len() as f64 / elapsed.as_secs_f64(),
        "max_ns": lat.last().copied().unwrap_or(0),
        "over_1ms": lat.iter().filter(|&&ns| ns > 1_000_000).count(),
    });
    println!("{out}");
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

fn run_client(topo: &Topology, cgroup: &Path, args: &Args, target: SocketAddrV4) -> Result<Sample> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .args(["--client", "--netns", &topo.client, "--cgroup"])
        .arg(cgroup)
        .args(["--cpu", &args.cpu.to_string()])
        .args(["--target", &target.to_string()])
        .args(["--connects", &args.connects.to_string()])
        .args(["--warmup", &args.warmup.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .context("running the client")?;
    if !out.status.success() {
        bail!("client to {target} failed ({})", out.status);
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("client output {:?}", String::from_utf8_lossy(&out.stdout)))?;
    let failures = v["failures"].as_u64().unwrap_or(0);
    if failures > 0 {
        bail!(
            "client to {target}: {failures} of {} connects failed (first: {})",
            args.connects,
            v["first_error"]
        );
    }
    if std::env::var_os("LB_CONNECT_DEBUG").is_some() {
        eprintln!("  client {target}: {v}");
    }
    Ok(Sample {
        p50_us: v["p50_ns"].as_f64().unwrap_or(f64::NAN) / 1e3,
        p99_us: v["p99_ns"].as_f64().unwrap_or(f64::NAN) / 1e3,
        rate: v["conns_per_s"].as_f64().unwrap_or(f64::NAN),
    })
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
            for &mode in &args.modes {
                check_interrupted()?;
                seq += 1;
                eprintln!("N={n} run {}/{} {}", run + 1, args.runs, mode.name());
                let tag = format!("c{seq}");
                let topo = Topology::build(&tag)?;
                let _server = Server::start(
                    &topo.server,
                    SERVER.addr,
                    &server_ports(n, args.backends),
                    args.cpu,
                    ServerKind::AcceptClose,
                )?;
                let cgroup = CgroupDir::create(&unique_name(&tag))?;
                let mut program_time = None;
                let mut _ours = None;
                if let Some(bin) = mode.restore_binary() {
                    program_time = Some(iptables_restore(&topo.node, bin, &rules, false)?);
                }
                if mode == Mode::Ours {
                    let state = ours_state.as_ref().expect("state built for ours");
                    let mut lb = OursLb::load(&tag, drain_cpu(args.cpu))?;
                    lb.attach_cgroup(cgroup.path())?;
                    program_time = Some(lb.apply(state.clone())?.0);
                    _ours = Some(lb);
                }
                for (ti, svc) in targets.iter().enumerate() {
                    let target = match mode {
                        Mode::Direct => {
                            let (addr, port) = svc.backends[0];
                            SocketAddrV4::new(addr, port)
                        }
                        _ => SocketAddrV4::new(svc.vip, svc.port),
                    };
                    let s = run_client(&topo, cgroup.path(), &args, target)
                        .with_context(|| format!("N={n} {}", mode.name()))?;
                    let cell = cells.entry((n, mode, ti)).or_default();
                    cell.samples.push(s);
                    if ti == 0
                        && let Some(dt) = program_time
                    {
                        cell.program_ms.push(ms(dt));
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
