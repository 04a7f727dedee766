# SPDX-License-Identifier: GPL-2.0
#
# flowshape: top-level build.
#
#   make            build the module, the tc plugin and the tools
#   make check      host unit tests + selftests in a VM; ends with a summary
#   make demo       the end-to-end demo in a VM
#   make lint       sparse (C=2) + W=1 + checkpatch on the module
#   make deps       install build/test dependencies (Debian, apt-get)
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
KVER ?= $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
export FLOWSHAPE_KVER := $(KVER)

all: module tc tools

deps:
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

lint: deps
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 C=2 modules
	@tools/checkpatch.sh

check: all
	@tools/check.sh

demo: all
	@echo "make demo: not yet (the demo arrives with its own issue); run 'make check'." >&2
	@exit 1

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	$(MAKE) -C tc clean

.PHONY: all deps module tc tools lint check demo clean
