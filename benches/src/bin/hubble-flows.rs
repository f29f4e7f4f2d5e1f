//! Flow pipeline throughput and loss: how many datapath event records per second one CPU
//! turns into Hubble flows (decode + enrichment lookups), filters and writes into the ring,
//! and how many events the observer loses when they are offered at a given rate. Pure user
//! space, no root needed.
//!
//! ```text
//! hubble-flows [--seconds S] [--rates 10000,100000,1000000] [--queue Q] [--cpu C] [--json]
//! ```
//!
//! - Input: 4096 distinct raw records in the datapath's ABI (`cil_drop_event`,
//!   `cil_trace_event`, `cil_policy_verdict_event`; 30 % / 40 % / 30 %) between 512 pods in
//!   `10.0.0.0/16`, TCP and UDP, cycled. Lookups: every pod's namespace, name, labels and
//!   identity from a hash map (the enrichment an agent does).
//! - Filter: what `hubble observe --pod default/web- --verdict DROPPED --not --port 53`
//!   sends: two allowlist filters (source pod, destination pod, each with the verdict) and a
//!   denylist filter (port 53).
//! - Throughput stages, each for `S` seconds (default 2) on one thread pinned to `--cpu`
//!   (default 1): `decode` (`Parser::parse_bytes`), `decode+filter` (plus
//!   `FlowFilterSet::matches`), `decode+filter+ring` (plus `Observer::push_flow` of the flows
//!   that pass). Reported as records per second; the goal is ≥ 1M/s for decode+filter.
//! - Loss: a producer thread offers records to `Ingest` (queue `Q`, default 16384, like
//!   Hubble's events queue) at each rate for `S` seconds, paced every 1 ms; the decoder
//!   thread does the full work (decode, enrichment, a metrics sink, ring). Reported: offered,
//!   lost at the queue (`OBSERVER_EVENTS_QUEUE`), and flows written. The datapath's own ring
//!   buffer is not in this measurement (its losses are counted separately, in the datapath).

use std::collections::HashMap;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cilium_benches::report::{Table, num, today_utc};
use cilium_benches::sys::pin_to_cpu;
use cilium_hubble::filter::FlowFilterSet;
use cilium_hubble::metrics::HubbleMetrics;
use cilium_hubble::observer::{FlowSink, Ingest, Observer};
use cilium_hubble::parser::{EndpointInfo, Lookups, Parser};
use cilium_hubble::proto::flow::{FlowFilter, Verdict};
use cilium_maps::abi::{
    Be16, DropEvent, EventHdr, PolicyVerdictEvent, TraceEvent, Tuple, consts::*, encode_addr,
};
use cilium_maps::events::Event;
use serde_json::json;

const PODS: u32 = 512;
const RECORDS: usize = 4096;

struct Opts {
    seconds: f64,
    rates: Vec<u64>,
    queue: usize,
    cpu: Option<usize>,
    json: bool,
}

fn parse_opts() -> Result<Opts> {
    let mut o = Opts {
        seconds: 2.0,
        rates: vec![10_000, 100_000, 1_000_000],
        queue: 16_384,
        cpu: Some(1),
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seconds" => o.seconds = val()?.parse().context("--seconds")?,
            "--rates" => {
                o.rates = val()?
                    .split(',')
                    .map(|s| s.parse().context("--rates"))
                    .collect::<Result<_>>()?;
            }
            "--queue" => o.queue = val()?.parse().context("--queue")?,
            "--cpu" => {
                let v = val()?;
                o.cpu = if v == "none" {
                    None
                } else {
                    Some(v.parse().context("--cpu")?)
                };
            }
            "--json" => o.json = true,
            other => bail!("unknown argument {other:?}"),
        }
    }
    Ok(o)
}

fn pod_ip(i: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x0A00_0000 + 2 + i * 7))
}

struct Pods(HashMap<IpAddr, EndpointInfo>);

impl Lookups for Pods {
    fn endpoint_by_ip(&self, ip: IpAddr) -> Option<EndpointInfo> {
        self.0.get(&ip).cloned()
    }
}

fn pods() -> Pods {
    Pods(
        (0..PODS)
            .map(|i| {
                let app = if i % 4 == 0 { "web" } else { "api" };
                (
                    pod_ip(i),
                    EndpointInfo {
                        id: i + 1,
                        identity: 10_000 + i % 64,
                        namespace: if i % 8 == 0 { "kube-system" } else { "default" }.into(),
                        pod_name: format!("{app}-{i:04}"),
                        labels: vec![format!("k8s:app={app}"), "k8s:tier=backend".into()],
                        workloads: vec![],
                    },
                )
            })
            .collect(),
    )
}

fn records() -> Vec<Vec<u8>> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    (0..RECORDS)
        .map(|i| {
            let r = next();
            let src = pod_ip((r % u64::from(PODS)) as u32);
            let dst = pod_ip(((r >> 16) % u64::from(PODS)) as u32);
            let (saddr, family) = encode_addr(src);
            let (daddr, _) = encode_addr(dst);
            let udp = r >> 40 & 3 == 0;
            let tuple = Tuple {
                saddr,
                daddr,
                sport: Be16::new(30_000 + (r >> 24) as u16 % 30_000),
                dport: Be16::new(if udp {
                    53
                } else {
                    [80, 443, 8080][(r >> 50) as usize % 3]
                }),
                protocol: if udp { 17 } else { 6 },
                family,
                pad: [0; 2],
            };
            let hdr = |ty: u8, sub: u8| EventHdr {
                r#type: ty,
                subtype: sub,
                endpoint_id: (1 + r % u64::from(PODS)) as u16,
                orig_len: 74,
                ktime_ns: 1_000_000_000 + i as u64 * 1000,
            };
            match i % 10 {
                0..=2 => {
                    let mut e: DropEvent = bytemuck::Zeroable::zeroed();
                    e.hdr = hdr(CIL_EVENT_DROP, CIL_DROP_POLICY);
                    e.tuple = tuple;
                    e.src_identity = 10_000;
                    e.dst_identity = 10_001;
                    e.direction = CIL_DIR_EGRESS;
                    e.tcp_flags = 0x02;
                    bytemuck::bytes_of(&e).to_vec()
                }
                3..=6 => {
                    let mut e: TraceEvent = bytemuck::Zeroable::zeroed();
                    e.hdr = hdr(CIL_EVENT_TRACE, CIL_TRACE_TO_ENDPOINT);
                    e.tuple = tuple;
                    e.src_identity = 10_002;
                    e.dst_identity = 10_003;
                    e.direction = CIL_DIR_INGRESS;
                    e.tcp_flags = 0x12;
                    e.reason = CIL_TRACE_REASON_NEW;
                    bytemuck::bytes_of(&e).to_vec()
                }
                _ => {
                    let mut e: PolicyVerdictEvent = bytemuck::Zeroable::zeroed();
                    e.hdr = hdr(CIL_EVENT_POLICY_VERDICT, 0);
                    e.tuple = tuple;
                    e.remote_identity = 10_004;
                    e.direction = CIL_DIR_INGRESS;
                    e.match_type = CIL_POLICY_MATCH_L3_L4;
                    bytemuck::bytes_of(&e).to_vec()
                }
            }
        })
        .collect()
}

fn filters() -> Result<FlowFilterSet> {
    let dropped = vec![Verdict::Dropped as i32];
    let allow = [
        FlowFilter {
            source_pod: vec!["default/web-".into()],
            verdict: dropped.clone(),
            ..FlowFilter::default()
        },
        FlowFilter {
            destination_pod: vec!["default/web-".into()],
            verdict: dropped,
            ..FlowFilter::default()
        },
    ];
    let deny = [FlowFilter {
        destination_port: vec!["53".into()],
        ..FlowFilter::default()
    }];
    FlowFilterSet::new(&allow, &deny).context("filters")
}

/// Records per second of `step` run over the records for `seconds`.
fn throughput(records: &[Vec<u8>], seconds: f64, mut step: impl FnMut(&[u8])) -> f64 {
    // Warm up once over the set.
    for r in records {
        step(r);
    }
    let budget = Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for r in records {
            step(r);
        }
        n += records.len() as u64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

struct Loss {
    rate: u64,
    offered: u64,
    lost: u64,
    written: u64,
    achieved: f64,
}

fn loss_at(rate: u64, seconds: f64, queue: usize, events: &[Event]) -> Loss {
    let observer = Observer::new(4095);
    let mut registry = prometheus_client::registry::Registry::default();
    let sinks: Vec<Arc<dyn FlowSink>> = vec![Arc::new(HubbleMetrics::register(&mut registry))];
    let ingest = Ingest::start(
        Arc::clone(&observer),
        Parser::new("bench", 0, 1),
        pods(),
        sinks,
        queue,
    );
    let tick = Duration::from_millis(1);
    let per_tick = rate as f64 / 1000.0;
    let start = Instant::now();
    let end = Duration::from_secs_f64(seconds);
    let (mut offered, mut due, mut i) = (0u64, 0f64, 0usize);
    let mut next_tick = start;
    while start.elapsed() < end {
        due += per_tick;
        while (offered as f64) < due {
            ingest.offer(events[i]);
            i = (i + 1) % events.len();
            offered += 1;
        }
        next_tick += tick;
        let now = Instant::now();
        if next_tick > now {
            std::thread::sleep(next_tick - now);
        }
    }
    let achieved = offered as f64 / start.elapsed().as_secs_f64();
    ingest.shutdown();
    let lost = observer.lost().events_queue;
    Loss {
        rate,
        offered,
        lost,
        written: observer.status().seen_flows,
        achieved,
    }
}

fn main() -> Result<()> {
    let o = parse_opts()?;
    let recs = records();
    // Loss first, unpinned: the producer and the decoder thread each get a CPU.
    let events: Vec<Event> = recs
        .iter()
        .map(|r| Event::parse(r).expect("decode"))
        .collect();
    let losses: Vec<Loss> = o
        .rates
        .iter()
        .map(|&rate| loss_at(rate, o.seconds, o.queue, &events))
        .collect();
    if let Some(cpu) = o.cpu {
        pin_to_cpu(cpu).with_context(|| format!("pin to CPU {cpu}"))?;
    }
    let lookups = pods();
    let parser = Parser::new("bench", 0, 1);
    let set = filters()?;
    let observer = Observer::new(4095);

    let decode = throughput(&recs, o.seconds, |r| {
        black_box(parser.parse_bytes(r, &lookups).expect("decode"));
    });
    let mut passed = 0u64;
    let filter = throughput(&recs, o.seconds, |r| {
        let f = parser.parse_bytes(r, &lookups).expect("decode");
        passed += u64::from(set.matches(&f));
    });
    let ring = throughput(&recs, o.seconds, |r| {
        let f = parser.parse_bytes(r, &lookups).expect("decode");
        if set.matches(&f) {
            observer.push_flow(f);
        }
    });
    let per_pass = recs
        .iter()
        .filter(|r| set.matches(&parser.parse_bytes(r, &lookups).expect("decode")))
        .count();
    if per_pass == 0 || per_pass == recs.len() {
        bail!(
            "the filter passes {per_pass} of {} records: not a real filter workload",
            recs.len()
        );
    }
    black_box(passed);

    println!(
        "hubble-flows, {} ({} records, {} pass the filter; one thread{})\n",
        today_utc(),
        recs.len(),
        per_pass,
        o.cpu.map(|c| format!(" on CPU {c}")).unwrap_or_default()
    );
    let mut t = Table::new(&["stage", "records/s"]);
    t.row(vec!["decode".into(), num(decode, 0)]);
    t.row(vec!["decode+filter".into(), num(filter, 0)]);
    t.row(vec!["decode+filter+ring".into(), num(ring, 0)]);
    println!("{}", t.render());
    let mut t = Table::new(&[
        "offered/s",
        "achieved/s",
        "offered",
        "lost (queue)",
        "flows written",
    ]);
    for l in &losses {
        t.row(vec![
            l.rate.to_string(),
            num(l.achieved, 0),
            l.offered.to_string(),
            l.lost.to_string(),
            l.written.to_string(),
        ]);
    }
    println!("{}", t.render());
    if o.json {
        println!(
            "{}",
            json!({
                "bench": "hubble-flows",
                "decode_per_s": decode,
                "decode_filter_per_s": filter,
                "decode_filter_ring_per_s": ring,
                "loss": losses.iter().map(|l| json!({
                    "rate": l.rate, "achieved": l.achieved, "offered": l.offered,
                    "lost": l.lost, "written": l.written,
                })).collect::<Vec<_>>(),
            })
        );
    }
    Ok(())
}
