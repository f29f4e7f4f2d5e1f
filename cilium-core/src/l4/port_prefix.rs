//! Port prefixes: aligned blocks of ports, as the policy map's LPM key holds them.

use std::fmt;

use super::{L4Error, Port, PortRange};

/// An aligned block of `2^(16 - prefix_len)` ports whose first `prefix_len` bits equal those
/// of `port`: how the policy map's LPM key expresses a port range (a range becomes several
/// prefixes, see [`PortRange::to_prefixes`]).
///
/// `prefix_len` 16 is a single port, 0 is every port.
///
/// ```
/// use cilium_core::PortPrefix;
/// let p = PortPrefix::new(8080, 14)?;
/// assert_eq!(p.mask(), 0xFFFC);
/// assert!(p.contains(8083) && !p.contains(8084));
/// # Ok::<(), cilium_core::l4::L4Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortPrefix {
    port: Port,
    prefix_len: u8,
}

impl PortPrefix {
    /// Every port (`0/0`).
    pub const ANY: PortPrefix = PortPrefix {
        port: 0,
        prefix_len: 0,
    };

    /// The prefix `port/prefix_len`.
    ///
    /// # Errors
    ///
    /// [`L4Error::PortPrefixTooLong`] if `prefix_len > 16`, [`L4Error::PortPrefixHostBits`] if
    /// `port` has bits set after the prefix.
    pub const fn new(port: Port, prefix_len: u8) -> Result<PortPrefix, L4Error> {
        if prefix_len > 16 {
            return Err(L4Error::PortPrefixTooLong { prefix_len });
        }
        let prefix = PortPrefix { port, prefix_len };
        if port & !prefix.mask() != 0 {
            return Err(L4Error::PortPrefixHostBits { port, prefix_len });
        }
        Ok(prefix)
    }

    /// The prefix holding just `port` (length 16).
    pub const fn exact(port: Port) -> PortPrefix {
        PortPrefix {
            port,
            prefix_len: 16,
        }
    }

    /// The first port.
    pub const fn port(&self) -> Port {
        self.port
    }

    /// The number of fixed leading bits (0..=16).
    pub const fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// The mask of the fixed bits: `0xFFFF` for length 16, `0` for length 0.
    pub const fn mask(&self) -> u16 {
        match u16::MAX.checked_shl(16 - self.prefix_len as u32) {
            Some(mask) => mask,
            None => 0,
        }
    }

    /// The mask of the free bits (`!mask()`), as Cilium stores it in the policy key.
    #[doc(alias = "InvertedPortMask")]
    pub const fn inverted_mask(&self) -> u16 {
        !self.mask()
    }

    /// The last port of the block.
    pub const fn last(&self) -> Port {
        self.port | self.inverted_mask()
    }

    /// Whether `port` is in the block.
    pub const fn contains(&self, port: Port) -> bool {
        port & self.mask() == self.port
    }

    /// The block as a range.
    pub const fn to_range(&self) -> PortRange {
        PortRange::from_prefix(*self)
    }
}

/// `port/prefix_len`, e.g. `8080/14`.
impl fmt::Display for PortPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.port, self.prefix_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(PortPrefix::ANY.mask(), 0);
        assert_eq!(PortPrefix::ANY.last(), 65535);
        assert_eq!(PortPrefix::exact(80).mask(), 0xFFFF);
        assert_eq!(PortPrefix::exact(80).inverted_mask(), 0);
        assert_eq!(PortPrefix::new(0x8000, 1).unwrap().last(), 0xFFFF);
    }

    #[test]
    fn errors() {
        assert_eq!(
            PortPrefix::new(80, 17),
            Err(L4Error::PortPrefixTooLong { prefix_len: 17 })
        );
        assert_eq!(
            PortPrefix::new(81, 15),
            Err(L4Error::PortPrefixHostBits {
                port: 81,
                prefix_len: 15
            })
        );
        assert_eq!(
            PortPrefix::new(81, 15).unwrap_err().to_string(),
            "port 81 has bits set after prefix length 15"
        );
    }
}
