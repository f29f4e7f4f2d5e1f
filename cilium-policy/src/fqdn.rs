//! DNS name patterns (`matchPattern`) and names (`matchName`), as `toFQDNs` selectors and DNS
//! rules use them.
//!
//! Semantics (newest Cilium): names are compared lowercased with a trailing dot; in a pattern,
//! `*` matches zero or more of `[-a-zA-Z0-9_]` inside one label; a leading run of two or more
//! `*` followed by `.` matches one or more whole labels; a pattern of only `*` (optionally with a
//! trailing `.`) matches every name; patterns are anchored at both ends.

use std::fmt;

use regex::Regex;

/// Characters a pattern's `*` stands for.
const LABEL_CHARS: &str = "[-a-zA-Z0-9_]";

/// The longest name or pattern.
pub const MAX_FQDN_LEN: usize = 255;

/// Lowercases `name` and adds the trailing dot (Cilium's `FQDN()` after `ToLower`).
pub fn normalize_name(name: &str) -> String {
    let mut out = name.to_ascii_lowercase();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

/// Normalizes a pattern like Cilium's `Sanitize`: lowercase, and a trailing dot unless the
/// pattern is only `*`s.
pub fn sanitize_pattern(pattern: &str) -> String {
    let lower = pattern.to_ascii_lowercase();
    if lower.bytes().all(|b| b == b'*') {
        return lower;
    }
    normalize_name(&lower)
}

/// Why a pattern or name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FqdnError {
    /// Longer than 255 characters.
    #[error("{input:?} is longer than 255 characters")]
    TooLong {
        /// The input.
        input: String,
    },
    /// A character outside `[-a-zA-Z0-9_.]` (and `*` for patterns).
    #[error("{input:?} holds {found:?}, allowed are letters, digits, '-', '_', '.'{star}")]
    BadCharacter {
        /// The input.
        input: String,
        /// The first bad character.
        found: char,
        /// `" and '*'"` for patterns.
        star: &'static str,
    },
    /// Empty.
    #[error("name is empty")]
    Empty,
}

/// Checks a `matchName`.
///
/// # Errors
///
/// [`FqdnError`] naming the problem.
pub fn validate_name(name: &str) -> Result<(), FqdnError> {
    validate(name, false)
}

fn validate(input: &str, pattern: bool) -> Result<(), FqdnError> {
    if input.is_empty() {
        return Err(FqdnError::Empty);
    }
    if input.len() > MAX_FQDN_LEN {
        return Err(FqdnError::TooLong {
            input: input.to_owned(),
        });
    }
    if let Some(found) = input.chars().find(|&c| {
        !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' || (pattern && c == '*'))
    }) {
        return Err(FqdnError::BadCharacter {
            input: input.to_owned(),
            found,
            star: if pattern { " and '*'" } else { "" },
        });
    }
    Ok(())
}

/// A compiled `matchPattern`.
#[derive(Debug, Clone)]
pub struct FqdnPattern {
    pattern: String,
    regex: Regex,
}

impl FqdnPattern {
    /// Validates and compiles `pattern`.
    ///
    /// # Errors
    ///
    /// [`FqdnError`] for a bad pattern.
    pub fn new(pattern: &str) -> Result<FqdnPattern, FqdnError> {
        validate(pattern, true)?;
        let pattern = sanitize_pattern(pattern);
        let regex = Regex::new(&anchored_regex(&pattern)).expect("escaped pattern is a regex");
        Ok(FqdnPattern { pattern, regex })
    }

    /// The sanitized pattern (the key of the `fqdn:` identity label).
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether `name` (any case, with or without trailing dot) matches.
    pub fn matches(&self, name: &str) -> bool {
        !name.is_empty() && self.regex.is_match(&normalize_name(name))
    }
}

impl PartialEq for FqdnPattern {
    fn eq(&self, other: &FqdnPattern) -> bool {
        self.pattern == other.pattern
    }
}

impl Eq for FqdnPattern {}

impl fmt::Display for FqdnPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.pattern)
    }
}

/// The anchored regular expression of a sanitized pattern.
pub fn anchored_regex(pattern: &str) -> String {
    let trimmed = pattern.strip_suffix('.').unwrap_or(pattern);
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b == b'*') {
        return format!("(^({LABEL_CHARS}+[.])+$)|(^[.]$)");
    }
    let mut out = String::from("^");
    let mut rest = pattern;
    let stars = rest.bytes().take_while(|&b| b == b'*').count();
    if stars >= 2 && rest[stars..].starts_with('.') {
        out.push_str(&format!("({LABEL_CHARS}+([.]{LABEL_CHARS}+){{0,}})[.]"));
        rest = &rest[stars + 1..];
    }
    let mut last_star = false;
    for c in rest.chars() {
        match c {
            '*' if last_star => {}
            '*' => out.push_str(&format!("{LABEL_CHARS}*")),
            '.' => out.push_str("[.]"),
            c => out.push(c),
        }
        last_star = c == '*';
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        let p = FqdnPattern::new("*.cilium.io").unwrap();
        assert!(p.matches("sub.cilium.io"));
        assert!(p.matches("SUB.cilium.io."));
        assert!(!p.matches("a.b.cilium.io"));
        let all = FqdnPattern::new("*").unwrap();
        assert!(all.matches("anything.example."));
        let multi = FqdnPattern::new("**.cilium.io").unwrap();
        assert!(multi.matches("a.b.cilium.io"));
        assert!(!multi.matches("cilium.io"));
        assert!(FqdnPattern::new("bad name").is_err());
    }
}
