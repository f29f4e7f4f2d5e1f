//! Hubble's flow filters: [`FlowFilter`] allowlists and denylists, compiled once and then
//! matched against [`Flow`]s without allocating (the one exception: percent-decoding an
//! escaped HTTP path longer than 1 KiB). Pure.
//!
//! Semantics are Hubble's (`pkg/hubble/filters` in Cilium):
//!
//! - A [`FlowFilterSet`] passes a flow when it matches at least one allowlist filter (or the
//!   allowlist is empty) and no denylist filter.
//! - Within one [`FlowFilter`] every non-empty field must match (AND); within a field any
//!   value may match (OR). An empty `FlowFilter` matches every flow.
//! - IPs are addresses (compared as addresses, so `2001:db8::1` also matches `2001:DB8:0::1`;
//!   Hubble compares the text) or CIDRs; pods and services are `namespace/name-prefix`, `namespace/`
//!   (the whole namespace) or `name-prefix` (in namespace `default`); FQDNs and node names are
//!   patterns where `*` stands for any run of `[-.0-9a-z]` (node names `cluster/node`, the
//!   cluster of a node name without `/` being `default`); labels are Kubernetes selectors whose
//!   keys may carry a source (`k8s:app=web`), a key without one matching every source;
//!   `dns_query` and `http_path` are regular expressions; `http_status_code` is `404`, `4+` or
//!   `40+`; `tcp_flags` match when every flag set in the filter is set in the flow; `reply`
//!   treats a dropped flow without `is_reply` as not a reply and never matches other flows
//!   without it.
//! - A value that cannot be compiled is a [`FilterError`] naming the field and the value.
//!
//! ```
//! use cilium_hubble::filter::{FilterError, FlowFilterSet};
//! use cilium_hubble::proto::flow::{Endpoint, Flow, FlowFilter, Verdict};
//!
//! let allow = FlowFilter { source_pod: vec!["shop/frontend".into()], ..Default::default() };
//! let deny = FlowFilter { verdict: vec![Verdict::Dropped as i32], ..Default::default() };
//! let filters = FlowFilterSet::new(&[allow], &[deny])?;
//!
//! let source = Endpoint { namespace: "shop".into(), pod_name: "frontend-7d9c".into(), ..Default::default() };
//! let mut flow = Flow { source: Some(source), verdict: Verdict::Forwarded as i32, ..Default::default() };
//! assert!(filters.matches(&flow));
//! flow.verdict = Verdict::Dropped as i32;
//! assert!(!filters.matches(&flow));
//!
//! let bad = FlowFilter { source_ip: vec!["10.0.0.300".into()], ..Default::default() };
//! let err = FlowFilterSet::new(&[bad], &[]).unwrap_err();
//! assert_eq!(err.field(), "source_ip");
//! # Ok::<(), FilterError>(())
//! ```

use std::net::IpAddr;

use cilium_core::Cidr;
use regex::Regex;

use crate::names::MESSAGE_TYPE_ACCESS_LOG;
use crate::proto::flow::{
    Endpoint, EventTypeFilter, Flow, FlowFilter, Service, TcpFlags, Verdict, layer4, layer7,
};

/// The cluster name Hubble assumes for a node name without a `cluster/` part.
const DEFAULT_CLUSTER: &str = "default";

/// The namespace Hubble assumes for a pod or service filter without a `namespace/` part.
const DEFAULT_NAMESPACE: &str = "default";

/// What an empty cluster or node element of a node name pattern matches: one or more
/// dot-separated runs of `[-0-9_a-z]`.
const ANY_FQDN_REGEX: &str = r"(?:[-0-9_a-z]+(?:\.[-0-9_a-z]+)*)";

/// An error compiling a [`FlowFilter`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// A value of a field cannot be compiled.
    #[error("{field}: {value:?} is invalid: {reason}")]
    Invalid {
        /// The `FlowFilter` field, as the proto names it (`source_ip`).
        field: &'static str,
        /// The value given.
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// An HTTP field is set together with an `event_type` filter that cannot match L7
    /// events, so the filter could never match (Hubble refuses it the same way).
    #[error("{field}: filtering by HTTP fields requires the event_type filter to match l7 events")]
    NeedsL7EventType {
        /// The HTTP field (`http_status_code`, `http_method` or `http_path`).
        field: &'static str,
    },
}

impl FilterError {
    /// The `FlowFilter` field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            FilterError::Invalid { field, .. } | FilterError::NeedsL7EventType { field } => field,
        }
    }
}

fn invalid(field: &'static str, value: &str, reason: impl Into<String>) -> FilterError {
    FilterError::Invalid {
        field,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// A compiled allowlist and denylist of [`FlowFilter`]s, as in `GetFlowsRequest`.
#[derive(Debug, Clone, Default)]
pub struct FlowFilterSet {
    allow: Vec<CompiledFilter>,
    deny: Vec<CompiledFilter>,
}

impl FlowFilterSet {
    /// Compiles both lists.
    ///
    /// # Errors
    ///
    /// The first [`FilterError`] of any filter: an invalid value names its field and value.
    pub fn new(allow: &[FlowFilter], deny: &[FlowFilter]) -> Result<Self, FilterError> {
        Ok(FlowFilterSet {
            allow: allow
                .iter()
                .map(CompiledFilter::new)
                .collect::<Result<_, _>>()?,
            deny: deny
                .iter()
                .map(CompiledFilter::new)
                .collect::<Result<_, _>>()?,
        })
    }

    /// Whether `flow` passes: it matches an allowlist filter (or the allowlist is empty) and
    /// no denylist filter.
    pub fn matches(&self, flow: &Flow) -> bool {
        (self.allow.is_empty() || self.allow.iter().any(|f| f.matches(flow)))
            && !self.deny.iter().any(|f| f.matches(flow))
    }

    /// Whether both lists are empty (every flow passes).
    pub fn is_empty(&self) -> bool {
        self.allow.is_empty() && self.deny.is_empty()
    }
}

/// One compiled [`FlowFilter`]: the checks of its non-empty fields, cheapest first.
#[derive(Debug, Clone)]
pub struct CompiledFilter {
    checks: Vec<Check>,
}

impl CompiledFilter {
    /// Compiles one filter.
    ///
    /// # Errors
    ///
    /// [`FilterError::Invalid`] for a value that cannot be compiled (an IP, CIDR, pod,
    /// service, FQDN or node name pattern, label selector, HTTP status code, protocol, port
    /// or regular expression), [`FilterError::NeedsL7EventType`] for an HTTP field with an
    /// `event_type` filter that excludes L7 events.
    pub fn new(f: &FlowFilter) -> Result<Self, FilterError> {
        use Side::{Destination, Source};

        for (field, set) in [
            ("http_status_code", !f.http_status_code.is_empty()),
            ("http_method", !f.http_method.is_empty()),
            ("http_path", !f.http_path.is_empty()),
        ] {
            let l7_possible = f.event_type.is_empty()
                || f.event_type
                    .iter()
                    .any(|t| t.r#type == MESSAGE_TYPE_ACCESS_LOG);
            if set && !l7_possible {
                return Err(FilterError::NeedsL7EventType { field });
            }
        }

        // Pushed roughly in order of cost, so a flow usually fails on a cheap check first.
        let mut checks = Vec::new();
        if !f.event_type.is_empty() {
            checks.push(Check::EventType(f.event_type.clone()));
        }
        if !f.verdict.is_empty() {
            checks.push(Check::Verdict(f.verdict.clone()));
        }
        if !f.traffic_direction.is_empty() {
            checks.push(Check::TrafficDirection(f.traffic_direction.clone()));
        }
        if !f.ip_version.is_empty() {
            checks.push(Check::IpVersion(f.ip_version.clone()));
        }
        if !f.reply.is_empty() {
            checks.push(Check::Reply {
                when_true: f.reply.contains(&true),
                when_false: f.reply.contains(&false),
            });
        }
        if !f.source_identity.is_empty() {
            checks.push(Check::Identity(Source, f.source_identity.clone()));
        }
        if !f.destination_identity.is_empty() {
            checks.push(Check::Identity(Destination, f.destination_identity.clone()));
        }
        if !f.protocol.is_empty() {
            checks.push(Check::Protocol(compile_protocols(&f.protocol)?));
        }
        if !f.source_port.is_empty() {
            checks.push(Check::Port(
                Source,
                compile_ports("source_port", &f.source_port)?,
            ));
        }
        if !f.destination_port.is_empty() {
            let ports = compile_ports("destination_port", &f.destination_port)?;
            checks.push(Check::Port(Destination, ports));
        }
        if !f.tcp_flags.is_empty() {
            checks.push(Check::TcpFlags(
                f.tcp_flags.iter().map(tcp_flag_bits).collect(),
            ));
        }
        if !f.http_status_code.is_empty() {
            checks.push(Check::HttpStatus(compile_status_codes(
                &f.http_status_code,
            )?));
        }
        if !f.uuid.is_empty() {
            checks.push(Check::Uuid(f.uuid.clone()));
        }
        if !f.trace_id.is_empty() {
            checks.push(Check::TraceId(f.trace_id.clone()));
        }
        if !f.http_method.is_empty() {
            checks.push(Check::HttpMethod(f.http_method.clone()));
        }
        if !f.source_workload.is_empty() {
            checks.push(Check::Workload(Source, workloads(&f.source_workload)));
        }
        if !f.destination_workload.is_empty() {
            checks.push(Check::Workload(
                Destination,
                workloads(&f.destination_workload),
            ));
        }
        if !f.source_pod.is_empty() {
            let names = compile_names("source_pod", &f.source_pod)?;
            checks.push(Check::Pod(Source, names));
        }
        if !f.destination_pod.is_empty() {
            let names = compile_names("destination_pod", &f.destination_pod)?;
            checks.push(Check::Pod(Destination, names));
        }
        if !f.source_service.is_empty() {
            let names = compile_names("source_service", &f.source_service)?;
            checks.push(Check::Service(Source, names));
        }
        if !f.destination_service.is_empty() {
            let names = compile_names("destination_service", &f.destination_service)?;
            checks.push(Check::Service(Destination, names));
        }
        if !f.source_ip.is_empty() {
            checks.push(Check::Ip(
                Source,
                IpMatcher::new("source_ip", &f.source_ip)?,
            ));
        }
        if !f.destination_ip.is_empty() {
            let ips = IpMatcher::new("destination_ip", &f.destination_ip)?;
            checks.push(Check::Ip(Destination, ips));
        }
        if !f.node_name.is_empty() {
            checks.push(Check::NodeName(NodeNameMatcher::new(&f.node_name)?));
        }
        if !f.source_label.is_empty() {
            let selectors = compile_selectors("source_label", &f.source_label)?;
            checks.push(Check::Label(Source, selectors));
        }
        if !f.destination_label.is_empty() {
            let selectors = compile_selectors("destination_label", &f.destination_label)?;
            checks.push(Check::Label(Destination, selectors));
        }
        if !f.source_fqdn.is_empty() {
            let re = compile_fqdn_patterns("source_fqdn", &f.source_fqdn)?;
            checks.push(Check::Fqdn(Source, re));
        }
        if !f.destination_fqdn.is_empty() {
            let re = compile_fqdn_patterns("destination_fqdn", &f.destination_fqdn)?;
            checks.push(Check::Fqdn(Destination, re));
        }
        if !f.dns_query.is_empty() {
            let res = f
                .dns_query
                .iter()
                .map(|p| Regex::new(p).map_err(|e| invalid("dns_query", p, e.to_string())))
                .collect::<Result<_, _>>()?;
            checks.push(Check::DnsQuery(res));
        }
        if !f.http_path.is_empty() {
            let res = f
                .http_path
                .iter()
                .map(|p| {
                    regex::bytes::Regex::new(p).map_err(|e| invalid("http_path", p, e.to_string()))
                })
                .collect::<Result<_, _>>()?;
            checks.push(Check::HttpPath(res));
        }
        Ok(CompiledFilter { checks })
    }

    /// Whether `flow` matches every non-empty field of the filter.
    pub fn matches(&self, flow: &Flow) -> bool {
        self.checks.iter().all(|c| c.matches(flow))
    }
}

/// Which end of a flow a field is about.
#[derive(Debug, Clone, Copy)]
enum Side {
    Source,
    Destination,
}

impl Side {
    fn endpoint(self, flow: &Flow) -> Option<&Endpoint> {
        match self {
            Side::Source => flow.source.as_ref(),
            Side::Destination => flow.destination.as_ref(),
        }
    }

    fn ip(self, flow: &Flow) -> &str {
        flow.ip.as_ref().map_or("", |ip| match self {
            Side::Source => ip.source.as_str(),
            Side::Destination => ip.destination.as_str(),
        })
    }

    fn names(self, flow: &Flow) -> &[String] {
        match self {
            Side::Source => &flow.source_names,
            Side::Destination => &flow.destination_names,
        }
    }

    fn service(self, flow: &Flow) -> Option<&Service> {
        match self {
            Side::Source => flow.source_service.as_ref(),
            Side::Destination => flow.destination_service.as_ref(),
        }
    }

    /// The TCP, UDP or SCTP port (Hubble's ports are 16 bits; the proto's are 32).
    fn port(self, flow: &Flow) -> Option<u16> {
        let (src, dst) = match flow.l4.as_ref()?.protocol.as_ref()? {
            layer4::Protocol::Tcp(t) => (t.source_port, t.destination_port),
            layer4::Protocol::Udp(u) => (u.source_port, u.destination_port),
            layer4::Protocol::Sctp(s) => (s.source_port, s.destination_port),
            layer4::Protocol::IcmPv4(_) | layer4::Protocol::IcmPv6(_) => return None,
        };
        let port = match self {
            Side::Source => src,
            Side::Destination => dst,
        };
        Some(port as u16)
    }
}

/// The check of one non-empty `FlowFilter` field.
#[derive(Debug, Clone)]
enum Check {
    EventType(Vec<EventTypeFilter>),
    Verdict(Vec<i32>),
    TrafficDirection(Vec<i32>),
    IpVersion(Vec<i32>),
    Reply {
        when_true: bool,
        when_false: bool,
    },
    Identity(Side, Vec<u32>),
    /// Bits of [`protocol_bits`].
    Protocol(u8),
    Port(Side, Vec<u16>),
    /// Bits of [`tcp_flag_bits`], one entry per filter value.
    TcpFlags(Vec<u16>),
    HttpStatus(Vec<StatusCode>),
    Uuid(Vec<String>),
    TraceId(Vec<String>),
    HttpMethod(Vec<String>),
    /// (name, kind); an empty part matches any.
    Workload(Side, Vec<(String, String)>),
    Pod(Side, Vec<NamePrefix>),
    Service(Side, Vec<NamePrefix>),
    Ip(Side, IpMatcher),
    NodeName(NodeNameMatcher),
    Label(Side, Vec<Selector>),
    /// All patterns of the field as one anchored regex.
    Fqdn(Side, Regex),
    DnsQuery(Vec<Regex>),
    /// Byte regexes: a percent-decoded path need not be UTF-8.
    HttpPath(Vec<regex::bytes::Regex>),
}

impl Check {
    fn matches(&self, flow: &Flow) -> bool {
        match self {
            Check::EventType(filters) => {
                let Some(event) = flow.event_type.as_ref() else {
                    return false;
                };
                filters.iter().any(|f| {
                    (f.r#type == 0 || f.r#type == event.r#type)
                        && (!f.match_sub_type || f.sub_type == event.sub_type)
                })
            }
            Check::Verdict(verdicts) => verdicts.contains(&flow.verdict),
            Check::TrafficDirection(directions) => directions.contains(&flow.traffic_direction),
            Check::IpVersion(versions) => {
                let version = flow.ip.as_ref().map_or(0, |ip| ip.ip_version);
                versions.contains(&version)
            }
            Check::Reply {
                when_true,
                when_false,
            } => {
                // Hubble: a flow without is_reply never matches, except a dropped one, which
                // counts as not a reply (what the deprecated `reply` field said of drops).
                let reply = match flow.is_reply.as_ref() {
                    Some(r) => r.value,
                    None if flow.verdict == Verdict::Dropped as i32 => false,
                    None => return false,
                };
                if reply { *when_true } else { *when_false }
            }
            Check::Identity(side, ids) => side
                .endpoint(flow)
                .is_some_and(|ep| ids.contains(&ep.identity)),
            Check::Protocol(mask) => protocol_bits(flow) & mask != 0,
            Check::Port(side, ports) => side.port(flow).is_some_and(|p| ports.contains(&p)),
            Check::TcpFlags(wanted) => {
                let Some(flags) = tcp_flags(flow) else {
                    return false;
                };
                let have = tcp_flag_bits(flags);
                wanted.iter().any(|w| have & w == *w)
            }
            Check::HttpStatus(codes) => {
                let Some(http) = http(flow) else {
                    return false;
                };
                if http.code == 0 {
                    return false;
                }
                let mut buf = [0u8; 10];
                let text = status_text(http.code, &mut buf);
                codes.iter().any(|c| c.matches(text))
            }
            Check::Uuid(uuids) => uuids.contains(&flow.uuid),
            Check::TraceId(ids) => {
                let id = flow
                    .trace_context
                    .as_ref()
                    .and_then(|t| t.parent.as_ref())
                    .map_or("", |p| p.trace_id.as_str());
                ids.iter().any(|t| t == id)
            }
            Check::HttpMethod(methods) => {
                let Some(http) = http(flow) else {
                    return false;
                };
                !http.method.is_empty() && methods.iter().any(|m| eq_fold(m, &http.method))
            }
            Check::Workload(side, wanted) => side.endpoint(flow).is_some_and(|ep| {
                ep.workloads.iter().any(|w| {
                    wanted.iter().any(|(name, kind)| {
                        (name.is_empty() || *name == w.name) && (kind.is_empty() || *kind == w.kind)
                    })
                })
            }),
            Check::Pod(side, names) => {
                let (ns, pod) = side
                    .endpoint(flow)
                    .map_or(("", ""), |ep| (ep.namespace.as_str(), ep.pod_name.as_str()));
                NamePrefix::any_matches(names, ns, pod)
            }
            Check::Service(side, names) => {
                let (ns, svc) = side
                    .service(flow)
                    .map_or(("", ""), |s| (s.namespace.as_str(), s.name.as_str()));
                NamePrefix::any_matches(names, ns, svc)
            }
            Check::Ip(side, m) => m.matches(side.ip(flow)),
            Check::NodeName(m) => m.matches(&flow.node_name),
            Check::Label(side, selectors) => {
                let labels = side.endpoint(flow).map_or(&[][..], |ep| &ep.labels[..]);
                selectors.iter().any(|s| s.matches(labels))
            }
            Check::Fqdn(side, re) => side.names(flow).iter().any(|n| re.is_match(n)),
            Check::DnsQuery(res) => match flow.l7.as_ref().and_then(|l7| l7.record.as_ref()) {
                Some(layer7::Record::Dns(dns)) => res.iter().any(|re| re.is_match(&dns.query)),
                _ => false,
            },
            Check::HttpPath(res) => {
                let Some(http) = http(flow) else {
                    return false;
                };
                let Some(raw_path) = request_uri_path(&http.url) else {
                    return false;
                };
                with_unescaped_path(raw_path, |path| res.iter().any(|re| re.is_match(path)))
                    .unwrap_or(false)
            }
        }
    }
}

fn http(flow: &Flow) -> Option<&crate::proto::flow::Http> {
    match flow.l7.as_ref()?.record.as_ref()? {
        layer7::Record::Http(h) => Some(h),
        _ => None,
    }
}

fn tcp_flags(flow: &Flow) -> Option<&TcpFlags> {
    match flow.l4.as_ref()?.protocol.as_ref()? {
        layer4::Protocol::Tcp(t) => t.flags.as_ref(),
        _ => None,
    }
}

/// Go's `strings.EqualFold` for the strings HTTP methods are: ASCII case-insensitive, with a
/// Unicode lower-casing comparison for anything else.
fn eq_fold(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

// ---- protocol ----

const PROTO_TCP: u8 = 1 << 0;
const PROTO_UDP: u8 = 1 << 1;
const PROTO_ICMPV4: u8 = 1 << 2;
const PROTO_ICMPV6: u8 = 1 << 3;
const PROTO_SCTP: u8 = 1 << 4;
const PROTO_DNS: u8 = 1 << 5;
const PROTO_HTTP: u8 = 1 << 6;
const PROTO_KAFKA: u8 = 1 << 7;

fn compile_protocols(values: &[String]) -> Result<u8, FilterError> {
    values.iter().try_fold(0u8, |mask, value| {
        let bits = match value.to_ascii_lowercase().as_str() {
            "tcp" => PROTO_TCP,
            "udp" => PROTO_UDP,
            "icmp" => PROTO_ICMPV4 | PROTO_ICMPV6,
            "icmpv4" => PROTO_ICMPV4,
            "icmpv6" => PROTO_ICMPV6,
            "sctp" => PROTO_SCTP,
            "dns" => PROTO_DNS,
            "http" => PROTO_HTTP,
            "kafka" => PROTO_KAFKA,
            _ => {
                return Err(invalid(
                    "protocol",
                    value,
                    "unknown protocol (tcp, udp, icmp, icmpv4, icmpv6, sctp, dns, http, kafka)",
                ));
            }
        };
        Ok(mask | bits)
    })
}

/// The protocol bits of a flow: its L4 message and its L7 record.
fn protocol_bits(flow: &Flow) -> u8 {
    let l4 = match flow.l4.as_ref().and_then(|l4| l4.protocol.as_ref()) {
        Some(layer4::Protocol::Tcp(_)) => PROTO_TCP,
        Some(layer4::Protocol::Udp(_)) => PROTO_UDP,
        Some(layer4::Protocol::IcmPv4(_)) => PROTO_ICMPV4,
        Some(layer4::Protocol::IcmPv6(_)) => PROTO_ICMPV6,
        Some(layer4::Protocol::Sctp(_)) => PROTO_SCTP,
        None => 0,
    };
    let l7 = match flow.l7.as_ref().and_then(|l7| l7.record.as_ref()) {
        Some(layer7::Record::Dns(_)) => PROTO_DNS,
        Some(layer7::Record::Http(_)) => PROTO_HTTP,
        Some(layer7::Record::Kafka(_)) => PROTO_KAFKA,
        None => 0,
    };
    l4 | l7
}

// ---- ports, TCP flags, HTTP status ----

fn compile_ports(field: &'static str, values: &[String]) -> Result<Vec<u16>, FilterError> {
    values
        .iter()
        .map(|v| {
            // Like Go's ParseUint(v, 10, 16): decimal digits only, no sign.
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(field, v, "not a port number"));
            }
            v.parse::<u16>()
                .map_err(|_| invalid(field, v, "port number out of range (0-65535)"))
        })
        .collect()
}

fn tcp_flag_bits(f: &TcpFlags) -> u16 {
    [f.fin, f.syn, f.rst, f.psh, f.ack, f.urg, f.ece, f.cwr, f.ns]
        .iter()
        .enumerate()
        .fold(0, |bits, (i, set)| if *set { bits | 1 << i } else { bits })
}

/// An HTTP status code filter: a full code (`404`) or a prefix (`4+`, `40+`).
#[derive(Debug, Clone)]
enum StatusCode {
    Full([u8; 3]),
    Prefix(Vec<u8>),
}

impl StatusCode {
    /// `text` is the flow's code as Go's `%03d` prints it.
    fn matches(&self, text: &[u8]) -> bool {
        match self {
            StatusCode::Full(code) => text == code,
            StatusCode::Prefix(prefix) => text.starts_with(prefix),
        }
    }
}

fn compile_status_codes(values: &[String]) -> Result<Vec<StatusCode>, FilterError> {
    values
        .iter()
        .map(|v| {
            let b = v.as_bytes();
            let first_ok = b.first().is_some_and(|c| (b'1'..=b'5').contains(c));
            match b {
                [_, d1, d2] if first_ok && d1.is_ascii_digit() && d2.is_ascii_digit() => {
                    Ok(StatusCode::Full([b[0], *d1, *d2]))
                }
                [_, b'+'] if first_ok => Ok(StatusCode::Prefix(b[..1].to_vec())),
                [_, d1, b'+'] if first_ok && d1.is_ascii_digit() => {
                    Ok(StatusCode::Prefix(b[..2].to_vec()))
                }
                _ => Err(invalid(
                    "http_status_code",
                    v,
                    "not a status code (100-599) or a prefix such as 4+ or 40+",
                )),
            }
        })
        .collect()
}

/// `code` in decimal, zero-padded to at least three digits.
fn status_text(code: u32, buf: &mut [u8; 10]) -> &[u8] {
    let mut n = code;
    let mut start = buf.len();
    while n > 0 || buf.len() - start < 3 {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    &buf[start..]
}

fn workloads(values: &[crate::proto::flow::Workload]) -> Vec<(String, String)> {
    values
        .iter()
        .map(|w| (w.name.clone(), w.kind.clone()))
        .collect()
}

// ---- pods and services ----

/// A `namespace/name-prefix` filter; an empty prefix matches the whole namespace.
#[derive(Debug, Clone)]
struct NamePrefix {
    namespace: String,
    prefix: String,
}

impl NamePrefix {
    fn any_matches(filters: &[NamePrefix], namespace: &str, name: &str) -> bool {
        if namespace.is_empty() && name.is_empty() {
            return false;
        }
        filters
            .iter()
            .any(|f| f.namespace == namespace && name.starts_with(f.prefix.as_str()))
    }
}

/// Hubble's rule: `ns/prefix` (text after a second `/` is ignored), `ns/` for the whole
/// namespace, and a value without `/` is a name prefix in namespace `default`.
fn compile_names(field: &'static str, values: &[String]) -> Result<Vec<NamePrefix>, FilterError> {
    values
        .iter()
        .map(|v| {
            let mut parts = v.split('/');
            let first = parts.next().unwrap_or("");
            let (namespace, prefix) = match parts.next() {
                Some(name) => (first, name),
                None if first.is_empty() => ("", ""),
                None => (DEFAULT_NAMESPACE, first),
            };
            if namespace.is_empty() && prefix.is_empty() {
                return Err(invalid(field, v, "must be [namespace/][name-prefix]"));
            }
            Ok(NamePrefix {
                namespace: namespace.to_owned(),
                prefix: prefix.to_owned(),
            })
        })
        .collect()
}

// ---- IPs ----

#[derive(Debug, Clone)]
struct IpMatcher {
    /// Exact addresses: the text given and the address it parses to.
    exact: Vec<(String, IpAddr)>,
    cidrs: Vec<Cidr>,
}

impl IpMatcher {
    fn new(field: &'static str, values: &[String]) -> Result<Self, FilterError> {
        let mut m = IpMatcher {
            exact: Vec::new(),
            cidrs: Vec::new(),
        };
        for v in values {
            if v.contains('/') {
                let cidr = v
                    .parse::<Cidr>()
                    .map_err(|e| invalid(field, v, format!("not a CIDR: {e}")))?;
                m.cidrs.push(cidr);
            } else {
                let addr = v
                    .parse::<IpAddr>()
                    .map_err(|_| invalid(field, v, "not an IP address"))?;
                m.exact.push((v.clone(), addr));
            }
        }
        Ok(m)
    }

    fn matches(&self, ip: &str) -> bool {
        if ip.is_empty() {
            return false;
        }
        if self.exact.iter().any(|(text, _)| text == ip) {
            return true;
        }
        let Ok(addr) = ip.parse::<IpAddr>() else {
            return false;
        };
        if self.exact.iter().any(|(_, a)| *a == addr) {
            return true;
        }
        // Like Go's IPNet.Contains: an IPv4-mapped IPv6 address is in IPv4 networks.
        let addr = addr.to_canonical();
        self.cidrs.iter().any(|c| c.contains_addr(addr))
    }
}

// ---- FQDN and node name patterns ----

/// The regex of one FQDN pattern (not anchored): trimmed, one trailing dot removed,
/// lower-cased; `*` is any run of `[-.0-9a-z]`; only `[-0-9_a-z.*]` are allowed.
fn fqdn_pattern_regex(pattern: &str) -> Result<String, String> {
    let trimmed = pattern.trim();
    let p = trimmed.strip_suffix('.').unwrap_or(trimmed).to_lowercase();
    if p.is_empty() {
        return Err("empty pattern".into());
    }
    if p.ends_with('.') {
        return Err("multiple trailing dots in pattern".into());
    }
    let mut re = String::with_capacity(p.len() * 2);
    for c in p.chars() {
        match c {
            '.' => re.push_str(r"\."),
            '*' => re.push_str("[-.0-9a-z]*"),
            '-' | '_' | '0'..='9' | 'a'..='z' => re.push(c),
            _ => return Err(format!("{c:?} is not allowed in a pattern")),
        }
    }
    Ok(re)
}

fn anchored(alternatives: &[String]) -> Regex {
    let re = format!(r"\A(?:{})\z", alternatives.join("|"));
    // Built only from escaped literals and fixed classes, so it always compiles.
    Regex::new(&re).expect("generated pattern regex is valid")
}

fn compile_fqdn_patterns(field: &'static str, values: &[String]) -> Result<Regex, FilterError> {
    let alternatives = values
        .iter()
        .map(|v| fqdn_pattern_regex(v).map_err(|reason| invalid(field, v, reason)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(anchored(&alternatives))
}

/// Node name patterns `[cluster/]node`, each part an FQDN pattern, an empty part matching any
/// name; a pattern without `/` matches that node in every cluster. A flow's node name without
/// `/` is in cluster `default`.
#[derive(Debug, Clone)]
struct NodeNameMatcher {
    /// Matches `cluster/node`.
    qualified: Regex,
    /// Matches the node part of the patterns whose cluster part matches `default`; `None`
    /// when there are none.
    default_cluster: Option<Regex>,
}

impl NodeNameMatcher {
    fn new(values: &[String]) -> Result<Self, FilterError> {
        let element = |v: &String, e: &str| {
            if e.is_empty() {
                Ok(ANY_FQDN_REGEX.to_owned())
            } else {
                fqdn_pattern_regex(e).map_err(|reason| invalid("node_name", v, reason))
            }
        };
        let mut qualified = Vec::with_capacity(values.len());
        let mut default_nodes = Vec::new();
        for v in values {
            if v.is_empty() {
                return Err(invalid("node_name", v, "empty pattern"));
            }
            let parts: Vec<&str> = v.split('/').collect();
            let (cluster, node) = match parts[..] {
                [node] => ("", node),
                [cluster, node] => (cluster, node),
                _ => return Err(invalid("node_name", v, "too many slashes in pattern")),
            };
            let cluster_re = element(v, cluster)?;
            let node_re = element(v, node)?;
            if anchored(std::slice::from_ref(&cluster_re)).is_match(DEFAULT_CLUSTER) {
                default_nodes.push(node_re.clone());
            }
            qualified.push(format!("{cluster_re}/{node_re}"));
        }
        Ok(NodeNameMatcher {
            qualified: anchored(&qualified),
            default_cluster: (!default_nodes.is_empty()).then(|| anchored(&default_nodes)),
        })
    }

    fn matches(&self, node_name: &str) -> bool {
        if node_name.is_empty() {
            return false;
        }
        if node_name.contains('/') {
            self.qualified.is_match(node_name)
        } else {
            self.default_cluster
                .as_ref()
                .is_some_and(|re| re.is_match(node_name))
        }
    }
}

// ---- HTTP paths ----

/// The raw (still escaped) path of a URL as Go's `url.ParseRequestURI` finds it, `None` where
/// it fails. A scheme with a non-`/` rest is opaque and has an empty path.
fn request_uri_path(url: &str) -> Option<&str> {
    if url.is_empty() || url.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return None;
    }
    if url == "*" {
        return Some("*");
    }
    let (scheme, rest) = split_scheme(url)?;
    let rest = match rest.strip_suffix('?') {
        Some(r) if !r.contains('?') => r,
        _ => rest.split_once('?').map_or(rest, |(path, _query)| path),
    };
    if !rest.starts_with('/') {
        return if scheme.is_empty() { None } else { Some("") };
    }
    if !scheme.is_empty()
        && let Some(after) = rest.strip_prefix("//")
    {
        let (authority, path) = after.find('/').map_or((after, ""), |i| after.split_at(i));
        if !authority_ok(authority) {
            return None;
        }
        return Some(path);
    }
    Some(rest)
}

/// Go's `getScheme`: `None` for a leading `:` (missing scheme), an empty scheme when the text
/// before the first `:` is not a scheme.
fn split_scheme(url: &str) -> Option<(&str, &str)> {
    for (i, b) in url.bytes().enumerate() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return None,
            b':' => return Some((&url[..i], &url[i + 1..])),
            _ => return Some(("", url)),
        }
    }
    Some(("", url))
}

/// The host checks of Go's `parseAuthority` that matter here: a bracketed IPv6 literal must be
/// closed and a port must be decimal.
fn authority_ok(authority: &str) -> bool {
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if let Some(rest) = host.strip_prefix('[') {
        match rest.find(']') {
            Some(i) => &rest[i + 1..],
            None => return false,
        }
    } else {
        host.rfind(':').map_or("", |i| &host[i..])
    };
    match port.strip_prefix(':') {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_digit()),
        None => port.is_empty(),
    }
}

/// Calls `f` with the percent-decoded `path`, `None` for a bad escape. Decodes into a stack
/// buffer; only a path longer than it that also has escapes is decoded on the heap.
fn with_unescaped_path<R>(path: &str, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    if !path.contains('%') {
        return Some(f(path.as_bytes()));
    }
    let mut stack = [0u8; 1024];
    let mut heap = Vec::new();
    let out: &mut [u8] = if path.len() <= stack.len() {
        &mut stack[..]
    } else {
        heap.resize(path.len(), 0);
        &mut heap[..]
    };
    let bytes = path.as_bytes();
    let (mut i, mut n) = (0, 0);
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            out[n] = hi << 4 | lo;
            i += 3;
        } else {
            out[n] = bytes[i];
            i += 1;
        }
        n += 1;
    }
    Some(f(&out[..n]))
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

// ---- label selectors ----

fn compile_selectors(field: &'static str, values: &[String]) -> Result<Vec<Selector>, FilterError> {
    values
        .iter()
        .map(|v| Selector::parse(v).map_err(|reason| invalid(field, v, reason)))
        .collect()
}

/// A Kubernetes label selector over Cilium labels: all requirements must hold; no
/// requirements (an empty selector) matches everything.
#[derive(Debug, Clone)]
struct Selector {
    requirements: Vec<Requirement>,
}

/// One requirement of a selector, on the first label whose source and key match.
#[derive(Debug, Clone)]
struct Requirement {
    /// `None` matches labels of every source.
    source: Option<String>,
    key: String,
    /// For source `cidr`: the prefix of the key; a `cidr` label within it also matches.
    cidr: Option<Cidr>,
    op: Op,
}

#[derive(Debug, Clone)]
enum Op {
    Exists,
    DoesNotExist,
    In(Vec<String>),
    NotIn(Vec<String>),
    Gt(i64),
    Lt(i64),
}

impl Selector {
    fn matches(&self, labels: &[String]) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Parses Kubernetes selector syntax (`a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`,
    /// `a notin (x)`, `a>1`, `a<1`, comma = AND) with keys that may carry a Cilium source
    /// (`k8s:app`): Hubble rewrites `src:key` to `src.key` and a key without a source to
    /// `any.key`, validates that as a Kubernetes label key, then takes the text before the
    /// first `.` as the source.
    fn parse(input: &str) -> Result<Selector, String> {
        let mut lx = Lexer { s: input, pos: 0 };
        let mut requirements = Vec::new();
        if lx.peek() == Tok::End {
            return Ok(Selector { requirements });
        }
        loop {
            requirements.push(parse_requirement(&mut lx)?);
            match lx.next() {
                Tok::End => return Ok(Selector { requirements }),
                Tok::Comma => match lx.peek() {
                    Tok::Ident(_) | Tok::Not => {}
                    t => return Err(format!("found {t}, expected: identifier after ','")),
                },
                t => return Err(format!("found {t}, expected: ',' or end of string")),
            }
        }
    }
}

impl Requirement {
    fn matches(&self, labels: &[String]) -> bool {
        let value = self.lookup(labels);
        match &self.op {
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::In(values) => value.is_some_and(|v| values.iter().any(|x| x == v)),
            Op::NotIn(values) => value.is_none_or(|v| !values.iter().any(|x| x == v)),
            Op::Gt(n) => value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v > *n),
            Op::Lt(n) => value
                .and_then(|v| v.parse::<i64>().ok())
                .is_some_and(|v| v < *n),
        }
    }

    /// The value of the first label this requirement's key selects.
    fn lookup<'a>(&self, labels: &'a [String]) -> Option<&'a str> {
        labels.iter().find_map(|l| {
            let (source, key, value) = split_label(l);
            self.selects(source, key).then_some(value)
        })
    }

    fn selects(&self, source: &str, key: &str) -> bool {
        let Some(want) = self.source.as_deref() else {
            return key == self.key;
        };
        if source != want {
            return false;
        }
        if key == self.key {
            return true;
        }
        match self.cidr {
            Some(net) => parse_cidr_key(key).is_some_and(|c| net.contains(&c)),
            None => false,
        }
    }
}

/// Splits a flow label like Cilium's `ParseSelectLabel`: `$x` is source `reserved`, the
/// source is the text before the first `:` (none, empty or `unspec` is `any`), the key is the
/// text before the first `=` and the value the rest.
fn split_label(label: &str) -> (&str, &str, &str) {
    let (source, rest) = if let Some(rest) = label.strip_prefix('$') {
        ("reserved", rest)
    } else {
        match label.split_once(':') {
            Some(("" | "unspec", rest)) => ("any", rest),
            Some((source, rest)) => (source, rest),
            None => ("any", label),
        }
    };
    match rest.find('=') {
        None => (source, rest, ""),
        Some(0) if source == "reserved" => (source, &rest[1..], ""),
        Some(i) => (source, &rest[..i], &rest[i + 1..]),
    }
}

/// The prefix of a `cidr:` label key (`10.0.0.0/8`, IPv6 with `-` for `:`), without
/// allocating.
fn parse_cidr_key(key: &str) -> Option<Cidr> {
    let (addr, len) = key.split_once('/')?;
    if addr.len() > 64 {
        return None;
    }
    let mut buf = [0u8; 64];
    for (dst, b) in buf.iter_mut().zip(addr.bytes()) {
        *dst = if b == b'-' { b':' } else { b };
    }
    let text = std::str::from_utf8(&buf[..addr.len()]).ok()?;
    let addr: IpAddr = text.parse().ok()?;
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Cidr::new(addr, len.parse().ok()?).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Ident(&'a str),
    Eq,
    DoubleEq,
    NotEq,
    Not,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
    End,
}

impl std::fmt::Display for Tok<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Tok::Ident(s) => s,
            Tok::Eq => "=",
            Tok::DoubleEq => "==",
            Tok::NotEq => "!=",
            Tok::Not => "!",
            Tok::Gt => ">",
            Tok::Lt => "<",
            Tok::Open => "(",
            Tok::Close => ")",
            Tok::Comma => ",",
            Tok::End => "",
        };
        write!(f, "'{text}'")
    }
}

/// The Kubernetes selector lexer: identifiers run until whitespace or one of `=!<>(),`.
#[derive(Clone, Copy)]
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Tok<'a> {
        let mut copy = *self;
        copy.next()
    }

    fn next(&mut self) -> Tok<'a> {
        let bytes = self.s.as_bytes();
        while self.pos < bytes.len() && matches!(bytes[self.pos], b' ' | b'\t' | b'\r' | b'\n') {
            self.pos += 1;
        }
        let Some(&b) = bytes.get(self.pos) else {
            return Tok::End;
        };
        let second = bytes.get(self.pos + 1).copied();
        let (tok, len) = match (b, second) {
            (b'=', Some(b'=')) => (Tok::DoubleEq, 2),
            (b'!', Some(b'=')) => (Tok::NotEq, 2),
            (b'=', _) => (Tok::Eq, 1),
            (b'!', _) => (Tok::Not, 1),
            (b'>', _) => (Tok::Gt, 1),
            (b'<', _) => (Tok::Lt, 1),
            (b'(', _) => (Tok::Open, 1),
            (b')', _) => (Tok::Close, 1),
            (b',', _) => (Tok::Comma, 1),
            _ => {
                let start = self.pos;
                let end = bytes[start..]
                    .iter()
                    .position(|b| {
                        matches!(
                            b,
                            b' ' | b'\t'
                                | b'\r'
                                | b'\n'
                                | b'='
                                | b'!'
                                | b'>'
                                | b'<'
                                | b'('
                                | b')'
                                | b','
                        )
                    })
                    .map_or(bytes.len(), |i| start + i);
                self.pos = end;
                return Tok::Ident(&self.s[start..end]);
            }
        };
        self.pos += len;
        tok
    }
}

fn parse_requirement(lx: &mut Lexer<'_>) -> Result<Requirement, String> {
    let mut tok = lx.next();
    let negated = tok == Tok::Not;
    if negated {
        tok = lx.next();
    }
    let Tok::Ident(raw_key) = tok else {
        return Err(format!("found {tok}, expected: identifier"));
    };
    let (source, key) = translate_key(raw_key)?;
    let cidr = match source.as_deref() {
        Some("cidr") => Cidr::from_label_key(&key).ok(),
        _ => None,
    };
    let requirement = |op| Requirement {
        source: source.clone(),
        key: key.clone(),
        cidr,
        op,
    };
    if matches!(lx.peek(), Tok::End | Tok::Comma) {
        return Ok(requirement(if negated {
            Op::DoesNotExist
        } else {
            Op::Exists
        }));
    }
    if negated {
        let t = lx.peek();
        return Err(format!("found {t}, expected: ',' or end of string"));
    }
    let op = match lx.next() {
        Tok::Eq | Tok::DoubleEq => Op::In(vec![exact_value(lx)?]),
        Tok::NotEq => Op::NotIn(vec![exact_value(lx)?]),
        Tok::Ident("in") => Op::In(value_list(lx)?),
        Tok::Ident("notin") => Op::NotIn(value_list(lx)?),
        t @ (Tok::Gt | Tok::Lt) => {
            let v = exact_value(lx)?;
            let n = v
                .parse::<i64>()
                .map_err(|_| format!("value {v:?} of '>' or '<' must be an integer"))?;
            validate_label_value(&v)?;
            if t == Tok::Gt { Op::Gt(n) } else { Op::Lt(n) }
        }
        t => return Err(format!("found {t}, expected: in, notin, =, ==, !=, >, <")),
    };
    if let Op::In(values) | Op::NotIn(values) = &op {
        for v in values {
            validate_label_value(v)?;
        }
    }
    Ok(requirement(op))
}

/// The value after `=`, `==`, `!=`, `>` or `<`; empty when the requirement ends there.
fn exact_value(lx: &mut Lexer<'_>) -> Result<String, String> {
    if matches!(lx.peek(), Tok::End | Tok::Comma) {
        return Ok(String::new());
    }
    match lx.next() {
        Tok::Ident(v) => Ok(v.to_owned()),
        t => Err(format!("found {t}, expected: identifier")),
    }
}

/// `(v1, v2, ...)` as Kubernetes parses it: `()`, `(,` `,,` and `,)` each add an empty value.
fn value_list(lx: &mut Lexer<'_>) -> Result<Vec<String>, String> {
    match lx.next() {
        Tok::Open => {}
        t => return Err(format!("found {t}, expected: '('")),
    }
    let mut values: Vec<String> = Vec::new();
    // A set, as in Kubernetes: a repeated value is kept once.
    let add = |values: &mut Vec<String>, v: &str| {
        if !values.iter().any(|x| x == v) {
            values.push(v.to_owned());
        }
    };
    match lx.peek() {
        Tok::Close => {
            lx.next();
            add(&mut values, "");
            return Ok(values);
        }
        Tok::Ident(_) | Tok::Comma => {}
        t => return Err(format!("found {t}, expected: ',', ')' or identifier")),
    }
    loop {
        match lx.next() {
            Tok::Ident(v) => {
                add(&mut values, v);
                match lx.peek() {
                    Tok::Comma => {}
                    Tok::Close => break,
                    t => return Err(format!("found {t}, expected: ',' or ')'")),
                }
            }
            Tok::Comma => {
                if values.is_empty() {
                    add(&mut values, "");
                }
                match lx.peek() {
                    Tok::Close => {
                        add(&mut values, "");
                        break;
                    }
                    Tok::Comma => {
                        lx.next();
                        add(&mut values, "");
                    }
                    _ => {}
                }
            }
            t => return Err(format!("found {t}, expected: ',' or identifier")),
        }
    }
    match lx.next() {
        Tok::Close => Ok(values),
        t => Err(format!("found {t}, expected: ')'")),
    }
}

/// Hubble's key translation (see [`Selector::parse`]): returns the source (`None` for `any`)
/// and the key.
fn translate_key(raw: &str) -> Result<(Option<String>, String), String> {
    let translated = match raw.split_once(':') {
        Some((source, key)) => format!("{source}.{key}"),
        None => format!("any.{raw}"),
    };
    validate_qualified_name(&translated).map_err(|e| format!("key {raw:?}: {e}"))?;
    let (source, key) = translated
        .split_once('.')
        .expect("translated key has a '.'");
    let source = match source {
        "any" | "unspec" => None,
        s => Some(s.to_owned()),
    };
    Ok((source, key.to_owned()))
}

/// Kubernetes' `IsQualifiedName`: `[dns-subdomain/]name`, name at most 63 characters of
/// `[-A-Za-z0-9_.]` starting and ending alphanumeric.
fn validate_qualified_name(s: &str) -> Result<(), String> {
    let mut parts = s.split('/');
    let first = parts.next().unwrap_or("");
    let name = match (parts.next(), parts.next()) {
        (None, _) => first,
        (Some(name), None) => {
            if first.is_empty() {
                return Err("prefix part must be non-empty".into());
            }
            if first.len() > 253 || !is_dns_subdomain(first) {
                return Err("prefix part must be a DNS subdomain".into());
            }
            name
        }
        (Some(_), Some(_)) => return Err("a qualified name has at most one '/'".into()),
    };
    if name.is_empty() {
        return Err("name part must be non-empty".into());
    }
    if name.len() > 63 || !is_label_name(name) {
        return Err(
            "name part must be at most 63 characters of [-A-Za-z0-9_.], starting and ending alphanumeric"
                .into(),
        );
    }
    Ok(())
}

/// Kubernetes' label value rule: empty, or at most 63 characters of `[-A-Za-z0-9_.]`
/// starting and ending alphanumeric.
fn validate_label_value(v: &str) -> Result<(), String> {
    if v.is_empty() || (v.len() <= 63 && is_label_name(v)) {
        Ok(())
    } else {
        Err(format!(
            "value {v:?} must be at most 63 characters of [-A-Za-z0-9_.], starting and ending alphanumeric"
        ))
    }
}

fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(|label| {
        let b = label.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_text_pads_to_three_digits() {
        let mut buf = [0u8; 10];
        assert_eq!(status_text(404, &mut buf), b"404");
        assert_eq!(status_text(7, &mut buf), b"007");
        assert_eq!(status_text(1000, &mut buf), b"1000");
    }

    #[test]
    fn request_uri_paths() {
        assert_eq!(request_uri_path("http://h:80/a/b?q=1"), Some("/a/b"));
        assert_eq!(request_uri_path("/a?x"), Some("/a"));
        assert_eq!(request_uri_path("http://h"), Some(""));
        assert_eq!(request_uri_path("mailto:x"), Some(""));
        assert_eq!(request_uri_path("a/b"), None);
        assert_eq!(request_uri_path("http://h:x/a"), None);
        assert_eq!(request_uri_path(":/a"), None);
        assert_eq!(
            with_unescaped_path("/a%20b", <[u8]>::to_vec),
            Some(b"/a b".to_vec())
        );
        assert_eq!(with_unescaped_path("/a%2", <[u8]>::to_vec), None);
    }

    #[test]
    fn flow_labels_split_like_cilium() {
        assert_eq!(split_label("k8s:app=web"), ("k8s", "app", "web"));
        assert_eq!(split_label("reserved:host"), ("reserved", "host", ""));
        assert_eq!(split_label("$host"), ("reserved", "host", ""));
        assert_eq!(split_label("app=web"), ("any", "app", "web"));
        assert_eq!(split_label("k8s:a=b=c"), ("k8s", "a", "b=c"));
    }

    #[test]
    fn cidr_keys_parse_without_colons() {
        assert_eq!(parse_cidr_key("10.1.2.3/32"), "10.1.2.3/32".parse().ok());
        assert_eq!(
            parse_cidr_key("2001-db8--0/32"),
            "2001:db8::/32".parse().ok()
        );
        assert_eq!(parse_cidr_key("10.0.0.0"), None);
    }
}
