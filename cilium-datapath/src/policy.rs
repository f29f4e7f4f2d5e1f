//! Endpoint policy sync: a `cilium-policy` [`MapState`] converted to policy-map entries and
//! written to the endpoint's map as a diff.
//!
//! The conversion lives here, not in `cilium-policy`, so that the policy engine stays free of
//! the map ABI. Order of a sync: new and changed entries first, then removals; denies are
//! already pushed down to the specific keys by the map-state builder, so no intermediate state
//! lets through what both the old and the new policy deny.
//!
//! Failing closed: if the desired entries do not fit the map, or any write fails, the
//! endpoint's policy-ready flag is cleared, so its programs drop everything
//! (`CIL_DROP_EP_NOT_READY`) until a later sync succeeds — a half-written policy never
//! decides.

use std::collections::HashMap;

use cilium_maps::abi::{PolicyEntry, PolicyKey, consts::*};
use cilium_maps::{EndpointMap, MapError};
use cilium_policy::mapstate::{Entry, Key, MapState, Redirect, Verdict};
use cilium_policy::rule::Direction;

use crate::error::DatapathError;
use crate::loader::Datapath;

/// The policy-map key of a map-state key.
pub fn policy_key(key: &Key) -> PolicyKey {
    let direction = match key.direction {
        Direction::Ingress => CIL_DIR_INGRESS,
        Direction::Egress => CIL_DIR_EGRESS,
    };
    PolicyKey::new(
        key.identity.as_u32(),
        direction,
        key.protocol,
        key.port.port(),
        key.port.prefix_len(),
    )
}

/// The policy-map value of a map-state entry of `direction`; `proxy_port` gives the port of
/// the L7 proxy that serves a redirect in a direction (the embedding agent runs the proxies
/// and knows their ports; like Cilium, one listener per parser and direction). A redirect
/// without a proxy port is an error: the flow could not be enforced.
pub fn policy_entry(
    entry: &Entry,
    direction: Direction,
    proxy_port: &dyn Fn(Direction, &Redirect) -> Option<u16>,
) -> Result<PolicyEntry, String> {
    if entry.verdict == Verdict::Deny {
        return Ok(PolicyEntry::deny());
    }
    let port = match &entry.redirect {
        Some(r) => proxy_port(direction, r)
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("no proxy port for the {:?} redirect", r.parser))?,
        None => 0,
    };
    let mut value = PolicyEntry::allow(port);
    value.auth_type = entry.auth.map_or(0, |a| a as u8);
    Ok(value)
}

/// Every entry of `state` as policy-map entries (keys as the map stores them).
pub fn policy_entries(
    state: &MapState,
    proxy_port: &dyn Fn(Direction, &Redirect) -> Option<u16>,
) -> Result<HashMap<PolicyKey, PolicyEntry>, String> {
    let mut out = HashMap::new();
    for (key, entry) in state.iter() {
        let k = policy_key(key);
        let mut v =
            policy_entry(entry, key.direction, proxy_port).map_err(|e| format!("{k}: {e}"))?;
        v.lpm_prefix_length = k.prefixlen as u8;
        out.insert(k, v);
    }
    Ok(out)
}

/// What one [`Datapath::sync_policy`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicySyncStats {
    /// Entries the endpoint's policy now has.
    pub entries: usize,
    /// Entries written (new or changed).
    pub writes: usize,
    /// Entries removed.
    pub removals: usize,
}

/// Whether two entries decide the same (the counters are the datapath's).
fn same_decision(a: &PolicyEntry, b: &PolicyEntry) -> bool {
    (a.proxy_port, a.flags, a.auth_type, a.lpm_prefix_length)
        == (b.proxy_port, b.flags, b.auth_type, b.lpm_prefix_length)
}

/// Rewrites the flags of every entry of endpoint `endpoint_id` with `update`, writing only
/// entries whose flags change. Returns whether the endpoint has any entry.
fn update_flags(
    endpoints: &mut EndpointMap,
    endpoint_id: u16,
    update: impl Fn(u16) -> u16,
) -> Result<bool, MapError> {
    let mut found = false;
    for (key, mut info) in endpoints.entries()? {
        if info.endpoint_id != endpoint_id {
            continue;
        }
        found = true;
        let flags = update(info.flags);
        if flags != info.flags {
            info.flags = flags;
            endpoints.insert(&key, &info)?;
        }
    }
    Ok(found)
}

fn set_ready(endpoints: &mut EndpointMap, endpoint_id: u16, ready: bool) -> Result<bool, MapError> {
    update_flags(endpoints, endpoint_id, |flags| {
        if ready {
            flags | CIL_ENDPOINT_F_POLICY_READY
        } else {
            flags & !CIL_ENDPOINT_F_POLICY_READY
        }
    })
}

impl Datapath {
    /// Makes endpoint `endpoint_id`'s policy map hold `state`, and sets which directions are
    /// enforced. Writes only the difference to what the map holds. On success the endpoint is
    /// marked policy-ready; on failure it is left failing closed and the error says why
    /// (a full map is reported as such, never truncated).
    pub fn sync_policy(
        &self,
        endpoint_id: u16,
        state: &MapState,
        ingress_enforced: bool,
        egress_enforced: bool,
        proxy_port: &dyn Fn(Direction, &Redirect) -> Option<u16>,
    ) -> Result<PolicySyncStats, DatapathError> {
        let what = format!("endpoint {endpoint_id} policy");
        let mut endpoints = self.endpoints()?;
        let fail = |endpoints: &mut EndpointMap, reason: String, source: Option<MapError>| {
            // Best effort: if even this write fails the error below still reports the cause.
            let _ = set_ready(endpoints, endpoint_id, false);
            DatapathError::Sync {
                what: what.clone(),
                reason,
                source,
            }
        };
        let desired = match policy_entries(state, proxy_port) {
            Ok(d) => d,
            Err(reason) => return Err(fail(&mut endpoints, reason, None)),
        };
        let mut map = self.endpoint_policy(endpoint_id)?;
        if desired.len() > map.capacity() as usize {
            return Err(fail(
                &mut endpoints,
                format!(
                    "{} entries do not fit the policy map ({} entries)",
                    desired.len(),
                    map.capacity()
                ),
                Some(MapError::Full {
                    map: map.name().to_owned(),
                    capacity: map.capacity(),
                }),
            ));
        }
        let current: HashMap<PolicyKey, PolicyEntry> = match map.entries() {
            Ok(e) => e.into_iter().collect(),
            Err(e) => return Err(fail(&mut endpoints, e.to_string(), Some(e))),
        };
        let mut stats = PolicySyncStats {
            entries: desired.len(),
            ..PolicySyncStats::default()
        };
        for (k, v) in &desired {
            if current.get(k).is_some_and(|c| same_decision(c, v)) {
                continue;
            }
            if let Err(e) = map.insert(k, v) {
                return Err(fail(&mut endpoints, format!("write {k}: {e}"), Some(e)));
            }
            stats.writes += 1;
        }
        for k in current.keys().filter(|k| !desired.contains_key(k)) {
            match map.remove(k) {
                Ok(()) | Err(MapError::NotFound { .. }) => stats.removals += 1,
                Err(e) => return Err(fail(&mut endpoints, format!("remove {k}: {e}"), Some(e))),
            }
        }
        // Enforcement flags and readiness in one write per endpoint entry.
        let result = update_flags(&mut endpoints, endpoint_id, |flags| {
            let mut flags =
                flags & !(CIL_ENDPOINT_F_ENFORCE_INGRESS | CIL_ENDPOINT_F_ENFORCE_EGRESS);
            if ingress_enforced {
                flags |= CIL_ENDPOINT_F_ENFORCE_INGRESS;
            }
            if egress_enforced {
                flags |= CIL_ENDPOINT_F_ENFORCE_EGRESS;
            }
            flags | CIL_ENDPOINT_F_POLICY_READY
        });
        match result {
            Ok(true) => Ok(stats),
            Ok(false) => Err(DatapathError::Sync {
                what,
                reason: "no endpoint with this id in the endpoint map".into(),
                source: None,
            }),
            Err(e) => Err(fail(&mut endpoints, e.to_string(), Some(e))),
        }
    }
}

/// Marks endpoint `endpoint_id` not ready (its programs drop everything) — e.g. while its
/// policy is being computed for the first time.
pub fn mark_not_ready(endpoints: &mut EndpointMap, endpoint_id: u16) -> Result<bool, MapError> {
    set_ready(endpoints, endpoint_id, false)
}
