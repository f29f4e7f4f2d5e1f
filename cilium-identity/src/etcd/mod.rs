//! The etcd backend (feature `etcd`): global identities shared by every agent of a cluster
//! through etcd, in Cilium's kvstore layout (see [`layout`](crate::layout)).
//!
//! - Creating an identity is one compare-and-create transaction: the `id` key, the `claim`
//!   key of the label set and this node's reference, on the condition that neither the `id`
//!   nor the `claim` key exists. A lost race tells the loser which identity the label set
//!   got (it references that) or that the identity was taken (it tries another one).
//! - Referencing an existing identity puts this node's reference under its lease, on the
//!   condition that the `id` key still holds the label set.
//! - A node's references live under its lease: a node that dies stops renewing it, etcd
//!   deletes its references when the lease expires, and
//!   [`EtcdAllocator::collect_garbage`] (run by any node, like Cilium's operator) deletes
//!   identities without references, on the condition (in the same transaction) that none
//!   appeared meanwhile.
//! - A watch on the `id` keys feeds the core with identities other nodes create and delete,
//!   which subscribers see as [`IdentityEvent`](crate::IdentityEvent)s.
//! - Losing etcd (a restart) is survived: requests fail with [`EtcdError::Etcd`] while it is
//!   away, the watch resynchronises from a fresh listing, the lease is renewed or, if it
//!   expired, replaced and this node's references re-created.

mod allocator;
mod error;
mod server;

pub use allocator::{EtcdAllocator, EtcdOptions};
pub use error::{EtcdError, LocalEtcdError};
pub use server::LocalEtcd;
