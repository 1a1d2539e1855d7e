#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The VM test of saker.ko (make vm-test): boots the installed Debian kernel
# under QEMU/TCG with a busybox initramfs holding saker.ko, the guest tools
# and the agent, runs guest/vm-test.sh there, and checks the results here.
# Prints one PASS/FAIL line per check and "vm-test: N passed, M failed".
set -u
. "$(dirname "$0")/lib.sh"

SAKER=${SAKER:-$VM_ROOT/target/release/saker}
TIMEOUT=${VM_TIMEOUT:-480}

vm_require_tools
vm_find_kernel
vm_build_module

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

agent=
if [ -x "$SAKER" ] && "$SAKER" capture --help >/dev/null 2>&1; then
	agent=$SAKER
else
	echo "vm-test: $SAKER has no 'capture' subcommand: agent capture checks skipped"
fi

vm_build_initramfs "$work/initrd.gz" "$VM_DIR/guest/vm-test.sh" "$agent"
echo "vm-test: booting $VM_KERNEL (TCG, $VM_CPUS CPUs)"
start=$(date +%s)
vm_boot "$work/initrd.gz" "$work/console.log" "$work/results.txt" "$TIMEOUT"
echo "vm-test: guest ran $(($(date +%s) - start)) s"

passed=0
failed=0
result() {
	if [ "$1" = PASS ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
	echo "$1 $2"
}

tr -d '\r' <"$work/console.log" | grep -o 'CHECK \(PASS\|FAIL\) .*' | sed 's/^CHECK //' >"$work/checks.txt"
while IFS= read -r line; do
	result "${line%% *}" "${line#* }"
done <"$work/checks.txt"

if grep -q '^VM-DONE' "$work/console.log"; then
	result PASS "guest-finished: the test script ran to the end"
else
	result FAIL "guest-finished: no VM-DONE (hang, panic or timeout); console tail:"
	tail -30 "$work/console.log" | sed 's/^/    /'
fi

# sysdig_checks NAME FILE: the reference reader finds the scenario in FILE.
sysdig_checks() {
	if ! command -v sysdig >/dev/null 2>&1; then
		result FAIL "$1-sysdig: sysdig is not installed (tools/install-deps.sh)"
		return
	fi
	sysdig -r "$2" -p '*%evt.type %proc.cmdline %fd.name' \
		'evt.type in (execve,open,openat,connect,accept) and evt.dir=<' \
		>"$work/$1.sysdig" 2>"$work/$1.sysdig.err"
	if grep -q '^execve .*saker-distinctive-arg-4242' "$work/$1.sysdig"; then
		result PASS "$1-sysdig-execve: sysdig reads the execve command line"
	else
		result FAIL "$1-sysdig-execve: no execve with saker-distinctive-arg-4242 in sysdig -r"
	fi
	if grep -q '^openat .*/tmp/saker-test-file' "$work/$1.sysdig"; then
		result PASS "$1-sysdig-open: sysdig reads the opened path"
	else
		result FAIL "$1-sysdig-open: no openat of /tmp/saker-test-file in sysdig -r"
	fi
	if grep -q '^connect .*127.0.0.1:.*->127.0.0.1:7777' "$work/$1.sysdig"; then
		result PASS "$1-sysdig-connect: sysdig reads the loopback connection"
	else
		result FAIL "$1-sysdig-connect: no connect to 127.0.0.1:7777 in sysdig -r"
	fi
}

# fetch NAME: a capture sent back by the guest, or a failed check.
fetch() {
	if vm_extract "$work/results.txt" "$1" "$work/$1.scap" && [ -s "$work/$1.scap" ]; then
		result PASS "$1-transfer: $(wc -c <"$work/$1.scap") bytes back from the guest"
		return 0
	fi
	result FAIL "$1-transfer: no $1 capture came back from the guest"
	return 1
}

# The module's own records (written by ringcheck) read by sysdig.
if fetch ringcheck; then
	sysdig_checks ringcheck "$work/ringcheck.scap"
fi

# Encodings of many event types against the expected sysdig renderings.
if fetch exercise; then
	if command -v sysdig >/dev/null 2>&1; then
		sysdig -r "$work/exercise.scap" 'proc.name=exercise' >"$work/exercise.sysdig" 2>&1
		total=0
		missing=0
		: >"$work/exercise.missing"
		while IFS= read -r want; do
			case "$want" in '#'* | '') continue ;; esac
			total=$((total + 1))
			if ! grep -qF -- "$want" "$work/exercise.sysdig"; then
				missing=$((missing + 1))
				echo "    missing: $want" >>"$work/exercise.missing"
			fi
		done <"$VM_DIR/exercise.expected"
		if [ "$missing" -eq 0 ]; then
			result PASS "exercise-encodings: $total/$total expected renderings in sysdig -r"
		else
			result FAIL "exercise-encodings: $missing of $total expected renderings missing"
			cat "$work/exercise.missing"
		fi
	else
		result FAIL "exercise-sysdig: sysdig is not installed (tools/install-deps.sh)"
	fi
fi

# The agent's capture, read back with the agent and with sysdig.
if [ -n "$agent" ] && fetch capture; then
	scap=$work/capture.scap
	"$agent" dump "$scap" >"$work/dump.txt" 2>"$work/dump.err"
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'saker-distinctive-arg-4242' "$work/dump.txt"; then
		result PASS "dump-execve: saker dump shows the execve command line"
	else
		result FAIL "dump-execve: saker dump (exit $rc) lacks saker-distinctive-arg-4242"
	fi
	if grep -q '/tmp/saker-test-file' "$work/dump.txt"; then
		result PASS "dump-open: saker dump shows the opened path"
	else
		result FAIL "dump-open: saker dump lacks /tmp/saker-test-file"
	fi
	sysdig_checks capture "$scap"
fi

if [ -n "${VM_KEEP:-}" ]; then
	mkdir -p "$VM_KEEP" && cp "$work"/* "$VM_KEEP"/
fi
echo "vm-test: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
