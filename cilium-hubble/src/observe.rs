//! `hubble observe`'s flags as a plain struct, and the `GetFlowsRequest` they make.
//!
//! [`ObserveOptions`] holds what a user typed; [`ObserveOptions::to_request`] turns it into
//! the request Hubble's CLI would send, with Hubble's rules (from its
//! `hubble/cmd/observe/flows_filter.go` and `flows.go`):
//!
//! - A flag with a direction (`--from-pod`, `--to-ip`, `--verdict`, `--type`, ...) adds its
//!   value to one field of the filter. A flag without one (`--pod`, `--ip`, `--label`,
//!   `--fqdn`, `--service`, `--port`, `--identity`, `--workload`, `-n`) makes two filters:
//!   the value as the source in the first, as the destination in the second. Every other flag
//!   goes into both, so `--pod web --verdict DROPPED` is "from web and dropped" OR "to web and
//!   dropped". When both filters come out equal, one is sent.
//! - Values of one flag are alternatives (OR); different flags must all match (AND).
//! - `-n ns` puts `ns/` in front of pod and service names without a namespace, or
//!   matches every pod of the namespace when no pod or service is given; `-A` does the same
//!   with an empty namespace.
//! - Some flags cannot be combined (`--ip` with `--namespace`, `--pod` with `--from-pod`, ...).
//! - `--not` before a flag puts that flag into the denylist instead, which is built the same
//!   way ([`ObserveOptions::not`]).
//! - With neither `--since`, `--until`, `--first` nor `--follow`, the last 20 flows are asked
//!   for; `--all` asks for all of them.
//!
//! Pure: the time that `--since 5m` is relative to is an argument.

use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};

use crate::names;
use crate::printer::Format;
use crate::proto::flow::{
    EventTypeFilter, FlowFilter, IpVersion, TcpFlags, TrafficDirection, Verdict, Workload,
};
use crate::proto::observer::GetFlowsRequest;

/// Flows asked for by a plain `hubble observe` (no `--last`, `--first`, `--since`, `--until`,
/// `--follow` or `--all`).
pub const DEFAULT_FLOW_COUNT: u64 = 20;

/// A filter flag of `hubble observe`, by which [`ObserveOptions::not`] names the flags that
/// `--not` turns into denylist entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FilterFlag {
    /// `--uuid`
    Uuid,
    /// `--node-name`
    NodeName,
    /// `--protocol`
    Protocol,
    /// `--tcp-flags`
    TcpFlags,
    /// `-t`, `--type`
    Type,
    /// `--verdict`
    Verdict,
    /// `--http-status`
    HttpStatus,
    /// `--http-method`
    HttpMethod,
    /// `--http-path`
    HttpPath,
    /// `--trace-id`
    TraceId,
    /// `--from-fqdn`
    FromFqdn,
    /// `--fqdn`
    Fqdn,
    /// `--to-fqdn`
    ToFqdn,
    /// `--from-ip`
    FromIp,
    /// `--ip`
    Ip,
    /// `--to-ip`
    ToIp,
    /// `--ip-version` (and `-4`, `-6`, which are `v4` and `v6`)
    IpVersion,
    /// `--from-pod`
    FromPod,
    /// `--pod`
    Pod,
    /// `--to-pod`
    ToPod,
    /// `--from-namespace`
    FromNamespace,
    /// `-n`, `--namespace`
    Namespace,
    /// `--to-namespace`
    ToNamespace,
    /// `--from-all-namespaces` (takes no value)
    FromAllNamespaces,
    /// `-A`, `--all-namespaces` (takes no value)
    AllNamespaces,
    /// `--to-all-namespaces` (takes no value)
    ToAllNamespaces,
    /// `--from-label`
    FromLabel,
    /// `-l`, `--label`
    Label,
    /// `--to-label`
    ToLabel,
    /// `--from-service`
    FromService,
    /// `--service`
    Service,
    /// `--to-service`
    ToService,
    /// `--from-port`
    FromPort,
    /// `--port`
    Port,
    /// `--to-port`
    ToPort,
    /// `--from-workload`
    FromWorkload,
    /// `--workload`
    Workload,
    /// `--to-workload`
    ToWorkload,
    /// `--from-identity`
    FromIdentity,
    /// `--identity`
    Identity,
    /// `--to-identity`
    ToIdentity,
    /// `--traffic-direction`
    TrafficDirection,
}

impl FilterFlag {
    /// Every filter flag, in the order `hubble observe` declares them.
    pub const ALL: &'static [FilterFlag] = &[
        FilterFlag::Uuid,
        FilterFlag::NodeName,
        FilterFlag::Protocol,
        FilterFlag::TcpFlags,
        FilterFlag::Type,
        FilterFlag::Verdict,
        FilterFlag::HttpStatus,
        FilterFlag::HttpMethod,
        FilterFlag::HttpPath,
        FilterFlag::TraceId,
        FilterFlag::FromFqdn,
        FilterFlag::Fqdn,
        FilterFlag::ToFqdn,
        FilterFlag::FromIp,
        FilterFlag::Ip,
        FilterFlag::ToIp,
        FilterFlag::IpVersion,
        FilterFlag::FromPod,
        FilterFlag::Pod,
        FilterFlag::ToPod,
        FilterFlag::FromNamespace,
        FilterFlag::Namespace,
        FilterFlag::ToNamespace,
        FilterFlag::FromAllNamespaces,
        FilterFlag::AllNamespaces,
        FilterFlag::ToAllNamespaces,
        FilterFlag::FromLabel,
        FilterFlag::Label,
        FilterFlag::ToLabel,
        FilterFlag::FromService,
        FilterFlag::Service,
        FilterFlag::ToService,
        FilterFlag::FromPort,
        FilterFlag::Port,
        FilterFlag::ToPort,
        FilterFlag::FromWorkload,
        FilterFlag::Workload,
        FilterFlag::ToWorkload,
        FilterFlag::FromIdentity,
        FilterFlag::Identity,
        FilterFlag::ToIdentity,
        FilterFlag::TrafficDirection,
    ];

    /// The long flag name without dashes (`"from-pod"`).
    pub fn name(self) -> &'static str {
        match self {
            FilterFlag::Uuid => "uuid",
            FilterFlag::NodeName => "node-name",
            FilterFlag::Protocol => "protocol",
            FilterFlag::TcpFlags => "tcp-flags",
            FilterFlag::Type => "type",
            FilterFlag::Verdict => "verdict",
            FilterFlag::HttpStatus => "http-status",
            FilterFlag::HttpMethod => "http-method",
            FilterFlag::HttpPath => "http-path",
            FilterFlag::TraceId => "trace-id",
            FilterFlag::FromFqdn => "from-fqdn",
            FilterFlag::Fqdn => "fqdn",
            FilterFlag::ToFqdn => "to-fqdn",
            FilterFlag::FromIp => "from-ip",
            FilterFlag::Ip => "ip",
            FilterFlag::ToIp => "to-ip",
            FilterFlag::IpVersion => "ip-version",
            FilterFlag::FromPod => "from-pod",
            FilterFlag::Pod => "pod",
            FilterFlag::ToPod => "to-pod",
            FilterFlag::FromNamespace => "from-namespace",
            FilterFlag::Namespace => "namespace",
            FilterFlag::ToNamespace => "to-namespace",
            FilterFlag::FromAllNamespaces => "from-all-namespaces",
            FilterFlag::AllNamespaces => "all-namespaces",
            FilterFlag::ToAllNamespaces => "to-all-namespaces",
            FilterFlag::FromLabel => "from-label",
            FilterFlag::Label => "label",
            FilterFlag::ToLabel => "to-label",
            FilterFlag::FromService => "from-service",
            FilterFlag::Service => "service",
            FilterFlag::ToService => "to-service",
            FilterFlag::FromPort => "from-port",
            FilterFlag::Port => "port",
            FilterFlag::ToPort => "to-port",
            FilterFlag::FromWorkload => "from-workload",
            FilterFlag::Workload => "workload",
            FilterFlag::ToWorkload => "to-workload",
            FilterFlag::FromIdentity => "from-identity",
            FilterFlag::Identity => "identity",
            FilterFlag::ToIdentity => "to-identity",
            FilterFlag::TrafficDirection => "traffic-direction",
        }
    }

    /// The flag of a long name (`"from-pod"`).
    pub fn from_name(name: &str) -> Option<FilterFlag> {
        FilterFlag::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// Whether the flag takes a value (the `*all-namespaces` flags do not).
    pub fn takes_value(self) -> bool {
        !matches!(
            self,
            FilterFlag::FromAllNamespaces | FilterFlag::AllNamespaces | FilterFlag::ToAllNamespaces
        )
    }
}

/// The flags of `hubble observe`, without a command-line parser.
///
/// Each `Vec` holds the values of one repeatable flag in the order given. `Default` is a plain
/// `hubble observe`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ObserveOptions {
    /// `-f`, `--follow`: keep streaming new flows.
    pub follow: bool,
    /// `--last N`: the newest N flows.
    pub last: Option<u64>,
    /// `--first N`: the oldest N flows.
    pub first: Option<u64>,
    /// `--all`: every flow in the ring.
    pub all: bool,
    /// `--since`: RFC 3339 (`2024-05-01T10:00:00Z`), a date (`2024-05-01`), an hour
    /// (`2024-05-01T10Z`), a minute (`2024-05-01T10:30+02:00`), RFC 1123 with a numeric zone,
    /// or a duration before now (`5m`, `1h30m`, `90s`).
    pub since: Option<String>,
    /// `--until`, as `since`; ignored with `follow`.
    pub until: Option<String>,
    /// `-o`, `--output`. Only checked here (`table` cannot follow).
    pub output: Format,

    /// `--uuid`
    pub uuid: Vec<String>,
    /// `--node-name`: node name patterns (`k8s*`, `cluster/*`).
    pub node_name: Vec<String>,
    /// `--protocol`: `tcp`, `udp`, `icmp`, `http`, `dns`, ...
    pub protocol: Vec<String>,
    /// `--tcp-flags`: comma-separated flags that must all be set (`syn,ack`).
    pub tcp_flags: Vec<String>,
    /// `-t`, `--type`: `TYPE[:SUBTYPE]`, by name (`drop`, `trace:to-endpoint`, `l7`,
    /// `policy-verdict`, `trace-sock`, `capture`) or number (`4:2`).
    pub types: Vec<String>,
    /// `--verdict`: `FORWARDED`, `DROPPED`, `AUDIT`, `REDIRECTED`, `ERROR`, `TRACED`,
    /// `TRANSLATED` (upper case, as Hubble wants them).
    pub verdict: Vec<String>,
    /// `--http-status`: codes or prefixes (`404`, `5+`).
    pub http_status: Vec<String>,
    /// `--http-method`
    pub http_method: Vec<String>,
    /// `--http-path`: regular expressions.
    pub http_path: Vec<String>,
    /// `--trace-id`
    pub trace_id: Vec<String>,
    /// `--fqdn`: either side's DNS name (patterns like `*.cilium.io`).
    pub fqdn: Vec<String>,
    /// `--from-fqdn`
    pub from_fqdn: Vec<String>,
    /// `--to-fqdn`
    pub to_fqdn: Vec<String>,
    /// `--ip`: either side's address, exact or CIDR.
    pub ip: Vec<String>,
    /// `--from-ip`
    pub from_ip: Vec<String>,
    /// `--to-ip`
    pub to_ip: Vec<String>,
    /// `--ip-version` (`-4` is `v4`, `-6` is `v6`): `v4`, `v6` or `none`.
    pub ip_version: Vec<String>,
    /// `--pod`: either side's pod name prefix, `[namespace/]name`.
    pub pod: Vec<String>,
    /// `--from-pod`
    pub from_pod: Vec<String>,
    /// `--to-pod`
    pub to_pod: Vec<String>,
    /// `-n`, `--namespace`: either side's namespace.
    pub namespace: Vec<String>,
    /// `--from-namespace`
    pub from_namespace: Vec<String>,
    /// `--to-namespace`
    pub to_namespace: Vec<String>,
    /// `-A`, `--all-namespaces`: either side is a pod, of any namespace.
    pub all_namespaces: bool,
    /// `--from-all-namespaces`
    pub from_all_namespaces: bool,
    /// `--to-all-namespaces`
    pub to_all_namespaces: bool,
    /// `-l`, `--label`: either side's labels, as a selector (`app=web,tier!=db`).
    pub label: Vec<String>,
    /// `--from-label`
    pub from_label: Vec<String>,
    /// `--to-label`
    pub to_label: Vec<String>,
    /// `--service`: either side's service, `[namespace/]name`.
    pub service: Vec<String>,
    /// `--from-service`
    pub from_service: Vec<String>,
    /// `--to-service`
    pub to_service: Vec<String>,
    /// `--port`: either side's port.
    pub port: Vec<String>,
    /// `--from-port`
    pub from_port: Vec<String>,
    /// `--to-port`
    pub to_port: Vec<String>,
    /// `--workload`: either side's workload, `[kind/]name`.
    pub workload: Vec<String>,
    /// `--from-workload`
    pub from_workload: Vec<String>,
    /// `--to-workload`
    pub to_workload: Vec<String>,
    /// `--identity`: either side's security identity, a number or a reserved name (`world`).
    pub identity: Vec<String>,
    /// `--from-identity`
    pub from_identity: Vec<String>,
    /// `--to-identity`
    pub to_identity: Vec<String>,
    /// `--traffic-direction`: `ingress` or `egress`.
    pub traffic_direction: Vec<String>,

    /// Flags given after `--not`, in command-line order: they make the denylist, built with
    /// the same rules as the allowlist (`--not --pod x` leaves out flows from or to `x`).
    /// The value of a flag without one is ignored.
    pub not: Vec<(FilterFlag, String)>,
    /// `--allowlist`: raw `FlowFilter`s as protojson, added after the flags' filters.
    pub allowlist: Vec<String>,
    /// `--denylist`: raw `FlowFilter`s as protojson.
    pub denylist: Vec<String>,
}

/// Why flags make no request. Every message names the flag.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObserveError {
    /// A flag's value is not one the flag takes.
    #[error("--{flag}: invalid value {value:?}: {reason}")]
    InvalidValue {
        /// The flag, without dashes.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What the flag takes.
        reason: String,
    },
    /// Two filter flags that cannot be used together.
    #[error("filters --{first} and --{second} cannot be combined")]
    Conflict {
        /// One flag, without dashes.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// A pod or service name in another namespace than the one a namespace flag asks for.
    #[error("--{flag} {namespace:?} conflicts with {name:?}, which is in another namespace")]
    NamespaceConflict {
        /// The namespace flag, without dashes.
        flag: &'static str,
        /// Its value (empty for `--all-namespaces`).
        namespace: String,
        /// The pod or service name.
        name: String,
    },
    /// A service and a pod of the same side in different namespaces.
    #[error("namespace of service {service:?} conflicts with pod namespace {namespace:?}")]
    ServiceNamespace {
        /// The service name.
        service: String,
        /// The pod's namespace.
        namespace: String,
    },
    /// Two selectors that exclude each other (`--first` with `--last`, ...).
    #[error("cannot set both --{first} and --{second}")]
    Selectors {
        /// One flag, without dashes.
        first: &'static str,
        /// The other.
        second: &'static str,
    },
    /// `--since` or `--until` is no time this parser reads.
    #[error(
        "--{flag}: cannot read {value:?} as a time: expected RFC 3339 (2024-05-01T10:00:00Z), a date (2024-05-01) or a duration ago (5m, 1h30m)"
    )]
    Time {
        /// `since` or `until`.
        flag: &'static str,
        /// The value given.
        value: String,
    },
    /// `-o table` aligns the whole output and so cannot follow.
    #[error("--output table is not compatible with --follow")]
    TableFollow,
    /// An `--allowlist` or `--denylist` value that is not protojson `FlowFilter`s.
    #[error("--{flag}: cannot decode {value:?} as FlowFilter JSON: {reason}")]
    RawFilter {
        /// `allowlist` or `denylist`.
        flag: &'static str,
        /// The value given.
        value: String,
        /// The decoder's message.
        reason: String,
    },
}

impl ObserveOptions {
    /// Adds a value to the field of `flag` (sets it, for a flag without a value).
    pub fn push(&mut self, flag: FilterFlag, value: impl Into<String>) {
        match flag {
            FilterFlag::FromAllNamespaces => self.from_all_namespaces = true,
            FilterFlag::AllNamespaces => self.all_namespaces = true,
            FilterFlag::ToAllNamespaces => self.to_all_namespaces = true,
            _ => {
                if let Some(values) = self.values_mut(flag) {
                    values.push(value.into());
                }
            }
        }
    }

    /// The values of a flag that takes values.
    pub fn values(&self, flag: FilterFlag) -> &[String] {
        match flag {
            FilterFlag::Uuid => &self.uuid,
            FilterFlag::NodeName => &self.node_name,
            FilterFlag::Protocol => &self.protocol,
            FilterFlag::TcpFlags => &self.tcp_flags,
            FilterFlag::Type => &self.types,
            FilterFlag::Verdict => &self.verdict,
            FilterFlag::HttpStatus => &self.http_status,
            FilterFlag::HttpMethod => &self.http_method,
            FilterFlag::HttpPath => &self.http_path,
            FilterFlag::TraceId => &self.trace_id,
            FilterFlag::FromFqdn => &self.from_fqdn,
            FilterFlag::Fqdn => &self.fqdn,
            FilterFlag::ToFqdn => &self.to_fqdn,
            FilterFlag::FromIp => &self.from_ip,
            FilterFlag::Ip => &self.ip,
            FilterFlag::ToIp => &self.to_ip,
            FilterFlag::IpVersion => &self.ip_version,
            FilterFlag::FromPod => &self.from_pod,
            FilterFlag::Pod => &self.pod,
            FilterFlag::ToPod => &self.to_pod,
            FilterFlag::FromNamespace => &self.from_namespace,
            FilterFlag::Namespace => &self.namespace,
            FilterFlag::ToNamespace => &self.to_namespace,
            FilterFlag::FromLabel => &self.from_label,
            FilterFlag::Label => &self.label,
            FilterFlag::ToLabel => &self.to_label,
            FilterFlag::FromService => &self.from_service,
            FilterFlag::Service => &self.service,
            FilterFlag::ToService => &self.to_service,
            FilterFlag::FromPort => &self.from_port,
            FilterFlag::Port => &self.port,
            FilterFlag::ToPort => &self.to_port,
            FilterFlag::FromWorkload => &self.from_workload,
            FilterFlag::Workload => &self.workload,
            FilterFlag::ToWorkload => &self.to_workload,
            FilterFlag::FromIdentity => &self.from_identity,
            FilterFlag::Identity => &self.identity,
            FilterFlag::ToIdentity => &self.to_identity,
            FilterFlag::TrafficDirection => &self.traffic_direction,
            FilterFlag::FromAllNamespaces
            | FilterFlag::AllNamespaces
            | FilterFlag::ToAllNamespaces => &[],
        }
    }

    fn values_mut(&mut self, flag: FilterFlag) -> Option<&mut Vec<String>> {
        Some(match flag {
            FilterFlag::Uuid => &mut self.uuid,
            FilterFlag::NodeName => &mut self.node_name,
            FilterFlag::Protocol => &mut self.protocol,
            FilterFlag::TcpFlags => &mut self.tcp_flags,
            FilterFlag::Type => &mut self.types,
            FilterFlag::Verdict => &mut self.verdict,
            FilterFlag::HttpStatus => &mut self.http_status,
            FilterFlag::HttpMethod => &mut self.http_method,
            FilterFlag::HttpPath => &mut self.http_path,
            FilterFlag::TraceId => &mut self.trace_id,
            FilterFlag::FromFqdn => &mut self.from_fqdn,
            FilterFlag::Fqdn => &mut self.fqdn,
            FilterFlag::ToFqdn => &mut self.to_fqdn,
            FilterFlag::FromIp => &mut self.from_ip,
            FilterFlag::Ip => &mut self.ip,
            FilterFlag::ToIp => &mut self.to_ip,
            FilterFlag::IpVersion => &mut self.ip_version,
            FilterFlag::FromPod => &mut self.from_pod,
            FilterFlag::Pod => &mut self.pod,
            FilterFlag::ToPod => &mut self.to_pod,
            FilterFlag::FromNamespace => &mut self.from_namespace,
            FilterFlag::Namespace => &mut self.namespace,
            FilterFlag::ToNamespace => &mut self.to_namespace,
            FilterFlag::FromLabel => &mut self.from_label,
            FilterFlag::Label => &mut self.label,
            FilterFlag::ToLabel => &mut self.to_label,
            FilterFlag::FromService => &mut self.from_service,
            FilterFlag::Service => &mut self.service,
            FilterFlag::ToService => &mut self.to_service,
            FilterFlag::FromPort => &mut self.from_port,
            FilterFlag::Port => &mut self.port,
            FilterFlag::ToPort => &mut self.to_port,
            FilterFlag::FromWorkload => &mut self.from_workload,
            FilterFlag::Workload => &mut self.workload,
            FilterFlag::ToWorkload => &mut self.to_workload,
            FilterFlag::FromIdentity => &mut self.from_identity,
            FilterFlag::Identity => &mut self.identity,
            FilterFlag::ToIdentity => &mut self.to_identity,
            FilterFlag::TrafficDirection => &mut self.traffic_direction,
            FilterFlag::FromAllNamespaces
            | FilterFlag::AllNamespaces
            | FilterFlag::ToAllNamespaces => return None,
        })
    }

    /// The allowlist flags as (flag, value) pairs, in [`FilterFlag::ALL`] order.
    fn allow_args(&self) -> Vec<(FilterFlag, String)> {
        let mut args = Vec::new();
        for &flag in FilterFlag::ALL {
            let set = match flag {
                FilterFlag::FromAllNamespaces => self.from_all_namespaces,
                FilterFlag::AllNamespaces => self.all_namespaces,
                FilterFlag::ToAllNamespaces => self.to_all_namespaces,
                _ => {
                    args.extend(self.values(flag).iter().map(|v| (flag, v.clone())));
                    false
                }
            };
            if set {
                args.push((flag, String::new()));
            }
        }
        args
    }

    /// The allowlist (whitelist) and denylist (blacklist) these flags make, without the
    /// selectors.
    pub fn filters(&self) -> Result<(Vec<FlowFilter>, Vec<FlowFilter>), ObserveError> {
        let mut allow = build_filters(&self.allow_args())?;
        allow.extend(raw_filters("allowlist", &self.allowlist)?);
        let mut deny = build_filters(&self.not)?;
        deny.extend(raw_filters("denylist", &self.denylist)?);
        Ok((allow, deny))
    }

    /// The `GetFlows` request `hubble observe` sends for these flags; `now` is what relative
    /// `--since`/`--until` values count back from.
    pub fn to_request(&self, now: SystemTime) -> Result<GetFlowsRequest, ObserveError> {
        let first = self.first.is_some_and(|n| n > 0);
        let last = self.last.is_some_and(|n| n > 0);
        let conflict = |first, second| Err(ObserveError::Selectors { first, second });
        if first && last {
            return conflict("first", "last");
        }
        if first && self.all {
            return conflict("first", "all");
        }
        if first && self.follow {
            return conflict("first", "follow");
        }
        if last && self.all {
            return conflict("last", "all");
        }
        if self.follow && self.output == Format::Table {
            return Err(ObserveError::TableFollow);
        }

        let since = self
            .since
            .as_deref()
            .map(|v| parse_time("since", v, now))
            .transpose()?;
        // As in Hubble, until is only sent without follow (the server ends the stream at
        // "now" otherwise).
        let until = match &self.until {
            Some(v) if !self.follow => Some(parse_time("until", v, now)?),
            _ => None,
        };

        let mut number = self.last.unwrap_or(0);
        if since.is_none() && until.is_none() && !first {
            if self.all {
                number = u64::MAX;
            } else if number == 0 && !self.follow {
                number = DEFAULT_FLOW_COUNT;
            }
        }
        if first {
            number = self.first.unwrap_or(0);
        }

        let (whitelist, blacklist) = self.filters()?;
        Ok(GetFlowsRequest {
            number,
            first,
            follow: self.follow,
            blacklist,
            whitelist,
            since,
            until,
        })
    }
}

/// Filters of one list (allow or deny) from (flag, value) pairs, as Hubble's filter tracker
/// builds them.
fn build_filters(args: &[(FilterFlag, String)]) -> Result<Vec<FlowFilter>, ObserveError> {
    let mut tracker = Tracker::default();
    for (flag, value) in args {
        tracker.set(*flag, value)?;
    }
    tracker.check_conflicts()?;
    tracker.check_namespaces()?;
    Ok(tracker.flow_filters())
}

/// Flag pairs Hubble refuses to combine: within one group, any two flags conflict.
const CONFLICTS: &[&[&str]] = &[
    &[
        "from-fqdn",
        "from-ip",
        "ip",
        "fqdn",
        "from-namespace",
        "namespace",
        "from-all-namespaces",
        "all-namespaces",
    ],
    &["from-fqdn", "from-ip", "ip", "fqdn", "from-pod", "pod"],
    &[
        "to-fqdn",
        "to-ip",
        "ip",
        "fqdn",
        "to-namespace",
        "namespace",
        "to-all-namespaces",
        "all-namespaces",
    ],
    &["to-fqdn", "to-ip", "ip", "fqdn", "to-pod", "pod"],
    &["to-pod", "namespace", "all-namespaces"],
    &["from-pod", "namespace", "all-namespaces"],
    &["to-service", "namespace", "all-namespaces"],
    &["from-service", "namespace", "all-namespaces"],
    &["label", "from-label"],
    &["label", "to-label"],
    &["service", "from-service"],
    &["service", "to-service"],
    &["port", "to-port"],
    &["port", "from-port"],
    &["identity", "to-identity"],
    &["identity", "from-identity"],
    &["workload", "to-workload"],
    &["workload", "from-workload"],
];

/// Hubble's `filterTracker`: the filter pair (`left` for the source side, `right` for the
/// destination side) and the namespaces applied when the filters are made.
#[derive(Default)]
struct Tracker {
    left: Option<FlowFilter>,
    right: Option<FlowFilter>,
    ns: Vec<String>,
    src_ns: Vec<String>,
    dst_ns: Vec<String>,
    changed: Vec<FilterFlag>,
}

impl Tracker {
    fn left(&mut self) -> &mut FlowFilter {
        self.left.get_or_insert_with(FlowFilter::default)
    }

    fn right(&mut self) -> &mut FlowFilter {
        self.right.get_or_insert_with(FlowFilter::default)
    }

    /// Applies `update` to both filters.
    fn both(&mut self, update: impl Fn(&mut FlowFilter)) {
        update(self.left());
        update(self.right());
    }

    /// A flag without direction: `source` on the left, `destination` on the right.
    fn split<T: Clone>(
        &mut self,
        value: T,
        source: impl Fn(&mut FlowFilter) -> &mut Vec<T>,
        destination: impl Fn(&mut FlowFilter) -> &mut Vec<T>,
    ) {
        source(self.left()).push(value.clone());
        destination(self.right()).push(value);
    }

    fn set(&mut self, flag: FilterFlag, value: &str) -> Result<(), ObserveError> {
        use FilterFlag as F;
        if !self.changed.contains(&flag) {
            self.changed.push(flag);
        }
        let v = value.to_owned();
        match flag {
            F::Uuid => self.both(|f| f.uuid.push(v.clone())),
            F::Fqdn => self.split(v, |f| &mut f.source_fqdn, |f| &mut f.destination_fqdn),
            F::FromFqdn => self.both(|f| f.source_fqdn.push(v.clone())),
            F::ToFqdn => self.both(|f| f.destination_fqdn.push(v.clone())),
            F::Pod => self.split(v, |f| &mut f.source_pod, |f| &mut f.destination_pod),
            F::FromPod => self.both(|f| f.source_pod.push(v.clone())),
            F::ToPod => self.both(|f| f.destination_pod.push(v.clone())),
            F::Ip => {
                check_ip(flag, value)?;
                self.split(v, |f| &mut f.source_ip, |f| &mut f.destination_ip);
            }
            F::FromIp => {
                check_ip(flag, value)?;
                self.both(|f| f.source_ip.push(v.clone()));
            }
            F::ToIp => {
                check_ip(flag, value)?;
                self.both(|f| f.destination_ip.push(v.clone()));
            }
            F::IpVersion => {
                let version = match value.to_lowercase().as_str() {
                    "4" | "v4" | "ipv4" | "ip4" => IpVersion::IPv4,
                    "6" | "v6" | "ipv6" | "ip6" => IpVersion::IPv6,
                    "none" => IpVersion::IpNotUsed,
                    _ => return Err(invalid(flag, value, "expected v4, v6 or none")),
                };
                self.both(|f| f.ip_version.push(version as i32));
            }
            F::Label => self.split(v, |f| &mut f.source_label, |f| &mut f.destination_label),
            F::FromLabel => self.both(|f| f.source_label.push(v.clone())),
            F::ToLabel => self.both(|f| f.destination_label.push(v.clone())),
            F::Namespace => self.ns.push(v),
            F::FromNamespace => self.src_ns.push(v),
            F::ToNamespace => self.dst_ns.push(v),
            // The empty namespace: pods of any namespace.
            F::AllNamespaces => self.ns.push(String::new()),
            F::FromAllNamespaces => self.src_ns.push(String::new()),
            F::ToAllNamespaces => self.dst_ns.push(String::new()),
            F::Service => self.split(v, |f| &mut f.source_service, |f| &mut f.destination_service),
            F::FromService => self.both(|f| f.source_service.push(v.clone())),
            F::ToService => self.both(|f| f.destination_service.push(v.clone())),
            F::Port => {
                check_port(flag, value)?;
                self.split(v, |f| &mut f.source_port, |f| &mut f.destination_port);
            }
            F::FromPort => {
                check_port(flag, value)?;
                self.both(|f| f.source_port.push(v.clone()));
            }
            F::ToPort => {
                check_port(flag, value)?;
                self.both(|f| f.destination_port.push(v.clone()));
            }
            F::TraceId => self.both(|f| f.trace_id.push(v.clone())),
            F::Verdict => {
                // Hubble looks the name up as given: upper case only.
                let verdict = Verdict::from_str_name(value)
                    .filter(|v| *v != Verdict::Unknown)
                    .ok_or_else(|| {
                        invalid(
                            flag,
                            value,
                            "expected FORWARDED, DROPPED, AUDIT, REDIRECTED, ERROR, TRACED or TRANSLATED",
                        )
                    })?;
                self.both(|f| f.verdict.push(verdict as i32));
            }
            F::HttpStatus => self.both(|f| f.http_status_code.push(v.clone())),
            F::HttpMethod => self.both(|f| f.http_method.push(v.clone())),
            F::HttpPath => self.both(|f| f.http_path.push(v.clone())),
            F::Type => {
                let filter = parse_type(value)?;
                self.both(|f| f.event_type.push(filter));
            }
            F::Protocol => self.both(|f| f.protocol.push(v.clone())),
            F::Workload => self.split(
                parse_workload(value),
                |f| &mut f.source_workload,
                |f| &mut f.destination_workload,
            ),
            F::FromWorkload => {
                let w = parse_workload(value);
                self.both(|f| f.source_workload.push(w.clone()));
            }
            F::ToWorkload => {
                let w = parse_workload(value);
                self.both(|f| f.destination_workload.push(w.clone()));
            }
            F::Identity => {
                let id = parse_identity(flag, value)?;
                self.split(
                    id,
                    |f| &mut f.source_identity,
                    |f| &mut f.destination_identity,
                );
            }
            F::FromIdentity => {
                let id = parse_identity(flag, value)?;
                self.both(|f| f.source_identity.push(id));
            }
            F::ToIdentity => {
                let id = parse_identity(flag, value)?;
                self.both(|f| f.destination_identity.push(id));
            }
            F::NodeName => self.both(|f| f.node_name.push(v.clone())),
            F::TcpFlags => {
                let flags = parse_tcp_flags(value)?;
                self.both(|f| f.tcp_flags.push(flags));
            }
            F::TrafficDirection => {
                let direction = match value.to_lowercase().as_str() {
                    "ingress" => TrafficDirection::Ingress,
                    "egress" => TrafficDirection::Egress,
                    _ => return Err(invalid(flag, value, "expected ingress or egress")),
                };
                self.both(|f| f.traffic_direction.push(direction as i32));
            }
        }
        Ok(())
    }

    fn check_conflicts(&self) -> Result<(), ObserveError> {
        let used = |name: &str| self.changed.iter().any(|f| f.name() == name);
        for group in CONFLICTS {
            for &first in *group {
                if !used(first) {
                    continue;
                }
                if let Some(&second) = group.iter().find(|&&other| other != first && used(other)) {
                    return Err(ObserveError::Conflict { first, second });
                }
            }
        }
        Ok(())
    }

    /// Pod and service names with a namespace must be in the namespaces asked for, and a
    /// side's service and pods in the same namespace.
    fn check_namespaces(&self) -> Result<(), ObserveError> {
        for f in [&self.left, &self.right].into_iter().flatten() {
            for (flag, namespaces, names) in [
                ("namespace", &self.ns, &f.source_pod),
                ("namespace", &self.ns, &f.source_service),
                ("namespace", &self.ns, &f.destination_pod),
                ("namespace", &self.ns, &f.destination_service),
                ("from-namespace", &self.src_ns, &f.source_pod),
                ("from-namespace", &self.src_ns, &f.source_service),
                ("to-namespace", &self.dst_ns, &f.destination_pod),
                ("to-namespace", &self.dst_ns, &f.destination_service),
            ] {
                for ns in namespaces {
                    for name in names {
                        if let Some(other) = namespace_of(name)
                            && other != ns
                        {
                            let flag = if ns.is_empty() {
                                all_namespaces_flag(flag)
                            } else {
                                flag
                            };
                            return Err(ObserveError::NamespaceConflict {
                                flag,
                                namespace: ns.clone(),
                                name: name.clone(),
                            });
                        }
                    }
                }
            }
            for (pods, services) in [
                (&f.source_pod, &f.source_service),
                (&f.destination_pod, &f.destination_service),
            ] {
                for pod in pods {
                    let Some(pod_ns) = namespace_of(pod) else {
                        continue;
                    };
                    for svc in services {
                        if namespace_of(svc) != Some(pod_ns) {
                            return Err(ObserveError::ServiceNamespace {
                                service: svc.clone(),
                                namespace: pod_ns.to_owned(),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The filters: the namespaces applied, and one filter when both sides came out equal.
    fn flow_filters(mut self) -> Vec<FlowFilter> {
        if self.left.is_none()
            && self.right.is_none()
            && self.ns.is_empty()
            && self.src_ns.is_empty()
            && self.dst_ns.is_empty()
        {
            return Vec::new();
        }
        let mut left = self.left.take().unwrap_or_default();
        let mut right = self.right.take().unwrap_or_default();
        if !self.dst_ns.is_empty() {
            apply_destination_namespaces(&mut left, &self.dst_ns);
            apply_destination_namespaces(&mut right, &self.dst_ns);
        }
        if !self.src_ns.is_empty() {
            apply_source_namespaces(&mut left, &self.src_ns);
            apply_source_namespaces(&mut right, &self.src_ns);
        }
        if !self.ns.is_empty() {
            apply_source_namespaces(&mut left, &self.ns);
            apply_destination_namespaces(&mut right, &self.ns);
        }
        if left == right {
            vec![left]
        } else {
            vec![left, right]
        }
    }
}

fn all_namespaces_flag(flag: &'static str) -> &'static str {
    match flag {
        "from-namespace" => "from-all-namespaces",
        "to-namespace" => "to-all-namespaces",
        _ => "all-namespaces",
    }
}

/// The namespace of a `namespace/name`, `None` without a slash.
fn namespace_of(name: &str) -> Option<&str> {
    name.split_once('/').map(|(ns, _)| ns)
}

fn apply_source_namespaces(f: &mut FlowFilter, namespaces: &[String]) {
    if f.source_pod.is_empty() && f.source_service.is_empty() {
        // Any pod of the namespaces.
        f.source_pod = vec![String::new()];
    }
    f.source_pod = with_namespaces(&f.source_pod, namespaces);
    f.source_service = with_namespaces(&f.source_service, namespaces);
}

fn apply_destination_namespaces(f: &mut FlowFilter, namespaces: &[String]) {
    if f.destination_pod.is_empty() && f.destination_service.is_empty() {
        f.destination_pod = vec![String::new()];
    }
    f.destination_pod = with_namespaces(&f.destination_pod, namespaces);
    f.destination_service = with_namespaces(&f.destination_service, namespaces);
}

/// Each name without a namespace once per namespace (`ns/name`); names with one as they are.
fn with_namespaces(names: &[String], namespaces: &[String]) -> Vec<String> {
    if namespaces.is_empty() || names.is_empty() {
        return names.to_vec();
    }
    let mut out = Vec::new();
    for name in names {
        if name.contains('/') {
            out.push(name.clone());
        } else {
            out.extend(namespaces.iter().map(|ns| format!("{ns}/{name}")));
        }
    }
    out
}

fn invalid(flag: FilterFlag, value: &str, reason: impl Into<String>) -> ObserveError {
    ObserveError::InvalidValue {
        flag: flag.name(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// An address or a CIDR (Hubble's server takes either).
fn check_ip(flag: FilterFlag, value: &str) -> Result<(), ObserveError> {
    let ok = match value.split_once('/') {
        None => value.parse::<std::net::IpAddr>().is_ok(),
        Some((addr, len)) => match (addr.parse::<std::net::IpAddr>(), parse_decimal(len)) {
            (Ok(std::net::IpAddr::V4(_)), Some(len)) => len <= 32,
            (Ok(std::net::IpAddr::V6(_)), Some(len)) => len <= 128,
            _ => false,
        },
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            flag,
            value,
            "expected an IP address or a CIDR (10.0.0.1, 10.0.0.0/8)",
        ))
    }
}

fn check_port(flag: FilterFlag, value: &str) -> Result<(), ObserveError> {
    match parse_decimal(value) {
        Some(port) if port <= u64::from(u16::MAX) => Ok(()),
        _ => Err(invalid(flag, value, "expected a port number (0 to 65535)")),
    }
}

/// Digits only (no sign, no blanks), as Go's `strconv.ParseUint(s, 10, _)`.
fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `TYPE[:SUBTYPE]`: a type name or number; a sub type by name for `trace` and `agent` given
/// by name, or a number.
fn parse_type(value: &str) -> Result<EventTypeFilter, ObserveError> {
    let (name, sub) = match value.split_once(':') {
        Some((name, sub)) => (name, Some(sub)),
        None => (value, None),
    };
    let named = names::EVENT_TYPE_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| *t);
    let r#type = match named {
        Some(t) => t,
        None => parse_decimal(name)
            .and_then(|t| u32::try_from(t).ok())
            .map(|t| t as i32)
            .ok_or_else(|| {
                invalid(
                    FilterFlag::Type,
                    value,
                    format!(
                        "{name:?} is no type name ({}) and no number",
                        names::EVENT_TYPE_NAMES
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?,
    };
    let mut filter = EventTypeFilter {
        r#type,
        match_sub_type: false,
        sub_type: 0,
    };
    let Some(sub) = sub else { return Ok(filter) };
    let by_name = match named {
        Some(names::MESSAGE_TYPE_TRACE) => names::TRACE_SUB_TYPES
            .iter()
            .find(|(n, _)| *n == sub)
            .map(|(_, s)| *s),
        Some(names::MESSAGE_TYPE_AGENT) => AGENT_SUB_TYPES
            .iter()
            .find(|(n, _)| *n == sub)
            .map(|(_, s)| *s),
        _ => None,
    };
    let sub_type = match by_name {
        Some(s) => s,
        None => parse_decimal(sub)
            .and_then(|s| u32::try_from(s).ok())
            .map(|s| s as i32)
            .ok_or_else(|| {
                let known = match named {
                    Some(names::MESSAGE_TYPE_TRACE) => names::TRACE_SUB_TYPES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                    Some(names::MESSAGE_TYPE_AGENT) => AGENT_SUB_TYPES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", "),
                    _ => String::new(),
                };
                let reason = if known.is_empty() {
                    format!("sub type {sub:?} is not a number")
                } else {
                    format!("sub type {sub:?} is neither one of {known} nor a number")
                };
                invalid(FilterFlag::Type, value, reason)
            })?,
    };
    filter.match_sub_type = true;
    filter.sub_type = sub_type;
    Ok(filter)
}

/// `--type agent:NAME` sub types (Cilium's agent notification numbers).
const AGENT_SUB_TYPES: &[(&str, i32)] = &[
    ("unspecified", 0),
    ("message", 1),
    ("agent-started", 2),
    ("endpoint-regenerate-success", 3),
    ("endpoint-regenerate-failure", 4),
    ("policy-updated", 5),
    ("policy-deleted", 6),
    ("endpoint-created", 7),
    ("endpoint-deleted", 8),
    ("ipcache-upserted", 9),
    ("ipcache-deleted", 10),
    ("service-upserted", 11),
    ("service-deleted", 12),
];

/// `[kind/]name`.
fn parse_workload(value: &str) -> Workload {
    match value.split_once('/') {
        Some((kind, name)) => Workload {
            kind: kind.to_owned(),
            name: name.to_owned(),
        },
        None => Workload {
            kind: String::new(),
            name: value.to_owned(),
        },
    }
}

/// Reserved identity names `--identity` takes.
const RESERVED_IDENTITIES: &[&str] = &[
    "host",
    "world",
    "unmanaged",
    "health",
    "init",
    "remote-node",
    "kube-apiserver",
    "ingress",
    "world-ipv4",
    "world-ipv6",
];

/// A reserved identity name or a number (decimal, or `0x`, `0o`, `0b` or leading-zero octal,
/// as Go's `ParseUint(s, 0, 32)`).
fn parse_identity(flag: FilterFlag, value: &str) -> Result<u32, ObserveError> {
    if let Some(id) = (1..=10).find(|&id| names::reserved_identity_name(id) == Some(value)) {
        return Ok(id);
    }
    let lower = value.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    let digits_ok = !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix));
    digits_ok
        .then(|| u32::from_str_radix(digits, radix).ok())
        .flatten()
        .ok_or_else(|| {
            invalid(
                flag,
                value,
                format!(
                    "expected one of {} or a numeric identity",
                    RESERVED_IDENTITIES.join(", ")
                ),
            )
        })
}

/// Comma-separated TCP flag names, any case.
fn parse_tcp_flags(value: &str) -> Result<TcpFlags, ObserveError> {
    let mut flags = TcpFlags::default();
    for name in value.split(',') {
        let flag = match name.to_uppercase().as_str() {
            "SYN" => &mut flags.syn,
            "FIN" => &mut flags.fin,
            "RST" => &mut flags.rst,
            "PSH" => &mut flags.psh,
            "ACK" => &mut flags.ack,
            "URG" => &mut flags.urg,
            "ECE" => &mut flags.ece,
            "CWR" => &mut flags.cwr,
            "NS" => &mut flags.ns,
            _ => {
                return Err(invalid(
                    FilterFlag::TcpFlags,
                    value,
                    format!(
                        "unknown TCP flag {name:?} (expected SYN, FIN, RST, PSH, ACK, URG, ECE, CWR or NS)"
                    ),
                ));
            }
        };
        *flag = true;
    }
    Ok(flags)
}

/// `--allowlist`/`--denylist` values: each may hold several JSON objects one after another.
fn raw_filters(flag: &'static str, values: &[String]) -> Result<Vec<FlowFilter>, ObserveError> {
    let mut out = Vec::new();
    for value in values {
        for filter in serde_json::Deserializer::from_str(value).into_iter::<FlowFilter>() {
            out.push(filter.map_err(|e| ObserveError::RawFilter {
                flag,
                value: value.clone(),
                reason: e.to_string(),
            })?);
        }
    }
    Ok(out)
}

/// A `--since`/`--until` value as a timestamp: first as a duration before `now` (Go's
/// duration syntax: `300ms`, `1.5h`, `2h45m`), then as one of Hubble's absolute formats.
pub fn parse_time(
    flag: &'static str,
    value: &str,
    now: SystemTime,
) -> Result<pbjson_types::Timestamp, ObserveError> {
    let err = || ObserveError::Time {
        flag,
        value: value.to_owned(),
    };
    let t = if let Some(ago) = parse_go_duration(value) {
        let now = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => i128::try_from(d.as_nanos()).map_err(|_| err())?,
            Err(e) => -i128::try_from(e.duration().as_nanos()).map_err(|_| err())?,
        };
        let nanos = now - ago;
        let seconds = i64::try_from(nanos.div_euclid(1_000_000_000)).map_err(|_| err())?;
        let subsec = u32::try_from(nanos.rem_euclid(1_000_000_000)).map_err(|_| err())?;
        DateTime::<Utc>::from_timestamp(seconds, subsec).ok_or_else(err)?
    } else {
        parse_absolute_time(value).ok_or_else(err)?
    };
    Ok(pbjson_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    })
}

/// Hubble's absolute layouts: `2006-01-02`, `2006-01-02T15Z07:00`, `2006-01-02T15:04Z07:00`,
/// RFC 3339 (any fraction), RFC 1123 with a numeric zone.
fn parse_absolute_time(value: &str) -> Option<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d")
        && value.len() == 10
    {
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(value, "%a, %d %b %Y %H:%M:%S %z") {
        return Some(t.with_timezone(&Utc));
    }
    // Hour or minute granularity: date, `T`, `15` or `15:04`, then `Z` or `±hh:mm`.
    let (date, rest) = value.split_once('T')?;
    if date.len() != 10 {
        return None;
    }
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    let split = rest.find(['Z', '+', '-'])?;
    let (clock, zone) = rest.split_at(split);
    let (hour, minute) = match clock.split_once(':') {
        Some((h, m)) if h.len() == 2 && m.len() == 2 => (parse_decimal(h)?, parse_decimal(m)?),
        None if clock.len() == 2 => (parse_decimal(clock)?, 0),
        _ => return None,
    };
    let offset = if zone == "Z" {
        FixedOffset::east_opt(0)?
    } else {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (h, m) = zone[1..].split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let secs = i32::try_from(parse_decimal(h)? * 3600 + parse_decimal(m)? * 60).ok()?;
        FixedOffset::east_opt(sign * secs)?
    };
    let naive = date.and_hms_opt(u32::try_from(hour).ok()?, u32::try_from(minute).ok()?, 0)?;
    Some(
        offset
            .from_local_datetime(&naive)
            .single()?
            .with_timezone(&Utc),
    )
}

/// A Go duration (`[-+]?(\d*\.?\d+(ns|us|µs|ms|s|m|h))+`, or `0`) in nanoseconds.
fn parse_go_duration(s: &str) -> Option<i128> {
    let (negative, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: f64 = 0.0;
    let mut exact: i128 = 0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (num, after) = rest.split_at(num_len);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return None;
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3600 * 1_000_000_000,
            _ => return None,
        };
        match num.split_once('.') {
            None => exact += num.parse::<i128>().ok()? * scale,
            Some((whole, frac)) => {
                let whole: i128 = if whole.is_empty() {
                    0
                } else {
                    whole.parse().ok()?
                };
                exact += whole * scale;
                if !frac.is_empty() {
                    total += format!("0.{frac}").parse::<f64>().ok()? * scale as f64;
                }
            }
        }
        rest = after;
    }
    let nanos = exact + total as i128;
    // Go durations are int64 nanoseconds (about 292 years).
    if nanos > i128::from(i64::MAX) {
        return None;
    }
    Some(if negative { -nanos } else { nanos })
}

/// The filters of a request as `hubble observe --print-raw-filters` prints them: YAML lists
/// `allowlist` and `denylist` of protojson filters, ready for `--allowlist`/`--denylist` or
/// Hubble's config file.
pub fn filters_yaml(req: &GetFlowsRequest) -> serde_json::Result<String> {
    let mut out = String::new();
    for (key, filters) in [("allowlist", &req.whitelist), ("denylist", &req.blacklist)] {
        if filters.is_empty() {
            continue;
        }
        out.push_str(key);
        out.push_str(":\n");
        for f in filters {
            out.push_str("    - '");
            out.push_str(&filter_json(f)?.replace('\'', "''"));
            out.push_str("'\n");
        }
    }
    if out.is_empty() {
        out.push_str("{}\n");
    }
    Ok(out)
}

/// One filter as protojson, with `<`, `>` and `&` escaped as Go's `encoding/json` does.
pub fn filter_json(filter: &FlowFilter) -> serde_json::Result<String> {
    let json = serde_json::to_string(filter)?;
    Ok(json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("5m"), Some(300_000_000_000));
        assert_eq!(parse_go_duration("1h30m"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("1.5h"), Some(5_400_000_000_000));
        assert_eq!(parse_go_duration("300ms"), Some(300_000_000));
        assert_eq!(parse_go_duration("-2s"), Some(-2_000_000_000));
        assert_eq!(parse_go_duration("0"), Some(0));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration(""), None);
        assert_eq!(parse_go_duration("m"), None);
        assert_eq!(parse_go_duration("2024-05-01"), None);
    }

    #[test]
    fn absolute_times() {
        let t = |s| parse_absolute_time(s).map(|t| t.to_rfc3339());
        assert_eq!(
            t("2024-05-01").as_deref(),
            Some("2024-05-01T00:00:00+00:00")
        );
        assert_eq!(
            t("2024-05-01T10Z").as_deref(),
            Some("2024-05-01T10:00:00+00:00")
        );
        assert_eq!(
            t("2024-05-01T10+02:00").as_deref(),
            Some("2024-05-01T08:00:00+00:00")
        );
        assert_eq!(
            t("2024-05-01T10:30-01:00").as_deref(),
            Some("2024-05-01T11:30:00+00:00")
        );
        assert_eq!(
            t("2024-05-01T10:30:15.5Z").as_deref(),
            Some("2024-05-01T10:30:15.500+00:00")
        );
        assert_eq!(
            t("Wed, 01 May 2024 10:30:15 +0200").as_deref(),
            Some("2024-05-01T08:30:15+00:00")
        );
        assert_eq!(t("yesterday"), None);
        assert_eq!(t("2024-05-01T1Z"), None);
    }
}
