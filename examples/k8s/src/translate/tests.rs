use super::*;
use cilium_policy::api::{CiliumKind, PolicyObject};
use serde_json::{Value, json};

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn opts() -> CompileOptions {
    CompileOptions::default()
}

fn cnp(name: &str, body: Value) -> CiliumNetworkPolicy {
    let mut doc = json!({"metadata": {"name": name, "namespace": "shop"}});
    doc.as_object_mut()
        .unwrap()
        .extend(body.as_object().unwrap().clone());
    from(doc)
}

fn invalid_error(change: Change) -> String {
    match change {
        Change::PolicyInvalid { error, .. } => error,
        other => panic!("expected PolicyInvalid, got {other:?}"),
    }
}

#[test]
fn valid_cilium_network_policy_with_spec_and_specs() {
    let p = cnp(
        "web",
        json!({
            "spec": {"endpointSelector": {"matchLabels": {"app": "web"}},
                     "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "client"}}]}]},
            "specs": [{"endpointSelector": {"matchLabels": {"app": "db"}},
                       "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "web"}}]}]}],
        }),
    );
    let Change::Policy { source, objects } = cilium_network_policy(&p, &opts()) else {
        panic!("not a policy");
    };
    assert_eq!(source, "k8s/CiliumNetworkPolicy/shop/web");
    let [
        PolicyObject::Cilium {
            kind,
            meta,
            spec,
            specs,
        },
    ] = objects.as_slice()
    else {
        panic!("{objects:?}");
    };
    assert_eq!(*kind, CiliumKind::CiliumNetworkPolicy);
    assert_eq!(
        (meta.name.as_str(), meta.namespace.as_deref()),
        ("web", Some("shop"))
    );
    assert!(spec.is_some());
    assert_eq!(specs.len(), 1);
}

#[test]
fn parse_errors_name_the_object_and_the_field() {
    let p = cnp(
        "typo",
        json!({"spec": {"endpointSelector": {}, "ingress": [{"fromEndpoint": [{}]}]}}),
    );
    let error = invalid_error(cilium_network_policy(&p, &opts()));
    assert!(
        error.starts_with("CiliumNetworkPolicy shop/typo: .spec.ingress[0]"),
        "{error}"
    );
    assert!(error.contains("fromEndpoint"), "{error}");

    let p = cnp("empty", json!({}));
    assert_eq!(
        invalid_error(cilium_network_policy(&p, &opts())),
        "CiliumNetworkPolicy shop/empty: .spec: one of spec or specs is required"
    );
}

#[test]
fn validation_errors_name_the_object_and_the_field() {
    let p = cnp(
        "port",
        json!({"spec": {"endpointSelector": {},
                        "ingress": [{"toPorts": [{"ports": [{"port": "http-x-too-long-name", "protocol": "TCP"}]}]}]}}),
    );
    let error = invalid_error(cilium_network_policy(&p, &opts()));
    assert!(
        error.starts_with(
            "CiliumNetworkPolicy shop/port: .spec.ingress[0].toPorts[0].ports[0].port"
        ),
        "{error}"
    );
}

#[test]
fn clusterwide_and_kubernetes_policies() {
    let ccnp: CiliumClusterwideNetworkPolicy = from(json!({
        "metadata": {"name": "all"},
        "specs": [{"endpointSelector": {}, "egress": [{"toEntities": ["cluster"]}]}],
    }));
    match cilium_clusterwide_network_policy(&ccnp, &opts()) {
        Change::Policy { source, objects } => {
            assert_eq!(source, "k8s/CiliumClusterwideNetworkPolicy/all");
            assert_eq!(objects[0].describe(), "CiliumClusterwideNetworkPolicy all");
        }
        other => panic!("{other:?}"),
    }
    // A clusterwide policy has no namespace.
    let bad: CiliumClusterwideNetworkPolicy = from(json!({
        "metadata": {"name": "ns", "namespace": "shop"},
        "spec": {"endpointSelector": {}},
    }));
    assert_eq!(
        invalid_error(cilium_clusterwide_network_policy(&bad, &opts())),
        "CiliumClusterwideNetworkPolicy ns: .metadata.namespace: a clusterwide policy has no namespace"
    );

    let np: NetworkPolicy = from(json!({
        "metadata": {"name": "allow", "namespace": "shop"},
        "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                 "ingress": [{"ports": [{"port": 80}]}]},
    }));
    match network_policy(&np, &opts()) {
        Change::Policy { source, objects } => {
            assert_eq!(source, "k8s/NetworkPolicy/shop/allow");
            assert!(matches!(objects[0], PolicyObject::Kubernetes(_)));
        }
        other => panic!("{other:?}"),
    }
    let np: NetworkPolicy = from(json!({
        "metadata": {"name": "cidr", "namespace": "shop"},
        "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]},
    }));
    let error = invalid_error(network_policy(&np, &opts()));
    assert!(
        error.starts_with("NetworkPolicy shop/cidr: .spec.ingress[0].from[0].ipBlock.cidr"),
        "{error}"
    );
}

#[test]
fn pod_labels_follow_cilium() {
    let pod = BTreeMap::from([
        ("app".to_owned(), "web".to_owned()),
        // Replaced by the real namespace, as in Cilium.
        (
            "io.kubernetes.pod.namespace".to_owned(),
            "spoofed".to_owned(),
        ),
    ]);
    let ns = BTreeMap::from([
        ("team".to_owned(), "a".to_owned()),
        ("kubernetes.io/metadata.name".to_owned(), "shop".to_owned()),
    ]);
    let labels = pod_labels("shop", &pod, &ns, Some(""), "c1");
    assert_eq!(
        labels.to_strings(),
        [
            "k8s:app=web",
            "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop",
            "k8s:io.cilium.k8s.namespace.labels.team=a",
            "k8s:io.cilium.k8s.policy.cluster=c1",
            "k8s:io.kubernetes.pod.namespace=shop",
        ]
    );
}

#[test]
fn pod_views() {
    let pod: Pod = from(json!({
        "metadata": {"name": "web-1", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {"containers": [], "serviceAccountName": "web-sa", "nodeName": "node-a"},
        "status": {"podIP": "10.0.1.5", "phase": "Running"},
    }));
    let view = PodView::of(&pod).unwrap();
    assert_eq!(view.ip.as_deref(), Some("10.0.1.5"));
    assert_eq!(view.node.as_deref(), Some("node-a"));
    assert_eq!(view.service_account.as_deref(), Some("web-sa"));
    let Change::Pod { labels, .. } = view.change("shop", "web-1", &BTreeMap::new(), "default")
    else {
        panic!()
    };
    assert_eq!(
        labels.get(SERVICE_ACCOUNT_LABEL).map(|l| l.value()),
        Some("web-sa")
    );

    let done: Pod = from(json!({
        "metadata": {"name": "job", "namespace": "shop"},
        "spec": {"containers": []},
        "status": {"podIP": "10.0.1.9", "phase": "Succeeded"},
    }));
    assert_eq!(PodView::of(&done).unwrap().ip, None);

    let host: Pod = from(json!({
        "metadata": {"name": "agent", "namespace": "kube-system"},
        "spec": {"containers": [], "hostNetwork": true},
        "status": {"podIP": "192.168.1.10"},
    }));
    assert_eq!(PodView::of(&host), None);
}

#[test]
fn services_and_their_errors() {
    let svc: Service = from(json!({
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80}]},
    }));
    let slice: EndpointSlice = from(json!({
        "metadata": {"name": "web-abc", "namespace": "shop",
                     "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.0.1.5"]}],
        "ports": [{"name": "http", "port": 8080}],
    }));
    let node = NodeContext::new("node-a", []);
    match services(&svc, std::slice::from_ref(&slice), &node) {
        Change::Services { key, services } => {
            assert_eq!(key, "shop/web");
            assert_eq!(services.len(), 1);
            assert_eq!(services[0].backends[0].to_string(), "10.0.1.5:8080/TCP");
        }
        other => panic!("{other:?}"),
    }
    let bad: EndpointSlice = from(json!({
        "metadata": {"name": "web-bad", "namespace": "shop",
                     "labels": {"kubernetes.io/service-name": "web"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["not-an-ip"]}],
        "ports": [{"name": "http", "port": 8080}],
    }));
    match services(&svc, &[slice, bad], &node) {
        Change::ServicesInvalid { key, error } => {
            assert_eq!(key, "shop/web");
            assert!(
                error.starts_with(
                    "Service shop/web: endpointslice shop/web-bad: endpoints[0].addresses[0]"
                ),
                "{error}"
            );
        }
        other => panic!("{other:?}"),
    }
}
