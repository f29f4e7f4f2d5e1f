//! Reachability matrices: which pod may connect to which, on which protocol and port, under a
//! set of policies. The input is a model cluster (namespaces, pods with labels, IPs and
//! container ports) in the schema of the Kubernetes e2e truth tables; every cell is decided
//! by the real engine: the source's egress map state AND the destination's ingress map state,
//! looked up as the datapath looks them up.

use std::collections::{BTreeMap, BTreeSet};

use cilium_core::{Label, LabelSet, NumericIdentity, Protocol};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{PolicyErrors, parse_value};
use crate::compile::{CLUSTER_LABEL, NAMESPACE_LABELS_PREFIX, POD_NAMESPACE_LABEL};
use crate::engine::{
    EndpointInfo, EndpointPolicy, EngineConfig, NamedPortTable, PolicyEngine, ResolveError,
};
use crate::rule::Direction;

/// A namespace of the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespace {
    /// Name.
    pub name: String,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// A container port of a pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPort {
    /// Port number.
    pub container_port: u16,
    /// `TCP`, `UDP` or `SCTP`.
    #[serde(default = "tcp")]
    pub protocol: String,
    /// Port name, if any.
    #[serde(default)]
    pub port_name: Option<String>,
}

fn tcp() -> String {
    "TCP".into()
}

/// A pod of the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pod {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// IP address.
    #[serde(default)]
    pub ip: Option<String>,
    /// Container ports.
    #[serde(default)]
    pub containers: Vec<ContainerPort>,
}

impl Pod {
    /// `namespace/name`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

/// A model cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// Namespaces.
    pub namespaces: Vec<Namespace>,
    /// Pods.
    pub pods: Vec<Pod>,
}

/// Why a matrix cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatrixError {
    /// The JSON does not have the expected shape.
    #[error("{path}: {message}")]
    Shape {
        /// Where.
        path: String,
        /// What.
        message: String,
    },
    /// A policy is invalid.
    #[error("{path}: invalid policy:\n{errors}")]
    Policy {
        /// Which policy.
        path: String,
        /// Its problems.
        errors: PolicyErrors,
    },
    /// A pod's policy could not be resolved.
    #[error("pod {pod}: {error}")]
    Resolve {
        /// The pod.
        pod: String,
        /// The problem.
        error: Box<ResolveError>,
    },
}

/// The identity labels Cilium derives for a pod: pod labels, its namespace, the namespace's
/// labels and the cluster name.
pub fn pod_identity_labels(
    pod: &Pod,
    namespace_labels: &BTreeMap<String, String>,
    cluster: &str,
) -> LabelSet {
    let mut set = LabelSet::new();
    for (k, v) in &pod.labels {
        set.insert(Label::from_parts("k8s", k, v));
    }
    set.insert(Label::from_parts(
        "k8s",
        POD_NAMESPACE_LABEL,
        &pod.namespace,
    ));
    for (k, v) in namespace_labels {
        set.insert(Label::from_parts(
            "k8s",
            format!("{NAMESPACE_LABELS_PREFIX}{k}"),
            v,
        ));
    }
    set.insert(Label::from_parts("k8s", CLUSTER_LABEL, cluster));
    set
}

fn protocol(p: &str) -> Option<Protocol> {
    match p {
        "TCP" => Some(Protocol::Tcp),
        "UDP" => Some(Protocol::Udp),
        "SCTP" => Some(Protocol::Sctp),
        _ => None,
    }
}

/// A model with its policies loaded: identities allocated, every pod's policy resolved.
pub struct Evaluation {
    pods: Vec<(String, NumericIdentity, EndpointPolicy)>,
}

impl Evaluation {
    /// Loads `policies` (Kubernetes or Cilium objects as JSON) over `model`.
    ///
    /// # Errors
    ///
    /// [`MatrixError`].
    pub fn new(model: &Model, policies: &[Value]) -> Result<Evaluation, MatrixError> {
        let config = EngineConfig::default();
        let mut engine = PolicyEngine::new(config.clone());
        let mut objects = Vec::new();
        for (i, p) in policies.iter().enumerate() {
            let path = format!("policies[{i}]");
            let yaml: serde_yaml::Value =
                serde_json::from_value(p.clone()).map_err(|e| MatrixError::Shape {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            let obj = parse_value(yaml).map_err(|e| MatrixError::Policy {
                path: path.clone(),
                errors: PolicyErrors(vec![e]),
            })?;
            objects.push(obj);
        }
        engine
            .load_objects("matrix", &objects)
            .map_err(|errors| MatrixError::Policy {
                path: "policies".into(),
                errors,
            })?;
        let ns_labels: BTreeMap<&str, &BTreeMap<String, String>> = model
            .namespaces
            .iter()
            .map(|n| (n.name.as_str(), &n.labels))
            .collect();
        let empty = BTreeMap::new();
        let mut by_labels: BTreeMap<LabelSet, NumericIdentity> = BTreeMap::new();
        let mut named = NamedPortTable::new();
        let mut endpoints = Vec::new();
        for pod in &model.pods {
            let labels = pod_identity_labels(
                pod,
                ns_labels
                    .get(pod.namespace.as_str())
                    .copied()
                    .unwrap_or(&empty),
                &config.compile.cluster_name,
            );
            let next = NumericIdentity::new(256 + by_labels.len() as u32);
            let id = *by_labels.entry(labels.clone()).or_insert(next);
            engine.upsert_identity(id, labels.clone());
            let mut ep = EndpointInfo::new(id, labels);
            for c in &pod.containers {
                let (Some(name), Some(proto)) = (&c.port_name, protocol(&c.protocol)) else {
                    continue;
                };
                named.insert(id, name, proto, c.container_port);
                ep.named_ports
                    .insert((name.clone(), proto), c.container_port);
            }
            endpoints.push((pod.key(), ep));
        }
        let mut pods = Vec::new();
        for (key, ep) in endpoints {
            let policy = engine
                .resolve(&ep, &named)
                .map_err(|error| MatrixError::Resolve {
                    pod: key.clone(),
                    error: Box::new(error),
                })?;
            pods.push((key, ep.identity, policy));
        }
        Ok(Evaluation { pods })
    }

    /// Whether `from` may connect to `to` on `protocol`/`port`.
    pub fn allowed(&self, from: usize, to: usize, protocol: Protocol, port: u16) -> bool {
        let (_, from_id, from_policy) = &self.pods[from];
        let (_, to_id, to_policy) = &self.pods[to];
        from_policy
            .map_state
            .lookup(Direction::Egress, *to_id, protocol.as_u8(), port)
            .allowed()
            && to_policy
                .map_state
                .lookup(Direction::Ingress, *from_id, protocol.as_u8(), port)
                .allowed()
    }

    /// The table of one probe: `from → to → allowed`.
    pub fn table(&self, protocol: Protocol, port: u16) -> BTreeMap<String, BTreeMap<String, bool>> {
        let mut out = BTreeMap::new();
        for (i, (from, _, _)) in self.pods.iter().enumerate() {
            let row: BTreeMap<String, bool> = self
                .pods
                .iter()
                .enumerate()
                .map(|(j, (to, _, _))| (to.clone(), self.allowed(i, j, protocol, port)))
                .collect();
            out.insert(from.clone(), row);
        }
        out
    }
}

/// Parses a probe key such as `TCP/80`.
pub fn parse_probe(key: &str) -> Option<(Protocol, u16)> {
    let (p, port) = key.split_once('/')?;
    Some((protocol(p)?, port.parse().ok()?))
}

/// Fills in a case of the e2e truth-table schema: for every step, `expected` is replaced by
/// the computed tables (same probe keys) and `expected_ipblock_excludes_pods` is dropped
/// (ipBlock never selects pods here, which is that table's semantics).
///
/// `case` holds `base_model` and `steps`; a step's `model` replaces the base model.
///
/// # Errors
///
/// [`MatrixError`].
pub fn evaluate_case(case: &mut Value) -> Result<(), MatrixError> {
    let base: Model = serde_json::from_value(
        case.get("base_model").cloned().unwrap_or(Value::Null),
    )
    .map_err(|e| MatrixError::Shape {
        path: "base_model".into(),
        message: e.to_string(),
    })?;
    let steps = case
        .get_mut("steps")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| MatrixError::Shape {
            path: "steps".into(),
            message: "missing or not a list".into(),
        })?;
    for (i, step) in steps.iter_mut().enumerate() {
        let model: Model = match step.get("model") {
            Some(m) => serde_json::from_value(m.clone()).map_err(|e| MatrixError::Shape {
                path: format!("steps[{i}].model"),
                message: e.to_string(),
            })?,
            None => base.clone(),
        };
        let policies = step
            .get("policies")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let eval = Evaluation::new(&model, &policies).map_err(|e| match e {
            MatrixError::Policy { path, errors } => MatrixError::Policy {
                path: format!("steps[{i}].{path}"),
                errors,
            },
            other => other,
        })?;
        let probes: BTreeSet<String> = match step.get("expected").and_then(Value::as_object) {
            Some(m) => m.keys().cloned().collect(),
            None => ["TCP/80", "TCP/81", "UDP/80", "UDP/81", "SCTP/80", "SCTP/81"]
                .map(String::from)
                .into(),
        };
        let mut expected = serde_json::Map::new();
        for probe in probes {
            let (proto, port) = parse_probe(&probe).ok_or_else(|| MatrixError::Shape {
                path: format!("steps[{i}].expected.{probe}"),
                message: "not PROTOCOL/port".into(),
            })?;
            expected.insert(
                probe,
                serde_json::to_value(eval.table(proto, port)).expect("table is JSON"),
            );
        }
        let obj = step.as_object_mut().ok_or_else(|| MatrixError::Shape {
            path: format!("steps[{i}]"),
            message: "not an object".into(),
        })?;
        obj.insert("expected".into(), Value::Object(expected));
        obj.remove("expected_ipblock_excludes_pods");
    }
    Ok(())
}
