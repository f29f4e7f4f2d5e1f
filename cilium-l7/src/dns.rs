//! DNS policy, pure: whether a query name passes the DNS rules of a port (`rules.dns` of a
//! CiliumNetworkPolicy), and the `toFQDNs` selectors the FQDN cache labels learned addresses
//! with.
//!
//! Names are compared as Cilium compares them: lowercased, as a fully qualified name with a
//! trailing dot. A `matchName` is an exact (case-insensitive) name; a `matchPattern` follows
//! DESIGN.md (`*` is zero or more of `[-a-zA-Z0-9_]` inside one label, a leading `**.` is one
//! or more whole labels, a pattern of only `*` matches every name, anchored). The rule types
//! themselves ([`DnsRule`], [`FqdnPattern`]) live in `cilium-policy`; this module adds the
//! verdict, the selector form the FQDN cache needs, and the reject code.
//!
//! What it is not: the DNS wire format (the proxy in [`crate::dns_proxy`] parses messages
//! with hickory-proto) or the cache of learned addresses ([`crate::fqdn_cache`]).

use std::collections::BTreeSet;
use std::fmt;

use cilium_core::Label;
use cilium_core::labels::LabelSource;
use cilium_policy::fqdn::{FqdnError, FqdnPattern, normalize_name, sanitize_pattern};
use cilium_policy::l7::{DnsRule, L7Policy, L7Request, L7Rules};
use cilium_policy::{Rule, Selector};

/// The verdict on one query name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DnsVerdict {
    /// Forward the query.
    Allow,
    /// Answer locally with the reject code; never forward.
    Deny,
}

impl DnsVerdict {
    /// `Allow` for `true`.
    pub fn from_allowed(allowed: bool) -> DnsVerdict {
        if allowed {
            DnsVerdict::Allow
        } else {
            DnsVerdict::Deny
        }
    }

    /// Whether the verdict is `Allow`.
    pub fn is_allow(self) -> bool {
        self == DnsVerdict::Allow
    }
}

/// The verdict of a list of DNS rules on `qname` (any case, with or without the trailing
/// dot): `Allow` when one rule matches. An empty list allows nothing.
pub fn check_rules(rules: &[DnsRule], qname: &str) -> DnsVerdict {
    DnsVerdict::from_allowed(rules.iter().any(|r| r.matches(qname)))
}

/// The verdict of the L7 policies that apply to a connection (one per selector, as
/// [`crate::PolicySnapshot::policies`] returns them) on `qname`: `Allow` when one of them
/// allows it. A wildcard policy ([`L7Policy::AllowAll`]) allows every name; policies of
/// another parser allow none.
pub fn check_policies(policies: &[&L7Policy], qname: &str) -> DnsVerdict {
    let request = L7Request::Dns(qname.to_owned());
    DnsVerdict::from_allowed(policies.iter().any(|p| p.allows(&request)))
}

/// The DNS rules of a policy, when it has some (`None` for a wildcard or another parser).
pub fn dns_rules(policy: &L7Policy) -> Option<&[DnsRule]> {
    match policy {
        L7Policy::Rules(L7Rules::Dns(rules)) => Some(rules),
        _ => None,
    }
}

/// `name` lowercased with its trailing dot, the form names are compared and cached in.
pub fn canonical_name(name: &str) -> String {
    normalize_name(name)
}

/// The answer a denied query gets (Cilium's `--tofqdns-dns-reject-response-code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RejectCode {
    /// `REFUSED` (rcode 5), Cilium's default.
    #[default]
    Refused,
    /// `NXDOMAIN` (rcode 3): the name does not exist.
    NameError,
}

impl RejectCode {
    /// The DNS rcode.
    pub fn rcode(self) -> u16 {
        match self {
            RejectCode::Refused => 5,
            RejectCode::NameError => 3,
        }
    }
}

/// A `toFQDNs` selector as `cilium_policy::Selector::Fqdn` holds it (a lowercased
/// `matchName` with its trailing dot, or a sanitized `matchPattern`), compiled for matching.
///
/// A `matchName` compiles as a pattern without `*`, which matches exactly that name; so one
/// type serves both, and the text stays the key of the `fqdn:` label that the selector
/// selects identities by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FqdnSelector {
    pattern: FqdnPattern,
}

impl FqdnSelector {
    /// Compiles a selector string (a `matchName` or `matchPattern`, any case).
    ///
    /// # Errors
    ///
    /// [`FqdnError`] for characters outside `[-a-zA-Z0-9_.*]`, an empty or too long input.
    pub fn new(selector: &str) -> Result<FqdnSelector, FqdnError> {
        Ok(FqdnSelector {
            pattern: FqdnPattern::new(selector)?,
        })
    }

    /// The selector's text, e.g. `*.example.com.` or `api.example.com.` (the `fqdn:` label
    /// key, equal to the string in `Selector::Fqdn`).
    pub fn as_str(&self) -> &str {
        self.pattern.as_str()
    }

    /// Whether `name` (any case, with or without the trailing dot) is selected.
    pub fn matches(&self, name: &str) -> bool {
        self.pattern.matches(name)
    }

    /// The label identities of addresses learned for a selected name carry: source `fqdn`,
    /// key the selector, no value. `Selector::Fqdn` selects identities by it.
    pub fn label(&self) -> Label {
        fqdn_label(self.as_str())
    }
}

impl fmt::Display for FqdnSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `fqdn:<selector>` label for a selector string (sanitized like the policy compiler
/// does: lowercase, trailing dot unless the selector is only `*`).
pub fn fqdn_label(selector: &str) -> Label {
    Label::from_parts(LabelSource::Fqdn.as_str(), sanitize_pattern(selector), "")
}

/// The `toFQDNs` selector strings used by `rules` (egress allow and deny peers), sorted and
/// without duplicates: what the embedding agent hands to
/// [`crate::fqdn_cache::FqdnCache::set_selectors`] after a policy change.
pub fn fqdn_selectors<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for rule in rules {
        for peer in rule.egress.allow.iter().chain(&rule.egress.deny) {
            for sel in &peer.peers {
                if let Selector::Fqdn(s) = sel.as_ref() {
                    out.insert(s.clone());
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cilium_policy::{EngineConfig, PolicyEngine};

    fn rules() -> Vec<DnsRule> {
        vec![
            DnsRule::Name(canonical_name("API.Example.com")),
            DnsRule::Pattern(FqdnPattern::new("*.svc.example.test").unwrap()),
            DnsRule::Pattern(FqdnPattern::new("**.deep.example.test").unwrap()),
        ]
    }

    #[test]
    fn match_name_is_exact_and_case_insensitive() {
        let r = rules();
        assert_eq!(check_rules(&r, "api.example.com"), DnsVerdict::Allow);
        assert_eq!(check_rules(&r, "ApI.eXample.COM."), DnsVerdict::Allow);
        assert_eq!(check_rules(&r, "x.api.example.com."), DnsVerdict::Deny);
        assert_eq!(check_rules(&r, "api.example.co."), DnsVerdict::Deny);
    }

    #[test]
    fn match_pattern_star_stays_in_one_label_and_double_star_spans_labels() {
        let r = rules();
        assert!(check_rules(&r, "a.svc.example.test.").is_allow());
        assert!(check_rules(&r, "A-b_c.SVC.example.test").is_allow());
        // `*.` needs a label: the parent itself is not matched, nor two labels.
        assert!(!check_rules(&r, "svc.example.test.").is_allow());
        assert!(!check_rules(&r, "a.b.svc.example.test.").is_allow());
        assert!(check_rules(&r, "a.b.c.deep.example.test.").is_allow());
        assert!(!check_rules(&r, "deep.example.test.").is_allow());
        assert_eq!(check_rules(&[], "anything."), DnsVerdict::Deny);
    }

    #[test]
    fn policies_wildcard_allows_all_other_parsers_allow_none() {
        let dns = L7Policy::Rules(L7Rules::Dns(rules()));
        let http = L7Policy::Rules(L7Rules::Http(vec![]));
        assert!(check_policies(&[&dns], "api.example.com.").is_allow());
        assert!(!check_policies(&[&dns], "evil.example.").is_allow());
        assert!(!check_policies(&[&http], "api.example.com.").is_allow());
        assert!(check_policies(&[&dns, &L7Policy::AllowAll], "evil.example.").is_allow());
        assert!(!check_policies(&[], "api.example.com.").is_allow());
        assert_eq!(dns_rules(&dns).map(<[_]>::len), Some(3));
        assert_eq!(dns_rules(&L7Policy::AllowAll), None);
    }

    #[test]
    fn selectors_compile_match_and_label() {
        let name = FqdnSelector::new("API.example.com").unwrap();
        assert_eq!(name.as_str(), "api.example.com.");
        assert!(name.matches("api.EXAMPLE.com"));
        assert!(!name.matches("xapi.example.com."));
        let pat = FqdnSelector::new("*.example.com").unwrap();
        assert!(pat.matches("api.example.com."));
        assert_eq!(pat.label().to_string(), "fqdn:*.example.com.");
        assert_eq!(fqdn_label("*").to_string(), "fqdn:*");
        assert!(FqdnSelector::new("bad name").is_err());
        assert_eq!(RejectCode::default().rcode(), 5);
        assert_eq!(RejectCode::NameError.rcode(), 3);
    }

    #[test]
    fn selectors_are_collected_from_rules_as_the_selector_holds_them() {
        let mut engine = PolicyEngine::new(EngineConfig::default());
        engine
            .load_text(
                "p.yaml",
                r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fq, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toFQDNs: [{matchName: API.Example.com}, {matchPattern: "*.Example.test"}]
  - toFQDNs: [{matchName: api.example.com}]
"#,
            )
            .unwrap();
        let got: Vec<String> = fqdn_selectors(engine.rules()).into_iter().collect();
        assert_eq!(got, ["*.example.test.", "api.example.com."]);
        // The label of each selects exactly as the policy's selector does.
        for s in &got {
            let label = FqdnSelector::new(s).unwrap().label();
            let labels = cilium_core::LabelSet::from_iter([label]);
            assert!(Selector::Fqdn(s.clone()).matches(&labels));
        }
    }
}
