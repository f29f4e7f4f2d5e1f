//! The CNI error result (`{"cniVersion","code","msg","details"}`) and the codes this plugin
//! uses.
//!
//! The error JSON goes to **stdout** with exit status 1: libcni reads a plugin's error from
//! stdout and only falls back to stderr when stdout is empty. stderr carries log lines.

use std::error::Error;
use std::fmt::Write as _;

use cilium_agent_api::ClientError;
use serde_json::json;

/// Error codes: 0–99 are the spec's (plus libcni's 8 and 999), 100+ this plugin's.
pub mod code {
    /// The network config's `cniVersion` is not supported.
    pub const INCOMPATIBLE_VERSION: u32 = 1;
    /// A config field is not supported (the message names key and value).
    pub const UNSUPPORTED_FIELD: u32 = 2;
    /// The container is unknown or gone.
    pub const UNKNOWN_CONTAINER: u32 = 3;
    /// An environment variable is missing or invalid (the message names it).
    pub const INVALID_ENV: u32 = 4;
    /// I/O failure: netlink, sysctl, stdin.
    pub const IO: u32 = 5;
    /// stdin could not be decoded.
    pub const DECODE: u32 = 6;
    /// The network config is invalid (the message names the field).
    pub const INVALID_CONFIG: u32 = 7;
    /// `CNI_NETNS` does not name a usable network namespace (libcni's `ErrInvalidNetNS`).
    pub const INVALID_NETNS: u32 = 8;
    /// Try again later: the agent is not reachable, starting or busy.
    pub const TRY_AGAIN_LATER: u32 = 11;
    /// STATUS: the plugin cannot serve ADD now.
    pub const NOT_AVAILABLE: u32 = 50;
    /// CHECK found the live state different from the ADD result (plugin-specific code).
    pub const CHECK_FAILED: u32 = 100;
    /// Anything else, e.g. an error answer of the agent (libcni's `ErrInternal`).
    pub const INTERNAL: u32 = 999;
}

/// A CNI error result: what the plugin prints instead of a result when it fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{msg} (code {code})")]
pub struct CniError {
    /// One of [`code`].
    pub code: u32,
    /// What went wrong, naming the variable, field or object.
    pub msg: String,
    /// More context (e.g. the supported versions), possibly empty.
    pub details: String,
}

impl CniError {
    /// An error without details.
    pub fn new(code: u32, msg: impl Into<String>) -> CniError {
        CniError {
            code,
            msg: msg.into(),
            details: String::new(),
        }
    }

    /// Adds details.
    pub fn with_details(mut self, details: impl Into<String>) -> CniError {
        self.details = details.into();
        self
    }

    /// The error JSON, labelled with `cni_version`.
    pub fn to_json(&self, cni_version: &str) -> serde_json::Value {
        json!({
            "cniVersion": cni_version,
            "code": self.code,
            "msg": self.msg,
            "details": self.details,
        })
    }

    /// The error of a failed call to the agent while doing `what`: 11 ("try again later")
    /// when the agent is not running, answers 503 or the connection broke; 999 with the
    /// agent's message otherwise.
    pub fn from_agent(what: &str, e: &ClientError) -> CniError {
        let code = if e.is_unavailable() || matches!(e, ClientError::Io { .. }) {
            code::TRY_AGAIN_LATER
        } else {
            code::INTERNAL
        };
        CniError::new(code, format!("{what}: {}", chain(e)))
    }
}

/// `e` and its sources, joined by `": "`: the one-line message a CNI error needs.
pub fn chain(e: &dyn Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let _ = write!(s, ": {c}");
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_the_four_keys() {
        let e = CniError::new(code::DECODE, "bad").with_details("more");
        assert_eq!(
            e.to_json("1.0.0"),
            json!({"cniVersion": "1.0.0", "code": 6, "msg": "bad", "details": "more"})
        );
    }

    #[test]
    fn agent_errors_map_to_try_again_or_internal() {
        let down = ClientError::Unreachable {
            path: "/x.sock".into(),
            source: std::io::Error::from_raw_os_error(libc::ENOENT),
        };
        let e = CniError::from_agent("allocate an address", &down);
        assert_eq!(e.code, code::TRY_AGAIN_LATER);
        assert!(
            e.msg
                .starts_with("allocate an address: agent not reachable at /x.sock: "),
            "{}",
            e.msg
        );
        let busy = ClientError::Status {
            status: 503,
            message: "starting".into(),
        };
        assert_eq!(CniError::from_agent("x", &busy).code, code::TRY_AGAIN_LATER);
        let bad = ClientError::Status {
            status: 409,
            message: "pool exhausted".into(),
        };
        let e = CniError::from_agent("allocate an address", &bad);
        assert_eq!(e.code, code::INTERNAL);
        assert_eq!(
            e.msg,
            "allocate an address: agent answered 409: pool exhausted"
        );
    }
}
