//! A single label: `source:key=value`.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use super::LabelSource;
use crate::cidr::Cidr;

const RESERVED: &str = LabelSource::Reserved.as_str();
const RESERVED_KEY_PREFIX: &str = "reserved.";

/// A label: a key and a value tagged with the source they came from.
///
/// Written `source:key=value` (`k8s:app=web`), or `source:key` when the value is empty
/// (`reserved:host`). The source is kept as a string so labels of sources outside
/// [`LabelSource`] survive a round trip; compare it with [`LabelSource::as_str`] or use
/// [`Label::known_source`].
///
/// Ordering is by source, then key, then value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    source: String,
    key: String,
    value: String,
}

/// Splits the source off a label string the way Cilium does.
///
/// A leading `$` means `reserved` and the rest follows; otherwise the source is everything
/// before the first `:`; with no `:` at all, a `reserved.` prefix means `reserved`. Returns an
/// empty source when none was given.
fn split_source(s: &str) -> (&str, &str) {
    if let Some(rest) = s.strip_prefix('$') {
        return (RESERVED, rest);
    }
    match s.split_once(':') {
        Some((source, rest)) => (source, rest),
        None => match s.strip_prefix(RESERVED_KEY_PREFIX) {
            Some(rest) => (RESERVED, rest),
            None => ("", s),
        },
    }
}

impl Label {
    /// A label with Cilium's `NewLabel` semantics: `key` may itself carry a source.
    ///
    /// The key is first split like [`Label::parse`] splits a whole label (a `$` or
    /// `reserved.` prefix, or the text before the first `:`). If `source` is empty, that
    /// split-off source is used (or `unspec` if there is none); otherwise the split-off part is
    /// dropped. A key of only `$` or `reserved:` takes `value` as its key.
    ///
    /// So `Label::new("::key1", "value1", "source")` has key `:key1`. Use
    /// [`Label::from_parts`] to store a key verbatim.
    ///
    /// ```
    /// use cilium_core::Label;
    /// let l = Label::new("k8s:app", "web", "");
    /// assert_eq!((l.source(), l.key(), l.value()), ("k8s", "app", "web"));
    /// let l = Label::new("app", "web", "container");
    /// assert_eq!(l.to_string(), "container:app=web");
    /// ```
    #[doc(alias = "NewLabel")]
    pub fn new(key: impl AsRef<str>, value: impl AsRef<str>, source: impl AsRef<str>) -> Label {
        let (split_source, key) = split_source(key.as_ref());
        let source = match source.as_ref() {
            "" if split_source.is_empty() => LabelSource::Unspec.as_str(),
            "" => split_source,
            given => given,
        };
        let value = value.as_ref();
        let (key, value) = if split_source == RESERVED && key.is_empty() {
            (value, "")
        } else {
            (key, value)
        };
        Label::from_parts(source, key, value)
    }

    /// A label from its three parts, stored exactly as given (no source splitting).
    pub fn from_parts(
        source: impl Into<String>,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Label {
        Label {
            source: source.into(),
            key: key.into(),
            value: value.into(),
        }
    }

    /// Parses `source:key=value` like Cilium's `ParseLabel`; an absent source is `unspec`.
    ///
    /// - The source is the text before the first `:` (`k8s:foo=bar:` is source `k8s`, key
    ///   `foo`, value `bar:`); an empty source (`:key`) is `unspec`.
    /// - A leading `$` means source `reserved` (`$host`), as does a `reserved.` prefix when
    ///   the string has no `:` (`reserved.host`).
    /// - The key is the text before the first `=`, the value the text after it.
    /// - `reserved:=key` is the reserved label `key` with an empty value.
    ///
    /// Parsing never fails: every string is some label (possibly with an empty key).
    #[doc(alias = "ParseLabel")]
    pub fn parse(s: &str) -> Label {
        Label::parse_with_default(s, LabelSource::Unspec)
    }

    /// Parses a label used to select other labels (Cilium's `ParseSelectLabel`): like
    /// [`Label::parse`] but an absent source is `any`, which matches every source.
    #[doc(alias = "ParseSelectLabel")]
    pub fn parse_select(s: &str) -> Label {
        Label::parse_with_default(s, LabelSource::Any)
    }

    fn parse_with_default(s: &str, default: LabelSource) -> Label {
        let (split_source, rest) = split_source(s);
        let source = if split_source.is_empty() {
            default.as_str()
        } else {
            split_source
        };
        let (key, value) = match rest.find('=') {
            None => (rest, ""),
            Some(0) if split_source == RESERVED => (&rest[1..], ""),
            Some(i) => (&rest[..i], &rest[i + 1..]),
        };
        Label::from_parts(source, key, value)
    }

    /// The source, e.g. `"k8s"`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The key, e.g. `"app"`.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The value, e.g. `"web"`; empty for labels such as `reserved:host`.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The source as a [`LabelSource`], if it is one of the well-known ones.
    pub fn known_source(&self) -> Option<LabelSource> {
        LabelSource::from_name(&self.source)
    }

    /// Whether the source is `source`.
    pub fn has_source(&self, source: LabelSource) -> bool {
        self.source == source.as_str()
    }

    /// Whether the source is `any` (a selector label that matches every source).
    #[doc(alias = "IsAnySource")]
    pub fn is_any_source(&self) -> bool {
        self.has_source(LabelSource::Any)
    }

    /// Whether the source is `reserved`.
    #[doc(alias = "IsReservedSource")]
    pub fn is_reserved_source(&self) -> bool {
        self.has_source(LabelSource::Reserved)
    }

    /// The label as one entry of the identity allocator's key: `source:key=value;`, always
    /// with the `=` and the trailing `;`.
    ///
    /// Identities are stored under the concatenation of these strings, so this format must
    /// never change.
    #[doc(alias = "FormatForKVStore")]
    pub fn format_for_kvstore(&self) -> String {
        format!("{}:{}={};", self.source, self.key, self.value)
    }

    /// `source.key`, e.g. `any.key1` or `reserved.world`.
    #[doc(alias = "GetExtendedKey")]
    pub fn extended_key(&self) -> String {
        format!("{}.{}", self.source, self.key)
    }

    /// Whether this label is matched by the selector label `selector` (Cilium's `Has`).
    ///
    /// The selector may be looser than the label:
    /// - a selector of source `any` matches a label of every source; otherwise the sources
    ///   must be equal;
    /// - keys must be equal, except that when both sources are `cidr` and both keys are CIDR
    ///   label keys, the label's prefix only has to lie within the selector's prefix
    ///   (`cidr:10.0.0.1/32` is matched by `cidr:10.0.0.0/24`);
    /// - values must be equal.
    ///
    /// ```
    /// use cilium_core::Label;
    /// let pod = Label::parse("k8s:foo=bar");
    /// assert!(pod.matches(&Label::parse("any:foo=bar")));
    /// assert!(!Label::parse("any:foo=bar").matches(&pod));
    /// assert!(Label::parse("cidr:10.0.0.1/32").matches(&Label::parse("cidr:10.0.0.0/24")));
    /// ```
    #[doc(alias = "Has")]
    pub fn matches(&self, selector: &Label) -> bool {
        self.value == selector.value && self.matches_key(selector)
    }

    /// Like [`Label::matches`] but ignoring the values (Cilium's `HasKey`).
    #[doc(alias = "HasKey")]
    pub fn matches_key(&self, selector: &Label) -> bool {
        if !selector.is_any_source() && self.source != selector.source {
            return false;
        }
        if self.has_source(LabelSource::Cidr)
            && selector.has_source(LabelSource::Cidr)
            && let (Ok(mine), Ok(theirs)) = (
                Cidr::from_label_key(&self.key),
                Cidr::from_label_key(&selector.key),
            )
        {
            return theirs.contains(&mine);
        }
        self.key == selector.key
    }
}

/// `source.key` of a label string parsed like [`Label::parse_select`] (so an absent source is
/// `any`): `k8s:foo=bar` gives `k8s.foo`, `foo=bar` gives `any.foo`.
///
/// Cilium's `GetExtendedKeyFrom` does not special-case `reserved:=key` (it gives
/// `reserved.`); this function gives `reserved.key`, consistent with the parsed label.
#[doc(alias = "GetExtendedKeyFrom")]
pub fn extended_key_from(s: &str) -> String {
    Label::parse_select(s).extended_key()
}

/// `source:key=value`, or `source:key` when the value is empty (Cilium's `String()`).
impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.key)?;
        if !self.value.is_empty() {
            write!(f, "={}", self.value)?;
        }
        Ok(())
    }
}

/// [`Label::parse`]; never fails.
impl FromStr for Label {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Label::parse(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_shorthands() {
        assert_eq!(
            Label::parse("$host"),
            Label::from_parts("reserved", "host", "")
        );
        assert_eq!(
            Label::parse("reserved.host"),
            Label::from_parts("reserved", "host", "")
        );
        assert_eq!(
            Label::parse("reserved:=key"),
            Label::from_parts("reserved", "key", "")
        );
        assert_eq!(
            Label::new("$", "host", ""),
            Label::from_parts("reserved", "host", "")
        );
    }

    #[test]
    fn select_defaults_to_any() {
        assert_eq!(
            Label::parse_select("a=b"),
            Label::from_parts("any", "a", "b")
        );
        assert_eq!(Label::parse("a=b"), Label::from_parts("unspec", "a", "b"));
    }

    #[test]
    fn new_drops_the_split_source_when_one_is_given() {
        assert_eq!(
            Label::new("k8s:app", "web", "container"),
            Label::from_parts("container", "app", "web")
        );
        assert_eq!(
            Label::new("app", "", ""),
            Label::from_parts("unspec", "app", "")
        );
    }

    #[test]
    fn display_and_kvstore_forms() {
        let l = Label::from_parts("reserved", "host", "");
        assert_eq!(l.to_string(), "reserved:host");
        assert_eq!(l.format_for_kvstore(), "reserved:host=;");
        assert_eq!(l.extended_key(), "reserved.host");
    }

    #[test]
    fn cidr_matching_is_prefix_aware() {
        let host = Label::parse("cidr:10.0.0.1/32");
        assert!(host.matches(&Label::parse("cidr:10.0.0.0/24")));
        assert!(host.matches(&Label::parse("cidr:0.0.0.0/0")));
        assert!(!host.matches(&Label::parse("cidr:10.0.1.0/24")));
        assert!(!Label::parse("cidr:10.0.0.0/24").matches(&host));
        // The "any" source falls back to exact key comparison.
        assert!(!host.matches(&Label::parse("any:10.0.0.0/24")));
        assert!(host.matches(&Label::parse("any:10.0.0.1/32")));
        let v6 = Label::parse("cidr:2001-db8--1/128");
        assert!(v6.matches(&Label::parse("cidr:2001-db8--0/32")));
        assert!(!v6.matches(&Label::parse("cidr:10.0.0.0/8")));
        // Keys that are not CIDRs compare as strings.
        assert!(Label::parse("cidr:foo").matches(&Label::parse("cidr:foo")));
    }
}
