//! The Kubernetes backend (feature `k8s`).
