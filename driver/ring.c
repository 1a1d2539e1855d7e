// SPDX-License-Identifier: GPL-2.0
/*
 * ring.c - per-CPU rings: allocation and mapping (reserve and commit are
 * inline in saker.h, on the probes' path).
 *
 * A ring is one consumer page, one producer page and ring_bytes of data
 * pages. Pages are allocated one by one; the data pages are vmap'd twice back
 * to back so that a record crossing the end of the ring is contiguous, and
 * userspace maps them the same way. The ordering contract is the one written
 * at the top of include/uapi/saker_abi.h.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/topology.h>
#include <linux/sched.h>
#include <linux/math64.h>
#include <linux/timekeeping.h>
#include <asm/cpufeature.h>
#include <asm/tsc.h>

#include "saker.h"

#define SK_CONS_PAGE 0
#define SK_PROD_PAGE 1
#define SK_DATA_PAGE 2

static void sk_ring_free_pages(struct sk_ring *ring, unsigned int n)
{
	while (n--)
		__free_page(ring->pages[n]);
}

struct sk_ring *sk_ring_alloc(int cpu, u64 ring_bytes)
{
	unsigned int nr_data = ring_bytes >> PAGE_SHIFT;
	struct page **twice;
	struct sk_ring *ring;
	int node = cpu_possible(cpu) ? cpu_to_node(cpu) : NUMA_NO_NODE;
	unsigned int i;

	ring = kzalloc_node(sizeof(*ring), GFP_KERNEL, node);
	if (!ring)
		return NULL;
	ring->nr_pages = SK_DATA_PAGE + nr_data;
	ring->pages = kvcalloc(ring->nr_pages, sizeof(*ring->pages), GFP_KERNEL);
	if (!ring->pages)
		goto out_free_ring;
	for (i = 0; i < ring->nr_pages; i++) {
		ring->pages[i] = alloc_pages_node(node, GFP_KERNEL | __GFP_ZERO, 0);
		if (!ring->pages[i])
			goto out_free_pages;
	}
	twice = kvcalloc(2 * nr_data, sizeof(*twice), GFP_KERNEL);
	if (!twice)
		goto out_free_pages;
	for (i = 0; i < nr_data; i++) {
		twice[i] = ring->pages[SK_DATA_PAGE + i];
		twice[nr_data + i] = ring->pages[SK_DATA_PAGE + i];
	}
	ring->data = vmap(twice, 2 * nr_data, VM_MAP, PAGE_KERNEL);
	kvfree(twice);
	if (!ring->data)
		goto out_free_pages;
	ring->cons = page_address(ring->pages[SK_CONS_PAGE]);
	ring->prod = page_address(ring->pages[SK_PROD_PAGE]);
	ring->mask = ring_bytes - 1;
	return ring;

out_free_pages:
	sk_ring_free_pages(ring, i);
	kvfree(ring->pages);
out_free_ring:
	kfree(ring);
	return NULL;
}

void sk_ring_free(struct sk_ring *ring)
{
	if (!ring)
		return;
	vunmap(ring->data);
	sk_ring_free_pages(ring, ring->nr_pages);
	kvfree(ring->pages);
	kfree(ring);
}

static int sk_map_pages(struct vm_area_struct *vma, unsigned long addr,
			struct page **pages, unsigned int n)
{
	unsigned int i;
	int err;

	for (i = 0; i < n; i++) {
		err = vm_insert_page(vma, addr + (unsigned long)i * PAGE_SIZE,
				     pages[i]);
		if (err)
			return err;
	}
	return 0;
}

/*
 * mmap: the offset names the CPU and the kind (SAKER_MMAP_OFFSET); only
 * shared, non-executable mappings. The consumer page maps read-write; the
 * producer page and the doubled data area map read-only and can never become
 * writable (VM_MAYWRITE cleared).
 */
int sk_ring_mmap(struct sk_session *s, struct vm_area_struct *vma)
{
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	unsigned long len = vma->vm_end - vma->vm_start;
	unsigned int cpu = off >> 40;
	unsigned int kind = (off >> 32) & 0xff;
	struct sk_ring *ring;
	unsigned int nr_data;
	int err;

	if (off & 0xffffffffULL || cpu >= s->nr_rings || !s->rings[cpu])
		return -EINVAL;
	ring = s->rings[cpu];
	nr_data = ring->nr_pages - SK_DATA_PAGE;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;	/* a private copy would never see the ring */
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_flags &= ~VM_MAYEXEC;

	if (kind == SAKER_MMAP_CONSUMER) {
		if (len != PAGE_SIZE)
			return -EINVAL;
		return sk_map_pages(vma, vma->vm_start,
				    &ring->pages[SK_CONS_PAGE], 1);
	}
	if (kind != SAKER_MMAP_PRODUCER)
		return -EINVAL;
	if (len != PAGE_SIZE + 2 * (unsigned long)s->ring_bytes)
		return -EINVAL;
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	vma->vm_flags &= ~VM_MAYWRITE;
	err = sk_map_pages(vma, vma->vm_start, &ring->pages[SK_PROD_PAGE], 1);
	if (err)
		return err;
	err = sk_map_pages(vma, vma->vm_start + PAGE_SIZE,
			   &ring->pages[SK_DATA_PAGE], nr_data);
	if (err)
		return err;
	return sk_map_pages(vma, vma->vm_start + PAGE_SIZE + s->ring_bytes,
			    &ring->pages[SK_DATA_PAGE], nr_data);
}

/* A record that overflowed: too large for a record, or ring full. */
void sk_record_drop(struct sk_record *r)
{
	struct saker_ring_producer *prod = r->ring->prod;

	/* cap is the free space unless that exceeds the record size limit. */
	if (r->cap == SK_MAX_RECORD)
		sk_count(&prod->n_drops_toolarge);
	else
		sk_count(&prod->n_drops_full);
}

/*
 * The event clock. Every timestamp is CLOCK_REALTIME in ns, consistent
 * across CPUs (the consumer merges the rings by timestamp). Reading the
 * timekeeper (ktime_get_real_fast_ns) for every event costs about as much as
 * the rest of a small event, so each CPU reads it at most once a millisecond
 * and extrapolates in between with the TSC at the nominal TSC rate.
 *
 * Error: between syncs, the difference between the nominal rate and the
 * timekeeper's (calibration, NTP frequency adjustment, at most 500 ppm):
 * under 1 us across CPUs. A clock_settime() or NTP step shows within 1 ms.
 * Timestamps of one CPU never go back by a sync: when the extrapolation ran
 * ahead of the timekeeper, they stay at the value it reached (the floor)
 * until the timekeeper passes it; a backward step of more than 1 ms is a
 * settime and is followed at once.
 *
 * Without a usable TSC (absent, of unknown rate, or marked unstable by the
 * kernel: unsynchronised across CPUs or changing with the CPU frequency)
 * every event reads the timekeeper, as before. Called with the ring's
 * re-entry guard held, from sk_clock() when the extrapolation ends.
 */
u64 sk_clock_sync(struct sk_ring *ring)
{
	struct sk_clock *k = &ring->clk;
	unsigned int khz = READ_ONCE(tsc_khz);
	u64 tsc, now, d, floor = 0;

	if (!boot_cpu_has(X86_FEATURE_TSC) || !khz || check_tsc_unstable()) {
		k->span = 0;
		return ktime_get_real_fast_ns();
	}
	tsc = rdtsc_ordered();
	now = ktime_get_real_fast_ns();
	/* Where the last extrapolation is now, if it was in use just before. */
	d = tsc - k->tsc;
	if (d < 2 * k->span) {
		floor = k->ns + ((d * k->mult) >> 32);
		if (floor <= now || floor - now > NSEC_PER_MSEC)
			floor = 0;
	}
	k->tsc = tsc;
	k->ns = now;
	k->floor = floor;
	/* d < span = 1 ms of cycles: d * mult < 2^32 * 10^6, no overflow */
	k->mult = div_u64((u64)NSEC_PER_MSEC << 32, khz);
	k->span = khz;
	return max(now, floor);
}
