# SPDX-License-Identifier: GPL-2.0
#
# flowshape: top-level build.
#
#   make            build the module, the tc plugin and the tools
#   make check      host unit tests + selftests in a VM; ends with a summary
#   make fuzz       libFuzzer harnesses, FUZZ_SECONDS (20) each (host)
#   make soak       long robustness runs: fuzzing + VM (tools/soak.sh);
#                   SHORT=1: the short variants; either writes the results
#                   into Documentation/robustness.md
#   make bench      benchmark vs pfifo, fq, netem in a VM (QUICK=1: smoke)
#   make demo       the end-to-end demo in a VM
#   make lint       sparse (C=2) + W=1 + checkpatch on the module
#   make deps       install the build dependencies (Debian, apt-get)
#   make deps-lab   ... and the test lab's (check, demo, bench, soak)
#
# Variables: KDIR (kernel build dir), CACHE (build cache), V=1.

CACHE ?= $(HOME)/.cache/flowshape

# The running kernel's build dir when it has one; otherwise (as on a host
# that cannot load modules) the newest installed Debian amd64 headers.
KDIR ?= $(or $(wildcard /lib/modules/$(shell uname -r)/build),\
	$(lastword $(shell ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V)))

TC_VERSION := $(shell dpkg-query -W -f='$${Version}' iproute2 2>/dev/null)
IPROUTE2_DIR ?= $(CACHE)/iproute2-$(TC_VERSION)

# Kernel version of KDIR: the VM boots the matching /boot/vmlinuz.
KVER ?= $(shell sed -n 's/.*UTS_RELEASE "\(.*\)"/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
export FLOWSHAPE_KVER := $(KVER)

all: module tc tools

# Build dependencies only (an ingress node); the test lab on top for
# check, demo, bench, soak, lint and fuzz.
deps:
	@tools/deps.sh --build

deps-lab:
	@tools/deps.sh

module: deps
	@test -n "$(KDIR)" -a -d "$(KDIR)" || \
		{ echo "No kernel headers found: set KDIR or install linux-headers-amd64" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 modules

$(IPROUTE2_DIR)/tc/tc_util.h: | deps
	tools/iproute2-src.sh $(IPROUTE2_DIR)

tc: deps $(IPROUTE2_DIR)/tc/tc_util.h
	$(MAKE) -C tc IPROUTE2_DIR=$(IPROUTE2_DIR)

tools: deps
	$(MAKE) -C tools/agent

lint: deps-lab
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 modules
	@tools/checkpatch.sh

check: deps-lab all
	@tools/check.sh

FUZZ_SECONDS ?= 20
fuzz: deps-lab
	@tc/fuzz/run.sh -t $(FUZZ_SECONDS) tc/fuzz tools/agent/fuzz

soak: deps-lab all
	@FLOWSHAPE_SOAK_SHORT=$(if $(SHORT),1,0) tools/soak.sh

# The benchmark (tools/bench, Documentation/benchmarks.md); QUICK=1: the
# smoke variant (report under build/bench/quick/, no gating on numbers).
bench: deps-lab module tc
	@tools/bench/bench $(if $(QUICK),--quick)

# --- install -------------------------------------------------------------
# DESTDIR stages everything under a root; DKMS=0 installs the module for
# KVER directly instead of registering the source with DKMS (which then
# rebuilds it for every new kernel).
VERSION := 0.1
DESTDIR ?=
PREFIX ?= /usr
DKMS ?= 1
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
TCLIBDIR ?= /usr/lib/$(if $(MULTIARCH),$(MULTIARCH)/)tc
DKMS_SRC := $(DESTDIR)/usr/src/flowshape-$(VERSION)
UNITDIR ?= /lib/systemd/system

install: all install-module install-tc install-agent install-man

install-module:
ifeq ($(DKMS),1)
	install -d $(DKMS_SRC)/kernel/uapi/linux
	install -m 644 dkms.conf Kbuild $(DKMS_SRC)/
	install -m 644 kernel/Kbuild $(filter-out %.mod.c,$(wildcard kernel/*.c)) \
		kernel/*.h $(DKMS_SRC)/kernel/
	install -m 644 kernel/uapi/linux/flowshape.h $(DKMS_SRC)/kernel/uapi/linux/
	@if [ -z "$(DESTDIR)" ]; then \
		dkms add flowshape/$(VERSION) && \
		dkms build flowshape/$(VERSION) -k $(KVER) && \
		dkms install flowshape/$(VERSION) -k $(KVER); \
	else \
		echo "DESTDIR set: source staged in $(DKMS_SRC); run dkms add/build/install on the target"; \
	fi
else
	install -d $(DESTDIR)/lib/modules/$(KVER)/extra
	install -m 644 kernel/sch_flowshape.ko $(DESTDIR)/lib/modules/$(KVER)/extra/
	$(if $(DESTDIR),,depmod -a $(KVER))
endif

install-tc:
	install -d $(DESTDIR)$(TCLIBDIR)
	install -m 644 tc/q_flowshape.so $(DESTDIR)$(TCLIBDIR)/

install-agent:
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(UNITDIR) $(DESTDIR)/etc/flowshape
	install -m 755 tools/agent/flowshape-agent $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 tools/agent/flowshape-agent.service $(DESTDIR)$(UNITDIR)/
	install -m 644 tools/agent/flowshape-agent.conf.example $(DESTDIR)/etc/flowshape/

install-man:
	install -d $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 644 Documentation/tc-flowshape.8 Documentation/flowshape-agent.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 Documentation/flowshape-agent.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/

uninstall:
	-@if [ -z "$(DESTDIR)" ] && command -v dkms >/dev/null && \
		dkms status flowshape/$(VERSION) 2>/dev/null | grep -q flowshape; then \
		dkms remove flowshape/$(VERSION) --all; \
	fi
	rm -rf $(DKMS_SRC)
	rm -f $(DESTDIR)/lib/modules/$(KVER)/extra/sch_flowshape.ko
	$(if $(DESTDIR),,-depmod -a $(KVER))
	rm -f $(DESTDIR)$(TCLIBDIR)/q_flowshape.so
	rm -f $(DESTDIR)$(PREFIX)/sbin/flowshape-agent $(DESTDIR)$(UNITDIR)/flowshape-agent.service
	rm -f $(DESTDIR)/etc/flowshape/flowshape-agent.conf.example
	-rmdir $(DESTDIR)/etc/flowshape 2>/dev/null
	rm -f $(DESTDIR)$(PREFIX)/share/man/man8/tc-flowshape.8 \
		$(DESTDIR)$(PREFIX)/share/man/man8/flowshape-agent.8 \
		$(DESTDIR)$(PREFIX)/share/man/man5/flowshape-agent.conf.5

demo: deps-lab all
	@tools/demo/run

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tc clean

.PHONY: all deps deps-lab module tc tools lint check fuzz soak bench demo clean install uninstall \
	install-module install-tc install-agent install-man
