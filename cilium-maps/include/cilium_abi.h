/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cilium_abi.h - the datapath ABI of the cilium-rs family.
 *
 * This header is the single source of truth, on the C side, for every BPF map key and value
 * and every event record shared between the eBPF programs (cilium-datapath/bpf) and user space
 * (the #[repr(C)] mirrors in cilium-maps/src/abi.rs). The test `layout` in cilium-maps compiles
 * bpf/abi_check.c (which names every type below) with `clang -g`, reads the object's BTF and
 * compares every size, every field offset and every constant with the Rust side.
 *
 * Rules for anything added here:
 *   - fixed-width fields only, explicit `pad` fields, no bitfields, no implicit padding;
 *   - no C enum types inside shared structs: store a __u8/__u16 and convert on the Rust side;
 *     constants are grouped in named enums so that they appear in BTF;
 *   - multi-byte fields are host byte order unless the type says __be16/__be32 (ports and
 *     addresses are network order, identities and counters host order);
 *   - every address is 16 bytes with a family byte beside it: IPv4 uses the first 4 bytes and
 *     zeroes the rest, so IPv6 fits without an ABI change;
 *   - keys are zeroed before use: hash and LPM maps compare every byte, padding included;
 *   - a _Static_assert on the size of every struct.
 */
#ifndef CILIUM_ABI_H
#define CILIUM_ABI_H

#include <linux/types.h>

#define CIL_ABI_VERSION 1

/* ------------------------------------------------------------------------------------------
 * Shared constants
 * ---------------------------------------------------------------------------------------- */

/* Address family stored beside every 16-byte address (same numbers as Cilium's ENDPOINT_KEY_*). */
enum cil_family {
	CIL_FAMILY_NONE = 0,
	CIL_FAMILY_IPV4 = 1,
	CIL_FAMILY_IPV6 = 2,
};

/* Traffic direction, from the endpoint's point of view. */
enum cil_direction {
	CIL_DIR_INGRESS = 0,
	CIL_DIR_EGRESS = 1,
};

/* Reserved security identities, numbered as Cilium numbers them. */
enum cil_reserved_identity {
	CIL_ID_UNKNOWN = 0,
	CIL_ID_HOST = 1,
	CIL_ID_WORLD = 2,
	CIL_ID_UNMANAGED = 3,
	CIL_ID_HEALTH = 4,
	CIL_ID_INIT = 5,
	CIL_ID_REMOTE_NODE = 6,
	CIL_ID_KUBE_APISERVER = 7,
	CIL_ID_INGRESS = 8,
	CIL_ID_WORLD_IPV4 = 9,
	CIL_ID_WORLD_IPV6 = 10,
	CIL_ID_LOCAL_SCOPE = 0x01000000, /* CIDR/FQDN identities: (1 << 24) | n */
	CIL_ID_SCOPE_MASK = 0xFF000000,
};

/*
 * Drop reasons: the positive form of Cilium's DROP_* codes, so that events and metrics read
 * the same as Hubble's DropReason enum. 0 means "forwarded" in the metrics map.
 */
enum cil_drop_reason {
	CIL_REASON_FORWARDED = 0,
	CIL_DROP_INVALID_SMAC = 130,
	CIL_DROP_INVALID_DMAC = 131,
	CIL_DROP_INVALID_SIP = 132,
	CIL_DROP_POLICY = 133,
	CIL_DROP_INVALID = 134,
	CIL_DROP_CT_INVALID_HDR = 135,
	CIL_DROP_CT_UNKNOWN_PROTO = 137,
	CIL_DROP_UNKNOWN_L3 = 139,
	CIL_DROP_WRITE_ERROR = 141,
	CIL_DROP_UNKNOWN_L4 = 142,
	CIL_DROP_UNKNOWN_TARGET = 150,
	CIL_DROP_CT_CREATE_FAILED = 155,
	CIL_DROP_FRAG_NOSUPPORT = 157,
	CIL_DROP_NO_SERVICE = 158,
	CIL_DROP_NO_CONFIG = 165,
	CIL_DROP_UNSUPPORTED_L2 = 166,
	CIL_DROP_INVALID_IDENTITY = 171,
	CIL_DROP_UNKNOWN_SENDER = 172,
	CIL_DROP_LB_SRC_RANGE = 177,
	CIL_DROP_PROXY_LOOKUP_FAILED = 178,
	CIL_DROP_PROXY_SET_FAILED = 179,
	CIL_DROP_PROXY_UNKNOWN_PROTO = 180,
	CIL_DROP_POLICY_DENY = 181,
	CIL_DROP_POLICY_AUTH_REQUIRED = 189,
	CIL_DROP_CT_NO_MAP_FOUND = 190,
	CIL_DROP_RATE_LIMITED = 198,
	CIL_DROP_HOST_NOT_READY = 202,
	CIL_DROP_EP_NOT_READY = 203,
};

/* Monitor message types (first byte of every event), Cilium's numbering. */
enum cil_event_type {
	CIL_EVENT_UNSPEC = 0,
	CIL_EVENT_DROP = 1,
	CIL_EVENT_DEBUG = 2,
	CIL_EVENT_CAPTURE = 3,
	CIL_EVENT_TRACE = 4,
	CIL_EVENT_POLICY_VERDICT = 5,
	CIL_EVENT_REC_CAPTURE = 6,
	CIL_EVENT_TRACE_SOCK = 7,
};

/* Trace observation points (subtype of CIL_EVENT_TRACE), Cilium's numbering. */
enum cil_trace_point {
	CIL_TRACE_TO_ENDPOINT = 0,
	CIL_TRACE_TO_PROXY = 1,
	CIL_TRACE_TO_HOST = 2,
	CIL_TRACE_TO_STACK = 3,
	CIL_TRACE_TO_OVERLAY = 4,
	CIL_TRACE_FROM_ENDPOINT = 5,
	CIL_TRACE_FROM_PROXY = 6,
	CIL_TRACE_FROM_HOST = 7,
	CIL_TRACE_FROM_STACK = 8,
	CIL_TRACE_FROM_OVERLAY = 9,
	CIL_TRACE_FROM_NETWORK = 10,
	CIL_TRACE_TO_NETWORK = 11,
};

/* Which of the six policy lookups matched (policy verdict events), Cilium's numbering. */
enum cil_policy_match {
	CIL_POLICY_MATCH_NONE = 0,
	CIL_POLICY_MATCH_L3_ONLY = 1,
	CIL_POLICY_MATCH_L3_L4 = 2,
	CIL_POLICY_MATCH_L4_ONLY = 3,
	CIL_POLICY_MATCH_ALL = 4,
	CIL_POLICY_MATCH_L3_PROTO = 5,
	CIL_POLICY_MATCH_PROTO_ONLY = 6,
};

/* sock_ops event subtypes (CIL_EVENT_TRACE_SOCK). */
enum cil_sock_op {
	CIL_SOCK_ESTABLISHED = 1,
	CIL_SOCK_CLOSED = 2,
	CIL_SOCK_LB_XLATE = 3,
};

/*
 * skb->mark values shared by the endpoint programs and the L7 proxies (bits 8..11 are the
 * magic; Cilium uses the same nibble for the same purposes):
 *   TO_PROXY        set by the datapath on a packet it assigned to a proxy socket; the
 *                   instance's policy-routing rule delivers such packets locally.
 *   TO_PROXY_INGRESS set by to-endpoint on a packet it hands back to the host-side veth's
 *                   ingress for the ingress proxy; the proxy port is in bits 16..31.
 *   PROXY_INGRESS / PROXY_EGRESS set by a proxy on its upstream connections; the source
 *                   identity is in bits 16..31 (low 16 bits) and 0..7 (bits 16..23).
 * Marks do not cross network namespaces (veth scrubs them), so an endpoint cannot forge one.
 */
enum cil_mark {
	CIL_MARK_MAGIC_MASK = 0x0F00,
	CIL_MARK_MAGIC_TO_PROXY = 0x0200,
	CIL_MARK_MAGIC_TO_PROXY_INGRESS = 0x0300,
	CIL_MARK_MAGIC_PROXY_INGRESS = 0x0A00,
	CIL_MARK_MAGIC_PROXY_EGRESS = 0x0B00,
};

/* ------------------------------------------------------------------------------------------
 * Per-endpoint policy map (LPM trie)
 * ---------------------------------------------------------------------------------------- */

/*
 * Lookup precedence, first match wins (the datapath issues two full-length LPM lookups, one
 * with the peer identity and one with identity 0, and ranks what they return):
 *   1. identity / proto / port      (CIL_POLICY_MATCH_L3_L4)
 *   2. any      / proto / port      (CIL_POLICY_MATCH_L4_ONLY)
 *   3. identity / proto / any port  (CIL_POLICY_MATCH_L3_PROTO)
 *   4. any      / proto / any port  (CIL_POLICY_MATCH_PROTO_ONLY)
 *   5. identity / any   / any       (CIL_POLICY_MATCH_L3_ONLY)
 *   6. any      / any   / any       (CIL_POLICY_MATCH_ALL)
 * No match drops with CIL_DROP_POLICY (133); a matching deny entry drops with
 * CIL_DROP_POLICY_DENY (181).
 *
 * The two lookups are ranked by the prefix length of the key each entry was stored under
 * (kept in the entry as lpm_prefix_length, since an LPM lookup returns only the value): the
 * longer prefix wins, and on a tie the identity-specific entry wins. This is exactly the
 * order above, and extends it to port ranges (partial port prefixes).
 *
 * The LPM prefix covers, in order: identity (32 bits) and direction (8 bits) - always fully
 * specified, CIL_POLICY_STATIC_PREFIX - then protocol (8 bits, 0 bits when wildcarded) and
 * the destination port (network order, 0..16 bits: port ranges are stored as port prefixes).
 * A wildcarded protocol implies a wildcarded port.
 */
enum cil_policy_consts {
	CIL_POLICY_STATIC_PREFIX = 40,
	CIL_POLICY_FULL_PREFIX = 64,
	CIL_POLICY_MAP_DEFAULT_MAX = 16384,
};

struct cil_policy_key {
	__u32 prefixlen; /* LPM prefix length in bits, host order */
	__u32 identity;  /* peer security identity, host order; 0 = any peer */
	__u8 egress;     /* CIL_DIR_INGRESS / CIL_DIR_EGRESS */
	__u8 protocol;   /* IANA protocol number; 0 = any */
	__be16 dport;    /* destination port, network order; 0 = any (ICMP: type << 8) */
};
_Static_assert(sizeof(struct cil_policy_key) == 12, "cil_policy_key size");

enum cil_policy_flags {
	CIL_POLICY_F_DENY = 1 << 0,
	CIL_POLICY_F_WILDCARD_PROTO = 1 << 1,
	CIL_POLICY_F_WILDCARD_DPORT = 1 << 2,
};

struct cil_policy_entry {
	__be16 proxy_port; /* L7 redirect to this local proxy port (network order); 0 = none */
	__u8 flags;        /* CIL_POLICY_F_* */
	__u8 auth_type;    /* 0 = no authentication required */
	__u8 lpm_prefix_length; /* prefixlen of the key this entry is stored under (see below) */
	__u8 pad[3];
	__u64 packets; /* updated by the datapath */
	__u64 bytes;
};
_Static_assert(sizeof(struct cil_policy_entry) == 24, "cil_policy_entry size");

/* ------------------------------------------------------------------------------------------
 * IP cache (LPM trie): address/CIDR -> security identity
 * ---------------------------------------------------------------------------------------- */

enum cil_ipcache_consts {
	CIL_IPCACHE_STATIC_PREFIX = 32, /* cluster_id, pad and family are always matched */
	CIL_IPCACHE_MAP_DEFAULT_MAX = 512000,
};

/* Byte-compatible with Cilium's ipcache_key: prefixlen = 32 + CIDR length. */
struct cil_ipcache_key {
	__u32 prefixlen;
	__u16 cluster_id; /* host order */
	__u8 pad;
	__u8 family; /* CIL_FAMILY_* */
	__u8 addr[16];
};
_Static_assert(sizeof(struct cil_ipcache_key) == 24, "cil_ipcache_key size");

enum cil_ipcache_flags {
	CIL_IPCACHE_F_SKIP_TUNNEL = 1 << 0,
	CIL_IPCACHE_F_HAS_TUNNEL_EP = 1 << 1,
	CIL_IPCACHE_F_REMOTE_CLUSTER = 1 << 2,
};

struct cil_ipcache_value {
	__u32 identity;
	__u8 tunnel_endpoint[16];
	__u8 tunnel_family; /* CIL_FAMILY_* of tunnel_endpoint, NONE without tunnel */
	__u8 encrypt_key;
	__u8 flags; /* CIL_IPCACHE_F_* */
	__u8 pad;
};
_Static_assert(sizeof(struct cil_ipcache_value) == 24, "cil_ipcache_value size");

/* ------------------------------------------------------------------------------------------
 * Local endpoints (hash): endpoint address -> endpoint
 * ---------------------------------------------------------------------------------------- */

struct cil_endpoint_key {
	__u8 addr[16];
	__u8 family;
	__u8 pad;
	__u16 cluster_id;
};
_Static_assert(sizeof(struct cil_endpoint_key) == 20, "cil_endpoint_key size");

enum cil_endpoint_flags {
	CIL_ENDPOINT_F_HOST = 1 << 0,            /* the node itself */
	CIL_ENDPOINT_F_ENFORCE_INGRESS = 1 << 1, /* consult the policy map on ingress */
	CIL_ENDPOINT_F_ENFORCE_EGRESS = 1 << 2,  /* consult the policy map on egress */
	CIL_ENDPOINT_F_POLICY_READY = 1 << 3,    /* policy written; without it the endpoint drops */
};

struct cil_endpoint_info {
	__u32 ifindex; /* host-side interface of the endpoint */
	__u16 endpoint_id;
	__u16 flags; /* CIL_ENDPOINT_F_* */
	__u32 identity;
	__u32 pad;
	__u8 mac[6];      /* endpoint's MAC */
	__u8 node_mac[6]; /* host-side MAC */
	__u32 pad2;
};
_Static_assert(sizeof(struct cil_endpoint_info) == 32, "cil_endpoint_info size");

/* ------------------------------------------------------------------------------------------
 * Services (hash): frontend + slot -> service or backend slot
 * ---------------------------------------------------------------------------------------- */

enum cil_lb_consts {
	CIL_LB_SCOPE_EXT = 0,
	CIL_LB_SCOPE_INT = 1,
	CIL_LB_ALG_RANDOM = 1,
	CIL_LB_ALG_MAGLEV = 2,
	CIL_LB_MAP_DEFAULT_MAX = 65536,
	CIL_MAGLEV_DEFAULT_TABLE_SIZE = 16381,
};

struct cil_service_key {
	__u8 addr[16]; /* frontend address, network order */
	__be16 dport;
	__u16 backend_slot; /* 0 = the service itself, 1..count = backend slots */
	__u8 protocol;
	__u8 scope; /* CIL_LB_SCOPE_* */
	__u8 family;
	__u8 pad;
};
_Static_assert(sizeof(struct cil_service_key) == 24, "cil_service_key size");

enum cil_service_flags {
	CIL_SVC_F_EXTERNAL_IP = 1 << 0,
	CIL_SVC_F_NODEPORT = 1 << 1,
	CIL_SVC_F_EXT_LOCAL_SCOPE = 1 << 2,
	CIL_SVC_F_HOSTPORT = 1 << 3,
	CIL_SVC_F_AFFINITY = 1 << 4,
	CIL_SVC_F_LOADBALANCER = 1 << 5,
	CIL_SVC_F_ROUTABLE = 1 << 6,
	CIL_SVC_F_SOURCE_RANGE = 1 << 7,
};

enum cil_service_flags2 {
	CIL_SVC_F2_LOCALREDIRECT = 1 << 0,
	CIL_SVC_F2_L7_LOADBALANCER = 1 << 2,
	CIL_SVC_F2_LOOPBACK = 1 << 3,
	CIL_SVC_F2_INT_LOCAL_SCOPE = 1 << 4,
	CIL_SVC_F2_TWO_SCOPES = 1 << 5,
};

struct cil_service_value {
	__u32 backend_id;       /* slot > 0: the backend in this slot */
	__u32 affinity_timeout; /* slot 0: ClientIP affinity timeout in seconds, 0 = none */
	__u16 count;            /* slot 0: number of backend slots */
	__u16 qcount;           /* slot 0: quarantined backends after the active ones */
	__u16 rev_nat_index;
	__u8 flags;     /* CIL_SVC_F_* */
	__u8 flags2;    /* CIL_SVC_F2_* */
	__u8 algorithm; /* CIL_LB_ALG_* */
	__u8 pad[3];
};
_Static_assert(sizeof(struct cil_service_value) == 20, "cil_service_value size");

/* Backends (hash): backend id -> backend. */
struct cil_backend_key {
	__u32 backend_id;
};
_Static_assert(sizeof(struct cil_backend_key) == 4, "cil_backend_key size");

enum cil_backend_state {
	CIL_BACKEND_ACTIVE = 0,
	CIL_BACKEND_TERMINATING = 1,
	CIL_BACKEND_QUARANTINED = 2,
	CIL_BACKEND_MAINTENANCE = 3,
};

struct cil_backend {
	__u8 addr[16];
	__be16 port;
	__u8 protocol;
	__u8 state; /* CIL_BACKEND_* */
	__u8 family;
	__u8 cluster_id;
	__u8 zone;
	__u8 flags; /* CIL_BACKEND_F_* */
};
_Static_assert(sizeof(struct cil_backend) == 24, "cil_backend size");

enum cil_backend_flags {
	CIL_BACKEND_F_LOCAL = 1 << 0, /* runs on this node (traffic policy Local) */
};

/* Reverse NAT (hash): rev_nat_index -> the frontend replies must appear to come from. */
struct cil_rev_nat_key {
	__u16 rev_nat_index;
	__u16 pad;
};
_Static_assert(sizeof(struct cil_rev_nat_key) == 4, "cil_rev_nat_key size");

struct cil_rev_nat_value {
	__u8 addr[16];
	__be16 port;
	__u8 family;
	__u8 pad;
};
_Static_assert(sizeof(struct cil_rev_nat_value) == 20, "cil_rev_nat_value size");

/*
 * Maglev: an outer hash-of-maps keyed by cil_maglev_key holds, per service, an inner array
 * with a single element whose value is `__u32 backend_ids[table_size]` (table_size is a
 * load-time setting, CIL_MAGLEV_DEFAULT_TABLE_SIZE by default).
 */
struct cil_maglev_key {
	__u16 rev_nat_index;
	__u16 pad;
};
_Static_assert(sizeof(struct cil_maglev_key) == 4, "cil_maglev_key size");

/* Session affinity (LRU hash): client + service -> the backend it was given. */
enum cil_affinity_flags {
	CIL_AFFINITY_F_NETNS_COOKIE = 1 << 0, /* client holds a netns cookie (socket LB), not an address */
};

struct cil_affinity_key {
	__u8 client[16]; /* client address, or a u64 netns cookie in the first 8 bytes */
	__u16 rev_nat_index;
	__u8 family;
	__u8 flags; /* CIL_AFFINITY_F_* */
};
_Static_assert(sizeof(struct cil_affinity_key) == 20, "cil_affinity_key size");

struct cil_affinity_value {
	__u64 last_used_ns; /* bpf_ktime_get_ns() of the last use */
	__u32 backend_id;
	__u32 pad;
};
_Static_assert(sizeof(struct cil_affinity_value) == 16, "cil_affinity_value size");

/* Socket-LB reverse translation (LRU hash): socket cookie + backend -> frontend. */
struct cil_sock_revnat_key {
	__u64 cookie;
	__u8 addr[16]; /* backend address */
	__be16 port;
	__u8 family;
	__u8 pad[5];
};
_Static_assert(sizeof(struct cil_sock_revnat_key) == 32, "cil_sock_revnat_key size");

struct cil_sock_revnat_value {
	__u8 addr[16]; /* frontend address */
	__be16 port;
	__u16 rev_nat_index;
	__u8 family;
	__u8 pad[3];
};
_Static_assert(sizeof(struct cil_sock_revnat_value) == 24, "cil_sock_revnat_value size");

/* ------------------------------------------------------------------------------------------
 * Connection tracking (LRU hash)
 * ---------------------------------------------------------------------------------------- */

enum cil_ct_consts {
	CIL_CT_F_EGRESS = 0,       /* tuple flags: entry created by an egress packet */
	CIL_CT_F_INGRESS = 1 << 0, /* entry created by an ingress packet */
	CIL_CT_F_RELATED = 1 << 1, /* ICMP error related to the flow */
	CIL_CT_F_SERVICE = 1 << 2, /* entry for the pre-translation service tuple */
	CIL_CT_TCP_MAX_DEFAULT = 524288,
	CIL_CT_ANY_MAX_DEFAULT = 262144,
	CIL_CT_TIMEOUT_TCP_DEFAULT = 8000, /* seconds, established TCP */
	CIL_CT_TIMEOUT_SYN_DEFAULT = 60,
	CIL_CT_TIMEOUT_FIN_DEFAULT = 10,
	CIL_CT_TIMEOUT_ANY_DEFAULT = 60,
};

/*
 * A flow's tuple as the datapath sees it. Conntrack keys use the tuple of the packet that
 * created the entry; replies are looked up with addresses and ports swapped.
 */
struct cil_ct_key {
	__u8 daddr[16];
	__u8 saddr[16];
	__be16 dport;
	__be16 sport;
	__u8 nexthdr;
	__u8 flags; /* CIL_CT_F_* */
	__u8 family;
	__u8 pad;
};
_Static_assert(sizeof(struct cil_ct_key) == 40, "cil_ct_key size");

enum cil_ct_entry_flags {
	CIL_CT_ENTRY_F_RX_CLOSING = 1 << 0,
	CIL_CT_ENTRY_F_TX_CLOSING = 1 << 1,
	CIL_CT_ENTRY_F_SEEN_NON_SYN = 1 << 2,
	CIL_CT_ENTRY_F_NODE_PORT = 1 << 3,
	CIL_CT_ENTRY_F_PROXY_REDIRECT = 1 << 4,
	CIL_CT_ENTRY_F_LB_LOOPBACK = 1 << 5,
	CIL_CT_ENTRY_F_DENIED = 1 << 6, /* drop already reported for this flow (rate limit) */
};

struct cil_ct_entry {
	__u64 rx_packets;
	__u64 rx_bytes;
	__u64 tx_packets;
	__u64 tx_bytes;
	__u32 lifetime; /* expiry, seconds of CLOCK_MONOTONIC (bpf_ktime_get_ns() / 1e9) */
	__u16 flags;    /* CIL_CT_ENTRY_F_* */
	__u16 rev_nat_index;
	__u32 backend_id;
	__u32 src_identity;
	__u8 tx_flags_seen; /* TCP flags seen in each direction */
	__u8 rx_flags_seen;
	__be16 proxy_port;
	__u32 last_tx_report; /* seconds; aggregation of trace events */
	__u32 last_rx_report;
	__u32 pad;
};
_Static_assert(sizeof(struct cil_ct_entry) == 64, "cil_ct_entry size");

/* ------------------------------------------------------------------------------------------
 * Metrics (per-CPU hash): reason + direction -> packets and bytes
 * ---------------------------------------------------------------------------------------- */

struct cil_metrics_key {
	__u8 reason;    /* 0 = forwarded, else a cil_drop_reason */
	__u8 direction; /* CIL_DIR_* */
	__u16 pad;
	__u32 pad2;
};
_Static_assert(sizeof(struct cil_metrics_key) == 8, "cil_metrics_key size");

struct cil_metrics_value {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct cil_metrics_value) == 16, "cil_metrics_value size");

/* XDP prefilter deny list (LPM trie): key is a cil_ipcache_key, value a hit counter. */
struct cil_prefilter_value {
	__u64 drops;
};
_Static_assert(sizeof(struct cil_prefilter_value) == 8, "cil_prefilter_value size");

/* ------------------------------------------------------------------------------------------
 * Events (ring buffer records). Every record starts with cil_event_hdr.
 * ---------------------------------------------------------------------------------------- */

struct cil_event_hdr {
	__u8 type;    /* cil_event_type */
	__u8 subtype; /* drop: reason; trace: observation point; sock: cil_sock_op */
	__u16 endpoint_id;
	__u32 orig_len; /* length of the packet on the wire, 0 for socket events */
	__u64 ktime_ns; /* bpf_ktime_get_ns() */
};
_Static_assert(sizeof(struct cil_event_hdr) == 16, "cil_event_hdr size");

struct cil_tuple {
	__u8 saddr[16];
	__u8 daddr[16];
	__be16 sport;
	__be16 dport;
	__u8 protocol;
	__u8 family;
	__u8 pad[2];
};
_Static_assert(sizeof(struct cil_tuple) == 40, "cil_tuple size");

struct cil_drop_event {
	struct cil_event_hdr hdr; /* type CIL_EVENT_DROP, subtype = reason */
	struct cil_tuple tuple;
	__u32 src_identity;
	__u32 dst_identity;
	__u32 ifindex;
	__u8 direction;
	__u8 tcp_flags;
	__u8 ext_error;
	__u8 pad;
};
_Static_assert(sizeof(struct cil_drop_event) == 72, "cil_drop_event size");

enum cil_trace_reason {
	CIL_TRACE_REASON_NEW = 0,
	CIL_TRACE_REASON_ESTABLISHED = 1,
	CIL_TRACE_REASON_REPLY = 2,
	CIL_TRACE_REASON_RELATED = 3,
};

struct cil_trace_event {
	struct cil_event_hdr hdr; /* type CIL_EVENT_TRACE, subtype = observation point */
	struct cil_tuple tuple;
	__u32 src_identity;
	__u32 dst_identity;
	__u32 ifindex;
	__u8 direction;
	__u8 tcp_flags;
	__u8 reason; /* cil_trace_reason */
	__u8 pad;
	__u8 orig_daddr[16]; /* destination before service translation (zero if none) */
	__be16 orig_dport;
	__u16 rev_nat_index;
	__u32 pad2;
};
_Static_assert(sizeof(struct cil_trace_event) == 96, "cil_trace_event size");

enum cil_verdict_flags {
	CIL_VERDICT_F_DENY = 1 << 0,     /* drop */
	CIL_VERDICT_F_REDIRECT = 1 << 1, /* allowed, redirected to the L7 proxy */
	CIL_VERDICT_F_AUDIT = 1 << 2,    /* would have dropped; audit mode let it pass */
};

struct cil_policy_verdict_event {
	struct cil_event_hdr hdr; /* type CIL_EVENT_POLICY_VERDICT */
	struct cil_tuple tuple;
	__u32 remote_identity;
	__u32 ifindex;
	__u8 direction;
	__u8 match_type; /* cil_policy_match */
	__u8 flags;      /* CIL_VERDICT_F_* */
	__u8 drop_reason;
	__be16 proxy_port;
	__u8 auth_type;
	__u8 pad;
};
_Static_assert(sizeof(struct cil_policy_verdict_event) == 72, "cil_policy_verdict_event size");

struct cil_sock_event {
	struct cil_event_hdr hdr; /* type CIL_EVENT_TRACE_SOCK, subtype = cil_sock_op */
	struct cil_tuple tuple;
	__u64 cookie;
	__u64 cgroup_id;
};
_Static_assert(sizeof(struct cil_sock_event) == 72, "cil_sock_event size");

#endif /* CILIUM_ABI_H */
