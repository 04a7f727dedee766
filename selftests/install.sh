#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install / make uninstall for real, on a scratch root: the system
# directories install writes to are overlaid with tmpfs-backed overlayfs
# for the test's duration.  DKMS builds the module for the running kernel,
# modprobe finds it, the system tc finds the plugin without TC_LIB_DIR;
# uninstall takes it all away again.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd dkms make modprobe modinfo mount
KVER=$(uname -r)
[[ -d /lib/modules/$KVER/build ]] || fs_skip "no kernel headers for $KVER"
TCLIBDIR=$(make -s -C "$FS_TOP" -f - print-tclibdir <<<'include Makefile
print-tclibdir: ; @echo $(TCLIBDIR)' 2>/dev/null | tail -n1)
[[ -n $TCLIBDIR ]] || TCLIBDIR=/usr/lib/$(gcc -print-multiarch)/tc

scratch=$(mktemp -d)
fs_on_exit rm -rf "$scratch"
overlay()
{
	local d=$1 n
	n=$(echo "$d" | tr / _)
	mkdir -p "$d" "$scratch/$n/u" "$scratch/$n/w" 2>/dev/null
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$scratch/$n/u,workdir=$scratch/$n/w" "$d" ||
		return 1
	fs_on_exit umount -l "$d"
}
for d in /usr/src "/lib/modules/$KVER" "$TCLIBDIR" /usr/sbin /lib/systemd/system /etc /usr/share/man /var/lib; do
	overlay "$d" || fs_skip "cannot overlay $d (overlayfs)"
done

mkdir -p /var/lib/dkms
grep -q '^sch_flowshape ' /proc/modules && rmmod sch_flowshape
fs_netns "$NS0" || fs_skip "cannot create a network namespace"
fs_dummy "$NS0" d0 || fs_skip "no dummy device support"

log=$scratch/make.log
# run_make TARGET...: make quietly; show the log if it fails.
run_make()
{
	make -s -C "$FS_TOP" "$@" KVER="$KVER" >"$log" 2>&1 && return 0
	sed 's/^/# /' "$log"
	return 1
}
check "make install (DKMS builds for $KVER)" \
	run_make install-module install-tc install-agent install-man
check "dkms lists the module installed" \
	grep -q "flowshape/0.1, $KVER, .*installed" <<<"$(dkms status flowshape 2>&1)"
modpath=$(modinfo -n sch_flowshape 2>/dev/null)
check "modinfo finds the DKMS build ($modpath)" grep -q "/updates/dkms/" <<<"$modpath"
check "modprobe loads it" modprobe sch_flowshape
check "the system tc finds the installed plugin" \
	env -u TC_LIB_DIR ip netns exec "$NS0" tc qdisc add dev d0 root flowshape limit 123
check "and prints its options" \
	grep -q 'limit 123p' <<<"$(env -u TC_LIB_DIR ip netns exec "$NS0" tc qdisc show dev d0)"
check "agent, unit file, example config and man pages installed" \
	test -x /usr/sbin/flowshape-agent -a -f /lib/systemd/system/flowshape-agent.service \
	-a -f /etc/flowshape/flowshape-agent.conf.example -a -f /usr/share/man/man8/tc-flowshape.8
ip netns exec "$NS0" tc qdisc del dev d0 root
rmmod sch_flowshape

check "make uninstall" run_make uninstall
check "module gone" bash -c "! modinfo -n sch_flowshape >/dev/null 2>&1"
check "plugin gone" test ! -e "$TCLIBDIR/q_flowshape.so"
check "agent gone" test ! -e /usr/sbin/flowshape-agent
check "dkms source gone" test ! -e /usr/src/flowshape-0.1

fs_done
