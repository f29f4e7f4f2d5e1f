//! CLI (being built).
fn main() {}
