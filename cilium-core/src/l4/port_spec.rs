//! Ports as policies write them: a number or a named port.

use std::fmt;
use std::str::FromStr;

use super::{L4Error, Port};

/// A container port name, valid as a Kubernetes `IANA_SVC_NAME`: 1 to 15 characters of
/// lowercase letters, digits and `-`, at least one letter, no `-` at either end and no `--`.
///
/// ```
/// use cilium_core::l4::NamedPort;
/// assert_eq!(NamedPort::new("http-alt")?.as_str(), "http-alt");
/// assert!(NamedPort::new("HTTP").is_err());
/// # Ok::<(), cilium_core::l4::L4Error>(())
/// ```
#[doc(alias = "IANA_SVC_NAME")]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NamedPort(String);

impl NamedPort {
    /// The longest valid name.
    pub const MAX_LEN: usize = 15;

    /// Validates `name`.
    ///
    /// # Errors
    ///
    /// [`L4Error::InvalidPortName`] naming the input and the rule it breaks.
    pub fn new(name: &str) -> Result<NamedPort, L4Error> {
        let fail = |reason| {
            Err(L4Error::InvalidPortName {
                input: name.to_owned(),
                reason,
            })
        };
        if name.is_empty() {
            return fail("it is empty");
        }
        if name.len() > NamedPort::MAX_LEN {
            return fail("it is longer than 15 characters");
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return fail("it may only contain lowercase letters, digits and '-'");
        }
        if !name.bytes().any(|b| b.is_ascii_lowercase()) {
            return fail("it must contain at least one letter");
        }
        if name.starts_with('-') || name.ends_with('-') {
            return fail("it may not start or end with '-'");
        }
        if name.contains("--") {
            return fail("it may not contain '--'");
        }
        Ok(NamedPort(name.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NamedPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for NamedPort {
    type Err = L4Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NamedPort::new(s)
    }
}

/// A port in a policy: a number (0 meaning every port) or the name of a container port,
/// resolved per endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PortSpec {
    /// A port number.
    Number(Port),
    /// A named port.
    Name(NamedPort),
}

impl PortSpec {
    /// The port number, if this is not a named port.
    pub fn number(&self) -> Option<Port> {
        match self {
            PortSpec::Number(p) => Some(*p),
            PortSpec::Name(_) => None,
        }
    }

    /// The name, if this is a named port.
    pub fn name(&self) -> Option<&NamedPort> {
        match self {
            PortSpec::Number(_) => None,
            PortSpec::Name(n) => Some(n),
        }
    }
}

impl From<Port> for PortSpec {
    fn from(port: Port) -> Self {
        PortSpec::Number(port)
    }
}

impl From<NamedPort> for PortSpec {
    fn from(name: NamedPort) -> Self {
        PortSpec::Name(name)
    }
}

/// Digits are a port number; anything else must be a valid [`NamedPort`].
impl FromStr for PortSpec {
    type Err = L4Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            return s
                .parse::<Port>()
                .map(PortSpec::Number)
                .map_err(|_| L4Error::InvalidPort {
                    input: s.to_owned(),
                });
        }
        if s.is_empty() {
            return Err(L4Error::InvalidPort {
                input: String::new(),
            });
        }
        NamedPort::new(s).map(PortSpec::Name)
    }
}

/// The number or the name.
impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSpec::Number(p) => write!(f, "{p}"),
            PortSpec::Name(n) => write!(f, "{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> &'static str {
        match NamedPort::new(s) {
            Err(L4Error::InvalidPortName { input, reason }) => {
                assert_eq!(input, s);
                reason
            }
            other => panic!("{s:?}: {other:?}"),
        }
    }

    #[test]
    fn valid_names() {
        for ok in [
            "http",
            "h2c",
            "a",
            "dns-tcp",
            "x-1-2",
            "abcdefghijklmno",
            "1a",
        ] {
            assert_eq!(NamedPort::new(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn invalid_names() {
        assert_eq!(reason(""), "it is empty");
        assert_eq!(
            reason("abcdefghijklmnop"),
            "it is longer than 15 characters"
        );
        assert_eq!(
            reason("Http"),
            "it may only contain lowercase letters, digits and '-'"
        );
        assert_eq!(
            reason("a_b"),
            "it may only contain lowercase letters, digits and '-'"
        );
        assert_eq!(reason("12-34"), "it must contain at least one letter");
        assert_eq!(reason("-http"), "it may not start or end with '-'");
        assert_eq!(reason("http-"), "it may not start or end with '-'");
        assert_eq!(reason("a--b"), "it may not contain '--'");
        assert_eq!(
            NamedPort::new("a--b").unwrap_err().to_string(),
            "port name \"a--b\" is not a valid IANA service name: it may not contain '--'"
        );
    }

    #[test]
    fn port_specs() {
        assert_eq!("80".parse(), Ok(PortSpec::Number(80)));
        assert_eq!("0".parse(), Ok(PortSpec::Number(0)));
        assert_eq!(
            "http".parse(),
            Ok(PortSpec::Name(NamedPort::new("http").unwrap()))
        );
        assert_eq!(
            "65536".parse::<PortSpec>(),
            Err(L4Error::InvalidPort {
                input: "65536".to_owned()
            })
        );
        assert_eq!(
            "".parse::<PortSpec>(),
            Err(L4Error::InvalidPort {
                input: String::new()
            })
        );
        assert!(matches!(
            "http-x-".parse::<PortSpec>(),
            Err(L4Error::InvalidPortName { .. })
        ));
        assert_eq!(PortSpec::from(443).to_string(), "443");
    }
}
