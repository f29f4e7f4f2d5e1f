/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Policy lookup. Precedence, first match wins (numbers as in cilium_abi.h):
 *   1. identity / proto / port       CIL_POLICY_MATCH_L3_L4
 *   2. any      / proto / port       CIL_POLICY_MATCH_L4_ONLY
 *   3. identity / proto / any port   CIL_POLICY_MATCH_L3_PROTO
 *   4. any      / proto / any port   CIL_POLICY_MATCH_PROTO_ONLY
 *   5. identity / any   / any        CIL_POLICY_MATCH_L3_ONLY
 *   6. any      / any   / any        CIL_POLICY_MATCH_ALL
 * Two full-prefix LPM lookups (peer identity, then identity 0) each return their most specific
 * entry; the longer stored prefix wins and a tie goes to the identity lookup, which is the
 * order above. No match: CIL_DROP_POLICY (133). Deny entry: CIL_DROP_POLICY_DENY (181).
 */
#ifndef CIL_POLICY_H
#define CIL_POLICY_H

#include "maps.h"

struct cil_verdict {
	__u8 drop_reason; /* 0 = allowed */
	__u8 match_type;  /* CIL_POLICY_MATCH_* */
	__u16 proxy_port; /* host order; 0 = no redirect */
	__u8 auth_type;
};

static __always_inline __u8 cil_match_type(const struct cil_policy_entry *e, int is_l3)
{
	__u8 plen = e->lpm_prefix_length;

	if (plen > CIL_POLICY_STATIC_PREFIX + 8)
		return is_l3 ? CIL_POLICY_MATCH_L3_L4 : CIL_POLICY_MATCH_L4_ONLY;       /* 1, 2 */
	if (plen == CIL_POLICY_STATIC_PREFIX + 8)
		return is_l3 ? CIL_POLICY_MATCH_L3_PROTO : CIL_POLICY_MATCH_PROTO_ONLY; /* 3, 4 */
	return is_l3 ? CIL_POLICY_MATCH_L3_ONLY : CIL_POLICY_MATCH_ALL;                 /* 5, 6 */
}

/*
 * Decides for `remote_id` in `dir` to `proto`/`dport` (host order) against `policy`
 * (an inner LPM map), counting the packet on the matched entry.
 */
static __always_inline void cil_policy_decide(void *policy, __u32 remote_id, __u8 dir, __u8 proto,
					       __u16 dport, __u32 len, struct cil_verdict *v)
{
	struct cil_policy_key key = {
		.prefixlen = CIL_POLICY_FULL_PREFIX,
		.identity = remote_id,
		.egress = dir,
		.protocol = proto,
		.dport = bpf_htons(dport),
	};
	struct cil_policy_entry *l3, *l4, *e;
	int is_l3;

	__builtin_memset(v, 0, sizeof(*v));
	l3 = bpf_map_lookup_elem(policy, &key);
	key.identity = 0;
	l4 = bpf_map_lookup_elem(policy, &key);

	if (l3 && (!l4 || l3->lpm_prefix_length >= l4->lpm_prefix_length)) {
		e = l3;
		is_l3 = 1;
	} else if (l4) {
		e = l4;
		is_l3 = 0;
	} else {
		v->drop_reason = CIL_DROP_POLICY;
		return;
	}
	v->match_type = cil_match_type(e, is_l3);
	__sync_fetch_and_add(&e->packets, 1);
	__sync_fetch_and_add(&e->bytes, len);
	if (e->flags & CIL_POLICY_F_DENY) {
		v->drop_reason = CIL_DROP_POLICY_DENY;
		return;
	}
	v->proxy_port = bpf_ntohs(e->proxy_port);
	v->auth_type = e->auth_type;
}

#endif
