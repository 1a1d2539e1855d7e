# Builds and caches the Debian bookworm root the end-to-end test boots:
# the package tests' root (tests/pkg/root.sh: debootstrap minbase, dkms)
# copied, then rsyslog and adduser, and the headers of exactly the guest
# kernel ($E2E_KVER, the host's /boot/vmlinuz-*) so that installing the
# saker .deb makes DKMS build the module for it. The headers come from
# bookworm-security/-updates; when that archive no longer has this ABI the
# host's own /usr/src headers (and kbuild) are copied in instead. The root's
# other header flavours are purged, so DKMS builds once.
# Sourced by tests/e2e/run.sh after tests/pkg/root.sh.
#
# The cache is $E2E_CACHE/root-$E2E_KVER (default build/e2e-cache); delete
# it to rebuild.

# Copies the host's headers of kernel $2 (and linux-kbuild) into root $1.
e2e_copy_host_headers() {
	local r=$1 k=$2 flavour common kb kbuild
	flavour=${k#*-*-}
	common=/usr/src/linux-headers-${k%-"$flavour"}-common
	[ -d "/usr/src/linux-headers-$k" ] && [ -d "$common" ] || return 1
	kb=$(readlink -f "/usr/src/linux-headers-$k/scripts") || return 1
	kbuild=${kb%/scripts}
	mkdir -p "$r/usr/src" "$r$kbuild" "$r/lib/modules/$k"
	cp -a "/usr/src/linux-headers-$k" "$common" "$r/usr/src/" || return 1
	cp -a "$kbuild/." "$r$kbuild/" || return 1
	[ -e /usr/src/linux-kbuild-6.1 ] && cp -a /usr/src/linux-kbuild-6.1 "$r/usr/src/"
	ln -sfn "/usr/src/linux-headers-$k" "$r/lib/modules/$k/build"
}

e2e_build_root() {
	# First: tests/pkg/root.sh's functions set globals of these names.
	ensure_root "$PKG_CACHE_DIR" || return 1
	local cache=$1 k=$2 tmp=$1/root.tmp rc olds
	rm -rf "$tmp"
	mkdir -p "$cache"
	echo "e2e-test: creating the bookworm root for $k in $cache (once)"
	cp -a "$PKG_CACHE_DIR/root" "$tmp" || return 1
	cat >"$tmp/etc/apt/sources.list" <<-EOF
		deb $PKG_MIRROR $PKG_SUITE main
		deb $PKG_MIRROR $PKG_SUITE-updates main
		deb ${PKG_SECURITY_MIRROR:-http://deb.debian.org/debian-security} $PKG_SUITE-security main
	EOF
	chroot_mount "$tmp"
	(
		set -e
		in_root "$tmp" apt-get update -qq
		in_root "$tmp" apt-get install -y -qq --no-install-recommends rsyslog adduser kmod
		# Only the guest kernel's headers: DKMS then builds exactly once.
		olds=$(in_root "$tmp" dpkg-query -W -f='${Package}\n' 'linux-headers-*' | grep -v "^linux-headers-$k\$" || true)
		if [ -n "$olds" ]; then
			# shellcheck disable=SC2086
			in_root "$tmp" apt-get purge -y -qq $olds
		fi
		if ! in_root "$tmp" apt-get install -y -qq --no-install-recommends "linux-headers-$k"; then
			echo "e2e-test: linux-headers-$k not in the archive; copying the host's"
			e2e_copy_host_headers "$tmp" "$k"
		fi
		in_root "$tmp" apt-get clean
		test -e "$tmp/lib/modules/$k/build/Makefile"
	) >"$cache/build.log" 2>&1
	rc=$?
	chroot_umount "$tmp"
	if [ $rc -ne 0 ]; then
		tail -20 "$cache/build.log"
		return 1
	fi
	mv "$tmp" "$cache/root-$k"
}

# Makes sure the cached root for kernel $2 exists under $1.
e2e_ensure_root() {
	[ -d "$1/root-$2" ] || e2e_build_root "$1" "$2"
}
