//! `#[repr(C)]` mirrors of every type in `include/cilium_abi.h`.
//!
//! Field names are the C field names, so the layout check can match them one to one. Byte
//! order is in the type: [`Be16`] and [`Be32`] hold network-order values, everything else is
//! host order. Addresses are 16 bytes with a family byte beside them ([`Family`]); IPv4 uses
//! the first four bytes. Every struct derives [`bytemuck::Pod`] (which refuses hidden padding)
//! and, with the `kernel` feature, implements `aya::Pod`; its size is asserted at compile time.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bytemuck::{Pod, Zeroable};

/// Implements `aya::Pod` for an ABI struct when this crate has the `kernel` feature (the
/// feature is decided here, where the macro is defined, not in the crate that expands it).
#[cfg(feature = "kernel")]
#[doc(hidden)]
#[macro_export]
macro_rules! __abi_aya_pod {
    ($name:ident) => {
        // SAFETY: the type is `#[repr(C)]` and derives `bytemuck::Pod`, which proves at compile
        // time that it has no padding and that every bit pattern is valid.
        unsafe impl $crate::__private::aya::Pod for $name {}
    };
}

/// Without the `kernel` feature there is no aya, hence no `aya::Pod`.
#[cfg(not(feature = "kernel"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __abi_aya_pod {
    ($name:ident) => {};
}

/// Defines an ABI struct: the `#[repr(C)]` type, its size assertion, `aya::Pod` (with the
/// `kernel` feature), and its [`AbiType`](crate::layout::AbiType) layout descriptor for the
/// BTF layout check.
///
/// Exported (hidden) so that tests can declare deliberately wrong mirrors.
#[doc(hidden)]
#[macro_export]
macro_rules! abi_struct {
    (
        $(#[$meta:meta])*
        c = $cname:literal, size = $size:literal;
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, ::bytemuck::Pod, ::bytemuck::Zeroable)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty ),*
        }

        const _: () = assert!(::core::mem::size_of::<$name>() == $size);

        $crate::__abi_aya_pod!($name);

        impl $crate::layout::AbiType for $name {
            const C_NAME: &'static str = $cname;

            fn layout() -> $crate::layout::StructLayout {
                $crate::layout::StructLayout {
                    c_name: $cname,
                    rust_name: stringify!($name),
                    size: ::core::mem::size_of::<$name>(),
                    fields: vec![
                        $( $crate::layout::FieldLayout {
                            name: stringify!($field),
                            offset: ::core::mem::offset_of!($name, $field),
                            size: ::core::mem::size_of::<$ty>(),
                        } ),*
                    ],
                }
            }
        }
    };
}

/// A 16-bit value stored in network byte order (`__be16`).
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Pod, Zeroable)]
pub struct Be16(u16);

impl Be16 {
    /// Stores the host-order value `v` in network order.
    pub const fn new(v: u16) -> Self {
        Self(v.to_be())
    }
    /// The value in host order.
    pub const fn get(self) -> u16 {
        u16::from_be(self.0)
    }
    /// The raw in-memory representation (network order).
    pub const fn to_raw(self) -> u16 {
        self.0
    }
}

impl fmt::Debug for Be16 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// A 32-bit value stored in network byte order (`__be32`).
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Pod, Zeroable)]
pub struct Be32(u32);

impl Be32 {
    /// Stores the host-order value `v` in network order.
    pub const fn new(v: u32) -> Self {
        Self(v.to_be())
    }
    /// The value in host order.
    pub const fn get(self) -> u32 {
        u32::from_be(self.0)
    }
}

impl fmt::Debug for Be32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.get())
    }
}

/// Address family byte stored beside every address (`enum cil_family`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Family {
    /// No address (`CIL_FAMILY_NONE`).
    None = 0,
    /// IPv4 (`CIL_FAMILY_IPV4`).
    Ipv4 = 1,
    /// IPv6 (`CIL_FAMILY_IPV6`).
    Ipv6 = 2,
}

impl TryFrom<u8> for Family {
    type Error = u8;
    fn try_from(v: u8) -> Result<Self, u8> {
        match v {
            0 => Ok(Self::None),
            1 => Ok(Self::Ipv4),
            2 => Ok(Self::Ipv6),
            other => Err(other),
        }
    }
}

/// Encodes an address as the ABI's 16 bytes plus family byte.
pub fn encode_addr(ip: IpAddr) -> ([u8; 16], u8) {
    let mut out = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => {
            out[..4].copy_from_slice(&v4.octets());
            (out, Family::Ipv4 as u8)
        }
        IpAddr::V6(v6) => (v6.octets(), Family::Ipv6 as u8),
    }
}

/// Decodes the ABI's 16 bytes plus family byte; `None` for an unknown or empty family.
pub fn decode_addr(addr: &[u8; 16], family: u8) -> Option<IpAddr> {
    match Family::try_from(family) {
        Ok(Family::Ipv4) => Some(IpAddr::V4(Ipv4Addr::new(
            addr[0], addr[1], addr[2], addr[3],
        ))),
        Ok(Family::Ipv6) => Some(IpAddr::V6(Ipv6Addr::from(*addr))),
        _ => None,
    }
}

/// Clears every bit of `bytes` after the first `bits` (MSB first), as an LPM trie ignores them.
pub(crate) fn clear_host_bits(bytes: &mut [u8], bits: u32) {
    for (i, b) in bytes.iter_mut().enumerate() {
        let keep = bits.saturating_sub((i as u32) * 8).min(8);
        *b &= if keep == 0 { 0 } else { 0xFFu8 << (8 - keep) };
    }
}

fn fmt_addr(f: &mut fmt::Formatter<'_>, addr: &[u8; 16], family: u8) -> fmt::Result {
    match decode_addr(addr, family) {
        Some(ip) => write!(f, "{ip}"),
        None => write!(f, "family{family}:{}", hex(addr)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn dir_name(d: u8) -> &'static str {
    match d {
        consts::CIL_DIR_INGRESS => "ingress",
        consts::CIL_DIR_EGRESS => "egress",
        _ => "dir?",
    }
}

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/// Every constant of the header, under its C name.
///
/// The layout check compares each of these with the enumerator of the same name in the
/// compiled header's BTF, and fails on a C constant that is missing here.
#[expect(
    missing_docs,
    reason = "each constant is documented in cilium_abi.h under the same name"
)]
pub mod consts {
    macro_rules! abi_consts {
        ($( $enum:literal : { $( $name:ident : $ty:ty = $val:expr ),* $(,)? } )*) => {
            $( $( pub const $name: $ty = $val; )* )*

            /// `(C enum, C name, value)` of every constant, for the layout check.
            pub const ALL: &[(&str, &str, i64)] = &[
                $( $( ($enum, stringify!($name), $val as i64), )* )*
            ];
        };
    }

    abi_consts! {
        "cil_family": {
            CIL_FAMILY_NONE: u8 = 0,
            CIL_FAMILY_IPV4: u8 = 1,
            CIL_FAMILY_IPV6: u8 = 2,
        }
        "cil_direction": {
            CIL_DIR_INGRESS: u8 = 0,
            CIL_DIR_EGRESS: u8 = 1,
        }
        "cil_reserved_identity": {
            CIL_ID_UNKNOWN: u32 = 0,
            CIL_ID_HOST: u32 = 1,
            CIL_ID_WORLD: u32 = 2,
            CIL_ID_UNMANAGED: u32 = 3,
            CIL_ID_HEALTH: u32 = 4,
            CIL_ID_INIT: u32 = 5,
            CIL_ID_REMOTE_NODE: u32 = 6,
            CIL_ID_KUBE_APISERVER: u32 = 7,
            CIL_ID_INGRESS: u32 = 8,
            CIL_ID_WORLD_IPV4: u32 = 9,
            CIL_ID_WORLD_IPV6: u32 = 10,
            CIL_ID_LOCAL_SCOPE: u32 = 0x0100_0000,
            CIL_ID_SCOPE_MASK: u32 = 0xFF00_0000,
        }
        "cil_drop_reason": {
            CIL_REASON_FORWARDED: u8 = 0,
            CIL_DROP_INVALID_SMAC: u8 = 130,
            CIL_DROP_INVALID_DMAC: u8 = 131,
            CIL_DROP_INVALID_SIP: u8 = 132,
            CIL_DROP_POLICY: u8 = 133,
            CIL_DROP_INVALID: u8 = 134,
            CIL_DROP_CT_INVALID_HDR: u8 = 135,
            CIL_DROP_CT_UNKNOWN_PROTO: u8 = 137,
            CIL_DROP_UNKNOWN_L3: u8 = 139,
            CIL_DROP_WRITE_ERROR: u8 = 141,
            CIL_DROP_UNKNOWN_L4: u8 = 142,
            CIL_DROP_UNKNOWN_TARGET: u8 = 150,
            CIL_DROP_CT_CREATE_FAILED: u8 = 155,
            CIL_DROP_FRAG_NOSUPPORT: u8 = 157,
            CIL_DROP_NO_SERVICE: u8 = 158,
            CIL_DROP_NO_CONFIG: u8 = 165,
            CIL_DROP_UNSUPPORTED_L2: u8 = 166,
            CIL_DROP_INVALID_IDENTITY: u8 = 171,
            CIL_DROP_UNKNOWN_SENDER: u8 = 172,
            CIL_DROP_LB_SRC_RANGE: u8 = 177,
            CIL_DROP_PROXY_LOOKUP_FAILED: u8 = 178,
            CIL_DROP_PROXY_SET_FAILED: u8 = 179,
            CIL_DROP_PROXY_UNKNOWN_PROTO: u8 = 180,
            CIL_DROP_POLICY_DENY: u8 = 181,
            CIL_DROP_POLICY_AUTH_REQUIRED: u8 = 189,
            CIL_DROP_CT_NO_MAP_FOUND: u8 = 190,
            CIL_DROP_RATE_LIMITED: u8 = 198,
            CIL_DROP_HOST_NOT_READY: u8 = 202,
            CIL_DROP_EP_NOT_READY: u8 = 203,
        }
        "cil_event_type": {
            CIL_EVENT_UNSPEC: u8 = 0,
            CIL_EVENT_DROP: u8 = 1,
            CIL_EVENT_DEBUG: u8 = 2,
            CIL_EVENT_CAPTURE: u8 = 3,
            CIL_EVENT_TRACE: u8 = 4,
            CIL_EVENT_POLICY_VERDICT: u8 = 5,
            CIL_EVENT_REC_CAPTURE: u8 = 6,
            CIL_EVENT_TRACE_SOCK: u8 = 7,
        }
        "cil_trace_point": {
            CIL_TRACE_TO_ENDPOINT: u8 = 0,
            CIL_TRACE_TO_PROXY: u8 = 1,
            CIL_TRACE_TO_HOST: u8 = 2,
            CIL_TRACE_TO_STACK: u8 = 3,
            CIL_TRACE_TO_OVERLAY: u8 = 4,
            CIL_TRACE_FROM_ENDPOINT: u8 = 5,
            CIL_TRACE_FROM_PROXY: u8 = 6,
            CIL_TRACE_FROM_HOST: u8 = 7,
            CIL_TRACE_FROM_STACK: u8 = 8,
            CIL_TRACE_FROM_OVERLAY: u8 = 9,
            CIL_TRACE_FROM_NETWORK: u8 = 10,
            CIL_TRACE_TO_NETWORK: u8 = 11,
        }
        "cil_policy_match": {
            CIL_POLICY_MATCH_NONE: u8 = 0,
            CIL_POLICY_MATCH_L3_ONLY: u8 = 1,
            CIL_POLICY_MATCH_L3_L4: u8 = 2,
            CIL_POLICY_MATCH_L4_ONLY: u8 = 3,
            CIL_POLICY_MATCH_ALL: u8 = 4,
            CIL_POLICY_MATCH_L3_PROTO: u8 = 5,
            CIL_POLICY_MATCH_PROTO_ONLY: u8 = 6,
        }
        "cil_sock_op": {
            CIL_SOCK_ESTABLISHED: u8 = 1,
            CIL_SOCK_CLOSED: u8 = 2,
            CIL_SOCK_LB_XLATE: u8 = 3,
        }
        "cil_mark": {
            CIL_MARK_MAGIC_MASK: u32 = 0x0F00,
            CIL_MARK_MAGIC_TO_PROXY: u32 = 0x0200,
            CIL_MARK_MAGIC_TO_PROXY_INGRESS: u32 = 0x0300,
            CIL_MARK_MAGIC_PROXY_INGRESS: u32 = 0x0A00,
            CIL_MARK_MAGIC_PROXY_EGRESS: u32 = 0x0B00,
        }
        "cil_policy_consts": {
            CIL_POLICY_STATIC_PREFIX: u32 = 40,
            CIL_POLICY_FULL_PREFIX: u32 = 64,
            CIL_POLICY_MAP_DEFAULT_MAX: u32 = 16384,
        }
        "cil_policy_flags": {
            CIL_POLICY_F_DENY: u8 = 1 << 0,
            CIL_POLICY_F_WILDCARD_PROTO: u8 = 1 << 1,
            CIL_POLICY_F_WILDCARD_DPORT: u8 = 1 << 2,
        }
        "cil_ipcache_consts": {
            CIL_IPCACHE_STATIC_PREFIX: u32 = 32,
            CIL_IPCACHE_MAP_DEFAULT_MAX: u32 = 512_000,
        }
        "cil_ipcache_flags": {
            CIL_IPCACHE_F_SKIP_TUNNEL: u8 = 1 << 0,
            CIL_IPCACHE_F_HAS_TUNNEL_EP: u8 = 1 << 1,
            CIL_IPCACHE_F_REMOTE_CLUSTER: u8 = 1 << 2,
        }
        "cil_endpoint_flags": {
            CIL_ENDPOINT_F_HOST: u16 = 1 << 0,
            CIL_ENDPOINT_F_ENFORCE_INGRESS: u16 = 1 << 1,
            CIL_ENDPOINT_F_ENFORCE_EGRESS: u16 = 1 << 2,
            CIL_ENDPOINT_F_POLICY_READY: u16 = 1 << 3,
        }
        "cil_lb_consts": {
            CIL_LB_SCOPE_EXT: u8 = 0,
            CIL_LB_SCOPE_INT: u8 = 1,
            CIL_LB_ALG_RANDOM: u8 = 1,
            CIL_LB_ALG_MAGLEV: u8 = 2,
            CIL_LB_MAP_DEFAULT_MAX: u32 = 65536,
            CIL_MAGLEV_DEFAULT_TABLE_SIZE: u32 = 16381,
        }
        "cil_service_flags": {
            CIL_SVC_F_EXTERNAL_IP: u8 = 1 << 0,
            CIL_SVC_F_NODEPORT: u8 = 1 << 1,
            CIL_SVC_F_EXT_LOCAL_SCOPE: u8 = 1 << 2,
            CIL_SVC_F_HOSTPORT: u8 = 1 << 3,
            CIL_SVC_F_AFFINITY: u8 = 1 << 4,
            CIL_SVC_F_LOADBALANCER: u8 = 1 << 5,
            CIL_SVC_F_ROUTABLE: u8 = 1 << 6,
            CIL_SVC_F_SOURCE_RANGE: u8 = 1 << 7,
        }
        "cil_service_flags2": {
            CIL_SVC_F2_LOCALREDIRECT: u8 = 1 << 0,
            CIL_SVC_F2_L7_LOADBALANCER: u8 = 1 << 2,
            CIL_SVC_F2_LOOPBACK: u8 = 1 << 3,
            CIL_SVC_F2_INT_LOCAL_SCOPE: u8 = 1 << 4,
            CIL_SVC_F2_TWO_SCOPES: u8 = 1 << 5,
        }
        "cil_backend_state": {
            CIL_BACKEND_ACTIVE: u8 = 0,
            CIL_BACKEND_TERMINATING: u8 = 1,
            CIL_BACKEND_QUARANTINED: u8 = 2,
            CIL_BACKEND_MAINTENANCE: u8 = 3,
        }
        "cil_backend_flags": {
            CIL_BACKEND_F_LOCAL: u8 = 1 << 0,
        }
        "cil_affinity_flags": {
            CIL_AFFINITY_F_NETNS_COOKIE: u8 = 1 << 0,
        }
        "cil_ct_consts": {
            CIL_CT_F_EGRESS: u8 = 0,
            CIL_CT_F_INGRESS: u8 = 1 << 0,
            CIL_CT_F_RELATED: u8 = 1 << 1,
            CIL_CT_F_SERVICE: u8 = 1 << 2,
            CIL_CT_TCP_MAX_DEFAULT: u32 = 524_288,
            CIL_CT_ANY_MAX_DEFAULT: u32 = 262_144,
            CIL_CT_TIMEOUT_TCP_DEFAULT: u32 = 8000,
            CIL_CT_TIMEOUT_SYN_DEFAULT: u32 = 60,
            CIL_CT_TIMEOUT_FIN_DEFAULT: u32 = 10,
            CIL_CT_TIMEOUT_ANY_DEFAULT: u32 = 60,
        }
        "cil_ct_entry_flags": {
            CIL_CT_ENTRY_F_RX_CLOSING: u16 = 1 << 0,
            CIL_CT_ENTRY_F_TX_CLOSING: u16 = 1 << 1,
            CIL_CT_ENTRY_F_SEEN_NON_SYN: u16 = 1 << 2,
            CIL_CT_ENTRY_F_NODE_PORT: u16 = 1 << 3,
            CIL_CT_ENTRY_F_PROXY_REDIRECT: u16 = 1 << 4,
            CIL_CT_ENTRY_F_LB_LOOPBACK: u16 = 1 << 5,
            CIL_CT_ENTRY_F_DENIED: u16 = 1 << 6,
        }
        "cil_trace_reason": {
            CIL_TRACE_REASON_NEW: u8 = 0,
            CIL_TRACE_REASON_ESTABLISHED: u8 = 1,
            CIL_TRACE_REASON_REPLY: u8 = 2,
            CIL_TRACE_REASON_RELATED: u8 = 3,
        }
        "cil_verdict_flags": {
            CIL_VERDICT_F_DENY: u8 = 1 << 0,
            CIL_VERDICT_F_REDIRECT: u8 = 1 << 1,
            CIL_VERDICT_F_AUDIT: u8 = 1 << 2,
        }
    }
}

use consts::*;

/// The `skb->mark` a proxy sets on its upstream connection so the datapath applies the
/// destination's policy to the original source identity (`ingress`: the proxy served an
/// ingress redirect and already enforced that policy). Identities above 24 bits (local CIDR
/// identities) cannot be carried and come out as `None`.
pub fn proxy_upstream_mark(source_identity: u32, ingress: bool) -> Option<u32> {
    if source_identity >= 1 << 24 {
        return None;
    }
    let magic = if ingress {
        CIL_MARK_MAGIC_PROXY_INGRESS
    } else {
        CIL_MARK_MAGIC_PROXY_EGRESS
    };
    Some(((source_identity & 0xFFFF) << 16) | magic | ((source_identity >> 16) & 0xFF))
}

/// The source identity carried by a proxy upstream mark (see [`proxy_upstream_mark`]).
pub fn identity_of_proxy_mark(mark: u32) -> u32 {
    (mark >> 16) | ((mark & 0xFF) << 16)
}

// ---------------------------------------------------------------------------------------------
// Policy map
// ---------------------------------------------------------------------------------------------

abi_struct! {
    /// Key of the per-endpoint policy map (LPM trie), `struct cil_policy_key`.
    ///
    /// Build it with [`PolicyKey::new`], which computes the LPM prefix from what is wildcarded.
    #[doc(alias = "policy_key")]
    c = "cil_policy_key", size = 12;
    pub struct PolicyKey {
        /// LPM prefix length in bits (identity and direction are always fully matched).
        pub prefixlen: u32,
        /// Peer security identity; 0 = any peer.
        pub identity: u32,
        /// `CIL_DIR_INGRESS` or `CIL_DIR_EGRESS`.
        pub egress: u8,
        /// IANA protocol number; 0 = any.
        pub protocol: u8,
        /// Destination port (network order); 0 = any.
        pub dport: Be16,
    }
}

impl PolicyKey {
    /// A key for `identity` (0 = any peer) in `direction`, protocol `protocol` (0 = any) and
    /// destination port prefix `port`/`port_prefix_len` (`port_prefix_len` 0 = any port,
    /// 16 = exactly `port`). The protocol may only be wildcarded with the port.
    ///
    /// Bits of `port` beyond the prefix are cleared, as the kernel ignores them.
    pub fn new(identity: u32, direction: u8, protocol: u8, port: u16, port_prefix_len: u8) -> Self {
        let port_prefix_len = port_prefix_len.min(16);
        let (prefixlen, dport) = if protocol == 0 {
            (CIL_POLICY_STATIC_PREFIX, 0)
        } else {
            let mask = if port_prefix_len == 0 {
                0
            } else {
                u16::MAX << (16 - u32::from(port_prefix_len))
            };
            (
                CIL_POLICY_STATIC_PREFIX + 8 + u32::from(port_prefix_len),
                port & mask,
            )
        };
        Self {
            prefixlen,
            identity,
            egress: direction,
            protocol,
            dport: Be16::new(dport),
        }
    }

    /// The key the datapath looks up for a packet: full prefix.
    pub fn lookup(identity: u32, direction: u8, protocol: u8, port: u16) -> Self {
        Self {
            prefixlen: CIL_POLICY_FULL_PREFIX,
            identity,
            egress: direction,
            protocol,
            dport: Be16::new(port),
        }
    }

    /// Number of port bits that are matched (0..=16).
    pub fn port_prefix_len(&self) -> u32 {
        self.prefixlen.saturating_sub(CIL_POLICY_STATIC_PREFIX + 8)
    }
}

impl fmt::Display for PolicyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} id={}", dir_name(self.egress), self.identity)?;
        if self.prefixlen <= CIL_POLICY_STATIC_PREFIX {
            return write!(f, " proto=any port=any");
        }
        write!(f, " proto={}", self.protocol)?;
        match self.port_prefix_len() {
            0 => write!(f, " port=any"),
            16 => write!(f, " port={}", self.dport.get()),
            n => write!(f, " port={}/{}", self.dport.get(), n),
        }
    }
}

abi_struct! {
    /// Value of the per-endpoint policy map, `struct cil_policy_entry`.
    #[doc(alias = "policy_entry")]
    c = "cil_policy_entry", size = 24;
    pub struct PolicyEntry {
        /// L7 redirect target port (network order); 0 = no redirect.
        pub proxy_port: Be16,
        /// `CIL_POLICY_F_*`.
        pub flags: u8,
        /// Required authentication type; 0 = none.
        pub auth_type: u8,
        /// Prefix length of the key the entry is stored under; the datapath ranks its two
        /// lookups with it. Typed handles set it on insert.
        pub lpm_prefix_length: u8,
        /// Padding, zero.
        pub pad: [u8; 3],
        /// Packets that matched this entry (updated by the datapath).
        pub packets: u64,
        /// Bytes that matched this entry (updated by the datapath).
        pub bytes: u64,
    }
}

impl PolicyEntry {
    /// An allow entry, redirecting to `proxy_port` when it is not 0.
    pub fn allow(proxy_port: u16) -> Self {
        Self {
            proxy_port: Be16::new(proxy_port),
            ..Self::zeroed()
        }
    }
    /// A deny entry.
    pub fn deny() -> Self {
        Self {
            flags: CIL_POLICY_F_DENY,
            ..Self::zeroed()
        }
    }
    /// Whether the entry denies.
    pub fn is_deny(&self) -> bool {
        self.flags & CIL_POLICY_F_DENY != 0
    }
}

impl fmt::Display for PolicyEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_deny() {
            write!(f, "deny")?;
        } else {
            write!(f, "allow")?;
        }
        if self.proxy_port.get() != 0 {
            write!(f, " proxy={}", self.proxy_port.get())?;
        }
        if self.auth_type != 0 {
            write!(f, " auth={}", self.auth_type)?;
        }
        write!(f, " packets={} bytes={}", self.packets, self.bytes)
    }
}

// ---------------------------------------------------------------------------------------------
// IP cache and prefilter
// ---------------------------------------------------------------------------------------------

abi_struct! {
    /// Key of the ipcache (LPM trie), byte-compatible with Cilium's `ipcache_key`.
    #[doc(alias = "ipcache_key")]
    c = "cil_ipcache_key", size = 24;
    pub struct IpCacheKey {
        /// LPM prefix length: 32 + the CIDR's prefix length.
        pub prefixlen: u32,
        /// Cluster id (host order).
        pub cluster_id: u16,
        /// Padding, zero.
        pub pad: u8,
        /// `CIL_FAMILY_*`.
        pub family: u8,
        /// Address, IPv4 in the first four bytes.
        pub addr: [u8; 16],
    }
}

impl IpCacheKey {
    /// The key for `addr`/`prefix_len` in cluster `cluster_id`. Host bits are cleared.
    /// `prefix_len` is clamped to the family's width.
    pub fn new(addr: IpAddr, prefix_len: u8, cluster_id: u16) -> Self {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = prefix_len.min(max);
        let (mut bytes, family) = encode_addr(addr);
        clear_host_bits(&mut bytes, u32::from(len));
        Self {
            prefixlen: CIL_IPCACHE_STATIC_PREFIX + u32::from(len),
            cluster_id,
            pad: 0,
            family,
            addr: bytes,
        }
    }

    /// The key from a [`cilium_core::Cidr`].
    pub fn from_cidr(cidr: &cilium_core::Cidr, cluster_id: u16) -> Self {
        Self::new(cidr.addr(), cidr.prefix_len(), cluster_id)
    }

    /// The key the datapath looks up for one address: full prefix.
    pub fn lookup(addr: IpAddr, cluster_id: u16) -> Self {
        Self::new(addr, 128, cluster_id)
    }

    /// The address, if the family is known.
    pub fn ip(&self) -> Option<IpAddr> {
        decode_addr(&self.addr, self.family)
    }

    /// The CIDR prefix length (the LPM prefix minus the static part).
    pub fn cidr_len(&self) -> u32 {
        self.prefixlen.saturating_sub(CIL_IPCACHE_STATIC_PREFIX)
    }
}

impl fmt::Display for IpCacheKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_addr(f, &self.addr, self.family)?;
        write!(f, "/{}", self.cidr_len())?;
        if self.cluster_id != 0 {
            write!(f, " cluster={}", self.cluster_id)?;
        }
        Ok(())
    }
}

abi_struct! {
    /// Value of the ipcache, `struct cil_ipcache_value`.
    #[doc(alias = "remote_endpoint_info")]
    c = "cil_ipcache_value", size = 24;
    pub struct IpCacheValue {
        /// Security identity of the address.
        pub identity: u32,
        /// Tunnel endpoint (node address) for remote endpoints.
        pub tunnel_endpoint: [u8; 16],
        /// `CIL_FAMILY_*` of `tunnel_endpoint`; `CIL_FAMILY_NONE` without tunnel.
        pub tunnel_family: u8,
        /// Encryption key index.
        pub encrypt_key: u8,
        /// `CIL_IPCACHE_F_*`.
        pub flags: u8,
        /// Padding, zero.
        pub pad: u8,
    }
}

impl IpCacheValue {
    /// A value carrying only an identity.
    pub fn identity(identity: u32) -> Self {
        Self {
            identity,
            ..Self::zeroed()
        }
    }
}

impl fmt::Display for IpCacheValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "identity={}", self.identity)?;
        if self.tunnel_family != CIL_FAMILY_NONE {
            write!(f, " tunnel=")?;
            fmt_addr(f, &self.tunnel_endpoint, self.tunnel_family)?;
        }
        if self.encrypt_key != 0 {
            write!(f, " key={}", self.encrypt_key)?;
        }
        if self.flags != 0 {
            write!(f, " flags={:#x}", self.flags)?;
        }
        Ok(())
    }
}

abi_struct! {
    /// Value of the XDP prefilter deny list (keyed by [`IpCacheKey`]).
    c = "cil_prefilter_value", size = 8;
    pub struct PrefilterValue {
        /// Packets dropped by this entry.
        pub drops: u64,
    }
}

impl fmt::Display for PrefilterValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "drops={}", self.drops)
    }
}

// ---------------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------------

abi_struct! {
    /// Key of the local endpoint map, `struct cil_endpoint_key`.
    #[doc(alias = "endpoint_key")]
    c = "cil_endpoint_key", size = 20;
    pub struct EndpointKey {
        /// Endpoint address.
        pub addr: [u8; 16],
        /// `CIL_FAMILY_*`.
        pub family: u8,
        /// Padding, zero.
        pub pad: u8,
        /// Cluster id.
        pub cluster_id: u16,
    }
}

impl EndpointKey {
    /// The key for an endpoint address.
    pub fn new(ip: IpAddr) -> Self {
        let (addr, family) = encode_addr(ip);
        Self {
            addr,
            family,
            pad: 0,
            cluster_id: 0,
        }
    }
}

impl fmt::Display for EndpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_addr(f, &self.addr, self.family)
    }
}

abi_struct! {
    /// Value of the local endpoint map, `struct cil_endpoint_info`.
    #[doc(alias = "endpoint_info")]
    c = "cil_endpoint_info", size = 32;
    pub struct EndpointInfo {
        /// Host-side interface index.
        pub ifindex: u32,
        /// Endpoint id (names its policy map).
        pub endpoint_id: u16,
        /// `CIL_ENDPOINT_F_*`.
        pub flags: u16,
        /// Security identity of the endpoint.
        pub identity: u32,
        /// Padding, zero.
        pub pad: u32,
        /// Endpoint MAC.
        pub mac: [u8; 6],
        /// Host-side MAC.
        pub node_mac: [u8; 6],
        /// Padding, zero.
        pub pad2: u32,
    }
}

impl fmt::Display for EndpointInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "id={} identity={} ifindex={} flags={:#x} mac={} node_mac={}",
            self.endpoint_id,
            self.identity,
            self.ifindex,
            self.flags,
            fmt_mac(&self.mac),
            fmt_mac(&self.node_mac)
        )
    }
}

fn fmt_mac(m: &[u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

// ---------------------------------------------------------------------------------------------
// Load balancing
// ---------------------------------------------------------------------------------------------

abi_struct! {
    /// Key of the service map, `struct cil_service_key`.
    #[doc(alias = "lb4_key")]
    c = "cil_service_key", size = 24;
    pub struct ServiceKey {
        /// Frontend address.
        pub addr: [u8; 16],
        /// Frontend port (network order).
        pub dport: Be16,
        /// 0 = the service entry, 1..=count = backend slots.
        pub backend_slot: u16,
        /// IANA protocol number.
        pub protocol: u8,
        /// `CIL_LB_SCOPE_*`.
        pub scope: u8,
        /// `CIL_FAMILY_*`.
        pub family: u8,
        /// Padding, zero.
        pub pad: u8,
    }
}

impl ServiceKey {
    /// The key of `slot` of the frontend `ip:port/protocol`.
    pub fn new(ip: IpAddr, port: u16, protocol: u8, scope: u8, slot: u16) -> Self {
        let (addr, family) = encode_addr(ip);
        Self {
            addr,
            dport: Be16::new(port),
            backend_slot: slot,
            protocol,
            scope,
            family,
            pad: 0,
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_addr(f, &self.addr, self.family)?;
        write!(
            f,
            ":{}/{} scope={} slot={}",
            self.dport.get(),
            self.protocol,
            self.scope,
            self.backend_slot
        )
    }
}

abi_struct! {
    /// Value of the service map, `struct cil_service_value`.
    #[doc(alias = "lb4_service")]
    c = "cil_service_value", size = 20;
    pub struct ServiceValue {
        /// Slot > 0: backend id in this slot.
        pub backend_id: u32,
        /// Slot 0: ClientIP affinity timeout in seconds; 0 = none.
        pub affinity_timeout: u32,
        /// Slot 0: number of backend slots.
        pub count: u16,
        /// Slot 0: quarantined backends after the active ones.
        pub qcount: u16,
        /// Reverse-NAT index of the frontend.
        pub rev_nat_index: u16,
        /// `CIL_SVC_F_*`.
        pub flags: u8,
        /// `CIL_SVC_F2_*`.
        pub flags2: u8,
        /// `CIL_LB_ALG_*`.
        pub algorithm: u8,
        /// Padding, zero.
        pub pad: [u8; 3],
    }
}

impl fmt::Display for ServiceValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "backend={} count={} qcount={} revnat={} flags={:#x}/{:#x} alg={} affinity={}",
            self.backend_id,
            self.count,
            self.qcount,
            self.rev_nat_index,
            self.flags,
            self.flags2,
            self.algorithm,
            self.affinity_timeout
        )
    }
}

abi_struct! {
    /// Key of the backend map, `struct cil_backend_key`.
    c = "cil_backend_key", size = 4;
    pub struct BackendKey {
        /// Backend id (node-local).
        pub backend_id: u32,
    }
}

impl fmt::Display for BackendKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.backend_id)
    }
}

abi_struct! {
    /// Value of the backend map, `struct cil_backend`.
    #[doc(alias = "lb4_backend")]
    c = "cil_backend", size = 24;
    pub struct Backend {
        /// Backend address.
        pub addr: [u8; 16],
        /// Backend port (network order).
        pub port: Be16,
        /// IANA protocol number.
        pub protocol: u8,
        /// `CIL_BACKEND_*` state.
        pub state: u8,
        /// `CIL_FAMILY_*`.
        pub family: u8,
        /// Cluster id.
        pub cluster_id: u8,
        /// Zone.
        pub zone: u8,
        /// `CIL_BACKEND_F_*`.
        pub flags: u8,
    }
}

impl Backend {
    /// An active backend at `ip:port/protocol`.
    pub fn new(ip: IpAddr, port: u16, protocol: u8) -> Self {
        let (addr, family) = encode_addr(ip);
        Self {
            addr,
            port: Be16::new(port),
            protocol,
            family,
            ..Self::zeroed()
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_addr(f, &self.addr, self.family)?;
        write!(
            f,
            ":{}/{} state={} flags={:#x}",
            self.port.get(),
            self.protocol,
            self.state,
            self.flags
        )
    }
}

abi_struct! {
    /// Key of the reverse-NAT map, `struct cil_rev_nat_key`.
    c = "cil_rev_nat_key", size = 4;
    pub struct RevNatKey {
        /// Reverse-NAT index.
        pub rev_nat_index: u16,
        /// Padding, zero.
        pub pad: u16,
    }
}

impl fmt::Display for RevNatKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.rev_nat_index)
    }
}

abi_struct! {
    /// Value of the reverse-NAT map, `struct cil_rev_nat_value`.
    #[doc(alias = "lb4_reverse_nat")]
    c = "cil_rev_nat_value", size = 20;
    pub struct RevNatValue {
        /// Frontend address replies appear to come from.
        pub addr: [u8; 16],
        /// Frontend port (network order).
        pub port: Be16,
        /// `CIL_FAMILY_*`.
        pub family: u8,
        /// Padding, zero.
        pub pad: u8,
    }
}

impl RevNatValue {
    /// The frontend `ip:port`.
    pub fn new(ip: IpAddr, port: u16) -> Self {
        let (addr, family) = encode_addr(ip);
        Self {
            addr,
            port: Be16::new(port),
            family,
            pad: 0,
        }
    }
}

impl fmt::Display for RevNatValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_addr(f, &self.addr, self.family)?;
        write!(f, ":{}", self.port.get())
    }
}

abi_struct! {
    /// Key of the Maglev outer map, `struct cil_maglev_key`.
    c = "cil_maglev_key", size = 4;
    pub struct MaglevKey {
        /// Reverse-NAT index of the service.
        pub rev_nat_index: u16,
        /// Padding, zero.
        pub pad: u16,
    }
}

abi_struct! {
    /// Key of the session-affinity map, `struct cil_affinity_key`.
    #[doc(alias = "lb4_affinity_key")]
    c = "cil_affinity_key", size = 20;
    pub struct AffinityKey {
        /// Client address, or a netns cookie in the first 8 bytes.
        pub client: [u8; 16],
        /// Reverse-NAT index of the service.
        pub rev_nat_index: u16,
        /// `CIL_FAMILY_*` of `client`.
        pub family: u8,
        /// `CIL_AFFINITY_F_*`.
        pub flags: u8,
    }
}

impl fmt::Display for AffinityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.flags & CIL_AFFINITY_F_NETNS_COOKIE != 0 {
            let mut c = [0u8; 8];
            c.copy_from_slice(&self.client[..8]);
            write!(f, "netns={}", u64::from_ne_bytes(c))?;
        } else {
            fmt_addr(f, &self.client, self.family)?;
        }
        write!(f, " revnat={}", self.rev_nat_index)
    }
}

abi_struct! {
    /// Value of the session-affinity map, `struct cil_affinity_value`.
    c = "cil_affinity_value", size = 16;
    pub struct AffinityValue {
        /// `bpf_ktime_get_ns()` of the last use.
        pub last_used_ns: u64,
        /// Backend the client was given.
        pub backend_id: u32,
        /// Padding, zero.
        pub pad: u32,
    }
}

impl fmt::Display for AffinityValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "backend={} last_used_ns={}",
            self.backend_id, self.last_used_ns
        )
    }
}

abi_struct! {
    /// Key of the socket-LB reverse translation map, `struct cil_sock_revnat_key`.
    #[doc(alias = "lb4_reverse_sk")]
    c = "cil_sock_revnat_key", size = 32;
    pub struct SockRevNatKey {
        /// Socket cookie.
        pub cookie: u64,
        /// Backend address.
        pub addr: [u8; 16],
        /// Backend port (network order).
        pub port: Be16,
        /// `CIL_FAMILY_*`.
        pub family: u8,
        /// Padding, zero.
        pub pad: [u8; 5],
    }
}

impl fmt::Display for SockRevNatKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cookie={} ", self.cookie)?;
        fmt_addr(f, &self.addr, self.family)?;
        write!(f, ":{}", self.port.get())
    }
}

abi_struct! {
    /// Value of the socket-LB reverse translation map, `struct cil_sock_revnat_value`.
    c = "cil_sock_revnat_value", size = 24;
    pub struct SockRevNatValue {
        /// Frontend address.
        pub addr: [u8; 16],
        /// Frontend port (network order).
        pub port: Be16,
        /// Reverse-NAT index.
        pub rev_nat_index: u16,
        /// `CIL_FAMILY_*`.
        pub family: u8,
        /// Padding, zero.
        pub pad: [u8; 3],
    }
}

impl fmt::Display for SockRevNatValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_addr(f, &self.addr, self.family)?;
        write!(f, ":{} revnat={}", self.port.get(), self.rev_nat_index)
    }
}

// ---------------------------------------------------------------------------------------------
// Conntrack
// ---------------------------------------------------------------------------------------------

abi_struct! {
    /// Key of the conntrack map, `struct cil_ct_key`.
    #[doc(alias = "ipv4_ct_tuple")]
    c = "cil_ct_key", size = 40;
    pub struct CtKey {
        /// Destination address.
        pub daddr: [u8; 16],
        /// Source address.
        pub saddr: [u8; 16],
        /// Destination port (network order).
        pub dport: Be16,
        /// Source port (network order).
        pub sport: Be16,
        /// IANA protocol number.
        pub nexthdr: u8,
        /// `CIL_CT_F_*`.
        pub flags: u8,
        /// `CIL_FAMILY_*` of both addresses.
        pub family: u8,
        /// Padding, zero.
        pub pad: u8,
    }
}

impl CtKey {
    /// The key of a flow `saddr:sport -> daddr:dport` (both addresses of one family).
    pub fn new(
        saddr: IpAddr,
        sport: u16,
        daddr: IpAddr,
        dport: u16,
        nexthdr: u8,
        flags: u8,
    ) -> Self {
        let (s, family) = encode_addr(saddr);
        let (d, _) = encode_addr(daddr);
        Self {
            daddr: d,
            saddr: s,
            dport: Be16::new(dport),
            sport: Be16::new(sport),
            nexthdr,
            flags,
            family,
            pad: 0,
        }
    }
}

impl fmt::Display for CtKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_addr(f, &self.saddr, self.family)?;
        write!(f, ":{} -> ", self.sport.get())?;
        fmt_addr(f, &self.daddr, self.family)?;
        write!(
            f,
            ":{} proto={} flags={:#x}",
            self.dport.get(),
            self.nexthdr,
            self.flags
        )
    }
}

abi_struct! {
    /// Value of the conntrack map, `struct cil_ct_entry`.
    #[doc(alias = "ct_entry")]
    c = "cil_ct_entry", size = 64;
    pub struct CtEntry {
        /// Packets in the reply direction.
        pub rx_packets: u64,
        /// Bytes in the reply direction.
        pub rx_bytes: u64,
        /// Packets in the original direction.
        pub tx_packets: u64,
        /// Bytes in the original direction.
        pub tx_bytes: u64,
        /// Expiry in seconds of `CLOCK_MONOTONIC`.
        pub lifetime: u32,
        /// `CIL_CT_ENTRY_F_*`.
        pub flags: u16,
        /// Reverse-NAT index for replies of a translated flow.
        pub rev_nat_index: u16,
        /// Backend chosen for a service flow.
        pub backend_id: u32,
        /// Security identity of the flow's source.
        pub src_identity: u32,
        /// TCP flags seen in the original direction.
        pub tx_flags_seen: u8,
        /// TCP flags seen in the reply direction.
        pub rx_flags_seen: u8,
        /// L7 proxy port the flow is redirected to (network order).
        pub proxy_port: Be16,
        /// Last trace report (seconds), original direction.
        pub last_tx_report: u32,
        /// Last trace report (seconds), reply direction.
        pub last_rx_report: u32,
        /// Padding, zero.
        pub pad: u32,
    }
}

impl fmt::Display for CtEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lifetime={} flags={:#x} revnat={} backend={} src_identity={} tx={}/{} rx={}/{}",
            self.lifetime,
            self.flags,
            self.rev_nat_index,
            self.backend_id,
            self.src_identity,
            self.tx_packets,
            self.tx_bytes,
            self.rx_packets,
            self.rx_bytes
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------------------------

abi_struct! {
    /// Key of the per-CPU metrics map, `struct cil_metrics_key`.
    #[doc(alias = "metrics_key")]
    c = "cil_metrics_key", size = 8;
    pub struct MetricsKey {
        /// 0 = forwarded, else a drop reason.
        pub reason: u8,
        /// `CIL_DIR_*`.
        pub direction: u8,
        /// Padding, zero.
        pub pad: u16,
        /// Padding, zero.
        pub pad2: u32,
    }
}

impl fmt::Display for MetricsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "reason={} {}", self.reason, dir_name(self.direction))
    }
}

abi_struct! {
    /// Value of the per-CPU metrics map, `struct cil_metrics_value`.
    #[doc(alias = "metrics_value")]
    c = "cil_metrics_value", size = 16;
    pub struct MetricsValue {
        /// Packets.
        pub packets: u64,
        /// Bytes.
        pub bytes: u64,
    }
}

impl fmt::Display for MetricsValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "packets={} bytes={}", self.packets, self.bytes)
    }
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

abi_struct! {
    /// Header of every event record, `struct cil_event_hdr`.
    c = "cil_event_hdr", size = 16;
    pub struct EventHdr {
        /// `CIL_EVENT_*`.
        pub r#type: u8,
        /// Drop: reason; trace: observation point; sock: `CIL_SOCK_*`.
        pub subtype: u8,
        /// Endpoint the event belongs to (0 = none).
        pub endpoint_id: u16,
        /// Length of the packet on the wire.
        pub orig_len: u32,
        /// `bpf_ktime_get_ns()`.
        pub ktime_ns: u64,
    }
}

abi_struct! {
    /// A flow's addresses and ports in an event, `struct cil_tuple`.
    c = "cil_tuple", size = 40;
    pub struct Tuple {
        /// Source address.
        pub saddr: [u8; 16],
        /// Destination address.
        pub daddr: [u8; 16],
        /// Source port (network order).
        pub sport: Be16,
        /// Destination port (network order).
        pub dport: Be16,
        /// IANA protocol number.
        pub protocol: u8,
        /// `CIL_FAMILY_*`.
        pub family: u8,
        /// Padding, zero.
        pub pad: [u8; 2],
    }
}

impl Tuple {
    /// Source address.
    pub fn src(&self) -> Option<IpAddr> {
        decode_addr(&self.saddr, self.family)
    }
    /// Destination address.
    pub fn dst(&self) -> Option<IpAddr> {
        decode_addr(&self.daddr, self.family)
    }
}

impl fmt::Display for Tuple {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_addr(f, &self.saddr, self.family)?;
        write!(f, ":{} -> ", self.sport.get())?;
        fmt_addr(f, &self.daddr, self.family)?;
        write!(f, ":{} proto={}", self.dport.get(), self.protocol)
    }
}

abi_struct! {
    /// A drop event, `struct cil_drop_event` (`hdr.subtype` is the reason).
    #[doc(alias = "drop_notify")]
    c = "cil_drop_event", size = 72;
    pub struct DropEvent {
        /// Header.
        pub hdr: EventHdr,
        /// Flow.
        pub tuple: Tuple,
        /// Source identity.
        pub src_identity: u32,
        /// Destination identity.
        pub dst_identity: u32,
        /// Interface.
        pub ifindex: u32,
        /// `CIL_DIR_*`.
        pub direction: u8,
        /// TCP flags of the packet.
        pub tcp_flags: u8,
        /// Extended error.
        pub ext_error: u8,
        /// Padding, zero.
        pub pad: u8,
    }
}

abi_struct! {
    /// A trace event, `struct cil_trace_event` (`hdr.subtype` is the observation point).
    #[doc(alias = "trace_notify")]
    c = "cil_trace_event", size = 96;
    pub struct TraceEvent {
        /// Header.
        pub hdr: EventHdr,
        /// Flow (after translation).
        pub tuple: Tuple,
        /// Source identity.
        pub src_identity: u32,
        /// Destination identity.
        pub dst_identity: u32,
        /// Interface.
        pub ifindex: u32,
        /// `CIL_DIR_*`.
        pub direction: u8,
        /// TCP flags of the packet.
        pub tcp_flags: u8,
        /// `CIL_TRACE_REASON_*`.
        pub reason: u8,
        /// Padding, zero.
        pub pad: u8,
        /// Destination before service translation (zero if none).
        pub orig_daddr: [u8; 16],
        /// Destination port before service translation (network order).
        pub orig_dport: Be16,
        /// Reverse-NAT index of the translation.
        pub rev_nat_index: u16,
        /// Padding, zero.
        pub pad2: u32,
    }
}

abi_struct! {
    /// A policy verdict event, `struct cil_policy_verdict_event`.
    #[doc(alias = "policy_verdict_notify")]
    c = "cil_policy_verdict_event", size = 72;
    pub struct PolicyVerdictEvent {
        /// Header.
        pub hdr: EventHdr,
        /// Flow.
        pub tuple: Tuple,
        /// Identity of the peer.
        pub remote_identity: u32,
        /// Interface.
        pub ifindex: u32,
        /// `CIL_DIR_*`.
        pub direction: u8,
        /// `CIL_POLICY_MATCH_*`.
        pub match_type: u8,
        /// `CIL_VERDICT_F_*`.
        pub flags: u8,
        /// Drop reason when denied.
        pub drop_reason: u8,
        /// L7 proxy port when redirected (network order).
        pub proxy_port: Be16,
        /// Authentication type required.
        pub auth_type: u8,
        /// Padding, zero.
        pub pad: u8,
    }
}

abi_struct! {
    /// A socket event, `struct cil_sock_event` (`hdr.subtype` is `CIL_SOCK_*`).
    #[doc(alias = "trace_sock_notify")]
    c = "cil_sock_event", size = 72;
    pub struct SockEvent {
        /// Header.
        pub hdr: EventHdr,
        /// Flow.
        pub tuple: Tuple,
        /// Socket cookie.
        pub cookie: u64,
        /// Cgroup id of the socket.
        pub cgroup_id: u64,
    }
}

/// Layouts of every ABI struct, for the layout check.
pub fn all_layouts() -> Vec<crate::layout::StructLayout> {
    use crate::layout::AbiType;
    vec![
        PolicyKey::layout(),
        PolicyEntry::layout(),
        IpCacheKey::layout(),
        IpCacheValue::layout(),
        PrefilterValue::layout(),
        EndpointKey::layout(),
        EndpointInfo::layout(),
        ServiceKey::layout(),
        ServiceValue::layout(),
        BackendKey::layout(),
        Backend::layout(),
        RevNatKey::layout(),
        RevNatValue::layout(),
        MaglevKey::layout(),
        AffinityKey::layout(),
        AffinityValue::layout(),
        SockRevNatKey::layout(),
        SockRevNatValue::layout(),
        CtKey::layout(),
        CtEntry::layout(),
        MetricsKey::layout(),
        MetricsValue::layout(),
        EventHdr::layout(),
        Tuple::layout(),
        DropEvent::layout(),
        TraceEvent::layout(),
        PolicyVerdictEvent::layout(),
        SockEvent::layout(),
    ]
}
