#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Exact guest instruction profile of the open/read/close/getppid loop, per
# kernel and module symbol, for capture configurations of saker.ko.
#
# The guest runs under single-threaded TCG with `-icount shift=0` (as
# tests/vm/icount.sh) and a TCG plugin of our own (tests/vm/qemu-prof/
# insnprof.c, built here with gcc) counting every executed instruction at its
# address. The loop program executes a marker instruction (`xchg %bx,%bx`, a
# no-op the plugin looks for) just before and just after its measured
# iterations: the plugin writes what executed in between. That window has
# everything the CPU ran, the loop and also the consumer (ringcheck),
# interrupts and other tasks; user space is one symbol, [user]. Kernel and
# module text are named from the guest's /proc/kallsyms (the kernel boots with
# nokaslr; Debian ships no real System.map), sent gzip'd over the results
# port. Figures are instructions per loop iteration.
#
# usage: tests/vm/profile.sh [-n ITERATIONS] [-k DIR] [-d SYMBOL]... [NAME=INTEREST]...
#        tests/vm/profile.sh -r DIR [-d SYMBOL]...
#   NAME=INTEREST  a configuration: ringcheck -i INTEREST runs while the loop
#                  is measured ("-": no consumer, the module loaded but idle;
#                  NR> or NR< takes a syscall's enter or exit event alone;
#                  "service": the saker service with the default rules,
#                  configured as in `make bench`, is the consumer).
#                  Default: none=- hooks=335 close=3 openat=257 getppid=110.
#                  The first one is the baseline of the differences.
#   -n N           loop iterations per configuration (default 20000)
#   -k DIR         keep the raw counts, symbol table and configurations in DIR
#   -r DIR         report again from a kept DIR, without booting
#   -d SYMBOL      also list that symbol's instructions (offset, count per loop)
#   PROFILE_TOP=N  rows per table (default 30)
#   DRIVER_DIR=dir profile the saker.ko built from another copy of driver/
set -u
. "$(dirname "$0")/lib.sh"

N=20000
keep=
report=
details=
while getopts n:k:r:d: opt; do
	case $opt in
	n) N=$OPTARG ;;
	k) keep=$OPTARG ;;
	r) report=$OPTARG ;;
	d) details="$details $OPTARG" ;;
	*) vm_die "usage: profile.sh [-n N] [-k DIR] [-r DIR] [-d SYMBOL]... [NAME=INTEREST]..." ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- none=- hooks=335 close=3 openat=257 getppid=110

# prof_report DIR: the tables, from DIR/{counts,kallsyms,configs,n}.
prof_report() {
	PROFILE_DETAILS="$details" PROFILE_TOP="${PROFILE_TOP:-30}" python3 - "$1" <<'EOF'
import bisect, os, sys
d = sys.argv[1]
n = int(open(os.path.join(d, "n")).read())
configs = open(os.path.join(d, "configs")).read().split()
syms = []
for name in ("kallsyms",):
    for line in open(os.path.join(d, name), errors="replace"):
        if not line.strip():
            continue
        f = line.split()
        if len(f) >= 3 and f[1] in "tTwW":
            mod = " " + f[3] if len(f) > 3 else ""
            syms.append((int(f[0], 16), f[2] + mod))
syms.sort()
starts = [a for a, _ in syms]
def sym(a):
    i = bisect.bisect_right(starts, a) - 1
    return syms[i] if i >= 0 else (0, "[unknown]")
wins = []
cur = None
for line in open(os.path.join(d, "counts")):
    f = line.split()
    if f[0] == "W":
        cur = {}
        wins.append(cur)
    elif f[0] == "U":
        cur[-1] = int(f[1])
    elif f[0] != "E" and cur is not None:
        cur[int(f[0], 16)] = int(f[1])
if len(wins) != len(configs):
    sys.exit("profile: %d measured windows for %d configurations" % (len(wins), len(configs)))
top = int(os.environ["PROFILE_TOP"])
details = os.environ["PROFILE_DETAILS"].split()
per = []
for w in wins:
    s, det = {}, {}
    for a, c in w.items():
        if a == -1:
            name, base = "[user]", a
        else:
            base, name = sym(a)
        s[name] = s.get(name, 0) + c
        if name.split()[0] in details:
            det.setdefault(name, {})[a - base] = c
    per.append((s, det))
def table(title, rows):
    print("profile: " + title)
    for name, v in rows[:top]:
        print("profile:   %10.1f  %s" % (v, name))
    if len(rows) > top:
        rest = sum(v for _, v in rows[top:])
        print("profile:   %10.1f  (%d more symbols)" % (rest, len(rows) - top))
for (name, interest), (s, det) in zip((c.split("=", 1) for c in configs), per):
    total = sum(s.values()) / n
    rows = sorted(((k, v / n) for k, v in s.items()), key=lambda r: -r[1])
    who = "the saker service" if interest == "service" else "ringcheck -i " + interest
    table("%s (%s): %.1f insn/loop, user %.1f, saker.ko %.1f" % (
        name, who, total, s.get("[user]", 0) / n,
        sum(v for k, v in s.items() if k.endswith("[saker]")) / n), rows)
    for sname, offs in sorted(det.items()):
        print("profile:   detail %s (offset insn/loop)" % sname)
        for o in sorted(offs):
            print("profile:     +0x%-5x %8.2f" % (o, offs[o] / n))
base_name = configs[0].split("=")[0]
b = per[0][0]
for c, (s, _) in zip(configs[1:], per[1:]):
    keys = set(b) | set(s)
    rows = [(k, (s.get(k, 0) - b.get(k, 0)) / n) for k in keys]
    rows = [r for r in rows if abs(r[1]) >= 0.05]
    rows.sort(key=lambda r: -abs(r[1]))
    table("%s minus %s: %+.1f insn/loop" % (c.split("=")[0], base_name,
          sum(v for _, v in rows)), rows)
EOF
}

if [ -n "$report" ]; then
	prof_report "$report"
	exit
fi

vm_require_tools
command -v python3 >/dev/null || vm_die "missing python3"
vm_find_kernel
vm_build_module

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

gcc -O2 -Wall -Wextra -shared -fPIC -fvisibility=hidden -o "$work/insnprof.so" \
	"$VM_DIR/qemu-prof/insnprof.c" || vm_die "building the QEMU plugin failed"

{
	printf '#!/bin/sh\nN=%s\n' "$N"
	printf 'echo "root:x:0:0:root:/root:/bin/sh" >/etc/passwd\n'
	printf 'insmod /saker.ko\n'
	# the kernel's and the module's text symbols go to the results port
	printf '{ echo ==BEGIN kallsyms==; grep " [tTwW] " /proc/kallsyms | gzip -1 | base64; echo ==END kallsyms==; } >/dev/ttyS1\n'
	for c in "$@"; do
		name=${c%%=*}
		interest=${c#*=}
		if [ "$interest" = service ]; then
			printf 'saker --foreground -c /bench.yaml -r /saker_rules.yaml >/tmp/svc.txt 2>&1 &\n'
			printf 'svc=$!; sleep 3\n'
			printf 'kloop $N && echo "PROFILE %s"\n' "$name"
			printf 'kill -TERM $svc; wait $svc\n'
		elif [ "$interest" = - ]; then
			printf 'kloop $N && echo "PROFILE %s"\n' "$name"
		else
			printf "ringcheck -i '%s' -q -t 100000 >/tmp/rc.txt 2>&1 &\n" "$interest"
			printf 'rc=$!; sleep 1\n'
			printf 'kloop $N && echo "PROFILE %s"\n' "$name"
			printf 'kill -INT $rc; wait $rc\n'
		fi
	done
	printf 'rmmod saker\n'
} >"$work/guest.sh"

SAKER=${SAKER:-$VM_ROOT/target/release/saker}
[ -x "$SAKER" ] || vm_die "$SAKER is missing (make agent)"
VM_EXTRA="$VM_ROOT/tests/vm/bench.yaml=/bench.yaml $VM_ROOT/rules/saker_rules.yaml=/saker_rules.yaml" \
	vm_build_initramfs "$work/initrd.gz" "$work/guest.sh" "$SAKER"
timeout 1800 qemu-system-x86_64 -accel tcg,thread=single -icount shift=0 -m 1024 -smp 1 \
	-plugin "$work/insnprof.so,out=$work/counts" \
	-nographic -no-reboot -kernel "$VM_KERNEL" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 panic=-1 loglevel=5 rdinit=/init nokaslr clocksource=tsc tsc=reliable" \
	-serial "file:$work/console.log" -serial "file:$work/results.txt" -monitor none \
	</dev/null >"$work/qemu.log" 2>&1
tr -d '\r' <"$work/console.log" | grep -a '^PROFILE ' | cut -d' ' -f2 >"$work/done"
if [ "$(cat "$work/done")" != "$(for c in "$@"; do echo "${c%%=*}"; done)" ]; then
	echo "profile: the guest did not measure every configuration; console tail:"
	tail -20 "$work/console.log"
	tail -5 "$work/qemu.log"
	exit 1
fi
vm_extract "$work/results.txt" kallsyms "$work/kallsyms.gz"
gzip -dc "$work/kallsyms.gz" >"$work/kallsyms" 2>/dev/null
[ -s "$work/kallsyms" ] || vm_die "no symbol table from the guest"
echo "$*" >"$work/configs"
echo "$N" >"$work/n"
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	cp "$work/counts" "$work/kallsyms" "$work/configs" \
		"$work/n" "$keep/"
fi
prof_report "$work"
