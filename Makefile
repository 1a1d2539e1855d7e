# saker — top-level targets. `make test` is the test command (see README).

CARGO ?= cargo
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) $(wildcard /usr/src/linux-headers-*-amd64))
SAKER := target/release/saker

.PHONY: all build run agent driver driver-check test unit-test vm-test vm-service-test pkg-test e2e-test deb rpm bench deps lint clean
.PHONY: vm-captures vm-parity-test replay-bench

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

test: lint unit-test driver-check vm-test vm-service-test pkg-test e2e-test vm-parity-test

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

bench: agent driver replay-bench
	tests/vm/bench.sh
	tests/vm/icount.sh

# Captures made in a bookworm guest with the reference scap.ko + sysdig -w and
# with saker.ko + saker capture (tests/vm/captures.sh; cached under
# build/vm-captures/, CAPTURES_FLAGS=-f re-makes them).
CAPTURES_FLAGS ?=
SAKER_BUILT = $${CARGO_TARGET_DIR:-target}/release/saker

vm-captures: agent
	SAKER=$(SAKER_BUILT) tests/vm/captures.sh $(CAPTURES_FLAGS) parity bench

# Each 0.31.1 rule's matches on the VM captures equal sysdig's filter's.
vm-parity-test: agent
	SAKER=$(SAKER_BUILT) tests/vm/captures.sh $(CAPTURES_FLAGS) parity
	SAKER_VM_CAPTURES=$(CURDIR)/build/vm-captures/parity $(CARGO) test --release \
		--test engine_parity rules_match_sysdig_on_vm_captures -- --nocapture

# The rule engine three ways on the reference driver's captures: sysdig with
# no rule, sysdig with the 0.31.1 rules OR'd, saker with 1 and 2 workers.
replay-bench: agent
	SAKER=$(SAKER_BUILT) tests/vm/captures.sh $(CAPTURES_FLAGS) bench
	$(CARGO) run --release --example rule_bench -- -n 3 \
		build/vm-captures/bench/loop-scap.scap build/vm-captures/bench/mixed-scap.scap

clean:
	$(CARGO) clean
	-$(MAKE) -C driver KDIR=$(KDIR) clean
	rm -rf build
