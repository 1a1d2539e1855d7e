#!/usr/bin/env bash
# Installs what building and testing saker needs on Debian bookworm (or a
# derivative): kernel headers and image for the VM tests, QEMU, busybox, the
# reference stack (sysdig) for interop checks, libclang for bindgen.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	exec sudo -E "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
	build-essential bc kmod cpio e2fsprogs \
	linux-headers-amd64 linux-image-amd64 \
	qemu-system-x86 busybox-static debootstrap \
	libclang-dev clang \
	sysdig \
	rpm time \
	python3 >/dev/null

if ! command -v cargo >/dev/null; then
	echo "install-deps: cargo not found; install Rust (rustup) first" >&2
	exit 1
fi
echo "install-deps: done"
