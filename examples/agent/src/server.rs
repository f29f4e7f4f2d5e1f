//! The local API: HTTP/1.1 with JSON bodies on a unix socket (hyper), the routes of
//! [`cilium_agent_api::routes`].

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use cilium_agent_api as api;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::UnixListener;

use crate::agent::{ApiError, State};
use crate::daemon::Shared;

type Reply = Result<Vec<u8>, ApiError>;

fn json<T: Serialize>(v: &T) -> Reply {
    serde_json::to_vec(v).map_err(|e| ApiError::internal(e.to_string()))
}

fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad(format!("{what}: {e}")))
}

/// Binds the socket (replacing a stale one) with mode 0600 and serves until the runtime ends.
///
/// # Errors
///
/// The socket cannot be created.
pub fn bind(path: &Path) -> std::io::Result<UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let _ = std::fs::remove_file(path);
    let l = UnixListener::bind(path)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(l)
}

/// Accepts connections on `listener` and answers them.
pub async fn serve(listener: UnixListener, shared: Arc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let svc = hyper::service::service_fn(move |req| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(req, shared).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await;
        });
    }
}

async fn handle(req: Request<Incoming>, shared: Arc<Shared>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(e) => return error(ApiError::bad(format!("body: {e}"))),
    };
    let reply = tokio::task::spawn_blocking(move || route(&method, &path, &body, &shared))
        .await
        .unwrap_or_else(|e| Err(ApiError::internal(format!("handler failed: {e}"))));
    match reply {
        Ok(bytes) => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .expect("valid response"),
        Err(e) => error(e),
    }
}

fn error(e: ApiError) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec(&api::ApiErrorBody { message: e.message }).expect("json");
    Response::builder()
        .status(StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}

fn with<T>(shared: &Shared, f: impl FnOnce(&mut State) -> T) -> T {
    f(&mut shared.lock())
}

fn route(method: &Method, path: &str, body: &[u8], shared: &Shared) -> Reply {
    use api::routes::*;
    match (method.as_str(), path) {
        ("GET", HEALTHZ) => json(&shared.status()),
        ("POST", IPAM) => {
            let owner: api::Attachment = parse(body, "attachment")?;
            if owner.container_id.is_empty() || owner.ifname.is_empty() {
                return Err(ApiError::bad("containerID and ifname are required"));
            }
            with(shared, |s| {
                if !s.ready {
                    return Err(ApiError::unavailable("agent is starting"));
                }
                let ip = s
                    .ipam
                    .allocate(&owner)
                    .map_err(|e| ApiError::unavailable(e.to_string()))?;
                json(&api::IpamLease {
                    owner: owner.clone(),
                    ip: ip.to_string(),
                    prefix_len: 32,
                    gateway: api::GATEWAY.into(),
                    pool: s.ipam.cidr().to_owned(),
                })
            })
        }
        ("PUT", ENDPOINT) => {
            let req: api::EndpointRequest = parse(body, "endpoint request")?;
            with(shared, |s| s.add_endpoint(req)).and_then(|e| json(&e))
        }
        ("GET", ENDPOINT) => with(shared, |s| {
            json(&s.endpoints.values().map(|e| e.to_api()).collect::<Vec<_>>())
        }),
        ("POST", GC) => {
            let req: api::GcRequest = parse(body, "gc request")?;
            json(&with(shared, |s| s.gc(&req.valid)))
        }
        ("GET", IDENTITY) => json(&with(shared, |s| s.identities())),
        ("GET", SERVICE) => json(&with(shared, |s| s.services())),
        ("GET", POLICY) => json(&with(shared, |s| s.policy_info())),
        ("PUT", POLICY) => {
            let text: api::PolicyText = parse(body, "policy")?;
            with(shared, |s| s.import_policy(&text)).and_then(|p| json(&p))
        }
        ("POST", POLICY_VALIDATE) => {
            let text: api::PolicyText = parse(body, "policy")?;
            json(&validate(&text))
        }
        ("POST", POLICY_TRACE) => {
            let req: api::TraceRequest = parse(body, "trace request")?;
            with(shared, |s| s.trace(&req)).and_then(|t| json(&t))
        }
        ("GET", IPCACHE) => with(shared, |s| s.ipcache()).and_then(|v| json(&v)),
        ("GET", FQDN_CACHE) => json(&shared.fqdn_entries()),
        ("GET", METRICS) => json(&shared.metrics_list()),
        (m, p) if p.starts_with(ENDPOINT_ID) && m == "GET" => {
            let id = id_of(&p[ENDPOINT_ID.len()..], "endpoint id")?;
            with(shared, |s| {
                s.endpoints
                    .get(&id)
                    .map(|e| e.to_api())
                    .ok_or_else(|| ApiError::not_found(format!("endpoint {id} not found")))
            })
            .and_then(|e| json(&e))
        }
        (m, p) if p.starts_with(ATTACHMENT) => {
            let rest = &p[ATTACHMENT.len()..];
            let (cid, ifname) = rest
                .split_once('/')
                .and_then(|(c, i)| Some((api::decode_segment(c)?, api::decode_segment(i)?)))
                .ok_or_else(|| {
                    ApiError::bad(format!("{p}: want {ATTACHMENT}<containerID>/<ifname>"))
                })?;
            let a = api::Attachment {
                container_id: cid,
                ifname,
            };
            match m {
                "GET" => with(shared, |s| {
                    s.endpoint_of(&a).map(|e| e.to_api()).ok_or_else(|| {
                        ApiError::not_found(format!(
                            "no endpoint for attachment {}/{}",
                            a.container_id, a.ifname
                        ))
                    })
                })
                .and_then(|e| json(&e)),
                "DELETE" => json(&with(shared, |s| s.delete_attachment(&a))),
                _ => Err(ApiError {
                    status: 405,
                    message: format!("{m} {p}: method not allowed"),
                }),
            }
        }
        (m, p) if p.starts_with(BPF_POLICY) && m == "GET" => {
            let id = id_of(&p[BPF_POLICY.len()..], "endpoint id")?;
            with(shared, |s| s.bpf_policy(id)).and_then(|v| json(&v))
        }
        (m, p) if p.starts_with(IDENTITY) && m == "GET" => {
            let id: u32 = p[IDENTITY.len()..]
                .trim_start_matches('/')
                .parse()
                .map_err(|_| ApiError::bad(format!("{p}: identity is not a number")))?;
            with(shared, |s| {
                s.identities()
                    .into_iter()
                    .find(|i| i.id == id)
                    .ok_or_else(|| ApiError::not_found(format!("identity {id} not found")))
            })
            .and_then(|i| json(&i))
        }
        (m, p) => Err(ApiError::not_found(format!("{m} {p}: no such route"))),
    }
}

fn id_of(s: &str, what: &str) -> Result<u16, ApiError> {
    s.parse()
        .map_err(|_| ApiError::bad(format!("{what}: {s:?} is not a number")))
}

/// Parses and compiles policy text without applying it.
pub fn validate(text: &api::PolicyText) -> api::Validation {
    let name = text.source.clone().unwrap_or_else(|| "policy".into());
    match cilium_policy::compile_text(&text.text, &cilium_policy::CompileOptions::default()) {
        Ok(rules) => api::Validation {
            ok: true,
            rules: rules.len(),
            errors: Vec::new(),
        },
        Err(e) => api::Validation {
            ok: false,
            rules: 0,
            errors: e.0.iter().map(|e| format!("{name}: {e}")).collect(),
        },
    }
}
