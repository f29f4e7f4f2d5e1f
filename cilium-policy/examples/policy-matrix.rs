//! Reachability matrix of a model cluster under NetworkPolicies.
//!
//! `cargo run -q --release -p cilium-policy --example policy-matrix -- CASE.json`
//!
//! CASE.json is one case of the Kubernetes e2e truth-table schema (`base_model` plus `steps`,
//! each step with its `policies` and optional `model`). The case is printed back with every
//! step's `expected` replaced by the computed table (`from → to → allowed` per probe) and
//! `expected_ipblock_excludes_pods` dropped: ipBlock never selects pods here.

use anyhow::Context;
use cilium_policy::matrix::evaluate_case;

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .context("usage: policy-matrix CASE.json")?;
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
    let mut case: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing {path}"))?;
    evaluate_case(&mut case)?;
    println!("{}", serde_json::to_string_pretty(&case)?);
    Ok(())
}
