//! Validates a policy file: exit 0 when every object is valid, 1 otherwise (each problem is
//! printed with its object and field path), 2 when the file cannot be read.
//!
//! `cargo run -q --release -p cilium-policy --example policy-validate -- FILE.yaml
//! [--enable-node-selector-labels]`

use std::process::ExitCode;

use cilium_policy::{CompileOptions, compile_text};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: policy-validate FILE.yaml [--enable-node-selector-labels]");
        return ExitCode::from(2);
    };
    let mut opts = CompileOptions::default();
    for flag in args {
        match flag.as_str() {
            "--enable-node-selector-labels" => opts.enable_node_selector_labels = true,
            other => {
                eprintln!("unknown flag {other}");
                return ExitCode::from(2);
            }
        }
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::from(2);
        }
    };
    match compile_text(&text, &opts) {
        Ok(rules) => {
            println!("{path}: valid ({} rules)", rules.len());
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors.0 {
                println!("{path}: {e}");
            }
            ExitCode::from(1)
        }
    }
}
