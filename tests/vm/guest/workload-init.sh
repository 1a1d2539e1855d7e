#!/bin/sh
# Guest side of tests/vm/captures.sh, started by the kernel as init= in the
# Debian root. Runs the jobs of /etc/saker-captures.jobs, one a line:
#   NAME DRIVER KIND SIZE
# DRIVER scap: the reference scap.ko and `sysdig -w`; saker: saker.ko and
# `saker capture -s all`. KIND loop: guest/sysloop until the capture has SIZE
# events (`sysdig -n`, scap only); mixed: workload.sh with SIZE rounds while
# the capture runs. Captures are written to /var/tmp/captures, then written
# as a tar stream to the second disk (/dev/vdb) for the host. Progress lines
# "CAP ..." go to the console and the second serial port; powers off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root
RES=/dev/ttyS1
OUT=/var/tmp/captures

say() { echo "CAP $*" | tee -a "$RES"; }

mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -o remount,rw /
hostname saker-captures
ip link set lo up
echo 1 >/proc/sys/kernel/sysrq
stty -F "$RES" raw -echo 2>/dev/null
say "guest $(uname -r), init after $(cut -d' ' -f1 /proc/uptime) s"
rm -rf "$OUT"
mkdir -p "$OUT"

loaded() { grep -q "^$1 " /proc/modules; }
insmod /root/scap.ko 2>/dev/null || say "insmod scap.ko failed"
insmod /root/saker.ko 2>/dev/null || say "insmod saker.ko failed"
# The device nodes appear through devtmpfs.
i=0
while [ "$i" -lt 50 ] && ! { [ -e /dev/scap0 ] && [ -e /dev/saker ]; }; do
	sleep 0.2
	i=$((i + 1))
done
say "modules: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"

# Waits until the capturer $1 has opened its device ($2 a glob of it).
opened() {
	n=0
	while [ "$n" -lt 300 ]; do
		for fd in /proc/"$1"/fd/*; do
			case "$(readlink "$fd" 2>/dev/null)" in
			$2) return 0 ;;
			esac
		done
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.2
		n=$((n + 1))
	done
	return 1
}

# Kills process $1 if it still runs after $2 seconds; sets WD.
watchdog() {
	(
		sleep "$2"
		kill -KILL "$1" 2>/dev/null && echo "CAP watchdog killed $1" | tee -a "$RES"
	) &
	WD=$!
}

# Starts the capture of job $1 with driver $2 (and event limit $3 for scap);
# sets CAP_PID.
start_capture() {
	if [ "$2" = scap ]; then
		if [ -n "${3:-}" ]; then
			sysdig -n "$3" -w "$OUT/$1.scap" </dev/null >"$OUT/$1.log" 2>&1 &
		else
			sysdig -w "$OUT/$1.scap" </dev/null >"$OUT/$1.log" 2>&1 &
		fi
		CAP_PID=$!
		opened "$CAP_PID" '/dev/scap*'
	else
		saker capture -w "$OUT/$1.scap" -s all </dev/null >"$OUT/$1.log" 2>&1 &
		CAP_PID=$!
		opened "$CAP_PID" /dev/saker
	fi
}

while read -r name driver kind size; do
	case "$name" in '' | '#'*) continue ;; esac
	t0=$(date +%s)
	if [ "$kind" = loop ]; then
		start_capture "$name" "$driver" "$size" || { say "$name: capture did not start"; continue; }
		say "$name: capturing, loop running"
		sysloop 100000 </dev/null >/dev/null &
		loop=$!
		# sysdig stops by itself after $size events.
		watchdog "$CAP_PID" 1200
		wait "$CAP_PID"
		rc=$?
		kill "$loop" 2>/dev/null
		wait "$loop" 2>/dev/null
	else
		start_capture "$name" "$driver" || { say "$name: capture did not start"; continue; }
		say "$name: capturing, workload running"
		sleep 1
		workload.sh "$size" </dev/null >"$OUT/$name.workload.log" 2>&1
		say "$name: workload done after $(($(date +%s) - t0)) s"
		sleep 1
		# SIGTERM: a background job of a script ignores SIGINT.
		kill -TERM "$CAP_PID"
		watchdog "$CAP_PID" 300
		wait "$CAP_PID"
		rc=$?
	fi
	kill "$WD" 2>/dev/null
	sync
	say "$name: exit $rc, $(($(date +%s) - t0)) s, $(wc -c <"$OUT/$name.scap") bytes"
	tail -n 3 "$OUT/$name.log" | sed "s/^/CAP $name: /" | tee -a "$RES"
done </etc/saker-captures.jobs

rmmod saker 2>/dev/null
rmmod scap 2>/dev/null
(cd "$OUT" && tar cf /dev/vdb ./*.scap ./*.log) && say "written to /dev/vdb"
sync
say "DONE"
mount -o remount,ro / 2>/dev/null
echo o >/proc/sysrq-trigger
sleep 10
