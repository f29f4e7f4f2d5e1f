//! Standalone mode: a directory of YAML as the source of truth.
//!
//! Every `*.yaml`, `*.yml` and `*.json` file of the directory holds Kubernetes-shaped objects:
//! `CiliumNetworkPolicy`, `CiliumClusterwideNetworkPolicy` and `NetworkPolicy` (policies),
//! `Service` and `EndpointSlice` (load balancing), `Pod` and `Namespace` (only their labels
//! matter: the labels an endpoint created for that pod gets).
//!
//! [`Directory::scan`] reads the directory (the agent calls it every second). A file is
//! validated as a whole — every document parsed, every policy compiled, every Service
//! converted — before it replaces what that file said before; an invalid file is rejected
//! with an error naming the file, the document and the field, and the previous content of
//! that file stays in force. A removed file removes what it said.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use cilium_core::LabelSet;
use cilium_lb::k8s::{NodeContext, services_from_k8s};
use cilium_policy::{CompileOptions, PolicyObject};

use crate::agent::SourceState;
use k8s_openapi::api::core::v1::Service as K8sService;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use serde::Deserialize;

/// What one valid file says.
#[derive(Debug, Clone, Default)]
pub struct FileContent {
    /// Policy objects.
    pub policies: Vec<PolicyObject>,
    /// The same policy objects as JSON (for `policy get`).
    pub policy_json: Vec<serde_json::Value>,
    /// Services.
    pub services: Vec<K8sService>,
    /// Endpoint slices.
    pub slices: Vec<EndpointSlice>,
    /// Pods: `(namespace, name)` → their labels.
    pub pods: BTreeMap<(String, String), BTreeMap<String, String>>,
    /// Namespaces → their labels.
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug)]
struct FileState {
    bytes: Vec<u8>,
    good: Option<FileContent>,
    error: Option<String>,
}

/// The directory and what each of its files last said.
#[derive(Debug)]
pub struct Directory {
    dir: PathBuf,
    files: BTreeMap<PathBuf, FileState>,
    compile: CompileOptions,
}

/// What a scan found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScanResult {
    /// Some file's accepted content changed (or a file went away).
    pub changed: bool,
    /// Files rejected by this scan (new errors only).
    pub rejected: Vec<String>,
}

impl Directory {
    /// A source reading `dir` (which need not exist yet).
    pub fn new(dir: impl Into<PathBuf>, compile: CompileOptions) -> Directory {
        Directory {
            dir: dir.into(),
            files: BTreeMap::new(),
            compile,
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads the directory; files whose bytes changed are validated and, when valid, replace
    /// what they said. `node` is the context Services are converted for.
    pub fn scan(&mut self, node: &NodeContext) -> ScanResult {
        let mut result = ScanResult::default();
        let mut seen = Vec::new();
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && matches!(
                            p.extension().and_then(|e| e.to_str()),
                            Some("yaml" | "yml" | "json")
                        )
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        entries.sort();
        for path in entries {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            seen.push(path.clone());
            if self.files.get(&path).is_some_and(|f| f.bytes == bytes) {
                continue;
            }
            let parsed = parse_file(&path, &bytes, &self.compile);
            // Services must convert with every slice the directory would hold afterwards.
            let parsed = parsed.and_then(|content| {
                let mut slices: Vec<EndpointSlice> = self
                    .files
                    .iter()
                    .filter(|(p, _)| **p != path)
                    .filter_map(|(_, f)| f.good.as_ref())
                    .flat_map(|c| c.slices.iter().cloned())
                    .collect();
                slices.extend(content.slices.iter().cloned());
                for (i, svc) in content.services.iter().enumerate() {
                    services_from_k8s(svc, &slices, node)
                        .map_err(|e| format!("{}: Service #{i}: {e}", path.display()))?;
                }
                Ok(content)
            });
            let state = self.files.entry(path.clone()).or_insert(FileState {
                bytes: Vec::new(),
                good: None,
                error: None,
            });
            state.bytes = bytes;
            match parsed {
                Ok(content) => {
                    state.good = Some(content);
                    state.error = None;
                    result.changed = true;
                }
                Err(e) => {
                    state.error = Some(e.clone());
                    result.rejected.push(e);
                }
            }
        }
        let before = self.files.len();
        self.files.retain(|p, _| seen.contains(p));
        if self.files.len() != before {
            result.changed = true;
        }
        result
    }

    /// What the accepted files say, merged (Services converted with every slice).
    pub fn desired(&self, node: &NodeContext) -> SourceState {
        let mut d = SourceState::default();
        let good: Vec<(&PathBuf, &FileContent)> = self
            .files
            .iter()
            .filter_map(|(p, f)| f.good.as_ref().map(|g| (p, g)))
            .collect();
        let slices: Vec<EndpointSlice> = good
            .iter()
            .flat_map(|(_, c)| c.slices.iter().cloned())
            .collect();
        let mut namespaces: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut pods = BTreeMap::new();
        for (path, c) in &good {
            let source = path.display().to_string();
            if !c.policies.is_empty() {
                d.policies.insert(source.clone(), c.policies.clone());
                d.policy_json.insert(source.clone(), c.policy_json.clone());
            }
            let mut services = Vec::new();
            for svc in &c.services {
                match services_from_k8s(svc, &slices, node) {
                    Ok(s) => services.extend(s),
                    Err(e) => d.errors.push(format!("{source}: {e}")),
                }
            }
            if !services.is_empty() {
                d.services.insert(source.clone(), services);
            }
            namespaces.extend(c.namespaces.clone());
            pods.extend(c.pods.clone());
        }
        for ((ns, name), labels) in pods {
            let ns_labels = namespaces.get(&ns).cloned().unwrap_or_default();
            d.pods.insert(
                (ns.clone(), name),
                pod_identity_labels(&ns, &labels, &ns_labels),
            );
        }
        d.errors
            .extend(self.files.values().filter_map(|f| f.error.clone()));
        d
    }
}

/// The identity-relevant labels of a pod, as Cilium derives them: its labels with source
/// `k8s`, its namespace, and its namespace's labels under `io.cilium.k8s.namespace.labels.`.
pub fn pod_identity_labels(
    namespace: &str,
    labels: &BTreeMap<String, String>,
    namespace_labels: &BTreeMap<String, String>,
) -> LabelSet {
    let mut all: Vec<String> = labels.iter().map(|(k, v)| format!("k8s:{k}={v}")).collect();
    all.push(format!("k8s:io.kubernetes.pod.namespace={namespace}"));
    all.extend(
        namespace_labels
            .iter()
            .map(|(k, v)| format!("k8s:io.cilium.k8s.namespace.labels.{k}={v}")),
    );
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    LabelSet::parse_list(&refs)
}

#[derive(Deserialize)]
struct Meta {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Labelled {
    metadata: Meta,
}

fn typed<T: serde::de::DeserializeOwned>(value: serde_yaml::Value, at: &str) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let p = e.path().to_string();
        format!("{at}: .{p}: {}", e.inner())
    })
}

/// Parses and validates one file.
///
/// # Errors
///
/// The first problem, naming the file, the document and the field.
pub fn parse_file(
    path: &Path,
    bytes: &[u8],
    compile: &CompileOptions,
) -> Result<FileContent, String> {
    let file = path.display().to_string();
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{file}: not UTF-8: {e}"))?;
    let mut c = FileContent::default();
    for (index, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let at = format!("{file}: document {index}");
        let value =
            serde_yaml::Value::deserialize(doc).map_err(|e| format!("{at}: not YAML: {e}"))?;
        if value.is_null() {
            continue;
        }
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .ok_or_else(|| format!("{at}: .kind: missing or not a string"))?
            .to_owned();
        match kind.as_str() {
            "CiliumNetworkPolicy" | "CiliumClusterwideNetworkPolicy" | "NetworkPolicy" => {
                let json: serde_json::Value =
                    serde_json::to_value(&value).map_err(|e| format!("{at}: {e}"))?;
                let obj =
                    cilium_policy::api::parse_value(value).map_err(|e| format!("{at}: {e}"))?;
                c.policies.push(obj);
                c.policy_json.push(json);
            }
            "Service" => c.services.push(typed(value, &at)?),
            "EndpointSlice" => c.slices.push(typed(value, &at)?),
            "Pod" => {
                let p: Labelled = typed(value, &at)?;
                let ns = p.metadata.namespace.unwrap_or_else(|| "default".into());
                c.pods.insert((ns, p.metadata.name), p.metadata.labels);
            }
            "Namespace" => {
                let n: Labelled = typed(value, &at)?;
                c.namespaces.insert(n.metadata.name, n.metadata.labels);
            }
            other => {
                return Err(format!(
                    "{at}: .kind: {other:?} is not one of CiliumNetworkPolicy, \
                     CiliumClusterwideNetworkPolicy, NetworkPolicy, Service, EndpointSlice, Pod, Namespace"
                ));
            }
        }
    }
    cilium_policy::compile(&c.policies, compile).map_err(|e| {
        e.0.iter()
            .map(|e| format!("{file}: {e}"))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: db, namespace: default}
spec:
  endpointSelector: {matchLabels: {app: db}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: backend}}]
    toPorts: [{ports: [{port: \"5432\", protocol: TCP}]}]
";

    const SERVICE: &str = "apiVersion: v1
kind: Service
metadata: {name: backend, namespace: default}
spec:
  clusterIP: 10.96.0.10
  ports: [{name: http, port: 80, targetPort: 8080, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-1
  namespace: default
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
- addresses: [10.200.0.2]
  conditions: {ready: true}
";

    fn node() -> NodeContext {
        NodeContext::new("node-1", [])
    }

    #[test]
    fn a_bad_file_is_named_and_the_previous_content_stays() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = Directory::new(dir.path(), CompileOptions::default());
        std::fs::write(dir.path().join("db.yaml"), POLICY).unwrap();
        std::fs::write(dir.path().join("svc.yaml"), SERVICE).unwrap();
        std::fs::write(
            dir.path().join("pods.yaml"),
            "kind: Pod\nmetadata: {name: db-0, namespace: default, labels: {app: db}}\n---\n\
             kind: Namespace\nmetadata: {name: default, labels: {team: a}}\n",
        )
        .unwrap();
        let r = d.scan(&node());
        assert!(r.changed && r.rejected.is_empty(), "{r:?}");
        let want = d.desired(&node());
        assert_eq!(want.policies.len(), 1);
        assert_eq!(want.services.values().flatten().count(), 1);
        assert_eq!(
            want.pods[&("default".to_owned(), "db-0".to_owned())].sorted_list(),
            "k8s:app=db;k8s:io.cilium.k8s.namespace.labels.team=a;k8s:io.kubernetes.pod.namespace=default;"
        );

        // Break the policy: a port that is not a number. Rejected, naming file and field.
        std::fs::write(
            dir.path().join("db.yaml"),
            POLICY.replace("\"5432\"", "\"99999\""),
        )
        .unwrap();
        let r = d.scan(&node());
        assert!(!r.changed);
        assert_eq!(r.rejected.len(), 1);
        assert!(r.rejected[0].contains("db.yaml"), "{}", r.rejected[0]);
        assert!(r.rejected[0].contains("toPorts"), "{}", r.rejected[0]);
        let still = d.desired(&node());
        assert_eq!(
            still.policies.len(),
            1,
            "the previous policy stays in force"
        );
        assert_eq!(still.errors.len(), 1);

        // An unknown kind and broken YAML are named too.
        std::fs::write(
            dir.path().join("x.yaml"),
            "kind: Deployment\nmetadata: {name: x}\n",
        )
        .unwrap();
        let r = d.scan(&node());
        assert!(
            r.rejected[0].contains("x.yaml: document 0: .kind"),
            "{:?}",
            r.rejected
        );
        std::fs::write(dir.path().join("x.yaml"), "kind: [\n").unwrap();
        assert!(d.scan(&node()).rejected[0].contains("not YAML"));

        // A Service field of the wrong type names its path.
        std::fs::write(
            dir.path().join("svc.yaml"),
            SERVICE.replace("port: 80,", "port: eighty,"),
        )
        .unwrap();
        let r = d.scan(&node());
        assert!(
            r.rejected[0].contains("svc.yaml: document 0: .spec.ports"),
            "{:?}",
            r.rejected
        );
        assert_eq!(d.desired(&node()).services.values().flatten().count(), 1);

        // Fixed again, then removed: what it said goes.
        std::fs::write(dir.path().join("db.yaml"), POLICY).unwrap();
        assert!(d.scan(&node()).changed);
        std::fs::remove_file(dir.path().join("db.yaml")).unwrap();
        assert!(d.scan(&node()).changed);
        assert!(d.desired(&node()).policies.is_empty());
        // Nothing changed: nothing to do.
        assert!(!d.scan(&node()).changed);
    }
}
