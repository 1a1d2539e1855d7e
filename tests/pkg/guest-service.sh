#!/bin/sh
# Guest side of tests/pkg/vm-service.sh: the service on the real module.
# saker.ko is installed under /lib/modules so the daemon's own
# `modprobe saker` loads it; busybox syslogd receives the daemon's log.
# Prints CHECK PASS/FAIL lines on the console.
pass() { echo "CHECK PASS $1"; }
fail() { echo "CHECK FAIL $1"; }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
wait_for() { i=0; while ! "$@"; do i=$((i + 1)); [ $i -ge 300 ] && return 1; sleep 0.1; done; }

KVER=$(uname -r)
mkdir -p "/lib/modules/$KVER/extra" /run /etc/saker
cp /saker.ko "/lib/modules/$KVER/extra/saker.ko"
depmod
syslogd -O /tmp/messages
cp /usr/bin/saker_rules.yaml /etc/saker/saker_rules.yaml
cat >/etc/saker/saker.yaml <<'CFG'
rules_file: [/etc/saker/saker_rules.yaml]
stdout_output: {enabled: false}
syslog_output: {enabled: false}
file_output: {enabled: true, keep_alive: true, filename: /tmp/alerts.txt}
log_stderr: false
log_syslog: true
syscall_buf_size_preset: 2
webserver: {enabled: true, listen_port: 8765}
CFG

check "module not loaded before start" sh -c '! grep -q "^saker " /proc/modules'
saker --daemon -c /etc/saker/saker.yaml --pidfile /run/saker.pid
check "daemon start returns 0" test $? -eq 0
check "pidfile written" wait_for test -s /run/saker.pid
PID=$(cat /run/saker.pid)
check "daemon loaded the module (modprobe)" grep -q "^saker " /proc/modules
check "ring size preset reached the module" \
	sh -c 'test "$(cat /sys/module/saker/parameters/ring_bytes)" = 2097152'
check "log: initialized with configuration file" wait_for \
	grep -q "saker initialized with configuration file /etc/saker/saker.yaml" /tmp/messages
check "log: parsed rules" grep -q "Parsed rules from file /etc/saker/saker_rules.yaml" /tmp/messages
check "log: event processing started" wait_for grep -q "event processing started" /tmp/messages
check "log: enter events written as their calls return" \
	grep -q "capturing [0-9]* syscalls (.*; enter events written as their calls return)" /tmp/messages

saker --daemon -c /etc/saker/saker.yaml --pidfile /run/saker.pid 2>/tmp/second.err
check "second instance refused" sh -c "test $? -ne 0 && grep -q 'already running (pid $PID' /tmp/second.err"

# Some activity to capture.
for i in 1 2 3 4 5; do cat /etc/passwd >/dev/null; ls / >/dev/null; done
cat /etc/shadow >/dev/null
check "alert: sensitive file read" wait_for \
	grep -q "Sensitive file opened for reading (file=/etc/shadow" /tmp/alerts.txt
check "healthz" sh -c 'wget -q -O - http://127.0.0.1:8765/healthz | grep -q ok'
check "events processed" wait_for sh -c "test \"\$(wget -q -O - http://127.0.0.1:8765/metrics | sed -n 's/^saker_events_processed_total //p')\" -gt 100"
kernel_counters() {
	wget -q -O - http://127.0.0.1:8765/metrics >/tmp/metrics.txt
	grep -q '^saker_kernel_events_total{cpu="1"} [1-9]' /tmp/metrics.txt
}
check "per-CPU kernel counters exported" wait_for kernel_counters
check "threads tracked" sh -c "test \"\$(sed -n 's/^saker_state_threads //p' /tmp/metrics.txt)\" -gt 5"
check "fds tracked" sh -c "test \"\$(sed -n 's/^saker_state_fds //p' /tmp/metrics.txt)\" -gt 5"
echo "--- metrics"; grep -v '^#' /tmp/metrics.txt | head -40

kill -HUP "$PID"
check "SIGHUP reloads" wait_for grep -q "saker reloaded configuration file" /tmp/messages
echo "priority: loud" >>/etc/saker/saker.yaml
kill -HUP "$PID"
check "invalid reload refused, old kept" wait_for grep -q "reload failed, keeping the current" /tmp/messages
check "still running after refused reload" kill -0 "$PID"
mv /tmp/alerts.txt /tmp/alerts.txt.1
kill -USR1 "$PID"
check "SIGUSR1 reopens the output file" wait_for test -e /tmp/alerts.txt

kill -TERM "$PID"
check "SIGTERM stops and removes the pidfile" wait_for test ! -e /run/saker.pid
check "log: stopped after N events" wait_for grep -q "saker stopped after [0-9]* events" /tmp/messages
check "process gone" sh -c "! kill -0 $PID 2>/dev/null"
echo "--- daemon log"; grep saker /tmp/messages | tail -25
