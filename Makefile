# saker — top-level targets. `make test` is the test command (see README).

CARGO ?= cargo
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) $(wildcard /usr/src/linux-headers-*-amd64))
SAKER := target/release/saker

.PHONY: all build run agent driver driver-check test unit-test vm-test vm-service-test pkg-test e2e-test deb rpm bench deps lint clean

all: build

build: agent driver

agent:
	$(CARGO) build --release

driver:
	$(MAKE) -C driver KDIR=$(KDIR)

# The module must build with zero warnings under W=1.
driver-check:
	$(MAKE) -C driver KDIR=$(KDIR) clean
	@mkdir -p build
	$(MAKE) -C driver KDIR=$(KDIR) W=1 2>&1 | tee build/driver-w1.log
	@! grep -E 'warning:|error:' build/driver-w1.log

deps:
	tools/install-deps.sh

# Build, load the module and run the service in the foreground with the
# default rules (says what to do where the kernel refuses modules).
run: agent driver
	tools/run.sh

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

unit-test:
	$(CARGO) test --release

test: lint unit-test driver-check vm-test vm-service-test pkg-test e2e-test

vm-test: agent driver
	tests/vm/run.sh

vm-service-test: agent driver
	tests/pkg/vm-service.sh

deb: agent
	tools/package.sh deb

rpm: agent
	tools/package.sh rpm

pkg-test: agent
	tests/pkg/run.sh

# The .deb on a Debian bookworm root booted under QEMU: the 2016 story
# (service start, adduser and /etc/shadow alerts, reload, stop).
e2e-test: agent
	tests/e2e/run.sh

bench: agent driver
	tests/vm/bench.sh

clean:
	$(CARGO) clean
	-$(MAKE) -C driver KDIR=$(KDIR) clean
	rm -rf build
