//! Datapath events and L7 records to flows. Pure: the clock offset, the node name and every
//! lookup (endpoints, identities, services, DNS names, interfaces) come from the caller.
//!
//! What each event becomes:
//!
//! | event | verdict | `event_type` | notes |
//! |---|---|---|---|
//! | drop | `DROPPED` | 1 / reason | `drop_reason_desc` = the datapath's reason (133 → `POLICY_DENIED`) |
//! | trace | `FORWARDED` | 4 / point | `trace_observation_point` (0 → `TO_ENDPOINT`), `is_reply` from the conntrack reason, the service from the pre-translation address |
//! | policy verdict | `FORWARDED`, `DROPPED`, `REDIRECTED` or `AUDIT` | 5 / 0 | `policy_match_type`, `proxy_port`, `auth_type` |
//! | sock | `TRACED` | 7 / op | `Type = SOCK`, `socket_cookie`, `cgroup_id` |
//! | L7 record | the proxy's | 129 / 0 | `Type = L7`, `l7` |
//!
//! `traffic_direction` is the direction of the *connection* as seen by the local endpoint:
//! the hook's direction, flipped for reply packets (as Hubble reports it).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};

use cilium_maps::abi::{DropEvent, PolicyVerdictEvent, SockEvent, TraceEvent, Tuple, consts};
use cilium_maps::events::{Event, EventError};

use crate::names::{self, MESSAGE_TYPE_ACCESS_LOG};
use crate::proto::flow::{
    AuthType, CiliumEventType, Endpoint, Flow, FlowType, IcmPv4, IcmPv6, Ip, IpVersion, L7FlowType,
    Layer4, Layer7, NetworkInterface, Sctp, Service, SocketTranslationPoint, Tcp, TcpFlags,
    TrafficDirection, Udp, Verdict, Workload, layer4, layer7,
};

/// What is known about an endpoint (a pod, the host, a remote pod) for a flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointInfo {
    /// Endpoint id (0 for endpoints of other nodes).
    pub id: u32,
    /// Security identity.
    pub identity: u32,
    /// Kubernetes namespace.
    pub namespace: String,
    /// Pod name.
    pub pod_name: String,
    /// Labels as `source:key=value`.
    pub labels: Vec<String>,
    /// Owning workloads (name, kind).
    pub workloads: Vec<(String, String)>,
}

/// A service's name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceName {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// Where the parser gets names and labels. Every method has a "don't know" default, so an
/// embedder implements only what it has.
pub trait Lookups {
    /// The local endpoint with this id.
    fn endpoint_by_id(&self, _id: u32) -> Option<EndpointInfo> {
        None
    }
    /// The endpoint (local or not) owning this address.
    fn endpoint_by_ip(&self, _ip: IpAddr) -> Option<EndpointInfo> {
        None
    }
    /// The labels of an identity, as `source:key=value`.
    fn identity_labels(&self, _identity: u32) -> Option<Vec<String>> {
        None
    }
    /// The service a frontend address belongs to.
    fn service(&self, _ip: IpAddr, _port: u16) -> Option<ServiceName> {
        None
    }
    /// DNS names this address was seen under (the FQDN cache).
    fn names(&self, _ip: IpAddr) -> Vec<String> {
        Vec::new()
    }
    /// The name of an interface.
    fn interface_name(&self, _ifindex: u32) -> Option<String> {
        None
    }
}

/// Lookups that know nothing: flows carry only what the event itself holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLookups;

impl Lookups for NoLookups {}

/// An L7 record from a proxy, in the form the parser takes (the L7 proxies produce these).
#[derive(Debug, Clone, PartialEq)]
pub struct L7Record {
    /// Wall-clock time of the record, nanoseconds since the Unix epoch.
    pub time_unix_ns: i64,
    /// Client side of the proxied connection.
    pub source: SocketAddr,
    /// Server side (the original destination).
    pub destination: SocketAddr,
    /// IANA protocol (6 or 17).
    pub protocol: u8,
    /// Identity of the source.
    pub source_identity: u32,
    /// Identity of the destination.
    pub destination_identity: u32,
    /// The local endpoint the proxy acted for.
    pub endpoint_id: u32,
    /// Ingress (the endpoint is the server) or egress (the endpoint is the client).
    pub direction: TrafficDirection,
    /// Request, response or sample.
    pub kind: L7FlowType,
    /// `FORWARDED`, `DROPPED` (denied by L7 policy) or `ERROR`.
    pub verdict: Verdict,
    /// Time from request to response, for responses.
    pub latency_ns: u64,
    /// The HTTP, DNS or Kafka part.
    pub record: layer7::Record,
}

/// Turns events and L7 records into flows.
#[derive(Debug)]
pub struct Parser {
    node_name: String,
    /// Wall-clock nanoseconds at `bpf_ktime_get_ns() == 0`.
    boot_unix_ns: i64,
    uuid_seed: u64,
    seq: AtomicU64,
}

impl Parser {
    /// A parser for the events of node `node_name`. `boot_unix_ns` converts the datapath's
    /// monotonic timestamps: wall-clock nanoseconds since the Unix epoch at monotonic time 0
    /// (`realtime - monotonic`, read once by the caller). `uuid_seed` makes flow UUIDs unique
    /// per parser instance (any value that differs between instances, e.g. the start time).
    pub fn new(node_name: impl Into<String>, boot_unix_ns: i64, uuid_seed: u64) -> Self {
        Self {
            node_name: node_name.into(),
            boot_unix_ns,
            uuid_seed,
            seq: AtomicU64::new(0),
        }
    }

    /// The node name flows carry.
    pub fn node_name(&self) -> &str {
        &self.node_name
    }

    /// Decodes a raw ring-buffer record.
    pub fn parse_bytes(&self, bytes: &[u8], lookups: &impl Lookups) -> Result<Flow, EventError> {
        Event::parse(bytes).map(|e| self.parse_event(&e, lookups))
    }

    /// A flow from a datapath event.
    pub fn parse_event(&self, event: &Event, lookups: &impl Lookups) -> Flow {
        let mut flow = self.base(event.hdr().ktime_ns);
        match event {
            Event::Drop(e) => self.drop(&mut flow, e, lookups),
            Event::Trace(e) => self.trace(&mut flow, e, lookups),
            Event::PolicyVerdict(e) => self.verdict(&mut flow, e, lookups),
            Event::Sock(e) => self.sock(&mut flow, e, lookups),
        }
        // Hubble's CLI prints this field as the flow's summary.
        flow.summary = crate::printer::summary(&flow);
        flow
    }

    /// A flow from an L7 record.
    pub fn parse_l7(&self, rec: &L7Record, lookups: &impl Lookups) -> Flow {
        let mut flow = self.base_unix(rec.time_unix_ns);
        flow.r#type = FlowType::L7 as i32;
        flow.verdict = rec.verdict as i32;
        flow.event_type = Some(CiliumEventType {
            r#type: MESSAGE_TYPE_ACCESS_LOG,
            sub_type: 0,
        });
        flow.traffic_direction = rec.direction as i32;
        let reply = rec.kind == L7FlowType::Response;
        flow.is_reply = Some(pbjson_types::BoolValue { value: reply });
        flow.reply = reply;
        // A response travels server -> client: its source is the server.
        let (src, dst, src_id, dst_id) = if reply {
            (
                rec.destination,
                rec.source,
                rec.destination_identity,
                rec.source_identity,
            )
        } else {
            (
                rec.source,
                rec.destination,
                rec.source_identity,
                rec.destination_identity,
            )
        };
        flow.ip = Some(ip_of(src.ip(), dst.ip()));
        flow.l4 = l4_of(rec.protocol, src.port(), dst.port(), None);
        // The local endpoint is the client of egress and the server of ingress connections.
        let local = (rec.endpoint_id != 0)
            .then(|| lookups.endpoint_by_id(rec.endpoint_id))
            .flatten();
        let client_is_local = rec.direction == TrafficDirection::Egress;
        let (src_local, dst_local) = if client_is_local != reply {
            (local, None)
        } else {
            (None, local)
        };
        flow.source = Some(endpoint(src.ip(), src_id, src_local, lookups));
        flow.destination = Some(endpoint(dst.ip(), dst_id, dst_local, lookups));
        flow.source_names = lookups.names(src.ip());
        flow.destination_names = lookups.names(dst.ip());
        flow.destination_service = service(lookups, dst.ip(), dst.port());
        flow.l7 = Some(Layer7 {
            r#type: rec.kind as i32,
            latency_ns: rec.latency_ns,
            record: Some(rec.record.clone()),
        });
        flow.summary = crate::printer::summary(&flow);
        flow
    }

    fn base(&self, ktime_ns: u64) -> Flow {
        let ns = i64::try_from(ktime_ns).unwrap_or(i64::MAX);
        self.base_unix(self.boot_unix_ns.saturating_add(ns))
    }

    fn base_unix(&self, unix_ns: i64) -> Flow {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        Flow {
            time: Some(pbjson_types::Timestamp {
                seconds: unix_ns.div_euclid(1_000_000_000),
                nanos: unix_ns.rem_euclid(1_000_000_000) as i32,
            }),
            uuid: uuid(self.uuid_seed, seq),
            node_name: self.node_name.clone(),
            r#type: FlowType::L3L4 as i32,
            ..Flow::default()
        }
    }

    fn drop(&self, flow: &mut Flow, e: &DropEvent, lookups: &impl Lookups) {
        let reason = e.hdr.subtype;
        flow.verdict = Verdict::Dropped as i32;
        flow.drop_reason = u32::from(reason);
        flow.drop_reason_desc = names::drop_reason(reason) as i32;
        flow.event_type = Some(CiliumEventType {
            r#type: names::MESSAGE_TYPE_DROP,
            sub_type: i32::from(reason),
        });
        flow.traffic_direction = direction(e.direction) as i32;
        l3_l4(flow, &e.tuple, Some(e.tcp_flags));
        endpoints(
            flow,
            &e.tuple,
            e.src_identity,
            e.dst_identity,
            u32::from(e.hdr.endpoint_id),
            e.direction,
            lookups,
        );
        interface(flow, e.ifindex, lookups);
    }

    fn trace(&self, flow: &mut Flow, e: &TraceEvent, lookups: &impl Lookups) {
        let point = e.hdr.subtype;
        flow.verdict = Verdict::Forwarded as i32;
        flow.event_type = Some(CiliumEventType {
            r#type: names::MESSAGE_TYPE_TRACE,
            sub_type: i32::from(point),
        });
        flow.trace_observation_point = names::trace_observation_point(point) as i32;
        let reply = match e.reason {
            consts::CIL_TRACE_REASON_REPLY => Some(true),
            consts::CIL_TRACE_REASON_NEW | consts::CIL_TRACE_REASON_ESTABLISHED => Some(false),
            _ => None,
        };
        flow.is_reply = reply.map(|value| pbjson_types::BoolValue { value });
        flow.reply = reply == Some(true);
        let mut dir = direction(e.direction);
        if reply == Some(true) {
            dir = flip(dir);
        }
        flow.traffic_direction = dir as i32;
        l3_l4(flow, &e.tuple, Some(e.tcp_flags));
        endpoints(
            flow,
            &e.tuple,
            e.src_identity,
            e.dst_identity,
            u32::from(e.hdr.endpoint_id),
            e.direction,
            lookups,
        );
        if e.rev_nat_index != 0
            && let Some(orig) = cilium_maps::abi::decode_addr(&e.orig_daddr, e.tuple.family)
        {
            flow.destination_service = service(lookups, orig, e.orig_dport.get());
        } else if let Some(dst) = e.tuple.dst() {
            flow.destination_service = service(lookups, dst, e.tuple.dport.get());
        }
        interface(flow, e.ifindex, lookups);
    }

    fn verdict(&self, flow: &mut Flow, e: &PolicyVerdictEvent, lookups: &impl Lookups) {
        flow.verdict = if e.flags & consts::CIL_VERDICT_F_DENY != 0 {
            Verdict::Dropped
        } else if e.flags & consts::CIL_VERDICT_F_AUDIT != 0 {
            Verdict::Audit
        } else if e.flags & consts::CIL_VERDICT_F_REDIRECT != 0 {
            Verdict::Redirected
        } else {
            Verdict::Forwarded
        } as i32;
        if e.flags & consts::CIL_VERDICT_F_DENY != 0 {
            flow.drop_reason = u32::from(e.drop_reason);
            flow.drop_reason_desc = names::drop_reason(e.drop_reason) as i32;
        }
        flow.event_type = Some(CiliumEventType {
            r#type: names::MESSAGE_TYPE_POLICY_VERDICT,
            sub_type: 0,
        });
        flow.policy_match_type = u32::from(e.match_type);
        flow.proxy_port = u32::from(e.proxy_port.get());
        // Only values the proto names: an unknown one would not print as JSON.
        flow.auth_type =
            AuthType::try_from(i32::from(e.auth_type)).unwrap_or(AuthType::Disabled) as i32;
        flow.traffic_direction = direction(e.direction) as i32;
        l3_l4(flow, &e.tuple, None);
        let local = lookups.endpoint_by_id(u32::from(e.hdr.endpoint_id));
        let local_identity = local.as_ref().map_or(0, |l| l.identity);
        let (src_id, dst_id) = if e.direction == consts::CIL_DIR_EGRESS {
            (local_identity, e.remote_identity)
        } else {
            (e.remote_identity, local_identity)
        };
        endpoints(
            flow,
            &e.tuple,
            src_id,
            dst_id,
            u32::from(e.hdr.endpoint_id),
            e.direction,
            lookups,
        );
        interface(flow, e.ifindex, lookups);
    }

    fn sock(&self, flow: &mut Flow, e: &SockEvent, lookups: &impl Lookups) {
        flow.r#type = FlowType::Sock as i32;
        flow.verdict = Verdict::Traced as i32;
        flow.event_type = Some(CiliumEventType {
            r#type: names::MESSAGE_TYPE_TRACE_SOCK,
            sub_type: i32::from(e.hdr.subtype),
        });
        flow.sock_xlate_point = if e.hdr.subtype == consts::CIL_SOCK_LB_XLATE {
            SocketTranslationPoint::SockXlatePointPostDirectionFwd
        } else {
            SocketTranslationPoint::SockXlatePointUnknown
        } as i32;
        flow.socket_cookie = e.cookie;
        flow.cgroup_id = e.cgroup_id;
        flow.traffic_direction = TrafficDirection::Egress as i32;
        l3_l4(flow, &e.tuple, None);
        endpoints(flow, &e.tuple, 0, 0, 0, consts::CIL_DIR_EGRESS, lookups);
    }
}

fn direction(dir: u8) -> TrafficDirection {
    match dir {
        consts::CIL_DIR_INGRESS => TrafficDirection::Ingress,
        consts::CIL_DIR_EGRESS => TrafficDirection::Egress,
        _ => TrafficDirection::Unknown,
    }
}

fn flip(dir: TrafficDirection) -> TrafficDirection {
    match dir {
        TrafficDirection::Ingress => TrafficDirection::Egress,
        TrafficDirection::Egress => TrafficDirection::Ingress,
        TrafficDirection::Unknown => TrafficDirection::Unknown,
    }
}

fn ip_of(src: IpAddr, dst: IpAddr) -> Ip {
    Ip {
        source: src.to_string(),
        destination: dst.to_string(),
        ip_version: if src.is_ipv4() {
            IpVersion::IPv4
        } else {
            IpVersion::IPv6
        } as i32,
        encrypted: false,
    }
}

/// TCP flag bits as the datapath reports them (the TCP header's flag byte).
fn tcp_flags(bits: u8) -> TcpFlags {
    TcpFlags {
        fin: bits & 0x01 != 0,
        syn: bits & 0x02 != 0,
        rst: bits & 0x04 != 0,
        psh: bits & 0x08 != 0,
        ack: bits & 0x10 != 0,
        urg: bits & 0x20 != 0,
        ece: bits & 0x40 != 0,
        cwr: bits & 0x80 != 0,
        ns: false,
    }
}

/// `flags`: the TCP flag byte when the event carries one.
fn l4_of(protocol: u8, sport: u16, dport: u16, flags: Option<u8>) -> Option<Layer4> {
    let p = match protocol {
        6 => layer4::Protocol::Tcp(Tcp {
            source_port: u32::from(sport),
            destination_port: u32::from(dport),
            flags: flags.map(tcp_flags),
        }),
        17 => layer4::Protocol::Udp(Udp {
            source_port: u32::from(sport),
            destination_port: u32::from(dport),
        }),
        132 => layer4::Protocol::Sctp(Sctp {
            source_port: u32::from(sport),
            destination_port: u32::from(dport),
        }),
        // The datapath keeps the ICMP type in the high byte of the "port".
        1 => layer4::Protocol::IcmPv4(IcmPv4 {
            r#type: u32::from(dport >> 8),
            code: 0,
        }),
        58 => layer4::Protocol::IcmPv6(IcmPv6 {
            r#type: u32::from(dport >> 8),
            code: 0,
        }),
        _ => return None,
    };
    Some(Layer4 { protocol: Some(p) })
}

fn l3_l4(flow: &mut Flow, t: &Tuple, flags: Option<u8>) {
    if let (Some(src), Some(dst)) = (t.src(), t.dst()) {
        flow.ip = Some(ip_of(src, dst));
    }
    flow.l4 = l4_of(t.protocol, t.sport.get(), t.dport.get(), flags);
}

fn endpoint(
    ip: IpAddr,
    identity: u32,
    local: Option<EndpointInfo>,
    lookups: &impl Lookups,
) -> Endpoint {
    let info = local.or_else(|| lookups.endpoint_by_ip(ip));
    let mut ep = match info {
        Some(i) => Endpoint {
            id: i.id,
            identity: if identity != 0 { identity } else { i.identity },
            namespace: i.namespace,
            labels: i.labels,
            pod_name: i.pod_name,
            workloads: i
                .workloads
                .into_iter()
                .map(|(name, kind)| Workload { name, kind })
                .collect(),
        },
        None => Endpoint {
            identity,
            ..Endpoint::default()
        },
    };
    if ep.labels.is_empty()
        && ep.identity != 0
        && let Some(labels) = lookups.identity_labels(ep.identity)
    {
        ep.labels = labels;
    }
    ep
}

/// Source and destination endpoints: the event's local endpoint is the source of egress and
/// the destination of ingress traffic; the other side is looked up by address.
fn endpoints(
    flow: &mut Flow,
    t: &Tuple,
    src_id: u32,
    dst_id: u32,
    endpoint_id: u32,
    dir: u8,
    lookups: &impl Lookups,
) {
    let (Some(src), Some(dst)) = (t.src(), t.dst()) else {
        return;
    };
    let local = if endpoint_id != 0 {
        lookups.endpoint_by_id(endpoint_id)
    } else {
        None
    };
    let (src_local, dst_local) = if dir == consts::CIL_DIR_EGRESS {
        (local, None)
    } else {
        (None, local)
    };
    flow.source = Some(endpoint(src, src_id, src_local, lookups));
    flow.destination = Some(endpoint(dst, dst_id, dst_local, lookups));
    flow.source_names = lookups.names(src);
    flow.destination_names = lookups.names(dst);
}

fn service(lookups: &impl Lookups, ip: IpAddr, port: u16) -> Option<Service> {
    lookups.service(ip, port).map(|s| Service {
        name: s.name,
        namespace: s.namespace,
    })
}

fn interface(flow: &mut Flow, ifindex: u32, lookups: &impl Lookups) {
    if ifindex != 0 {
        flow.interface = Some(NetworkInterface {
            index: ifindex,
            name: lookups.interface_name(ifindex).unwrap_or_default(),
        });
    }
}

/// A version-4-shaped UUID from a seed and a sequence number (splitmix64 twice): unique per
/// (seed, seq), no clock or random source needed.
fn uuid(seed: u64, seq: u64) -> String {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    let hi = mix(seed ^ seq.rotate_left(32));
    let lo = mix(hi ^ seq);
    let hi = (hi & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
    let lo = (lo & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xFFFF,
        hi & 0xFFFF,
        lo >> 48,
        lo & 0xFFFF_FFFF_FFFF
    )
}

/// The L7 protocol of a flow's record (`"http"`, `"dns"`, `"kafka"`), if any.
pub fn l7_protocol(flow: &Flow) -> Option<&'static str> {
    match flow.l7.as_ref()?.record.as_ref()? {
        layer7::Record::Http(_) => Some("http"),
        layer7::Record::Dns(_) => Some("dns"),
        layer7::Record::Kafka(_) => Some("kafka"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_distinct_and_v4_shaped() {
        let a = uuid(1, 0);
        let b = uuid(1, 1);
        let c = uuid(2, 0);
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn reply_flips_the_direction() {
        assert_eq!(flip(TrafficDirection::Ingress), TrafficDirection::Egress);
        assert_eq!(direction(consts::CIL_DIR_EGRESS), TrafficDirection::Egress);
    }
}
