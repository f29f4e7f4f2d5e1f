//! `observe`: a `hubble observe` for cilium-rs's Observer service (or any Hubble server).
//!
//! ```text
//! cargo run -p cilium-hubble --example observe -- --server localhost:4245 --last 50 -n default
//! cargo run -p cilium-hubble --example observe -- -f --pod web --verdict DROPPED -o json
//! cargo run -p cilium-hubble --example observe -- --not --type trace --print-raw-filters
//! ```
//!
//! The flags are `hubble observe`'s (those this crate's flow model can filter on), mapped onto
//! [`ObserveOptions`]; the request is `ObserveOptions::to_request`, the output is
//! [`Printer`]. `--server` takes `host:port` (plain gRPC, Hubble's default
//! `localhost:4245`), `http://host:port` or `unix:///path/to/hubble.sock`.
//!
//! Exit status: 0 when the stream ended (or the reader closed the pipe), 1 when the server
//! could not be reached or failed the call, 2 for bad flags.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use clap::parser::ValueSource;
use clap::{Arg, ArgAction, ArgMatches, Command, value_parser};
use tonic::transport::Endpoint;

use cilium_hubble::observe::{FilterFlag, ObserveOptions, filters_yaml};
use cilium_hubble::printer::{Format, Printer, PrinterOptions};
use cilium_hubble::proto::observer::GetFlowsRequest;
use cilium_hubble::proto::observer::get_flows_response::ResponseTypes;
use cilium_hubble::proto::observer::observer_client::ObserverClient;

/// Hubble's default server address.
const DEFAULT_SERVER: &str = "localhost:4245";
/// Hubble's dial timeout.
const DIAL_TIMEOUT: Duration = Duration::from_secs(5);

/// Filter flags: (flag, short option, help).
const FILTER_ARGS: &[(FilterFlag, Option<char>, &str)] = &[
    (
        FilterFlag::Uuid,
        None,
        "Show the flow with this unique identifier",
    ),
    (
        FilterFlag::NodeName,
        None,
        "Show flows observed on nodes matching this name (e.g. \"k8s*\")",
    ),
    (
        FilterFlag::Protocol,
        None,
        "Show flows of this L4/L7 protocol (e.g. \"udp\", \"http\")",
    ),
    (
        FilterFlag::TcpFlags,
        None,
        "Show flows with all these TCP flags set (e.g. \"syn,ack\")",
    ),
    (
        FilterFlag::Type,
        Some('t'),
        "Filter by event type TYPE[:SUBTYPE]: capture, drop, l7, policy-verdict, trace[:to-endpoint|from-endpoint|to-stack|...], trace-sock",
    ),
    (
        FilterFlag::Verdict,
        None,
        "Show flows with this verdict [FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED, TRANSLATED]",
    ),
    (
        FilterFlag::HttpStatus,
        None,
        "Show flows with this HTTP status code or prefix (e.g. \"404\", \"5+\")",
    ),
    (
        FilterFlag::HttpMethod,
        None,
        "Show flows with this HTTP method (e.g. \"get\")",
    ),
    (
        FilterFlag::HttpPath,
        None,
        "Show flows whose HTTP path matches this regular expression",
    ),
    (FilterFlag::TraceId, None, "Show flows with this trace ID"),
    (
        FilterFlag::FromFqdn,
        None,
        "Show flows from this DNS name (e.g. \"*.cilium.io\")",
    ),
    (
        FilterFlag::Fqdn,
        None,
        "Show flows from or to this DNS name",
    ),
    (FilterFlag::ToFqdn, None, "Show flows to this DNS name"),
    (
        FilterFlag::FromIp,
        None,
        "Show flows from this IP address or CIDR",
    ),
    (
        FilterFlag::Ip,
        None,
        "Show flows from or to this IP address or CIDR",
    ),
    (
        FilterFlag::ToIp,
        None,
        "Show flows to this IP address or CIDR",
    ),
    (
        FilterFlag::IpVersion,
        None,
        "Show only IPv4, IPv6 or non-IP flows (\"v4\", \"v6\", \"none\")",
    ),
    (
        FilterFlag::FromPod,
        None,
        "Show flows from this pod name prefix ([namespace/]name)",
    ),
    (
        FilterFlag::Pod,
        None,
        "Show flows from or to this pod name prefix ([namespace/]name)",
    ),
    (
        FilterFlag::ToPod,
        None,
        "Show flows to this pod name prefix ([namespace/]name)",
    ),
    (
        FilterFlag::FromNamespace,
        None,
        "Show flows from this Kubernetes namespace",
    ),
    (
        FilterFlag::Namespace,
        Some('n'),
        "Show flows from or to this Kubernetes namespace",
    ),
    (
        FilterFlag::ToNamespace,
        None,
        "Show flows to this Kubernetes namespace",
    ),
    (
        FilterFlag::FromAllNamespaces,
        None,
        "Show flows from pods of any namespace",
    ),
    (
        FilterFlag::AllNamespaces,
        Some('A'),
        "Show flows from or to pods of any namespace",
    ),
    (
        FilterFlag::ToAllNamespaces,
        None,
        "Show flows to pods of any namespace",
    ),
    (
        FilterFlag::FromLabel,
        None,
        "Show flows from endpoints with these labels (e.g. \"app=web\")",
    ),
    (
        FilterFlag::Label,
        Some('l'),
        "Show flows from or to endpoints with these labels",
    ),
    (
        FilterFlag::ToLabel,
        None,
        "Show flows to endpoints with these labels",
    ),
    (
        FilterFlag::FromService,
        None,
        "Show flows from this service ([namespace/]name)",
    ),
    (
        FilterFlag::Service,
        None,
        "Show flows from or to this service ([namespace/]name)",
    ),
    (
        FilterFlag::ToService,
        None,
        "Show flows to this service ([namespace/]name)",
    ),
    (FilterFlag::FromPort, None, "Show flows from this port"),
    (FilterFlag::Port, None, "Show flows from or to this port"),
    (FilterFlag::ToPort, None, "Show flows to this port"),
    (
        FilterFlag::FromWorkload,
        None,
        "Show flows from this workload ([kind/]name)",
    ),
    (
        FilterFlag::Workload,
        None,
        "Show flows from or to this workload ([kind/]name)",
    ),
    (
        FilterFlag::ToWorkload,
        None,
        "Show flows to this workload ([kind/]name)",
    ),
    (
        FilterFlag::FromIdentity,
        None,
        "Show flows from this security identity (number or reserved name)",
    ),
    (
        FilterFlag::Identity,
        None,
        "Show flows from or to this security identity",
    ),
    (
        FilterFlag::ToIdentity,
        None,
        "Show flows to this security identity",
    ),
    (
        FilterFlag::TrafficDirection,
        None,
        "Show flows in this direction (ingress or egress)",
    ),
];

fn command() -> Command {
    let mut cmd = Command::new("observe")
        .about("Observe flows of a Hubble server, as `hubble observe` does")
        .arg(
            Arg::new("server")
                .long("server")
                .value_name("ADDR")
                .default_value(DEFAULT_SERVER)
                .help("Server address: host:port, http://host:port or unix:///path"),
        )
        .arg(
            Arg::new("follow")
                .short('f')
                .long("follow")
                .action(ArgAction::SetTrue)
                .help("Follow flows output"),
        )
        .arg(
            Arg::new("last")
                .long("last")
                .value_name("N")
                .value_parser(value_parser!(u64))
                .help("Get the last N flows (default 20)"),
        )
        .arg(
            Arg::new("first")
                .long("first")
                .value_name("N")
                .value_parser(value_parser!(u64))
                .help("Get the first N flows"),
        )
        .arg(
            Arg::new("all")
                .long("all")
                .action(ArgAction::SetTrue)
                .help("Get all flows in the buffer"),
        )
        .arg(
            Arg::new("since")
                .long("since")
                .value_name("TIME")
                .help("Flows since this time: RFC 3339, 2006-01-02, or a duration ago (5m, 1h30m)"),
        )
        .arg(
            Arg::new("until")
                .long("until")
                .value_name("TIME")
                .help("Flows until this time (as --since)"),
        )
        .arg(
            Arg::new("output")
                .short('o')
                .long("output")
                .value_name("FORMAT")
                .default_value("compact")
                .help("Output format: compact, dict, json, jsonpb or table"),
        )
        .arg(
            Arg::new("color")
                .long("color")
                .value_name("WHEN")
                .default_value("auto")
                .value_parser(["auto", "always", "never"])
                .help("Colorize compact and dict output"),
        )
        .arg(
            Arg::new("print-node-name")
                .long("print-node-name")
                .action(ArgAction::SetTrue)
                .help("Print the node name"),
        )
        .arg(
            Arg::new("numeric")
                .long("numeric")
                .action(ArgAction::SetTrue)
                .help("Show IP addresses, not pod, service or DNS names"),
        )
        .arg(
            Arg::new("debug")
                .long("debug")
                .action(ArgAction::SetTrue)
                .help("Also print informational node status events"),
        )
        .arg(
            Arg::new("print-raw-filters")
                .long("print-raw-filters")
                .action(ArgAction::SetTrue)
                .help(
                    "Print the allowlist/denylist filters and exit without contacting the server",
                ),
        )
        .arg(
            Arg::new("allowlist")
                .long("allowlist")
                .value_name("JSON")
                .action(ArgAction::Append)
                .help("Allowlist as JSON FlowFilters"),
        )
        .arg(
            Arg::new("denylist")
                .long("denylist")
                .value_name("JSON")
                .action(ArgAction::Append)
                .help("Denylist as JSON FlowFilters"),
        )
        .arg(
            Arg::new("not")
                .long("not")
                .num_args(0)
                .default_missing_value("true")
                .action(ArgAction::Append)
                .help("Turn the next filter into a denylist entry, e.g. --not --from-ip 2.2.2.2"),
        )
        .arg(
            Arg::new("ipv4")
                .short('4')
                .long("ipv4")
                .num_args(0)
                .default_missing_value("true")
                .action(ArgAction::Append)
                .help("Show only IPv4 flows"),
        )
        .arg(
            Arg::new("ipv6")
                .short('6')
                .long("ipv6")
                .num_args(0)
                .default_missing_value("true")
                .action(ArgAction::Append)
                .help("Show only IPv6 flows"),
        );
    for &(flag, short, help) in FILTER_ARGS {
        let mut arg = Arg::new(flag.name()).long(flag.name()).help(help);
        arg = if flag.takes_value() {
            arg.value_name("VALUE").action(ArgAction::Append)
        } else {
            // One value per occurrence, so that each has its own index.
            arg.num_args(0)
                .default_missing_value("true")
                .action(ArgAction::Append)
        };
        if let Some(short) = short {
            arg = arg.short(short);
        }
        cmd = cmd.arg(arg);
    }
    cmd
}

/// What the command line asks for besides the request.
struct Run {
    options: ObserveOptions,
    server: String,
    printer: PrinterOptions,
    print_raw_filters: bool,
}

/// One filter-related argument, at its position on the command line.
enum Item {
    Not,
    Filter(FilterFlag, String),
}

/// The flags as [`ObserveOptions`]. Filter flags are replayed in command-line order so that
/// each `--not` applies to the filter right after it, as in Hubble.
fn options(m: &ArgMatches) -> Result<Run, String> {
    let mut items: Vec<(usize, Item)> = Vec::new();
    let indices = |id: &str| match m.value_source(id) {
        Some(ValueSource::CommandLine) => m
            .indices_of(id)
            .map(|i| i.collect::<Vec<_>>())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    for idx in indices("not") {
        items.push((idx, Item::Not));
    }
    for (id, version) in [("ipv4", "v4"), ("ipv6", "v6")] {
        for idx in indices(id) {
            items.push((idx, Item::Filter(FilterFlag::IpVersion, version.to_owned())));
        }
    }
    for &(flag, _, _) in FILTER_ARGS {
        if flag.takes_value() {
            let values = m.get_many::<String>(flag.name()).into_iter().flatten();
            for (idx, value) in indices(flag.name()).into_iter().zip(values) {
                items.push((idx, Item::Filter(flag, value.clone())));
            }
        } else {
            for idx in indices(flag.name()) {
                items.push((idx, Item::Filter(flag, String::new())));
            }
        }
    }
    items.sort_by_key(|(idx, _)| *idx);

    let mut opts = ObserveOptions::default();
    let mut negate = false;
    for (_, item) in items {
        match item {
            Item::Not if negate => return Err("consecutive --not flags".to_owned()),
            Item::Not => negate = true,
            Item::Filter(flag, value) if negate => {
                opts.not.push((flag, value));
                negate = false;
            }
            Item::Filter(flag, value) => opts.push(flag, value),
        }
    }
    if negate {
        return Err("trailing --not: it must come before a filter flag".to_owned());
    }

    opts.follow = m.get_flag("follow");
    opts.last = m.get_one::<u64>("last").copied();
    opts.first = m.get_one::<u64>("first").copied();
    opts.all = m.get_flag("all");
    opts.since = m.get_one::<String>("since").cloned();
    opts.until = m.get_one::<String>("until").cloned();
    let output = m
        .get_one::<String>("output")
        .map_or("compact", String::as_str);
    opts.output = output
        .parse::<Format>()
        .map_err(|e| format!("--output: {e}"))?;
    opts.allowlist = m
        .get_many::<String>("allowlist")
        .into_iter()
        .flatten()
        .cloned()
        .collect();
    opts.denylist = m
        .get_many::<String>("denylist")
        .into_iter()
        .flatten()
        .cloned()
        .collect();

    let color = match m.get_one::<String>("color").map_or("auto", String::as_str) {
        "always" => true,
        "never" => false,
        // "auto": colour a terminal, unless NO_COLOR is set or TERM is dumb (as Hubble's
        // colour library decides).
        _ => {
            io::IsTerminal::is_terminal(&io::stdout())
                && std::env::var_os("NO_COLOR").is_none()
                && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        }
    };
    Ok(Run {
        options: opts,
        server: m
            .get_one::<String>("server")
            .cloned()
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned()),
        printer: PrinterOptions {
            color,
            node_name: m.get_flag("print-node-name"),
            ip_translation: !m.get_flag("numeric"),
            debug: m.get_flag("debug"),
        },
        print_raw_filters: m.get_flag("print-raw-filters"),
    })
}

/// A tonic endpoint for a Hubble-style server address.
fn endpoint(server: &str) -> Result<Endpoint, String> {
    let uri = if server.starts_with("unix:") || server.starts_with("http://") {
        server.to_owned()
    } else if server.starts_with("tls://") || server.starts_with("https://") {
        return Err(format!(
            "--server {server}: TLS is not supported by this client"
        ));
    } else {
        format!("http://{server}")
    };
    let endpoint = tonic::transport::Endpoint::from_shared(uri)
        .map_err(|e| format!("--server {server}: {e}"))?;
    Ok(endpoint.connect_timeout(DIAL_TIMEOUT))
}

/// Why the run failed after the flags were accepted.
enum Failure {
    /// The server could not be reached or failed the call.
    Server(String),
    /// Output could not be written.
    Output(io::Error),
}

async fn observe(run: &Run, endpoint: Endpoint, req: GetFlowsRequest) -> Result<(), Failure> {
    let channel = endpoint.connect().await.map_err(|e| {
        Failure::Server(format!(
            "cannot connect to {}: {}",
            run.server,
            error_chain(&e)
        ))
    })?;
    let mut client = ObserverClient::new(channel);
    let mut stream = client
        .get_flows(req)
        .await
        .map_err(|s| Failure::Server(status_text(&s)))?
        .into_inner();

    let mut printer = Printer::new(run.options.output, run.printer);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let mut err = io::stderr();
    loop {
        let resp = match stream.message().await {
            Ok(Some(resp)) => resp,
            Ok(None) => break,
            Err(s) if s.code() == tonic::Code::Cancelled => break,
            Err(s) => {
                // Print what was gathered (table output) before failing.
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

/// A gRPC status as Hubble reports it: the server's message, with the code unless it is
/// `Unknown` (errors returned by the server's handler).
fn status_text(s: &tonic::Status) -> String {
    if s.code() == tonic::Code::Unknown {
        s.message().to_owned()
    } else {
        format!("{}: {}", s.code().description(), s.message())
    }
}

/// An error and its sources, `: `-separated, each message once (hyper and tonic repeat
/// their sources' messages).
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

fn main() -> ExitCode {
    let matches = match command().try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let run = match options(&matches) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("observe: {e}");
            return ExitCode::from(2);
        }
    };
    let req = match run.options.to_request(SystemTime::now()) {
        Ok(req) => req,
        Err(e) => {
            eprintln!("observe: {e}");
            return ExitCode::from(2);
        }
    };

    if run.print_raw_filters {
        return match filters_yaml(&req) {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("observe: cannot print the filters: {e}");
                ExitCode::FAILURE
            }
        };
    }

    let endpoint = match endpoint(&run.server) {
        Ok(endpoint) => endpoint,
        Err(e) => {
            eprintln!("observe: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("observe: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(observe(&run, endpoint, req)) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`observe | head`): not an error.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            eprintln!("observe: cannot write the output: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Server(e)) => {
            eprintln!("observe: {e}");
            ExitCode::FAILURE
        }
    }
}
