#!/bin/sh
# The module test run inside the VM by /init. Prints one line per check:
#   CHECK PASS name: detail  |  CHECK FAIL name: detail
# and writes the capture (if the agent is present) to /dev/ttyS1 in base64.
RESULTS=/dev/ttyS1
MOD=/saker.ko

pass() { echo "CHECK PASS $1: $2"; }
fail() { echo "CHECK FAIL $1: $2"; }
check() { name=$1; detail=$2; shift 2; if "$@"; then pass "$name" "$detail"; else fail "$name" "$detail"; fi; }

# Oops-like kernel messages since the last mark.
BAD='BUG:|WARNING:|Oops|Call Trace|KASAN|UBSAN|general protection|list_add corruption|list_del corruption|refcount_t:|soft lockup|hung_task|rcu.*stall|Kernel panic'
dmesg_clean() {
	if dmesg | grep -E "$BAD" >/tmp/bad.txt; then
		head -20 /tmp/bad.txt
		return 1
	fi
	return 0
}

# A process storm: forks, execs and file/proc syscalls until /tmp/stop exists.
storm() {
	while [ ! -e /tmp/stop ]; do
		/bin/true
		cat /proc/self/stat >/dev/null
		ls /proc >/dev/null 2>&1
		echo x >/tmp/storm.$$
	done
}

# 1. Load and unload without a consumer.
ok=0
i=0
while [ $i -lt 20 ]; do
	insmod $MOD && [ -c /dev/saker ] && rmmod saker && ok=$((ok + 1))
	i=$((i + 1))
done
check load-unload "$ok/20 cycles without a consumer" [ $ok -eq 20 ]

# 2. The ABI test: records valid; execve args, opened paths, the loopback
#    connection and procexit present.
scenario() {
	/bin/echo saker-distinctive-arg-4242 >/dev/null
	echo hello >/tmp/saker-test-file
	nc -l -p 7777 >/tmp/nc.out &
	ncpid=$!
	sleep 0.5
	echo ping-over-loopback | nc -w 2 127.0.0.1 7777
	wait $ncpid
	if command -v adduser >/dev/null 2>&1; then
		adduser -D wibble
	else
		sh -c "echo 'wibble$1:x:100$1:100$1::/home/wibble:/bin/sh' >>/etc/passwd"
	fi
}
insmod $MOD
(sleep 1; scenario) &
ringcheck -t 6 -w /tmp/rc.scap -f 293:saker-distinctive-arg-4242 -f 307:/tmp/saker-test-file \
	-f 23: -f 247: -f 9:ping-over-loopback -f 307:/etc/passwd -f 186: >/tmp/rc.txt 2>&1
rc=$?
wait
grep -v 'type ' /tmp/rc.txt
check ringcheck-records "$(grep records /tmp/rc.txt)" [ $rc -eq 0 ]
check ringcheck-execve "execve exit carries the distinctive argument" \
	grep -q 'pattern 293:saker-distinctive-arg-4242: [1-9]' /tmp/rc.txt
check ringcheck-open "openat exit carries the written file's path" \
	grep -q 'pattern 307:/tmp/saker-test-file: [1-9]' /tmp/rc.txt
check ringcheck-connect "connect exit events" grep -q 'pattern 23:: [1-9]' /tmp/rc.txt
check ringcheck-accept "accept exit events" grep -q 'pattern 247:: [1-9]' /tmp/rc.txt
check ringcheck-write-data "write exit carries the sent bytes" \
	grep -q 'pattern 9:ping-over-loopback: [1-9]' /tmp/rc.txt
check ringcheck-passwd "/etc/passwd opened by the user addition" \
	grep -q 'pattern 307:/etc/passwd: [1-9]' /tmp/rc.txt
check ringcheck-procexit "procexit events" grep -q 'pattern 186:: [1-9]' /tmp/rc.txt
# (fault counts stored events whose user memory was not resident, e.g. a path
# in a page of the program not touched yet: it may be non-zero)
check ringcheck-nodrops "no drops at low load" \
	grep -q 'drops full 0 fault [0-9]* reentry 0 toolarge 0' /tmp/rc.txt
send() {
	{
		echo "==BEGIN $1=="
		base64 "$2"
		echo "==END $1=="
	} >$RESULTS
}
send ringcheck /tmp/rc.scap

# Encodings of many event types: a fixed syscall sequence, read back on the host.
(sleep 0.5; exercise) &
ringcheck -q -t 3 -s 200 -w /tmp/ex.scap >/tmp/ex.txt 2>&1
rc=$?
wait
check exercise-records "$(grep records /tmp/ex.txt)" [ $rc -eq 0 ]
send exercise /tmp/ex.scap
# Interest set: only open/openat (2, 257) events, none of anything else.
(sleep 0.5; cat /etc/passwd >/dev/null; ls / >/dev/null) &
ringcheck -t 2 -i 2,257 -f 307:/etc/passwd >/tmp/i.txt 2>&1
rc=$?
wait
grep -q 'pattern 307:/etc/passwd: [1-9]' /tmp/i.txt || rc=1
check interest-set "only openat events: $(grep -o 'type [0-9]*' /tmp/i.txt | tr '\n' ' ')" [ $rc -eq 0 ]

# A user read that faults (open() on an unmapped address) is counted per
# CPU in n_drops_fault; the events are still stored, with an empty path.
ringcheck -q -t 1 -i 2,257 -F 5 >/tmp/f.txt 2>&1
check fault-counted "$(grep bad-pointer /tmp/f.txt)" [ $? -eq 0 ]

# DISABLE stores nothing more, ENABLE resumes with the last interest set.
ringcheck -e >/tmp/e.txt 2>&1
check enable-disable "$(tail -1 /tmp/e.txt)" [ $? -eq 0 ]

# SAKER_INTEREST_LATE_ENTER: enter events written as their calls return,
# with their arguments, exec's from what the kernel executed.
ringcheck -L >/tmp/l.txt 2>&1
late_rc=$?
check late-enter "$(grep 'late enter' /tmp/l.txt | head -3 | tr '\n' ' ')" [ $late_rc -eq 0 ]

ringcheck -b >/tmp/busy.txt 2>&1
check single-consumer "$(tail -1 /tmp/busy.txt)" [ $? -eq 0 ]
ringcheck -z -t 1 >/tmp/z.txt 2>&1
check hostile-consumer "random tails written by the consumer: $(tail -1 /tmp/z.txt)" [ $? -eq 0 ]
ringcheck -q -t 1 >/tmp/after.txt 2>&1
check capture-after-hostile "$(grep records /tmp/after.txt)" [ $? -eq 0 ]
ringcheck -c -q -t 1 >/tmp/c.txt 2>&1
check close-while-mapped "$(grep records /tmp/c.txt)" [ $? -eq 0 ]
rmmod saker
check unload-after-capture "rmmod after the consumer left" [ ! -e /dev/saker ]

# A ring size that is not a power of two is refused at open.
insmod $MOD ring_bytes=100000
ringcheck -q -t 0.1 >/tmp/rb.txt 2>&1
rc=$?
rmmod saker
check ring-bytes-validated "$(head -1 /tmp/rb.txt)" \
	[ $rc -ne 0 -a "$(grep -c 'Invalid argument' /tmp/rb.txt)" -eq 1 ]

# 3. Load/unload with a consumer attached and capturing.
ok=0
busy=0
i=0
while [ $i -lt 10 ]; do
	insmod $MOD
	ringcheck -q -t 0.6 >/tmp/l.txt 2>&1 &
	sleep 0.3
	rmmod saker 2>/dev/null || busy=$((busy + 1))
	wait $! && rmmod saker && ok=$((ok + 1))
	i=$((i + 1))
done
check consumer-cycles "$ok/10 capture cycles, rmmod refused while open $busy/10" \
	[ $ok -eq 10 -a $busy -eq 10 ]

# 4. Fork-and-syscall storm while loading, capturing and unloading.
rm -f /tmp/stop
for n in 1 2 3 4; do storm & done
ok=0
i=0
while [ $i -lt 8 ]; do
	if [ $((i % 2)) -eq 1 ]; then
		insmod $MOD ring_bytes=65536
	else
		insmod $MOD
	fi
	ringcheck -q -s 1000 -t 1 >/tmp/s.txt 2>&1 && ok=$((ok + 1))
	grep records /tmp/s.txt
	(ringcheck -q -t 2 >/dev/null 2>&1 &) 
	sleep 0.2
	while ! rmmod saker 2>/dev/null; do sleep 0.2; done
	i=$((i + 1))
done
touch /tmp/stop
wait
check storm "$ok/8 valid captures under a fork storm with load/unload" [ $ok -eq 8 ]

# 5. No oops, BUG, WARN or stall in the kernel log.
check dmesg-clean "kernel log free of BUG/WARN/oops lines" dmesg_clean

# 6. The agent's capture of the same scenario, sent to the host.
if [ -x /usr/bin/saker ]; then
	insmod $MOD
	saker capture -w /tmp/t.scap -M 8 >/tmp/cap.txt 2>&1 &
	cap=$!
	sleep 3
	scenario
	wait $cap
	rc=$?
	cat /tmp/cap.txt | tail -5
	check agent-capture "saker capture exit $rc, $(wc -c </tmp/t.scap 2>/dev/null) bytes" \
		[ $rc -eq 0 -a -s /tmp/t.scap ]
	rmmod saker
	send capture /tmp/t.scap
fi
check dmesg-final "kernel log free of BUG/WARN/oops lines at the end" dmesg_clean
