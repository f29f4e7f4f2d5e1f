//! The network config on stdin, and the spec versions this plugin speaks.
//!
//! Order of checks, as libcni's `skel` does it: decode the JSON (code 6), check
//! `cniVersion` (code 1), then read the plugin's own keys (code 7, naming the field).
//! Unknown keys are ignored; `capabilities` and `runtimeConfig` are tolerated (libcni 1.1.2
//! sends both).

use std::fmt;

use cilium_agent_api::Attachment;
use serde_json::{Map, Value};

use crate::error::{CniError, code};

/// A spec version this plugin speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SpecVersion {
    /// 0.3.1: `ips[].version` is present.
    V0_3_1,
    /// 0.4.0: adds CHECK.
    V0_4_0,
    /// 1.0.0: `ips[].version` is gone.
    V1_0_0,
    /// 1.1.0: adds STATUS, GC and `interfaces[].mtu`.
    V1_1_0,
}

/// What VERSION reports.
pub const SUPPORTED_VERSIONS: [&str; 4] = ["0.3.1", "0.4.0", "1.0.0", "1.1.0"];

impl SpecVersion {
    /// The newest version: the default of VERSION and of error results whose request
    /// version is unknown.
    pub const LATEST: SpecVersion = SpecVersion::V1_1_0;

    /// Parses one of [`SUPPORTED_VERSIONS`].
    pub fn parse(s: &str) -> Option<SpecVersion> {
        Some(match s {
            "0.3.1" => SpecVersion::V0_3_1,
            "0.4.0" => SpecVersion::V0_4_0,
            "1.0.0" => SpecVersion::V1_0_0,
            "1.1.0" => SpecVersion::V1_1_0,
            _ => return None,
        })
    }

    /// The spelling in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SpecVersion::V0_3_1 => "0.3.1",
            SpecVersion::V0_4_0 => "0.4.0",
            SpecVersion::V1_0_0 => "1.0.0",
            SpecVersion::V1_1_0 => "1.1.0",
        }
    }

    /// Results of this version carry `ips[].version` (before 1.0.0).
    pub fn has_ip_version(self) -> bool {
        self < SpecVersion::V1_0_0
    }
}

impl fmt::Display for SpecVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Default MTU of both veth ends.
pub const DEFAULT_MTU: u32 = 1500;

/// The network config, as this plugin reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct NetConf {
    /// `cniVersion`.
    pub cni_version: SpecVersion,
    /// `name` (the network's name).
    pub name: String,
    /// `type` (the binary's name, which libcni already used to find us).
    pub plugin_type: String,
    /// `mtu` (68–65535), [`DEFAULT_MTU`] when absent.
    pub mtu: u32,
    /// `labels`: extra endpoint labels (`source:key=value`).
    pub labels: Vec<String>,
    /// `prevResult`, when chained after another plugin, and on CHECK and DEL.
    pub prev_result: Option<Map<String, Value>>,
    /// `cni.dev/valid-attachments` (GC); `None` when absent, which GC treats as empty.
    pub valid_attachments: Option<Vec<Attachment>>,
}

/// Key of the attachments GC must keep.
pub const VALID_ATTACHMENTS: &str = "cni.dev/valid-attachments";

/// Decodes stdin as a JSON object.
///
/// # Errors
///
/// Code 6.
pub fn decode(stdin: &[u8]) -> Result<Map<String, Value>, CniError> {
    match serde_json::from_slice::<Value>(stdin) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(other) => Err(CniError::new(
            code::DECODE,
            format!(
                "failed to decode the network config: expected a JSON object, got {}",
                kind(&other)
            ),
        )),
        Err(e) => Err(CniError::new(
            code::DECODE,
            format!("failed to decode the network config: {e}"),
        )),
    }
}

/// The `cniVersion` of a decoded config.
///
/// # Errors
///
/// Code 6 when it is not a string; code 1 when it is not supported (missing means 0.1.0,
/// as in libcni), with details naming it and the supported ones.
pub fn spec_version(conf: &Map<String, Value>) -> Result<SpecVersion, CniError> {
    let v = match conf.get("cniVersion") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return Err(CniError::new(
                code::DECODE,
                format!(
                    "failed to decode the network config: cniVersion: expected a string, got {}",
                    kind(other)
                ),
            ));
        }
    };
    SpecVersion::parse(v).ok_or_else(|| {
        let shown = if v.is_empty() {
            "0.1.0 (no cniVersion given)"
        } else {
            v
        };
        CniError::new(
            code::INCOMPATIBLE_VERSION,
            "incompatible CNI versions".to_owned(),
        )
        .with_details(format!(
            "config is {shown:?}, plugin supports {SUPPORTED_VERSIONS:?}"
        ))
    })
}

/// The `cniVersion` string of `stdin`, if it is a JSON object with one: used to label error
/// results that happen before (or instead of) a full parse, and by VERSION.
pub fn peek_version(stdin: &[u8]) -> Option<String> {
    let m = decode(stdin).ok()?;
    m.get("cniVersion")?.as_str().map(str::to_owned)
}

impl NetConf {
    /// Decodes and validates stdin.
    ///
    /// # Errors
    ///
    /// 6 (not JSON, not an object), 1 (version), 7 (a field, named in the message).
    pub fn parse(stdin: &[u8]) -> Result<NetConf, CniError> {
        let conf = decode(stdin)?;
        let cni_version = spec_version(&conf)?;
        let name = required_string(&conf, "name", "missing network name")?;
        let plugin_type = required_string(&conf, "type", "missing plugin type")?;
        if plugin_type.contains('/') {
            return Err(invalid(format!(
                "type: {plugin_type:?} is not a plugin binary name"
            )));
        }
        let mtu = match conf.get("mtu") {
            None | Some(Value::Null) => DEFAULT_MTU,
            Some(v) => v
                .as_u64()
                .filter(|m| (68..=65535).contains(m))
                .and_then(|m| u32::try_from(m).ok())
                .ok_or_else(|| invalid(format!("mtu: {v} is not an integer in 68..=65535")))?,
        };
        let labels = match conf.get("labels") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, l)| match l.as_str() {
                    Some(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                    _ => Err(invalid(format!(
                        "labels[{i}]: {l} is not a non-empty string"
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Some(other) => {
                return Err(invalid(format!(
                    "labels: expected an array of strings, got {}",
                    kind(other)
                )));
            }
        };
        let prev_result = match conf.get("prevResult") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m.clone()),
            Some(other) => {
                return Err(invalid(format!(
                    "prevResult: expected an object, got {}",
                    kind(other)
                )));
            }
        };
        let valid_attachments = match conf.get(VALID_ATTACHMENTS) {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                serde_json::from_value::<Vec<Attachment>>(v.clone()).map_err(|e| {
                    invalid(format!(
                        "{VALID_ATTACHMENTS}: expected [{{\"containerID\", \"ifname\"}}]: {e}"
                    ))
                })?,
            ),
        };
        Ok(NetConf {
            cni_version,
            name,
            plugin_type,
            mtu,
            labels,
            prev_result,
            valid_attachments,
        })
    }
}

fn invalid(msg: String) -> CniError {
    CniError::new(code::INVALID_CONFIG, msg)
}

fn required_string(
    conf: &Map<String, Value>,
    key: &str,
    when_missing: &str,
) -> Result<String, CniError> {
    match conf.get(key) {
        None | Some(Value::Null) => Err(invalid(when_missing.to_owned())),
        Some(Value::String(s)) if s.is_empty() => Err(invalid(when_missing.to_owned())),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(invalid(format!(
            "{key}: expected a string, got {}",
            kind(other)
        ))),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<NetConf, CniError> {
        NetConf::parse(s.as_bytes())
    }

    #[test]
    fn minimal_and_full() {
        let c = parse(r#"{"cniVersion":"1.0.0","name":"n","type":"cilium-cni"}"#).unwrap();
        assert_eq!(c.cni_version, SpecVersion::V1_0_0);
        assert_eq!((c.mtu, c.labels.len()), (DEFAULT_MTU, 0));
        let c = parse(
            r#"{"cniVersion":"0.3.1","name":"n","type":"cilium-cni","mtu":9000,
                "labels":["k8s:app=web"," k8s:tier=fe "],"unknown":{"x":1},
                "capabilities":{"portMappings":true},"runtimeConfig":{"portMappings":[]},
                "prevResult":{"cniVersion":"0.3.1","dns":{"nameservers":["10.0.0.10"]}}}"#,
        )
        .unwrap();
        assert_eq!(c.mtu, 9000);
        assert_eq!(c.labels, ["k8s:app=web", "k8s:tier=fe"]);
        assert!(c.prev_result.unwrap().contains_key("dns"));
    }

    #[test]
    fn error_codes() {
        let cases: [(&str, u32, &str); 14] = [
            ("{", 6, "failed to decode"),
            ("[1]", 6, "expected a JSON object, got an array"),
            (r#"{"cniVersion":1,"name":"n","type":"t"}"#, 6, "cniVersion"),
            (
                r#"{"cniVersion":"9.9.9","name":"n","type":"t"}"#,
                1,
                "incompatible",
            ),
            (
                r#"{"cniVersion":"0.2.0","name":"n","type":"t"}"#,
                1,
                "incompatible",
            ),
            (r#"{"name":"n","type":"t"}"#, 1, "incompatible"),
            (
                r#"{"cniVersion":"1.0.0","type":"t"}"#,
                7,
                "missing network name",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"","type":"t"}"#,
                7,
                "missing network name",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n"}"#,
                7,
                "missing plugin type",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","type":5}"#,
                7,
                "type: expected a string",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","type":"t","mtu":"x"}"#,
                7,
                "mtu: \"x\"",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","type":"t","mtu":67}"#,
                7,
                "mtu: 67",
            ),
            (
                r#"{"cniVersion":"1.0.0","name":"n","type":"t","labels":[""]}"#,
                7,
                "labels[0]",
            ),
            (
                r#"{"cniVersion":"1.1.0","name":"n","type":"t","cni.dev/valid-attachments":[{"x":1}]}"#,
                7,
                "cni.dev/valid-attachments",
            ),
        ];
        for (input, want, text) in cases {
            let e = parse(input).unwrap_err();
            assert_eq!(e.code, want, "{input}: {e:?}");
            assert!(e.msg.contains(text), "{input}: {:?} lacks {text:?}", e.msg);
        }
        let e = parse(r#"{"cniVersion":"9.9.9","name":"n","type":"t"}"#).unwrap_err();
        assert_eq!(
            e.details,
            r#"config is "9.9.9", plugin supports ["0.3.1", "0.4.0", "1.0.0", "1.1.0"]"#
        );
    }

    #[test]
    fn valid_attachments() {
        let c = parse(
            r#"{"cniVersion":"1.1.0","name":"n","type":"t",
                "cni.dev/valid-attachments":[{"containerID":"c1","ifname":"eth0"}]}"#,
        )
        .unwrap();
        assert_eq!(
            c.valid_attachments.unwrap(),
            [Attachment {
                container_id: "c1".into(),
                ifname: "eth0".into()
            }]
        );
    }

    #[test]
    fn peek() {
        assert_eq!(
            peek_version(br#"{"cniVersion":"0.4.0"}"#).as_deref(),
            Some("0.4.0")
        );
        assert_eq!(peek_version(b"nope"), None);
    }
}
