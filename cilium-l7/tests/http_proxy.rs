//! The HTTP proxy end to end on loopback, unprivileged: a raw TCP upstream on 127.0.0.1 that
//! records every byte and request it gets, the proxy serving connections accepted on a
//! loopback listener with the upstream as original destination, clients bound to 127.0.0.2
//! (the local endpoint of an egress policy), policy from a real `PolicyEngine`.

#![cfg(feature = "proxy")]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cilium_core::{LabelSet, NumericIdentity, Protocol};
use cilium_hubble::proto::flow::{L7FlowType, TrafficDirection, Verdict, layer7};
use cilium_l7::http::RequestHead;
use cilium_l7::http_proxy::{HttpProxy, HttpProxyConfig};
use cilium_l7::policy::{ConnInfo, LocalEndpoint, PolicySnapshot};
use cilium_l7::records::L7Record;
use cilium_policy::{Direction, EndpointInfo, EngineConfig, NamedPortTable, PolicyEngine};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;

const CLIENT_IP: &str = "127.0.0.2";

// ---------------------------------------------------------------------------------------------
// Upstream
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[derive(Clone)]
struct Upstream {
    addr: SocketAddr,
    accepts: Arc<AtomicUsize>,
    raw_bytes: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Upstream {
    /// An upstream that answers `200` with `<method> <target>\n`; with `close_each` it
    /// closes the connection after every response.
    async fn start(close_each: bool) -> Upstream {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let up = Upstream {
            addr: l.local_addr().unwrap(),
            accepts: Arc::default(),
            raw_bytes: Arc::default(),
            seen: Arc::default(),
        };
        let u = up.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = l.accept().await {
                u.accepts.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(upstream_conn(s, u.clone(), close_each));
            }
        });
        up
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn accepts(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    fn raw_bytes(&self) -> usize {
        self.raw_bytes.load(Ordering::SeqCst)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn fill(s: &mut TcpStream, buf: &mut Vec<u8>, up: &Upstream) -> bool {
    let mut tmp = [0u8; 4096];
    match s.read(&mut tmp).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            up.raw_bytes.fetch_add(n, Ordering::SeqCst);
            buf.extend_from_slice(&tmp[..n]);
            true
        }
    }
}

async fn upstream_conn(mut s: TcpStream, up: Upstream, close_each: bool) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(p) = find(&buf, b"\r\n\r\n") {
                break p + 4;
            }
            if !fill(&mut s, &mut buf, &up).await {
                return;
            }
        };
        let (method, target, headers, framing) = {
            let h = match RequestHead::parse(&buf[..head_end], &Default::default()) {
                Ok(Some(h)) => h,
                _ => return,
            };
            let headers: Vec<(String, String)> = h
                .headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), String::from_utf8_lossy(v).into()))
                .collect();
            (h.method.to_owned(), h.target.to_owned(), headers, h.framing)
        };
        buf.drain(..head_end);
        let body = match framing {
            cilium_l7::http::BodyFraming::Empty => Vec::new(),
            cilium_l7::http::BodyFraming::Length(n) => {
                let n = n as usize;
                while buf.len() < n {
                    if !fill(&mut s, &mut buf, &up).await {
                        return;
                    }
                }
                buf.drain(..n).collect()
            }
            cilium_l7::http::BodyFraming::Chunked => {
                let mut body = Vec::new();
                loop {
                    let line = loop {
                        if let Some(p) = find(&buf, b"\r\n") {
                            break p;
                        }
                        if !fill(&mut s, &mut buf, &up).await {
                            return;
                        }
                    };
                    let size_text = String::from_utf8_lossy(&buf[..line]).to_string();
                    let Ok(size) =
                        usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16)
                    else {
                        return;
                    };
                    buf.drain(..line + 2);
                    if size == 0 {
                        // Trailers up to the empty line.
                        loop {
                            let Some(p) = find(&buf, b"\r\n") else {
                                if !fill(&mut s, &mut buf, &up).await {
                                    return;
                                }
                                continue;
                            };
                            buf.drain(..p + 2);
                            if p == 0 {
                                break;
                            }
                        }
                        break body;
                    }
                    while buf.len() < size + 2 {
                        if !fill(&mut s, &mut buf, &up).await {
                            return;
                        }
                    }
                    body.extend(buf.drain(..size));
                    buf.drain(..2);
                }
            }
        };
        let reply = format!("{method} {target}\n");
        up.seen.lock().unwrap().push(Seen {
            method,
            target,
            headers,
            body,
        });
        let close = if close_each {
            "connection: close\r\n"
        } else {
            ""
        };
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nx-upstream: yes\r\n{close}\r\n{reply}",
            reply.len()
        );
        if s.write_all(resp.as_bytes()).await.is_err() || close_each {
            return;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Policy
// ---------------------------------------------------------------------------------------------

fn snapshot(port: u16, http_rules: &str) -> PolicySnapshot {
    let text = format!(
        r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: api, namespace: shop}}
spec:
  endpointSelector: {{matchLabels: {{app: client}}}}
  egress:
  - toEndpoints: [{{matchLabels: {{app: server}}}}]
    toPorts:
    - ports: [{{port: "{port}", protocol: TCP}}]
      rules:
        http:
{http_rules}
"#
    );
    let ns = "k8s:io.kubernetes.pod.namespace=shop";
    let client = LabelSet::parse_list(&["k8s:app=client", ns]);
    let server = LabelSet::parse_list(&["k8s:app=server", ns]);
    let mut engine = PolicyEngine::new(EngineConfig::default());
    engine.load_text("p.yaml", &text).unwrap();
    engine.upsert_identity(NumericIdentity::new(1000), client.clone());
    engine.upsert_identity(NumericIdentity::new(1001), server);
    let ep = EndpointInfo::new(NumericIdentity::new(1000), client);
    let policy = engine.resolve(&ep, &NamedPortTable::new()).unwrap();
    let mut snap = PolicySnapshot::new(Arc::new(engine.cache().clone()));
    snap.insert_endpoint(
        CLIENT_IP.parse().unwrap(),
        LocalEndpoint {
            id: 7,
            identity: NumericIdentity::new(1000),
            policy: Arc::new(policy),
        },
    );
    snap.insert_prefix("127.0.0.1".parse().unwrap(), 32, NumericIdentity::new(1001));
    snap
}

// ---------------------------------------------------------------------------------------------
// Proxy and clients
// ---------------------------------------------------------------------------------------------

struct Harness {
    upstream: Upstream,
    proxy: Arc<HttpProxy>,
    addr: SocketAddr,
    policy: watch::Sender<Arc<PolicySnapshot>>,
    records: Arc<Mutex<Vec<L7Record>>>,
    mismatches: Arc<Mutex<Vec<String>>>,
}

impl Harness {
    async fn start(http_rules: &str) -> Harness {
        Harness::with(http_rules, false, |_| {}).await
    }

    async fn with(
        http_rules: &str,
        close_each: bool,
        tune: impl FnOnce(&mut HttpProxyConfig),
    ) -> Harness {
        let upstream = Upstream::start(close_each).await;
        let (policy, rx) = watch::channel(Arc::new(snapshot(upstream.addr.port(), http_rules)));
        let records: Arc<Mutex<Vec<L7Record>>> = Arc::default();
        let sink = {
            let r = Arc::clone(&records);
            move |rec: L7Record| r.lock().unwrap().push(rec)
        };
        let mut config = HttpProxyConfig::new(Direction::Egress);
        config.mark_upstream = false;
        tune(&mut config);
        let mismatches: Arc<Mutex<Vec<String>>> = Arc::default();
        let m = Arc::clone(&mismatches);
        let proxy = Arc::new(
            HttpProxy::new(config, rx, Arc::new(sink)).with_mismatch_log(move |_, mm| {
                m.lock()
                    .unwrap()
                    .push(format!("{} {}", mm.action.name(), mm.name));
            }),
        );
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let (p, server) = (Arc::clone(&proxy), upstream.addr);
        tokio::spawn(async move {
            while let Ok((s, client)) = l.accept().await {
                let conn = ConnInfo {
                    client,
                    server,
                    protocol: Protocol::Tcp,
                };
                tokio::spawn(Arc::clone(&p).serve_connection(s, conn));
            }
        });
        Harness {
            upstream,
            proxy,
            addr,
            policy,
            records,
            mismatches,
        }
    }

    async fn client(&self) -> Client {
        Client::connect(self.addr).await
    }

    fn records(&self) -> Vec<L7Record> {
        self.records.lock().unwrap().clone()
    }
}

#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    async fn connect(proxy: SocketAddr) -> Client {
        Client::connect_from(CLIENT_IP, proxy).await
    }

    async fn connect_from(ip: &str, proxy: SocketAddr) -> Client {
        let sock = TcpSocket::new_v4().unwrap();
        sock.bind(format!("{ip}:0").parse().unwrap()).unwrap();
        Client {
            s: sock.connect(proxy).await.unwrap(),
            buf: Vec::new(),
        }
    }

    async fn send(&mut self, raw: &[u8]) {
        self.s.write_all(raw).await.unwrap();
    }

    async fn more(&mut self) -> bool {
        let mut tmp = [0u8; 4096];
        match self.s.read(&mut tmp).await {
            Ok(0) | Err(_) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
        }
    }

    /// The next final response; `None` when the connection closed first.
    async fn response(&mut self) -> Option<Resp> {
        loop {
            let end = loop {
                if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                    break p + 4;
                }
                if !self.more().await {
                    return None;
                }
            };
            let head = String::from_utf8_lossy(&self.buf[..end]).to_string();
            self.buf.drain(..end);
            let mut lines = head.split("\r\n");
            let status: u16 = lines.next()?.split(' ').nth(1)?.parse().ok()?;
            let headers: Vec<(String, String)> = lines
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            if status < 200 {
                continue;
            }
            let len = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .map_or(0, |(_, v)| v.parse::<usize>().unwrap());
            assert!(
                !headers.iter().any(|(n, _)| n == "transfer-encoding"),
                "the test client reads lengths only: {headers:?}"
            );
            while self.buf.len() < len {
                if !self.more().await {
                    return None;
                }
            }
            let body = self.buf.drain(..len).collect();
            return Some(Resp {
                status,
                headers,
                body,
            });
        }
    }

    async fn request(&mut self, raw: &str) -> Resp {
        self.send(raw.as_bytes()).await;
        self.response().await.expect("a response")
    }

    /// Whether the proxy closed the connection (nothing more to read).
    async fn closed(&mut self) -> bool {
        self.buf.is_empty() && !self.more().await
    }
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: svc\r\n\r\n")
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

const GET_API: &str = r#"        - {method: GET, path: "/api/.*"}"#;

#[tokio::test]
async fn get_is_allowed_and_delete_denied_on_one_kept_alive_connection() {
    let h = Harness::start(GET_API).await;
    let mut c = h.client().await;
    let r = c.request(&get("/api/x")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"GET /api/x\n");
    assert_eq!(r.header("x-upstream"), Some("yes"));
    let r = c
        .request("DELETE /api/x HTTP/1.1\r\nHost: svc\r\n\r\n")
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(r.body, b"Access denied\r\n");
    // The connection stays usable after a denial.
    let r = c.request(&get("/api/y")).await;
    assert_eq!(r.status, 200);
    let seen: Vec<String> = h
        .upstream
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.target))
        .collect();
    assert_eq!(seen, ["GET /api/x", "GET /api/y"]);
    let st = h.proxy.stats();
    assert_eq!((st.allowed, st.denied, st.rejected), (2, 1, 0));
}

#[tokio::test]
async fn a_policy_change_applies_to_the_next_request_of_an_open_connection() {
    let h = Harness::start(GET_API).await;
    let port = h.upstream.addr.port();
    let mut c = h.client().await;
    assert_eq!(c.request(&get("/api/x")).await.status, 200);
    assert_eq!(c.request(&get("/public/a")).await.status, 403);
    h.policy
        .send(Arc::new(snapshot(
            port,
            r#"        - {method: GET, path: "/public/.*"}"#,
        )))
        .unwrap();
    assert_eq!(c.request(&get("/api/x")).await.status, 403);
    assert_eq!(c.request(&get("/public/a")).await.status, 200);
    h.policy.send(Arc::new(snapshot(port, GET_API))).unwrap();
    assert_eq!(c.request(&get("/api/x")).await.status, 200);
    // All on one downstream and one upstream connection.
    assert_eq!(h.proxy.stats().connections, 1);
    assert_eq!(h.upstream.accepts(), 1);
}

#[tokio::test]
async fn requests_of_a_connection_reuse_one_upstream_connection() {
    let h = Harness::start(GET_API).await;
    let mut c = h.client().await;
    for i in 0..10 {
        let r = c.request(&get(&format!("/api/{i}"))).await;
        assert_eq!(r.status, 200);
    }
    assert_eq!(h.upstream.accepts(), 1);
    assert_eq!(h.upstream.seen().len(), 10);
    // Pipelined requests too.
    c.send(
        (0..3)
            .map(|i| get(&format!("/api/p{i}")))
            .collect::<String>()
            .as_bytes(),
    )
    .await;
    for i in 0..3 {
        let r = c.response().await.unwrap();
        assert_eq!(r.body, format!("GET /api/p{i}\n").as_bytes());
    }
    assert_eq!(h.upstream.accepts(), 1);
    // Another downstream connection gets its own upstream connection.
    let mut c2 = h.client().await;
    assert_eq!(c2.request(&get("/api/z")).await.status, 200);
    assert_eq!(h.upstream.accepts(), 2);
    assert_eq!(h.proxy.stats().upstream_connections, 2);
}

#[tokio::test]
async fn an_upstream_that_closes_after_each_response_is_reconnected() {
    let h = Harness::with(GET_API, true, |_| {}).await;
    let mut c = h.client().await;
    for i in 0..4 {
        let r = c.request(&get(&format!("/api/{i}"))).await;
        assert_eq!(r.status, 200, "request {i}");
    }
    assert_eq!(h.upstream.accepts(), 4);
    assert_eq!(h.proxy.stats().upstream_errors, 0);
}

/// Requests that two HTTP parsers could frame differently, each on a fresh connection:
/// answered 400 (or 431), the connection closed, the upstream never contacted.
#[tokio::test]
async fn smuggling_attempts_are_refused_and_never_forwarded() {
    let h = Harness::start(r#"        - {path: "/api/.*"}"#).await;
    let post = |headers: &str, body: &str| {
        format!("POST /api/x HTTP/1.1\r\nHost: svc\r\n{headers}\r\n{body}")
    };
    let smuggled = "GET /api/admin HTTP/1.1\r\nHost: svc\r\n\r\n";
    let chunked = |body: &str| post("Transfer-Encoding: chunked\r\n", body);
    let cases: Vec<(&str, String, u16)> = vec![
        (
            "two different Content-Length",
            post("Content-Length: 3\r\nContent-Length: 4\r\n", "abcd"),
            400,
        ),
        (
            "two equal Content-Length",
            post("Content-Length: 4\r\nContent-Length: 4\r\n", "abcd"),
            400,
        ),
        (
            "Content-Length list",
            post("Content-Length: 4, 4\r\n", "abcd"),
            400,
        ),
        (
            "Content-Length with sign",
            post("Content-Length: +4\r\n", "abcd"),
            400,
        ),
        (
            "Content-Length in hex",
            post("Content-Length: 0x4\r\n", "abcd"),
            400,
        ),
        (
            "negative Content-Length",
            post("Content-Length: -1\r\n", "abcd"),
            400,
        ),
        (
            "Content-Length with inner space",
            post("Content-Length: 4 4\r\n", "abcd"),
            400,
        ),
        (
            "Content-Length overflow",
            post("Content-Length: 99999999999999999999\r\n", "abcd"),
            400,
        ),
        (
            "Content-Length and Transfer-Encoding",
            post(
                "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                &format!("0\r\n\r\n{smuggled}"),
            ),
            400,
        ),
        (
            "Transfer-Encoding and Content-Length",
            post(
                "Transfer-Encoding: chunked\r\nContent-Length: 40\r\n",
                &format!("0\r\n\r\n{smuggled}"),
            ),
            400,
        ),
        (
            "Transfer-Encoding gzip, chunked",
            post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
            400,
        ),
        (
            "Transfer-Encoding chunked, gzip",
            post("Transfer-Encoding: chunked, gzip\r\n", "0\r\n\r\n"),
            400,
        ),
        (
            "Transfer-Encoding identity",
            post("Transfer-Encoding: identity\r\n", "0\r\n\r\n"),
            400,
        ),
        (
            "Transfer-Encoding xchunked",
            post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"),
            400,
        ),
        (
            "Transfer-Encoding with a vertical tab",
            post("Transfer-Encoding: \x0bchunked\r\n", "0\r\n\r\n"),
            400,
        ),
        (
            "two Transfer-Encoding",
            post(
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                "0\r\n\r\n",
            ),
            400,
        ),
        (
            "space before the colon",
            post("Transfer-Encoding : chunked\r\n", "0\r\n\r\n"),
            400,
        ),
        (
            "Transfer-Encoding in HTTP/1.0",
            "POST /api/x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".into(),
            400,
        ),
        (
            "obs-fold",
            post("X-A: 1\r\n Transfer-Encoding: chunked\r\n", "0\r\n\r\n"),
            400,
        ),
        (
            "obs-fold of Transfer-Encoding",
            post("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n"),
            400,
        ),
        (
            "chunk size not hex",
            chunked("zz\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        (
            "negative chunk size",
            chunked("-1\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        (
            "chunk size with 0x",
            chunked("0x5\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        (
            "chunk size overflow",
            chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        (
            "chunk size with a leading space",
            chunked(" 5\r\nhello\r\n0\r\n\r\n"),
            400,
        ),
        (
            "chunk longer than its size",
            chunked(&format!("2\r\nhello\r\n0\r\n\r\n{smuggled}")),
            400,
        ),
        (
            "chunk size line ended by LF",
            chunked("5\nhello\r\n0\r\n\r\n"),
            400,
        ),
        (
            "bare LF line ends",
            "GET /api/x HTTP/1.1\nHost: svc\n\n".into(),
            400,
        ),
        (
            "bare CR in a field",
            "GET /api/x HTTP/1.1\r\nHost: svc\r\nX: a\rb\r\n\r\n".into(),
            400,
        ),
        (
            "NUL in a field",
            "GET /api/x HTTP/1.1\r\nHost: svc\r\nX: a\0b\r\n\r\n".into(),
            400,
        ),
        (
            "two Host",
            "GET /api/x HTTP/1.1\r\nHost: svc\r\nHost: evil\r\n\r\n".into(),
            400,
        ),
        ("no Host", "GET /api/x HTTP/1.1\r\nX: y\r\n\r\n".into(), 400),
        (
            "double space in the request line",
            "GET  /api/x HTTP/1.1\r\nHost: svc\r\n\r\n".into(),
            400,
        ),
        (
            "HTTP/2 preface",
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".into(),
            505,
        ),
        (
            "head over the limit",
            format!(
                "GET /api/x HTTP/1.1\r\nHost: svc\r\nX: {}\r\n\r\n",
                "a".repeat(20_000)
            ),
            431,
        ),
        (
            "too many fields",
            format!(
                "GET /api/x HTTP/1.1\r\nHost: svc\r\n{}\r\n",
                "X: y\r\n".repeat(101)
            ),
            431,
        ),
    ];
    for (name, raw, want) in &cases {
        let mut c = h.client().await;
        c.send(raw.as_bytes()).await;
        let r = c
            .response()
            .await
            .unwrap_or_else(|| panic!("{name}: no response"));
        assert_eq!(
            r.status,
            *want,
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("connection"), Some("close"), "{name}");
        assert!(c.closed().await, "{name}: connection left open");
    }
    assert_eq!(h.upstream.accepts(), 0, "the upstream was contacted");
    assert_eq!(h.upstream.raw_bytes(), 0);
    // Each refusal left an ERROR record.
    let errors = h
        .records()
        .iter()
        .filter(|r| r.kind == L7FlowType::Request && r.verdict == Verdict::Error)
        .count();
    assert_eq!(errors, cases.len());
    assert_eq!(h.proxy.stats().rejected, cases.len() as u64);
}

#[tokio::test]
async fn a_smuggling_attempt_after_a_good_request_is_refused_after_its_answer() {
    let h = Harness::start(r#"        - {path: "/api/.*"}"#).await;
    let mut c = h.client().await;
    let good = get("/api/first");
    let bad = "POST /api/x HTTP/1.1\r\nHost: svc\r\nContent-Length: 4\r\n\
               Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/admin HTTP/1.1\r\nHost: svc\r\n\r\n";
    c.send(format!("{good}{bad}").as_bytes()).await;
    assert_eq!(c.response().await.unwrap().status, 200);
    let r = c.response().await.unwrap();
    assert_eq!(r.status, 400);
    assert!(c.closed().await);
    let seen: Vec<String> = h.upstream.seen().iter().map(|s| s.target.clone()).collect();
    assert_eq!(seen, ["/api/first"]);
}

#[tokio::test]
async fn a_body_that_breaks_after_streaming_began_never_completes_upstream() {
    // Bodies over 8 bytes are streamed; the second chunk size is garbage.
    let h = Harness::with(r#"        - {path: "/api/.*"}"#, false, |c| {
        c.max_buffered_body = 8;
    })
    .await;
    let mut c = h.client().await;
    c.send(
        b"POST /api/x HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n\
          14\r\n01234567890123456789\r\nzz\r\n",
    )
    .await;
    let r = c.response().await;
    assert!(
        r.as_ref().is_none_or(|r| r.status == 400),
        "{:?}",
        r.map(|r| r.status)
    );
    assert!(c.closed().await);
    assert!(
        h.upstream.seen().is_empty(),
        "the upstream got a complete request"
    );
}

#[tokio::test]
async fn bodies_are_forwarded_with_their_length_or_streamed() {
    let h = Harness::with(r#"        - {path: "/api/.*"}"#, false, |c| {
        c.max_buffered_body = 16;
    })
    .await;
    let mut c = h.client().await;
    let r = c
        .request(
            "POST /api/a HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n\
             3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n",
        )
        .await;
    assert_eq!(r.status, 200);
    let big = "x".repeat(100);
    let r = c
        .request(&format!(
            "POST /api/b HTTP/1.1\r\nHost: svc\r\nContent-Length: 100\r\n\r\n{big}"
        ))
        .await;
    assert_eq!(r.status, 200);
    let r = c
        .request(&format!(
            "POST /api/c HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n64\r\n{big}\r\n0\r\n\r\n"
        ))
        .await;
    assert_eq!(r.status, 200);
    let seen = h.upstream.seen();
    assert_eq!(seen[0].body, b"abcde");
    assert_eq!(seen[0].header("content-length"), ["5"]);
    assert!(seen[0].header("transfer-encoding").is_empty());
    assert_eq!(seen[1].body, big.as_bytes());
    assert_eq!(seen[2].body, big.as_bytes());
    // Expect: 100-continue works through the proxy.
    c.send(
        b"POST /api/d HTTP/1.1\r\nHost: svc\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n",
    )
    .await;
    let mut interim = [0u8; 25];
    c.s.read_exact(&mut interim).await.unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.send(b"ok").await;
    assert_eq!(c.response().await.unwrap().status, 200);
    assert_eq!(h.upstream.seen()[3].body, b"ok");
    assert_eq!(h.upstream.accepts(), 1);
}

/// Targets against `GET /public/.*`: status, and the target the upstream gets.
#[tokio::test]
async fn targets_are_normalised_before_matching_and_forwarding() {
    let h = Harness::start(r#"        - {method: GET, path: "/public/.*"}"#).await;
    let cases: &[(&str, u16, Option<&str>)] = &[
        ("/public/a", 200, Some("/public/a")),
        ("/public/./x", 200, Some("/public/x")),
        ("/public/a/../b", 200, Some("/public/b")),
        ("/public/%61", 200, Some("/public/a")),
        ("/public/a%3a", 200, Some("/public/a%3A")),
        ("/../public/x", 200, Some("/public/x")),
        ("/public//x", 200, Some("/public/x")),
        ("/public/x?q=/../admin", 200, Some("/public/x?q=/../admin")),
        (
            "/public/%252e%252e/admin",
            200,
            Some("/public/%252e%252e/admin"),
        ),
        ("/public/../admin", 403, None),
        ("/public/%2e%2e/admin", 403, None),
        ("/public/%2E%2E/admin", 403, None),
        ("/public/.%2e/admin", 403, None),
        ("/public/%2e%2e/", 403, None),
        ("//admin", 403, None),
        ("/public//../admin", 403, None),
        ("/PUBLIC/x", 403, None),
        ("/public/..%2fadmin", 400, None),
        ("/public/%2e%2e%2fadmin", 400, None),
        ("/public/..%5cadmin", 400, None),
        ("/public/..\\admin", 400, None),
        ("/public/a%00", 400, None),
        ("/public/%zz", 400, None),
        ("/public/..;/admin", 400, None),
        ("http://svc/public/../admin", 403, None),
        ("http://svc/public/./x", 200, Some("/public/x")),
    ];
    for (target, status, upstream_target) in cases {
        let before = h.upstream.seen().len();
        let mut c = h.client().await;
        let r = c.request(&get(target)).await;
        assert_eq!(
            r.status,
            *status,
            "{target}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let seen = h.upstream.seen();
        match upstream_target {
            Some(t) => {
                assert_eq!(seen.len(), before + 1, "{target}");
                assert_eq!(seen[before].target, *t, "{target}");
                assert_eq!(seen[before].header("host"), ["svc"], "{target}");
            }
            None => assert_eq!(seen.len(), before, "{target} reached the upstream"),
        }
    }
}

#[tokio::test]
async fn header_matches_edit_what_the_upstream_receives() {
    let h = Harness::start(
        r#"        - method: GET
          path: "/api/.*"
          headerMatches:
          - {name: X-Must, value: "yes"}
          - {name: X-Log, value: "1", mismatch: LOG}
          - {name: X-Add, value: "2", mismatch: ADD}
          - {name: X-Del, value: "3", mismatch: DELETE}
          - {name: X-Rep, value: "4", mismatch: REPLACE}"#,
    )
    .await;
    let mut c = h.client().await;
    let r = c
        .request(
            "GET /api/x HTTP/1.1\r\nHost: svc\r\nX-Must: yes\r\nX-Log: 0\r\nX-Add: 0\r\n\
             X-Del: 0\r\nX-Rep: 0\r\nX-Rep: 9\r\nX-Other: o\r\n\r\n",
        )
        .await;
    assert_eq!(r.status, 200);
    let r = c
        .request(
            "GET /api/y HTTP/1.1\r\nHost: svc\r\nX-Must: yes\r\nX-Log: 1\r\nX-Add: 2\r\n\
             X-Del: 3\r\nX-Rep: 4\r\n\r\n",
        )
        .await;
    assert_eq!(r.status, 200);
    // The plain match is a requirement.
    let r = c
        .request("GET /api/z HTTP/1.1\r\nHost: svc\r\nX-Must: no\r\n\r\n")
        .await;
    assert_eq!(r.status, 403);
    let seen = h.upstream.seen();
    assert_eq!(seen.len(), 2);
    let s = &seen[0];
    assert_eq!(s.header("x-log"), ["0"]);
    assert_eq!(s.header("x-add"), ["0", "2"]);
    assert!(s.header("x-del").is_empty());
    assert_eq!(s.header("x-rep"), ["4"]);
    assert_eq!(s.header("x-other"), ["o"]);
    assert_eq!(s.header("x-must"), ["yes"]);
    // Matching values: unchanged.
    let s = &seen[1];
    assert_eq!(
        (
            s.header("x-log"),
            s.header("x-add"),
            s.header("x-del"),
            s.header("x-rep")
        ),
        (vec!["1"], vec!["2"], vec!["3"], vec!["4"])
    );
    assert_eq!(
        *h.mismatches.lock().unwrap(),
        ["LOG x-log", "ADD x-add", "DELETE x-del", "REPLACE x-rep"]
    );
}

fn http_of(r: &L7Record) -> &cilium_hubble::proto::flow::Http {
    match &r.record {
        layer7::Record::Http(h) => h,
        other => panic!("not HTTP: {other:?}"),
    }
}

#[tokio::test]
async fn records_carry_the_request_and_the_response() {
    let h = Harness::start(GET_API).await;
    let mut c = h.client().await;
    let client_addr = c.s.local_addr().unwrap();
    assert_eq!(c.request(&get("/api/x?q=1")).await.status, 200);
    assert_eq!(
        c.request("POST /api/x HTTP/1.1\r\nHost: svc\r\nContent-Length: 0\r\n\r\n")
            .await
            .status,
        403
    );
    let recs = h.records();
    assert_eq!(recs.len(), 4);
    for r in &recs {
        assert_eq!(r.source, client_addr);
        assert_eq!(r.destination, h.upstream.addr);
        assert_eq!(r.protocol, 6);
        assert_eq!((r.source_identity, r.destination_identity), (1000, 1001));
        assert_eq!(r.endpoint_id, 7);
        assert_eq!(r.direction, TrafficDirection::Egress);
        assert!(r.time_unix_ns > 1_600_000_000_000_000_000);
    }
    let (req, resp) = (&recs[0], &recs[1]);
    assert_eq!(
        (req.kind, req.verdict),
        (L7FlowType::Request, Verdict::Forwarded)
    );
    let hr = http_of(req);
    assert_eq!(hr.method, "GET");
    assert_eq!(hr.url, "http://svc/api/x?q=1");
    assert_eq!(hr.protocol, "HTTP/1.1");
    assert_eq!(hr.code, 0);
    assert!(
        hr.headers
            .iter()
            .any(|x| x.key == "host" && x.value == "svc")
    );
    assert_eq!(
        (resp.kind, resp.verdict),
        (L7FlowType::Response, Verdict::Forwarded)
    );
    let hs = http_of(resp);
    assert_eq!(
        (hs.code, hs.method.as_str(), hs.url.as_str()),
        (200, "GET", "http://svc/api/x?q=1")
    );
    assert!(
        hs.headers
            .iter()
            .any(|x| x.key == "x-upstream" && x.value == "yes")
    );
    assert!(resp.latency_ns > 0);
    let (dreq, dresp) = (&recs[2], &recs[3]);
    assert_eq!(
        (dreq.kind, dreq.verdict),
        (L7FlowType::Request, Verdict::Dropped)
    );
    assert_eq!(http_of(dreq).method, "POST");
    assert_eq!(
        (dresp.kind, dresp.verdict),
        (L7FlowType::Response, Verdict::Dropped)
    );
    assert_eq!(http_of(dresp).code, 403);
}

#[tokio::test]
async fn unknown_endpoints_connect_and_upgrade_are_not_forwarded() {
    let h = Harness::start(r#"        - {}"#).await;
    // The wildcard rule allows anything from the known endpoint...
    let mut c = h.client().await;
    assert_eq!(c.request(&get("/anything")).await.status, 200);
    // ...but a client that is not a local endpoint (127.0.0.1) gets nothing.
    let mut other = Client::connect_from("127.0.0.3", h.addr).await;
    assert_eq!(other.request(&get("/anything")).await.status, 403);
    // CONNECT is not tunnelled.
    let mut c = h.client().await;
    let r = c
        .request("CONNECT svc:443 HTTP/1.1\r\nHost: svc:443\r\n\r\n")
        .await;
    assert_eq!(r.status, 501);
    // Upgrade is removed: the upstream sees a plain request.
    let mut c = h.client().await;
    let r = c
        .request("GET /ws HTTP/1.1\r\nHost: svc\r\nConnection: Upgrade, X-Hop\r\nUpgrade: websocket\r\nX-Hop: 1\r\nX-End: 2\r\n\r\n")
        .await;
    assert_eq!(r.status, 200);
    let seen = h.upstream.seen();
    let ws = seen.iter().find(|s| s.target == "/ws").unwrap();
    assert!(ws.header("upgrade").is_empty() && ws.header("x-hop").is_empty());
    assert_eq!(ws.header("x-end"), ["2"]);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(h.proxy.stats().denied, 1);
}

#[tokio::test]
async fn http10_without_host_gets_the_destination_as_host() {
    let h = Harness::start(GET_API).await;
    let mut c = h.client().await;
    c.send(b"GET /api/old HTTP/1.0\r\n\r\n").await;
    let r = c.response().await.unwrap();
    assert_eq!(r.status, 200);
    let seen = h.upstream.seen();
    assert_eq!(
        seen[0].header("host"),
        [h.upstream.addr.to_string().as_str()]
    );
}

#[tokio::test]
async fn an_unreachable_upstream_is_503() {
    // Take a port and free it: nothing listens there.
    let dead = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let (_tx, rx) = watch::channel(Arc::new(snapshot(dead.port(), GET_API)));
    let mut config = HttpProxyConfig::new(Direction::Egress);
    config.mark_upstream = false;
    let proxy = Arc::new(HttpProxy::new(
        config,
        rx,
        Arc::new(cilium_l7::records::NoRecords),
    ));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let p = Arc::clone(&proxy);
    tokio::spawn(async move {
        let (s, client) = l.accept().await.unwrap();
        let conn = ConnInfo {
            client,
            server: dead,
            protocol: Protocol::Tcp,
        };
        p.serve_connection(s, conn).await
    });
    let mut c = Client::connect(addr).await;
    assert_eq!(c.request(&get("/api/x")).await.status, 503);
    assert_eq!(proxy.stats().upstream_errors, 1);
}

#[tokio::test]
async fn serve_takes_the_original_destination_from_the_accepted_socket() {
    // The listener's own address is the "original destination": a denied request shows it
    // in the records without anything being forwarded.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (_tx, rx) = watch::channel(Arc::new(snapshot(addr.port(), GET_API)));
    let records: Arc<Mutex<Vec<L7Record>>> = Arc::default();
    let r = Arc::clone(&records);
    let mut config = HttpProxyConfig::new(Direction::Egress);
    config.mark_upstream = false;
    let proxy = Arc::new(HttpProxy::new(
        config,
        rx,
        Arc::new(move |rec: L7Record| r.lock().unwrap().push(rec)),
    ));
    let server = tokio::spawn(Arc::clone(&proxy).serve(l));
    let mut c = Client::connect(addr).await;
    let r = c.request("PUT /api/x HTTP/1.1\r\nHost: svc\r\n\r\n").await;
    assert_eq!(r.status, 403);
    let recs = records.lock().unwrap().clone();
    assert_eq!(recs[0].destination, addr);
    assert_eq!(recs[0].source, c.s.local_addr().unwrap());
    assert_eq!(recs[0].destination_identity, 1001);
    server.abort();
}

#[tokio::test]
async fn a_slow_head_is_answered_408_and_an_idle_connection_closed() {
    let h = Harness::with(GET_API, false, |c| {
        c.header_read_timeout = Some(std::time::Duration::from_millis(200));
    })
    .await;
    // Half a head, then nothing.
    let mut c = h.client().await;
    c.send(b"GET /api/x HTTP/1.1\r\nHost: sv").await;
    let r = c.response().await.expect("a 408");
    assert_eq!(r.status, 408);
    assert!(c.closed().await);
    // A kept-alive connection that goes quiet after a request is closed without a word.
    let mut c = h.client().await;
    assert_eq!(c.request(&get("/api/x")).await.status, 200);
    assert!(c.response().await.is_none());
    assert!(h.upstream.seen().len() == 1);
    assert_eq!(h.proxy.stats().rejected, 1);
}
