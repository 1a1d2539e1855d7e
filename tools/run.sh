#!/bin/sh
# make run: loads driver/saker.ko unless the module is already there, then
# runs the saker service in the foreground with the default rules: alerts on
# standard output, its log on standard error, until Ctrl-C.
set -u
cd "$(dirname "$0")/.." || exit 1

if [ "$(id -u)" -ne 0 ]; then
	echo "make run: run as root (it loads a kernel module and watches every process)" >&2
	exit 1
fi
if [ ! -e /dev/saker ]; then
	if ! err=$(insmod driver/saker.ko 2>&1); then
		cat >&2 <<MSG
make run: this kernel refuses to load saker.ko: ${err:-insmod failed}
  module built for: $(modinfo -F vermagic driver/saker.ko 2>/dev/null | cut -d' ' -f1)
  running kernel:   $(uname -r)
If the versions differ, install linux-headers-$(uname -r) and run make again.
Where modules cannot be loaded at all (containers, locked-down hosts), see saker
work in a VM instead: 'make e2e-test' boots Debian's 6.1 kernel under QEMU,
installs the package and raises the 2016 alerts (adduser, /etc/shadow);
'make vm-test' captures and checks events there.
MSG
		exit 1
	fi
	echo "make run: loaded driver/saker.ko" >&2
fi
exec target/release/saker --foreground -c packaging/etc/saker.yaml \
	-r rules/saker_rules.yaml \
	-o syslog_output.enabled=false -o log_syslog=false
