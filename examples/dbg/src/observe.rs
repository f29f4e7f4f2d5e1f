//! `observe`: flows from the agent's Hubble server, with `hubble observe`'s flags.
//!
//! The flags become a [`cilium_hubble::observe::ObserveOptions`], which makes the
//! `GetFlowsRequest` Hubble's CLI would send; the flows are printed by
//! [`cilium_hubble::printer::Printer`]. The server is the one the agent's status names
//! (`Hubble: Ok 127.0.0.1:4245`; an unspecified address such as `0.0.0.0:4245` is dialled on
//! loopback), or `--server`.

use std::io::{self, IsTerminal, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, SystemTime};

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Args};

use cilium_agent_api::Client;
use cilium_hubble::observe::{FilterFlag, ObserveOptions, filters_yaml};
use cilium_hubble::printer::{Format, Printer, PrinterOptions};
use cilium_hubble::proto::observer::GetFlowsRequest;
use cilium_hubble::proto::observer::get_flows_response::ResponseTypes;
use cilium_hubble::proto::observer::observer_client::ObserverClient;

use crate::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE, agent_error};

/// How long dialling the Hubble server may take (Hubble's own dial timeout).
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// `observe` flags: `hubble observe`'s.
#[derive(Debug, Args)]
pub struct ObserveArgs {
    /// Hubble server address: host:port, http://host:port or unix:///path (default: the
    /// agent's, from its status).
    #[arg(long, value_name = "ADDR")]
    pub server: Option<String>,
    /// Follow flows output.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Get the last N flows (20 when no other selector is given).
    #[arg(long, value_name = "N")]
    pub last: Option<u64>,
    /// Get the first N flows.
    #[arg(long, value_name = "N")]
    pub first: Option<u64>,
    /// Get all flows in the buffer.
    #[arg(long)]
    pub all: bool,
    /// Flows since this time: RFC 3339, 2006-01-02, or a duration ago (5m, 1h30m).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Flows until this time (as --since).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Colorize compact and dict output.
    #[arg(long, value_name = "WHEN", default_value = "auto", value_parser = ["auto", "always", "never"])]
    pub color: String,
    /// Print the node name of each flow.
    #[arg(long)]
    pub print_node_name: bool,
    /// Show IP addresses, not pod, service or DNS names.
    #[arg(long)]
    pub numeric: bool,
    /// Also print informational node status events.
    #[arg(long)]
    pub debug: bool,
    /// Print the request's allowlist and denylist filters and exit without contacting a server.
    #[arg(long)]
    pub print_raw_filters: bool,
    /// Allowlist as JSON FlowFilters.
    #[arg(long, value_name = "JSON")]
    pub allowlist: Vec<String>,
    /// Denylist as JSON FlowFilters.
    #[arg(long, value_name = "JSON")]
    pub denylist: Vec<String>,
    /// The filter flags, in command-line order.
    #[command(flatten)]
    pub filters: FilterArgs,
}

/// One filter flag as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterItem {
    /// Preceded by `--not`: a denylist entry.
    pub not: bool,
    /// The flag (`-4`/`-6` are [`FilterFlag::IpVersion`] `v4`/`v6`).
    pub flag: FilterFlag,
    /// Its value (empty for the flags without one).
    pub value: String,
}

/// `hubble observe`'s filter flags (`--pod`, `--verdict`, `--not`, …), kept in command-line
/// order so that each `--not` applies to the filter right after it.
///
/// Implemented by hand (not derived): one argument per [`FilterFlag`], and the order of
/// occurrences across different flags, which derive does not keep.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterArgs {
    /// The filters in command-line order.
    pub items: Vec<FilterItem>,
}

impl FilterArgs {
    /// Adds the filters to `opts`: allowlist values, and `--not` ones to [`ObserveOptions::not`].
    pub fn apply(&self, opts: &mut ObserveOptions) {
        for item in &self.items {
            if item.not {
                opts.not.push((item.flag, item.value.clone()));
            } else {
                opts.push(item.flag, item.value.clone());
            }
        }
    }
}

/// Short options of filter flags, as `hubble observe` has them.
fn short(flag: FilterFlag) -> Option<char> {
    match flag {
        FilterFlag::Type => Some('t'),
        FilterFlag::Namespace => Some('n'),
        FilterFlag::AllNamespaces => Some('A'),
        FilterFlag::Label => Some('l'),
        _ => None,
    }
}

/// Help of a filter flag.
fn help(flag: FilterFlag) -> &'static str {
    use FilterFlag as F;
    match flag {
        F::Uuid => "Show the flow with this unique identifier",
        F::NodeName => "Show flows observed on nodes matching this name (e.g. \"k8s*\")",
        F::Protocol => "Show flows of this L4/L7 protocol (e.g. \"udp\", \"http\")",
        F::TcpFlags => "Show flows with all these TCP flags set (e.g. \"syn,ack\")",
        F::Type => {
            "Filter by event type TYPE[:SUBTYPE] (drop, l7, policy-verdict, trace[:to-endpoint|...], trace-sock, capture)"
        }
        F::Verdict => {
            "Show flows with this verdict (FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED, TRANSLATED)"
        }
        F::HttpStatus => "Show flows with this HTTP status code or prefix (e.g. \"404\", \"5+\")",
        F::HttpMethod => "Show flows with this HTTP method (e.g. \"get\")",
        F::HttpPath => "Show flows whose HTTP path matches this regular expression",
        F::TraceId => "Show flows with this trace ID",
        F::FromFqdn => "Show flows from this DNS name (e.g. \"*.cilium.io\")",
        F::Fqdn => "Show flows from or to this DNS name",
        F::ToFqdn => "Show flows to this DNS name",
        F::FromIp => "Show flows from this IP address or CIDR",
        F::Ip => "Show flows from or to this IP address or CIDR",
        F::ToIp => "Show flows to this IP address or CIDR",
        F::IpVersion => "Show only IPv4, IPv6 or non-IP flows (v4, v6, none)",
        F::FromPod => "Show flows from this pod name prefix ([namespace/]name)",
        F::Pod => "Show flows from or to this pod name prefix ([namespace/]name)",
        F::ToPod => "Show flows to this pod name prefix ([namespace/]name)",
        F::FromNamespace => "Show flows from this Kubernetes namespace",
        F::Namespace => "Show flows from or to this Kubernetes namespace",
        F::ToNamespace => "Show flows to this Kubernetes namespace",
        F::FromAllNamespaces => "Show flows from pods of any namespace",
        F::AllNamespaces => "Show flows from or to pods of any namespace",
        F::ToAllNamespaces => "Show flows to pods of any namespace",
        F::FromLabel => "Show flows from endpoints with these labels (e.g. \"app=web\")",
        F::Label => "Show flows from or to endpoints with these labels",
        F::ToLabel => "Show flows to endpoints with these labels",
        F::FromService => "Show flows from this service ([namespace/]name)",
        F::Service => "Show flows from or to this service ([namespace/]name)",
        F::ToService => "Show flows to this service ([namespace/]name)",
        F::FromPort => "Show flows from this port",
        F::Port => "Show flows from or to this port",
        F::ToPort => "Show flows to this port",
        F::FromWorkload => "Show flows from this workload ([kind/]name)",
        F::Workload => "Show flows from or to this workload ([kind/]name)",
        F::ToWorkload => "Show flows to this workload ([kind/]name)",
        F::FromIdentity => "Show flows from this security identity (number or reserved name)",
        F::Identity => "Show flows from or to this security identity",
        F::ToIdentity => "Show flows to this security identity",
        F::TrafficDirection => "Show flows in this direction (ingress or egress)",
    }
}

/// An argument that takes no value but is recorded once per occurrence (so that each has its
/// own index on the command line).
fn switch(id: &'static str) -> Arg {
    Arg::new(id)
        .long(id)
        .num_args(0)
        .default_missing_value("true")
        .action(ArgAction::Append)
}

impl Args for FilterArgs {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        cmd = cmd
            .arg(
                switch("not").help(
                    "Turn the next filter into a denylist entry (e.g. --not --from-ip 2.2.2.2)",
                ),
            )
            .arg(switch("ipv4").short('4').help("Show only IPv4 flows"))
            .arg(switch("ipv6").short('6').help("Show only IPv6 flows"));
        for &flag in FilterFlag::ALL {
            let mut arg = if flag.takes_value() {
                Arg::new(flag.name())
                    .long(flag.name())
                    .value_name("VALUE")
                    .action(ArgAction::Append)
            } else {
                switch(flag.name())
            };
            if let Some(c) = short(flag) {
                arg = arg.short(c);
            }
            cmd = cmd.arg(arg.help(help(flag)));
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for FilterArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        enum Seen {
            Not,
            Filter(FilterFlag, String),
        }
        let indices = |id: &str| -> Vec<usize> {
            match m.value_source(id) {
                Some(ValueSource::CommandLine) => {
                    m.indices_of(id).map(Iterator::collect).unwrap_or_default()
                }
                _ => Vec::new(),
            }
        };
        let mut seen: Vec<(usize, Seen)> = Vec::new();
        seen.extend(indices("not").into_iter().map(|i| (i, Seen::Not)));
        for (id, version) in [("ipv4", "v4"), ("ipv6", "v6")] {
            for i in indices(id) {
                seen.push((i, Seen::Filter(FilterFlag::IpVersion, version.to_owned())));
            }
        }
        for &flag in FilterFlag::ALL {
            let at = indices(flag.name());
            if flag.takes_value() {
                let values = m.get_many::<String>(flag.name()).into_iter().flatten();
                for (i, v) in at.into_iter().zip(values) {
                    seen.push((i, Seen::Filter(flag, v.clone())));
                }
            } else {
                seen.extend(
                    at.into_iter()
                        .map(|i| (i, Seen::Filter(flag, String::new()))),
                );
            }
        }
        seen.sort_by_key(|(i, _)| *i);

        let conflict = |msg: &str| clap::Error::raw(clap::error::ErrorKind::ArgumentConflict, msg);
        let mut items = Vec::new();
        let mut not = false;
        for (_, s) in seen {
            match s {
                Seen::Not if not => return Err(conflict("consecutive --not flags")),
                Seen::Not => not = true,
                Seen::Filter(flag, value) => {
                    items.push(FilterItem { not, flag, value });
                    not = false;
                }
            }
        }
        if not {
            return Err(conflict("--not must come before a filter flag"));
        }
        Ok(FilterArgs { items })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl ObserveArgs {
    /// The flags as [`ObserveOptions`], with `-o` (the global output flag) as the format.
    pub fn options(&self, output: Option<&str>) -> Result<ObserveOptions, String> {
        let mut opts = ObserveOptions {
            follow: self.follow,
            last: self.last,
            first: self.first,
            all: self.all,
            since: self.since.clone(),
            until: self.until.clone(),
            allowlist: self.allowlist.clone(),
            denylist: self.denylist.clone(),
            ..ObserveOptions::default()
        };
        if let Some(o) = output {
            opts.output = o.parse::<Format>().map_err(|e| format!("--output: {e}"))?;
        }
        self.filters.apply(&mut opts);
        Ok(opts)
    }

    fn printer_options(&self) -> PrinterOptions {
        let color = match self.color.as_str() {
            "always" => true,
            "never" => false,
            // As Hubble decides: a terminal, unless NO_COLOR is set or TERM is dumb.
            _ => {
                io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none()
                    && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
            }
        };
        PrinterOptions {
            color,
            node_name: self.print_node_name,
            ip_translation: !self.numeric,
            debug: self.debug,
        }
    }
}

/// The address to dial for a server address: an unspecified host (`0.0.0.0`, `[::]`), as the
/// agent reports a server listening on every address, is dialled on loopback.
pub fn dial_address(addr: &str) -> String {
    match addr.parse::<SocketAddr>() {
        Ok(sa) if sa.ip().is_unspecified() => {
            let ip = match sa.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            };
            SocketAddr::new(ip, sa.port()).to_string()
        }
        _ => addr.to_owned(),
    }
}

/// A tonic endpoint for a Hubble-style address (`host:port`, `http://…`, `unix://…`).
fn endpoint(server: &str) -> Result<tonic::transport::Endpoint, String> {
    let uri = if server.starts_with("unix:") || server.starts_with("http://") {
        server.to_owned()
    } else if server.starts_with("tls://") || server.starts_with("https://") {
        return Err(format!("--server {server}: TLS is not supported"));
    } else {
        format!("http://{}", dial_address(server))
    };
    tonic::transport::Endpoint::from_shared(uri)
        .map(|e| e.connect_timeout(DIAL_TIMEOUT))
        .map_err(|e| format!("--server {server}: {e}"))
}

/// Runs `observe`; returns the exit status.
pub fn run(args: &ObserveArgs, output: Option<&str>, client: &Client) -> u8 {
    let opts = match args.options(output) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    let req = match opts.to_request(SystemTime::now()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    if args.print_raw_filters {
        return match filters_yaml(&req) {
            Ok(yaml) => crate::emit(&yaml),
            Err(e) => {
                eprintln!("cannot print the filters: {e}");
                EXIT_FAILURE
            }
        };
    }
    let server = match &args.server {
        Some(s) => s.clone(),
        None => match client.status() {
            Ok(status) => match status.hubble {
                Some(addr) => addr,
                None => {
                    eprintln!(
                        "Hubble is not enabled in the agent at {} (its status names no Hubble server); use --server",
                        client.path().display()
                    );
                    return EXIT_FAILURE;
                }
            },
            Err(e) => {
                eprintln!("{}", agent_error(&e));
                return EXIT_FAILURE;
            }
        },
    };
    let endpoint = match endpoint(&server) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{e}");
            return EXIT_USAGE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return EXIT_FAILURE;
        }
    };
    let printer = Printer::new(opts.output, args.printer_options());
    match runtime.block_on(stream(&server, endpoint, req, printer)) {
        Ok(()) => EXIT_OK,
        // The reader went away (`observe | head`): not an error.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(Failure::Output(e)) => {
            eprintln!("cannot write the output: {e}");
            EXIT_FAILURE
        }
        Err(Failure::Server(e)) => {
            eprintln!("{e}");
            EXIT_FAILURE
        }
    }
}

/// Why streaming stopped early.
enum Failure {
    /// The server could not be reached or failed the call.
    Server(String),
    /// Writing the output failed.
    Output(io::Error),
}

async fn stream(
    server: &str,
    endpoint: tonic::transport::Endpoint,
    req: GetFlowsRequest,
    mut printer: Printer,
) -> Result<(), Failure> {
    let channel = endpoint.connect().await.map_err(|e| {
        Failure::Server(format!(
            "cannot reach the Hubble server at {server}: {}",
            error_chain(&e)
        ))
    })?;
    let mut flows = ObserverClient::new(channel)
        .get_flows(req)
        .await
        .map_err(|s| Failure::Server(status_text(&s)))?
        .into_inner();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr();
    loop {
        let resp = match flows.message().await {
            Ok(Some(resp)) => resp,
            Ok(None) => break,
            Err(s) if s.code() == tonic::Code::Cancelled => break,
            Err(s) => {
                // What was gathered (a table) is printed before the error.
                printer.finish(&mut out).map_err(Failure::Output)?;
                return Err(Failure::Server(status_text(&s)));
            }
        };
        let node_status = matches!(resp.response_types, Some(ResponseTypes::NodeStatus(_)));
        printer
            .write_response_to(&mut out, &mut err, &resp)
            .map_err(Failure::Output)?;
        if !node_status {
            out.flush().map_err(Failure::Output)?;
        }
    }
    printer.finish(&mut out).map_err(Failure::Output)
}

/// A gRPC status as Hubble reports it: the message, with the code unless it is `Unknown`.
fn status_text(s: &tonic::Status) -> String {
    if s.code() == tonic::Code::Unknown {
        s.message().to_owned()
    } else {
        format!("{}: {}", s.code().description(), s.message())
    }
}

/// An error and its sources, `: `-separated, each distinct message once.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn observe(args: &[&str]) -> (Box<ObserveArgs>, Option<String>) {
        let cli = Cli::try_parse_from(["cilium-dbg", "observe"].iter().chain(args)).unwrap();
        match cli.command {
            Command::Observe(o) => (o, cli.output),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_become_options_in_order() {
        let (args, output) = observe(&[
            "--last",
            "5",
            "--pod",
            "web",
            "--not",
            "--verdict",
            "FORWARDED",
            "--verdict",
            "DROPPED",
            "-4",
            "-o",
            "json",
            "-n",
            "default",
        ]);
        let opts = args.options(output.as_deref()).unwrap();
        assert_eq!(opts.last, Some(5));
        assert_eq!(opts.pod, ["web"]);
        assert_eq!(opts.namespace, ["default"]);
        assert_eq!(opts.verdict, ["DROPPED"]);
        assert_eq!(opts.ip_version, ["v4"]);
        assert_eq!(opts.not, [(FilterFlag::Verdict, "FORWARDED".to_owned())]);
        assert_eq!(opts.output, Format::Json);
        let req = opts.to_request(SystemTime::now());
        assert!(req.is_ok(), "{req:?}");
    }

    #[test]
    fn misplaced_not_is_a_usage_error() {
        for args in [&["--not"][..], &["--not", "--not", "--pod", "x"]] {
            let r = Cli::try_parse_from(["cilium-dbg", "observe"].iter().chain(args));
            assert!(r.is_err(), "{args:?}");
        }
    }

    #[test]
    fn unspecified_addresses_are_dialled_on_loopback() {
        assert_eq!(dial_address("0.0.0.0:4245"), "127.0.0.1:4245");
        assert_eq!(dial_address("[::]:4245"), "[::1]:4245");
        assert_eq!(dial_address("10.0.0.1:4245"), "10.0.0.1:4245");
        assert_eq!(dial_address("hubble:4245"), "hubble:4245");
    }
}
