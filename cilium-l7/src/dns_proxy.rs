//! The DNS proxy: enforces `rules.dns` on queries the datapath redirects to it (UDP and TCP),
//! forwards allowed ones to the upstream server, learns the addresses of the answers into an
//! [`FqdnCache`] and hands them to the embedding agent before the client sees the answer, so
//! a `toFQDNs` rule already allows the connection the client opens next.
//!
//! # Per query
//!
//! 1. The message is checked from its header on: shorter than 12 bytes, or a response (QR
//!    set): dropped, with an `ERROR` record; an opcode other than QUERY: `NOTIMP`; bytes
//!    that do not parse, or not exactly one question: `FORMERR`. Nothing of that is forwarded.
//! 2. The policy of the connection ([`PolicySnapshot::allows`] in the configured direction,
//!    with [`L7Request::Dns`] of the lowercased name) decides. A denied name is answered
//!    locally with [`DnsProxyConfig::reject`] (`REFUSED`, Cilium's default) and never
//!    forwarded; the request record says `DROPPED`.
//! 3. An allowed query is forwarded as received (same bytes, so the same id, flags and
//!    EDNS) to [`DnsProxyConfig::upstream`], or to the original destination when that is
//!    `None`: over UDP from a socket of an ephemeral port ([`transparent::udp_marked`]),
//!    shared by the queries of one mark ([`DnsProxyConfig::udp_upstream_sockets`]), over
//!    TCP on a fresh connection ([`transparent::connect_marked`]); both carry the mark
//!    `cilium_maps::abi::proxy_upstream_mark(source identity, ingress)` when
//!    [`DnsProxyConfig::mark_upstream`] is set (needs `CAP_NET_ADMIN`). Datagrams from other
//!    addresses, with another id or for another question are ignored; no valid answer within
//!    [`DnsProxyConfig::upstream_timeout`], or an answer that does not parse: `SERVFAIL`.
//! 4. The A/AAAA records of the answer that belong to the question (its name and the CNAME
//!    chain from it) go into the proxy's [`FqdnCache`] under the question's name, with their
//!    TTL (the smallest along the chain), and through [`FqdnUpdater::learned`].
//! 5. The answer (the upstream's bytes, unchanged) is released to the client when `learned`
//!    has resolved `Ok`. **When it has not resolved within
//!    [`DnsProxyConfig::response_max_delay`]** (Cilium's `FQDNProxyResponseMaxDelay`, 100 ms)
//!    the answer is released anyway, as Cilium does — a client that waits longer would time
//!    out itself — and the delay is counted in [`DnsProxyStats::learned_timeouts`]; the
//!    update is not cancelled (it finishes in a task of its own), but the first connection
//!    to the new address may be dropped until the datapath catches up.
//!    **When `learned` fails** the datapath will not hold the addresses, so the client gets
//!    `SERVFAIL` (it retries) instead of an answer that leads to dropped connections; the
//!    response record says `ERROR`.
//!
//! Records go to the [`RecordSink`] as `cilium_hubble::parser::L7Record` with the `DNS`
//! layer-7 part (query, qtypes, rcode, IPs, TTL, CNAMEs, rrtypes) and the latency: a request
//! record per query (`FORWARDED`, or `DROPPED` with the reject rcode for a denied name), a
//! response record (`FORWARDED`) per answer relayed from upstream, an `ERROR` response
//! record per `SERVFAIL`, `FORMERR` or `NOTIMP` made here, and an `ERROR` request record
//! for a message dropped unanswered.
//!
//! # Transports
//!
//! [`DnsProxy::serve_udp`] reads datagrams with their original destination
//! ([`transparent::recv_original_dst`], for a socket made by [`transparent::udp_socket`];
//! a plain socket is read with `recvfrom`, its own address being the destination) and
//! answers from that address: through the listening socket itself when the destination is
//! the socket's own address, else from a transparent socket bound to it
//! ([`transparent::send_from`], needs `CAP_NET_ADMIN`). [`DnsProxy::serve_tcp`] takes
//! length-prefixed messages (RFC 7766), several in flight per connection, answers in the
//! order they complete. [`DnsProxy::handle`] is the same logic without the client transport.
//!
//! # What it is not
//!
//! A cache or a resolver: every allowed query goes to the upstream. It does not rewrite
//! answers (a `toFQDNs` policy still needs the datapath to allow the learned addresses).

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cilium_core::{NumericIdentity, Protocol};
use cilium_hubble::proto::flow::{Dns, L7FlowType, TrafficDirection, Verdict, layer7};
use cilium_policy::Direction;
use cilium_policy::l7::L7Request;
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{RData, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Semaphore, mpsc, watch};

use crate::dns::RejectCode;
use crate::fqdn_cache::{FqdnCache, FqdnCacheConfig};
use crate::policy::{ConnInfo, PolicySnapshot, Resolved};
use crate::records::{L7Record, RecordSink};
use crate::transparent;

/// Cilium's default `FQDNProxyResponseMaxDelay`.
pub const DEFAULT_RESPONSE_MAX_DELAY: Duration = Duration::from_millis(100);

/// The largest DNS message (TCP length prefix, UDP datagram).
const MAX_MESSAGE: usize = 65_535;

/// The DNS header length.
const HEADER_LEN: usize = 12;

/// `observation_source` of the records.
const OBSERVATION_SOURCE: &str = "proxy";

/// Settings of a [`DnsProxy`].
#[derive(Debug, Clone)]
pub struct DnsProxyConfig {
    /// Where allowed queries go; `None`: to the original destination of each query (the
    /// DNS server the client asked, as the datapath redirected it).
    pub upstream: Option<SocketAddr>,
    /// Which policy direction the proxy enforces: `Egress` for pods' queries to DNS servers
    /// (Cilium's DNS proxy), `Ingress` for queries to a DNS server pod.
    pub direction: Direction,
    /// How long an answer waits for [`FqdnUpdater::learned`] (Cilium's
    /// `FQDNProxyResponseMaxDelay`, default 100 ms); see the module documentation.
    pub response_max_delay: Duration,
    /// How long to wait for the upstream's answer before answering `SERVFAIL`
    /// (default 5 s).
    pub upstream_timeout: Duration,
    /// Set the proxy upstream mark (source identity) on upstream sockets; needs
    /// `CAP_NET_ADMIN` (default `true`; tests without privileges turn it off).
    pub mark_upstream: bool,
    /// The answer to a denied query (default `REFUSED`).
    pub reject: RejectCode,
    /// Settings of the proxy's FQDN cache.
    pub cache: FqdnCacheConfig,
    /// Queries handled at once by one [`DnsProxy::serve_udp`] loop; more wait in the socket
    /// (default 1024).
    pub max_outstanding: usize,
    /// A TCP client connection with no complete message for this long is closed
    /// (default 10 s).
    pub tcp_idle_timeout: Duration,
    /// Upstream UDP sockets shared by queries, per upstream mark and address family
    /// (default 4): one is opened per mark, more only while the query ids in flight to one
    /// upstream collide, up to this many; beyond that a query gets a fresh socket. 0: every
    /// query gets a fresh socket of its own, connected to the upstream (a new source port
    /// per query, and an unreachable upstream is seen at once from the ICMP error; shared
    /// sockets are not connected, so there it is seen at `upstream_timeout`), at the cost of
    /// about five more system calls per query. Answers are matched by upstream address, id
    /// and question.
    pub udp_upstream_sockets: usize,
}

impl Default for DnsProxyConfig {
    fn default() -> Self {
        DnsProxyConfig {
            upstream: None,
            direction: Direction::Egress,
            response_max_delay: DEFAULT_RESPONSE_MAX_DELAY,
            upstream_timeout: Duration::from_secs(5),
            mark_upstream: true,
            reject: RejectCode::Refused,
            cache: FqdnCacheConfig::default(),
            max_outstanding: 1024,
            tcp_idle_timeout: Duration::from_secs(10),
            udp_upstream_sockets: 4,
        }
    }
}

/// The embedding agent's side of learning: makes the datapath allow the addresses a name
/// resolved to (allocate local CIDR identities with the labels of
/// [`FqdnCache::labels_of`], update the ipcache and the selector cache, write the policy
/// maps) and resolves when that is done.
pub trait FqdnUpdater: Send + Sync {
    /// `name` (lowercased, trailing dot) resolved to `ips` (address, TTL in seconds as the
    /// upstream gave it, before the cache's `min_ttl` floor). The proxy's cache already
    /// holds them. Resolve `Ok` once the datapath holds the addresses; `Err` with a message
    /// when it cannot (the client then gets `SERVFAIL`). A call that takes longer than
    /// `response_max_delay` is not cancelled; the answer is released meanwhile.
    fn learned<'a>(
        &'a self,
        name: &'a str,
        ips: &'a [(IpAddr, u32)],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// An updater that has nothing to update (resolves at once).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFqdnUpdates;

impl FqdnUpdater for NoFqdnUpdates {
    fn learned<'a>(
        &'a self,
        _name: &'a str,
        _ips: &'a [(IpAddr, u32)],
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// Why a DNS message was not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsMessageError {
    /// Shorter than the header.
    #[error("dns message of {len} bytes is shorter than the 12-byte header")]
    TooShort {
        /// Length received.
        len: usize,
    },
    /// A query was expected and the QR bit says response.
    #[error("dns message {id} is a response where a query was expected")]
    NotAQuery {
        /// Message id.
        id: u16,
    },
    /// An answer was expected and the QR bit says query.
    #[error("dns message {id} is a query where a response was expected")]
    NotAResponse {
        /// Message id.
        id: u16,
    },
    /// An opcode other than QUERY (0).
    #[error("dns message {id} has opcode {opcode}, only QUERY (0) is proxied")]
    OpCode {
        /// Message id.
        id: u16,
        /// The opcode.
        opcode: u8,
    },
    /// Not exactly one question.
    #[error("dns query {id} has {count} questions, expected 1")]
    QuestionCount {
        /// Message id.
        id: u16,
        /// Number of questions.
        count: usize,
    },
    /// The bytes are not a DNS message.
    #[error("dns message {id} is malformed: {reason}")]
    Malformed {
        /// Message id (from the first two bytes).
        id: u16,
        /// hickory-proto's description.
        reason: String,
    },
    /// The answer's id is not the query's.
    #[error("dns answer id {answer} does not match query id {query}")]
    IdMismatch {
        /// Query id.
        query: u16,
        /// Answer id.
        answer: u16,
    },
    /// The answer's question is not the query's.
    #[error("dns answer {id} is for {answer:?}, the query asked for {query:?}")]
    QuestionMismatch {
        /// Message id.
        id: u16,
        /// The query's question (name and type).
        query: String,
        /// The answer's question, if any.
        answer: String,
    },
}

impl DnsMessageError {
    /// The rcode the proxy answers a query with this error with: `FORMERR` (1) for bytes it
    /// cannot read, `NOTIMP` (4) for other opcodes; `None`: no answer (too short to carry an
    /// id, or a response sent as a query).
    pub fn query_rcode(&self) -> Option<u8> {
        match self {
            DnsMessageError::TooShort { .. } | DnsMessageError::NotAQuery { .. } => None,
            DnsMessageError::OpCode { .. } => Some(4),
            _ => Some(1),
        }
    }
}

/// A parsed query, as the proxy needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsQuery {
    id: u16,
    name: String,
    canonical: String,
    qtype: u16,
    recursion_desired: bool,
    question: Query,
}

impl DnsQuery {
    /// Message id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// The question's name as sent (case kept, trailing dot), escaped like a zone file.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name lowercased with its trailing dot: what policy and the cache see.
    pub fn canonical_name(&self) -> &str {
        &self.canonical
    }

    /// The question's type number.
    pub fn qtype(&self) -> u16 {
        self.qtype
    }

    /// The question's type by name (`A`, `AAAA`, ...).
    pub fn qtype_name(&self) -> String {
        RecordType::from(self.qtype).to_string()
    }

    /// Whether the client asked for recursion.
    pub fn recursion_desired(&self) -> bool {
        self.recursion_desired
    }
}

/// What the proxy takes from an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsAnswer {
    /// Message id.
    pub id: u16,
    /// Response code (with the EDNS extended bits).
    pub rcode: u16,
    /// TC bit: the client should retry over TCP.
    pub truncated: bool,
    /// Addresses of the question's name (directly or through its CNAME chain), with the
    /// smallest TTL along the chain, each once (the longest TTL if listed twice). Empty
    /// unless the rcode is NOERROR.
    pub ips: Vec<(IpAddr, u32)>,
    /// CNAME targets along the chain from the question's name, in order.
    pub cnames: Vec<String>,
    /// Types of the answer records, each once, in order of appearance.
    pub rrtypes: Vec<String>,
    /// The smallest TTL of [`DnsAnswer::ips`] (0 without addresses).
    pub ttl: u32,
}

/// One answer record in presentation form (for tests and tools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRecord {
    /// Owner name.
    pub name: String,
    /// Type, e.g. `A`.
    pub rtype: String,
    /// TTL in seconds.
    pub ttl: u32,
    /// Data, e.g. `192.0.2.1` or `target.example.`.
    pub data: String,
}

fn id_of(bytes: &[u8]) -> u16 {
    match bytes {
        [a, b, ..] => u16::from_be_bytes([*a, *b]),
        _ => 0,
    }
}

fn malformed(bytes: &[u8], e: impl fmt::Display) -> DnsMessageError {
    DnsMessageError::Malformed {
        id: id_of(bytes),
        reason: e.to_string(),
    }
}

/// Parses a query (see the module documentation for what is refused).
///
/// # Errors
///
/// [`DnsMessageError`]; [`DnsMessageError::query_rcode`] says how to answer it.
pub fn parse_query(bytes: &[u8]) -> Result<DnsQuery, DnsMessageError> {
    if bytes.len() < HEADER_LEN {
        return Err(DnsMessageError::TooShort { len: bytes.len() });
    }
    let id = id_of(bytes);
    if bytes[2] & 0x80 != 0 {
        return Err(DnsMessageError::NotAQuery { id });
    }
    let opcode = (bytes[2] >> 3) & 0x0F;
    if opcode != 0 {
        return Err(DnsMessageError::OpCode { id, opcode });
    }
    let msg = Message::from_vec(bytes).map_err(|e| malformed(bytes, e))?;
    let [question] = msg.queries() else {
        return Err(DnsMessageError::QuestionCount {
            id,
            count: msg.queries().len(),
        });
    };
    let name = question.name().to_ascii();
    let canonical = crate::dns::canonical_name(&name);
    Ok(DnsQuery {
        id,
        name,
        canonical,
        qtype: question.query_type().into(),
        recursion_desired: msg.recursion_desired(),
        question: question.clone(),
    })
}

/// Parses the answer to `query`: checks that it is a response with the query's id and
/// question, and takes out what the proxy learns and records.
///
/// # Errors
///
/// [`DnsMessageError`] for bytes that are not a DNS response to `query`.
pub fn parse_answer(query: &DnsQuery, bytes: &[u8]) -> Result<DnsAnswer, DnsMessageError> {
    if bytes.len() < HEADER_LEN {
        return Err(DnsMessageError::TooShort { len: bytes.len() });
    }
    let id = id_of(bytes);
    if id != query.id {
        return Err(DnsMessageError::IdMismatch {
            query: query.id,
            answer: id,
        });
    }
    if bytes[2] & 0x80 == 0 {
        return Err(DnsMessageError::NotAResponse { id });
    }
    let msg = Message::from_vec(bytes).map_err(|e| malformed(bytes, e))?;
    // An answer carries the question back (RFC 1035 4.1.2); compare it case-insensitively
    // (0x20 encoding keeps the case, some servers do not).
    let same = match msg.queries() {
        [q] => {
            q.query_type() == query.question.query_type()
                && q.query_class() == query.question.query_class()
                && crate::dns::canonical_name(&q.name().to_ascii()) == query.canonical
        }
        _ => false,
    };
    if !same {
        let answer = msg
            .queries()
            .first()
            .map(|q| format!("{} {}", q.name().to_ascii(), q.query_type()))
            .unwrap_or_default();
        return Err(DnsMessageError::QuestionMismatch {
            id,
            query: format!("{} {}", query.name, query.qtype_name()),
            answer,
        });
    }
    let rcode: u16 = msg.response_code().into();
    let mut rrtypes: Vec<String> = Vec::new();
    for r in msg.answers() {
        let t = r.record_type().to_string();
        if !rrtypes.contains(&t) {
            rrtypes.push(t);
        }
    }
    let mut out = DnsAnswer {
        id,
        rcode,
        truncated: msg.truncated(),
        rrtypes,
        ..DnsAnswer::default()
    };
    // Names of the chain with the smallest TTL that led to them.
    let mut chain: Vec<(String, u32)> = vec![(query.canonical.clone(), u32::MAX)];
    loop {
        let mut grew = false;
        for r in msg.answers() {
            if let RData::CNAME(target) = r.data() {
                let owner = r.name().to_ascii().to_ascii_lowercase();
                let Some(&(_, ttl)) = chain.iter().find(|(n, _)| *n == owner) else {
                    continue;
                };
                let target_name = target.0.to_ascii();
                let lower = target_name.to_ascii_lowercase();
                if !chain.iter().any(|(n, _)| *n == lower) {
                    chain.push((lower, ttl.min(r.ttl())));
                    out.cnames.push(target_name);
                    grew = true;
                }
            }
        }
        if !grew {
            break;
        }
    }
    if msg.response_code() == ResponseCode::NoError {
        for r in msg.answers() {
            let ip = match r.data() {
                RData::A(a) => IpAddr::V4(a.0),
                RData::AAAA(a) => IpAddr::V6(a.0),
                _ => continue,
            };
            let owner = r.name().to_ascii().to_ascii_lowercase();
            let Some(&(_, chain_ttl)) = chain.iter().find(|(n, _)| *n == owner) else {
                continue;
            };
            let ttl = r.ttl().min(chain_ttl);
            match out.ips.iter_mut().find(|(a, _)| *a == ip) {
                Some(e) => e.1 = e.1.max(ttl),
                None => out.ips.push((ip, ttl)),
            }
        }
    }
    out.ttl = out.ips.iter().map(|(_, t)| *t).min().unwrap_or(0);
    Ok(out)
}

/// The answer records of a message in presentation form.
///
/// # Errors
///
/// [`DnsMessageError::Malformed`] for bytes that are not a DNS message.
pub fn answer_records(bytes: &[u8]) -> Result<Vec<AnswerRecord>, DnsMessageError> {
    let msg = Message::from_vec(bytes).map_err(|e| malformed(bytes, e))?;
    Ok(msg
        .answers()
        .iter()
        .map(|r| AnswerRecord {
            name: r.name().to_ascii(),
            rtype: r.record_type().to_string(),
            ttl: r.ttl(),
            data: match r.data() {
                RData::A(a) => a.0.to_string(),
                RData::AAAA(a) => a.0.to_string(),
                RData::CNAME(c) => c.0.to_ascii(),
                other => {
                    // Some record data (OPT in the answer section, for one) has no
                    // presentation form: hickory's Display fails, `to_string` would panic.
                    let mut text = String::new();
                    match write!(text, "{other}") {
                        Ok(()) => text,
                        Err(_) => format!("<{} data>", r.record_type()),
                    }
                }
            },
        })
        .collect())
}

/// The local answer to a query: `rcode` with the question echoed, the id and RD bit of the
/// query, RA clear.
pub fn local_response(query: &DnsQuery, rcode: u16) -> Vec<u8> {
    let mut m = Message::new();
    m.set_id(query.id)
        .set_message_type(MessageType::Response)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(query.recursion_desired)
        .set_response_code(<ResponseCode as From<u16>>::from(rcode));
    m.add_query(query.question.clone());
    match m.to_vec() {
        Ok(v) => v,
        // A question that parsed always encodes again; keep an answer anyway.
        Err(_) => header_response(query.id, 0, query.recursion_desired, rcode as u8),
    }
}

/// The answer to a denied query.
pub fn reject_response(query: &DnsQuery, reject: RejectCode) -> Vec<u8> {
    local_response(query, reject.rcode())
}

/// A header-only answer (no question) with `rcode` for the bytes of a query that could not
/// be used; `None` when they are too short to carry an id.
pub fn error_response(query: &[u8], rcode: u8) -> Option<Vec<u8>> {
    if query.len() < HEADER_LEN {
        return None;
    }
    let opcode = (query[2] >> 3) & 0x0F;
    Some(header_response(
        id_of(query),
        opcode,
        query[2] & 0x01 != 0,
        rcode,
    ))
}

fn header_response(id: u16, opcode: u8, rd: bool, rcode: u8) -> Vec<u8> {
    let mut v = vec![0u8; HEADER_LEN];
    v[..2].copy_from_slice(&id.to_be_bytes());
    v[2] = 0x80 | ((opcode & 0x0F) << 3) | u8::from(rd);
    v[3] = rcode & 0x0F;
    v
}

/// The `DNS` layer-7 part of a record for `query` and, when there is one, its answer.
pub fn dns_record(query: Option<&DnsQuery>, answer: Option<&DnsAnswer>, rcode: u16) -> Dns {
    Dns {
        query: query.map(|q| q.canonical.clone()).unwrap_or_default(),
        ips: answer
            .map(|a| a.ips.iter().map(|(ip, _)| ip.to_string()).collect())
            .unwrap_or_default(),
        ttl: answer.map_or(0, |a| a.ttl),
        cnames: answer.map(|a| a.cnames.clone()).unwrap_or_default(),
        observation_source: OBSERVATION_SOURCE.to_owned(),
        rcode: u32::from(rcode),
        qtypes: query.map(|q| vec![q.qtype_name()]).unwrap_or_default(),
        rrtypes: answer.map(|a| a.rrtypes.clone()).unwrap_or_default(),
    }
}

/// Counters of a proxy (cumulative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DnsProxyStats {
    /// Messages received.
    pub queries: u64,
    /// Queries the policy allowed.
    pub allowed: u64,
    /// Queries the policy denied (answered with the reject code).
    pub denied: u64,
    /// Messages that were not usable queries (dropped, `FORMERR` or `NOTIMP`).
    pub malformed: u64,
    /// Allowed queries answered `SERVFAIL`: upstream unreachable, timed out, or its answer
    /// was not usable.
    pub upstream_errors: u64,
    /// Answers forwarded to the client.
    pub answered: u64,
    /// Answers released after `response_max_delay` without `learned` having resolved.
    pub learned_timeouts: u64,
    /// `learned` calls that failed (answered `SERVFAIL`).
    pub learned_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    queries: AtomicU64,
    allowed: AtomicU64,
    denied: AtomicU64,
    malformed: AtomicU64,
    upstream_errors: AtomicU64,
    answered: AtomicU64,
    learned_timeouts: AtomicU64,
    learned_errors: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// The DNS proxy; cheap to clone (all clones are one proxy).
#[derive(Clone)]
pub struct DnsProxy {
    inner: Arc<Inner>,
}

struct Inner {
    config: DnsProxyConfig,
    policy: watch::Receiver<Arc<PolicySnapshot>>,
    records: Arc<dyn RecordSink>,
    updater: Arc<dyn FqdnUpdater>,
    cache: Arc<Mutex<FqdnCache>>,
    counters: Counters,
    udp: UdpUpstreams,
}

impl fmt::Debug for DnsProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsProxy")
            .field("config", &self.inner.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Who a query belongs to, for records and the upstream mark.
#[derive(Debug, Clone, Copy)]
struct Peer {
    conn: ConnInfo,
    resolved: Option<Resolved>,
    source_identity: NumericIdentity,
    destination_identity: NumericIdentity,
}

/// How [`FqdnUpdater::learned`] ended for one answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Learned {
    Done,
    Failed,
    TimedOut,
}

/// Why an upstream exchange failed.
#[derive(Debug, thiserror::Error)]
enum UpstreamError {
    #[error("upstream {upstream}: no answer within {timeout:?}")]
    Timeout {
        upstream: SocketAddr,
        timeout: Duration,
    },
    #[error("upstream {upstream}")]
    Io {
        upstream: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("upstream {upstream} sent an unusable answer")]
    Answer {
        upstream: SocketAddr,
        #[source]
        source: DnsMessageError,
    },
}

impl DnsProxy {
    /// A proxy with `config`, reading policy from `policy`, sending records to `records` and
    /// learned addresses to `fqdn`.
    pub fn new(
        config: DnsProxyConfig,
        policy: watch::Receiver<Arc<PolicySnapshot>>,
        records: Arc<dyn RecordSink>,
        fqdn: Arc<dyn FqdnUpdater>,
    ) -> DnsProxy {
        let cache = Arc::new(Mutex::new(FqdnCache::new(config.cache)));
        DnsProxy {
            inner: Arc::new(Inner {
                config,
                policy,
                records,
                updater: fqdn,
                cache,
                counters: Counters::default(),
                udp: UdpUpstreams::default(),
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &DnsProxyConfig {
        &self.inner.config
    }

    /// The proxy's FQDN cache (the agent reads names and labels from it, sets the `toFQDNs`
    /// selectors, and may share it with flow enrichment). Hold the lock briefly: queries
    /// take it too.
    pub fn fqdn_cache(&self) -> Arc<Mutex<FqdnCache>> {
        Arc::clone(&self.inner.cache)
    }

    fn cache(&self) -> MutexGuard<'_, FqdnCache> {
        // A panic while holding the lock cannot leave the cache half-updated in a way that
        // matters more than losing it; keep serving.
        self.inner
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counters so far.
    pub fn stats(&self) -> DnsProxyStats {
        let c = &self.inner.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        DnsProxyStats {
            queries: g(&c.queries),
            allowed: g(&c.allowed),
            denied: g(&c.denied),
            malformed: g(&c.malformed),
            upstream_errors: g(&c.upstream_errors),
            answered: g(&c.answered),
            learned_timeouts: g(&c.learned_timeouts),
            learned_errors: g(&c.learned_errors),
        }
    }

    /// Removes the cache entries whose TTL passed at `now` and returns them (name,
    /// address): the agent releases the identities of addresses that
    /// [`FqdnCache::labels_of`] no longer knows, and relabels the others.
    pub fn expire(&self, now: Instant) -> Vec<(String, IpAddr)> {
        self.cache().expire(now)
    }

    /// Runs [`DnsProxy::expire`] every `every` (and when the next entry is due, if sooner)
    /// and hands non-empty results to `on_expired`. Runs until the task is dropped.
    pub async fn run_expiry(
        &self,
        every: Duration,
        mut on_expired: impl FnMut(Vec<(String, IpAddr)>) + Send,
    ) {
        loop {
            let now = Instant::now();
            let next = self.cache().next_expiry().map_or(now + every, |t| {
                t.clamp(now, now + every) + Duration::from_millis(1)
            });
            tokio::time::sleep_until(next.into()).await;
            let expired = self.expire(Instant::now());
            if !expired.is_empty() {
                on_expired(expired);
            }
        }
    }

    fn peer(&self, snapshot: &PolicySnapshot, conn: ConnInfo) -> Peer {
        let resolved = snapshot.resolve(self.inner.config.direction, &conn);
        let (source_identity, destination_identity) = match resolved {
            Some(r) => (r.source_identity, r.destination_identity),
            None => (
                snapshot.identity_of(conn.client.ip()),
                snapshot.identity_of(conn.server.ip()),
            ),
        };
        Peer {
            conn,
            resolved,
            source_identity,
            destination_identity,
        }
    }

    fn record(&self, peer: &Peer, kind: L7FlowType, verdict: Verdict, latency: Duration, dns: Dns) {
        let time_unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        self.inner.records.record(L7Record {
            time_unix_ns,
            source: peer.conn.client,
            destination: peer.conn.server,
            protocol: if peer.conn.protocol == Protocol::Tcp {
                6
            } else {
                17
            },
            source_identity: peer.source_identity.as_u32(),
            destination_identity: peer.destination_identity.as_u32(),
            endpoint_id: peer.resolved.map_or(0, |r| r.endpoint_id),
            direction: match self.inner.config.direction {
                Direction::Egress => TrafficDirection::Egress,
                Direction::Ingress => TrafficDirection::Ingress,
            },
            kind,
            verdict,
            latency_ns: u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX),
            record: layer7::Record::Dns(dns),
        });
    }

    /// Handles one query message of `conn` (the client, the original destination and the
    /// transport the query came over, which is also the upstream transport) and returns the
    /// message to send back, or `None` when nothing is to be sent. Never panics on any
    /// input; see the module documentation for the steps.
    pub async fn handle(&self, conn: ConnInfo, query: &[u8]) -> Option<Vec<u8>> {
        let start = Instant::now();
        let c = &self.inner.counters;
        bump(&c.queries);
        let snapshot = Arc::clone(&self.inner.policy.borrow());
        let q = match parse_query(query) {
            Ok(q) => q,
            Err(e) => {
                bump(&c.malformed);
                let peer = self.peer(&snapshot, conn);
                let rcode = e.query_rcode();
                let reply = rcode.and_then(|r| error_response(query, r));
                let kind = if reply.is_some() {
                    L7FlowType::Response
                } else {
                    L7FlowType::Request
                };
                let rcode = rcode.map_or(0, u16::from);
                self.record(
                    &peer,
                    kind,
                    Verdict::Error,
                    start.elapsed(),
                    dns_record(None, None, rcode),
                );
                return reply;
            }
        };
        let request = L7Request::Dns(q.canonical.clone());
        let (_, allowed) = snapshot.allows(self.inner.config.direction, &conn, &request);
        let peer = self.peer(&snapshot, conn);
        drop(snapshot);
        if !allowed {
            bump(&c.denied);
            let rcode = self.inner.config.reject.rcode();
            self.record(
                &peer,
                L7FlowType::Request,
                Verdict::Dropped,
                Duration::ZERO,
                dns_record(Some(&q), None, rcode),
            );
            return Some(reject_response(&q, self.inner.config.reject));
        }
        bump(&c.allowed);
        self.record(
            &peer,
            L7FlowType::Request,
            Verdict::Forwarded,
            Duration::ZERO,
            dns_record(Some(&q), None, 0),
        );
        let upstream = self.inner.config.upstream.unwrap_or(conn.server);
        let mark = self.upstream_mark(&peer);
        let exchanged = match conn.protocol {
            Protocol::Tcp => self.exchange_tcp(upstream, mark, &q, query).await,
            _ => self.exchange_udp(upstream, mark, &q, query).await,
        };
        let (bytes, answer) = match exchanged {
            Ok(v) => v,
            Err(_) => {
                bump(&c.upstream_errors);
                return Some(self.servfail(&peer, &q, start));
            }
        };
        if !answer.ips.is_empty() {
            self.cache()
                .insert(&q.canonical, &answer.ips, Instant::now());
            match self.learned(&q.canonical, &answer.ips).await {
                Learned::Done => {}
                Learned::Failed => {
                    bump(&c.learned_errors);
                    return Some(self.servfail(&peer, &q, start));
                }
                Learned::TimedOut => bump(&c.learned_timeouts),
            }
        }
        bump(&c.answered);
        self.record(
            &peer,
            L7FlowType::Response,
            Verdict::Forwarded,
            start.elapsed(),
            dns_record(Some(&q), Some(&answer), answer.rcode),
        );
        Some(bytes)
    }

    /// Runs [`FqdnUpdater::learned`] for at most `response_max_delay`. An update that takes
    /// longer is not cancelled: it goes on in a task of its own while the answer is
    /// released. One that is done at the first poll (the common case) costs no task.
    async fn learned(&self, name: &str, ips: &[(IpAddr, u32)]) -> Learned {
        let updater = Arc::clone(&self.inner.updater);
        let (name, ips) = (name.to_owned(), ips.to_vec());
        let mut update = Box::pin(async move { updater.learned(&name, &ips).await });
        let first = std::future::poll_fn(|cx| Poll::Ready(update.as_mut().poll(cx))).await;
        let result = match first {
            Poll::Ready(r) => r,
            Poll::Pending => {
                let task = tokio::spawn(update);
                match tokio::time::timeout(self.inner.config.response_max_delay, task).await {
                    Ok(Ok(r)) => r,
                    Ok(Err(panicked)) => Err(panicked.to_string()),
                    Err(_) => return Learned::TimedOut,
                }
            }
        };
        match result {
            Ok(()) => Learned::Done,
            Err(_) => Learned::Failed,
        }
    }

    fn servfail(&self, peer: &Peer, q: &DnsQuery, start: Instant) -> Vec<u8> {
        let rcode = u16::from(ResponseCode::ServFail);
        self.record(
            peer,
            L7FlowType::Response,
            Verdict::Error,
            start.elapsed(),
            dns_record(Some(q), None, rcode),
        );
        local_response(q, rcode)
    }

    fn upstream_mark(&self, peer: &Peer) -> Option<u32> {
        if !self.inner.config.mark_upstream {
            return None;
        }
        cilium_maps::abi::proxy_upstream_mark(
            peer.source_identity.as_u32(),
            self.inner.config.direction == Direction::Ingress,
        )
    }

    async fn exchange_udp(
        &self,
        upstream: SocketAddr,
        mark: Option<u32>,
        q: &DnsQuery,
        query: &[u8],
    ) -> Result<(Vec<u8>, DnsAnswer), UpstreamError> {
        let max = self.inner.config.udp_upstream_sockets;
        let registered = if max == 0 {
            None
        } else {
            self.inner
                .udp
                .register(mark, upstream, q.id, max)
                .map_err(|source| UpstreamError::Io { upstream, source })?
        };
        match registered {
            Some(r) => self.exchange_udp_shared(upstream, q, query, r).await,
            None => self.exchange_udp_fresh(upstream, mark, q, query).await,
        }
    }

    /// Over a shared socket: the reader task of the socket hands over datagrams from
    /// `upstream` with the query's id.
    async fn exchange_udp_shared(
        &self,
        upstream: SocketAddr,
        q: &DnsQuery,
        query: &[u8],
        mut reg: Registration,
    ) -> Result<(Vec<u8>, DnsAnswer), UpstreamError> {
        let io_err = |source| UpstreamError::Io { upstream, source };
        reg.socket.send_to(query, upstream).await.map_err(io_err)?;
        let timeout = self.inner.config.upstream_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let bytes = match tokio::time::timeout_at(deadline, reg.answer.recv()).await {
                Err(_) => return Err(UpstreamError::Timeout { upstream, timeout }),
                Ok(None) => {
                    return Err(io_err(io::Error::other(
                        "the upstream socket's reader stopped",
                    )));
                }
                Ok(Some(b)) => b,
            };
            match parse_answer(q, &bytes) {
                Ok(a) => return Ok((bytes, a)),
                // Our id from our upstream, another question: a spoof; keep waiting.
                Err(DnsMessageError::QuestionMismatch { .. }) => {}
                Err(e) => {
                    return Err(UpstreamError::Answer {
                        upstream,
                        source: e,
                    });
                }
            }
        }
    }

    /// Over a fresh socket of an ephemeral port, connected to `upstream`.
    async fn exchange_udp_fresh(
        &self,
        upstream: SocketAddr,
        mark: Option<u32>,
        q: &DnsQuery,
        query: &[u8],
    ) -> Result<(Vec<u8>, DnsAnswer), UpstreamError> {
        let io_err = |source| UpstreamError::Io { upstream, source };
        let sock = transparent::udp_marked(any_addr(upstream), mark).map_err(io_err)?;
        sock.connect(upstream).await.map_err(io_err)?;
        sock.send(query).await.map_err(io_err)?;
        let timeout = self.inner.config.upstream_timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut buf = Vec::with_capacity(MAX_MESSAGE);
        loop {
            buf.clear();
            match tokio::time::timeout_at(deadline, sock.recv_buf(&mut buf)).await {
                Err(_) => return Err(UpstreamError::Timeout { upstream, timeout }),
                Ok(Err(e)) => return Err(io_err(e)),
                Ok(Ok(_)) => {}
            }
            match parse_answer(q, &buf) {
                Ok(a) => return Ok((buf, a)),
                // Another id or question: a late answer or a spoof; keep waiting.
                Err(
                    DnsMessageError::IdMismatch { .. } | DnsMessageError::QuestionMismatch { .. },
                ) => {}
                Err(e) => {
                    return Err(UpstreamError::Answer {
                        upstream,
                        source: e,
                    });
                }
            }
        }
    }

    async fn exchange_tcp(
        &self,
        upstream: SocketAddr,
        mark: Option<u32>,
        q: &DnsQuery,
        query: &[u8],
    ) -> Result<(Vec<u8>, DnsAnswer), UpstreamError> {
        let timeout = self.inner.config.upstream_timeout;
        let work = async {
            let io_err = |source| UpstreamError::Io { upstream, source };
            let mut s = transparent::connect_marked(upstream, mark)
                .await
                .map_err(io_err)?;
            let len = u16::try_from(query.len()).map_err(|_| {
                io_err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "query longer than 65535 bytes",
                ))
            })?;
            let mut framed = Vec::with_capacity(query.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(query);
            s.write_all(&framed).await.map_err(io_err)?;
            loop {
                let answer = read_framed(&mut s).await.map_err(io_err)?;
                match parse_answer(q, &answer) {
                    Ok(a) => return Ok((answer, a)),
                    Err(DnsMessageError::IdMismatch { .. }) => {}
                    Err(e) => {
                        return Err(UpstreamError::Answer {
                            upstream,
                            source: e,
                        });
                    }
                }
            }
        };
        tokio::time::timeout(timeout, work)
            .await
            .unwrap_or(Err(UpstreamError::Timeout { upstream, timeout }))
    }

    /// Serves queries arriving on `socket` until receiving fails (see the module
    /// documentation; make the socket with [`transparent::udp_socket`] for redirected
    /// traffic). Runs until an error other than a transient one, or until the task is
    /// dropped.
    ///
    /// # Errors
    ///
    /// The receive error that ended the loop.
    pub async fn serve_udp(&self, socket: UdpSocket) -> io::Result<()> {
        let socket = Arc::new(socket);
        let local = socket.local_addr()?;
        // A socket that reports original destinations (`transparent::udp_socket`) is read
        // with `recvmsg`; a plain one with `recvfrom`, its own address being the destination.
        let original_dst = reports_original_dst(&socket, local);
        let permits = Arc::new(Semaphore::new(self.inner.config.max_outstanding.max(1)));
        let mut buf = vec![0u8; MAX_MESSAGE];
        loop {
            let permit = Arc::clone(&permits)
                .acquire_owned()
                .await
                .map_err(|_| io::Error::other("dns proxy permits closed"))?;
            let received = if original_dst {
                transparent::recv_original_dst(&socket, &mut buf).await
            } else {
                socket
                    .recv_from(&mut buf)
                    .await
                    .map(|(n, from)| (n, from, local))
            };
            let (n, from, to) = match received {
                Ok(v) => v,
                Err(e) if transient(&e) => continue,
                Err(e) => return Err(e),
            };
            let query = buf[..n].to_vec();
            let proxy = self.clone();
            let socket = Arc::clone(&socket);
            tokio::spawn(async move {
                let conn = ConnInfo {
                    client: from,
                    server: to,
                    protocol: Protocol::Udp,
                };
                if let Some(reply) = proxy.handle(conn, &query).await {
                    // A client that went away is not the proxy's error.
                    let _sent = if to == local {
                        socket.send_to(&reply, from).await
                    } else {
                        transparent::send_from(to, from, &reply).await
                    };
                }
                drop(permit);
            });
        }
    }

    /// Serves TCP connections accepted on `listener` (make it with
    /// [`transparent::tcp_listener`] for redirected traffic). Runs until accepting fails
    /// with a non-transient error, or until the task is dropped.
    ///
    /// # Errors
    ///
    /// The accept error that ended the loop.
    pub async fn serve_tcp(&self, listener: TcpListener) -> io::Result<()> {
        loop {
            let (stream, from) = match listener.accept().await {
                Ok(v) => v,
                Err(e) if transient(&e) => continue,
                Err(e) => return Err(e),
            };
            let proxy = self.clone();
            tokio::spawn(async move {
                // Errors end this connection only.
                let _ended = proxy.serve_tcp_conn(stream, from).await;
            });
        }
    }

    async fn serve_tcp_conn(&self, stream: TcpStream, from: SocketAddr) -> io::Result<()> {
        let to = stream.local_addr()?;
        stream.set_nodelay(true)?;
        let (mut rd, mut wr) = stream.into_split();
        let (tx, mut rx) = mpsc::channel::<Vec<u8>>(32);
        let writer = tokio::spawn(async move {
            while let Some(reply) = rx.recv().await {
                let Ok(len) = u16::try_from(reply.len()) else {
                    continue;
                };
                let mut framed = Vec::with_capacity(reply.len() + 2);
                framed.extend_from_slice(&len.to_be_bytes());
                framed.extend_from_slice(&reply);
                if wr.write_all(&framed).await.is_err() {
                    return;
                }
            }
            // Every query of the connection is answered; close our side.
            let _closed = wr.shutdown().await;
        });
        let conn = ConnInfo {
            client: from,
            server: to,
            protocol: Protocol::Tcp,
        };
        let idle = self.inner.config.tcp_idle_timeout;
        while let Ok(Ok(query)) = tokio::time::timeout(idle, read_framed(&mut rd)).await {
            let proxy = self.clone();
            let tx = tx.clone();
            tokio::spawn(async move {
                if let Some(reply) = proxy.handle(conn, &query).await {
                    let _queued = tx.send(reply).await;
                }
            });
        }
        drop(tx);
        // The writer ends when every spawned query has sent its answer (or dropped it).
        let _done = writer.await;
        Ok(())
    }
}

/// The unspecified address of `upstream`'s family, port 0.
fn any_addr(upstream: SocketAddr) -> SocketAddr {
    if upstream.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    }
}

/// Whether `IP_RECVORIGDSTADDR` (or the IPv6 one) is set on the socket.
fn reports_original_dst(sock: &UdpSocket, local: SocketAddr) -> bool {
    let (level, name) = if local.is_ipv4() {
        (libc::SOL_IP, libc::IP_RECVORIGDSTADDR)
    } else {
        (libc::SOL_IPV6, libc::IPV6_RECVORIGDSTADDR)
    };
    let mut v: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `v` and `len` outlive the call and `len` is the size of `v`; the fd is owned
    // by `sock`.
    let r = unsafe {
        libc::getsockopt(
            sock.as_raw_fd(),
            level,
            name,
            (&raw mut v).cast(),
            &raw mut len,
        )
    };
    r == 0 && v != 0
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Who waits for which answer on a shared socket: (upstream, id) -> (token, hand-over).
/// An entry stays until its query is done, so every datagram with that source and id (a
/// spoof first, the real answer next) reaches the query.
type Waiters = Mutex<HashMap<(SocketAddr, u16), (u64, mpsc::Sender<Vec<u8>>)>>;

/// Datagrams queued for one waiting query; more are dropped.
const WAITER_QUEUE: usize = 4;

/// Which sockets a query may share: (upstream mark, IPv4).
type GroupKey = (Option<u32>, bool);

/// The shared upstream UDP sockets of a proxy.
#[derive(Default)]
struct UdpUpstreams {
    groups: Mutex<HashMap<GroupKey, Vec<Arc<SharedSocket>>>>,
    next_token: AtomicU64,
}

/// A socket with a reader task that hands answers to the queries waiting for them.
struct SharedSocket {
    socket: Arc<UdpSocket>,
    waiters: Arc<Waiters>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for SharedSocket {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// A query waiting on a shared socket; unregisters itself when dropped.
struct Registration {
    socket: Arc<UdpSocket>,
    waiters: Arc<Waiters>,
    key: (SocketAddr, u16),
    token: u64,
    answer: mpsc::Receiver<Vec<u8>>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut w = lock(&self.waiters);
        if w.get(&self.key).is_some_and(|(t, _)| *t == self.token) {
            w.remove(&self.key);
        }
    }
}

impl UdpUpstreams {
    /// Registers a query for (`upstream`, `id`) on a socket of `mark` where that pair is not
    /// already waited for, opening a socket if needed (up to `max`); `None` when all `max`
    /// sockets have the pair in flight.
    fn register(
        &self,
        mark: Option<u32>,
        upstream: SocketAddr,
        id: u16,
        max: usize,
    ) -> io::Result<Option<Registration>> {
        let key = (upstream, id);
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let mut groups = lock(&self.groups);
        let group = groups.entry((mark, upstream.is_ipv4())).or_default();
        // A socket whose reader ended (its runtime is gone) is replaced.
        group.retain(|s| !s.reader.is_finished());
        let (tx, rx) = mpsc::channel(WAITER_QUEUE);
        for s in group.iter() {
            let mut w = lock(&s.waiters);
            if let std::collections::hash_map::Entry::Vacant(e) = w.entry(key) {
                e.insert((token, tx));
                return Ok(Some(Registration {
                    socket: Arc::clone(&s.socket),
                    waiters: Arc::clone(&s.waiters),
                    key,
                    token,
                    answer: rx,
                }));
            }
        }
        if group.len() >= max {
            return Ok(None);
        }
        let socket = Arc::new(transparent::udp_marked(any_addr(upstream), mark)?);
        let waiters: Arc<Waiters> = Arc::new(Mutex::new(HashMap::new()));
        lock(&waiters).insert(key, (token, tx));
        let reader = tokio::spawn(read_answers(Arc::clone(&socket), Arc::clone(&waiters)));
        group.push(Arc::new(SharedSocket {
            socket: Arc::clone(&socket),
            waiters: Arc::clone(&waiters),
            reader,
        }));
        Ok(Some(Registration {
            socket,
            waiters,
            key,
            token,
            answer: rx,
        }))
    }
}

/// The reader of a shared socket: each datagram goes to the query waiting for its source
/// and id; others (late, duplicated or spoofed) are dropped.
async fn read_answers(socket: Arc<UdpSocket>, waiters: Arc<Waiters>) {
    let mut buf = vec![0u8; MAX_MESSAGE];
    loop {
        match socket.recv_from(&mut buf).await {
            Ok((n, from)) if n >= 2 => {
                let w = lock(&waiters);
                if let Some((_, tx)) = w.get(&(from, id_of(&buf[..n]))) {
                    // A full queue means a flood of datagrams for one query: drop.
                    let _ = tx.try_send(buf[..n].to_vec());
                }
            }
            Ok(_) => {}
            Err(e) if transient(&e) => {}
            Err(_) => return,
        }
    }
}

/// Reads one length-prefixed DNS message.
async fn read_framed<R: AsyncReadExt + Unpin>(r: &mut R) -> io::Result<Vec<u8>> {
    let len = usize::from(r.read_u16().await?);
    let mut msg = vec![0u8; len];
    r.read_exact(&mut msg).await?;
    Ok(msg)
}

/// Receive and accept errors that do not end a serve loop: ICMP errors reported on the
/// socket, interrupted calls, a connection reset before accept, descriptor exhaustion.
fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    ) || e.raw_os_error() == Some(libc::EMFILE)
        || e.raw_os_error() == Some(libc::ENFILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(id: u16, name: &str, qtype: RecordType) -> Vec<u8> {
        let mut m = Message::new();
        m.set_id(id).set_recursion_desired(true);
        m.add_query(Query::query(
            hickory_proto::rr::Name::from_ascii(name).unwrap(),
            qtype,
        ));
        m.to_vec().unwrap()
    }

    #[test]
    fn query_checks_and_error_answers() {
        let q = parse_query(&query(7, "Api.Example.COM.", RecordType::AAAA)).unwrap();
        assert_eq!(
            (
                q.id(),
                q.name(),
                q.canonical_name(),
                q.qtype_name().as_str()
            ),
            (7, "Api.Example.COM.", "api.example.com.", "AAAA")
        );
        assert!(q.recursion_desired());
        assert_eq!(
            parse_query(&[0; 5]),
            Err(DnsMessageError::TooShort { len: 5 })
        );
        let mut resp = query(9, "a.example.", RecordType::A);
        resp[2] |= 0x80;
        assert_eq!(
            parse_query(&resp),
            Err(DnsMessageError::NotAQuery { id: 9 })
        );
        let mut notify = query(10, "a.example.", RecordType::A);
        notify[2] |= 4 << 3;
        let e = parse_query(&notify).unwrap_err();
        assert_eq!(e.query_rcode(), Some(4));
        let r = error_response(&notify, 4).unwrap();
        assert_eq!(r, [0, 10, 0x80 | (4 << 3) | 1, 4, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut two = query(11, "a.example.", RecordType::A);
        two[5] = 2;
        assert_eq!(parse_query(&two).unwrap_err().query_rcode(), Some(1));
        let none = header_response(12, 0, false, 0);
        let mut none = none;
        none[2] = 0;
        assert_eq!(
            parse_query(&none),
            Err(DnsMessageError::QuestionCount { id: 12, count: 0 })
        );
    }

    #[test]
    fn reject_echoes_the_question() {
        let q = parse_query(&query(0x100a, "refused.example.", RecordType::A)).unwrap();
        let r = reject_response(&q, RejectCode::Refused);
        // The same bytes as the REFUSED vector of the conformance data.
        let want = "100a810500010000000000000772656675736564076578616d706c650000010001";
        let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, want);
        let n = reject_response(&q, RejectCode::NameError);
        assert_eq!(n[3] & 0x0F, 3);
    }
}
