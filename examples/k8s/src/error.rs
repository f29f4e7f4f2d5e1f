//! Errors of the watch.

/// Why [`run`](crate::run) stopped (other than the receiver going away, which is a normal
/// shutdown and returns `Ok`). Failed watches are not errors here: they are retried with
/// backoff and reported as [`Change::WatchError`](crate::Change::WatchError).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum K8sError {
    /// Every watch stream ended (kube's watchers never end; this guards the loop).
    #[error("the watch streams ended")]
    WatchesEnded,
}
