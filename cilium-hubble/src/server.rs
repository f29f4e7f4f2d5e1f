//! The gRPC Observer service (Hubble's `observer.Observer`): `GetFlows`, `ServerStatus`,
//! `GetNodes`, over the [`Observer`] ring. An unmodified Hubble client can connect.
//!
//! `GetFlows` semantics:
//! - History first: of the flows in the ring that pass the filters (allowlist minus
//!   denylist) and lie within `since`/`until`, the last `number` (or the first `number` with
//!   `first`); `number` 0 means all of them, unless `follow` is set without `since`, which
//!   sends no history (like `hubble observe -f`).
//! - Then, with `follow`, every new flow that passes, until the client goes away or a flow
//!   is newer than `until`. A follower that is too slow does not hold anything up: it is
//!   lapped by the ring and told so with a `lost_events` response (`HUBBLE_RING_BUFFER`).
//! - Lost events recorded by the ingest path (datapath ring buffer, events queue) are sent
//!   to followers as `lost_events` responses, unfiltered.
//! - `first` with `follow` and invalid filters are `INVALID_ARGUMENT` errors that name the
//!   field.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::filter::FlowFilterSet;
use crate::observer::{Entry, Observer, Read};
use crate::proto::flow::{Flow, LostEvent, LostEventSource};
use crate::proto::observer::observer_server::{Observer as ObserverApi, ObserverServer};
use crate::proto::observer::{
    GetFlowsRequest, GetFlowsResponse, GetNodesRequest, GetNodesResponse, Node,
    ServerStatusRequest, ServerStatusResponse, Tls, get_flows_response,
};
use crate::proto::relay::NodeState;

/// Responses buffered per `GetFlows` stream before the sender waits for the client.
const STREAM_BUFFER: usize = 1024;

/// The Observer service over one ring.
#[derive(Debug, Clone)]
pub struct ObserverService {
    observer: Arc<Observer>,
    node_name: String,
    version: String,
    address: String,
    started: Instant,
}

impl ObserverService {
    /// A service for `observer`, answering as node `node_name`.
    pub fn new(observer: Arc<Observer>, node_name: impl Into<String>) -> Self {
        Self {
            observer,
            node_name: node_name.into(),
            version: format!("cilium-rs {}", env!("CARGO_PKG_VERSION")),
            address: String::new(),
            started: Instant::now(),
        }
    }

    /// The address `GetNodes` reports for this node.
    pub fn with_address(mut self, address: impl Into<String>) -> Self {
        self.address = address.into();
        self
    }

    /// The tonic service, to add to a `tonic::transport::Server` router.
    pub fn into_server(self) -> ObserverServer<Self> {
        ObserverServer::new(self)
    }

    fn uptime_ns(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn response(
        &self,
        r: get_flows_response::ResponseTypes,
        time: Option<pbjson_types::Timestamp>,
    ) -> GetFlowsResponse {
        GetFlowsResponse {
            response_types: Some(r),
            node_name: self.node_name.clone(),
            time,
        }
    }

    fn lost(&self, source: LostEventSource, n: u64) -> GetFlowsResponse {
        self.response(
            get_flows_response::ResponseTypes::LostEvents(LostEvent {
                source: source as i32,
                num_events_lost: n,
                cpu: None,
            }),
            Some(now_timestamp()),
        )
    }

    fn flow(&self, flow: &Flow) -> GetFlowsResponse {
        self.response(
            get_flows_response::ResponseTypes::Flow(flow.clone()),
            flow.time,
        )
    }
}

fn now_timestamp() -> pbjson_types::Timestamp {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    pbjson_types::Timestamp {
        seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        nanos: d.subsec_nanos() as i32,
    }
}

fn ts_key(t: Option<&pbjson_types::Timestamp>) -> (i64, i32) {
    t.map_or((0, 0), |t| (t.seconds, t.nanos))
}

/// What one `GetFlows` call selects.
struct Selection {
    filters: FlowFilterSet,
    since: Option<(i64, i32)>,
    until: Option<(i64, i32)>,
}

impl Selection {
    fn in_window(&self, flow: &Flow) -> bool {
        let t = ts_key(flow.time.as_ref());
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u)
    }

    fn past_until(&self, flow: &Flow) -> bool {
        self.until.is_some_and(|u| ts_key(flow.time.as_ref()) > u)
    }
}

#[tonic::async_trait]
impl ObserverApi for ObserverService {
    type GetFlowsStream = ReceiverStream<Result<GetFlowsResponse, Status>>;

    async fn get_flows(
        &self,
        request: Request<GetFlowsRequest>,
    ) -> Result<Response<Self::GetFlowsStream>, Status> {
        let req = request.into_inner();
        if req.first && req.follow {
            return Err(Status::invalid_argument(
                "first and follow cannot be combined (first reads from the oldest flow)",
            ));
        }
        let filters = FlowFilterSet::new(&req.whitelist, &req.blacklist)
            .map_err(|e| Status::invalid_argument(e.to_string()))?;
        let sel = Selection {
            filters,
            since: req.since.as_ref().map(|t| ts_key(Some(t))),
            until: req.until.as_ref().map(|t| ts_key(Some(t))),
        };
        let number = usize::try_from(req.number).unwrap_or(usize::MAX);
        let history_wanted = !(req.follow && req.number == 0 && req.since.is_none());

        // Read what is in the ring with a reader; the same reader then follows, so nothing
        // written in between is skipped or sent twice.
        let mut reader = self.observer.reader_at_start();
        let mut history: Vec<Arc<Entry>> = Vec::new();
        while let Some(read) = reader.try_next() {
            if let Read::Entry(e) = read
                && history_wanted
                && let Entry::Flow(f) = &*e
                && sel.in_window(f)
                && sel.filters.matches(f)
            {
                history.push(e);
            }
        }
        if number > 0 && history.len() > number {
            if req.first {
                history.truncate(number);
            } else {
                history.drain(..history.len() - number);
            }
        }

        let (tx, rx) = mpsc::channel(STREAM_BUFFER);
        let this = self.clone();
        tokio::spawn(async move {
            for e in &history {
                if let Entry::Flow(f) = &**e
                    && tx.send(Ok(this.flow(f))).await.is_err()
                {
                    return;
                }
            }
            if !req.follow {
                return;
            }
            loop {
                let read = tokio::select! {
                    read = reader.recv() => read,
                    () = tx.closed() => return,
                };
                let resp = match read {
                    Read::Missed(n) => this.lost(LostEventSource::HubbleRingBuffer, n),
                    Read::Entry(e) => match &*e {
                        Entry::Lost(l) => this.response(
                            get_flows_response::ResponseTypes::LostEvents(*l),
                            Some(now_timestamp()),
                        ),
                        Entry::Flow(f) => {
                            if sel.past_until(f) {
                                return;
                            }
                            if !sel.in_window(f) || !sel.filters.matches(f) {
                                continue;
                            }
                            this.flow(f)
                        }
                    },
                };
                if tx.send(Ok(resp)).await.is_err() {
                    return;
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_nodes(
        &self,
        _request: Request<GetNodesRequest>,
    ) -> Result<Response<GetNodesResponse>, Status> {
        let st = self.observer.status();
        Ok(Response::new(GetNodesResponse {
            nodes: vec![Node {
                name: self.node_name.clone(),
                version: self.version.clone(),
                address: self.address.clone(),
                state: NodeState::NodeConnected as i32,
                tls: Some(Tls {
                    enabled: false,
                    server_name: String::new(),
                }),
                uptime_ns: self.uptime_ns(),
                num_flows: st.num_flows,
                max_flows: st.max_flows,
                seen_flows: st.seen_flows,
            }],
        }))
    }

    async fn server_status(
        &self,
        _request: Request<ServerStatusRequest>,
    ) -> Result<Response<ServerStatusResponse>, Status> {
        let st = self.observer.status();
        Ok(Response::new(ServerStatusResponse {
            num_flows: st.num_flows,
            max_flows: st.max_flows,
            seen_flows: st.seen_flows,
            uptime_ns: self.uptime_ns(),
            num_connected_nodes: Some(pbjson_types::UInt32Value { value: 1 }),
            num_unavailable_nodes: Some(pbjson_types::UInt32Value { value: 0 }),
            unavailable_nodes: Vec::new(),
            version: self.version.clone(),
        }))
    }
}

/// Serves `service` on `listener` until `shutdown` completes.
pub async fn serve(
    service: ObserverService,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(service.into_server())
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            shutdown,
        )
        .await
}

/// Binds `addr` (e.g. `127.0.0.1:4245`, Hubble's gRPC port) and returns the listener and
/// the address actually bound (useful with port 0).
pub async fn bind(addr: SocketAddr) -> std::io::Result<(tokio::net::TcpListener, SocketAddr)> {
    let l = tokio::net::TcpListener::bind(addr).await?;
    let a = l.local_addr()?;
    Ok((l, a))
}
