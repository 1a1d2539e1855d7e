// SPDX-License-Identifier: GPL-2.0
/*
 * insnprof.c - a QEMU TCG plugin counting the guest instructions executed at
 * every instruction address, with snapshots at a marker address.
 *
 * Every translated instruction gets an inline "add 1" into its address's
 * counter (kernel addresses) or into one counter for all of user space, so a
 * count is exact: an instruction is counted each time it starts executing,
 * also when its block is left early. The marker is the instruction
 * `xchg %bx,%bx` (66 87 db, a no-op) in user space: each time one executes,
 * the plugin takes a snapshot; after the even-numbered markers (2nd, 4th, ...)
 * it writes what ran since the previous marker:
 *
 *   W <marker number>
 *   <hex address> <instructions>    (kernel addresses, non-zero only)
 *   U <instructions>                (all of user space)
 *
 * Argument: out=FILE (required).
 *
 * Built against the QEMU 7.2 plugin C ABI (API version 1); the few functions
 * and types used are declared here, QEMU resolves them when it loads the
 * plugin.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLUGIN_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;

typedef struct qemu_info_t {
	const char *target_name;
	struct {
		int min;
		int cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;

struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_op {
	QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags,
					  void *userdata);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags,
					    void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
						enum qemu_plugin_op op,
						void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);
void qemu_plugin_outs(const char *string);

PLUGIN_EXPORT int qemu_plugin_version = 1;

/* Lowest kernel address on x86-64; below it, user space. */
#define KERNEL_START 0xffff800000000000ULL

/* One instruction address and its counters. */
struct site {
	uint64_t addr;
	uint64_t count;		/* executions so far (the inline add) */
	uint64_t last;		/* count at the last marker */
	struct site *next;	/* hash chain */
};

#define HASH_BITS 18
#define CHUNK 4096

static struct site *table[1u << HASH_BITS];
static struct site *chunk;	/* sites are never moved: QEMU holds pointers */
static unsigned int chunk_used = CHUNK;
static struct site **all;	/* every site, for the snapshots */
static size_t n_all, cap_all;
static uint64_t user_count, user_last;
static unsigned long markers;
static const unsigned char marker_insn[] = { 0x66, 0x87, 0xdb };
static FILE *out;

static unsigned int hash(uint64_t a)
{
	return (unsigned int)((a * 0x9e3779b97f4a7c15ULL) >> (64 - HASH_BITS));
}

static struct site *site_get(uint64_t addr)
{
	unsigned int h = hash(addr);
	struct site *s;

	for (s = table[h]; s; s = s->next)
		if (s->addr == addr)
			return s;
	if (chunk_used == CHUNK) {
		chunk = calloc(CHUNK, sizeof(*chunk));
		if (!chunk) {
			fprintf(stderr, "insnprof: out of memory\n");
			exit(1);
		}
		chunk_used = 0;
	}
	if (n_all == cap_all) {
		cap_all = cap_all ? cap_all * 2 : 65536;
		all = realloc(all, cap_all * sizeof(*all));
		if (!all) {
			fprintf(stderr, "insnprof: out of memory\n");
			exit(1);
		}
	}
	s = &chunk[chunk_used++];
	s->addr = addr;
	s->next = table[h];
	table[h] = s;
	all[n_all++] = s;
	return s;
}

static void on_marker(unsigned int vcpu, void *udata)
{
	bool dump = ++markers % 2 == 0;
	size_t i;

	(void)vcpu;
	(void)udata;
	if (dump)
		fprintf(out, "W %lu\n", markers);
	for (i = 0; i < n_all; i++) {
		struct site *s = all[i];

		if (dump && s->count != s->last)
			fprintf(out, "%" PRIx64 " %" PRIu64 "\n", s->addr,
				s->count - s->last);
		s->last = s->count;
	}
	if (dump)
		fprintf(out, "U %" PRIu64 "\n", user_count - user_last);
	user_last = user_count;
	fflush(out);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t i, n = qemu_plugin_tb_n_insns(tb);

	(void)id;
	for (i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t a = qemu_plugin_insn_vaddr(insn);
		uint64_t *ctr = &user_count;

		if (a >= KERNEL_START)
			ctr = &site_get(a)->count;
		else if (qemu_plugin_insn_size(insn) == sizeof(marker_insn) &&
			 !memcmp(qemu_plugin_insn_data(insn), marker_insn,
				 sizeof(marker_insn)))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker,
				QEMU_PLUGIN_CB_NO_REGS, NULL);
		qemu_plugin_register_vcpu_insn_exec_inline(insn,
			QEMU_PLUGIN_INLINE_ADD_U64, ctr, 1);
	}
}

static void on_atexit(qemu_plugin_id_t id, void *udata)
{
	(void)id;
	(void)udata;
	fprintf(out, "E %lu\n", markers);
	fclose(out);
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
				      const qemu_info_t *info, int argc,
				      char **argv)
{
	const char *path = NULL;
	int i;

	if (!info->system_emulation) {
		qemu_plugin_outs("insnprof: system emulation only\n");
		return 1;
	}
	for (i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
	}
	if (!path) {
		qemu_plugin_outs("insnprof: needs out=FILE\n");
		return 1;
	}
	out = fopen(path, "w");
	if (!out) {
		qemu_plugin_outs("insnprof: cannot open the output file\n");
		return 1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	qemu_plugin_register_atexit_cb(id, on_atexit, NULL);
	return 0;
}
