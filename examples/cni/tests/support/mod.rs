//! What the privileged tests share: a pair of network namespaces (`…-node` plays the node,
//! `…-pod` the pod) that is deleted when its guard drops, also after a failed assertion,
//! and the skip-or-fail rule: without root the tests are skipped with a message, unless
//! `CILIUM_PRIVILEGED_TESTS=1`, when they fail.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part; a test-only module

use std::process::Command;

/// Set by CI (and `cargo xtask test` as root): privileged tests must run.
pub const PRIVILEGED_ENV: &str = "CILIUM_PRIVILEGED_TESTS";

/// Two namespaces, `cilrs-cnitest-<pid>-<test>-node` and `…-pod`, deleted on drop.
pub struct Namespaces {
    /// The node's name.
    pub node: String,
    /// The pod's name.
    pub pod: String,
}

impl Namespaces {
    /// Creates them, or returns `None` (skip) when this process cannot; panics instead
    /// under `CILIUM_PRIVILEGED_TESTS=1`.
    pub fn create(test: &str) -> Option<Namespaces> {
        let prefix = format!("cilrs-cnitest-{}-{test}", std::process::id());
        // The guard exists before the namespaces do, so a half-made pair is cleaned too.
        let ns = Namespaces {
            node: format!("{prefix}-node"),
            pod: format!("{prefix}-pod"),
        };
        // SAFETY: geteuid has no preconditions.
        let why = if unsafe { libc::geteuid() } != 0 {
            Some("not root".to_owned())
        } else {
            [&ns.node, &ns.pod].into_iter().find_map(|name| {
                match Command::new("ip").args(["netns", "add", name]).output() {
                    Ok(o) if o.status.success() => None,
                    Ok(o) => Some(format!(
                        "ip netns add {name}: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    )),
                    Err(e) => Some(format!("cannot run ip: {e}")),
                }
            })
        };
        match why {
            None => Some(ns),
            Some(why) if std::env::var(PRIVILEGED_ENV).as_deref() == Ok("1") => {
                panic!("{test}: {PRIVILEGED_ENV}=1 but network namespaces cannot be made: {why}")
            }
            Some(why) => {
                eprintln!("skipping {test}: {why} (set {PRIVILEGED_ENV}=1 to make this fail)");
                None
            }
        }
    }

    /// `/run/netns/<name>`.
    pub fn path(name: &str) -> String {
        format!("/run/netns/{name}")
    }

    /// The pod namespace's path.
    pub fn pod_path(&self) -> String {
        Self::path(&self.pod)
    }

    /// The node namespace's path.
    pub fn node_path(&self) -> String {
        Self::path(&self.node)
    }

    /// Interface names in the namespace `ns`.
    pub fn links(ns: &str) -> Vec<String> {
        let out = Command::new("ip")
            .args(["-n", ns, "-o", "link", "show"])
            .output()
            .expect("run ip");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split(": ").nth(1))
            .map(|n| n.split('@').next().unwrap_or(n).to_owned())
            .collect()
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in [&self.pod, &self.node] {
            // A namespace that was never made makes `ip` complain; nothing to do about it.
            let _ = Command::new("ip").args(["netns", "del", name]).output();
        }
    }
}
