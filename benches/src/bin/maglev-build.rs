//! Maglev table build: time, extra memory, balance and disruption of
//! `cilium_lb::maglev::build_table` and, in the same run, of a straightforward reference
//! implementation of the same algorithm (written here), with ours/reference ratios. Pure
//! computation, no root needed.
//!
//! ```text
//! maglev-build [--sizes 251,16381,65521,131071] [--backends 10,100,1000]
//!     [--budget-ms B] [--min-reps R] [--max-reps X] [--cpu C] [--json]
//! ```
//!
//! - Backends: `10.0.x.y:8080/TCP`, the `i`-th one at `10.0.0.0 + i + 1`, id `i`, weight 1;
//!   default seed. Everything is deterministic.
//! - Time: single thread (pinned to `--cpu`, default 1; `--cpu none` to leave it free), wall
//!   time of one whole build (hash strings, sort, permutations, fill). Each implementation
//!   gets `clamp(B / (time of a first build), R, X)` timed builds (defaults 1000 ms, 21,
//!   2001), in 5 blocks where ours and the reference take turns, each block after an untimed
//!   build; median and p99 (nearest rank).
//! - Extra memory: a counting global allocator; for one build, the peak of live heap bytes
//!   minus the live bytes before the call, so it includes the returned `M × 4`-byte table.
//! - Balance: the most slots any backend owns, divided by the mean `M / N`.
//! - Disruption: the share of the `M` slots whose backend differs between the table of the `N`
//!   backends and the table without the middle one (index `N / 2`). The ideal is `1 / N`:
//!   only the removed backend's own slots. Also the mean of that share over 10 removals, one
//!   at a time, of backends spread evenly over the list (indices `(2k + 1) N / 20`).
//! - The reference is the textbook shape: per backend `offset = h1 % M`,
//!   `skip = h2 % (M - 1) + 1` from MurmurHash3 x64_128 of its hash string
//!   (`cilium_lb::murmur3::hash128`, `MaglevBackend::hash_string`), the whole `N × M`
//!   permutation array (`u32` entries) filled up front, then the round-robin fill over
//!   backends sorted by hash string. The binary checks that it yields the same table as ours
//!   for every (M, N) and every removal, and fails if not.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use cilium_benches::report::{Table, num, percentile, ratio, today_utc};
use cilium_benches::sys::pin_to_cpu;
use cilium_core::Protocol;
use cilium_lb::maglev::{MaglevBackend, MaglevConfig, SUPPORTED_TABLE_SIZES, build_table};
use cilium_lb::murmur3;
use serde_json::json;

/// The global allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl Counting {
    fn add(size: usize) {
        let now = LIVE.fetch_add(size, Ordering::Relaxed) + size;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded to `System` with the same arguments; the counters only
// observe sizes and never affect the allocations.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            Counting::add(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            Counting::add(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (so by `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract, which `System` shares.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as the new block arriving before the old one leaves (a moving realloc
            // holds both for a moment).
            Counting::add(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Peak live heap bytes above the live bytes at the call, while `f` runs, and its result.
fn peak_extra<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (PEAK.load(Ordering::Relaxed) - base, out)
}

struct Args {
    sizes: Vec<u32>,
    backends: Vec<usize>,
    budget_ms: f64,
    min_reps: usize,
    max_reps: usize,
    cpu: Option<usize>,
    json: bool,
}

fn list<T: std::str::FromStr>(flag: &str, s: &str) -> Result<Vec<T>>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    s.split(',')
        .map(|v| {
            v.trim()
                .parse::<T>()
                .with_context(|| format!("{flag}: {v:?}"))
        })
        .collect()
}

fn parse_args() -> Result<Args> {
    let mut args = Args {
        sizes: vec![251, 16_381, 65_521, 131_071],
        backends: vec![10, 100, 1000],
        budget_ms: 1000.0,
        min_reps: 21,
        max_reps: 2001,
        cpu: Some(1),
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--json" {
            args.json = true;
            continue;
        }
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--sizes" => args.sizes = list(&flag, &value()?)?,
            "--backends" => args.backends = list(&flag, &value()?)?,
            "--budget-ms" => args.budget_ms = value()?.parse().context("--budget-ms")?,
            "--min-reps" => args.min_reps = value()?.parse().context("--min-reps")?,
            "--max-reps" => args.max_reps = value()?.parse().context("--max-reps")?,
            "--cpu" => {
                let v = value()?;
                args.cpu = if v == "none" {
                    None
                } else {
                    Some(v.parse().context("--cpu")?)
                };
            }
            other => bail!("unknown argument {other}"),
        }
    }
    if let Some(bad) = args
        .sizes
        .iter()
        .find(|m| !SUPPORTED_TABLE_SIZES.contains(m))
    {
        bail!("--sizes: {bad} is not one of {SUPPORTED_TABLE_SIZES:?}");
    }
    if args.backends.iter().any(|&n| !(2..=65_000).contains(&n)) {
        bail!("--backends: each in 2..=65000 (one is removed, addresses are 10.0.x.y)");
    }
    if args.min_reps == 0 || args.max_reps < args.min_reps || args.budget_ms.is_nan() {
        bail!("--min-reps must be at least 1 and at most --max-reps; --budget-ms a number");
    }
    Ok(args)
}

/// `n` backends `10.0.x.y:8080/TCP` (the `i`-th at `10.0.0.0 + i + 1`), ids `0..n`, weight 1.
fn bench_backends(n: usize) -> Vec<MaglevBackend> {
    (0..n)
        .map(|i| {
            let addr = Ipv4Addr::from(0x0a00_0000 + i as u32 + 1);
            MaglevBackend::new(i as u32, addr.into(), 8080, Protocol::Tcp)
        })
        .collect()
}

/// The reference: Maglev as the paper (and Cilium's `pkg/maglev`) describes it, without
/// tricks. Unweighted: every backend of non-zero weight counts once.
fn reference_table(config: &MaglevConfig, backends: &[MaglevBackend]) -> Vec<u32> {
    const EMPTY: u32 = u32::MAX;
    let m = config.table_size() as usize;
    let seed = config.seed_murmur();

    // Backends in the order of their hash strings: the round robin's turn order.
    let mut named: Vec<(String, u32)> = backends
        .iter()
        .filter(|b| b.weight > 0)
        .map(|b| (b.hash_string(), b.id))
        .collect();
    named.sort();
    let n = named.len();
    if n == 0 {
        return Vec::new();
    }

    // permutation[i * m + j]: the j-th preferred slot of backend i.
    let mut permutation = vec![0u32; n * m];
    for (i, (name, _)) in named.iter().enumerate() {
        let (h1, h2) = murmur3::hash128(name.as_bytes(), seed);
        let offset = h1 % m as u64;
        let skip = h2 % (m as u64 - 1) + 1;
        let row = &mut permutation[i * m..(i + 1) * m];
        for (j, p) in row.iter_mut().enumerate() {
            *p = ((offset + j as u64 * skip) % m as u64) as u32;
        }
    }

    // Round robin: each backend in turn takes its next preferred slot still free.
    let mut next = vec![0usize; n];
    let mut entry = vec![EMPTY; m];
    let mut filled = 0;
    'fill: loop {
        for i in 0..n {
            let mut c = permutation[i * m + next[i]] as usize;
            while entry[c] != EMPTY {
                next[i] += 1;
                c = permutation[i * m + next[i]] as usize;
            }
            entry[c] = i as u32;
            next[i] += 1;
            filled += 1;
            if filled == m {
                break 'fill;
            }
        }
    }
    // Backend index to backend id.
    for e in &mut entry {
        *e = named[*e as usize].1;
    }
    entry
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Impl {
    Ours,
    Reference,
}

impl Impl {
    fn name(self) -> &'static str {
        match self {
            Impl::Ours => "ours",
            Impl::Reference => "reference",
        }
    }

    fn build(self, config: &MaglevConfig, backends: &[MaglevBackend]) -> Vec<u32> {
        match self {
            Impl::Ours => build_table(config, backends).expect("bench backends are valid"),
            Impl::Reference => reference_table(config, backends),
        }
    }
}

/// What one implementation did for one (M, N).
struct Measured {
    times_ns: Vec<u64>,
    extra_bytes: usize,
    table: Vec<u32>,
    /// The table without the middle backend.
    without_middle: Vec<u32>,
    /// The tables without each of the backends of [`removals`].
    without_each: Vec<Vec<u32>>,
}

impl Measured {
    fn median_ms(&self) -> f64 {
        percentile(&self.times_ns, 50.0) as f64 / 1e6
    }

    fn p99_ms(&self) -> f64 {
        percentile(&self.times_ns, 99.0) as f64 / 1e6
    }

    /// Most slots of one backend over the mean `M / N`.
    fn balance(&self, n: usize) -> f64 {
        let mut counts = vec![0usize; n];
        for &id in &self.table {
            counts[id as usize] += 1;
        }
        let max = counts.iter().copied().max().unwrap_or(0);
        max as f64 / (self.table.len() as f64 / n as f64)
    }

    /// Percent of slots whose backend changed when the middle backend went.
    fn moved_percent(&self) -> f64 {
        moved_percent(&self.table, &self.without_middle)
    }

    /// The mean of that percentage over the removals of [`removals`].
    fn moved_mean_percent(&self) -> f64 {
        let sum: f64 = self
            .without_each
            .iter()
            .map(|t| moved_percent(&self.table, t))
            .sum();
        sum / self.without_each.len() as f64
    }
}

/// Percent of the slots of `before` that hold another backend in `after`.
fn moved_percent(before: &[u32], after: &[u32]) -> f64 {
    let moved = before.iter().zip(after).filter(|(a, b)| a != b).count();
    100.0 * moved as f64 / before.len() as f64
}

/// The backends removed one at a time for the mean disruption: up to 10, evenly spread
/// (indices `(2k + 1) N / 20`).
fn removals(n: usize) -> Vec<usize> {
    let r = n.min(10);
    (0..r).map(|k| (2 * k + 1) * n / (2 * r)).collect()
}

fn time_one(which: Impl, config: &MaglevConfig, backends: &[MaglevBackend]) -> u64 {
    let start = Instant::now();
    let table = which.build(black_box(config), black_box(backends));
    let ns = start.elapsed().as_nanos() as u64;
    black_box(&table);
    drop(table);
    ns
}

/// Blocks the timed builds of one (M, N) are split into.
const BLOCKS: usize = 5;

/// Everything for one (M, N): memory and tables first, then the timed builds, alternating.
fn measure(args: &Args, m: u32, n: usize) -> [Measured; 2] {
    let config = MaglevConfig::new(m, None).expect("size checked");
    let backends = bench_backends(n);
    let mut without = backends.clone();
    without.remove(n / 2);

    let impls = [Impl::Ours, Impl::Reference];
    let mut out = impls.map(|which| {
        let (extra_bytes, table) = peak_extra(|| which.build(&config, &backends));
        let without_middle = which.build(&config, &without);
        let without_each = removals(n)
            .into_iter()
            .map(|r| {
                let mut fewer = backends.clone();
                fewer.remove(r);
                which.build(&config, &fewer)
            })
            .collect();
        Measured {
            times_ns: Vec::new(),
            extra_bytes,
            table,
            without_middle,
            without_each,
        }
    });

    // A first build each sets the number of timed builds. They run in `BLOCKS` blocks, the
    // two implementations taking turns (which goes first alternates); each block starts
    // with an untimed build, so neither is timed on caches the other just used.
    let reps = impls.map(|which| {
        let first_ns = time_one(which, &config, &backends).max(1) as f64;
        ((args.budget_ms * 1e6 / first_ns) as usize).clamp(args.min_reps, args.max_reps)
    });
    for block in 0..BLOCKS {
        for turn in 0..impls.len() {
            let k = (block + turn) % impls.len();
            let which = impls[k];
            let count = reps[k] * (block + 1) / BLOCKS - reps[k] * block / BLOCKS;
            black_box(which.build(&config, &backends));
            for _ in 0..count {
                out[k].times_ns.push(time_one(which, &config, &backends));
            }
        }
    }
    for o in &mut out {
        o.times_ns.sort_unstable();
    }
    out
}

fn kib(bytes: usize) -> String {
    num(bytes as f64 / 1024.0, 1)
}

fn main() -> Result<()> {
    let args = parse_args()?;
    if let Some(cpu) = args.cpu {
        pin_to_cpu(cpu)?;
    }

    let mut time_table = Table::new(&[
        "M",
        "N",
        "ours median ms",
        "ours p99 ms",
        "ref median ms",
        "ref p99 ms",
        "time ours/ref",
        "timed builds (ours / ref)",
        "ours extra KiB",
        "ref extra KiB",
        "memory ours/ref",
    ]);
    let mut quality_table = Table::new(&[
        "M",
        "N",
        "ours max/avg",
        "ref max/avg",
        "ours moved %",
        "ref moved %",
        "moved ours/ref",
        "ideal moved %",
        "ours moved %, mean of 10",
        "same tables",
    ]);
    let mut rows = Vec::new();
    let mut all_same = true;

    for &m in &args.sizes {
        for &n in &args.backends {
            eprintln!("M={m} N={n}");
            let [ours, reference] = measure(&args, m, n);
            let same = ours.table == reference.table
                && ours.without_middle == reference.without_middle
                && ours.without_each == reference.without_each;
            all_same &= same;
            if !same {
                let first = ours
                    .table
                    .iter()
                    .zip(&reference.table)
                    .position(|(a, b)| a != b);
                eprintln!("M={m} N={n}: tables differ (first differing slot {first:?})");
            }

            let (t_ours, t_ref) = (ours.median_ms(), reference.median_ms());
            let time_ratio = t_ours / t_ref;
            let mem_ratio = ours.extra_bytes as f64 / reference.extra_bytes as f64;
            let (mv_ours, mv_ref) = (ours.moved_percent(), reference.moved_percent());
            let (bal_ours, bal_ref) = (ours.balance(n), reference.balance(n));
            let ideal = 100.0 / n as f64;
            let decimals = |v: f64| if v < 1.0 { 4 } else { 3 };

            time_table.row(vec![
                m.to_string(),
                n.to_string(),
                num(t_ours, decimals(t_ours)),
                num(ours.p99_ms(), decimals(ours.p99_ms())),
                num(t_ref, decimals(t_ref)),
                num(reference.p99_ms(), decimals(reference.p99_ms())),
                format!("{time_ratio:.4}x"),
                format!("{} / {}", ours.times_ns.len(), reference.times_ns.len()),
                kib(ours.extra_bytes),
                kib(reference.extra_bytes),
                format!("{mem_ratio:.4}x"),
            ]);
            quality_table.row(vec![
                m.to_string(),
                n.to_string(),
                num(bal_ours, 4),
                num(bal_ref, 4),
                num(mv_ours, 2),
                num(mv_ref, 2),
                ratio(mv_ours / mv_ref),
                num(ideal, 2),
                num(ours.moved_mean_percent(), 2),
                if same { "yes" } else { "NO" }.to_owned(),
            ]);
            let side = |x: &Measured| {
                json!({
                    "median_ms": x.median_ms(),
                    "p99_ms": x.p99_ms(),
                    "timed_builds": x.times_ns.len(),
                    "extra_bytes": x.extra_bytes,
                    "max_over_avg": x.balance(n),
                    "moved_percent": x.moved_percent(),
                    "moved_mean_percent": x.moved_mean_percent(),
                })
            };
            rows.push(json!({
                "M": m,
                "N": n,
                Impl::Ours.name(): side(&ours),
                Impl::Reference.name(): side(&reference),
                "time_ours_over_ref": time_ratio,
                "memory_ours_over_ref": mem_ratio,
                "same_tables": same,
            }));
        }
    }

    println!(
        "maglev-build {}: one thread{}; backends 10.0.x.y:8080/TCP weight 1, default seed; \
         ref = straightforward reference with the full N x M permutation array",
        today_utc(),
        args.cpu.map_or(String::new(), |c| format!(" (CPU {c})")),
    );
    println!();
    print!("{}", time_table.render());
    println!();
    print!("{}", quality_table.render());
    if args.json {
        println!(
            "{}",
            json!({
                "bench": "maglev-build",
                "date": today_utc(),
                "budget_ms": args.budget_ms,
                "results": rows,
            })
        );
    }
    if !all_same {
        bail!("the reference and ours built different tables (see above)");
    }
    Ok(())
}
