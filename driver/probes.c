// SPDX-License-Identifier: GPL-2.0
/*
 * probes.c - the tracepoint probes: raw_syscalls sys_enter/sys_exit,
 * sched_process_exit and sched_process_exec, each turned into scap events in
 * this CPU's ring.
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
#include <asm/unistd.h>

#include "saker.h"

static struct tracepoint *sk_tp_sys_enter;
static struct tracepoint *sk_tp_sys_exit;
static struct tracepoint *sk_tp_proc_exit;
static struct tracepoint *sk_tp_proc_exec;

static void sk_find_tracepoint(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "sys_enter"))
		sk_tp_sys_enter = tp;
	else if (!strcmp(tp->name, "sys_exit"))
		sk_tp_sys_exit = tp;
	else if (!strcmp(tp->name, "sched_process_exit"))
		sk_tp_proc_exit = tp;
	else if (!strcmp(tp->name, "sched_process_exec"))
		sk_tp_proc_exec = tp;
}

int sk_probes_init(void)
{
	for_each_kernel_tracepoint(sk_find_tracepoint, NULL);
	if (!sk_tp_sys_enter || !sk_tp_sys_exit || !sk_tp_proc_exit ||
	    !sk_tp_proc_exec) {
		pr_err("saker: tracepoints sys_enter/sys_exit/sched_process_exit/sched_process_exec not found\n");
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

/*
 * Whether a return of syscall nr writes its late enter event: not in the
 * child of a clone family call (the parent's return writes it), nor after a
 * successful execve/execveat (sk_probe_exec wrote it).
 */
static __always_inline bool sk_late_here(long nr, long ret)
{
	switch (nr) {
	case __NR_clone:
	case __NR_fork:
	case __NR_vfork:
	case __NR_clone3:
	case __NR_execve:
	case __NR_execveat:
		return ret != 0;
	default:
		return true;
	}
}

/* A return of a syscall whose enter event is written late. */
static noinline notrace void sk_late_return(struct sk_session *s,
					    struct pt_regs *regs, long nr,
					    long ret)
{
	if (sk_late_here(nr, ret))
		sk_syscall_event(s, regs, nr, 0, false);
	if (test_bit(nr, s->exit))
		sk_syscall_event(s, regs, nr, ret, true);
}

/*
 * Every path ends in a tail call: the syscalls of no interest run no
 * prologue (no callee-saved register is pushed before the bit test).
 */
static notrace void sk_probe_sys_exit(void *data, struct pt_regs *regs,
				      long ret)
{
	struct sk_session *s = data;
	long nr = syscall_get_nr(current, regs);

	if (!sk_wanted(s->at_exit, nr))
		return;
	if (likely(!test_bit(nr, s->late)))
		sk_syscall_event(s, regs, nr, ret, true);
	else
		sk_late_return(s, regs, nr, ret);
}

/*
 * A successful execve/execveat with its enter event written late: the new
 * program is in place and the registers no longer hold the arguments, so
 * the enter event is written now, from what the kernel executed. Loading a
 * 64-bit program made the call an execve (orig_ax = __NR_execve, see
 * set_personality_64bit) whichever it was: the exit event is execve's.
 */
static void sk_probe_exec(void *data, struct task_struct *p, pid_t old_pid,
			  struct linux_binprm *bprm)
{
	struct sk_session *s = data;

	if (syscall_get_nr(p, task_pt_regs(p)) == __NR_execve &&
	    !in_compat_syscall())
		sk_exec_enter_event(s, bprm);
}

static void sk_probe_proc_exit(void *data, struct task_struct *p)
{
	struct sk_session *s = data;

	if (READ_ONCE(s->enabled) &&
	    READ_ONCE(s->sources) & SAKER_SRC_PROCEXIT)
		sk_event(s, SAKER_EVT_PROCEXIT_1_E, sk_fill_procexit, p);
}

/*
 * Attach the exit-side probes. The enter probe is attached apart, while some
 * enter event is taken at entry (sk_probes_enter).
 */
int sk_probes_start(struct sk_session *s)
{
	int err;

	err = tracepoint_probe_register(sk_tp_sys_exit, sk_probe_sys_exit, s);
	if (err)
		return err;
	err = tracepoint_probe_register(sk_tp_proc_exit, sk_probe_proc_exit, s);
	if (err)
		goto out_unregister_exit;
	err = tracepoint_probe_register(sk_tp_proc_exec, sk_probe_exec, s);
	if (err)
		goto out_unregister_proc_exit;
	s->probes_on = true;
	return 0;

out_unregister_proc_exit:
	tracepoint_probe_unregister(sk_tp_proc_exit, sk_probe_proc_exit, s);
out_unregister_exit:
	tracepoint_probe_unregister(sk_tp_sys_exit, sk_probe_sys_exit, s);
	tracepoint_synchronize_unregister();
	return err;
}

/*
 * Attach or detach the enter probe. A probe detached here may still be
 * running on another CPU: the session outlives it (sk_probes_stop waits).
 */
int sk_probes_enter(struct sk_session *s, bool on)
{
	int err;

	if (on)
		err = tracepoint_probe_register(sk_tp_sys_enter,
						sk_probe_sys_enter, s);
	else
		err = tracepoint_probe_unregister(sk_tp_sys_enter,
						  sk_probe_sys_enter, s);
	if (!err)
		s->enter_on = on;
	return err;
}

/* Detach every probe and wait until none runs any more. */
void sk_probes_stop(struct sk_session *s)
{
	if (!s->probes_on)
		return;
	if (s->enter_on)
		sk_probes_enter(s, false);
	tracepoint_probe_unregister(sk_tp_proc_exec, sk_probe_exec, s);
	tracepoint_probe_unregister(sk_tp_proc_exit, sk_probe_proc_exit, s);
	tracepoint_probe_unregister(sk_tp_sys_exit, sk_probe_sys_exit, s);
	tracepoint_synchronize_unregister();
	s->probes_on = false;
}
