/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * cil_xdp_prefilter - XDP on a node interface: IPv4 packets whose source falls in a CIDR of
 * the deny list (cil_prefilter, an LPM trie keyed like the ipcache) are dropped before an skb
 * exists and counted on their CIDR's entry and in the metrics map (ingress, under
 * CIL_DROP_INVALID_SIP: Cilium has no drop reason of its own for the prefilter). Everything
 * else passes.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/events.h"

SEC("xdp")
int cil_xdp_prefilter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct cil_prefilter_value *hit;
	struct cil_ipcache_key k;
	struct iphdr *ip;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return XDP_PASS;
	__builtin_memset(&k, 0, sizeof(k));
	k.prefixlen = CIL_IPCACHE_STATIC_PREFIX + 32;
	k.family = CIL_FAMILY_IPV4;
	cil_addr4(k.addr, ip->saddr);
	hit = bpf_map_lookup_elem(&cil_prefilter, &k);
	if (!hit)
		return XDP_PASS;
	__sync_fetch_and_add(&hit->drops, 1);
	cil_count(CIL_DROP_INVALID_SIP, CIL_DIR_INGRESS, (__u32)(end - data));
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
