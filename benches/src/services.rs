//! The N services of the load-balancing benchmarks, and the same services as our
//! [`cilium_lb::model::Service`]s and as kube-proxy's iptables ruleset.
//!
//! Service `i` (0-based) has the VIP `10.96.0.0 + i + 1` (`10.96.x.y`, so 30k services fit),
//! port 80/TCP, and `backends` backends on the server pod at ports
//! `8080 + 10 * (i % 2) + b`. So the first and the last of an even number of services lead to
//! different server ports: a connection to one never meets the conntrack or TIME_WAIT state
//! left by connections to the other, and the only difference between them is where the
//! service sits in the lookup (last in `KUBE-SERVICES` for iptables).

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use cilium_core::Protocol;
use cilium_lb::model::{Backend, Frontend, Service, ServiceType};

use crate::topo::{CLUSTER_CIDR, SERVER};

/// The service port of every service.
pub const SERVICE_PORT: u16 = 80;

/// One benchmark service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchService {
    /// Position, 0-based.
    pub index: usize,
    /// Name (`svc-<index>`) in namespace `bench`.
    pub name: String,
    /// The cluster IP.
    pub vip: Ipv4Addr,
    /// The service port.
    pub port: u16,
    /// The backends (all on the server pod).
    pub backends: Vec<(Ipv4Addr, u16)>,
}

impl BenchService {
    /// Service `index` with `backends` backends (1 to 10).
    pub fn new(index: usize, backends: usize) -> Self {
        let vip = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 96, 0, 0)) + index as u32 + 1);
        let base = backend_base_port(index);
        BenchService {
            index,
            name: format!("svc-{index}"),
            vip,
            port: SERVICE_PORT,
            backends: (0..backends)
                .map(|b| (SERVER.addr, base + b as u16))
                .collect(),
        }
    }

    /// As our service model.
    pub fn to_model(&self) -> Service {
        let mut svc = Service::new("bench", &self.name, ServiceType::ClusterIp);
        svc.frontends.push(Frontend::new(
            IpAddr::V4(self.vip),
            self.port,
            Protocol::Tcp,
        ));
        for &(addr, port) in &self.backends {
            svc.backends
                .push(Backend::new(IpAddr::V4(addr), port, Protocol::Tcp));
        }
        svc
    }

    /// kube-proxy's `<namespace>/<name>:<port name>` comment.
    fn port_name(&self) -> String {
        format!("bench/{}:http", self.name)
    }

    /// `KUBE-SVC-<16 chars>`, like kube-proxy's hash of the port name and protocol.
    fn svc_chain(&self) -> String {
        format!(
            "KUBE-SVC-{}",
            chain_hash(&format!("{}tcp", self.port_name()))
        )
    }

    /// `KUBE-SEP-<16 chars>` of backend `b`.
    fn sep_chain(&self, b: usize) -> String {
        let (addr, port) = self.backends[b];
        format!(
            "KUBE-SEP-{}",
            chain_hash(&format!("{}tcp{addr}:{port}", self.port_name()))
        )
    }
}

/// The first backend port of service `index`.
pub fn backend_base_port(index: usize) -> u16 {
    8080 + 10 * (index % 2) as u16
}

/// Every server port that `services` services with `backends` backends use.
pub fn server_ports(services: usize, backends: usize) -> Vec<u16> {
    let mut ports: Vec<u16> = (0..services.min(2))
        .flat_map(|i| (0..backends).map(move |b| backend_base_port(i) + b as u16))
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// Services `0..n`.
pub fn services(n: usize, backends: usize) -> Vec<BenchService> {
    (0..n).map(|i| BenchService::new(i, backends)).collect()
}

/// 16 characters from a 64-bit FNV-1a hash (kube-proxy uses base32 of SHA-256; only the
/// shape of the name matters here).
fn chain_hash(s: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    (0..16)
        .map(|i| {
            let v = h.rotate_left(i * 5) as usize & 31;
            ALPHABET[v] as char
        })
        .collect()
}

/// The fixed chains and jumps of the filter table, as kube-proxy (≥ 1.26) writes them.
fn filter_table(out: &mut String) {
    out.push_str(
        "*filter\n\
         :INPUT ACCEPT [0:0]\n\
         :FORWARD ACCEPT [0:0]\n\
         :OUTPUT ACCEPT [0:0]\n\
         :KUBE-EXTERNAL-SERVICES - [0:0]\n\
         :KUBE-FIREWALL - [0:0]\n\
         :KUBE-FORWARD - [0:0]\n\
         :KUBE-NODEPORTS - [0:0]\n\
         :KUBE-PROXY-FIREWALL - [0:0]\n\
         :KUBE-SERVICES - [0:0]\n\
         :KUBE-PROXY-CANARY - [0:0]\n\
         -A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n\
         -A INPUT -m comment --comment \"kubernetes health check service ports\" -j KUBE-NODEPORTS\n\
         -A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n\
         -A INPUT -j KUBE-FIREWALL\n\
         -A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n\
         -A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n\
         -A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
         -A FORWARD -m conntrack --ctstate NEW -m comment --comment \"kubernetes externally-visible service portals\" -j KUBE-EXTERNAL-SERVICES\n\
         -A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes load balancer firewall\" -j KUBE-PROXY-FIREWALL\n\
         -A OUTPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
         -A OUTPUT -j KUBE-FIREWALL\n\
         -A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming localnet connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n\
         -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n\
         -A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n\
         -A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
         COMMIT\n",
    );
}

/// The filter table of an incremental (`--noflush`) restore: the chains kube-proxy always
/// rewrites (declaring a chain under `--noflush` flushes it), refilled.
fn filter_table_noflush(out: &mut String) {
    out.push_str(
        "*filter\n\
         :KUBE-EXTERNAL-SERVICES - [0:0]\n\
         :KUBE-FORWARD - [0:0]\n\
         :KUBE-NODEPORTS - [0:0]\n\
         :KUBE-PROXY-FIREWALL - [0:0]\n\
         :KUBE-SERVICES - [0:0]\n\
         -A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n\
         -A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n\
         -A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
         COMMIT\n",
    );
}

const NAT_FIXED_CHAINS: &str = ":KUBE-SERVICES - [0:0]\n\
    :KUBE-NODEPORTS - [0:0]\n\
    :KUBE-POSTROUTING - [0:0]\n\
    :KUBE-MARK-MASQ - [0:0]\n";

const NAT_FIXED_RULES: &str = "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n\
    -A KUBE-POSTROUTING -j MARK --xor-mark 0x4000\n\
    -A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n\
    -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n";

fn declare_service_chains(out: &mut String, s: &BenchService) {
    let _ = writeln!(out, ":{} - [0:0]", s.svc_chain());
    for b in 0..s.backends.len() {
        let _ = writeln!(out, ":{} - [0:0]", s.sep_chain(b));
    }
}

fn kube_services_rule(out: &mut String, s: &BenchService) {
    let _ = writeln!(
        out,
        "-A KUBE-SERVICES -m comment --comment \"{} cluster IP\" -m tcp -p tcp -d {}/32 --dport {} -j {}",
        s.port_name(),
        s.vip,
        s.port,
        s.svc_chain()
    );
}

fn service_chain_rules(out: &mut String, s: &BenchService) {
    let pn = s.port_name();
    let svc = s.svc_chain();
    let _ = writeln!(
        out,
        "-A {svc} -m comment --comment \"{pn} cluster IP\" -m tcp -p tcp -d {}/32 --dport {} ! -s {CLUSTER_CIDR} -j KUBE-MARK-MASQ",
        s.vip, s.port
    );
    let k = s.backends.len();
    for (b, &(addr, port)) in s.backends.iter().enumerate() {
        let sep = s.sep_chain(b);
        if b + 1 < k {
            let p = 1.0 / (k - b) as f64;
            let _ = writeln!(
                out,
                "-A {svc} -m comment --comment \"{pn} -> {addr}:{port}\" -m statistic --mode random --probability {p:.10} -j {sep}"
            );
        } else {
            let _ = writeln!(
                out,
                "-A {svc} -m comment --comment \"{pn} -> {addr}:{port}\" -j {sep}"
            );
        }
        let _ = writeln!(
            out,
            "-A {sep} -m comment --comment \"{pn}\" -s {addr}/32 -j KUBE-MARK-MASQ"
        );
        let _ = writeln!(
            out,
            "-A {sep} -m comment --comment \"{pn}\" -m tcp -p tcp -j DNAT --to-destination {addr}:{port}"
        );
    }
}

const NODEPORT_RULE: &str = "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n";

/// The full kube-proxy ruleset for `services`, for `iptables-restore` (flushing).
pub fn kube_proxy_full(services: &[BenchService]) -> String {
    let mut out = String::with_capacity(services.len() * 700 + 4096);
    filter_table(&mut out);
    out.push_str(
        "*nat\n\
         :PREROUTING ACCEPT [0:0]\n\
         :INPUT ACCEPT [0:0]\n\
         :OUTPUT ACCEPT [0:0]\n\
         :POSTROUTING ACCEPT [0:0]\n",
    );
    out.push_str(NAT_FIXED_CHAINS);
    for s in services {
        declare_service_chains(&mut out, s);
    }
    out.push_str(
        "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
         -A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
         -A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n",
    );
    out.push_str(NAT_FIXED_RULES);
    for s in services {
        kube_services_rule(&mut out, s);
    }
    out.push_str(NODEPORT_RULE);
    for s in services {
        service_chain_rules(&mut out, s);
    }
    out.push_str("COMMIT\n");
    out
}

/// What kube-proxy ≥ 1.26 restores with `--noflush` when `added` joins `services` (which
/// includes it): all of `KUBE-SERVICES` and the other fixed chains rewritten, plus the new
/// service's chains; unchanged service chains are not mentioned.
pub fn kube_proxy_add_one(services: &[BenchService], added: &BenchService) -> String {
    let mut out = String::with_capacity(services.len() * 200 + 4096);
    filter_table_noflush(&mut out);
    out.push_str("*nat\n");
    out.push_str(NAT_FIXED_CHAINS);
    declare_service_chains(&mut out, added);
    out.push_str(NAT_FIXED_RULES);
    for s in services {
        kube_services_rule(&mut out, s);
    }
    out.push_str(NODEPORT_RULE);
    service_chain_rules(&mut out, added);
    out.push_str("COMMIT\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_ports() {
        let s = services(30_000, 2);
        assert_eq!(s[0].vip, Ipv4Addr::new(10, 96, 0, 1));
        assert_eq!(s[29_999].vip, Ipv4Addr::new(10, 96, 117, 48));
        assert_eq!(s[0].backends, [(SERVER.addr, 8080), (SERVER.addr, 8081)]);
        assert_eq!(s[29_999].backends[0].1, 8090);
        assert_eq!(server_ports(30_000, 2), [8080, 8081, 8090, 8091]);
        assert_eq!(server_ports(1, 1), [8080]);
    }

    #[test]
    fn ruleset_shape() {
        let s = services(3, 2);
        let full = kube_proxy_full(&s);
        let kube_services: Vec<&str> = full
            .lines()
            .filter(|l| l.starts_with("-A KUBE-SERVICES"))
            .collect();
        assert_eq!(kube_services.len(), 4);
        assert!(kube_services[0].contains("-d 10.96.0.1/32"));
        assert!(kube_services[3].contains("addrtype"));
        assert_eq!(full.matches("--probability 0.5000000000").count(), 3);
        assert_eq!(full.matches("-j DNAT").count(), 6);
        // Chain names fit iptables' 28-character limit and are distinct.
        let mut chains: Vec<&str> = full
            .lines()
            .filter_map(|l| l.strip_prefix(':'))
            .map(|l| l.split(' ').next().unwrap())
            .filter(|c| c.starts_with("KUBE-SVC-") || c.starts_with("KUBE-SEP-"))
            .collect();
        assert!(chains.iter().all(|c| c.len() <= 28));
        chains.sort_unstable();
        chains.dedup();
        assert_eq!(chains.len(), 3 + 6, "{full}");

        let new = BenchService::new(3, 2);
        let mut all = s.clone();
        all.push(new.clone());
        let inc = kube_proxy_add_one(&all, &new);
        assert_eq!(inc.matches("-A KUBE-SERVICES").count(), 5);
        assert_eq!(inc.matches("-j DNAT").count(), 2);
    }
}
