use super::*;
use crate::crd::{CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy};
use cilium_lb::BackendState;
use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde_json::{Value, json};
use watcher::Event as E;

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn ns_object(name: &str, labels: Value) -> Namespace {
    from(json!({"metadata": {"name": name, "labels": labels}}))
}

fn pod(ns: &str, name: &str, app: &str, ip: &str) -> Pod {
    from(json!({
        "metadata": {"name": name, "namespace": ns, "labels": {"app": app}},
        "spec": {"containers": [], "nodeName": "node-a"},
        "status": {"podIP": ip, "phase": "Running"},
    }))
}

fn service(name: &str) -> Service {
    from(json!({
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"clusterIP": "10.96.0.10", "ports": [{"name": "http", "port": 80}]},
    }))
}

fn slice(name: &str, service: &str, addrs: &[&str]) -> EndpointSlice {
    let endpoints: Vec<Value> = addrs.iter().map(|a| json!({"addresses": [a]})).collect();
    from(json!({
        "metadata": {"name": name, "namespace": "shop",
                     "labels": {"kubernetes.io/service-name": service}},
        "addressType": "IPv4",
        "endpoints": endpoints,
        "ports": [{"name": "http", "port": 8080}],
    }))
}

fn cnp(name: &str, app: Value) -> CiliumNetworkPolicy {
    from(json!({
        "metadata": {"name": name, "namespace": "shop"},
        "spec": {"endpointSelector": {"matchLabels": {"app": app}}},
    }))
}

/// Every kind's `Init` and `InitDone` except `except`'s.
fn list_all_but(cache: &mut Cache, except: &[Kind]) -> Vec<Change> {
    let mut out = Vec::new();
    for kind in Kind::ALL {
        if except.contains(&kind) {
            continue;
        }
        for e in [init(kind), done(kind)] {
            out.extend(cache.apply(e));
        }
    }
    out
}

fn init(kind: Kind) -> Event {
    match kind {
        Kind::Pod => Event::Pod(E::Init),
        Kind::Namespace => Event::Namespace(E::Init),
        Kind::Service => Event::Service(E::Init),
        Kind::EndpointSlice => Event::EndpointSlice(E::Init),
        Kind::NetworkPolicy => Event::NetworkPolicy(E::Init),
        Kind::CiliumNetworkPolicy => Event::CiliumNetworkPolicy(E::Init),
        Kind::CiliumClusterwideNetworkPolicy => Event::CiliumClusterwideNetworkPolicy(E::Init),
    }
}

fn done(kind: Kind) -> Event {
    match kind {
        Kind::Pod => Event::Pod(E::InitDone),
        Kind::Namespace => Event::Namespace(E::InitDone),
        Kind::Service => Event::Service(E::InitDone),
        Kind::EndpointSlice => Event::EndpointSlice(E::InitDone),
        Kind::NetworkPolicy => Event::NetworkPolicy(E::InitDone),
        Kind::CiliumNetworkPolicy => Event::CiliumNetworkPolicy(E::InitDone),
        Kind::CiliumClusterwideNetworkPolicy => Event::CiliumClusterwideNetworkPolicy(E::InitDone),
    }
}

fn cache() -> Cache {
    Cache::new(Config::new(Some("node-a".into())))
}

fn synced_cache() -> Cache {
    let mut c = cache();
    assert_eq!(list_all_but(&mut c, &[]), [Change::Synced]);
    c
}

fn pod_label(change: &Change, key: &str) -> Option<String> {
    match change {
        Change::Pod { labels, .. } => labels.get(key).map(|l| l.value().to_owned()),
        _ => None,
    }
}

#[test]
fn synced_once_after_every_kind_listed() {
    let mut c = cache();
    assert_eq!(list_all_but(&mut c, &[Kind::CiliumNetworkPolicy]), []);
    assert!(!c.is_synced());
    assert_eq!(c.apply(init(Kind::CiliumNetworkPolicy)), []);
    assert_eq!(c.apply(done(Kind::CiliumNetworkPolicy)), [Change::Synced]);
    assert!(c.is_synced());
    // A relist of every kind does not send it again.
    assert_eq!(list_all_but(&mut c, &[]), []);
}

#[test]
fn pods_wait_for_their_namespace_and_follow_its_labels() {
    let mut c = synced_cache();
    assert_eq!(
        c.apply(Event::Pod(E::Apply(pod(
            "shop", "web-1", "web", "10.0.1.5"
        )))),
        []
    );
    assert_eq!(
        c.apply(Event::Pod(E::Apply(pod("shop", "db-1", "db", "10.0.1.6")))),
        []
    );
    let out = c.apply(Event::Namespace(E::Apply(ns_object(
        "shop",
        json!({"team": "a"}),
    ))));
    assert_eq!(out.len(), 2, "{out:?}");
    let Change::Pod {
        namespace,
        name,
        labels,
        ip,
        node,
    } = &out[1]
    else {
        panic!("{out:?}");
    };
    assert_eq!(
        (
            namespace.as_str(),
            name.as_str(),
            ip.as_deref(),
            node.as_deref()
        ),
        ("shop", "web-1", Some("10.0.1.5"), Some("node-a"))
    );
    assert_eq!(
        labels.sorted_list(),
        "k8s:app=web;k8s:io.cilium.k8s.namespace.labels.team=a;\
         k8s:io.cilium.k8s.policy.cluster=default;k8s:io.kubernetes.pod.namespace=shop;"
    );
    // Same labels again (a resync, an annotation): nothing.
    assert_eq!(
        c.apply(Event::Namespace(E::Apply(ns_object(
            "shop",
            json!({"team": "a"})
        )))),
        []
    );
    // New labels: every pod of the namespace again.
    let out = c.apply(Event::Namespace(E::Apply(ns_object(
        "shop",
        json!({"team": "b"}),
    ))));
    assert_eq!(out.len(), 2);
    for change in &out {
        assert_eq!(
            pod_label(change, "io.cilium.k8s.namespace.labels.team").as_deref(),
            Some("b")
        );
    }
    // A pod update that changes nothing the agent sees: nothing.
    let mut same = pod("shop", "web-1", "web", "10.0.1.5");
    same.metadata.annotations = Some([("x".into(), "y".into())].into());
    assert_eq!(c.apply(Event::Pod(E::Apply(same))), []);
    // Delete.
    assert_eq!(
        c.apply(Event::Pod(E::Delete(pod("shop", "db-1", "db", "10.0.1.6")))),
        [Change::PodDeleted {
            namespace: "shop".into(),
            name: "db-1".into()
        }]
    );
    // Deleting what was never sent sends nothing.
    assert_eq!(
        c.apply(Event::Pod(E::Delete(pod("other", "x", "x", "10.0.9.9")))),
        []
    );
}

#[test]
fn host_network_pods_are_not_sent() {
    let mut c = synced_cache();
    c.apply(Event::Namespace(E::Apply(ns_object(
        "kube-system",
        json!({}),
    ))));
    let mut p = pod("kube-system", "agent", "cilium", "192.168.1.10");
    p.spec.as_mut().unwrap().host_network = Some(true);
    assert_eq!(c.apply(Event::Pod(E::Apply(p))), []);
}

#[test]
fn relist_deletes_what_vanished_and_repeats_nothing() {
    let mut c = cache();
    let mut out = Vec::new();
    out.extend(c.apply(Event::Namespace(E::Init)));
    out.extend(c.apply(Event::Namespace(E::InitApply(ns_object("shop", json!({}))))));
    out.extend(c.apply(Event::Namespace(E::InitDone)));
    out.extend(c.apply(Event::Pod(E::Init)));
    for (name, ip) in [("a", "10.0.1.1"), ("b", "10.0.1.2")] {
        out.extend(c.apply(Event::Pod(E::InitApply(pod("shop", name, name, ip)))));
    }
    out.extend(c.apply(Event::Pod(E::InitDone)));
    out.extend(c.apply(Event::CiliumNetworkPolicy(E::Init)));
    for name in ["p1", "p2"] {
        out.extend(c.apply(Event::CiliumNetworkPolicy(E::InitApply(cnp(
            name,
            json!("web"),
        )))));
    }
    out.extend(c.apply(Event::CiliumNetworkPolicy(E::InitDone)));
    assert_eq!(out.len(), 4, "{out:?}");

    // Relist: pod b and policy p2 vanished, pod a and p1 unchanged.
    assert_eq!(c.apply(Event::Pod(E::Init)), []);
    assert_eq!(
        c.apply(Event::Pod(E::InitApply(pod("shop", "a", "a", "10.0.1.1")))),
        []
    );
    assert_eq!(
        c.apply(Event::Pod(E::InitDone)),
        [Change::PodDeleted {
            namespace: "shop".into(),
            name: "b".into()
        }]
    );
    assert_eq!(c.apply(Event::CiliumNetworkPolicy(E::Init)), []);
    assert_eq!(
        c.apply(Event::CiliumNetworkPolicy(E::InitApply(cnp(
            "p1",
            json!("web")
        )))),
        []
    );
    assert_eq!(
        c.apply(Event::CiliumNetworkPolicy(E::InitDone)),
        [Change::PolicyDeleted {
            source: "k8s/CiliumNetworkPolicy/shop/p2".into()
        }]
    );
    // An interrupted listing (Init, Init again) only counts the second one.
    c.apply(Event::Pod(E::Init));
    c.apply(Event::Pod(E::InitApply(pod("shop", "a", "a", "10.0.1.1"))));
    c.apply(Event::Pod(E::Init));
    assert_eq!(
        c.apply(Event::Pod(E::InitDone)),
        [Change::PodDeleted {
            namespace: "shop".into(),
            name: "a".into()
        }]
    );
}

#[test]
fn services_wait_for_endpoint_slices_then_follow_them() {
    let mut c = cache();
    assert_eq!(c.apply(Event::Service(E::Init)), []);
    assert_eq!(c.apply(Event::Service(E::InitApply(service("web")))), []);
    assert_eq!(c.apply(Event::Service(E::InitDone)), []);
    assert_eq!(c.apply(Event::EndpointSlice(E::Init)), []);
    assert_eq!(
        c.apply(Event::EndpointSlice(E::InitApply(slice(
            "web-a",
            "web",
            &["10.0.1.5"]
        )))),
        []
    );
    let out = c.apply(Event::EndpointSlice(E::InitDone));
    let [Change::Services { key, services }] = out.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!(key, "shop/web");
    assert_eq!(services[0].backends.len(), 1);

    // A second slice adds backends.
    let out = c.apply(Event::EndpointSlice(E::Apply(slice(
        "web-b",
        "web",
        &["10.0.1.6"],
    ))));
    let [Change::Services { services, .. }] = out.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!(services[0].backends.len(), 2);
    // The slice moves to another service: web loses it; `api` does not exist (nothing sent).
    let out = c.apply(Event::EndpointSlice(E::Apply(slice(
        "web-b",
        "api",
        &["10.0.1.6"],
    ))));
    let [Change::Services { services, .. }] = out.as_slice() else {
        panic!("{out:?}");
    };
    assert_eq!(services[0].backends.len(), 1);
    assert_eq!(services[0].backends[0].state, BackendState::Active);
    // Deleting the first slice leaves none.
    let out = c.apply(Event::EndpointSlice(E::Delete(slice("web-a", "web", &[]))));
    let [Change::Services { services, .. }] = out.as_slice() else {
        panic!("{out:?}");
    };
    assert!(services[0].backends.is_empty());
    // A bad slice: invalid, then fixed, then the service goes.
    let out = c.apply(Event::EndpointSlice(E::Apply(slice(
        "web-c",
        "web",
        &["nope"],
    ))));
    assert!(
        matches!(&out[..], [Change::ServicesInvalid { key, error }]
            if key == "shop/web" && error.contains("endpoints[0].addresses[0]")),
        "{out:?}"
    );
    let out = c.apply(Event::EndpointSlice(E::Apply(slice(
        "web-c",
        "web",
        &["10.0.1.7"],
    ))));
    assert!(matches!(&out[..], [Change::Services { .. }]), "{out:?}");
    assert_eq!(
        c.apply(Event::Service(E::Delete(service("web")))),
        [Change::ServicesDeleted {
            key: "shop/web".into()
        }]
    );
    // Slices of a deleted service send nothing.
    assert_eq!(
        c.apply(Event::EndpointSlice(E::Delete(slice("web-c", "web", &[])))),
        []
    );
}

#[test]
fn policies_invalid_valid_deleted() {
    let mut c = synced_cache();
    let out = c.apply(Event::CiliumNetworkPolicy(E::Apply(cnp("p", json!(42)))));
    assert!(
        matches!(&out[..], [Change::PolicyInvalid { source, error }]
            if source == "k8s/CiliumNetworkPolicy/shop/p"
            && error.starts_with("CiliumNetworkPolicy shop/p: .spec.endpointSelector.matchLabels.app")),
        "{out:?}"
    );
    // The same mistake again: nothing new to report.
    assert_eq!(
        c.apply(Event::CiliumNetworkPolicy(E::Apply(cnp("p", json!(42))))),
        []
    );
    let out = c.apply(Event::CiliumNetworkPolicy(E::Apply(cnp("p", json!("web")))));
    assert!(matches!(&out[..], [Change::Policy { .. }]), "{out:?}");
    assert_eq!(
        c.apply(Event::CiliumNetworkPolicy(E::Delete(cnp(
            "p",
            json!("web")
        )))),
        [Change::PolicyDeleted {
            source: "k8s/CiliumNetworkPolicy/shop/p".into()
        }]
    );

    let np: NetworkPolicy = from(json!({
        "metadata": {"name": "np", "namespace": "shop"}, "spec": {"podSelector": {}},
    }));
    let out = c.apply(Event::NetworkPolicy(E::Apply(np.clone())));
    assert!(
        matches!(&out[..], [Change::Policy { source, .. }] if source == "k8s/NetworkPolicy/shop/np")
    );
    assert_eq!(
        c.apply(Event::NetworkPolicy(E::Delete(np))),
        [Change::PolicyDeleted {
            source: "k8s/NetworkPolicy/shop/np".into()
        }]
    );
    let ccnp: CiliumClusterwideNetworkPolicy = from(json!({
        "metadata": {"name": "all"}, "spec": {"endpointSelector": {}},
    }));
    let out = c.apply(Event::CiliumClusterwideNetworkPolicy(E::Apply(
        ccnp.clone(),
    )));
    assert!(
        matches!(&out[..], [Change::Policy { source, .. }] if source == "k8s/CiliumClusterwideNetworkPolicy/all")
    );
    assert_eq!(
        c.apply(Event::CiliumClusterwideNetworkPolicy(E::Delete(ccnp))),
        [Change::PolicyDeleted {
            source: "k8s/CiliumClusterwideNetworkPolicy/all".into()
        }]
    );
}
