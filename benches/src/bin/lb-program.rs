//! System benchmark: time to program N services from nothing, and to add one service at N,
//! for our map sync and for kube-proxy's iptables rules (iptables-legacy and iptables-nft),
//! in the same run. Needs root.
//!
//! ```text
//! lb-program [--services 1000,10000,30000] [--runs R]
//!     [--modes ours,iptables-legacy,iptables-nft]
//! ```
//!
//! - ours, full: building the N-service `LbState` from the service models and
//!   `LbSync::apply` of it on a freshly loaded datapath (empty maps), timed together; the
//!   state-building part is reported beside it. Add one / remove one: `LbSync::upsert_service`
//!   / `remove_service` of one more service at N (in place: state change and map writes).
//! - ours-maglev: the same with every service on the Maglev algorithm (tables of the default
//!   16381 entries, one per service); only for N ≤ 1000 (a table is 64 KiB of kernel memory).
//! - iptables, full: `iptables-restore` of kube-proxy's whole ruleset into a fresh namespace;
//!   add one: `iptables-restore --noflush` of what kube-proxy ≥ 1.26 writes then — all of
//!   `KUBE-SERVICES` (and the other fixed chains) plus the new service's chains. Wall time of
//!   the command; generating the text is not timed (kube-proxy's own Go time is not counted
//!   either).

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cilium_benches::ours::OursLb;
use cilium_benches::report::{Table, median, ms, num, ratio, today_utc};
use cilium_benches::services::{BenchService, kube_proxy_add_one, kube_proxy_full, services};
use cilium_benches::sys::{
    Netns, ScratchDir, check_interrupted, command_in_netns, install_interrupt_flag,
    iptables_restore, remove_stale, require_root, run, unique_name,
};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Ours,
    OursMaglev,
    IptablesLegacy,
    IptablesNft,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Ours => "ours",
            Mode::OursMaglev => "ours-maglev",
            Mode::IptablesLegacy => "iptables-legacy",
            Mode::IptablesNft => "iptables-nft",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "ours" => Mode::Ours,
            "ours-maglev" => Mode::OursMaglev,
            "iptables-legacy" => Mode::IptablesLegacy,
            "iptables-nft" => Mode::IptablesNft,
            other => bail!(
                "--modes: unknown mode {other:?} (ours, ours-maglev, iptables-legacy, iptables-nft)"
            ),
        })
    }

    fn binaries(self) -> Option<(&'static str, &'static str)> {
        match self {
            Mode::IptablesLegacy => Some(("iptables-legacy-restore", "iptables-legacy-save")),
            Mode::IptablesNft => Some(("iptables-nft-restore", "iptables-nft-save")),
            Mode::Ours | Mode::OursMaglev => None,
        }
    }
}

struct Args {
    services: Vec<usize>,
    backends: usize,
    runs: usize,
    modes: Vec<Mode>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        services: vec![1000, 10_000, 30_000],
        backends: 2,
        runs: 3,
        modes: vec![
            Mode::Ours,
            Mode::OursMaglev,
            Mode::IptablesLegacy,
            Mode::IptablesNft,
        ],
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--services" => {
                args.services = value()?
                    .split(',')
                    .map(|s| s.trim().parse().context("--services"))
                    .collect::<Result<_>>()?
            }
            "--runs" => args.runs = value()?.parse()?,
            "--backends" => args.backends = value()?.parse()?,
            "--modes" => {
                args.modes = value()?
                    .split(',')
                    .map(Mode::parse)
                    .collect::<Result<_>>()?
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if args.services.iter().any(|&n| n == 0 || n >= 60_000) || args.runs == 0 {
        bail!("--services: each N in 1..60000; --runs at least 1");
    }
    if !(1..=16).contains(&args.backends) {
        bail!("--backends: 1 to 16");
    }
    args.modes.sort_unstable();
    args.modes.dedup();
    Ok(args)
}

#[derive(Default)]
struct Cell {
    full: Vec<f64>,
    add: Vec<f64>,
    /// Ours: remove one service at N.
    remove: Vec<f64>,
    /// Ours: building the N-service state (part of `full`).
    compute_full: Vec<f64>,
    /// Map entries our sync wrote (full, add one).
    writes: Option<(usize, usize)>,
}

/// Counts the nat `KUBE-SERVICES` rules in `ns` (a check that the restores did what we meant).
fn kube_services_rules(ns: &str, save: &str) -> Result<usize> {
    let out = run(command_in_netns(ns, save)?.args(["-t", "nat"]))?;
    Ok(out
        .lines()
        .filter(|l| l.starts_with("-A KUBE-SERVICES"))
        .count())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    require_root()?;
    install_interrupt_flag();
    remove_stale();
    let scratch = ScratchDir::new(std::env::temp_dir().join(unique_name("lb-program")));
    std::fs::create_dir_all(scratch.path())?;

    let mut cells: BTreeMap<(usize, Mode), Cell> = BTreeMap::new();
    let mut seq = 0;
    for &n in &args.services {
        let svcs = services(n, args.backends);
        let added = BenchService::new(n, args.backends);
        let mut all = svcs.clone();
        all.push(added.clone());
        let full_rules = scratch.path().join(format!("full-{n}.txt"));
        let add_rules = scratch.path().join(format!("add-{n}.txt"));
        std::fs::write(&full_rules, kube_proxy_full(&svcs))?;
        std::fs::write(&add_rules, kube_proxy_add_one(&all, &added))?;
        for run_no in 0..args.runs {
            for &mode in &args.modes {
                if mode == Mode::OursMaglev && n > 1000 {
                    continue;
                }
                check_interrupted()?;
                seq += 1;
                eprintln!("N={n} run {}/{} {}", run_no + 1, args.runs, mode.name());
                let cell = cells.entry((n, mode)).or_default();
                if let Some((restore, save)) = mode.binaries() {
                    let ns = Netns::create(&format!("p{seq}"))?;
                    let full = iptables_restore(ns.name(), restore, &full_rules, false)?;
                    let add = iptables_restore(ns.name(), restore, &add_rules, true)?;
                    if run_no == 0 {
                        let rules = kube_services_rules(ns.name(), save)?;
                        if rules != n + 2 {
                            bail!("{restore}: {rules} KUBE-SERVICES rules, expected {}", n + 2);
                        }
                    }
                    cell.full.push(ms(full));
                    cell.add.push(ms(add));
                } else {
                    let maglev = mode == Mode::OursMaglev;
                    let model = |s: &BenchService| {
                        let mut m = s.to_model();
                        if maglev {
                            m.algorithm = cilium_lb::model::Algorithm::Maglev;
                        }
                        m
                    };
                    let models: Vec<_> = svcs.iter().map(model).collect();
                    let mut lb = OursLb::load(&format!("p{seq}"), 0)?;
                    let t0 = Instant::now();
                    let state = cilium_lb::diff::LbState::default()
                        .update(models)
                        .context("building the load-balancing state")?;
                    let compute_full = t0.elapsed();
                    let (apply, full_stats) = lb.apply(state)?;
                    let (add, add_stats) = lb.upsert_service(model(&added))?;
                    if add_stats.operations == 0 {
                        bail!("adding a service gave no operation");
                    }
                    let (remove, remove_stats) = lb.remove_service(&model(&added).id())?;
                    if remove_stats.removals == 0 {
                        bail!("removing a service removed nothing");
                    }
                    cell.writes = Some((full_stats.writes, add_stats.writes));
                    drop(lb);
                    cell.full.push(ms(compute_full + apply));
                    cell.add.push(ms(add));
                    cell.remove.push(ms(remove));
                    cell.compute_full.push(ms(compute_full));
                }
            }
        }
    }
    print_results(&args, &cells);
    Ok(())
}

fn print_results(args: &Args, cells: &BTreeMap<(usize, Mode), Cell>) {
    let mut table = Table::new(&[
        "N",
        "mode",
        "program N ms",
        "add one ms",
        "remove one ms",
        "program N vs ours",
        "add one vs ours",
        "ours: of which state ms",
        "ours: map writes (N / add one)",
    ]);
    let mut rows = Vec::new();
    let med = |v: &Vec<f64>| if v.is_empty() { f64::NAN } else { median(v) };
    for (&(n, mode), c) in cells {
        let (full, add) = (med(&c.full), med(&c.add));
        let ours = cells.get(&(n, Mode::Ours));
        let (rf, ra) = ours.map_or((f64::NAN, f64::NAN), |o| {
            (full / med(&o.full), add / med(&o.add))
        });
        let compute = if c.compute_full.is_empty() {
            "-".to_owned()
        } else {
            num(med(&c.compute_full), 1)
        };
        let remove = med(&c.remove);
        table.row(vec![
            n.to_string(),
            mode.name().to_owned(),
            num(full, if full < 10.0 { 2 } else { 1 }),
            num(add, if add < 10.0 { 3 } else { 1 }),
            if remove.is_nan() {
                "-".to_owned()
            } else {
                num(remove, 3)
            },
            ratio(rf),
            ratio(ra),
            compute,
            c.writes
                .map_or("-".to_owned(), |(f, a)| format!("{f} / {a}")),
        ]);
        rows.push(json!({
            "services": n,
            "mode": mode.name(),
            "program_ms": full,
            "add_one_ms": add,
            "program_vs_ours": rf,
            "add_one_vs_ours": ra,
            "remove_one_ms": if remove.is_nan() { None } else { Some(remove) },
            "compute_state_ms": if c.compute_full.is_empty() { None } else { Some(med(&c.compute_full)) },
            "map_writes": c.writes.map(|(f, a)| json!({"full": f, "add_one": a})),
            "runs": c.full.len(),
        }));
    }
    println!(
        "lb-program {}: medians of {} runs; ratios are peer time / our time",
        today_utc(),
        args.runs
    );
    print!("{}", table.render());
    println!(
        "{}",
        json!({"bench": "lb-program", "date": today_utc(), "runs": args.runs, "results": rows})
    );
}
