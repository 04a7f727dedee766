#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what flowshape needs to build and test, on Debian, with apt-get.
# Idempotent: when everything is present it only runs dpkg-query and exits.
#
#   tools/deps.sh            install the build + test lab sets
#   tools/deps.sh --build    only what make and make install need
#   tools/deps.sh --check    list what is missing, exit 1 if anything is
#   tools/deps.sh PKG...     install these extra packages too
set -euo pipefail

# Two sets.  BUILD: what `make` and `make install` need on an ingress node
# (module headers, the tc plugin's iproute2 source via apt-get source,
# which needs dpkg-dev, the agent's libraries, dkms).  LAB: what the test
# lab needs on top (`make check`, `make demo`, `make bench`): unit tests
# (cmocka), lint (sparse), fuzzing (clang + libFuzzer), the VM (qemu,
# busybox, the kernel image) and the tools used inside it.
BUILD_PKGS=(
	make gcc libc6-dev pkg-config dpkg-dev xz-utils
	linux-headers-amd64 kmod dkms
	iproute2
	libmnl-dev libcurl4-openssl-dev libjansson-dev libsystemd-dev
)
LAB_PKGS=(
	linux-image-amd64
	iputils-ping jq strace groff-base man-db
	libcmocka-dev sparse
	clang libclang-rt-14-dev
	prometheus prometheus-node-exporter
	qemu-system-x86 busybox-static
	gnuplot-nox bpftrace
	iperf3 irtt ethtool ipvsadm
)

check_only=0 build_only=0
while [[ ${1:-} == --* ]]; do
	case $1 in
	--check) check_only=1 ;;
	--build) build_only=1 ;;
	*) echo "usage: tools/deps.sh [--build] [--check] [PKG...]" >&2; exit 2 ;;
	esac
	shift
done
PKGS=("${BUILD_PKGS[@]}")
((build_only)) || PKGS+=("${LAB_PKGS[@]}")
PKGS+=("$@")

missing=()
for p in "${PKGS[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$p")
done

# apt-get source needs a deb-src entry (Debian 12 ships deb822 sources).
need_src=0
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	need_src=1
fi

if ((check_only)); then
	((${#missing[@]})) && echo "missing: ${missing[*]}"
	((need_src)) && echo "missing: deb-src entries (for apt-get source iproute2)"
	((${#missing[@]} == 0 && need_src == 0))
	exit
fi

((${#missing[@]} == 0 && need_src == 0)) && exit 0

if ((EUID != 0)); then
	echo "deps: need root to install: ${missing[*]}" >&2
	exit 1
fi

if ((need_src)); then
	src=/etc/apt/sources.list.d/debian.sources
	if [[ -f $src ]]; then
		sed 's/^Types: deb$/Types: deb-src/' "$src" \
			>/etc/apt/sources.list.d/flowshape-deb-src.sources
	elif [[ -f /etc/apt/sources.list ]]; then
		sed -n 's/^deb /deb-src /p' /etc/apt/sources.list \
			>/etc/apt/sources.list.d/flowshape-deb-src.list
	else
		echo "deps: no apt sources found to derive deb-src from" >&2
		exit 1
	fi
fi

echo "deps: installing: ${missing[*]:-(deb-src lists only)}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
((${#missing[@]})) && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
exit 0
