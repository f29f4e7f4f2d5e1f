//! L7 rules attached to a port: HTTP, Kafka, DNS and generic key/value rules, validated and
//! ready to match. The proxies in `cilium-l7` enforce them; the policy engine uses them to
//! decide redirects and to trace a request.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use regex::Regex;

use crate::fqdn::FqdnPattern;

/// Which proxy parser a port is redirected to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum L7Parser {
    /// HTTP (Envoy in Cilium).
    Http,
    /// Kafka.
    Kafka,
    /// DNS.
    Dns,
    /// A generic parser by name (`l7proto`).
    Generic(String),
}

impl L7Parser {
    /// Cilium's proxy-port priority of the parser (lower wins): HTTP 101, Kafka 106,
    /// proxylib 111, DNS 121.
    pub fn priority(&self) -> u8 {
        match self {
            L7Parser::Http => 101,
            L7Parser::Kafka => 106,
            L7Parser::Generic(_) => 111,
            L7Parser::Dns => 121,
        }
    }
}

impl fmt::Display for L7Parser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            L7Parser::Http => f.write_str("http"),
            L7Parser::Kafka => f.write_str("kafka"),
            L7Parser::Dns => f.write_str("dns"),
            L7Parser::Generic(p) => write!(f, "l7proto:{p}"),
        }
    }
}

/// An anchored regular expression as HTTP rules use them.
#[derive(Debug, Clone)]
pub struct AnchoredRegex {
    text: String,
    regex: Regex,
}

impl AnchoredRegex {
    /// Compiles `text`, anchored at both ends.
    ///
    /// # Errors
    ///
    /// The regex crate's message.
    pub fn new(text: &str) -> Result<AnchoredRegex, String> {
        let regex = Regex::new(&format!("^(?:{text})$")).map_err(|e| e.to_string())?;
        Ok(AnchoredRegex {
            text: text.to_owned(),
            regex,
        })
    }

    /// Whether the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        self.regex.is_match(s)
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for AnchoredRegex {
    fn eq(&self, other: &AnchoredRegex) -> bool {
        self.text == other.text
    }
}

impl Eq for AnchoredRegex {}

/// What the proxy does when a `headerMatches` entry with a mismatch action does not match the
/// request. The rule still matches (the request is allowed); only the request changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MismatchAction {
    /// `LOG`: forward the request unchanged and report the mismatch.
    Log,
    /// `ADD`: add the expected value as one more line of the header (other values stay).
    Add,
    /// `DELETE`: remove every line of the header.
    Delete,
    /// `REPLACE`: replace every line of the header with the expected value (add it when
    /// missing).
    Replace,
}

impl MismatchAction {
    /// The action named as in a policy (`LOG`, `ADD`, `DELETE`, `REPLACE`).
    pub fn from_name(name: &str) -> Option<MismatchAction> {
        Some(match name {
            "LOG" => MismatchAction::Log,
            "ADD" => MismatchAction::Add,
            "DELETE" => MismatchAction::Delete,
            "REPLACE" => MismatchAction::Replace,
            _ => return None,
        })
    }

    /// The policy's name of the action.
    pub fn name(self) -> &'static str {
        match self {
            MismatchAction::Log => "LOG",
            MismatchAction::Add => "ADD",
            MismatchAction::Delete => "DELETE",
            MismatchAction::Replace => "REPLACE",
        }
    }
}

/// A `headerMatches` entry that carries a mismatch action. (Entries without one are plain
/// requirements and sit in [`HttpRule::headers`].)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderMatch {
    /// Header name, lowercased.
    pub name: String,
    /// Expected value; `None`: the header only has to be present.
    pub value: Option<String>,
    /// What to do when no line of the header has the expected value (or it is missing).
    pub mismatch: MismatchAction,
}

/// One HTTP rule: every field given must match; an empty rule matches every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRule {
    /// Path regex.
    pub path: Option<AnchoredRegex>,
    /// Method regex.
    pub method: Option<AnchoredRegex>,
    /// Host regex.
    pub host: Option<AnchoredRegex>,
    /// Required headers: name (lowercased) and optional exact value. Holds `headers` and the
    /// `headerMatches` entries without a mismatch action.
    pub headers: Vec<(String, Option<String>)>,
    /// `headerMatches` entries with a mismatch action. They never make the rule fail; the
    /// HTTP proxy (`cilium-l7`) edits or logs the request when they do not match.
    pub header_matches: Vec<HeaderMatch>,
}

/// An HTTP request as the rules see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method, e.g. `GET`.
    pub method: String,
    /// Path with query, e.g. `/public?x=1`.
    pub path: String,
    /// Host header / authority.
    pub host: String,
    /// Headers (name, value).
    pub headers: Vec<(String, String)>,
}

impl HttpRule {
    /// Whether the rule allows `req`. Header matches with a mismatch action do not take part
    /// (they never deny).
    pub fn matches(&self, req: &HttpRequest) -> bool {
        self.method.as_ref().is_none_or(|r| r.is_match(&req.method))
            && self.path.as_ref().is_none_or(|r| r.is_match(&req.path))
            && self.host.as_ref().is_none_or(|r| r.is_match(&req.host))
            && self.headers.iter().all(|(name, value)| {
                req.headers.iter().any(|(n, v)| {
                    n.eq_ignore_ascii_case(name) && value.as_ref().is_none_or(|want| want == v)
                })
            })
    }
}

/// Kafka API keys by name (Kafka protocol numbers).
pub const KAFKA_API_KEYS: &[(&str, i16)] = &[
    ("produce", 0),
    ("fetch", 1),
    ("offsets", 2),
    ("metadata", 3),
    ("leaderandisr", 4),
    ("stopreplica", 5),
    ("updatemetadata", 6),
    ("controlledshutdown", 7),
    ("offsetcommit", 8),
    ("offsetfetch", 9),
    ("findcoordinator", 10),
    ("joingroup", 11),
    ("heartbeat", 12),
    ("leavegroup", 13),
    ("syncgroup", 14),
    ("describegroups", 15),
    ("listgroups", 16),
    ("saslhandshake", 17),
    ("apiversions", 18),
    ("createtopics", 19),
    ("deletetopics", 20),
    ("deleterecords", 21),
    ("initproducerid", 22),
    ("offsetforleaderepoch", 23),
    ("addpartitionstotxn", 24),
    ("addoffsetstotxn", 25),
    ("endtxn", 26),
    ("writetxnmarkers", 27),
    ("txnoffsetcommit", 28),
    ("describeacls", 29),
    ("createacls", 30),
    ("deleteacls", 31),
    ("describeconfigs", 32),
    ("alterconfigs", 33),
];

/// API keys of the `produce` role.
pub const KAFKA_PRODUCE_KEYS: &[i16] = &[0, 3, 18];
/// API keys of the `consume` role.
pub const KAFKA_CONSUME_KEYS: &[i16] = &[1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18];

/// One Kafka rule: the API keys it allows (empty: all), version, client id and topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KafkaRule {
    /// Allowed API keys; empty means every key.
    pub api_keys: BTreeSet<i16>,
    /// Allowed API version; `None` means every version.
    pub api_version: Option<i16>,
    /// Required client id.
    pub client_id: Option<String>,
    /// Required topic.
    pub topic: Option<String>,
}

/// A Kafka request as the rules see it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KafkaRequest {
    /// API key.
    pub api_key: i16,
    /// API version.
    pub api_version: i16,
    /// Client id.
    pub client_id: String,
    /// Topics the request touches.
    pub topics: Vec<String>,
}

impl KafkaRule {
    /// Whether the rule's API keys, version and client id admit `req` (its topic aside).
    pub fn admits(&self, req: &KafkaRequest) -> bool {
        (self.api_keys.is_empty() || self.api_keys.contains(&req.api_key))
            && self.api_version.is_none_or(|v| v == req.api_version)
            && self.client_id.as_ref().is_none_or(|c| *c == req.client_id)
    }

    /// Whether the rule admits `topic` (a rule without a topic admits every topic).
    pub fn covers_topic(&self, topic: &str) -> bool {
        self.topic.as_ref().is_none_or(|t| t == topic)
    }

    /// Whether this rule alone allows `req`: it admits the request, and every topic of the
    /// request is the rule's topic. A request that names no topic (ApiVersions, Heartbeat,
    /// FindCoordinator, …) is not held to the rule's topic, as in Cilium.
    pub fn matches(&self, req: &KafkaRequest) -> bool {
        self.admits(req) && req.topics.iter().all(|t| self.covers_topic(t))
    }
}

/// Whether a list of Kafka rules allows `req`, with Cilium's semantics: the rules that admit
/// the request's API key, version and client id must together cover each of its topics
/// (one rule per topic is enough); a request without topics needs one admitting rule.
pub fn kafka_rules_allow(rules: &[KafkaRule], req: &KafkaRequest) -> bool {
    let mut admitting = rules.iter().filter(|r| r.admits(req)).peekable();
    if admitting.peek().is_none() {
        return false;
    }
    let admitting: Vec<&KafkaRule> = admitting.collect();
    req.topics
        .iter()
        .all(|t| admitting.iter().any(|r| r.covers_topic(t)))
}

/// One DNS rule: names the DNS proxy forwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsRule {
    /// An exact name (lowercased FQDN with trailing dot).
    Name(String),
    /// A pattern.
    Pattern(FqdnPattern),
}

impl DnsRule {
    /// Whether `name` (any case, with or without the trailing dot) is allowed.
    pub fn matches(&self, name: &str) -> bool {
        match self {
            DnsRule::Name(n) => *n == crate::fqdn::normalize_name(name),
            DnsRule::Pattern(p) => p.matches(name),
        }
    }
}

/// The L7 rules on one port for one peer selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L7Rules {
    /// HTTP rules (any may match).
    Http(Vec<HttpRule>),
    /// Kafka rules (any may match).
    Kafka(Vec<KafkaRule>),
    /// DNS rules (any may match).
    Dns(Vec<DnsRule>),
    /// Generic rules for a named parser.
    Generic {
        /// The parser.
        proto: String,
        /// Key/value rules.
        rules: Vec<BTreeMap<String, String>>,
    },
}

impl L7Rules {
    /// The parser these rules need.
    pub fn parser(&self) -> L7Parser {
        match self {
            L7Rules::Http(_) => L7Parser::Http,
            L7Rules::Kafka(_) => L7Parser::Kafka,
            L7Rules::Dns(_) => L7Parser::Dns,
            L7Rules::Generic { proto, .. } => L7Parser::Generic(proto.clone()),
        }
    }
}

/// A request to check against L7 rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L7Request {
    /// An HTTP request.
    Http(HttpRequest),
    /// A Kafka request.
    Kafka(KafkaRequest),
    /// A DNS query name.
    Dns(String),
}

/// What the proxy holds for one selector on a redirected port: either every request is
/// allowed (the selector had no L7 rules, or they were merged with a wildcard), or the listed
/// rules decide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L7Policy {
    /// Every request passes (a wildcard L7 rule).
    AllowAll,
    /// A request passes when one rule matches.
    Rules(L7Rules),
}

impl L7Policy {
    /// Whether `req` passes. A request of another protocol than the rules' never passes.
    pub fn allows(&self, req: &L7Request) -> bool {
        match (self, req) {
            (L7Policy::AllowAll, _) => true,
            (L7Policy::Rules(L7Rules::Http(rules)), L7Request::Http(r)) => {
                rules.iter().any(|rule| rule.matches(r))
            }
            (L7Policy::Rules(L7Rules::Kafka(rules)), L7Request::Kafka(r)) => {
                kafka_rules_allow(rules, r)
            }
            (L7Policy::Rules(L7Rules::Dns(rules)), L7Request::Dns(name)) => {
                rules.iter().any(|rule| rule.matches(name))
            }
            _ => false,
        }
    }

    /// Merges two policies for the same selector: a wildcard absorbs rules; rules of the same
    /// parser are concatenated. `None` when the parsers differ.
    pub fn merge(self, other: L7Policy) -> Option<L7Policy> {
        Some(match (self, other) {
            (L7Policy::AllowAll, _) | (_, L7Policy::AllowAll) => L7Policy::AllowAll,
            (L7Policy::Rules(a), L7Policy::Rules(b)) => L7Policy::Rules(match (a, b) {
                (L7Rules::Http(mut a), L7Rules::Http(b)) => {
                    a.extend(b);
                    L7Rules::Http(a)
                }
                (L7Rules::Kafka(mut a), L7Rules::Kafka(b)) => {
                    a.extend(b);
                    L7Rules::Kafka(a)
                }
                (L7Rules::Dns(mut a), L7Rules::Dns(b)) => {
                    a.extend(b);
                    L7Rules::Dns(a)
                }
                (
                    L7Rules::Generic {
                        proto,
                        rules: mut a,
                    },
                    L7Rules::Generic {
                        proto: p2,
                        rules: b,
                    },
                ) if proto == p2 => {
                    a.extend(b);
                    L7Rules::Generic { proto, rules: a }
                }
                _ => return None,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_rules_are_anchored_and_all_fields_must_match() {
        let rule = HttpRule {
            method: Some(AnchoredRegex::new("GET").unwrap()),
            path: Some(AnchoredRegex::new("/").unwrap()),
            ..HttpRule::default()
        };
        let req = |m: &str, p: &str| HttpRequest {
            method: m.into(),
            path: p.into(),
            ..HttpRequest::default()
        };
        assert!(rule.matches(&req("GET", "/")));
        assert!(!rule.matches(&req("POST", "/")));
        assert!(!rule.matches(&req("GET", "/foo")));
        assert!(HttpRule::default().matches(&req("DELETE", "/x")));
    }

    #[test]
    fn kafka_rule_checks_keys_and_topics() {
        let rule = KafkaRule {
            api_keys: KAFKA_PRODUCE_KEYS.iter().copied().collect(),
            topic: Some("plans".into()),
            ..KafkaRule::default()
        };
        let req = |k, t: &str| KafkaRequest {
            api_key: k,
            topics: vec![t.into()],
            ..KafkaRequest::default()
        };
        assert!(rule.matches(&req(0, "plans")));
        assert!(!rule.matches(&req(1, "plans")));
        assert!(!rule.matches(&req(0, "other")));
        // No topic named (ApiVersions is in the produce role): the rule's topic does not apply.
        let api_versions = KafkaRequest {
            api_key: 18,
            ..KafkaRequest::default()
        };
        assert!(rule.matches(&api_versions));
        assert!(!rule.matches(&KafkaRequest {
            api_key: 12, // Heartbeat: not in the produce role
            ..KafkaRequest::default()
        }));
    }

    #[test]
    fn kafka_rules_together_cover_the_topics_of_one_request() {
        let produce = |topic: &str| KafkaRule {
            api_keys: KAFKA_PRODUCE_KEYS.iter().copied().collect(),
            topic: Some(topic.into()),
            ..KafkaRule::default()
        };
        let rules = vec![produce("a"), produce("b")];
        let req = |topics: &[&str]| KafkaRequest {
            api_key: 0,
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            ..KafkaRequest::default()
        };
        assert!(kafka_rules_allow(&rules, &req(&["a", "b"])));
        assert!(!kafka_rules_allow(&rules, &req(&["a", "c"])));
        assert!(kafka_rules_allow(&rules, &req(&[])));
        assert!(!kafka_rules_allow(&[], &req(&[])));
        let policy = L7Policy::Rules(L7Rules::Kafka(rules));
        assert!(policy.allows(&L7Request::Kafka(req(&["b", "a"]))));
    }

    #[test]
    fn wildcard_absorbs_rules_and_parsers_must_agree() {
        let http = L7Policy::Rules(L7Rules::Http(vec![HttpRule::default()]));
        assert_eq!(
            http.clone().merge(L7Policy::AllowAll),
            Some(L7Policy::AllowAll)
        );
        assert_eq!(http.merge(L7Policy::Rules(L7Rules::Kafka(vec![]))), None);
    }
}
