//! The Kubernetes backend (feature `k8s`): global identities as cluster-scoped
//! `CiliumIdentity` objects (`cilium.io/v2`), named by the numeric identity, with the labels
//! in `security-labels` (`source:key` → value), as Cilium's CRD mode stores them.
//!
//! Creating an identity is a `create` of the object named by a free candidate; the API
//! server refuses a second object with the same name (409), so one identity never stands for
//! two label sets. The API server cannot refuse two objects with the same labels, so two
//! agents racing for one label set may create two identities for it (as in Cilium's CRD
//! mode); every agent then uses the lowest, and the other goes unused. Use the etcd backend
//! where that matters.
//!
//! Deleting unused `CiliumIdentity` objects is the operator's job (heartbeat annotation and
//! timeout) and is not done here.

mod allocator;
mod resource;

pub use allocator::{CrdAllocator, CrdError};
pub use resource::{CiliumIdentity, SECURITY_LABELS};
