//! System benchmark: our L7 HTTP proxy (`cilium_l7::http_proxy`) against haproxy (Debian's
//! 2.6) with equivalent rules, both in front of the same upstream, measured in the same run
//! on loopback. No root needed.
//!
//! ```text
//! l7-http [--seconds S] [--runs R] [--connections C] [--rate N] [--proxy-cpu P]
//!         [--upstream-cpu U] [--load-cpu L] [--records on|off]
//! ```
//!
//! - Rules: allow `GET /api/.*`, deny everything else with 403. Ours: a CiliumNetworkPolicy
//!   (ingress, `http: [{method: GET, path: "/api/.*"}]`) through the real policy engine and a
//!   `PolicySnapshot`; haproxy: `http-request deny deny_status 403 ... unless is_get is_api`
//!   with `path_reg ^/api/.*$`. Allowed requests are `GET /api/x`, denied ones `GET /admin/x`.
//! - Processes: the upstream (a tiny keep-alive HTTP/1.1 server answering `200 ok`, this
//!   binary re-executed as `l7-http upstream`, on CPU U, by default the proxies' CPU 1 as in
//!   the yardstick of `BENCHMARKS.md`), our proxy (this binary re-executed
//!   as `l7-http serve`, a current-thread tokio runtime: one thread, pinned to CPU P; L7
//!   records built for every request and counted by the sink unless `--records off`), haproxy
//!   (`nbthread 1`, `taskset -c P`). Both proxies keep client and upstream connections
//!   alive. The load generators run on CPU L (default 0). Our proxy is given the
//!   upstream as original destination of every connection (no transparent redirect here).
//! - Per proxy and kind (allowed, denied), R runs (default 3) in rotating order:
//!   1. `wrk -t1 -cC -dS` (closed loop, C connections, default 16): requests per second, and
//!      the proxy's CPU time per request: user+system time of the proxy process from
//!      `/proc/<pid>/stat` over the run divided by the requests wrk completed;
//!   2. our own fixed-rate loader at N requests/s (default 10000) over C connections for S
//!      seconds: p50/p99 latency measured from each request's scheduled send time (so a
//!      stalled proxy cannot hide its queue), and the CPU time per request at that load.
//!
//! Medians over the runs are reported, with ours/haproxy ratios.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cilium_benches::report::{Table, median, num, percentile, ratio, today_utc};
use cilium_benches::sys::pin_to_cpu;
use serde_json::json;

const ALLOWED_PATH: &str = "/api/x";
const DENIED_PATH: &str = "/admin/x";
const UPSTREAM_IP: &str = "127.0.0.3";

struct Opts {
    seconds: f64,
    runs: usize,
    connections: usize,
    rate: f64,
    proxy_cpu: usize,
    upstream_cpu: usize,
    load_cpu: usize,
    records: bool,
}

fn parse_opts(mut args: impl Iterator<Item = String>) -> Result<Opts> {
    let mut o = Opts {
        seconds: 5.0,
        runs: 3,
        connections: 16,
        rate: 10_000.0,
        proxy_cpu: 1,
        upstream_cpu: 1,
        load_cpu: 0,
        records: true,
    };
    while let Some(a) = args.next() {
        let mut val = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--seconds" => o.seconds = val()?.parse().context("--seconds")?,
            "--runs" => o.runs = val()?.parse().context("--runs")?,
            "--connections" => o.connections = val()?.parse().context("--connections")?,
            "--rate" => o.rate = val()?.parse().context("--rate")?,
            "--proxy-cpu" => o.proxy_cpu = val()?.parse().context("--proxy-cpu")?,
            "--upstream-cpu" => o.upstream_cpu = val()?.parse().context("--upstream-cpu")?,
            "--load-cpu" => o.load_cpu = val()?.parse().context("--load-cpu")?,
            "--records" => {
                o.records = match val()?.as_str() {
                    "on" => true,
                    "off" => false,
                    v => bail!("--records {v:?}: on or off"),
                }
            }
            other => bail!("unknown argument {other:?}"),
        }
    }
    if o.runs == 0 || o.seconds <= 0.0 || o.connections == 0 || o.rate <= 0.0 {
        bail!("--runs, --seconds, --connections and --rate must be positive");
    }
    Ok(o)
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1).peekable();
    match args.peek().map(String::as_str) {
        Some("serve") => {
            args.next();
            serve_main(args)
        }
        Some("upstream") => {
            args.next();
            upstream_main(args)
        }
        _ => bench_main(parse_opts(args)?),
    }
}

// ---------------------------------------------------------------------------------------------
// `l7-http upstream`: the shared upstream
// ---------------------------------------------------------------------------------------------

fn upstream_main(mut args: impl Iterator<Item = String>) -> Result<()> {
    let mut cpu = 0;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cpu" => cpu = args.next().context("--cpu")?.parse()?,
            other => bail!("upstream: unknown argument {other:?}"),
        }
    }
    pin_to_cpu(cpu)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind((UPSTREAM_IP, 0)).await?;
        println!("listening {}", l.local_addr()?);
        loop {
            let (s, _) = l.accept().await?;
            let _ = s.set_nodelay(true);
            tokio::spawn(upstream_conn(s));
        }
    })
}

async fn upstream_conn(mut s: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    const RESPONSE: &[u8] =
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";
    let mut buf = Vec::with_capacity(8192);
    let mut tmp = [0u8; 8192];
    let mut out = Vec::new();
    loop {
        let n = match s.read(&mut tmp).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buf.extend_from_slice(&tmp[..n]);
        // Requests without bodies: one response per complete head.
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..end + 4);
            out.extend_from_slice(RESPONSE);
        }
        if !out.is_empty() {
            if s.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// `l7-http serve`: our proxy in a process of its own
// ---------------------------------------------------------------------------------------------

fn serve_main(mut args: impl Iterator<Item = String>) -> Result<()> {
    use cilium_core::{LabelSet, NumericIdentity, Protocol};
    use cilium_l7::http_proxy::{HttpProxy, HttpProxyConfig};
    use cilium_l7::policy::{ConnInfo, LocalEndpoint, PolicySnapshot};
    use cilium_l7::records::{L7Record, NoRecords, RecordSink};
    use cilium_policy::{Direction, EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};

    let (mut cpu, mut upstream, mut records) = (1, None, true);
    let mut header_timeout = Some(std::time::Duration::from_secs(30));
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cpu" => cpu = args.next().context("--cpu")?.parse()?,
            "--header-timeout" => {
                header_timeout = match args.next().context("--header-timeout")?.as_str() {
                    "off" => None,
                    s => Some(std::time::Duration::from_secs_f64(s.parse()?)),
                }
            }
            "--upstream" => upstream = Some(args.next().context("--upstream")?.parse()?),
            "--records" => records = args.next().context("--records")? == "on",
            other => bail!("serve: unknown argument {other:?}"),
        }
    }
    let upstream: SocketAddr = upstream.context("serve needs --upstream")?;
    pin_to_cpu(cpu)?;

    let text = format!(
        r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: api, namespace: bench}}
spec:
  endpointSelector: {{matchLabels: {{app: server}}}}
  ingress:
  - fromEndpoints: [{{matchLabels: {{app: client}}}}]
    toPorts:
    - ports: [{{port: "{}", protocol: TCP}}]
      rules:
        http: [{{method: GET, path: "/api/.*"}}]
"#,
        upstream.port()
    );
    let ns = "k8s:io.kubernetes.pod.namespace=bench";
    let client = LabelSet::parse_list(&["k8s:app=client", ns]);
    let server = LabelSet::parse_list(&["k8s:app=server", ns]);
    let mut engine = PolicyEngine::new(EngineConfig::default());
    engine
        .load_text("bench.yaml", &text)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    engine.upsert_identity(NumericIdentity::new(1000), client);
    engine.upsert_identity(NumericIdentity::new(2000), server.clone());
    let policy = engine
        .resolve(
            &EndpointInfo::new(NumericIdentity::new(2000), server),
            &NamedPortTable::new(),
        )
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut snap = PolicySnapshot::new(Arc::new(engine.cache().clone()));
    snap.insert_endpoint(
        upstream.ip(),
        LocalEndpoint {
            id: 1,
            identity: NumericIdentity::new(2000),
            policy: Arc::new(policy),
        },
    );
    snap.insert_prefix("127.0.0.1".parse()?, 32, NumericIdentity::new(1000));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (_tx, rx) = tokio::sync::watch::channel(Arc::new(snap));
        let sink: Arc<dyn RecordSink> = if records {
            let n = Arc::new(AtomicU64::new(0));
            Arc::new(move |_r: L7Record| {
                n.fetch_add(1, Ordering::Relaxed);
            })
        } else {
            Arc::new(NoRecords)
        };
        let mut config = HttpProxyConfig::new(Direction::Ingress);
        config.mark_upstream = false;
        config.header_read_timeout = header_timeout;
        let proxy = Arc::new(HttpProxy::new(config, rx, sink));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening {}", l.local_addr()?);
        loop {
            let (s, client) = l.accept().await?;
            let _ = s.set_nodelay(true);
            let conn = ConnInfo {
                client,
                server: upstream,
                protocol: Protocol::Tcp,
            };
            tokio::spawn(Arc::clone(&proxy).serve_connection(s, conn));
        }
    })
}

// ---------------------------------------------------------------------------------------------
// The benchmark
// ---------------------------------------------------------------------------------------------

/// A child process killed (and reaped) on drop.
struct Proc {
    child: Child,
}

impl Proc {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts this binary with `args`; returns it and the address it printed.
fn spawn_self(name: &'static str, args: &[String]) -> Result<(Proc, SocketAddr)> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("start {name}"))?;
    let stdout = child.stdout.take().context("stdout")?;
    let proc = Proc { child };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .strip_prefix("listening ")
        .with_context(|| format!("{name} said {line:?}"))?
        .trim()
        .parse()?;
    Ok((proc, addr))
}

fn free_port() -> Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_listening(addr: SocketAddr) -> Result<()> {
    let start = Instant::now();
    while StdStream::connect(addr).is_err() {
        if start.elapsed() > Duration::from_secs(5) {
            bail!("nothing listens on {addr}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn start_haproxy(
    dir: &std::path::Path,
    cpu: usize,
    upstream: SocketAddr,
) -> Result<(Proc, SocketAddr)> {
    let port = free_port()?;
    let cfg = format!(
        "global\n    nbthread 1\n    maxconn 4096\n\
         defaults\n    mode http\n    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\
         frontend fe\n    bind 127.0.0.1:{port}\n    acl is_get method GET\n    acl is_api path_reg ^/api/.*$\n\
         \x20   http-request deny deny_status 403 content-type text/plain string \"Access denied\" unless is_get is_api\n\
         \x20   default_backend be\n\
         backend be\n    server up {upstream}\n"
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, cfg)?;
    let child = Command::new("taskset")
        .args(["-c", &cpu.to_string(), "/usr/sbin/haproxy", "-db", "-f"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .context("start haproxy (Debian package haproxy)")?;
    let proc = Proc { child };
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    wait_listening(addr)?;
    Ok((proc, addr))
}

/// User + system CPU time of process `pid`, in microseconds.
fn cpu_us(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = &stat[stat.rfind(')').context("stat")? + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    // Fields 14 and 15 of stat(5); `after` starts at field 3.
    let ticks: f64 = f[11].parse::<f64>()? + f[12].parse::<f64>()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok(ticks * 1e6 / hz)
}

struct WrkResult {
    requests: u64,
    rps: f64,
    non_2xx: u64,
}

fn wrk(cpu: usize, conns: usize, seconds: f64, url: &str) -> Result<WrkResult> {
    let out = Command::new("taskset")
        .args(["-c", &cpu.to_string(), "wrk", "-t1"])
        .arg(format!("-c{conns}"))
        .arg(format!("-d{}s", seconds.ceil() as u64))
        .arg(url)
        .output()
        .context("run wrk (Debian package wrk)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!(
            "wrk failed: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut r = WrkResult {
        requests: 0,
        rps: 0.0,
        non_2xx: 0,
    };
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("Requests/sec:") {
            r.rps = rest.trim().parse()?;
        } else if t.contains(" requests in ") {
            r.requests = t.split_whitespace().next().context("wrk")?.parse()?;
        } else if let Some(rest) = t.strip_prefix("Non-2xx or 3xx responses:") {
            r.non_2xx = rest.trim().parse()?;
        }
    }
    if r.requests == 0 {
        bail!("wrk completed no request: {text}");
    }
    Ok(r)
}

struct RateResult {
    requests: u64,
    p50_us: f64,
    p99_us: f64,
    wrong_status: u64,
}

/// `conns` connections, `rate` requests/s in total, for `seconds`; latency from each
/// request's scheduled time to the end of its response.
fn fixed_rate(
    cpu: usize,
    addr: SocketAddr,
    path: &str,
    want_status: u16,
    conns: usize,
    rate: f64,
    seconds: f64,
) -> Result<RateResult> {
    let period = Duration::from_secs_f64(conns as f64 / rate);
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
    let start = Instant::now() + Duration::from_millis(50);
    let end = start + Duration::from_secs_f64(seconds);
    let results = std::thread::scope(|s| {
        let handles: Vec<_> = (0..conns)
            .map(|i| {
                let request = request.as_bytes();
                s.spawn(move || -> Result<(Vec<u64>, u64)> {
                    pin_to_cpu(cpu)?;
                    // SAFETY: prctl(PR_SET_TIMERSLACK) only changes this thread's timer slack.
                    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) };
                    let mut s = StdStream::connect(addr)?;
                    s.set_nodelay(true)?;
                    s.set_read_timeout(Some(Duration::from_secs(5)))?;
                    let mut lat = Vec::new();
                    let mut wrong = 0;
                    let mut buf = Vec::with_capacity(4096);
                    let offset = period.mul_f64(i as f64 / conns as f64);
                    for k in 0u32.. {
                        let at = start + offset + period * k;
                        if at >= end {
                            break;
                        }
                        let now = Instant::now();
                        if at > now {
                            std::thread::sleep(at - now);
                        }
                        s.write_all(request)?;
                        let status = read_response(&mut s, &mut buf)?;
                        lat.push(at.elapsed().as_nanos() as u64);
                        if status != want_status {
                            wrong += 1;
                        }
                    }
                    Ok((lat, wrong))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .map_err(|_| anyhow::anyhow!("loader thread panicked"))?
            })
            .collect::<Result<Vec<_>>>()
    })?;
    let mut all: Vec<u64> = Vec::new();
    let mut wrong = 0;
    for (l, w) in results {
        all.extend(l);
        wrong += w;
    }
    all.sort_unstable();
    Ok(RateResult {
        requests: all.len() as u64,
        p50_us: percentile(&all, 50.0) as f64 / 1e3,
        p99_us: percentile(&all, 99.0) as f64 / 1e3,
        wrong_status: wrong,
    })
}

/// Reads one response (with a `content-length` body); returns its status.
fn read_response(s: &mut StdStream, buf: &mut Vec<u8>) -> Result<u16> {
    let mut tmp = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).context("response head")?;
            let status: u16 = head
                .get(9..12)
                .context("status line")?
                .parse()
                .context("status")?;
            let len = head
                .lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(n, _)| n.trim().eq_ignore_ascii_case("content-length"))
                .map_or(Ok(0), |(_, v)| v.trim().parse::<usize>())?;
            while buf.len() < end + 4 + len {
                let n = s.read(&mut tmp)?;
                if n == 0 {
                    bail!("connection closed mid-response");
                }
                buf.extend_from_slice(&tmp[..n]);
            }
            buf.drain(..end + 4 + len);
            return Ok(status);
        }
        let n = s.read(&mut tmp)?;
        if n == 0 {
            bail!("connection closed");
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

#[derive(Default, Clone)]
struct Series {
    rps: Vec<f64>,
    cpu_us: Vec<f64>,
    rate_cpu_us: Vec<f64>,
    p50: Vec<f64>,
    p99: Vec<f64>,
}

struct Target<'a> {
    name: &'static str,
    proc: &'a Proc,
    addr: SocketAddr,
}

fn measure(o: &Opts, t: &Target<'_>, allowed: bool, into: &mut Series) -> Result<()> {
    let path = if allowed { ALLOWED_PATH } else { DENIED_PATH };
    let url = format!("http://{}{path}", t.addr);
    let pid = t.proc.pid();
    // Warm up (connections, caches), then measure.
    wrk(o.load_cpu, o.connections, 1.0, &url)?;
    let c0 = cpu_us(pid)?;
    let w = wrk(o.load_cpu, o.connections, o.seconds, &url)?;
    let c1 = cpu_us(pid)?;
    let expect_non_2xx = if allowed { 0 } else { w.requests };
    if w.non_2xx != expect_non_2xx {
        bail!(
            "{} {path}: {} of {} responses not as expected",
            t.name,
            w.non_2xx.abs_diff(expect_non_2xx),
            w.requests
        );
    }
    let c2 = cpu_us(pid)?;
    let r = fixed_rate(
        o.load_cpu,
        t.addr,
        path,
        if allowed { 200 } else { 403 },
        o.connections,
        o.rate,
        o.seconds,
    )?;
    let c3 = cpu_us(pid)?;
    if r.wrong_status > 0 {
        bail!("{} {path}: {} wrong statuses", t.name, r.wrong_status);
    }
    eprintln!(
        "{:8} {:7}: wrk {:.0} req/s, {:.2} µs CPU/req; {:.0}/s: p50 {:.0} µs, p99 {:.0} µs, {:.2} µs CPU/req",
        t.name,
        if allowed { "allowed" } else { "denied" },
        w.rps,
        (c1 - c0) / w.requests as f64,
        o.rate,
        r.p50_us,
        r.p99_us,
        (c3 - c2) / r.requests as f64
    );
    into.rps.push(w.rps);
    into.cpu_us.push((c1 - c0) / w.requests as f64);
    into.rate_cpu_us.push((c3 - c2) / r.requests as f64);
    into.p50.push(r.p50_us);
    into.p99.push(r.p99_us);
    Ok(())
}

fn bench_main(o: Opts) -> Result<()> {
    if std::thread::available_parallelism().map_or(1, |n| n.get())
        <= o.proxy_cpu.max(o.load_cpu).max(o.upstream_cpu)
    {
        eprintln!(
            "warning: CPU {} or {} does not exist here",
            o.proxy_cpu, o.load_cpu
        );
    }
    let dir = std::env::temp_dir().join(format!("l7-http-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (upstream, up_addr) = spawn_self(
        "upstream",
        &[
            "upstream".into(),
            "--cpu".into(),
            o.upstream_cpu.to_string(),
        ],
    )?;
    let (ours, ours_addr) = spawn_self(
        "ours",
        &[
            "serve".into(),
            "--cpu".into(),
            o.proxy_cpu.to_string(),
            "--upstream".into(),
            up_addr.to_string(),
            "--records".into(),
            if o.records { "on" } else { "off" }.into(),
        ],
    )?;
    let (haproxy, ha_addr) = start_haproxy(&dir, o.proxy_cpu, up_addr)?;
    let targets = [
        Target {
            name: "ours",
            proc: &ours,
            addr: ours_addr,
        },
        Target {
            name: "haproxy",
            proc: &haproxy,
            addr: ha_addr,
        },
    ];
    // [target][allowed?]
    let mut series = vec![vec![Series::default(); 2]; 2];
    for run in 0..o.runs {
        for i in 0..2 {
            let ti = if run % 2 == 0 { i } else { 1 - i };
            for (ki, allowed) in [(0, true), (1, false)] {
                measure(&o, &targets[ti], allowed, &mut series[ti][ki])?;
            }
        }
    }
    drop(upstream);
    let _ = std::fs::remove_dir_all(&dir);

    let mut table = Table::new(&[
        "proxy",
        "requests",
        "req/s (wrk)",
        "CPU µs/req (wrk)",
        &format!("p50 µs @{}/s", o.rate),
        &format!("p99 µs @{}/s", o.rate),
        &format!("CPU µs/req @{}/s", o.rate),
    ]);
    let med = |s: &Series| {
        [
            median(&s.rps),
            median(&s.cpu_us),
            median(&s.p50),
            median(&s.p99),
            median(&s.rate_cpu_us),
        ]
    };
    let mut summary = Vec::new();
    for (ki, kind) in ["allowed", "denied"].into_iter().enumerate() {
        let a = med(&series[0][ki]);
        let b = med(&series[1][ki]);
        for (name, m) in [("ours", a), ("haproxy 2.6", b)] {
            table.row(vec![
                name.into(),
                kind.into(),
                num(m[0], 0),
                num(m[1], 2),
                num(m[2], 0),
                num(m[3], 0),
                num(m[4], 2),
            ]);
        }
        table.row(vec![
            "ours / haproxy".into(),
            kind.into(),
            ratio(a[0] / b[0]),
            ratio(a[1] / b[1]),
            ratio(a[2] / b[2]),
            ratio(a[3] / b[3]),
            ratio(a[4] / b[4]),
        ]);
        summary.push(json!({
            "kind": kind,
            "ours": {"rps": a[0], "cpu_us_per_req": a[1], "p50_us": a[2], "p99_us": a[3], "cpu_us_per_req_fixed_rate": a[4]},
            "haproxy": {"rps": b[0], "cpu_us_per_req": b[1], "p50_us": b[2], "p99_us": b[3], "cpu_us_per_req_fixed_rate": b[4]},
        }));
    }
    println!(
        "l7-http {}: GET /api/x allowed, GET /admin/x denied (403); {} connections; wrk and fixed-rate \
         runs of {} s, median of {} runs; proxies on CPU {}, upstream on CPU {}, load on CPU {}; \
         our L7 records {}",
        today_utc(),
        o.connections,
        o.seconds,
        o.runs,
        o.proxy_cpu,
        o.upstream_cpu,
        o.load_cpu,
        if o.records { "on" } else { "off" }
    );
    print!("{}", table.render());
    let (allowed_cpu, denied_cpu) = (median(&series[0][0].cpu_us), median(&series[0][1].cpu_us));
    println!(
        "goals: ≤ 10 µs CPU per allowed request: {} ({allowed_cpu:.2}); ≤ 5 µs per denied request: {} ({denied_cpu:.2})",
        if allowed_cpu <= 10.0 {
            "met"
        } else {
            "NOT met"
        },
        if denied_cpu <= 5.0 { "met" } else { "NOT met" },
    );
    println!(
        "{}",
        json!({
            "bench": "l7-http",
            "date": today_utc(),
            "seconds": o.seconds,
            "runs": o.runs,
            "connections": o.connections,
            "rate": o.rate,
            "proxy_cpu": o.proxy_cpu,
            "upstream_cpu": o.upstream_cpu,
            "load_cpu": o.load_cpu,
            "records": o.records,
            "results": summary,
        })
    );
    Ok(())
}
