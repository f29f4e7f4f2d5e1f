//! Kubernetes as the source of truth of the reference agent: kube-rs reflectors over Pods,
//! Namespaces, Services, EndpointSlices, NetworkPolicies, CiliumNetworkPolicies and
//! CiliumClusterwideNetworkPolicies, turned into one ordered stream of [`Change`]s that the
//! agent maps onto its policy engine, load balancer and endpoint labels.
//!
//! - [`crd`]: the two Cilium policy resources, rules kept as raw JSON for `cilium-policy`.
//! - [`translate`]: pure object → [`Change`] functions (policies parsed and validated by
//!   `cilium-policy`, Services converted by `cilium-lb`, Cilium's pod identity labels).
//! - [`Cache`]: the pure single writer that applies watcher events (relists, deletions,
//!   namespace label changes, Services waiting for their EndpointSlices) and decides which
//!   changes to send.
//! - [`K8sWatcher`] / [`run`]: the I/O shell: watchers, reflector [`Stores`], the merge
//!   loop.
//!
//! It is not a controller: it writes nothing to the API server. Identity allocation lives
//! in `cilium-identity`; what a change does to the datapath is the agent's job.
//!
//! TLS: this crate builds kube without a TLS stack (the tests use a mock transport). To talk
//! to a real cluster over `https`, enable the `tls` feature (kube's `rustls-tls`).
//!
//! ```no_run
//! # async fn doc() -> Result<(), Box<dyn std::error::Error>> {
//! use cilium_agent_k8s::{Change, run};
//! let client = kube::Client::try_default().await?;
//! let (tx, mut rx) = tokio::sync::mpsc::channel(256);
//! tokio::spawn(run(client, Some("node-a".into()), tx));
//! while let Some(change) = rx.recv().await {
//!     match change {
//!         Change::Synced => println!("caught up"),
//!         other => println!("{other:?}"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

pub mod cache;
pub mod change;
pub mod config;
pub mod crd;
pub mod error;
pub mod translate;
pub mod watch;

pub use cache::Cache;
pub use change::{Change, Event, Kind};
pub use config::Config;
pub use crd::{CiliumClusterwideNetworkPolicy, CiliumNetworkPolicy};
pub use error::K8sError;
pub use watch::{K8sWatcher, Stores, run};
