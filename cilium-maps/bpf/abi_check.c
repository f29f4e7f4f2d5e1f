/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Layout check ("alignchecker"): names every ABI type and constant group of cilium_abi.h so
 * that `clang -g -target bpf -c` emits them into the object's BTF. The cilium-maps test
 * `layout` reads that BTF and compares it with the Rust mirrors field by field.
 * Every struct added to the header must be added here (the test fails on a Rust type whose
 * C type is missing).
 */
#include "cilium_abi.h"

#define CHECK(T) T abi_check_##T __attribute__((used, section(".data.abi")))
#define CHECK_STRUCT(T) struct T abi_check_##T __attribute__((used, section(".data.abi")))
#define CHECK_ENUM(T) enum T abi_check_##T __attribute__((used, section(".data.abi")))

CHECK_STRUCT(cil_policy_key);
CHECK_STRUCT(cil_policy_entry);
CHECK_STRUCT(cil_ipcache_key);
CHECK_STRUCT(cil_ipcache_value);
CHECK_STRUCT(cil_endpoint_key);
CHECK_STRUCT(cil_endpoint_info);
CHECK_STRUCT(cil_service_key);
CHECK_STRUCT(cil_service_value);
CHECK_STRUCT(cil_backend_key);
CHECK_STRUCT(cil_backend);
CHECK_STRUCT(cil_rev_nat_key);
CHECK_STRUCT(cil_rev_nat_value);
CHECK_STRUCT(cil_maglev_key);
CHECK_STRUCT(cil_affinity_key);
CHECK_STRUCT(cil_affinity_value);
CHECK_STRUCT(cil_sock_revnat_key);
CHECK_STRUCT(cil_sock_revnat_value);
CHECK_STRUCT(cil_ct_key);
CHECK_STRUCT(cil_ct_entry);
CHECK_STRUCT(cil_metrics_key);
CHECK_STRUCT(cil_metrics_value);
CHECK_STRUCT(cil_prefilter_value);
CHECK_STRUCT(cil_event_hdr);
CHECK_STRUCT(cil_tuple);
CHECK_STRUCT(cil_drop_event);
CHECK_STRUCT(cil_trace_event);
CHECK_STRUCT(cil_policy_verdict_event);
CHECK_STRUCT(cil_sock_event);

CHECK_ENUM(cil_family);
CHECK_ENUM(cil_direction);
CHECK_ENUM(cil_reserved_identity);
CHECK_ENUM(cil_drop_reason);
CHECK_ENUM(cil_event_type);
CHECK_ENUM(cil_trace_point);
CHECK_ENUM(cil_policy_match);
CHECK_ENUM(cil_sock_op);
CHECK_ENUM(cil_mark);
CHECK_ENUM(cil_policy_consts);
CHECK_ENUM(cil_policy_flags);
CHECK_ENUM(cil_ipcache_consts);
CHECK_ENUM(cil_ipcache_flags);
CHECK_ENUM(cil_endpoint_flags);
CHECK_ENUM(cil_lb_consts);
CHECK_ENUM(cil_service_flags);
CHECK_ENUM(cil_service_flags2);
CHECK_ENUM(cil_backend_state);
CHECK_ENUM(cil_backend_flags);
CHECK_ENUM(cil_affinity_flags);
CHECK_ENUM(cil_ct_consts);
CHECK_ENUM(cil_ct_entry_flags);
CHECK_ENUM(cil_trace_reason);
CHECK_ENUM(cil_verdict_flags);

char _license[] __attribute__((section("license"), used)) = "Dual BSD/GPL";
