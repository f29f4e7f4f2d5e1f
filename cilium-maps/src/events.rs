//! Decoding of datapath event records (ring buffer payloads).
//!
//! Records come from the kernel, but a reader must still not trust their length: a short or
//! unknown record is an error that names the type and the sizes, never a panic.

use crate::abi::{DropEvent, EventHdr, PolicyVerdictEvent, SockEvent, TraceEvent, consts};

/// A decoded event record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `CIL_EVENT_DROP`.
    Drop(DropEvent),
    /// `CIL_EVENT_TRACE`.
    Trace(TraceEvent),
    /// `CIL_EVENT_POLICY_VERDICT`.
    PolicyVerdict(PolicyVerdictEvent),
    /// `CIL_EVENT_TRACE_SOCK`.
    Sock(SockEvent),
}

/// Errors decoding an event record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Shorter than the common header.
    #[error("event record of {len} bytes is shorter than its 16-byte header")]
    ShortHeader {
        /// Bytes received.
        len: usize,
    },
    /// The type byte is not a known event type.
    #[error("event record has unknown type {found} (byte 0)")]
    UnknownType {
        /// The type byte.
        found: u8,
    },
    /// Shorter than its type's record.
    #[error("{kind} event record of {len} bytes is shorter than {expected}")]
    Truncated {
        /// Record kind.
        kind: &'static str,
        /// Bytes received.
        len: usize,
        /// Bytes expected.
        expected: usize,
    },
}

fn read<T: bytemuck::Pod>(kind: &'static str, bytes: &[u8]) -> Result<T, EventError> {
    let expected = size_of::<T>();
    if bytes.len() < expected {
        return Err(EventError::Truncated {
            kind,
            len: bytes.len(),
            expected,
        });
    }
    Ok(bytemuck::pod_read_unaligned(&bytes[..expected]))
}

impl Event {
    /// Decodes one record. Trailing bytes (e.g. a packet sample) are ignored.
    pub fn parse(bytes: &[u8]) -> Result<Self, EventError> {
        if bytes.len() < size_of::<EventHdr>() {
            return Err(EventError::ShortHeader { len: bytes.len() });
        }
        match bytes[0] {
            consts::CIL_EVENT_DROP => read("drop", bytes).map(Self::Drop),
            consts::CIL_EVENT_TRACE => read("trace", bytes).map(Self::Trace),
            consts::CIL_EVENT_POLICY_VERDICT => {
                read("policy verdict", bytes).map(Self::PolicyVerdict)
            }
            consts::CIL_EVENT_TRACE_SOCK => read("sock", bytes).map(Self::Sock),
            t => Err(EventError::UnknownType { found: t }),
        }
    }

    /// The common header.
    pub fn hdr(&self) -> &EventHdr {
        match self {
            Self::Drop(e) => &e.hdr,
            Self::Trace(e) => &e.hdr,
            Self::PolicyVerdict(e) => &e.hdr,
            Self::Sock(e) => &e.hdr,
        }
    }
}
