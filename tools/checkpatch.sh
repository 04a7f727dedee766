#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Run the kernel's checkpatch.pl --strict over the module sources.  Debian's
# linux-headers do not ship checkpatch.pl, so it is taken from the
# linux-source package's tarball into the build cache.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache=${CACHE:-$HOME/.cache/flowshape}/checkpatch
if [[ ! -x $cache/scripts/checkpatch.pl ]]; then
	"$top/tools/deps.sh" linux-source-6.1
	tarball=$(ls /usr/src/linux-source-*.tar.xz | sort -V | tail -n1)
	mkdir -p "$cache"
	tar -C "$cache" --strip-components=1 -xf "$tarball" \
		--wildcards '*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
fi

cd "$top"
shopt -s nullglob
files=()
for f in kernel/*.c kernel/*.h kernel/uapi/linux/*.h; do
	[[ $f == *.mod.c ]] || files+=("$f")
done
# Ignored, each for a reason that holds only out of tree:
#  CAMELCASE: the kernel's own types (struct Qdisc, Qdisc_ops);
#  LINUX_VERSION_CODE, CONSTANT_COMPARISON: the version guards in
#  the module that let one source build on 6.1 and current kernels.
"$cache/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
	--ignore CAMELCASE,LINUX_VERSION_CODE,CONSTANT_COMPARISON -f "${files[@]}"
echo "checkpatch: ${#files[@]} files checked"
