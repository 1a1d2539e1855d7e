#!/bin/sh
# The capture overhead benchmark, run inside the VM by /init: getppid()
# throughput with no module, with saker.ko and a consumer, and with the
# reference scap.ko and sysdig (when present), two rounds each.
# Prints "BENCH name rate [consumer summary]".
SECS=3

round() {
	echo "BENCH none $(sysloop $SECS)"

	insmod /saker.ko
	ringcheck -q -t $((SECS + 2)) >/tmp/rc.txt 2>&1 &
	sleep 1
	rate=$(sysloop $SECS)
	wait
	echo "BENCH saker $rate $(grep records /tmp/rc.txt)"
	rmmod saker

	if [ -f /scap.ko ] && [ -x /usr/bin/sysdig ]; then
		insmod /scap.ko
		sysdig -w /dev/null >/tmp/sd.txt 2>&1 &
		sd=$!
		sleep 3
		rate=$(sysloop $SECS)
		kill -INT $sd
		wait $sd
		echo "BENCH scap+sysdig $rate"
		rmmod scap
	fi
}

round
round
