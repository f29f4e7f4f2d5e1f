//! Reference agent (being built).
