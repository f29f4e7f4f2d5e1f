/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Endpoint programs, attached with TC/TCX to the host side of each endpoint's veth:
 *   cil_from_endpoint - ingress of the host-side veth: packets the endpoint sends (egress policy)
 *   cil_to_endpoint   - egress of the host-side veth: packets delivered to the endpoint (ingress policy)
 * Both: parse, anti-spoofing, conntrack, peer identity (local endpoint map, then ipcache, else
 * world), policy lookup for new and established flows (replies follow their entry), metrics,
 * events. Fail closed: an endpoint without a ready policy drops (CIL_DROP_EP_NOT_READY).
 *
 * From the endpoint, traffic to a service frontend that socket LB did not translate (a client
 * outside the socket-LB cgroups, or socket LB off) is translated here: a service conntrack
 * entry (CIL_CT_F_SERVICE, keyed by the frontend tuple) keeps the flow on its backend, the
 * policy is that of the backend, and the flow's entry carries the rev_nat_index so replies
 * get the frontend back as their source on the way into the client.
 *
 * L7 redirect: a flow whose policy entry carries a proxy port keeps that port in its conntrack
 * entry, and each of its packets goes to the proxy. From the endpoint (TC ingress) the packet
 * is assigned to the proxy's socket here (lib/proxy.h). Towards the endpoint (TC egress, where
 * a socket cannot be assigned) it is marked CIL_MARK_MAGIC_TO_PROXY_INGRESS with the port and
 * redirected to the ingress of the same host-side veth, where cil_from_endpoint assigns it;
 * when the client is a local endpoint its egress entry gets the proxy port too, so its
 * following packets are assigned at their first hop (lib/conntrack.h says why).
 * A proxy's upstream packets carry the client's identity in their mark: towards an endpoint
 * that identity is the peer; after an ingress proxy (which enforced the ingress policy) the
 * policy is not looked up again.
 *
 * Events: a policy verdict for each new flow; drops at most once per flow, direction and
 * cil_drop_notify_interval_ns; with cil_trace_new_flows, a trace for each new flow and for
 * each packet that shows TCP flags new to its direction (SYN-ACK, FIN, RST) - so an
 * established flow does not report every packet.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/conntrack.h"
#include "lib/policy.h"
#include "lib/events.h"
#include "lib/lb.h"
#include "lib/service.h"
#include "lib/proxy.h"

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

/*
 * The shared path of both hooks. `ep` is the local endpoint, `remote_id` the peer, `dir` the
 * endpoint's direction (CIL_DIR_EGRESS for from-endpoint).
 */
static __always_inline int cil_handle(struct __sk_buff *skb, struct cil_pkt *p, const struct cil_endpoint_info *ep,
				      __u32 remote_id, __u8 dir, const struct cil_xlate *x, __u32 now, int enforced_by_proxy)
{
	__u8 ct_flag = dir == CIL_DIR_EGRESS ? CIL_CT_F_EGRESS : CIL_CT_F_INGRESS;
	__u32 src_id = dir == CIL_DIR_EGRESS ? ep->identity : remote_id;
	__u32 dst_id = dir == CIL_DIR_EGRESS ? remote_id : ep->identity;
	__u16 enforce = dir == CIL_DIR_EGRESS ? CIL_ENDPOINT_F_ENFORCE_EGRESS : CIL_ENDPOINT_F_ENFORCE_INGRESS;
	struct cil_ct_entry *ct;
	struct cil_verdict v;
	__u32 ep_key = ep->endpoint_id;
	__u8 point = dir == CIL_DIR_EGRESS ? CIL_TRACE_FROM_ENDPOINT : CIL_TRACE_TO_ENDPOINT;
	void *policy;
	int status, err, news;
	__u16 proxy_port;

	if (!(ep->flags & CIL_ENDPOINT_F_POLICY_READY))
		return cil_drop(skb, p, CIL_DROP_EP_NOT_READY, ep->endpoint_id, src_id, dst_id, dir);

	status = cil_ct_lookup(p, ct_flag, now, &ct, &news);
	if (status == CIL_CT_REPLY) {
		if (ct->rev_nat_index && dir == CIL_DIR_INGRESS) {
			err = cil_rev_nat_xlate(skb, p, ct->rev_nat_index);
			if (err < 0)
				return cil_drop(skb, p, -err, ep->endpoint_id, src_id, dst_id, dir);
		}
		if (cil_trace_new_flows && news)
			cil_emit_trace(p, point, CIL_TRACE_REASON_REPLY, ep->endpoint_id, src_id, dst_id,
				       skb->ifindex, dir, x);
		cil_count(CIL_REASON_FORWARDED, dir, p->len);
		return TC_ACT_OK;
	}

	__builtin_memset(&v, 0, sizeof(v));
	if (enforced_by_proxy) {
		v.match_type = CIL_POLICY_MATCH_NONE;
	} else if (ep->flags & enforce) {
		policy = bpf_map_lookup_elem(&cil_policy_maps, &ep_key);
		if (!policy)
			return cil_drop(skb, p, CIL_DROP_EP_NOT_READY, ep->endpoint_id, src_id, dst_id, dir);
		cil_policy_decide(policy, remote_id, dir, p->protocol, p->dport, p->len, &v);
	} else {
		v.match_type = CIL_POLICY_MATCH_NONE;
	}

	/* A denied flow's verdict is rate-limited with its drop: retransmissions repeat it. */
	if (status == CIL_CT_NEW && v.drop_reason) {
		cil_count(v.drop_reason, dir, p->len);
		if (cil_drop_notify_allowed(p, dir)) {
			cil_emit_verdict(p, &v, ep->endpoint_id, remote_id, skb->ifindex, dir);
			cil_emit_drop(p, v.drop_reason, ep->endpoint_id, src_id, dst_id, skb->ifindex, dir);
		}
		return TC_ACT_SHOT;
	}
	if (v.drop_reason) /* an established flow the policy no longer allows */
		return cil_drop(skb, p, v.drop_reason, ep->endpoint_id, src_id, dst_id, dir);
	if (status == CIL_CT_NEW)
		cil_emit_verdict(p, &v, ep->endpoint_id, remote_id, skb->ifindex, dir);

	if (status == CIL_CT_NEW) {
		err = cil_ct_create(p, ct_flag, src_id, v.proxy_port, x->rev_nat_index, x->backend_id, now);
		if (err < 0)
			return cil_drop(skb, p, -err, ep->endpoint_id, src_id, dst_id, dir);
	}
	/* A flow keeps the redirect it started with (its proxy holds the connection). */
	proxy_port = status == CIL_CT_NEW ? v.proxy_port : (ct ? bpf_ntohs(ct->proxy_port) : 0);
	if (proxy_port) {
		if (cil_trace_new_flows && news)
			cil_emit_trace(p, CIL_TRACE_TO_PROXY,
				       status == CIL_CT_NEW ? CIL_TRACE_REASON_NEW : CIL_TRACE_REASON_ESTABLISHED,
				       ep->endpoint_id, src_id, dst_id, skb->ifindex, dir, x);
		cil_count(CIL_REASON_FORWARDED, dir, p->len);
		if (dir == CIL_DIR_INGRESS) {
			if (status == CIL_CT_NEW)
				cil_ct_redirect_at_client(p, proxy_port);
			skb->mark = CIL_MARK_MAGIC_TO_PROXY_INGRESS | ((__u32)proxy_port << 16);
			return bpf_redirect(skb->ifindex, BPF_F_INGRESS);
		}
		err = cil_proxy_assign(skb, p, proxy_port);
		if (err < 0)
			return cil_drop(skb, p, -err, ep->endpoint_id, src_id, dst_id, dir);
		return TC_ACT_OK;
	}
	if (cil_trace_new_flows && news)
		cil_emit_trace(p, point, status == CIL_CT_NEW ? CIL_TRACE_REASON_NEW : CIL_TRACE_REASON_ESTABLISHED,
			       ep->endpoint_id, src_id, dst_id, skb->ifindex, dir, x);
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
	struct cil_xlate x;
	__u32 now = cil_now_sec(); /* once per packet */

	/* Handed back by cil_to_endpoint for the ingress proxy (marks do not cross netns). */
	if ((skb->mark & CIL_MARK_MAGIC_MASK) == CIL_MARK_MAGIC_TO_PROXY_INGRESS) {
		/* The frame still carries the endpoint's MAC: make the stack take it as its own. */
		bpf_skb_change_type(skb, 0 /* PACKET_HOST */);
		r = cil_proxy_assign(skb, &p, skb->mark >> 16);
		if (r < 0)
			return cil_drop(skb, &p, -r, 0, 0, 0, CIL_DIR_INGRESS);
		return TC_ACT_OK;
	}
	ep = cil_endpoint(p.saddr);
	if (!ep || ep->ifindex != skb->ifindex)
		return cil_drop(skb, &p, CIL_DROP_INVALID_SIP, 0, 0, 0, CIL_DIR_EGRESS);
	__builtin_memset(&x, 0, sizeof(x));
	r = cil_service_xlate(skb, &p, now, &x, CIL_CT_F_EGRESS, 0);
	if (r < 0)
		return cil_drop(skb, &p, -r, ep->endpoint_id, ep->identity, 0, CIL_DIR_EGRESS);
	return cil_handle(skb, &p, ep, cil_identity_of(p.daddr), CIL_DIR_EGRESS, &x, now, 0);
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
	struct cil_xlate x;
	__u32 magic, remote_id;

	ep = cil_endpoint(p.daddr);
	if (!ep)
		return cil_drop(skb, &p, CIL_DROP_UNKNOWN_TARGET, 0, 0, 0, CIL_DIR_INGRESS);
	__builtin_memset(&x, 0, sizeof(x));
	/* A proxy's upstream packet: the peer is the client whose identity the mark carries. */
	magic = skb->mark & CIL_MARK_MAGIC_MASK;
	remote_id = magic == CIL_MARK_MAGIC_PROXY_INGRESS || magic == CIL_MARK_MAGIC_PROXY_EGRESS
			    ? cil_proxy_mark_identity(skb->mark)
			    : cil_identity_of(p.saddr);
	return cil_handle(skb, &p, ep, remote_id, CIL_DIR_INGRESS, &x, cil_now_sec(),
			  magic == CIL_MARK_MAGIC_PROXY_INGRESS);
}

char _license[] SEC("license") = "Dual BSD/GPL";
