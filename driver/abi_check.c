// SPDX-License-Identifier: GPL-2.0
/*
 * abi_check.c - compile-time checks of every size and offset of the ABI
 * header: a layout change that is not a deliberate version bump fails the
 * build.
 */
#include <linux/build_bug.h>
#include <linux/stddef.h>

#include "saker.h"

#define SK_CHECK(type, field, off) \
	BUILD_BUG_ON(offsetof(struct type, field) != (off))

void sk_abi_check(void);
void sk_abi_check(void)
{
	BUILD_BUG_ON(SAKER_ABI_VERSION != 3);
	BUILD_BUG_ON(sizeof(struct saker_evt_hdr) != 26);
	SK_CHECK(saker_evt_hdr, ts, 0);
	SK_CHECK(saker_evt_hdr, tid, 8);
	SK_CHECK(saker_evt_hdr, len, 16);
	SK_CHECK(saker_evt_hdr, type, 20);
	SK_CHECK(saker_evt_hdr, nparams, 22);

	BUILD_BUG_ON(sizeof(struct saker_ring_consumer) != 8);
	SK_CHECK(saker_ring_consumer, tail, 0);

	BUILD_BUG_ON(sizeof(struct saker_ring_producer) != 48);
	SK_CHECK(saker_ring_producer, head, 0);
	SK_CHECK(saker_ring_producer, n_evts, 8);
	SK_CHECK(saker_ring_producer, n_drops_full, 16);
	SK_CHECK(saker_ring_producer, n_drops_fault, 24);
	SK_CHECK(saker_ring_producer, n_drops_reentry, 32);
	SK_CHECK(saker_ring_producer, n_drops_toolarge, 40);

	BUILD_BUG_ON(sizeof(struct saker_info) != 32);
	SK_CHECK(saker_info, abi_version, 0);
	SK_CHECK(saker_info, nr_cpus, 4);
	SK_CHECK(saker_info, ring_bytes, 8);
	SK_CHECK(saker_info, page_size, 16);
	SK_CHECK(saker_info, snaplen, 20);
	SK_CHECK(saker_info, cpus_online, 24);

	BUILD_BUG_ON(sizeof(struct saker_interest) != 16 * SAKER_SYSCALL_WORDS + 16);
	SK_CHECK(saker_interest, enter, 0);
	SK_CHECK(saker_interest, exit, 8 * SAKER_SYSCALL_WORDS);
	SK_CHECK(saker_interest, sources, 16 * SAKER_SYSCALL_WORDS);
	SK_CHECK(saker_interest, flags, 16 * SAKER_SYSCALL_WORDS + 8);

	BUILD_BUG_ON(sizeof(struct saker_cpu_stats) != 40);
	SK_CHECK(saker_cpu_stats, n_evts, 0);
	SK_CHECK(saker_cpu_stats, n_drops_full, 8);
	SK_CHECK(saker_cpu_stats, n_drops_fault, 16);
	SK_CHECK(saker_cpu_stats, n_drops_reentry, 24);
	SK_CHECK(saker_cpu_stats, n_drops_toolarge, 32);

	BUILD_BUG_ON(sizeof(struct saker_stats_req) != 16);
	SK_CHECK(saker_stats_req, stats, 0);
	SK_CHECK(saker_stats_req, ncpus, 8);
	SK_CHECK(saker_stats_req, pad, 12);

	BUILD_BUG_ON(sizeof(struct saker_syscall_map) != 3 * 2 * SAKER_SYSCALL_MAX);
	SK_CHECK(saker_syscall_map, exit_event, 2 * SAKER_SYSCALL_MAX);
	SK_CHECK(saker_syscall_map, ppm_sc, 4 * SAKER_SYSCALL_MAX);

	BUILD_BUG_ON(SAKER_SYSCALL_MAX % 64);
	BUILD_BUG_ON(SAKER_EVT_MAX != 336);
	BUILD_BUG_ON(SAKER_EVT_PROCEXIT_1_E != 186);
	BUILD_BUG_ON(SAKER_EVT_SYSCALL_EXECVE_19_E != 292);
	BUILD_BUG_ON(SAKER_MMAP_OFFSET(1, SAKER_MMAP_PRODUCER) != 0x10100000000ULL);
	BUILD_BUG_ON(sizeof(((struct sk_event_info *)0)->types) != SK_MAX_PARAMS);
}
