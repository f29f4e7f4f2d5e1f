//! Errors of the `labels` module.

/// An error about a single label or label source.
///
/// Label parsing itself never fails (like Cilium's `ParseLabel`, every string is some label);
/// this covers the stricter conversions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// The string is not one of the 11 well-known label sources.
    #[error("label source {input:?} is not one of Cilium's label sources")]
    UnknownSource {
        /// The string that was parsed.
        input: String,
    },
}

/// An error building a [`LabelFilter`](super::LabelFilter) from label prefixes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelFilterError {
    /// The pattern part of the prefix (after an optional `source:` and `!`) is empty.
    #[error("label prefix {input:?} has an empty pattern")]
    EmptyPattern {
        /// The prefix as given.
        input: String,
    },
    /// The pattern is not a valid regular expression.
    #[error("label prefix {input:?} is not a valid regular expression: {reason}")]
    InvalidRegex {
        /// The prefix as given.
        input: String,
        /// What the regular expression compiler reported.
        reason: String,
    },
    /// An entry of a prefix file has no source (file entries must name one).
    #[error("label prefix file entry {prefix:?} has an empty source")]
    EmptySource {
        /// The pattern of the entry.
        prefix: String,
    },
    /// The prefix file has a version other than 1.
    #[error("label prefix file version {version} is not supported (expected 1)")]
    UnsupportedVersion {
        /// The version the file declared.
        version: u32,
    },
    /// The prefix file does not contain `reserved:.*`, without which reserved identities
    /// (host, world, ...) would lose their labels.
    #[error("label prefix file does not contain \"reserved:.*\" among its {count} prefixes")]
    MissingReservedPrefix {
        /// How many prefixes the file had.
        count: usize,
    },
}
