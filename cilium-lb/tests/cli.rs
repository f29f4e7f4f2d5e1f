//! The `maglev` example's argument handling, driven through the library: the TestReproducible
//! setup given as command-line arguments must print Cilium's table.

use cilium_lb::cli::{self, CliError, Invocation, parse_args, parse_backend_arg};
use serde_json::Value;

fn reproducible_case() -> Value {
    let data: Value =
        serde_json::from_str(include_str!("data/maglev_vectors.json")).expect("vectors parse");
    data["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "TestReproducible")
        .expect("TestReproducible case")
        .clone()
}

#[test]
fn reproducible_through_the_command_line() {
    let case = reproducible_case();
    let mut args = vec!["--table-size".to_owned(), case["M"].to_string()];
    args.push(format!("--seed={}", case["seed"].as_str().unwrap()));
    for (index, b) in case["backends"].as_array().unwrap().iter().enumerate() {
        // The CLI numbers backends by position; the case's ids are positions too.
        assert_eq!(b["id"].as_u64(), Some(index as u64));
        let arg = format!(
            "{}:{}/{}@{}",
            b["addr"].as_str().unwrap(),
            b["port"],
            b["proto"].as_str().unwrap(),
            b["weight"]
        );
        let parsed = parse_backend_arg(&arg, index as u32).unwrap();
        assert_eq!(parsed.addr.to_string(), b["addr"].as_str().unwrap());
        args.push(arg);
    }
    let out = cli::run(&args).unwrap();
    let printed: Value = serde_json::from_str(&out).expect("the output is JSON");
    assert_eq!(printed, case["expected_table"]);

    // The order of the arguments decides the ids, not the table's shape: reversing the
    // arguments maps each slot to the reversed index.
    let (opts, backends) = args.split_at(3);
    let mut reversed: Vec<String> = opts.to_vec();
    reversed.extend(backends.iter().rev().cloned());
    let out: Vec<u64> = serde_json::from_str(&cli::run(&reversed).unwrap()).unwrap();
    let want: Vec<u64> = case["expected_table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| 3 - v.as_u64().unwrap())
        .collect();
    assert_eq!(out, want);
}

#[test]
fn bad_arguments_are_named() {
    let err = cli::run(&["--table-size", "251", "10.0.0.1:80/TCP", "10.0.0.2/TCP"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "backend \"10.0.0.2/TCP\": expected ADDR:PORT/PROTO[/i][@WEIGHT]"
    );
    assert!(matches!(
        cli::run(&["10.0.0.1:80/TCP", "10.0.0.1:80/TCP"]),
        Err(CliError::Maglev { .. })
    ));
    assert_eq!(parse_args(&["-h"]), Ok(Invocation::Help));
    assert!(cli::run(&["--help"]).unwrap().starts_with("usage: maglev"));
}
