//! The per-endpoint map state: what the datapath's policy map holds, in the engine's own
//! key type (no kernel layout here; `cilium-datapath` converts it).
//!
//! Lookup precedence is the datapath's (first match wins): 1. identity/proto/port,
//! 2. any/proto/port, 3. identity/proto/any, 4. any/proto/any, 5. identity/any/any,
//! 6. any/any/any — in LPM terms: the longer protocol+port prefix wins and a tie goes to the
//! identity-specific entry. Deny always wins: a deny covering an allow removes it, and where an
//! allow would be looked up before an overlapping deny, a deny is pushed down to their
//! intersection.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use cilium_core::{NumericIdentity, PortPrefix};

use crate::l7::L7Parser;
use crate::rule::{AuthType, Direction, Listener, RuleOrigin};

/// A map-state key. Identity 0 and protocol 0 are wildcards; a wildcard protocol always has
/// a wildcard port. Ordered by identity first, so one identity's entries are contiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// Remote identity (0 = any).
    pub identity: NumericIdentity,
    /// Direction.
    pub direction: Direction,
    /// IP protocol number (0 = any).
    pub protocol: u8,
    /// Destination port prefix (ICMP: the type as an exact port).
    pub port: PortPrefix,
}

impl Key {
    /// Bits of protocol and port the key fixes (0, 8, or 8 + port prefix length).
    pub fn specificity(&self) -> u8 {
        if self.protocol == 0 {
            0
        } else {
            8 + self.port.prefix_len()
        }
    }

    fn rank(&self) -> (u8, bool) {
        (
            self.specificity(),
            self.identity != NumericIdentity::UNKNOWN,
        )
    }

    /// Whether the datapath looks this key up before `other` when both match a packet.
    pub fn preferred_over(&self, other: &Key) -> bool {
        self.rank() > other.rank()
    }

    /// Whether every packet matching `other` also matches `self`.
    pub fn covers(&self, other: &Key) -> bool {
        self.direction == other.direction
            && (self.identity == NumericIdentity::UNKNOWN || self.identity == other.identity)
            && (self.protocol == 0 || self.protocol == other.protocol)
            && (self.protocol == 0 || port_contains(self.port, other.port))
    }

    /// The key matching exactly the packets both keys match, if any.
    pub fn intersection(&self, other: &Key) -> Option<Key> {
        if self.direction != other.direction {
            return None;
        }
        let identity = match (self.identity.as_u32(), other.identity.as_u32()) {
            (0, _) => other.identity,
            (_, 0) => self.identity,
            (a, b) if a == b => self.identity,
            _ => return None,
        };
        let (protocol, port) = match (self.protocol, other.protocol) {
            (0, _) => (other.protocol, other.port),
            (_, 0) => (self.protocol, self.port),
            (a, b) if a != b => return None,
            (a, _) => {
                if port_contains(self.port, other.port) {
                    (a, other.port)
                } else if port_contains(other.port, self.port) {
                    (a, self.port)
                } else {
                    return None;
                }
            }
        };
        Some(Key {
            identity,
            direction: self.direction,
            protocol,
            port,
        })
    }

    /// Whether a packet matches the key.
    pub fn matches(
        &self,
        direction: Direction,
        identity: NumericIdentity,
        protocol: u8,
        port: u16,
    ) -> bool {
        self.direction == direction
            && (self.identity == NumericIdentity::UNKNOWN || self.identity == identity)
            && (self.protocol == 0 || (self.protocol == protocol && self.port.contains(port)))
    }
}

fn port_contains(outer: PortPrefix, inner: PortPrefix) -> bool {
    outer.prefix_len() <= inner.prefix_len() && outer.contains(inner.port())
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} id={} proto={} port=",
            self.direction, self.identity, self.protocol
        )?;
        if self.protocol == 0 || self.port.prefix_len() == 0 {
            f.write_str("*")
        } else {
            self.port.fmt(f)
        }
    }
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// Allowed (maybe through a proxy).
    Allow,
    /// Denied (drop reason 181).
    Deny,
}

/// Where an allowed flow is redirected.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Redirect {
    /// The parser.
    pub parser: L7Parser,
    /// An explicit listener, if the rule named one.
    pub listener: Option<Listener>,
}

impl Redirect {
    /// Proxy-port priority (lower wins): explicit listener priority, else the parser's.
    pub fn priority(&self) -> u8 {
        match &self.listener {
            Some(l) if l.priority > 0 => l.priority,
            Some(_) => 126,
            None => self.parser.priority(),
        }
    }
}

/// A map-state value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Allow or deny.
    pub verdict: Verdict,
    /// L7 redirect of an allow.
    pub redirect: Option<Redirect>,
    /// Explicit authentication requirement of an allow.
    pub auth: Option<AuthType>,
    /// Rules that produced the entry.
    pub origins: BTreeSet<Arc<RuleOrigin>>,
}

impl Entry {
    /// An allow entry.
    pub fn allow(
        redirect: Option<Redirect>,
        auth: Option<AuthType>,
        origin: Arc<RuleOrigin>,
    ) -> Entry {
        Entry {
            verdict: Verdict::Allow,
            redirect,
            auth,
            origins: BTreeSet::from([origin]),
        }
    }

    /// A deny entry.
    pub fn deny(origin: Arc<RuleOrigin>) -> Entry {
        Entry {
            verdict: Verdict::Deny,
            redirect: None,
            auth: None,
            origins: BTreeSet::from([origin]),
        }
    }

    /// Whether this is a deny.
    pub fn is_deny(&self) -> bool {
        self.verdict == Verdict::Deny
    }

    /// Merges another entry for the same key: deny wins; between allows the redirect with the
    /// best priority wins and the higher explicit auth type wins.
    pub fn merge(&mut self, other: Entry) {
        self.origins.extend(other.origins);
        match (self.verdict, other.verdict) {
            (Verdict::Deny, _) => {}
            (Verdict::Allow, Verdict::Deny) => {
                self.verdict = Verdict::Deny;
                self.redirect = None;
                self.auth = None;
            }
            (Verdict::Allow, Verdict::Allow) => {
                self.redirect = match (self.redirect.take(), other.redirect) {
                    (Some(a), Some(b)) => Some(if b.priority() < a.priority() { b } else { a }),
                    (a, b) => a.or(b),
                };
                self.auth = self.auth.max(other.auth);
            }
        }
    }

    /// The action word of dumps: `allow`, `deny` or `redirect`.
    pub fn action(&self) -> &'static str {
        match (self.verdict, &self.redirect) {
            (Verdict::Deny, _) => "deny",
            (Verdict::Allow, Some(_)) => "redirect",
            (Verdict::Allow, None) => "allow",
        }
    }
}

/// The datapath's match type names (`POLICY_MATCH_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchType {
    /// No entry matched.
    None,
    /// identity/proto/port.
    L3L4,
    /// any/proto/port.
    L4Only,
    /// identity/proto/any.
    L3Proto,
    /// any/proto/any.
    ProtoOnly,
    /// identity/any/any.
    L3Only,
    /// any/any/any.
    All,
}

impl MatchType {
    /// Cilium's name, e.g. `L4_ONLY`.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::None => "NONE",
            MatchType::L3L4 => "L3_L4",
            MatchType::L4Only => "L4_ONLY",
            MatchType::L3Proto => "L3_PROTO",
            MatchType::ProtoOnly => "PROTO_ONLY",
            MatchType::L3Only => "L3_ONLY",
            MatchType::All => "ALL",
        }
    }

    fn of(key: &Key) -> MatchType {
        let l3 = key.identity != NumericIdentity::UNKNOWN;
        match (key.specificity(), l3) {
            (s, true) if s > 8 => MatchType::L3L4,
            (s, false) if s > 8 => MatchType::L4Only,
            (8, true) => MatchType::L3Proto,
            (8, false) => MatchType::ProtoOnly,
            (_, true) => MatchType::L3Only,
            (_, false) => MatchType::All,
        }
    }
}

/// The result of a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupResult<'a> {
    /// The matched key and entry, if any.
    pub matched: Option<(&'a Key, &'a Entry)>,
    /// How it matched.
    pub match_type: MatchType,
}

impl LookupResult<'_> {
    /// Whether the packet passes (an allow matched).
    pub fn allowed(&self) -> bool {
        self.matched.is_some_and(|(_, e)| !e.is_deny())
    }

    /// Cilium's verdict text: `ALLOWED`, `REDIRECTED_TO_PROXY`, `DENIED_POLICY_DENY(-181)` or
    /// `DENIED_NO_MATCH(-133)`.
    pub fn verdict_text(&self) -> &'static str {
        match self.matched {
            None => "DENIED_NO_MATCH(-133)",
            Some((_, e)) if e.is_deny() => "DENIED_POLICY_DENY(-181)",
            Some((_, e)) if e.redirect.is_some() => "REDIRECTED_TO_PROXY",
            Some(_) => "ALLOWED",
        }
    }
}

/// Changes to apply to a map state (or a kernel policy map).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapStateDelta {
    /// Keys to insert or overwrite.
    pub upserts: Vec<(Key, Entry)>,
    /// Keys to delete.
    pub removals: Vec<Key>,
}

impl MapStateDelta {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        self.upserts.is_empty() && self.removals.is_empty()
    }
}

/// The entries of one endpoint's policy, both directions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapState {
    entries: BTreeMap<Key, Entry>,
}

impl MapState {
    /// An empty map state.
    pub fn new() -> MapState {
        MapState::default()
    }

    /// Every entry in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Entry)> {
        self.entries.iter()
    }

    /// Entries of one direction.
    pub fn direction(&self, direction: Direction) -> impl Iterator<Item = (&Key, &Entry)> {
        self.entries
            .iter()
            .filter(move |(k, _)| k.direction == direction)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry at `key`.
    pub fn get(&self, key: &Key) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// Looks a packet up as the datapath does.
    pub fn lookup(
        &self,
        direction: Direction,
        identity: NumericIdentity,
        protocol: u8,
        port: u16,
    ) -> LookupResult<'_> {
        let best = |id: NumericIdentity| {
            let lo = Key {
                identity: id,
                direction: Direction::Ingress,
                protocol: 0,
                port: PortPrefix::ANY,
            };
            self.entries
                .range(lo..)
                .take_while(move |(k, _)| k.identity == id)
                .filter(|(k, _)| k.matches(direction, identity, protocol, port))
                .max_by_key(|(k, _)| k.specificity())
        };
        let l3 = if identity == NumericIdentity::UNKNOWN {
            None
        } else {
            best(identity)
        };
        let l4 = best(NumericIdentity::UNKNOWN);
        let matched = match (l3, l4) {
            (Some(a), Some(b)) => Some(if a.0.specificity() >= b.0.specificity() {
                a
            } else {
                b
            }),
            (a, b) => a.or(b),
        };
        LookupResult {
            match_type: matched.map_or(MatchType::None, |(k, _)| MatchType::of(k)),
            matched,
        }
    }

    /// Replaces the entries of `identity` with `slice`, returning what changed.
    pub(crate) fn replace_slice(
        &mut self,
        identity: NumericIdentity,
        slice: BTreeMap<Key, Entry>,
    ) -> MapStateDelta {
        let lo = Key {
            identity,
            direction: Direction::Ingress,
            protocol: 0,
            port: PortPrefix::ANY,
        };
        let old: Vec<Key> = self
            .entries
            .range(lo..)
            .take_while(|(k, _)| k.identity == identity)
            .map(|(k, _)| *k)
            .collect();
        let mut delta = MapStateDelta::default();
        for k in old {
            if !slice.contains_key(&k) {
                self.entries.remove(&k);
                delta.removals.push(k);
            }
        }
        for (k, e) in slice {
            if self.entries.get(&k) != Some(&e) {
                self.entries.insert(k, e.clone());
                delta.upserts.push((k, e));
            }
        }
        delta
    }

    /// Applies a delta.
    pub fn apply(&mut self, delta: &MapStateDelta) {
        for k in &delta.removals {
            self.entries.remove(k);
        }
        for (k, e) in &delta.upserts {
            self.entries.insert(*k, e.clone());
        }
    }

    /// The auth types that apply to traffic from `identity` (explicit auth on allow entries of
    /// that identity or of the wildcard).
    pub fn auth_types_for(
        &self,
        direction: Direction,
        identity: NumericIdentity,
    ) -> BTreeSet<AuthType> {
        self.direction(direction)
            .filter(|(k, e)| {
                !e.is_deny() && (k.identity == identity || k.identity == NumericIdentity::UNKNOWN)
            })
            .filter_map(|(_, e)| e.auth)
            .filter(|a| *a != AuthType::Disabled)
            .collect()
    }
}

/// Merges candidate entries by key (deny wins).
pub(crate) fn merge_candidates(
    cands: impl IntoIterator<Item = (Key, Entry)>,
) -> BTreeMap<Key, Entry> {
    let mut out: BTreeMap<Key, Entry> = BTreeMap::new();
    for (k, e) in cands {
        match out.get_mut(&k) {
            Some(existing) => existing.merge(e),
            None => {
                out.insert(k, e);
            }
        }
    }
    out
}

/// Resolves one identity's entries (`own`, merged) against the wildcard entries (`wild`,
/// merged, unresolved). For the wildcard slice itself pass `own = wild` and `is_wild = true`.
pub(crate) fn resolve_slice(
    own: &BTreeMap<Key, Entry>,
    wild: &BTreeMap<Key, Entry>,
    is_wild: bool,
) -> BTreeMap<Key, Entry> {
    let wild_denies: Vec<(&Key, &Entry)> = if is_wild {
        Vec::new()
    } else {
        wild.iter().filter(|(_, e)| e.is_deny()).collect()
    };
    let own_denies: Vec<(&Key, &Entry)> = own.iter().filter(|(_, e)| e.is_deny()).collect();
    let all_denies = || own_denies.iter().chain(wild_denies.iter());
    let mut out: BTreeMap<Key, Entry> = BTreeMap::new();
    // 1. Denies not covered by another deny; allows not covered by any deny.
    for (k, e) in own {
        let covered = all_denies().any(|(d, _)| *d != k && d.covers(k));
        if !covered {
            out.insert(*k, e.clone());
        }
    }
    // 2. Push denies down where an overlapping allow would be looked up first.
    let allows_own: Vec<(Key, Entry)> = out
        .iter()
        .filter(|(_, e)| !e.is_deny())
        .map(|(k, e)| (*k, e.clone()))
        .collect();
    let wild_allows: Vec<(&Key, &Entry)> = if is_wild {
        Vec::new()
    } else {
        wild.iter()
            .filter(|(k, e)| {
                !e.is_deny() && !wild.iter().any(|(d, de)| de.is_deny() && d.covers(k))
            })
            .collect()
    };
    let mut pushed: Vec<(Key, Entry)> = Vec::new();
    let mut consider = |d: &Key, de: &Entry, a: &Key| {
        if d.covers(a) || a.covers(d) || !a.preferred_over(d) {
            return;
        }
        if let Some(i) = d.intersection(a) {
            let mut entry = de.clone();
            entry.verdict = Verdict::Deny;
            pushed.push((i, entry));
        }
    };
    for (d, de) in all_denies() {
        for (a, _) in &allows_own {
            consider(d, de, a);
        }
    }
    for (d, de) in &own_denies {
        for (a, _) in &wild_allows {
            consider(d, de, a);
        }
    }
    for (k, e) in pushed {
        match out.get_mut(&k) {
            Some(existing) if existing.is_deny() => existing.origins.extend(e.origins),
            _ => {
                out.insert(k, e);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: u32, proto: u8, port: Option<u16>) -> Key {
        Key {
            identity: NumericIdentity::new(id),
            direction: Direction::Ingress,
            protocol: proto,
            port: port.map_or(PortPrefix::ANY, PortPrefix::exact),
        }
    }

    #[test]
    fn cover_intersect_prefer() {
        assert!(key(0, 0, None).covers(&key(5, 6, Some(80))));
        assert!(!key(5, 0, None).covers(&key(0, 6, Some(80))));
        assert_eq!(
            key(5, 0, None).intersection(&key(0, 6, Some(80))),
            Some(key(5, 6, Some(80)))
        );
        assert_eq!(key(5, 0, None).intersection(&key(6, 0, None)), None);
        assert!(key(0, 6, Some(80)).preferred_over(&key(5, 0, None)));
        assert!(key(5, 6, Some(80)).preferred_over(&key(0, 6, Some(80))));
    }

    #[test]
    fn l3_deny_is_pushed_below_an_l4_allow() {
        let origin = Arc::new(RuleOrigin {
            kind: "t".into(),
            namespace: None,
            name: "t".into(),
            spec_index: None,
        });
        let wild = merge_candidates([(
            key(0, 6, Some(80)),
            Entry::allow(None, None, origin.clone()),
        )]);
        let own = merge_candidates([(key(5, 0, None), Entry::deny(origin.clone()))]);
        let slice = resolve_slice(&own, &wild, false);
        assert_eq!(
            slice.keys().copied().collect::<Vec<_>>(),
            vec![key(5, 0, None), key(5, 6, Some(80))]
        );
        assert!(slice.values().all(Entry::is_deny));
    }
}
