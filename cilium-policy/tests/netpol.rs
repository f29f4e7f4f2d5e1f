//! The Kubernetes NetworkPolicy truth tables (`tests/data/netpol_cases.json`, a copy of
//! `../shared/conformance/netpol/netpol_cases.json`): every step of every case, every probe,
//! every cell but loopback (upstream ignores loopback cells). Where the data carries
//! `expected_ipblock_excludes_pods` that table is the reference (DESIGN.md: ipBlock does not
//! select pod IPs).

use cilium_policy::matrix::evaluate_case;
use serde_json::Value;

#[test]
fn every_netpol_case_matches_its_truth_table() {
    let data: Value = serde_json::from_str(include_str!("data/netpol_cases.json")).unwrap();
    let cases = data["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 59);
    let mut failures = Vec::new();
    let mut cells = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let mut computed = case.clone();
        computed["base_model"] = data["base_model"].clone();
        if let Err(e) = evaluate_case(&mut computed) {
            failures.push(format!("{id}: {e}"));
            continue;
        }
        for (s, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let want = step
                .get("expected_ipblock_excludes_pods")
                .unwrap_or(&step["expected"]);
            let got = &computed["steps"][s]["expected"];
            for (probe, table) in want.as_object().unwrap() {
                for (from, row) in table.as_object().unwrap() {
                    for (to, allowed) in row.as_object().unwrap() {
                        if from == to {
                            continue;
                        }
                        cells += 1;
                        if got[probe][from][to] != *allowed {
                            failures.push(format!(
                                "{id} step {s} {probe} {from}->{to}: got {}, want {allowed}",
                                got[probe][from][to]
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(cells > 20_000, "only {cells} cells compared");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
