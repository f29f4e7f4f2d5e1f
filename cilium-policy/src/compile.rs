//! Validation and compilation: policy objects → [`Rule`]s, in one pass that collects every
//! problem with its field path.
//!
//! Selectors get Cilium's namespace scoping: a namespaced policy selects endpoints of its own
//! namespace, and its peer selectors select peers of its own namespace unless they name the
//! namespace label (`io.kubernetes.pod.namespace`) or a reserved label. Kubernetes
//! NetworkPolicies are translated the way Cilium translates them (pod labels with source `k8s`,
//! namespace labels as `k8s:io.cilium.k8s.namespace.labels.<key>`).

use std::collections::BTreeMap;
use std::sync::Arc;

use cilium_core::l4::NamedPort;
use cilium_core::labels::LabelSource;
use cilium_core::{Cidr, Label, LabelSet, PortRange, Protocol};
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector as K8sLabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::api::spec::{
    CidrRuleSpec, EgressRuleSpec, FqdnSelectorSpec, HttpRuleSpec, IcmpRuleSpec, IcmpTypeText,
    IngressRuleSpec, KafkaRuleSpec, L7RulesSpec, LabelSelectorSpec, LabelSpec, PortProtocolSpec,
    PortRuleSpec, PortText, RuleSpec, ServiceSpec,
};
use crate::api::{CiliumKind, PolicyError, PolicyErrors, PolicyObject};
use crate::fqdn::{FqdnPattern, normalize_name, sanitize_pattern, validate_name};
use crate::l7::{
    AnchoredRegex, DnsRule, HeaderMatch, HttpRule, KAFKA_API_KEYS, KAFKA_CONSUME_KEYS,
    KAFKA_PRODUCE_KEYS, KafkaRule, L7Rules, MismatchAction,
};
use crate::rule::{
    AuthType, DirectionRules, Listener, PeerRule, PortEntry, PortMatch, Rule, RuleOrigin, Subject,
};
use crate::selector::{CidrSelector, LabelSelector, Operator, Requirement, Selector};

/// The pod label holding the namespace.
pub const POD_NAMESPACE_LABEL: &str = "io.kubernetes.pod.namespace";
/// The prefix of namespace labels copied onto pods.
pub const NAMESPACE_LABELS_PREFIX: &str = "io.cilium.k8s.namespace.labels.";
/// The pod label holding the cluster name.
pub const CLUSTER_LABEL: &str = "io.cilium.k8s.policy.cluster";

/// Agent options that change what is valid or what a rule means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileOptions {
    /// The cluster's name, selected by the `cluster` entity (`default`).
    pub cluster_name: String,
    /// Allow `fromNodes` / `toNodes` (Cilium's `enable-node-selector-labels`, off by default).
    pub enable_node_selector_labels: bool,
    /// Whether the `host` entity also selects remote nodes.
    pub treat_remote_node_as_host: bool,
    /// Pod selectors of known services, by `(namespace, name)`, for `toServices`. A service
    /// that is not listed selects nothing.
    pub services: BTreeMap<(String, String), LabelSelector>,
}

impl Default for CompileOptions {
    fn default() -> CompileOptions {
        CompileOptions {
            cluster_name: "default".into(),
            enable_node_selector_labels: false,
            treat_remote_node_as_host: false,
            services: BTreeMap::new(),
        }
    }
}

/// Compiles policy objects. Either every object is valid and all rules come back, or every
/// problem found comes back.
///
/// # Errors
///
/// [`PolicyErrors`] listing each problem with its object and field path.
pub fn compile(objects: &[PolicyObject], opts: &CompileOptions) -> Result<Vec<Rule>, PolicyErrors> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for object in objects {
        let mut c = Compiler {
            opts,
            errors: Vec::new(),
        };
        let compiled = c.object(object);
        if c.errors.is_empty() {
            rules.extend(compiled);
        } else {
            let name = object.describe();
            errors.extend(c.errors.into_iter().map(|mut e| {
                e.object = Some(name.clone());
                e
            }));
        }
    }
    if errors.is_empty() {
        Ok(rules)
    } else {
        Err(PolicyErrors(errors))
    }
}

/// Parses and compiles YAML/JSON text (see [`crate::api::parse_documents`]).
///
/// # Errors
///
/// Parse or validation problems.
pub fn compile_text(text: &str, opts: &CompileOptions) -> Result<Vec<Rule>, PolicyErrors> {
    let objects = crate::api::parse_documents(text)?;
    compile(&objects, opts)
}

struct Compiler<'a> {
    opts: &'a CompileOptions,
    errors: Vec<PolicyError>,
}

/// Namespace scoping of one policy object.
#[derive(Clone, Copy)]
struct Scope<'a> {
    namespace: Option<&'a str>,
}

impl Compiler<'_> {
    fn err(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(PolicyError::new(path, message));
    }

    fn object(&mut self, object: &PolicyObject) -> Vec<Rule> {
        match object {
            PolicyObject::Cilium {
                kind,
                meta,
                spec,
                specs,
            } => {
                let scope = Scope {
                    namespace: meta.namespace.as_deref(),
                };
                let mut out = Vec::new();
                let mut derived = LabelSet::new();
                derived.insert(Label::new(
                    "io.cilium.k8s.policy.derived-from",
                    kind.as_str(),
                    "k8s",
                ));
                derived.insert(Label::new("io.cilium.k8s.policy.name", &meta.name, "k8s"));
                if let Some(ns) = &meta.namespace {
                    derived.insert(Label::new("io.cilium.k8s.policy.namespace", ns, "k8s"));
                }
                let origin = |i: Option<usize>| {
                    Arc::new(RuleOrigin {
                        kind: kind.as_str().into(),
                        namespace: meta.namespace.clone(),
                        name: meta.name.clone(),
                        spec_index: i,
                    })
                };
                if let Some(spec) = spec {
                    out.extend(self.rule(spec, ".spec", scope, *kind, origin(None), &derived));
                }
                for (i, spec) in specs.iter().enumerate() {
                    let path = format!(".specs[{i}]");
                    out.extend(self.rule(spec, &path, scope, *kind, origin(Some(i)), &derived));
                }
                out
            }
            PolicyObject::Kubernetes(np) => self.network_policy(np).into_iter().collect(),
        }
    }

    // ---------------------------------------------------------------- Cilium rules

    fn rule(
        &mut self,
        spec: &RuleSpec,
        path: &str,
        scope: Scope<'_>,
        kind: CiliumKind,
        origin: Arc<RuleOrigin>,
        derived: &LabelSet,
    ) -> Option<Rule> {
        let before = self.errors.len();
        let subject = match (&spec.endpoint_selector, &spec.node_selector) {
            (Some(_), Some(_)) => {
                self.err(
                    path,
                    "endpointSelector and nodeSelector are mutually exclusive",
                );
                None
            }
            (None, None) => {
                self.err(path, "one of endpointSelector or nodeSelector is required");
                None
            }
            (Some(es), None) => {
                let mut sel = self.label_selector(es, &format!("{path}.endpointSelector"), None);
                if let Some(ns) = scope.namespace {
                    sel.require(Requirement::equals("k8s", POD_NAMESPACE_LABEL, ns));
                }
                Some(Subject::Endpoints(sel))
            }
            (None, Some(ns)) => {
                if kind == CiliumKind::CiliumNetworkPolicy {
                    self.err(
                        format!("{path}.nodeSelector"),
                        "nodeSelector is only allowed in a CiliumClusterwideNetworkPolicy",
                    );
                }
                Some(Subject::Nodes(self.label_selector(
                    ns,
                    &format!("{path}.nodeSelector"),
                    None,
                )))
            }
        };
        let mut labels = derived.clone();
        for (i, l) in spec.labels.iter().flatten().enumerate() {
            let label = match l {
                LabelSpec::Text(t) => Label::parse(t),
                LabelSpec::Object { key, value, source } => Label::new(key, value, source),
            };
            if label.key().is_empty() {
                self.err(format!("{path}.labels[{i}]"), "label key is empty");
            }
            labels.insert(label);
        }
        if let Some(log) = &spec.log
            && log.value.chars().count() > 32
        {
            self.err(format!("{path}.log.value"), "is longer than 32 characters");
        }
        let mut ingress = DirectionRules::default();
        for (i, r) in spec.ingress.iter().flatten().enumerate() {
            let p = format!("{path}.ingress[{i}]");
            if let Some(rule) = self.ingress(r, &p, scope, false) {
                ingress.allow.push(rule);
            }
        }
        for (i, r) in spec.ingress_deny.iter().flatten().enumerate() {
            let p = format!("{path}.ingressDeny[{i}]");
            if let Some(rule) = self.ingress(r, &p, scope, true) {
                ingress.deny.push(rule);
            }
        }
        let mut egress = DirectionRules::default();
        for (i, r) in spec.egress.iter().flatten().enumerate() {
            let p = format!("{path}.egress[{i}]");
            if let Some(rule) = self.egress(r, &p, scope, false) {
                egress.allow.push(rule);
            }
        }
        for (i, r) in spec.egress_deny.iter().flatten().enumerate() {
            let p = format!("{path}.egressDeny[{i}]");
            if let Some(rule) = self.egress(r, &p, scope, true) {
                egress.deny.push(rule);
            }
        }
        let has = |a: &Option<Vec<IngressRuleSpec>>, b: &Option<Vec<IngressRuleSpec>>| {
            a.as_ref().is_some_and(|v| !v.is_empty()) || b.as_ref().is_some_and(|v| !v.is_empty())
        };
        let has_egress = spec.egress.as_ref().is_some_and(|v| !v.is_empty())
            || spec.egress_deny.as_ref().is_some_and(|v| !v.is_empty());
        let dd = spec.enable_default_deny.unwrap_or_default();
        ingress.enforce = dd.ingress.unwrap_or(has(&spec.ingress, &spec.ingress_deny));
        egress.enforce = dd.egress.unwrap_or(has_egress);
        if self.errors.len() > before {
            return None;
        }
        Some(Rule {
            origin,
            labels,
            subject: subject?,
            ingress,
            egress,
        })
    }

    /// Compiles a selector. `scope`: the namespace to confine peers to (peer selectors of a
    /// namespaced policy).
    fn label_selector(
        &mut self,
        spec: &LabelSelectorSpec,
        path: &str,
        scope: Option<&str>,
    ) -> LabelSelector {
        let mut sel = LabelSelector::wildcard();
        for (key, value) in spec.match_labels.iter().flatten() {
            if key.is_empty() {
                self.err(format!("{path}.matchLabels"), "empty label key");
                continue;
            }
            let req = Requirement::from_selector_key(
                key,
                Operator::In,
                vec![value.clone().unwrap_or_default()],
            );
            sel.require(req);
        }
        for (i, expr) in spec.match_expressions.iter().flatten().enumerate() {
            let p = format!("{path}.matchExpressions[{i}]");
            let Some(op) = Operator::parse(&expr.operator) else {
                self.err(
                    format!("{p}.operator"),
                    format!(
                        "invalid matchExpressions operator {:?} (must be In, NotIn, Exists or DoesNotExist)",
                        expr.operator
                    ),
                );
                continue;
            };
            let values = expr.values.clone().unwrap_or_default();
            match op {
                Operator::In | Operator::NotIn if values.is_empty() => {
                    self.err(
                        format!("{p}.values"),
                        format!("must be non-empty for {}", expr.operator),
                    );
                }
                Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                    self.err(
                        format!("{p}.values"),
                        format!("must be empty for {}", expr.operator),
                    );
                }
                _ => {}
            }
            sel.require(Requirement::from_selector_key(&expr.key, op, values));
        }
        if let Some(ns) = scope {
            let names_namespace = sel.mentions_key(POD_NAMESPACE_LABEL);
            let reserved = sel
                .requirements()
                .any(|r| r.source() == LabelSource::Reserved.as_str());
            if !names_namespace && !reserved {
                sel.require(Requirement::equals("k8s", POD_NAMESPACE_LABEL, ns));
            }
        }
        sel
    }

    fn peer_selectors(
        &mut self,
        list: &[LabelSelectorSpec],
        path: &str,
        scope: Scope<'_>,
    ) -> Vec<Arc<Selector>> {
        list.iter()
            .enumerate()
            .map(|(i, s)| {
                Arc::new(Selector::Labels(self.label_selector(
                    s,
                    &format!("{path}[{i}]"),
                    scope.namespace,
                )))
            })
            .collect()
    }

    fn cidrs(&mut self, list: &[String], path: &str) -> Vec<Arc<Selector>> {
        let mut out = Vec::new();
        for (i, text) in list.iter().enumerate() {
            match parse_cidr(text) {
                Ok(c) => out.push(Arc::new(Selector::Cidr(CidrSelector::new(c, [])))),
                Err(m) => self.err(format!("{path}[{i}]"), m),
            }
        }
        out
    }

    fn cidr_set(&mut self, list: &[CidrRuleSpec], path: &str) -> Vec<Arc<Selector>> {
        let mut out = Vec::new();
        for (i, rule) in list.iter().enumerate() {
            let p = format!("{path}[{i}]");
            if rule.cidr_group_ref.is_some() || rule.cidr_group_selector.is_some() {
                self.err(
                    &p,
                    "CiliumCIDRGroup references are not supported; list the CIDRs",
                );
                continue;
            }
            let Some(text) = &rule.cidr else {
                self.err(format!("{p}.cidr"), "is required");
                continue;
            };
            if let Some(sel) = self.cidr_minus(text, rule.except.as_deref(), &p) {
                out.push(Arc::new(Selector::Cidr(sel)));
            }
        }
        out
    }

    /// `cidr` minus `except` (`toCIDRSet` entries and `ipBlock`s); `path` is the object
    /// holding the `cidr` and `except` fields. Every exception must lie inside the prefix.
    fn cidr_minus(
        &mut self,
        cidr: &str,
        except: Option<&[String]>,
        path: &str,
    ) -> Option<CidrSelector> {
        let cidr = match parse_cidr(cidr) {
            Ok(c) => c,
            Err(m) => {
                self.err(format!("{path}.cidr"), m);
                return None;
            }
        };
        let mut inside = Vec::new();
        for (j, e) in except.unwrap_or_default().iter().enumerate() {
            match parse_cidr(e) {
                Ok(c) if cidr.contains(&c) => inside.push(c),
                Ok(c) => self.err(
                    format!("{path}.except[{j}]"),
                    format!("{c} is not inside {cidr}"),
                ),
                Err(m) => self.err(format!("{path}.except[{j}]"), m),
            }
        }
        Some(CidrSelector::new(cidr, inside))
    }

    fn entities(&mut self, list: &[String], path: &str) -> Vec<Arc<Selector>> {
        let mut out = Vec::new();
        for (i, name) in list.iter().enumerate() {
            match entity_selectors(name, self.opts) {
                Some(sels) => out.extend(sels.into_iter().map(Arc::new)),
                None => self.err(
                    format!("{path}[{i}]"),
                    format!("unknown entity {name:?} (all, world, cluster, host, remote-node, kube-apiserver, init, health, unmanaged, ingress, none)"),
                ),
            }
        }
        out
    }

    fn nodes(&mut self, list: &[LabelSelectorSpec], path: &str) -> Vec<Arc<Selector>> {
        if !self.opts.enable_node_selector_labels {
            self.err(
                path,
                "fromNodes/toNodes need the agent option enable-node-selector-labels",
            );
            return Vec::new();
        }
        list.iter()
            .enumerate()
            .map(|(i, s)| {
                let sel = self.label_selector(s, &format!("{path}[{i}]"), None);
                let node = LabelSelector::new(sel.requirements().map(|r| {
                    let source = if r.source() == LabelSource::Any.as_str() {
                        LabelSource::Node.as_str()
                    } else {
                        r.source()
                    };
                    Requirement::new(source, r.key(), r.operator(), r.values().iter().cloned())
                }));
                Arc::new(Selector::Labels(node))
            })
            .collect()
    }

    fn services(
        &mut self,
        list: &[ServiceSpec],
        path: &str,
        scope: Scope<'_>,
    ) -> Vec<Arc<Selector>> {
        let mut out = Vec::new();
        for (i, svc) in list.iter().enumerate() {
            let p = format!("{path}[{i}]");
            match (&svc.k8s_service, &svc.k8s_service_selector) {
                (Some(named), None) => {
                    if named.service_name.is_empty() {
                        self.err(format!("{p}.k8sService.serviceName"), "is required");
                        continue;
                    }
                    let ns = named
                        .namespace
                        .clone()
                        .or_else(|| scope.namespace.map(str::to_owned))
                        .unwrap_or_else(|| "default".into());
                    if let Some(sel) = self
                        .opts
                        .services
                        .get(&(ns.clone(), named.service_name.clone()))
                    {
                        let mut sel = sel.clone();
                        sel.require(Requirement::equals("k8s", POD_NAMESPACE_LABEL, &ns));
                        out.push(Arc::new(Selector::Labels(sel)));
                    }
                }
                (None, Some(by_label)) => {
                    let ns = by_label
                        .namespace
                        .clone()
                        .or_else(|| scope.namespace.map(str::to_owned));
                    let svc_sel = self.label_selector(
                        &by_label.selector,
                        &format!("{p}.k8sServiceSelector.selector"),
                        None,
                    );
                    for ((sns, _), pods) in &self.opts.services {
                        if ns.as_ref().is_some_and(|n| n != sns) {
                            continue;
                        }
                        // The service's own labels are not known here; a selector over
                        // services matches the services whose pod selector it equals.
                        if *pods == svc_sel {
                            let mut sel = pods.clone();
                            sel.require(Requirement::equals("k8s", POD_NAMESPACE_LABEL, sns));
                            out.push(Arc::new(Selector::Labels(sel)));
                        }
                    }
                }
                _ => self.err(
                    &p,
                    "exactly one of k8sService or k8sServiceSelector is required",
                ),
            }
        }
        out
    }

    fn fqdns(&mut self, list: &[FqdnSelectorSpec], path: &str) -> Vec<Arc<Selector>> {
        let mut out = Vec::new();
        for (i, f) in list.iter().enumerate() {
            let p = format!("{path}[{i}]");
            match (&f.match_name, &f.match_pattern) {
                (Some(name), None) => match validate_name(name) {
                    Ok(()) => out.push(Arc::new(Selector::Fqdn(normalize_name(name)))),
                    Err(e) => self.err(format!("{p}.matchName"), e.to_string()),
                },
                (None, Some(pattern)) => match FqdnPattern::new(pattern) {
                    Ok(_) => out.push(Arc::new(Selector::Fqdn(sanitize_pattern(pattern)))),
                    Err(e) => self.err(format!("{p}.matchPattern"), e.to_string()),
                },
                _ => self.err(&p, "exactly one of matchName or matchPattern is required"),
            }
        }
        out
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the shared tail of ingress and egress entries"
    )]
    fn peer_rule(
        &mut self,
        path: &str,
        deny: bool,
        l3: Vec<(&'static str, Vec<Arc<Selector>>, bool)>,
        to_ports: &Option<Vec<PortRuleSpec>>,
        icmps: &Option<Vec<IcmpRuleSpec>>,
        auth: Option<&crate::api::spec::AuthenticationSpec>,
        direction: &str,
    ) -> Option<PeerRule> {
        let before = self.errors.len();
        let given: Vec<&(&str, Vec<Arc<Selector>>, bool)> =
            l3.iter().filter(|(_, _, present)| *present).collect();
        if given.len() > 1 {
            self.err(
                path,
                format!(
                    "combining {} and {} is not supported; write separate {direction} entries",
                    given[0].0, given[1].0
                ),
            );
        }
        let peers: Option<Vec<Arc<Selector>>> = given.first().map(|(_, sels, _)| sels.clone());
        if to_ports.as_ref().is_some_and(|p| !p.is_empty())
            && icmps.as_ref().is_some_and(|i| !i.is_empty())
        {
            self.err(path, "icmps and toPorts cannot be used in the same entry");
        }
        let mut ports: Option<Vec<PortEntry>> = None;
        for (i, pr) in to_ports.iter().flatten().enumerate() {
            let list = ports.get_or_insert_with(Vec::new);
            list.extend(self.port_rule(pr, &format!("{path}.toPorts[{i}]"), deny));
        }
        for (i, icmp) in icmps.iter().flatten().enumerate() {
            let list = ports.get_or_insert_with(Vec::new);
            list.extend(self.icmp_rule(icmp, &format!("{path}.icmps[{i}]")));
        }
        let auth = match auth {
            None => None,
            Some(_) if deny => {
                self.err(
                    format!("{path}.authentication"),
                    "not allowed in a deny entry",
                );
                None
            }
            Some(a) => match a.mode.as_str() {
                "disabled" => Some(AuthType::Disabled),
                "required" => Some(AuthType::Spire),
                "test-always-fail" => Some(AuthType::AlwaysFail),
                other => {
                    self.err(
                        format!("{path}.authentication.mode"),
                        format!("{other:?} is not disabled, required or test-always-fail"),
                    );
                    None
                }
            },
        };
        if self.errors.len() > before {
            return None;
        }
        // No peer field at all: with ports, every peer (L4 only); without, no peer.
        let peers = match peers {
            Some(p) => p,
            None if ports.is_some() => vec![Arc::new(Selector::wildcard())],
            None => Vec::new(),
        };
        Some(PeerRule {
            path: path.trim_start_matches('.').to_owned(),
            peers,
            ports,
            auth,
        })
    }

    fn ingress(
        &mut self,
        r: &IngressRuleSpec,
        path: &str,
        scope: Scope<'_>,
        deny: bool,
    ) -> Option<PeerRule> {
        if r.from_requires.as_ref().is_some_and(|v| !v.is_empty()) {
            self.err(
                format!("{path}.fromRequires"),
                "fromRequires was removed from Cilium (1.20 CRD); use matchExpressions in fromEndpoints",
            );
        }
        if r.from_groups.as_ref().is_some_and(|v| !v.is_empty()) {
            self.err(
                format!("{path}.fromGroups"),
                "cloud provider groups are not supported",
            );
        }
        let l3 = vec![
            (
                "fromEndpoints",
                r.from_endpoints
                    .as_deref()
                    .map(|l| self.peer_selectors(l, &format!("{path}.fromEndpoints"), scope))
                    .unwrap_or_default(),
                r.from_endpoints.is_some(),
            ),
            (
                "fromCIDR",
                r.from_cidr
                    .as_deref()
                    .map(|l| self.cidrs(l, &format!("{path}.fromCIDR")))
                    .unwrap_or_default(),
                r.from_cidr.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            (
                "fromCIDRSet",
                r.from_cidr_set
                    .as_deref()
                    .map(|l| self.cidr_set(l, &format!("{path}.fromCIDRSet")))
                    .unwrap_or_default(),
                r.from_cidr_set.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            (
                "fromEntities",
                r.from_entities
                    .as_deref()
                    .map(|l| self.entities(l, &format!("{path}.fromEntities")))
                    .unwrap_or_default(),
                r.from_entities.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            (
                "fromNodes",
                r.from_nodes
                    .as_deref()
                    .filter(|v| !v.is_empty())
                    .map(|l| self.nodes(l, &format!("{path}.fromNodes")))
                    .unwrap_or_default(),
                r.from_nodes.as_ref().is_some_and(|v| !v.is_empty()),
            ),
        ];
        self.peer_rule(
            path,
            deny,
            l3,
            &r.to_ports,
            &r.icmps,
            r.authentication.as_ref(),
            "ingress",
        )
    }

    fn egress(
        &mut self,
        r: &EgressRuleSpec,
        path: &str,
        scope: Scope<'_>,
        deny: bool,
    ) -> Option<PeerRule> {
        if r.to_requires.as_ref().is_some_and(|v| !v.is_empty()) {
            self.err(
                format!("{path}.toRequires"),
                "toRequires was removed from Cilium (1.20 CRD); use matchExpressions in toEndpoints",
            );
        }
        if r.to_groups.as_ref().is_some_and(|v| !v.is_empty()) {
            self.err(
                format!("{path}.toGroups"),
                "cloud provider groups are not supported",
            );
        }
        if deny && r.to_fqdns.as_ref().is_some_and(|v| !v.is_empty()) {
            self.err(format!("{path}.toFQDNs"), "not allowed in a deny entry");
        }
        let l3 = vec![
            (
                "toEndpoints",
                r.to_endpoints
                    .as_deref()
                    .map(|l| self.peer_selectors(l, &format!("{path}.toEndpoints"), scope))
                    .unwrap_or_default(),
                r.to_endpoints.is_some(),
            ),
            (
                "toCIDR",
                r.to_cidr
                    .as_deref()
                    .map(|l| self.cidrs(l, &format!("{path}.toCIDR")))
                    .unwrap_or_default(),
                r.to_cidr.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            (
                "toCIDRSet",
                r.to_cidr_set
                    .as_deref()
                    .map(|l| self.cidr_set(l, &format!("{path}.toCIDRSet")))
                    .unwrap_or_default(),
                r.to_cidr_set.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            (
                "toEntities",
                r.to_entities
                    .as_deref()
                    .map(|l| self.entities(l, &format!("{path}.toEntities")))
                    .unwrap_or_default(),
                r.to_entities.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            (
                "toNodes",
                r.to_nodes
                    .as_deref()
                    .filter(|v| !v.is_empty())
                    .map(|l| self.nodes(l, &format!("{path}.toNodes")))
                    .unwrap_or_default(),
                r.to_nodes.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            (
                "toServices",
                r.to_services
                    .as_deref()
                    .map(|l| self.services(l, &format!("{path}.toServices"), scope))
                    .unwrap_or_default(),
                r.to_services.as_ref().is_some_and(|v| !v.is_empty()),
            ),
            (
                "toFQDNs",
                r.to_fqdns
                    .as_deref()
                    .map(|l| self.fqdns(l, &format!("{path}.toFQDNs")))
                    .unwrap_or_default(),
                r.to_fqdns.as_ref().is_some_and(|v| !v.is_empty()),
            ),
        ];
        self.peer_rule(
            path,
            deny,
            l3,
            &r.to_ports,
            &r.icmps,
            r.authentication.as_ref(),
            "egress",
        )
    }

    fn port_rule(&mut self, pr: &PortRuleSpec, path: &str, deny: bool) -> Vec<PortEntry> {
        let ports = pr.ports.as_deref().unwrap_or_default();
        if ports.len() > 40 {
            self.err(
                format!("{path}.ports"),
                format!("{} ports, at most 40 are allowed", ports.len()),
            );
        }
        if deny
            && (pr.rules.is_some()
                || pr.listener.is_some()
                || pr.server_names.is_some()
                || pr.terminating_tls.is_some()
                || pr.originating_tls.is_some())
        {
            self.err(
                path,
                "deny entries can only list ports (no rules, listener, serverNames or TLS)",
            );
        }
        let l7 = pr
            .rules
            .as_ref()
            .and_then(|r| self.l7_rules(r, &format!("{path}.rules")));
        let listener = pr.listener.as_ref().map(|l| {
            let p = format!("{path}.listener");
            if !matches!(
                l.envoy_config.kind.as_str(),
                "" | "CiliumEnvoyConfig" | "CiliumClusterwideEnvoyConfig"
            ) {
                self.err(
                    format!("{p}.envoyConfig.kind"),
                    format!(
                        "{:?} is not CiliumEnvoyConfig or CiliumClusterwideEnvoyConfig",
                        l.envoy_config.kind
                    ),
                );
            }
            if l.name.is_empty() {
                self.err(format!("{p}.name"), "is required");
            }
            let priority = match l.priority {
                None => 0,
                Some(p @ 1..=100) => p as u8,
                Some(other) => {
                    self.err(
                        format!("{p}.priority"),
                        format!("{other} is not in 1..=100"),
                    );
                    0
                }
            };
            if l7.is_some() {
                self.err(&p, "listener and rules cannot be used together");
            }
            Listener {
                envoy_config: format!("{}/{}", l.envoy_config.kind, l.envoy_config.name),
                name: l.name.clone(),
                priority,
            }
        });
        let server_names = pr.server_names.clone().unwrap_or_default();
        let mut out = Vec::new();
        for (i, pp) in ports.iter().enumerate() {
            let p = format!("{path}.ports[{i}]");
            if let Some((protocol, port)) = self.port_protocol(pp, &p) {
                if let Some(rules) = &l7
                    && !matches!(rules, L7Rules::Dns(_))
                    && !matches!(protocol, Protocol::Tcp | Protocol::Any)
                {
                    self.err(
                        &p,
                        format!("L7 rules other than DNS need TCP, not {protocol}"),
                    );
                }
                out.push(PortEntry {
                    protocol,
                    port,
                    l7: l7.clone(),
                    listener: listener.clone(),
                    server_names: server_names.clone(),
                });
            }
        }
        if ports.is_empty() && (l7.is_some() || listener.is_some()) {
            self.err(format!("{path}.ports"), "rules need at least one port");
        }
        out
    }

    fn port_protocol(
        &mut self,
        pp: &PortProtocolSpec,
        path: &str,
    ) -> Option<(Protocol, PortMatch)> {
        let protocol = match pp.protocol.as_deref() {
            None | Some("") | Some("ANY") => Protocol::Any,
            Some("TCP") => Protocol::Tcp,
            Some("UDP") => Protocol::Udp,
            Some("SCTP") => Protocol::Sctp,
            Some("ICMP") => Protocol::Icmp,
            Some("ICMPV6") => Protocol::IcmpV6,
            Some(other) => {
                self.err(
                    format!("{path}.protocol"),
                    format!("{other:?} is not one of TCP, UDP, SCTP, ICMP, ICMPV6 or ANY"),
                );
                return None;
            }
        };
        let text = match &pp.port {
            None => String::new(),
            Some(PortText::Text(t)) => t.clone(),
            Some(PortText::Number(n)) => n.to_string(),
        };
        let port = if text.is_empty() || text == "0" {
            None
        } else if let Ok(n) = text.parse::<i64>() {
            if !(1..=65535).contains(&n) {
                self.err(
                    format!("{path}.port"),
                    format!("{text:?} is not a port number (1..=65535)"),
                );
                return None;
            }
            Some(PortMatch::Range(PortRange::single(n as u16)))
        } else {
            match NamedPort::new(&text) {
                Ok(n) => Some(PortMatch::Named(n)),
                Err(e) => {
                    self.err(
                        format!("{path}.port"),
                        format!("{text:?} is not a number or a named port: {e}"),
                    );
                    return None;
                }
            }
        };
        let port = match (port, pp.end_port) {
            (p, None | Some(0)) => p.unwrap_or(PortMatch::Range(PortRange::ALL)),
            (Some(PortMatch::Range(r)), Some(end)) => {
                if !(0..=65535).contains(&end) || (end as u16) < r.start() {
                    self.err(
                        format!("{path}.endPort"),
                        format!("{end} is not a port at or after {}", r.start()),
                    );
                    return None;
                }
                PortMatch::Range(PortRange::new(r.start(), end as u16).ok()?)
            }
            (_, Some(_)) => {
                self.err(format!("{path}.endPort"), "needs a numeric port");
                return None;
            }
        };
        if matches!(protocol, Protocol::Icmp | Protocol::IcmpV6)
            && port != PortMatch::Range(PortRange::ALL)
        {
            self.err(format!("{path}.port"), "ICMP has no ports; use icmps");
            return None;
        }
        Some((protocol, port))
    }

    fn icmp_rule(&mut self, rule: &IcmpRuleSpec, path: &str) -> Vec<PortEntry> {
        if rule.fields.len() > 40 {
            self.err(format!("{path}.fields"), "at most 40 fields are allowed");
        }
        let mut out = Vec::new();
        for (i, f) in rule.fields.iter().enumerate() {
            let p = format!("{path}.fields[{i}]");
            let v6 = match f.family.as_deref() {
                None | Some("") | Some("IPv4") => false,
                Some("IPv6") => true,
                Some(other) => {
                    self.err(
                        format!("{p}.family"),
                        format!("{other:?} is not IPv4 or IPv6"),
                    );
                    continue;
                }
            };
            let t = match &f.icmp_type {
                IcmpTypeText::Number(n) if (0..=255).contains(n) => *n as u8,
                IcmpTypeText::Number(n) => {
                    self.err(format!("{p}.type"), format!("{n} is not in 0..=255"));
                    continue;
                }
                IcmpTypeText::Name(name) => match icmp_type_by_name(name, v6) {
                    Some(t) => t,
                    None => {
                        self.err(
                            format!("{p}.type"),
                            format!(
                                "{name:?} is not an ICMP{} type name",
                                if v6 { "v6" } else { "" }
                            ),
                        );
                        continue;
                    }
                },
            };
            out.push(PortEntry {
                protocol: if v6 { Protocol::IcmpV6 } else { Protocol::Icmp },
                port: PortMatch::IcmpType(t),
                l7: None,
                listener: None,
                server_names: Vec::new(),
            });
        }
        out
    }

    fn l7_rules(&mut self, spec: &L7RulesSpec, path: &str) -> Option<L7Rules> {
        let kinds = [
            spec.http.is_some(),
            spec.kafka.is_some(),
            spec.dns.is_some(),
            spec.l7proto.is_some() || spec.l7.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            self.err(
                path,
                "exactly one of http, kafka, dns or l7proto with l7 is required",
            );
            return None;
        }
        if let Some(http) = &spec.http {
            return Some(L7Rules::Http(
                http.iter()
                    .enumerate()
                    .filter_map(|(i, h)| self.http_rule(h, &format!("{path}.http[{i}]")))
                    .collect(),
            ));
        }
        if let Some(kafka) = &spec.kafka {
            return Some(L7Rules::Kafka(
                kafka
                    .iter()
                    .enumerate()
                    .filter_map(|(i, k)| self.kafka_rule(k, &format!("{path}.kafka[{i}]")))
                    .collect(),
            ));
        }
        if let Some(dns) = &spec.dns {
            let mut rules = Vec::new();
            for (i, d) in dns.iter().enumerate() {
                let p = format!("{path}.dns[{i}]");
                match (&d.match_name, &d.match_pattern) {
                    (Some(n), None) => match validate_name(n) {
                        Ok(()) => rules.push(DnsRule::Name(normalize_name(n))),
                        Err(e) => self.err(format!("{p}.matchName"), e.to_string()),
                    },
                    (None, Some(pat)) => match FqdnPattern::new(pat) {
                        Ok(c) => rules.push(DnsRule::Pattern(c)),
                        Err(e) => self.err(format!("{p}.matchPattern"), e.to_string()),
                    },
                    _ => self.err(&p, "exactly one of matchName or matchPattern is required"),
                }
            }
            return Some(L7Rules::Dns(rules));
        }
        match &spec.l7proto {
            Some(proto) if !proto.is_empty() => Some(L7Rules::Generic {
                proto: proto.clone(),
                rules: spec.l7.clone().unwrap_or_default(),
            }),
            _ => {
                self.err(format!("{path}.l7proto"), "is required with l7");
                None
            }
        }
    }

    fn http_rule(&mut self, h: &HttpRuleSpec, path: &str) -> Option<HttpRule> {
        let mut regex = |field: &str, v: &Option<String>| -> Option<Option<AnchoredRegex>> {
            match v.as_deref() {
                None | Some("") => Some(None),
                Some(text) => match AnchoredRegex::new(text) {
                    Ok(r) => Some(Some(r)),
                    Err(e) => {
                        self.errors.push(PolicyError::new(
                            format!("{path}.{field}"),
                            format!("invalid regex {text:?}: {e}"),
                        ));
                        None
                    }
                },
            }
        };
        let path_re = regex("path", &h.path);
        let method = regex("method", &h.method);
        let host = regex("host", &h.host);
        let mut headers = Vec::new();
        for hdr in h.headers.iter().flatten() {
            match hdr.split_once(':') {
                Some((n, v)) => {
                    headers.push((n.trim().to_ascii_lowercase(), Some(v.trim().to_owned())))
                }
                None => headers.push((hdr.trim().to_ascii_lowercase(), None)),
            }
        }
        let mut header_matches = Vec::new();
        for (i, m) in h.header_matches.iter().flatten().enumerate() {
            let p = format!("{path}.headerMatches[{i}]");
            if m.secret.is_some() {
                self.err(
                    format!("{p}.secret"),
                    "header values from secrets are not supported",
                );
            }
            // The proxy writes names and values of ADD/REPLACE into requests: a line break
            // or a control character there would inject header lines.
            if m.name.is_empty() || !m.name.bytes().all(is_header_name_byte) {
                self.err(
                    format!("{p}.name"),
                    format!("{:?} is not an HTTP header name", m.name),
                );
            }
            if let Some(v) = &m.value
                && !v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f))
            {
                self.err(
                    format!("{p}.value"),
                    format!("{v:?} holds a control character"),
                );
            }
            let name = m.name.to_ascii_lowercase();
            match m.mismatch.as_deref() {
                None => headers.push((name, m.value.clone())),
                Some(mm) => match MismatchAction::from_name(mm) {
                    Some(mismatch) => header_matches.push(HeaderMatch {
                        name,
                        value: m.value.clone(),
                        mismatch,
                    }),
                    None => self.err(
                        format!("{p}.mismatch"),
                        format!("{mm:?} is not LOG, ADD, DELETE or REPLACE"),
                    ),
                },
            }
        }
        Some(HttpRule {
            path: path_re?,
            method: method?,
            host: host?,
            headers,
            header_matches,
        })
    }

    fn kafka_rule(&mut self, k: &KafkaRuleSpec, path: &str) -> Option<KafkaRule> {
        let before = self.errors.len();
        let mut rule = KafkaRule::default();
        match (&k.role, &k.api_key) {
            (Some(_), Some(_)) => self.err(path, "role and apiKey cannot both be set"),
            (Some(role), None) => match role.to_ascii_lowercase().as_str() {
                "produce" => rule.api_keys = KAFKA_PRODUCE_KEYS.iter().copied().collect(),
                "consume" => rule.api_keys = KAFKA_CONSUME_KEYS.iter().copied().collect(),
                _ => self.err(
                    format!("{path}.role"),
                    format!("{role:?} is not produce or consume"),
                ),
            },
            (None, Some(key)) => match KAFKA_API_KEYS
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(key))
            {
                Some((_, n)) => {
                    rule.api_keys.insert(*n);
                }
                None => self.err(
                    format!("{path}.apiKey"),
                    format!("{key:?} is not a Kafka API key name"),
                ),
            },
            (None, None) => {}
        }
        if let Some(v) = k.api_version.as_deref().filter(|v| !v.is_empty()) {
            match v.parse::<i16>() {
                Ok(n) if n >= 0 => rule.api_version = Some(n),
                _ => self.err(
                    format!("{path}.apiVersion"),
                    format!("{v:?} is not a version in 0..=32767"),
                ),
            }
        }
        rule.client_id = k.client_id.clone().filter(|c| !c.is_empty());
        if let Some(t) = k.topic.as_deref().filter(|t| !t.is_empty()) {
            if t.len() > 255 {
                self.err(format!("{path}.topic"), "is longer than 255 characters");
            } else if !t
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
            {
                self.err(
                    format!("{path}.topic"),
                    format!("{t:?} may only hold letters, digits, '.', '_' and '-'"),
                );
            }
            rule.topic = Some(t.to_owned());
        }
        (self.errors.len() == before).then_some(rule)
    }

    // ------------------------------------------------------- Kubernetes NetworkPolicy

    fn network_policy(&mut self, np: &NetworkPolicy) -> Option<Rule> {
        let namespace = np
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let name = np.metadata.name.clone().unwrap_or_default();
        let spec = np.spec.clone().unwrap_or_default();
        let mut subject = self.k8s_selector(
            &spec.pod_selector.clone().unwrap_or_default(),
            ".spec.podSelector",
        );
        subject.require(Requirement::equals("k8s", POD_NAMESPACE_LABEL, &namespace));
        let egress_rules = spec.egress.clone().unwrap_or_default();
        let types: Vec<String> = match &spec.policy_types {
            Some(t) if !t.is_empty() => t.clone(),
            _ => {
                let mut t = vec!["Ingress".to_owned()];
                if !egress_rules.is_empty() {
                    t.push("Egress".into());
                }
                t
            }
        };
        for (i, t) in types.iter().enumerate() {
            if t != "Ingress" && t != "Egress" {
                self.err(
                    format!(".spec.policyTypes[{i}]"),
                    format!("{t:?} is not Ingress or Egress"),
                );
            }
        }
        let mut ingress = DirectionRules {
            enforce: types.iter().any(|t| t == "Ingress"),
            ..DirectionRules::default()
        };
        let mut egress = DirectionRules {
            enforce: types.iter().any(|t| t == "Egress"),
            ..DirectionRules::default()
        };
        if ingress.enforce {
            for (i, r) in spec.ingress.iter().flatten().enumerate() {
                let p = format!(".spec.ingress[{i}]");
                if let Some(rule) = self.k8s_peer_rule(
                    r.from.as_deref(),
                    r.ports.as_deref(),
                    &p,
                    "from",
                    &namespace,
                ) {
                    ingress.allow.push(rule);
                }
            }
        }
        if egress.enforce {
            for (i, r) in egress_rules.iter().enumerate() {
                let p = format!(".spec.egress[{i}]");
                if let Some(rule) =
                    self.k8s_peer_rule(r.to.as_deref(), r.ports.as_deref(), &p, "to", &namespace)
                {
                    egress.allow.push(rule);
                }
            }
        }
        let mut labels = LabelSet::new();
        labels.insert(Label::new(
            "io.cilium.k8s.policy.derived-from",
            "NetworkPolicy",
            "k8s",
        ));
        labels.insert(Label::new("io.cilium.k8s.policy.name", &name, "k8s"));
        labels.insert(Label::new(
            "io.cilium.k8s.policy.namespace",
            &namespace,
            "k8s",
        ));
        if !self.errors.is_empty() {
            return None;
        }
        Some(Rule {
            origin: Arc::new(RuleOrigin {
                kind: "NetworkPolicy".into(),
                namespace: Some(namespace),
                name,
                spec_index: None,
            }),
            labels,
            subject: Subject::Endpoints(subject),
            ingress,
            egress,
        })
    }

    fn k8s_selector(&mut self, sel: &K8sLabelSelector, path: &str) -> LabelSelector {
        self.k8s_selector_with(sel, path, |key| {
            (LabelSource::K8s.as_str().to_owned(), key.to_owned())
        })
    }

    fn k8s_selector_with(
        &mut self,
        sel: &K8sLabelSelector,
        path: &str,
        key_of: impl Fn(&str) -> (String, String),
    ) -> LabelSelector {
        let mut out = LabelSelector::wildcard();
        for (k, v) in sel.match_labels.iter().flatten() {
            let (source, key) = key_of(k);
            out.require(Requirement::new(source, key, Operator::In, [v.clone()]));
        }
        for (i, e) in sel.match_expressions.iter().flatten().enumerate() {
            let Some(op) = Operator::parse(&e.operator) else {
                self.err(
                    format!("{path}.matchExpressions[{i}].operator"),
                    format!(
                        "invalid operator {:?} (must be In, NotIn, Exists or DoesNotExist)",
                        e.operator
                    ),
                );
                continue;
            };
            let (source, key) = key_of(&e.key);
            out.require(Requirement::new(
                source,
                key,
                op,
                e.values.clone().unwrap_or_default(),
            ));
        }
        out
    }

    fn k8s_peer_rule(
        &mut self,
        peers: Option<&[NetworkPolicyPeer]>,
        ports: Option<&[NetworkPolicyPort]>,
        path: &str,
        field: &str,
        namespace: &str,
    ) -> Option<PeerRule> {
        let before = self.errors.len();
        let selectors: Vec<Arc<Selector>> = match peers {
            None | Some([]) => vec![Arc::new(Selector::wildcard())],
            Some(list) => list
                .iter()
                .enumerate()
                .filter_map(|(i, p)| self.k8s_peer(p, &format!("{path}.{field}[{i}]"), namespace))
                .map(Arc::new)
                .collect(),
        };
        let ports = match ports {
            None | Some([]) => None,
            Some(list) => Some(
                list.iter()
                    .enumerate()
                    .filter_map(|(i, p)| self.k8s_port(p, &format!("{path}.ports[{i}]")))
                    .collect(),
            ),
        };
        (self.errors.len() == before).then(|| PeerRule {
            path: path.trim_start_matches('.').to_owned(),
            peers: selectors,
            ports,
            auth: None,
        })
    }

    fn k8s_peer(
        &mut self,
        peer: &NetworkPolicyPeer,
        path: &str,
        namespace: &str,
    ) -> Option<Selector> {
        if let Some(block) = &peer.ip_block {
            if peer.pod_selector.is_some() || peer.namespace_selector.is_some() {
                self.err(
                    path,
                    "ipBlock cannot be combined with podSelector or namespaceSelector",
                );
                return None;
            }
            return self
                .cidr_minus(
                    &block.cidr,
                    block.except.as_deref(),
                    &format!("{path}.ipBlock"),
                )
                .map(Selector::Cidr);
        }
        let mut sel = match &peer.pod_selector {
            Some(ps) => self.k8s_selector(ps, &format!("{path}.podSelector")),
            None => LabelSelector::wildcard(),
        };
        match &peer.namespace_selector {
            None => {
                if peer.pod_selector.is_none() {
                    self.err(
                        path,
                        "one of podSelector, namespaceSelector or ipBlock is required",
                    );
                    return None;
                }
                sel.require(Requirement::equals("k8s", POD_NAMESPACE_LABEL, namespace));
            }
            Some(ns_sel) => {
                let ns =
                    self.k8s_selector_with(ns_sel, &format!("{path}.namespaceSelector"), |k| {
                        (
                            LabelSource::K8s.as_str().to_owned(),
                            format!("{NAMESPACE_LABELS_PREFIX}{k}"),
                        )
                    });
                for r in ns.requirements() {
                    sel.require(r.clone());
                }
                // Every namespace: still only pods (identities with a namespace label).
                sel.require(Requirement::new(
                    "k8s",
                    POD_NAMESPACE_LABEL,
                    Operator::Exists,
                    [],
                ));
            }
        }
        Some(Selector::Labels(sel))
    }

    fn k8s_port(&mut self, p: &NetworkPolicyPort, path: &str) -> Option<PortEntry> {
        let protocol = match p.protocol.as_deref() {
            None | Some("TCP") => Protocol::Tcp,
            Some("UDP") => Protocol::Udp,
            Some("SCTP") => Protocol::Sctp,
            Some(other) => {
                self.err(
                    format!("{path}.protocol"),
                    format!("{other:?} is not TCP, UDP or SCTP"),
                );
                return None;
            }
        };
        let port = match &p.port {
            None => PortMatch::Range(PortRange::ALL),
            Some(IntOrString::Int(n)) if (1..=65535).contains(n) => {
                PortMatch::Range(PortRange::single(*n as u16))
            }
            Some(IntOrString::Int(n)) => {
                self.err(
                    format!("{path}.port"),
                    format!("{n} is not a port number (1..=65535)"),
                );
                return None;
            }
            Some(IntOrString::String(s)) => match NamedPort::new(s) {
                Ok(n) => PortMatch::Named(n),
                Err(e) => {
                    self.err(
                        format!("{path}.port"),
                        format!("{s:?} is not a named port: {e}"),
                    );
                    return None;
                }
            },
        };
        let port = match (port, p.end_port) {
            (port, None) => port,
            (PortMatch::Range(r), Some(end))
                if (1..=65535).contains(&end) && end as u16 >= r.start() && r != PortRange::ALL =>
            {
                PortMatch::Range(PortRange::new(r.start(), end as u16).ok()?)
            }
            (_, Some(end)) => {
                self.err(
                    format!("{path}.endPort"),
                    format!("{end} needs a numeric port at or before it"),
                );
                return None;
            }
        };
        Some(PortEntry {
            protocol,
            port,
            l7: None,
            listener: None,
            server_names: Vec::new(),
        })
    }
}

/// A `tchar` of RFC 9110 (the bytes of a header name).
fn is_header_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn parse_cidr(text: &str) -> Result<Cidr, String> {
    text.parse::<Cidr>().map_err(|e| e.to_string())
}

/// The selectors an entity name stands for, or `None` for an unknown name.
pub fn entity_selectors(name: &str, opts: &CompileOptions) -> Option<Vec<Selector>> {
    let reserved = |n: &str| {
        Selector::Labels(LabelSelector::new([Requirement::new(
            "reserved",
            n,
            Operator::Exists,
            [],
        )]))
    };
    Some(match name {
        "all" => vec![Selector::wildcard()],
        "none" => Vec::new(),
        "world" => vec![
            reserved("world"),
            reserved("world-ipv4"),
            reserved("world-ipv6"),
        ],
        "host" if opts.treat_remote_node_as_host => vec![reserved("host"), reserved("remote-node")],
        "host" => vec![reserved("host")],
        "remote-node" | "init" | "health" | "unmanaged" | "kube-apiserver" | "ingress" => {
            vec![reserved(name)]
        }
        "cluster" => vec![
            reserved("host"),
            reserved("remote-node"),
            reserved("init"),
            reserved("health"),
            reserved("unmanaged"),
            reserved("kube-apiserver"),
            reserved("ingress"),
            Selector::Labels(LabelSelector::new([Requirement::equals(
                "k8s",
                CLUSTER_LABEL,
                &opts.cluster_name,
            )])),
        ],
        "cluster-mesh" => vec![
            reserved("host"),
            reserved("remote-node"),
            reserved("init"),
            reserved("health"),
            reserved("unmanaged"),
            reserved("kube-apiserver"),
            reserved("ingress"),
            Selector::Labels(LabelSelector::new([Requirement::new(
                "k8s",
                CLUSTER_LABEL,
                Operator::Exists,
                [],
            )])),
        ],
        _ => return None,
    })
}

/// ICMP (`v6 = false`) and ICMPv6 type names (IANA names as Cilium spells them).
pub fn icmp_type_by_name(name: &str, v6: bool) -> Option<u8> {
    const V4: &[(&str, u8)] = &[
        ("EchoReply", 0),
        ("DestinationUnreachable", 3),
        ("Redirect", 5),
        ("Echo", 8),
        ("EchoRequest", 8),
        ("RouterAdvertisement", 9),
        ("RouterSelection", 10),
        ("TimeExceeded", 11),
        ("ParameterProblem", 12),
        ("Timestamp", 13),
        ("TimestampReply", 14),
        ("Photuris", 40),
        ("ExtendedEchoRequest", 42),
        ("ExtendedEchoReply", 43),
    ];
    const V6: &[(&str, u8)] = &[
        ("DestinationUnreachable", 1),
        ("PacketTooBig", 2),
        ("TimeExceeded", 3),
        ("ParameterProblem", 4),
        ("EchoRequest", 128),
        ("EchoReply", 129),
        ("MulticastListenerQuery", 130),
        ("MulticastListenerReport", 131),
        ("MulticastListenerDone", 132),
        ("RouterSolicitation", 133),
        ("RouterAdvertisement", 134),
        ("NeighborSolicitation", 135),
        ("NeighborAdvertisement", 136),
        ("RedirectMessage", 137),
        ("RouterRenumbering", 138),
        ("ICMPNodeInformationQuery", 139),
        ("ICMPNodeInformationResponse", 140),
        ("InverseNeighborDiscoverySolicitation", 141),
        ("InverseNeighborDiscoveryAdvertisement", 142),
        ("HomeAgentAddressDiscoveryRequest", 144),
        ("HomeAgentAddressDiscoveryReply", 145),
        ("MobilePrefixSolicitation", 146),
        ("MobilePrefixAdvertisement", 147),
        ("DuplicateAddressRequestCodeSuffix", 157),
        ("DuplicateAddressConfirmationCodeSuffix", 158),
        ("ExtendedEchoRequest", 160),
        ("ExtendedEchoReply", 161),
    ];
    let table = if v6 { V6 } else { V4 };
    table.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_rules(yaml_rules: &str) -> Result<Vec<HttpRule>, PolicyErrors> {
        let text = format!(
            r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: h, namespace: ns}}
spec:
  endpointSelector: {{matchLabels: {{app: a}}}}
  egress:
  - toPorts:
    - ports: [{{port: "80", protocol: TCP}}]
      rules:
        http:
{yaml_rules}
"#
        );
        let rules = compile_text(&text, &CompileOptions::default())?;
        let ports = rules[0].egress.allow[0].ports.as_ref().unwrap();
        match &ports[0].l7 {
            Some(L7Rules::Http(h)) => Ok(h.clone()),
            other => panic!("not HTTP rules: {other:?}"),
        }
    }

    #[test]
    fn header_matches_keep_their_mismatch_action() {
        let rules = http_rules(
            r#"        - method: GET
          headers: ["X-Req", "X-Eq: 1"]
          headerMatches:
          - {name: X-Must, value: "yes"}
          - {name: X-Log, value: "a", mismatch: LOG}
          - {name: X-Add, value: "b", mismatch: ADD}
          - {name: X-Del, value: "c", mismatch: DELETE}
          - {name: X-Rep, value: "d", mismatch: REPLACE}
          - {name: X-Present, mismatch: ADD}"#,
        )
        .unwrap();
        let r = &rules[0];
        assert_eq!(
            r.headers,
            vec![
                ("x-req".to_owned(), None),
                ("x-eq".to_owned(), Some("1".to_owned())),
                ("x-must".to_owned(), Some("yes".to_owned())),
            ]
        );
        let m = |name: &str, value: Option<&str>, mismatch| HeaderMatch {
            name: name.into(),
            value: value.map(Into::into),
            mismatch,
        };
        assert_eq!(
            r.header_matches,
            vec![
                m("x-log", Some("a"), MismatchAction::Log),
                m("x-add", Some("b"), MismatchAction::Add),
                m("x-del", Some("c"), MismatchAction::Delete),
                m("x-rep", Some("d"), MismatchAction::Replace),
                m("x-present", None, MismatchAction::Add),
            ]
        );
    }

    #[test]
    fn header_matches_refuse_bad_actions_names_and_values() {
        let err = |rules: &str| http_rules(rules).unwrap_err().to_string();
        let e = err("        - headerMatches: [{name: X, value: v, mismatch: DROP}]");
        assert!(
            e.contains("headerMatches[0].mismatch") && e.contains("\"DROP\""),
            "{e}"
        );
        let e = err("        - headerMatches: [{name: \"X Y\", value: v, mismatch: ADD}]");
        assert!(
            e.contains("headerMatches[0].name") && e.contains("not an HTTP header name"),
            "{e}"
        );
        let e =
            err("        - headerMatches: [{name: X, value: \"a\\r\\nEvil: 1\", mismatch: ADD}]");
        assert!(
            e.contains("headerMatches[0].value") && e.contains("control character"),
            "{e}"
        );
    }
}
