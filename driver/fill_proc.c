// SPDX-License-Identifier: GPL-2.0
/*
 * fill_proc.c - process events: the execve and clone families (process
 * start-up information) and procexit.
 */
#include <linux/audit.h>
#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/kernfs.h>
#include <linux/mm.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/mm.h>
#include <linux/tty.h>
#include <linux/tty_driver.h>
#include <linux/uaccess.h>
#include <uapi/linux/sched.h>

#include "saker.h"

#define SK_MAX_ARGV 1024

static bool sk_is_exec(u16 type)
{
	return type == SAKER_EVT_SYSCALL_EXECVE_19_X ||
	       type == SAKER_EVT_SYSCALL_EXECVEAT_X;
}

/* Copy a NULL-terminated user array of strings, NUL-separated, into dst. */
static u32 sk_gather_argv(struct sk_record *r, u8 *dst, u32 room,
			  unsigned long uargv)
{
	u32 off = 0;
	int i;

	for (i = 0; i < SK_MAX_ARGV && off < room; i++) {
		unsigned long p;
		long n;

		if (sk_copy_user(r, &p, uargv + i * sizeof(p), sizeof(p)) || !p)
			break;
		n = sk_strncpy_user(r, dst + off, p, room - off);
		if (n < 0)
			break;
		if (off + n >= room) {
			dst[room - 1] = 0;
			return room;
		}
		off += n + 1;
	}
	return off;
}

/* Copy [start, end) of the current mm (argv or environment area). */
static u32 sk_copy_area(struct sk_record *r, u8 *dst, u32 room,
			unsigned long start, unsigned long end)
{
	u32 len;

	if (!start || end <= start)
		return 0;
	len = min_t(unsigned long, end - start, room);
	if (!len || sk_copy_user(r, dst, start, len))
		return 0;
	dst[len - 1] = 0;
	return len;
}

/*
 * exe and args: argv[0] then the remaining arguments, NUL-separated, written
 * as two parameters whose values are contiguous in the record.
 */
static void sk_put_exe_args(struct sk_record *r, struct sk_call *c,
			    struct mm_struct *mm)
{
	u32 room, len = 0, exe_len;
	u8 *dst = sk_put_open(r, &room);

	if (!dst)
		return;
	room = min(room, SK_MAX_ARGS);
	if (c->ret >= 0 && mm)
		len = sk_copy_area(r, dst, room, mm->arg_start, mm->arg_end);
	else if (c->ret < 0 && sk_is_exec(r->type))
		len = sk_gather_argv(r, dst, room, c->args[r->type ==
				     SAKER_EVT_SYSCALL_EXECVE_19_X ? 1 : 2]);
	if (!len) {
		if (!room) {
			r->overflow = true;
			return;
		}
		dst[0] = 0;
		sk_put_close(r, 1);
		sk_put_close(r, 0);
		return;
	}
	exe_len = strnlen(dst, len);
	if (exe_len < len)
		exe_len++;
	sk_put_close(r, exe_len);
	sk_put_close(r, len - exe_len);
}

static void sk_put_env(struct sk_record *r, struct sk_call *c,
		       struct mm_struct *mm)
{
	u32 room, len = 0;
	u8 *dst = sk_put_open(r, &room);

	if (!dst)
		return;
	room = min(room, SK_MAX_ARGS);
	if (c->ret >= 0 && mm)
		len = sk_copy_area(r, dst, room, mm->env_start, mm->env_end);
	else if (c->ret < 0)
		len = sk_gather_argv(r, dst, room, c->args[r->type ==
				     SAKER_EVT_SYSCALL_EXECVE_19_X ? 2 : 3]);
	sk_put_close(r, len);
}

/* "subsys=path\0" for every cgroup subsystem of the current task. */
static void sk_put_cgroups(struct sk_record *r)
{
	u32 room, off = 0;
	u8 *dst = sk_put_open(r, &room);
	int i;

	if (!dst)
		return;
	room = min(room, SK_MAX_ARGS);
	rcu_read_lock();
	for (i = 0; i < CGROUP_SUBSYS_COUNT; i++) {
		struct cgroup_subsys_state *css = task_css(current, i);
		const char *name;
		u32 n;
		int p;

		if (!css || !css->ss || !css->cgroup)
			continue;
		name = css->ss->name;
		n = strlen(name);
		if (off + n + 3 > room)
			break;
		memcpy(dst + off, name, n);
		dst[off + n] = '=';
		p = kernfs_path(css->cgroup->kn, dst + off + n + 1,
				room - off - n - 1);
		if (p < 0 || off + n + 1 + p + 1 > room)
			break;
		off += n + 1 + p + 1;
	}
	rcu_read_unlock();
	sk_put_close(r, off);
}

static u32 sk_tty_nr(void)
{
	struct signal_struct *sig = current->signal;
	struct tty_struct *tty;
	struct tty_driver *drv;
	int major, minor, index;

	if (!sig || copy_from_kernel_nofault(&tty, &sig->tty, sizeof(tty)) || !tty)
		return 0;
	if (copy_from_kernel_nofault(&index, &tty->index, sizeof(index)) ||
	    copy_from_kernel_nofault(&drv, &tty->driver, sizeof(drv)) || !drv ||
	    copy_from_kernel_nofault(&major, &drv->major, sizeof(major)) ||
	    copy_from_kernel_nofault(&minor, &drv->minor_start, sizeof(minor)))
		return 0;
	return new_encode_dev(MKDEV(major, minor) + index);
}

/*
 * execve flags: PPM_EXE_WRITABLE when the current task may write its
 * executable or owns it (the old one after a failed exec). Permissions are
 * checked without blocking: a check that would block counts as not writable.
 */
static u32 sk_exe_flags(struct mm_struct *mm)
{
	struct file *exe;
	struct inode *inode;
	struct user_namespace *mnt_userns;
	u32 flags = 0;

	if (!mm)
		return 0;
	rcu_read_lock();
	exe = rcu_dereference(mm->exe_file);
	if (exe && !get_file_rcu(exe))
		exe = NULL;
	rcu_read_unlock();
	if (!exe)
		return 0;
	inode = file_inode(exe);
	mnt_userns = file_mnt_user_ns(exe);
	if (!inode_permission(mnt_userns, inode, MAY_WRITE | MAY_NOT_BLOCK) ||
	    inode_owner_or_capable(mnt_userns, inode))
		flags |= 1 << 0;	/* PPM_EXE_WRITABLE */
	fput(exe);
	return flags;
}

static u32 sk_proc_clone_flags(struct sk_record *r, struct sk_call *c)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	unsigned long flags = 0;
	u32 res;

	if (r->type == SAKER_EVT_SYSCALL_CLONE_20_X) {
		flags = c->args[0];
	} else if (r->type == SAKER_EVT_SYSCALL_CLONE3_X) {
		u64 f;

		if (!sk_copy_user(r, &f, c->args[0], sizeof(f)))
			flags = f;
	}
	res = sk_clone_flags(flags);
	if (ns != &init_pid_ns || (current->nsproxy &&
	    current->nsproxy->pid_ns_for_children != ns))
		res |= 1 << 29;		/* PPM_CL_CHILD_IN_PIDNS */
	return res;
}

/* The execve/clone family exit events (20 parameters). */
void sk_fill_proc(struct sk_record *r, struct sk_call *c)
{
	struct mm_struct *mm = current->mm;
	int ptid;

	sk_put_num(r, c->ret);
	sk_put_exe_args(r, c, mm);
	sk_put_num(r, current->pid);
	sk_put_num(r, current->tgid);
	rcu_read_lock();
	ptid = rcu_dereference(current->real_parent)->pid;
	rcu_read_unlock();
	sk_put_num(r, ptid);
	sk_put_str(r, "");			/* cwd: empty, as the schema's producers do */
	sk_put_num(r, rlimit(RLIMIT_NOFILE));
	sk_put_num(r, current->maj_flt);
	sk_put_num(r, current->min_flt);
	sk_put_num(r, sk_vm_kib(0));
	sk_put_num(r, sk_vm_kib(1));
	sk_put_num(r, sk_vm_kib(2));
	sk_put_str(r, current->comm);
	sk_put_cgroups(r);
	if (sk_is_exec(r->type)) {
		sk_put_env(r, c, mm);
		sk_put_num(r, sk_tty_nr());
		sk_put_num(r, task_pgrp_nr_ns(current, task_active_pid_ns(current)));
		sk_put_num(r, (u64)(s64)(s32)from_kuid(&init_user_ns,
						       audit_get_loginuid(current)));
		sk_put_num(r, sk_exe_flags(mm));
	} else {
		sk_put_num(r, sk_proc_clone_flags(r, c));
		sk_put_num(r, from_kuid_munged(current_user_ns(), current_euid()));
		sk_put_num(r, from_kgid_munged(current_user_ns(), current_egid()));
		sk_put_num(r, task_pid_vnr(current));
		sk_put_num(r, task_tgid_vnr(current));
	}
}

/* PROCEXIT_1_E: status, exit code, terminating signal, core dumped. */
void sk_fill_procexit(struct sk_record *r, const void *task)
{
	const struct task_struct *p = task;
	int code = p->exit_code;

	sk_put_num(r, (u64)(s64)code);
	sk_put_num(r, (u64)(s64)((code >> 8) & 0xff));
	sk_put_num(r, code & 0x7f);
	sk_put_num(r, (code & 0x80) ? 1 : 0);
}
