//! `fqdn-match CASES.json`: reads a file of `toFQDNs` `matchPattern` cases (the schema of
//! `shared/conformance/fqdn/matchpattern_cases.json`: an object whose `cases` array holds
//! `{"pattern": ..., "name": ...}` objects; other fields are ignored) and prints a JSON array
//! with one boolean per case, in order: whether the name matches the pattern.
//!
//! Semantics are those of `cilium_policy::fqdn::FqdnPattern` (the newest Cilium behaviour, as
//! DESIGN.md decides): `*` matches zero or more of `[-a-zA-Z0-9_]` within one label, a leading
//! `**.` one or more whole labels, a pattern of only `*` every name; names are compared
//! lowercased with a trailing dot; patterns are anchored. An invalid pattern is an error that
//! names the case.
//!
//! ```text
//! cargo run -q --release -p cilium-l7 --example fqdn-match -- CASES.json
//! ```

use std::process::ExitCode;

use anyhow::{Context, bail};
use cilium_policy::fqdn::FqdnPattern;
use serde_json::Value;

/// One answer per case of `cases` (the parsed file), in order.
pub(crate) fn match_cases(cases: &Value) -> anyhow::Result<Vec<bool>> {
    let Some(list) = cases.get("cases").and_then(Value::as_array) else {
        bail!("the file has no \"cases\" array");
    };
    list.iter()
        .enumerate()
        .map(|(i, case)| {
            let field = |name: &str| {
                case.get(name)
                    .and_then(Value::as_str)
                    .with_context(|| format!("cases[{i}].{name}: missing or not a string"))
            };
            let (pattern, name) = (field("pattern")?, field("name")?);
            let compiled = FqdnPattern::new(pattern)
                .with_context(|| format!("cases[{i}].pattern {pattern:?} is invalid"))?;
            Ok(compiled.matches(name))
        })
        .collect()
}

fn run() -> anyhow::Result<()> {
    let mut args = std::env::args_os().skip(1);
    let (Some(path), None) = (args.next(), args.next()) else {
        bail!("usage: fqdn-match CASES.json");
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {}", path.to_string_lossy()))?;
    let cases: Value = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", path.to_string_lossy()))?;
    let answers = match_cases(&cases)?;
    println!("{}", serde_json::to_string(&answers)?);
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fqdn-match: {e:#}");
            ExitCode::FAILURE
        }
    }
}
