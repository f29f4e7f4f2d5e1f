/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking. An entry is keyed by the tuple of the packet that created it, with
 * CIL_CT_F_EGRESS or CIL_CT_F_INGRESS saying at which hook; a packet is looked up as itself
 * (established) and reversed with the other direction flag (reply). Timeouts come from the
 * load-time configuration (seconds of CLOCK_MONOTONIC).
 */
#ifndef CIL_CONNTRACK_H
#define CIL_CONNTRACK_H

#include "maps.h"

enum cil_ct_status {
	CIL_CT_NEW = 0,
	CIL_CT_ESTABLISHED = 1,
	CIL_CT_REPLY = 2,
};

static __always_inline void cil_ct_key(struct cil_ct_key *k, const struct cil_pkt *p, int reverse, __u8 flags)
{
	__u16 sport = p->sport, dport = p->dport;

	/* ICMP echo: the identifier on both sides, so request and reply reverse into each other. */
	if (p->protocol == IPPROTO_ICMP)
		dport = sport;
	__builtin_memset(k, 0, sizeof(*k));
	k->nexthdr = p->protocol;
	k->flags = flags;
	k->family = CIL_FAMILY_IPV4;
	if (!reverse) {
		cil_addr4(k->saddr, p->saddr);
		cil_addr4(k->daddr, p->daddr);
		k->sport = bpf_htons(sport);
		k->dport = bpf_htons(dport);
	} else {
		cil_addr4(k->saddr, p->daddr);
		cil_addr4(k->daddr, p->saddr);
		k->sport = bpf_htons(dport);
		k->dport = bpf_htons(sport);
	}
}

static __always_inline __u32 cil_ct_timeout(const struct cil_pkt *p, __u16 entry_flags)
{
	if (p->protocol != IPPROTO_TCP)
		return cil_ct_timeout_any;
	if ((entry_flags & (CIL_CT_ENTRY_F_RX_CLOSING | CIL_CT_ENTRY_F_TX_CLOSING)) ||
	    (p->tcp_flags & (CIL_TCP_FIN | CIL_TCP_RST)))
		return cil_ct_timeout_fin;
	if (!(entry_flags & CIL_CT_ENTRY_F_SEEN_NON_SYN))
		return cil_ct_timeout_syn;
	return cil_ct_timeout_tcp;
}

/*
 * Refreshes an entry with a packet of the flow (`reply`: the packet goes the other way).
 * Returns whether the packet carries TCP flags not seen before in its direction, which is
 * what trace aggregation reports.
 */
static __always_inline int cil_ct_touch(struct cil_ct_entry *e, const struct cil_pkt *p, int reply, __u32 now)
{
	__u16 flags = e->flags;
	__u8 seen = reply ? e->rx_flags_seen : e->tx_flags_seen;

	if (p->protocol == IPPROTO_TCP) {
		if (!(p->tcp_flags & CIL_TCP_SYN) || (p->tcp_flags & CIL_TCP_ACK))
			flags |= CIL_CT_ENTRY_F_SEEN_NON_SYN;
		if (p->tcp_flags & (CIL_TCP_FIN | CIL_TCP_RST))
			flags |= reply ? CIL_CT_ENTRY_F_RX_CLOSING : CIL_CT_ENTRY_F_TX_CLOSING;
	}
	e->flags = flags;
	e->lifetime = now + cil_ct_timeout(p, flags);
	if (reply) {
		__sync_fetch_and_add(&e->rx_packets, 1);
		__sync_fetch_and_add(&e->rx_bytes, p->len);
		e->rx_flags_seen |= p->tcp_flags;
	} else {
		__sync_fetch_and_add(&e->tx_packets, 1);
		__sync_fetch_and_add(&e->tx_bytes, p->len);
		e->tx_flags_seen |= p->tcp_flags;
	}
	return (p->tcp_flags & ~seen) != 0;
}

/*
 * Looks the packet up at a hook whose own direction flag is `dir_flag`; `now` in seconds.
 * `*news` tells whether the packet showed TCP flags new to its direction.
 */
static __always_inline int cil_ct_lookup(const struct cil_pkt *p, __u8 dir_flag, __u32 now, struct cil_ct_entry **out,
					 int *news)
{
	struct cil_ct_key k;
	struct cil_ct_entry *e;

	cil_ct_key(&k, p, 0, dir_flag);
	e = bpf_map_lookup_elem(&cil_ct, &k);
	if (e && e->lifetime >= now) {
		*news = cil_ct_touch(e, p, 0, now);
		*out = e;
		return CIL_CT_ESTABLISHED;
	}
	cil_ct_key(&k, p, 1, dir_flag ^ CIL_CT_F_INGRESS);
	e = bpf_map_lookup_elem(&cil_ct, &k);
	if (e && e->lifetime >= now) {
		*news = cil_ct_touch(e, p, 1, now);
		*out = e;
		return CIL_CT_REPLY;
	}
	*out = 0;
	*news = 1;
	return CIL_CT_NEW;
}

/*
 * A flow from a local endpoint that the destination's ingress proxy takes: give the
 * client's egress entry the proxy port, so the client's hook assigns the following packets
 * to the proxy at their first hop. (Once the proxy holds a socket for the flow, the stack's
 * early demux would claim a forwarded packet for that socket and then drop it as not local;
 * the packets have to be assigned before they are routed.)
 */
static __always_inline void cil_ct_redirect_at_client(const struct cil_pkt *p, __u16 proxy_port)
{
	struct cil_ct_key k;
	struct cil_ct_entry *e;

	cil_ct_key(&k, p, 0, CIL_CT_F_EGRESS);
	e = bpf_map_lookup_elem(&cil_ct, &k);
	if (e && !e->proxy_port) {
		e->proxy_port = bpf_htons(proxy_port);
		e->flags |= CIL_CT_ENTRY_F_PROXY_REDIRECT;
	}
}

/*
 * Creates the entry of a new flow; returns 0 or a negative drop reason. A flow that service
 * translation sent to a backend keeps the service's rev_nat_index, so its replies are
 * translated back.
 */
static __always_inline int cil_ct_create(const struct cil_pkt *p, __u8 dir_flag, __u32 src_identity, __u16 proxy_port,
					 __u16 rev_nat_index, __u32 backend_id, __u32 now)
{
	struct cil_ct_key k;
	struct cil_ct_entry e;

	cil_ct_key(&k, p, 0, dir_flag);
	__builtin_memset(&e, 0, sizeof(e));
	e.src_identity = src_identity;
	e.proxy_port = bpf_htons(proxy_port);
	e.rev_nat_index = rev_nat_index;
	e.backend_id = backend_id;
	if (proxy_port)
		e.flags |= CIL_CT_ENTRY_F_PROXY_REDIRECT;
	cil_ct_touch(&e, p, 0, now);
	if (bpf_map_update_elem(&cil_ct, &k, &e, BPF_ANY) < 0)
		return -CIL_DROP_CT_CREATE_FAILED;
	return 0;
}

#endif
