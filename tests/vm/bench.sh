#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench: capture overhead on the traced machine. In one VM boot, the
# open/read/close/getppid loop (guest/sysloop) runs with no capture, with
# saker.ko + `saker capture` taking every syscall, with saker.ko + the saker
# service running the default rules, and with the reference scap.ko +
# `sysdig -w /dev/null`; BENCH_ROUNDS rounds (default 4), the best rate of
# each as a ratio to the best no-capture rate of the same boot. A rate is the
# 90th percentile of the loop's rates over 100 ms windows (guest/sysloop.c
# says why: the host's other work slows windows at random); the ratios of
# the 99th percentiles and of the whole runs' means follow, then the "round
# median": the median over rounds of the row's rate as a ratio to the mean of
# the same round's first and last no-capture runs, which bracket it in time
# (the best rates of a boot may come from different spells of the host's
# noise; a round's rows ran within two minutes of each other). "none-again",
# the no-capture loop run again at the end of each round, is the control:
# what the host's noise alone makes of the same run (ratio 1 on a quiet
# host). A "hooks-only" row has the tracepoints attached with nothing of
# interest: the floor of any tracepoint-based capture. A "cpu1-busy" row has
# no module and a CPU-bound process on the consumers' vCPU: what a busy
# second vCPU alone costs the loop on this host, to read the rows whose
# consumer keeps its vCPU busy by.
#
# The guest runs under multi-threaded TCG (one host thread per vCPU, so the
# consumer does not take its CPU time from the loop's vCPU, as on real
# hardware) with the TSC as clocksource (the kernel's default under TCG
# falls back to a slower emulated timer, which every timestamp would pay).
# Each vCPU's thread is pinned to a host CPU of its own (VM_PIN_VCPUS=0 does
# not): the loop's vCPU is then not moved between host CPUs, nor made to
# share one with the consumer's while the other host CPU is idle.
# Multi-threaded TCG can hang when tracepoints are patched under load
# (tests/vm/lib.sh, vm_boot); here they are attached while the guest is
# idle, and a boot that gives no result is retried once.
#
# The reference driver comes from Debian's falcosecurity-scap-dkms package,
# unpacked under build/ (never installed), or from SCAP_SRC (vm_build_scap).
# DRIVER_DIR=dir measures the saker.ko built from another copy of driver/.
set -u
. "$(dirname "$0")/lib.sh"

SAKER=${SAKER:-$VM_ROOT/target/release/saker}
vm_require_tools
vm_find_kernel
vm_build_module
[ -x "$SAKER" ] || vm_die "$SAKER is missing (make agent)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

ROUNDS=${BENCH_ROUNDS:-4}
case $ROUNDS in
'' | *[!0-9]* | 0) vm_die "BENCH_ROUNDS must be a positive number of rounds" ;;
esac
echo "$ROUNDS" >"$work/rounds"
extra="$VM_ROOT/tests/vm/bench.yaml=/bench.yaml $VM_ROOT/rules/saker_rules.yaml=/saker_rules.yaml"
extra="$extra $work/rounds=/bench-rounds"
vm_reference_extra "$work" bench
extra="$extra $VM_REFERENCE"

VM_EXTRA=$extra vm_build_initramfs "$work/initrd.gz" "$VM_DIR/guest/bench.sh" "$SAKER"
export VM_ACCEL=${VM_ACCEL:-tcg,thread=multi}
export VM_APPEND=${VM_APPEND:-clocksource=tsc tsc=reliable}
export VM_PIN_VCPUS=${VM_PIN_VCPUS:-1}
for attempt in 1 2; do
	# A round takes about two minutes.
	vm_boot "$work/initrd.gz" "$work/console.log" "$work/results.txt" $((180 + 150 * ROUNDS))
	tr -d '\r' <"$work/console.log" | grep -o 'BENCH[ -].*' >"$work/bench.txt"
	[ "$(grep -c '^BENCH none ' "$work/bench.txt")" -ge 2 ] && break
	echo "bench: boot $attempt gave no complete result; console tail:"
	tail -5 "$work/console.log"
done
if ! grep -q '^BENCH none ' "$work/bench.txt"; then
	echo "bench: no result from the guest; console tail:"
	tail -20 "$work/console.log"
	exit 1
fi
grep '^BENCH ' "$work/bench.txt"
grep '^BENCH-INFO' "$work/bench.txt" | sort -u
# Per configuration, the columns the header describes; drops are summed over
# the rounds.
awk '$1 == "BENCH-CPU" { cpu[$2] += $3; ncpu[$2]++ }
$1 == "BENCH" && $2 == "none" { r++ }
$1 == "BENCH" {
	rate[r, $2] = $3
	if ($3 > best[$2]) best[$2] = $3
	if ($5 > mean[$2]) mean[$2] = $5
	if ($6 > p99[$2]) p99[$2] = $6
	if ($4 != "-") drops[$2] += $4; else drops[$2] = "-"
	if (!($2 in seen)) { seen[$2] = 1; order[n++] = $2 }
}
# median ROW: the median over complete rounds of the rate of ROW as a ratio
# to the mean of the two no-capture runs of the same round (none first,
# none-again last), which bracket it in time; 0 when no round has both.
function median(row,    k, i, j, t, v) {
	k = 0
	for (i = 1; i <= r; i++)
		if (rate[i, row] > 0 && rate[i, "none"] > 0 && rate[i, "none-again"] > 0)
			v[++k] = rate[i, row] / ((rate[i, "none"] + rate[i, "none-again"]) / 2)
	if (k == 0)
		return 0
	for (i = 2; i <= k; i++)
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
		}
	return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}
END {
	for (i = 0; i < n; i++)
		printf "bench: %-12s %9d loops/s  ratio %.3f  drops %-3s (p99: %.3f, means: %.3f, round median: %.3f)%s\n",
			order[i], best[order[i]], best[order[i]] / best["none"], drops[order[i]],
			p99[order[i]] / p99["none"], mean[order[i]] / mean["none"], median(order[i]),
			ncpu[order[i]] ? sprintf("  consumer CPU %d%%", cpu[order[i]] / ncpu[order[i]]) : ""
}' "$work/bench.txt"
