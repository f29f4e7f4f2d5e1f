//! CNI plugin (being built).
fn main() {}
