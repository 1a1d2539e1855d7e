# SPDX-License-Identifier: GPL-2.0
# Shared helpers of the VM harness (sourced by run.sh and bench.sh): find the
# guest kernel, build saker.ko and the guest tools for it, pack a busybox
# initramfs and boot it under QEMU (TCG), collecting the console and a second
# serial port that carries results.

VM_ROOT=${VM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
VM_DIR="$VM_ROOT/tests/vm"
# vCPUs of the guests vm_boot starts.
VM_CPUS=2

vm_die() {
	echo "vm: $*" >&2
	exit 2
}

# Everything the harness needs on the host; tools/install-deps.sh installs it.
vm_require_tools() {
	for t in qemu-system-x86_64 gcc make cpio gzip base64 modinfo ldd; do
		command -v "$t" >/dev/null 2>&1 ||
			vm_die "missing '$t' (run tools/install-deps.sh: qemu-system-x86, busybox-static, linux-image-amd64, linux-headers-amd64)"
	done
	VM_BUSYBOX=
	for b in /bin/busybox /usr/bin/busybox; do
		if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then
			VM_BUSYBOX=$b
			break
		fi
	done
	[ -n "$VM_BUSYBOX" ] || vm_die "no static busybox found (install busybox-static)"
}

# The newest /boot/vmlinuz-*-amd64 that has matching headers installed.
vm_find_kernel() {
	VM_KVER=
	for k in $(ls /boot/vmlinuz-*-amd64 2>/dev/null | sort -V -r); do
		v=${k#/boot/vmlinuz-}
		if [ -d "/usr/src/linux-headers-$v" ] || [ -d "/lib/modules/$v/build" ]; then
			VM_KVER=$v
			break
		fi
	done
	[ -n "$VM_KVER" ] || vm_die "no /boot/vmlinuz-*-amd64 with matching headers (install linux-image-amd64 and linux-headers-amd64)"
	[ -r "/boot/vmlinuz-$VM_KVER" ] || vm_die "/boot/vmlinuz-$VM_KVER is not readable"
	VM_KERNEL=/boot/vmlinuz-$VM_KVER
	VM_KDIR=/usr/src/linux-headers-$VM_KVER
	[ -d "$VM_KDIR" ] || VM_KDIR=/lib/modules/$VM_KVER/build
}

# saker.ko for the guest kernel (rebuilt unless driver/saker.ko matches it).
# DRIVER_DIR=dir: the module of another copy of driver/ (to compare).
vm_build_module() {
	drv_dir=${DRIVER_DIR:-$VM_ROOT/driver}
	ko="$drv_dir/saker.ko"
	if [ ! -f "$ko" ] || [ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" != "$VM_KVER" ] ||
		[ -n "$(find "$drv_dir" -name '*.[ch]' -newer "$ko" | head -1)" ]; then
		make -s -C "$drv_dir" KDIR="$VM_KDIR" >/dev/null ||
			vm_die "building saker.ko in $drv_dir against $VM_KDIR failed"
	fi
	[ "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" = "$VM_KVER" ] ||
		vm_die "$ko is not built for $VM_KVER"
	VM_MODULE=$ko
}

# Static guest tools from tests/vm/guest/*.c.
vm_build_tools() {
	mkdir -p "$1"
	for src in "$VM_DIR"/guest/*.c; do
		name=$(basename "$src" .c)
		gcc -O2 -Wall -Wextra -static -I"$VM_ROOT/driver/include/uapi" \
			-I"$VM_ROOT/driver" -o "$1/$name" "$src" ||
			vm_die "building guest tool $name failed (is libc6-dev installed?)"
	done
}

# Copy a dynamically linked program and the libraries ldd names into a root.
vm_copy_program() {
	root=$1
	prog=$2
	dest=$3
	mkdir -p "$root$(dirname "$dest")"
	cp "$prog" "$root$dest"
	for lib in $(ldd "$prog" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# vm_build_initramfs OUT.gz SCRIPT [AGENT]: busybox, saker.ko, guest tools,
# the test script (run by /init) and optionally the agent binary.
vm_build_initramfs() {
	out=$1
	script=$2
	agent=${3:-}
	root=$(mktemp -d)
	mkdir -p "$root/bin" "$root/sbin" "$root/etc" "$root/proc" "$root/sys" \
		"$root/dev" "$root/tmp" "$root/root" "$root/usr/bin" "$root/home"
	cp "$VM_BUSYBOX" "$root/bin/busybox"
	cp "$VM_MODULE" "$root/saker.ko"
	vm_build_tools "$root/usr/bin"
	cp "$script" "$root/test.sh"
	cp "$VM_DIR/guest/init" "$root/init"
	chmod 755 "$root/init" "$root/test.sh"
	if [ -n "$agent" ]; then
		vm_copy_program "$root" "$agent" /usr/bin/saker
	fi
	# VM_EXTRA: more files; *.ko go to /, SRC=DEST copies a plain file to
	# DEST, programs (with their libraries) go to /usr/bin.
	for f in ${VM_EXTRA:-}; do
		case "$f" in
		*.ko) cp "$f" "$root/" ;;
		*=*) cp "${f%%=*}" "$root${f#*=}" ;;
		*) vm_copy_program "$root" "$f" "/usr/bin/$(basename "$f")" ;;
		esac
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
	printf 'root:x:0:\n' >"$root/etc/group"
	printf 'root::19000:0:99999:7:::\n' >"$root/etc/shadow"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out" ||
		vm_die "packing the initramfs failed"
	rm -rf "$root"
}

# vm_boot INITRD CONSOLE_LOG RESULT_FILE TIMEOUT_SECONDS
# Single-threaded TCG: with one host thread per vCPU, QEMU 7.2 can keep
# executing a stale translation of a kernel text_poke() site (the int3 of a
# static key being flipped when tracepoints are registered under load), and
# both vCPUs then spin forever in syscall_trace_enter (soft lockups).
# VM_ACCEL overrides the accelerator, VM_APPEND adds kernel parameters
# (tests/vm/bench.sh uses both). VM_PIN_VCPUS=1, with multi-threaded TCG on
# a host of at least two CPUs, pins vCPU N's thread to host CPU N
# (vm_pin_vcpus).
vm_boot() {
	timeout "$4" qemu-system-x86_64 -name saker-vm,debug-threads=on \
		-accel "${VM_ACCEL:-tcg,thread=single}" -m 1024 -smp "$VM_CPUS" -nographic \
		-no-reboot -kernel "$VM_KERNEL" -initrd "$1" \
		-append "console=ttyS0 panic=-1 loglevel=5 rdinit=/init ${VM_APPEND:-}" \
		-serial "file:$2" -serial "file:$3" -monitor none \
		</dev/null >/dev/null 2>&1 &
	vm_pid=$!
	if [ "${VM_PIN_VCPUS:-0}" = 1 ]; then
		vm_pin_vcpus "$vm_pid"
	fi
	wait "$vm_pid"
}

# vm_pin_vcpus PID: once QEMU (the child of PID, timeout) has started its vCPU
# threads ("CPU N/TCG", named by debug-threads=on), pins each to host CPU N,
# so the host's scheduler neither moves a vCPU between CPUs nor puts both on
# one while the other CPU runs something else: each vCPU then keeps a CPU of
# its own, as on hardware. Says so when it cannot.
vm_pin_vcpus() {
	ncpu=$(nproc)
	for _ in $(seq 50); do
		qpid=$(awk -v p="$1" '$4 == p { print $1; exit }' /proc/[0-9]*/stat 2>/dev/null)
		pinned=0
		for t in /proc/${qpid:-none}/task/*; do
			c=$(cat "$t/comm" 2>/dev/null) || continue
			case "$c" in
			"CPU "*/TCG)
				n=${c#CPU }
				n=${n%/TCG}
				[ "$n" -lt "$ncpu" ] || continue
				taskset -pc "$n" "${t##*/}" >/dev/null && pinned=$((pinned + 1))
				;;
			esac
		done
		if [ "$pinned" -ge "$VM_CPUS" ]; then
			echo "vm: vCPU threads pinned to host CPUs 0-$((pinned - 1))"
			return 0
		fi
		sleep 0.1
	done
	echo "vm: vCPU threads not pinned (host CPUs: $ncpu)" >&2
	return 1
}

# Extract the base64 section NAME of a result file into OUT.
vm_extract() {
	sed -n "/^==BEGIN $2==/,/^==END $2==/p" "$1" | sed '1d;$d' | tr -d '\r' |
		base64 -d >"$3" 2>/dev/null
}

# vm_build_scap OUTDIR: the reference driver scap.ko for the guest kernel in
# OUTDIR, from Debian's falcosecurity-scap-dkms package unpacked (never
# installed) under build/scap-dkms, or from $SCAP_SRC. Sets VM_SCAP_KO;
# returns non-zero (and says why) when it cannot be had.
vm_build_scap() {
	VM_SCAP_KO=
	src=${SCAP_SRC:-}
	if [ -z "$src" ]; then
		cache="$VM_ROOT/build/scap-dkms"
		if [ ! -d "$cache/usr/src" ]; then
			mkdir -p "$cache"
			(cd "$cache" && apt-get download falcosecurity-scap-dkms >/dev/null 2>&1 &&
				dpkg -x falcosecurity-scap-dkms_*.deb .) || {
				echo "vm: cannot fetch falcosecurity-scap-dkms" >&2
				return 1
			}
		fi
		src=$(ls -d "$cache"/usr/src/scap-* 2>/dev/null | tail -1)
	fi
	[ -n "$src" ] && [ -f "$src/Makefile" ] || {
		echo "vm: no reference driver source" >&2
		return 1
	}
	rm -rf "$1/scap"
	mkdir -p "$1"
	cp -r "$src" "$1/scap"
	make -s -C "$1/scap" KERNELDIR="$VM_KDIR" >"$1/scap.log" 2>&1 || {
		echo "vm: building the reference scap.ko failed" >&2
		tail -5 "$1/scap.log" >&2
		return 1
	}
	VM_SCAP_KO=$1/scap/scap.ko
}

# vm_reference_extra DIR WHO: the reference stack for a guest, as VM_EXTRA
# entries in VM_REFERENCE: scap.ko (vm_build_scap DIR) and sysdig; empty,
# after WHO says why, when either cannot be had.
vm_reference_extra() {
	VM_REFERENCE=
	if ! command -v sysdig >/dev/null 2>&1; then
		echo "$2: no sysdig; the reference scap.ko + sysdig is skipped"
	elif vm_build_scap "$1"; then
		VM_REFERENCE="$VM_SCAP_KO $(command -v sysdig)"
	else
		echo "$2: the reference scap.ko + sysdig is skipped"
	fi
}
