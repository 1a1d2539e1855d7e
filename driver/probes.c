// SPDX-License-Identifier: GPL-2.0
/*
 * probes.c - the tracepoint probes: raw_syscalls sys_enter/sys_exit and
 * sched_process_exit, each turned into one scap event in this CPU's ring.
 *
 * Probes run with preemption disabled, never sleep, never wait for the
 * consumer: when the ring is full the event is counted as dropped.
 */
#include <linux/compat.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <asm/syscall.h>

#include "saker.h"

static struct tracepoint *sk_tp_sys_enter;
static struct tracepoint *sk_tp_sys_exit;
static struct tracepoint *sk_tp_proc_exit;

static void sk_find_tracepoint(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sys_enter"))
		sk_tp_sys_enter = tp;
	else if (!strcmp(tp->name, "sys_exit"))
		sk_tp_sys_exit = tp;
	else if (!strcmp(tp->name, "sched_process_exit"))
		sk_tp_proc_exit = tp;
}

int sk_probes_init(void)
{
	for_each_kernel_tracepoint(sk_find_tracepoint, NULL);
	if (!sk_tp_sys_enter || !sk_tp_sys_exit || !sk_tp_proc_exit) {
		pr_err("saker: tracepoints sys_enter/sys_exit/sched_process_exit not found\n");
		return -ENOENT;
	}
	return 0;
}

/*
 * Whether the current task's syscall nr is to be captured in the direction
 * whose interest bitmap is given (empty while capture is disabled: see
 * sk_publish_interest).
 */
static __always_inline bool sk_wanted(const unsigned long *interest, long nr)
{
	return nr >= 0 && nr < SAKER_SYSCALL_MAX && test_bit(nr, interest) &&
	       !in_compat_syscall();
}

/*
 * notrace: no ftrace call site (a 5-byte nop) in the two probes that every
 * system call on the machine runs, nor in sk_syscall_event.
 */
static notrace void sk_probe_sys_enter(void *data, struct pt_regs *regs,
				       long id)
{
	struct sk_session *s = data;

	if (sk_wanted(s->enter, id))
		sk_syscall_event(s, regs, id, 0, false);
}

static notrace void sk_probe_sys_exit(void *data, struct pt_regs *regs,
				      long ret)
{
	struct sk_session *s = data;
	long nr = syscall_get_nr(current, regs);

	if (sk_wanted(s->exit, nr))
		sk_syscall_event(s, regs, nr, ret, true);
}

static void sk_probe_proc_exit(void *data, struct task_struct *p)
{
	struct sk_session *s = data;
	struct sk_ring *ring;
	u64 ts;

	if (!READ_ONCE(s->enabled) ||
	    !(READ_ONCE(s->sources) & SAKER_SRC_PROCEXIT))
		return;
	preempt_disable_notrace();
	ring = sk_ring_get(s);
	if (!ring)
		goto out;
	ts = sk_clock(ring);
	if (!sk_record_begin(ring, &ring->rec, SAKER_EVT_PROCEXIT_1_E)) {
		sk_fill_procexit(&ring->rec, p);
		sk_record_commit(&ring->rec, ts, current->pid);
	}
	sk_ring_put(ring);
out:
	preempt_enable_notrace();
}

int sk_probes_start(struct sk_session *s)
{
	int err;

	err = tracepoint_probe_register(sk_tp_sys_enter, sk_probe_sys_enter, s);
	if (err)
		return err;
	err = tracepoint_probe_register(sk_tp_sys_exit, sk_probe_sys_exit, s);
	if (err)
		goto out_unregister_enter;
	err = tracepoint_probe_register(sk_tp_proc_exit, sk_probe_proc_exit, s);
	if (err)
		goto out_unregister_exit;
	s->probes_on = true;
	return 0;

out_unregister_exit:
	tracepoint_probe_unregister(sk_tp_sys_exit, sk_probe_sys_exit, s);
out_unregister_enter:
	tracepoint_probe_unregister(sk_tp_sys_enter, sk_probe_sys_enter, s);
	tracepoint_synchronize_unregister();
	return err;
}

/* Unregister the probes and wait until none runs any more. */
void sk_probes_stop(struct sk_session *s)
{
	if (!s->probes_on)
		return;
	tracepoint_probe_unregister(sk_tp_proc_exit, sk_probe_proc_exit, s);
	tracepoint_probe_unregister(sk_tp_sys_exit, sk_probe_sys_exit, s);
	tracepoint_probe_unregister(sk_tp_sys_enter, sk_probe_sys_enter, s);
	tracepoint_synchronize_unregister();
	s->probes_on = false;
}
