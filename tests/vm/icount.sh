#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest instructions per iteration of the open/read/close/getppid loop, for
# comparing the cost of saker.ko's capture path before and after a change.
#
# The guest runs under single-threaded TCG with `-icount shift=0`: guest time
# advances by exactly 1 ns per guest instruction, so a task's CPU time in ns
# is the number of instructions it executed. The loop reads its own thread
# CPU time (CLOCK_THREAD_CPUTIME_ID), which leaves out the consumer; the
# "wall" column (CLOCK_MONOTONIC) has the consumer in it too. One vCPU: QEMU
# hangs bringing up a second vCPU with -icount. The figures repeat to a few
# instructions from boot to boot.
#
# Rows: none (no module); hooks (tracepoints attached, nothing of interest);
# getppid, close, read, openat (ringcheck taking only that syscall: 2 events
# per loop each); rc-all (ringcheck taking the four); opx+clo (ringcheck
# taking openat's exit and close's enter events, the enter event written as
# close returns: what the service takes of this loop, and how);
# opx+clo@entry (the same events, close's taken at entry); capall (`saker capture -w /dev/null -s all`); service (the saker
# service running the default rules, configured as in `make bench`);
# scap+sd (the reference scap.ko with `sysdig -w /dev/null`, when sysdig is
# installed, as in `make bench`; its consumer shares the one vCPU, so it may
# drop events that the timed bench's would not). Two rounds in one boot; the
# mean of each row, and its ratio: the loop's throughput on its own CPU as a
# share of the no-module loop's, with time counted in instructions (`make
# bench` prints it after the timed rows: the same comparison without the
# host's noise, and without what the consumer's vCPU costs the loop's on the
# host). The consumer shares the loop's one vCPU here, so the loop's CPU time
# also takes some of the scheduling around the consumer's runs: the service
# row reads lower than opx+clo, the same events with a consumer that does
# little, by more than the kernel work the service adds (tests/vm/profile.sh
# counts that).
#
# usage: tests/vm/icount.sh [ITERATIONS]
#   DRIVER_DIR=dir: measure the saker.ko built from another copy of driver/
#   SAKER=path: the agent (default target/release/saker)
set -u
. "$(dirname "$0")/lib.sh"

N=${1:-50000}
SAKER=${SAKER:-$VM_ROOT/target/release/saker}
vm_require_tools
vm_find_kernel
vm_build_module
[ -x "$SAKER" ] || vm_die "$SAKER is missing (make agent)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/guest.sh" <<EOF
#!/bin/sh
N=$N
EOF
cat >>"$work/guest.sh" <<'EOF'
echo "root:x:0:0:root:/root:/bin/sh" >/etc/passwd
only() {
	ringcheck -i $2 $3 -q -t 100000 >/tmp/rc.txt 2>&1 &
	rc=$!
	sleep 1
	echo "ICOUNT $1 $(kloop $N)"
	kill -INT $rc
	wait $rc
}
for round in 1 2; do
	echo "ICOUNT none $(kloop $N)"
	insmod /saker.ko
	only hooks 335
	only getppid 110
	only close 3
	only read 0
	only openat 257
	only rc-all 257,0,3,110
	only 'opx+clo' '257<,3>' -l
	only 'opx+clo@entry' '257<,3>'
	saker capture -w /dev/null -s all >/tmp/cap.txt 2>&1 &
	cap=$!
	sleep 2
	echo "ICOUNT capall $(kloop $N)"
	kill -INT $cap
	wait $cap
	saker --foreground -c /bench.yaml -r /saker_rules.yaml >/tmp/svc.txt 2>&1 &
	svc=$!
	sleep 3
	echo "ICOUNT service $(kloop $N)"
	kill -TERM $svc
	wait $svc
	grep -a capturing /tmp/svc.txt | sed 's/^/ICOUNT-INFO service: /'
	rmmod saker
	if [ -f /scap.ko ] && [ -x /usr/bin/sysdig ]; then
		insmod /scap.ko
		sysdig -w /dev/null >/tmp/sd.txt 2>&1 &
		sd=$!
		sleep 3
		echo "ICOUNT scap+sd $(kloop $N)"
		kill -INT $sd
		wait $sd
		rmmod scap
	fi
done
EOF

extra="$VM_ROOT/tests/vm/bench.yaml=/bench.yaml $VM_ROOT/rules/saker_rules.yaml=/saker_rules.yaml"
vm_reference_extra "$work" icount
extra="$extra $VM_REFERENCE"
VM_EXTRA=$extra vm_build_initramfs "$work/initrd.gz" "$work/guest.sh" "$SAKER"
timeout 1500 qemu-system-x86_64 -accel tcg,thread=single -icount shift=0 -m 1024 -smp 1 \
	-nographic -no-reboot -kernel "$VM_KERNEL" -initrd "$work/initrd.gz" \
	-append "console=ttyS0 panic=-1 loglevel=5 rdinit=/init clocksource=tsc tsc=reliable" \
	-serial "file:$work/console.log" -serial "file:$work/results.txt" -monitor none \
	</dev/null >/dev/null 2>&1
tr -d '\r' <"$work/console.log" | grep -a '^ICOUNT ' >"$work/icount.txt"
tr -d '\r' <"$work/console.log" | grep -a '^ICOUNT-INFO ' | sort -u
[ -s "$work/icount.txt" ] || {
	echo "icount: no result from the guest; console tail:"
	tail -20 "$work/console.log"
	exit 1
}
awk '{
	if (!($2 in n)) order[k++] = $2
	n[$2]++; cpu[$2] += $3; wall[$2] += $4
}
END {
	printf "icount: %-8s %10s %10s %10s %6s\n", "row", "insn/loop", "above-none", "wall", "ratio"
	for (i = 0; i < k; i++) {
		r = order[i]
		printf "icount: %-8s %10.1f %10.1f %10.1f %6.3f\n", r, cpu[r] / n[r],
			cpu[r] / n[r] - cpu["none"] / n["none"], wall[r] / n[r],
			(cpu["none"] / n["none"]) / (cpu[r] / n[r])
	}
}' "$work/icount.txt"
