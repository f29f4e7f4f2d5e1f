//! The command line: global flags and the command tree, as clap derive types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::observe::ObserveArgs;

/// `cilium-dbg`: inspect and manage the reference agent through its local API.
#[derive(Debug, Parser)]
#[command(
    name = "cilium-dbg",
    version,
    about = "CLI of the cilium-rs reference agent, in the style of Cilium's cilium-dbg",
    propagate_version = true
)]
pub struct Cli {
    /// The agent's API socket ($CILIUM_RS_SOCKET overrides the default).
    #[arg(long, global = true, value_name = "PATH", default_value_os_t = cilium_agent_api::socket_path())]
    pub socket: PathBuf,
    /// Output format: `json` prints the agent's answer as JSON instead of a table
    /// (`observe` takes compact, dict, json, jsonpb or table).
    #[arg(short = 'o', long = "output", global = true, value_name = "FORMAT")]
    pub output: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the agent's status.
    Status(StatusArgs),
    /// Manage endpoints.
    #[command(subcommand)]
    Endpoint(EndpointCommand),
    /// Manage security identities.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Manage services and load balancers.
    #[command(subcommand)]
    Service(ServiceCommand),
    /// Direct access to the datapath's BPF maps.
    #[command(subcommand)]
    Bpf(BpfCommand),
    /// Access the agent's view of BPF maps.
    #[command(subcommand)]
    Map(MapCommand),
    /// Manage the policy repository.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Manage the FQDN proxy's state.
    #[command(subcommand)]
    Fqdn(FqdnCommand),
    /// Access the agent's metrics.
    #[command(subcommand)]
    Metrics(MetricsCommand),
    /// Observe flows from the agent's Hubble server, as `hubble observe` does.
    Observe(Box<ObserveArgs>),
}

/// `status` flags.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print `OK` and exit 0 when the agent is ready; otherwise print what is not ready and
    /// exit 1 (a readiness probe).
    #[arg(long)]
    pub brief: bool,
}

/// `endpoint …`
#[derive(Debug, Subcommand)]
pub enum EndpointCommand {
    /// List all endpoints.
    #[command(visible_alias = "ls")]
    List,
    /// Show one endpoint (JSON).
    Get {
        /// Endpoint id.
        id: u16,
    },
}

/// `identity …`
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// List the identities in use.
    #[command(visible_alias = "ls")]
    List,
    /// Show one identity.
    Get {
        /// Numeric identity.
        id: u32,
    },
}

/// `service …`
#[derive(Debug, Subcommand)]
pub enum ServiceCommand {
    /// List the services programmed.
    #[command(visible_alias = "ls")]
    List,
}

/// `bpf …`
#[derive(Debug, Subcommand)]
pub enum BpfCommand {
    /// Endpoints' policy maps.
    #[command(subcommand)]
    Policy(BpfPolicyCommand),
}

/// `bpf policy …`
#[derive(Debug, Subcommand)]
pub enum BpfPolicyCommand {
    /// List the entries of an endpoint's policy map.
    Get {
        /// Endpoint id.
        endpoint_id: u16,
    },
}

/// `map …`
#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Show the entries of a map (`ipcache`, also spelled `cilium_ipcache`).
    Get {
        /// Map name.
        name: String,
    },
}

/// `policy …`
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Show the rules in force and the revision.
    Get,
    /// Import policy rules from a file (YAML or JSON; `-` reads stdin); replaces the rules
    /// previously imported from the same file name.
    Import {
        /// The file.
        file: PathBuf,
    },
    /// Check policy rules without importing them; exits 1 when they are invalid.
    Validate {
        /// The file (`-` reads stdin).
        file: PathBuf,
    },
    /// Trace a connection through the policy: would SRC reach DST?
    Trace(TraceArgs),
}

/// `policy trace` flags.
#[derive(Debug, Args)]
pub struct TraceArgs {
    /// Source labels (`k8s:app=frontend`, or `app=frontend`).
    #[arg(short = 's', long = "src", value_name = "LABEL", num_args = 1.., required_unless_present = "src_endpoint")]
    pub src: Vec<String>,
    /// Destination labels.
    #[arg(short = 'd', long = "dst", value_name = "LABEL", num_args = 1.., required_unless_present = "dst_endpoint")]
    pub dst: Vec<String>,
    /// Source endpoint id (instead of labels).
    #[arg(long = "src-endpoint", value_name = "ID")]
    pub src_endpoint: Option<u16>,
    /// Destination endpoint id (instead of labels).
    #[arg(long = "dst-endpoint", value_name = "ID")]
    pub dst_endpoint: Option<u16>,
    /// Destination port, `N` or `N/PROTO`.
    #[arg(long, value_name = "PORT")]
    pub dport: Option<String>,
    /// Protocol: TCP, UDP, ICMP or ANY.
    #[arg(long, value_name = "PROTO")]
    pub protocol: Option<String>,
}

/// `fqdn …`
#[derive(Debug, Subcommand)]
pub enum FqdnCommand {
    /// The FQDN cache.
    #[command(subcommand)]
    Cache(FqdnCacheCommand),
}

/// `fqdn cache …`
#[derive(Debug, Subcommand)]
pub enum FqdnCacheCommand {
    /// List the names learned through the DNS proxy.
    #[command(visible_alias = "ls")]
    List,
}

/// `metrics …`
#[derive(Debug, Subcommand)]
pub enum MetricsCommand {
    /// List the agent's metrics.
    #[command(visible_alias = "ls")]
    List,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_tree_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_after_the_command() {
        let cli = Cli::try_parse_from([
            "cilium-dbg",
            "endpoint",
            "list",
            "-o",
            "json",
            "--socket",
            "/tmp/a.sock",
        ])
        .unwrap();
        assert_eq!(cli.output.as_deref(), Some("json"));
        assert_eq!(cli.socket, PathBuf::from("/tmp/a.sock"));
        assert!(matches!(
            cli.command,
            Command::Endpoint(EndpointCommand::List)
        ));
    }

    #[test]
    fn trace_takes_several_labels() {
        let cli = Cli::try_parse_from([
            "cilium-dbg",
            "policy",
            "trace",
            "--src",
            "k8s:app=a",
            "k8s:env=prod",
            "--dst",
            "k8s:app=b",
            "--dport",
            "80",
        ])
        .unwrap();
        let Command::Policy(PolicyCommand::Trace(t)) = cli.command else {
            panic!("not a trace");
        };
        assert_eq!(t.src, ["k8s:app=a", "k8s:env=prod"]);
        assert_eq!(t.dst, ["k8s:app=b"]);
        assert_eq!(t.dport.as_deref(), Some("80"));
        assert!(
            Cli::try_parse_from(["cilium-dbg", "policy", "trace", "--dst", "a=b"]).is_err(),
            "--src is required"
        );
        assert!(
            Cli::try_parse_from([
                "cilium-dbg",
                "policy",
                "trace",
                "--src-endpoint",
                "1",
                "--dst",
                "a=b"
            ])
            .is_ok()
        );
    }
}
