//! The FQDN cache, pure: which addresses DNS answers gave for which names and until when, and
//! the labels the local identity of a learned address carries so `toFQDNs` policy selects it.
//!
//! Driven by explicit time: every operation that depends on time takes `now` (an
//! [`Instant`] the caller read, as quinn-proto does); nothing here reads a clock. The DNS
//! proxy ([`crate::dns_proxy`]) feeds it from the answers it forwards; the embedding agent
//! reads it to allocate identities and to name addresses in flows.
//!
//! Semantics (Cilium's, with its defaults):
//!
//! - Names are kept lowercased with a trailing dot.
//! - An address of an answer lives for `max(ttl, min_ttl)` seconds from `now` (`min_ttl`
//!   default 0: the upstream TTL is honoured). An entry inserted at `t` with TTL `s` is live
//!   while `now < t + s` and is removed by [`FqdnCache::expire`] from `t + s` on; a TTL of 0
//!   lives until the next expiry pass. A repeated answer keeps the later of the two expiry
//!   times (an answer with a shorter TTL does not cut a live entry short).
//! - At most `max_ips_per_name` addresses per name (default 1000): beyond that the entries
//!   that expire soonest are evicted (among equal expiry times, the oldest insertion first).
//! - The labels of a learned address are `cidr:<ip>/32` (`/128` for IPv6, written as
//!   `cilium_core::Cidr::to_label` writes it, `:` as `-`), `reserved:world` (as every CIDR
//!   identity of Cilium, so `toEntities: [world]` still selects it) and `fqdn:<selector>` for every
//!   `toFQDNs` selector (see [`FqdnCache::set_selectors`]) that matches one of the address's
//!   names. With these the agent allocates a local identity (scope `1 << 24`), maps the
//!   address to it in the ipcache, and the selector cache selects it for `Selector::Fqdn`.
//!
//! What it is not: the zombie tracking of Cilium (addresses kept past their TTL while
//! connections use them); the agent decides when to release an identity.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use cilium_core::{Cidr, LabelSet};
use cilium_policy::fqdn::{FqdnError, normalize_name, sanitize_pattern};

use crate::dns::FqdnSelector;

/// Cilium's default `tofqdns-min-ttl`: 0, honour the upstream TTL.
pub const DEFAULT_MIN_TTL: u32 = 0;

/// Cilium's default `tofqdns-endpoint-max-ip-per-hostname`.
pub const DEFAULT_MAX_IPS_PER_NAME: usize = 1000;

/// Settings of an [`FqdnCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FqdnCacheConfig {
    /// TTL floor in seconds (`tofqdns-min-ttl`); answers with a lower TTL live this long.
    pub min_ttl: u32,
    /// Most addresses kept per name (`tofqdns-endpoint-max-ip-per-hostname`); 0 means no
    /// limit.
    pub max_ips_per_name: usize,
}

impl Default for FqdnCacheConfig {
    fn default() -> Self {
        FqdnCacheConfig {
            min_ttl: DEFAULT_MIN_TTL,
            max_ips_per_name: DEFAULT_MAX_IPS_PER_NAME,
        }
    }
}

/// What one [`FqdnCache::insert`] changed for a name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FqdnUpdate {
    /// The name, lowercased with a trailing dot.
    pub name: String,
    /// Addresses the name did not have before (in answer order).
    pub added: Vec<IpAddr>,
    /// Addresses the name had and lost (evicted by `max_ips_per_name`), soonest expiry first.
    pub removed: Vec<IpAddr>,
}

impl FqdnUpdate {
    /// Whether the set of addresses of the name is unchanged (only expiry times may have
    /// moved).
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    expires: Instant,
    /// Insertion order, unique per entry; the tie-breaker of eviction and the expiry index.
    seq: u64,
}

/// Names to addresses learned from DNS answers, with expiry; see the module documentation.
#[derive(Debug, Clone)]
pub struct FqdnCache {
    config: FqdnCacheConfig,
    names: HashMap<String, HashMap<IpAddr, Entry>>,
    ips: HashMap<IpAddr, BTreeSet<String>>,
    /// (expiry, seq) -> (name, ip), for expiry passes that touch only what expired.
    expiry: BTreeMap<(Instant, u64), (String, IpAddr)>,
    selectors: BTreeMap<String, FqdnSelector>,
    next_seq: u64,
}

impl Default for FqdnCache {
    fn default() -> Self {
        FqdnCache::new(FqdnCacheConfig::default())
    }
}

impl FqdnCache {
    /// An empty cache with `config`.
    pub fn new(config: FqdnCacheConfig) -> FqdnCache {
        FqdnCache {
            config,
            names: HashMap::new(),
            ips: HashMap::new(),
            expiry: BTreeMap::new(),
            selectors: BTreeMap::new(),
            next_seq: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &FqdnCacheConfig {
        &self.config
    }

    /// Records that `name` resolved to `ips` (address, TTL in seconds) at `now`; returns the
    /// addresses the name gained and lost. An address listed twice keeps its later expiry.
    pub fn insert(&mut self, name: &str, ips: &[(IpAddr, u32)], now: Instant) -> FqdnUpdate {
        let name = normalize_name(name);
        let mut update = FqdnUpdate {
            name: name.clone(),
            ..FqdnUpdate::default()
        };
        if ips.is_empty() {
            return update;
        }
        let entries = self.names.entry(name.clone()).or_default();
        for &(ip, ttl) in ips {
            let ttl = ttl.max(self.config.min_ttl);
            let expires = now + Duration::from_secs(u64::from(ttl));
            match entries.get_mut(&ip) {
                Some(e) => {
                    if expires > e.expires {
                        let key = self.expiry.remove(&(e.expires, e.seq));
                        e.expires = expires;
                        if let Some(v) = key {
                            self.expiry.insert((e.expires, e.seq), v);
                        }
                    }
                }
                None => {
                    let seq = self.next_seq;
                    self.next_seq += 1;
                    entries.insert(ip, Entry { expires, seq });
                    self.expiry.insert((expires, seq), (name.clone(), ip));
                    self.ips.entry(ip).or_default().insert(name.clone());
                    update.added.push(ip);
                }
            }
        }
        let max = self.config.max_ips_per_name;
        if max > 0 && entries.len() > max {
            let mut order: Vec<(Instant, u64, IpAddr)> = entries
                .iter()
                .map(|(ip, e)| (e.expires, e.seq, *ip))
                .collect();
            order.sort_unstable();
            for &(expires, seq, ip) in &order[..order.len() - max] {
                entries.remove(&ip);
                self.expiry.remove(&(expires, seq));
                unlink(&mut self.ips, ip, &name);
                if let Some(i) = update.added.iter().position(|a| *a == ip) {
                    // Added and evicted by the same answer: no change for this address.
                    update.added.remove(i);
                } else {
                    update.removed.push(ip);
                }
            }
        }
        update
    }

    /// Removes every entry whose TTL has passed at `now`; returns the removed (name,
    /// address) pairs, soonest expiry first. An address that lost its last name has no
    /// labels any more ([`FqdnCache::labels_of`] gives `None`): its identity can go.
    pub fn expire(&mut self, now: Instant) -> Vec<(String, IpAddr)> {
        let mut out = Vec::new();
        while let Some(entry) = self.expiry.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (name, ip) = entry.remove();
            if let Some(entries) = self.names.get_mut(&name) {
                entries.remove(&ip);
                if entries.is_empty() {
                    self.names.remove(&name);
                }
            }
            unlink(&mut self.ips, ip, &name);
            out.push((name, ip));
        }
        out
    }

    /// When the next entry expires, if any (for scheduling the next expiry pass).
    pub fn next_expiry(&self) -> Option<Instant> {
        self.expiry.first_key_value().map(|((t, _), _)| *t)
    }

    /// The names `ip` was learned for, sorted.
    pub fn names_of(&self, ip: IpAddr) -> Vec<&str> {
        self.ips
            .get(&ip)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The live addresses of `name` (any case, with or without the trailing dot), sorted.
    pub fn ips_of(&self, name: &str) -> Vec<IpAddr> {
        let mut v: Vec<IpAddr> = self
            .names
            .get(&normalize_name(name))
            .map(|m| m.keys().copied().collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    }

    /// When the entry of `name` and `ip` expires.
    pub fn expires_at(&self, name: &str, ip: IpAddr) -> Option<Instant> {
        self.names
            .get(&normalize_name(name))
            .and_then(|m| m.get(&ip))
            .map(|e| e.expires)
    }

    /// Every name with at least one address, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.names.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Number of (name, address) entries.
    pub fn len(&self) -> usize {
        self.expiry.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.expiry.is_empty()
    }

    /// Replaces the `toFQDNs` selectors (the strings `cilium_policy::Selector::Fqdn` holds,
    /// e.g. from [`crate::dns::fqdn_selectors`]); returns the addresses whose labels changed,
    /// sorted, so the agent can move them to new identities.
    ///
    /// # Errors
    ///
    /// The first selector that is not a valid `matchName`/`matchPattern`; nothing is
    /// changed then.
    pub fn set_selectors<S: AsRef<str>>(
        &mut self,
        selectors: impl IntoIterator<Item = S>,
    ) -> Result<Vec<IpAddr>, FqdnError> {
        let mut next = BTreeMap::new();
        for s in selectors {
            let sel = FqdnSelector::new(s.as_ref())?;
            next.insert(sel.as_str().to_owned(), sel);
        }
        let changed: Vec<&FqdnSelector> = next
            .iter()
            .filter(|(k, _)| !self.selectors.contains_key(*k))
            .chain(
                self.selectors
                    .iter()
                    .filter(|(k, _)| !next.contains_key(*k)),
            )
            .map(|(_, v)| v)
            .collect();
        let mut ips = BTreeSet::new();
        for (name, entries) in &self.names {
            if changed.iter().any(|s| s.matches(name)) {
                ips.extend(entries.keys().copied());
            }
        }
        self.selectors = next;
        Ok(ips.into_iter().collect())
    }

    /// Adds one selector; returns the addresses whose labels changed (sorted).
    ///
    /// # Errors
    ///
    /// An invalid selector.
    pub fn add_selector(&mut self, selector: &str) -> Result<Vec<IpAddr>, FqdnError> {
        let mut all: Vec<String> = self.selectors.keys().cloned().collect();
        all.push(selector.to_owned());
        self.set_selectors(all)
    }

    /// Removes one selector; returns the addresses whose labels changed (sorted).
    pub fn remove_selector(&mut self, selector: &str) -> Vec<IpAddr> {
        let key = sanitize_pattern(selector);
        let rest: Vec<String> = self
            .selectors
            .keys()
            .filter(|k| **k != key)
            .cloned()
            .collect();
        self.set_selectors(rest)
            .expect("selectors already in the cache are valid")
    }

    /// The selector strings in use, sorted.
    pub fn selectors(&self) -> impl Iterator<Item = &str> {
        self.selectors.keys().map(String::as_str)
    }

    /// The selectors that match one of the names of `ip`, sorted.
    pub fn selectors_of(&self, ip: IpAddr) -> Vec<&str> {
        let Some(names) = self.ips.get(&ip) else {
            return Vec::new();
        };
        self.selectors
            .values()
            .filter(|s| names.iter().any(|n| s.matches(n)))
            .map(FqdnSelector::as_str)
            .collect()
    }

    /// The labels the local identity of `ip` carries (see the module documentation), or
    /// `None` when the cache does not hold `ip`.
    pub fn labels_of(&self, ip: IpAddr) -> Option<LabelSet> {
        if !self.ips.contains_key(&ip) {
            return None;
        }
        let mut labels = LabelSet::new();
        labels.insert(Cidr::host(ip).to_label());
        // As every CIDR identity in Cilium: the address is outside the cluster, so the
        // `world` entity selects it too (a `toEntities: [world]` rule keeps applying to an
        // address once DNS has given it its own identity).
        labels.insert(cilium_core::Label::parse("reserved:world"));
        for s in self.selectors_of(ip) {
            labels.insert(crate::dns::fqdn_label(s));
        }
        Some(labels)
    }
}

fn unlink(ips: &mut HashMap<IpAddr, BTreeSet<String>>, ip: IpAddr, name: &str) {
    if let Some(names) = ips.get_mut(&ip) {
        names.remove(name);
        if names.is_empty() {
            ips.remove(&ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cilium_policy::Selector;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn ttl_floor_applies_to_low_ttls_only() {
        let t0 = Instant::now();
        let mut c = FqdnCache::new(FqdnCacheConfig {
            min_ttl: 60,
            ..FqdnCacheConfig::default()
        });
        c.insert(
            "A.example.",
            &[(ip("192.0.2.1"), 5), (ip("192.0.2.2"), 600)],
            t0,
        );
        assert_eq!(
            c.expires_at("a.example", ip("192.0.2.1")),
            Some(t0 + secs(60))
        );
        assert_eq!(
            c.expires_at("a.example", ip("192.0.2.2")),
            Some(t0 + secs(600))
        );
        assert!(c.expire(t0 + secs(59)).is_empty());
        assert_eq!(
            c.expire(t0 + secs(60)),
            [("a.example.".to_owned(), ip("192.0.2.1"))]
        );
        // Default: the upstream TTL is honoured, 0 lives until the next pass.
        let mut d = FqdnCache::default();
        d.insert("b.example", &[(ip("192.0.2.3"), 0)], t0);
        assert_eq!(d.ips_of("b.example"), [ip("192.0.2.3")]);
        assert_eq!(d.expire(t0).len(), 1);
        assert!(d.is_empty());
    }

    #[test]
    fn refresh_keeps_the_later_expiry_and_reports_no_change() {
        let t0 = Instant::now();
        let mut c = FqdnCache::default();
        let u = c.insert("a.example.", &[(ip("192.0.2.1"), 30)], t0);
        assert_eq!(u.added, [ip("192.0.2.1")]);
        let u = c.insert("a.example.", &[(ip("192.0.2.1"), 10)], t0 + secs(5));
        assert!(u.is_empty());
        assert_eq!(
            c.expires_at("a.example.", ip("192.0.2.1")),
            Some(t0 + secs(30))
        );
        let u = c.insert("a.example.", &[(ip("192.0.2.1"), 60)], t0 + secs(5));
        assert!(u.is_empty());
        assert_eq!(c.next_expiry(), Some(t0 + secs(65)));
        assert!(c.expire(t0 + secs(64)).is_empty());
        assert_eq!(c.expire(t0 + secs(65)).len(), 1);
    }

    #[test]
    fn max_ips_evicts_the_soonest_expiring_then_the_oldest() {
        let t0 = Instant::now();
        let mut c = FqdnCache::new(FqdnCacheConfig {
            max_ips_per_name: 3,
            ..FqdnCacheConfig::default()
        });
        c.insert(
            "a.example",
            &[
                (ip("10.0.0.1"), 100),
                (ip("10.0.0.2"), 50),
                (ip("10.0.0.3"), 100),
            ],
            t0,
        );
        // 10.0.0.2 expires soonest: it goes first.
        let u = c.insert("a.example", &[(ip("10.0.0.4"), 100)], t0);
        assert_eq!(
            (u.added, u.removed),
            (vec![ip("10.0.0.4")], vec![ip("10.0.0.2")])
        );
        // Equal expiry: the oldest insertion (10.0.0.1) goes.
        let u = c.insert("a.example", &[(ip("10.0.0.5"), 100)], t0);
        assert_eq!(u.removed, [ip("10.0.0.1")]);
        assert_eq!(
            c.ips_of("a.example"),
            [ip("10.0.0.3"), ip("10.0.0.4"), ip("10.0.0.5")]
        );
        assert!(c.names_of(ip("10.0.0.1")).is_empty());
        // An answer larger than the limit keeps the longest-lived addresses; an address
        // added and evicted by the same answer is neither added nor removed.
        let u = c.insert(
            "a.example",
            &[
                (ip("10.0.0.6"), 1),
                (ip("10.0.0.7"), 500),
                (ip("10.0.0.8"), 500),
            ],
            t0,
        );
        assert_eq!(u.added, [ip("10.0.0.7"), ip("10.0.0.8")]);
        assert_eq!(u.removed, [ip("10.0.0.3"), ip("10.0.0.4")]);
        assert_eq!(c.len(), 3);
        assert_eq!(c.expire(t0 + secs(1000)).len(), 3);
        assert!(c.is_empty() && c.names().is_empty());
    }

    #[test]
    fn expiry_removes_pairs_and_keeps_other_names_of_an_address() {
        let t0 = Instant::now();
        let mut c = FqdnCache::default();
        c.insert(
            "a.example",
            &[(ip("192.0.2.1"), 10), (ip("192.0.2.2"), 20)],
            t0,
        );
        c.insert("b.example", &[(ip("192.0.2.1"), 30)], t0);
        assert_eq!(c.names_of(ip("192.0.2.1")), ["a.example.", "b.example."]);
        assert_eq!(c.expire(t0 + secs(9)), []);
        assert_eq!(
            c.expire(t0 + secs(15)),
            [("a.example.".to_owned(), ip("192.0.2.1"))]
        );
        assert_eq!(c.names_of(ip("192.0.2.1")), ["b.example."]);
        assert!(c.labels_of(ip("192.0.2.1")).is_some());
        assert_eq!(c.expire(t0 + secs(30)).len(), 2);
        assert_eq!(c.labels_of(ip("192.0.2.1")), None);
        assert!(c.names().is_empty() && c.next_expiry().is_none());
    }

    #[test]
    fn labels_carry_cidr_and_every_matching_selector() {
        let t0 = Instant::now();
        let mut c = FqdnCache::default();
        c.insert("api.example.com", &[(ip("192.0.2.10"), 60)], t0);
        c.insert("www.other.org", &[(ip("2001:db8::7"), 60)], t0);
        let changed = c
            .set_selectors(["*.example.com", "api.example.com.", "*.nothing.test"])
            .unwrap();
        assert_eq!(changed, [ip("192.0.2.10")]);
        let labels = c.labels_of(ip("192.0.2.10")).unwrap();
        let mut strings = labels.to_strings();
        strings.sort();
        assert_eq!(
            strings,
            [
                "cidr:192.0.2.10/32",
                "fqdn:*.example.com.",
                "fqdn:api.example.com.",
                "reserved:world"
            ]
        );
        // The labels are what the policy's selectors select by.
        assert!(Selector::Fqdn("*.example.com.".into()).matches(&labels));
        assert!(!Selector::Fqdn("*.nothing.test.".into()).matches(&labels));
        assert_eq!(
            c.labels_of(ip("2001:db8::7")).unwrap().to_strings(),
            ["cidr:2001-db8--7/128", "reserved:world"]
        );
        // A new selector relabels the addresses of the names it matches.
        assert_eq!(c.add_selector("**.org").unwrap(), [ip("2001:db8::7")]);
        assert_eq!(c.selectors_of(ip("2001:db8::7")), ["**.org."]);
        assert_eq!(c.remove_selector("*.EXAMPLE.com"), [ip("192.0.2.10")]);
        assert_eq!(c.selectors_of(ip("192.0.2.10")), ["api.example.com."]);
        assert!(c.set_selectors(["bad selector"]).is_err());
        assert_eq!(c.selectors().count(), 3);
        assert_eq!(c.labels_of(ip("198.51.100.1")), None);
    }
}
