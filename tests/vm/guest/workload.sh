#!/bin/sh
# The mixed workload of the VM captures (tests/vm/captures.sh): compiles, file
# walks, tar, python and short-lived commands, ROUNDS times, plus once per
# round the actions some of Falco's rules look for (a sensitive file read,
# writes below /etc, /root and a binary directory, a symlink to
# /etc/shadow, a log file truncated, a private key search, a shell history
# removed, setuid bits, a namespace change, a package source written, shred,
# hidden files, a hard link to /etc/shadow, files below /dev and /usr/lib, a
# user management binary, a miner's pool URL in a command line, setuid(0) by
# an unprivileged user, a "postgres" spawning a program). Leaves nothing
# behind.
#
# usage: workload.sh ROUNDS
ROUNDS=${1:-1}
W=/var/tmp/saker-wl
rm -rf "$W"
mkdir -p "$W"
cd "$W" || exit 1

cat >prog.c <<'EOF'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv)
{
	char buf[256];
	FILE *f = fopen(argc > 1 ? argv[1] : "/etc/passwd", "r");
	unsigned long n = 0;

	if (!f)
		return 1;
	while (fgets(buf, sizeof(buf), f))
		n += strlen(buf);
	fclose(f);
	printf("%lu\n", n);
	return 0;
}
EOF

cat >walk.py <<'EOF'
import hashlib, json, os, socket, subprocess, sys, tempfile, threading

# A file walk with reads, a JSON round trip, a child process, and a TCP
# exchange over the loopback (socket, bind, listen, accept, connect).
total = 0
for root, dirs, files in os.walk("/usr/lib/python3/dist-packages"):
    for name in files[:5]:
        try:
            with open(os.path.join(root, name), "rb") as f:
                total += len(hashlib.sha1(f.read(4096)).hexdigest())
        except OSError:
            pass
data = json.dumps({"total": total, "env": len(os.environ)})
with tempfile.NamedTemporaryFile("w", dir=sys.argv[1], delete=True) as t:
    t.write(data)
    t.flush()
subprocess.run(["uname", "-r"], stdout=subprocess.DEVNULL, check=False)

srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
srv.settimeout(20)
srv.bind(("127.0.0.1", 0))
srv.listen(1)

def serve():
    c, _ = srv.accept()
    c.sendall(c.recv(64).upper())
    c.close()

th = threading.Thread(target=serve, daemon=True)
th.start()
cli = socket.create_connection(srv.getsockname())
cli.sendall(b"saker workload")
cli.recv(64)
cli.close()
th.join(20)
srv.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.sendto(b"ping", ("127.0.0.1", 9))
u.close()
EOF

# The actions Falco's rules look for, once per round.
suspicious() {
	cat /etc/shadow >/dev/null
	touch /etc/saker-wl.conf && rm -f /etc/saker-wl.conf
	touch /root/saker-wl && rm -f /root/saker-wl
	mkdir /usr/bin/saker-wl-dir && rmdir /usr/bin/saker-wl-dir
	cp /bin/true /usr/bin/saker-wl-true && mv /usr/bin/saker-wl-true /usr/bin/saker-wl-true2
	rm -f /usr/bin/saker-wl-true2
	ln -sf /etc/shadow "$W/shadow-link" && rm -f "$W/shadow-link"
	echo line >>/var/log/saker-wl.log && : >/var/log/saker-wl.log && rm -f /var/log/saker-wl.log
	find /root /etc -maxdepth 2 -name id_rsa 2>/dev/null
	echo ls >/root/.bash_history && rm -f /root/.bash_history
	cp /bin/true "$W/suid" && chmod u+s "$W/suid" && rm -f "$W/suid"
	unshare -u true 2>/dev/null
	grep -q root /etc/sudoers 2>/dev/null
	touch /etc/apt/sources.list.d/saker-wl.list && rm -f /etc/apt/sources.list.d/saker-wl.list
	head -c 4096 /dev/zero >"$W/junk" && shred -u "$W/junk"
	touch "$W/.hidden" && mkdir "$W/.hidden-dir" && rm -rf "$W/.hidden" "$W/.hidden-dir"
	ln /etc/shadow "$W/shadow-hard" 2>/dev/null && rm -f "$W/shadow-hard"
	touch /dev/saker-wl && rm -f /dev/saker-wl
	touch /usr/lib/saker-wl && rm -f /usr/lib/saker-wl
	pwck -r >/dev/null 2>&1
	sh -c ': stratum+tcp://pool.invalid:3333'
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		python3 -c 'import os
try:
    os.setuid(0)
except OSError:
    pass' 2>/dev/null
	# A shell named as a database server spawning a program.
	cp /bin/sh "$W/postgres" && "$W/postgres" -c 'ls / >/dev/null; true' && rm -f "$W/postgres"
}

r=0
while [ "$r" -lt "$ROUNDS" ]; do
	r=$((r + 1))
	# compiles
	gcc -O1 -o prog prog.c && ./prog /etc/services >/dev/null
	cc -O0 -c -o prog.o prog.c && rm -f prog.o
	# file walks
	find /usr/share/doc -type f | wc -l >/dev/null
	find /etc -name '*.conf' -newer /etc/hostname 2>/dev/null | head -n 5 >/dev/null
	ls -lR /usr/lib/x86_64-linux-gnu/gconv >/dev/null 2>&1
	du -s /usr/share/zoneinfo >/dev/null 2>&1
	# tar
	tar czf docs.tgz -C /usr/share doc/bash doc/coreutils doc/tar 2>/dev/null
	mkdir -p x && tar xzf docs.tgz -C x && rm -rf x docs.tgz
	# python
	python3 walk.py "$W"
	python3 -c 'import os; print(sum(1 for _ in os.scandir("/etc")))' >/dev/null
	# short-lived commands
	id >/dev/null
	uname -a >/dev/null
	date +%s >/dev/null
	cat /etc/hostname /etc/os-release >/dev/null
	grep -r -l bash /etc/skel >/dev/null 2>&1
	sed -n '1,5p' /etc/passwd | sort | uniq | wc -l >/dev/null
	seq 1 200 | awk '{ s += $1 } END { print s }' >/dev/null
	ps ax >/dev/null 2>&1
	env | head -n 3 >/dev/null
	head -c 4096 /dev/urandom | md5sum >/dev/null
	sh -c 'echo $$' >/dev/null
	suspicious
done
cd / && rm -rf "$W"
