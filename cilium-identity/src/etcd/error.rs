//! Errors of the etcd backend.

use std::path::PathBuf;

use crate::AllocatorError;
use crate::layout::NodeNameError;

/// An error of [`EtcdAllocator`](super::EtcdAllocator).
#[derive(Debug, thiserror::Error)]
pub enum EtcdError {
    /// The allocator core refused (bad labels, exhausted range, unknown identity, ...).
    #[error(transparent)]
    Allocator(#[from] AllocatorError),
    /// The node name cannot be part of a key.
    #[error(transparent)]
    NodeName(#[from] NodeNameError),
    /// A request to etcd failed (etcd unreachable, timeout, ...).
    #[error("etcd {op} failed")]
    Etcd {
        /// What was being done.
        op: &'static str,
        /// The client's error.
        #[source]
        source: etcd_client::Error,
    },
    /// A key in the store holds something this crate did not write.
    #[error("store key {key:?} holds {value:?}, which is not {expected}")]
    Corrupt {
        /// The key.
        key: String,
        /// Its value (lossily decoded).
        value: String,
        /// What was expected.
        expected: &'static str,
    },
    /// Other nodes kept winning the race for identities.
    #[error("no identity secured for {labels:?} after {attempts} attempts lost to other nodes")]
    Contended {
        /// The label set.
        labels: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The lease lapsed and could not be replaced yet.
    #[error("this node has no valid etcd lease (it is being replaced)")]
    NoLease,
}

impl EtcdError {
    pub(crate) fn etcd(op: &'static str) -> impl FnOnce(etcd_client::Error) -> EtcdError {
        move |source| EtcdError::Etcd { op, source }
    }
}

/// Why a [`LocalEtcd`](super::LocalEtcd) could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LocalEtcdError {
    /// The etcd binary could not be run.
    #[error("could not run etcd binary {binary:?} (install Debian's etcd-server or set ETCD_BIN)")]
    NotInstalled {
        /// The binary tried.
        binary: PathBuf,
        /// Why it did not start.
        #[source]
        source: std::io::Error,
    },
    /// A file-system or socket operation failed.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// etcd started but did not report healthy in time (or exited).
    #[error("etcd at {endpoint} not healthy after {waited_ms} ms; its log ends with: {log_tail}")]
    NotReady {
        /// The client URL.
        endpoint: String,
        /// How long we waited.
        waited_ms: u128,
        /// The end of etcd's log.
        log_tail: String,
    },
}
