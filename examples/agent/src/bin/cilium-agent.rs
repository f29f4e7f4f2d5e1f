//! `cilium-agent`: the reference agent's daemon.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use cilium_agent::daemon::{AgentConfig, cleanup, run};
use clap::Parser;

/// The reference CNI agent of cilium-rs.
#[derive(Debug, Parser)]
#[command(name = "cilium-agent", version)]
struct Args {
    /// Node name.
    #[arg(long, default_value = "node-1")]
    node_name: String,
    /// The node's IPv4 address (NodePort frontends).
    #[arg(long)]
    node_ip: Option<Ipv4Addr>,
    /// The per-node pod pool.
    #[arg(long, default_value = "10.200.0.0/24")]
    pod_cidr: String,
    /// Where leases, endpoints and identities are kept across restarts.
    #[arg(long, default_value = "/var/lib/cilium-rs")]
    state_dir: PathBuf,
    /// bpffs directory of the datapath's pins.
    #[arg(long, default_value = "/sys/fs/bpf/cilium-rs")]
    pin_dir: PathBuf,
    /// The local API socket.
    #[arg(long, default_value = cilium_agent_api::DEFAULT_SOCKET)]
    socket: PathBuf,
    /// Standalone mode: a directory of YAML (policies, services, pods, namespaces).
    #[arg(long, default_value = "/etc/cilium-rs")]
    standalone: PathBuf,
    /// How often the standalone directory is read, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    standalone_interval_ms: u64,
    /// Hubble gRPC address.
    #[arg(long, default_value = "127.0.0.1:4244")]
    hubble_listen: SocketAddr,
    /// Prometheus metrics address.
    #[arg(long, default_value = "127.0.0.1:9962")]
    metrics_listen: SocketAddr,
    /// etcd endpoints for identities shared by the cluster (comma separated); in memory when
    /// empty.
    #[arg(long, value_delimiter = ',')]
    etcd: Vec<String>,
    /// Where allowed DNS queries go (default: the server the client asked).
    #[arg(long)]
    dns_upstream: Option<SocketAddr>,
    /// Node interface to serve NodePort on.
    #[arg(long)]
    netdev: Option<String>,
    /// cgroup v2 directory whose sockets get socket-level load balancing.
    #[arg(long)]
    cgroup: Option<PathBuf>,
    /// Maglev as the default load-balancing algorithm (random otherwise).
    #[arg(long)]
    maglev: bool,
    /// Do not emit a trace event per new flow (only verdicts and drops).
    #[arg(long)]
    no_trace_flows: bool,
    /// Network namespace to run in (a path such as /var/run/netns/node), entered before
    /// anything else; the mount namespace stays the caller's, so the bpffs pins are the
    /// host's (`ip netns exec` would remount /sys and hide them).
    #[arg(long)]
    netns: Option<PathBuf>,
    /// Remove everything an agent with these settings left (links, pins, routing, state)
    /// and exit.
    #[arg(long)]
    cleanup: bool,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    if let Some(ns) = &a.netns {
        use std::os::fd::AsRawFd;
        let f = std::fs::File::open(ns)
            .map_err(|e| anyhow::anyhow!("--netns {}: {e}", ns.display()))?;
        // SAFETY: setns on the only thread there is yet, with a namespace fd we own.
        if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            anyhow::bail!(
                "--netns {}: {}",
                ns.display(),
                std::io::Error::last_os_error()
            );
        }
    }
    let cfg = AgentConfig {
        node_name: a.node_name,
        node_ip: a.node_ip,
        pod_cidr: a.pod_cidr,
        state_dir: a.state_dir,
        pin_dir: a.pin_dir,
        socket: a.socket,
        standalone_dir: Some(a.standalone),
        standalone_interval: Duration::from_millis(a.standalone_interval_ms),
        hubble_listen: Some(a.hubble_listen),
        metrics_listen: Some(a.metrics_listen),
        etcd: a.etcd,
        dns_upstream: a.dns_upstream,
        netdev: a.netdev,
        cgroup: a.cgroup,
        maglev: a.maglev,
        trace_flows: !a.no_trace_flows,
    };
    if a.cleanup {
        let done = cleanup(&cfg)?;
        eprintln!("cilium-agent: cleaned up {done:?}");
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(cfg))
}
