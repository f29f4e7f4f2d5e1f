//! System benchmark: TCP request/response transactions per second (1-byte ping-pong on one
//! established connection) between two pod namespaces routed through a node namespace,
//! (a) with no programs, (b) with our endpoint programs attached to the node-side veths
//! (TCX ingress and egress of both), an allow policy, conntrack, policy-verdict and trace
//! events on, the events read and turned into flows by cilium-hubble's ingest path (decoder,
//! metrics, flow ring), and (c) the same programs loaded with events off (a second datapath
//! instance). All three in the same run, rotating the order. Needs root.
//!
//! ```text
//! tcp-rr [--seconds S] [--runs R] [--cpu C] [--port P]
//! ```
//!
//! Client and server are pinned to CPU C (a wakeup across vCPUs costs more than the whole
//! transaction on a VM). Each run opens a new connection (a new flow for the programs), warms
//! up, then counts transactions for S seconds. Events are read by a thread on another CPU
//! and fed to the flow pipeline while the runs go on. The programs' forwarded-packet counters are read to show that every
//! transaction went through them.

use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cilium_benches::report::{Table, median, num, ratio, today_utc};
use cilium_benches::servers::{Server, ServerKind};
use cilium_benches::sys::{
    ScratchDir, check_interrupted, in_netns, install_interrupt_flag, pin_to_cpu, remove_stale,
    require_root, unique_name,
};
use cilium_benches::topo::{CLIENT, SERVER, Topology};
use cilium_datapath::{Datapath, DatapathConfig};
use cilium_hubble::metrics::HubbleMetrics;
use cilium_hubble::observer::{FlowSink, Ingest, Observer};
use cilium_hubble::parser::{NoLookups, Parser};
use cilium_maps::abi::consts::{
    CIL_DIR_EGRESS, CIL_DIR_INGRESS, CIL_ENDPOINT_F_ENFORCE_EGRESS, CIL_ENDPOINT_F_ENFORCE_INGRESS,
    CIL_ENDPOINT_F_POLICY_READY, CIL_REASON_FORWARDED,
};
use cilium_maps::abi::{EndpointInfo, EndpointKey, MetricsKey, PolicyEntry, PolicyKey};
use cilium_maps::events::Event;
use serde_json::json;

struct Args {
    seconds: f64,
    runs: usize,
    cpu: usize,
    port: u16,
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        seconds: 5.0,
        runs: 5,
        cpu: 1,
        port: 9000,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => args.seconds = value()?.parse()?,
            "--runs" => args.runs = value()?.parse()?,
            "--cpu" => args.cpu = value()?.parse()?,
            "--port" => args.port = value()?.parse()?,
            other => bail!("unknown argument {other}"),
        }
    }
    if args.runs == 0 || args.seconds <= 0.0 {
        bail!("--runs and --seconds must be positive");
    }
    Ok(args)
}

/// One run: a new connection from the client pod, 1-byte request/response for `seconds`.
fn rr(topo: &Topology, args: &Args) -> Result<f64> {
    let target = SocketAddrV4::new(SERVER.addr, args.port);
    in_netns(&topo.client, || {
        pin_to_cpu(args.cpu)?;
        let mut s = TcpStream::connect(target).with_context(|| format!("connect {target}"))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        let mut buf = [0u8; 1];
        let mut one = || -> Result<()> {
            s.write_all(b"x")?;
            s.read_exact(&mut buf)?;
            Ok(())
        };
        for _ in 0..1000 {
            one()?;
        }
        let end = Duration::from_secs_f64(args.seconds);
        let start = Instant::now();
        let mut n = 0u64;
        loop {
            for _ in 0..64 {
                one()?;
            }
            n += 64;
            if start.elapsed() >= end {
                break;
            }
        }
        Ok(n as f64 / start.elapsed().as_secs_f64())
    })
}

const READY: u16 =
    CIL_ENDPOINT_F_POLICY_READY | CIL_ENDPOINT_F_ENFORCE_INGRESS | CIL_ENDPOINT_F_ENFORCE_EGRESS;

/// The endpoints and the allow policy: client (endpoint 1, identity 1000) may reach the
/// server (endpoint 2, identity 2000) on TCP `port`, and the server accepts it.
fn program_endpoints(dp: &Datapath, topo: &Topology, port: u16) -> Result<()> {
    let mut eps = dp.endpoints()?;
    for (pod, ep_id, identity) in [(&CLIENT, 1u16, 1000u32), (&SERVER, 2, 2000)] {
        let info = EndpointInfo {
            ifindex: topo.node_ifindex(pod)?,
            endpoint_id: ep_id,
            identity,
            flags: READY,
            ..bytemuck::Zeroable::zeroed()
        };
        eps.insert(&EndpointKey::new(pod.addr.into()), &info)?;
    }
    dp.endpoint_policy(1)?.insert(
        &PolicyKey::new(2000, CIL_DIR_EGRESS, 6, port, 16),
        &PolicyEntry::allow(0),
    )?;
    dp.endpoint_policy(2)?.insert(
        &PolicyKey::new(1000, CIL_DIR_INGRESS, 6, port, 16),
        &PolicyEntry::allow(0),
    )?;
    Ok(())
}

/// Packets the programs forwarded, both directions.
fn forwarded(dp: &Datapath) -> Result<u64> {
    let m = dp.metrics()?;
    let mut total = 0;
    for direction in [CIL_DIR_INGRESS, CIL_DIR_EGRESS] {
        let key = MetricsKey {
            reason: CIL_REASON_FORWARDED,
            direction,
            pad: 0,
            pad2: 0,
        };
        total += m.get_sum(&key)?.map_or(0, |v| v.packets);
    }
    Ok(total)
}

/// Attaches the endpoint programs (TCX ingress and egress) to both node-side veths, in the
/// node namespace; returns their ifindexes.
fn attach(dp: &Datapath, topo: &Topology) -> Result<Vec<u32>> {
    let ifindexes = vec![topo.node_ifindex(&CLIENT)?, topo.node_ifindex(&SERVER)?];
    in_netns(&topo.node, || {
        for &ifindex in &ifindexes {
            dp.attach_endpoint(ifindex)
                .with_context(|| format!("attaching to ifindex {ifindex}"))?;
        }
        Ok(())
    })?;
    Ok(ifindexes)
}

fn detach(dp: &Datapath, ifindexes: &[u32]) -> Result<()> {
    for &ifindex in ifindexes {
        dp.detach_endpoint(ifindex)?;
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    require_root()?;
    install_interrupt_flag();
    remove_stale();

    let topo = Topology::build("rr")?;
    let _server = Server::start(
        &topo.server,
        SERVER.addr,
        &[args.port],
        args.cpu,
        ServerKind::Echo,
    )?;
    let pins = ScratchDir::new(format!("/sys/fs/bpf/{}", unique_name("rr")));
    let mut config = DatapathConfig::new(pins.path());
    config.policy_verdicts = true;
    config.trace_new_flows = true;
    let mut dp = Datapath::load(&config).context("loading the datapath")?;
    program_endpoints(&dp, &topo, args.port)?;
    // The same programs with events off, in an instance of their own.
    let quiet_pins = ScratchDir::new(format!("/sys/fs/bpf/{}", unique_name("rrq")));
    let mut quiet_config = DatapathConfig::new(quiet_pins.path());
    quiet_config.policy_verdicts = false;
    quiet_config.trace_new_flows = false;
    let quiet = Datapath::load(&quiet_config).context("loading the quiet datapath")?;
    program_endpoints(&quiet, &topo, args.port)?;

    // Read the events ring buffer on the other CPU while the runs go on, into the flow
    // pipeline (decoder thread, metrics, ring), as an agent would.
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(AtomicU64::new(0));
    let mut ring = dp.take_events().context("events ring buffer")?;
    let drain_cpu = if args.cpu == 0 { 1 } else { 0 };
    let observer = Observer::new(4095);
    let drainer = {
        let (stop, events) = (Arc::clone(&stop), Arc::clone(&events));
        let observer = Arc::clone(&observer);
        std::thread::spawn(move || {
            let _ = pin_to_cpu(drain_cpu);
            let mut registry = prometheus_client::registry::Registry::default();
            let sinks: Vec<Arc<dyn FlowSink>> =
                vec![Arc::new(HubbleMetrics::register(&mut registry))];
            let ingest = Ingest::start(
                observer,
                Parser::new("bench", 0, 1),
                NoLookups,
                sinks,
                16_384,
            );
            while !stop.load(Ordering::Relaxed) {
                while let Some(item) = ring.next() {
                    if let Ok(e) = Event::parse(&item) {
                        ingest.offer(e);
                    }
                    events.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            ingest.shutdown();
        })
    };

    let (mut plain, mut ours, mut silent) = (Vec::new(), Vec::new(), Vec::new());
    let mut through = Vec::new();
    for run in 0..args.runs {
        // Rotate the order so no configuration always runs first.
        for k in 0..3 {
            check_interrupted()?;
            match (run + k) % 3 {
                0 => {
                    let tps = rr(&topo, &args)?;
                    eprintln!("run {}: no programs {tps:.0} tx/s", run + 1);
                    plain.push(tps);
                }
                1 => {
                    let attached = attach(&dp, &topo)?;
                    let before = forwarded(&dp)?;
                    let tps = rr(&topo, &args);
                    let after = forwarded(&dp)?;
                    detach(&dp, &attached)?;
                    let tps = tps?;
                    eprintln!("run {}: events on   {tps:.0} tx/s", run + 1);
                    ours.push(tps);
                    through.push((after - before) as f64 / (tps * args.seconds));
                }
                _ => {
                    let attached = attach(&quiet, &topo)?;
                    let tps = rr(&topo, &args);
                    detach(&quiet, &attached)?;
                    let tps = tps?;
                    eprintln!("run {}: events off  {tps:.0} tx/s", run + 1);
                    silent.push(tps);
                }
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = drainer.join();
    let flows = observer.status().seen_flows;
    let events_vs_quiet: Vec<f64> = ours.iter().zip(&silent).map(|(o, q)| o / q).collect();

    let (a, b) = (median(&plain), median(&ours));
    // Each round measured both sides back to back: the ratio within a round is what the
    // machine's drift between rounds does not move.
    let paired: Vec<f64> = ours.iter().zip(&plain).map(|(o, p)| o / p).collect();
    let mut table = Table::new(&["datapath", "tx/s (median)", "runs", "ratio"]);
    table.row(vec![
        "no programs".into(),
        num(a, 0),
        plain.len().to_string(),
        ratio(1.0),
    ]);
    table.row(vec![
        "ours: endpoint programs, allow policy, conntrack, events on (flow pipeline)".into(),
        num(b, 0),
        ours.len().to_string(),
        ratio(b / a),
    ]);
    let c = median(&silent);
    table.row(vec![
        "ours: same programs, events off".into(),
        num(c, 0),
        silent.len().to_string(),
        ratio(c / a),
    ]);
    println!(
        "tcp-rr {}: 1-byte request/response, {} s per run, client and server on CPU {}",
        today_utc(),
        args.seconds,
        args.cpu
    );
    print!("{}", table.render());
    println!(
        "ratio within each round: {} (median {})",
        paired
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(", "),
        ratio(median(&paired))
    );
    println!(
        "events on / events off within each round: {} (median {})",
        events_vs_quiet
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(", "),
        ratio(median(&events_vs_quiet))
    );
    println!(
        "program passes per transaction (median): {:.2} (4 expected: 2 packets, each through 2 veths' programs); events read: {}, flows written: {flows}",
        median(&through),
        events.load(Ordering::Relaxed)
    );
    println!(
        "{}",
        json!({
            "bench": "tcp-rr",
            "date": today_utc(),
            "seconds": args.seconds,
            "cpu": args.cpu,
            "no_programs_tps": plain,
            "ours_tps": ours,
            "no_programs_median": a,
            "ours_median": b,
            "ratio": b / a,
            "paired_ratios": paired,
            "paired_ratio_median": median(&paired),
            "events_off_tps": silent,
            "events_off_median": c,
            "events_on_vs_off": events_vs_quiet,
            "events_on_vs_off_median": median(&events_vs_quiet),
            "flows": flows,
        })
    );
    dp.teardown().context("datapath teardown")?;
    quiet.teardown().context("quiet datapath teardown")?;
    Ok(())
}
