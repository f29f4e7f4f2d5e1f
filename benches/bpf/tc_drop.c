/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The floor of prog-cost: a TC program that drops everything. What BPF_PROG_TEST_RUN costs
 * per packet with no work at all (the yardstick's "TC drop floor").
 */
#define TC_ACT_SHOT 2

__attribute__((section("classifier"), used)) int cil_bench_tc_drop(void *skb)
{
	(void)skb;
	return TC_ACT_SHOT;
}

char _license[] __attribute__((section("license"), used)) = "Dual BSD/GPL";
