//! Per-packet cost of the endpoint program `cil_from_endpoint` (and the reply path of
//! `cil_to_endpoint`) by `BPF_PROG_TEST_RUN` on crafted 64-byte frames, with 10 to 16000
//! entries in the endpoint's policy map, next to a floor: a TC program that only returns
//! `TC_ACT_SHOT`. Needs root (BPF).
//!
//! ```text
//! prog-cost [--entries 10,100,1000,16000] [--repeat R] [--samples S] [--single K] [--cpu C]
//! ```
//!
//! Two ways of timing, both the kernel's own clock around the program runs:
//! - batched: `repeat = R` in one test run (the kernel reports the mean per run); `S` such
//!   calls, median. Every repeat sees the same packet, so only cases that are the same on
//!   every repeat are batched: the floor, conntrack hits, a drop by policy (drops create no
//!   conntrack entry; events are drained between calls so the ring buffer never fills).
//! - single: `K` test runs of `repeat = 1`, each with a new source port, median. This is the
//!   only honest way to time a *new* allowed flow (its first run creates the conntrack entry,
//!   so a batch would time conntrack hits after the first repeat); the floor and the
//!   conntrack hit are timed this way too, so the timer's own overhead at repeat = 1 is
//!   visible and can be subtracted by the reader.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use aya::programs::{SchedClassifier, TestRun, TestRunOptions};
use cilium_benches::report::{Table, median, num, today_utc};
use cilium_benches::sys::{
    ScratchDir, check_interrupted, install_interrupt_flag, pin_to_cpu, remove_stale, require_root,
    unique_name,
};
use cilium_datapath::{Datapath, DatapathConfig, Program};
use cilium_maps::abi::consts::{
    CIL_DIR_EGRESS, CIL_DIR_INGRESS, CIL_ENDPOINT_F_ENFORCE_EGRESS, CIL_ENDPOINT_F_ENFORCE_INGRESS,
    CIL_ENDPOINT_F_POLICY_READY,
};
use cilium_maps::abi::{
    EndpointInfo, EndpointKey, IpCacheKey, IpCacheValue, PolicyEntry, PolicyKey,
};
use serde_json::json;

static TC_DROP: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/tc_drop.o"));

const TC_ACT_OK: u32 = 0;
const TC_ACT_SHOT: u32 = 2;
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;

const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// An endpoint that enforces no policy (its packets skip the policy lookup).
const EP_OPEN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
const EP_OPEN_ID: u16 = 8;
const PEER_IDENTITY: u32 = 2000;
const ALLOWED_PORT: u16 = 80;
const DENIED_PORT: u16 = 443;

struct Args {
    entries: Vec<usize>,
    repeat: u32,
    samples: usize,
    single: usize,
    cpu: usize,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        entries: vec![10, 100, 1000, 16_000],
        repeat: 10_000,
        samples: 51,
        single: 2000,
        cpu: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--entries" => {
                args.entries = value()?
                    .split(',')
                    .map(|s| s.trim().parse().context("--entries"))
                    .collect::<Result<_>>()?
            }
            "--repeat" => args.repeat = value()?.parse()?,
            "--samples" => args.samples = value()?.parse()?,
            "--single" => args.single = value()?.parse()?,
            "--cpu" => args.cpu = value()?.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    if args.entries.is_empty()
        || args.entries.len() > 200
        || args.entries.iter().any(|&e| e == 0 || e > 16_384)
    {
        bail!("--entries: each in 1..=16384 (the policy map's size)");
    }
    if args.repeat == 0 || args.samples == 0 || args.single == 0 {
        bail!("--repeat, --samples and --single must be at least 1");
    }
    Ok(args)
}

/// A 64-byte Ethernet + IPv4 + TCP frame (header fields only; the programs check no checksum).
fn frame(src: Ipv4Addr, sport: u16, dst: Ipv4Addr, dport: u16, flags: u8) -> Vec<u8> {
    let mut p = vec![0u8; 64];
    p[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
    let ip = &mut p[14..34];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&40u16.to_be_bytes());
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&src.octets());
    ip[16..20].copy_from_slice(&dst.octets());
    let tcp = &mut p[34..54];
    tcp[0..2].copy_from_slice(&sport.to_be_bytes());
    tcp[2..4].copy_from_slice(&dport.to_be_bytes());
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    p
}

/// One test run: (return value, mean ns per repeat).
fn test_run(prog: &SchedClassifier, pkt: &[u8], repeat: u32) -> Result<(u32, f64)> {
    let opts = TestRunOptions {
        data_in: Some(pkt),
        repeat,
        ..Default::default()
    };
    let r = prog.test_run(opts).context("BPF_PROG_TEST_RUN")?;
    Ok((r.return_value, r.duration.as_nanos() as f64))
}

/// A loaded datapath, its events drained by the caller between runs.
struct Env {
    dp: Datapath,
    events: aya::maps::RingBuf<aya::maps::MapData>,
    _pins: ScratchDir,
}

impl Env {
    fn drain(&mut self) {
        while self.events.next().is_some() {}
    }

    /// A datapath with `tc_service_lb` as given, the peer's identity in the ipcache, and the
    /// endpoint `EP_OPEN` that enforces no policy.
    fn load(tag: &str, tc_service_lb: bool) -> Result<Env> {
        let pins = ScratchDir::new(PathBuf::from(format!("/sys/fs/bpf/{}", unique_name(tag))));
        let mut config = DatapathConfig::new(pins.path());
        config.tc_service_lb = tc_service_lb;
        let mut dp = Datapath::load(&config).context("loading the datapath")?;
        let events = dp.take_events().context("events ring buffer")?;
        dp.ipcache()?.insert(
            &IpCacheKey::new(IpAddr::V4(PEER), 32, 0),
            &IpCacheValue::identity(PEER_IDENTITY),
        )?;
        let env = Env {
            dp,
            events,
            _pins: pins,
        };
        env.endpoint(EP_OPEN, EP_OPEN_ID, CIL_ENDPOINT_F_POLICY_READY)?;
        Ok(env)
    }

    fn endpoint(&self, addr: Ipv4Addr, id: u16, flags: u16) -> Result<()> {
        // BPF_PROG_TEST_RUN gives the packet the loopback device's ifindex (1).
        let info = EndpointInfo {
            ifindex: 1,
            endpoint_id: id,
            identity: 1000 + u32::from(id),
            flags,
            ..bytemuck::Zeroable::zeroed()
        };
        self.dp
            .endpoints()?
            .insert(&EndpointKey::new(IpAddr::V4(addr)), &info)?;
        Ok(())
    }

    /// An enforcing endpoint whose policy map holds `entries` entries: the one that allows the
    /// flow, and `entries - 1` others (other identities and ports, both directions, some
    /// protocol-only).
    fn endpoint_with_policy(&self, addr: Ipv4Addr, id: u16, entries: usize) -> Result<()> {
        self.endpoint(
            addr,
            id,
            CIL_ENDPOINT_F_POLICY_READY
                | CIL_ENDPOINT_F_ENFORCE_INGRESS
                | CIL_ENDPOINT_F_ENFORCE_EGRESS,
        )?;
        let mut policy = self.dp.endpoint_policy(id)?;
        policy.insert(
            &PolicyKey::new(PEER_IDENTITY, CIL_DIR_EGRESS, 6, ALLOWED_PORT, 16),
            &PolicyEntry::allow(0),
        )?;
        for j in 1..entries {
            let identity = 100_000 + (j as u32 / 4);
            let dir = if j % 2 == 0 {
                CIL_DIR_EGRESS
            } else {
                CIL_DIR_INGRESS
            };
            let key = match j % 8 {
                7 => PolicyKey::new(identity, dir, 17, 0, 0),
                _ => PolicyKey::new(identity, dir, 6, 1000 + (j % 30_000) as u16, 16),
            };
            policy.insert(&key, &PolicyEntry::allow(0))?;
        }
        let n = policy.keys()?.len();
        if n != entries {
            bail!("policy map of endpoint {id} holds {n} entries, expected {entries}");
        }
        Ok(())
    }

    /// Opens the flow `src:sport -> PEER:ALLOWED_PORT` (one SYN), so its packets hit
    /// conntrack.
    fn open_flow(&self, src: Ipv4Addr, sport: u16) -> Result<()> {
        let syn = frame(src, sport, PEER, ALLOWED_PORT, SYN);
        let prog = self.dp.program(Program::FromEndpoint)?;
        if test_run(prog, &syn, 1)?.0 != TC_ACT_OK {
            bail!("the allowed SYN from {src} was dropped");
        }
        Ok(())
    }
}

/// What a case runs.
#[derive(Clone, Copy)]
enum Target {
    Floor,
    /// A program of environment `env`.
    Dp(usize, Program),
}

/// One measured case.
struct Case {
    entries: usize,
    name: String,
    target: Target,
    want: u32,
    /// The packet of batched runs (`None`: the case cannot be batched).
    batched: Option<Vec<u8>>,
    /// The packet of the `i`-th single run.
    single: Box<dyn Fn(usize) -> Vec<u8>>,
    batched_ns: Vec<f64>,
    single_ns: Vec<f64>,
}

impl Case {
    fn new(
        entries: usize,
        name: impl Into<String>,
        target: Target,
        want: u32,
        batched: Option<Vec<u8>>,
        single: impl Fn(usize) -> Vec<u8> + 'static,
    ) -> Self {
        Case {
            entries,
            name: name.into(),
            target,
            want,
            batched,
            single: Box::new(single),
            batched_ns: Vec::new(),
            single_ns: Vec::new(),
        }
    }
}

fn run_case(
    floor: &SchedClassifier,
    envs: &[Env],
    c: &Case,
    pkt: &[u8],
    repeat: u32,
) -> Result<f64> {
    let prog = match c.target {
        Target::Floor => floor,
        Target::Dp(e, p) => envs[e].dp.program(p)?,
    };
    let (ret, ns) = test_run(prog, pkt, repeat)?;
    if ret != c.want {
        bail!("{}: returned {ret}, expected {}", c.name, c.want);
    }
    Ok(ns)
}

/// Endpoint addresses: one per policy size (`10.0.1.k`).
fn ep_addr(k: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 1, 1 + k as u8)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    require_root()?;
    install_interrupt_flag();
    remove_stale();
    // Test runs execute on the calling thread's CPU.
    pin_to_cpu(args.cpu)?;

    let mut floor_obj = aya::Ebpf::load(TC_DROP).context("loading tc_drop.o")?;
    let floor: &mut SchedClassifier = floor_obj
        .program_mut("cil_bench_tc_drop")
        .context("cil_bench_tc_drop not in tc_drop.o")?
        .try_into()?;
    floor.load()?;

    // Environment 0: the default configuration; 1: TC service translation off (diagnostic).
    let mut envs = vec![
        Env::load("prog-cost", true)?,
        Env::load("prog-cost-nosvc", false)?,
    ];
    let from = |e| Target::Dp(e, Program::FromEndpoint);
    let to = |e| Target::Dp(e, Program::ToEndpoint);
    let syn_to = |src: Ipv4Addr, base: u16, dport: u16| {
        move |i: usize| frame(src, base.wrapping_add(i as u16), PEER, dport, SYN)
    };
    let fixed = |p: Vec<u8>| move |_: usize| p.clone();

    let mut cases = vec![Case::new(
        0,
        "floor: TC program returning TC_ACT_SHOT",
        Target::Floor,
        TC_ACT_SHOT,
        Some(frame(ep_addr(0), 40_000, PEER, ALLOWED_PORT, SYN)),
        fixed(frame(ep_addr(0), 40_000, PEER, ALLOWED_PORT, SYN)),
    )];
    for (k, &entries) in args.entries.iter().enumerate() {
        let ep = ep_addr(k);
        envs[0].endpoint_with_policy(ep, 100 + k as u16, entries)?;
        envs[0].open_flow(ep, 40_000)?;
        let ack = frame(ep, 40_000, PEER, ALLOWED_PORT, ACK);
        let reply = frame(PEER, ALLOWED_PORT, ep, 40_000, ACK);
        let denied = frame(ep, 50_000, PEER, DENIED_PORT, SYN);
        cases.push(Case::new(
            entries,
            "conntrack hit, from endpoint (established flow)",
            from(0),
            TC_ACT_OK,
            Some(ack.clone()),
            fixed(ack),
        ));
        cases.push(Case::new(
            entries,
            "conntrack hit, reply to endpoint",
            to(0),
            TC_ACT_OK,
            Some(reply.clone()),
            fixed(reply),
        ));
        cases.push(Case::new(
            entries,
            "new flow, allowed (creates a conntrack entry)",
            from(0),
            TC_ACT_OK,
            None,
            syn_to(ep, 1024, ALLOWED_PORT),
        ));
        cases.push(Case::new(
            entries,
            "drop by policy (batched: one flow; single: a new flow each)",
            from(0),
            TC_ACT_SHOT,
            Some(denied),
            syn_to(ep, 30_000, DENIED_PORT),
        ));
    }
    // Where a conntrack hit's time goes (with the first policy size).
    let first = args.entries[0];
    envs[1].endpoint_with_policy(ep_addr(0), 100, first)?;
    for (e, src, name) in [
        (
            0,
            EP_OPEN,
            "diagnostic: conntrack hit, endpoint enforcing no policy",
        ),
        (
            1,
            ep_addr(0),
            "diagnostic: conntrack hit, tc_service_lb off",
        ),
        (
            1,
            EP_OPEN,
            "diagnostic: conntrack hit, no policy, tc_service_lb off",
        ),
    ] {
        envs[e].open_flow(src, 40_001)?;
        let ack = frame(src, 40_001, PEER, ALLOWED_PORT, ACK);
        cases.push(Case::new(
            first,
            name,
            from(e),
            TC_ACT_OK,
            Some(ack.clone()),
            fixed(ack),
        ));
    }

    // Interleaved: every round runs every case once, so a slow moment of the machine
    // weighs on all cases alike.
    for _ in 0..args.samples {
        check_interrupted()?;
        for c in &mut cases {
            if let Some(pkt) = &c.batched {
                for env in &mut envs {
                    env.drain();
                }
                let ns = run_case(floor, &envs, c, pkt, args.repeat)?;
                c.batched_ns.push(ns);
            }
        }
    }
    for i in 0..args.single {
        if i % 64 == 0 {
            check_interrupted()?;
            for env in &mut envs {
                env.drain();
            }
        }
        for c in &mut cases {
            let pkt = (c.single)(i);
            let ns = run_case(floor, &envs, c, &pkt, 1)?;
            c.single_ns.push(ns);
        }
    }
    for env in &mut envs {
        env.drain();
    }

    let floor_b = median(&cases[0].batched_ns);
    let mut table = Table::new(&[
        "policy entries",
        "case",
        "batched ns/pkt",
        "single ns/pkt",
        "batched - floor",
    ]);
    let mut rows = Vec::new();
    for c in &cases {
        let b = if c.batched_ns.is_empty() {
            f64::NAN
        } else {
            median(&c.batched_ns)
        };
        let s = median(&c.single_ns);
        table.row(vec![
            c.entries.to_string(),
            c.name.clone(),
            num(b, 1),
            num(s, 1),
            num(b - floor_b, 1),
        ]);
        rows.push(json!({
            "entries": c.entries,
            "case": c.name,
            "batched_ns": if b.is_nan() { None } else { Some(b) },
            "single_ns": s,
        }));
    }
    println!(
        "prog-cost {}: BPF_PROG_TEST_RUN on 64-byte frames, CPU {}; batched = median of {} runs of repeat {}, single = median of {} runs of repeat 1 (the kernel reports whole ns)",
        today_utc(),
        args.cpu,
        args.samples,
        args.repeat,
        args.single
    );
    print!("{}", table.render());
    println!(
        "{}",
        json!({
            "bench": "prog-cost",
            "date": today_utc(),
            "cpu": args.cpu,
            "repeat": args.repeat,
            "samples": args.samples,
            "single": args.single,
            "results": rows,
        })
    );
    Ok(())
}
