//! The policy repository and its per-endpoint resolution: rules → L4 policy → map state, and
//! incremental updates when identities come and go.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use cilium_core::l4::NamedPort;
use cilium_core::{LabelSet, NumericIdentity, PortPrefix, PortRange, Protocol};

use crate::api::PolicyErrors;
use crate::compile::{CompileOptions, compile, compile_text};
use crate::l7::{L7Parser, L7Policy, L7Request};
use crate::mapstate::{
    Entry, Key, MapState, MapStateDelta, Redirect, merge_candidates, resolve_slice,
};
use crate::rule::{AuthType, Direction, Listener, PortMatch, Rule, RuleOrigin};
use crate::selector::Selector;
use crate::selector_cache::{SelectionChange, SelectorCache};

/// Cilium's `enable-policy` modes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EnforcementMode {
    /// A direction is enforced when a rule selecting the endpoint has rules for it; the
    /// `reserved:init` identity is always enforced.
    #[default]
    Default,
    /// Always enforce.
    Always,
    /// Never enforce.
    Never,
}

/// Engine configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineConfig {
    /// Enforcement mode.
    pub mode: EnforcementMode,
    /// Allow ingress from `reserved:host` to every endpoint (Cilium's allow-localhost; the
    /// agent turns it on so kubelet probes pass).
    pub allow_localhost: bool,
    /// Compilation options.
    pub compile: CompileOptions,
}

/// Named container ports, for resolving `port: http` style rules.
pub trait NamedPorts {
    /// Port numbers named `name` for `protocol` on the pods of `identity`; `None` asks for
    /// every pod of the cluster (a wildcard peer).
    fn ports(
        &self,
        identity: Option<NumericIdentity>,
        name: &NamedPort,
        protocol: Protocol,
    ) -> BTreeSet<u16>;
}

/// A table of named ports per identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamedPortTable {
    by_identity: BTreeMap<NumericIdentity, BTreeMap<(String, Protocol), BTreeSet<u16>>>,
}

impl NamedPortTable {
    /// An empty table.
    pub fn new() -> NamedPortTable {
        NamedPortTable::default()
    }

    /// Records that pods of `identity` serve `port`/`protocol` under `name`.
    pub fn insert(&mut self, identity: NumericIdentity, name: &str, protocol: Protocol, port: u16) {
        self.by_identity
            .entry(identity)
            .or_default()
            .entry((name.to_owned(), protocol))
            .or_default()
            .insert(port);
    }
}

impl NamedPorts for NamedPortTable {
    fn ports(
        &self,
        identity: Option<NumericIdentity>,
        name: &NamedPort,
        protocol: Protocol,
    ) -> BTreeSet<u16> {
        let key = (name.as_str().to_owned(), protocol);
        match identity {
            Some(id) => self
                .by_identity
                .get(&id)
                .and_then(|m| m.get(&key))
                .cloned()
                .unwrap_or_default(),
            None => self
                .by_identity
                .values()
                .filter_map(|m| m.get(&key))
                .flatten()
                .copied()
                .collect(),
        }
    }
}

/// The endpoint whose policy is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointInfo {
    /// Its identity.
    pub identity: NumericIdentity,
    /// Its identity labels.
    pub labels: LabelSet,
    /// Whether it is the host endpoint (node-selector rules).
    pub is_host: bool,
    /// Its own named ports (for ingress rules), `(name, protocol) → port`.
    pub named_ports: BTreeMap<(String, Protocol), u16>,
}

impl EndpointInfo {
    /// An endpoint with `identity` and `labels` and no named ports.
    pub fn new(identity: NumericIdentity, labels: LabelSet) -> EndpointInfo {
        EndpointInfo {
            identity,
            labels,
            is_host: false,
            named_ports: BTreeMap::new(),
        }
    }
}

/// Why an endpoint's policy cannot be resolved (the datapath keeps it failing closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// Two different L7 parsers on one port.
    #[error(
        "{direction} {protocol}/{port}: rules ask for both {first} and {second} parsers on the same port ({origin})"
    )]
    ParserConflict {
        /// Direction.
        direction: Direction,
        /// Protocol.
        protocol: Protocol,
        /// Port.
        port: String,
        /// One parser.
        first: L7Parser,
        /// The other.
        second: L7Parser,
        /// The rule that brought the second.
        origin: String,
    },
}

/// What one selector is granted on one filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PerSelector {
    /// Rules denying.
    pub deny: BTreeSet<Arc<RuleOrigin>>,
    /// The allow, if any.
    pub allow: Option<AllowPolicy>,
}

/// An allow on a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowPolicy {
    /// L7 rules (None: plain L4 allow).
    pub l7: Option<L7Policy>,
    /// Explicit listener.
    pub listener: Option<Listener>,
    /// Explicit auth.
    pub auth: Option<AuthType>,
    /// Rules allowing.
    pub origins: BTreeSet<Arc<RuleOrigin>>,
}

/// One protocol/port of one direction with every selector that has a say on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Direction.
    pub direction: Direction,
    /// Protocol.
    pub protocol: Protocol,
    /// Ports.
    pub port: PortMatch,
    /// The parser the port is redirected to, if any selector has L7 rules or a listener.
    pub parser: Option<L7Parser>,
    /// Per selector.
    pub selectors: BTreeMap<Arc<Selector>, PerSelector>,
}

impl Filter {
    fn is_l3_only(&self) -> bool {
        self.protocol == Protocol::Any && self.port == PortMatch::Range(PortRange::ALL)
    }

    fn wildcard(&self) -> Option<&PerSelector> {
        self.selectors
            .iter()
            .find(|(s, _)| s.is_wildcard())
            .map(|(_, p)| p)
    }

    fn redirect_of(&self, selector: &Selector, allow: &AllowPolicy) -> Option<Redirect> {
        let parser = self.parser.clone()?;
        if allow.listener.is_some() {
            return Some(Redirect {
                parser,
                listener: allow.listener.clone(),
            });
        }
        if allow.l7.is_none() && selector.is_wildcard() {
            return None;
        }
        Some(Redirect {
            parser,
            listener: None,
        })
    }
}

/// The resolved policy of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// The endpoint.
    pub endpoint: EndpointInfo,
    /// Whether ingress is enforced.
    pub ingress_enforced: bool,
    /// Whether egress is enforced.
    pub egress_enforced: bool,
    /// Filters keyed by direction, protocol and port.
    pub filters: BTreeMap<(Direction, Protocol, PortMatch), Filter>,
    /// The map state.
    pub map_state: MapState,
}

impl EndpointPolicy {
    /// Whether `direction` is enforced.
    pub fn enforced(&self, direction: Direction) -> bool {
        match direction {
            Direction::Ingress => self.ingress_enforced,
            Direction::Egress => self.egress_enforced,
        }
    }

    /// The L7 policies that apply to a connection from/to `remote` on a redirected port: one
    /// per selector that selects `remote` on a filter covering the port, with no deny. A plain
    /// L4 allow of such a selector is [`L7Policy::AllowAll`]. Empty when nothing allows it.
    pub fn l7_policies<'a>(
        &'a self,
        cache: &SelectorCache,
        direction: Direction,
        remote: NumericIdentity,
        protocol: Protocol,
        port: u16,
    ) -> Vec<&'a L7Policy> {
        static ALLOW_ALL: L7Policy = L7Policy::AllowAll;
        let mut out = Vec::new();
        for f in self.filters.values().filter(|f| {
            f.direction == direction
                && f.parser.is_some()
                && filter_covers(f, protocol, port, &self.endpoint)
        }) {
            for (sel, ps) in &f.selectors {
                if !ps.deny.is_empty() || !(sel.is_wildcard() || cache.selects(sel, remote)) {
                    continue;
                }
                if let Some(a) = &ps.allow {
                    out.push(a.l7.as_ref().unwrap_or(&ALLOW_ALL));
                }
            }
        }
        out
    }

    /// The L7 decision for a request from/to `remote` on a redirected port: `true` if a
    /// selector selecting `remote` on a filter covering the port allows it.
    pub fn l7_allows(
        &self,
        cache: &SelectorCache,
        direction: Direction,
        remote: NumericIdentity,
        protocol: Protocol,
        port: u16,
        request: &L7Request,
    ) -> bool {
        self.l7_policies(cache, direction, remote, protocol, port)
            .iter()
            .any(|p| p.allows(request))
    }
}

fn filter_covers(f: &Filter, protocol: Protocol, port: u16, ep: &EndpointInfo) -> bool {
    if f.protocol != Protocol::Any && f.protocol != protocol {
        return false;
    }
    match &f.port {
        PortMatch::Range(r) => r.contains(port),
        PortMatch::IcmpType(t) => u16::from(*t) == port,
        PortMatch::Named(n) => {
            ep.named_ports.get(&(n.as_str().to_owned(), protocol)) == Some(&port)
        }
    }
}

/// The policy repository with its selector cache.
#[derive(Debug, Clone, Default)]
pub struct PolicyEngine {
    config: EngineConfig,
    sources: BTreeMap<String, Vec<Rule>>,
    cache: SelectorCache,
    revision: u64,
}

impl PolicyEngine {
    /// An engine with no rules that knows the reserved identities.
    pub fn new(config: EngineConfig) -> PolicyEngine {
        PolicyEngine {
            config,
            sources: BTreeMap::new(),
            cache: SelectorCache::with_reserved_identities(),
            revision: 0,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The selector cache.
    pub fn cache(&self) -> &SelectorCache {
        &self.cache
    }

    /// Bumped on every rule change.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Every rule, by source.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.sources.values().flatten()
    }

    /// Replaces the rules of `source` (a file, a Kubernetes object key...) with `rules`.
    pub fn replace_rules(&mut self, source: &str, rules: Vec<Rule>) -> u64 {
        for r in &rules {
            for s in r.peer_selectors() {
                self.cache.add_selector(s);
            }
        }
        if let Some(old) = self.sources.insert(source.to_owned(), rules) {
            for r in &old {
                for s in r.peer_selectors() {
                    self.cache.remove_selector(s);
                }
            }
        }
        self.revision += 1;
        self.revision
    }

    /// Parses, validates and compiles `text`, then replaces the rules of `source`. On any
    /// error nothing changes: the previous rules stay in force.
    ///
    /// # Errors
    ///
    /// Every problem found, each with its field path.
    pub fn load_text(&mut self, source: &str, text: &str) -> Result<u64, PolicyErrors> {
        let rules = compile_text(text, &self.config.compile)?;
        Ok(self.replace_rules(source, rules))
    }

    /// Compiles parsed objects and replaces the rules of `source` (nothing changes on error).
    ///
    /// # Errors
    ///
    /// Every problem found.
    pub fn load_objects(
        &mut self,
        source: &str,
        objects: &[crate::api::PolicyObject],
    ) -> Result<u64, PolicyErrors> {
        let rules = compile(objects, &self.config.compile)?;
        Ok(self.replace_rules(source, rules))
    }

    /// Removes the rules of `source`.
    pub fn remove_source(&mut self, source: &str) -> u64 {
        if let Some(old) = self.sources.remove(source) {
            for r in &old {
                for s in r.peer_selectors() {
                    self.cache.remove_selector(s);
                }
            }
        }
        self.revision += 1;
        self.revision
    }

    /// Adds or relabels an identity.
    pub fn upsert_identity(&mut self, id: NumericIdentity, labels: LabelSet) -> SelectionChange {
        self.cache.upsert_identity(id, labels)
    }

    /// Removes an identity.
    pub fn remove_identity(&mut self, id: NumericIdentity) -> SelectionChange {
        self.cache.remove_identity(id)
    }

    fn enforcement(&self, ep: &EndpointInfo, rules: &[&Rule], direction: Direction) -> bool {
        match self.config.mode {
            EnforcementMode::Always => true,
            EnforcementMode::Never => false,
            EnforcementMode::Default => {
                ep.identity == NumericIdentity::INIT
                    || rules.iter().any(|r| r.direction(direction).enforce)
            }
        }
    }

    /// Resolves the policy of an endpoint: enforcement, filters and the full map state.
    ///
    /// # Errors
    ///
    /// [`ResolveError`] when rules conflict; keep the previous policy (or drop) then.
    pub fn resolve(
        &self,
        ep: &EndpointInfo,
        peers: &dyn NamedPorts,
    ) -> Result<EndpointPolicy, ResolveError> {
        let rules: Vec<&Rule> = self
            .rules()
            .filter(|r| r.selects(&ep.labels, ep.is_host))
            .collect();
        let ingress_enforced = self.enforcement(ep, &rules, Direction::Ingress);
        let egress_enforced = self.enforcement(ep, &rules, Direction::Egress);
        let mut filters: BTreeMap<(Direction, Protocol, PortMatch), Filter> = BTreeMap::new();
        if self.config.mode != EnforcementMode::Never {
            for rule in &rules {
                for direction in Direction::BOTH {
                    let d = rule.direction(direction);
                    for (peer_rule, deny) in d
                        .allow
                        .iter()
                        .map(|p| (p, false))
                        .chain(d.deny.iter().map(|p| (p, true)))
                    {
                        add_peer_rule(&mut filters, direction, peer_rule, deny, &rule.origin)?;
                    }
                }
            }
        }
        let mut policy = EndpointPolicy {
            endpoint: ep.clone(),
            ingress_enforced,
            egress_enforced,
            filters,
            map_state: MapState::new(),
        };
        // Candidates by identity, then resolve each slice against the wildcard one.
        let mut by_id: BTreeMap<NumericIdentity, Vec<(Key, Entry)>> = BTreeMap::new();
        for f in policy.filters.values() {
            if !policy.enforced(f.direction) {
                continue;
            }
            self.filter_candidates(&policy, f, None, peers, &mut |k, e| {
                by_id.entry(k.identity).or_default().push((k, e))
            });
        }
        self.fixed_candidates(&policy, &mut |k, e| {
            by_id.entry(k.identity).or_default().push((k, e))
        });
        let wild = merge_candidates(by_id.remove(&NumericIdentity::UNKNOWN).unwrap_or_default());
        policy
            .map_state
            .replace_slice(NumericIdentity::UNKNOWN, resolve_slice(&wild, &wild, true));
        for (id, cands) in by_id {
            let own = merge_candidates(cands);
            policy
                .map_state
                .replace_slice(id, resolve_slice(&own, &wild, false));
        }
        Ok(policy)
    }

    /// Recomputes the entries of one identity after it was added, relabeled or removed,
    /// returning only what changed.
    pub fn update_identity(
        &self,
        policy: &mut EndpointPolicy,
        identity: NumericIdentity,
        peers: &dyn NamedPorts,
    ) -> MapStateDelta {
        if identity == NumericIdentity::UNKNOWN {
            return MapStateDelta::default();
        }
        let mut wild_c = Vec::new();
        let mut own_c = Vec::new();
        for f in policy.filters.values() {
            if !policy.enforced(f.direction) {
                continue;
            }
            self.filter_candidates(policy, f, Some(identity), peers, &mut |k, e| {
                if k.identity == identity {
                    own_c.push((k, e));
                } else if k.identity == NumericIdentity::UNKNOWN {
                    wild_c.push((k, e));
                }
            });
        }
        self.fixed_candidates(policy, &mut |k, e| {
            if k.identity == identity {
                own_c.push((k, e));
            } else if k.identity == NumericIdentity::UNKNOWN {
                wild_c.push((k, e));
            }
        });
        let wild = merge_candidates(wild_c);
        let own = merge_candidates(own_c);
        let slice = resolve_slice(&own, &wild, false);
        policy.map_state.replace_slice(identity, slice)
    }

    /// Entries not coming from rules: allow-all for unenforced directions, and the host allow.
    fn fixed_candidates(&self, policy: &EndpointPolicy, out: &mut dyn FnMut(Key, Entry)) {
        let origin = Arc::new(RuleOrigin {
            kind: "default".into(),
            namespace: None,
            name: "no policy enforced".into(),
            spec_index: None,
        });
        for direction in Direction::BOTH {
            if !policy.enforced(direction) {
                out(
                    Key {
                        identity: NumericIdentity::UNKNOWN,
                        direction,
                        protocol: 0,
                        port: PortPrefix::ANY,
                    },
                    Entry::allow(None, None, origin.clone()),
                );
            }
        }
        if self.config.allow_localhost && policy.ingress_enforced {
            let origin = Arc::new(RuleOrigin {
                kind: "default".into(),
                namespace: None,
                name: "allow-localhost".into(),
                spec_index: None,
            });
            out(
                Key {
                    identity: NumericIdentity::HOST,
                    direction: Direction::Ingress,
                    protocol: 0,
                    port: PortPrefix::ANY,
                },
                Entry::allow(None, None, origin),
            );
        }
    }

    /// Emits the map-state candidates of one filter (only those of `only` and the wildcard
    /// when given).
    fn filter_candidates(
        &self,
        policy: &EndpointPolicy,
        f: &Filter,
        only: Option<NumericIdentity>,
        peers: &dyn NamedPorts,
        out: &mut dyn FnMut(Key, Entry),
    ) {
        let wildcard = f.wildcard();
        let skip_covered = !f.is_l3_only();
        for (sel, ps) in &f.selectors {
            let ids: Vec<NumericIdentity> = if sel.is_wildcard() {
                vec![NumericIdentity::UNKNOWN]
            } else {
                match only {
                    Some(id) if self.cache.selects(sel, id) => vec![id],
                    Some(_) => Vec::new(),
                    None => self.cache.selections(sel).iter().copied().collect(),
                }
            };
            if ids.is_empty() {
                continue;
            }
            let allow = ps.allow.as_ref().map(|a| (f.redirect_of(sel, a), a));
            // A selector's allow adds nothing when the wildcard selector allows the same port
            // the same way.
            let allow = allow.filter(|(redirect, a)| {
                if !skip_covered || sel.is_wildcard() {
                    return true;
                }
                let Some(w) = wildcard.and_then(|w| w.allow.as_ref().map(|wa| (w, wa))) else {
                    return true;
                };
                let (wps, wa) = w;
                let w_redirect = f.redirect_of(&Selector::wildcard(), wa);
                !(wps.deny.is_empty()
                    && redirect.is_some() == w_redirect.is_some()
                    && a.auth == wa.auth)
            });
            for id in ids {
                for (protocol, port) in self.expand_ports(policy, f, id, peers) {
                    let key = Key {
                        identity: id,
                        direction: f.direction,
                        protocol,
                        port,
                    };
                    if let Some(origin) = ps.deny.iter().next() {
                        let mut e = Entry::deny(origin.clone());
                        e.origins.extend(ps.deny.iter().cloned());
                        out(key, e);
                    }
                    if let Some((redirect, a)) = &allow {
                        let mut e = Entry::allow(
                            redirect.clone(),
                            a.auth,
                            a.origins
                                .iter()
                                .next()
                                .expect("allow has an origin")
                                .clone(),
                        );
                        e.origins.extend(a.origins.iter().cloned());
                        out(key, e);
                    }
                }
            }
        }
    }

    fn expand_ports(
        &self,
        policy: &EndpointPolicy,
        f: &Filter,
        id: NumericIdentity,
        peers: &dyn NamedPorts,
    ) -> Vec<(u8, PortPrefix)> {
        let protos: Vec<Protocol> = match (&f.port, f.protocol) {
            (PortMatch::Range(r), Protocol::Any) if *r == PortRange::ALL => {
                return vec![(0, PortPrefix::ANY)];
            }
            (_, Protocol::Any) => Protocol::Any.expand().to_vec(),
            (_, p) => vec![p],
        };
        let mut out = Vec::new();
        for p in protos {
            match &f.port {
                PortMatch::Range(r) if *r == PortRange::ALL => {
                    out.push((p.as_u8(), PortPrefix::ANY))
                }
                PortMatch::Range(r) => {
                    out.extend(r.to_prefixes().into_iter().map(|pp| (p.as_u8(), pp)))
                }
                PortMatch::IcmpType(t) => out.push((p.as_u8(), PortPrefix::exact(u16::from(*t)))),
                PortMatch::Named(name) => {
                    let ports: BTreeSet<u16> = match f.direction {
                        Direction::Ingress => policy
                            .endpoint
                            .named_ports
                            .get(&(name.as_str().to_owned(), p))
                            .copied()
                            .into_iter()
                            .collect(),
                        Direction::Egress => {
                            peers.ports((id != NumericIdentity::UNKNOWN).then_some(id), name, p)
                        }
                    };
                    out.extend(
                        ports
                            .into_iter()
                            .map(|port| (p.as_u8(), PortPrefix::exact(port))),
                    );
                }
            }
        }
        out
    }
}

fn add_peer_rule(
    filters: &mut BTreeMap<(Direction, Protocol, PortMatch), Filter>,
    direction: Direction,
    rule: &crate::rule::PeerRule,
    deny: bool,
    origin: &Arc<RuleOrigin>,
) -> Result<(), ResolveError> {
    let all = [crate::rule::PortEntry {
        protocol: Protocol::Any,
        port: PortMatch::Range(PortRange::ALL),
        l7: None,
        listener: None,
        server_names: Vec::new(),
    }];
    let ports: &[crate::rule::PortEntry] = rule.ports.as_deref().unwrap_or(&all);
    for pe in ports {
        let filter = filters
            .entry((direction, pe.protocol, pe.port.clone()))
            .or_insert_with(|| Filter {
                direction,
                protocol: pe.protocol,
                port: pe.port.clone(),
                parser: None,
                selectors: BTreeMap::new(),
            });
        let parser = match (&pe.l7, &pe.listener) {
            (Some(l7), _) => Some(l7.parser()),
            (None, Some(l)) => Some(L7Parser::Generic(format!(
                "listener:{}/{}",
                l.envoy_config, l.name
            ))),
            (None, None) => None,
        };
        if !deny && let Some(p) = parser {
            match &filter.parser {
                Some(existing) if *existing != p => {
                    return Err(ResolveError::ParserConflict {
                        direction,
                        protocol: pe.protocol,
                        port: pe.port.to_string(),
                        first: existing.clone(),
                        second: p,
                        origin: origin.to_string(),
                    });
                }
                _ => filter.parser = Some(p),
            }
        }
        for sel in &rule.peers {
            let ps = filter.selectors.entry(sel.clone()).or_default();
            if deny {
                ps.deny.insert(origin.clone());
                continue;
            }
            let l7 = pe.l7.clone().map(L7Policy::Rules);
            match &mut ps.allow {
                None => {
                    ps.allow = Some(AllowPolicy {
                        l7,
                        listener: pe.listener.clone(),
                        auth: rule.auth,
                        origins: BTreeSet::from([origin.clone()]),
                    });
                }
                Some(existing) => {
                    // A plain allow and an L7 allow for the same selector: the plain one
                    // is a wildcard L7 rule.
                    existing.l7 = match (existing.l7.take(), l7) {
                        (Some(a), Some(b)) => a.merge(b).or(Some(L7Policy::AllowAll)),
                        (None, None) => None,
                        _ => Some(L7Policy::AllowAll),
                    };
                    existing.listener = existing.listener.take().or(pe.listener.clone());
                    existing.auth = existing.auth.max(rule.auth);
                    existing.origins.insert(origin.clone());
                }
            }
        }
    }
    Ok(())
}
