//! Port ranges.

use std::fmt;
use std::str::FromStr;

use super::{L4Error, Port, PortPrefix};

/// An inclusive range of ports, `start..=end` with `start <= end` (a policy's `port` and
/// `endPort`).
///
/// ```
/// use cilium_core::{PortPrefix, PortRange};
/// let r = PortRange::new(8080, 8090)?;
/// let prefixes: Vec<String> = r.to_prefixes().iter().map(|p| p.to_string()).collect();
/// assert_eq!(prefixes, ["8080/13", "8088/15", "8090/16"]);
/// assert_eq!(PortRange::ALL.to_prefixes(), [PortPrefix::ANY]);
/// # Ok::<(), cilium_core::l4::L4Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    start: Port,
    end: Port,
}

impl PortRange {
    /// Every port, `0..=65535`.
    pub const ALL: PortRange = PortRange {
        start: 0,
        end: Port::MAX,
    };

    /// The range `start..=end`.
    ///
    /// # Errors
    ///
    /// [`L4Error::InvalidPortRange`] if `start > end`.
    pub const fn new(start: Port, end: Port) -> Result<PortRange, L4Error> {
        if start > end {
            return Err(L4Error::InvalidPortRange { start, end });
        }
        Ok(PortRange { start, end })
    }

    /// The range holding just `port`.
    pub const fn single(port: Port) -> PortRange {
        PortRange {
            start: port,
            end: port,
        }
    }

    pub(crate) const fn from_prefix(prefix: PortPrefix) -> PortRange {
        PortRange {
            start: prefix.port(),
            end: prefix.last(),
        }
    }

    /// The first port.
    pub const fn start(&self) -> Port {
        self.start
    }

    /// The last port.
    pub const fn end(&self) -> Port {
        self.end
    }

    /// How many ports the range holds (1..=65536).
    pub const fn len(&self) -> u32 {
        self.end as u32 - self.start as u32 + 1
    }

    /// Always false: a range holds at least one port.
    pub const fn is_empty(&self) -> bool {
        false
    }

    /// Whether the range holds a single port.
    pub const fn is_single(&self) -> bool {
        self.start == self.end
    }

    /// Whether `port` is in the range.
    pub const fn contains(&self, port: Port) -> bool {
        self.start <= port && port <= self.end
    }

    /// The fewest aligned [`PortPrefix`]es that together hold exactly the ports of the range,
    /// in ascending order: each step takes the largest aligned block that starts at the next
    /// uncovered port and does not pass the end.
    #[doc(alias = "PortRangeToMaskedPorts")]
    pub fn to_prefixes(&self) -> Vec<PortPrefix> {
        let mut prefixes = Vec::new();
        let end = u32::from(self.end);
        let mut next = u32::from(self.start);
        while next <= end {
            // Alignment of `next` bounds the block size; 0 is aligned to everything.
            let mut free_bits = next.trailing_zeros().min(16);
            while next + (1 << free_bits) - 1 > end {
                free_bits -= 1;
            }
            let port = Port::try_from(next).expect("next <= end <= 65535");
            prefixes.push(PortPrefix::new(port, 16 - free_bits as u8).expect("aligned block"));
            next += 1 << free_bits;
        }
        prefixes
    }
}

impl From<PortPrefix> for PortRange {
    fn from(prefix: PortPrefix) -> Self {
        PortRange::from_prefix(prefix)
    }
}

/// `start-end`, or just the port for a single-port range.
impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_single() {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

/// Parses `port` or `start-end` (decimal).
impl FromStr for PortRange {
    type Err = L4Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let number = |t: &str| -> Result<Port, L4Error> {
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(L4Error::InvalidPort {
                    input: s.to_owned(),
                });
            }
            t.parse().map_err(|_| L4Error::InvalidPort {
                input: s.to_owned(),
            })
        };
        match s.split_once('-') {
            Some((a, b)) => PortRange::new(number(a)?, number(b)?),
            None => Ok(PortRange::single(number(s)?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cases() {
        assert_eq!(PortRange::single(80).to_prefixes(), [PortPrefix::exact(80)]);
        assert_eq!(
            PortRange::new(0, 1).unwrap().to_prefixes(),
            [PortPrefix::new(0, 15).unwrap()]
        );
        assert_eq!(
            PortRange::new(1, 65535).unwrap().to_prefixes().len(),
            16,
            "1..=65535 needs one block per bit"
        );
        assert_eq!(
            PortRange::new(65535, 65535).unwrap().to_prefixes(),
            [PortPrefix::exact(65535)]
        );
    }

    #[test]
    fn parse_and_errors() {
        assert_eq!("80".parse(), Ok(PortRange::single(80)));
        assert_eq!("80-90".parse(), Ok(PortRange::new(80, 90).unwrap()));
        assert_eq!(
            "90-80".parse::<PortRange>(),
            Err(L4Error::InvalidPortRange { start: 90, end: 80 })
        );
        assert_eq!(
            PortRange::new(90, 80).unwrap_err().to_string(),
            "port range 90-80 ends before it starts"
        );
        assert_eq!(
            "80-".parse::<PortRange>(),
            Err(L4Error::InvalidPort {
                input: "80-".to_owned()
            })
        );
        assert_eq!(
            "65536".parse::<PortRange>(),
            Err(L4Error::InvalidPort {
                input: "65536".to_owned()
            })
        );
        assert_eq!(PortRange::new(80, 90).unwrap().to_string(), "80-90");
        assert_eq!(PortRange::single(80).to_string(), "80");
    }
}
