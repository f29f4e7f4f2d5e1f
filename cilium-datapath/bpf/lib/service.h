/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Service translation at TC, shared by the endpoint programs (an endpoint's own traffic to a
 * frontend socket LB did not translate) and the node-interface programs (NodePort and other
 * externally exposed frontends), and the reverse NAT of replies.
 */
#ifndef CIL_SERVICE_H
#define CIL_SERVICE_H

#include "conntrack.h"
#include "events.h"
#include "lb.h"

/*
 * Service translation of a new or ongoing flow. No service: 0 and `x` stays zero. Otherwise
 * the packet is rewritten to the flow's backend (sticky through the service conntrack entry
 * keyed by the frontend tuple and `ct_dir`; affinity and algorithm for a new flow) and `x`
 * says from what.
 *
 * `external`: the client is outside the cluster (node interface): only frontends exposed
 * outside (NodePort, ExternalIPs, LoadBalancer, HostPort) match, looked up in the external
 * scope. Otherwise (an endpoint's own traffic) the internal scope wins for two-scope
 * services.
 */
static __always_inline int cil_service_xlate(struct __sk_buff *skb, struct cil_pkt *p, __u32 now, struct cil_xlate *x,
					     __u8 ct_dir, int external)
{
	struct cil_service_key k;
	struct cil_service_value *svc;
	struct cil_affinity_key ak;
	struct cil_ct_entry *se, fresh;
	struct cil_ct_key ck;
	struct cil_backend *b = 0;
	__u32 id = 0, hash;

	if (!cil_tc_service_lb || (p->protocol != IPPROTO_TCP && p->protocol != IPPROTO_UDP))
		return 0;
	cil_svc_key(&k, p->daddr, bpf_htons(p->dport), p->protocol);
	if (external) {
		svc = bpf_map_lookup_elem(&cil_services, &k);
		if (!svc || !(svc->flags & (CIL_SVC_F_NODEPORT | CIL_SVC_F_EXTERNAL_IP | CIL_SVC_F_LOADBALANCER |
					    CIL_SVC_F_HOSTPORT)))
			return 0;
	} else {
		svc = cil_lb_lookup(&k);
		if (!svc)
			return 0;
	}
	cil_ct_key(&ck, p, 0, ct_dir | CIL_CT_F_SERVICE);
	se = bpf_map_lookup_elem(&cil_ct, &ck);
	if (se && se->lifetime >= now && se->rev_nat_index == svc->rev_nat_index) {
		id = se->backend_id;
		b = cil_lb_backend(id);
	}
	if (b) {
		cil_ct_touch(se, p, 0, now);
	} else {
		if (svc->count == 0)
			return -CIL_DROP_NO_SERVICE;
		__builtin_memset(&ak, 0, sizeof(ak));
		cil_addr4(ak.client, p->saddr);
		ak.rev_nat_index = svc->rev_nat_index;
		ak.family = CIL_FAMILY_IPV4;
		hash = cil_mix32(cil_mix32(cil_mix32(p->protocol, p->saddr), p->daddr),
				 ((__u32)p->sport << 16) | p->dport);
		b = cil_lb_pick(&k, svc, cil_fmix32(hash), &ak, &id);
		if (!b)
			return -CIL_DROP_NO_SERVICE;
		__builtin_memset(&fresh, 0, sizeof(fresh));
		fresh.rev_nat_index = svc->rev_nat_index;
		fresh.backend_id = id;
		cil_ct_touch(&fresh, p, 0, now);
		if (bpf_map_update_elem(&cil_ct, &ck, &fresh, BPF_ANY) < 0)
			return -CIL_DROP_CT_CREATE_FAILED;
	}
	x->orig_daddr = p->daddr;
	x->orig_dport = bpf_htons(p->dport);
	x->rev_nat_index = svc->rev_nat_index;
	x->backend_id = id;
	return cil_nat4(skb, p, 1, cil_addr4_of(b->addr), b->port);
}

/* Reverse NAT of a reply: its source becomes the frontend the client connected to. */
static __always_inline int cil_rev_nat_xlate(struct __sk_buff *skb, struct cil_pkt *p, __u16 rev_nat_index)
{
	struct cil_rev_nat_key k = { .rev_nat_index = rev_nat_index };
	struct cil_rev_nat_value *v = bpf_map_lookup_elem(&cil_rev_nat, &k);

	if (!v)
		return -CIL_DROP_NO_SERVICE;
	return cil_nat4(skb, p, 0, cil_addr4_of(v->addr), v->port);
}

#endif
