/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Map definitions shared by the programs. Key and value layouts come from cilium_abi.h.
 * Shared maps are pinned by name under the instance's bpffs directory, so several programs
 * (and a restarted agent) use the same maps.
 */
#ifndef CIL_MAPS_H
#define CIL_MAPS_H

#include "common.h"

#ifndef LIBBPF_PIN_BY_NAME
#define LIBBPF_PIN_BY_NAME 1
#endif

/*
 * Per-endpoint policy: outer map keyed by endpoint id, inner LPM trie per endpoint. The inner
 * template gives sizes rather than BTF types: clang emits only a forward declaration for a
 * struct reached solely through the template, which loaders reject.
 */
struct cil_policy_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(key_size, sizeof(struct cil_policy_key));
	__uint(value_size, sizeof(struct cil_policy_entry));
	__uint(max_entries, CIL_POLICY_MAP_DEFAULT_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, 65536);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct cil_policy_inner);
} cil_policy_maps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct cil_ipcache_key);
	__type(value, struct cil_ipcache_value);
	__uint(max_entries, CIL_IPCACHE_MAP_DEFAULT_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cil_endpoint_key);
	__type(value, struct cil_endpoint_info);
	__uint(max_entries, 65535);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_endpoints SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cil_ct_key);
	__type(value, struct cil_ct_entry);
	__uint(max_entries, CIL_CT_TCP_MAX_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, struct cil_metrics_key);
	__type(value, struct cil_metrics_value);
	__uint(max_entries, 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_metrics SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_events SEC(".maps");

/* ---- Load balancing ---- */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cil_service_key);
	__type(value, struct cil_service_value);
	__uint(max_entries, CIL_LB_MAP_DEFAULT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cil_backend_key);
	__type(value, struct cil_backend);
	__uint(max_entries, CIL_LB_MAP_DEFAULT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct cil_rev_nat_key);
	__type(value, struct cil_rev_nat_value);
	__uint(max_entries, CIL_LB_MAP_DEFAULT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_rev_nat SEC(".maps");

/*
 * Maglev tables. The loader creates and pins this map before the objects load (the inner
 * value size is the run-time table size, which a compiled template cannot know); the
 * template below only has to have the same shape.
 */
struct cil_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32) * CIL_MAGLEV_DEFAULT_TABLE_SIZE);
	__uint(max_entries, 1);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u32);
	__uint(max_entries, CIL_LB_MAP_DEFAULT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct cil_maglev_inner);
} cil_maglev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cil_affinity_key);
	__type(value, struct cil_affinity_value);
	__uint(max_entries, CIL_LB_MAP_DEFAULT_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cil_sock_revnat_key);
	__type(value, struct cil_sock_revnat_value);
	__uint(max_entries, CIL_CT_ANY_MAX_DEFAULT);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_sock_revnat SEC(".maps");

/* ---- XDP prefilter: source CIDRs to drop ---- */

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct cil_ipcache_key);
	__type(value, struct cil_prefilter_value);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_prefilter SEC(".maps");

/* ---- Event bookkeeping ---- */

/* Events the ring buffer had no room for, per CPU (index 0). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_events_lost SEC(".maps");

/* Drop-event rate limit: last report per flow tuple + direction (ns). */
struct cil_notify_key {
	struct cil_tuple tuple;
	__u32 direction;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct cil_notify_key);
	__type(value, __u64);
	__uint(max_entries, 65536);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cil_drop_notify SEC(".maps");

#endif
