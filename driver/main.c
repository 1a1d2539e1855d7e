// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - saker.ko: the /dev/saker misc device, its file operations and
 * ioctls, and module load/unload.
 *
 * One consumer at a time: open allocates the rings of every possible CPU,
 * the last reference to the file frees them. A mapping holds a reference to
 * the file, so release runs only after every mapping of the rings is gone;
 * the probes are unregistered (and waited for) before the rings are freed.
 */
#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/unistd.h>

#include "saker.h"

static unsigned long ring_bytes = SAKER_DEFAULT_RING_BYTES;
module_param(ring_bytes, ulong, 0644);
MODULE_PARM_DESC(ring_bytes, "data bytes per CPU ring, a power of two (read at open)");

static atomic_t sk_busy = ATOMIC_INIT(0);
static DEFINE_MUTEX(sk_ioctl_lock);

static void sk_session_free(struct sk_session *s)
{
	unsigned int i;

	for (i = 0; i < s->nr_rings; i++)
		sk_ring_free(s->rings[i]);
	kfree(s->rings);
	kfree(s);
}

static struct sk_session *sk_session_alloc(u64 bytes)
{
	struct sk_session *s;
	unsigned int cpu;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	s->nr_rings = nr_cpu_ids;
	s->ring_bytes = bytes;
	s->snaplen = SK_DEFAULT_SNAPLEN;
	s->sources = SAKER_SRC_PROCEXIT;
	bitmap_fill(s->want_enter, SAKER_SYSCALL_MAX);
	bitmap_fill(s->want_exit, SAKER_SYSCALL_MAX);
	s->rings = kcalloc(s->nr_rings, sizeof(*s->rings), GFP_KERNEL);
	if (!s->rings)
		goto out_free_session;
	for (cpu = 0; cpu < s->nr_rings; cpu++) {
		s->rings[cpu] = sk_ring_alloc(cpu, bytes);
		if (!s->rings[cpu])
			goto out_free_session;
	}
	return s;

out_free_session:
	sk_session_free(s);
	return NULL;
}

static int sk_open(struct inode *inode, struct file *file)
{
	u64 bytes = READ_ONCE(ring_bytes);
	struct sk_session *s;

	if (!is_power_of_2(bytes) || bytes < 2 * PAGE_SIZE || bytes > (1ULL << 30))
		return -EINVAL;
	if (atomic_cmpxchg(&sk_busy, 0, 1))
		return -EBUSY;
	s = sk_session_alloc(bytes);
	if (!s) {
		atomic_set(&sk_busy, 0);
		return -ENOMEM;
	}
	file->private_data = s;
	return 0;
}

static int sk_release(struct inode *inode, struct file *file)
{
	struct sk_session *s = file->private_data;

	WRITE_ONCE(s->enabled, false);
	sk_probes_stop(s);
	sk_session_free(s);
	atomic_set(&sk_busy, 0);
	return 0;
}

static int sk_mmap(struct file *file, struct vm_area_struct *vma)
{
	return sk_ring_mmap(file->private_data, vma);
}

static long sk_get_info(struct sk_session *s, void __user *arg)
{
	struct saker_info info = {
		.abi_version = SAKER_ABI_VERSION,
		.nr_cpus = s->nr_rings,
		.ring_bytes = s->ring_bytes,
		.page_size = PAGE_SIZE,
		.snaplen = READ_ONCE(s->snaplen),
	};
	unsigned int cpu;

	for_each_online_cpu(cpu)
		if (cpu < 64)
			info.cpus_online |= 1ULL << cpu;
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

/*
 * Syscalls whose enter event is taken at entry even with
 * SAKER_INTEREST_LATE_ENTER: exit and exit_group do not return, and
 * rt_sigreturn returns with the registers of the interrupted code.
 */
static DECLARE_BITMAP(sk_entry_only, SAKER_SYSCALL_MAX);

/*
 * Give the probes the interest set while capture is enabled, nothing while
 * it is not; each word in one store, as the probes may be reading it. The
 * enter probe is attached while some enter event is taken at entry (before
 * the probes are told of it), and detached otherwise: then no syscall on the
 * machine calls it. Called under sk_ioctl_lock.
 */
static int sk_publish_interest(struct sk_session *s)
{
	bool late = s->flags & SAKER_INTEREST_LATE_ENTER;
	unsigned long entry[BITS_TO_LONGS(SAKER_SYSCALL_MAX)];
	unsigned long any = 0;
	unsigned int w;
	int err;

	for (w = 0; w < ARRAY_SIZE(entry); w++) {
		entry[w] = s->enabled ? s->want_enter[w] : 0;
		if (late)
			entry[w] &= sk_entry_only[w];
		any |= entry[w];
	}
	if (s->probes_on && any && !s->enter_on) {
		err = sk_probes_enter(s, true);
		if (err)
			return err;
	}
	for (w = 0; w < ARRAY_SIZE(entry); w++) {
		unsigned long enter = s->enabled ? s->want_enter[w] : 0;
		unsigned long exit = s->enabled ? s->want_exit[w] : 0;

		WRITE_ONCE(s->enter[w], entry[w]);
		WRITE_ONCE(s->late[w], enter & ~entry[w]);
		WRITE_ONCE(s->exit[w], exit);
		WRITE_ONCE(s->at_exit[w], exit | (enter & ~entry[w]));
	}
	if (!any && s->enter_on)
		return sk_probes_enter(s, false);
	return 0;
}

static long sk_set_interest(struct sk_session *s, void __user *arg)
{
	struct saker_interest in;
	unsigned int i;
	int err;

	if (copy_from_user(&in, arg, sizeof(in)))
		return -EFAULT;
	if (in.sources & ~SAKER_SRC_PROCEXIT ||
	    in.flags & ~SAKER_INTEREST_LATE_ENTER)
		return -EINVAL;
	mutex_lock(&sk_ioctl_lock);
	for (i = 0; i < SAKER_SYSCALL_MAX; i++) {
		__assign_bit(i, s->want_enter,
			     in.enter[i / 64] & (1ULL << (i % 64)));
		__assign_bit(i, s->want_exit,
			     in.exit[i / 64] & (1ULL << (i % 64)));
	}
	WRITE_ONCE(s->sources, in.sources);
	s->flags = in.flags;
	err = sk_publish_interest(s);
	mutex_unlock(&sk_ioctl_lock);
	return err;
}

static long sk_set_snaplen(struct sk_session *s, void __user *arg)
{
	u32 snaplen;

	if (copy_from_user(&snaplen, arg, sizeof(snaplen)))
		return -EFAULT;
	if (snaplen > SK_MAX_SNAPLEN)
		return -EINVAL;
	WRITE_ONCE(s->snaplen, snaplen);
	return 0;
}

static long sk_get_stats(struct sk_session *s, void __user *arg)
{
	struct saker_cpu_stats __user *out;
	struct saker_stats_req req;
	unsigned int i;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	out = u64_to_user_ptr(req.stats);
	for (i = 0; i < s->nr_rings && i < req.ncpus; i++) {
		struct saker_ring_producer *p = s->rings[i]->prod;
		struct saker_cpu_stats st = {
			.n_evts = READ_ONCE(p->n_evts),
			.n_drops_full = READ_ONCE(p->n_drops_full),
			.n_drops_fault = READ_ONCE(p->n_drops_fault),
			.n_drops_reentry = READ_ONCE(p->n_drops_reentry),
			.n_drops_toolarge = READ_ONCE(p->n_drops_toolarge),
		};

		if (copy_to_user(&out[i], &st, sizeof(st)))
			return -EFAULT;
	}
	req.ncpus = s->nr_rings;
	return copy_to_user(arg, &req, sizeof(req)) ? -EFAULT : 0;
}

static long sk_get_syscall_map(void __user *arg)
{
	struct saker_syscall_map *map;
	unsigned int i;
	long err = 0;

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	for (i = 0; i < SAKER_SYSCALL_MAX; i++) {
		map->enter_event[i] = sk_syscalls[i].enter_event;
		map->exit_event[i] = sk_syscalls[i].exit_event;
		map->ppm_sc[i] = sk_syscalls[i].ppm_sc;
	}
	if (copy_to_user(arg, map, sizeof(*map)))
		err = -EFAULT;
	kfree(map);
	return err;
}

static long sk_enable(struct sk_session *s)
{
	int err = 0;

	mutex_lock(&sk_ioctl_lock);
	if (!s->probes_on)
		err = sk_probes_start(s);
	if (!err) {
		WRITE_ONCE(s->enabled, true);
		err = sk_publish_interest(s);
		if (err)	/* the probes were told nothing */
			WRITE_ONCE(s->enabled, false);
	}
	mutex_unlock(&sk_ioctl_lock);
	return err;
}

static long sk_disable(struct sk_session *s)
{
	int err;

	mutex_lock(&sk_ioctl_lock);
	WRITE_ONCE(s->enabled, false);
	err = sk_publish_interest(s);
	mutex_unlock(&sk_ioctl_lock);
	return err;
}

static long sk_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct sk_session *s = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case SAKER_IOC_GET_INFO:
		return sk_get_info(s, uarg);
	case SAKER_IOC_ENABLE:
		return sk_enable(s);
	case SAKER_IOC_DISABLE:
		return sk_disable(s);
	case SAKER_IOC_SET_INTEREST:
		return sk_set_interest(s, uarg);
	case SAKER_IOC_SET_SNAPLEN:
		return sk_set_snaplen(s, uarg);
	case SAKER_IOC_GET_STATS:
		return sk_get_stats(s, uarg);
	case SAKER_IOC_GET_SYSCALL_MAP:
		return sk_get_syscall_map(uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations sk_fops = {
	.owner = THIS_MODULE,
	.open = sk_open,
	.release = sk_release,
	.mmap = sk_mmap,
	.unlocked_ioctl = sk_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice sk_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = SAKER_DEVICE_NAME,
	.fops = &sk_fops,
	.mode = 0600,
};

static int __init sk_init(void)
{
	int err;

	err = sk_probes_init();
	if (err)
		return err;
	__set_bit(__NR_exit, sk_entry_only);
	__set_bit(__NR_exit_group, sk_entry_only);
	__set_bit(__NR_rt_sigreturn, sk_entry_only);
	sk_fill_init();
	return misc_register(&sk_miscdev);
}

static void __exit sk_exit(void)
{
	misc_deregister(&sk_miscdev);
}

module_init(sk_init);
module_exit(sk_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("saker: syscall capture into per-CPU scap event rings");
