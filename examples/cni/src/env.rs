//! The `CNI_*` environment variables: which command, for which attachment.
//!
//! Required variables depend on the command (spec 1.1.0): ADD and CHECK need
//! `CNI_CONTAINERID`, `CNI_NETNS` and `CNI_IFNAME`; DEL needs `CNI_CONTAINERID` and
//! `CNI_IFNAME`; STATUS needs nothing; VERSION needs `CNI_COMMAND` only; GC needs
//! `CNI_PATH`. An empty variable counts as missing, as in libcni's `skel`: STATUS and GC
//! arrive with `CNI_CONTAINERID=""`, `CNI_NETNS=""` and `CNI_IFNAME=""`, which is fine for
//! them.

use std::collections::BTreeMap;

use crate::error::{CniError, code};

/// `CNI_COMMAND`.
pub const COMMAND: &str = "CNI_COMMAND";
/// `CNI_CONTAINERID`.
pub const CONTAINER_ID: &str = "CNI_CONTAINERID";
/// `CNI_NETNS`.
pub const NETNS: &str = "CNI_NETNS";
/// `CNI_IFNAME`.
pub const IFNAME: &str = "CNI_IFNAME";
/// `CNI_ARGS`.
pub const ARGS: &str = "CNI_ARGS";
/// `CNI_PATH`.
pub const PATH: &str = "CNI_PATH";

/// `CNI_ARGS` key of the pod's namespace.
pub const ARG_POD_NAMESPACE: &str = "K8S_POD_NAMESPACE";
/// `CNI_ARGS` key of the pod's name.
pub const ARG_POD_NAME: &str = "K8S_POD_NAME";
/// `CNI_ARGS` key of extra endpoint labels, comma separated (`k8s:app=web,k8s:tier=fe`).
pub const ARG_LABELS: &str = "CILIUM_LABELS";

/// What the runtime asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Create the attachment.
    Add,
    /// Remove it (best effort, repeatable).
    Del,
    /// Verify it.
    Check,
    /// Is the plugin ready for ADD?
    Status,
    /// Which spec versions the plugin speaks.
    Version,
    /// Remove what belongs to attachments that are not valid any more.
    Gc,
}

impl Command {
    /// Parses a `CNI_COMMAND` value.
    pub fn parse(s: &str) -> Option<Command> {
        Some(match s {
            "ADD" => Command::Add,
            "DEL" => Command::Del,
            "CHECK" => Command::Check,
            "STATUS" => Command::Status,
            "VERSION" => Command::Version,
            "GC" => Command::Gc,
            _ => return None,
        })
    }

    /// The `CNI_COMMAND` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::Add => "ADD",
            Command::Del => "DEL",
            Command::Check => "CHECK",
            Command::Status => "STATUS",
            Command::Version => "VERSION",
            Command::Gc => "GC",
        }
    }

    /// The variables the command cannot do without (besides `CNI_COMMAND`), in the order
    /// libcni lists them.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            Command::Add | Command::Check => &[CONTAINER_ID, NETNS, IFNAME],
            Command::Del => &[CONTAINER_ID, IFNAME],
            Command::Status | Command::Version => &[],
            Command::Gc => &[PATH],
        }
    }
}

/// `CNI_ARGS`: `K=V` pairs separated by `;`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CniArgs {
    pairs: Vec<(String, String)>,
}

impl CniArgs {
    /// Parses `K=V;K2=V2`; empty segments are skipped, a segment without `=` is an error.
    ///
    /// # Errors
    ///
    /// Code 4 naming the bad pair.
    pub fn parse(s: &str) -> Result<CniArgs, CniError> {
        let mut pairs = Vec::new();
        for part in s.split(';').filter(|p| !p.is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(CniError::new(
                    code::INVALID_ENV,
                    format!("CNI_ARGS: invalid pair {part:?} (expected KEY=VALUE)"),
                ));
            };
            pairs.push((k.to_owned(), v.to_owned()));
        }
        Ok(CniArgs { pairs })
    }

    /// The value of `key` (the last one if repeated); `None` when absent or empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// The parsed environment of one invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CniEnv {
    /// `CNI_COMMAND`.
    pub command: Command,
    /// `CNI_CONTAINERID` (empty when the command does not need it).
    pub container_id: String,
    /// `CNI_NETNS` (may be empty for DEL, STATUS, VERSION, GC).
    pub netns: String,
    /// `CNI_IFNAME` (empty when the command does not need it).
    pub ifname: String,
    /// `CNI_ARGS`.
    pub args: CniArgs,
    /// `CNI_PATH` (not used: this plugin delegates to no other plugin).
    pub path: String,
}

impl CniEnv {
    /// Parses the `CNI_*` variables of `env`.
    ///
    /// # Errors
    ///
    /// Code 4: `required env variables [A B] missing` naming every missing one; an unknown
    /// command; a malformed container id, interface name or `CNI_ARGS`.
    pub fn parse(env: &BTreeMap<String, String>) -> Result<CniEnv, CniError> {
        let var = |k: &str| env.get(k).map(String::as_str).unwrap_or_default();
        let cmd = var(COMMAND);
        if cmd.is_empty() {
            return Err(missing(&[COMMAND]));
        }
        let command = Command::parse(cmd).ok_or_else(|| {
            CniError::new(code::INVALID_ENV, format!("unknown CNI_COMMAND: {cmd}"))
        })?;
        let absent: Vec<&str> = command
            .required()
            .iter()
            .copied()
            .filter(|k| var(k).is_empty())
            .collect();
        if !absent.is_empty() {
            return Err(missing(&absent));
        }
        let parsed = CniEnv {
            command,
            container_id: var(CONTAINER_ID).to_owned(),
            netns: var(NETNS).to_owned(),
            ifname: var(IFNAME).to_owned(),
            // VERSION needs nothing else: podman sends dummy values there.
            args: if command == Command::Version {
                CniArgs::default()
            } else {
                CniArgs::parse(var(ARGS))?
            },
            path: var(PATH).to_owned(),
        };
        if matches!(command, Command::Add | Command::Del | Command::Check) {
            validate_container_id(&parsed.container_id)?;
            validate_ifname(&parsed.ifname)?;
        }
        Ok(parsed)
    }
}

fn missing(vars: &[&str]) -> CniError {
    CniError::new(
        code::INVALID_ENV,
        format!("required env variables [{}] missing", vars.join(" ")),
    )
}

/// `CNI_CONTAINERID` must start with a letter or digit, then `[A-Za-z0-9_.-]`.
///
/// # Errors
///
/// Code 4 naming the value.
pub fn validate_container_id(id: &str) -> Result<(), CniError> {
    let ok = id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(CniError::new(
            code::INVALID_ENV,
            format!(
                "CNI_CONTAINERID {id:?} is invalid: it must start with a letter or digit, \
                 followed by letters, digits, '_', '.' or '-'"
            ),
        ))
    }
}

/// `CNI_IFNAME` must be a usable Linux interface name: 1 to 15 bytes, not `.` or `..`, no
/// `/`, `:` or whitespace.
///
/// # Errors
///
/// Code 4 naming the value.
pub fn validate_ifname(name: &str) -> Result<(), CniError> {
    let why = if name.len() > 15 {
        Some("longer than 15 bytes")
    } else if name == "." || name == ".." {
        Some("not a name")
    } else if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace() || c == '\0')
    {
        Some("contains '/', ':', a NUL or whitespace")
    } else {
        None
    };
    match why {
        None => Ok(()),
        Some(why) => Err(CniError::new(
            code::INVALID_ENV,
            format!("CNI_IFNAME {name:?} is invalid: {why}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn missing_variables_are_all_named() {
        let e = CniEnv::parse(&env(&[(COMMAND, "ADD"), (IFNAME, "eth0")])).unwrap_err();
        assert_eq!(e.code, code::INVALID_ENV);
        assert_eq!(
            e.msg,
            "required env variables [CNI_CONTAINERID CNI_NETNS] missing"
        );
        let e = CniEnv::parse(&env(&[(COMMAND, "DEL"), (CONTAINER_ID, "")])).unwrap_err();
        assert_eq!(
            e.msg,
            "required env variables [CNI_CONTAINERID CNI_IFNAME] missing"
        );
        let e = CniEnv::parse(&env(&[])).unwrap_err();
        assert_eq!(e.msg, "required env variables [CNI_COMMAND] missing");
        let e = CniEnv::parse(&env(&[(COMMAND, "GC")])).unwrap_err();
        assert_eq!(e.msg, "required env variables [CNI_PATH] missing");
    }

    #[test]
    fn status_and_version_need_nothing_more() {
        for cmd in ["STATUS", "VERSION"] {
            let e = CniEnv::parse(&env(&[(COMMAND, cmd), (CONTAINER_ID, "")])).unwrap();
            assert_eq!(e.command.as_str(), cmd);
        }
    }

    #[test]
    fn del_does_without_netns() {
        let e = CniEnv::parse(&env(&[
            (COMMAND, "DEL"),
            (CONTAINER_ID, "abc"),
            (IFNAME, "eth0"),
        ]))
        .unwrap();
        assert_eq!(e.netns, "");
    }

    #[test]
    fn unknown_command() {
        let e = CniEnv::parse(&env(&[(COMMAND, "FOO")])).unwrap_err();
        assert_eq!((e.code, e.msg.as_str()), (4, "unknown CNI_COMMAND: FOO"));
    }

    #[test]
    fn bad_container_id_and_ifname() {
        let base = [(COMMAND, "DEL"), (CONTAINER_ID, "abc"), (IFNAME, "eth0")];
        for (k, v) in [
            (CONTAINER_ID, "-abc"),
            (CONTAINER_ID, "a/b"),
            (IFNAME, "a-very-long-name0"),
            (IFNAME, "a/b"),
            (IFNAME, ".."),
            (IFNAME, "et h0"),
        ] {
            let mut m = env(&base);
            m.insert(k.to_owned(), v.to_owned());
            let e = CniEnv::parse(&m).unwrap_err();
            assert_eq!(e.code, code::INVALID_ENV, "{k}={v}");
            assert!(e.msg.starts_with(k), "{}", e.msg);
        }
    }

    #[test]
    fn cni_args() {
        let a = CniArgs::parse("IgnoreUnknown=1;K8S_POD_NAMESPACE=x;K8S_POD_NAME=a;;E=").unwrap();
        assert_eq!(a.get(ARG_POD_NAMESPACE), Some("x"));
        assert_eq!(a.get(ARG_POD_NAME), Some("a"));
        assert_eq!(a.get("E"), None);
        assert_eq!(a.get("missing"), None);
        assert_eq!(
            CniArgs::parse("L=a=b").unwrap().get("L"),
            Some("a=b"),
            "only the first '=' splits"
        );
        let e = CniArgs::parse("K8S_POD_NAME").unwrap_err();
        assert_eq!(e.code, code::INVALID_ENV);
    }
}
