//! The reference agent's local API: what travels over its unix socket, and a small blocking
//! client for it.
//!
//! The agent (`cilium-agent`) serves HTTP/1.1 with JSON bodies on a unix socket
//! ([`DEFAULT_SOCKET`], or [`ENV_SOCKET`]); the CNI plugin (`cilium-cni`) and the CLI
//! (`cilium-dbg`) are its clients. This crate is the contract between them: the routes
//! ([`routes`]), the bodies, and [`Client`], which needs nothing but `std` so the CNI plugin
//! — a process started for every container — stays small and starts fast.
//!
//! What it is not: an embedding API. Products embedding the `cilium-*` crates call them
//! directly; this is the reference agent's own wire.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Where the agent listens unless told otherwise.
pub const DEFAULT_SOCKET: &str = "/var/run/cilium-rs/agent.sock";
/// Environment variable that overrides [`DEFAULT_SOCKET`] for the plugin and the CLI.
pub const ENV_SOCKET: &str = "CILIUM_RS_SOCKET";
/// The gateway every endpoint routes through: a link-local address answered by the host
/// side of its veth (a permanent neighbour entry in the pod), as Cilium does.
pub const GATEWAY: &str = "169.254.1.1";

/// The socket path: `$CILIUM_RS_SOCKET` or [`DEFAULT_SOCKET`].
pub fn socket_path() -> PathBuf {
    std::env::var_os(ENV_SOCKET)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET))
}

/// The routes the agent serves (method, path). `{…}` is a path segment.
pub mod routes {
    /// `GET` → [`Status`](crate::Status).
    pub const HEALTHZ: &str = "/v1/healthz";
    /// `POST` [`Attachment`](crate::Attachment) → [`IpamLease`](crate::IpamLease) (the same
    /// lease again for the same attachment).
    pub const IPAM: &str = "/v1/ipam";
    /// `PUT` [`EndpointRequest`](crate::EndpointRequest) → [`Endpoint`](crate::Endpoint),
    /// answered once the endpoint's policy is in the datapath. `GET` → list of endpoints.
    pub const ENDPOINT: &str = "/v1/endpoint";
    /// `GET /v1/endpoint/{id}` → [`Endpoint`](crate::Endpoint).
    pub const ENDPOINT_ID: &str = "/v1/endpoint/";
    /// `GET /v1/attachment/{container_id}/{ifname}` → [`Endpoint`](crate::Endpoint);
    /// `DELETE` → [`Deleted`](crate::Deleted) (idempotent; releases the address too).
    pub const ATTACHMENT: &str = "/v1/attachment/";
    /// `POST` [`GcRequest`](crate::GcRequest) → [`GcResult`](crate::GcResult).
    pub const GC: &str = "/v1/gc";
    /// `GET` → list of [`Identity`](crate::Identity); `GET /v1/identity/{id}` → one.
    pub const IDENTITY: &str = "/v1/identity";
    /// `GET` → list of [`ServiceInfo`](crate::ServiceInfo).
    pub const SERVICE: &str = "/v1/service";
    /// `GET` → [`PolicyInfo`](crate::PolicyInfo); `PUT` [`PolicyText`](crate::PolicyText) →
    /// [`PolicyInfo`](crate::PolicyInfo) (replaces the rules of that source).
    pub const POLICY: &str = "/v1/policy";
    /// `POST` [`PolicyText`](crate::PolicyText) → [`Validation`](crate::Validation).
    pub const POLICY_VALIDATE: &str = "/v1/policy/validate";
    /// `POST` [`TraceRequest`](crate::TraceRequest) → [`TraceResult`](crate::TraceResult).
    pub const POLICY_TRACE: &str = "/v1/policy/trace";
    /// `GET /v1/bpf/policy/{endpoint id}` → list of [`BpfPolicyEntry`](crate::BpfPolicyEntry).
    pub const BPF_POLICY: &str = "/v1/bpf/policy/";
    /// `GET` → list of [`IpCacheEntry`](crate::IpCacheEntry).
    pub const IPCACHE: &str = "/v1/map/ipcache";
    /// `GET` → list of [`FqdnEntry`](crate::FqdnEntry).
    pub const FQDN_CACHE: &str = "/v1/fqdn/cache";
    /// `GET` → list of [`Metric`](crate::Metric).
    pub const METRICS: &str = "/v1/metrics";
}

/// One network attachment of a container: what CNI calls `(CNI_CONTAINERID, CNI_IFNAME)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Attachment {
    /// `CNI_CONTAINERID`.
    #[serde(rename = "containerID")]
    pub container_id: String,
    /// `CNI_IFNAME`.
    pub ifname: String,
}

/// The agent's state as `cilium-dbg status` shows it; `ready == false` makes CNI STATUS fail
/// with code 50.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Ready for ADD: datapath loaded and the sources of truth read once.
    pub ready: bool,
    /// What is not ready, or "ok".
    pub message: String,
    /// Node name.
    pub node: String,
    /// Agent version.
    pub version: String,
    /// Where policies, services and labels come from ("standalone /etc/…" or "kubernetes").
    pub source: String,
    /// The per-node pod address pool.
    pub pod_cidr: String,
    /// Addresses handed out / pool size.
    pub ipam_used: usize,
    /// Usable addresses in the pool.
    pub ipam_capacity: usize,
    /// Endpoints by state.
    pub endpoints: usize,
    /// Identities known (reserved ones excluded).
    pub identities: usize,
    /// Policy revision in force.
    pub policy_revision: u64,
    /// Services programmed.
    pub services: usize,
    /// bpffs directory of the datapath's pins.
    pub pin_dir: String,
    /// Links the loader replaced in place when the agent started (restart without a gap).
    pub replaced_links: usize,
    /// Events the datapath could not deliver (ring buffer full).
    pub events_lost: u64,
    /// Hubble gRPC address (`host:port`), if serving.
    pub hubble: Option<String>,
    /// Prometheus metrics address, if serving.
    pub metrics: Option<String>,
    /// Last error of a source of truth (an invalid file names file and field), if any.
    pub source_error: Option<String>,
}

/// An address from the node's pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpamLease {
    /// Who holds it.
    pub owner: Attachment,
    /// The IPv4 address.
    pub ip: String,
    /// Prefix length the container gets (32: everything is routed through the host).
    pub prefix_len: u8,
    /// The next hop in the container ([`GATEWAY`]).
    pub gateway: String,
    /// The pool it came from (CIDR).
    pub pool: String,
}

/// CNI ADD, after the plugin created the interfaces: make it an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointRequest {
    /// The attachment (must hold the lease for `ip`).
    pub attachment: Attachment,
    /// `CNI_NETNS`.
    pub netns: String,
    /// Host side of the veth.
    pub host_ifname: String,
    /// Its ifindex in the agent's namespace.
    pub host_ifindex: u32,
    /// Its MAC address.
    pub host_mac: String,
    /// The container side's MAC address.
    pub container_mac: String,
    /// The address leased for it.
    pub ip: String,
    /// `K8S_POD_NAMESPACE` from `CNI_ARGS`, if given.
    pub pod_namespace: Option<String>,
    /// `K8S_POD_NAME` from `CNI_ARGS`, if given.
    pub pod_name: Option<String>,
    /// Extra labels (`source:key=value`), e.g. from the network config's `labels` key.
    pub labels: Vec<String>,
}

/// An endpoint as the agent holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Endpoint id (also the policy map's name suffix).
    pub id: u16,
    /// The attachment it was created for.
    pub attachment: Attachment,
    /// `namespace/name` of the pod, when known.
    pub pod: Option<String>,
    /// IPv4 address.
    pub ip: String,
    /// Security identity.
    pub identity: u32,
    /// The identity's labels (`source:key=value`, sorted).
    pub labels: Vec<String>,
    /// `CNI_NETNS`.
    pub netns: String,
    /// Host side of the veth.
    pub host_ifname: String,
    /// Its ifindex.
    pub host_ifindex: u32,
    /// `ready`, `waiting-for-policy`, `not-ready` (policy could not be written: fails closed)
    pub state: String,
    /// Policy revision its policy map holds.
    pub policy_revision: u64,
    /// Ingress enforced.
    pub ingress_enforced: bool,
    /// Egress enforced.
    pub egress_enforced: bool,
}

/// Answer to a DELETE: whether there was something to remove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    /// An endpoint or a lease existed and is gone now.
    pub removed: bool,
}

/// CNI GC: every attachment not listed here goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcRequest {
    /// `cni.dev/valid-attachments` (missing = empty).
    pub valid: Vec<Attachment>,
}

/// What GC removed, and what it could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcResult {
    /// Attachments whose endpoint or lease was removed.
    pub removed: Vec<Attachment>,
    /// Failures (GC goes on after one).
    pub errors: Vec<String>,
}

/// A security identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// Numeric identity.
    pub id: u32,
    /// Its labels (`source:key=value`, sorted).
    pub labels: Vec<String>,
    /// References held on this node (endpoints, FQDN entries); 0 for reserved identities.
    pub refs: u64,
}

/// A service backend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// `ip:port`.
    pub address: String,
    /// `active`, `terminating`, `quarantined`, `maintenance`.
    pub state: String,
    /// Maglev weight.
    pub weight: u16,
}

/// A service frontend and its backends, as programmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInfo {
    /// Reverse-NAT id (Cilium's service ID column).
    pub id: u16,
    /// `ip:port/proto`.
    pub frontend: String,
    /// `ClusterIP`, `NodePort`, …
    pub kind: String,
    /// `namespace/name`.
    pub name: String,
    /// `random` or `maglev`.
    pub algorithm: String,
    /// Backends in order.
    pub backends: Vec<BackendInfo>,
}

/// The policy repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyInfo {
    /// Revision.
    pub revision: u64,
    /// Sources (file paths, `api/…`, `k8s/…`) and their rule counts.
    pub sources: Vec<(String, usize)>,
    /// The rules, as JSON (CiliumNetworkPolicy `spec` form, with their labels).
    pub rules: serde_json::Value,
}

/// Policy text (YAML or JSON of CiliumNetworkPolicy / CCNP / NetworkPolicy objects).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyText {
    /// Where it came from (a file name); `api` when absent.
    pub source: Option<String>,
    /// The text.
    pub text: String,
}

/// Result of a validation: each problem with its field path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// No problems.
    pub ok: bool,
    /// Rules the text holds.
    pub rules: usize,
    /// Problems, one per line (`file: spec.ingress[0]…: message`).
    pub errors: Vec<String>,
}

/// `policy trace`: would `src` reach `dst`?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRequest {
    /// Source labels (`k8s:app=frontend`), or an endpoint id as `endpoint:N`.
    pub src: Vec<String>,
    /// Destination labels, or `endpoint:N`.
    pub dst: Vec<String>,
    /// Destination port.
    pub dport: Option<u16>,
    /// `TCP`, `UDP`, `ICMP`, `ANY`.
    pub protocol: Option<String>,
}

/// The trace's verdict and its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceResult {
    /// `ALLOWED`, `DENIED`.
    pub verdict: String,
    /// Human-readable trace of both directions.
    pub trace: String,
}

/// One entry of an endpoint's policy map, with Cilium's `bpf policy get` columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BpfPolicyEntry {
    /// `Allow` or `Deny`.
    pub policy: String,
    /// `Ingress` or `Egress`.
    pub direction: String,
    /// Peer identity (0 = any).
    pub identity: u32,
    /// The peer identity's labels (`reserved:unknown` when not known).
    pub labels: Vec<String>,
    /// `ANY`, `80/TCP`, `8080-8083/TCP`, …
    pub port_proto: String,
    /// L7 proxy port, 0 for none.
    pub proxy_port: u16,
    /// Auth type (always `disabled` here).
    pub auth_type: String,
    /// Bytes that hit the entry (0: the datapath counts per direction, not per entry).
    pub bytes: u64,
    /// Packets that hit the entry.
    pub packets: u64,
    /// Prefix length of the key (Cilium's PREFIX column).
    pub prefix: u8,
}

/// One ipcache entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpCacheEntry {
    /// CIDR.
    pub prefix: String,
    /// Identity.
    pub identity: u32,
    /// Encryption key index.
    pub encrypt_key: u8,
    /// Tunnel endpoint (`0.0.0.0` for none).
    pub tunnel_endpoint: String,
}

/// One FQDN cache entry (names learned through the DNS proxy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FqdnEntry {
    /// Endpoint that looked the name up.
    pub endpoint: u16,
    /// `lookup`.
    pub source: String,
    /// The name (with its final dot).
    pub fqdn: String,
    /// TTL as answered (after the minimum TTL).
    pub ttl: u32,
    /// Seconds until expiry.
    pub expires_in: u64,
    /// Addresses.
    pub ips: Vec<String>,
}

/// One metric sample (`metrics list`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    /// Metric name.
    pub name: String,
    /// Labels as `k=v k=v`.
    pub labels: String,
    /// Value.
    pub value: f64,
}

/// Error body of every non-2xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// What went wrong, naming the object or field.
    pub message: String,
}

/// What a call to the agent can end in.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The socket is missing or refused the connection: the agent is not running.
    #[error("agent not reachable at {path}")]
    Unreachable {
        /// Socket path.
        path: PathBuf,
        /// The connect error.
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing the connection failed, or it timed out.
    #[error("talking to the agent at {path} failed")]
    Io {
        /// Socket path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The agent answered with an error status.
    #[error("agent answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Its message.
        message: String,
    },
    /// The agent's answer could not be understood.
    #[error("bad answer from the agent: {0}")]
    Protocol(String),
}

impl ClientError {
    /// True when trying again later may succeed (agent down, starting, or busy).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            ClientError::Unreachable { .. } | ClientError::Status { status: 503, .. }
        )
    }
}

/// A blocking client: one connection per call (`Connection: close`).
#[derive(Debug, Clone)]
pub struct Client {
    path: PathBuf,
    timeout: Duration,
}

impl Default for Client {
    fn default() -> Self {
        Client::new(socket_path())
    }
}

impl Client {
    /// A client of the agent listening on `path`; calls time out after 60 s.
    pub fn new(path: impl Into<PathBuf>) -> Client {
        Client {
            path: path.into(),
            timeout: Duration::from_secs(60),
        }
    }

    /// Changes the per-call timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// The socket path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// One call: `method path` with an optional JSON body; a 2xx answer decoded as `T`.
    pub fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, ClientError> {
        let body = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| ClientError::Protocol(e.to_string()))?,
            None => Vec::new(),
        };
        let (status, answer) = self.exchange(method, path, &body)?;
        if !(200..300).contains(&status) {
            let message = serde_json::from_slice::<ApiErrorBody>(&answer)
                .map(|b| b.message)
                .unwrap_or_else(|_| String::from_utf8_lossy(&answer).into_owned());
            return Err(ClientError::Status { status, message });
        }
        serde_json::from_slice(&answer)
            .map_err(|e| ClientError::Protocol(format!("{method} {path}: {e}")))
    }

    fn exchange(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), ClientError> {
        let mut s = UnixStream::connect(&self.path).map_err(|source| ClientError::Unreachable {
            path: self.path.clone(),
            source,
        })?;
        let io = |source| ClientError::Io {
            path: self.path.clone(),
            source,
        };
        s.set_read_timeout(Some(self.timeout)).map_err(io)?;
        s.set_write_timeout(Some(self.timeout)).map_err(io)?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: cilium-agent\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).map_err(io)?;
        s.write_all(body).map_err(io)?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).map_err(io)?;
        parse_response(&raw)
    }

    /// `GET` → `T`.
    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call(method::GET, path, None::<&()>)
    }

    /// Agent status.
    pub fn status(&self) -> Result<Status, ClientError> {
        self.get(routes::HEALTHZ)
    }

    /// Lease (or the existing lease of) an address for `owner`.
    pub fn ipam_allocate(&self, owner: &Attachment) -> Result<IpamLease, ClientError> {
        self.call(method::POST, routes::IPAM, Some(owner))
    }

    /// Register an endpoint; returns once its policy is in place.
    pub fn endpoint_add(&self, req: &EndpointRequest) -> Result<Endpoint, ClientError> {
        self.call(method::PUT, routes::ENDPOINT, Some(req))
    }

    /// The endpoint of an attachment.
    pub fn attachment(&self, a: &Attachment) -> Result<Endpoint, ClientError> {
        self.get(&attachment_path(a))
    }

    /// Remove an attachment's endpoint and lease (idempotent).
    pub fn attachment_delete(&self, a: &Attachment) -> Result<Deleted, ClientError> {
        self.call(method::DELETE, &attachment_path(a), None::<&()>)
    }

    /// CNI GC.
    pub fn gc(&self, req: &GcRequest) -> Result<GcResult, ClientError> {
        self.call(method::POST, routes::GC, Some(req))
    }

    /// All endpoints.
    pub fn endpoints(&self) -> Result<Vec<Endpoint>, ClientError> {
        self.get(routes::ENDPOINT)
    }
}

/// HTTP method names used by the API.
pub mod method {
    /// GET
    pub const GET: &str = "GET";
    /// POST
    pub const POST: &str = "POST";
    /// PUT
    pub const PUT: &str = "PUT";
    /// DELETE
    pub const DELETE: &str = "DELETE";
}

/// `/v1/attachment/{container_id}/{ifname}` (both are restricted to URL-safe characters by
/// the CNI spec; anything else is percent-encoded).
pub fn attachment_path(a: &Attachment) -> String {
    format!(
        "{}{}/{}",
        routes::ATTACHMENT,
        encode_segment(&a.container_id),
        encode_segment(&a.ifname)
    )
}

/// Percent-encodes every byte outside `[A-Za-z0-9._-]`.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reverses [`encode_segment`]; `None` for a malformed escape or non-UTF-8 result.
pub fn decode_segment(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Splits an HTTP/1.1 response into status and (de-chunked) body.
fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), ClientError> {
    let bad = |m: &str| ClientError::Protocol(m.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| bad("headers are not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status code"))?;
    let mut chunked = false;
    let mut length = None;
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        if k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked") {
            chunked = true;
        } else if k.eq_ignore_ascii_case("content-length") {
            length = Some(v.parse::<usize>().map_err(|_| bad("bad content-length"))?);
        }
    }
    let rest = &raw[end + 4..];
    let body = if chunked {
        dechunk(rest).ok_or_else(|| bad("bad chunked body"))?
    } else if let Some(n) = length {
        rest.get(..n)
            .ok_or_else(|| bad("body shorter than content-length"))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let nl = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..nl]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[nl + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_round_trip() {
        for s in ["abc-1.2_3", "a/b c", "ü%", ""] {
            assert_eq!(decode_segment(&encode_segment(s)).as_deref(), Some(s));
        }
        assert_eq!(encode_segment("a/b"), "a%2Fb");
        assert_eq!(decode_segment("%zz"), None);
    }

    #[test]
    fn responses_with_length_or_chunks() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        assert_eq!(r, (200, b"{}".to_vec()));
        let r = parse_response(
            b"HTTP/1.1 503 Service Unavailable\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r, (503, b"abcde".to_vec()));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n{}").is_err());
        assert!(parse_response(b"garbage").is_err());
    }

    #[test]
    fn unreachable_agent_is_unavailable() {
        let c = Client::new("/nonexistent/cilium-rs-test.sock");
        let e = c.status().unwrap_err();
        assert!(e.is_unavailable(), "{e}");
    }
}
