//! Offline evaluation (`bpf policy get` without a cluster): a set of rules, a table of
//! identities and a subject in, the subject's map state out.
//!
//! The input format is that of Cilium's distillery cases: rules are CiliumNetworkPolicy
//! `spec` fragments (named in a library or written inline), identities are named label sets.

use std::collections::BTreeMap;

use cilium_core::{LabelSet, NumericIdentity};
use serde::{Deserialize, Serialize};

use crate::api::spec::RuleSpec;
use crate::api::{CiliumKind, ObjectRef, PolicyErrors, PolicyObject};
use crate::engine::{
    EndpointInfo, EndpointPolicy, EnforcementMode, EngineConfig, NamedPortTable, PolicyEngine,
    ResolveError,
};
use crate::rule::Direction;

/// A named identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitySpec {
    /// Numeric identity.
    pub id: u32,
    /// Labels (`source:key=value`).
    pub labels: Vec<String>,
}

/// A rule: a name in the library or an inline spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RuleRef {
    /// A library name.
    Name(String),
    /// An inline rule.
    Inline(Box<RuleSpec>),
}

/// One case: the rules in force and the subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSpec {
    /// Rules (order does not matter).
    pub rules: Vec<RuleRef>,
    /// The subject: an identity name, optionally followed by a description.
    #[serde(default)]
    pub subject: Option<String>,
    /// `default`, `always` or `never`.
    #[serde(default)]
    pub mode: Option<String>,
}

/// The whole input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MapStateInput {
    /// Named rules.
    #[serde(default)]
    pub rule_library: BTreeMap<String, RuleSpec>,
    /// Named identities.
    pub identities: BTreeMap<String, IdentitySpec>,
    /// The case.
    pub case: CaseSpec,
}

/// One printed map-state entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MapStateRow {
    /// The identity's name in the input, `any` for 0.
    pub peer: String,
    /// Remote identity.
    pub identity: u32,
    /// Protocol number (0 any).
    pub proto: u8,
    /// Port (0 any).
    pub dport: u16,
    /// `ingress` or `egress`.
    pub direction: String,
    /// `allow`, `deny` or `redirect`.
    pub action: String,
}

/// Why an offline case cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfflineError {
    /// A rule name not in the library.
    #[error("rules[{index}]: {name:?} is not in rule_library")]
    UnknownRule {
        /// Index in `case.rules`.
        index: usize,
        /// The name.
        name: String,
    },
    /// The subject is not a known identity name.
    #[error("case.subject: {0:?} does not name an identity")]
    UnknownSubject(String),
    /// Mode is not default, always or never.
    #[error("case.mode: {0:?} is not default, always or never")]
    UnknownMode(String),
    /// Invalid rules.
    #[error("invalid rules:\n{0}")]
    Invalid(PolicyErrors),
    /// Conflicting rules.
    #[error(transparent)]
    Resolve(ResolveError),
}

impl MapStateInput {
    /// Builds an engine holding the case's rules and identities, and resolves the subject.
    ///
    /// # Errors
    ///
    /// [`OfflineError`].
    pub fn evaluate(
        &self,
        subject: Option<&str>,
    ) -> Result<(PolicyEngine, EndpointPolicy), OfflineError> {
        let mode = match self.case.mode.as_deref() {
            None | Some("default") => EnforcementMode::Default,
            Some("always") => EnforcementMode::Always,
            Some("never") => EnforcementMode::Never,
            Some(other) => return Err(OfflineError::UnknownMode(other.into())),
        };
        let mut engine = PolicyEngine::new(EngineConfig {
            mode,
            ..EngineConfig::default()
        });
        let mut objects = Vec::new();
        for (index, r) in self.case.rules.iter().enumerate() {
            let spec = match r {
                RuleRef::Name(name) => self.rule_library.get(name).cloned().ok_or_else(|| {
                    OfflineError::UnknownRule {
                        index,
                        name: name.clone(),
                    }
                })?,
                RuleRef::Inline(spec) => (**spec).clone(),
            };
            let name = match r {
                RuleRef::Name(n) => format!("{n}#{index}"),
                RuleRef::Inline(_) => format!("rules[{index}]"),
            };
            objects.push(PolicyObject::Cilium {
                kind: CiliumKind::CiliumClusterwideNetworkPolicy,
                meta: ObjectRef {
                    name,
                    namespace: None,
                },
                spec: Some(Box::new(spec)),
                specs: Vec::new(),
            });
        }
        engine
            .load_objects("case", &objects)
            .map_err(OfflineError::Invalid)?;
        for spec in self.identities.values() {
            engine.upsert_identity(
                NumericIdentity::new(spec.id),
                LabelSet::parse_list(&spec.labels),
            );
        }
        let subject = subject
            .or(self.case.subject.as_deref())
            .and_then(|s| s.split_whitespace().next())
            .unwrap_or("");
        let spec = self
            .identities
            .get(subject)
            .ok_or_else(|| OfflineError::UnknownSubject(subject.into()))?;
        let ep = EndpointInfo::new(
            NumericIdentity::new(spec.id),
            LabelSet::parse_list(&spec.labels),
        );
        let policy = engine
            .resolve(&ep, &NamedPortTable::new())
            .map_err(OfflineError::Resolve)?;
        Ok((engine, policy))
    }

    /// The subject's map state for `direction` as rows.
    ///
    /// # Errors
    ///
    /// [`OfflineError`].
    pub fn map_state_rows(&self, direction: Direction) -> Result<Vec<MapStateRow>, OfflineError> {
        let (_, policy) = self.evaluate(None)?;
        let names: BTreeMap<u32, &str> = self
            .identities
            .iter()
            .map(|(n, s)| (s.id, n.as_str()))
            .collect();
        Ok(policy
            .map_state
            .direction(direction)
            .map(|(k, e)| MapStateRow {
                peer: match k.identity.as_u32() {
                    0 => "any".into(),
                    id => names
                        .get(&id)
                        .map_or_else(|| id.to_string(), |n| (*n).to_owned()),
                },
                identity: k.identity.as_u32(),
                proto: k.protocol,
                dport: if k.port.prefix_len() == 0 {
                    0
                } else {
                    k.port.port()
                },
                direction: direction.as_str().into(),
                action: e.action().into(),
            })
            .collect())
    }
}
