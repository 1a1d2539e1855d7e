#!/usr/bin/env bash
# Builds the saker packages from a built tree:
#
#   tools/package.sh deb [--version V] [--out DIR]   -> DIR/saker_V_amd64.deb
#   tools/package.sh rpm [--version V] [--out DIR]   -> DIR/saker-V-1.x86_64.rpm
#
# The binary is $SAKER_BIN (default target/release/saker; `make deb`/`make rpm`
# build it first). The kernel module's source goes to /usr/src/saker-V with
# its dkms.conf; configuration and rules are conffiles (deb) and
# %config(noreplace) (rpm). The .deb is made with dpkg-deb, the .rpm with
# rpmbuild (Debian's `rpm` package has it).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KIND=${1:-}
shift || true
VERSION=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)
OUT=$ROOT/build/packages
while [ $# -gt 0 ]; do
	case "$1" in
	--version) VERSION=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*) echo "package.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
case "$KIND" in
deb | rpm) ;;
*) echo "usage: tools/package.sh deb|rpm [--version V] [--out DIR]" >&2; exit 2 ;;
esac
BIN=${SAKER_BIN:-$ROOT/target/release/saker}
[ -x "$BIN" ] || { echo "package.sh: $BIN not built (cargo build --release)" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/saker-pkg.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/stage

# install -D with a mode.
put() {
	install -D -m "$1" "$2" "$STAGE$3"
}

subst() {
	sed -e "s/@VERSION@/$VERSION/g" "$@"
}

# Lays out the files common to both packages under $STAGE; $1 is where
# systemd units go, $2 where init scripts go.
stage_files() {
	local unitdir=$1 initdir=$2
	mkdir -p "$STAGE"
	install -d "$STAGE/usr/bin"
	objcopy --strip-debug "$BIN" "$STAGE/usr/bin/saker"
	chmod 0755 "$STAGE/usr/bin/saker"

	# Module source for DKMS: the driver's build files and sources only.
	local src=/usr/src/saker-$VERSION
	(cd "$ROOT/driver" && find . -path ./tools -prune -o -type f \
		\( -name Kbuild -o -name Makefile -o -name '*.c' -o -name '*.h' \) \
		! -name '*.mod.c' -print) | sort | while read -r f; do
		put 0644 "$ROOT/driver/$f" "$src/${f#./}"
	done
	subst "$ROOT/dkms/dkms.conf.in" >"$WORK/dkms.conf"
	put 0644 "$WORK/dkms.conf" "$src/dkms.conf"
	put 0755 "$ROOT/dkms/saker-dkms" /usr/lib/saker/saker-dkms

	# Configuration and rules.
	put 0644 "$ROOT/packaging/etc/saker.yaml" /etc/saker/saker.yaml
	put 0644 "$ROOT/packaging/etc/saker_rules.local.yaml" /etc/saker/saker_rules.local.yaml
	install -d "$STAGE/etc/saker/rules.d"
	local r
	for r in "$ROOT"/rules/*.yaml; do
		[ -e "$r" ] || continue
		put 0644 "$r" "/etc/saker/$(basename "$r")"
	done

	put 0644 "$ROOT/packaging/systemd/saker.service" "$unitdir/saker.service"
	put 0755 "$ROOT/packaging/init.d/saker" "$initdir/saker"
	install -d "$STAGE/usr/share/man/man8"
	gzip -9n <"$ROOT/packaging/man/saker.8" >"$STAGE/usr/share/man/man8/saker.8.gz"
	chmod 0644 "$STAGE/usr/share/man/man8/saker.8.gz"
}

# The newest glibc symbol version the binary needs.
glibc_min() {
	objdump -T "$STAGE/usr/bin/saker" | grep -o 'GLIBC_[0-9.]*' |
		sed 's/GLIBC_//' | sort -V | tail -n 1
}

build_deb() {
	stage_files /lib/systemd/system /etc/init.d
	put 0644 "$ROOT/packaging/debian/copyright" /usr/share/doc/saker/copyright
	local deb=$STAGE/DEBIAN size libc s
	install -d -m 0755 "$deb"
	size=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
	libc="libc6 (>= $(glibc_min))"
	sed -e "s/@VERSION@/$VERSION/g" -e "s/@ARCH@/amd64/" -e "s/@SIZE@/$size/" \
		-e "s/@LIBC@/$libc/" "$ROOT/packaging/debian/control.in" >"$deb/control"
	for s in postinst prerm postrm; do
		subst "$ROOT/packaging/debian/$s" >"$deb/$s"
		chmod 0755 "$deb/$s"
	done
	# Every file under /etc is a conffile.
	(cd "$STAGE" && find etc -type f | sort | sed 's|^|/|') >"$deb/conffiles"
	(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' |
		sort | xargs md5sum) >"$deb/md5sums"
	chmod 0644 "$deb/control" "$deb/conffiles" "$deb/md5sums"
	local out=$OUT/saker_${VERSION}_amd64.deb
	dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$out" >/dev/null
	echo "$out"
}

build_rpm() {
	stage_files /usr/lib/systemd/system /etc/rc.d/init.d
	local top=$WORK/rpm
	mkdir -p "$top"/{BUILD,RPMS,SOURCES,SPECS,SRPMS}
	subst "$ROOT/packaging/rpm/saker.spec.in" >"$top/SPECS/saker.spec"
	rpmbuild -bb --quiet \
		--define "_topdir $top" \
		--define "_stage $STAGE" \
		--define "_build_id_links none" \
		--define "__os_install_post %{nil}" \
		"$top/SPECS/saker.spec" >"$WORK/rpmbuild.log" 2>&1 ||
		{ cat "$WORK/rpmbuild.log" >&2; exit 1; }
	local rpm
	rpm=$(find "$top/RPMS" -name '*.rpm' | head -n 1)
	cp "$rpm" "$OUT/"
	echo "$OUT/$(basename "$rpm")"
}

case "$KIND" in
deb) build_deb ;;
rpm) build_rpm ;;
esac
