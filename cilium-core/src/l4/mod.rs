//! L4 vocabulary (Cilium's `pkg/policy/api/l4.go` and `pkg/u8proto`): protocols, ports, port
//! ranges, the port prefixes that ranges become in the policy map, and named ports.

mod error;
mod port_prefix;
mod port_range;
mod port_spec;
mod protocol;

pub use error::L4Error;
pub use port_prefix::PortPrefix;
pub use port_range::PortRange;
pub use port_spec::{NamedPort, PortSpec};
pub use protocol::Protocol;

/// A transport-layer port number, in host byte order.
pub type Port = u16;
