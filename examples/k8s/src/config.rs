//! What the translation needs to know about this node and the agent's options.

use cilium_lb::k8s::NodeContext;
use cilium_policy::compile::CompileOptions;

/// Options of the [`Cache`](crate::Cache) and of [`K8sWatcher`](crate::K8sWatcher).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// This node, for Services: its name makes endpoints on it node-local, its addresses get
    /// NodePort frontends (besides the unspecified address), and its default load-balancing
    /// algorithm.
    pub node: NodeContext,
    /// The options policies are validated with (compiled once per change, rules dropped);
    /// `cluster_name` is also the pods' `io.cilium.k8s.policy.cluster` label.
    pub policy: CompileOptions,
}

impl Config {
    /// Defaults for the node `node_name` (empty when unknown): no node addresses, the
    /// random algorithm, cluster `default`.
    pub fn new(node_name: Option<String>) -> Config {
        Config {
            node: NodeContext::new(node_name.unwrap_or_default(), []),
            policy: CompileOptions::default(),
        }
    }
}
