//! The built `cilium-dbg` against a fake agent: a unix socket in a temporary directory
//! answering canned JSON for the API's routes (and, for `observe`, a real Hubble Observer
//! server on loopback).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use cilium_agent_api::{
    ApiErrorBody, Attachment, BackendInfo, BpfPolicyEntry, Endpoint, Identity, IpCacheEntry,
    Metric, PolicyInfo, PolicyText, ServiceInfo, Status, TraceRequest, TraceResult, Validation,
    routes,
};

/// One request the fake agent received: method, path, body.
type Request = (String, String, String);

/// A fake agent serving `answer` on a socket in a temporary directory.
struct FakeAgent {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl FakeAgent {
    fn start(answer: fn(&str, &str, &str) -> (u16, String)) -> FakeAgent {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let listener = UnixListener::bind(&socket).unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                if let Some(req) = serve_one(conn, answer) {
                    seen.lock().unwrap().push(req);
                }
            }
        });
        FakeAgent {
            _dir: dir,
            socket,
            requests,
        }
    }

    /// Runs `cilium-dbg --socket <this agent> args…`.
    fn run(&self, args: &[&str]) -> Output {
        dbg_cmd(&self.socket, args)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn dbg_cmd(socket: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cilium-dbg"))
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("CILIUM_RS_SOCKET")
        .output()
        .unwrap()
}

/// Reads one HTTP/1.1 request, answers it, closes the connection.
fn serve_one(conn: UnixStream, answer: fn(&str, &str, &str) -> (u16, String)) -> Option<Request> {
    let mut reader = BufReader::new(conn);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut parts = request_line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let body = String::from_utf8(body).ok()?;
    let (status, answer_body) = answer(&method, &path, &body);
    let mut conn = reader.into_inner();
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        answer_body.len()
    );
    conn.write_all(head.as_bytes()).ok()?;
    conn.write_all(answer_body.as_bytes()).ok()?;
    Some((method, path, body))
}

fn ok(value: &impl serde::Serialize) -> (u16, String) {
    (200, serde_json::to_string(value).unwrap())
}

fn error(status: u16, message: &str) -> (u16, String) {
    ok(&ApiErrorBody {
        message: message.into(),
    })
    .with_status(status)
}

trait WithStatus {
    fn with_status(self, status: u16) -> Self;
}

impl WithStatus for (u16, String) {
    fn with_status(self, status: u16) -> Self {
        (status, self.1)
    }
}

fn status(ready: bool, hubble: Option<String>) -> Status {
    Status {
        ready,
        message: if ready {
            "ok".into()
        } else {
            "datapath not loaded".into()
        },
        node: "node-1".into(),
        version: "0.1.0".into(),
        source: "standalone /etc/cilium-rs".into(),
        pod_cidr: "10.200.0.0/24".into(),
        ipam_used: 2,
        ipam_capacity: 254,
        endpoints: 2,
        identities: 2,
        policy_revision: 3,
        services: 0,
        pin_dir: "/sys/fs/bpf/cilium-rs".into(),
        replaced_links: 0,
        events_lost: 5,
        hubble,
        metrics: Some("127.0.0.1:9962".into()),
        source_error: None,
    }
}

fn endpoints() -> Vec<Endpoint> {
    let ep = |id: u16, identity: u32, ip: &str, app: &str| Endpoint {
        id,
        attachment: Attachment {
            container_id: format!("container-{id}"),
            ifname: "eth0".into(),
        },
        pod: Some(format!("default/{app}")),
        ip: ip.into(),
        identity,
        labels: vec![
            format!("k8s:app={app}"),
            "k8s:io.kubernetes.pod.namespace=default".into(),
        ],
        netns: format!("/var/run/netns/{id}"),
        host_ifname: format!("lxc{id}"),
        host_ifindex: 40 + u32::from(id),
        state: "ready".into(),
        policy_revision: 3,
        ingress_enforced: id == 2,
        egress_enforced: false,
    };
    vec![
        ep(2, 20001, "10.200.0.12", "server"),
        ep(1, 20000, "10.200.0.11", "client"),
    ]
}

/// The canned agent: every route of the contract the commands under test use.
fn agent(method: &str, path: &str, body: &str) -> (u16, String) {
    match (method, path) {
        ("GET", routes::HEALTHZ) => ok(&status(true, Some("0.0.0.0:4245".into()))),
        ("GET", routes::ENDPOINT) => ok(&endpoints()),
        ("GET", "/v1/endpoint/9") => error(404, "endpoint 9 not found"),
        ("GET", p) if p == format!("{}1", routes::BPF_POLICY) => ok(&vec![
            BpfPolicyEntry {
                policy: "Allow".into(),
                direction: "Ingress".into(),
                identity: 1,
                labels: vec!["reserved:host".into()],
                port_proto: "ANY".into(),
                proxy_port: 0,
                auth_type: "disabled".into(),
                bytes: 0,
                packets: 0,
                prefix: 0,
            },
            BpfPolicyEntry {
                policy: "Allow".into(),
                direction: "Ingress".into(),
                identity: 20000,
                labels: vec![
                    "k8s:app=client".into(),
                    "k8s:io.kubernetes.pod.namespace=default".into(),
                ],
                port_proto: "8080/TCP".into(),
                proxy_port: 0,
                auth_type: "disabled".into(),
                bytes: 0,
                packets: 0,
                prefix: 24,
            },
        ]),
        ("POST", routes::POLICY_VALIDATE) => {
            let text: PolicyText = serde_json::from_str(body).unwrap();
            if text.text.contains("bogus") {
                ok(&Validation {
                    ok: false,
                    rules: 1,
                    errors: vec![format!(
                        "{}: spec.ingress[0].toPorts[0].ports[0].port: \"bogus\" is not a port number",
                        text.source.unwrap_or_default()
                    )],
                })
            } else {
                ok(&Validation {
                    ok: true,
                    rules: 1,
                    errors: vec![],
                })
            }
        }
        ("GET", "/v1/identity/20000") => ok(&Identity {
            id: 20000,
            labels: vec![
                "k8s:app=client".into(),
                "k8s:io.kubernetes.pod.namespace=default".into(),
            ],
            refs: 1,
        }),
        ("GET", routes::SERVICE) => ok(&vec![ServiceInfo {
            id: 1,
            frontend: "10.96.0.10:80/TCP".into(),
            kind: "ClusterIP".into(),
            name: "default/server".into(),
            algorithm: "random".into(),
            backends: vec![BackendInfo {
                address: "10.200.0.12:8080".into(),
                state: "active".into(),
                weight: 1,
            }],
        }]),
        ("GET", routes::IPCACHE) => ok(&vec![IpCacheEntry {
            prefix: "10.200.0.11/32".into(),
            identity: 20000,
            encrypt_key: 0,
            tunnel_endpoint: "0.0.0.0".into(),
        }]),
        ("GET", routes::METRICS) => ok(&vec![Metric {
            name: "cilium_policy".into(),
            labels: String::new(),
            value: 2.0,
        }]),
        ("PUT", routes::POLICY) => {
            let text: PolicyText = serde_json::from_str(body).unwrap();
            ok(&PolicyInfo {
                revision: 4,
                sources: vec![(text.source.unwrap_or_default(), 1)],
                rules: serde_json::json!([]),
            })
        }
        ("POST", routes::POLICY_TRACE) => {
            let req: TraceRequest = serde_json::from_str(body).unwrap();
            ok(&TraceResult {
                verdict: "DENIED".into(),
                trace: format!(
                    "Tracing From: {:?} => To: {:?} Ports: [{}/{}]\n",
                    req.src,
                    req.dst,
                    req.dport.unwrap_or(0),
                    req.protocol.unwrap_or_default()
                ),
            })
        }
        _ => error(404, &format!("no route {method} {path}")),
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn status_table_and_brief() {
    let a = FakeAgent::start(agent);
    let o = a.run(&["status"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "\
KVStore:           Disabled
Kubernetes:        Disabled   standalone /etc/cilium-rs
Cilium:            Ok         0.1.0 (node node-1)
IPAM:              IPv4: 2/254 allocated from 10.200.0.0/24
Endpoints:         2
Identities:        2
Policy revision:   3
Services:          0
Hubble:            Ok         0.0.0.0:4245
Metrics:           Ok         127.0.0.1:9962
Datapath:          pins at /sys/fs/bpf/cilium-rs, links replaced at start: 0
Events lost:       5
"
    );
    let o = a.run(&["status", "--brief"]);
    assert_eq!((o.status.code(), stdout(&o).as_str()), (Some(0), "OK\n"));
    assert_eq!(
        a.requests()[0],
        ("GET".into(), routes::HEALTHZ.into(), String::new())
    );

    let o = a.run(&["status", "-o", "json"]);
    let back: Status = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(back, status(true, Some("0.0.0.0:4245".into())));
}

#[test]
fn brief_status_of_an_agent_not_ready_fails() {
    let a = FakeAgent::start(|_, _, _| ok(&status(false, None)));
    let o = a.run(&["status", "--brief"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "datapath not loaded\n");
}

#[test]
fn endpoint_list_and_errors() {
    let a = FakeAgent::start(agent);
    let o = a.run(&["endpoint", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "\
ENDPOINT   POLICY (ingress)   POLICY (egress)   IDENTITY   LABELS (source:key[=value])               IPv6   IPv4          STATUS
           ENFORCEMENT        ENFORCEMENT
1          Disabled           Disabled          20000      k8s:app=client                                   10.200.0.11   ready
                                                           k8s:io.kubernetes.pod.namespace=default
2          Enabled            Disabled          20001      k8s:app=server                                   10.200.0.12   ready
                                                           k8s:io.kubernetes.pod.namespace=default
"
    );

    let o = a.run(&["endpoint", "list", "-o", "json"]);
    let back: Vec<Endpoint> = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(back, endpoints());

    let o = a.run(&["endpoint", "get", "9"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "Error: endpoint 9 not found\n");
    assert!(o.stdout.is_empty());
}

#[test]
fn bpf_policy_get() {
    let a = FakeAgent::start(agent);
    let o = a.run(&["bpf", "policy", "get", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "\
POLICY   DIRECTION   LABELS (source:key[=value])               PORT/PROTO   PROXY PORT   AUTH TYPE   BYTES   PACKETS   PREFIX
Allow    Ingress     reserved:host                             ANY          NONE         disabled    0       0         0
Allow    Ingress     k8s:app=client                            8080/TCP     NONE         disabled    0       0         24
                     k8s:io.kubernetes.pod.namespace=default
"
    );
    assert_eq!(a.requests()[0].1, "/v1/bpf/policy/1");
}

#[test]
fn policy_validate_reports_errors_and_fails() {
    let a = FakeAgent::start(agent);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    let text = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\n# port: bogus\n";
    std::fs::write(&bad, text).unwrap();
    let bad = bad.to_str().unwrap();

    let o = a.run(&["policy", "validate", bad]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!(
            "{bad}: spec.ingress[0].toPorts[0].ports[0].port: \"bogus\" is not a port number\n"
        )
    );
    assert!(o.stdout.is_empty());
    let (method, path, body) = a.requests().remove(0);
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("POST", routes::POLICY_VALIDATE)
    );
    let sent: PolicyText = serde_json::from_str(&body).unwrap();
    assert_eq!(sent.source.as_deref(), Some(bad));
    assert_eq!(sent.text, text);

    let good = dir.path().join("good.yaml");
    std::fs::write(&good, "kind: CiliumNetworkPolicy\n").unwrap();
    let o = a.run(&["policy", "validate", good.to_str().unwrap()]);
    assert_eq!(
        (o.status.code(), stdout(&o).as_str()),
        (Some(0), "Valid: 1 rules\n")
    );
}

#[test]
fn other_commands() {
    let a = FakeAgent::start(agent);
    let run = |args: &[&str]| {
        let o = a.run(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    assert_eq!(
        run(&["identity", "get", "20000"]),
        "\
ID      LABELS
20000   k8s:app=client
        k8s:io.kubernetes.pod.namespace=default
"
    );
    assert_eq!(
        run(&["service", "list"]),
        "\
ID   Frontend            Service Type   Backend
1    10.96.0.10:80/TCP   ClusterIP      1 => 10.200.0.12:8080/TCP (active)
"
    );
    assert_eq!(
        run(&["map", "get", "cilium_ipcache"]),
        "\
Key              Value                                                State   Error
10.200.0.11/32   identity=20000 encryptkey=0 tunnelendpoint=0.0.0.0   sync
"
    );
    assert_eq!(
        run(&["metrics", "list"]),
        "Metric          Labels   Value\ncilium_policy            2.000000\n"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.yaml");
    std::fs::write(&file, "kind: CiliumNetworkPolicy\n").unwrap();
    assert_eq!(
        run(&["policy", "import", file.to_str().unwrap()]),
        "Revision: 4\n"
    );
    assert_eq!(
        run(&[
            "policy",
            "trace",
            "-s",
            "k8s:app=client",
            "--dst-endpoint",
            "2",
            "--dport",
            "9090/tcp"
        ]),
        "\
Tracing From: [\"k8s:app=client\"] => To: [\"endpoint:2\"] Ports: [9090/TCP]
Final verdict: DENIED
"
    );
}

#[test]
fn unreachable_agent_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("missing.sock");
    for args in [
        &["status"][..],
        &["status", "--brief"],
        &["endpoint", "list"],
        &["observe"],
    ] {
        let o = dbg_cmd(&socket, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&o),
            format!(
                "cannot reach the agent at {}: is cilium-agent running?\n",
                socket.display()
            ),
            "{args:?}"
        );
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

/// `observe` finds the Hubble server in the agent's status (`0.0.0.0:PORT`, dialled on
/// loopback) and prints the flows the filters select.
#[test]
fn observe_flows_from_the_agents_hubble() {
    use cilium_hubble::observer::Observer;
    use cilium_hubble::proto::flow::{self, Flow, Layer4, Tcp, Verdict, layer4};

    let observer = Observer::new(64);
    for n in 0..4u32 {
        observer.push_flow(Flow {
            time: Some(pbjson_types::Timestamp {
                seconds: 1_700_000_000 + i64::from(n),
                nanos: 0,
            }),
            verdict: if n % 2 == 1 {
                Verdict::Dropped
            } else {
                Verdict::Forwarded
            } as i32,
            l4: Some(Layer4 {
                protocol: Some(layer4::Protocol::Tcp(Tcp {
                    source_port: 40000 + n,
                    destination_port: 8080,
                    flags: None,
                })),
            }),
            ip: Some(flow::Ip {
                source: "10.200.0.11".into(),
                destination: "10.200.0.12".into(),
                ..Default::default()
            }),
            source: Some(flow::Endpoint {
                namespace: "default".into(),
                pod_name: "client".into(),
                identity: 20000,
                ..Default::default()
            }),
            destination: Some(flow::Endpoint {
                namespace: "default".into(),
                pod_name: "server".into(),
                identity: 20001,
                ..Default::default()
            }),
            ..Flow::default()
        });
    }
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let served = Arc::clone(&observer);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (listener, addr) = cilium_hubble::server::bind("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
            addr_tx.send(addr.port()).unwrap();
            let service = cilium_hubble::server::ObserverService::new(served, "node-1");
            let _ = cilium_hubble::server::serve(service, listener, std::future::pending()).await;
        });
    });
    let port = addr_rx.recv().unwrap();

    // The agent's status names the server by its wildcard address.
    static PORT: std::sync::OnceLock<u16> = std::sync::OnceLock::new();
    PORT.set(port).unwrap();
    let a = FakeAgent::start(|_, path, _| {
        assert_eq!(path, routes::HEALTHZ);
        ok(&status(
            true,
            Some(format!("0.0.0.0:{}", PORT.get().unwrap())),
        ))
    });
    let o = a.run(&[
        "observe",
        "--last",
        "10",
        "--verdict",
        "DROPPED",
        "--color",
        "never",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "\
Nov 14 22:13:21.000: default/client:40001 (ID:20000) <> default/server:8080 (ID:20001) UNKNOWN DROPPED (TCP)
Nov 14 22:13:23.000: default/client:40003 (ID:20000) <> default/server:8080 (ID:20001) UNKNOWN DROPPED (TCP)
"
    );

    // `--server` bypasses the agent; `-o json` is one protojson object per flow.
    let o = dbg_cmd(
        Path::new("/nonexistent.sock"),
        &[
            "observe",
            "--server",
            &format!("127.0.0.1:{port}"),
            "--last",
            "1",
            "-o",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["flow"]["source"]["pod_name"], "client", "{v}");
    assert_eq!(v["flow"]["verdict"], "DROPPED", "{v}");
}
