//! The `CiliumIdentity` backend against a mock API server (a `tower-test` transport): the
//! requests it sends and how it handles the answers, including a recorded watch stream.
#![cfg(feature = "k8s")]

use cilium_core::{LabelSet, NumericIdentity};
use cilium_identity::k8s::{CrdAllocator, CrdError};
use cilium_identity::{AllocatorConfig, IdentityEvent, UserId};
use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;

const PATH: &str = "/apis/cilium.io/v2/ciliumidentities";

fn object(id: u32, labels: &[(&str, &str)], rv: &str) -> Value {
    let labels: serde_json::Map<String, Value> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    json!({
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumIdentity",
        "metadata": {"name": id.to_string(), "resourceVersion": rv},
        "security-labels": labels,
    })
}

/// Answers the next request with what `reply` makes of its JSON body; returns the
/// request's method, URI and JSON body.
async fn answer_with(
    handle: &mut Handle,
    reply: impl FnOnce(&Value) -> (StatusCode, Vec<u8>),
) -> (Method, String, Value) {
    let (request, send) = handle.next_request().await.expect("a request");
    let method = request.method().clone();
    let uri = request.uri().to_string();
    let bytes = request.into_body().collect_bytes().await.unwrap();
    let json = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    let (status, body) = reply(&json);
    send.send_response(
        Response::builder()
            .status(status)
            .body(Body::from(body))
            .unwrap(),
    );
    (method, uri, json)
}

async fn answer(handle: &mut Handle, status: StatusCode, body: Vec<u8>) -> (Method, String, Value) {
    answer_with(handle, |_| (status, body)).await
}

fn json_body(v: Value) -> Vec<u8> {
    serde_json::to_vec(&v).unwrap()
}

fn already_exists(name: &str) -> Vec<u8> {
    json_body(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("ciliumidentities.cilium.io \"{name}\" already exists"),
        "reason": "AlreadyExists", "code": 409,
    }))
}

fn set(l: &[&str]) -> LabelSet {
    LabelSet::parse_list(l)
}

async fn start(handle: &mut Handle) -> (CrdAllocator, String) {
    let (svc, h) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    *handle = h;
    let client = kube::Client::new(svc, "default");
    let list = json!({
        "apiVersion": "cilium.io/v2", "kind": "CiliumIdentityList",
        "metadata": {"resourceVersion": "10"},
        "items": [
            object(300, &[("k8s:app", "existing")], "7"),
            object(301, &[("k8s:app", "old")], "8"),
            object(9, &[("k8s:app", "not-in-range")], "8"),
            {"apiVersion": "cilium.io/v2", "kind": "CiliumIdentity",
             "metadata": {"name": "not-a-number"}, "security-labels": {"k8s:a": "b"}},
        ],
    });
    let (alloc, (method, uri, _)) = tokio::join!(
        CrdAllocator::new(client, AllocatorConfig::new(0).unwrap()),
        answer(handle, StatusCode::OK, json_body(list)),
    );
    assert_eq!(
        (method, uri.split('?').next().unwrap()),
        (Method::GET, PATH)
    );
    alloc.unwrap()
}

#[tokio::test]
async fn allocates_through_the_api_server_and_follows_the_watch() {
    let (_, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let (alloc, version) = start(&mut handle).await;
    assert_eq!(version, "10");
    // Listed objects are known; invalid and foreign ones were skipped.
    assert_eq!(
        alloc
            .identities()
            .iter()
            .map(|(id, _)| id.as_u32())
            .collect::<Vec<_>>(),
        [300, 301]
    );
    let user = UserId::new("ep").unwrap();

    // A known label set costs no request.
    let a = alloc
        .allocate(&set(&["k8s:app=existing"]), &user)
        .await
        .unwrap();
    assert_eq!((a.id, a.is_new), (NumericIdentity(300), false));
    // Reserved and local identities neither.
    assert_eq!(
        alloc
            .allocate(&set(&["reserved:world"]), &user)
            .await
            .unwrap()
            .id,
        NumericIdentity::WORLD
    );
    assert!(
        alloc
            .allocate(&set(&["fqdn:example.com"]), &user)
            .await
            .unwrap()
            .id
            .is_local()
    );

    // A new label set: the first name is taken (409), the second is created.
    let web = set(&["k8s:app=web", "k8s:io.kubernetes.pod.namespace=prod"]);
    let (got, (first, second)) = tokio::join!(alloc.allocate(&web, &user), async {
        let first = answer_with(&mut handle, |body| {
            let name = body["metadata"]["name"].as_str().unwrap().to_owned();
            (StatusCode::CONFLICT, already_exists(&name))
        })
        .await;
        let second = answer_with(&mut handle, |body| {
            (StatusCode::CREATED, json_body(body.clone()))
        })
        .await;
        (first, second)
    });
    let got = got.unwrap();
    assert!(got.is_new);
    for (method, uri, body) in [&first, &second] {
        assert_eq!(
            (method, uri.split('?').next().unwrap()),
            (&Method::POST, PATH)
        );
        assert_eq!(body["kind"], "CiliumIdentity");
        assert_eq!(body["security-labels"]["k8s:app"], "web");
        assert_eq!(
            body["security-labels"]["k8s:io.kubernetes.pod.namespace"],
            "prod"
        );
    }
    let taken = first.2["metadata"]["name"].as_str().unwrap();
    assert_eq!(second.2["metadata"]["name"], got.id.to_string());
    assert_ne!(taken, got.id.to_string(), "a taken name is not retried");
    assert!((256..=65535).contains(&got.id.as_u32()));
    // The same label set again: no request.
    assert_eq!(alloc.allocate(&web, &user).await.unwrap().id, got.id);

    // A recorded watch stream: another agent adds 500, the unused 301 is deleted, 300 (in
    // use here) is deleted too but stays known while referenced.
    alloc.drain_events();
    let stream = [
        json!({"type": "ADDED", "object": object(500, &[("k8s:app", "remote")], "11")}),
        json!({"type": "DELETED", "object": object(301, &[("k8s:app", "old")], "12")}),
        json!({"type": "DELETED", "object": object(300, &[("k8s:app", "existing")], "13")}),
        json!({"type": "BOOKMARK", "object": {"apiVersion": "cilium.io/v2", "kind": "CiliumIdentity", "metadata": {"resourceVersion": "15"}}}),
    ]
    .iter()
    .map(|e| serde_json::to_string(e).unwrap() + "\n")
    .collect::<String>();
    let (version, (method, uri, _)) = tokio::join!(
        alloc.watch("10"),
        answer(&mut handle, StatusCode::OK, stream.into_bytes())
    );
    assert_eq!(method, Method::GET);
    assert!(
        uri.starts_with(PATH) && uri.contains("watch=true") && uri.contains("resourceVersion=10"),
        "{uri}"
    );
    assert_eq!(version.unwrap(), "15");
    assert_eq!(
        alloc.lookup(&set(&["k8s:app=remote"])),
        Some(NumericIdentity(500))
    );
    assert_eq!(alloc.lookup(&set(&["k8s:app=old"])), None);
    assert_eq!(
        alloc.lookup(&set(&["k8s:app=existing"])),
        Some(NumericIdentity(300))
    );
    assert_eq!(
        alloc.drain_events(),
        [
            IdentityEvent::Added {
                id: NumericIdentity(500),
                labels: set(&["k8s:app=remote"])
            },
            IdentityEvent::Removed {
                id: NumericIdentity(301),
                labels: set(&["k8s:app=old"])
            },
        ]
    );
}

#[tokio::test]
async fn api_errors_are_reported_with_the_operation() {
    let (_, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let (alloc, _) = start(&mut handle).await;
    let user = UserId::new("ep").unwrap();
    let status = json_body(json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "etcdserver: request timed out", "reason": "InternalError", "code": 500,
    }));
    let web = set(&["k8s:app=web"]);
    let (got, _) = tokio::join!(
        alloc.allocate(&web, &user),
        answer(&mut handle, StatusCode::INTERNAL_SERVER_ERROR, status)
    );
    let err = got.unwrap_err();
    assert!(matches!(err, CrdError::Api { op: "create", .. }), "{err:?}");
    assert_eq!(err.to_string(), "CiliumIdentity create failed");
    // The failed candidate is free again: nothing is counted as used.
    assert_eq!(alloc.pressure()[0].used, 2);
    let err = alloc
        .allocate(&set(&["reserved:init", "k8s:app=x"]), &user)
        .await
        .unwrap_err();
    assert!(matches!(err, CrdError::Allocator(_)), "{err:?}");
}
