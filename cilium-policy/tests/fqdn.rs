//! FQDN matchPattern cases (`tests/data/matchpattern_cases.json`, a copy of
//! `../shared/conformance/fqdn/matchpattern_cases.json`), newest-implementation semantics as
//! DESIGN.md decides; regex conversion and sanitize vectors too.

use cilium_policy::fqdn::{FqdnPattern, anchored_regex, sanitize_pattern};
use serde_json::Value;

fn data() -> Value {
    serde_json::from_str(include_str!("data/matchpattern_cases.json")).unwrap()
}

#[test]
fn match_cases_follow_the_newest_implementation() {
    let data = data();
    let mut failures = Vec::new();
    let cases = data["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 76);
    for c in cases {
        let pattern = c["pattern"].as_str().unwrap();
        let name = c["name"].as_str().unwrap();
        // `matches_newest_impl` is the newest code's answer; divergent cases are marked and
        // that answer is the one DESIGN.md picks.
        let want = c["matches_newest_impl"].as_bool().unwrap();
        let got = FqdnPattern::new(pattern)
            .map(|p| p.matches(name))
            .unwrap_or(false);
        if got != want {
            failures.push(format!("{pattern:?} vs {name:?}: got {got}, want {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn regex_conversion_and_sanitize() {
    let data = data();
    for c in data["regex_conversion_cases"].as_array().unwrap() {
        let pattern = c["pattern"].as_str().unwrap();
        if c["python_port_equal"] == false {
            // Only the Python port's textual form differs; matching is covered above.
            continue;
        }
        assert_eq!(
            anchored_regex(pattern),
            c["anchored_regex"].as_str().unwrap(),
            "{pattern}"
        );
    }
    for c in data["sanitize_cases"].as_array().unwrap() {
        assert_eq!(
            sanitize_pattern(c["in"].as_str().unwrap()),
            c["out"].as_str().unwrap(),
            "{c}"
        );
    }
}
