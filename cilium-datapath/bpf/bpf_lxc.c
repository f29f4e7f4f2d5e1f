/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Endpoint programs, attached with TC/TCX to the host side of each endpoint's veth:
 *   cil_from_endpoint - ingress of the host-side veth: packets the endpoint sends (egress policy)
 *   cil_to_endpoint   - egress of the host-side veth: packets delivered to the endpoint (ingress policy)
 * Both: parse, anti-spoofing, conntrack, peer identity (local endpoint map, then ipcache, else
 * world), policy lookup for new and established flows (replies follow their entry), metrics,
 * events. Fail closed: an endpoint without a ready policy drops (CIL_DROP_EP_NOT_READY).
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/conntrack.h"
#include "lib/policy.h"
#include "lib/events.h"

static __always_inline struct cil_endpoint_info *cil_endpoint(__be32 addr)
{
	struct cil_endpoint_key k;

	__builtin_memset(&k, 0, sizeof(k));
	cil_addr4(k.addr, addr);
	k.family = CIL_FAMILY_IPV4;
	return bpf_map_lookup_elem(&cil_endpoints, &k);
}

/* Security identity of a peer address: local endpoint, else ipcache, else world. */
static __always_inline __u32 cil_identity_of(__be32 addr)
{
	struct cil_endpoint_info *ep = cil_endpoint(addr);
	struct cil_ipcache_key k;
	struct cil_ipcache_value *v;

	if (ep)
		return ep->identity;
	__builtin_memset(&k, 0, sizeof(k));
	k.prefixlen = CIL_IPCACHE_STATIC_PREFIX + 32;
	k.family = CIL_FAMILY_IPV4;
	cil_addr4(k.addr, addr);
	v = bpf_map_lookup_elem(&cil_ipcache, &k);
	return v ? v->identity : CIL_ID_WORLD;
}

static __always_inline int cil_drop(struct __sk_buff *skb, const struct cil_pkt *p, __u8 reason, __u16 ep_id,
				    __u32 src_id, __u32 dst_id, __u8 dir)
{
	cil_count(reason, dir, p->len);
	cil_emit_drop(p, reason, ep_id, src_id, dst_id, skb->ifindex, dir);
	return TC_ACT_SHOT;
}

/*
 * The shared path of both hooks. `ep` is the local endpoint, `remote_id` the peer, `dir` the
 * endpoint's direction (CIL_DIR_EGRESS for from-endpoint).
 */
static __always_inline int cil_handle(struct __sk_buff *skb, const struct cil_pkt *p,
				      const struct cil_endpoint_info *ep, __u32 remote_id, __u8 dir)
{
	__u8 ct_flag = dir == CIL_DIR_EGRESS ? CIL_CT_F_EGRESS : CIL_CT_F_INGRESS;
	__u32 src_id = dir == CIL_DIR_EGRESS ? ep->identity : remote_id;
	__u32 dst_id = dir == CIL_DIR_EGRESS ? remote_id : ep->identity;
	__u16 enforce = dir == CIL_DIR_EGRESS ? CIL_ENDPOINT_F_ENFORCE_EGRESS : CIL_ENDPOINT_F_ENFORCE_INGRESS;
	struct cil_ct_entry *ct;
	struct cil_verdict v;
	__u32 ep_key = ep->endpoint_id;
	void *policy;
	__u32 now = cil_now_sec(); /* once per packet */
	int status, err;

	if (!(ep->flags & CIL_ENDPOINT_F_POLICY_READY))
		return cil_drop(skb, p, CIL_DROP_EP_NOT_READY, ep->endpoint_id, src_id, dst_id, dir);

	status = cil_ct_lookup(p, ct_flag, now, &ct);
	if (status == CIL_CT_REPLY) {
		cil_count(CIL_REASON_FORWARDED, dir, p->len);
		return TC_ACT_OK;
	}

	__builtin_memset(&v, 0, sizeof(v));
	if (ep->flags & enforce) {
		policy = bpf_map_lookup_elem(&cil_policy_maps, &ep_key);
		if (!policy)
			return cil_drop(skb, p, CIL_DROP_EP_NOT_READY, ep->endpoint_id, src_id, dst_id, dir);
		cil_policy_decide(policy, remote_id, dir, p->protocol, p->dport, p->len, &v);
	} else {
		v.match_type = CIL_POLICY_MATCH_NONE;
	}

	if (status == CIL_CT_NEW)
		cil_emit_verdict(p, &v, ep->endpoint_id, remote_id, skb->ifindex, dir);
	if (v.drop_reason)
		return cil_drop(skb, p, v.drop_reason, ep->endpoint_id, src_id, dst_id, dir);

	if (status == CIL_CT_NEW) {
		err = cil_ct_create(p, ct_flag, src_id, v.proxy_port, now);
		if (err < 0)
			return cil_drop(skb, p, -err, ep->endpoint_id, src_id, dst_id, dir);
	}
	cil_count(CIL_REASON_FORWARDED, dir, p->len);
	return TC_ACT_OK;
}

SEC("classifier")
int cil_from_endpoint(struct __sk_buff *skb)
{
	struct cil_endpoint_info *ep;
	struct cil_pkt p;
	int r = cil_parse(skb, &p);

	if (r == 1)
		return TC_ACT_OK; /* ARP and other non-IP frames */
	if (r < 0)
		return cil_drop(skb, &p, -r, 0, 0, 0, CIL_DIR_EGRESS);
	ep = cil_endpoint(p.saddr);
	if (!ep || ep->ifindex != skb->ifindex)
		return cil_drop(skb, &p, CIL_DROP_INVALID_SIP, 0, 0, 0, CIL_DIR_EGRESS);
	return cil_handle(skb, &p, ep, cil_identity_of(p.daddr), CIL_DIR_EGRESS);
}

SEC("classifier")
int cil_to_endpoint(struct __sk_buff *skb)
{
	struct cil_endpoint_info *ep;
	struct cil_pkt p;
	int r = cil_parse(skb, &p);

	if (r == 1)
		return TC_ACT_OK;
	if (r < 0)
		return cil_drop(skb, &p, -r, 0, 0, 0, CIL_DIR_INGRESS);
	ep = cil_endpoint(p.daddr);
	if (!ep)
		return cil_drop(skb, &p, CIL_DROP_UNKNOWN_TARGET, 0, 0, 0, CIL_DIR_INGRESS);
	return cil_handle(skb, &p, ep, cil_identity_of(p.saddr), CIL_DIR_INGRESS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
