//! System benchmark: DNS queries per second through a forwarder, ours (`cilium_l7::DnsProxy`
//! enforcing a DNS rule, learning every answer into its FQDN cache, writing L7 records)
//! against dnsmasq as a pure forwarder, both forwarding to the same upstream dnsmasq, in the
//! same run. Loopback only, no root needed.
//!
//! ```text
//! l7-dns [--seconds S] [--runs R] [--outstanding N] [--names K] [--forwarder-cpu C] [--load-cpu L]
//! ```
//!
//! Layout (2 CPUs): the forwarder under test — dnsmasq or ours, each a single-threaded
//! process — alone on CPU C (default 1); the upstream dnsmasq and the load generator on CPU
//! L (default 0). Each run measures, rotating the order:
//!
//! - `direct`: the load generator to the upstream itself (the ceiling of CPU L, printed so a
//!   forwarder that reaches it is seen to be limited by the other side);
//! - `dnsmasq`: a second dnsmasq, `--server=127.0.0.1#<upstream port> --no-resolv`, with its
//!   cache off (`--cache-size=0`) so it really forwards every query, and
//!   `--dns-forward-max` above N so it never drops for lack of slots;
//! - `ours`: this binary re-run as `l7-dns --serve-ours ...`: a `DnsProxy` on a
//!   current-thread tokio runtime in its own process, forwarding to the same upstream, policy
//!   from a real `PolicyEngine` (CiliumNetworkPolicy with `rules.dns: [{matchPattern:
//!   "*.example.test"}]`), upstream marks off (no `CAP_NET_ADMIN` needed), a record sink that
//!   counts, an FQDN updater that resolves at once; with its default shared upstream sockets;
//! - `ours, fresh socket per query`: the same with `udp_upstream_sockets = 0`, a new
//!   upstream socket (source port) per query — what dnsmasq does (its `socket`/`close` per
//!   forwarded query), so this row compares like with like.
//!
//! The load generator keeps N queries (default 64) outstanding over one UDP socket, each for
//! a distinct name `q<i>.example.test` out of K (default 65536, so no forwarder can merge
//! identical queries in flight), counts answers for S seconds (default 5) after a 0.5 s
//! warm-up, and treats a query unanswered after 1 s as lost (it is replaced). Also reported:
//! the forwarder's CPU time per answered query (from `/proc/<pid>/stat`), which does not
//! depend on which side is the bottleneck. The goal of the issue is ours ≥ 0.8× dnsmasq.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cilium_benches::report::{Table, median, num, ratio, today_utc};
use cilium_benches::sys::pin_to_cpu;
use cilium_core::{LabelSet, NumericIdentity};
use cilium_l7::dns_proxy::{DnsProxy, DnsProxyConfig, NoFqdnUpdates};
use cilium_l7::records::L7Record;
use cilium_l7::{LocalEndpoint, PolicySnapshot};
use cilium_policy::{EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};
use serde_json::json;

const DNSMASQ: &str = "/usr/sbin/dnsmasq";

struct Args {
    seconds: f64,
    runs: usize,
    outstanding: usize,
    names: usize,
    forwarder_cpu: usize,
    load_cpu: usize,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Args> {
    let mut a = Args {
        seconds: 5.0,
        runs: 3,
        outstanding: 64,
        names: 65_536,
        forwarder_cpu: 1,
        load_cpu: 0,
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--seconds" => a.seconds = value()?.parse().context("--seconds")?,
            "--runs" => a.runs = value()?.parse().context("--runs")?,
            "--outstanding" => a.outstanding = value()?.parse().context("--outstanding")?,
            "--names" => a.names = value()?.parse().context("--names")?,
            "--forwarder-cpu" => a.forwarder_cpu = value()?.parse().context("--forwarder-cpu")?,
            "--load-cpu" => a.load_cpu = value()?.parse().context("--load-cpu")?,
            other => bail!("unknown argument {other:?}"),
        }
    }
    if a.runs == 0 || a.seconds <= 0.0 || a.outstanding == 0 {
        bail!("--runs, --seconds and --outstanding must be positive");
    }
    if !(1..=65_536).contains(&a.names) || a.outstanding > a.names.min(30_000) {
        bail!("--names must be 1..=65536 and at least --outstanding (at most 30000)");
    }
    Ok(a)
}

// ---------------------------------------------------------------------------------------
// processes

/// A child process killed on drop.
struct Proc {
    child: Child,
    what: &'static str,
}

impl Proc {
    fn pid(&self) -> i32 {
        i32::try_from(self.child.id()).unwrap_or(0)
    }

    /// CPU time (user + system) the process used so far.
    fn cpu_time(&self) -> Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .with_context(|| format!("reading the CPU time of {}", self.what))?;
        // Fields after the command name (which is in parentheses and may hold spaces).
        let rest = stat
            .rsplit_once(')')
            .map(|(_, r)| r)
            .context("malformed /proc stat")?;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f[11].parse::<u64>()? + f[12].parse::<u64>()?;
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Ok(Duration::from_secs_f64(ticks as f64 / hz as f64))
    }

    fn pin(&self, cpu: usize) -> Result<()> {
        // SAFETY: cpu_set_t is a plain bit array; zeroed is its empty value.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: CPU_SET writes one bit of `set`, which we own.
        unsafe { libc::CPU_SET(cpu, &mut set) };
        // SAFETY: a valid cpu_set_t of the size given, for our own child's pid.
        let rc = unsafe { libc::sched_setaffinity(self.pid(), size_of::<libc::cpu_set_t>(), &set) };
        if rc != 0 {
            bail!(
                "pinning {} to CPU {cpu}: {}",
                self.what,
                std::io::Error::last_os_error()
            );
        }
        Ok(())
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port free for UDP and TCP on 127.0.0.1.
fn free_port() -> Result<u16> {
    for _ in 0..100 {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0")?;
        let port = tcp.local_addr()?.port();
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no free port on 127.0.0.1")
}

/// Starts dnsmasq on 127.0.0.1 with `extra` options, pinned to `cpu`, and waits until it
/// answers.
fn dnsmasq(what: &'static str, extra: &[String], cpu: usize) -> Result<(Proc, SocketAddr)> {
    if !std::path::Path::new(DNSMASQ).exists() {
        bail!("{DNSMASQ} is not installed (Debian package dnsmasq-base)");
    }
    let port = free_port()?;
    let child = Command::new(DNSMASQ)
        .args([
            "--no-daemon",
            "--conf-file=/dev/null",
            "--pid-file=",
            "--no-hosts",
            "--bind-interfaces",
            "--listen-address=127.0.0.1",
            "--log-facility=/dev/null",
        ])
        .arg(format!("--port={port}"))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {what}"))?;
    let p = Proc { child, what };
    p.pin(cpu)?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    wait_answering(addr, what)?;
    Ok((p, addr))
}

/// Sends one query until `addr` answers it (start-up), at most 10 s.
fn wait_answering(addr: SocketAddr, what: &str) -> Result<()> {
    let s = UdpSocket::bind("127.0.0.1:0")?;
    s.set_read_timeout(Some(Duration::from_millis(50)))?;
    let q = query(1, "ready.example.test");
    let start = Instant::now();
    let mut buf = [0u8; 512];
    while start.elapsed() < Duration::from_secs(10) {
        s.send_to(&q, addr)?;
        if let Ok((n, _)) = s.recv_from(&mut buf)
            && n >= 12
            && buf[..2] == q[..2]
        {
            return Ok(());
        }
    }
    bail!("{what} on {addr} does not answer")
}

/// Re-runs this binary as our proxy (see `serve_ours`), pinned to `cpu`.
fn ours(
    upstream: SocketAddr,
    cpu: usize,
    outstanding: usize,
    shared_sockets: usize,
) -> Result<(Proc, SocketAddr)> {
    let exe = std::env::current_exe().context("own executable")?;
    let mut child = Command::new(exe)
        .args([
            "--serve-ours",
            &upstream.to_string(),
            &cpu.to_string(),
            &outstanding.to_string(),
            &shared_sockets.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting our proxy")?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("proxy stdout")?)
        .read_line(&mut line)
        .context("reading the proxy's address")?;
    let p = Proc {
        child,
        what: "our proxy",
    };
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening ")
        .context("the proxy did not start")?
        .parse()
        .context("the proxy's address")?;
    wait_answering(addr, "our proxy")?;
    Ok((p, addr))
}

// ---------------------------------------------------------------------------------------
// our proxy, in its own process

/// The snapshot: endpoint 127.0.0.1 (identity 1000) may ask `*.example.test` on `port`.
fn snapshot(port: u16) -> Result<PolicySnapshot> {
    let policy = format!(
        r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: dns, namespace: default}}
spec:
  endpointSelector: {{matchLabels: {{app: client}}}}
  egress:
  - toPorts:
    - ports: [{{port: "{port}", protocol: ANY}}]
      rules:
        dns: [{{matchPattern: "*.example.test"}}]
"#
    );
    let labels =
        LabelSet::parse_list(&["k8s:app=client", "k8s:io.kubernetes.pod.namespace=default"]);
    let mut engine = PolicyEngine::new(EngineConfig::default());
    engine
        .load_text("dns.yaml", &policy)
        .map_err(|e| anyhow::anyhow!("policy: {e}"))?;
    engine.upsert_identity(NumericIdentity::new(1000), labels.clone());
    let ep = EndpointInfo::new(NumericIdentity::new(1000), labels);
    let resolved = engine
        .resolve(&ep, &NamedPortTable::new())
        .map_err(|e| anyhow::anyhow!("resolve: {e}"))?;
    let mut snap = PolicySnapshot::new(Arc::new(engine.cache().clone()));
    snap.insert_endpoint(
        [127, 0, 0, 1].into(),
        LocalEndpoint {
            id: 1,
            identity: NumericIdentity::new(1000),
            policy: Arc::new(resolved),
        },
    );
    Ok(snap)
}

/// `l7-dns --serve-ours <upstream> <cpu> <outstanding> <udp_upstream_sockets>`: serves until
/// killed; prints `listening <addr>` once bound.
fn serve_ours(mut it: impl Iterator<Item = String>) -> Result<()> {
    let upstream: SocketAddr = it.next().context("upstream")?.parse()?;
    let cpu: usize = it.next().context("cpu")?.parse()?;
    let outstanding: usize = it.next().context("outstanding")?.parse()?;
    let shared_sockets: usize = it.next().context("udp_upstream_sockets")?.parse()?;
    pin_to_cpu(cpu)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let sock = UdpSocket::bind("127.0.0.1:0")?;
        sock.set_nonblocking(true)?;
        let sock = tokio::net::UdpSocket::from_std(sock)?;
        let addr = sock.local_addr()?;
        let (_tx, rx) = tokio::sync::watch::channel(Arc::new(snapshot(addr.port())?));
        let records = Arc::new(AtomicU64::new(0));
        let sink = {
            let records = Arc::clone(&records);
            move |_r: L7Record| {
                records.fetch_add(1, Ordering::Relaxed);
            }
        };
        let proxy = DnsProxy::new(
            DnsProxyConfig {
                upstream: Some(upstream),
                mark_upstream: false,
                max_outstanding: outstanding.max(1024),
                udp_upstream_sockets: shared_sockets,
                ..DnsProxyConfig::default()
            },
            rx,
            Arc::new(sink),
            Arc::new(NoFqdnUpdates),
        );
        println!("listening {addr}");
        proxy.serve_udp(sock).await?;
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// load generator

/// A query for `name` (type A, class IN, RD set).
fn query(id: u16, name: &str) -> Vec<u8> {
    let mut q = Vec::with_capacity(12 + name.len() + 6);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    q
}

#[derive(Debug, Clone, Copy, Default)]
struct Load {
    qps: f64,
    answered: u64,
    lost: u64,
    errors: u64,
    /// CPU time of the forwarder per answered query, in microseconds.
    cpu_us: Option<f64>,
}

/// Keeps `outstanding` queries in flight to `target` for `seconds` (after a warm-up).
fn load(target: SocketAddr, args: &Args, forwarder: Option<&Proc>) -> Result<Load> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    sock.connect(target)?;
    sock.set_read_timeout(Some(Duration::from_millis(20)))?;
    let names = args.names;
    let queries: Vec<Vec<u8>> = (0..names)
        .map(|i| query(i as u16, &format!("q{i}.example.test")))
        .collect();
    // Sent time per id (ids are name indexes).
    let mut sent: Vec<Option<Instant>> = vec![None; names];
    let mut next = 0usize;
    let mut in_flight = 0usize;
    let mut send_next = |sent: &mut Vec<Option<Instant>>, in_flight: &mut usize| -> Result<()> {
        while sent[next].is_some() {
            next = (next + 1) % names;
        }
        sock.send(&queries[next])?;
        sent[next] = Some(Instant::now());
        next = (next + 1) % names;
        *in_flight += 1;
        Ok(())
    };
    for _ in 0..args.outstanding {
        send_next(&mut sent, &mut in_flight)?;
    }
    let mut buf = [0u8; 4096];
    let warm = Duration::from_millis(500);
    let measure = Duration::from_secs_f64(args.seconds);
    let start = Instant::now();
    let mut measuring: Option<(Instant, Duration)> = None;
    let mut r = Load::default();
    let mut last_sweep = Instant::now();
    loop {
        let now = Instant::now();
        if measuring.is_none() && now - start >= warm {
            let cpu = forwarder
                .map(Proc::cpu_time)
                .transpose()?
                .unwrap_or_default();
            measuring = Some((now, cpu));
            r = Load::default();
        }
        if let Some((t0, _)) = measuring
            && now - t0 >= measure
        {
            break;
        }
        match sock.recv(&mut buf) {
            Ok(n) if n >= 12 => {
                let id = usize::from(u16::from_be_bytes([buf[0], buf[1]]));
                if id < names && sent[id].take().is_some() {
                    in_flight -= 1;
                    r.answered += 1;
                    let rcode = buf[3] & 0x0F;
                    let ancount = u16::from_be_bytes([buf[6], buf[7]]);
                    if rcode != 0 || ancount == 0 {
                        r.errors += 1;
                    }
                    send_next(&mut sent, &mut in_flight)?;
                }
            }
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e).context("receiving answers"),
        }
        // Replace queries unanswered for a second (lost datagrams).
        if last_sweep.elapsed() > Duration::from_millis(200) {
            last_sweep = Instant::now();
            for s in sent.iter_mut() {
                if s.is_some_and(|t| t.elapsed() > Duration::from_secs(1)) {
                    *s = None;
                    in_flight -= 1;
                    r.lost += 1;
                }
            }
            while in_flight < args.outstanding {
                send_next(&mut sent, &mut in_flight)?;
            }
        }
    }
    let (t0, cpu0) = measuring.context("the run ended before measuring")?;
    let elapsed = t0.elapsed().as_secs_f64();
    r.qps = r.answered as f64 / elapsed;
    if let Some(f) = forwarder {
        let cpu = f.cpu_time()?.saturating_sub(cpu0);
        r.cpu_us = Some(cpu.as_secs_f64() * 1e6 / r.answered.max(1) as f64);
    }
    Ok(r)
}

// ---------------------------------------------------------------------------------------

fn main() -> Result<()> {
    let mut argv = std::env::args().skip(1).peekable();
    if argv.peek().map(String::as_str) == Some("--serve-ours") {
        argv.next();
        return serve_ours(argv);
    }
    let args = parse_args(argv)?;

    let (upstream, up_addr) = dnsmasq(
        "the upstream dnsmasq",
        &[
            "--no-resolv".into(),
            "--address=/example.test/192.0.2.10".into(),
            "--local-ttl=300".into(),
            format!("--dns-forward-max={}", args.outstanding * 4),
        ],
        args.load_cpu,
    )?;
    let (peer, peer_addr) = dnsmasq(
        "the forwarding dnsmasq",
        &[
            "--no-resolv".into(),
            format!("--server=127.0.0.1#{}", up_addr.port()),
            "--cache-size=0".into(),
            format!("--dns-forward-max={}", (args.outstanding * 4).max(150)),
        ],
        args.forwarder_cpu,
    )?;
    let shared = DnsProxyConfig::default().udp_upstream_sockets;
    let (proxy, proxy_addr) = ours(up_addr, args.forwarder_cpu, args.outstanding, shared)?;
    let (fresh, fresh_addr) = ours(up_addr, args.forwarder_cpu, args.outstanding, 0)?;
    pin_to_cpu(args.load_cpu)?;

    // (label, target, process, runs)
    let mut paths: Vec<(&str, SocketAddr, &Proc, Vec<Load>)> = vec![
        ("direct", up_addr, &upstream, Vec::new()),
        ("dnsmasq", peer_addr, &peer, Vec::new()),
        ("ours", proxy_addr, &proxy, Vec::new()),
        ("ours-fresh", fresh_addr, &fresh, Vec::new()),
    ];
    let n = paths.len();
    for run in 0..args.runs {
        // Rotate the order so no path always runs first.
        for k in 0..n {
            let (label, target, process, runs) = &mut paths[(run + k) % n];
            let l = load(*target, &args, Some(process))?;
            eprintln!(
                "run {}: {label:<10} {:.0} q/s, {:.1} µs CPU/q in the server",
                run + 1,
                l.qps,
                l.cpu_us.unwrap_or(f64::NAN)
            );
            runs.push(l);
        }
    }
    let qps = |v: &[Load]| median(&v.iter().map(|l| l.qps).collect::<Vec<_>>());
    let cpu = |v: &[Load]| median(&v.iter().filter_map(|l| l.cpu_us).collect::<Vec<_>>());
    let sum = |v: &[Load], f: fn(&Load) -> u64| v.iter().map(f).sum::<u64>();
    let (direct, dnsmasq_runs, ours_runs, fresh_runs) =
        (&paths[0].3, &paths[1].3, &paths[2].3, &paths[3].3);
    let m = qps(dnsmasq_runs);
    let paired = |v: &[Load]| -> Vec<f64> {
        v.iter()
            .zip(dnsmasq_runs)
            .map(|(a, b)| a.qps / b.qps)
            .collect()
    };

    println!(
        "l7-dns {}: UDP queries, {} outstanding, {} names, {} s per run, {} runs, forwarder on CPU {}, upstream dnsmasq and load on CPU {}\n",
        today_utc(),
        args.outstanding,
        args.names,
        args.seconds,
        args.runs,
        args.forwarder_cpu,
        args.load_cpu
    );
    let mut t = Table::new(&[
        "path",
        "queries/s (median)",
        "server CPU µs/query",
        "lost",
        "errors",
        "vs dnsmasq",
        "paired (median)",
    ]);
    let rows: [(&str, &[Load], bool); 4] = [
        (
            "direct to the upstream dnsmasq (ceiling of the load side)",
            direct,
            false,
        ),
        ("dnsmasq forwarder (--cache-size=0)", dnsmasq_runs, true),
        (
            "ours: DnsProxy, shared upstream sockets (default)",
            ours_runs,
            true,
        ),
        (
            "ours: DnsProxy, a fresh upstream socket per query",
            fresh_runs,
            true,
        ),
    ];
    for (name, runs, compare) in rows {
        t.row(vec![
            name.into(),
            num(qps(runs), 0),
            num(cpu(runs), 1),
            sum(runs, |l| l.lost).to_string(),
            sum(runs, |l| l.errors).to_string(),
            if compare {
                ratio(qps(runs) / m)
            } else {
                "-".into()
            },
            if compare {
                ratio(median(&paired(runs)))
            } else {
                "-".into()
            },
        ]);
    }
    println!("{}", t.render());
    println!(
        "server CPU per query, dnsmasq / ours: {} (shared), {} (fresh)",
        ratio(cpu(dnsmasq_runs) / cpu(ours_runs)),
        ratio(cpu(dnsmasq_runs) / cpu(fresh_runs))
    );
    let list = |v: &[Load], f: fn(&Load) -> f64| v.iter().map(f).collect::<Vec<_>>();
    println!(
        "{}",
        json!({
            "bench": "l7-dns",
            "date": today_utc(),
            "outstanding": args.outstanding,
            "names": args.names,
            "seconds": args.seconds,
            "direct_qps": list(direct, |l| l.qps),
            "dnsmasq_qps": list(dnsmasq_runs, |l| l.qps),
            "ours_qps": list(ours_runs, |l| l.qps),
            "ours_fresh_qps": list(fresh_runs, |l| l.qps),
            "dnsmasq_cpu_us": list(dnsmasq_runs, |l| l.cpu_us.unwrap_or(f64::NAN)),
            "ours_cpu_us": list(ours_runs, |l| l.cpu_us.unwrap_or(f64::NAN)),
            "ours_fresh_cpu_us": list(fresh_runs, |l| l.cpu_us.unwrap_or(f64::NAN)),
            "ratio": qps(ours_runs) / m,
            "ratio_fresh": qps(fresh_runs) / m,
            "paired_ratio_median": median(&paired(ours_runs)),
            "paired_ratio_fresh_median": median(&paired(fresh_runs)),
        })
    );
    drop(paths);
    drop((fresh, proxy, peer, upstream));
    Ok(())
}
