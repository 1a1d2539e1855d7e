# Builds and caches the Debian bookworm root the package tests run in:
# debootstrap (minbase), then dkms and the amd64 6.1 kernel headers, and the
# .debs of a second header flavour downloaded ahead (so the test installs it
# from the cache). Sourced by tests/pkg/run.sh.
#
# The cache is $PKG_CACHE/root (default build/pkg-cache); delete it to rebuild.

PKG_MIRROR=${PKG_MIRROR:-http://deb.debian.org/debian}
PKG_SUITE=${PKG_SUITE:-bookworm}
# The second flavour: cloud, or rt where cloud is not to be had.
PKG_FLAVOUR=${PKG_FLAVOUR:-cloud-amd64}

# Mounts what package scripts need inside root $1.
chroot_mount() {
	mount -t proc proc "$1/proc"
	mount --bind /dev "$1/dev"
	mount -t tmpfs tmpfs "$1/run"
}

chroot_umount() {
	for m in run dev proc; do
		umount -l "$1/$m" 2>/dev/null || true
	done
}

# Runs a command in root $1 with a clean environment.
in_root() {
	r=$1
	shift
	chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 HOME=/root "$@"
}

build_root() {
	cache=$1
	tmp=$cache/root.tmp
	rm -rf "$tmp"
	mkdir -p "$cache"
	echo "pkg-test: creating the bookworm root in $cache (once)"
	debootstrap --variant=minbase "$PKG_SUITE" "$tmp" "$PKG_MIRROR" >"$cache/debootstrap.log" 2>&1 ||
		{ tail -20 "$cache/debootstrap.log"; return 1; }
	# Never start services from package scripts in the root.
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod +x "$tmp/usr/sbin/policy-rc.d"
	chroot_mount "$tmp"
	(
		set -e
		in_root "$tmp" apt-get update -qq
		in_root "$tmp" apt-get install -y -qq --no-install-recommends \
			dkms linux-headers-amd64 >"$cache/apt.log" 2>&1
		in_root "$tmp" apt-get install -y -qq --no-install-recommends --download-only \
			"linux-headers-$PKG_FLAVOUR" >>"$cache/apt.log" 2>&1
	)
	rc=$?
	chroot_umount "$tmp"
	if [ $rc -ne 0 ]; then
		tail -20 "$cache/apt.log"
		return 1
	fi
	mv "$tmp" "$cache/root"
}

# Makes sure the cached root exists.
ensure_root() {
	[ -d "$1/root" ] || build_root "$1"
}
