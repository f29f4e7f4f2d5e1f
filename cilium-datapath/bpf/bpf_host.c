/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Node-interface programs, attached with TCX to a node's external interface:
 *   cil_from_netdev - ingress: NodePort (and ExternalIPs, LoadBalancer, HostPort) frontends.
 *                     A packet to such a frontend is sent to a backend chosen as for any
 *                     service (external scope: with externalTrafficPolicy=Local the frontend
 *                     lists node-local backends only, and none means drop 158); sticky through
 *                     a service conntrack entry keyed by the frontend tuple. A second entry,
 *                     keyed by the translated tuple and marked CIL_CT_ENTRY_F_NODE_PORT,
 *                     remembers the frontend for the replies.
 *   cil_to_netdev   - egress: a reply of such a flow (found by that second entry) leaves with
 *                     the frontend as its source, so the client sees the node address it
 *                     connected to.
 * Everything else passes untouched: these programs are not a host firewall. The backend's own
 * endpoint programs still apply its ingress policy to the client, whose address is kept.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/conntrack.h"
#include "lib/events.h"
#include "lib/lb.h"
#include "lib/service.h"

#define CIL_NODEPORT_CT (CIL_CT_F_INGRESS | CIL_CT_F_SERVICE)

static __always_inline int cil_host_drop(struct __sk_buff *skb, const struct cil_pkt *p, __u8 reason, __u8 dir)
{
	return cil_drop(skb, p, reason, 0, dir == CIL_DIR_INGRESS ? CIL_ID_WORLD : 0,
			dir == CIL_DIR_INGRESS ? 0 : CIL_ID_WORLD, dir);
}

SEC("classifier")
int cil_from_netdev(struct __sk_buff *skb)
{
	struct cil_ct_entry *e, fresh;
	struct cil_ct_key k;
	struct cil_xlate x;
	struct cil_pkt p;
	__u32 now;
	int r = cil_parse(skb, &p);

	if (r != 0 || (p.protocol != IPPROTO_TCP && p.protocol != IPPROTO_UDP))
		return TC_ACT_OK;
	now = cil_now_sec();
	__builtin_memset(&x, 0, sizeof(x));
	r = cil_service_xlate(skb, &p, now, &x, CIL_NODEPORT_CT, 1);
	if (r < 0)
		return cil_host_drop(skb, &p, -r, CIL_DIR_INGRESS);
	if (!x.rev_nat_index)
		return TC_ACT_OK;
	/* The translated tuple's entry: what the replies need. */
	cil_ct_key(&k, &p, 0, CIL_NODEPORT_CT);
	e = bpf_map_lookup_elem(&cil_ct, &k);
	if (e && e->rev_nat_index == x.rev_nat_index) {
		cil_ct_touch(e, &p, 0, now);
		return TC_ACT_OK;
	}
	__builtin_memset(&fresh, 0, sizeof(fresh));
	fresh.flags = CIL_CT_ENTRY_F_NODE_PORT;
	fresh.rev_nat_index = x.rev_nat_index;
	fresh.backend_id = x.backend_id;
	fresh.src_identity = CIL_ID_WORLD;
	cil_ct_touch(&fresh, &p, 0, now);
	if (bpf_map_update_elem(&cil_ct, &k, &fresh, BPF_ANY) < 0)
		return cil_host_drop(skb, &p, CIL_DROP_CT_CREATE_FAILED, CIL_DIR_INGRESS);
	return TC_ACT_OK;
}

SEC("classifier")
int cil_to_netdev(struct __sk_buff *skb)
{
	struct cil_ct_entry *e;
	struct cil_ct_key k;
	struct cil_pkt p;
	__u32 now;
	int r = cil_parse(skb, &p);

	if (r != 0 || (p.protocol != IPPROTO_TCP && p.protocol != IPPROTO_UDP))
		return TC_ACT_OK;
	now = cil_now_sec();
	cil_ct_key(&k, &p, 1, CIL_NODEPORT_CT);
	e = bpf_map_lookup_elem(&cil_ct, &k);
	if (!e || !(e->flags & CIL_CT_ENTRY_F_NODE_PORT) || e->lifetime < now)
		return TC_ACT_OK;
	cil_ct_touch(e, &p, 1, now);
	r = cil_rev_nat_xlate(skb, &p, e->rev_nat_index);
	if (r < 0)
		return cil_host_drop(skb, &p, -r, CIL_DIR_EGRESS);
	cil_count(CIL_REASON_FORWARDED, CIL_DIR_EGRESS, p.len);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "Dual BSD/GPL";
