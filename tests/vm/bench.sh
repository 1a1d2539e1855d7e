#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# make bench: getppid() throughput in one VM boot with no capture, with
# saker.ko (all syscalls, drained by ringcheck) and, when its source is
# available, with the reference scap.ko + `sysdig -w /dev/null`; two rounds,
# the best rate of each as a ratio to the best no-capture rate of the boot.
set -u
. "$(dirname "$0")/lib.sh"

vm_require_tools
vm_find_kernel
vm_build_module

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The reference driver: falcosecurity-scap-dkms source (or SCAP_SRC).
scap_src=${SCAP_SRC:-$(ls -d /usr/src/scap-* 2>/dev/null | tail -1)}
extra=
if [ -n "$scap_src" ] && [ -f "$scap_src/Makefile" ] && command -v sysdig >/dev/null 2>&1; then
	cp -r "$scap_src" "$work/scap"
	if make -s -C "$work/scap" KERNELDIR="$VM_KDIR" >"$work/scap.log" 2>&1; then
		extra="$work/scap/scap.ko $(command -v sysdig)"
	else
		echo "bench: building the reference scap.ko failed (see below); skipping it"
		tail -5 "$work/scap.log"
	fi
else
	echo "bench: no reference driver source (install falcosecurity-scap-dkms or set SCAP_SRC); skipping scap.ko"
fi

VM_EXTRA=$extra vm_build_initramfs "$work/initrd.gz" "$VM_DIR/guest/bench.sh" ""
vm_boot "$work/initrd.gz" "$work/console.log" "$work/results.txt" 600
tr -d '\r' <"$work/console.log" | grep -o 'BENCH .*' >"$work/bench.txt"
if ! grep -q '^BENCH none ' "$work/bench.txt"; then
	echo "bench: no result from the guest; console tail:"
	tail -20 "$work/console.log"
	exit 1
fi
cat "$work/bench.txt"
# Best rate of each configuration over the rounds, as a ratio to the best
# no-capture rate of the same boot.
awk '$1 == "BENCH" { if ($3 > best[$2]) best[$2] = $3; if (!($2 in seen)) { seen[$2] = 1; order[n++] = $2 } }
END {
	for (i = 0; i < n; i++)
		printf "bench: %-13s %10d syscalls/s  ratio %.3f\n", order[i], best[order[i]], best[order[i]] / best["none"]
}' "$work/bench.txt"
