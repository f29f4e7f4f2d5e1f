//! `cilium-dbg`: the reference agent's command-line client, in the style of Cilium's
//! `cilium-dbg`.
//!
//! It talks to the agent over its local API ([`cilium_agent_api::Client`] on the agent's
//! unix socket) and prints tables with Cilium's column names and order
//! ([`format`](mod@format)), or with `-o json` the agent's answer as JSON. `observe` reads
//! flows from the agent's Hubble gRPC server ([`observe`]).
//!
//! The binary is [`cli::Cli`] parsed and handed to [`run`].
//!
//! Exit status: 0 on success, 1 when the agent cannot be reached or answers with an error (or
//! `status --brief` finds it not ready, or `policy validate` finds errors), 2 for bad usage.

pub mod cli;
pub mod format;
pub mod observe;
pub mod table;

use std::io::{self, Read, Write};
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use cilium_agent_api::Client;
use cilium_agent_api::{
    BpfPolicyEntry, ClientError, Endpoint, FqdnEntry, Identity, IpCacheEntry, Metric, PolicyInfo,
    PolicyText, ServiceInfo, Status, TraceRequest, TraceResult, Validation, method, routes,
};

use crate::cli::{
    BpfCommand, BpfPolicyCommand, Cli, Command, EndpointCommand, FqdnCacheCommand, FqdnCommand,
    IdentityCommand, MapCommand, MetricsCommand, PolicyCommand, ServiceCommand, TraceArgs,
};

/// Exit status of success.
pub const EXIT_OK: u8 = 0;
/// Exit status of a failure: agent unreachable, an error answer, not ready, invalid policy.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status of bad usage (as clap's).
pub const EXIT_USAGE: u8 = 2;

/// How a command prints the agent's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Output {
    /// Cilium's table or text.
    Table,
    /// The answer as indented JSON.
    Json,
}

/// Runs a parsed command line; returns the exit status.
pub fn run(cli: &Cli) -> u8 {
    let client = Client::new(&cli.socket);
    if let Command::Observe(args) = &cli.command {
        return observe::run(args, cli.output.as_deref(), &client);
    }
    let output = match cli.output.as_deref() {
        None => Output::Table,
        Some("json" | "JSON") => Output::Json,
        Some(other) => {
            eprintln!("unsupported output format {other:?}: this command prints a table or json");
            return EXIT_USAGE;
        }
    };
    let ctx = Ctx { client, output };
    match &cli.command {
        Command::Status(args) if args.brief => ctx.status_brief(),
        Command::Status(_) => ctx.show::<Status>(routes::HEALTHZ, format::status),
        Command::Endpoint(EndpointCommand::List) => {
            ctx.show::<Vec<Endpoint>>(routes::ENDPOINT, |e| format::endpoints(e))
        }
        Command::Endpoint(EndpointCommand::Get { id }) => {
            let path = format!("{}{id}", routes::ENDPOINT_ID);
            ctx.get::<Endpoint>(&path)
                .map_or_else(fail, |e| emit(&json(&e)))
        }
        Command::Identity(IdentityCommand::List) => {
            ctx.show::<Vec<Identity>>(routes::IDENTITY, |i| format::identities(i))
        }
        Command::Identity(IdentityCommand::Get { id }) => {
            let path = format!("{}/{id}", routes::IDENTITY);
            ctx.show::<Identity>(&path, |i| format::identities(std::slice::from_ref(i)))
        }
        Command::Service(ServiceCommand::List) => {
            ctx.show::<Vec<ServiceInfo>>(routes::SERVICE, |s| format::services(s))
        }
        Command::Bpf(BpfCommand::Policy(BpfPolicyCommand::Get { endpoint_id })) => {
            let path = format!("{}{endpoint_id}", routes::BPF_POLICY);
            ctx.bpf_policy(&path)
        }
        Command::Map(MapCommand::Get { name }) => match name.as_str() {
            "ipcache" | "cilium_ipcache" => {
                ctx.show::<Vec<IpCacheEntry>>(routes::IPCACHE, |e| format::ipcache(e))
            }
            other => {
                eprintln!("unknown map {other:?}: the agent serves ipcache");
                EXIT_FAILURE
            }
        },
        Command::Policy(PolicyCommand::Get) => ctx.show(routes::POLICY, format::policy),
        Command::Policy(PolicyCommand::Import { file }) => ctx.policy_import(file),
        Command::Policy(PolicyCommand::Validate { file }) => ctx.policy_validate(file),
        Command::Policy(PolicyCommand::Trace(args)) => ctx.policy_trace(args),
        Command::Fqdn(FqdnCommand::Cache(FqdnCacheCommand::List)) => ctx
            .show::<Vec<FqdnEntry>>(routes::FQDN_CACHE, |e| {
                format::fqdn_cache(e, SystemTime::now())
            }),
        Command::Metrics(MetricsCommand::List) => {
            ctx.show::<Vec<Metric>>(routes::METRICS, |m| format::metrics(m))
        }
        Command::Observe(_) => unreachable!("handled above"),
    }
}

/// The one-line message of a failed call: the agent's own message for an error answer.
pub fn agent_error(e: &ClientError) -> String {
    match e {
        ClientError::Unreachable { path, .. } => format!(
            "cannot reach the agent at {}: is cilium-agent running?",
            path.display()
        ),
        ClientError::Io { path, source } => {
            format!(
                "talking to the agent at {} failed: {source}",
                path.display()
            )
        }
        ClientError::Status { message, .. } => format!("Error: {message}"),
        ClientError::Protocol(m) => format!("bad answer from the agent: {m}"),
    }
}

/// Prints a failed call's message to stderr; returns [`EXIT_FAILURE`].
fn fail(e: ClientError) -> u8 {
    eprintln!("{}", agent_error(&e));
    EXIT_FAILURE
}

/// Writes `text` to stdout. A closed pipe (`cilium-dbg … | head`) is not an error.
pub fn emit(text: &str) -> u8 {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("cannot write the output: {e}");
            EXIT_FAILURE
        }
    }
}

/// Indented JSON with a final newline.
fn json(value: &impl Serialize) -> String {
    let mut s = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{}} // {e}"));
    s.push('\n');
    s
}

/// A command's client and output format.
struct Ctx {
    client: Client,
    output: Output,
}

impl Ctx {
    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.client.get(path)
    }

    /// `GET path`, printed as a table (or JSON).
    fn show<T: DeserializeOwned + Serialize>(&self, path: &str, table: fn(&T) -> String) -> u8 {
        match self.get::<T>(path) {
            Ok(v) => emit(&self.render(&v, table)),
            Err(e) => fail(e),
        }
    }

    fn render<T: Serialize>(&self, v: &T, table: fn(&T) -> String) -> String {
        match self.output {
            Output::Table => table(v),
            Output::Json => json(v),
        }
    }

    fn status_brief(&self) -> u8 {
        match self.client.status() {
            Ok(s) => {
                let code = emit(&format::status_brief(&s));
                if s.ready { code } else { EXIT_FAILURE }
            }
            Err(e) => fail(e),
        }
    }

    fn bpf_policy(&self, path: &str) -> u8 {
        match self.get::<Vec<BpfPolicyEntry>>(path) {
            Ok(entries) if entries.is_empty() && self.output == Output::Table => {
                eprintln!("Policy stats empty. Perhaps the policy enforcement is disabled?");
                EXIT_OK
            }
            Ok(entries) => emit(&self.render(&entries, |e| format::bpf_policy(e))),
            Err(e) => fail(e),
        }
    }

    fn policy_import(&self, file: &Path) -> u8 {
        let text = match read_policy(file) {
            Ok(t) => t,
            Err(code) => return code,
        };
        match self
            .client
            .call::<PolicyInfo>(method::PUT, routes::POLICY, Some(&text))
        {
            Ok(p) => emit(&self.render(&p, format::revision)),
            Err(e) => fail(e),
        }
    }

    fn policy_validate(&self, file: &Path) -> u8 {
        let text = match read_policy(file) {
            Ok(t) => t,
            Err(code) => return code,
        };
        let v =
            match self
                .client
                .call::<Validation>(method::POST, routes::POLICY_VALIDATE, Some(&text))
            {
                Ok(v) => v,
                Err(e) => return fail(e),
            };
        match (self.output, v.ok) {
            (Output::Json, ok) => {
                let code = emit(&json(&v));
                if ok { code } else { EXIT_FAILURE }
            }
            (Output::Table, true) => emit(&format::validation(&v)),
            (Output::Table, false) => {
                eprint!("{}", format::validation(&v));
                EXIT_FAILURE
            }
        }
    }

    fn policy_trace(&self, args: &TraceArgs) -> u8 {
        let req = match trace_request(args) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{e}");
                return EXIT_USAGE;
            }
        };
        match self
            .client
            .call::<TraceResult>(method::POST, routes::POLICY_TRACE, Some(&req))
        {
            Ok(r) => emit(&self.render(&r, format::trace)),
            Err(e) => fail(e),
        }
    }
}

/// A policy file (or stdin for `-`) as [`PolicyText`]: the source is the file name as given
/// (`api` for stdin, the agent's default).
fn read_policy(file: &Path) -> Result<PolicyText, u8> {
    let stdin = file == Path::new("-");
    let text = if stdin {
        let mut s = String::new();
        io::stdin().read_to_string(&mut s).map(|_| s)
    } else {
        std::fs::read_to_string(file)
    };
    match text {
        Ok(text) => Ok(PolicyText {
            source: (!stdin).then(|| file.display().to_string()),
            text,
        }),
        Err(e) => {
            eprintln!("cannot read {}: {e}", file.display());
            Err(EXIT_FAILURE)
        }
    }
}

/// `policy trace` flags as a [`TraceRequest`]: endpoint ids become `endpoint:N`; `--dport`
/// takes `N` or `N/PROTO`.
pub fn trace_request(args: &TraceArgs) -> Result<TraceRequest, String> {
    let mut src = args.src.clone();
    src.extend(args.src_endpoint.map(|id| format!("endpoint:{id}")));
    let mut dst = args.dst.clone();
    dst.extend(args.dst_endpoint.map(|id| format!("endpoint:{id}")));
    let mut protocol = args.protocol.as_deref().map(str::to_uppercase);
    let dport = match args.dport.as_deref() {
        None => None,
        Some(d) => {
            let (port, proto) = match d.split_once('/') {
                Some((p, proto)) => (p, Some(proto.to_uppercase())),
                None => (d, None),
            };
            if let Some(proto) = proto {
                match &protocol {
                    Some(p) if *p != proto => {
                        return Err(format!("--dport {d} and --protocol {p} disagree"));
                    }
                    _ => protocol = Some(proto),
                }
            }
            Some(
                port.parse::<u16>()
                    .map_err(|_| format!("--dport {d}: expected a port number or N/PROTO"))?,
            )
        }
    };
    Ok(TraceRequest {
        src,
        dst,
        dport,
        protocol,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace_args(dport: Option<&str>, protocol: Option<&str>) -> TraceArgs {
        TraceArgs {
            src: vec!["k8s:app=a".into()],
            dst: vec![],
            src_endpoint: None,
            dst_endpoint: Some(3),
            dport: dport.map(str::to_owned),
            protocol: protocol.map(str::to_owned),
        }
    }

    #[test]
    fn trace_requests() {
        let r = trace_request(&trace_args(Some("80/tcp"), None)).unwrap();
        assert_eq!(
            r,
            TraceRequest {
                src: vec!["k8s:app=a".into()],
                dst: vec!["endpoint:3".into()],
                dport: Some(80),
                protocol: Some("TCP".into()),
            }
        );
        let r = trace_request(&trace_args(Some("53"), Some("udp"))).unwrap();
        assert_eq!((r.dport, r.protocol.as_deref()), (Some(53), Some("UDP")));
        assert!(trace_request(&trace_args(Some("53/TCP"), Some("udp"))).is_err());
        assert!(trace_request(&trace_args(Some("http"), None)).is_err());
    }

    #[test]
    fn error_lines() {
        let e = ClientError::Unreachable {
            path: "/run/x.sock".into(),
            source: io::Error::from(io::ErrorKind::NotFound),
        };
        assert_eq!(
            agent_error(&e),
            "cannot reach the agent at /run/x.sock: is cilium-agent running?"
        );
        let e = ClientError::Status {
            status: 404,
            message: "endpoint 9 not found".into(),
        };
        assert_eq!(agent_error(&e), "Error: endpoint 9 not found");
    }
}
