/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Shared includes, load-time configuration and packet parsing for the cilium-rs programs. */
#ifndef CIL_COMMON_H
#define CIL_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "cilium_abi.h"

/*
 * Load-time configuration. The loader sets these (aya's set_global) before the programs are
 * verified; they are constants to the verifier, so a disabled feature is dead code, without
 * a separately compiled variant per combination.
 */
volatile const __u32 cil_ct_timeout_tcp = CIL_CT_TIMEOUT_TCP_DEFAULT;
volatile const __u32 cil_ct_timeout_syn = CIL_CT_TIMEOUT_SYN_DEFAULT;
volatile const __u32 cil_ct_timeout_fin = CIL_CT_TIMEOUT_FIN_DEFAULT;
volatile const __u32 cil_ct_timeout_any = CIL_CT_TIMEOUT_ANY_DEFAULT;
volatile const __u8 cil_trace_new_flows = 0;   /* emit a trace event for every new flow */
volatile const __u8 cil_policy_verdicts = 1;   /* emit a policy verdict for every new flow */
/* Entries of every Maglev table; must equal the size the inner arrays were created with. */
volatile const __u32 cil_maglev_table_size = CIL_MAGLEV_DEFAULT_TABLE_SIZE;
/* At most one drop event (and one denied verdict) per flow and direction in this interval. */
volatile const __u64 cil_drop_notify_interval_ns = 1000000000ULL;
/* Translate service addresses in the TC programs (off when socket LB covers every client). */
volatile const __u8 cil_tc_service_lb = 1;

/* linux/icmp.h drags in glibc's socket headers; this is all we need of it. */
struct cil_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};
#define CIL_ICMP_ECHOREPLY 0
#define CIL_ICMP_ECHO 8

#define CIL_TCP_FIN 0x01
#define CIL_TCP_SYN 0x02
#define CIL_TCP_RST 0x04
#define CIL_TCP_ACK 0x10

/* What the programs need to know about a packet, host order unless noted. */
struct cil_pkt {
	__u32 len;
	__be32 saddr;
	__be32 daddr;
	__u16 sport; /* host order; ICMP echo: identifier */
	__u16 dport; /* host order; ICMP: type << 8 (the policy "port") */
	__u8 protocol;
	__u8 tcp_flags;
	__u8 is_fragment;
	__u8 is_ipv4;
	__u16 l4_off; /* offset of the L4 header from the start of the frame */
	__u16 pad;
};

/*
 * Parses Ethernet + IPv4 + TCP/UDP/ICMP. Returns 0 on success with *p filled; 1 for a frame
 * that is not IPv4 (ARP and the like: the caller decides); a negative drop reason otherwise.
 */
static __always_inline int cil_parse(struct __sk_buff *skb, struct cil_pkt *p)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	__u32 ihl;

	__builtin_memset(p, 0, sizeof(*p));
	p->len = skb->len;
	if ((void *)(eth + 1) > end)
		return -CIL_DROP_INVALID;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return 1;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end)
		return -CIL_DROP_INVALID;
	ihl = ip->ihl * 4;
	if (ihl < sizeof(*ip))
		return -CIL_DROP_INVALID;
	p->is_ipv4 = 1;
	p->saddr = ip->saddr;
	p->daddr = ip->daddr;
	p->protocol = ip->protocol;
	p->l4_off = sizeof(*eth) + ihl;
	/* Non-first fragments carry no L4 header. */
	if (ip->frag_off & bpf_htons(0x1fff)) {
		p->is_fragment = 1;
		return -CIL_DROP_FRAG_NOSUPPORT;
	}
	switch (ip->protocol) {
	case IPPROTO_TCP: {
		struct tcphdr *tcp = (void *)ip + ihl;
		if ((void *)(tcp + 1) > end)
			return -CIL_DROP_CT_INVALID_HDR;
		p->sport = bpf_ntohs(tcp->source);
		p->dport = bpf_ntohs(tcp->dest);
		p->tcp_flags = ((__u8 *)tcp)[13];
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *udp = (void *)ip + ihl;
		if ((void *)(udp + 1) > end)
			return -CIL_DROP_CT_INVALID_HDR;
		p->sport = bpf_ntohs(udp->source);
		p->dport = bpf_ntohs(udp->dest);
		break;
	}
	case IPPROTO_ICMP: {
		struct cil_icmphdr *icmp = (void *)ip + ihl;
		if ((void *)(icmp + 1) > end)
			return -CIL_DROP_CT_INVALID_HDR;
		p->dport = (__u16)icmp->type << 8;
		if (icmp->type == CIL_ICMP_ECHO || icmp->type == CIL_ICMP_ECHOREPLY)
			p->sport = bpf_ntohs(icmp->id);
		break;
	}
	default:
		break;
	}
	return 0;
}

static __always_inline void cil_addr4(__u8 out[16], __be32 a)
{
	__builtin_memset(out, 0, 16);
	__builtin_memcpy(out, &a, 4);
}

/* A 32-bit mix of a flow's tuple (Maglev slot selection); murmur3's finaliser per word. */
static __always_inline __u32 cil_mix32(__u32 h, __u32 w)
{
	w *= 0xcc9e2d51;
	w = (w << 15) | (w >> 17);
	w *= 0x1b873593;
	h ^= w;
	h = (h << 13) | (h >> 19);
	return h * 5 + 0xe6546b64;
}

static __always_inline __u32 cil_fmix32(__u32 h)
{
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

static __always_inline __u32 cil_now_sec(void)
{
	return (__u32)(bpf_ktime_get_ns() / 1000000000ULL);
}

#endif
