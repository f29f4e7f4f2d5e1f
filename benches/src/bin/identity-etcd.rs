//! System benchmark: new identities per second with several allocators sharing one real
//! etcd, and the number of duplicates (must be 0). Starts its own etcd (Debian's
//! `etcd-server`) on loopback and removes it afterwards.
//!
//! ```text
//! cargo run --release -p cilium-benches --bin identity-etcd -- [--identities N]
//!     [--allocators A] [--in-flight F] [--data-base DIR]
//! ```
//!
//! Two runs on a fresh etcd each: `disjoint` (every allocator creates its own label sets)
//! and `overlapping` (every label set is wanted by two allocators at once, so they race).
//! The in-memory allocator's rate on the same label sets is printed for comparison.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cilium_core::{LabelSet, NumericIdentity};
use cilium_identity::etcd::{EtcdAllocator, EtcdOptions, LocalEtcd};
use cilium_identity::{Allocator, AllocatorConfig, UserId};

struct Args {
    identities: usize,
    allocators: usize,
    in_flight: usize,
    data_base: PathBuf,
}

fn parse_args() -> Result<Args> {
    let shm = PathBuf::from("/dev/shm");
    let mut args = Args {
        identities: 30_000,
        allocators: 3,
        in_flight: 64,
        data_base: if shm.is_dir() {
            shm
        } else {
            std::env::temp_dir()
        },
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--identities" => args.identities = value()?.parse()?,
            "--allocators" => args.allocators = value()?.parse()?,
            "--in-flight" => args.in_flight = value()?.parse()?,
            "--data-base" => args.data_base = PathBuf::from(value()?),
            other => bail!("unknown argument {other}"),
        }
    }
    if args.allocators == 0 || args.in_flight == 0 {
        bail!("--allocators and --in-flight must be at least 1");
    }
    Ok(args)
}

fn labels(i: usize) -> LabelSet {
    LabelSet::parse_list(&[
        format!("k8s:app=svc-{i}"),
        format!("k8s:io.kubernetes.pod.namespace=ns-{}", i % 50),
    ])
}

struct RunResult {
    seconds: f64,
    created: usize,
    requests: usize,
    duplicates: usize,
    conflicts: u64,
}

/// Allocates, on every allocator, the sets `wanted(a)` with `in_flight` requests each.
async fn run(args: &Args, wanted: impl Fn(usize) -> Vec<usize>) -> Result<RunResult> {
    let etcd = LocalEtcd::start_in(&args.data_base).context("starting etcd")?;
    let endpoint = etcd.endpoint();
    let mut nodes = Vec::new();
    for n in 0..args.allocators {
        let alloc = EtcdAllocator::connect(
            &[endpoint.as_str()],
            AllocatorConfig::new(0)?,
            EtcdOptions::new(format!("bench-node-{n}")),
        )
        .await?;
        nodes.push(Arc::new(alloc));
    }
    let start = Instant::now();
    let mut handles = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        let queue = Arc::new(Mutex::new(wanted(n)));
        for _ in 0..args.in_flight {
            let (node, queue) = (node.clone(), queue.clone());
            handles.push(tokio::spawn(async move {
                let user = UserId::new("bench")?;
                let mut got = Vec::new();
                loop {
                    let next = queue.lock().expect("queue lock").pop();
                    let Some(set) = next else { break };
                    let a = node.allocate(&labels(set), &user).await?;
                    got.push((n, set, a.id, a.is_new));
                }
                anyhow::Ok(got)
            }));
        }
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await??);
    }
    let seconds = start.elapsed().as_secs_f64();
    // Duplicates: a set with two identities, or an identity with two sets.
    let mut by_set: HashMap<usize, NumericIdentity> = HashMap::new();
    let mut by_id: BTreeMap<NumericIdentity, usize> = BTreeMap::new();
    let mut duplicates = 0;
    for (_, set, id, _) in &all {
        if *by_set.entry(*set).or_insert(*id) != *id {
            duplicates += 1;
        }
        if *by_id.entry(*id).or_insert(*set) != *set {
            duplicates += 1;
        }
    }
    let created = all.iter().filter(|(_, _, _, new)| *new).count();
    if created != by_set.len() {
        duplicates += created.abs_diff(by_set.len());
    }
    let conflicts = nodes.iter().map(|n| n.conflicts()).sum();
    drop(nodes);
    drop(etcd);
    Ok(RunResult {
        seconds,
        created,
        requests: all.len(),
        duplicates,
        conflicts,
    })
}

fn in_memory_rate(n: usize) -> Result<f64> {
    let sets: Vec<LabelSet> = (0..n).map(labels).collect();
    let mut alloc = Allocator::new(AllocatorConfig::new(0)?);
    let user = UserId::new("bench")?;
    let start = Instant::now();
    for set in &sets {
        alloc.allocate(set, &user, Duration::ZERO)?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let n = args.identities;
    let a = args.allocators;
    println!(
        "identity-etcd: {n} label sets, {a} allocators x {} requests in flight, etcd data under {}",
        args.in_flight,
        args.data_base.display()
    );
    let disjoint = rt.block_on(run(&args, |node| {
        (0..n).filter(|s| s % a == node).collect()
    }))?;
    let overlapping = rt.block_on(run(&args, |node| {
        // Every set is wanted by two allocators (with one allocator, by that one).
        (0..n).rev().filter(|s| a == 1 || s % a != node).collect()
    }))?;
    let memory = in_memory_rate(n.min(65_000))?;
    println!();
    println!(
        "| run | requests | new identities | seconds | new identities/s | races lost | duplicates |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, r) in [("disjoint", &disjoint), ("overlapping", &overlapping)] {
        println!(
            "| etcd, {a} allocators, {name} | {} | {} | {:.2} | {:.0} | {} | {} |",
            r.requests,
            r.created,
            r.seconds,
            r.created as f64 / r.seconds,
            r.conflicts,
            r.duplicates
        );
    }
    println!(
        "| in-memory, 1 allocator | {} | {} | - | {memory:.0} | - | 0 |",
        n.min(65_000),
        n.min(65_000)
    );
    if disjoint.duplicates + overlapping.duplicates > 0 {
        bail!("duplicates found");
    }
    Ok(())
}
