#!/usr/bin/env bash
# Captures recorded in a Debian bookworm guest under QEMU with both drivers,
# cached under build/vm-captures/ for the rule engine's parity test and the
# replay benchmark:
#
#   tests/vm/captures.sh [-f] SET...      (as root)
#
#   parity  parity/small-scap.scap   the mixed workload (tests/vm/guest/
#                                    workload.sh), one round, with the
#                                    reference scap.ko + `sysdig -w`
#           parity/small-saker.scap  the same with saker.ko + `saker capture
#                                    -s all`
#   bench   bench/loop-scap.scap     guest/sysloop (open/read/close/getppid)
#                                    with scap.ko + `sysdig -n 2400000 -w`
#           bench/mixed-scap.scap    the mixed workload, $CAPTURES_ROUNDS
#                                    rounds (default 8), scap.ko + sysdig -w
#           bench/mixed-saker.scap   the same with saker.ko + saker capture
#
# A set is recorded when one of its files is missing, or always with -f. The
# guest: the end-to-end test's cached bookworm root (tests/e2e/root.sh) under
# a cached layer with python3, libc6-dev and iproute2 (build/vm-captures/
# layer-KVER, delete it to rebuild), the host's sysdig with its libraries,
# scap.ko built from Debian's falcosecurity-scap-dkms (tests/vm/lib.sh,
# vm_build_scap), saker.ko and $SAKER (default target/release/saker); an ext4
# image of that (mkfs.ext4 -d), booted with the host's /boot/vmlinuz and
# initrd under single-threaded TCG, tests/vm/guest/workload-init.sh as
# init=. The guest writes the captures as a tar stream to a second disk. Each
# capture is then read back with `sysdig -r` and its event count printed (and
# kept in COUNTS in the set's directory). Exits non-zero when a capture is
# missing or unreadable.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUTDIR=${CAPTURES_DIR:-$ROOT/build/vm-captures}
PKG_CACHE_DIR=${PKG_CACHE:-$ROOT/build/pkg-cache}
E2E_CACHE=${E2E_CACHE:-$ROOT/build/e2e-cache}
SAKER=${SAKER:-$ROOT/target/release/saker}
ROUNDS=${CAPTURES_ROUNDS:-8}
LOOP_EVENTS=${CAPTURES_LOOP_EVENTS:-2400000}
TIMEOUT=${CAPTURES_TIMEOUT:-1500}
# shellcheck source=tests/pkg/root.sh
. "$ROOT/tests/pkg/root.sh"
# shellcheck source=tests/e2e/root.sh
. "$ROOT/tests/e2e/root.sh"
# shellcheck source=tests/vm/lib.sh
VM_ROOT=$ROOT
. "$ROOT/tests/vm/lib.sh"

die() {
	echo "captures: $*" >&2
	exit 1
}

FORCE=0
SETS=()
for a in "$@"; do
	case "$a" in
	-f) FORCE=1 ;;
	parity | bench) SETS+=("$a") ;;
	*) die "usage: $0 [-f] parity|bench..." ;;
	esac
done
[ ${#SETS[@]} -gt 0 ] || die "usage: $0 [-f] parity|bench..."

# The jobs of a set (NAME DRIVER KIND SIZE, see workload-init.sh).
jobs_of() {
	case "$1" in
	parity) printf '%s\n' "small-scap scap mixed 1" "small-saker saker mixed 1" ;;
	bench) printf '%s\n' "loop-scap scap loop $LOOP_EVENTS" "mixed-scap scap mixed $ROUNDS" \
		"mixed-saker saker mixed $ROUNDS" ;;
	esac
}

# Event count of a capture as sysdig reads it (the last event number).
sysdig_count() {
	sysdig -r "$1" -p '%evt.num' 2>/dev/null | tail -n 1
}

report() {
	local set=$1 name f n
	: >"$OUTDIR/$set/COUNTS.tmp"
	for name in $(jobs_of "$set" | cut -d' ' -f1); do
		f=$OUTDIR/$set/$name.scap
		if [ ! -s "$f" ]; then
			echo "captures: $set/$name.scap is missing"
			return 1
		fi
		n=$(sysdig_count "$f")
		if [ -z "$n" ] || [ "$n" -le 0 ]; then
			echo "captures: sysdig -r cannot read $set/$name.scap"
			return 1
		fi
		printf '%s %s events %s bytes\n' "$set/$name.scap" "$n" "$(stat -c %s "$f")" |
			tee -a "$OUTDIR/$set/COUNTS.tmp"
	done
	mv "$OUTDIR/$set/COUNTS.tmp" "$OUTDIR/$set/COUNTS"
}

TODO=()
for set in "${SETS[@]}"; do
	missing=$FORCE
	for name in $(jobs_of "$set" | cut -d' ' -f1); do
		[ -s "$OUTDIR/$set/$name.scap" ] || missing=1
	done
	if [ "$missing" -eq 1 ]; then
		TODO+=("$set")
	elif [ -s "$OUTDIR/$set/COUNTS" ]; then
		sed 's/^/captures: cached /' "$OUTDIR/$set/COUNTS"
	else
		report "$set" || exit 1
	fi
done
[ ${#TODO[@]} -gt 0 ] || exit 0

[ "$(id -u)" -eq 0 ] || die "needs root (chroot, mounts)"
for t in debootstrap qemu-system-x86_64 mkfs.ext4 sysdig tar timeout gcc; do
	command -v "$t" >/dev/null 2>&1 || die "missing $t (tools/install-deps.sh)"
done
[ -x "$SAKER" ] || die "$SAKER is missing (make agent)"

WORK=$(mktemp -d /tmp/saker-captures.XXXXXX)
MERGED=
LAYER_TMP=
cleanup() {
	if [ -n "$MERGED" ]; then
		chroot_umount "$MERGED"
		umount -l "$MERGED" 2>/dev/null
	fi
	[ -n "$LAYER_TMP" ] && rm -rf "$LAYER_TMP"
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

vm_find_kernel
KVER=$VM_KVER
INITRD=/boot/initrd.img-$KVER
[ -r "$INITRD" ] || die "initrd $INITRD is not readable"
vm_build_module
cp "$VM_MODULE" "$WORK/saker.ko"
vm_build_scap "$WORK" || die "no reference driver"
gcc -O2 -Wall -static -o "$WORK/sysloop" "$VM_DIR/guest/sysloop.c" || die "building sysloop failed"

e2e_ensure_root "$E2E_CACHE" "$KVER" || die "no bookworm root (tests/e2e/root.sh)"
BASE=$E2E_CACHE/root-$KVER

# The cached layer over the e2e root: the mixed workload's packages.
LAYER=$OUTDIR/layer-$KVER
if [ ! -d "$LAYER" ]; then
	echo "captures: installing the workload's packages into $LAYER (once)"
	mkdir -p "$OUTDIR"
	LAYER_TMP=$OUTDIR/layer.tmp
	rm -rf "$LAYER_TMP"
	mkdir -p "$LAYER_TMP"/{upper,ovl,merged}
	mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$LAYER_TMP/upper,workdir=$LAYER_TMP/ovl" \
		"$LAYER_TMP/merged" || die "overlay mount"
	MERGED=$LAYER_TMP/merged
	chroot_mount "$MERGED"
	(
		set -e
		in_root "$MERGED" apt-get update -qq
		in_root "$MERGED" apt-get install -y -qq --no-install-recommends \
			python3 libc6-dev gcc make tar findutils procps util-linux iproute2
		in_root "$MERGED" apt-get clean
		rm -rf "$MERGED"/var/lib/apt/lists/*
	) >"$WORK/layer.log" 2>&1
	rc=$?
	chroot_umount "$MERGED"
	umount "$MERGED"
	MERGED=
	if [ $rc -ne 0 ]; then
		tail -n 20 "$WORK/layer.log"
		die "apt-get install in the layer failed"
	fi
	mv "$LAYER_TMP/upper" "$LAYER"
	rm -rf "$LAYER_TMP"
	LAYER_TMP=
fi

# This run's root: the layer and the e2e root under a scratch upper.
mkdir -p "$WORK"/{upper,ovl,merged}
mount -t overlay overlay -o "lowerdir=$LAYER:$BASE,upperdir=$WORK/upper,workdir=$WORK/ovl" \
	"$WORK/merged" || die "overlay mount"
MERGED=$WORK/merged
vm_copy_program "$MERGED" "$(command -v sysdig)" /usr/bin/sysdig
vm_copy_program "$MERGED" "$SAKER" /usr/bin/saker
install -m 0755 "$WORK/sysloop" "$MERGED/usr/local/bin/sysloop"
install -m 0755 "$VM_DIR/guest/workload.sh" "$MERGED/usr/local/bin/workload.sh"
install -m 0755 "$VM_DIR/guest/workload-init.sh" "$MERGED/sbin/saker-captures-init"
install -m 0644 "$WORK/saker.ko" "$VM_SCAP_KO" "$MERGED/root/"
for set in "${TODO[@]}"; do jobs_of "$set"; done >"$WORK/jobs"
install -m 0644 "$WORK/jobs" "$MERGED/etc/saker-captures.jobs"
rm -rf "$MERGED"/usr/src/linux-headers-* "$MERGED"/usr/src/linux-kbuild-*
echo saker-captures >"$MERGED/etc/hostname"

IMG=$WORK/root.ext4
SIZE_MB=$(($(du -sm -x "$MERGED" | cut -f1) + 1536))
truncate -s "${SIZE_MB}M" "$IMG"
mkfs.ext4 -q -F -L saker-captures -d "$MERGED" "$IMG" >"$WORK/mkfs.log" 2>&1 ||
	{ cat "$WORK/mkfs.log"; die "mkfs.ext4 -d failed"; }
umount "$MERGED"
MERGED=
rm -rf "$WORK/upper" "$WORK/ovl"
OUTIMG=$WORK/out.img
truncate -s 1536M "$OUTIMG"

echo "captures: booting the guest for: $(cut -d' ' -f1 "$WORK/jobs" | tr '\n' ' ')"
T0=$(date +%s)
# Single-threaded TCG for the reason given in tests/vm/lib.sh (vm_boot).
timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg,thread=single -m 2048 -smp 2 \
	-nographic -no-reboot -kernel "$VM_KERNEL" -initrd "$INITRD" \
	-drive "file=$IMG,format=raw,if=virtio" -drive "file=$OUTIMG,format=raw,if=virtio" \
	-append "root=/dev/vda rw console=ttyS0 init=/sbin/saker-captures-init panic=-1 loglevel=4" \
	-serial "file:$WORK/console.log" -serial "file:$WORK/results.log" -monitor none \
	</dev/null >/dev/null 2>&1
echo "captures: qemu exited with $? after $(($(date +%s) - T0)) s"
mkdir -p "$OUTDIR"
tr -d '\r' <"$WORK/console.log" >"$OUTDIR/console.txt"
tr -d '\r' <"$WORK/results.log" | tee "$OUTDIR/results.txt"
grep -q '^CAP DONE' "$OUTDIR/results.txt" || { tail -n 30 "$OUTDIR/console.txt"; die "the guest did not finish"; }

mkdir -p "$WORK/out"
tar xf "$OUTIMG" -C "$WORK/out" || die "reading the captures from the second disk failed"
status=0
for set in "${TODO[@]}"; do
	mkdir -p "$OUTDIR/$set"
	for name in $(jobs_of "$set" | cut -d' ' -f1); do
		rm -f "$OUTDIR/$set/$name".*
		[ -f "$WORK/out/$name.scap" ] && mv "$WORK/out/$name.scap" "$OUTDIR/$set/"
		mv "$WORK/out/$name".*.log "$WORK/out/$name.log" "$OUTDIR/$set/" 2>/dev/null
	done
	report "$set" || status=1
done
exit $status
