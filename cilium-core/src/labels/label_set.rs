//! A set of labels with one label per key.

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::fmt;

use super::{Label, LabelSource};

/// A set of labels keyed by label key, at most one label per key (Cilium's `Labels` map).
///
/// Iteration is in key order (byte order), which is also the order of
/// [`LabelSet::sorted_list`], the identity allocator's key.
#[doc(alias = "Labels")]
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelSet {
    by_key: BTreeMap<String, Label>,
}

impl LabelSet {
    /// An empty set.
    pub fn new() -> LabelSet {
        LabelSet::default()
    }

    /// Parses each string with [`Label::parse`] and collects the labels, skipping those with
    /// an empty key (Cilium's `NewLabelsFromModel`). A later label replaces an earlier one
    /// with the same key.
    #[doc(alias = "NewLabelsFromModel")]
    pub fn parse_list<S: AsRef<str>>(labels: &[S]) -> LabelSet {
        labels
            .iter()
            .map(|s| Label::parse(s.as_ref()))
            .filter(|l| !l.key().is_empty())
            .collect()
    }

    /// Parses the output of [`LabelSet::sorted_list`] back into a set (Cilium's
    /// `NewLabelsFromSortedList`). Exact only for keys without `=` or `;`.
    #[doc(alias = "NewLabelsFromSortedList")]
    pub fn parse_sorted_list(list: &str) -> LabelSet {
        let parts: Vec<&str> = list.split(';').collect();
        LabelSet::parse_list(&parts)
    }

    /// Labels from `key → value` pairs, each built with [`Label::new`]`(key, value, source)`
    /// (Cilium's `Map2Labels`): a non-empty `source` overrides any source written in a key.
    #[doc(alias = "Map2Labels")]
    pub fn from_key_values<K, V>(
        pairs: impl IntoIterator<Item = (K, V)>,
        source: impl AsRef<str>,
    ) -> LabelSet
    where
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let source = source.as_ref();
        pairs
            .into_iter()
            .map(|(k, v)| Label::new(k, v, source))
            .collect()
    }

    /// Inserts `label` under its key; returns the label it replaced, if any.
    pub fn insert(&mut self, label: Label) -> Option<Label> {
        self.by_key.insert(label.key().to_owned(), label)
    }

    /// Removes and returns the label with key `key`.
    pub fn remove(&mut self, key: &str) -> Option<Label> {
        self.by_key.remove(key)
    }

    /// The label with key `key`.
    pub fn get(&self, key: &str) -> Option<&Label> {
        self.by_key.get(key)
    }

    /// Whether a label with key `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.by_key.contains_key(key)
    }

    /// How many labels the set holds.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The labels in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.by_key.values(),
        }
    }

    /// Adds every label of `other`, replacing labels with the same key (Cilium's
    /// `MergeLabels`).
    #[doc(alias = "MergeLabels")]
    pub fn merge(&mut self, other: &LabelSet) {
        for label in other {
            self.insert(label.clone());
        }
    }

    /// Whether any label of the set is matched by `selector` (see [`Label::matches`]).
    #[doc(alias = "Has")]
    pub fn has(&self, selector: &Label) -> bool {
        self.iter().any(|l| l.matches(selector))
    }

    /// The labels of source `source`.
    #[doc(alias = "GetFromSource")]
    pub fn from_source(&self, source: impl AsRef<str>) -> LabelSet {
        let source = source.as_ref();
        self.iter()
            .filter(|l| l.source() == source)
            .cloned()
            .collect()
    }

    /// Whether any label has source `reserved`.
    #[doc(alias = "IsReserved")]
    pub fn has_reserved(&self) -> bool {
        self.iter().any(Label::is_reserved_source)
    }

    /// Whether the set holds the label `reserved:<name>` (any value).
    pub fn has_reserved_key(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|l| l.has_source(LabelSource::Reserved))
    }

    /// The canonical key of this set for the identity allocator: the labels in key order
    /// (byte order), each as [`Label::format_for_kvstore`], concatenated.
    ///
    /// Identities are stored under this string (`cilium/state/identities/v1/value/<this>/…`),
    /// so the format must never change.
    ///
    /// ```
    /// use cilium_core::LabelSet;
    /// let set = LabelSet::parse_list(&["k8s:b=2", "k8s:a=1", "reserved:host"]);
    /// assert_eq!(set.sorted_list(), "k8s:a=1;k8s:b=2;reserved:host=;");
    /// ```
    #[doc(alias = "SortedList")]
    pub fn sorted_list(&self) -> String {
        self.iter().map(Label::format_for_kvstore).collect()
    }

    /// The labels as `source:key[=value]` strings, in key order (Cilium's `GetModel`, sorted).
    #[doc(alias = "GetModel")]
    pub fn to_strings(&self) -> Vec<String> {
        self.iter().map(Label::to_string).collect()
    }
}

/// The labels' [`Display`](fmt::Display) forms in key order, separated by `,`.
impl fmt::Display for LabelSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, label) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{label}")?;
        }
        Ok(())
    }
}

impl FromIterator<Label> for LabelSet {
    fn from_iter<I: IntoIterator<Item = Label>>(iter: I) -> Self {
        let mut set = LabelSet::new();
        set.extend(iter);
        set
    }
}

impl Extend<Label> for LabelSet {
    fn extend<I: IntoIterator<Item = Label>>(&mut self, iter: I) {
        for label in iter {
            self.insert(label);
        }
    }
}

impl<'a> IntoIterator for &'a LabelSet {
    type Item = &'a Label;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl IntoIterator for LabelSet {
    type Item = Label;
    type IntoIter = IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        IntoIter {
            inner: self.by_key.into_values(),
        }
    }
}

/// Iterator over the labels of a [`LabelSet`] in key order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    inner: btree_map::Values<'a, String, Label>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Label;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back()
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// Owning iterator over the labels of a [`LabelSet`] in key order.
#[derive(Debug)]
pub struct IntoIter {
    inner: btree_map::IntoValues<String, Label>,
}

impl Iterator for IntoIter {
    type Item = Label;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for IntoIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back()
    }
}

impl ExactSizeIterator for IntoIter {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_label_per_key() {
        let mut set = LabelSet::parse_list(&["k8s:app=web"]);
        let old = set.insert(Label::parse("container:app=db"));
        assert_eq!(old, Some(Label::parse("k8s:app=web")));
        assert_eq!(set.len(), 1);
        assert_eq!(set.get("app"), Some(&Label::parse("container:app=db")));
    }

    #[test]
    fn parse_list_skips_empty_keys_and_round_trips_sorted_list() {
        let set = LabelSet::parse_list(&["", ":", "k8s:a=1", "$host"]);
        assert_eq!(set.len(), 2);
        assert_eq!(LabelSet::parse_sorted_list(&set.sorted_list()), set);
        assert_eq!(set.to_string(), "k8s:a=1,reserved:host");
    }

    #[test]
    fn has_uses_selector_matching() {
        let set = LabelSet::parse_list(&["k8s:foo=bar", "cidr:10.0.0.1/32"]);
        assert!(set.has(&Label::parse_select("foo=bar")));
        assert!(set.has(&Label::parse("cidr:10.0.0.0/8")));
        assert!(!set.has(&Label::parse("container:foo=bar")));
        assert!(!set.has_reserved());
    }
}
