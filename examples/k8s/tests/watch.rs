//! The whole watch against a mock API server: a `tower-test` transport under a real
//! `kube::Client`, answering kube's LIST and WATCH requests from the recorded objects and
//! streams in `tests/fixtures/`, phase by phase, and checking the `Change` stream.
//!
//! Each phase feeds one fixture and waits (with a timeout) for exactly the changes it must
//! cause. Changes of different kinds interleave in any order (every kind has its own watch),
//! so they are compared per key (policy source, service, pod); per key the order is fixed.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cilium_agent_k8s::{Change, Config, K8sWatcher, Kind};
use cilium_policy::api::PolicyObject;
use http::{Request, Response, StatusCode};
use kube::ResourceExt;
use kube::client::Body;
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::timeout;

type Handle = tower_test::mock::Handle<Request<Body>, Response<Body>>;
type Responder = tower_test::mock::SendResponse<Response<Body>>;

/// The longest wait for any one thing; the watcher's backoff after an error is about 1 s.
const WAIT: Duration = Duration::from_secs(15);
/// How long "nothing more happens" is watched for.
const QUIET: Duration = Duration::from_millis(300);

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

fn respond(responder: Responder, status: StatusCode, body: Vec<u8>) {
    responder.send_response(
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap(),
    );
}

/// Answers to one kind of request of one resource, and the request waiting for one.
#[derive(Default)]
struct Queue {
    answers: VecDeque<(StatusCode, Vec<u8>)>,
    waiting: Option<Responder>,
}

impl Queue {
    fn answer(&mut self, status: StatusCode, body: Vec<u8>) {
        match self.waiting.take() {
            Some(responder) => respond(responder, status, body),
            None => self.answers.push_back((status, body)),
        }
    }

    fn request(&mut self, responder: Responder) {
        match self.answers.pop_front() {
            Some((status, body)) => respond(responder, status, body),
            // A watch with nothing to say yet stays open until the test has something.
            None => self.waiting = Some(responder),
        }
    }
}

#[derive(Default)]
struct ResourceState {
    lists: Queue,
    watches: Queue,
    /// Every request's URI, in order.
    uris: Vec<String>,
}

/// The mock API server: per resource (the last path segment, e.g. `pods`), queued answers
/// to LISTs and WATCHes.
#[derive(Clone, Default)]
struct ApiServer(Arc<Mutex<BTreeMap<String, ResourceState>>>);

impl ApiServer {
    fn serve(&self, mut handle: Handle) {
        let server = self.clone();
        tokio::spawn(async move {
            while let Some((request, responder)) = handle.next_request().await {
                let uri = request.uri().clone();
                let resource = uri.path().rsplit('/').next().unwrap().to_owned();
                let watch = query(&uri.to_string(), "watch").as_deref() == Some("true");
                let mut state = server.0.lock().unwrap();
                let r = state.entry(resource).or_default();
                r.uris.push(uri.to_string());
                if watch {
                    r.watches.request(responder);
                } else {
                    r.lists.request(responder);
                }
            }
        });
    }

    fn with<T>(&self, resource: &str, f: impl FnOnce(&mut ResourceState) -> T) -> T {
        f(self
            .0
            .lock()
            .unwrap()
            .entry(resource.to_owned())
            .or_default())
    }

    fn list(&self, resource: &str, list: &Value) {
        let body = serde_json::to_vec(list).unwrap();
        self.with(resource, |r| r.lists.answer(StatusCode::OK, body));
    }

    fn watch(&self, resource: &str, status: StatusCode, body: String) {
        self.with(resource, |r| r.watches.answer(status, body.into_bytes()));
    }

    /// Answers one WATCH of each resource named by the events of `jsonl` (by the kind of
    /// their object) with those events, in order, as a newline-delimited stream.
    fn stream(&self, jsonl: &str) {
        let mut bodies: BTreeMap<&str, String> = BTreeMap::new();
        for line in jsonl.lines().filter(|l| !l.trim().is_empty()) {
            let event: Value = serde_json::from_str(line).unwrap();
            let kind = event["object"]["kind"].as_str().unwrap();
            let body = bodies.entry(resource_of(kind)).or_default();
            body.push_str(line);
            body.push('\n');
        }
        for (resource, body) in bodies {
            self.watch(resource, StatusCode::OK, body);
        }
    }

    fn uris(&self, resource: &str) -> Vec<String> {
        self.with(resource, |r| r.uris.clone())
    }

    /// Waits for the `n`th (1-based) request to `resource`; returns its URI.
    async fn request(&self, resource: &str, n: usize) -> String {
        let wait = async {
            loop {
                if let Some(uri) = self.uris(resource).get(n - 1) {
                    return uri.clone();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        timeout(WAIT, wait)
            .await
            .unwrap_or_else(|_| panic!("no request {n} to {resource}: {:?}", self.uris(resource)))
    }
}

fn resource_of(kind: &str) -> &'static str {
    match kind {
        "Pod" => "pods",
        "Namespace" => "namespaces",
        "Service" => "services",
        "EndpointSlice" => "endpointslices",
        "NetworkPolicy" => "networkpolicies",
        "CiliumNetworkPolicy" => "ciliumnetworkpolicies",
        "CiliumClusterwideNetworkPolicy" => "ciliumclusterwidenetworkpolicies",
        other => panic!("no resource for kind {other}"),
    }
}

/// The value of the query parameter `key` of `uri`.
fn query(uri: &str, key: &str) -> Option<String> {
    let (_, q) = uri.split_once('?')?;
    q.split('&').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        (k == key).then(|| v.to_owned())
    })
}

/// The receiving end, keeping `WatchError`s apart.
struct Changes {
    rx: mpsc::Receiver<Change>,
    errors: Vec<(Kind, String)>,
}

impl Changes {
    /// The next `n` changes other than `WatchError`s.
    async fn take(&mut self, n: usize) -> Vec<Change> {
        let mut out = Vec::new();
        while out.len() < n {
            match timeout(WAIT, self.rx.recv()).await {
                Ok(Some(Change::WatchError { kind, error })) => self.errors.push((kind, error)),
                Ok(Some(change)) => out.push(change),
                Ok(None) => panic!("the watch stopped; so far {out:#?}"),
                Err(_) => panic!("timed out after {} of {n} changes: {out:#?}", out.len()),
            }
        }
        out
    }

    /// Checks that no change other than a `WatchError` arrives for a while.
    async fn quiet(&mut self) {
        let deadline = tokio::time::Instant::now() + QUIET;
        loop {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Err(_) => return,
                Ok(Some(Change::WatchError { kind, error })) => self.errors.push((kind, error)),
                Ok(other) => panic!("unexpected {other:#?}"),
            }
        }
    }
}

fn key(change: &Change) -> String {
    match change {
        Change::Policy { source, .. }
        | Change::PolicyInvalid { source, .. }
        | Change::PolicyDeleted { source } => source.clone(),
        Change::Services { key, .. }
        | Change::ServicesInvalid { key, .. }
        | Change::ServicesDeleted { key } => format!("svc {key}"),
        Change::Pod {
            namespace, name, ..
        }
        | Change::PodDeleted { namespace, name } => format!("pod {namespace}/{name}"),
        Change::Synced => "synced".into(),
        Change::WatchError { kind, .. } => format!("error {kind}"),
    }
}

/// A change as one line of text, for comparing.
fn show(change: &Change) -> String {
    match change {
        Change::Policy { objects, .. } => {
            let parts: Vec<String> = objects
                .iter()
                .map(|o| match o {
                    PolicyObject::Cilium { spec, specs, .. } => format!(
                        "{} spec={} specs={}",
                        o.describe(),
                        spec.as_ref()
                            .map(|s| serde_json::to_string(s).unwrap())
                            .unwrap_or_default(),
                        serde_json::to_string(specs).unwrap(),
                    ),
                    PolicyObject::Kubernetes(_) => o.describe(),
                })
                .collect();
            format!("policy {}", parts.join(" | "))
        }
        Change::PolicyInvalid { error, .. } | Change::ServicesInvalid { error, .. } => {
            format!("invalid {error}")
        }
        Change::PolicyDeleted { .. } | Change::ServicesDeleted { .. } => "deleted".into(),
        Change::PodDeleted { .. } => "deleted".into(),
        Change::Services { services, .. } => {
            let parts: Vec<String> = services
                .iter()
                .map(|s| {
                    let frontends: Vec<String> =
                        s.frontends.iter().map(ToString::to_string).collect();
                    let backends: Vec<String> = s
                        .backends
                        .iter()
                        .map(|b| {
                            format!(
                                "{b} {}{}",
                                b.state,
                                if b.node_local { " local" } else { "" }
                            )
                        })
                        .collect();
                    format!(
                        "{} {} -> [{}]",
                        s.id(),
                        frontends.join(","),
                        backends.join(", ")
                    )
                })
                .collect();
            format!("services {}", parts.join(" | "))
        }
        Change::Pod {
            labels, ip, node, ..
        } => format!(
            "pod ip={} node={} {}",
            ip.as_deref().unwrap_or("-"),
            node.as_deref().unwrap_or("-"),
            labels.sorted_list()
        ),
        Change::Synced => "synced".into(),
        Change::WatchError { error, .. } => format!("error {error}"),
    }
}

/// Compares `changes` per key with `expected`: (key, the lines in order). A line ending in
/// `*` matches every line that starts with the rest; `~text` matches a line containing it.
#[track_caller]
fn assert_changes(changes: &[Change], expected: &[(&str, &[&str])]) {
    let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in changes {
        got.entry(key(c)).or_default().push(show(c));
    }
    let want: BTreeMap<String, Vec<String>> = expected
        .iter()
        .map(|(k, lines)| (k.to_string(), lines.iter().map(|l| l.to_string()).collect()))
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "keys; got {got:#?}"
    );
    for (k, lines) in &want {
        let got_lines = &got[k];
        let ok = got_lines.len() == lines.len()
            && got_lines.iter().zip(lines).all(|(g, w)| {
                if let Some(prefix) = w.strip_suffix('*') {
                    g.starts_with(prefix)
                } else if let Some(part) = w.strip_prefix('~') {
                    g.contains(part)
                } else {
                    g == w
                }
            });
        assert!(ok, "{k}:\n got  {got_lines:#?}\n want {lines:#?}");
    }
}

const SHOP_A: &str = "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop;\
                      k8s:io.cilium.k8s.namespace.labels.team=a;\
                      k8s:io.cilium.k8s.policy.cluster=default;";
const SHOP_B: &str = "k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop;\
                      k8s:io.cilium.k8s.namespace.labels.team=b;\
                      k8s:io.cilium.k8s.policy.cluster=default;";

#[tokio::test]
async fn watch_against_a_mock_api_server() {
    timeout(Duration::from_secs(90), scenario())
        .await
        .expect("the scenario took too long");
}

async fn scenario() {
    let (svc, handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let server = ApiServer::default();
    server.serve(handle);
    let lists = fixture_json("initial-lists.json");
    for (resource, list) in lists.as_object().unwrap() {
        server.list(resource, list);
    }
    let client = kube::Client::new(svc, "default");
    let watcher = K8sWatcher::new(client, Config::new(Some("node-a".into())));
    let stores = watcher.stores();
    let (tx, rx) = mpsc::channel(8);
    let task = tokio::spawn(watcher.run(tx));
    let mut changes = Changes {
        rx,
        errors: Vec::new(),
    };

    // 1. Initial lists: every object once, then Synced. The host-network pod is left out,
    //    the terminated pod has no address, the bad policy is reported with its field, the
    //    endpoint neither ready nor serving is no backend.
    let initial = changes.take(9).await;
    assert_eq!(initial.last(), Some(&Change::Synced), "{initial:#?}");
    let web_1 = format!(
        "pod ip=10.0.1.5 node=node-a k8s:app=web;{SHOP_A}\
         k8s:io.cilium.k8s.policy.serviceaccount=web;k8s:io.kubernetes.pod.namespace=shop;\
         k8s:pod-template-hash=5d4f8;"
    );
    let db_1 = format!(
        "pod ip=10.0.1.6 node=node-b k8s:app=db;{SHOP_A}\
         k8s:io.cilium.k8s.policy.serviceaccount=default;k8s:io.kubernetes.pod.namespace=shop;"
    );
    let job_1 =
        format!("pod ip=- node=node-a k8s:app=job;{SHOP_A}k8s:io.kubernetes.pod.namespace=shop;");
    assert_changes(
        &initial,
        &[
            ("synced", &["synced"]),
            ("pod shop/web-1", &[&web_1]),
            ("pod shop/db-1", &[&db_1]),
            ("pod shop/job-1", &[&job_1]),
            (
                "svc shop/web",
                &[
                    "services shop/web:http:ClusterIP:IPv4 10.96.0.10:80/TCP -> \
                   [10.0.1.5:8080/TCP active local, 10.0.1.7:8080/TCP terminating]",
                ],
            ),
            (
                "k8s/NetworkPolicy/shop/allow-web",
                &["policy NetworkPolicy shop/allow-web"],
            ),
            (
                "k8s/CiliumNetworkPolicy/shop/l3",
                &["policy CiliumNetworkPolicy shop/l3 spec=*"],
            ),
            (
                "k8s/CiliumNetworkPolicy/shop/bad",
                &["invalid CiliumNetworkPolicy shop/bad: \
                   .spec.ingress[0].toPorts[0].ports[0].port: \"http-x-too-long-name\"*"],
            ),
            (
                "k8s/CiliumClusterwideNetworkPolicy/cluster-egress",
                &["~CiliumClusterwideNetworkPolicy cluster-egress spec= specs=[{"],
            ),
        ],
    );
    changes.quiet().await;
    // The reflector stores hold the objects, without managedFields.
    assert_eq!(stores.pods.state().len(), 4);
    let web = stores
        .pods
        .find(|p| p.name_any() == "web-1")
        .expect("web-1 in the store");
    assert!(web.managed_fields().is_empty());
    assert_eq!(stores.cilium_network_policies.state().len(), 2);
    // The initial LISTs were plain lists; the WATCHes continue from their resource version.
    let list = server.request("pods", 1).await;
    assert_eq!(query(&list, "watch"), None, "{list}");
    let watch = server.request("pods", 2).await;
    assert_eq!(query(&watch, "resourceVersion").as_deref(), Some("100"));
    assert_eq!(
        query(&watch, "allowWatchBookmarks").as_deref(),
        Some("true")
    );

    // 2. Policy events: a label-only update sends nothing, a fix and a new object send
    //    their rules, a broken update is reported (the agent keeps the rules), the repair
    //    sends the new rules, deletions, and bookmarks are ignored.
    server.stream(&fixture("watch-policies.jsonl"));
    let policies = changes.take(6).await;
    assert_changes(
        &policies,
        &[
            (
                "k8s/CiliumNetworkPolicy/shop/l3",
                &[
                    "invalid CiliumNetworkPolicy shop/l3: .spec.ingress[0].toPorts[0].ports[0].port*",
                    "~\"5432\"",
                ],
            ),
            (
                "k8s/CiliumNetworkPolicy/shop/bad",
                &["policy CiliumNetworkPolicy shop/bad spec=*"],
            ),
            (
                "k8s/CiliumNetworkPolicy/shop/new",
                &["policy CiliumNetworkPolicy shop/new spec= specs=[{*"],
            ),
            ("k8s/NetworkPolicy/shop/allow-web", &["deleted"]),
            (
                "k8s/CiliumClusterwideNetworkPolicy/cluster-egress",
                &["~\"world\""],
            ),
        ],
    );
    changes.quiet().await;
    // Each stream ended; the next WATCH starts at the bookmark's version.
    for (resource, rv) in [
        ("ciliumnetworkpolicies", "110"),
        ("networkpolicies", "111"),
        ("ciliumclusterwidenetworkpolicies", "112"),
    ] {
        let uri = server.request(resource, 3).await;
        assert_eq!(query(&uri, "resourceVersion").as_deref(), Some(rv), "{uri}");
    }

    // 3. Pods and namespaces: the namespace's new labels reach every pod in it; a pod is
    //    added, gets its address, is annotated (nothing), is deleted.
    server.stream(&fixture("watch-pods.jsonl"));
    let pods = changes.take(6).await;
    let client = "k8s:app=client;k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=default;\
                  k8s:io.cilium.k8s.policy.cluster=default;\
                  k8s:io.cilium.k8s.policy.serviceaccount=default;\
                  k8s:io.kubernetes.pod.namespace=default;";
    assert_changes(
        &pods,
        &[
            ("pod shop/web-1", &[&web_1.replace(SHOP_A, SHOP_B)]),
            ("pod shop/db-1", &[&db_1.replace(SHOP_A, SHOP_B)]),
            ("pod shop/job-1", &[&job_1.replace(SHOP_A, SHOP_B)]),
            (
                "pod default/client-1",
                &[
                    &format!("pod ip=- node=- {client}"),
                    &format!("pod ip=10.0.2.3 node=node-a {client}"),
                    "deleted",
                ],
            ),
        ],
    );
    changes.quiet().await;
    let uri = server.request("pods", 3).await;
    assert_eq!(query(&uri, "resourceVersion").as_deref(), Some("126"));

    // 4. Services: an endpoint starts terminating and another is ready, a second slice comes
    //    and goes; a Service without slices comes and goes.
    server.stream(&fixture("watch-services.jsonl"));
    let services = changes.take(5).await;
    let web = "services shop/web:http:ClusterIP:IPv4 10.96.0.10:80/TCP -> ";
    assert_changes(
        &services,
        &[
            (
                "svc shop/web",
                &[
                    &format!(
                        "{web}[10.0.1.5:8080/TCP terminating local, 10.0.1.9:8080/TCP active]"
                    ),
                    &format!(
                        "{web}[10.0.1.5:8080/TCP terminating local, 10.0.1.9:8080/TCP active, \
                         10.0.1.10:8081/TCP active local]"
                    ),
                    &format!(
                        "{web}[10.0.1.5:8080/TCP terminating local, 10.0.1.9:8080/TCP active]"
                    ),
                ],
            ),
            (
                "svc shop/api",
                &[
                    "services shop/api:grpc:ClusterIP:IPv4 10.96.0.20:9090/TCP -> []",
                    "deleted",
                ],
            ),
        ],
    );
    changes.quiet().await;

    // 5a. 410 Gone as an ERROR event in the CiliumNetworkPolicy watch: the watcher lists
    //     again; `new` was deleted while disconnected, `late` added, the others unchanged.
    let relist = fixture_json("relist-lists.json");
    server.list("ciliumnetworkpolicies", &relist["ciliumnetworkpolicies"]);
    server.watch(
        "ciliumnetworkpolicies",
        StatusCode::OK,
        fixture("expired-event.jsonl"),
    );
    let after_gone = changes.take(2).await;
    assert_changes(
        &after_gone,
        &[
            ("k8s/CiliumNetworkPolicy/shop/new", &["deleted"]),
            (
                "k8s/CiliumNetworkPolicy/shop/late",
                &["~matchName\":\"example.com"],
            ),
        ],
    );
    changes.quiet().await;
    assert!(
        changes.errors.iter().any(|(kind, error)| {
            *kind == Kind::CiliumNetworkPolicy && error.contains("Expired")
        }),
        "{:?}",
        changes.errors
    );
    let uris = server.uris("ciliumnetworkpolicies");
    let lists = uris.iter().filter(|u| query(u, "watch").is_none()).count();
    assert_eq!(lists, 2, "{uris:#?}");
    let uri = server.request("ciliumnetworkpolicies", 5).await;
    assert_eq!(query(&uri, "resourceVersion").as_deref(), Some("200"));

    // 5b. 410 Gone as the HTTP status of a WATCH request (kube alone would retry the same
    //     version forever; the watch starts over): web-1 changed, db-1 vanished.
    server.list("pods", &relist["pods"]);
    server.watch("pods", StatusCode::GONE, fixture("expired-status.json"));
    let after_gone = changes.take(2).await;
    assert_changes(
        &after_gone,
        &[
            ("pod shop/db-1", &["deleted"]),
            (
                "pod shop/web-1",
                &[&format!(
                    "pod ip=10.0.1.5 node=node-a k8s:app=web;{SHOP_B}\
                     k8s:io.cilium.k8s.policy.serviceaccount=web;\
                     k8s:io.kubernetes.pod.namespace=shop;k8s:pod-template-hash=5d4f8;\
                     k8s:tier=front;"
                )],
            ),
        ],
    );
    changes.quiet().await;
    assert!(
        changes
            .errors
            .iter()
            .any(|(kind, error)| *kind == Kind::Pod && error.contains("410")),
        "{:?}",
        changes.errors
    );
    let uri = server.request("pods", 5).await;
    assert_eq!(query(&uri, "resourceVersion").as_deref(), Some("200"));
    assert_eq!(stores.pods.state().len(), 3);

    // Dropping the receiver stops the watch.
    drop(changes);
    let result = timeout(WAIT, task).await.expect("run returns").unwrap();
    assert_eq!(result, Ok(()));
}
