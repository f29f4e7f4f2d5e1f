//! The command handlers against a fake agent and a fake node (no root, no agent): the
//! order of agent and node calls, undo on failure, error codes, result shapes, and every
//! request the real runtimes sent in the captures under `tests/data/` (copies of
//! `../shared/conformance/cni/`; `shared_captures_have_not_drifted` compares them).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;

use cilium_agent_api::{
    Attachment, ClientError, Deleted, Endpoint, EndpointRequest, GcRequest, GcResult, IpamLease,
    Status,
};
use cilium_cni::netlink::{Link, MacAddr, NUD_PERMANENT, Neigh, RT_SCOPE_LINK, Route};
use cilium_cni::node::{LinkState, LiveState, NodeError, Plumbed, Plumbing};
use cilium_cni::{Agent, CniEnv, NetConf, Node, code, host_ifname, run};
use serde_json::{Value, json};

const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
const SHARED_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/conformance/cni"
);
const CAPTURES: [&str; 3] = [
    "cnitool-1.1.2-spy-capture.jsonl",
    "cnitool-1.3.0-spec1.1.0-spy-capture.jsonl",
    "podman-4.3.1-cni-backend-spy-capture.jsonl",
];

const HOST_MAC: MacAddr = MacAddr([0x0a, 0x58, 0, 0, 0, 1]);
const POD_MAC: MacAddr = MacAddr([0x0a, 0x58, 0, 0, 0, 2]);
const POD_IP: Ipv4Addr = Ipv4Addr::new(10, 200, 0, 5);
const GW: Ipv4Addr = Ipv4Addr::new(169, 254, 1, 1);

/// How the fake agent behaves.
#[derive(Default)]
struct FakeAgent {
    down: bool,
    endpoint_status: Option<u16>,
    not_ready: bool,
    missing_endpoint: bool,
    gc_removed: Vec<Attachment>,
    gc_errors: Vec<String>,
    calls: RefCell<Vec<String>>,
    endpoint_requests: RefCell<Vec<EndpointRequest>>,
    gc_requests: RefCell<Vec<GcRequest>>,
}

fn unreachable_error() -> ClientError {
    ClientError::Unreachable {
        path: "/nonexistent/agent.sock".into(),
        source: std::io::Error::from_raw_os_error(libc::ENOENT),
    }
}

fn endpoint(a: &Attachment, state: &str) -> Endpoint {
    Endpoint {
        id: 7,
        attachment: a.clone(),
        pod: None,
        ip: POD_IP.to_string(),
        identity: 1234,
        labels: vec![],
        netns: "/run/netns/p".into(),
        host_ifname: host_ifname(&a.container_id, &a.ifname),
        host_ifindex: 7,
        state: state.into(),
        policy_revision: 1,
        ingress_enforced: false,
        egress_enforced: false,
    }
}

impl FakeAgent {
    fn call(&self, what: &str) -> Result<(), ClientError> {
        self.calls.borrow_mut().push(what.to_owned());
        if self.down {
            Err(unreachable_error())
        } else {
            Ok(())
        }
    }

    fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }
}

impl Agent for FakeAgent {
    fn status(&self) -> Result<Status, ClientError> {
        self.call("status")?;
        Ok(Status {
            ready: !self.not_ready,
            message: if self.not_ready {
                "datapath not loaded".into()
            } else {
                "ok".into()
            },
            node: "n".into(),
            version: "0".into(),
            source: "test".into(),
            pod_cidr: "10.200.0.0/24".into(),
            ipam_used: 0,
            ipam_capacity: 254,
            endpoints: 0,
            identities: 0,
            policy_revision: 1,
            services: 0,
            pin_dir: "/sys/fs/bpf".into(),
            replaced_links: 0,
            events_lost: 0,
            hubble: None,
            metrics: None,
            source_error: None,
        })
    }

    fn ipam_allocate(&self, owner: &Attachment) -> Result<IpamLease, ClientError> {
        self.call("ipam")?;
        Ok(IpamLease {
            owner: owner.clone(),
            ip: POD_IP.to_string(),
            prefix_len: 32,
            gateway: GW.to_string(),
            pool: "10.200.0.0/24".into(),
        })
    }

    fn endpoint_add(&self, req: &EndpointRequest) -> Result<Endpoint, ClientError> {
        self.call("endpoint_add")?;
        self.endpoint_requests.borrow_mut().push(req.clone());
        if let Some(status) = self.endpoint_status {
            return Err(ClientError::Status {
                status,
                message: "policy could not be computed".into(),
            });
        }
        Ok(endpoint(&req.attachment, "ready"))
    }

    fn attachment(&self, a: &Attachment) -> Result<Endpoint, ClientError> {
        self.call("attachment")?;
        if self.missing_endpoint {
            return Err(ClientError::Status {
                status: 404,
                message: "no endpoint".into(),
            });
        }
        Ok(endpoint(
            a,
            if self.not_ready { "not-ready" } else { "ready" },
        ))
    }

    fn attachment_delete(&self, _: &Attachment) -> Result<Deleted, ClientError> {
        self.call("attachment_delete")?;
        if self.endpoint_status == Some(500) {
            return Err(ClientError::Status {
                status: 500,
                message: "map write failed".into(),
            });
        }
        Ok(Deleted { removed: true })
    }

    fn gc(&self, req: &GcRequest) -> Result<GcResult, ClientError> {
        self.call("gc")?;
        self.gc_requests.borrow_mut().push(req.clone());
        Ok(GcResult {
            removed: self.gc_removed.clone(),
            errors: self.gc_errors.clone(),
        })
    }
}

/// How the fake node behaves.
#[derive(Default)]
struct FakeNode {
    /// `Some(ours)`: CNI_IFNAME is taken.
    ifname_taken: Option<bool>,
    bad_netns: bool,
    unplumb_fails: bool,
    /// Whether the host veth exists (for unplumb's answer).
    veth_gone: bool,
    live: Option<LiveState>,
    calls: RefCell<Vec<String>>,
}

impl FakeNode {
    fn calls(&self) -> Vec<String> {
        self.calls.borrow().clone()
    }
}

impl Node for FakeNode {
    fn plumb(&self, p: &Plumbing) -> Result<Plumbed, NodeError> {
        self.calls
            .borrow_mut()
            .push(format!("plumb {}", p.host_ifname));
        if self.bad_netns {
            return Err(NodeError::Netns {
                path: p.netns.clone(),
                source: std::io::Error::from_raw_os_error(libc::ENOENT),
            });
        }
        if let Some(ours) = self.ifname_taken {
            return Err(NodeError::IfnameExists {
                ifname: p.ifname.clone(),
                netns: p.netns.clone(),
                ours,
            });
        }
        Ok(Plumbed {
            host_ifindex: 7,
            host_mac: HOST_MAC,
            container_mac: POD_MAC,
        })
    }

    fn unplumb(&self, host: &str) -> Result<bool, NodeError> {
        self.calls.borrow_mut().push(format!("unplumb {host}"));
        if self.unplumb_fails {
            return Err(NodeError::Netlink(
                cilium_cni::netlink::NetlinkError::Kernel {
                    op: format!("delete link {host}"),
                    errno: libc::EBUSY,
                    ext: None,
                },
            ));
        }
        Ok(!self.veth_gone)
    }

    fn inspect(&self, netns: &str, _: &str, _: &str) -> Result<LiveState, NodeError> {
        self.calls.borrow_mut().push(format!("inspect {netns}"));
        if self.bad_netns {
            return Err(NodeError::Netns {
                path: netns.into(),
                source: std::io::Error::from_raw_os_error(libc::ENOENT),
            });
        }
        Ok(self.live.clone().unwrap_or_default())
    }
}

/// The state a successful ADD leaves (pod side index 2, host side 7).
fn good_live(host: &str) -> LiveState {
    let link = |index, name: &str, mac| Link {
        index,
        name: name.into(),
        mac: Some(mac),
        up: true,
        mtu: 1500,
        kind: Some("veth".into()),
    };
    LiveState {
        container: Some(LinkState {
            link: link(2, "eth0", POD_MAC),
            addrs: vec![(POD_IP, 32)],
        }),
        container_routes: vec![
            Route {
                dst: GW,
                dst_len: 32,
                gateway: None,
                oif: Some(2),
                scope: RT_SCOPE_LINK,
            },
            Route {
                dst: Ipv4Addr::UNSPECIFIED,
                dst_len: 0,
                gateway: Some(GW),
                oif: Some(2),
                scope: 0,
            },
        ],
        container_neighs: vec![Neigh {
            ifindex: 2,
            ip: GW,
            mac: Some(HOST_MAC),
            state: NUD_PERMANENT,
        }],
        host: Some(LinkState {
            link: link(7, host, HOST_MAC),
            addrs: vec![],
        }),
        host_routes: vec![Route {
            dst: POD_IP,
            dst_len: 32,
            gateway: None,
            oif: Some(7),
            scope: RT_SCOPE_LINK,
        }],
        host_neighs: vec![Neigh {
            ifindex: 7,
            ip: POD_IP,
            mac: Some(POD_MAC),
            state: NUD_PERMANENT,
        }],
    }
}

/// `CNI_*` variables by name.
type Env = BTreeMap<String, String>;

fn env(cmd: &str) -> Env {
    [
        ("CNI_COMMAND", cmd),
        ("CNI_CONTAINERID", "c0ffee"),
        ("CNI_NETNS", "/run/netns/p"),
        ("CNI_IFNAME", "eth0"),
        (
            "CNI_ARGS",
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;CILIUM_LABELS=k8s:tier=fe, k8s:app=web",
        ),
        ("CNI_PATH", "/opt/cni/bin"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn conf(version: &str) -> Vec<u8> {
    json!({
        "cniVersion": version,
        "name": "cilium",
        "type": "cilium-cni",
        "labels": ["k8s:app=web"],
    })
    .to_string()
    .into_bytes()
}

fn host() -> String {
    host_ifname("c0ffee", "eth0")
}

fn stdout_json(out: &cilium_cni::Outcome) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {:?}", out.stdout))
}

fn error_of(out: &cilium_cni::Outcome) -> (u64, String) {
    assert_eq!(out.exit_code, 1, "{out:?}");
    let v = stdout_json(out);
    for key in ["cniVersion", "code", "msg", "details"] {
        assert!(v.get(key).is_some(), "error JSON lacks {key}: {v}");
    }
    (
        v["code"].as_u64().unwrap(),
        v["msg"].as_str().unwrap().to_owned(),
    )
}

#[test]
fn add_asks_the_agent_then_plumbs_then_registers() {
    let agent = FakeAgent::default();
    let node = FakeNode::default();
    let out = run(&env("ADD"), &conf("1.0.0"), &agent, &node);
    assert_eq!(out.exit_code, 0, "{out:?}");
    assert_eq!(agent.calls(), ["ipam", "endpoint_add"]);
    assert_eq!(node.calls(), [format!("plumb {}", host())]);
    let req = &agent.endpoint_requests.borrow()[0];
    assert_eq!(req.host_ifname, host());
    assert_eq!(req.host_ifindex, 7);
    assert_eq!(req.host_mac, "0a:58:00:00:00:01");
    assert_eq!(req.container_mac, "0a:58:00:00:00:02");
    assert_eq!(req.ip, "10.200.0.5");
    assert_eq!(req.netns, "/run/netns/p");
    assert_eq!(req.pod_namespace.as_deref(), Some("default"));
    assert_eq!(req.pod_name.as_deref(), Some("web-0"));
    assert_eq!(req.labels, ["k8s:app=web", "k8s:tier=fe"]);
    assert_eq!(
        stdout_json(&out),
        json!({
            "cniVersion": "1.0.0",
            "interfaces": [
                {"name": host(), "mac": "0a:58:00:00:00:01"},
                {"name": "eth0", "mac": "0a:58:00:00:00:02", "sandbox": "/run/netns/p"},
            ],
            "ips": [{"address": "10.200.0.5/32", "gateway": "169.254.1.1", "interface": 1}],
            "routes": [{"dst": "0.0.0.0/0", "gw": "169.254.1.1"}],
            "dns": {},
        })
    );
}

#[test]
fn add_result_per_version() {
    for (v, has_version, has_mtu) in [
        ("0.3.1", true, false),
        ("0.4.0", true, false),
        ("1.0.0", false, false),
        ("1.1.0", false, true),
    ] {
        let out = run(
            &env("ADD"),
            &conf(v),
            &FakeAgent::default(),
            &FakeNode::default(),
        );
        let r = stdout_json(&out);
        assert_eq!(r["cniVersion"], v);
        assert_eq!(r["ips"][0].get("version").is_some(), has_version, "{v}");
        assert_eq!(r["interfaces"][1].get("mtu").is_some(), has_mtu, "{v}");
        assert_eq!(r["interfaces"][1]["sandbox"], "/run/netns/p");
    }
}

#[test]
fn add_merges_a_prev_result() {
    let stdin = json!({
        "cniVersion": "1.0.0", "name": "cilium", "type": "cilium-cni",
        "prevResult": {"cniVersion": "1.0.0", "dns": {"nameservers": ["10.96.0.10"]}},
    });
    let out = run(
        &env("ADD"),
        stdin.to_string().as_bytes(),
        &FakeAgent::default(),
        &FakeNode::default(),
    );
    let r = stdout_json(&out);
    assert_eq!(r["dns"]["nameservers"][0], "10.96.0.10");
    assert_eq!(r["ips"][0]["interface"], 1);
}

#[test]
fn add_with_the_agent_down_creates_nothing() {
    let agent = FakeAgent {
        down: true,
        ..FakeAgent::default()
    };
    let node = FakeNode::default();
    let out = run(&env("ADD"), &conf("1.0.0"), &agent, &node);
    let (code, msg) = error_of(&out);
    assert_eq!(code, u64::from(code::TRY_AGAIN_LATER));
    assert!(msg.contains("agent not reachable"), "{msg}");
    assert!(node.calls().is_empty(), "{:?}", node.calls());
}

#[test]
fn add_undoes_everything_when_registration_fails() {
    for (status, want) in [(500, code::INTERNAL), (503, code::TRY_AGAIN_LATER)] {
        let agent = FakeAgent {
            endpoint_status: Some(status),
            ..FakeAgent::default()
        };
        let node = FakeNode::default();
        let out = run(&env("ADD"), &conf("1.0.0"), &agent, &node);
        let (code, msg) = error_of(&out);
        assert_eq!(code, u64::from(want), "{msg}");
        assert!(
            msg.starts_with("register the endpoint: agent answered"),
            "{msg}"
        );
        assert_eq!(
            node.calls(),
            [format!("plumb {}", host()), format!("unplumb {}", host())]
        );
        assert_eq!(agent.calls(), ["ipam", "endpoint_add", "attachment_delete"]);
    }
}

#[test]
fn add_with_the_ifname_taken() {
    // Taken by an earlier ADD of this very attachment: its address stays.
    let agent = FakeAgent::default();
    let node = FakeNode {
        ifname_taken: Some(true),
        ..FakeNode::default()
    };
    let out = run(&env("ADD"), &conf("1.0.0"), &agent, &node);
    let (code, msg) = error_of(&out);
    assert_eq!(code, u64::from(code::INVALID_ENV));
    assert_eq!(
        msg,
        "CNI_IFNAME: interface eth0 already exists in /run/netns/p"
    );
    assert_eq!(agent.calls(), ["ipam"]);
    // Taken by something else: the new lease is given back.
    let agent = FakeAgent::default();
    let node = FakeNode {
        ifname_taken: Some(false),
        ..FakeNode::default()
    };
    run(&env("ADD"), &conf("1.0.0"), &agent, &node);
    assert_eq!(agent.calls(), ["ipam", "attachment_delete"]);
}

#[test]
fn add_with_a_bad_netns() {
    let agent = FakeAgent::default();
    let node = FakeNode {
        bad_netns: true,
        ..FakeNode::default()
    };
    let (code, msg) = error_of(&run(&env("ADD"), &conf("1.0.0"), &agent, &node));
    assert_eq!(code, u64::from(code::INVALID_NETNS));
    assert!(msg.starts_with("network namespace /run/netns/p: "), "{msg}");
    assert_eq!(agent.calls(), ["ipam", "attachment_delete"]);
}

#[test]
fn del_is_idempotent_and_needs_no_netns_or_prev_result() {
    let mut e = env("DEL");
    e.remove("CNI_NETNS");
    for veth_gone in [false, true] {
        let agent = FakeAgent::default();
        let node = FakeNode {
            veth_gone,
            ..FakeNode::default()
        };
        let out = run(&e, &conf("1.0.0"), &agent, &node);
        assert_eq!((out.exit_code, out.stdout.as_str()), (0, ""), "{out:?}");
        assert_eq!(agent.calls(), ["attachment_delete"]);
        assert_eq!(node.calls(), [format!("unplumb {}", host())]);
    }
}

#[test]
fn del_with_the_agent_down_succeeds_once_the_veth_is_gone() {
    let agent = FakeAgent {
        down: true,
        ..FakeAgent::default()
    };
    let node = FakeNode::default();
    let out = run(&env("DEL"), &conf("1.0.0"), &agent, &node);
    assert_eq!(out.exit_code, 0, "{out:?}");
    assert_eq!(node.calls(), [format!("unplumb {}", host())]);
    assert!(
        out.log[0].contains("agent not reachable") && out.log[0].contains("deleted"),
        "{:?}",
        out.log
    );
    // ... but not when the veth could not be deleted: try again later.
    let node = FakeNode {
        unplumb_fails: true,
        ..FakeNode::default()
    };
    let (code, msg) = error_of(&run(&env("DEL"), &conf("1.0.0"), &agent, &node));
    assert_eq!(code, u64::from(code::TRY_AGAIN_LATER));
    assert!(msg.contains("Device or resource busy"), "{msg}");
}

#[test]
fn del_with_an_agent_error_fails() {
    let agent = FakeAgent {
        endpoint_status: Some(500),
        ..FakeAgent::default()
    };
    let node = FakeNode::default();
    let (code, msg) = error_of(&run(&env("DEL"), &conf("1.0.0"), &agent, &node));
    assert_eq!(code, u64::from(code::INTERNAL));
    assert!(msg.contains("map write failed"), "{msg}");
    assert_eq!(node.calls().len(), 1, "the veth is deleted anyway");
}

fn check_stdin(prev: Value) -> Vec<u8> {
    json!({"cniVersion": "1.0.0", "name": "cilium", "type": "cilium-cni", "prevResult": prev})
        .to_string()
        .into_bytes()
}

fn add_result() -> Value {
    let out = run(
        &env("ADD"),
        &conf("1.0.0"),
        &FakeAgent::default(),
        &FakeNode::default(),
    );
    stdout_json(&out)
}

#[test]
fn check_passes_on_the_state_add_built() {
    let agent = FakeAgent::default();
    let node = FakeNode {
        live: Some(good_live(&host())),
        ..FakeNode::default()
    };
    let out = run(&env("CHECK"), &check_stdin(add_result()), &agent, &node);
    assert_eq!((out.exit_code, out.stdout.as_str()), (0, ""), "{out:?}");
    assert_eq!(agent.calls(), ["attachment"]);
}

#[test]
fn check_names_what_is_wrong() {
    let mut live = good_live(&host());
    live.container_routes.pop(); // the default route
    live.host.as_mut().unwrap().link.up = false;
    live.container.as_mut().unwrap().addrs.clear();
    let agent = FakeAgent {
        not_ready: true,
        ..FakeAgent::default()
    };
    let node = FakeNode {
        live: Some(live),
        ..FakeNode::default()
    };
    let (code, msg) = error_of(&run(
        &env("CHECK"),
        &check_stdin(add_result()),
        &agent,
        &node,
    ));
    assert_eq!(code, u64::from(code::CHECK_FAILED));
    for part in [
        "eth0 lacks address 10.200.0.5/32",
        "no default route via 169.254.1.1 dev eth0 in /run/netns/p",
        &format!("host veth {} is down", host()),
        "endpoint 7 is \"not-ready\", not ready",
    ] {
        assert!(msg.contains(part), "{msg:?} lacks {part:?}");
    }

    let node = FakeNode {
        live: Some(LiveState::default()),
        ..FakeNode::default()
    };
    let agent = FakeAgent {
        missing_endpoint: true,
        ..FakeAgent::default()
    };
    let (_, msg) = error_of(&run(
        &env("CHECK"),
        &check_stdin(add_result()),
        &agent,
        &node,
    ));
    for part in [
        "interface eth0 is missing in /run/netns/p",
        &format!("host veth {} is missing", host()),
        "the agent has no endpoint for c0ffee/eth0",
    ] {
        assert!(msg.contains(part), "{msg:?} lacks {part:?}");
    }
}

#[test]
fn check_needs_a_prev_result_and_the_agent() {
    let (code, _) = error_of(&run(
        &env("CHECK"),
        &conf("1.0.0"),
        &FakeAgent::default(),
        &FakeNode::default(),
    ));
    assert_eq!(code, u64::from(code::INVALID_CONFIG));
    let agent = FakeAgent {
        down: true,
        ..FakeAgent::default()
    };
    let node = FakeNode {
        live: Some(good_live(&host())),
        ..FakeNode::default()
    };
    let (code, _) = error_of(&run(
        &env("CHECK"),
        &check_stdin(add_result()),
        &agent,
        &node,
    ));
    assert_eq!(code, u64::from(code::TRY_AGAIN_LATER));
}

fn status_env() -> BTreeMap<String, String> {
    let mut e = env("STATUS");
    for k in ["CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME"] {
        e.insert(k.into(), String::new());
    }
    e
}

#[test]
fn status() {
    let node = FakeNode::default();
    let out = run(&status_env(), &conf("1.1.0"), &FakeAgent::default(), &node);
    assert_eq!((out.exit_code, out.stdout.as_str()), (0, ""));
    let agent = FakeAgent {
        not_ready: true,
        ..FakeAgent::default()
    };
    let (code, msg) = error_of(&run(&status_env(), &conf("1.1.0"), &agent, &node));
    assert_eq!(
        (code, msg.as_str()),
        (50, "agent not ready: datapath not loaded")
    );
    let agent = FakeAgent {
        down: true,
        ..FakeAgent::default()
    };
    let (code, msg) = error_of(&run(&status_env(), &conf("1.1.0"), &agent, &node));
    assert_eq!(code, 50);
    assert!(
        msg.starts_with("agent not reachable at /nonexistent/agent.sock"),
        "{msg}"
    );
    assert!(node.calls().is_empty());
}

#[test]
fn gc_sends_the_valid_list_and_deletes_the_removed_veths() {
    let removed = Attachment {
        container_id: "old".into(),
        ifname: "eth0".into(),
    };
    let agent = FakeAgent {
        gc_removed: vec![removed.clone()],
        ..FakeAgent::default()
    };
    let node = FakeNode::default();
    let stdin = json!({
        "cniVersion": "1.1.0", "name": "cilium", "type": "cilium-cni",
        "cni.dev/valid-attachments": [{"containerID": "c0ffee", "ifname": "eth0"}],
    });
    let out = run(
        &status_env_for("GC"),
        stdin.to_string().as_bytes(),
        &agent,
        &node,
    );
    assert_eq!((out.exit_code, out.stdout.as_str()), (0, ""), "{out:?}");
    assert_eq!(
        agent.gc_requests.borrow()[0].valid[0].container_id,
        "c0ffee"
    );
    assert_eq!(
        node.calls(),
        [format!("unplumb {}", host_ifname("old", "eth0"))]
    );

    // No valid-attachments key: nothing is valid. Errors are reported together.
    let agent = FakeAgent {
        gc_removed: vec![removed],
        gc_errors: vec!["lease 10.200.0.9: busy".into()],
        ..FakeAgent::default()
    };
    let node = FakeNode {
        unplumb_fails: true,
        ..FakeNode::default()
    };
    let out = run(&status_env_for("GC"), &conf("1.1.0"), &agent, &node);
    assert!(agent.gc_requests.borrow()[0].valid.is_empty());
    let (code, msg) = error_of(&out);
    assert_eq!(code, u64::from(code::INTERNAL));
    assert!(msg.starts_with("garbage collection: 2 error(s)"), "{msg}");
    let details = stdout_json(&out)["details"].as_str().unwrap().to_owned();
    assert!(details.contains("busy") && details.contains("delete host veth"));
}

fn status_env_for(cmd: &str) -> BTreeMap<String, String> {
    let mut e = status_env();
    e.insert("CNI_COMMAND".into(), cmd.into());
    e
}

#[test]
fn version() {
    let node = FakeNode::default();
    let agent = FakeAgent::default();
    let e: BTreeMap<String, String> = [("CNI_COMMAND".to_owned(), "VERSION".to_owned())].into();
    let out = run(&e, br#"{"cniVersion":"0.4.0"}"#, &agent, &node);
    assert_eq!(
        stdout_json(&out),
        json!({"cniVersion": "0.4.0", "supportedVersions": ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]})
    );
    let out = run(&e, b"", &agent, &node);
    assert_eq!(stdout_json(&out)["cniVersion"], "1.1.0");
    let (code, _) = error_of(&run(&e, b"{", &agent, &node));
    assert_eq!(code, u64::from(code::DECODE));
    assert!(agent.calls().is_empty() && node.calls().is_empty());
}

#[test]
fn bad_input_error_codes() {
    let agent = FakeAgent::default();
    let node = FakeNode::default();
    let mut no_netns = env("ADD");
    no_netns.remove("CNI_NETNS");
    no_netns.insert("CNI_CONTAINERID".into(), String::new());
    let cases: Vec<(Env, Vec<u8>, u32, &str)> = vec![
        (
            no_netns,
            conf("1.0.0"),
            code::INVALID_ENV,
            "required env variables [CNI_CONTAINERID CNI_NETNS] missing",
        ),
        (
            env("ADD"),
            b"not json".to_vec(),
            code::DECODE,
            "failed to decode",
        ),
        (
            env("ADD"),
            conf("9.9.9"),
            code::INCOMPATIBLE_VERSION,
            "incompatible CNI versions",
        ),
        (
            env("ADD"),
            br#"{"cniVersion":"1.0.0","type":"cilium-cni"}"#.to_vec(),
            code::INVALID_CONFIG,
            "missing network name",
        ),
        (
            env("ADD"),
            br#"{"cniVersion":"1.0.0","name":"n","type":"cilium-cni","mtu":-1}"#.to_vec(),
            code::INVALID_CONFIG,
            "mtu: -1",
        ),
        (
            env("ADD"),
            br#"{"cniVersion":"1.0.0","name":"n","type":[]}"#.to_vec(),
            code::INVALID_CONFIG,
            "type: expected a string",
        ),
    ];
    for (e, stdin, want, text) in cases {
        let out = run(&e, &stdin, &agent, &node);
        let (code, msg) = error_of(&out);
        assert_eq!(code, u64::from(want), "{msg}");
        assert!(msg.contains(text), "{msg:?} lacks {text:?}");
    }
    let out = run(&env("ADD"), &conf("9.9.9"), &agent, &node);
    let v = stdout_json(&out);
    assert_eq!(
        v["cniVersion"], "1.1.0",
        "unsupported versions are answered in the newest"
    );
    assert!(v["details"].as_str().unwrap().contains("9.9.9"));
    let out = run(
        &env("ADD"),
        br#"{"cniVersion":"0.3.1","name":"n"}"#,
        &agent,
        &node,
    );
    assert_eq!(stdout_json(&out)["cniVersion"], "0.3.1");
    assert!(agent.calls().is_empty() && node.calls().is_empty());
}

/// One captured request: `(file:line, env, stdin)`.
fn captures() -> Vec<(String, BTreeMap<String, String>, Vec<u8>)> {
    let mut out = Vec::new();
    for name in CAPTURES {
        let path = Path::new(DATA_DIR).join(name);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let v: Value = serde_json::from_str(line).expect("capture line is JSON");
            let env = v["env"]
                .as_object()
                .expect("env")
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().expect("string").to_owned()))
                .collect();
            let stdin = serde_json::to_vec(&v["stdin"]).expect("stdin");
            out.push((format!("{name}:{}", i + 1), env, stdin));
        }
    }
    out
}

#[test]
fn shared_captures_have_not_drifted() {
    for name in CAPTURES {
        let shared = Path::new(SHARED_DIR).join(name);
        if !shared.exists() {
            println!("skip drift check of {name}: {} is absent", shared.display());
            continue;
        }
        assert_eq!(
            fs::read(Path::new(DATA_DIR).join(name)).expect("copy"),
            fs::read(&shared).expect("shared"),
            "tests/data/{name} differs from {}: copy the shared file again",
            shared.display()
        );
    }
}

#[test]
fn every_captured_request_is_accepted() {
    let all = captures();
    assert_eq!(all.len(), 12);
    for (at, env, stdin) in all {
        let parsed = CniEnv::parse(&env).unwrap_or_else(|e| panic!("{at}: env: {e:?}"));
        let cmd = parsed.command.as_str();
        if cmd != "VERSION" {
            NetConf::parse(&stdin).unwrap_or_else(|e| panic!("{at}: stdin: {e:?}"));
        }
        let agent = FakeAgent::default();
        let node = FakeNode {
            live: Some(good_live(&host_ifname(
                &parsed.container_id,
                &parsed.ifname,
            ))),
            ..FakeNode::default()
        };
        let out = run(&env, &stdin, &agent, &node);
        if cmd == "CHECK" {
            // The spy's prevResult describes the bridge plugin's work (or nothing), not
            // ours: the check itself must fail, after parsing succeeded.
            let (code, msg) = error_of(&out);
            assert_eq!(code, u64::from(code::CHECK_FAILED), "{at}: {msg}");
            assert!(
                msg.contains("10.250.78.2/24") || msg.contains("prevResult lists no"),
                "{at}: {msg}"
            );
            continue;
        }
        assert_eq!(out.exit_code, 0, "{at}: {out:?}");
        let expected_calls: &[&str] = match cmd {
            "ADD" => &["ipam", "endpoint_add"],
            "DEL" => &["attachment_delete"],
            "STATUS" => &["status"],
            "GC" => &["gc"],
            "VERSION" => &[],
            other => panic!("{at}: unexpected command {other}"),
        };
        assert_eq!(agent.calls(), expected_calls, "{at}");
        match cmd {
            "VERSION" => {
                // podman: CNI_NETNS=dummy, CNI_IFNAME=dummy, CNI_PATH=dummy.
                let v = stdout_json(&out);
                assert_eq!(v["cniVersion"], "1.0.0", "{at}");
            }
            "ADD" => {
                let v = stdout_json(&out);
                let prev: Value = serde_json::from_slice(&stdin).unwrap();
                let prev_ifaces = prev["prevResult"]["interfaces"]
                    .as_array()
                    .map_or(0, Vec::len);
                let ifaces = v["interfaces"].as_array().unwrap();
                assert_eq!(ifaces.len(), prev_ifaces + 2, "{at}: ours are appended");
                assert_eq!(ifaces.last().unwrap()["sandbox"], env["CNI_NETNS"].as_str());
                let req = &agent.endpoint_requests.borrow()[0];
                if at.starts_with("cnitool-1.1.2") {
                    assert_eq!(req.pod_namespace.as_deref(), Some("x"), "{at}");
                    assert_eq!(req.pod_name.as_deref(), Some("a"), "{at}");
                }
                if at.starts_with("podman") {
                    assert_eq!(req.pod_namespace, None, "{at}");
                    assert_eq!(req.pod_name.as_deref(), Some("bold_northcutt"), "{at}");
                }
            }
            "GC" => assert!(agent.gc_requests.borrow()[0].valid.is_empty(), "{at}"),
            _ => assert!(out.stdout.is_empty(), "{at}"),
        }
    }
}
