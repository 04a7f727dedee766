# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers for flowshape's selftests (sourced, bash).
#
# Each test prints TAP lines ("ok N - what" / "not ok N - what"), ends with
# fs_done, and exits like a kselftest: 0 pass, 1 fail, 4 skip.  Tests run
# as root on any machine or VM where the module is built or installed.

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

FS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FS_SELFTESTS=$FS_TOP/selftests
# Use the plugin from the tree unless the caller points elsewhere.
export TC_LIB_DIR=${TC_LIB_DIR:-$FS_TOP/tc}
FS_MODULE=${FLOWSHAPE_MODULE:-$FS_TOP/kernel/sch_flowshape.ko}

# Unique per test run, so that two tests never share a namespace name.
FS_ID=fs$$
NS0=${FS_ID}a
NS1=${FS_ID}b

_fs_n=0
_fs_failed=0
_fs_cleanups=()

fs_log() { echo "# $*"; }

# fs_skip REASON: the whole test cannot run here.
fs_skip()
{
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}

fs_require_root()
{
	[[ $EUID -eq 0 ]] || fs_skip "needs root"
}

fs_require_cmd()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || fs_skip "needs $c"
	done
}

# check DESCRIPTION COMMAND...: one TAP assertion.
check()
{
	local desc=$1
	shift
	_fs_n=$((_fs_n + 1))
	if "$@"; then
		echo "ok $_fs_n - $desc"
	else
		echo "not ok $_fs_n - $desc"
		_fs_failed=1
	fi
}

# check_eq DESCRIPTION EXPECTED ACTUAL
check_eq()
{
	local desc=$1 want=$2 got=$3
	_fs_n=$((_fs_n + 1))
	if [[ "$want" == "$got" ]]; then
		echo "ok $_fs_n - $desc"
	else
		echo "not ok $_fs_n - $desc (want '$want', got '$got')"
		_fs_failed=1
	fi
}

# check_fail_msg DESCRIPTION PATTERN COMMAND...: the command must fail and
# say something matching PATTERN (an extended regex) on stdout/stderr.
check_fail_msg()
{
	local desc=$1 pat=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	_fs_n=$((_fs_n + 1))
	if [[ $rc -ne 0 ]] && grep -Eq -- "$pat" <<<"$out"; then
		echo "ok $_fs_n - $desc"
	else
		echo "not ok $_fs_n - $desc (rc=$rc, output: $out)"
		_fs_failed=1
	fi
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds; 1 on timeout.
wait_for()
{
	local t=$1 end
	shift
	end=$((SECONDS + t))
	until "$@"; do
		((SECONDS >= end)) && return 1
		sleep 0.05
	done
}

fs_done()
{
	echo "1..$_fs_n"
	((_fs_failed)) && exit $KSFT_FAIL
	exit $KSFT_PASS
}

fs_on_exit() { _fs_cleanups+=("$*"); }

_fs_cleanup()
{
	local i
	for ((i = ${#_fs_cleanups[@]} - 1; i >= 0; i--)); do
		eval "${_fs_cleanups[i]}" >/dev/null 2>&1 || true
	done
}
trap _fs_cleanup EXIT

# fs_load_module: make the qdisc available (the tree's build first).
fs_load_module()
{
	grep -q '^sch_flowshape ' /proc/modules && return 0
	if [[ -f $FS_MODULE ]]; then
		insmod "$FS_MODULE" || fs_skip "cannot insmod $FS_MODULE"
	else
		modprobe sch_flowshape 2>/dev/null ||
			fs_skip "module not built (make) nor installed"
	fi
}

n0() { ip netns exec "$NS0" "$@"; }
n1() { ip netns exec "$NS1" "$@"; }

# fs_netns_pair [v4only]: NS0 (10.100.0.1, fd00:100::1) -- veth -- NS1
# (.2, ::2).  The sender side's device is "veth0" in NS0; the qdisc under
# test goes there.  Neighbours are static so that ARP/ND never share the
# qdisc with the test's packets; "v4only" turns IPv6 off on the pair so
# that no router solicitation or MLD report does either, and the queue
# holds exactly what the test sent.
fs_netns_pair()
{
	local v4only=${1:-}
	ip netns add "$NS0" || return 1
	fs_on_exit ip netns del "$NS0"
	ip netns add "$NS1" || return 1
	fs_on_exit ip netns del "$NS1"
	ip -n "$NS0" link add name veth0 type veth peer name veth1 netns "$NS1" || return 1
	n0 sysctl -qw net.ipv6.conf.veth0.accept_dad=0
	n1 sysctl -qw net.ipv6.conf.veth1.accept_dad=0
	if [[ $v4only == v4only ]]; then
		n0 sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
		n1 sysctl -qw net.ipv6.conf.veth1.disable_ipv6=1
	fi
	ip -n "$NS0" addr add 10.100.0.1/24 dev veth0
	ip -n "$NS1" addr add 10.100.0.2/24 dev veth1
	if [[ $v4only != v4only ]]; then
		ip -n "$NS0" addr add fd00:100::1/64 dev veth0 nodad
		ip -n "$NS1" addr add fd00:100::2/64 dev veth1 nodad
	fi
	ip -n "$NS0" link set lo up
	ip -n "$NS1" link set lo up
	ip -n "$NS0" link set veth0 up
	ip -n "$NS1" link set veth1 up
	local mac0 mac1
	mac0=$(n0 cat /sys/class/net/veth0/address)
	mac1=$(n1 cat /sys/class/net/veth1/address)
	ip -n "$NS0" neigh replace 10.100.0.2 lladdr "$mac1" dev veth0 nud permanent
	[[ $v4only == v4only ]] ||
		ip -n "$NS0" neigh replace fd00:100::2 lladdr "$mac1" dev veth0 nud permanent
	ip -n "$NS1" neigh replace 10.100.0.1 lladdr "$mac0" dev veth1 nud permanent
	[[ $v4only == v4only ]] ||
		ip -n "$NS1" neigh replace fd00:100::1 lladdr "$mac0" dev veth1 nud permanent
}

# fs_qjson NS DEV [PARENT]: "tc -s -j qdisc show" of the flowshape qdisc.
fs_qjson()
{
	ip netns exec "$1" tc -s -j qdisc show dev "$2" |
		jq -c '[.[] | select(.kind == "flowshape")][0]'
}

# fs_qstat NS DEV JQ-FILTER: one value from the flowshape qdisc's stats.
fs_qstat()
{
	fs_qjson "$1" "$2" | jq -r "$3"
}

UDPSEQ=$FS_SELFTESTS/udpseq
fs_require_udpseq()
{
	[[ -x $UDPSEQ ]] || fs_skip "udpseq not built (make -C selftests)"
}

# kv KEY LINE: the value of KEY in a "k=v k=v" line.
kv()
{
	sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"
}
