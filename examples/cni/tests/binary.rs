//! The built `cilium-cni` binary, driven as a runtime drives it: environment, stdin,
//! stdout, exit status.
//!
//! Without privileges: VERSION, bad input, STATUS and ADD with no agent (codes 50 and 11).
//! As root (`CILIUM_PRIVILEGED_TESTS=1` turns a skip into a failure): the whole lifecycle
//! ADD → CHECK → STATUS → DEL → DEL → GC in namespaces this test creates, against a small
//! fake agent on a unix socket in a temporary directory (the real `cilium-agent-api` client
//! talks to it), and ADD with no agent leaving no interface behind.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::{Value, json};

mod support;

use support::Namespaces;

const BIN: &str = env!("CARGO_BIN_EXE_cilium-cni");

/// What the plugin printed and returned.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {self:?}"))
    }

    fn error_code(&self) -> u64 {
        assert_eq!(self.code, 1, "{self:?}");
        self.json()["code"].as_u64().expect("code")
    }
}

/// Runs the plugin (inside `netns` via `ip netns exec` when given).
fn plugin(netns: Option<&str>, env: &[(&str, &str)], stdin: &str) -> Run {
    let mut cmd = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, BIN]);
            c
        }
        None => Command::new(BIN),
    };
    for (k, _) in std::env::vars() {
        if k.starts_with("CNI_") || k == "CILIUM_RS_SOCKET" {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("start the plugin");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait for the plugin");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn conf(version: &str) -> String {
    json!({"cniVersion": version, "name": "cilium", "type": "cilium-cni", "mtu": 1450}).to_string()
}

const NO_AGENT: &str = "/nonexistent/cilium-cni-test/agent.sock";

#[test]
fn version_and_bad_input() {
    let r = plugin(
        None,
        &[
            ("CNI_COMMAND", "VERSION"),
            ("CNI_NETNS", "dummy"),
            ("CNI_IFNAME", "dummy"),
            ("CNI_PATH", "dummy"),
        ],
        r#"{"cniVersion":"1.0.0"}"#,
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.json(),
        json!({"cniVersion": "1.0.0", "supportedVersions": ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]})
    );

    let r = plugin(None, &[("CNI_COMMAND", "ADD")], &conf("1.0.0"));
    assert_eq!(r.error_code(), 4);
    assert_eq!(
        r.json()["msg"],
        "required env variables [CNI_CONTAINERID CNI_NETNS CNI_IFNAME] missing"
    );
    assert!(r.stderr.contains("ADD failed"), "{r:?}");

    let add = [
        ("CNI_COMMAND", "ADD"),
        ("CNI_CONTAINERID", "c1"),
        ("CNI_NETNS", "/run/netns/x"),
        ("CNI_IFNAME", "eth0"),
        ("CILIUM_RS_SOCKET", NO_AGENT),
    ];
    assert_eq!(plugin(None, &add, "{").error_code(), 6);
    let r = plugin(None, &add, &conf("9.9.9"));
    assert_eq!(r.error_code(), 1);
    assert!(r.json()["details"].as_str().unwrap().contains("\"9.9.9\""));
    assert_eq!(
        plugin(None, &add, r#"{"cniVersion":"1.0.0","type":"cilium-cni"}"#).error_code(),
        7
    );
}

#[test]
fn status_without_an_agent_is_not_available() {
    let r = plugin(
        None,
        &[
            ("CNI_COMMAND", "STATUS"),
            ("CNI_CONTAINERID", ""),
            ("CNI_NETNS", ""),
            ("CNI_IFNAME", ""),
            ("CNI_PATH", "/opt/cni/bin"),
            ("CILIUM_RS_SOCKET", NO_AGENT),
        ],
        &conf("1.1.0"),
    );
    assert_eq!(r.error_code(), 50);
    assert!(
        r.json()["msg"]
            .as_str()
            .unwrap()
            .starts_with(&format!("agent not reachable at {NO_AGENT}")),
        "{r:?}"
    );
    assert_eq!(r.json()["cniVersion"], "1.1.0");
}

#[test]
fn add_without_an_agent_asks_to_try_again() {
    // The agent is asked before CNI_NETNS is even opened.
    let r = plugin(
        None,
        &[
            ("CNI_COMMAND", "ADD"),
            ("CNI_CONTAINERID", "c1"),
            ("CNI_NETNS", "/run/netns/cilium-cni-test-absent"),
            ("CNI_IFNAME", "eth0"),
            ("CILIUM_RS_SOCKET", NO_AGENT),
        ],
        &conf("1.0.0"),
    );
    assert_eq!(r.error_code(), 11, "{r:?}");
}

/// A fake agent: the routes the plugin uses, with an in-memory table of leases and
/// endpoints, on a unix socket in a temporary directory.
struct FakeAgent {
    dir: PathBuf,
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Vec<(String, String, Value)>>>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct AgentState {
    leases: HashMap<String, String>,
    endpoints: HashMap<String, Value>,
}

impl FakeAgent {
    fn start(tag: &str) -> FakeAgent {
        let dir = std::env::temp_dir().join(format!("cilium-cni-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let socket = dir.join("agent.sock");
        let listener = UnixListener::bind(&socket).expect("bind the fake agent");
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, seen) = (stop.clone(), seen.clone());
            std::thread::spawn(move || {
                let mut state = AgentState::default();
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        serve(conn, &mut state, &seen);
                    }
                }
            })
        };
        FakeAgent {
            dir,
            socket,
            stop,
            seen,
            thread: Some(thread),
        }
    }

    fn socket(&self) -> &str {
        self.socket.to_str().expect("UTF-8 temp dir")
    }

    fn seen(&self) -> Vec<(String, String, Value)> {
        self.seen.lock().expect("lock").clone()
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = UnixStream::connect(&self.socket);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for FakeAgent {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn serve(conn: UnixStream, state: &mut AgentState, seen: &Mutex<Vec<(String, String, Value)>>) {
    let mut reader = BufReader::new(conn);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() || line.is_empty() {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut length = 0;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.lock()
        .expect("lock")
        .push((method.clone(), path.clone(), body.clone()));
    let (status, answer) = answer(&method, &path, &body, state);
    let text = answer.to_string();
    let mut conn = reader.into_inner();
    let _ = write!(
        conn,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

fn answer(method: &str, path: &str, body: &Value, state: &mut AgentState) -> (u16, Value) {
    let key_of = |a: &Value| {
        format!(
            "{}/{}",
            a["containerID"].as_str().unwrap_or_default(),
            a["ifname"].as_str().unwrap_or_default()
        )
    };
    match (method, path) {
        ("GET", "/v1/healthz") => (
            200,
            json!({
                "ready": true, "message": "ok", "node": "test", "version": "0",
                "source": "test", "pod_cidr": "10.212.0.0/24", "ipam_used": state.leases.len(),
                "ipam_capacity": 254, "endpoints": state.endpoints.len(), "identities": 0,
                "policy_revision": 1, "services": 0, "pin_dir": "/sys/fs/bpf/test",
                "replaced_links": 0, "events_lost": 0, "hubble": null, "metrics": null,
                "source_error": null,
            }),
        ),
        ("POST", "/v1/ipam") => {
            let key = key_of(body);
            let n = state.leases.len() + 10;
            let ip = state
                .leases
                .entry(key)
                .or_insert_with(|| format!("10.212.0.{n}"))
                .clone();
            (
                200,
                json!({"owner": body, "ip": ip, "prefix_len": 32, "gateway": "169.254.1.1",
                       "pool": "10.212.0.0/24"}),
            )
        }
        ("PUT", "/v1/endpoint") => {
            let key = key_of(&body["attachment"]);
            let ep = json!({
                "id": 42, "attachment": body["attachment"], "pod": null, "ip": body["ip"],
                "identity": 5000, "labels": body["labels"], "netns": body["netns"],
                "host_ifname": body["host_ifname"], "host_ifindex": body["host_ifindex"],
                "state": "ready", "policy_revision": 1, "ingress_enforced": false,
                "egress_enforced": false,
            });
            state.endpoints.insert(key, ep.clone());
            (200, ep)
        }
        ("POST", "/v1/gc") => {
            let valid: Vec<String> = body["valid"]
                .as_array()
                .map(|a| a.iter().map(key_of).collect())
                .unwrap_or_default();
            let gone: Vec<String> = state
                .leases
                .keys()
                .filter(|k| !valid.contains(k))
                .cloned()
                .collect();
            let removed: Vec<Value> = gone
                .iter()
                .map(|k| {
                    state.leases.remove(k);
                    state.endpoints.remove(k);
                    let (c, i) = k.split_once('/').expect("key");
                    json!({"containerID": c, "ifname": i})
                })
                .collect();
            (200, json!({"removed": removed, "errors": []}))
        }
        (m, p) if p.starts_with("/v1/attachment/") => {
            let key = p.trim_start_matches("/v1/attachment/").to_owned();
            match m {
                "GET" => match state.endpoints.get(&key) {
                    Some(ep) => (200, ep.clone()),
                    None => (404, json!({"message": format!("no endpoint for {key}")})),
                },
                "DELETE" => {
                    let removed = state.endpoints.remove(&key).is_some()
                        | state.leases.remove(&key).is_some();
                    (200, json!({"removed": removed}))
                }
                _ => (405, json!({"message": "method"})),
            }
        }
        _ => (404, json!({"message": format!("no route {method} {path}")})),
    }
}

fn attachment_env<'a>(cmd: &'a str, pod_path: &'a str, socket: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("CNI_COMMAND", cmd),
        ("CNI_CONTAINERID", "cnitest-c1"),
        ("CNI_NETNS", pod_path),
        ("CNI_IFNAME", "eth0"),
        (
            "CNI_ARGS",
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0",
        ),
        ("CNI_PATH", "/opt/cni/bin"),
        ("CILIUM_RS_SOCKET", socket),
    ]
}

#[test]
fn lifecycle_against_a_fake_agent() {
    let Some(ns) = Namespaces::create("life") else {
        return;
    };
    let mut agent = FakeAgent::start("life");
    let pod_path = ns.pod_path();
    let socket = agent.socket().to_owned();
    let host = cilium_cni::host_ifname("cnitest-c1", "eth0");
    let node = Some(ns.node.as_str());
    let env = |cmd| attachment_env(cmd, &pod_path, &socket);

    let add = plugin(node, &env("ADD"), &conf("1.1.0"));
    assert_eq!(add.code, 0, "{add:?}");
    let result = add.json();
    assert_eq!(result["cniVersion"], "1.1.0");
    assert_eq!(result["interfaces"][0]["name"], host.as_str());
    assert_eq!(result["interfaces"][1]["name"], "eth0");
    assert_eq!(result["interfaces"][1]["sandbox"], pod_path.as_str());
    assert_eq!(result["interfaces"][1]["mtu"], 1450);
    assert_eq!(result["ips"][0]["address"], "10.212.0.10/32");
    let seen = agent.seen();
    let put = seen
        .iter()
        .find(|(m, _, _)| m == "PUT")
        .expect("endpoint registered");
    assert_eq!(put.2["host_ifname"], host.as_str());
    assert_eq!(put.2["pod_name"], "web-0");
    assert_eq!(put.2["container_mac"], result["interfaces"][1]["mac"]);
    assert_eq!(
        seen.iter().map(|(m, _, _)| m.as_str()).collect::<Vec<_>>(),
        ["POST", "PUT"],
        "lease first, then the endpoint"
    );
    assert!(Namespaces::links(&ns.node).contains(&host));
    assert!(Namespaces::links(&ns.pod).contains(&"eth0".to_owned()));

    // A second ADD of the same attachment is refused and leaves the first one intact.
    let again = plugin(node, &env("ADD"), &conf("1.1.0"));
    assert_eq!(again.error_code(), 4, "{again:?}");

    let mut with_prev: Value = serde_json::from_str(&conf("1.1.0")).expect("conf");
    with_prev["prevResult"] = result.clone();
    let with_prev = with_prev.to_string();
    let check = plugin(node, &env("CHECK"), &with_prev);
    assert_eq!((check.code, check.stdout.as_str()), (0, ""), "{check:?}");

    // Break it: CHECK names the missing default route.
    let del_route = Command::new("ip")
        .args(["-n", &ns.pod, "route", "del", "default"])
        .status()
        .expect("ip");
    assert!(del_route.success());
    let check = plugin(node, &env("CHECK"), &with_prev);
    assert_eq!(check.error_code(), 100, "{check:?}");
    assert!(
        check.json()["msg"]
            .as_str()
            .unwrap()
            .contains("no default route via 169.254.1.1 dev eth0"),
        "{check:?}"
    );

    let status_env: Vec<(&str, &str)> = vec![
        ("CNI_COMMAND", "STATUS"),
        ("CNI_CONTAINERID", ""),
        ("CNI_NETNS", ""),
        ("CNI_IFNAME", ""),
        ("CNI_PATH", "/opt/cni/bin"),
        ("CILIUM_RS_SOCKET", &socket),
    ];
    let status = plugin(node, &status_env, &conf("1.1.0"));
    assert_eq!((status.code, status.stdout.as_str()), (0, ""), "{status:?}");

    let del = plugin(node, &env("DEL"), &with_prev);
    assert_eq!((del.code, del.stdout.as_str()), (0, ""), "{del:?}");
    assert_eq!(Namespaces::links(&ns.node), ["lo"]);
    assert_eq!(Namespaces::links(&ns.pod), ["lo"]);
    // Again, without prevResult and without CNI_NETNS: still fine.
    let bare: Vec<_> = env("DEL")
        .into_iter()
        .filter(|(k, _)| *k != "CNI_NETNS")
        .collect();
    let del = plugin(node, &bare, &conf("1.1.0"));
    assert_eq!(del.code, 0, "{del:?}");

    // GC: an attachment the runtime forgot about goes, veth and lease.
    let add = plugin(node, &env("ADD"), &conf("1.1.0"));
    assert_eq!(add.code, 0, "{add:?}");
    let mut gc_env = status_env.clone();
    gc_env[0] = ("CNI_COMMAND", "GC");
    let gc = plugin(node, &gc_env, &conf("1.1.0"));
    assert_eq!(gc.code, 0, "{gc:?}");
    assert!(
        gc.stderr.contains(&format!("deleted host veth {host}")),
        "{gc:?}"
    );
    assert_eq!(Namespaces::links(&ns.node), ["lo"]);

    // DEL with the agent gone: local cleanup, success, a log line.
    let add = plugin(node, &env("ADD"), &conf("1.1.0"));
    assert_eq!(add.code, 0, "{add:?}");
    agent.stop();
    let del = plugin(node, &env("DEL"), &conf("1.1.0"));
    assert_eq!(del.code, 0, "{del:?}");
    assert!(del.stderr.contains("agent not reachable"), "{del:?}");
    assert_eq!(Namespaces::links(&ns.node), ["lo"]);
}

#[test]
fn add_without_an_agent_leaves_nothing_behind() {
    let Some(ns) = Namespaces::create("noagent") else {
        return;
    };
    let pod_path = ns.pod_path();
    let env = attachment_env("ADD", &pod_path, NO_AGENT);
    let r = plugin(Some(&ns.node), &env, &conf("1.0.0"));
    assert_eq!(r.error_code(), 11, "{r:?}");
    assert_eq!(Namespaces::links(&ns.node), ["lo"]);
    assert_eq!(Namespaces::links(&ns.pod), ["lo"]);
    assert!(!Path::new(NO_AGENT).exists());
}
