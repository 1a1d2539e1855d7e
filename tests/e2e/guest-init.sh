#!/bin/sh
# Guest side of tests/e2e/run.sh, started by the kernel as init= in the
# Debian root: rsyslog, then the saker service as an administrator uses it
# (service start/status/reload/stop, the packaged configuration and rules)
# and the alerts it must raise in /var/log/syslog: adduser, a read of
# /etc/shadow, and a rule added to the local rules file and reloaded.
# Each check prints "CHECK PASS|FAIL name" on the console and on the second
# serial port, which then carries the daemon's syslog lines; powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root
RES=/dev/ttyS1
SYSLOG=/var/log/syslog
MARKER=/etc/saker-e2e-marker

say() { echo "$*" | tee -a "$RES"; }
pass() { say "CHECK PASS $1"; }
fail() { say "CHECK FAIL $1"; }
check() { name=$1; shift; if "$@"; then pass "$name"; else fail "$name"; fi; }
# Whether the daemon of the pidfile read at start is alive.
alive() { [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; }
WATCH=0
# wait_for SECONDS COMMAND...: polls until a deadline; gives up at once when
# the daemon is watched (WATCH=1) and gone.
wait_for() {
	end=$(($(date +%s) + $1))
	shift
	while ! "$@" 2>/dev/null; do
		[ "$(date +%s)" -ge "$end" ] && return 1
		[ "$WATCH" -eq 1 ] && ! alive && ! "$@" 2>/dev/null && return 1
		sleep 0.2
	done
}
in_syslog() { grep -qF -- "$1" "$SYSLOG"; }
# The line of an alert: all the fixed parts $@ in one line.
alert_line() {
	l=$(grep -F -- "$1" "$SYSLOG") || return 1
	shift
	for p in "$@"; do
		l=$(echo "$l" | grep -F -- "$p") || return 1
	done
	echo "$l" | head -n 1
}
has_alert() { alert_line "$@" >/dev/null; }
# An alert check; a failure asks for the diagnostic capture at the end.
DIAG=0
check_alert() {
	name=$1
	shift
	if wait_for 30 has_alert "$@"; then pass "$name"; else fail "$name"; DIAG=1; fi
	l=$(alert_line "$@") && say "guest: alert: ${l#*saker\[*\]: }"
}

# After a failed alert check: the sensitive reads and the marker reads again
# under `saker capture`, base64 on the result port for the host to replay.
diag_capture() {
	saker capture -w /tmp/diag.scap -M 8 -s open,openat,openat2,execve >/tmp/diag.out 2>&1 &
	sleep 3
	cat /etc/shadow >/dev/null
	head -c 1 "$MARKER" >/dev/null
	cat "$MARKER" >/dev/null
	wait
	cat /tmp/diag.out
	say "==BEGIN CAPTURE=="
	base64 /tmp/diag.scap >>"$RES"
	say "==END CAPTURE=="
}

finish() {
	service saker stop >/dev/null 2>&1
	[ "$DIAG" -eq 1 ] && diag_capture
	say "==SYSLOG=="
	grep -a -e 'saker' -e 'wibble' "$SYSLOG" 2>/dev/null | tail -n 200 >>"$RES"
	say "==END=="
	say "VM-DONE"
	[ -r /run/rsyslogd.pid ] && kill "$(cat /run/rsyslogd.pid)" 2>/dev/null && sleep 1
	sync
	mount -o remount,ro / 2>/dev/null
	echo o >/proc/sysrq-trigger
	sleep 10
}

mountpoint -q /proc || mount -t proc proc /proc
mountpoint -q /sys || mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mountpoint -q /run || mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -o remount,rw /
hostname saker-e2e
echo 1 >/proc/sys/kernel/sysrq
stty -F "$RES" raw -echo 2>/dev/null
say "guest: $(uname -r), Debian $(cat /etc/debian_version), init after $(cut -d" " -f1 /proc/uptime) s"

# --- syslog ---------------------------------------------------------------
rm -f "$SYSLOG"
# bookworm's rsyslog has no init script (systemd starts it); rsyslogd forks.
rsyslogd
check "rsyslog running, /dev/log present" wait_for 30 test -S /dev/log
logger -t e2e "syslog ready"
check "syslog reaches $SYSLOG" wait_for 30 in_syslog "syslog ready"

# --- start and status -----------------------------------------------------
KVER=$(uname -r)
check "DKMS module for $KVER installed" test -e "/lib/modules/$KVER/updates/dkms/saker.ko"
check "module not loaded before start" sh -c '! grep -q "^saker " /proc/modules'
T0=$(date +%s)
service saker start >/tmp/start.out 2>&1
RC=$?
cat /tmp/start.out
check "service saker start exits 0" test "$RC" -eq 0
check "pidfile /run/saker.pid written" wait_for 30 test -s /run/saker.pid
PID=$(cat /run/saker.pid 2>/dev/null)
WATCH=1
say "guest: start took $(($(date +%s) - T0)) s, pid ${PID:-none}"
STATUS=$(service saker status 2>&1)
RC=$?
echo "$STATUS"
status_ok() { test "$RC" -eq 0 && test -n "$PID" && test "$STATUS" = "saker is running (pid $PID)"; }
check "service saker status: running with its pid (exit 0)" status_ok
check "daemon process alive" alive
check "daemon loaded the DKMS module (modprobe)" sh -c \
	'grep -q "^saker " /proc/modules && modinfo -n saker | grep -q /updates/dkms/'
check "log: saker initialized with configuration file" wait_for 60 \
	in_syslog "saker initialized with configuration file /etc/saker/saker.yaml"
check "log: Parsed rules from file" in_syslog "Parsed rules from file /etc/saker/saker_rules.yaml"
check "log: event processing started" wait_for 60 in_syslog "event processing started"

# --- the 2016 story: adduser on the host ----------------------------------
adduser --disabled-password --gecos '' wibble >/tmp/adduser.out 2>&1
RC=$?
check "adduser --disabled-password --gecos '' wibble" sh -c "test $RC -eq 0 && id wibble >/dev/null"
USER_ALERT="User management binary command run outside of container (user=root command=adduser "
check_alert "alert: User management binary ... (user=root command=adduser ... wibble)" \
	"$USER_ALERT" wibble

# --- a sensitive file read ------------------------------------------------
cat /etc/shadow >/dev/null
SHADOW_ALERT="Sensitive file opened for reading (file=/etc/shadow user=root command=cat /etc/shadow"
check_alert "alert: Sensitive file opened for reading (file=/etc/shadow ... cat /etc/shadow)" \
	"$SHADOW_ALERT"

# --- a local rule, reloaded -----------------------------------------------
LOCAL=/etc/saker/saker_rules.local.yaml
echo "saker end-to-end marker" >"$MARKER"
# Read before the rule exists; a later sensitive read whose alert arrives
# proves this open was evaluated (alerts come in event order).
head -c 1 "$MARKER" >/dev/null
cat /etc/gshadow >/dev/null
SYNC_OK=0
wait_for 30 has_alert "Sensitive file opened for reading (file=/etc/gshadow" && SYNC_OK=1
check "local rules file is packaged" test -f "$LOCAL"
cat /usr/share/saker-e2e/marker-rule.yaml >>"$LOCAL"
service saker reload >/tmp/reload.out 2>&1
RC=$?
cat /tmp/reload.out
check "service saker reload exits 0" test "$RC" -eq 0
check "log: saker reloaded configuration file" wait_for 60 \
	in_syslog "saker reloaded configuration file /etc/saker/saker.yaml"
same_daemon() { alive && test "$(cat /run/saker.pid)" = "$PID"; }
check "same daemon after reload" same_daemon
cat "$MARKER" >/dev/null
check_alert "alert: Marker file read (file=$MARKER command=cat $MARKER) after reload" \
	"Marker file read (file=$MARKER command=cat $MARKER)"
# A function, not sh -c: a shell's command line is itself logged by the
# "Shell spawned" rule, and would match.
silent_before() {
	[ "$SYNC_OK" -eq 1 ] && ! grep -F "Marker file read (file=$MARKER" "$SYSLOG" | grep -qF "command=head"
}
check "local rule silent before the reload" silent_before

# --- stop -----------------------------------------------------------------
service saker stop >/tmp/stop.out 2>&1
RC=$?
cat /tmp/stop.out
WATCH=0
check "service saker stop exits 0" test "$RC" -eq 0
check "stop removes the pidfile" test ! -e /run/saker.pid
check "daemon process gone" sh -c "test -n '$PID' && ! kill -0 '$PID' 2>/dev/null"
service saker status >/dev/null 2>&1
RC=$?
check "service saker status: not running (exit 3)" test "$RC" -eq 3
check "log: saker stopped after N events" wait_for 30 grep -qE "saker stopped after [0-9]+ events" "$SYSLOG"

finish
