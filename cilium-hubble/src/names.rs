//! Numbers and names shared by the parser, the filters, the printer and the metrics: Cilium's
//! monitor message types, trace observation points, drop-reason texts, policy match types and
//! reserved identities, as Hubble shows them.

use crate::proto::flow::{DropReason, TraceObservationPoint};

/// Monitor message type of a drop event (`event_type.type`).
pub const MESSAGE_TYPE_DROP: i32 = 1;
/// Monitor message type of a debug event.
pub const MESSAGE_TYPE_DEBUG: i32 = 2;
/// Monitor message type of a packet capture.
pub const MESSAGE_TYPE_CAPTURE: i32 = 3;
/// Monitor message type of a trace event.
pub const MESSAGE_TYPE_TRACE: i32 = 4;
/// Monitor message type of a policy verdict event.
pub const MESSAGE_TYPE_POLICY_VERDICT: i32 = 5;
/// Monitor message type of a socket trace event.
pub const MESSAGE_TYPE_TRACE_SOCK: i32 = 7;
/// Monitor message type of an L7 access-log record.
pub const MESSAGE_TYPE_ACCESS_LOG: i32 = 129;
/// Monitor message type of an agent event.
pub const MESSAGE_TYPE_AGENT: i32 = 130;

/// `--type` names of the monitor message types, as `hubble observe` spells them.
pub const EVENT_TYPE_NAMES: &[(&str, i32)] = &[
    ("drop", MESSAGE_TYPE_DROP),
    ("debug", MESSAGE_TYPE_DEBUG),
    ("capture", MESSAGE_TYPE_CAPTURE),
    ("trace", MESSAGE_TYPE_TRACE),
    ("policy-verdict", MESSAGE_TYPE_POLICY_VERDICT),
    ("trace-sock", MESSAGE_TYPE_TRACE_SOCK),
    ("l7", MESSAGE_TYPE_ACCESS_LOG),
    ("agent", MESSAGE_TYPE_AGENT),
];

/// Trace sub types (the datapath's observation point numbers) and their `--type trace:NAME`
/// names. Sub type 0 is "to-endpoint".
pub const TRACE_SUB_TYPES: &[(&str, i32)] = &[
    ("to-endpoint", 0),
    ("to-proxy", 1),
    ("to-host", 2),
    ("to-stack", 3),
    ("to-overlay", 4),
    ("from-endpoint", 5),
    ("from-proxy", 6),
    ("from-host", 7),
    ("from-stack", 8),
    ("from-overlay", 9),
    ("from-network", 10),
    ("to-network", 11),
];

/// The name of a trace sub type (`"to-endpoint"`, ...), `None` when unknown.
pub fn trace_sub_type_name(sub_type: i32) -> Option<&'static str> {
    TRACE_SUB_TYPES
        .iter()
        .find(|(_, n)| *n == sub_type)
        .map(|(name, _)| *name)
}

/// The observation point of a trace sub type: sub type 0 (to an endpoint) is `TO_ENDPOINT`
/// (101 in the proto); the others have the same number.
pub fn trace_observation_point(sub_type: u8) -> TraceObservationPoint {
    if sub_type == 0 {
        return TraceObservationPoint::ToEndpoint;
    }
    TraceObservationPoint::try_from(i32::from(sub_type))
        .unwrap_or(TraceObservationPoint::UnknownPoint)
}

/// The proto drop reason of a datapath drop code (`DROP_REASON_UNKNOWN` for codes the proto
/// does not name).
pub fn drop_reason(code: u8) -> DropReason {
    DropReason::try_from(i32::from(code)).unwrap_or(DropReason::Unknown)
}

/// Cilium's text for a drop reason, as `hubble observe` prints it in compact output.
pub fn drop_reason_text(code: u32) -> &'static str {
    match code {
        130 => "Invalid source mac",
        131 => "Invalid destination mac",
        132 => "Invalid source ip",
        133 => "Policy denied",
        134 => "Invalid packet",
        135 => "CT: Truncated or invalid header",
        136 => "Fragmentation needed",
        137 => "CT: Unknown L4 protocol",
        139 => "Unsupported L3 protocol",
        140 => "Missed tail call",
        141 => "Error writing to packet",
        142 => "Unknown L4 protocol",
        143 => "Unknown ICMPv4 code",
        144 => "Unknown ICMPv4 type",
        145 => "Unknown ICMPv6 code",
        146 => "Unknown ICMPv6 type",
        147 => "Error retrieving tunnel key",
        150 => "Unknown L3 target address",
        151 => "Stale or unroutable IP",
        153 => "Error while correcting L3 checksum",
        154 => "Error while correcting L4 checksum",
        155 => "CT: Map insertion failed",
        156 => "Invalid IPv6 extension header",
        157 => "IP fragmentation not supported",
        158 => "Service backend not found",
        160 => "No tunnel/encapsulation endpoint",
        162 => "Reached EDT rate-limiting drop horizon",
        163 => "Unknown connection tracking state",
        164 => "Local host is unreachable",
        165 => "No configuration available to perform policy decision",
        166 => "Unsupported L2 protocol",
        167 => "No mapping for NAT masquerade",
        168 => "Unsupported protocol for NAT masquerade",
        169 => "FIB lookup failed",
        170 => "Encapsulation traffic is prohibited",
        171 => "Invalid identity",
        172 => "Unknown sender",
        173 => "NAT not needed",
        174 => "Is a ClusterIP",
        175 => "First logical datagram fragment not found",
        176 => "Forbidden ICMPv6 message",
        177 => "Denied by LB src range check",
        178 => "Socket lookup failed",
        179 => "Socket assign failed",
        180 => "Proxy redirection not supported for protocol",
        181 => "Policy denied by denylist",
        182 => "VLAN traffic disallowed by VLAN filter",
        183 => "Incorrect VNI from VTEP",
        184 => "Failed to update or lookup TC buffer",
        189 => "Authentication required",
        190 => "No conntrack map found",
        191 => "No nat map found",
        192 => "Invalid ClusterID",
        194 => "No egress gateway found",
        195 => "Traffic is unencrypted",
        196 => "TTL exceeded",
        197 => "No node ID found",
        198 => "Rate limited",
        202 => "Host datapath not ready",
        203 => "Endpoint policy program not available",
        204 => "No Egress IP configured",
        205 => "Punt to proxy",
        _ => "Unknown drop reason",
    }
}

/// Name of a policy match type (the datapath's `CIL_POLICY_MATCH_*`), as in
/// `policy-verdict:L3-L4`.
pub fn policy_match_name(match_type: u32) -> &'static str {
    match match_type {
        0 => "none",
        1 => "L3-Only",
        2 => "L3-L4",
        3 => "L4-Only",
        4 => "all",
        5 => "L3-Proto",
        6 => "Proto-Only",
        _ => "unknown",
    }
}

/// Label of a policy match type in `hubble_policy_verdicts_total{match}`.
pub fn policy_match_metric_label(match_type: u32) -> &'static str {
    match match_type {
        0 => "none",
        1 => "l3-only",
        2 => "l3-l4",
        3 => "l4-only",
        4 => "all",
        5 => "l3-proto",
        6 => "proto-only",
        _ => "unknown",
    }
}

/// Name of a reserved identity (1..=10), as Hubble prints it in place of `ID:N`.
pub fn reserved_identity_name(identity: u32) -> Option<&'static str> {
    Some(match identity {
        1 => "host",
        2 => "world",
        3 => "unmanaged",
        4 => "health",
        5 => "init",
        6 => "remote-node",
        7 => "kube-apiserver",
        8 => "ingress",
        9 => "world-ipv4",
        10 => "world-ipv6",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trace_point_zero_is_to_endpoint() {
        assert_eq!(
            trace_observation_point(0),
            TraceObservationPoint::ToEndpoint
        );
        assert_eq!(
            trace_observation_point(5),
            TraceObservationPoint::FromEndpoint
        );
        assert_eq!(
            trace_observation_point(200),
            TraceObservationPoint::UnknownPoint
        );
        assert_eq!(trace_sub_type_name(0), Some("to-endpoint"));
        assert_eq!(trace_sub_type_name(12), None);
    }

    #[test]
    fn drop_reasons_use_hubble_names() {
        assert_eq!(drop_reason(133).as_str_name(), "POLICY_DENIED");
        assert_eq!(drop_reason(181).as_str_name(), "POLICY_DENY");
        assert_eq!(drop_reason(158).as_str_name(), "SERVICE_BACKEND_NOT_FOUND");
        assert_eq!(drop_reason(159), DropReason::Unknown);
        assert_eq!(drop_reason_text(133), "Policy denied");
    }
}
