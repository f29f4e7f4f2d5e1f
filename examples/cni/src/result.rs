//! The ADD result, in the request's spec version, merged into a `prevResult` when there is
//! one.
//!
//! Shapes: 1.0.0 and 1.1.0 `{"cniVersion","interfaces","ips","routes","dns"}` with
//! `ips[].interface` an index into `interfaces`; 1.1.0 adds `interfaces[].mtu`; 0.3.1 and
//! 0.4.0 also carry `ips[].version` (`"4"`). A `prevResult` (this plugin chained after
//! another) keeps its interfaces, addresses, routes, `dns` and any other key; ours are
//! appended.

use std::net::Ipv4Addr;

use serde_json::{Map, Value, json};

use crate::config::SpecVersion;
use crate::netlink::MacAddr;

/// What ADD built, for the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOutput {
    /// Host side of the veth.
    pub host_ifname: String,
    /// Its MAC.
    pub host_mac: MacAddr,
    /// `CNI_IFNAME`.
    pub ifname: String,
    /// The pod side's MAC.
    pub container_mac: MacAddr,
    /// `CNI_NETNS`.
    pub sandbox: String,
    /// MTU of both ends.
    pub mtu: u32,
    /// The pod's address.
    pub ip: Ipv4Addr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// The pod's gateway.
    pub gateway: Ipv4Addr,
}

/// The result JSON of ADD.
pub fn add_result(
    version: SpecVersion,
    out: &AddOutput,
    prev: Option<&Map<String, Value>>,
) -> Value {
    let mut r = prev.cloned().unwrap_or_default();
    let mut interfaces = take_array(&mut r, "interfaces");
    let host_index = interfaces.len();
    let mut host = json!({"name": out.host_ifname, "mac": out.host_mac.to_string()});
    let mut pod = json!({
        "name": out.ifname,
        "mac": out.container_mac.to_string(),
        "sandbox": out.sandbox,
    });
    if version >= SpecVersion::V1_1_0 {
        host["mtu"] = json!(out.mtu);
        pod["mtu"] = json!(out.mtu);
    }
    interfaces.push(host);
    interfaces.push(pod);

    let mut ips = take_array(&mut r, "ips");
    ips.push(json!({
        "address": format!("{}/{}", out.ip, out.prefix_len),
        "gateway": out.gateway.to_string(),
        "interface": host_index + 1,
    }));
    for ip in &mut ips {
        let Some(ip) = ip.as_object_mut() else {
            continue;
        };
        if version.has_ip_version() {
            if !ip.contains_key("version") {
                let v6 = ip
                    .get("address")
                    .and_then(Value::as_str)
                    .is_some_and(|a| a.contains(':'));
                ip.insert("version".into(), json!(if v6 { "6" } else { "4" }));
            }
        } else {
            ip.remove("version");
        }
    }

    let mut routes = take_array(&mut r, "routes");
    let default = json!({"dst": "0.0.0.0/0", "gw": out.gateway.to_string()});
    if !routes.contains(&default) {
        routes.push(default);
    }

    r.insert("cniVersion".into(), json!(version.as_str()));
    r.insert("interfaces".into(), Value::Array(interfaces));
    r.insert("ips".into(), Value::Array(ips));
    r.insert("routes".into(), Value::Array(routes));
    r.entry("dns").or_insert_with(|| json!({}));
    Value::Object(r)
}

fn take_array(m: &mut Map<String, Value>, key: &str) -> Vec<Value> {
    match m.remove(key) {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out() -> AddOutput {
        AddOutput {
            host_ifname: "lxc0123456789a".into(),
            host_mac: MacAddr([0x0a, 0, 0, 0, 0, 1]),
            ifname: "eth0".into(),
            container_mac: MacAddr([0x0a, 0, 0, 0, 0, 2]),
            sandbox: "/run/netns/p".into(),
            mtu: 1500,
            ip: Ipv4Addr::new(10, 200, 0, 5),
            prefix_len: 32,
            gateway: Ipv4Addr::new(169, 254, 1, 1),
        }
    }

    #[test]
    fn shape_per_version() {
        let r = add_result(SpecVersion::V1_0_0, &out(), None);
        assert_eq!(
            r,
            json!({
                "cniVersion": "1.0.0",
                "interfaces": [
                    {"name": "lxc0123456789a", "mac": "0a:00:00:00:00:01"},
                    {"name": "eth0", "mac": "0a:00:00:00:00:02", "sandbox": "/run/netns/p"},
                ],
                "ips": [{"address": "10.200.0.5/32", "gateway": "169.254.1.1", "interface": 1}],
                "routes": [{"dst": "0.0.0.0/0", "gw": "169.254.1.1"}],
                "dns": {},
            })
        );
        let r = add_result(SpecVersion::V1_1_0, &out(), None);
        assert_eq!(r["cniVersion"], "1.1.0");
        assert_eq!(r["interfaces"][0]["mtu"], 1500);
        assert_eq!(r["interfaces"][1]["mtu"], 1500);
        assert!(r["ips"][0].get("version").is_none());
        for v in [SpecVersion::V0_3_1, SpecVersion::V0_4_0] {
            let r = add_result(v, &out(), None);
            assert_eq!(r["cniVersion"], v.as_str());
            assert_eq!(r["ips"][0]["version"], "4");
            assert!(r["interfaces"][0].get("mtu").is_none());
        }
    }

    #[test]
    fn prev_result_is_kept_and_indices_shift() {
        let prev = json!({
            "cniVersion": "0.4.0",
            "interfaces": [{"name": "dummy0", "mac": "0a:00:00:00:00:09"}],
            "ips": [{"address": "fd00::5/64", "interface": 0}],
            "routes": [{"dst": "0.0.0.0/0", "gw": "169.254.1.1"}],
            "dns": {"nameservers": ["10.96.0.10"]},
            "custom": true,
        });
        let r = add_result(SpecVersion::V0_4_0, &out(), prev.as_object());
        assert_eq!(r["interfaces"].as_array().unwrap().len(), 3);
        assert_eq!(r["ips"][0]["version"], "6");
        assert_eq!(r["ips"][1]["interface"], 2);
        assert_eq!(
            r["routes"].as_array().unwrap().len(),
            1,
            "no duplicate route"
        );
        assert_eq!(r["dns"]["nameservers"][0], "10.96.0.10");
        assert_eq!(r["custom"], true);
    }
}
