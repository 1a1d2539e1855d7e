#!/usr/bin/env bash
# End-to-end test: the saker .deb on a Debian bookworm system booted under
# QEMU (TCG), used the way an administrator would.
#
#   tests/e2e/run.sh            (as root; needs debootstrap, qemu-system-x86_64,
#                                mkfs.ext4 with -d, dpkg-deb)
#
# Host side: the bookworm root of the package tests with rsyslog, adduser and
# the headers of the guest kernel (cached, tests/e2e/root.sh); an overlay over
# it where `dpkg -i saker.deb` makes DKMS build the module for the guest
# kernel; that tree as an ext4 image (mkfs.ext4 -d) on a virtio disk. Guest:
# the host's Debian kernel /boot/vmlinuz-V and its initrd, the root on
# /dev/vda, tests/e2e/guest-init.sh as init= (service start/status/reload/
# stop, alerts in /var/log/syslog); its checks come back on a second serial
# port. Console, results and the daemon's syslog lines are kept in
# build/e2e-last/.
#
# SAKER_BIN picks the binary packaged (default target/release/saker).
# Closes with `e2e-test: N passed, M failed`; exits non-zero on a failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PKG_CACHE_DIR=${PKG_CACHE:-$ROOT/build/pkg-cache}
E2E_CACHE=${E2E_CACHE:-$ROOT/build/e2e-cache}
LAST=$ROOT/build/e2e-last
TIMEOUT=${E2E_TIMEOUT:-420}
# shellcheck source=tests/pkg/root.sh
. "$ROOT/tests/pkg/root.sh"
# shellcheck source=tests/e2e/root.sh
. "$ROOT/tests/e2e/root.sh"
# shellcheck source=tests/vm/lib.sh
. "$ROOT/tests/vm/lib.sh"

PASSED=0
FAILED=0
T0=$(date +%s)
TL=$T0

ok() {
	PASSED=$((PASSED + 1))
	echo "PASS $*"
}

bad() {
	FAILED=$((FAILED + 1))
	echo "FAIL $*"
}

# Prints the seconds a phase took.
lap() {
	local now
	now=$(date +%s)
	echo "e2e-test: $1 took $((now - TL)) s"
	TL=$now
}

finish() {
	[ -n "${MERGED:-}" ] && chroot_umount "$MERGED"
	[ -n "${MERGED:-}" ] && umount -l "$MERGED" 2>/dev/null
	rm -rf "$WORK"
	echo "e2e-test: $(($(date +%s) - T0)) s in all"
	echo "e2e-test: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
}

if [ "$(id -u)" -ne 0 ]; then
	echo "e2e-test: needs root (debootstrap, chroot, mounts)" >&2
	exit 1
fi
for t in debootstrap qemu-system-x86_64 mkfs.ext4 dpkg-deb timeout; do
	command -v "$t" >/dev/null 2>&1 || { echo "e2e-test: missing $t (tools/install-deps.sh)" >&2; exit 1; }
done
WORK=$(mktemp -d /tmp/saker-e2e.XXXXXX)
MERGED=
trap 'finish; exit $?' EXIT
trap 'exit 130' INT TERM

vm_find_kernel
KVER=$VM_KVER
INITRD=/boot/initrd.img-$KVER
[ -r "$INITRD" ] || { bad "initrd $INITRD readable"; exit 1; }
echo "e2e-test: guest kernel $KVER"

"$ROOT/tools/package.sh" deb --out "$WORK/pkgs" >"$WORK/package.log" 2>&1 ||
	{ cat "$WORK/package.log"; bad "tools/package.sh deb"; exit 1; }
DEB=$(ls "$WORK"/pkgs/saker_*_amd64.deb)
ok "tools/package.sh deb ($(basename "$DEB"))"

e2e_ensure_root "$E2E_CACHE" "$KVER" || { bad "bookworm root with linux-headers-$KVER"; exit 1; }
ok "bookworm root with rsyslog, adduser, linux-headers-$KVER"
lap "package and root"

# ------------------------------------------------ install into the root ----
mkdir -p "$WORK"/{upper,ovl,merged}
MERGED=$WORK/merged
mount -t overlay overlay -o "lowerdir=$E2E_CACHE/root-$KVER,upperdir=$WORK/upper,workdir=$WORK/ovl" \
	"$MERGED" || { bad "overlay mount"; MERGED=; exit 1; }
chroot_mount "$MERGED"
cp "$DEB" "$MERGED/tmp/"
in_root "$MERGED" dpkg -i "/tmp/$(basename "$DEB")" >"$WORK/install.log" 2>&1
RC=$?
if [ $RC -eq 0 ] && grep -q "Setting up saker" "$WORK/install.log"; then
	ok "dpkg -i $(basename "$DEB") in the root"
else
	bad "dpkg -i $(basename "$DEB") in the root"
	tail -n 30 "$WORK/install.log"
fi
KO=$(ls "$MERGED/lib/modules/$KVER/updates/dkms/"saker.ko* 2>/dev/null | head -n 1)
if [ -n "$KO" ] && [ "$(modinfo -F vermagic "$KO" | cut -d' ' -f1)" = "$KVER" ]; then
	ok "DKMS built saker.ko for $KVER ($(in_root "$MERGED" dkms status saker 2>/dev/null | head -n 1))"
else
	bad "DKMS built saker.ko for $KVER"
	tail -n 30 "$WORK/install.log"
	exit 1
fi
lap "dpkg -i with the DKMS build"

# The guest's init, and a normal system: services may start, no build tree.
install -m 0755 "$ROOT/tests/e2e/guest-init.sh" "$MERGED/sbin/saker-e2e-init"
install -D -m 0644 "$ROOT/tests/e2e/marker-rule.yaml" "$MERGED/usr/share/saker-e2e/marker-rule.yaml"
rm -f "$MERGED/usr/sbin/policy-rc.d" "$MERGED/tmp/$(basename "$DEB")"
rm -rf "$MERGED"/usr/src/linux-headers-* "$MERGED/var/log/syslog"
echo saker-e2e >"$MERGED/etc/hostname"
chroot_umount "$MERGED"

IMG=$WORK/root.ext4
SIZE_MB=$(($(du -sm -x "$MERGED" | cut -f1) + 512))
truncate -s "${SIZE_MB}M" "$IMG"
if mkfs.ext4 -q -F -L saker-e2e -d "$MERGED" "$IMG" >"$WORK/mkfs.log" 2>&1; then
	ok "ext4 image of the root (mkfs.ext4 -d, $SIZE_MB MB)"
else
	cat "$WORK/mkfs.log"
	bad "ext4 image of the root (mkfs.ext4 -d)"
	exit 1
fi
umount "$MERGED" && rm -rf "$WORK/upper" "$WORK/ovl"
MERGED=
lap "image"

# ---------------------------------------------------------------- boot ----
rm -rf "$LAST"
mkdir -p "$LAST"
# Single-threaded TCG for the reason given in tests/vm/lib.sh (vm_boot).
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=single -m 1024 -smp 2 \
	-nographic -no-reboot -kernel "$VM_KERNEL" -initrd "$INITRD" \
	-drive "file=$IMG,format=raw,if=virtio" \
	-append "root=/dev/vda rw console=ttyS0 init=/sbin/saker-e2e-init panic=-1 loglevel=4" \
	-serial "file:$WORK/console.log" -serial "file:$WORK/results.log" -monitor none \
	</dev/null >/dev/null 2>&1
echo "e2e-test: qemu exited with $?"
lap "guest"
tr -d '\r' <"$WORK/console.log" >"$LAST/console.txt"
tr -d '\r' <"$WORK/results.log" >"$LAST/results.txt"
sed -n '/^==SYSLOG==$/,/^==END==$/p' "$LAST/results.txt" | sed '1d;$d' >"$LAST/syslog.txt"

grep '^guest: ' "$LAST/results.txt"
while read -r _ verdict name; do
	case "$verdict" in
	PASS) ok "$name" ;;
	FAIL) bad "$name" ;;
	esac
done < <(grep '^CHECK ' "$LAST/results.txt")
if ! grep -q '^VM-DONE' "$LAST/results.txt"; then
	bad "guest finished (console tail follows)"
	tail -n 40 "$LAST/console.txt"
elif [ "$FAILED" -ne 0 ]; then
	echo "--- saker lines of the guest's syslog (build/e2e-last/syslog.txt)"
	tail -n 40 "$LAST/syslog.txt"
fi

# A failed alert check: the guest captured its reads again; show them and
# replay them through the packaged rules and the marker rule.
if grep -q '^==BEGIN CAPTURE==' "$LAST/results.txt"; then
	vm_extract "$LAST/results.txt" CAPTURE "$LAST/diag.scap"
	echo "--- the test's opens in build/e2e-last/diag.scap (sysdig)"
	sysdig -r "$LAST/diag.scap" -p '%evt.num %proc.name %evt.type %evt.dir fd=%fd.num %fd.typechar %fd.name %evt.args' \
		"fd.name in (/etc/shadow, /etc/saker-e2e-marker) or evt.type=execve" 2>&1 | tail -n 20
	echo "--- replayed: saker -r saker_rules.yaml -r marker-rule.yaml -e diag.scap"
	"${SAKER_BIN:-$ROOT/target/release/saker}" -r "$ROOT/rules/saker_rules.yaml" \
		-r "$ROOT/tests/e2e/marker-rule.yaml" -e "$LAST/diag.scap" 2>&1 | tail -n 20
fi
