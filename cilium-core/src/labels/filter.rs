//! The identity-relevant label filter.

use std::fmt;
use std::sync::LazyLock;

use regex::Regex;

use super::{Label, LabelFilterError, LabelSet};

/// Cilium's default prefix list, in order: keep reserved labels, the pod namespace, namespace
/// labels, `app.kubernetes.io` and the cluster name; ignore other Kubernetes bookkeeping.
const DEFAULT_PREFIXES: [&str; 17] = [
    "reserved:.*",
    r"io\.kubernetes\.pod\.namespace",
    r"io\.cilium\.k8s\.namespace\.labels",
    r"app\.kubernetes\.io",
    r"io\.cilium\.k8s\.policy\.cluster",
    r"!io\.kubernetes",
    r"!kubernetes\.io",
    r"!statefulset\.kubernetes\.io/pod-name",
    r"!apps\.kubernetes\.io/pod-index",
    r"!batch\.kubernetes\.io/job-completion-index",
    r"!.*beta\.kubernetes\.io",
    r"!k8s\.io",
    "!pod-template-generation",
    "!pod-template-hash",
    "!controller-revision-hash",
    "!annotation.*",
    "!etcd_node",
];

/// The only prefix file version Cilium defines.
const PREFIX_FILE_VERSION: u32 = 1;

static DEFAULT_FILTER: LazyLock<LabelFilter> = LazyLock::new(|| {
    let prefixes = DEFAULT_PREFIXES
        .iter()
        .map(|p| LabelPrefix::parse(p).expect("the default label prefixes are valid"))
        .collect();
    LabelFilter {
        prefixes,
        allowlist: false,
    }
});

/// One entry of a [`LabelFilter`]: a regular expression that must match at the start of a
/// label key, optionally restricted to one label source, that either includes or ignores the
/// labels it matches.
#[derive(Debug, Clone)]
pub struct LabelPrefix {
    source: Option<String>,
    pattern: String,
    ignore: bool,
    /// `pattern` anchored at the start of the key.
    anchored: Regex,
}

impl LabelPrefix {
    /// Parses the command-line form `[source:][!]pattern` (Cilium's `--labels` syntax):
    /// `reserved:.*`, `k8s:app`, `!io\.kubernetes`, `k8s:!foo`. A leading `!` before the
    /// source (`!k8s:foo`) is accepted too.
    ///
    /// The source is the text before the first `:`, so a pattern that contains `:` needs an
    /// explicit source (an empty one, `:a:b`, matches every source).
    ///
    /// # Errors
    ///
    /// [`LabelFilterError::EmptyPattern`] or [`LabelFilterError::InvalidRegex`].
    pub fn parse(input: &str) -> Result<LabelPrefix, LabelFilterError> {
        let (mut ignore, rest) = match input.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let (source, mut pattern) = match rest.split_once(':') {
            Some((source, pattern)) => (source, pattern),
            None => ("", rest),
        };
        if let Some(p) = pattern.strip_prefix('!') {
            ignore = true;
            pattern = p;
        }
        LabelPrefix::build(input, source, pattern, ignore)
    }

    /// A prefix from its parts, as an entry of a prefix file holds them (`source`, `prefix`,
    /// `invert`). An empty `source` matches labels of every source.
    ///
    /// # Errors
    ///
    /// [`LabelFilterError::EmptyPattern`] or [`LabelFilterError::InvalidRegex`].
    pub fn new(source: &str, pattern: &str, ignore: bool) -> Result<LabelPrefix, LabelFilterError> {
        let input = format!("{}{source}:{pattern}", if ignore { "!" } else { "" });
        LabelPrefix::build(&input, source, pattern, ignore)
    }

    fn build(
        input: &str,
        source: &str,
        pattern: &str,
        ignore: bool,
    ) -> Result<LabelPrefix, LabelFilterError> {
        if pattern.is_empty() {
            return Err(LabelFilterError::EmptyPattern {
                input: input.to_owned(),
            });
        }
        let invalid = |e: regex::Error| LabelFilterError::InvalidRegex {
            input: input.to_owned(),
            reason: e.to_string(),
        };
        // Compiled alone first: a pattern that parses on its own has balanced groups, so
        // wrapping it cannot change its meaning (`a)|(b` must not become unanchored).
        Regex::new(pattern).map_err(invalid)?;
        let anchored = Regex::new(&format!("^(?:{pattern})")).map_err(invalid)?;
        Ok(LabelPrefix {
            source: (!source.is_empty()).then(|| source.to_owned()),
            pattern: pattern.to_owned(),
            ignore,
            anchored,
        })
    }

    /// The source this prefix is restricted to, if any.
    pub fn source(&self) -> Option<&str> {
        self.source.as_deref()
    }

    /// The regular expression, as given (unanchored).
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether labels matched by this prefix are ignored (`!`) rather than included.
    pub fn is_ignore(&self) -> bool {
        self.ignore
    }

    /// The length of the match of this prefix at the start of `label`'s key, or `None` if the
    /// source differs or the pattern does not match at offset 0.
    pub fn match_len(&self, label: &Label) -> Option<usize> {
        if self.source.as_deref().is_some_and(|s| s != label.source()) {
            return None;
        }
        self.anchored.find(label.key()).map(|m| m.end())
    }
}

/// `[!][source:]pattern`.
impl fmt::Display for LabelPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ignore {
            f.write_str("!")?;
        }
        if let Some(source) = &self.source {
            write!(f, "{source}:")?;
        }
        f.write_str(&self.pattern)
    }
}

/// Which labels count for a security identity (Cilium's `labelsfilter` configuration).
///
/// For each label, every [`LabelPrefix`] is tried at the start of the label key:
/// `included` is the longest match of an include prefix, `ignored` the shortest match of an
/// ignore prefix (0 when none matches). The label is identity-relevant iff
/// `(!allowlist && ignored == 0) || included > ignored`: a longer include match beats an
/// ignore, so `io.kubernetes.pod.namespace` is kept although `!io\.kubernetes` matches it.
///
/// [`LabelFilter::default`] is Cilium's default list and keeps every label that no ignore
/// prefix matches. User prefixes with at least one include switch to allowlist mode, where only
/// labels matched by an include are kept.
///
/// ```
/// use cilium_core::{Label, LabelSet};
/// use cilium_core::labels::LabelFilter;
///
/// let labels = LabelSet::parse_list(&["k8s:app=web", "k8s:version=2", "reserved:host"]);
/// let filter = LabelFilter::with_user_prefixes(["k8s:app"])?;
/// assert_eq!(filter.filter(&labels).to_string(), "k8s:app=web,reserved:host");
/// # Ok::<(), cilium_core::labels::LabelFilterError>(())
/// ```
#[doc(alias = "labelPrefixCfg")]
#[derive(Debug, Clone)]
pub struct LabelFilter {
    prefixes: Vec<LabelPrefix>,
    allowlist: bool,
}

/// Cilium's default prefix list (17 prefixes), not in allowlist mode.
impl Default for LabelFilter {
    fn default() -> Self {
        DEFAULT_FILTER.clone()
    }
}

impl LabelFilter {
    /// The default list plus user prefixes in the [`LabelPrefix::parse`] syntax (Cilium's
    /// `--labels`). Empty strings are skipped. Any include prefix among them switches on
    /// allowlist mode; ignore prefixes alone do not.
    ///
    /// # Errors
    ///
    /// The first prefix that does not parse.
    pub fn with_user_prefixes<I, S>(prefixes: I) -> Result<LabelFilter, LabelFilterError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut filter = LabelFilter::default();
        filter.add_user_prefixes(prefixes)?;
        Ok(filter)
    }

    /// The prefixes of a custom prefix file (Cilium's `--label-prefix-file`, whose JSON the
    /// caller has read: `version` and the `valid-prefixes` entries) instead of the default
    /// list. Any include entry switches on allowlist mode.
    ///
    /// Unlike Cilium, which matches file entries as plain string prefixes, the entries are
    /// regular expressions here too, like every other prefix.
    ///
    /// # Errors
    ///
    /// [`LabelFilterError::UnsupportedVersion`] unless `version` is 1,
    /// [`LabelFilterError::EmptySource`] for an entry without a source, and
    /// [`LabelFilterError::MissingReservedPrefix`] if no entry is `reserved:.*`.
    pub fn from_prefix_file(
        version: u32,
        prefixes: impl IntoIterator<Item = LabelPrefix>,
    ) -> Result<LabelFilter, LabelFilterError> {
        if version != PREFIX_FILE_VERSION {
            return Err(LabelFilterError::UnsupportedVersion { version });
        }
        let prefixes: Vec<LabelPrefix> = prefixes.into_iter().collect();
        if let Some(p) = prefixes.iter().find(|p| p.source.is_none()) {
            return Err(LabelFilterError::EmptySource {
                prefix: p.pattern.clone(),
            });
        }
        let has_reserved = prefixes
            .iter()
            .any(|p| !p.ignore && p.source() == Some("reserved") && p.pattern == ".*");
        if !has_reserved {
            return Err(LabelFilterError::MissingReservedPrefix {
                count: prefixes.len(),
            });
        }
        let allowlist = prefixes.iter().any(|p| !p.ignore);
        Ok(LabelFilter {
            prefixes,
            allowlist,
        })
    }

    /// Appends user prefixes (see [`LabelFilter::with_user_prefixes`]). On error the filter
    /// is left unchanged.
    ///
    /// # Errors
    ///
    /// The first prefix that does not parse.
    pub fn add_user_prefixes<I, S>(&mut self, prefixes: I) -> Result<(), LabelFilterError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let parsed = prefixes
            .into_iter()
            .filter(|p| !p.as_ref().is_empty())
            .map(|p| LabelPrefix::parse(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        self.allowlist |= parsed.iter().any(|p| !p.ignore);
        self.prefixes.extend(parsed);
        Ok(())
    }

    /// The prefixes, in order.
    pub fn prefixes(&self) -> &[LabelPrefix] {
        &self.prefixes
    }

    /// Whether only labels matched by an include prefix are kept.
    #[doc(alias = "whitelist")]
    pub fn is_allowlist(&self) -> bool {
        self.allowlist
    }

    /// Whether `label` counts for the identity.
    pub fn is_identity_relevant(&self, label: &Label) -> bool {
        let mut included = 0;
        let mut ignored = 0;
        for prefix in &self.prefixes {
            let Some(len) = prefix.match_len(label) else {
                continue;
            };
            if prefix.ignore {
                if ignored == 0 || len < ignored {
                    ignored = len;
                }
            } else {
                included = included.max(len);
            }
        }
        (!self.allowlist && ignored == 0) || included > ignored
    }

    /// The identity-relevant labels of `labels`.
    #[doc(alias = "Filter")]
    pub fn filter(&self, labels: &LabelSet) -> LabelSet {
        labels
            .iter()
            .filter(|l| self.is_identity_relevant(l))
            .cloned()
            .collect()
    }

    /// `labels` split into (identity-relevant, informational) labels.
    pub fn split(&self, labels: &LabelSet) -> (LabelSet, LabelSet) {
        labels
            .iter()
            .cloned()
            .partition(|l| self.is_identity_relevant(l))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_has_seventeen_prefixes_and_no_allowlist() {
        let f = LabelFilter::default();
        assert_eq!(f.prefixes().len(), 17);
        assert!(!f.is_allowlist());
        let shown: Vec<String> = f.prefixes().iter().map(|p| p.to_string()).collect();
        assert_eq!(shown, DEFAULT_PREFIXES);
    }

    #[test]
    fn ignore_only_user_prefixes_keep_denylist_mode() {
        let f = LabelFilter::with_user_prefixes(["!foo", "k8s:!bar", ""]).unwrap();
        assert!(!f.is_allowlist());
        assert!(!f.is_identity_relevant(&Label::parse("k8s:foo")));
        assert!(!f.is_identity_relevant(&Label::parse("k8s:bar")));
        assert!(f.is_identity_relevant(&Label::parse("container:bar")));
        assert!(f.is_identity_relevant(&Label::parse("k8s:baz")));
    }

    #[test]
    fn match_is_anchored_and_length_is_the_match() {
        let p = LabelPrefix::parse(r"!.*beta\.kubernetes\.io").unwrap();
        assert_eq!(
            p.match_len(&Label::parse("x.beta.kubernetes.io/arch")),
            Some(20)
        );
        let p = LabelPrefix::parse("k8s:app").unwrap();
        assert_eq!(p.match_len(&Label::parse("k8s:my-app")), None);
        assert_eq!(p.match_len(&Label::parse("container:app")), None);
        assert_eq!(p.match_len(&Label::parse("k8s:app-x")), Some(3));
    }

    #[test]
    fn errors_name_the_prefix() {
        assert_eq!(
            LabelPrefix::parse("k8s:!").unwrap_err(),
            LabelFilterError::EmptyPattern {
                input: "k8s:!".to_owned()
            }
        );
        let err = LabelFilter::with_user_prefixes(["k8s:app", "k8s:(unclosed"]).unwrap_err();
        assert!(
            matches!(&err, LabelFilterError::InvalidRegex { input, .. } if input == "k8s:(unclosed"),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .starts_with("label prefix \"k8s:(unclosed\" is not a valid")
        );
    }

    #[test]
    fn prefix_file_rules() {
        let reserved = || LabelPrefix::new("reserved", ".*", false).unwrap();
        let app = || LabelPrefix::new("k8s", "app", false).unwrap();
        assert_eq!(
            LabelFilter::from_prefix_file(2, [reserved()]).unwrap_err(),
            LabelFilterError::UnsupportedVersion { version: 2 }
        );
        assert_eq!(
            LabelFilter::from_prefix_file(1, [app()]).unwrap_err(),
            LabelFilterError::MissingReservedPrefix { count: 1 }
        );
        assert_eq!(
            LabelFilter::from_prefix_file(
                1,
                [reserved(), LabelPrefix::new("", "x", true).unwrap()]
            )
            .unwrap_err(),
            LabelFilterError::EmptySource {
                prefix: "x".to_owned()
            }
        );
        let f = LabelFilter::from_prefix_file(1, [reserved(), app()]).unwrap();
        assert!(f.is_allowlist());
        let labels = LabelSet::parse_list(&["k8s:app=a", "k8s:other=b", "reserved:host"]);
        assert_eq!(f.filter(&labels).to_string(), "k8s:app=a,reserved:host");
        let (kept, info) = f.split(&labels);
        assert_eq!(kept.len() + info.len(), 3);
        assert_eq!(info.to_string(), "k8s:other=b");
    }
}
