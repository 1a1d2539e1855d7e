// SPDX-License-Identifier: GPL-2.0
/*
 * ringcheck - the ABI test of saker.ko, run inside the test VM.
 *
 * Opens /dev/saker, checks GET_INFO and the syscall map, maps every CPU's
 * rings, enables capture and consumes records for a while, validating each
 * record header against the event schema (length, known type, parameter
 * count, parameter lengths summing to the record length, per-CPU timestamps
 * non-decreasing). Prints per-type counts, drops, and how many records match
 * each -f TYPE:TEXT pattern; exits 1 on any violation.
 *
 * With -w FILE it also writes the records, merged by timestamp, as a minimal
 * scap capture (section header, machine info, one EV_V2 block per event) so
 * that the encodings can be checked with sysdig -r on the host.
 *
 * With -z the consumer is hostile: it writes random tails and reads nothing;
 * the module must only count drops (the dmesg checks catch anything else).
 *
 * With -i NR,NR,... only those native syscalls are of interest (no procexit):
 * any record of another event type is a violation. NR> takes only the enter
 * event of syscall NR, NR< only its exit event.
 *
 * With -F N it calls open() N times on an unmapped address once capture is
 * on: the fault counter must count at least the 2N faulted events (openat
 * enter and exit), and N openat exits with -EFAULT and an empty path must be
 * stored.
 *
 * With -e it checks DISABLE and ENABLE instead of consuming for a while:
 * dup's events are stored while enabled, nothing at all is stored while
 * disabled (also when the interest set changes meanwhile), and capture
 * resumes on ENABLE with the interest set last given (close's events, and
 * no more dup's).
 *
 * With -l the -i set is given with SAKER_INTEREST_LATE_ENTER.
 *
 * With -L it checks SAKER_INTEREST_LATE_ENTER instead of consuming for a
 * while: each enter event comes just before its exit event on the thread,
 * with the arguments (close's descriptor is the one dup returned), and is
 * written then (a 50 ms nanosleep's enter event comes after the 50 ms); a fork
 * writes its enter event in the parent only; a successful execve and
 * execveat write theirs (the file name, dirfd, AT_EMPTY_PATH) before their
 * exit event (execve's, also for execveat), and failed ones too with their
 * own exit events; an exit_group, whose enter event must be
 * taken at entry, is seen once asked for; and close's late enter events go
 * on while the enter probe is attached for it and after it is detached.
 *
 * usage: ringcheck [-t SECONDS] [-s SNAPLEN] [-f TYPE:TEXT]... [-c] [-q] [-w FILE]
 *                  [-i NR,...] [-l] [-z] [-F N]
 *        ringcheck -b        (a second open must fail with EBUSY)
 *        ringcheck -e        (DISABLE and ENABLE)
 *        ringcheck -L        (late enter events)
 *   -c  close the device right after enabling and keep reading through the
 *       mappings (the rings must outlive the file until munmap)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "saker_abi.h"

/* Schema table of the module, compiled here with userspace types. */
#define _SAKER_H
#define SK_MAX_PARAMS 20
typedef uint8_t u8;
struct sk_event_info {
	u8 nparams;
	u8 large;
	u8 types[SK_MAX_PARAMS];
};
enum sk_ptype {
	SK_PT_NONE = 0,
	SK_PT_INT8, SK_PT_INT16, SK_PT_INT32, SK_PT_INT64,
	SK_PT_UINT8, SK_PT_UINT16, SK_PT_UINT32, SK_PT_UINT64,
	SK_PT_CHARBUF, SK_PT_BYTEBUF, SK_PT_ERRNO, SK_PT_SOCKADDR,
	SK_PT_SOCKTUPLE, SK_PT_FD, SK_PT_PID, SK_PT_FDLIST, SK_PT_FSPATH,
	SK_PT_SYSCALLID, SK_PT_SIGTYPE, SK_PT_RELTIME, SK_PT_ABSTIME,
	SK_PT_PORT, SK_PT_L4PROTO, SK_PT_SOCKFAMILY, SK_PT_BOOL, SK_PT_IPV4ADDR,
	SK_PT_DYN, SK_PT_FLAGS8, SK_PT_FLAGS16, SK_PT_FLAGS32, SK_PT_UID,
	SK_PT_GID, SK_PT_DOUBLE, SK_PT_SIGSET, SK_PT_CHARBUFARRAY,
	SK_PT_CHARBUF_PAIR_ARRAY, SK_PT_IPV4NET, SK_PT_IPV6ADDR, SK_PT_IPV6NET,
	SK_PT_IPADDR, SK_PT_IPNET, SK_PT_MODE, SK_PT_FSRELPATH,
};
#include "schema_table.c"

#define MAX_PATTERNS 16

struct ring {
	struct saker_ring_consumer *cons;
	struct saker_ring_producer *prod;
	const uint8_t *data;
	uint64_t last_ts;
};

struct pattern {
	unsigned int type;
	const char *text;
	unsigned long hits;
};

static volatile sig_atomic_t stop;
static unsigned long counts[SAKER_EVT_MAX];
static unsigned long errors, records;
static struct pattern pats[MAX_PATTERNS];
static int npats;
static int quiet;
static int restrict_types;
static int hostile;
static unsigned char allowed[SAKER_EVT_MAX];
static int fault_opens;
static unsigned long efault_exits;
static int late_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Records kept for -w: copies, with their CPU, sorted by ts at the end. */
struct kept {
	uint64_t ts;
	size_t seq;
	uint16_t cpu;
	uint32_t len;
	uint8_t *rec;
};

static struct kept *kept;
static size_t nkept, capkept;
static int keep_records;

static void keep(const uint8_t *rec, uint32_t len, uint16_t cpu)
{
	struct saker_evt_hdr h;

	if (nkept == capkept) {
		capkept = capkept ? 2 * capkept : 4096;
		kept = realloc(kept, capkept * sizeof(*kept));
		if (!kept)
			exit(3);
	}
	memcpy(&h, rec, sizeof(h));
	kept[nkept].ts = h.ts;
	kept[nkept].seq = nkept;
	kept[nkept].cpu = cpu;
	kept[nkept].len = len;
	kept[nkept].rec = malloc(len);
	if (!kept[nkept].rec)
		exit(3);
	memcpy(kept[nkept].rec, rec, len);
	nkept++;
}

static int by_ts(const void *a, const void *b)
{
	const struct kept *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void put_block(FILE *f, uint32_t type, const void *body, uint32_t len,
		      const void *body2, uint32_t len2)
{
	uint32_t total = (8 + len + len2 + 4 + 3) & ~3u;
	static const uint8_t zero[4];

	fwrite(&type, 4, 1, f);
	fwrite(&total, 4, 1, f);
	fwrite(body, 1, len, f);
	if (len2)
		fwrite(body2, 1, len2, f);
	fwrite(zero, 1, total - 12 - len - len2, f);
	fwrite(&total, 4, 1, f);
}

static int write_scap(const char *path, uint32_t ncpus)
{
	uint8_t shb[16] = { 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 2, 0,
			    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	uint8_t mi[180] = { 0 };
	uint64_t mem = 1ULL << 30, maxpid = 32768;
	FILE *f = fopen(path, "wb");
	size_t i;

	if (!f) {
		perror("ringcheck: -w");
		return 1;
	}
	memcpy(mi, &ncpus, 4);
	memcpy(mi + 4, &mem, 8);
	memcpy(mi + 12, &maxpid, 8);
	gethostname((char *)mi + 20, 127);
	put_block(f, 0x0A0D0D0A, shb, sizeof(shb), NULL, 0);
	put_block(f, 0x201, mi, sizeof(mi), NULL, 0);
	qsort(kept, nkept, sizeof(*kept), by_ts);
	for (i = 0; i < nkept; i++)
		put_block(f, 0x216, &kept[i].cpu, 2, kept[i].rec, kept[i].len);
	return fclose(f) ? 1 : 0;
}

static void fail(const char *what, uint64_t pos, const char *why)
{
	if (errors++ < 20)
		fprintf(stderr, "ringcheck: %s at %llu: %s\n", what,
			(unsigned long long)pos, why);
}

static int has_text(const uint8_t *p, size_t n, const char *t)
{
	size_t m = strlen(t), i;

	for (i = 0; i + m <= n; i++)
		if (!memcmp(p + i, t, m))
			return 1;
	return 0;
}

static void check_record(struct ring *r, const uint8_t *rec, uint64_t pos,
			 uint64_t avail, uint16_t cpu)
{
	struct saker_evt_hdr h;
	const struct sk_event_info *info;
	uint64_t sum;
	uint32_t i;
	int k;

	memcpy(&h, rec, sizeof(h));
	if (h.len < sizeof(h) || h.len > avail) {
		fail("record", pos, "bad length");
		return;
	}
	if (h.type >= SAKER_EVT_MAX) {
		fail("record", pos, "unknown type");
		return;
	}
	if (restrict_types && !allowed[h.type])
		fail("record", pos, "event type outside the interest set");
	info = &sk_schema[h.type];
	if (h.nparams != info->nparams) {
		fail("record", pos, "nparams differs from the schema");
		return;
	}
	sum = sizeof(h) + 2ULL * h.nparams;
	for (i = 0; i < h.nparams; i++) {
		uint16_t l;

		memcpy(&l, rec + sizeof(h) + 2 * i, 2);
		sum += l;
	}
	if (sum != h.len)
		fail("record", pos, "parameter lengths do not sum to len");
	if (h.ts < r->last_ts)
		fail("record", pos, "timestamp went backwards");
	r->last_ts = h.ts;
	if (keep_records)
		keep(rec, h.len, cpu);
	if (h.type == SAKER_EVT_SYSCALL_OPENAT_2_X && h.nparams > 2) {
		uint16_t l0, l2;
		int64_t ret;

		memcpy(&l0, rec + sizeof(h), 2);
		memcpy(&l2, rec + sizeof(h) + 4, 2);
		memcpy(&ret, rec + sizeof(h) + 2 * h.nparams, sizeof(ret));
		if (l0 == 8 && ret == -EFAULT && l2 == 0)
			efault_exits++;
	}
	counts[h.type]++;
	records++;
	for (k = 0; k < npats; k++)
		if (pats[k].type == h.type && has_text(rec, h.len, pats[k].text))
			pats[k].hits++;
}

static void drain(struct ring *r, uint64_t ring_bytes, uint16_t cpu)
{
	uint64_t head = __atomic_load_n(&r->prod->head, __ATOMIC_ACQUIRE);
	uint64_t tail = r->cons->tail;

	if (head - tail > ring_bytes) {
		fail("ring", head, "head beyond tail + ring size");
		return;
	}
	while (tail < head) {
		const uint8_t *rec = r->data + (tail & (ring_bytes - 1));
		struct saker_evt_hdr h;

		memcpy(&h, rec, sizeof(h));
		check_record(r, rec, tail, head - tail, cpu);
		if (h.len < sizeof(h) || h.len > head - tail) {
			tail = head;	/* resynchronising is impossible */
			break;
		}
		tail += SAKER_RECORD_SIZE(h.len);
	}
	/* Pairs with the producer's load-acquire of tail. */
	__atomic_store_n(&r->cons->tail, tail, __ATOMIC_RELEASE);
}

static int busy_test(void)
{
	int a = open("/dev/saker", O_RDWR), b;

	if (a < 0) {
		perror("ringcheck: open");
		return 1;
	}
	b = open("/dev/saker", O_RDWR);
	if (b >= 0 || errno != EBUSY) {
		fprintf(stderr, "ringcheck: second open: expected EBUSY, got %s\n",
			b >= 0 ? "success" : strerror(errno));
		return 1;
	}
	close(a);
	b = open("/dev/saker", O_RDWR);
	if (b < 0) {
		perror("ringcheck: open after close");
		return 1;
	}
	close(b);
	printf("ringcheck: second open got EBUSY; reopen after close works\n");
	return 0;
}

static struct saker_syscall_map map;

/*
 * SET_INTEREST to the comma-separated syscall numbers in list, each
 * optionally followed by > (enter event only) or < (exit event only).
 */
static int set_interest(int fd, const char *list)
{
	struct saker_interest in;
	const char *p = list;
	char *end;

	memset(&in, 0, sizeof(in));
	while (*p) {
		unsigned long nr = strtoul(p, &end, 10);
		uint64_t bit = 1ULL << (nr % 64);
		char dir = *end == '>' || *end == '<' ? *end++ : 0;

		if (end == p || nr >= SAKER_SYSCALL_MAX || (*end && *end != ','))
			return 1;
		if (dir != '<') {
			in.enter[nr / 64] |= bit;
			allowed[map.enter_event[nr]] = 1;
		}
		if (dir != '>') {
			in.exit[nr / 64] |= bit;
			allowed[map.exit_event[nr]] = 1;
		}
		p = *end ? end + 1 : end;
	}
	restrict_types = 1;
	if (late_flag)
		in.flags = SAKER_INTEREST_LATE_ENTER;
	if (ioctl(fd, SAKER_IOC_SET_INTEREST, &in)) {
		perror("ringcheck: SET_INTEREST");
		return 1;
	}
	return 0;
}

static int check_info(int fd, struct saker_info *info)
{

	if (ioctl(fd, SAKER_IOC_GET_INFO, info)) {
		perror("ringcheck: GET_INFO");
		return 1;
	}
	if (info->abi_version != SAKER_ABI_VERSION || !info->nr_cpus ||
	    info->ring_bytes & (info->ring_bytes - 1) ||
	    info->page_size != (uint32_t)getpagesize()) {
		fprintf(stderr, "ringcheck: bad info (abi %u)\n", info->abi_version);
		return 1;
	}
	if (ioctl(fd, SAKER_IOC_GET_SYSCALL_MAP, &map)) {
		perror("ringcheck: GET_SYSCALL_MAP");
		return 1;
	}
	/* execve is 59 on x86_64 and produces EXECVE_19 */
	if (map.enter_event[59] != SAKER_EVT_SYSCALL_EXECVE_19_E ||
	    map.exit_event[59] != SAKER_EVT_SYSCALL_EXECVE_19_X) {
		fprintf(stderr, "ringcheck: syscall map: execve -> %u/%u\n",
			map.enter_event[59], map.exit_event[59]);
		return 1;
	}
	return 0;
}

static int map_rings(int fd, const struct saker_info *info, struct ring *rings)
{
	size_t ps = info->page_size;
	uint32_t c;

	for (c = 0; c < info->nr_cpus; c++) {
		void *cons = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				  SAKER_MMAP_OFFSET(c, SAKER_MMAP_CONSUMER));
		void *prod = mmap(NULL, ps + 2 * info->ring_bytes, PROT_READ,
				  MAP_SHARED, fd,
				  SAKER_MMAP_OFFSET(c, SAKER_MMAP_PRODUCER));

		if (cons == MAP_FAILED || prod == MAP_FAILED) {
			perror("ringcheck: mmap");
			return 1;
		}
		rings[c].cons = cons;
		rings[c].prod = prod;
		rings[c].data = (const uint8_t *)prod + ps;
	}
	/* The read-only mapping must not become writable. */
	if (mprotect(rings[0].prod, ps, PROT_READ | PROT_WRITE) == 0) {
		fprintf(stderr, "ringcheck: producer page could be made writable\n");
		return 1;
	}
	/* Writable, private or executable producer mappings are refused. */
	if (mmap(NULL, ps + 2 * info->ring_bytes, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, SAKER_MMAP_OFFSET(0, SAKER_MMAP_PRODUCER)) != MAP_FAILED ||
	    mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd,
		 SAKER_MMAP_OFFSET(0, SAKER_MMAP_CONSUMER)) != MAP_FAILED ||
	    mmap(NULL, ps, PROT_READ | PROT_EXEC, MAP_SHARED, fd,
		 SAKER_MMAP_OFFSET(0, SAKER_MMAP_CONSUMER)) != MAP_FAILED) {
		fprintf(stderr, "ringcheck: a forbidden mapping was accepted\n");
		return 1;
	}
	return 0;
}

/* open() on the address of a page just unmapped: EFAULT every time. */
static void bad_opens(int n)
{
	long ps = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, ps, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int i, fd;

	if (p == MAP_FAILED || munmap(p, ps)) {
		perror("ringcheck: mmap");
		errors++;
		return;
	}
	for (i = 0; i < n; i++) {
		fd = open(p, O_RDONLY);
		if (fd >= 0 || errno != EFAULT) {
			fprintf(stderr, "ringcheck: open(unmapped) did not fail with EFAULT\n");
			errors++;
		}
	}
}

/* Prints the counts; returns the total of n_drops_fault. */
static void drain_all(const struct saker_info *info, struct ring *rings)
{
	uint32_t c;

	for (c = 0; c < info->nr_cpus; c++)
		drain(&rings[c], info->ring_bytes, c);
}

/* Bytes ever stored in all the rings. */
static uint64_t stored(const struct saker_info *info, struct ring *rings)
{
	uint64_t sum = 0;
	uint32_t c;

	for (c = 0; c < info->nr_cpus; c++)
		sum += __atomic_load_n(&rings[c].prod->head, __ATOMIC_ACQUIRE);
	return sum;
}

/* n dup() and close() calls; then time for probes already running to end. */
static void dup_close(int n)
{
	int k, d;

	for (k = 0; k < n; k++) {
		d = dup(1);
		if (d >= 0)
			close(d);
	}
	usleep(20000);
}

/* A control ioctl without an argument; says which one failed. */
static int control(int fd, unsigned long req, const char *name)
{
	if (ioctl(fd, req) == 0)
		return 0;
	fprintf(stderr, "ringcheck: %s: %s\n", name, strerror(errno));
	return 1;
}

/* -e (see the top of the file). */
static int toggle_test(int fd, const struct saker_info *info,
		       struct ring *rings)
{
	unsigned long dups, bad = 0, off_bad = 0;
	uint16_t dup_x, close_x;
	uint64_t before;

	dup_x = map.exit_event[32];
	close_x = map.exit_event[3];
	if (set_interest(fd, "32") ||
	    control(fd, SAKER_IOC_ENABLE, "ENABLE"))
		return 1;
	dup_close(100);
	drain_all(info, rings);
	dups = counts[dup_x];
	if (dups < 100) {
		fprintf(stderr, "ringcheck: %lu dup exits while enabled\n", dups);
		bad++;
	}
	if (control(fd, SAKER_IOC_DISABLE, "DISABLE"))
		return 1;
	usleep(20000);
	drain_all(info, rings);
	before = stored(info, rings);
	dup_close(100);
	if (stored(info, rings) != before) {
		fprintf(stderr, "ringcheck: records stored while disabled\n");
		off_bad++;
	}
	/* Only close's events from here on: a dup record is a violation. */
	memset(allowed, 0, sizeof(allowed));
	if (set_interest(fd, "3"))
		return 1;
	dup_close(100);
	if (stored(info, rings) != before) {
		fprintf(stderr, "ringcheck: records stored after SET_INTEREST while disabled\n");
		off_bad++;
	}
	if (control(fd, SAKER_IOC_ENABLE, "ENABLE"))
		return 1;
	dup_close(100);
	drain_all(info, rings);
	if (counts[close_x] < 100 || counts[dup_x] != dups) {
		fprintf(stderr, "ringcheck: after ENABLE: %lu close exits, %lu more dup exits\n",
			counts[close_x], counts[dup_x] - dups);
		bad++;
	}
	ioctl(fd, SAKER_IOC_DISABLE);
	printf("ringcheck: enable/disable: %lu dup exits enabled, %s while disabled, %lu close exits re-enabled, errors %lu\n",
	       dups, off_bad ? "records" : "none", counts[close_x],
	       errors + bad + off_bad);
	return errors || bad || off_bad;
}

static unsigned long report(int fd, const struct saker_info *info,
			    struct ring *rings)
{
	struct saker_cpu_stats st[256];
	struct saker_stats_req req = { (uintptr_t)st, 256, 0 };
	unsigned long evts = 0, full = 0, fault = 0, reent = 0, large = 0;
	uint32_t c;
	int t, k;

	if (fd >= 0 && ioctl(fd, SAKER_IOC_GET_STATS, &req) == 0) {
		for (c = 0; c < req.ncpus && c < 256; c++) {
			evts += st[c].n_evts;
			full += st[c].n_drops_full;
			fault += st[c].n_drops_fault;
			reent += st[c].n_drops_reentry;
			large += st[c].n_drops_toolarge;
		}
	} else {
		for (c = 0; c < info->nr_cpus; c++) {
			evts += rings[c].prod->n_evts;
			full += rings[c].prod->n_drops_full;
			fault += rings[c].prod->n_drops_fault;
			reent += rings[c].prod->n_drops_reentry;
			large += rings[c].prod->n_drops_toolarge;
		}
	}
	if (!quiet)
		for (t = 0; t < SAKER_EVT_MAX; t++)
			if (counts[t])
				printf("ringcheck: type %d: %lu\n", t, counts[t]);
	for (k = 0; k < npats; k++)
		printf("ringcheck: pattern %u:%s: %lu\n", pats[k].type,
		       pats[k].text, pats[k].hits);
	printf("ringcheck: records %lu errors %lu n_evts %lu drops full %lu fault %lu reentry %lu toolarge %lu\n",
	       records, errors, evts, full, fault, reent, large);
	return fault;
}

/* Parameter i of a record: its value, its length in *len. */
static const uint8_t *param(const uint8_t *rec, unsigned int i, uint16_t *len)
{
	struct saker_evt_hdr h;
	const uint8_t *p;
	unsigned int k;
	uint16_t l;

	memcpy(&h, rec, sizeof(h));
	p = rec + sizeof(h) + 2 * h.nparams;
	for (k = 0; k < h.nparams; k++) {
		memcpy(&l, rec + sizeof(h) + 2 * k, 2);
		if (k == i) {
			*len = l;
			return p;
		}
		p += l;
	}
	*len = 0;
	return p;
}

/* Integer parameter i (1 to 8 bytes, sign-extended from its width). */
static int64_t param_int(const uint8_t *rec, unsigned int i)
{
	uint16_t len;
	const uint8_t *p = param(rec, i, &len);
	int64_t v8;
	int32_t v4;
	int16_t v2;

	switch (len) {
	case 8:
		memcpy(&v8, p, 8);
		return v8;
	case 4:
		memcpy(&v4, p, 4);
		return v4;
	case 2:
		memcpy(&v2, p, 2);
		return v2;
	case 1:
		return (int8_t)*p;
	default:
		return INT64_MIN;
	}
}

/* Whether string parameter i is s. */
static int param_is(const uint8_t *rec, unsigned int i, const char *s)
{
	uint16_t len;
	const uint8_t *p = param(rec, i, &len);

	return len == strlen(s) + 1 && !memcmp(p, s, len);
}

static uint64_t tid_of(const struct kept *k)
{
	struct saker_evt_hdr h;

	memcpy(&h, k->rec, sizeof(h));
	return h.tid;
}

static uint16_t type_of(const struct kept *k)
{
	struct saker_evt_hdr h;

	memcpy(&h, k->rec, sizeof(h));
	return h.type;
}

/* The record before kept[i] of the same thread, or NULL. */
static const struct kept *prev_of(size_t i)
{
	uint64_t tid = tid_of(&kept[i]);

	while (i--)
		if (tid_of(&kept[i]) == tid)
			return &kept[i];
	return NULL;
}

/* Records of type t from thread tid. */
static unsigned long count_of(uint16_t t, uint64_t tid)
{
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < nkept; i++)
		n += type_of(&kept[i]) == t && tid_of(&kept[i]) == tid;
	return n;
}

static void late_fail(const char *why)
{
	fprintf(stderr, "ringcheck: late enter: %s\n", why);
	errors++;
}

/* A child that runs how (0: exit, 1..4 and 6: an exec, 5: exit_group). */
static pid_t child(int how, int dirfd)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	pid_t pid = fork();

	if (pid)
		return pid;
	switch (how) {
	case 1:
		execve("/bin/busybox", argv, envp);
		break;
	case 2:
		execve("/nonexistent-saker", argv, envp);
		break;
	case 3:
		syscall(SYS_execveat, dirfd, "busybox", argv, envp, 0);
		break;
	case 4:
		syscall(SYS_execveat, dirfd, "", argv, envp, AT_EMPTY_PATH);
		break;
	case 5:
		syscall(SYS_exit_group, 7);
		break;
	case 6:
		syscall(SYS_execveat, dirfd, "nonexistent-saker", argv, envp, 0);
		break;
	}
	_exit(0);
}

static void reap(pid_t pid)
{
	int st;

	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		late_fail("fork or wait failed");
}

/* Every exit of type x from tid comes right after its enter event e. */
static unsigned long pairs_of(uint16_t e, uint16_t x, uint64_t tid)
{
	const struct kept *p;
	unsigned long n = 0;
	size_t i;

	for (i = 0; i < nkept; i++) {
		if (type_of(&kept[i]) != x || tid_of(&kept[i]) != tid)
			continue;
		p = prev_of(i);
		if (p && type_of(p) == e)
			n++;
		else
			late_fail("an exit event without its enter event just before");
	}
	return n;
}

/* -L (see the top of the file). */
static int late_test(int fd, const struct saker_info *info,
		     struct ring *rings)
{
	const char *set = "3>,32,35,56,59,322";
	uint16_t dup_e = map.enter_event[32], dup_x = map.exit_event[32];
	uint16_t close_e = map.enter_event[3], clone_e = map.enter_event[56];
	uint16_t clone_x = map.exit_event[56], exec_e = map.enter_event[59];
	uint16_t exec_x = map.exit_event[59], at_e = map.enter_event[322];
	uint16_t at_x = map.exit_event[322], exit_e = map.enter_event[231];
	uint16_t sleep_e = map.enter_event[35], sleep_x = map.exit_event[35];
	struct timespec nap = { 0, 50000000 }, t;
	uint64_t me = getpid(), before;
	pid_t forks[5], ok, bad, at, empty, at_bad, ex;
	unsigned long closes = 0, n;
	int dirfd, exefd, k;
	const struct kept *p;
	size_t i;

	dirfd = open("/bin", O_PATH | O_DIRECTORY);
	exefd = open("/bin/busybox", O_PATH);
	if (dirfd < 0 || exefd < 0) {
		perror("ringcheck: open /bin");
		return 1;
	}
	keep_records = 1;
	late_flag = 1;
	if (set_interest(fd, set) || control(fd, SAKER_IOC_ENABLE, "ENABLE"))
		return 1;
	dup_close(100);
	/* A call that blocks 50 ms: its enter event is written after. */
	clock_gettime(CLOCK_REALTIME, &t);
	before = t.tv_sec * 1000000000ULL + t.tv_nsec;
	syscall(SYS_nanosleep, &nap, NULL);
	for (k = 0; k < 5; k++)
		forks[k] = child(0, -1);
	for (k = 0; k < 5; k++)
		reap(forks[k]);
	reap(ok = child(1, -1));
	reap(bad = child(2, -1));
	reap(at = child(3, dirfd));
	reap(empty = child(4, exefd));
	reap(at_bad = child(6, dirfd));
	/* exit_group's enter event is taken at entry: the enter probe. */
	if (set_interest(fd, "3>,231>"))
		return 1;
	reap(ex = child(5, -1));
	dup_close(100);
	/* Back to no enter event at entry: the enter probe detached. */
	if (set_interest(fd, set))
		return 1;
	dup_close(100);
	control(fd, SAKER_IOC_DISABLE, "DISABLE");
	usleep(20000);
	drain_all(info, rings);
	qsort(kept, nkept, sizeof(*kept), by_ts);

	/* close's descriptor is what the dup just before it returned. */
	for (i = 0; i < nkept; i++) {
		if (type_of(&kept[i]) != close_e || tid_of(&kept[i]) != me)
			continue;
		p = prev_of(i);
		if (!p || (type_of(p) == dup_x &&
			   param_int(p->rec, 0) != param_int(kept[i].rec, 0)))
			late_fail("close's descriptor is not the one dup returned");
		closes++;
	}
	if (closes != 300)
		late_fail("not 300 close enter events");
	if (pairs_of(sleep_e, sleep_x, me) != 1)
		late_fail("not one nanosleep enter/exit pair");
	for (i = 0; i < nkept; i++)
		if (type_of(&kept[i]) == sleep_e && tid_of(&kept[i]) == me &&
		    kept[i].ts < before + 45000000)
			late_fail("nanosleep's enter event was written before it slept");
	if (pairs_of(dup_e, dup_x, me) != 200)
		late_fail("not 200 dup enter/exit pairs");
	if (count_of(clone_e, me) != 10 || count_of(clone_x, me) != 10)
		late_fail("the parent's clone events are not one pair per fork");
	for (k = 0; k < 5; k++)
		if (count_of(clone_e, forks[k]) || count_of(clone_x, forks[k]) != 1)
			late_fail("a child has a clone enter event, or not one exit");
	if (pairs_of(clone_e, clone_x, me) != 10)
		late_fail("the parent's clone exits lack their enter events");
	n = pairs_of(exec_e, exec_x, ok) + pairs_of(exec_e, exec_x, bad);
	for (i = 0; i < nkept; i++) {
		const uint8_t *r = kept[i].rec;
		uint64_t tid = tid_of(&kept[i]);
		uint16_t t = type_of(&kept[i]);

		if (t == exec_e && tid == (uint64_t)ok && !param_is(r, 0, "/bin/busybox"))
			late_fail("execve's file name");
		if (t == exec_e && tid == (uint64_t)bad && !param_is(r, 0, "/nonexistent-saker"))
			late_fail("the failed execve's file name");
		if (t == exec_x && tid == (uint64_t)ok && param_int(r, 0) != 0)
			late_fail("execve did not succeed");
		if (t == exec_x && tid == (uint64_t)bad && param_int(r, 0) != -ENOENT)
			late_fail("the failed execve's result");
		if (t == at_e && tid == (uint64_t)at &&
		    (param_int(r, 0) != dirfd || !param_is(r, 1, "busybox") ||
		     param_int(r, 2) != 0))
			late_fail("execveat's dirfd, pathname or flags");
		if (t == at_e && tid == (uint64_t)empty &&
		    (param_int(r, 0) != exefd || !param_is(r, 1, "") ||
		     param_int(r, 2) != 1))
			late_fail("execveat AT_EMPTY_PATH's dirfd, pathname or flags");
		if (t == at_e && tid == (uint64_t)at_bad &&
		    (param_int(r, 0) != dirfd || !param_is(r, 1, "nonexistent-saker")))
			late_fail("the failed execveat's dirfd or pathname");
		if ((t == exec_x && (tid == (uint64_t)at || tid == (uint64_t)empty) &&
		     param_int(r, 0) != 0) ||
		    (t == at_x && tid == (uint64_t)at_bad && param_int(r, 0) != -ENOENT))
			late_fail("an execveat's result");
	}
	n += pairs_of(at_e, exec_x, at) + pairs_of(at_e, exec_x, empty) +
	     pairs_of(at_e, at_x, at_bad);
	if (n != 5)
		late_fail("not 5 exec enter/exit pairs");
	if (count_of(exit_e, ex) != 1)
		late_fail("no exit_group enter event");
	printf("ringcheck: late enter: %lu close enter events, %lu exec pairs, %lu clone enter events in %d forks, exit_group %lu, errors %lu\n",
	       closes, n, count_of(clone_e, me), 10, count_of(exit_e, ex),
	       errors);
	report(fd, info, rings);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct saker_info info;
	struct ring *rings;
	double seconds = 2;
	int snaplen = -1, close_early = 0, toggle = 0, late = 0, opt, fd;
	unsigned long faults;
	const char *out = NULL;
	char *interest = NULL;
	struct timespec t0, now;

	while ((opt = getopt(argc, argv, "beLlt:s:f:cqw:i:zF:")) != -1) {
		switch (opt) {
		case 'b':
			return busy_test();
		case 'e':
			toggle = 1;
			break;
		case 'L':
			late = 1;
			break;
		case 'l':
			late_flag = 1;
			break;
		case 't':
			seconds = atof(optarg);
			break;
		case 's':
			snaplen = atoi(optarg);
			break;
		case 'f':
			if (npats < MAX_PATTERNS && strchr(optarg, ':')) {
				pats[npats].type = atoi(optarg);
				pats[npats].text = strchr(optarg, ':') + 1;
				npats++;
			}
			break;
		case 'c':
			close_early = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'i':
			interest = optarg;
			break;
		case 'z':
			hostile = 1;
			break;
		case 'F':
			fault_opens = atoi(optarg);
			break;
		case 'w':
			out = optarg;
			keep_records = 1;
			break;
		default:
			fprintf(stderr, "usage: ringcheck [-t S] [-s N] [-f TYPE:TEXT] [-c] [-q] [-w FILE] [-i NR,...] [-l] [-z] [-F N] | -b | -e | -L\n");
			return 2;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fd = open("/dev/saker", O_RDWR);
	if (fd < 0) {
		perror("ringcheck: open /dev/saker");
		return 1;
	}
	if (check_info(fd, &info))
		return 1;
	rings = calloc(info.nr_cpus, sizeof(*rings));
	if (!rings || map_rings(fd, &info, rings))
		return 1;
	if (toggle)
		return toggle_test(fd, &info, rings);
	if (late)
		return late_test(fd, &info, rings);
	if (interest && set_interest(fd, interest))
		return 1;
	if (snaplen >= 0 && ioctl(fd, SAKER_IOC_SET_SNAPLEN, &snaplen)) {
		perror("ringcheck: SET_SNAPLEN");
		return 1;
	}
	if (ioctl(fd, SAKER_IOC_ENABLE)) {
		perror("ringcheck: ENABLE");
		return 1;
	}
	if (close_early) {
		close(fd);
		fd = -1;
	}
	if (fault_opens)
		bad_opens(fault_opens);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		uint32_t c;

		for (c = 0; c < info.nr_cpus; c++) {
			if (hostile)
				rings[c].cons->tail = ((uint64_t)rand() << 33) ^
						      ((uint64_t)rand() << 7) ^ rand();
			else
				drain(&rings[c], info.ring_bytes, c);
		}
		usleep(20000);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (!stop && (now.tv_sec - t0.tv_sec) +
		 (now.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	if (fd >= 0)
		ioctl(fd, SAKER_IOC_DISABLE);
	if (hostile) {
		printf("ringcheck: hostile consumer done\n");
		return 0;
	}
	drain_all(&info, rings);
	faults = report(fd, &info, rings);
	if (fault_opens) {
		printf("ringcheck: bad-pointer opens %d: faulted events %lu, EFAULT openat exits with an empty path %lu\n",
		       fault_opens, faults, efault_exits);
		if (faults < 2UL * fault_opens || efault_exits < (unsigned long)fault_opens) {
			fprintf(stderr, "ringcheck: faulted opens not counted or not stored\n");
			errors++;
		}
	}
	if (out && write_scap(out, info.nr_cpus))
		return 1;
	return errors ? 1 : 0;
}
