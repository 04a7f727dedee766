#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make install / make uninstall for real, on a scratch root: the system
# directories install writes to are overlaid with tmpfs-backed overlayfs
# for the test's duration.  DKMS builds the module for the running kernel,
# modprobe finds it, the system tc finds the plugin without TC_LIB_DIR;
# uninstall takes it all away again.
#
# flowshape-qdisc (make install QDISC_DEVS=...): the root qdisc a device
# had is recorded and flowshape put in its place (under mq on a 4-queue
# device), it comes back when it was removed (what the unit does at
# boot), and make uninstall disables the unit and puts back what each
# device had: a configured fq_codel with its parameters, a default qdisc.
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
fs_dummy "$NS0" dx || fs_skip "no dummy device support"
ip -n "$NS0" link add name d4 numtxqueues 4 type dummy ||
	fs_skip "no multi-queue dummy device"
ip -n "$NS0" link set d4 up
# What an operator may have had: a configured root qdisc on d0, the
# kernel's default on d4.
n0 tc qdisc replace dev d0 root handle 5: fq_codel limit 777 ||
	fs_skip "no fq_codel"
d0_before=$(n0 tc qdisc show dev d0 root)
d4_before=$(n0 tc qdisc show dev d4 root)
fs_log "before: $d0_before | $d4_before"

log=$scratch/make.log
# run_make TARGET...: make (in NS0, whose devices the install shapes)
# quietly; show the log if it fails.
run_make()
{
	n0 make -s -C "$FS_TOP" "$@" KVER="$KVER" >"$log" 2>&1 && return 0
	sed 's/^/# /' "$log"
	return 1
}
# root DEV: the root qdisc line of DEV in NS0.
root() { n0 tc qdisc show dev "$1" root; }
# fs_children DEV: how many flowshape qdiscs hang off DEV's mq.
fs_children() { n0 tc qdisc show dev "$1" | grep -c '^qdisc flowshape .* parent 1:'; }

check "make install QDISC_DEVS=\"d0 d4\" (DKMS builds for $KVER)" \
	run_make install-module install-tc install-agent install-qdisc install-man \
	QDISC_DEVS="d0 d4"
check "dkms lists the module installed" \
	grep -q "flowshape/0.1, $KVER, .*installed" <<<"$(dkms status flowshape 2>&1)"
modpath=$(modinfo -n sch_flowshape 2>/dev/null)
check "modinfo finds the DKMS build ($modpath)" grep -q "/updates/dkms/" <<<"$modpath"
check "the kernel loaded it for tc (module autoload)" grep -q '^sch_flowshape ' /proc/modules
check "the system tc finds the installed plugin" \
	env -u TC_LIB_DIR ip netns exec "$NS0" tc qdisc add dev dx root flowshape limit 123
check "and prints its options" \
	grep -q 'limit 123p' <<<"$(env -u TC_LIB_DIR ip netns exec "$NS0" tc qdisc show dev dx)"
n0 tc qdisc del dev dx root
check "agent, flowshape-qdisc, unit files, example configs and man pages installed" \
	test -x /usr/sbin/flowshape-agent -a -x /usr/sbin/flowshape-qdisc \
	-a -f /lib/systemd/system/flowshape-agent.service \
	-a -f /lib/systemd/system/flowshape-qdisc.service \
	-a -f /etc/flowshape/flowshape-agent.conf.example \
	-a -f /etc/flowshape/qdisc.conf.example -a -f /usr/share/man/man8/tc-flowshape.8
check_eq "QDISC_DEVS wrote qdisc.conf" "d0 d4" "$(paste -sd ' ' /etc/flowshape/qdisc.conf)"
check "d0: flowshape is its root qdisc" grep -q '^qdisc flowshape ' <<<"$(root d0)"
check "d4 (4 TX queues): mq with a flowshape on each queue" \
	test "$(fs_children d4)" -eq 4 -a -n "$(root d4 | grep '^qdisc mq 1: ')"
check "the previous root qdiscs are recorded" \
	grep -q '^fq_codel 5: root .*limit 777p' /var/lib/flowshape/qdisc/d0
check "flowshape-qdisc.service enabled" \
	test -L /etc/systemd/system/multi-user.target.wants/flowshape-qdisc.service

# A reboot brings the devices' default qdiscs back; the unit runs start.
n0 tc qdisc del dev d0 root
n0 tc qdisc del dev d4 root
check "flowshape-qdisc start (as at boot) puts flowshape back" \
	n0 /usr/sbin/flowshape-qdisc start
check "d0 and d4 shaped again" \
	test -n "$(root d0 | grep '^qdisc flowshape ')" -a "$(fs_children d4)" -eq 4
check "the record still holds what was there before install" \
	grep -q '^fq_codel 5: root .*limit 777p' /var/lib/flowshape/qdisc/d0

check "make uninstall" run_make uninstall
check_eq "d0: fq_codel 5: limit 777 restored" "$d0_before" "$(root d0)"
check_eq "d4: its default root qdisc restored" "$d4_before" "$(root d4)"
check "the records are gone" test ! -e /var/lib/flowshape/qdisc
check "flowshape-qdisc.service disabled" \
	test ! -e /etc/systemd/system/multi-user.target.wants/flowshape-qdisc.service
check "module unloaded" bash -c "! grep -q '^sch_flowshape ' /proc/modules"
check "module gone" bash -c "! modinfo -n sch_flowshape >/dev/null 2>&1"
check "plugin gone" test ! -e "$TCLIBDIR/q_flowshape.so"
check "agent, flowshape-qdisc and units gone" \
	test ! -e /usr/sbin/flowshape-agent -a ! -e /usr/sbin/flowshape-qdisc \
	-a ! -e /lib/systemd/system/flowshape-qdisc.service
check "dkms source gone" test ! -e /usr/src/flowshape-0.1
check "the operator's qdisc.conf is kept" test -f /etc/flowshape/qdisc.conf

fs_done
