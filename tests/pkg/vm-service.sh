#!/bin/sh
# The service on the real module: boots Debian's 6.1 kernel under QEMU/TCG
# with the VM harness's initramfs (tests/vm/lib.sh) and runs
# guest-service.sh there: `saker --daemon` loads saker.ko with modprobe,
# logs to syslog, serves /healthz and /metrics with the module's per-CPU
# counters, reloads on SIGHUP (refusing an invalid configuration), reopens
# its file on SIGUSR1 and stops on SIGTERM.
# Closes with "vm-service: N passed, M failed".
set -u
VM_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$VM_ROOT/tests/vm/lib.sh"

SAKER=${SAKER_BIN:-$VM_ROOT/target/release/saker}
TIMEOUT=${VM_TIMEOUT:-300}
[ -x "$SAKER" ] || vm_die "$SAKER is not built (cargo build --release)"

vm_require_tools
vm_find_kernel
vm_build_module

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
VM_EXTRA="$VM_ROOT/rules/saker_rules.yaml"
vm_build_initramfs "$work/initrd.gz" "$VM_ROOT/tests/pkg/guest-service.sh" "$SAKER"
start=$(date +%s)
vm_boot "$work/initrd.gz" "$work/console.log" "$work/results.txt" "$TIMEOUT"
echo "vm-service: guest ran $(($(date +%s) - start)) s"

tr -d '\r' <"$work/console.log" >"$work/console.txt"
passed=$(grep -c '^CHECK PASS' "$work/console.txt")
failed=$(grep -c '^CHECK FAIL' "$work/console.txt")
grep '^CHECK ' "$work/console.txt" | sed 's/^CHECK //'
if ! grep -q '^VM-DONE' "$work/console.txt"; then
	echo "FAIL guest did not finish; console tail:"
	tail -n 40 "$work/console.txt"
	failed=$((failed + 1))
elif [ "$failed" -ne 0 ]; then
	sed -n '/^--- metrics/,$p' "$work/console.txt"
fi
echo "vm-service: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
