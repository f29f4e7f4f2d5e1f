/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Socket-level load balancing, attached to a cgroup v2 directory:
 *   cil_sock4_connect     - cgroup/connect4: TCP and connected UDP sockets
 *   cil_sock4_sendmsg     - cgroup/sendmsg4: unconnected UDP datagrams
 *   cil_sock4_recvmsg     - cgroup/recvmsg4: the source of UDP replies back to the frontend
 *   cil_sock4_getpeername - cgroup/getpeername4: the peer back to the frontend
 * A service frontend is rewritten to a backend once, when the socket connects or sends, so
 * no packet of the flow needs NAT. The socket cookie and the backend key a reverse entry
 * (cil_sock_revnat) that turns the backend back into the frontend for recvmsg/getpeername.
 * Addresses that are no frontend pass untouched. A service without backends refuses the
 * connect (ECONNREFUSED) and reports a drop with CIL_DROP_NO_SERVICE (158).
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/events.h"
#include "lib/lb.h"

#define CIL_ECONNREFUSED 111

static __always_inline void cil_sock_drop(struct bpf_sock_addr *ctx, __u8 reason)
{
	struct cil_pkt p;

	__builtin_memset(&p, 0, sizeof(p));
	p.daddr = ctx->user_ip4;
	p.dport = bpf_ntohs((__u16)ctx->user_port);
	p.protocol = ctx->protocol;
	cil_count(reason, CIL_DIR_EGRESS, 0);
	cil_emit_drop(&p, reason, 0, 0, 0, 0, CIL_DIR_EGRESS);
}

static __always_inline int cil_sock4_xlate(struct bpf_sock_addr *ctx)
{
	__be32 vip = ctx->user_ip4;
	__be16 vport = (__be16)ctx->user_port;
	__u8 proto = ctx->protocol;
	struct cil_sock_revnat_value rv;
	struct cil_sock_revnat_key rk;
	struct cil_service_value *svc;
	struct cil_affinity_key ak;
	struct cil_service_key k;
	struct cil_backend *b;
	__u64 cookie, netns;
	__u32 id = 0;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 1;
	cil_svc_key(&k, vip, vport, proto);
	svc = cil_lb_lookup(&k);
	if (!svc)
		return 1;
	if (svc->count == 0)
		goto refuse;
	cookie = bpf_get_socket_cookie(ctx);
	netns = bpf_get_netns_cookie(ctx);
	__builtin_memset(&ak, 0, sizeof(ak));
	__builtin_memcpy(ak.client, &netns, sizeof(netns));
	ak.rev_nat_index = svc->rev_nat_index;
	ak.family = CIL_FAMILY_IPV4;
	ak.flags = CIL_AFFINITY_F_NETNS_COOKIE;
	b = cil_lb_pick(&k, svc, cil_fmix32((__u32)cookie ^ (__u32)(cookie >> 32)), &ak, &id);
	if (!b)
		goto refuse;

	__builtin_memset(&rk, 0, sizeof(rk));
	rk.cookie = cookie;
	__builtin_memcpy(rk.addr, b->addr, 4);
	rk.port = b->port;
	rk.family = CIL_FAMILY_IPV4;
	__builtin_memset(&rv, 0, sizeof(rv));
	cil_addr4(rv.addr, vip);
	rv.port = vport;
	rv.rev_nat_index = svc->rev_nat_index;
	rv.family = CIL_FAMILY_IPV4;
	/* Best effort: without the entry only getpeername/recvmsg show the backend. */
	bpf_map_update_elem(&cil_sock_revnat, &rk, &rv, BPF_ANY);

	ctx->user_ip4 = cil_addr4_of(b->addr);
	ctx->user_port = b->port;
	return 1;
refuse:
	cil_sock_drop(ctx, CIL_DROP_NO_SERVICE);
	bpf_set_retval(-CIL_ECONNREFUSED);
	return 0;
}

/* The backend a socket talks to, back to the frontend its program asked for. */
static __always_inline int cil_sock4_revnat(struct bpf_sock_addr *ctx)
{
	struct cil_sock_revnat_value *rv;
	struct cil_sock_revnat_key rk;

	if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP)
		return 1;
	__builtin_memset(&rk, 0, sizeof(rk));
	rk.cookie = bpf_get_socket_cookie(ctx);
	__builtin_memcpy(rk.addr, &ctx->user_ip4, 4);
	rk.port = (__be16)ctx->user_port;
	rk.family = CIL_FAMILY_IPV4;
	rv = bpf_map_lookup_elem(&cil_sock_revnat, &rk);
	if (rv) {
		ctx->user_ip4 = cil_addr4_of(rv->addr);
		ctx->user_port = rv->port;
	}
	return 1;
}

SEC("cgroup/connect4")
int cil_sock4_connect(struct bpf_sock_addr *ctx)
{
	return cil_sock4_xlate(ctx);
}

SEC("cgroup/sendmsg4")
int cil_sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	return cil_sock4_xlate(ctx);
}

SEC("cgroup/recvmsg4")
int cil_sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	return cil_sock4_revnat(ctx);
}

SEC("cgroup/getpeername4")
int cil_sock4_getpeername(struct bpf_sock_addr *ctx)
{
	return cil_sock4_revnat(ctx);
}

char _license[] SEC("license") = "Dual BSD/GPL";
