//! The reference agent's CNI plugin (`cilium-cni`), spec versions 0.3.1 to 1.1.0.
//!
//! What it does: on ADD it leases an address from the agent, creates a veth pair with
//! the host side `lxc…` ([`naming::host_ifname`]) in the node's namespace and the pod side
//! `CNI_IFNAME` in `CNI_NETNS`, configures both over rtnetlink ([`netlink`], [`node`]) —
//! the pod gets `ip/32` and a default route via the link-local gateway `169.254.1.1`,
//! answered by a permanent neighbour entry — and registers the endpoint with the agent,
//! which answers once its policy is in the datapath. DEL, CHECK, STATUS, VERSION and GC
//! as the spec describes ([`commands`]).
//!
//! How it is built: [`commands::run`] takes the environment, stdin, an [`Agent`] and a
//! [`Node`] and returns what to print; the binary (`src/main.rs`) supplies the real
//! [`cilium_agent_api::Client`] and [`LinuxNode`]. Parsing ([`env`](mod@env),
//! [`config`]), results ([`result`]) and errors ([`error`]) are pure.
//!
//! What it is not: a general CNI library (no delegation to IPAM plugins; the agent is the
//! IPAM), nor the agent — endpoint state, identities and policy live in `cilium-agent`,
//! reached through `cilium-agent-api`.

pub mod agent;
pub mod commands;
pub mod config;
pub mod env;
pub mod error;
pub mod naming;
pub mod netlink;
pub mod netns;
pub mod node;
pub mod result;

pub use agent::Agent;
pub use commands::{Outcome, run};
pub use config::{NetConf, SUPPORTED_VERSIONS, SpecVersion};
pub use env::{CniEnv, Command};
pub use error::{CniError, code};
pub use naming::host_ifname;
pub use node::{LinuxNode, Node};
