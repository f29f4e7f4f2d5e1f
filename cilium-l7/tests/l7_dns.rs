//! The DNS proxy with `toFQDNs` through the real datapath: a client pod whose egress policy
//! sends its DNS (to a DNS pod running a real dnsmasq) through the proxy with an L7 DNS rule
//! `*.example.test`, and allows TCP 8080 to `toFQDNs: *.example.test`. Two servers outside
//! the cluster (`ext`, `ext2`) are the names' addresses.
//!
//! Checks: before any lookup the address is dropped; the allowed name resolves (dnsmasq's
//! answer, from the DNS pod's address) and the first connect to the returned address
//! succeeds — the answer was released only after the datapath held the address; an address
//! not learned through DNS stays dropped; a denied name gets REFUSED and the upstream never
//! sees it; the same over TCP; the learned address expires after its TTL and is dropped
//! again.
//!
//! Privileged: with `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure.
//! Everything the test creates (namespaces, pins, routing, dnsmasq) is removed at the end.

mod common;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use cilium_l7::dns_proxy::{DnsProxy, DnsProxyConfig, FqdnUpdater};
use cilium_l7::fqdn_cache::{FqdnCache, FqdnCacheConfig};
use cilium_l7::records::RecordSink;
use common::support::*;
use common::*;

const POLICY: &str = r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: client-dns, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: client}}
  egress:
  - toEndpoints: [{matchLabels: {app: dns}}]
    toPorts:
    - ports: [{port: "53", protocol: ANY}]
      rules:
        dns: [{matchPattern: "*.example.test"}]
  - toFQDNs: [{matchPattern: "*.example.test"}]
    toPorts:
    - ports: [{port: "8080", protocol: TCP}]
"#;

/// The test agent's side of learning: labels from the proxy's cache, a local identity, the
/// ipcache and every endpoint's policy — done before the future resolves.
struct Updater {
    state: Arc<Mutex<PolicyState>>,
    cache: OnceLock<Arc<Mutex<FqdnCache>>>,
    learned_before_answer: Mutex<Vec<IpAddr>>,
}

impl FqdnUpdater for Updater {
    fn learned<'a>(
        &'a self,
        _name: &'a str,
        ips: &'a [(IpAddr, u32)],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let cache = self.cache.get().ok_or("no cache yet")?;
            for (ip, _) in ips {
                let labels = cache.lock().unwrap().labels_of(*ip).ok_or("not cached")?;
                self.state.lock().unwrap().learn(*ip, labels)?;
                self.learned_before_answer.lock().unwrap().push(*ip);
            }
            Ok(())
        })
    }
}

/// dnsmasq in the DNS pod, killed on drop.
struct Dnsmasq(std::process::Child);

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn query(name: &str, id: u16) -> Vec<u8> {
    let mut q = id.to_be_bytes().to_vec();
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]); // root, type A, class IN
    q
}

/// Rcode and A records of an answer.
fn parse_answer(bytes: &[u8]) -> (u8, Vec<IpAddr>) {
    use hickory_proto::op::Message;
    use hickory_proto::rr::RData;
    let m = Message::from_vec(bytes).expect("a DNS message");
    let ips = m
        .answers()
        .iter()
        .filter_map(|r| match r.data() {
            RData::A(a) => Some(IpAddr::V4(a.0)),
            _ => None,
        })
        .collect();
    (u16::from(m.response_code()) as u8, ips)
}

fn udp_lookup(
    pod: &Pod,
    server: SocketAddr,
    name: &str,
) -> Result<(u8, Vec<IpAddr>, SocketAddr), String> {
    in_netns(&pod.ns, || {
        let s = std::net::UdpSocket::bind("0.0.0.0:0").map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        s.send_to(&query(name, 0x4242), server)
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 1500];
        let (n, from) = s.recv_from(&mut buf).map_err(|e| e.to_string())?;
        assert_eq!(&buf[..2], &[0x42, 0x42], "query id kept");
        let (rcode, ips) = parse_answer(&buf[..n]);
        Ok((rcode, ips, from))
    })
}

fn tcp_lookup(pod: &Pod, server: SocketAddr, name: &str) -> Result<(u8, Vec<IpAddr>), String> {
    use std::io::{Read, Write};
    in_netns(&pod.ns, || {
        let mut s = std::net::TcpStream::connect_timeout(&server, Duration::from_secs(1))
            .map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let q = query(name, 0x0707);
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        s.write_all(&framed).map_err(|e| e.to_string())?;
        let mut len = [0u8; 2];
        s.read_exact(&mut len).map_err(|e| e.to_string())?;
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
        s.read_exact(&mut msg).map_err(|e| e.to_string())?;
        Ok(parse_answer(&msg))
    })
}

fn connects(pod: &Pod, to: SocketAddr) -> bool {
    in_netns(&pod.ns, || tcp_ask(to, Duration::from_millis(600))).is_ok()
}

#[test]
fn dns_proxy_learns_allowed_names_and_the_datapath_follows() {
    let Some(env) = L7Env::new(
        "l7dns",
        &[
            ("client", &["app=client"]),
            ("dns", &["app=dns"]),
            ("ext", &[]),
            ("ext2", &[]),
        ],
    ) else {
        return;
    };
    let (client, dns, ext, ext2) = (
        env.pod("client"),
        env.pod("dns"),
        env.pod("ext"),
        env.pod("ext2"),
    );
    // dnsmasq in the DNS pod: two names, answers with a TTL of 2 s; it logs every query.
    let log = std::env::temp_dir().join(format!("cilrs-l7dns-{}.log", std::process::id()));
    let _ = std::fs::remove_file(&log);
    let dnsmasq = in_netns(&dns.ns, || {
        std::process::Command::new("dnsmasq")
            .args([
                "--no-daemon",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                &format!("--listen-address={}", dns.addr),
                "--port=53",
                "--local-ttl=2",
                "--log-queries",
                &format!("--log-facility={}", log.display()),
                &format!("--address=/www.example.test/{}", ext.addr),
                &format!("--address=/blocked.other.test/{}", ext2.addr),
                "--user=root",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
    })
    .map(Dnsmasq)
    .expect("start dnsmasq (apt-get install dnsmasq-base)");
    name_servers(&ext, 8080);
    name_servers(&ext2, 8080);
    env.set_policy(POLICY);

    let updater = Arc::new(Updater {
        state: Arc::clone(&env.state),
        cache: OnceLock::new(),
        learned_before_answer: Mutex::new(Vec::new()),
    });
    let records: Arc<dyn RecordSink> = Arc::new(cilium_l7::records::NoRecords);
    let proxy = DnsProxy::new(
        DnsProxyConfig {
            cache: FqdnCacheConfig {
                min_ttl: 0,
                ..FqdnCacheConfig::default()
            },
            ..DnsProxyConfig::default()
        },
        env.snapshot.clone(),
        records,
        updater.clone(),
    );
    updater.cache.set(proxy.fqdn_cache()).ok().unwrap();
    {
        let state = env.state.lock().unwrap();
        let selectors = cilium_l7::dns::fqdn_selectors(state.engine.rules());
        proxy
            .fqdn_cache()
            .lock()
            .unwrap()
            .set_selectors(selectors)
            .unwrap();
    }
    let udp = env.udp_socket(DNS_EGRESS);
    let tcp = env.listener(DNS_EGRESS);
    let p = proxy.clone();
    env.rt.spawn(async move { p.serve_udp(udp).await });
    let p = proxy.clone();
    env.rt.spawn(async move { p.serve_tcp(tcp).await });
    let (p, state) = (proxy.clone(), Arc::clone(&env.state));
    env.rt.spawn(async move {
        p.run_expiry(Duration::from_millis(200), move |gone| {
            let mut s = state.lock().unwrap();
            for (_, ip) in gone {
                s.forget(ip).unwrap();
            }
        })
        .await
    });

    let web = SocketAddr::new(ext.addr.parse().unwrap(), 8080);
    let other = SocketAddr::new(ext2.addr.parse().unwrap(), 8080);
    let server = dns.sock(53);
    assert!(!connects(&client, web), "nothing learned yet: dropped");

    // The allowed name: dnsmasq's answer, from the address the client asked.
    let (rcode, ips, from) = udp_lookup(&client, server, "www.example.test").expect("lookup");
    assert_eq!((rcode, ips.clone(), from), (0, vec![web.ip()], server));
    assert_eq!(
        *updater.learned_before_answer.lock().unwrap(),
        vec![web.ip()]
    );
    // The first connect right after the answer passes.
    assert!(
        connects(&client, web),
        "learned address must be allowed at once"
    );
    // An address never learned through DNS stays dropped.
    assert!(
        !connects(&client, other),
        "unlearned address must be dropped"
    );

    // A denied name: REFUSED, and dnsmasq never saw it.
    let (rcode, ips, _) = udp_lookup(&client, server, "blocked.other.test").expect("lookup");
    assert_eq!((rcode, ips.len()), (5, 0), "REFUSED");
    let logged = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(logged.contains("www.example.test"), "{logged}");
    assert!(!logged.contains("blocked.other.test"), "{logged}");

    // TCP: the same policy.
    assert_eq!(
        tcp_lookup(&client, server, "www.example.test").expect("tcp lookup"),
        (0, vec![web.ip()])
    );
    assert_eq!(
        tcp_lookup(&client, server, "blocked.other.test")
            .expect("tcp lookup")
            .0,
        5
    );

    // Expiry: after the TTL the address leaves the ipcache and new connections are dropped.
    let mut forgotten = false;
    for _ in 0..100 {
        if env.state.lock().unwrap().learned.is_empty() {
            forgotten = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        forgotten,
        "the learned address must expire after its 2 s TTL"
    );
    assert!(
        !connects(&client, web),
        "expired address must be dropped again"
    );
    drop(dnsmasq);
    let _ = std::fs::remove_file(&log);
}
