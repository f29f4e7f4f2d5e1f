//! The daemon: loads the datapath, restores what a previous run left, reads the source of
//! truth, starts the proxies, the flow observer and the local API, and keeps them in step.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use cilium_agent_api as api;
use cilium_datapath::{Datapath, DatapathConfig, EventStream, LbSync, ProxyRouting, proxy_route};
use cilium_hubble::metrics::{AgentMetrics, DatapathCounter, HubbleMetrics};
use cilium_hubble::observer::{FlowSink, Ingest, Observer};
use cilium_hubble::parser::Parser;
use cilium_l7::fqdn_cache::FqdnCache;
use cilium_l7::{PolicySnapshot, dns_proxy, http_proxy, kafka_proxy};
use cilium_lb::k8s::NodeContext;
use cilium_policy::{Direction, EngineConfig, PolicyEngine};
use prometheus_client::registry::Registry;
use tokio::sync::watch;

use crate::agent::{SharedLookups, State, Tables, ifindex_of, proxy_ports};
use crate::identities::Identities;
use crate::ipam::Ipam;
use crate::standalone::Directory;

/// The agent's settings.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Node name.
    pub node_name: String,
    /// The node's address (NodePort frontends, proxy upstream source).
    pub node_ip: Option<Ipv4Addr>,
    /// Per-node pod pool.
    pub pod_cidr: String,
    /// Where IPAM leases, endpoints and identities are kept.
    pub state_dir: PathBuf,
    /// bpffs directory of the datapath.
    pub pin_dir: PathBuf,
    /// The local API socket.
    pub socket: PathBuf,
    /// Standalone mode: the directory of YAML.
    pub standalone_dir: Option<PathBuf>,
    /// How often the directory is read.
    pub standalone_interval: Duration,
    /// Hubble gRPC address.
    pub hubble_listen: Option<SocketAddr>,
    /// Prometheus address.
    pub metrics_listen: Option<SocketAddr>,
    /// etcd endpoints (identities in etcd), or none (in memory).
    pub etcd: Vec<String>,
    /// DNS proxy upstream (`None`: the server the client asked).
    pub dns_upstream: Option<SocketAddr>,
    /// Node interface for NodePort (optional).
    pub netdev: Option<String>,
    /// cgroup v2 directory for socket LB (optional).
    pub cgroup: Option<PathBuf>,
    /// Default LB algorithm is Maglev.
    pub maglev: bool,
    /// Emit a trace event for every new flow (the live flow log shows allowed flows).
    pub trace_flows: bool,
}

/// What every task shares.
pub struct Shared {
    /// The state.
    pub state: Mutex<State>,
    /// Settings.
    pub cfg: AgentConfig,
    /// Flow ring.
    pub observer: Arc<Observer>,
    /// Hubble gRPC address bound.
    pub hubble_addr: RwLock<Option<SocketAddr>>,
    /// Metrics address bound.
    pub metrics_addr: RwLock<Option<SocketAddr>>,
    /// The DNS proxy's FQDN cache.
    pub fqdn: RwLock<Option<Arc<Mutex<FqdnCache>>>>,
    /// Metrics registry.
    pub registry: RwLock<Option<Arc<Registry>>>,
    /// Events lost by the datapath.
    pub events_lost: AtomicU64,
    /// Shutting down.
    pub stopping: AtomicBool,
    started: Instant,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").finish_non_exhaustive()
    }
}

impl Shared {
    /// The state, locked (a panic while it was held does not poison it for the others).
    pub fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `GET /v1/healthz`.
    pub fn status(&self) -> api::Status {
        let s = self.lock();
        api::Status {
            ready: s.ready,
            message: if s.ready {
                "ok".into()
            } else {
                "starting: sources of truth not read yet".into()
            },
            node: s.node.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            source: match &self.cfg.standalone_dir {
                Some(d) => format!("standalone {}", d.display()),
                None => "kubernetes".into(),
            },
            pod_cidr: s.ipam.cidr().to_owned(),
            ipam_used: s.ipam.used(),
            ipam_capacity: s.ipam.capacity(),
            endpoints: s.endpoints.len(),
            identities: s.ids.list().len(),
            policy_revision: s.engine.revision(),
            services: s.lb.state().services().len(),
            pin_dir: s.dp.pin_dir().display().to_string(),
            replaced_links: s.replaced_links,
            events_lost: self.events_lost.load(Ordering::Relaxed),
            hubble: self
                .hubble_addr
                .read()
                .ok()
                .and_then(|a| a.map(|a| a.to_string())),
            metrics: self
                .metrics_addr
                .read()
                .ok()
                .and_then(|a| a.map(|a| a.to_string())),
            source_error: s.source_error.clone(),
        }
    }

    /// `GET /v1/fqdn/cache`.
    pub fn fqdn_entries(&self) -> Vec<api::FqdnEntry> {
        let Some(cache) = self.fqdn.read().ok().and_then(|c| c.clone()) else {
            return Vec::new();
        };
        let cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let mut out = Vec::new();
        for name in cache.names() {
            let ips = cache.ips_of(name);
            let expires = ips
                .iter()
                .filter_map(|ip| cache.expires_at(name, *ip))
                .max()
                .map(|t| t.saturating_duration_since(now).as_secs())
                .unwrap_or(0);
            out.push(api::FqdnEntry {
                endpoint: 0,
                source: "lookup".into(),
                fqdn: name.to_owned(),
                ttl: expires as u32,
                expires_in: expires,
                ips: ips.iter().map(ToString::to_string).collect(),
            });
        }
        out
    }

    /// `GET /v1/metrics`: the Prometheus registry's samples.
    pub fn metrics_list(&self) -> Vec<api::Metric> {
        let Some(reg) = self.registry.read().ok().and_then(|r| r.clone()) else {
            return Vec::new();
        };
        let text = cilium_hubble::metrics::render(&reg);
        let mut out = Vec::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let Some((head, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let (name, labels) = match head.split_once('{') {
                Some((n, l)) => (
                    n,
                    l.trim_end_matches('}').replace(',', " ").replace('"', ""),
                ),
                None => (head, String::new()),
            };
            out.push(api::Metric {
                name: name.to_owned(),
                labels,
                value,
            });
        }
        out
    }

    /// Seconds since start.
    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }
}

fn boot_unix_ns() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let mono = ts.tv_sec * 1_000_000_000 + ts.tv_nsec;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0);
    now - mono
}

fn node_context(cfg: &AgentConfig) -> NodeContext {
    let mut n = NodeContext::new(cfg.node_name.clone(), cfg.node_ip.map(IpAddr::V4));
    if cfg.maglev {
        n = n.with_algorithm(cilium_lb::model::Algorithm::Maglev);
    }
    n
}

/// Runs the agent until SIGINT/SIGTERM. Pins, leases, endpoints and identities stay for the
/// next run (a restart neither flushes state nor drops traffic).
///
/// # Errors
///
/// Anything that prevents the agent from starting.
pub async fn run(cfg: AgentConfig) -> Result<()> {
    std::fs::create_dir_all(&cfg.state_dir)
        .with_context(|| format!("state dir {}", cfg.state_dir.display()))?;
    let mut dp_cfg = DatapathConfig::new(&cfg.pin_dir);
    dp_cfg.trace_new_flows = cfg.trace_flows;
    let mut dp = Datapath::load(&dp_cfg).context("load the datapath")?;
    let routing = ProxyRouting::default();
    proxy_route::install(routing).context("proxy routing")?;
    if let Some(dev) = &cfg.netdev {
        let idx = ifindex_of(dev).with_context(|| format!("--netdev {dev}: no such interface"))?;
        dp.attach_netdev(idx).context("attach NodePort programs")?;
    }
    if let Some(cg) = &cfg.cgroup {
        dp.attach_cgroup(cg).context("attach socket LB")?;
    }
    let ids = if cfg.etcd.is_empty() {
        Identities::memory(Some(cfg.state_dir.join("identities.json")))
            .map_err(anyhow::Error::msg)?
    } else {
        Identities::etcd(&cfg.etcd, &cfg.node_name)
            .await
            .map_err(anyhow::Error::msg)?
    };
    let ipam = Ipam::open(&cfg.pod_cidr, Some(cfg.state_dir.join("ipam.json")))?;
    let lb = LbSync::new(&dp).context("load balancer maps")?;
    let engine = PolicyEngine::new(EngineConfig {
        allow_localhost: true,
        ..EngineConfig::default()
    });
    let mut events = EventStream::new(&mut dp).context("event stream")?;
    let (snap_tx, snap_rx) = watch::channel(Arc::new(PolicySnapshot::default()));
    let tables = Arc::new(RwLock::new(Tables::default()));
    let mut state = State::new(
        cfg.node_name.clone(),
        cfg.state_dir.clone(),
        dp,
        engine,
        ids,
        ipam,
        lb,
        snap_tx,
        Arc::clone(&tables),
    );

    // What the previous run left, then the source of truth, before anything is served.
    for note in state.restore() {
        eprintln!("cilium-agent: restore: {note}");
    }
    let node = node_context(&cfg);
    let mut dir = cfg
        .standalone_dir
        .as_ref()
        .map(|d| Directory::new(d, cilium_policy::CompileOptions::default()));
    if let Some(d) = dir.as_mut() {
        for e in d.scan(&node).rejected {
            eprintln!("cilium-agent: rejected: {e}");
        }
        let errors = state.apply_source(d.desired(&node));
        for e in errors {
            eprintln!("cilium-agent: source: {e}");
        }
        state.ready = true;
    }

    let observer = Observer::new(16383);
    let shared = Arc::new(Shared {
        state: Mutex::new(state),
        cfg: cfg.clone(),
        observer: Arc::clone(&observer),
        hubble_addr: RwLock::new(None),
        metrics_addr: RwLock::new(None),
        fqdn: RwLock::new(None),
        registry: RwLock::new(None),
        events_lost: AtomicU64::new(0),
        stopping: AtomicBool::new(false),
        started: Instant::now(),
    });

    // Flows: datapath events and L7 records → parser → ring, metrics.
    let mut registry = Registry::default();
    let hubble_metrics = HubbleMetrics::register(&mut registry);
    let agent_metrics = AgentMetrics::register(&mut registry);
    let registry = Arc::new(registry);
    *shared.registry.write().expect("fresh lock") = Some(Arc::clone(&registry));
    let sinks: Vec<Arc<dyn FlowSink>> = vec![Arc::new(hubble_metrics)];
    let ingest = Arc::new(Ingest::start(
        Arc::clone(&observer),
        Parser::new(
            cfg.node_name.clone(),
            boot_unix_ns(),
            std::process::id().into(),
        ),
        SharedLookups(Arc::clone(&tables)),
        sinks,
        8192,
    ));
    {
        let ingest = Arc::clone(&ingest);
        tokio::spawn(async move {
            while let Ok(e) = events.next().await {
                ingest.offer(e);
            }
        });
    }
    {
        let shared = Arc::clone(&shared);
        let ingest = Arc::clone(&ingest);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(2));
            loop {
                tick.tick().await;
                let shared2 = Arc::clone(&shared);
                let counters = tokio::task::spawn_blocking(move || {
                    let s = shared2.lock();
                    let lost = s.dp.events_lost().unwrap_or(0);
                    let counters: Vec<DatapathCounter> =
                        s.dp.metrics()
                            .ok()
                            .and_then(|m| {
                                let keys = m.keys().ok()?;
                                Some(
                                    keys.into_iter()
                                        .filter_map(|k| {
                                            m.get_sum(&k).ok().flatten().map(|v| DatapathCounter {
                                                reason: k.reason,
                                                direction: k.direction,
                                                packets: v.packets,
                                                bytes: v.bytes,
                                            })
                                        })
                                        .collect(),
                                )
                            })
                            .unwrap_or_default();
                    let ids = s.ids.list().len();
                    let policies = s.engine.rules().count();
                    (lost, counters, ids, policies)
                })
                .await;
                if let Ok((lost, counters, ids, policies)) = counters {
                    shared.events_lost.store(lost, Ordering::Relaxed);
                    ingest.report_ring_lost(lost);
                    agent_metrics.set_datapath_counters(counters);
                    agent_metrics.set_identities("global", ids as i64);
                    agent_metrics.set_policies(policies as i64);
                }
            }
        });
    }
    if let Some(addr) = cfg.hubble_listen {
        let (listener, bound) = cilium_hubble::server::bind(addr)
            .await
            .with_context(|| format!("hubble listen {addr}"))?;
        *shared.hubble_addr.write().expect("lock") = Some(bound);
        let svc =
            cilium_hubble::server::ObserverService::new(Arc::clone(&observer), &cfg.node_name);
        tokio::spawn(cilium_hubble::server::serve(
            svc,
            listener,
            std::future::pending(),
        ));
    }
    if let Some(addr) = cfg.metrics_listen {
        let (listener, bound) = cilium_hubble::metrics::bind(addr)
            .await
            .with_context(|| format!("metrics listen {addr}"))?;
        *shared.metrics_addr.write().expect("lock") = Some(bound);
        tokio::spawn(cilium_hubble::metrics::serve(
            Arc::clone(&registry),
            listener,
            std::future::pending(),
        ));
    }

    start_proxies(&cfg, &shared, snap_rx, Arc::clone(&ingest)).await?;

    // The local API.
    let listener = crate::server::bind(&cfg.socket)
        .with_context(|| format!("API socket {}", cfg.socket.display()))?;
    tokio::spawn(crate::server::serve(listener, Arc::clone(&shared)));

    // The standalone directory, read again every interval.
    if let Some(mut d) = dir {
        let shared = Arc::clone(&shared);
        let interval = cfg.standalone_interval;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let shared = Arc::clone(&shared);
                let node = node.clone();
                d = match tokio::task::spawn_blocking(move || {
                    let r = d.scan(&node);
                    for e in &r.rejected {
                        eprintln!("cilium-agent: rejected (previous content stays): {e}");
                    }
                    if r.changed {
                        let desired = d.desired(&node);
                        let mut s = shared.lock();
                        for e in s.apply_source(desired) {
                            eprintln!("cilium-agent: source: {e}");
                        }
                        eprintln!(
                            "cilium-agent: standalone directory applied, policy revision {}",
                            s.engine.revision()
                        );
                    } else if !r.rejected.is_empty() {
                        shared.lock().source_error = Some(r.rejected.join("\n"));
                    }
                    d
                })
                .await
                {
                    Ok(d) => d,
                    Err(_) => return,
                };
            }
        });
    }

    eprintln!(
        "cilium-agent: ready on {} (node {}, pods {}, pins {})",
        cfg.socket.display(),
        cfg.node_name,
        cfg.pod_cidr,
        cfg.pin_dir.display()
    );
    wait_for_signal().await;
    shared.stopping.store(true, Ordering::Relaxed);
    let _ = std::fs::remove_file(&cfg.socket);
    eprintln!("cilium-agent: stopping; pins, leases and endpoints stay for the next run");
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// The DNS proxy's link to the state: learned addresses are in the datapath before the
/// answer is released. The proxy's FQDN cache is read from [`Shared::fqdn`] (set once the
/// proxy exists).
struct Learner {
    shared: Arc<Shared>,
}

impl dns_proxy::FqdnUpdater for Learner {
    fn learned<'a>(
        &'a self,
        _name: &'a str,
        ips: &'a [(IpAddr, u32)],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        let shared = Arc::clone(&self.shared);
        let ips: Vec<IpAddr> = ips.iter().map(|(ip, _)| *ip).collect();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || {
                let cache = shared
                    .fqdn
                    .read()
                    .ok()
                    .and_then(|c| c.clone())
                    .ok_or("DNS proxy starting")?;
                let learned: Vec<_> = {
                    let cache = cache.lock().map_err(|e| e.to_string())?;
                    // Addresses no toFQDNs selector wants get no identity.
                    ips.into_iter()
                        .filter_map(|ip| cache.labels_of(ip).map(|l| (ip, l)))
                        .collect()
                };
                if learned.is_empty() {
                    return Ok(());
                }
                shared.lock().learn(learned)
            })
            .await
            .map_err(|e| e.to_string())?
        })
    }
}

async fn start_proxies(
    cfg: &AgentConfig,
    shared: &Arc<Shared>,
    rx: watch::Receiver<Arc<PolicySnapshot>>,
    ingest: Arc<Ingest>,
) -> Result<()> {
    use cilium_l7::transparent;
    let records: Arc<dyn cilium_l7::records::RecordSink> = {
        let ingest = Arc::clone(&ingest);
        Arc::new(move |r| {
            ingest.offer_l7(r);
        })
    };
    let any = |port: u16| SocketAddr::from(([0, 0, 0, 0], port));
    for (dir, port) in [
        (Direction::Egress, proxy_ports::HTTP_EGRESS),
        (Direction::Ingress, proxy_ports::HTTP_INGRESS),
    ] {
        let l =
            transparent::tcp_listener(any(port)).with_context(|| format!("HTTP proxy :{port}"))?;
        let p = Arc::new(http_proxy::HttpProxy::new(
            http_proxy::HttpProxyConfig::new(dir),
            rx.clone(),
            Arc::clone(&records),
        ));
        tokio::spawn(p.serve(l));
    }
    for (dir, port) in [
        (Direction::Egress, proxy_ports::KAFKA_EGRESS),
        (Direction::Ingress, proxy_ports::KAFKA_INGRESS),
    ] {
        let l =
            transparent::tcp_listener(any(port)).with_context(|| format!("Kafka proxy :{port}"))?;
        let p = Arc::new(kafka_proxy::KafkaProxy::new(
            kafka_proxy::KafkaProxyConfig::new(dir),
            rx.clone(),
            Arc::clone(&records),
        ));
        tokio::spawn(p.serve(l));
    }
    // DNS: the FQDN cache follows the toFQDNs selectors of the rules in force.
    let dns_cfg = dns_proxy::DnsProxyConfig {
        upstream: cfg.dns_upstream,
        ..dns_proxy::DnsProxyConfig::default()
    };
    let updater = Arc::new(Learner {
        shared: Arc::clone(shared),
    });
    let proxy = Arc::new(dns_proxy::DnsProxy::new(
        dns_cfg,
        rx.clone(),
        Arc::clone(&records),
        updater,
    ));
    let cache = proxy.fqdn_cache();
    *shared.fqdn.write().expect("lock") = Some(Arc::clone(&cache));
    let udp = transparent::udp_socket(any(proxy_ports::DNS)).context("DNS proxy (UDP)")?;
    let tcp = transparent::tcp_listener(any(proxy_ports::DNS)).context("DNS proxy (TCP)")?;
    {
        let p = Arc::clone(&proxy);
        tokio::spawn(async move { p.serve_udp(udp).await });
    }
    {
        let p = Arc::clone(&proxy);
        tokio::spawn(async move { p.serve_tcp(tcp).await });
    }
    {
        let p = Arc::clone(&proxy);
        let shared = Arc::clone(shared);
        tokio::spawn(async move {
            p.run_expiry(Duration::from_millis(500), move |gone| {
                shared.lock().forget(gone.into_iter().map(|(_, ip)| ip));
            })
            .await
        });
    }
    // Keep the cache's selectors equal to the rules' toFQDNs selectors.
    {
        let shared = Arc::clone(shared);
        let mut rx = rx.clone();
        tokio::spawn(async move {
            let mut last: Vec<String> = Vec::new();
            loop {
                let selectors: Vec<String> = {
                    let s = shared.lock();
                    cilium_l7::dns::fqdn_selectors(s.engine.rules())
                        .into_iter()
                        .collect()
                };
                if selectors != last {
                    if let Err(e) = cache.lock().map(|mut c| c.set_selectors(&selectors)) {
                        eprintln!("cilium-agent: FQDN selectors: {e}");
                    }
                    last = selectors;
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        });
    }
    Ok(())
}

/// Removes everything an agent with these settings left: links, pins, proxy routing, state.
///
/// # Errors
///
/// The datapath pins could not be opened or removed.
pub fn cleanup(cfg: &AgentConfig) -> Result<BTreeMap<&'static str, usize>> {
    let mut done = BTreeMap::new();
    if cfg.pin_dir.exists() {
        let dp = Datapath::load(&DatapathConfig::new(&cfg.pin_dir)).context("open the pins")?;
        done.insert("links", dp.links().map(|l| l.len()).unwrap_or(0));
        dp.teardown().context("teardown")?;
    }
    let _ = proxy_route::remove(ProxyRouting::default());
    if cfg.state_dir.exists() {
        std::fs::remove_dir_all(&cfg.state_dir).context("state dir")?;
        done.insert("state dir", 1);
    }
    let _ = std::fs::remove_file(&cfg.socket);
    Ok(done)
}
