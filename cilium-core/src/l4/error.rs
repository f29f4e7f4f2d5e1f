//! Errors of the `l4` module.

/// An error about a protocol, port, port range or port prefix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum L4Error {
    /// The string is not one of TCP, UDP, SCTP, ICMP, ICMPV6 or ANY.
    #[error("protocol {input:?} is not one of TCP, UDP, SCTP, ICMP, ICMPV6 or ANY")]
    UnknownProtocol {
        /// The string that was parsed.
        input: String,
    },
    /// The IP protocol number is not one of the supported protocols.
    #[error("ip protocol number {number} is not one of TCP, UDP, SCTP, ICMP, ICMPV6 or ANY")]
    UnknownProtocolNumber {
        /// The protocol number.
        number: u8,
    },
    /// A port range ends before it starts.
    #[error("port range {start}-{end} ends before it starts")]
    InvalidPortRange {
        /// The first port.
        start: u16,
        /// The last port.
        end: u16,
    },
    /// A port prefix is longer than 16 bits.
    #[error("port prefix length {prefix_len} exceeds 16")]
    PortPrefixTooLong {
        /// The prefix length given.
        prefix_len: u8,
    },
    /// A port prefix has bits set after its prefix length.
    #[error("port {port} has bits set after prefix length {prefix_len}")]
    PortPrefixHostBits {
        /// The port given.
        port: u16,
        /// The prefix length given.
        prefix_len: u8,
    },
    /// The string is neither a port number in 0..=65535 nor a valid port name.
    #[error("port {input:?} is not a number in 0..=65535 or a named port")]
    InvalidPort {
        /// The string that was parsed.
        input: String,
    },
    /// The string looks like a port name but breaks a rule of IANA service names.
    #[error("port name {input:?} is not a valid IANA service name: {reason}")]
    InvalidPortName {
        /// The string that was parsed.
        input: String,
        /// The rule it breaks.
        reason: &'static str,
    },
}
