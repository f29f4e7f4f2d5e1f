//! The Kafka proxy: takes the TCP connections the datapath redirects to its transparent
//! listener, checks every request frame against the L7 policy of the moment, forwards allowed
//! frames to the original destination and answers denied ones itself with the API's
//! authorization error ([`crate::kafka::Refusal`]).
//!
//! Per connection, two halves run concurrently:
//!
//! - the request half reads frames from the client, parses them ([`crate::kafka`]), reads the
//!   latest [`PolicySnapshot`] from the watch channel (a policy change applies to the next
//!   request), writes allowed frames upstream and queues, in request order, what the client
//!   is owed: "the upstream's next response" or "this refusal";
//! - the response half takes that queue in order: it writes a refusal as soon as everything
//!   before it has been written, and relays the upstream's responses (checking each one's
//!   correlation id against the request it answers). So the client gets its responses in
//!   request order even when refused requests sit between forwarded ones in flight.
//!
//! A Produce with `acks = 0` has no response: an allowed one only goes upstream; a denied one
//! closes the connection after the responses owed before it, which is what a broker does
//! when such a produce fails. A request whose refusal cannot be built (see
//! [`crate::kafka::RefusalError`]) closes the connection the same way. A malformed frame
//! closes the connection with an error record. Upstream responses are streamed through (only
//! their first bytes are held, for the correlation id and the error code), so their size is
//! not bounded by `max_frame_bytes`, which bounds requests.
//!
//! Records: one L7 request record per topic of the request (one with an empty topic when it
//! names none) with the verdict, and one response record per topic with the error code and
//! the latency; `ERROR` records for malformed frames and failed upstreams.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use cilium_core::Protocol;
use cilium_hubble::proto::flow::{Kafka, L7FlowType, TrafficDirection, Verdict, layer7};
use cilium_policy::Direction;
use cilium_policy::l7::L7Request;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::kafka::{
    DEFAULT_MAX_FRAME_BYTES, INVALID_REQUEST, KafkaError, RequestHeader, api_key_name, frame_len,
    parse_header, parse_request, response_correlation_id, response_error_code,
};
use crate::policy::{ConnInfo, PolicySnapshot, Resolved};
use crate::records::{L7Record, RecordSink};
use crate::transparent;

/// How many bytes of a response are held to read its error code; the rest streams through.
const RESPONSE_PREFIX: usize = 256;

/// Configuration of a [`KafkaProxy`].
#[derive(Debug, Clone)]
pub struct KafkaProxyConfig {
    /// Which redirect this proxy serves: egress (the local endpoint is the client) or ingress
    /// (the local endpoint is the server).
    pub direction: Direction,
    /// The largest request frame, size prefix included; a larger one closes the connection.
    pub max_frame_bytes: usize,
    /// Requests read ahead of their responses on one connection (denied ones included); the
    /// client is not read while that many are outstanding.
    pub max_in_flight: usize,
    /// Whether upstream connections carry the source identity in their mark
    /// (`cilium_maps::abi::proxy_upstream_mark`; needs `CAP_NET_ADMIN`). Off only for tests
    /// without privileges or a datapath.
    pub mark_upstream: bool,
}

impl KafkaProxyConfig {
    /// Defaults for `direction`: 16 MiB frames, 64 requests in flight, marked upstreams.
    pub fn new(direction: Direction) -> KafkaProxyConfig {
        KafkaProxyConfig {
            direction,
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_in_flight: 64,
            mark_upstream: true,
        }
    }
}

/// Why a connection ended other than by the client closing it.
#[derive(Debug, thiserror::Error)]
pub enum KafkaProxyError {
    /// Reading from or writing to the client or the upstream failed.
    #[error("{side} i/o")]
    Io {
        /// `client` or `upstream`.
        side: &'static str,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// Connecting to the original destination failed.
    #[error("connecting to {server}")]
    Connect {
        /// The original destination.
        server: SocketAddr,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The client sent a frame that does not parse.
    #[error("malformed request frame")]
    Malformed(#[source] KafkaError),
    /// The upstream closed or broke the framing while a response was owed.
    #[error("upstream response to correlation id {correlation_id}: {what}")]
    Upstream {
        /// The request's correlation id.
        correlation_id: i32,
        /// What went wrong.
        what: String,
    },
    /// A denied request with no response to give (acks=0 produce, or no refusal built): the
    /// connection is closed, as a broker closes it after a failed acks=0 produce.
    #[error(
        "denied request (api key {api_key}, correlation id {correlation_id}) closed the connection: {why}"
    )]
    ClosedOnDenial {
        /// API key.
        api_key: i16,
        /// Correlation id.
        correlation_id: i32,
        /// Why no refusal was sent.
        why: String,
    },
}

/// The Kafka proxy.
pub struct KafkaProxy {
    config: KafkaProxyConfig,
    policy: watch::Receiver<Arc<PolicySnapshot>>,
    records: Arc<dyn RecordSink>,
}

impl std::fmt::Debug for KafkaProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProxy")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What the client is owed next, in request order.
enum Owed {
    /// The upstream connection's read half (sent once, before the first forwarded request).
    Upstream(OwnedReadHalf),
    /// The upstream's next response.
    Forwarded(Pending),
    /// A refusal frame with its error code.
    Refused(Pending, Vec<u8>, i16),
    /// Close the connection after what precedes.
    Close,
}

/// A request waiting for its response to be written.
struct Pending {
    header: RequestHeader,
    topics: Vec<String>,
    resolved: Option<Resolved>,
    start: Instant,
}

/// The fields every record of a connection shares.
#[derive(Clone, Copy)]
struct RecordCtx {
    conn: ConnInfo,
    direction: Direction,
}

impl KafkaProxy {
    /// A proxy enforcing the snapshots `policy` publishes, sending records to `records`.
    pub fn new(
        config: KafkaProxyConfig,
        policy: watch::Receiver<Arc<PolicySnapshot>>,
        records: Arc<dyn RecordSink>,
    ) -> KafkaProxy {
        KafkaProxy {
            config,
            policy,
            records,
        }
    }

    /// Accepts connections on `listener` (a transparent listener, see
    /// [`transparent::tcp_listener`]: an accepted socket's local address is the original
    /// destination) and serves each on its own task. Returns only on an accept error.
    ///
    /// # Errors
    ///
    /// The accept error.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> io::Result<()> {
        loop {
            let (stream, client) = listener.accept().await?;
            let server = match stream.local_addr() {
                Ok(a) => a,
                Err(_) => continue,
            };
            let conn = ConnInfo {
                client,
                server,
                protocol: Protocol::Tcp,
            };
            let proxy = Arc::clone(&self);
            tokio::spawn(async move {
                // Every outcome is already in the records.
                let _ = proxy.serve_connection(stream, conn).await;
            });
        }
    }

    /// Serves one redirected connection until the client closes it (`Ok`) or the connection
    /// has to be closed (`Err`: malformed frame, upstream failure, denied request without a
    /// response).
    ///
    /// # Errors
    ///
    /// [`KafkaProxyError`] saying why the connection was closed.
    pub async fn serve_connection(
        self: Arc<Self>,
        stream: TcpStream,
        conn: ConnInfo,
    ) -> Result<(), KafkaProxyError> {
        let _ = stream.set_nodelay(true);
        let (client_rd, client_wr) = stream.into_split();
        let (tx, rx) = mpsc::channel(self.config.max_in_flight.max(1));
        let ctx = RecordCtx {
            conn,
            direction: self.config.direction,
        };
        let requests = self.read_requests(client_rd, tx, ctx);
        let responses = self.write_responses(client_wr, rx, ctx);
        tokio::pin!(requests, responses);
        tokio::select! {
            r = &mut requests => {
                let w = responses.await;
                r.and(w)
            }
            // The response half ended first: the upstream failed or a close was owed; the
            // request half (and its sockets) is dropped.
            w = &mut responses => w,
        }
    }

    async fn read_requests(
        &self,
        mut client: OwnedReadHalf,
        tx: mpsc::Sender<Owed>,
        ctx: RecordCtx,
    ) -> Result<(), KafkaProxyError> {
        let max = self.config.max_frame_bytes;
        let mut upstream: Option<OwnedWriteHalf> = None;
        let result = loop {
            let frame = match read_frame(&mut client, max).await {
                Ok(Some(f)) => f,
                Ok(None) => break Ok(()),
                Err(FrameError::Io(e)) => {
                    break Err(KafkaProxyError::Io {
                        side: "client",
                        source: e,
                    });
                }
                Err(FrameError::Kafka(e, head)) => {
                    self.error_record(ctx, parse_header(&head).ok().map(|h| h.0), None);
                    let _ = tx.send(Owed::Close).await;
                    break Err(KafkaProxyError::Malformed(e));
                }
            };
            let req = match parse_request(&frame, max) {
                Ok(r) => r,
                Err(e) => {
                    self.error_record(ctx, parse_header(&frame).ok().map(|h| h.0), None);
                    let _ = tx.send(Owed::Close).await;
                    break Err(KafkaProxyError::Malformed(e));
                }
            };
            let start = Instant::now();
            let snapshot = Arc::clone(&self.policy.borrow());
            let (resolved, allowed) = snapshot.allows(
                ctx.direction,
                &ctx.conn,
                &L7Request::Kafka(req.to_policy_request()),
            );
            let pending = Pending {
                topics: req.topics().iter().map(ToString::to_string).collect(),
                header: req.header.clone(),
                resolved,
                start,
            };
            let verdict = if allowed {
                Verdict::Forwarded
            } else {
                Verdict::Dropped
            };
            self.records_for(ctx, &pending, L7FlowType::Request, verdict, 0, 0);
            if !allowed {
                match req.refusal() {
                    Ok(r) => {
                        if tx
                            .send(Owed::Refused(pending, r.frame, r.error_code))
                            .await
                            .is_err()
                        {
                            break Ok(());
                        }
                        continue;
                    }
                    Err(e) => {
                        let _ = tx.send(Owed::Close).await;
                        break Err(KafkaProxyError::ClosedOnDenial {
                            api_key: req.header.api_key,
                            correlation_id: req.header.correlation_id,
                            why: e.to_string(),
                        });
                    }
                }
            }
            if upstream.is_none() {
                let mark = if self.config.mark_upstream {
                    resolved.and_then(|r| {
                        cilium_maps::abi::proxy_upstream_mark(
                            r.source_identity.as_u32(),
                            ctx.direction == Direction::Ingress,
                        )
                    })
                } else {
                    None
                };
                match transparent::connect_marked(ctx.conn.server, mark).await {
                    Ok(s) => {
                        let (rd, wr) = s.into_split();
                        upstream = Some(wr);
                        if tx.send(Owed::Upstream(rd)).await.is_err() {
                            break Ok(());
                        }
                    }
                    Err(e) => {
                        self.error_record(ctx, Some(req.header.clone()), resolved);
                        let _ = tx.send(Owed::Close).await;
                        break Err(KafkaProxyError::Connect {
                            server: ctx.conn.server,
                            source: e,
                        });
                    }
                }
            }
            let Some(up) = upstream.as_mut() else {
                break Ok(());
            };
            if let Err(e) = up.write_all(&frame).await {
                self.error_record(ctx, Some(req.header.clone()), resolved);
                let _ = tx.send(Owed::Close).await;
                break Err(KafkaProxyError::Io {
                    side: "upstream",
                    source: e,
                });
            }
            if req.expects_response() && tx.send(Owed::Forwarded(pending)).await.is_err() {
                break Ok(());
            }
        };
        if let Some(mut up) = upstream {
            // The client is done sending: so are we (the upstream still answers what it got).
            let _ = up.shutdown().await;
        }
        result
    }

    async fn write_responses(
        &self,
        mut client: OwnedWriteHalf,
        mut rx: mpsc::Receiver<Owed>,
        ctx: RecordCtx,
    ) -> Result<(), KafkaProxyError> {
        let mut upstream: Option<BufReader<OwnedReadHalf>> = None;
        let client_err = |e| KafkaProxyError::Io {
            side: "client",
            source: e,
        };
        while let Some(owed) = rx.recv().await {
            match owed {
                Owed::Upstream(rd) => upstream = Some(BufReader::new(rd)),
                Owed::Close => break,
                Owed::Refused(p, frame, code) => {
                    client.write_all(&frame).await.map_err(client_err)?;
                    let latency = elapsed_ns(p.start);
                    self.records_for(
                        ctx,
                        &p,
                        L7FlowType::Response,
                        Verdict::Dropped,
                        code,
                        latency,
                    );
                }
                Owed::Forwarded(p) => {
                    let Some(up) = upstream.as_mut() else {
                        return Err(KafkaProxyError::Upstream {
                            correlation_id: p.header.correlation_id,
                            what: "no upstream connection".into(),
                        });
                    };
                    match relay_response(up, &mut client, &p.header).await {
                        Ok(code) => {
                            let latency = elapsed_ns(p.start);
                            let code = code.unwrap_or(0);
                            self.records_for(
                                ctx,
                                &p,
                                L7FlowType::Response,
                                Verdict::Forwarded,
                                code,
                                latency,
                            );
                        }
                        Err(e) => {
                            self.error_record(ctx, Some(p.header.clone()), p.resolved);
                            return Err(e);
                        }
                    }
                }
            }
        }
        let _ = client.shutdown().await;
        Ok(())
    }

    fn records_for(
        &self,
        ctx: RecordCtx,
        p: &Pending,
        kind: L7FlowType,
        verdict: Verdict,
        error_code: i16,
        latency_ns: u64,
    ) {
        let topics: &[String] = if p.topics.is_empty() {
            &[String::new()]
        } else {
            &p.topics
        };
        for topic in topics {
            self.records.record(record(
                ctx,
                p.resolved,
                kind,
                verdict,
                latency_ns,
                Kafka {
                    error_code: i32::from(error_code),
                    api_version: i32::from(p.header.api_version),
                    api_key: api_key_name(p.header.api_key).into_owned(),
                    correlation_id: p.header.correlation_id,
                    topic: topic.clone(),
                },
            ));
        }
    }

    fn error_record(
        &self,
        ctx: RecordCtx,
        header: Option<RequestHeader>,
        resolved: Option<Resolved>,
    ) {
        let resolved = resolved.or_else(|| self.policy.borrow().resolve(ctx.direction, &ctx.conn));
        let kafka = match header {
            Some(h) => Kafka {
                error_code: i32::from(INVALID_REQUEST),
                api_version: i32::from(h.api_version),
                api_key: api_key_name(h.api_key).into_owned(),
                correlation_id: h.correlation_id,
                topic: String::new(),
            },
            None => Kafka {
                error_code: i32::from(INVALID_REQUEST),
                ..Kafka::default()
            },
        };
        self.records.record(record(
            ctx,
            resolved,
            L7FlowType::Request,
            Verdict::Error,
            0,
            kafka,
        ));
    }
}

fn record(
    ctx: RecordCtx,
    resolved: Option<Resolved>,
    kind: L7FlowType,
    verdict: Verdict,
    latency_ns: u64,
    kafka: Kafka,
) -> L7Record {
    let time_unix_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
    L7Record {
        time_unix_ns,
        source: ctx.conn.client,
        destination: ctx.conn.server,
        protocol: 6,
        source_identity: resolved.map_or(0, |r| r.source_identity.as_u32()),
        destination_identity: resolved.map_or(0, |r| r.destination_identity.as_u32()),
        endpoint_id: resolved.map_or(0, |r| r.endpoint_id),
        direction: match ctx.direction {
            Direction::Ingress => TrafficDirection::Ingress,
            Direction::Egress => TrafficDirection::Egress,
        },
        kind,
        verdict,
        latency_ns,
        record: layer7::Record::Kafka(kafka),
    }
}

fn elapsed_ns(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

enum FrameError {
    Io(io::Error),
    /// The size prefix is refused; the bytes read so far (for the error record).
    Kafka(KafkaError, Vec<u8>),
}

/// Reads one request frame (size prefix included); `None` at a clean end of stream.
async fn read_frame<R: AsyncRead + Unpin>(
    rd: &mut R,
    max: usize,
) -> Result<Option<Vec<u8>>, FrameError> {
    let mut head = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match rd.read(&mut head[got..]).await {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => {
                return Err(FrameError::Kafka(
                    KafkaError::Truncated {
                        field: "size",
                        offset: 0,
                        needed: 4,
                        remaining: got,
                    },
                    head[..got].to_vec(),
                ));
            }
            Ok(n) => got += n,
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let len = match frame_len(&head, max) {
        Ok(Some(len)) => len,
        // Four bytes always are a size prefix; `None` cannot come back.
        Ok(None) => 4,
        Err(e) => return Err(FrameError::Kafka(e, head.to_vec())),
    };
    let mut frame = vec![0u8; len];
    frame[..4].copy_from_slice(&head);
    let mut filled = 4;
    while filled < len {
        match rd.read(&mut frame[filled..]).await {
            Ok(0) => {
                frame.truncate(filled);
                return Err(FrameError::Kafka(
                    KafkaError::FrameLength {
                        size: len - 4,
                        got: filled - 4,
                    },
                    frame,
                ));
            }
            Ok(n) => filled += n,
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    Ok(Some(frame))
}

/// Relays the upstream's next response to the client: checks its correlation id against
/// `req`, holds its first bytes for the error code, streams the rest.
async fn relay_response(
    up: &mut BufReader<OwnedReadHalf>,
    client: &mut OwnedWriteHalf,
    req: &RequestHeader,
) -> Result<Option<i16>, KafkaProxyError> {
    let upstream_err = |what: String| KafkaProxyError::Upstream {
        correlation_id: req.correlation_id,
        what,
    };
    let mut head = [0u8; 4];
    up.read_exact(&mut head)
        .await
        .map_err(|e| upstream_err(format!("reading the size: {e}")))?;
    let size = i32::from_be_bytes(head);
    let size = usize::try_from(size)
        .ok()
        .filter(|s| *s >= 4)
        .ok_or_else(|| upstream_err(format!("response size {size}")))?;
    let held = size.min(RESPONSE_PREFIX);
    let mut prefix = vec![0u8; 4 + held];
    prefix[..4].copy_from_slice(&head);
    up.read_exact(&mut prefix[4..])
        .await
        .map_err(|e| upstream_err(format!("reading the header: {e}")))?;
    let correlation_id =
        response_correlation_id(&prefix).map_err(|e| upstream_err(e.to_string()))?;
    if correlation_id != req.correlation_id {
        return Err(upstream_err(format!(
            "response carries correlation id {correlation_id}"
        )));
    }
    let code = response_error_code(req.api_key, req.api_version, &prefix);
    let client_err = |e| KafkaProxyError::Io {
        side: "client",
        source: e,
    };
    client.write_all(&prefix).await.map_err(client_err)?;
    let rest = (size - held) as u64;
    if rest > 0 {
        let copied = tokio::io::copy(&mut (&mut *up).take(rest), client)
            .await
            .map_err(client_err)?;
        if copied != rest {
            return Err(upstream_err(format!(
                "closed after {copied} of {rest} bytes of the response"
            )));
        }
    }
    Ok(code)
}
