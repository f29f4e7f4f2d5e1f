//! Offline `bpf policy get`: prints a subject's ingress map state.
//!
//! `cargo run -q --release -p cilium-policy --example policy-mapstate -- CASE.json`
//!
//! CASE.json is `{"rule_library": {...}, "identities": {...}, "case": {...}}` as in the
//! distillery conformance data: `case.rules` names library rules (or holds inline rules) and
//! `case.subject` names the identity whose map state is printed, as a JSON list of
//! `{peer, identity, proto, dport, direction, action}`.

use anyhow::Context;
use cilium_policy::Direction;
use cilium_policy::offline::MapStateInput;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .context("usage: policy-mapstate CASE.json")?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let input: MapStateInput =
        serde_json::from_str(&text).with_context(|| format!("parsing {path}"))?;
    let rows = input.map_state_rows(Direction::Ingress)?;
    println!("{}", serde_json::to_string_pretty(&rows)?);
    Ok(())
}
