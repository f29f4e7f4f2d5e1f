//! The network policy engine of the cilium-rs family: CiliumNetworkPolicy,
//! CiliumClusterwideNetworkPolicy and Kubernetes NetworkPolicy in, per-endpoint map state out.
//!
//! - [`api`] parses YAML/JSON policy objects, refusing unknown fields, with errors that name
//!   the document and the field path.
//! - [`compile`](mod@compile) validates them and builds the engine's [`Rule`]s (namespace scoping,
//!   entities, CIDR sets with exceptions, ports and ranges, named ports, ICMP, L7 rules,
//!   deny rules, `enableDefaultDeny`).
//! - [`SelectorCache`] keeps, for every selector, the identities it selects, updated from
//!   identity events.
//! - [`PolicyEngine`] holds the rules by source and resolves an endpoint's
//!   [`EndpointPolicy`]: enforcement per direction, the L4/L7 filters and the [`MapState`]
//!   with Cilium's semantics (deny wins and is pushed down below allows the datapath would
//!   look up first; one L7 parser per port; L4-only allows make a port's L7 rules wildcard).
//!   [`PolicyEngine::update_identity`] recomputes only one identity's entries and returns the
//!   delta.
//! - [`trace`] explains a verdict for a source and destination, naming the rules, for both the
//!   source's egress and the destination's ingress, down to an HTTP request or DNS name.
//! - [`matrix`] computes a reachability matrix over a model cluster (the Kubernetes e2e
//!   truth-table format).
//!
//! What it is not: it does no I/O and does not depend on `cilium-maps`; `cilium-datapath`
//! converts [`MapState`] keys into the kernel's policy-map entries, and `cilium-identity`
//! allocates the identities whose events feed the cache.
//!
//! ```
//! use cilium_core::{LabelSet, NumericIdentity};
//! use cilium_policy::{Direction, EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};
//!
//! let mut engine = PolicyEngine::new(EngineConfig::default());
//! engine.load_text("demo.yaml", r#"
//! apiVersion: cilium.io/v2
//! kind: CiliumNetworkPolicy
//! metadata: {name: web, namespace: shop}
//! spec:
//!   endpointSelector: {matchLabels: {app: web}}
//!   ingress:
//!   - fromEndpoints: [{matchLabels: {app: client}}]
//!     toPorts: [{ports: [{port: "80", protocol: TCP}]}]
//! "#)?;
//! let ns = "k8s:io.kubernetes.pod.namespace=shop";
//! let web = LabelSet::parse_list(&["k8s:app=web", ns]);
//! let client = LabelSet::parse_list(&["k8s:app=client", ns]);
//! engine.upsert_identity(NumericIdentity::new(1000), web.clone());
//! engine.upsert_identity(NumericIdentity::new(1001), client);
//! let ep = EndpointInfo::new(NumericIdentity::new(1000), web);
//! let policy = engine.resolve(&ep, &NamedPortTable::new())?;
//! let tcp = 6;
//! assert!(policy.map_state.lookup(Direction::Ingress, NumericIdentity::new(1001), tcp, 80).allowed());
//! assert!(!policy.map_state.lookup(Direction::Ingress, NumericIdentity::new(1001), tcp, 81).allowed());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod api;
pub mod compile;
pub mod engine;
pub mod fqdn;
pub mod l7;
pub mod mapstate;
pub mod matrix;
pub mod offline;
pub mod rule;
pub mod selector;
pub mod selector_cache;
pub mod trace;

pub use api::{PolicyError, PolicyErrors, PolicyObject};
pub use compile::{CompileOptions, compile, compile_text};
pub use engine::{
    EndpointInfo, EndpointPolicy, EnforcementMode, EngineConfig, NamedPortTable, NamedPorts,
    PolicyEngine, ResolveError,
};
pub use mapstate::{Entry, Key, MapState, MapStateDelta, Verdict};
pub use rule::{Direction, Rule};
pub use selector::Selector;
pub use selector_cache::SelectorCache;

/// This crate's README example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct CrateReadmeDoctests;
