//! Where identities live in a key-value store (Cilium's kvstore layout), as pure functions.
//!
//! Under a prefix (default `cilium/state/identities/v1`):
//!
//! | key | value | lifetime |
//! |---|---|---|
//! | `<prefix>/id/<identity>` | the label key (`source:key=value;...`) | until collected |
//! | `<prefix>/value/<label key>/<node>` | the identity, decimal | under the node's lease |
//! | `<prefix>/claim/<label key>` | the identity, decimal | with the `id` key |
//!
//! The first two are Cilium's (`Documentation/kvstore.rst`). The `claim` key is this crate's
//! addition: it is created in the same transaction as the `id` key, on the condition that
//! neither exists, so two nodes can never create two identities for one label set, nor one
//! identity for two label sets.

use cilium_core::NumericIdentity;

/// The default key prefix, Cilium's.
pub const DEFAULT_PREFIX: &str = "cilium/state/identities/v1";

/// A node name that cannot be part of a reference key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("node name {name:?} is not usable in a store key: {reason}")]
pub struct NodeNameError {
    /// The name given.
    pub name: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Checks that `name` can end a reference key: not empty, no `/`, no control characters.
///
/// # Errors
///
/// [`NodeNameError`] naming the problem.
pub fn check_node_name(name: &str) -> Result<(), NodeNameError> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name.contains('/') {
        "it contains '/'"
    } else if name.chars().any(char::is_control) {
        "it contains a control character"
    } else {
        return Ok(());
    };
    Err(NodeNameError {
        name: name.to_owned(),
        reason,
    })
}

/// The key layout under one prefix.
///
/// ```
/// use cilium_core::NumericIdentity;
/// use cilium_identity::layout::KvLayout;
///
/// let l = KvLayout::default();
/// assert_eq!(l.id_key(NumericIdentity(256)), "cilium/state/identities/v1/id/256");
/// assert_eq!(
///     l.value_key("k8s:app=web;", "node-1"),
///     "cilium/state/identities/v1/value/k8s:app=web;/node-1"
/// );
/// assert_eq!(l.parse_id_key("cilium/state/identities/v1/id/256"), Some(NumericIdentity(256)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvLayout {
    prefix: String,
}

impl Default for KvLayout {
    fn default() -> Self {
        KvLayout::new(DEFAULT_PREFIX)
    }
}

impl KvLayout {
    /// The layout under `prefix` (without a trailing `/`; one is stripped).
    pub fn new(prefix: impl Into<String>) -> KvLayout {
        let mut prefix = prefix.into();
        while prefix.ends_with('/') {
            prefix.pop();
        }
        KvLayout { prefix }
    }

    /// The prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `<prefix>/id/`: every identity.
    pub fn id_prefix(&self) -> String {
        format!("{}/id/", self.prefix)
    }

    /// `<prefix>/id/<id>`.
    pub fn id_key(&self, id: NumericIdentity) -> String {
        format!("{}/id/{id}", self.prefix)
    }

    /// `<prefix>/value/`: every reference.
    pub fn value_root(&self) -> String {
        format!("{}/value/", self.prefix)
    }

    /// `<prefix>/value/<label key>/`: the references of one label set.
    pub fn value_prefix(&self, label_key: &str) -> String {
        format!("{}/value/{label_key}/", self.prefix)
    }

    /// `<prefix>/value/<label key>/<node>`: one node's reference.
    pub fn value_key(&self, label_key: &str, node: &str) -> String {
        format!("{}/value/{label_key}/{node}", self.prefix)
    }

    /// `<prefix>/claim/<label key>`.
    pub fn claim_key(&self, label_key: &str) -> String {
        format!("{}/claim/{label_key}", self.prefix)
    }

    /// The identity of an `id` key; `None` for any other key or a malformed number.
    pub fn parse_id_key(&self, key: &str) -> Option<NumericIdentity> {
        let rest = key.strip_prefix(&self.prefix)?.strip_prefix("/id/")?;
        parse_decimal(rest)
    }

    /// The label key and node of a reference key. The node is what follows the last `/`
    /// (label keys may contain `/`, node names may not).
    pub fn parse_value_key<'k>(&self, key: &'k str) -> Option<(&'k str, &'k str)> {
        let rest = key.strip_prefix(&self.prefix)?.strip_prefix("/value/")?;
        let (label_key, node) = rest.rsplit_once('/')?;
        (!label_key.is_empty() && check_node_name(node).is_ok()).then_some((label_key, node))
    }
}

/// A decimal `u32` without sign, spaces or leading zeros.
pub fn parse_decimal(s: &str) -> Option<NumericIdentity> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok().map(NumericIdentity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_back() {
        let l = KvLayout::new("p/");
        assert_eq!(l.id_prefix(), "p/id/");
        assert_eq!(l.parse_id_key("p/id/65535"), Some(NumericIdentity(65535)));
        for bad in [
            "p/id/",
            "p/id/01",
            "p/id/-1",
            "p/id/1a",
            "q/id/1",
            "p/id/99999999999",
        ] {
            assert_eq!(l.parse_id_key(bad), None, "{bad}");
        }
        let key = l.value_key("k8s:app.kubernetes.io/name=x;", "n1");
        assert_eq!(
            l.parse_value_key(&key),
            Some(("k8s:app.kubernetes.io/name=x;", "n1"))
        );
        assert_eq!(l.parse_value_key("p/value/n1"), None);
        assert!(l.value_prefix("a=1;").starts_with(&l.value_root()));
        assert_eq!(l.claim_key("a=1;"), "p/claim/a=1;");
    }

    #[test]
    fn node_names() {
        assert!(check_node_name("node-1.example").is_ok());
        assert_eq!(
            check_node_name("a/b").unwrap_err().to_string(),
            "node name \"a/b\" is not usable in a store key: it contains '/'"
        );
        assert_eq!(check_node_name("").unwrap_err().reason, "it is empty");
    }
}
