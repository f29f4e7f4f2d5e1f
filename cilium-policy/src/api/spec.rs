//! The CiliumNetworkPolicy rule as users write it (`cilium.io/v2`), field for field.
//!
//! These types only describe the shape: unknown fields are refused while parsing (strict field
//! validation, as `kubectl apply --validate=strict` does) and the values are checked by
//! [`crate::compile`](mod@crate::compile), which also turns a [`RuleSpec`] into the engine's
//! own [`crate::rule::Rule`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One policy rule: the `spec` of a CiliumNetworkPolicy, or one entry of its `specs`.
#[doc(alias = "Rule")]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSpec {
    /// Endpoints the rule applies to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_selector: Option<LabelSelectorSpec>,
    /// Nodes the rule applies to (clusterwide policies only, host firewall).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<LabelSelectorSpec>,
    /// Allowed ingress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<Vec<IngressRuleSpec>>,
    /// Denied ingress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress_deny: Option<Vec<IngressRuleSpec>>,
    /// Allowed egress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<Vec<EgressRuleSpec>>,
    /// Denied egress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress_deny: Option<Vec<EgressRuleSpec>>,
    /// Labels naming the rule (`source:key=value` strings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<LabelSpec>>,
    /// Whether the rule puts selected endpoints into default deny, per direction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_default_deny: Option<DefaultDenySpec>,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Policy verdict logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<LogSpec>,
}

/// A rule label, either a `source:key=value` string or Cilium's object form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabelSpec {
    /// `source:key=value`.
    Text(String),
    /// `{key, value, source}`.
    Object {
        /// Label key.
        key: String,
        /// Label value.
        #[serde(default)]
        value: String,
        /// Label source.
        #[serde(default)]
        source: String,
    },
}

/// `enableDefaultDeny`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultDenySpec {
    /// Ingress default deny (absent: true when the rule has ingress rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ingress: Option<bool>,
    /// Egress default deny (absent: true when the rule has egress rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egress: Option<bool>,
}

/// `log`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSpec {
    /// Text attached to verdicts of this rule (at most 32 characters).
    #[serde(default)]
    pub value: String,
}

/// A Kubernetes label selector (`matchLabels` AND `matchExpressions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelectorSpec {
    /// `key: value` pairs, all of which must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_labels: Option<BTreeMap<String, Option<String>>>,
    /// Set-based requirements, all of which must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<LabelSelectorRequirementSpec>>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelSelectorRequirementSpec {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist` (checked by validation).
    pub operator: String,
    /// Values for `In` / `NotIn`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
}

/// One entry of `ingress` or `ingressDeny`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IngressRuleSpec {
    /// Peers by endpoint labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_endpoints: Option<Vec<LabelSelectorSpec>>,
    /// Deprecated: labels every peer must also carry (refused, see validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_requires: Option<Vec<serde_yaml::Value>>,
    /// Peers by CIDR.
    #[serde(default, rename = "fromCIDR", skip_serializing_if = "Option::is_none")]
    pub from_cidr: Option<Vec<String>>,
    /// Peers by CIDR with exceptions.
    #[serde(
        default,
        rename = "fromCIDRSet",
        skip_serializing_if = "Option::is_none"
    )]
    pub from_cidr_set: Option<Vec<CidrRuleSpec>>,
    /// Peers by entity name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_entities: Option<Vec<String>>,
    /// Peers by node labels (needs `enable_node_selector_labels`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_nodes: Option<Vec<LabelSelectorSpec>>,
    /// Cloud provider groups (not supported: refused by validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_groups: Option<Vec<serde_yaml::Value>>,
    /// Ports, protocols and L7 rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ports: Option<Vec<PortRuleSpec>>,
    /// ICMP types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmps: Option<Vec<IcmpRuleSpec>>,
    /// Mutual authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<AuthenticationSpec>,
}

/// One entry of `egress` or `egressDeny`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EgressRuleSpec {
    /// Peers by endpoint labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_endpoints: Option<Vec<LabelSelectorSpec>>,
    /// Deprecated: labels every peer must also carry (refused, see validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_requires: Option<Vec<serde_yaml::Value>>,
    /// Peers by CIDR.
    #[serde(default, rename = "toCIDR", skip_serializing_if = "Option::is_none")]
    pub to_cidr: Option<Vec<String>>,
    /// Peers by CIDR with exceptions.
    #[serde(default, rename = "toCIDRSet", skip_serializing_if = "Option::is_none")]
    pub to_cidr_set: Option<Vec<CidrRuleSpec>>,
    /// Peers by entity name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_entities: Option<Vec<String>>,
    /// Peers by node labels (needs `enable_node_selector_labels`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_nodes: Option<Vec<LabelSelectorSpec>>,
    /// Cloud provider groups (not supported: refused by validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_groups: Option<Vec<serde_yaml::Value>>,
    /// Peers behind Kubernetes services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_services: Option<Vec<ServiceSpec>>,
    /// Peers by DNS name (identities learned by the DNS proxy).
    #[serde(default, rename = "toFQDNs", skip_serializing_if = "Option::is_none")]
    pub to_fqdns: Option<Vec<FqdnSelectorSpec>>,
    /// Ports, protocols and L7 rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ports: Option<Vec<PortRuleSpec>>,
    /// ICMP types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmps: Option<Vec<IcmpRuleSpec>>,
    /// Mutual authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<AuthenticationSpec>,
}

/// `fromCIDRSet` / `toCIDRSet` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CidrRuleSpec {
    /// The prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
    /// Sub-prefixes excluded from `cidr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except: Option<Vec<String>>,
    /// A CiliumCIDRGroup by name (not supported: refused by validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_group_ref: Option<String>,
    /// CiliumCIDRGroups by label (not supported: refused by validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr_group_selector: Option<LabelSelectorSpec>,
}

/// `toServices` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceSpec {
    /// A service by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s_service: Option<ServiceNameSpec>,
    /// Services by label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k8s_service_selector: Option<ServiceSelectorSpec>,
}

/// `k8sService`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceNameSpec {
    /// Service name.
    #[serde(default)]
    pub service_name: String,
    /// Service namespace (default: the policy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `k8sServiceSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceSelectorSpec {
    /// Service labels.
    pub selector: LabelSelectorSpec,
    /// Service namespace (default: the policy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `toFQDNs` entry or DNS rule: exactly one of the two fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FqdnSelectorSpec {
    /// An exact name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_name: Option<String>,
    /// A pattern with `*` and a leading `**.`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_pattern: Option<String>,
}

/// `toPorts` entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PortRuleSpec {
    /// Ports and protocols (at most 40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<PortProtocolSpec>>,
    /// TLS termination (recorded, handled by an L7 proxy).
    #[serde(
        default,
        rename = "terminatingTLS",
        skip_serializing_if = "Option::is_none"
    )]
    pub terminating_tls: Option<serde_yaml::Value>,
    /// TLS origination (recorded, handled by an L7 proxy).
    #[serde(
        default,
        rename = "originatingTLS",
        skip_serializing_if = "Option::is_none"
    )]
    pub originating_tls: Option<serde_yaml::Value>,
    /// Allowed TLS server names (SNI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_names: Option<Vec<String>>,
    /// Redirect to a named proxy listener.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<ListenerSpec>,
    /// L7 rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<L7RulesSpec>,
}

/// A port as written: a string (number or name) or a bare number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PortText {
    /// `"80"` or `"http"`.
    Text(String),
    /// `80`.
    Number(i64),
}

/// `ports` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PortProtocolSpec {
    /// Port number or name; absent or `0` means every port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<PortText>,
    /// Last port of a range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_port: Option<i64>,
    /// `TCP`, `UDP`, `SCTP`, `ICMP`, `ICMPV6` or `ANY` (absent: ANY).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
}

/// `listener`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListenerSpec {
    /// The Envoy config holding the listener.
    pub envoy_config: EnvoyConfigSpec,
    /// Listener name.
    pub name: String,
    /// Priority 1..=100 (lower wins).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
}

/// `listener.envoyConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvoyConfigSpec {
    /// `CiliumEnvoyConfig` or `CiliumClusterwideEnvoyConfig`.
    #[serde(default)]
    pub kind: String,
    /// Object name.
    pub name: String,
}

/// `rules`: one kind of L7 rule per port.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct L7RulesSpec {
    /// HTTP rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Vec<HttpRuleSpec>>,
    /// Kafka rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kafka: Option<Vec<KafkaRuleSpec>>,
    /// DNS rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<Vec<FqdnSelectorSpec>>,
    /// Generic L7 parser name (with `l7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l7proto: Option<String>,
    /// Generic key/value rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l7: Option<Vec<BTreeMap<String, String>>>,
}

/// One HTTP rule: every field given must match (regular expressions, anchored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpRuleSpec {
    /// Path regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Method regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Host regex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Required headers: `Name` (present) or `Name: value` (exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<Vec<String>>,
    /// Header matches with a mismatch action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_matches: Option<Vec<HeaderMatchSpec>>,
}

/// `headerMatches` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderMatchSpec {
    /// Header name.
    pub name: String,
    /// Expected value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Value from a Kubernetes secret (not supported: refused by validation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<serde_yaml::Value>,
    /// `LOG`, `ADD`, `DELETE` or `REPLACE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<String>,
}

/// One Kafka rule (as in Cilium up to 1.18).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KafkaRuleSpec {
    /// `produce` or `consume` (exclusive with `apiKey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// API key name, e.g. `produce`, `fetch`, `metadata`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    /// API version (a number as text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Client id.
    #[serde(default, rename = "clientID", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Topic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
}

/// `icmps` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcmpRuleSpec {
    /// Types (at most 40).
    #[serde(default)]
    pub fields: Vec<IcmpFieldSpec>,
}

/// ICMP type as written: a number or a name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IcmpTypeText {
    /// `8`.
    Number(i64),
    /// `EchoRequest`.
    Name(String),
}

/// `icmps[].fields` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IcmpFieldSpec {
    /// `IPv4` (default) or `IPv6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// The ICMP type.
    #[serde(rename = "type")]
    pub icmp_type: IcmpTypeText,
}

/// `authentication`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthenticationSpec {
    /// `disabled`, `required` or `test-always-fail`.
    #[serde(default)]
    pub mode: String,
}
