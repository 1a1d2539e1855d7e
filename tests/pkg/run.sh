#!/usr/bin/env bash
# Package tests: the .deb in a Debian bookworm root (debootstrap, chroot, an
# overlay over the cached root so every run starts clean), the .rpm by its
# metadata and an install into an empty root.
#
#   tests/pkg/run.sh            (as root; needs debootstrap, dpkg-deb, rpmbuild)
#
# deb: install builds the module with DKMS for the root's 6.1 headers and
# names the headers package of the (header-less) running kernel; installing
# headers of another flavour makes DKMS build for it with no saker command;
# an upgrade keeps an edited configuration and moves the module to the new
# version; remove and purge leave no files and no DKMS entries.
# rpm: file list, config files, scriptlets, dependencies; install, upgrade
# and erase with rpm --root keep an edited configuration.
#
# Closes with `pkg-test: N passed, M failed`; exits non-zero on a failure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${PKG_CACHE:-$ROOT/build/pkg-cache}
# shellcheck source=tests/pkg/root.sh
. "$ROOT/tests/pkg/root.sh"

PASSED=0
FAILED=0
T0=$(date +%s)

ok() {
	PASSED=$((PASSED + 1))
	echo "ok   $*"
}

bad() {
	FAILED=$((FAILED + 1))
	echo "FAIL $*"
}

# check NAME COMMAND...: one test, passing when the command succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$WORK/check.out" 2>&1; then
		ok "$name"
	else
		bad "$name"
		sed 's/^/     | /' "$WORK/check.out" | tail -n 15
	fi
}

finish() {
	[ -n "${FEEDER:-}" ] && kill "$FEEDER" 2>/dev/null
	[ -n "${MERGED:-}" ] && chroot_umount "$MERGED"
	[ -n "${MERGED:-}" ] && umount -l "$MERGED" 2>/dev/null
	rm -rf "$WORK"
	echo "pkg-test: $(($(date +%s) - T0)) s"
	echo "pkg-test: $PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}

if [ "$(id -u)" -ne 0 ]; then
	echo "pkg-test: needs root (debootstrap, chroot, mounts)" >&2
	exit 1
fi
WORK=$(mktemp -d /tmp/saker-pkgtest.XXXXXX)
MERGED=
trap 'finish; exit $?' EXIT
trap 'exit 130' INT TERM

V1=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)
V2=$V1.1
PKGS=$WORK/pkgs
for v in "$V1" "$V2"; do
	"$ROOT/tools/package.sh" deb --version "$v" --out "$PKGS" >/dev/null || { bad "build deb $v"; exit 1; }
	"$ROOT/tools/package.sh" rpm --version "$v" --out "$PKGS" >/dev/null || { bad "build rpm $v"; exit 1; }
done
ok "packages built ($V1, $V2)"

for s in "$ROOT"/packaging/debian/{postinst,prerm,postrm} "$ROOT/dkms/saker-dkms" \
	"$ROOT/packaging/init.d/saker"; do
	check "sh -n $(basename "$s")" sh -n "$s"
done

# ---------------------------------------------------------------- deb ----
ensure_root "$CACHE" || { bad "bookworm root"; exit 1; }
mkdir -p "$WORK"/{upper,ovl,merged}
MERGED=$WORK/merged
mount -t overlay overlay -o "lowerdir=$CACHE/root,upperdir=$WORK/upper,workdir=$WORK/ovl" \
	"$MERGED" || { bad "overlay mount"; MERGED=; exit 1; }
chroot_mount "$MERGED"
cp "$PKGS"/*.deb "$MERGED/tmp/"
R() { in_root "$MERGED" "$@"; }

KVER=$(ls "$MERGED/lib/modules" | head -n 1)
RUNNING=$(uname -r)

# Files of the root outside volatile places, to compare before and after.
snapshot() {
	(cd "$MERGED" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./run -o \
		-path ./tmp -o -path ./var/cache -o -path ./var/log -o -path ./var/lib/dpkg -o \
		-path ./var/lib/apt -o -path ./root \) -prune -o -print | sort)
}
snapshot >"$WORK/before.txt"

dkms_status() { R dkms status 2>/dev/null | grep '^saker' || true; }
has_dkms() { dkms_status | grep -q "$1"; }
no_dkms() { test -z "$(dkms_status)"; }
dkms_moved() {
	local s
	s=$(dkms_status)
	echo "$s"
	echo "$s" | grep -q "saker/$V2, $KVER, x86_64: installed" &&
		echo "$s" | grep -q "saker/$V2, $KVER2, x86_64: installed" &&
		! echo "$s" | grep -q "saker/$V1,"
}

R dpkg -i "/tmp/saker_${V1}_amd64.deb" >"$WORK/install.log" 2>&1
check "dpkg -i saker $V1" grep -q "Setting up saker ($V1)" "$WORK/install.log"
check "install names the headers package of the running kernel" \
	grep -q "install linux-headers-$RUNNING" "$WORK/install.log"
check "dkms built and installed saker/$V1 for $KVER" \
	has_dkms "saker/$V1, $KVER, x86_64: installed"
KO=$(ls "$MERGED/lib/modules/$KVER/updates/dkms/"saker.ko* 2>/dev/null | head -n 1)
check "module installed for $KVER" test -n "$KO"
check "module vermagic is $KVER" sh -c "modinfo -F vermagic '$KO' | grep -q '^$KVER '"
check "saker runs in the root" R saker --version
check "packaged rules validate" R saker -V /etc/saker/saker_rules.yaml /etc/saker/saker_rules.local.yaml
check "packaged configuration loads" R saker --dry-run -c /etc/saker/saker.yaml
R /etc/init.d/saker status >"$WORK/status.log" 2>&1
check "init script status says not running (exit 3)" test $? -eq 3
# The root's running kernel is the host's, with no module: start must fail
# and say why (modprobe), not detach and die silently.
R /etc/init.d/saker start >"$WORK/start.log" 2>&1
check "init script start fails without the module, saying why" \
	sh -c "test $? -ne 0 && grep -q 'modprobe saker' $WORK/start.log && test ! -e $MERGED/run/saker.pid"
check "man page installed" sh -c "zcat $MERGED/usr/share/man/man8/saker.8.gz | grep -q '^.TH SAKER 8'"
conffiles() { R dpkg-query -W -f='${Conffiles}' saker | grep -q "$1"; }
check "conffiles registered" conffiles /etc/saker/saker.yaml

# Another header flavour: DKMS's own hook builds the module, no saker command.
R apt-get install -y -qq --no-download --no-install-recommends "linux-headers-$PKG_FLAVOUR" \
	>"$WORK/headers.log" 2>&1
check "install linux-headers-$PKG_FLAVOUR" test $? -eq 0
KVER2=$(ls "$MERGED/lib/modules" | grep -v "^$KVER\$" | head -n 1)
check "dkms built saker/$V1 for $KVER2 by itself" \
	has_dkms "saker/$V1, $KVER2, x86_64: installed"

# Upgrade with an edited configuration.
sed -i 's/^json_output: false/json_output: true # edited/' "$MERGED/etc/saker/saker.yaml"
R dpkg -i "/tmp/saker_${V2}_amd64.deb" >"$WORK/upgrade.log" 2>&1
check "dpkg -i saker $V2 (upgrade)" grep -q "Setting up saker ($V2)" "$WORK/upgrade.log"
check "upgrade keeps the edited configuration" grep -q '^json_output: true # edited' "$MERGED/etc/saker/saker.yaml"
check "upgrade moves DKMS to $V2 for both kernels" dkms_moved
check "old module source removed" test ! -e "$MERGED/usr/src/saker-$V1"

# An RPM-style system (no /etc/debian_version) is told of kernel-devel.
mv "$MERGED/etc/debian_version" "$MERGED/etc/debian_version.off"
R /usr/lib/saker/saker-dkms install "$V2" >"$WORK/rpmstyle.log" 2>&1
mv "$MERGED/etc/debian_version.off" "$MERGED/etc/debian_version"
check "without debian_version the message names kernel-devel" \
	grep -q "install kernel-devel-$RUNNING" "$WORK/rpmstyle.log"

# A running service (events from a FIFO, as the module cannot load here) is
# stopped by the removal, through invoke-rc.d and the init script.
TRACE=$ROOT/../shared/traces/bencer__example0_nginx.scap
FEEDER=
if [ -r "$TRACE" ]; then
	# Let invoke-rc.d act in this root (the cached root forbids it).
	printf '#!/bin/sh\nexit 0\n' >"$MERGED/usr/sbin/policy-rc.d"
	mkfifo "$MERGED/tmp/events.fifo"
	# The writer keeps the FIFO open after the trace (exec: $! is the sleep).
	sh -c 'cat "$1"; exec sleep 120' sh "$TRACE" >"$MERGED/tmp/events.fifo" 2>/dev/null &
	FEEDER=$!
	R saker --daemon -c /etc/saker/saker.yaml --pidfile /run/saker.pid -e /tmp/events.fifo \
		>"$WORK/daemon.log" 2>&1
	running() {
		for _ in $(seq 100); do
			R /etc/init.d/saker status >/dev/null 2>&1 && return 0
			sleep 0.1
		done
		return 1
	}
	check "service runs in the root (init script status)" running
	SPID=$(cat "$MERGED/run/saker.pid" 2>/dev/null)
else
	echo "skip service stop checks: $TRACE missing"
fi

# Remove, then purge.
R dpkg -r saker >"$WORK/remove.log" 2>&1
check "dpkg -r saker" test $? -eq 0
if [ -n "$FEEDER" ]; then
	check "removal stopped the service" sh -c "cat $WORK/remove.log; ! kill -0 $SPID 2>/dev/null && test ! -e $MERGED/run/saker.pid"
	kill "$FEEDER" 2>/dev/null
	wait "$FEEDER" 2>/dev/null
	FEEDER=
	rm -f "$MERGED/tmp/events.fifo"
	printf '#!/bin/sh\nexit 101\n' >"$MERGED/usr/sbin/policy-rc.d"
	chmod +x "$MERGED/usr/sbin/policy-rc.d"
fi
check "remove leaves no DKMS entry" no_dkms
check "remove leaves no module" sh -c "! ls $MERGED/lib/modules/*/updates/dkms/saker.ko* 2>/dev/null"
check "remove keeps the configuration" test -f "$MERGED/etc/saker/saker.yaml"
R dpkg -P saker >"$WORK/purge.log" 2>&1
check "dpkg -P saker" test $? -eq 0
check "purge removes /etc/saker" test ! -e "$MERGED/etc/saker"
check "no DKMS tree left" test ! -e "$MERGED/var/lib/dkms/saker"
# Compare with the root before: only the headers installed in between (and
# depmod's indexes of header-only module directories) may differ.
snapshot >"$WORK/after.txt"
R dpkg -L "linux-headers-$PKG_FLAVOUR" $(R dpkg-query -W -f='${Depends}' "linux-headers-$PKG_FLAVOUR" |
	tr ',' '\n' | awk '{print $1}') 2>/dev/null | sed 's|^|.|' |
	sed -e 'p' -e 's|^\./lib/|./usr/lib/|' | sort -u >"$WORK/headers.txt"
comm -13 "$WORK/before.txt" "$WORK/after.txt" | grep -vxF -f "$WORK/headers.txt" |
	grep -v -e '^\./lib/modules/[^/]*$' -e '^\./lib/modules/[^/]*/modules\.' \
		-e '^\./usr/lib/modules/[^/]*$' -e '^\./usr/lib/modules/[^/]*/modules\.' >"$WORK/left.txt"
comm -23 "$WORK/before.txt" "$WORK/after.txt" >"$WORK/lost.txt"
check "purge leaves no files behind" sh -c "cat $WORK/left.txt; test ! -s $WORK/left.txt"
check "purge removes nothing that was there before" sh -c "cat $WORK/lost.txt; test ! -s $WORK/lost.txt"

chroot_umount "$MERGED"
umount -l "$MERGED"
MERGED=

# ---------------------------------------------------------------- rpm ----
RPM1=$PKGS/saker-$V1-1.x86_64.rpm
RPM2=$PKGS/saker-$V2-1.x86_64.rpm
check "rpm file list" sh -c "rpm -qpl $RPM1 >$WORK/rpm.l; for f in /usr/bin/saker \
	/usr/src/saker-$V1/dkms.conf /usr/src/saker-$V1/Kbuild /usr/src/saker-$V1/include/uapi/saker_abi.h \
	/usr/lib/saker/saker-dkms /etc/saker/saker.yaml /etc/saker/saker_rules.local.yaml \
	/usr/lib/systemd/system/saker.service /etc/rc.d/init.d/saker /usr/share/man/man8/saker.8.gz; \
	do grep -qx \$f $WORK/rpm.l || { echo missing \$f; exit 1; }; done"
check "rpm config files are noreplace" sh -c "rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' $RPM1 |
	grep -q '^/etc/saker/saker.yaml cn'"
check "rpm requires dkms, make, gcc" sh -c "r=\$(rpm -qp --requires $RPM1); for d in dkms make gcc; do \
	echo \"\$r\" | grep -qx \$d || exit 1; done"
check "rpm scriptlets run saker-dkms" sh -c "s=\$(rpm -qp --scripts $RPM1); \
	echo \"\$s\" | grep -q 'saker-dkms install $V1' && echo \"\$s\" | grep -q 'saker-dkms remove $V1'"
check "rpm dkms.conf autoinstalls" sh -c "rpm2cpio $RPM1 | (cd $WORK && mkdir -p x && cd x && cpio -idm --quiet) && \
	grep -q '^AUTOINSTALL=\"yes\"' $WORK/x/usr/src/saker-$V1/dkms.conf"
RR=$WORK/rpmroot
mkdir -p "$RR"
check "rpm -i into an empty root" rpm --root "$RR" --nodeps --noscripts -i "$RPM1"
echo "# edited" >>"$RR/etc/saker/saker.yaml"
check "rpm -U keeps the edited configuration" sh -c "rpm --root $RR --nodeps --noscripts -U $RPM2 && \
	tail -n 1 $RR/etc/saker/saker.yaml | grep -qx '# edited'"
check "rpm -e saves the edited configuration" sh -c "rpm --root $RR --nodeps --noscripts -e saker && \
	test -f $RR/etc/saker/saker.yaml.rpmsave && test ! -e $RR/usr/bin/saker"
