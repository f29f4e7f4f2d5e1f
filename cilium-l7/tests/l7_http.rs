//! The HTTP proxy through the real datapath: a server pod whose ingress policy allows the
//! client pod on TCP 8080 with an L7 rule `GET /api/.*`. The datapath redirects the client's
//! connection to the ingress proxy; the proxy forwards allowed requests to the server.
//!
//! Checks: on one kept-alive connection `GET /api/x` gets the server's 200 and
//! `DELETE /api/x` the proxy's 403; after the policy changes (DELETE allowed too) the next
//! request on the same connection passes; a connection to a port without L7 rules is not
//! proxied; the proxy's L7 records become Hubble flows (method, URL, status, verdict).
//!
//! Privileged: with `CILIUM_PRIVILEGED_TESTS=1` a missing capability is a failure.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cilium_hubble::parser::{L7Record, NoLookups, Parser};
use cilium_l7::http_proxy::{HttpProxy, HttpProxyConfig};
use cilium_policy::Direction;
use common::support::*;
use common::*;

fn policy(methods: &str) -> String {
    format!(
        r#"
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {{name: server-http, namespace: default}}
spec:
  endpointSelector: {{matchLabels: {{app: server}}}}
  ingress:
  - fromEndpoints: [{{matchLabels: {{app: client}}}}]
    toPorts:
    - ports: [{{port: "8080", protocol: TCP}}]
      rules:
        http: [{{method: "{methods}", path: "/api/.*"}}]
  - fromEndpoints: [{{matchLabels: {{app: client}}}}]
    toPorts:
    - ports: [{{port: "9090", protocol: TCP}}]
"#
    )
}

/// A keep-alive HTTP/1.1 server in `pod`: answers each request with `200` and a body
/// `<method> <path> <peer ip>`; counts accepted connections.
fn http_server(pod: &Pod, port: u16) -> Arc<Mutex<u32>> {
    let listener = in_netns(&pod.ns, || TcpListener::bind(pod.sock(port)).unwrap());
    let accepts = Arc::new(Mutex::new(0));
    let count = Arc::clone(&accepts);
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            *count.lock().unwrap() += 1;
            std::thread::spawn(move || {
                let peer = conn.peer_addr().unwrap().ip();
                let mut r = BufReader::new(conn.try_clone().unwrap());
                let mut w = conn;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut parts = line.split_whitespace();
                    let (m, p) = (
                        parts.next().unwrap_or("").to_owned(),
                        parts.next().unwrap_or("").to_owned(),
                    );
                    let mut len = 0usize;
                    loop {
                        let mut h = String::new();
                        if r.read_line(&mut h).unwrap_or(0) == 0 {
                            return;
                        }
                        if h == "\r\n" {
                            break;
                        }
                        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; len];
                    if r.read_exact(&mut body).is_err() {
                        return;
                    }
                    let text = format!("{m} {p} {peer}");
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{text}",
                        text.len()
                    );
                    if w.write_all(resp.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    accepts
}

/// One request on `conn`; returns the status code and the body.
fn request(conn: &mut BufReader<TcpStream>, method: &str, path: &str) -> (u16, String) {
    conn.get_mut()
        .write_all(
            format!("{method} {path} HTTP/1.1\r\nHost: server\r\nContent-Length: 0\r\n\r\n")
                .as_bytes(),
        )
        .unwrap();
    let mut status = String::new();
    conn.read_line(&mut status).expect("status line");
    let code = status
        .split_whitespace()
        .nth(1)
        .expect(&status)
        .parse()
        .unwrap();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        conn.read_line(&mut h).unwrap();
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body).unwrap();
    (code, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn http_proxy_enforces_l7_rules_on_redirected_connections() {
    let Some(env) = L7Env::new(
        "l7http",
        &[("client", &["app=client"]), ("server", &["app=server"])],
    ) else {
        return;
    };
    let (client, server) = (env.pod("client"), env.pod("server"));
    let accepts = http_server(&server, 8080);
    http_server(&server, 9090);
    env.set_policy(&policy("GET"));

    let records: Arc<Mutex<Vec<L7Record>>> = Arc::default();
    let sink = Arc::clone(&records);
    let proxy = Arc::new(HttpProxy::new(
        HttpProxyConfig::new(Direction::Ingress),
        env.snapshot.clone(),
        Arc::new(move |r: L7Record| sink.lock().unwrap().push(r)),
    ));
    let listener = env.listener(HTTP_INGRESS);
    let p = Arc::clone(&proxy);
    env.rt.spawn(async move { p.serve(listener).await });

    in_netns(&client.ns, || {
        let s = TcpStream::connect_timeout(&server.sock(8080), Duration::from_secs(1))
            .expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut conn = BufReader::new(s);
        let (code, body) = request(&mut conn, "GET", "/api/x");
        // The server saw the request coming from the proxy (the node), not the client.
        assert_eq!(
            (code, body.as_str()),
            (200, format!("GET /api/x {NODE_ADDR}").as_str())
        );
        let (code, _) = request(&mut conn, "DELETE", "/api/x");
        assert_eq!(code, 403);
        let (code, _) = request(&mut conn, "GET", "/other");
        assert_eq!(code, 403);
        // The policy changes under the open connection: the next request follows it.
        env.set_policy(&policy("GET|DELETE"));
        let (code, body) = request(&mut conn, "DELETE", "/api/x");
        assert_eq!(
            (code, body.as_str()),
            (200, format!("DELETE /api/x {NODE_ADDR}").as_str())
        );
        env.set_policy(&policy("GET"));
        assert_eq!(request(&mut conn, "DELETE", "/api/x").0, 403);
    });
    // One downstream connection, one upstream connection kept alive for all its requests.
    assert_eq!(*accepts.lock().unwrap(), 1);

    // A port without L7 rules is not redirected: the server sees the client itself.
    in_netns(&client.ns, || {
        let s = TcpStream::connect_timeout(&server.sock(9090), Duration::from_secs(1))
            .expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut conn = BufReader::new(s);
        let (code, body) = request(&mut conn, "DELETE", "/anything");
        assert_eq!(
            (code, body),
            (200, format!("DELETE /anything {}", client.addr))
        );
    });

    // The records become Hubble L7 flows.
    let parser = Parser::new("node", 0, 1);
    let flows: Vec<_> = records
        .lock()
        .unwrap()
        .iter()
        .map(|r| parser.parse_l7(r, &NoLookups))
        .collect();
    let denied = flows
        .iter()
        .find(|f| {
            f.l7.as_ref()
                .and_then(|l| l.record.as_ref())
                .is_some_and(|r| matches!(r, cilium_hubble::proto::flow::layer7::Record::Http(h) if h.method == "DELETE" && h.code == 403))
        })
        .expect("a flow for the denied DELETE response");
    assert_eq!(
        denied.verdict,
        cilium_hubble::proto::flow::Verdict::Dropped as i32
    );
    let ip = denied.ip.as_ref().unwrap();
    assert_eq!(
        (ip.source.as_str(), ip.destination.as_str()),
        (server.addr.as_str(), client.addr.as_str())
    );
    assert!(flows.iter().any(|f| f.verdict == cilium_hubble::proto::flow::Verdict::Forwarded as i32
        && f.l7.as_ref().and_then(|l| l.record.as_ref()).is_some_and(|r| matches!(r, cilium_hubble::proto::flow::layer7::Record::Http(h) if h.method == "GET" && h.code == 200))));
}
