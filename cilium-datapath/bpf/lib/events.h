/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Metrics counters and ring-buffer events. */
#ifndef CIL_EVENTS_H
#define CIL_EVENTS_H

#include "maps.h"
#include "policy.h"

static __always_inline void cil_count(__u8 reason, __u8 dir, __u32 len)
{
	struct cil_metrics_key key = { .reason = reason, .direction = dir };
	struct cil_metrics_value *v = bpf_map_lookup_elem(&cil_metrics, &key);

	if (v) {
		/* Per-CPU value: no atomics needed. */
		v->packets += 1;
		v->bytes += len;
	} else {
		struct cil_metrics_value init = { .packets = 1, .bytes = len };
		bpf_map_update_elem(&cil_metrics, &key, &init, BPF_NOEXIST);
	}
}

/* Reserves `size` bytes of the ring buffer, counting the event as lost when it is full. */
static __always_inline void *cil_event_reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&cil_events, size, 0);

	if (!e) {
		__u32 zero = 0;
		__u64 *lost = bpf_map_lookup_elem(&cil_events_lost, &zero);

		if (lost)
			*lost += 1; /* per-CPU */
	}
	return e;
}

static __always_inline void cil_fill_tuple(struct cil_tuple *t, const struct cil_pkt *p)
{
	__builtin_memset(t, 0, sizeof(*t));
	cil_addr4(t->saddr, p->saddr);
	cil_addr4(t->daddr, p->daddr);
	t->sport = bpf_htons(p->sport);
	t->dport = bpf_htons(p->dport);
	t->protocol = p->protocol;
	t->family = CIL_FAMILY_IPV4;
}

static __always_inline void cil_fill_hdr(struct cil_event_hdr *h, __u8 type, __u8 subtype, __u16 ep_id, __u32 len)
{
	h->type = type;
	h->subtype = subtype;
	h->endpoint_id = ep_id;
	h->orig_len = len;
	h->ktime_ns = bpf_ktime_get_ns();
}

/*
 * Whether a drop of this flow in this direction may be reported now: at most one report per
 * cil_drop_notify_interval_ns, so a retransmitting or flooding peer costs one event a second.
 */
static __always_inline int cil_drop_notify_allowed(const struct cil_pkt *p, __u8 dir)
{
	struct cil_notify_key k;
	__u64 now = bpf_ktime_get_ns();
	__u64 *last;

	if (!cil_drop_notify_interval_ns)
		return 1;
	__builtin_memset(&k, 0, sizeof(k));
	cil_fill_tuple(&k.tuple, p);
	k.direction = dir;
	last = bpf_map_lookup_elem(&cil_drop_notify, &k);
	if (last && now - *last < cil_drop_notify_interval_ns)
		return 0;
	bpf_map_update_elem(&cil_drop_notify, &k, &now, BPF_ANY);
	return 1;
}

static __always_inline void cil_emit_drop(const struct cil_pkt *p, __u8 reason, __u16 ep_id, __u32 src_id,
					  __u32 dst_id, __u32 ifindex, __u8 dir)
{
	struct cil_drop_event *e = cil_event_reserve(sizeof(*e));

	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	cil_fill_hdr(&e->hdr, CIL_EVENT_DROP, reason, ep_id, p->len);
	cil_fill_tuple(&e->tuple, p);
	e->src_identity = src_id;
	e->dst_identity = dst_id;
	e->ifindex = ifindex;
	e->direction = dir;
	e->tcp_flags = p->tcp_flags;
	bpf_ringbuf_submit(e, 0);
}

/* Counts a drop, reports it (rate-limited per flow and direction), and drops. */
static __always_inline int cil_drop(struct __sk_buff *skb, const struct cil_pkt *p, __u8 reason, __u16 ep_id,
				    __u32 src_id, __u32 dst_id, __u8 dir)
{
	cil_count(reason, dir, p->len);
	if (cil_drop_notify_allowed(p, dir))
		cil_emit_drop(p, reason, ep_id, src_id, dst_id, skb->ifindex, dir);
	return TC_ACT_SHOT;
}

static __always_inline void cil_emit_verdict(const struct cil_pkt *p, const struct cil_verdict *v, __u16 ep_id,
					     __u32 remote_id, __u32 ifindex, __u8 dir)
{
	struct cil_policy_verdict_event *e;

	if (!cil_policy_verdicts)
		return;
	e = cil_event_reserve(sizeof(*e));
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	cil_fill_hdr(&e->hdr, CIL_EVENT_POLICY_VERDICT, 0, ep_id, p->len);
	cil_fill_tuple(&e->tuple, p);
	e->remote_identity = remote_id;
	e->ifindex = ifindex;
	e->direction = dir;
	e->match_type = v->match_type;
	e->drop_reason = v->drop_reason;
	e->flags = v->drop_reason ? CIL_VERDICT_F_DENY : (v->proxy_port ? CIL_VERDICT_F_REDIRECT : 0);
	e->proxy_port = bpf_htons(v->proxy_port);
	e->auth_type = v->auth_type;
	bpf_ringbuf_submit(e, 0);
}

/* What a trace event says about the service translation of its flow (zero: none). */
struct cil_xlate {
	__be32 orig_daddr;
	__be16 orig_dport;
	__u16 rev_nat_index;
	__u32 backend_id;
};

static __always_inline void cil_emit_trace(const struct cil_pkt *p, __u8 point, __u8 reason, __u16 ep_id,
					   __u32 src_id, __u32 dst_id, __u32 ifindex, __u8 dir,
					   const struct cil_xlate *x)
{
	struct cil_trace_event *e = cil_event_reserve(sizeof(*e));

	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	cil_fill_hdr(&e->hdr, CIL_EVENT_TRACE, point, ep_id, p->len);
	cil_fill_tuple(&e->tuple, p);
	e->src_identity = src_id;
	e->dst_identity = dst_id;
	e->ifindex = ifindex;
	e->direction = dir;
	e->tcp_flags = p->tcp_flags;
	e->reason = reason;
	if (x->rev_nat_index) {
		cil_addr4(e->orig_daddr, x->orig_daddr);
		e->orig_dport = x->orig_dport;
		e->rev_nat_index = x->rev_nat_index;
	}
	bpf_ringbuf_submit(e, 0);
}

#endif
