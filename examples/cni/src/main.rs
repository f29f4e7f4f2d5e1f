//! `cilium-cni`: the CNI plugin binary. Reads the `CNI_*` environment and the network
//! config on stdin, prints the result (or the error JSON) on stdout, logs on stderr.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use cilium_agent_api::Client;
use cilium_cni::{CniError, LinuxNode, code, run};

fn main() {
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with("CNI_"))
        .collect();
    let mut stdin = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
        let err = CniError::new(code::IO, format!("reading stdin: {e}"));
        println!("{}", err.to_json(cilium_cni::SpecVersion::LATEST.as_str()));
        std::process::exit(1);
    }
    let outcome = run(&env, &stdin, &Client::default(), &LinuxNode::current());
    for line in &outcome.log {
        eprintln!("cilium-cni: {line}");
    }
    let mut out = std::io::stdout().lock();
    // Nothing useful is left to do if stdout is closed.
    let _ = out.write_all(outcome.stdout.as_bytes());
    let _ = out.flush();
    std::process::exit(outcome.exit_code);
}
