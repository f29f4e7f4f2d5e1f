//! The six commands, as functions of the environment, stdin, an [`Agent`] and a [`Node`].
//!
//! [`run`] is the whole plugin minus the process: it returns what to print on stdout, the
//! log lines for stderr, and the exit status, so every path is testable with fakes.
//!
//! ADD talks to the agent before it touches the node: with the agent down it fails with
//! code 11 and creates nothing.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use cilium_agent_api::{Attachment, ClientError, EndpointRequest, GcRequest, IpamLease};
use serde_json::{Map, Value, json};

use crate::agent::Agent;
use crate::config::{self, NetConf, SUPPORTED_VERSIONS, SpecVersion};
use crate::env::{self, CniEnv, Command};
use crate::error::{CniError, chain, code};
use crate::naming::host_ifname;
use crate::netlink::{MacAddr, NUD_PERMANENT, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, Route};
use crate::node::{LiveState, Node, NodeError, Plumbing};
use crate::result::{AddOutput, add_result};

/// What the process prints and returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Result or error JSON (empty for DEL, CHECK, STATUS and GC when they succeed).
    pub stdout: String,
    /// Lines for stderr.
    pub log: Vec<String>,
    /// 0 on success, 1 with an error JSON.
    pub exit_code: i32,
}

/// Runs one invocation.
pub fn run(
    env: &BTreeMap<String, String>,
    stdin: &[u8],
    agent: &dyn Agent,
    node: &dyn Node,
) -> Outcome {
    let mut log = Vec::new();
    match dispatch(env, stdin, agent, node, &mut log) {
        Ok(None) => Outcome {
            stdout: String::new(),
            log,
            exit_code: 0,
        },
        Ok(Some(v)) => Outcome {
            stdout: pretty(&v),
            log,
            exit_code: 0,
        },
        Err(e) => {
            // Label the error with the request's version when it is one we speak.
            let version = config::peek_version(stdin)
                .and_then(|v| SpecVersion::parse(&v))
                .unwrap_or(SpecVersion::LATEST);
            let cmd = env.get(env::COMMAND).map_or("?", String::as_str);
            log.push(format!("{cmd} failed: {}", e.msg));
            Outcome {
                stdout: pretty(&e.to_json(version.as_str())),
                log,
                exit_code: 1,
            }
        }
    }
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialize");
    s.push('\n');
    s
}

fn dispatch(
    env: &BTreeMap<String, String>,
    stdin: &[u8],
    agent: &dyn Agent,
    node: &dyn Node,
    log: &mut Vec<String>,
) -> Result<Option<Value>, CniError> {
    let env = CniEnv::parse(env)?;
    if env.command == Command::Version {
        return version(stdin).map(Some);
    }
    let conf = NetConf::parse(stdin)?;
    match env.command {
        Command::Add => add(&env, &conf, agent, node, log).map(Some),
        Command::Del => del(&env, agent, node, log).map(|()| None),
        Command::Check => check(&env, &conf, agent, node).map(|()| None),
        Command::Status => status(agent).map(|()| None),
        Command::Gc => gc(&conf, agent, node, log).map(|()| None),
        Command::Version => unreachable!("handled above"),
    }
}

/// VERSION: `{"cniVersion": <the request's, or 1.1.0>, "supportedVersions": [...]}`.
fn version(stdin: &[u8]) -> Result<Value, CniError> {
    let asked = if stdin.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match config::decode(stdin)?.get("cniVersion") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(other) => {
                return Err(CniError::new(
                    code::DECODE,
                    format!("failed to decode the request: cniVersion: {other} is not a version"),
                ));
            }
        }
    };
    Ok(json!({
        "cniVersion": asked.as_deref().unwrap_or(SpecVersion::LATEST.as_str()),
        "supportedVersions": SUPPORTED_VERSIONS,
    }))
}

fn attachment(env: &CniEnv) -> Attachment {
    Attachment {
        container_id: env.container_id.clone(),
        ifname: env.ifname.clone(),
    }
}

/// The CNI error of a node failure.
fn node_error(e: &NodeError) -> CniError {
    let code = match e {
        NodeError::Netns { .. } => code::INVALID_NETNS,
        NodeError::IfnameExists { .. } => code::INVALID_ENV,
        NodeError::Netlink(_) | NodeError::Sysctl { .. } => code::IO,
    };
    let msg = match e {
        NodeError::IfnameExists { .. } => format!("CNI_IFNAME: {}", chain(e)),
        _ => chain(e),
    };
    CniError::new(code, msg)
}

/// Endpoint labels: the config's `labels`, then `CILIUM_LABELS` from `CNI_ARGS`, without
/// repeats.
pub fn labels(conf: &NetConf, env: &CniEnv) -> Vec<String> {
    let from_args = env
        .args
        .get(env::ARG_LABELS)
        .into_iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let mut out: Vec<String> = Vec::new();
    for l in conf.labels.iter().cloned().chain(from_args) {
        if !out.contains(&l) {
            out.push(l);
        }
    }
    out
}

fn lease_addresses(lease: &IpamLease) -> Result<(Ipv4Addr, u8, Ipv4Addr), CniError> {
    let bad = |what: &str| {
        CniError::new(
            code::INTERNAL,
            format!("the agent leased an unusable address: {what}"),
        )
    };
    let ip: Ipv4Addr = lease
        .ip
        .parse()
        .map_err(|_| bad(&format!("ip {:?}", lease.ip)))?;
    let gateway: Ipv4Addr = lease
        .gateway
        .parse()
        .map_err(|_| bad(&format!("gateway {:?}", lease.gateway)))?;
    if lease.prefix_len == 0 || lease.prefix_len > 32 {
        return Err(bad(&format!("prefix length {}", lease.prefix_len)));
    }
    Ok((ip, lease.prefix_len, gateway))
}

/// Gives the address back after a failed ADD (best effort: DEL or GC does it otherwise).
fn release(agent: &dyn Agent, a: &Attachment, log: &mut Vec<String>) {
    if let Err(e) = agent.attachment_delete(a) {
        log.push(format!(
            "undoing a failed ADD: releasing the address of {}/{}: {}",
            a.container_id,
            a.ifname,
            chain(&e)
        ));
    }
}

fn add(
    env: &CniEnv,
    conf: &NetConf,
    agent: &dyn Agent,
    node: &dyn Node,
    log: &mut Vec<String>,
) -> Result<Value, CniError> {
    let att = attachment(env);
    // The agent first: if it is down, nothing is created.
    let lease = agent
        .ipam_allocate(&att)
        .map_err(|e| CniError::from_agent("allocate an address", &e))?;
    let (ip, prefix_len, gateway) = match lease_addresses(&lease) {
        Ok(a) => a,
        Err(e) => {
            release(agent, &att, log);
            return Err(e);
        }
    };
    let host = host_ifname(&env.container_id, &env.ifname);
    let plumbing = Plumbing {
        netns: env.netns.clone(),
        ifname: env.ifname.clone(),
        host_ifname: host.clone(),
        mtu: conf.mtu,
        ip,
        prefix_len,
        gateway,
    };
    let plumbed = match node.plumb(&plumbing) {
        Ok(p) => p,
        Err(e) => {
            // A repeated ADD of a live attachment must not take its address away.
            if !matches!(e, NodeError::IfnameExists { ours: true, .. }) {
                release(agent, &att, log);
            }
            return Err(node_error(&e));
        }
    };
    let req = EndpointRequest {
        attachment: att.clone(),
        netns: env.netns.clone(),
        host_ifname: host.clone(),
        host_ifindex: plumbed.host_ifindex,
        host_mac: plumbed.host_mac.to_string(),
        container_mac: plumbed.container_mac.to_string(),
        ip: ip.to_string(),
        pod_namespace: env.args.get(env::ARG_POD_NAMESPACE).map(str::to_owned),
        pod_name: env.args.get(env::ARG_POD_NAME).map(str::to_owned),
        labels: labels(conf, env),
    };
    match agent.endpoint_add(&req) {
        Ok(ep) if ep.state != "ready" => log.push(format!(
            "endpoint {} of {}/{} is {:?}, not ready",
            ep.id, att.container_id, att.ifname, ep.state
        )),
        Ok(_) => {}
        Err(e) => {
            if let Err(u) = node.unplumb(&host) {
                log.push(format!("undoing a failed ADD: {}", chain(&u)));
            }
            release(agent, &att, log);
            return Err(CniError::from_agent("register the endpoint", &e));
        }
    }
    Ok(add_result(
        conf.cni_version,
        &AddOutput {
            host_ifname: host,
            host_mac: plumbed.host_mac,
            ifname: env.ifname.clone(),
            container_mac: plumbed.container_mac,
            sandbox: env.netns.clone(),
            mtu: conf.mtu,
            ip,
            prefix_len,
            gateway,
        },
        conf.prev_result.as_ref(),
    ))
}

/// DEL: the agent forgets the endpoint and the lease; the host veth goes (the pod side,
/// routes and neighbours go with it). Needs neither `CNI_NETNS` nor `prevResult`.
///
/// When the agent is not reachable (not running, or answering 503) and the veth is gone
/// afterwards, DEL **succeeds** and logs to stderr. The spec asks DEL to succeed once the
/// attachment's resources are gone, and the ones on the node are; the agent's share (the
/// endpoint and its address) is the agent's to reconcile — after a restart it must drop
/// endpoints whose host veth no longer exists, and CNI GC names every attachment still
/// valid. Failing instead would block the pod's teardown in the runtime for as long as the
/// agent is down (Cilium's plugin, for the same reason, queues the deletion and succeeds).
/// When the veth could not be deleted, or the agent answered with an error, DEL fails so
/// the runtime tries again: code 11 when the agent was unreachable, the agent's or the
/// kernel's error otherwise.
fn del(
    env: &CniEnv,
    agent: &dyn Agent,
    node: &dyn Node,
    log: &mut Vec<String>,
) -> Result<(), CniError> {
    let att = attachment(env);
    let host = host_ifname(&env.container_id, &env.ifname);
    let from_agent = agent.attachment_delete(&att);
    let from_node = node.unplumb(&host);
    match (from_agent, from_node) {
        (Ok(_), Ok(_)) => Ok(()),
        (Ok(_), Err(n)) => Err(node_error(&n)),
        (Err(a), Ok(existed)) if a.is_unavailable() => {
            log.push(format!(
                "DEL {}/{}: {}; host veth {host} {}; succeeding, the agent reconciles \
                 the endpoint and its address when it is back",
                att.container_id,
                att.ifname,
                chain(&a),
                if existed { "deleted" } else { "already gone" },
            ));
            Ok(())
        }
        (Err(a), Ok(_)) => Err(CniError::from_agent("delete the endpoint", &a)),
        (Err(a), Err(n)) => {
            let mut e = CniError::from_agent("delete the endpoint", &a);
            e.msg = format!("{}; and: {}", e.msg, chain(&n));
            Err(e)
        }
    }
}

/// What the ADD result (`prevResult`) says about this attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The pod side's MAC, if the result has it.
    pub container_mac: Option<MacAddr>,
    /// Its IPv4 addresses.
    pub addrs: Vec<(Ipv4Addr, u8)>,
    /// The gateway of its first address ([`cilium_agent_api::GATEWAY`] if none is given).
    pub gateway: Ipv4Addr,
}

/// Reads [`Expected`] out of a `prevResult`; the second value lists what is missing.
pub fn expected_from_prev(prev: &Map<String, Value>, ifname: &str) -> (Expected, Vec<String>) {
    let mut problems = Vec::new();
    let mut exp = Expected {
        container_mac: None,
        addrs: Vec::new(),
        gateway: cilium_agent_api::GATEWAY
            .parse()
            .expect("the API's gateway is an IPv4 address"),
    };
    let interfaces = prev
        .get("interfaces")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let index = interfaces.iter().position(|i| {
        i.get("name").and_then(Value::as_str) == Some(ifname)
            && i.get("sandbox")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
    });
    let Some(index) = index else {
        problems.push(format!(
            "prevResult lists no interface {ifname} inside a sandbox"
        ));
        return (exp, problems);
    };
    exp.container_mac = interfaces[index]
        .get("mac")
        .and_then(Value::as_str)
        .and_then(|m| m.parse().ok());
    let mut gateway = None;
    for ip in prev
        .get("ips")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        if ip.get("interface").and_then(Value::as_u64) != Some(index as u64) {
            continue;
        }
        let Some((addr, len)) = ip
            .get("address")
            .and_then(Value::as_str)
            .and_then(|a| a.split_once('/'))
        else {
            continue;
        };
        if let (Ok(addr), Ok(len)) = (addr.parse::<Ipv4Addr>(), len.parse::<u8>()) {
            exp.addrs.push((addr, len));
            gateway = gateway.or_else(|| {
                ip.get("gateway")
                    .and_then(Value::as_str)
                    .and_then(|g| g.parse().ok())
            });
        }
    }
    if exp.addrs.is_empty() {
        problems.push(format!("prevResult has no IPv4 address on {ifname}"));
    }
    if let Some(g) = gateway {
        exp.gateway = g;
    }
    (exp, problems)
}

/// Compares the live state with what ADD built; one line per difference.
pub fn compare(
    exp: &Expected,
    live: &LiveState,
    ifname: &str,
    netns: &str,
    host_ifname: &str,
) -> Vec<String> {
    let mut p = Vec::new();
    let host_mac = live.host.as_ref().and_then(|h| h.link.mac);
    let pod_mac = live.container.as_ref().and_then(|c| c.link.mac);
    match &live.container {
        None => p.push(format!("interface {ifname} is missing in {netns}")),
        Some(c) => {
            let idx = c.link.index;
            if !c.link.up {
                p.push(format!("{ifname} is down"));
            }
            if let (Some(want), Some(have)) = (exp.container_mac, c.link.mac)
                && want != have
            {
                p.push(format!(
                    "{ifname} has MAC {have}, the ADD result says {want}"
                ));
            }
            for (ip, len) in &exp.addrs {
                if !c.addrs.contains(&(*ip, *len)) {
                    p.push(format!("{ifname} lacks address {ip}/{len}"));
                }
            }
            let gw = exp.gateway;
            let link_route = Route {
                dst: gw,
                dst_len: 32,
                gateway: None,
                oif: Some(idx),
                scope: RT_SCOPE_LINK,
            };
            if !live.container_routes.contains(&link_route) {
                p.push(format!("no route {gw} dev {ifname} scope link in {netns}"));
            }
            let default = Route {
                dst: Ipv4Addr::UNSPECIFIED,
                dst_len: 0,
                gateway: Some(gw),
                oif: Some(idx),
                scope: RT_SCOPE_UNIVERSE,
            };
            if !live.container_routes.contains(&default) {
                p.push(format!("no default route via {gw} dev {ifname} in {netns}"));
            }
            let neigh_ok = live.container_neighs.iter().any(|n| {
                n.ifindex == idx
                    && n.ip == gw
                    && n.state & NUD_PERMANENT != 0
                    && host_mac.is_none_or(|m| n.mac == Some(m))
            });
            if !neigh_ok {
                p.push(format!(
                    "no permanent neighbour {gw} → {} on {ifname}",
                    host_mac.map_or("<host veth MAC>".to_owned(), |m| m.to_string())
                ));
            }
        }
    }
    match &live.host {
        None => p.push(format!("host veth {host_ifname} is missing")),
        Some(h) => {
            let idx = h.link.index;
            if !h.link.up {
                p.push(format!("host veth {host_ifname} is down"));
            }
            if h.link.kind.as_deref() != Some("veth") {
                p.push(format!("{host_ifname} is not a veth"));
            }
            for (ip, _) in &exp.addrs {
                let route = Route {
                    dst: *ip,
                    dst_len: 32,
                    gateway: None,
                    oif: Some(idx),
                    scope: RT_SCOPE_LINK,
                };
                if !live.host_routes.contains(&route) {
                    p.push(format!("no route {ip}/32 dev {host_ifname} on the node"));
                }
                let neigh_ok = live.host_neighs.iter().any(|n| {
                    n.ifindex == idx
                        && n.ip == *ip
                        && n.state & NUD_PERMANENT != 0
                        && pod_mac.is_none_or(|m| n.mac == Some(m))
                });
                if !neigh_ok {
                    p.push(format!(
                        "no permanent neighbour {ip} on {host_ifname} on the node"
                    ));
                }
            }
        }
    }
    p
}

/// CHECK: the `prevResult`, the live state of both namespaces and the agent's endpoint
/// must agree. The error (code 100) lists every difference.
fn check(env: &CniEnv, conf: &NetConf, agent: &dyn Agent, node: &dyn Node) -> Result<(), CniError> {
    let prev = conf.prev_result.as_ref().ok_or_else(|| {
        CniError::new(
            code::INVALID_CONFIG,
            "CHECK needs prevResult (the result of ADD)",
        )
    })?;
    let att = attachment(env);
    let host = host_ifname(&env.container_id, &env.ifname);
    let (exp, mut problems) = expected_from_prev(prev, &env.ifname);
    let live = node
        .inspect(&env.netns, &env.ifname, &host)
        .map_err(|e| node_error(&e))?;
    problems.extend(compare(&exp, &live, &env.ifname, &env.netns, &host));
    match agent.attachment(&att) {
        Ok(ep) => {
            if ep.state != "ready" {
                problems.push(format!("endpoint {} is {:?}, not ready", ep.id, ep.state));
            }
            if let Some((ip, _)) = exp.addrs.first()
                && ep.ip != ip.to_string()
            {
                problems.push(format!(
                    "the agent's endpoint {} has address {}, the ADD result says {ip}",
                    ep.id, ep.ip
                ));
            }
            if ep.host_ifname != host {
                problems.push(format!(
                    "the agent's endpoint {} is on {}, expected {host}",
                    ep.id, ep.host_ifname
                ));
            }
        }
        Err(ClientError::Status { status: 404, .. }) => problems.push(format!(
            "the agent has no endpoint for {}/{}",
            att.container_id, att.ifname
        )),
        Err(e) => return Err(CniError::from_agent("look up the endpoint", &e)),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CniError::new(
            code::CHECK_FAILED,
            format!(
                "CHECK of {} in {}: {}",
                env.ifname,
                env.netns,
                problems.join("; ")
            ),
        ))
    }
}

/// STATUS: ready when the agent says so; code 50 with its message otherwise, or when it
/// cannot be reached.
fn status(agent: &dyn Agent) -> Result<(), CniError> {
    match agent.status() {
        Ok(s) if s.ready => Ok(()),
        Ok(s) => Err(CniError::new(
            code::NOT_AVAILABLE,
            format!("agent not ready: {}", s.message),
        )),
        Err(e) => Err(CniError::new(code::NOT_AVAILABLE, chain(&e))),
    }
}

/// GC: the agent removes the endpoints and leases of attachments not in
/// `cni.dev/valid-attachments` (absent = none valid) and reports which; their host veths go
/// too. Errors of both are collected and reported together (code 999).
fn gc(
    conf: &NetConf,
    agent: &dyn Agent,
    node: &dyn Node,
    log: &mut Vec<String>,
) -> Result<(), CniError> {
    let valid = conf.valid_attachments.clone().unwrap_or_default();
    let res = agent
        .gc(&GcRequest { valid })
        .map_err(|e| CniError::from_agent("garbage collection", &e))?;
    let mut errors = res.errors;
    for a in &res.removed {
        let host = host_ifname(&a.container_id, &a.ifname);
        match node.unplumb(&host) {
            Ok(true) => log.push(format!(
                "GC: deleted host veth {host} of {}/{}",
                a.container_id, a.ifname
            )),
            Ok(false) => {}
            Err(e) => errors.push(format!(
                "delete host veth {host} of {}/{}: {}",
                a.container_id,
                a.ifname,
                chain(&e)
            )),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CniError::new(
            code::INTERNAL,
            format!(
                "garbage collection: {} error(s), first: {}",
                errors.len(),
                errors[0]
            ),
        )
        .with_details(errors.join("; ")))
    }
}
