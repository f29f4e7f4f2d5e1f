//! Compiled peer and subject selectors: what a rule's `endpointSelector`, `fromEndpoints`,
//! `toCIDRSet`, `toEntities` and `toFQDNs` become once parsed.
//!
//! A [`Selector`] answers one question: does an identity with these labels belong to it?
//! Everything is expressed over identity labels, so the [`crate::SelectorCache`] can keep the
//! selected identities up to date from identity events alone:
//!
//! - label selectors match `source:key=value` labels; a requirement whose source is `any`
//!   matches a label of every source;
//! - CIDR selectors match identities carrying a `cidr:` label inside the prefix and outside every
//!   exception (the identity's most specific `cidr:` label counts); a `/0` prefix also selects the
//!   `reserved:world` identities;
//! - FQDN selectors match identities carrying the label `fqdn:<matchName or matchPattern>`:
//!   the DNS proxy (in `cilium-l7`) gives the addresses it learns identities with those labels,
//!   exactly as the CIDR identities carry `cidr:` labels.

use std::collections::BTreeSet;
use std::fmt;

use cilium_core::labels::LabelSource;
use cilium_core::{Cidr, Label, LabelSet};

/// A set-based requirement operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// The label exists with one of the values.
    In,
    /// The label does not exist, or its value is none of the values.
    NotIn,
    /// The label exists (any value).
    Exists,
    /// The label does not exist.
    DoesNotExist,
}

impl Operator {
    /// Parses `In`, `NotIn`, `Exists` or `DoesNotExist` (exact case, as Kubernetes does).
    pub fn parse(s: &str) -> Option<Operator> {
        match s {
            "In" => Some(Operator::In),
            "NotIn" => Some(Operator::NotIn),
            "Exists" => Some(Operator::Exists),
            "DoesNotExist" => Some(Operator::DoesNotExist),
            _ => None,
        }
    }
}

/// One requirement on one label key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Requirement {
    source: String,
    key: String,
    op: Operator,
    values: BTreeSet<String>,
}

impl Requirement {
    /// A requirement on the label `key` of `source` (`any` matches every source).
    pub fn new(
        source: impl Into<String>,
        key: impl Into<String>,
        op: Operator,
        values: impl IntoIterator<Item = String>,
    ) -> Requirement {
        Requirement {
            source: source.into(),
            key: key.into(),
            op,
            values: values.into_iter().collect(),
        }
    }

    /// `source:key` must equal `value`.
    pub fn equals(source: &str, key: &str, value: &str) -> Requirement {
        Requirement::new(source, key, Operator::In, [value.to_owned()])
    }

    /// The requirement written by a selector label key such as `k8s:app` or `app` (source
    /// `any` when none is written), parsed like Cilium's `ParseSelectLabel`.
    pub fn from_selector_key(key: &str, op: Operator, values: Vec<String>) -> Requirement {
        let label = Label::parse_select(key);
        Requirement::new(label.source(), label.key(), op, values)
    }

    /// The label source the requirement looks at.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.op
    }

    /// The values (for `In` and `NotIn`).
    pub fn values(&self) -> &BTreeSet<String> {
        &self.values
    }

    fn label<'a>(&self, labels: &'a LabelSet) -> Option<&'a Label> {
        labels
            .get(&self.key)
            .filter(|l| self.source == LabelSource::Any.as_str() || l.source() == self.source)
    }

    /// Whether `labels` meet the requirement.
    pub fn matches(&self, labels: &LabelSet) -> bool {
        let found = self.label(labels);
        match self.op {
            Operator::In => found.is_some_and(|l| self.values.contains(l.value())),
            Operator::NotIn => !found.is_some_and(|l| self.values.contains(l.value())),
            Operator::Exists => found.is_some(),
            Operator::DoesNotExist => found.is_none(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = format!("{}:{}", self.source, self.key);
        let values = || self.values.iter().cloned().collect::<Vec<_>>().join(",");
        match self.op {
            Operator::In if self.values.len() == 1 => write!(f, "{key}={}", values()),
            Operator::In => write!(f, "{key} in ({})", values()),
            Operator::NotIn => write!(f, "{key} notin ({})", values()),
            Operator::Exists => write!(f, "{key}"),
            Operator::DoesNotExist => write!(f, "!{key}"),
        }
    }
}

/// A conjunction of label requirements; no requirement at all selects every identity.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelSelector {
    requirements: BTreeSet<Requirement>,
}

impl LabelSelector {
    /// The selector of every identity (Cilium's `WildcardEndpointSelector`).
    pub fn wildcard() -> LabelSelector {
        LabelSelector::default()
    }

    /// A selector from requirements (all must hold).
    pub fn new(requirements: impl IntoIterator<Item = Requirement>) -> LabelSelector {
        LabelSelector {
            requirements: requirements.into_iter().collect(),
        }
    }

    /// Adds a requirement.
    pub fn require(&mut self, requirement: Requirement) {
        self.requirements.insert(requirement);
    }

    /// The requirements.
    pub fn requirements(&self) -> impl Iterator<Item = &Requirement> {
        self.requirements.iter()
    }

    /// Whether the selector selects everything.
    pub fn is_wildcard(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether some requirement looks at `key` with source `source` or `any`.
    pub fn mentions_key(&self, key: &str) -> bool {
        self.requirements.iter().any(|r| {
            r.key == key
                && (r.source == LabelSource::Any.as_str() || r.source == LabelSource::K8s.as_str())
        })
    }

    /// Whether `labels` meet every requirement.
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.requirements.is_empty() {
            return f.write_str("*");
        }
        let parts: Vec<String> = self.requirements.iter().map(|r| r.to_string()).collect();
        write!(f, "{{{}}}", parts.join(", "))
    }
}

/// A prefix minus exceptions (`toCIDR`, `toCIDRSet`, `ipBlock`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CidrSelector {
    cidr: Cidr,
    except: BTreeSet<Cidr>,
}

impl CidrSelector {
    /// `cidr` minus every prefix of `except`.
    pub fn new(cidr: Cidr, except: impl IntoIterator<Item = Cidr>) -> CidrSelector {
        CidrSelector {
            cidr,
            except: except.into_iter().collect(),
        }
    }

    /// The prefix.
    pub fn cidr(&self) -> Cidr {
        self.cidr
    }

    /// The exceptions.
    pub fn except(&self) -> impl Iterator<Item = &Cidr> {
        self.except.iter()
    }

    /// Whether an address belongs to the selector.
    pub fn contains_addr(&self, addr: std::net::IpAddr) -> bool {
        self.cidr.contains_addr(addr) && !self.except.iter().any(|e| e.contains_addr(addr))
    }

    /// Whether an identity with `labels` belongs to the selector.
    pub fn matches(&self, labels: &LabelSet) -> bool {
        let most_specific = labels
            .iter()
            .filter(|l| l.has_source(LabelSource::Cidr))
            .filter_map(|l| Cidr::from_label(l).ok())
            .filter(|c| c.is_ipv4() == self.cidr.is_ipv4())
            .max_by_key(|c| c.prefix_len());
        if let Some(prefix) = most_specific {
            return self.cidr.contains(&prefix) && !self.except.iter().any(|e| e.contains(&prefix));
        }
        self.cidr.prefix_len() == 0 && is_world(labels, self.cidr.is_ipv4())
    }
}

fn is_world(labels: &LabelSet, ipv4: bool) -> bool {
    labels.has_reserved_key("world")
        || labels.has_reserved_key(if ipv4 { "world-ipv4" } else { "world-ipv6" })
}

impl fmt::Display for CidrSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cidr:{}", self.cidr)?;
        for e in &self.except {
            write!(f, " except {e}")?;
        }
        Ok(())
    }
}

/// A peer or subject selector.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Selector {
    /// Identities by label requirements.
    Labels(LabelSelector),
    /// CIDR identities by prefix.
    Cidr(CidrSelector),
    /// Identities the DNS proxy created for names matching a `toFQDNs` entry; the string is
    /// the lowercased `matchName` or `matchPattern`, the key of the identity's `fqdn:` label.
    Fqdn(String),
}

impl Selector {
    /// The selector of every identity.
    pub fn wildcard() -> Selector {
        Selector::Labels(LabelSelector::wildcard())
    }

    /// Whether this is the selector of every identity.
    pub fn is_wildcard(&self) -> bool {
        matches!(self, Selector::Labels(s) if s.is_wildcard())
    }

    /// Whether an identity with `labels` is selected.
    pub fn matches(&self, labels: &LabelSet) -> bool {
        match self {
            Selector::Labels(s) => s.matches(labels),
            Selector::Cidr(c) => c.matches(labels),
            Selector::Fqdn(name) => labels
                .get(name)
                .is_some_and(|l| l.has_source(LabelSource::Fqdn)),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Labels(s) => s.fmt(f),
            Selector::Cidr(c) => c.fmt(f),
            Selector::Fqdn(n) => write!(f, "fqdn:{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(labels: &[&str]) -> LabelSet {
        LabelSet::parse_list(labels)
    }

    #[test]
    fn any_source_matches_every_source_but_k8s_only_k8s() {
        let pod = set(&["k8s:app=web", "container:tier=front"]);
        assert!(
            Requirement::from_selector_key("app", Operator::In, vec!["web".into()]).matches(&pod)
        );
        assert!(
            Requirement::from_selector_key("k8s:app", Operator::In, vec!["web".into()])
                .matches(&pod)
        );
        assert!(
            !Requirement::from_selector_key("k8s:tier", Operator::Exists, vec![]).matches(&pod)
        );
        assert!(Requirement::from_selector_key("tier", Operator::Exists, vec![]).matches(&pod));
    }

    #[test]
    fn operators_follow_kubernetes() {
        let pod = set(&["k8s:env=prod"]);
        let req = |op, v: &[&str]| {
            Requirement::from_selector_key("env", op, v.iter().map(|s| s.to_string()).collect())
        };
        assert!(req(Operator::In, &["prod", "dev"]).matches(&pod));
        assert!(!req(Operator::NotIn, &["prod"]).matches(&pod));
        assert!(req(Operator::NotIn, &["prod"]).matches(&set(&["k8s:other=1"])));
        assert!(req(Operator::Exists, &[]).matches(&pod));
        assert!(!req(Operator::DoesNotExist, &[]).matches(&pod));
    }

    #[test]
    fn cidr_selector_uses_the_most_specific_prefix_and_exceptions() {
        let sel = CidrSelector::new(
            "10.0.0.0/8".parse().unwrap(),
            ["10.96.0.0/12".parse().unwrap()],
        );
        let id = |c: &str| set(&[&format!("cidr:{c}"), "reserved:world"]);
        assert!(sel.matches(&id("10.1.0.0/16")));
        assert!(!sel.matches(&id("10.96.0.10/32")));
        assert!(sel.matches(&id("10.112.0.0/12")));
        assert!(!sel.matches(&id("192.168.0.0/16")));
        assert!(!sel.matches(&set(&["reserved:world"])));
        let all = CidrSelector::new("0.0.0.0/0".parse().unwrap(), []);
        assert!(all.matches(&set(&["reserved:world"])));
        assert!(!all.matches(&set(&["k8s:app=web"])));
        assert!(sel.contains_addr("10.1.2.3".parse().unwrap()));
        assert!(!sel.contains_addr("10.100.0.1".parse().unwrap()));
    }
}
