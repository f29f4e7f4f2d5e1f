//! Incremental updates: adding, relabeling or removing an identity changes only that
//! identity's entries, and the result equals a full recomputation.

use cilium_core::{LabelSet, NumericIdentity};
use cilium_policy::{Direction, EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};

const RULES: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: db}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {tier: backend}}]
    toPorts: [{ports: [{port: "5432", protocol: TCP}]}]
  - toPorts: [{ports: [{port: "9100", protocol: TCP}]}]
  ingressDeny:
  - fromEndpoints: [{matchLabels: {quarantine: "true"}}]
"#;

#[test]
fn identity_events_yield_only_their_delta() {
    let mut engine = PolicyEngine::new(EngineConfig::default());
    engine.load_text("db.yaml", RULES).unwrap();
    let db = LabelSet::parse_list(&["k8s:app=db"]);
    engine.upsert_identity(NumericIdentity::new(500), db.clone());
    for i in 0..50 {
        engine.upsert_identity(
            NumericIdentity::new(1000 + i),
            LabelSet::parse_list(&[&"k8s:tier=backend".to_string(), &format!("k8s:n={i}")]),
        );
    }
    let ep = EndpointInfo::new(NumericIdentity::new(500), db);
    let ports = NamedPortTable::new();
    let mut policy = engine.resolve(&ep, &ports).unwrap();
    let before = policy.map_state.len();

    // A new backend: one entry added, nothing else touched.
    let new = NumericIdentity::new(2000);
    engine.upsert_identity(new, LabelSet::parse_list(&["k8s:tier=backend"]));
    let delta = engine.update_identity(&mut policy, new, &ports);
    assert_eq!(delta.removals, vec![]);
    assert_eq!(delta.upserts.len(), 1, "{delta:?}");
    assert_eq!(delta.upserts[0].0.identity, new);
    assert_eq!(policy.map_state.len(), before + 1);
    assert_eq!(
        policy.map_state,
        engine.resolve(&ep, &ports).unwrap().map_state
    );

    // Quarantined: its allow becomes a deny of every port, pushed below the L4-only 9100 allow.
    engine.upsert_identity(
        new,
        LabelSet::parse_list(&["k8s:tier=backend", "k8s:quarantine=true"]),
    );
    let delta = engine.update_identity(&mut policy, new, &ports);
    assert!(
        delta
            .upserts
            .iter()
            .all(|(k, e)| k.identity == new && e.is_deny()),
        "{delta:?}"
    );
    assert!(
        !policy
            .map_state
            .lookup(Direction::Ingress, new, 6, 9100)
            .allowed()
    );
    assert!(
        !policy
            .map_state
            .lookup(Direction::Ingress, new, 6, 5432)
            .allowed()
    );
    assert_eq!(
        policy.map_state,
        engine.resolve(&ep, &ports).unwrap().map_state
    );

    // Removed: its entries go, nothing else.
    engine.remove_identity(new);
    let delta = engine.update_identity(&mut policy, new, &ports);
    assert!(delta.upserts.is_empty());
    assert!(!delta.removals.is_empty() && delta.removals.iter().all(|k| k.identity == new));
    assert_eq!(policy.map_state.len(), before);
    assert_eq!(
        policy.map_state,
        engine.resolve(&ep, &ports).unwrap().map_state
    );
}

/// toFQDNs selects the identities the DNS proxy labels `fqdn:<sanitized pattern>`: here a
/// test double gives one such identity after a lookup.
#[test]
fn to_fqdns_selects_identities_the_dns_proxy_labels() {
    let mut engine = PolicyEngine::new(EngineConfig::default());
    engine
        .load_text(
            "fqdn.yaml",
            r#"
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: to-cilium-io}
spec:
  endpointSelector: {matchLabels: {app: bot}}
  egress:
  - toFQDNs: [{matchPattern: "*.cilium.io"}]
    toPorts: [{ports: [{port: "443", protocol: TCP}]}]
"#,
        )
        .unwrap();
    let bot = LabelSet::parse_list(&["k8s:app=bot"]);
    engine.upsert_identity(NumericIdentity::new(700), bot.clone());
    let ep = EndpointInfo::new(NumericIdentity::new(700), bot);
    let ports = NamedPortTable::new();
    let mut policy = engine.resolve(&ep, &ports).unwrap();
    let learned = NumericIdentity::new(0x0100_0010);
    assert!(
        !policy
            .map_state
            .lookup(Direction::Egress, learned, 6, 443)
            .allowed()
    );
    // The DNS proxy saw docs.cilium.io resolve and gave the address an identity.
    engine.upsert_identity(
        learned,
        LabelSet::parse_list(&[
            "fqdn:*.cilium.io.",
            "cidr:104.198.14.52/32",
            "reserved:world",
        ]),
    );
    let delta = engine.update_identity(&mut policy, learned, &ports);
    assert_eq!(delta.upserts.len(), 1);
    assert!(
        policy
            .map_state
            .lookup(Direction::Egress, learned, 6, 443)
            .allowed()
    );
    assert!(
        !policy
            .map_state
            .lookup(Direction::Egress, learned, 6, 80)
            .allowed()
    );
    let other = NumericIdentity::new(0x0100_0011);
    engine.upsert_identity(
        other,
        LabelSet::parse_list(&["fqdn:example.com.", "reserved:world"]),
    );
    assert!(
        engine
            .update_identity(&mut policy, other, &ports)
            .is_empty()
    );
}
