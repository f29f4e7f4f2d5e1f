//! Kubernetes sources of truth (being built).
