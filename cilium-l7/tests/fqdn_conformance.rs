//! The `fqdn-match` example's semantics against `../shared/conformance/fqdn/matchpattern_cases.json`:
//! every case answers `matches_newest_impl` (the cases the data marks `divergent` differed in
//! an older Cilium test file; DESIGN.md follows the newest behaviour) through
//! `cilium_policy::fqdn::FqdnPattern`, exactly as the example computes it; and the example
//! itself (its source compiled into this test) gives those answers.

use cilium_policy::fqdn::FqdnPattern;
use serde_json::Value;

#[path = "../examples/fqdn-match.rs"]
#[expect(dead_code, reason = "the example's main is not called here")]
mod fqdn_match;

const CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/conformance/fqdn/matchpattern_cases.json"
);

fn cases() -> Value {
    let text = std::fs::read_to_string(CASES).unwrap_or_else(|e| {
        panic!("{CASES}: {e} (the conformance data sits beside the repository)")
    });
    serde_json::from_str(&text).unwrap()
}

/// What the example computes for one case.
fn answer(case: &Value) -> bool {
    FqdnPattern::new(case["pattern"].as_str().unwrap())
        .unwrap()
        .matches(case["name"].as_str().unwrap())
}

fn expected(data: &Value) -> Vec<bool> {
    data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["matches_newest_impl"].as_bool().unwrap())
        .collect()
}

#[test]
fn every_case_follows_the_newest_behaviour() {
    let data = cases();
    let list = data["cases"].as_array().unwrap();
    assert_eq!(list.len(), 76);
    let divergent = list.iter().filter(|c| c["divergent"] == true).count();
    assert_eq!(divergent, 6, "the data's divergent cases");
    let got: Vec<bool> = list.iter().map(answer).collect();
    let want = expected(&data);
    let wrong: Vec<String> = list
        .iter()
        .zip(got.iter().zip(&want))
        .enumerate()
        .filter(|(_, (_, (g, w)))| g != w)
        .map(|(i, (c, (g, _)))| format!("cases[{i}] {} vs {}: got {g}", c["pattern"], c["name"]))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The divergent cases are answered differently from the older test file's expectation.
    for c in list.iter().filter(|c| c["divergent"] == true) {
        assert_ne!(
            answer(c),
            c["matches_v2_any_position_doublestar"].as_bool().unwrap()
        );
    }
}

/// The example's own function (its source is compiled into this test), on the whole file and
/// on an invalid pattern.
#[test]
fn the_example_answers_one_boolean_per_case() {
    let data = cases();
    assert_eq!(fqdn_match::match_cases(&data).unwrap(), expected(&data));

    let bad: Value = serde_json::from_str(
        r#"{"cases": [{"pattern": "*.ok.", "name": "a.ok."}, {"pattern": "bad name", "name": "x."}]}"#,
    )
    .unwrap();
    let err = format!("{:#}", fqdn_match::match_cases(&bad).unwrap_err());
    assert!(
        err.starts_with("cases[1].pattern \"bad name\" is invalid"),
        "{err}"
    );
    let missing: Value = serde_json::from_str(r#"{"cases": [{"pattern": "a."}]}"#).unwrap();
    let err = format!("{:#}", fqdn_match::match_cases(&missing).unwrap_err());
    assert_eq!(err, "cases[0].name: missing or not a string");
    assert!(fqdn_match::match_cases(&Value::Null).is_err());
}
