//! Policy objects as users write them: parsing YAML or JSON documents into
//! [`PolicyObject`]s, with errors that name the document and the field path.
//!
//! Kinds: `cilium.io/v2` `CiliumNetworkPolicy` (one `spec` and/or a `specs` list),
//! `CiliumClusterwideNetworkPolicy`, and `networking.k8s.io/v1` `NetworkPolicy` (the
//! `k8s-openapi` type). Unknown fields are refused, as strict field validation does: a field
//! the engine would silently drop could change what the policy means.

pub mod spec;

use std::fmt;

use k8s_openapi::api::networking::v1::NetworkPolicy;
use serde::Deserialize;

pub use spec::RuleSpec;

/// A field-level problem in a policy document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{path}: {message}", where_prefix(*.document, .object.as_deref()))]
pub struct PolicyError {
    /// 0-based index of the YAML document in its file, when known.
    pub document: Option<usize>,
    /// `Kind namespace/name` of the object, when known.
    pub object: Option<String>,
    /// The field path, e.g. `.spec.ingress[0].toPorts[0].ports[0].port`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn where_prefix(document: Option<usize>, object: Option<&str>) -> String {
    match (document, object) {
        (Some(d), Some(o)) => format!("document {d} ({o}): "),
        (Some(d), None) => format!("document {d}: "),
        (None, Some(o)) => format!("{o}: "),
        (None, None) => String::new(),
    }
}

impl PolicyError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> PolicyError {
        PolicyError {
            document: None,
            object: None,
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Every problem found in a set of documents (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyErrors(pub Vec<PolicyError>);

impl fmt::Display for PolicyErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            e.fmt(f)?;
        }
        Ok(())
    }
}

/// Which Cilium policy kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CiliumKind {
    /// Namespaced `CiliumNetworkPolicy`.
    CiliumNetworkPolicy,
    /// `CiliumClusterwideNetworkPolicy`.
    CiliumClusterwideNetworkPolicy,
}

impl CiliumKind {
    /// The kind's name.
    pub fn as_str(self) -> &'static str {
        match self {
            CiliumKind::CiliumNetworkPolicy => "CiliumNetworkPolicy",
            CiliumKind::CiliumClusterwideNetworkPolicy => "CiliumClusterwideNetworkPolicy",
        }
    }
}

/// Object metadata the engine uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectRef {
    /// Name.
    pub name: String,
    /// Namespace (`default` for namespaced objects without one).
    pub namespace: Option<String>,
}

/// One parsed policy object.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyObject {
    /// A Cilium policy with its rules (`spec` first, then `specs`).
    Cilium {
        /// Which kind.
        kind: CiliumKind,
        /// Name and namespace.
        meta: ObjectRef,
        /// `spec`, if given.
        spec: Option<Box<RuleSpec>>,
        /// `specs`, if given.
        specs: Vec<RuleSpec>,
    },
    /// A Kubernetes NetworkPolicy.
    Kubernetes(Box<NetworkPolicy>),
}

impl PolicyObject {
    /// `Kind namespace/name`.
    pub fn describe(&self) -> String {
        match self {
            PolicyObject::Cilium { kind, meta, .. } => match &meta.namespace {
                Some(ns) => format!("{} {ns}/{}", kind.as_str(), meta.name),
                None => format!("{} {}", kind.as_str(), meta.name),
            },
            PolicyObject::Kubernetes(np) => format!(
                "NetworkPolicy {}/{}",
                np.metadata.namespace.as_deref().unwrap_or("default"),
                np.metadata.name.as_deref().unwrap_or("")
            ),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CiliumDocument {
    #[serde(rename = "apiVersion")]
    _api_version: String,
    #[serde(rename = "kind")]
    _kind: String,
    metadata: Metadata,
    #[serde(default)]
    spec: Option<RuleSpec>,
    #[serde(default)]
    specs: Option<Vec<RuleSpec>>,
    #[serde(default, rename = "status")]
    _status: Option<serde_yaml::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
}

fn path_of<E: fmt::Display>(e: &serde_path_to_error::Error<E>) -> String {
    let p = e.path().to_string();
    if p == "." { p } else { format!(".{p}") }
}

/// Parses every YAML (or JSON) document in `text`. Empty documents are skipped.
///
/// # Errors
///
/// Every document that fails, each error naming the document index and field path.
pub fn parse_documents(text: &str) -> Result<Vec<PolicyObject>, PolicyErrors> {
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    for (index, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = match serde_yaml::Value::deserialize(doc) {
            Ok(v) => v,
            Err(e) => {
                errors.push(PolicyError {
                    document: Some(index),
                    object: None,
                    path: ".".into(),
                    message: format!("not YAML: {e}"),
                });
                // A syntax error ends the stream.
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        match parse_value(value) {
            Ok(o) => objects.push(o),
            Err(mut e) => {
                e.document = Some(index);
                errors.push(e);
            }
        }
    }
    if errors.is_empty() {
        Ok(objects)
    } else {
        Err(PolicyErrors(errors))
    }
}

/// Parses one object given as a YAML/JSON value.
///
/// # Errors
///
/// The first problem, with its field path.
pub fn parse_value(value: serde_yaml::Value) -> Result<PolicyObject, PolicyError> {
    let kind = value
        .get("kind")
        .and_then(|k| k.as_str())
        .ok_or_else(|| PolicyError::new(".kind", "missing or not a string"))?
        .to_owned();
    let api_version = value
        .get("apiVersion")
        .and_then(|k| k.as_str())
        .unwrap_or("")
        .to_owned();
    match kind.as_str() {
        "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy" => {
            if api_version != "cilium.io/v2" {
                return Err(PolicyError::new(
                    ".apiVersion",
                    format!("{api_version:?} is not cilium.io/v2"),
                ));
            }
            let kind = if kind == "CiliumNetworkPolicy" {
                CiliumKind::CiliumNetworkPolicy
            } else {
                CiliumKind::CiliumClusterwideNetworkPolicy
            };
            let doc: CiliumDocument = serde_path_to_error::deserialize(value)
                .map_err(|e| PolicyError::new(path_of(&e), e.inner().to_string()))?;
            let name = doc
                .metadata
                .name
                .filter(|n| !n.is_empty())
                .ok_or_else(|| PolicyError::new(".metadata.name", "is required"))?;
            let namespace = match kind {
                CiliumKind::CiliumNetworkPolicy => {
                    Some(doc.metadata.namespace.unwrap_or_else(|| "default".into()))
                }
                CiliumKind::CiliumClusterwideNetworkPolicy => {
                    if doc.metadata.namespace.is_some() {
                        return Err(PolicyError::new(
                            ".metadata.namespace",
                            "a clusterwide policy has no namespace",
                        ));
                    }
                    None
                }
            };
            if doc.spec.is_none() && doc.specs.as_ref().is_none_or(Vec::is_empty) {
                return Err(PolicyError::new(
                    ".spec",
                    "one of spec or specs is required",
                ));
            }
            Ok(PolicyObject::Cilium {
                kind,
                meta: ObjectRef { name, namespace },
                spec: doc.spec.map(Box::new),
                specs: doc.specs.unwrap_or_default(),
            })
        }
        "NetworkPolicy" => {
            if api_version != "networking.k8s.io/v1" {
                return Err(PolicyError::new(
                    ".apiVersion",
                    format!("{api_version:?} is not networking.k8s.io/v1"),
                ));
            }
            let np: NetworkPolicy = serde_path_to_error::deserialize(value)
                .map_err(|e| PolicyError::new(path_of(&e), e.inner().to_string()))?;
            if np.metadata.name.as_deref().is_none_or(str::is_empty) {
                return Err(PolicyError::new(".metadata.name", "is required"));
            }
            Ok(PolicyObject::Kubernetes(Box::new(np)))
        }
        other => Err(PolicyError::new(
            ".kind",
            format!(
                "{other:?} is not CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy"
            ),
        )),
    }
}
