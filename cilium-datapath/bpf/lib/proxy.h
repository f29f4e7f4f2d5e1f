/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * L7 redirect: hand a packet to a proxy socket of this network namespace without changing
 * it. The proxies listen on transparent sockets bound to the wildcard address and their
 * port; bpf_sk_assign makes the stack deliver the packet to that socket, so the accepted
 * connection keeps the original destination as its local address. The packet must still be
 * routed locally: CIL_MARK_MAGIC_TO_PROXY selects the instance's policy-routing rule, whose
 * table sends everything to `lo` as local (see cilium-datapath's proxy routing).
 *
 * TCP: the proxy's own socket of the flow when there is one (its local address is the
 * original destination, its peer the client), else the proxy's listener. UDP: the proxy's
 * socket on the proxy port.
 */
#ifndef CIL_PROXY_H
#define CIL_PROXY_H

#include "common.h"

static __always_inline int cil_proxy_assign(struct __sk_buff *skb, const struct cil_pkt *p, __u16 proxy_port)
{
	struct bpf_sock_tuple t;
	struct bpf_sock *sk;
	long err;

	__builtin_memset(&t, 0, sizeof(t));
	t.ipv4.saddr = p->saddr;
	t.ipv4.daddr = p->daddr;
	t.ipv4.sport = bpf_htons(p->sport);
	t.ipv4.dport = bpf_htons(p->dport);
	if (p->protocol == IPPROTO_TCP) {
		sk = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
		if (sk) {
			if (sk->state != BPF_TCP_LISTEN) {
				err = bpf_sk_assign(skb, sk, 0);
				bpf_sk_release(sk);
				if (!err)
					goto assigned;
			} else {
				bpf_sk_release(sk);
			}
		}
		t.ipv4.dport = bpf_htons(proxy_port);
		sk = bpf_skc_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	} else if (p->protocol == IPPROTO_UDP) {
		t.ipv4.dport = bpf_htons(proxy_port);
		sk = bpf_sk_lookup_udp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	} else {
		return -CIL_DROP_PROXY_UNKNOWN_PROTO;
	}
	if (!sk)
		return -CIL_DROP_PROXY_LOOKUP_FAILED;
	err = bpf_sk_assign(skb, sk, 0);
	bpf_sk_release(sk);
	if (err)
		return -CIL_DROP_PROXY_SET_FAILED;
assigned:
	skb->mark = CIL_MARK_MAGIC_TO_PROXY;
	return 0;
}

/* Source identity a proxy put into the mark of its upstream connection. */
static __always_inline __u32 cil_proxy_mark_identity(__u32 mark)
{
	return (mark >> 16) | ((mark & 0xFF) << 16);
}

#endif
