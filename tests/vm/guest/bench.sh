#!/bin/sh
# The capture overhead benchmark, run inside the VM by /init. The workload is
# sysloop (open/read/close/getppid); it runs with no module, with saker.ko and
# `saker capture` taking every syscall, with saker.ko and the saker service
# running the default rules (the module captures only what they and state
# tracking need), and with the reference scap.ko and `sysdig -w` when present.
# "hooks-only" has the tracepoints attached but nothing of interest (ringcheck
# asks for one unused syscall number): the floor any tracepoint-based capture
# pays. "svc-set" has ringcheck take what the service takes of this loop,
# as the service takes it (openat's exit and close's enter events, the
# latter written as close returns): the service row minus the rule engine. "cpu1-busy" has no module and a CPU-bound process that makes no
# system call on the consumers' CPU: what a busy second vCPU costs the loop
# on this host by itself (the service's consumer keeps its CPU busy).
# "none-again", the loop with no module once more at the end of each round,
# is the control: its ratio to "none" is what the host's noise alone makes
# of two runs of the same thing. Rounds of 8 s runs, four unless
# /bench-rounds says (the host's noise shows in single rounds, and in short
# runs). Prints "BENCH name rate drops mean p99" (rate: sysloop's 90th
# percentile of 100 ms windows; mean: over the whole run; p99: the 99th
# percentile) and "BENCH-INFO ...".
#
# The loop is pinned to CPU 0 and every consumer to CPU 1, as an agent on
# a machine with a CPU to spare would run: the guest's scheduler never puts
# the consumer on the loop's CPU in one run and not in the next.
SECS=8

# Where the loop and the consumers run.
LOOP_CPU="taskset -c 0"
CONSUMER_CPU="taskset -c 1"

# Sum of the drop columns of the `saker capture` summary (the faulted column counts
# events stored with a parameter left empty, not lost ones).
capture_drops() {
	awk '$1 ~ /^[0-9]+$/ && NF == 6 { d += $3 + $5 + $6 } END { print d + 0 }' "$1"
}

# cpu_ticks PID: user + system clock ticks the process has used so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# timed_loop NAME PID: sysloop's output in $rate, and a BENCH-CPU line for
# row NAME with the share of one CPU that process PID (the consumer) used
# meanwhile, in percent.
timed_loop() {
	t0=$(cpu_ticks "$2")
	rate=$($LOOP_CPU sysloop $SECS)
	t1=$(cpu_ticks "$2")
	# /proc counts in USER_HZ ticks, 100 per second on x86.
	echo "BENCH-CPU $1 $(((t1 - t0) * 100 / (SECS * 100)))"
}

# report NAME DROPS: the BENCH line of the sysloop output in $rate
# ("p90 mean p99").
report() {
	# shellcheck disable=SC2086 # $rate is three numbers
	set -- "$1" "$2" $rate
	echo "BENCH $1 $3 $2 $4 $5"
}

# ringcheck_row NAME INTEREST [-l]: the loop with ringcheck taking INTEREST
# (with -l, the enter events written as their calls return).
ringcheck_row() {
	# shellcheck disable=SC2086 # $3 is an optional flag
	$CONSUMER_CPU ringcheck -i "$2" ${3:-} -q -t $((SECS + 3)) >/tmp/rc.txt 2>&1 &
	rc=$!
	sleep 2
	timed_loop "$1" $rc
	wait
	report "$1" 0
}

round() {
	rate=$($LOOP_CPU sysloop $SECS)
	report none 0

	$CONSUMER_CPU sh -c 'while :; do :; done' &
	spin=$!
	timed_loop cpu1-busy $spin
	kill $spin
	wait
	report cpu1-busy 0

	# Tracepoints are attached only while the guest is idle (bench.sh).
	insmod /saker.ko
	ringcheck_row hooks-only 335

	$CONSUMER_CPU saker capture -w /dev/null -s all -M $((SECS + 3)) 2>/tmp/cap.txt &
	cap=$!
	sleep 2
	timed_loop saker-all $cap
	wait
	report saker-all "$(capture_drops /tmp/cap.txt)"

	$CONSUMER_CPU saker --foreground -c /bench.yaml -r /saker_rules.yaml >/tmp/svc.txt 2>&1 &
	svc=$!
	sleep 3
	timed_loop saker-rules $svc
	kill -TERM $svc
	wait $svc
	drops=$(grep -c -i 'drop' /tmp/svc.txt)
	grep -i 'drop' /tmp/svc.txt | sed 's/^/BENCH-INFO saker-rules: /'
	report saker-rules "$drops"

	# What the service's interest set costs this loop with a consumer that
	# only checks records: openat's exit and close's enter events, the
	# latter written as close returns, as the service has them.
	ringcheck_row svc-set '257<,3>' -l
	rmmod saker

	if [ -f /scap.ko ] && [ -x /usr/bin/sysdig ]; then
		insmod /scap.ko
		$CONSUMER_CPU sysdig -w /dev/null >/tmp/sd.txt 2>&1 &
		sd=$!
		sleep 3
		timed_loop scap+sysdig $sd
		kill -INT $sd
		wait $sd
		report scap+sysdig -
		rmmod scap
	fi

	rate=$($LOOP_CPU sysloop $SECS)
	report none-again 0
}

echo "root:x:0:0:root:/root:/bin/sh" >/etc/passwd
echo "BENCH-INFO clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
ROUNDS=$(cat /bench-rounds 2>/dev/null || echo 4)
for _ in $(seq "$ROUNDS"); do
	round
done
