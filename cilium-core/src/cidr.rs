//! IPv4 and IPv6 CIDRs, and their form as `cidr:` labels.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::labels::{Label, LabelSource};

/// An IPv4 or IPv6 prefix: an address and a prefix length, with the host bits cleared.
///
/// Ordering is by address (every IPv4 prefix before every IPv6 one), then prefix length.
///
/// ```
/// use cilium_core::Cidr;
/// let net: Cidr = "10.1.2.3/8".parse()?;
/// assert_eq!(net.to_string(), "10.0.0.0/8");
/// assert!(net.contains(&"10.9.0.0/16".parse()?));
/// assert_eq!(net.to_label().to_string(), "cidr:10.0.0.0/8");
/// let v6: Cidr = "2001:db8::/32".parse()?;
/// assert_eq!(v6.label_key(), "2001-db8--0/32");
/// assert_eq!(Cidr::from_label_key("2001-db8--0/32")?, v6);
/// # Ok::<(), cilium_core::cidr::CidrError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    addr: IpAddr,
    prefix_len: u8,
}

/// An error building or parsing a [`Cidr`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// The text before the `/` (or the whole input) is not an IP address.
    #[error("{input:?} is not an IP address or CIDR")]
    InvalidAddress {
        /// The text that was parsed.
        input: String,
    },
    /// The text after the `/` is not a decimal number.
    #[error("prefix length of {input:?} is not a decimal number")]
    InvalidPrefixLength {
        /// The text that was parsed.
        input: String,
    },
    /// The prefix length exceeds the address width (32 or 128).
    #[error("prefix length {prefix_len} of {addr} exceeds {max}")]
    PrefixTooLong {
        /// The address.
        addr: IpAddr,
        /// The prefix length given.
        prefix_len: u8,
        /// 32 for IPv4, 128 for IPv6.
        max: u8,
    },
    /// A strict constructor was given an address with bits set after the prefix.
    #[error("{addr}/{prefix_len} has host bits set")]
    HostBitsSet {
        /// The address.
        addr: IpAddr,
        /// The prefix length.
        prefix_len: u8,
    },
    /// The label does not have source `cidr`.
    #[error("label {label:?} is not a cidr label")]
    NotCidrLabel {
        /// The label, as `source:key[=value]`.
        label: String,
    },
}

const fn max_len(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

fn mask_addr(addr: IpAddr, prefix_len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix_len))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
        }
        IpAddr::V6(a) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix_len))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
        }
    }
}

impl Cidr {
    /// The prefix `addr/prefix_len`, clearing any host bits of `addr`.
    ///
    /// # Errors
    ///
    /// [`CidrError::PrefixTooLong`] if `prefix_len` exceeds 32 (IPv4) or 128 (IPv6).
    pub fn new(addr: IpAddr, prefix_len: u8) -> Result<Cidr, CidrError> {
        let max = max_len(addr);
        if prefix_len > max {
            return Err(CidrError::PrefixTooLong {
                addr,
                prefix_len,
                max,
            });
        }
        Ok(Cidr {
            addr: mask_addr(addr, prefix_len),
            prefix_len,
        })
    }

    /// Like [`Cidr::new`] but refusing an address with host bits set.
    ///
    /// # Errors
    ///
    /// [`CidrError::PrefixTooLong`] or [`CidrError::HostBitsSet`].
    pub fn new_strict(addr: IpAddr, prefix_len: u8) -> Result<Cidr, CidrError> {
        let cidr = Cidr::new(addr, prefix_len)?;
        if cidr.addr != addr {
            return Err(CidrError::HostBitsSet { addr, prefix_len });
        }
        Ok(cidr)
    }

    /// The prefix holding just `addr` (/32 or /128).
    pub fn host(addr: IpAddr) -> Cidr {
        Cidr {
            addr,
            prefix_len: max_len(addr),
        }
    }

    /// Parses like [`FromStr`] but refusing host bits (`10.0.0.1/8` is an error).
    ///
    /// # Errors
    ///
    /// As [`FromStr`], plus [`CidrError::HostBitsSet`].
    pub fn parse_strict(s: &str) -> Result<Cidr, CidrError> {
        let (addr, prefix_len) = split(s)?;
        Cidr::new_strict(addr, prefix_len)
    }

    /// The network address (host bits cleared).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// 32 for IPv4, 128 for IPv6.
    pub fn max_prefix_len(&self) -> u8 {
        max_len(self.addr)
    }

    /// Whether this is an IPv4 prefix.
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    /// Whether this is an IPv6 prefix.
    pub fn is_ipv6(&self) -> bool {
        self.addr.is_ipv6()
    }

    /// Whether the prefix holds a single address (/32 or /128).
    pub fn is_host(&self) -> bool {
        self.prefix_len == self.max_prefix_len()
    }

    /// Whether `addr` lies in this prefix (always false across address families).
    pub fn contains_addr(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.addr.is_ipv4() && mask_addr(addr, self.prefix_len) == self.addr
    }

    /// Whether `other` lies entirely within this prefix (a prefix contains itself).
    pub fn contains(&self, other: &Cidr) -> bool {
        other.prefix_len >= self.prefix_len && self.contains_addr(other.addr)
    }

    /// The key of this prefix in a `cidr:` label: the prefix with every `:` written as `-`,
    /// and a `0` added where the key would otherwise start or end with `-` (`::/0` is
    /// `0--0/0`), because selector keys may not start or end with `-`.
    pub fn label_key(&self) -> String {
        let text = self.addr.to_string();
        let mut key = String::with_capacity(text.len() + 6);
        if text.starts_with(':') {
            key.push('0');
        }
        key.extend(text.chars().map(|c| if c == ':' { '-' } else { c }));
        if text.ends_with(':') {
            key.push('0');
        }
        key.push('/');
        key.push_str(&self.prefix_len.to_string());
        key
    }

    /// The label of this prefix, e.g. `cidr:10.0.0.0/8` or `cidr:2001-db8--0/32`.
    pub fn to_label(&self) -> Label {
        Label::from_parts(LabelSource::Cidr.as_str(), self.label_key(), "")
    }

    /// Parses the key of a `cidr:` label (see [`Cidr::label_key`]); host bits are cleared.
    ///
    /// # Errors
    ///
    /// As [`FromStr`].
    pub fn from_label_key(key: &str) -> Result<Cidr, CidrError> {
        if key.contains(':') {
            // A label key never holds ':', so this is not one.
            return Err(CidrError::InvalidAddress {
                input: key.to_owned(),
            });
        }
        let text = key.replace('-', ":");
        let (addr, prefix_len) = split(&text).map_err(|e| match e {
            CidrError::InvalidAddress { .. } => CidrError::InvalidAddress {
                input: key.to_owned(),
            },
            CidrError::InvalidPrefixLength { .. } => CidrError::InvalidPrefixLength {
                input: key.to_owned(),
            },
            other => other,
        })?;
        Cidr::new(addr, prefix_len)
    }

    /// The prefix of a `cidr:` label.
    ///
    /// # Errors
    ///
    /// [`CidrError::NotCidrLabel`] for another source, or the errors of
    /// [`Cidr::from_label_key`].
    pub fn from_label(label: &Label) -> Result<Cidr, CidrError> {
        if !label.has_source(LabelSource::Cidr) {
            return Err(CidrError::NotCidrLabel {
                label: label.to_string(),
            });
        }
        Cidr::from_label_key(label.key())
    }
}

/// Splits `addr[/len]` into an address and a prefix length (full length when absent).
fn split(s: &str) -> Result<(IpAddr, u8), CidrError> {
    let (addr_text, len_text) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = addr_text.parse().map_err(|_| CidrError::InvalidAddress {
        input: s.to_owned(),
    })?;
    let prefix_len = match len_text {
        None => max_len(addr),
        Some(l) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => {
            // A number too large for u8 is far too long: reported as PrefixTooLong.
            l.parse::<u8>().unwrap_or(u8::MAX)
        }
        Some(_) => {
            return Err(CidrError::InvalidPrefixLength {
                input: s.to_owned(),
            });
        }
    };
    Ok((addr, prefix_len))
}

/// Parses `addr/len` or a bare address (a /32 or /128), clearing host bits like
/// [`Cidr::new`]; see [`Cidr::parse_strict`] to refuse them.
impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix_len) = split(s)?;
        Cidr::new(addr, prefix_len)
    }
}

/// `addr/len`, e.g. `10.0.0.0/8` or `2001:db8::/32`.
impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

impl From<IpAddr> for Cidr {
    fn from(addr: IpAddr) -> Self {
        Cidr::host(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parse_normalises_and_bare_addresses_are_hosts() {
        assert_eq!(c("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(c("10.1.2.3").to_string(), "10.1.2.3/32");
        assert_eq!(c("2001:db8::1").to_string(), "2001:db8::1/128");
        assert_eq!(c("0.0.0.0/0").prefix_len(), 0);
        assert_eq!(c("ff::/0").to_string(), "::/0");
    }

    #[test]
    fn errors_name_the_input() {
        assert_eq!(
            "10.0.0/8".parse::<Cidr>(),
            Err(CidrError::InvalidAddress {
                input: "10.0.0/8".to_owned()
            })
        );
        assert_eq!(
            "10.0.0.0/+8".parse::<Cidr>(),
            Err(CidrError::InvalidPrefixLength {
                input: "10.0.0.0/+8".to_owned()
            })
        );
        assert_eq!(
            "10.0.0.0/33".parse::<Cidr>(),
            Err(CidrError::PrefixTooLong {
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 0)),
                prefix_len: 33,
                max: 32
            })
        );
        assert_eq!(
            "::/1000".parse::<Cidr>(),
            Err(CidrError::PrefixTooLong {
                addr: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                prefix_len: 255,
                max: 128
            })
        );
        assert_eq!(
            Cidr::parse_strict("10.0.0.1/8"),
            Err(CidrError::HostBitsSet {
                addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
                prefix_len: 8
            })
        );
        assert_eq!(
            Cidr::from_label(&Label::parse("k8s:10.0.0.0/8")),
            Err(CidrError::NotCidrLabel {
                label: "k8s:10.0.0.0/8".to_owned()
            })
        );
        assert_eq!(
            "10.0.0/8".parse::<Cidr>().unwrap_err().to_string(),
            "\"10.0.0/8\" is not an IP address or CIDR"
        );
    }

    #[test]
    fn containment() {
        assert!(c("10.0.0.0/8").contains(&c("10.0.0.0/8")));
        assert!(c("10.0.0.0/8").contains(&c("10.255.0.0/16")));
        assert!(!c("10.0.0.0/16").contains(&c("10.0.0.0/8")));
        assert!(c("0.0.0.0/0").contains(&c("1.2.3.4")));
        assert!(!c("0.0.0.0/0").contains(&c("::1")));
        assert!(c("::/0").contains_addr("::1".parse().unwrap()));
        assert!(!c("::/0").contains_addr("1.2.3.4".parse().unwrap()));
    }

    #[test]
    fn label_keys_round_trip() {
        for (text, key) in [
            ("10.0.0.0/8", "10.0.0.0/8"),
            ("::/0", "0--0/0"),
            ("2001:db8::/32", "2001-db8--0/32"),
            ("::1/128", "0--1/128"),
            ("fd00::1:0/112", "fd00--1-0/112"),
            ("::ffff:1.2.3.4/128", "0--ffff-1.2.3.4/128"),
        ] {
            let cidr = c(text);
            assert_eq!(cidr.label_key(), key, "{text}");
            assert_eq!(Cidr::from_label_key(key), Ok(cidr), "{key}");
            assert_eq!(Cidr::from_label(&cidr.to_label()), Ok(cidr));
        }
        assert_eq!(
            Cidr::from_label_key("2001:db8::/32"),
            Err(CidrError::InvalidAddress {
                input: "2001:db8::/32".to_owned()
            })
        );
    }

    #[test]
    fn ordering_puts_ipv4_first() {
        let mut v = vec![c("::/0"), c("10.0.0.0/16"), c("10.0.0.0/8")];
        v.sort();
        assert_eq!(v, vec![c("10.0.0.0/8"), c("10.0.0.0/16"), c("::/0")]);
    }
}
