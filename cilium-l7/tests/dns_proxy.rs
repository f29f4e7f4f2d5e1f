//! The DNS proxy against a real dnsmasq on loopback (no privileges needed): one dnsmasq per
//! test on a free port, stopped by a drop guard. Policy comes from a real `PolicyEngine`
//! with a CiliumNetworkPolicy whose DNS rule allows `*.example.test`.
//!
//! No assertion depends on timing: ordering is checked by causality (the updater's record
//! versus the client's), expiry with explicit instants.

#![cfg(feature = "proxy")]

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cilium_core::{LabelSet, NumericIdentity, Protocol};
use cilium_hubble::proto::flow::{L7FlowType, Verdict, layer7};
use cilium_l7::dns_proxy::{DnsProxy, DnsProxyConfig, FqdnUpdater, parse_answer, parse_query};
use cilium_l7::records::L7Record;
use cilium_l7::{ConnInfo, LocalEndpoint, PolicySnapshot};
use cilium_policy::{EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::watch;

const DNSMASQ: &str = "/usr/sbin/dnsmasq";

/// How long a test waits for something that should come at once before it gives up (a guard
/// against hanging, not a measurement).
const GIVE_UP: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------
// dnsmasq

/// A dnsmasq on 127.0.0.1, killed on drop.
struct Dnsmasq {
    child: Option<Child>,
    addr: SocketAddr,
    dir: PathBuf,
}

/// A port free for both TCP and UDP on 127.0.0.1.
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "cilium-l7-dns-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Dnsmasq {
    /// Starts dnsmasq with the test's records; `None` (with the reason printed) when the
    /// binary is not installed.
    fn start(records: &[&str]) -> Option<Dnsmasq> {
        if !Path::new(DNSMASQ).exists() {
            eprintln!("skipped: {DNSMASQ} is not installed (Debian package dnsmasq-base)");
            return None;
        }
        for _attempt in 0..5 {
            let port = free_port();
            let dir = temp_dir("dnsmasq");
            let log = dir.join("queries.log");
            let child = Command::new(DNSMASQ)
                .args([
                    "--no-daemon",
                    "--conf-file=/dev/null",
                    "--pid-file=",
                    "--no-resolv",
                    "--no-hosts",
                    "--bind-interfaces",
                    "--listen-address=127.0.0.1",
                    "--log-queries",
                ])
                .arg(format!("--port={port}"))
                .arg(format!("--log-facility={}", log.display()))
                .args(records)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn dnsmasq");
            let mut d = Dnsmasq {
                child: Some(child),
                addr: SocketAddr::from(([127, 0, 0, 1], port)),
                dir,
            };
            if d.wait_ready() {
                return Some(d);
            }
            // Lost the port to someone else; the guard cleans up, try another.
        }
        panic!("dnsmasq did not start on any of 5 free ports");
    }

    /// Waits until dnsmasq accepts TCP (it binds UDP and TCP together); false if it exited.
    fn wait_ready(&mut self) -> bool {
        let start = Instant::now();
        while start.elapsed() < GIVE_UP {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                eprintln!("dnsmasq exited at start: {status}");
                return false;
            }
            if std::net::TcpStream::connect(self.addr).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    /// Stops dnsmasq (SIGTERM, so its log is complete) and returns the names it was asked.
    fn stop_and_queries(mut self) -> Vec<String> {
        let mut child = self.child.take().unwrap();
        let pid = i32::try_from(child.id()).unwrap();
        // SAFETY: signalling our own child process by its pid; it has not been reaped yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        child.wait().unwrap();
        let log = std::fs::read_to_string(self.dir.join("queries.log")).unwrap_or_default();
        log.lines()
            .filter_map(|l| l.split_once(": query[").map(|(_, rest)| rest))
            .filter_map(|rest| rest.split(' ').nth(1))
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

// ---------------------------------------------------------------------------------------
// policy, updater, records

const CLIENT: &str = "127.0.0.1";

/// A snapshot with the endpoint `client_ip` (identity 1000, `app=client`) under a policy
/// allowing DNS to `*.example.test` on port 53 and on `proxy_port` (the port the test's
/// queries are addressed to).
fn snapshot(client_ip: &str, proxy_port: u16) -> PolicySnapshot {
    let policy = format!(
        r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: dns, namespace: default}}
spec:
  endpointSelector: {{matchLabels: {{app: client}}}}
  egress:
  - toPorts:
    - ports: [{{port: "53", protocol: ANY}}, {{port: "{proxy_port}", protocol: ANY}}]
      rules:
        dns: [{{matchPattern: "*.example.test"}}]
"#
    );
    let labels =
        LabelSet::parse_list(&["k8s:app=client", "k8s:io.kubernetes.pod.namespace=default"]);
    let mut engine = PolicyEngine::new(EngineConfig::default());
    engine.load_text("dns.yaml", &policy).unwrap();
    engine.upsert_identity(NumericIdentity::new(1000), labels.clone());
    let ep = EndpointInfo::new(NumericIdentity::new(1000), labels);
    let resolved = engine.resolve(&ep, &NamedPortTable::new()).unwrap();
    let mut snap = PolicySnapshot::new(Arc::new(engine.cache().clone()));
    snap.insert_endpoint(
        client_ip.parse().unwrap(),
        LocalEndpoint {
            id: 7,
            identity: NumericIdentity::new(1000),
            policy: Arc::new(resolved),
        },
    );
    snap
}

#[derive(Debug, Clone, PartialEq)]
enum Event {
    Learned(String, Vec<(IpAddr, u32)>),
    ClientGotAnswer(u16),
}

#[derive(Clone, Copy)]
enum Mode {
    /// Resolve after a sleep and a few yields to the runtime: the answer must still wait for
    /// it (unless the delay runs out).
    Slow,
    /// Never resolve.
    Never,
    /// Fail.
    Fail,
}

struct Updater {
    events: Arc<Mutex<Vec<Event>>>,
    mode: Mode,
}

impl FqdnUpdater for Updater {
    fn learned<'a>(
        &'a self,
        name: &'a str,
        ips: &'a [(IpAddr, u32)],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            match self.mode {
                Mode::Slow => {
                    // Give the proxy every chance to send early if it did not wait.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    for _ in 0..10 {
                        tokio::task::yield_now().await;
                    }
                    self.events
                        .lock()
                        .unwrap()
                        .push(Event::Learned(name.to_owned(), ips.to_vec()));
                    Ok(())
                }
                Mode::Never => std::future::pending().await,
                Mode::Fail => Err("ipcache is full".to_owned()),
            }
        })
    }
}

struct Harness {
    proxy: DnsProxy,
    events: Arc<Mutex<Vec<Event>>>,
    records: Arc<Mutex<Vec<L7Record>>>,
    _policy: watch::Sender<Arc<PolicySnapshot>>,
}

fn harness(config: DnsProxyConfig, snap: PolicySnapshot, mode: Mode) -> Harness {
    let (tx, rx) = watch::channel(Arc::new(snap));
    let events = Arc::new(Mutex::new(Vec::new()));
    let records = Arc::new(Mutex::new(Vec::new()));
    let sink = {
        let records = Arc::clone(&records);
        move |r: L7Record| records.lock().unwrap().push(r)
    };
    let proxy = DnsProxy::new(
        config,
        rx,
        Arc::new(sink),
        Arc::new(Updater {
            events: Arc::clone(&events),
            mode,
        }),
    );
    Harness {
        proxy,
        events,
        records,
        _policy: tx,
    }
}

fn config(upstream: SocketAddr) -> DnsProxyConfig {
    DnsProxyConfig {
        upstream: Some(upstream),
        // Ordering tests must not be rescued by the release timer.
        response_max_delay: Duration::from_secs(30),
        upstream_timeout: Duration::from_secs(10),
        mark_upstream: false,
        ..DnsProxyConfig::default()
    }
}

fn query(id: u16, name: &str, qtype: RecordType) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(id).set_recursion_desired(true);
    m.add_query(Query::query(Name::from_ascii(name).unwrap(), qtype));
    m.to_vec().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn udp_exchange(to: SocketAddr, q: &[u8]) -> Vec<u8> {
    let s = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    s.send_to(q, to).await.unwrap();
    let mut buf = vec![0u8; 65_535];
    let (n, from) = tokio::time::timeout(GIVE_UP, s.recv_from(&mut buf))
        .await
        .expect("an answer")
        .unwrap();
    assert_eq!(from, to, "the answer comes from the address queried");
    buf.truncate(n);
    buf
}

async fn tcp_send(s: &mut TcpStream, q: &[u8]) {
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(q);
    s.write_all(&framed).await.unwrap();
}

async fn tcp_read(s: &mut TcpStream) -> Vec<u8> {
    let read = async {
        let len = s.read_u16().await.unwrap();
        let mut buf = vec![0u8; usize::from(len)];
        s.read_exact(&mut buf).await.unwrap();
        buf
    };
    tokio::time::timeout(GIVE_UP, read)
        .await
        .expect("an answer")
}

/// A proxy UDP socket on 127.0.0.1 whose port is also free for TCP.
async fn proxy_sockets() -> (UdpSocket, TcpListener) {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let port = udp.local_addr().unwrap().port();
        if let Ok(tcp) = TcpListener::bind(("127.0.0.1", port)).await {
            return (udp, tcp);
        }
    }
}

const RECORDS: &[&str] = &[
    "--local-ttl=5",
    "--address=/allowed.example.test/192.0.2.10",
    "--address=/marker.example.test/192.0.2.99",
    "--address=/multi.example.test/192.0.2.20",
    "--address=/multi.example.test/192.0.2.21",
    "--address=/multi.example.test/2001:db8::20",
    "--address=/denied.other.test/198.51.100.1",
    "--host-record=target.example.test,192.0.2.30",
    "--cname=alias.example.test,target.example.test",
];

// ---------------------------------------------------------------------------------------
// tests

#[tokio::test]
async fn allowed_name_resolves_and_the_updater_sees_the_ips_before_the_client() {
    let Some(dnsmasq) = Dnsmasq::start(RECORDS) else {
        return;
    };
    let (udp, _tcp) = proxy_sockets().await;
    let at = udp.local_addr().unwrap();
    let h = harness(
        config(dnsmasq.addr),
        snapshot(CLIENT, at.port()),
        Mode::Slow,
    );
    h.proxy
        .fqdn_cache()
        .lock()
        .unwrap()
        .set_selectors(["*.example.test"])
        .unwrap();
    let serve = tokio::spawn({
        let proxy = h.proxy.clone();
        async move { proxy.serve_udp(udp).await }
    });

    let q = query(0x4242, "Allowed.Example.Test.", RecordType::A);
    let answer = udp_exchange(at, &q).await;
    h.events
        .lock()
        .unwrap()
        .push(Event::ClientGotAnswer(u16::from_be_bytes([
            answer[0], answer[1],
        ])));
    // The client reads the cache state at the moment it got the answer.
    let cache = h.proxy.fqdn_cache();
    assert_eq!(
        cache.lock().unwrap().ips_of("allowed.example.test"),
        [ip("192.0.2.10")]
    );

    let parsed = parse_answer(&parse_query(&q).unwrap(), &answer).unwrap();
    assert_eq!(parsed.id, 0x4242, "the query id is preserved");
    assert_eq!(parsed.rcode, 0);
    assert_eq!(
        parsed.ips,
        [(ip("192.0.2.10"), 5)],
        "dnsmasq's answer and TTL"
    );
    assert_eq!(
        *h.events.lock().unwrap(),
        [
            Event::Learned("allowed.example.test.".into(), vec![(ip("192.0.2.10"), 5)]),
            Event::ClientGotAnswer(0x4242),
        ],
        "the updater saw the IPs before the client got the answer"
    );
    // The learned address carries the labels its local identity needs.
    let labels = cache.lock().unwrap().labels_of(ip("192.0.2.10")).unwrap();
    let mut labels = labels.to_strings();
    labels.sort();
    assert_eq!(
        labels,
        [
            "cidr:192.0.2.10/32",
            "fqdn:*.example.test.",
            "reserved:world"
        ]
    );

    // Several addresses (A and AAAA) of one name, all learned.
    let q = query(7, "multi.example.test.", RecordType::A);
    let a = parse_answer(&parse_query(&q).unwrap(), &udp_exchange(at, &q).await).unwrap();
    let mut got: Vec<IpAddr> = a.ips.iter().map(|(i, _)| *i).collect();
    got.sort();
    assert_eq!(got, [ip("192.0.2.20"), ip("192.0.2.21")]);
    let q = query(8, "multi.example.test.", RecordType::AAAA);
    udp_exchange(at, &q).await;
    assert_eq!(
        cache.lock().unwrap().ips_of("multi.example.test."),
        [ip("192.0.2.20"), ip("192.0.2.21"), ip("2001:db8::20")]
    );

    // A CNAME chain: the target's address is learned under the name asked.
    let q = query(9, "alias.example.test.", RecordType::A);
    let a = parse_answer(&parse_query(&q).unwrap(), &udp_exchange(at, &q).await).unwrap();
    assert_eq!(a.cnames, ["target.example.test."]);
    assert_eq!(a.rrtypes, ["CNAME", "A"]);
    assert_eq!(
        cache.lock().unwrap().names_of(ip("192.0.2.30")),
        ["alias.example.test."]
    );

    // Records: a request and a response per query, the response with the DNS details.
    let records = h.records.lock().unwrap().clone();
    assert_eq!(records.len(), 8);
    let first = &records[1];
    assert_eq!(
        (
            first.kind,
            first.verdict,
            first.endpoint_id,
            first.source_identity
        ),
        (L7FlowType::Response, Verdict::Forwarded, 7, 1000)
    );
    let layer7::Record::Dns(dns) = &first.record else {
        panic!("a DNS record: {first:?}");
    };
    assert_eq!(dns.query, "allowed.example.test.");
    assert_eq!(dns.ips, ["192.0.2.10"]);
    assert_eq!((dns.ttl, dns.rcode), (5, 0));
    assert_eq!(dns.qtypes, ["A"]);
    assert_eq!(dns.rrtypes, ["A"]);
    assert!(records.iter().all(|r| r.verdict == Verdict::Forwarded));
    assert_eq!(h.proxy.stats().answered, 4);
    assert_eq!(h.proxy.stats().learned_timeouts, 0);

    serve.abort();
    let seen = dnsmasq.stop_and_queries();
    assert!(
        seen.contains(&"Allowed.Example.Test".to_owned()),
        "{seen:?}"
    );
}

#[tokio::test]
async fn denied_name_is_refused_and_never_reaches_dnsmasq() {
    let Some(dnsmasq) = Dnsmasq::start(RECORDS) else {
        return;
    };
    let (udp, _tcp) = proxy_sockets().await;
    let at = udp.local_addr().unwrap();
    let h = harness(
        config(dnsmasq.addr),
        snapshot(CLIENT, at.port()),
        Mode::Slow,
    );
    let serve = tokio::spawn({
        let proxy = h.proxy.clone();
        async move { proxy.serve_udp(udp).await }
    });

    let q = query(0x0d0d, "denied.other.test.", RecordType::A);
    let answer = udp_exchange(at, &q).await;
    let msg = Message::from_vec(&answer).unwrap();
    assert_eq!(msg.id(), 0x0d0d);
    assert_eq!(msg.response_code(), ResponseCode::Refused);
    assert_eq!(msg.queries().len(), 1, "the question is echoed");
    assert!(msg.answers().is_empty());
    // `example.test.` itself is not matched by `*.example.test`.
    let answer = udp_exchange(at, &query(2, "example.test.", RecordType::A)).await;
    assert_eq!(
        Message::from_vec(&answer).unwrap().response_code(),
        ResponseCode::Refused
    );
    // A marker that must reach dnsmasq, after the denied ones.
    let answer = udp_exchange(at, &query(3, "marker.example.test.", RecordType::A)).await;
    assert_eq!(Message::from_vec(&answer).unwrap().answers().len(), 1);

    let records = h.records.lock().unwrap().clone();
    let denied = &records[0];
    assert_eq!(
        (denied.kind, denied.verdict),
        (L7FlowType::Request, Verdict::Dropped)
    );
    let layer7::Record::Dns(dns) = &denied.record else {
        panic!("a DNS record");
    };
    assert_eq!((dns.query.as_str(), dns.rcode), ("denied.other.test.", 5));
    let stats = h.proxy.stats();
    assert_eq!((stats.denied, stats.allowed), (2, 1));
    assert!(
        h.events
            .lock()
            .unwrap()
            .iter()
            .all(|e| !matches!(e, Event::Learned(n, _) if n.contains("denied")))
    );

    serve.abort();
    let seen = dnsmasq.stop_and_queries();
    assert_eq!(
        seen,
        ["marker.example.test"],
        "dnsmasq saw only the allowed name"
    );
}

#[tokio::test]
async fn tcp_queries_are_proxied_over_tcp_pipelined() {
    let Some(dnsmasq) = Dnsmasq::start(RECORDS) else {
        return;
    };
    let (_udp, tcp) = proxy_sockets().await;
    let at = tcp.local_addr().unwrap();
    let h = harness(
        config(dnsmasq.addr),
        snapshot(CLIENT, at.port()),
        Mode::Slow,
    );
    let serve = tokio::spawn({
        let proxy = h.proxy.clone();
        async move { proxy.serve_tcp(tcp).await }
    });

    let mut s = TcpStream::connect(at).await.unwrap();
    // Two queries in flight on one connection: an allowed and a denied one.
    tcp_send(&mut s, &query(100, "allowed.example.test.", RecordType::A)).await;
    tcp_send(&mut s, &query(101, "denied.other.test.", RecordType::A)).await;
    let mut answers = [tcp_read(&mut s).await, tcp_read(&mut s).await];
    answers.sort();
    let allowed = Message::from_vec(&answers[0]).unwrap();
    let denied = Message::from_vec(&answers[1]).unwrap();
    assert_eq!((allowed.id(), denied.id()), (100, 101));
    assert_eq!(allowed.response_code(), ResponseCode::NoError);
    assert_eq!(allowed.answers().len(), 1);
    assert_eq!(denied.response_code(), ResponseCode::Refused);
    assert_eq!(
        h.events.lock().unwrap()[0],
        Event::Learned("allowed.example.test.".into(), vec![(ip("192.0.2.10"), 5)])
    );
    // Records say TCP.
    assert!(h.records.lock().unwrap().iter().all(|r| r.protocol == 6));
    // Closing our side: the proxy answers what is pending and closes.
    s.shutdown().await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(GIVE_UP, s.read_to_end(&mut rest))
        .await
        .expect("the proxy closes")
        .unwrap();
    assert!(rest.is_empty());

    serve.abort();
    let seen = dnsmasq.stop_and_queries();
    assert_eq!(seen, ["allowed.example.test"]);
}

#[tokio::test]
async fn learned_ips_expire_by_the_pure_cache_and_the_proxy_helper() {
    let Some(dnsmasq) = Dnsmasq::start(&["--local-ttl=1", "--address=/a.example.test/192.0.2.50"])
    else {
        return;
    };
    let conn = ConnInfo {
        client: "10.1.0.1:40000".parse().unwrap(),
        server: "10.96.0.10:53".parse().unwrap(),
        protocol: Protocol::Udp,
    };
    let h = harness(config(dnsmasq.addr), snapshot("10.1.0.1", 53), Mode::Slow);
    let q = query(1, "a.example.test.", RecordType::A);
    let answer = h.proxy.handle(conn, &q).await.unwrap();
    assert_eq!(Message::from_vec(&answer).unwrap().answers().len(), 1);

    // The pure cache, with explicit instants around the entry's expiry.
    let cache = h.proxy.fqdn_cache();
    let due = cache
        .lock()
        .unwrap()
        .expires_at("a.example.test.", ip("192.0.2.50"))
        .unwrap();
    let mut copy = cache.lock().unwrap().clone();
    assert!(copy.expire(due - Duration::from_millis(1)).is_empty());
    assert_eq!(
        copy.expire(due),
        [("a.example.test.".to_owned(), ip("192.0.2.50"))]
    );
    assert_eq!(copy.labels_of(ip("192.0.2.50")), None);

    // The proxy's helper on its own cache.
    assert!(h.proxy.expire(due - Duration::from_millis(1)).is_empty());
    assert_eq!(
        h.proxy.expire(due),
        [("a.example.test.".to_owned(), ip("192.0.2.50"))]
    );
    assert!(cache.lock().unwrap().is_empty());

    // The expiry task: learn again (TTL 1 s) and wait for the task to report it.
    h.proxy.handle(conn, &q).await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn({
        let proxy = h.proxy.clone();
        async move {
            proxy
                .run_expiry(Duration::from_millis(100), move |v| {
                    let _ = tx.send(v);
                })
                .await;
        }
    });
    let expired = tokio::time::timeout(GIVE_UP, rx.recv())
        .await
        .expect("the expiry task reports")
        .unwrap();
    assert_eq!(expired, [("a.example.test.".to_owned(), ip("192.0.2.50"))]);
    assert!(h.proxy.fqdn_cache().lock().unwrap().names().is_empty());
    task.abort();
    drop(dnsmasq);
}

#[tokio::test]
async fn answers_wait_at_most_the_max_delay_and_a_failed_update_is_servfail() {
    let Some(dnsmasq) = Dnsmasq::start(RECORDS) else {
        return;
    };
    let conn = ConnInfo {
        client: "10.1.0.1:40000".parse().unwrap(),
        server: "10.96.0.10:53".parse().unwrap(),
        protocol: Protocol::Udp,
    };
    // An updater that never resolves: the answer is released after the delay.
    let h = harness(
        DnsProxyConfig {
            response_max_delay: Duration::from_millis(20),
            ..config(dnsmasq.addr)
        },
        snapshot("10.1.0.1", 53),
        Mode::Never,
    );
    let q = query(5, "allowed.example.test.", RecordType::A);
    let answer = h.proxy.handle(conn, &q).await.unwrap();
    let msg = Message::from_vec(&answer).unwrap();
    assert_eq!(
        (msg.response_code(), msg.answers().len()),
        (ResponseCode::NoError, 1)
    );
    assert_eq!(h.proxy.stats().learned_timeouts, 1);

    // An updater slower than the delay: the answer goes first, the update is not cancelled
    // and still reaches the agent.
    let h = harness(
        DnsProxyConfig {
            response_max_delay: Duration::from_millis(1),
            ..config(dnsmasq.addr)
        },
        snapshot("10.1.0.1", 53),
        Mode::Slow,
    );
    let answer = h.proxy.handle(conn, &q).await.unwrap();
    assert_eq!(Message::from_vec(&answer).unwrap().answers().len(), 1);
    assert_eq!(h.proxy.stats().learned_timeouts, 1);
    let waited = Instant::now();
    while h.events.lock().unwrap().is_empty() && waited.elapsed() < GIVE_UP {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        *h.events.lock().unwrap(),
        [Event::Learned(
            "allowed.example.test.".into(),
            vec![(ip("192.0.2.10"), 5)]
        )]
    );

    // An updater that fails: SERVFAIL, and an error record.
    let h = harness(config(dnsmasq.addr), snapshot("10.1.0.1", 53), Mode::Fail);
    let answer = h.proxy.handle(conn, &q).await.unwrap();
    let msg = Message::from_vec(&answer).unwrap();
    assert_eq!((msg.id(), msg.response_code()), (5, ResponseCode::ServFail));
    assert_eq!(h.proxy.stats().learned_errors, 1);
    let last = h.records.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (last.kind, last.verdict),
        (L7FlowType::Response, Verdict::Error)
    );
    drop(dnsmasq);
}

#[tokio::test]
async fn unusable_queries_and_upstreams_give_errors_not_panics() {
    let conn = ConnInfo {
        client: "10.1.0.1:40000".parse().unwrap(),
        server: "10.96.0.10:53".parse().unwrap(),
        protocol: Protocol::Udp,
    };
    // An upstream port nobody listens on: ICMP unreachable, SERVFAIL.
    let closed = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    // A fresh connected socket per query sees the ICMP error.
    let h = harness(
        DnsProxyConfig {
            udp_upstream_sockets: 0,
            ..config(closed)
        },
        snapshot("10.1.0.1", 53),
        Mode::Slow,
    );
    let q = query(77, "x.example.test.", RecordType::A);
    let answer = h.proxy.handle(conn, &q).await.unwrap();
    assert_eq!(
        Message::from_vec(&answer).unwrap().response_code(),
        ResponseCode::ServFail
    );
    assert_eq!(h.proxy.stats().upstream_errors, 1);
    // A shared socket does not; the upstream timeout gives SERVFAIL.
    let shared = harness(
        DnsProxyConfig {
            upstream_timeout: Duration::from_millis(200),
            ..config(closed)
        },
        snapshot("10.1.0.1", 53),
        Mode::Slow,
    );
    let answer = shared.proxy.handle(conn, &q).await.unwrap();
    assert_eq!(
        Message::from_vec(&answer).unwrap().response_code(),
        ResponseCode::ServFail
    );
    assert_eq!(shared.proxy.stats().upstream_errors, 1);

    // Garbage and short messages: FORMERR with the id, or nothing.
    assert_eq!(h.proxy.handle(conn, &[1, 2, 3]).await, None);
    let mut garbage = vec![0xAB, 0xCD, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    garbage.extend_from_slice(&[0xFF; 9]);
    let answer = h.proxy.handle(conn, &garbage).await.unwrap();
    assert_eq!(answer[..4], [0xAB, 0xCD, 0x81, 0x01]);
    // A response sent as a query is dropped (no reflection loops).
    let mut resp = q.clone();
    resp[2] |= 0x80;
    assert_eq!(h.proxy.handle(conn, &resp).await, None);
    assert_eq!(h.proxy.stats().malformed, 3);

    // An upstream that first answers with another id and another question (ignored), then
    // with garbage carrying the right id (SERVFAIL).
    let upstream = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let up_addr = upstream.local_addr().unwrap();
    let fake = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        let (n, from) = upstream.recv_from(&mut buf).await.unwrap();
        let got = buf[..n].to_vec();
        let mut wrong_id = got.clone();
        wrong_id[0] ^= 0xFF;
        wrong_id[2] |= 0x80;
        upstream.send_to(&wrong_id, from).await.unwrap();
        let mut other_q = query(77, "other.example.test.", RecordType::A);
        other_q[2] |= 0x80;
        upstream.send_to(&other_q, from).await.unwrap();
        let mut bad = got[..2].to_vec();
        bad.extend_from_slice(&[0x81, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4, 5]);
        upstream.send_to(&bad, from).await.unwrap();
        got
    });
    let h = harness(config(up_addr), snapshot("10.1.0.1", 53), Mode::Slow);
    let answer = h.proxy.handle(conn, &q).await.unwrap();
    assert_eq!(
        fake.await.unwrap(),
        q,
        "the query is forwarded byte for byte"
    );
    let msg = Message::from_vec(&answer).unwrap();
    assert_eq!(
        (msg.id(), msg.response_code()),
        (77, ResponseCode::ServFail)
    );
    let last = h.records.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.verdict, Verdict::Error);
}

#[tokio::test]
async fn transparent_socket_and_marked_upstream_when_privileged() {
    // Needs CAP_NET_ADMIN (IP_TRANSPARENT, SO_MARK); without it there is nothing to test.
    let Ok(udp) = cilium_l7::transparent::udp_socket("127.0.0.1:0".parse().unwrap()) else {
        eprintln!("skipped: no CAP_NET_ADMIN for a transparent socket");
        return;
    };
    let Some(dnsmasq) = Dnsmasq::start(RECORDS) else {
        return;
    };
    let at = udp.local_addr().unwrap();
    let h = harness(
        DnsProxyConfig {
            mark_upstream: true,
            ..config(dnsmasq.addr)
        },
        snapshot(CLIENT, at.port()),
        Mode::Slow,
    );
    let serve = tokio::spawn({
        let proxy = h.proxy.clone();
        async move { proxy.serve_udp(udp).await }
    });
    // Read with recvmsg and the original destination; the upstream socket carries the mark
    // of identity 1000 (loopback routing ignores it).
    let q = query(0x7777, "allowed.example.test.", RecordType::A);
    let answer = udp_exchange(at, &q).await;
    let parsed = parse_answer(&parse_query(&q).unwrap(), &answer).unwrap();
    assert_eq!(parsed.ips, [(ip("192.0.2.10"), 5)]);
    let denied = udp_exchange(at, &query(0x7778, "denied.other.test.", RecordType::A)).await;
    assert_eq!(
        Message::from_vec(&denied).unwrap().response_code(),
        ResponseCode::Refused
    );
    serve.abort();
    assert_eq!(dnsmasq.stop_and_queries(), ["allowed.example.test"]);
}
