/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Service load balancing shared by the socket-LB and TC programs: frontend lookup (external
 * scope, then internal scope when the service has both), backend selection (ClientIP
 * affinity, then Maglev or random), and IPv4 address/port rewriting with checksum updates.
 */
#ifndef CIL_LB_H
#define CIL_LB_H

#include <stddef.h>
#include "maps.h"

static __always_inline void cil_svc_key(struct cil_service_key *k, __be32 addr, __be16 dport, __u8 proto)
{
	__builtin_memset(k, 0, sizeof(*k));
	cil_addr4(k->addr, addr);
	k->dport = dport;
	k->protocol = proto;
	k->scope = CIL_LB_SCOPE_EXT;
	k->family = CIL_FAMILY_IPV4;
}

/*
 * The service of a frontend, seen from inside the cluster: a service with two scopes has a
 * separate internal-scope entry (internal traffic policy), which wins for in-cluster clients.
 */
static __always_inline struct cil_service_value *cil_lb_lookup(struct cil_service_key *k)
{
	struct cil_service_value *svc = bpf_map_lookup_elem(&cil_services, k);
	struct cil_service_value *internal;

	if (svc && (svc->flags2 & CIL_SVC_F2_TWO_SCOPES)) {
		k->scope = CIL_LB_SCOPE_INT;
		internal = bpf_map_lookup_elem(&cil_services, k);
		if (internal)
			return internal;
		k->scope = CIL_LB_SCOPE_EXT;
	}
	return svc;
}

/* A backend id by the service's algorithm: Maglev slot `hash`, else a random slot. 0: none. */
static __always_inline __u32 cil_lb_select(struct cil_service_key *k, const struct cil_service_value *svc,
					   __u32 hash)
{
	struct cil_service_value *slot;
	__u32 id;

	if (svc->count == 0)
		return 0;
	if (svc->algorithm == CIL_LB_ALG_MAGLEV) {
		struct cil_maglev_key mk = { .rev_nat_index = svc->rev_nat_index };
		void *inner = bpf_map_lookup_elem(&cil_maglev, &mk);
		__u32 zero = 0, idx;
		__u32 *table;

		if (inner) {
			table = bpf_map_lookup_elem(inner, &zero);
			idx = hash % cil_maglev_table_size;
			if (table && idx < cil_maglev_table_size)
				return table[idx];
		}
		/* No table (yet): fall back to a random slot rather than refuse. */
	}
	k->backend_slot = (bpf_get_prandom_u32() % svc->count) + 1;
	slot = bpf_map_lookup_elem(&cil_services, k);
	id = slot ? slot->backend_id : 0;
	k->backend_slot = 0;
	return id;
}

static __always_inline struct cil_backend *cil_lb_backend(__u32 id)
{
	struct cil_backend_key bk = { .backend_id = id };

	return id ? bpf_map_lookup_elem(&cil_backends, &bk) : 0;
}

/*
 * Picks the backend of a new flow or connection: the client's affinity entry while it is
 * fresh and its backend active, else the algorithm. Returns the backend (and its id) or NULL.
 */
static __always_inline struct cil_backend *cil_lb_pick(struct cil_service_key *k, const struct cil_service_value *svc,
						       __u32 hash, const struct cil_affinity_key *ak, __u32 *id_out)
{
	struct cil_affinity_value *aff, fresh;
	struct cil_backend *b = 0;
	__u64 now = bpf_ktime_get_ns();
	__u32 id = 0;

	if (svc->flags & CIL_SVC_F_AFFINITY) {
		aff = bpf_map_lookup_elem(&cil_affinity, ak);
		if (aff && now - aff->last_used_ns <= (__u64)svc->affinity_timeout * 1000000000ULL) {
			id = aff->backend_id;
			b = cil_lb_backend(id);
			if (b && b->state != CIL_BACKEND_ACTIVE)
				b = 0;
		}
	}
	if (!b) {
		id = cil_lb_select(k, svc, hash);
		b = cil_lb_backend(id);
		if (!b)
			return 0;
	}
	if (svc->flags & CIL_SVC_F_AFFINITY) {
		__builtin_memset(&fresh, 0, sizeof(fresh));
		fresh.last_used_ns = now;
		fresh.backend_id = id;
		bpf_map_update_elem(&cil_affinity, ak, &fresh, BPF_ANY);
	}
	*id_out = id;
	return b;
}

static __always_inline __be32 cil_addr4_of(const __u8 addr[16])
{
	__be32 a;

	__builtin_memcpy(&a, addr, 4);
	return a;
}

/*
 * Rewrites the destination (`dst` = 1) or source address and port of an IPv4 TCP/UDP packet,
 * fixing the IP and L4 checksums. Returns 0 or a negative drop reason; `p` follows.
 */
static __always_inline int cil_nat4(struct __sk_buff *skb, struct cil_pkt *p, int dst, __be32 addr, __be16 port)
{
	__be32 old_addr = dst ? p->daddr : p->saddr;
	__be16 old_port = bpf_htons(dst ? p->dport : p->sport);
	__u32 addr_off = ETH_HLEN + (dst ? offsetof(struct iphdr, daddr) : offsetof(struct iphdr, saddr));
	__u32 csum_off, port_off;
	__u64 l4_flags = 0;

	if (p->protocol == IPPROTO_TCP) {
		csum_off = p->l4_off + offsetof(struct tcphdr, check);
		port_off = p->l4_off + (dst ? offsetof(struct tcphdr, dest) : offsetof(struct tcphdr, source));
	} else if (p->protocol == IPPROTO_UDP) {
		csum_off = p->l4_off + offsetof(struct udphdr, check);
		port_off = p->l4_off + (dst ? offsetof(struct udphdr, dest) : offsetof(struct udphdr, source));
		l4_flags = BPF_F_MARK_MANGLED_0;
	} else {
		return -CIL_DROP_UNKNOWN_L4;
	}
	if (old_addr != addr) {
		if (bpf_l4_csum_replace(skb, csum_off, old_addr, addr, l4_flags | BPF_F_PSEUDO_HDR | 4) < 0 ||
		    bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old_addr, addr, 4) < 0 ||
		    bpf_skb_store_bytes(skb, addr_off, &addr, 4, 0) < 0)
			return -CIL_DROP_WRITE_ERROR;
	}
	if (old_port != port) {
		if (bpf_l4_csum_replace(skb, csum_off, old_port, port, l4_flags | 2) < 0 ||
		    bpf_skb_store_bytes(skb, port_off, &port, 2, 0) < 0)
			return -CIL_DROP_WRITE_ERROR;
	}
	if (dst) {
		p->daddr = addr;
		p->dport = bpf_ntohs(port);
	} else {
		p->saddr = addr;
		p->sport = bpf_ntohs(port);
	}
	return 0;
}

#endif
