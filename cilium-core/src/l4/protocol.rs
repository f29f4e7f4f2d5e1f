//! L4 protocols.

use std::fmt;
use std::str::FromStr;

use super::L4Error;

/// An L4 protocol as policies name it (Cilium's `L4Proto`), with its IANA protocol number.
///
/// `Any` (number 0) is the wildcard; for ports it stands for TCP, UDP and SCTP (see
/// [`Protocol::expand`]).
#[doc(alias = "L4Proto", alias = "U8proto")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Protocol {
    /// Every protocol (`ANY`, or an empty protocol in a policy); number 0.
    #[doc(alias = "ProtoAny")]
    #[default]
    Any = 0,
    /// ICMP for IPv4; number 1.
    #[doc(alias = "ProtoICMP")]
    Icmp = 1,
    /// TCP; number 6.
    #[doc(alias = "ProtoTCP")]
    Tcp = 6,
    /// UDP; number 17.
    #[doc(alias = "ProtoUDP")]
    Udp = 17,
    /// ICMP for IPv6; number 58.
    #[doc(alias = "ProtoICMPv6")]
    IcmpV6 = 58,
    /// SCTP; number 132.
    #[doc(alias = "ProtoSCTP")]
    Sctp = 132,
}

impl Protocol {
    /// Every protocol, in the order Cilium lists them.
    pub const ALL: [Protocol; 6] = [
        Protocol::Tcp,
        Protocol::Udp,
        Protocol::Sctp,
        Protocol::Icmp,
        Protocol::IcmpV6,
        Protocol::Any,
    ];

    /// The IANA protocol number (0 for `Any`).
    pub const fn as_u8(self) -> u8 {
        self as u8
    }

    /// The spelling policies use: `TCP`, `UDP`, `SCTP`, `ICMP`, `ICMPV6` or `ANY`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Any => "ANY",
            Protocol::Icmp => "ICMP",
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::IcmpV6 => "ICMPV6",
            Protocol::Sctp => "SCTP",
        }
    }

    /// The concrete protocols this one stands for in a port rule: `Any` is TCP, UDP and SCTP;
    /// every other protocol is itself.
    pub const fn expand(self) -> &'static [Protocol] {
        match self {
            Protocol::Any => &[Protocol::Tcp, Protocol::Udp, Protocol::Sctp],
            Protocol::Icmp => &[Protocol::Icmp],
            Protocol::Tcp => &[Protocol::Tcp],
            Protocol::Udp => &[Protocol::Udp],
            Protocol::IcmpV6 => &[Protocol::IcmpV6],
            Protocol::Sctp => &[Protocol::Sctp],
        }
    }

    /// Whether the protocol has ports (TCP, UDP, SCTP).
    pub const fn has_ports(self) -> bool {
        matches!(self, Protocol::Tcp | Protocol::Udp | Protocol::Sctp)
    }
}

impl From<Protocol> for u8 {
    fn from(p: Protocol) -> Self {
        p.as_u8()
    }
}

impl TryFrom<u8> for Protocol {
    type Error = L4Error;

    fn try_from(number: u8) -> Result<Self, Self::Error> {
        Protocol::ALL
            .into_iter()
            .find(|p| p.as_u8() == number)
            .ok_or(L4Error::UnknownProtocolNumber { number })
    }
}

/// Accepts the policy spellings case-insensitively; the empty string is `Any`.
impl FromStr for Protocol {
    type Err = L4Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Ok(Protocol::Any);
        }
        Protocol::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| L4Error::UnknownProtocol {
                input: s.to_owned(),
            })
    }
}

/// The upper-case policy spelling, e.g. `TCP`.
impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_names() {
        let numbers: Vec<u8> = Protocol::ALL.iter().map(|p| p.as_u8()).collect();
        assert_eq!(numbers, [6, 17, 132, 1, 58, 0]);
        for p in Protocol::ALL {
            assert_eq!(Protocol::try_from(p.as_u8()), Ok(p));
            assert_eq!(p.to_string().parse(), Ok(p));
            assert_eq!(p.to_string().to_lowercase().parse(), Ok(p));
        }
        assert_eq!("".parse(), Ok(Protocol::Any));
        assert_eq!("IcmpV6".parse(), Ok(Protocol::IcmpV6));
    }

    #[test]
    fn errors() {
        assert_eq!(
            "GRE".parse::<Protocol>(),
            Err(L4Error::UnknownProtocol {
                input: "GRE".to_owned()
            })
        );
        assert_eq!(
            Protocol::try_from(47),
            Err(L4Error::UnknownProtocolNumber { number: 47 })
        );
    }

    #[test]
    fn any_expands_to_port_protocols() {
        assert_eq!(
            Protocol::Any.expand(),
            [Protocol::Tcp, Protocol::Udp, Protocol::Sctp]
        );
        assert_eq!(Protocol::Icmp.expand(), [Protocol::Icmp]);
    }
}
