//! The HTTP/1.1 proxy: enforces HTTP rules on connections the datapath redirects to it and
//! forwards allowed requests to their original destination. A thin shell (hyper, tokio, a
//! tower `Service`) around the pure [`http`](crate::http) module.
//!
//! ```text
//! client ──> FramingGuard ──> hyper server ──> ProxyService::call ──> hyper client ──> server
//!            (raw bytes)      (parse)          check + normalise       (kept alive,
//!                                              403 / 400 / forward      SO_MARK)
//! ```
//!
//! - **Before hyper**: the downstream bytes go through a [`FramingGuard`]: hyper sees a
//!   request head only once it is complete and valid, body bytes only as far as they are
//!   well framed. Hyper is lenient where smuggling lives (it drops a second, equal
//!   `Content-Length`, and with `Transfer-Encoding` it quietly ignores `Content-Length`), so the
//!   guard decides. A bad head is answered `400` (`431` when too large) after the responses to
//!   the requests before it, and the connection is closed; the bad request never reaches the
//!   upstream.
//! - **Per request** ([`ProxyService`]): the latest [`PolicySnapshot`] is read from the watch
//!   channel, so a policy change applies to the next request of an open connection; the target
//!   is normalised ([`normalize_target`]); [`PolicySnapshot::policies`] gives the L7 policies of
//!   the connection and [`check`] decides. Denied: `403` with `Access denied\r\n`, the
//!   connection stays usable. Allowed: the request body is read (up to
//!   [`HttpProxyConfig::max_buffered_body`]; a malformed body is answered `400` and nothing is
//!   sent upstream), header edits of `headerMatches` applied, hop-by-hop headers removed, and the
//!   request sent with the normalised target to the original destination over an upstream
//!   connection of this downstream connection (opened on first use with
//!   [`transparent::connect_marked`] and the source identity's mark, kept alive and reused;
//!   one retry on a fresh connection when a kept-alive one turned out closed). A larger body is
//!   streamed after its first `max_buffered_body` bytes; a framing error after that point
//!   aborts the upstream request (the upstream sees a truncated body and a closed connection,
//!   never a complete second request).
//! - **Records**: one request record (`FORWARDED`, `DROPPED` for a policy denial, `ERROR` for a
//!   malformed request) and one response record (status, latency from the request head to the
//!   response head) per request, in Hubble's form ([`L7Record`]): method, URL
//!   `http://<host><path>`, protocol `HTTP/1.1`, header fields with lower-case names (the
//!   request's as forwarded, the response's as returned).
//! - Not proxied: `CONNECT` (`501`) and protocol upgrades (WebSocket, h2c: the `Upgrade`
//!   header is removed, so the upstream answers plain HTTP/1.1).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use cilium_hubble::proto::flow::{
    Http, HttpHeader, L7FlowType, TrafficDirection, Verdict as FlowVerdict, layer7,
};
use cilium_policy::Direction;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Body, Frame, Incoming, SizeHint};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::http::{
    DEFAULT_MAX_HEADERS, FramingGuard, GuardPosition, HeaderEdit, HeaderLookup, HeaderMismatch,
    HttpError, Limits, RequestView, Verdict, check, normalize_target,
};
use crate::policy::{ConnInfo, PolicySnapshot, Resolved};
use crate::records::{L7Record, RecordSink};
use crate::transparent;

/// The body of a local reply.
pub const ACCESS_DENIED_BODY: &str = "Access denied\r\n";

/// Configuration of an [`HttpProxy`].
#[derive(Debug, Clone)]
pub struct HttpProxyConfig {
    /// Which policy direction the proxy enforces (egress: the local endpoint is the client;
    /// ingress: the server).
    pub direction: Direction,
    /// Bound of a request head in bytes (`431` above it). Default 16 KiB.
    pub max_header_bytes: usize,
    /// Bound of the number of header fields (`431` above it). Default 100.
    pub max_headers: usize,
    /// Request bodies up to this size are read and checked before anything is sent upstream;
    /// the rest of a larger body is streamed. Default 1 MiB.
    pub max_buffered_body: usize,
    /// Set `SO_MARK` on upstream connections (the source identity, for the datapath; needs
    /// `CAP_NET_ADMIN`). Default `true`; tests on loopback turn it off.
    pub mark_upstream: bool,
    /// How long a client may take to send a request head. Default 30 s.
    pub header_read_timeout: Option<Duration>,
}

impl HttpProxyConfig {
    /// The defaults for `direction`.
    pub fn new(direction: Direction) -> HttpProxyConfig {
        HttpProxyConfig {
            direction,
            max_header_bytes: crate::http::DEFAULT_MAX_HEAD_BYTES,
            max_headers: crate::http::DEFAULT_MAX_HEADERS,
            max_buffered_body: 1 << 20,
            mark_upstream: true,
            header_read_timeout: Some(Duration::from_secs(30)),
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            max_head_bytes: self.max_header_bytes,
            max_headers: self.max_headers,
        }
    }
}

/// Counters of a proxy (cumulative).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HttpProxyStats {
    /// Connections served.
    pub connections: u64,
    /// Requests allowed and forwarded.
    pub allowed: u64,
    /// Requests denied by policy (`403`).
    pub denied: u64,
    /// Requests refused as malformed (`400`, `431`, `501`, `505`).
    pub rejected: u64,
    /// Upstream connections opened.
    pub upstream_connections: u64,
    /// Requests that failed upstream (`502`/`503`).
    pub upstream_errors: u64,
}

#[derive(Debug, Default)]
struct Counters {
    connections: AtomicU64,
    allowed: AtomicU64,
    denied: AtomicU64,
    rejected: AtomicU64,
    upstream_connections: AtomicU64,
    upstream_errors: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

type MismatchLog = dyn Fn(&ConnInfo, &HeaderMismatch) + Send + Sync;

/// The HTTP proxy. Cheap to share (`Arc`); one per listener.
pub struct HttpProxy {
    config: HttpProxyConfig,
    limits: Limits,
    policy: watch::Receiver<Arc<PolicySnapshot>>,
    records: Arc<dyn RecordSink>,
    mismatch_log: Option<Box<MismatchLog>>,
    counters: Counters,
}

impl std::fmt::Debug for HttpProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpProxy")
            .field("config", &self.config)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl HttpProxy {
    /// A proxy enforcing the policies published on `policy`, sending L7 records to
    /// `records`.
    pub fn new(
        config: HttpProxyConfig,
        policy: watch::Receiver<Arc<PolicySnapshot>>,
        records: Arc<dyn RecordSink>,
    ) -> HttpProxy {
        HttpProxy {
            limits: config.limits(),
            config,
            policy,
            records,
            mismatch_log: None,
            counters: Counters::default(),
        }
    }

    /// Calls `log` for every `headerMatches` mismatch of a forwarded request (`LOG` and the
    /// editing actions alike).
    #[must_use]
    pub fn with_mismatch_log(
        mut self,
        log: impl Fn(&ConnInfo, &HeaderMismatch) + Send + Sync + 'static,
    ) -> HttpProxy {
        self.mismatch_log = Some(Box::new(log));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &HttpProxyConfig {
        &self.config
    }

    /// The counters so far.
    pub fn stats(&self) -> HttpProxyStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        HttpProxyStats {
            connections: get(&c.connections),
            allowed: get(&c.allowed),
            denied: get(&c.denied),
            rejected: get(&c.rejected),
            upstream_connections: get(&c.upstream_connections),
            upstream_errors: get(&c.upstream_errors),
        }
    }

    /// Accepts connections on `listener` (a transparent listener: each accepted socket's local
    /// address is the original destination) and serves each on a task of its own. Running out
    /// of descriptors pauses accepting for a moment; other accept errors end it.
    ///
    /// # Errors
    ///
    /// An accept error other than running out of descriptors or an aborted connection.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> io::Result<()> {
        loop {
            let (stream, client) = match listener.accept().await {
                Ok(a) => a,
                Err(e) => match e.raw_os_error() {
                    // Out of descriptors or memory: wait for connections to end.
                    Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                    // The client gave up before the accept.
                    Some(libc::ECONNABORTED | libc::EINTR | libc::EPROTO) => continue,
                    _ => return Err(e),
                },
            };
            let Ok(server) = stream.local_addr() else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            // A dual-stack listener reports IPv4 peers as IPv4-mapped IPv6 addresses; the
            // policy snapshot knows them as IPv4.
            let canonical = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
            let conn = ConnInfo {
                client: canonical(client),
                server: canonical(server),
                protocol: cilium_core::Protocol::Tcp,
            };
            let proxy = Arc::clone(&self);
            tokio::spawn(async move {
                let _ = proxy.serve_connection(stream, conn).await;
            });
        }
    }

    /// Serves one downstream connection whose original destination is `conn.server`, until
    /// either side closes it.
    ///
    /// # Errors
    ///
    /// I/O errors of the downstream connection while answering a malformed request; other
    /// errors end the connection quietly.
    pub async fn serve_connection<S>(self: Arc<Self>, stream: S, conn: ConnInfo) -> io::Result<()>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        bump(&self.counters.connections);
        let guarded = Guarded::new(stream, self.limits, self.config.header_read_timeout);
        let service = ProxyService {
            conn: Arc::new(ConnState {
                proxy: Arc::clone(&self),
                conn,
                upstream: Mutex::new(None),
            }),
        };
        let mut builder = hyper::server::conn::http1::Builder::new();
        // The guard bounds heads and their fields and times out slow heads (hyper's own
        // header timer costs an allocation and a timer insertion per request); a response
        // keeps the upstream's `Date`, none is added.
        builder
            .half_close(true)
            .keep_alive(true)
            .max_buf_size((2 * self.config.max_header_bytes + 16 * 1024).max(8192))
            .auto_date_header(false)
            .timer(TokioTimer::new())
            .header_read_timeout(None);
        if self.config.max_headers > DEFAULT_MAX_HEADERS {
            // hyper's default bound is 100 (kept on the stack: no allocation per request).
            builder.max_headers(self.config.max_headers);
        }
        let served = builder
            .serve_connection(TokioIo::new(guarded), service)
            .without_shutdown()
            .await;
        let Ok(parts) = served else {
            // hyper answered (its own 400) or the connection broke; nothing to add.
            return Ok(());
        };
        let mut guarded = parts.io.into_inner();
        if guarded.timed_out {
            if guarded.end > guarded.start {
                // Part of a head came, not all of it in time.
                bump(&self.counters.rejected);
                self.record_malformed(&conn, 408);
                let reply = local_reply_bytes(408, "request head not received in time");
                guarded.inner.write_all(&reply).await?;
            }
        } else if let Some((err, GuardPosition::BetweenMessages)) = guarded.violation.take() {
            // A bad head: nothing of it went to hyper. Answer and close.
            bump(&self.counters.rejected);
            self.record_malformed(&conn, err.status());
            let reply = local_reply_bytes(err.status(), &err.to_string());
            guarded.inner.write_all(&reply).await?;
            guarded.inner.shutdown().await?;
            // Closing with unread bytes would reset the connection, and the client could
            // lose the answer: read what it still sends, for a moment.
            let linger = async {
                let mut sink = [0u8; 4096];
                let mut left = 256 * 1024usize;
                while left > 0 {
                    match guarded.inner.read(&mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => left = left.saturating_sub(n),
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), linger).await;
            return Ok(());
        }
        guarded.inner.shutdown().await
    }

    fn record_malformed(&self, conn: &ConnInfo, status: u16) {
        let resolved = self.policy.borrow().resolve(self.config.direction, conn);
        let http = Http {
            code: u32::from(status),
            protocol: "HTTP/1.1".into(),
            ..Http::default()
        };
        self.emit(
            conn,
            resolved.as_ref(),
            unix_now(),
            L7FlowType::Request,
            FlowVerdict::Error,
            0,
            http,
        );
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the fields of a record, each from elsewhere"
    )]
    fn emit(
        &self,
        conn: &ConnInfo,
        resolved: Option<&Resolved>,
        start_unix_ns: i64,
        kind: L7FlowType,
        verdict: FlowVerdict,
        latency_ns: u64,
        http: Http,
    ) {
        // One wall-clock reading per request: a response is stamped at its request's time
        // plus the latency.
        let time_unix_ns =
            start_unix_ns.saturating_add(i64::try_from(latency_ns).unwrap_or(i64::MAX));
        self.records.record(L7Record {
            time_unix_ns,
            source: conn.client,
            destination: conn.server,
            protocol: 6,
            source_identity: resolved.map_or(0, |r| r.source_identity.0),
            destination_identity: resolved.map_or(0, |r| r.destination_identity.0),
            endpoint_id: resolved.map_or(0, |r| r.endpoint_id),
            direction: match self.config.direction {
                Direction::Ingress => TrafficDirection::Ingress,
                Direction::Egress => TrafficDirection::Egress,
            },
            kind,
            verdict,
            latency_ns,
            record: layer7::Record::Http(http),
        });
    }
}

/// A status line, headers and body of a local reply that closes the connection.
fn local_reply_bytes(status: u16, reason: &str) -> Vec<u8> {
    let phrase = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let body = format!("{phrase}: {reason}\r\n");
    format!(
        "HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

// ---------------------------------------------------------------------------------------------
// The framing guard in front of hyper
// ---------------------------------------------------------------------------------------------

/// The downstream stream as hyper reads it: only bytes the [`FramingGuard`] validated.
struct Guarded<S> {
    inner: S,
    guard: FramingGuard,
    /// Bytes read from `inner`: `buf[start..valid]` validated and not yet given to hyper,
    /// `buf[valid..end]` not yet validated.
    buf: Box<[u8]>,
    start: usize,
    valid: usize,
    end: usize,
    eof: bool,
    /// The violation found, and where (between messages: nothing of the bad head went on).
    violation: Option<(HttpError, GuardPosition)>,
    /// How long a client may take to send a head, counted from when the server waits for it.
    head_timeout: Option<Duration>,
    /// Since when the server waits for the next head (`None`: not waiting).
    waiting_since: Option<Instant>,
    /// One timer per connection, re-armed only when it fires (lazily: it never fires late,
    /// at most early).
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    heads_seen: u64,
    timed_out: bool,
}

impl<S> Guarded<S> {
    fn new(inner: S, limits: Limits, head_timeout: Option<Duration>) -> Guarded<S> {
        Guarded {
            inner,
            guard: FramingGuard::new(limits),
            buf: vec![0; limits.max_head_bytes + 16 * 1024].into_boxed_slice(),
            start: 0,
            valid: 0,
            end: 0,
            eof: false,
            violation: None,
            head_timeout,
            waiting_since: None,
            timer: None,
            heads_seen: 0,
            timed_out: false,
        }
    }

    /// Whether the head the server waits for is late; arms the timer otherwise.
    fn head_is_late(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(limit) = self.head_timeout else {
            return false;
        };
        if self.guard.position() != GuardPosition::BetweenMessages {
            return false;
        }
        let deadline = *self.waiting_since.get_or_insert_with(Instant::now) + limit;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.into())));
        while timer.as_mut().poll(cx).is_ready() {
            if Instant::now() >= deadline {
                return true;
            }
            timer.as_mut().reset(deadline.into());
        }
        false
    }

    /// Runs the guard over the bytes not yet validated.
    fn validate(&mut self) {
        if self.violation.is_some() || self.valid == self.end {
            return;
        }
        match self.guard.advance(&self.buf[self.valid..self.end]) {
            Ok(n) => {
                self.valid += n;
                if self.guard.heads() != self.heads_seen {
                    self.heads_seen = self.guard.heads();
                    self.waiting_since = None;
                }
            }
            Err(e) => {
                let at = self
                    .guard
                    .failure()
                    .map_or(GuardPosition::BetweenMessages, |(_, at)| at);
                self.violation = Some((e, at));
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.valid > this.start {
                let n = (this.valid - this.start).min(out.remaining());
                out.put_slice(&this.buf[this.start..this.start + n]);
                this.start += n;
                if this.start == this.end {
                    (this.start, this.valid, this.end) = (0, 0, 0);
                }
                return Poll::Ready(Ok(()));
            }
            if this.violation.is_some() || this.eof || this.timed_out {
                return Poll::Ready(Ok(()));
            }
            this.validate();
            if this.valid > this.start || this.violation.is_some() {
                continue;
            }
            // Need more bytes: make room, then read.
            if this.end == this.buf.len() {
                if this.start == 0 {
                    // A full buffer the guard cannot decide on cannot happen (the buffer holds
                    // a maximal head); be safe anyway.
                    this.violation = Some((
                        HttpError::HeadTooLarge {
                            limit: this.buf.len(),
                        },
                        GuardPosition::BetweenMessages,
                    ));
                    continue;
                }
                this.buf.copy_within(this.start..this.end, 0);
                (this.valid, this.end) = (this.valid - this.start, this.end - this.start);
                this.start = 0;
            }
            let mut rb = ReadBuf::new(&mut this.buf[this.end..]);
            match Pin::new(&mut this.inner).poll_read(cx, &mut rb) {
                Poll::Pending => {
                    if this.head_is_late(cx) {
                        this.timed_out = true;
                        continue;
                    }
                    return Poll::Pending;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) => {
                    let n = rb.filled().len();
                    if n == 0 {
                        this.eof = true;
                    }
                    this.end += n;
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

// ---------------------------------------------------------------------------------------------
// The per-request service
// ---------------------------------------------------------------------------------------------

/// The body of a request sent upstream: a buffered prefix, then (for a body larger than the
/// buffer) the rest as it arrives.
#[derive(Debug)]
pub struct ForwardBody {
    prefix: Option<Bytes>,
    rest: Option<Incoming>,
}

impl ForwardBody {
    fn full(b: Bytes) -> ForwardBody {
        ForwardBody {
            prefix: (!b.is_empty()).then_some(b),
            rest: None,
        }
    }
}

impl Body for ForwardBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        if let Some(b) = self.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        match self.rest.as_mut() {
            Some(r) => Pin::new(r).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.rest.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        let p = self.prefix.as_ref().map_or(0, |b| b.len() as u64);
        match &self.rest {
            None => SizeHint::with_exact(p),
            Some(r) => {
                let h = r.size_hint();
                let mut s = SizeHint::new();
                s.set_lower(h.lower() + p);
                if let Some(u) = h.upper() {
                    s.set_upper(u + p);
                }
                s
            }
        }
    }
}

/// The body of a response to the client: a local reply or the upstream's body.
pub type ProxyBody = Either<Full<Bytes>, Incoming>;

/// State of one downstream connection.
struct ConnState {
    proxy: Arc<HttpProxy>,
    conn: ConnInfo,
    /// The upstream connection, kept between requests.
    upstream: Mutex<Option<SendRequest<ForwardBody>>>,
}

/// The per-connection service: checks each request and forwards the allowed ones. A tower
/// [`Service`](tower::Service) (and a hyper one); [`HttpProxy::serve_connection`] builds it.
#[derive(Clone)]
pub struct ProxyService {
    conn: Arc<ConnState>,
}

impl std::fmt::Debug for ProxyService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyService")
            .field("conn", &self.conn.conn)
            .finish_non_exhaustive()
    }
}

/// The future of one request: ready at once for most denials, boxed otherwise.
pub struct ProxyFuture(FutureState);

enum FutureState {
    Ready(Option<Response<ProxyBody>>),
    Boxed(Pin<Box<dyn Future<Output = Response<ProxyBody>> + Send>>),
}

impl std::fmt::Debug for ProxyFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProxyFuture")
    }
}

impl Future for ProxyFuture {
    type Output = Result<Response<ProxyBody>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.get_mut().0 {
            FutureState::Ready(r) => match r.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => Poll::Pending,
            },
            FutureState::Boxed(f) => f.as_mut().poll(cx).map(Ok),
        }
    }
}

impl ProxyService {
    fn start(&self, req: Request<Incoming>) -> ProxyFuture {
        let conn = Arc::clone(&self.conn);
        ProxyFuture(match conn.prepare(req) {
            Step::Done(r) => FutureState::Ready(Some(r)),
            Step::Drain(ex, body, expects) => {
                FutureState::Boxed(Box::pin(conn.drain(ex, body, expects)))
            }
            Step::ReadThenForward(ex, parts, body) => {
                FutureState::Boxed(Box::pin(conn.read_then_forward(ex, parts, body)))
            }
            Step::Forward(ex, req) => FutureState::Boxed(Box::pin(conn.forward(ex, req))),
        })
    }
}

impl tower::Service<Request<Incoming>> for ProxyService {
    type Response = Response<ProxyBody>;
    type Error = Infallible;
    type Future = ProxyFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Incoming>) -> ProxyFuture {
        self.start(req)
    }
}

impl hyper::service::Service<Request<Incoming>> for ProxyService {
    type Response = Response<ProxyBody>;
    type Error = Infallible;
    type Future = ProxyFuture;

    fn call(&self, req: Request<Incoming>) -> ProxyFuture {
        self.start(req)
    }
}

/// Header access for the rules over hyper's map.
struct MapHeaders<'a>(&'a HeaderMap);

impl HeaderLookup for MapHeaders<'_> {
    fn any_value(&self, name: &str, f: &mut dyn FnMut(&[u8]) -> bool) -> bool {
        self.0.get_all(name).iter().any(|v| f(v.as_bytes()))
    }
}

/// What reading a request body gave.
enum ReadBody {
    /// The whole body.
    Full(Bytes),
    /// The first part; the rest is still to come.
    Partial(Bytes, Incoming),
    /// The body was malformed or cut.
    Broken,
}

async fn read_body(mut body: Incoming, limit: usize) -> ReadBody {
    if body.is_end_stream() {
        return ReadBody::Full(Bytes::new());
    }
    let mut acc = BytesMut::new();
    let mut first: Option<Bytes> = None;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return ReadBody::Broken;
        };
        // Trailers are dropped (the body is forwarded with a length).
        let Ok(data) = frame.into_data() else {
            continue;
        };
        match first.take() {
            None if acc.is_empty() => first = Some(data),
            None => acc.extend_from_slice(&data),
            Some(f) => {
                acc.extend_from_slice(&f);
                acc.extend_from_slice(&data);
            }
        }
        let len = first.as_ref().map_or(acc.len(), Bytes::len);
        if len > limit && !body.is_end_stream() {
            return ReadBody::Partial(first.unwrap_or_else(|| acc.freeze()), body);
        }
    }
    ReadBody::Full(first.unwrap_or_else(|| acc.freeze()))
}

fn is_hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
    )
}

/// Removes hop-by-hop headers (RFC 9110 §7.6.1) and the ones named in `Connection`.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages have none: one pass over the names instead of a lookup per name.
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    let hop: Vec<HeaderName> = headers
        .keys()
        .filter(|k| is_hop_by_hop(k))
        .cloned()
        .collect();
    for n in hop {
        headers.remove(n);
    }
}

fn apply_edits(headers: &mut HeaderMap, edits: &[HeaderEdit]) {
    for e in edits {
        match e {
            HeaderEdit::Append { name, value } | HeaderEdit::Set { name, value } => {
                let (Ok(n), Ok(v)) = (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(value),
                ) else {
                    continue;
                };
                if matches!(e, HeaderEdit::Set { .. }) {
                    headers.insert(n, v);
                } else {
                    headers.append(n, v);
                }
            }
            HeaderEdit::Remove { name } => {
                if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
                    headers.remove(n);
                }
            }
        }
    }
}

fn record_headers(headers: &HeaderMap) -> Vec<HttpHeader> {
    headers
        .iter()
        .map(|(k, v)| HttpHeader {
            key: k.as_str().to_owned(),
            value: String::from_utf8_lossy(v.as_bytes()).into_owned(),
        })
        .collect()
}

fn local_reply(status: StatusCode, body: &'static str, close: bool) -> Response<ProxyBody> {
    let mut r = Response::new(Either::Left(Full::new(Bytes::from_static(body.as_bytes()))));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    if close {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    r
}

/// The parts of a request the records need, owned.
struct RecordInfo {
    method: String,
    url: String,
    protocol: &'static str,
}

impl RecordInfo {
    fn http(&self, code: u16, headers: Vec<HttpHeader>) -> Http {
        Http {
            code: u32::from(code),
            method: self.method.clone(),
            url: self.url.clone(),
            protocol: self.protocol.to_owned(),
            headers,
        }
    }
}

/// What the records of one request need, kept from its head to its response.
struct Exchange {
    started: Instant,
    start_unix: i64,
    resolved: Option<Resolved>,
    info: RecordInfo,
}

/// Where a request goes after its synchronous part.
enum Step {
    /// Answered.
    Done(Response<ProxyBody>),
    /// Denied with a body to drain first.
    Drain(Exchange, Incoming, bool),
    /// Allowed, with a body to read before forwarding.
    ReadThenForward(Exchange, http::request::Parts, Incoming),
    /// Allowed, without a body: forward.
    Forward(Exchange, Request<ForwardBody>),
}

impl ConnState {
    fn emit(&self, ex: &Exchange, kind: L7FlowType, verdict: FlowVerdict, http: Http) {
        let latency = if kind == L7FlowType::Response {
            elapsed_ns(ex.started)
        } else {
            0
        };
        self.proxy.emit(
            &self.conn,
            ex.resolved.as_ref(),
            ex.start_unix,
            kind,
            verdict,
            latency,
            http,
        );
    }

    /// A malformed or unsupported request: records and a local reply that closes.
    fn reject(
        &self,
        ex: &Exchange,
        status: StatusCode,
        body: &'static str,
        headers: &HeaderMap,
    ) -> Response<ProxyBody> {
        bump(&self.proxy.counters.rejected);
        let req = ex.info.http(0, record_headers(headers));
        self.emit(ex, L7FlowType::Request, FlowVerdict::Error, req);
        let resp = ex.info.http(status.as_u16(), Vec::new());
        self.emit(ex, L7FlowType::Response, FlowVerdict::Error, resp);
        local_reply(status, body, true)
    }

    fn deny(&self, ex: &Exchange, close: bool) -> Response<ProxyBody> {
        let resp = ex.info.http(403, Vec::new());
        self.emit(ex, L7FlowType::Response, FlowVerdict::Dropped, resp);
        local_reply(StatusCode::FORBIDDEN, ACCESS_DENIED_BODY, close)
    }

    /// The synchronous part of a request: target, policy, verdict, and (when allowed) the
    /// request as the upstream gets it. Most requests need no allocation beyond this.
    fn prepare(&self, req: Request<Incoming>) -> Step {
        let started = Instant::now();
        let proxy = &*self.proxy;
        let (mut parts, body) = req.into_parts();
        let protocol = if parts.version == http::Version::HTTP_10 {
            "HTTP/1.0"
        } else {
            "HTTP/1.1"
        };
        let authority = parts.uri.authority().map(|a| a.as_str().to_owned());
        let host = match &authority {
            Some(a) => a.clone(),
            None => match parts.headers.get(header::HOST).map(HeaderValue::to_str) {
                Some(Ok(h)) => h.to_owned(),
                Some(Err(_)) => String::new(),
                None => self.conn.server.to_string(),
            },
        };
        let target = parts.uri.path_and_query().map_or("/", |pq| pq.as_str());
        let normalized = normalize_target(target);
        let path = match &normalized {
            Ok(p) => p.as_ref(),
            Err(_) => target,
        };
        let snapshot = Arc::clone(&proxy.policy.borrow());
        let (resolved, policies) = match snapshot.policies(proxy.config.direction, &self.conn) {
            Some((r, list)) => (Some(r), Some(list)),
            None => (None, None),
        };
        let ex = Exchange {
            started,
            start_unix: unix_now(),
            resolved,
            info: RecordInfo {
                method: parts.method.as_str().to_owned(),
                url: ["http://", host.as_str(), path].concat(),
                protocol,
            },
        };
        if parts.method == Method::CONNECT {
            let r = self.reject(
                &ex,
                StatusCode::NOT_IMPLEMENTED,
                "CONNECT is not proxied\r\n",
                &parts.headers,
            );
            return Step::Done(r);
        }
        let normalized = match normalized {
            Ok(n) => n,
            Err(_) => {
                let r = self.reject(
                    &ex,
                    StatusCode::BAD_REQUEST,
                    "Bad request target\r\n",
                    &parts.headers,
                );
                return Step::Done(r);
            }
        };
        let verdict = match &policies {
            Some(list) => check(
                list,
                &RequestView {
                    method: parts.method.as_str(),
                    path: &normalized,
                    host: &host,
                    headers: &MapHeaders(&parts.headers),
                },
            ),
            None => Verdict::deny(),
        };
        // Owned from here on: the URI is about to change.
        let new_target = match normalized {
            std::borrow::Cow::Owned(s) => Some(s),
            std::borrow::Cow::Borrowed(_) => None,
        };

        if !verdict.allowed {
            bump(&proxy.counters.denied);
            let req = ex.info.http(0, record_headers(&parts.headers));
            self.emit(&ex, L7FlowType::Request, FlowVerdict::Dropped, req);
            if body.is_end_stream() {
                return Step::Done(self.deny(&ex, false));
            }
            // Read (and drop) a small body so the connection stays usable; not when the
            // client waits for `100 Continue` before sending it.
            let expects = parts.headers.contains_key(header::EXPECT);
            return Step::Drain(ex, body, expects);
        }

        // The request as the upstream gets it.
        if new_target.is_some() || authority.is_some() {
            let t = new_target.as_deref().unwrap_or(target_of(&parts.uri));
            match Uri::try_from(t) {
                Ok(u) => parts.uri = u,
                Err(_) => {
                    let r = self.reject(
                        &ex,
                        StatusCode::BAD_REQUEST,
                        "Bad request target\r\n",
                        &parts.headers,
                    );
                    return Step::Done(r);
                }
            }
        }
        parts.version = http::Version::HTTP_11;
        strip_hop_by_hop(&mut parts.headers);
        if (authority.is_some() || !parts.headers.contains_key(header::HOST))
            && let Ok(v) = HeaderValue::from_str(&host)
        {
            parts.headers.insert(header::HOST, v);
        }
        apply_edits(&mut parts.headers, &verdict.edits);
        if let Some(log) = &proxy.mismatch_log {
            for m in &verdict.mismatches {
                log(&self.conn, m);
            }
        }
        if body.is_end_stream() {
            self.forwarding(&ex, &parts.headers);
            return Step::Forward(
                ex,
                Request::from_parts(parts, ForwardBody::full(Bytes::new())),
            );
        }
        Step::ReadThenForward(ex, parts, body)
    }

    /// Counts and records a request about to be forwarded.
    fn forwarding(&self, ex: &Exchange, headers: &HeaderMap) {
        bump(&self.proxy.counters.allowed);
        let req = ex.info.http(0, record_headers(headers));
        self.emit(ex, L7FlowType::Request, FlowVerdict::Forwarded, req);
    }

    async fn drain(
        self: Arc<Self>,
        ex: Exchange,
        body: Incoming,
        expects: bool,
    ) -> Response<ProxyBody> {
        let close = expects
            || !matches!(
                read_body(body, self.proxy.config.max_buffered_body).await,
                ReadBody::Full(_)
            );
        self.deny(&ex, close)
    }

    async fn read_then_forward(
        self: Arc<Self>,
        ex: Exchange,
        parts: http::request::Parts,
        body: Incoming,
    ) -> Response<ProxyBody> {
        let body = match read_body(body, self.proxy.config.max_buffered_body).await {
            ReadBody::Full(b) => ForwardBody::full(b),
            ReadBody::Partial(p, rest) => ForwardBody {
                prefix: Some(p),
                rest: Some(rest),
            },
            ReadBody::Broken => {
                return self.reject(
                    &ex,
                    StatusCode::BAD_REQUEST,
                    "Bad request body\r\n",
                    &parts.headers,
                );
            }
        };
        self.forwarding(&ex, &parts.headers);
        self.forward(ex, Request::from_parts(parts, body)).await
    }

    async fn forward(
        self: Arc<Self>,
        ex: Exchange,
        req: Request<ForwardBody>,
    ) -> Response<ProxyBody> {
        let response = match self.send(req, ex.resolved.as_ref()).await {
            Ok(r) => r,
            Err(status) => {
                bump(&self.proxy.counters.upstream_errors);
                let resp = ex.info.http(status.as_u16(), Vec::new());
                self.emit(&ex, L7FlowType::Response, FlowVerdict::Error, resp);
                let body = if status == StatusCode::BAD_REQUEST {
                    "Bad request body\r\n"
                } else {
                    "Upstream unavailable\r\n"
                };
                return local_reply(status, body, true);
            }
        };
        let (mut rparts, rbody) = response.into_parts();
        strip_hop_by_hop(&mut rparts.headers);
        let resp = ex
            .info
            .http(rparts.status.as_u16(), record_headers(&rparts.headers));
        self.emit(&ex, L7FlowType::Response, FlowVerdict::Forwarded, resp);
        Response::from_parts(rparts, Either::Right(rbody))
    }

    /// Sends `req` on the kept upstream connection (opening one when there is none, and once
    /// more when the kept one turned out closed before the request went out).
    async fn send(
        &self,
        req: Request<ForwardBody>,
        resolved: Option<&Resolved>,
    ) -> Result<Response<Incoming>, StatusCode> {
        let kept = self.upstream.lock().map_or(None, |mut u| u.take());
        let mut req = req;
        let mut sender = match kept {
            Some(mut s) => match s.ready().await {
                Ok(()) => s,
                Err(_) => Box::pin(self.connect(resolved)).await?,
            },
            None => Box::pin(self.connect(resolved)).await?,
        };
        let mut fresh_retry = true;
        loop {
            match sender.try_send_request(req).await {
                Ok(resp) => {
                    if let Ok(mut u) = self.upstream.lock() {
                        *u = Some(sender);
                    }
                    return Ok(resp);
                }
                Err(mut e) => match e.take_message() {
                    Some(r) if fresh_retry => {
                        fresh_retry = false;
                        req = r;
                        sender = Box::pin(self.connect(resolved)).await?;
                    }
                    _ => {
                        let err = e.into_error();
                        // A request body that broke while streaming is the client's fault.
                        return Err(if err.is_user() || err.is_body_write_aborted() {
                            StatusCode::BAD_REQUEST
                        } else {
                            StatusCode::BAD_GATEWAY
                        });
                    }
                },
            }
        }
    }

    async fn connect(
        &self,
        resolved: Option<&Resolved>,
    ) -> Result<SendRequest<ForwardBody>, StatusCode> {
        let proxy = &*self.proxy;
        let mark = match resolved {
            Some(r) if proxy.config.mark_upstream => cilium_maps::abi::proxy_upstream_mark(
                r.source_identity.0,
                proxy.config.direction == Direction::Ingress,
            ),
            _ => None,
        };
        let stream = transparent::connect_marked(self.conn.server, mark)
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        bump(&proxy.counters.upstream_connections);
        let (sender, conn) = hyper::client::conn::http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }
}

/// The path and query of `uri` (`/` when it has none).
fn target_of(uri: &Uri) -> &str {
    uri.path_and_query().map_or("/", |pq| pq.as_str())
}

/// Wall-clock nanoseconds since the Unix epoch.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

fn elapsed_ns(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX)
}
