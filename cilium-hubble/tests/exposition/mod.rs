//! What the metrics tests share: one plain HTTP GET and a parser of the text exposition.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part; a test-only module

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::SocketAddr;

/// `GET path` on a fresh connection: the whole response, status line included.
pub fn http_get(addr: SocketAddr, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// The body of an HTTP response.
pub fn body(response: &str) -> &str {
    response.split("\r\n\r\n").nth(1).expect("a body")
}

/// `name{labels}` -> value, from the text exposition.
pub fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("bad line {l:?}"));
            (
                k.to_owned(),
                v.parse().unwrap_or_else(|_| panic!("bad value in {l:?}")),
            )
        })
        .collect()
}

/// The value of `key`, 0 when absent.
pub fn get(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}
