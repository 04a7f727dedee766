#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch the iproute2 source that matches the installed tc into DIR, so the
# tc plugin is compiled against the exact struct qdisc_util and helper
# prototypes of the tc that will dlopen it.  A build cache, never committed.
#
#   tools/iproute2-src.sh DIR
set -euo pipefail

dir=${1:?usage: tools/iproute2-src.sh DIR}
[[ -f $dir/tc/tc_util.h ]] && exit 0

ver=$(dpkg-query -W -f='${Version}' iproute2 2>/dev/null) || {
	echo "iproute2-src: iproute2 is not installed (apt-get install iproute2)" >&2
	exit 1
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get source -qq "iproute2=$ver" >/dev/null 2>"$tmp/err") || {
	cat "$tmp/err" >&2
	echo "iproute2-src: 'apt-get source iproute2=$ver' failed (deb-src entry missing? run tools/deps.sh)" >&2
	exit 1
}
src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d -name 'iproute2-*' | head -n1)
[[ -f $src/tc/tc_util.h ]] || { echo "iproute2-src: unexpected source layout" >&2; exit 1; }
mkdir -p "$(dirname "$dir")"
rm -rf "$dir"
mv "$src" "$dir"
echo "iproute2-src: iproute2 $ver source in $dir" >&2
