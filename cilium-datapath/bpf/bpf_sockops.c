/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cil_sockops - sock_ops on a cgroup v2 directory: an event when a TCP connection of the
 * cgroup is established (either side) and when it closes, carrying the socket cookie, so flows
 * can be given connection timing. cgroup_id is 0: the hook has no helper for it; the loader
 * knows which cgroup each attachment serves.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/events.h"

#define CIL_AF_INET 2

static __always_inline void cil_sock_event(struct bpf_sock_ops *skops, __u8 op)
{
	struct cil_sock_event *e;
	__be32 local = skops->local_ip4, remote = skops->remote_ip4;

	e = cil_event_reserve(sizeof(*e));
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	cil_fill_hdr(&e->hdr, CIL_EVENT_TRACE_SOCK, op, 0, 0);
	cil_addr4(e->tuple.saddr, local);
	cil_addr4(e->tuple.daddr, remote);
	/* local_port is host order; remote_port is the port as a network-order 32-bit value. */
	e->tuple.sport = bpf_htons((__u16)skops->local_port);
	e->tuple.dport = bpf_htons((__u16)bpf_ntohl(skops->remote_port));
	e->tuple.protocol = IPPROTO_TCP;
	e->tuple.family = CIL_FAMILY_IPV4;
	e->cookie = bpf_get_socket_cookie(skops);
	bpf_ringbuf_submit(e, 0);
}

SEC("sockops")
int cil_sockops(struct bpf_sock_ops *skops)
{
	if (skops->family != CIL_AF_INET)
		return 1;
	switch (skops->op) {
	case BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB:
	case BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB:
		/* Ask for state changes of this socket, to see it close. */
		bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
		cil_sock_event(skops, CIL_SOCK_ESTABLISHED);
		break;
	case BPF_SOCK_OPS_STATE_CB:
		if (skops->args[1] == BPF_TCP_CLOSE)
			cil_sock_event(skops, CIL_SOCK_CLOSED);
		break;
	default:
		break;
	}
	return 1;
}

char _license[] SEC("license") = "Dual BSD/GPL";
