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

# fs_skip REASON: the whole test cannot run here.  After an assertion of
# this test already failed, a skip would hide that failure: it is a
# failure then.  (make check fails on any skip that is not on
# tools/skip-allowlist.)
fs_skip()
{
	if ((_fs_failed)); then
		fs_bail "skip after a failed assertion: $*"
	fi
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}

# fs_bail REASON: the test cannot go on and that is a failure (a broken
# module, a setup step that must work here): one "not ok", the plan, and
# exit 1.
fs_bail()
{
	_fs_n=$((_fs_n + 1))
	echo "not ok $_fs_n - $*"
	echo "1..$_fs_n"
	exit $KSFT_FAIL
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

# check DESCRIPTION COMMAND...: one TAP assertion.  Like check_eq and
# check_fail_msg it returns 1 when the assertion failed, so that
# "check ... || dump_the_log" works.
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
		return 1
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
		return 1
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
		return 1
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

# fs_load_module: make the qdisc available: the tree's build (or
# $FLOWSHAPE_MODULE), else the installed module.  A module that does not
# load (missing, bad vermagic, failing init) fails the test: a test that
# needs the qdisc has nothing to say without it.
fs_load_module()
{
	local out
	grep -q '^sch_flowshape ' /proc/modules 2>/dev/null && return 0
	if [[ -n ${FLOWSHAPE_MODULE:-} || -f $FS_MODULE ]]; then
		out=$(insmod "$FS_MODULE" 2>&1) ||
			fs_bail "load module: insmod $FS_MODULE: ${out:-failed}"
	else
		out=$(modprobe sch_flowshape 2>&1) ||
			fs_bail "load module: not built (make) nor installed: ${out:-modprobe failed}"
	fi
	grep -q '^sch_flowshape ' /proc/modules ||
		fs_bail "load module: sch_flowshape not in /proc/modules after loading"
}

# fs_unload_module: remove the module (no qdisc may use it); 1 on failure.
fs_unload_module()
{
	grep -q '^sch_flowshape ' /proc/modules 2>/dev/null || return 0
	rmmod sch_flowshape
}

# fs_debug_module NS DEV PARAM: for the rest of the test, the debug build
# (make module-debug, or $FLOWSHAPE_DEBUG_MODULE) instead of the production
# module, with its module parameter PARAM writable; at exit PARAM is reset
# to 0, the qdisc on DEV in NS deleted and the production module loaded
# again, whatever happened.  Sets DEBUG_KO and KNOB (PARAM's sysfs path).
# No debug build: a failed check, and the test ends there.
fs_debug_module()
{
	local ns=$1 dev=$2
	DEBUG_KO=${FLOWSHAPE_DEBUG_MODULE:-$FS_TOP/build/module-debug/sch_flowshape_debug.ko}
	KNOB=/sys/module/sch_flowshape_debug/parameters/$3
	check "the debug module is built ($DEBUG_KO: make -C selftests)" test -f "$DEBUG_KO"
	[[ -f $DEBUG_KO ]] || fs_done
	fs_on_exit _fs_restore_module "$ns" "$dev"
	tc -n "$ns" qdisc del dev "$dev" root 2>/dev/null
	check "production module unloaded" wait_for 20 rmmod sch_flowshape
	check "debug module loaded" insmod "$DEBUG_KO"
	check "debug knob $3 present" test -w "$KNOB"
}

_fs_restore_module()
{
	[[ -w $KNOB ]] && echo 0 >"$KNOB"
	tc -n "$1" qdisc del dev "$2" root
	if grep -q '^sch_flowshape_debug ' /proc/modules; then
		wait_for 20 rmmod sch_flowshape_debug
	fi
	(fs_load_module) >/dev/null
}

n0() { ip netns exec "$NS0" "$@"; }
n1() { ip netns exec "$NS1" "$@"; }

# fs_netns NS: a network namespace, deleted at exit.
fs_netns()
{
	ip netns add "$1" || return 1
	fs_on_exit ip netns del "$1"
}

# fs_dummy NS DEV [v4only]: a dummy device DEV in namespace NS, up.  With
# "v4only", IPv6 is off on it: no router solicitation or MLD report may
# share its qdisc with the test's packets (counted exactly).
fs_dummy()
{
	ip -n "$1" link add name "$2" type dummy || return 1
	[[ ${3:-} != v4only ]] ||
		ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" || return 1
	ip -n "$1" link set "$2" up
}

# fs_bg NS CMD...: run CMD in namespace NS in the background; BG_PID is
# CMD's own pid (ip netns exec execs it), killed at exit.  (Not "n0 CMD &":
# that backgrounds a subshell running the n0 function, and killing $! then
# leaves CMD running, holding the test's stdout; Documentation/robustness.md,
# finding 3.)  Redirections given to fs_bg apply to CMD.
fs_bg()
{
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	BG_PID=$!
	fs_on_exit kill "$BG_PID"
}

# fs_stop PID...: stop background commands (fs_bg) now and reap them.
fs_stop()
{
	kill "$@" 2>/dev/null
	wait "$@" 2>/dev/null
	return 0
}

# fs_kill_ns NS...: at exit, kill whatever still runs in the namespaces.
fs_kill_ns()
{
	local ns
	for ns in "$@"; do
		fs_on_exit "ip netns pids $ns 2>/dev/null | xargs -r kill -9"
	done
}

# fs_kernel_problems: lines in dmesg that tools/vm/run would fail the run
# on (the one pattern list: selftests/dmesg-problems.txt).  Tests compare
# the count before and after.
FS_DMESG_PROBLEMS=$FS_SELFTESTS/dmesg-problems.txt
fs_kernel_problems()
{
	local pat
	pat=$(grep -Ev '^(#|[[:space:]]*$)' "$FS_DMESG_PROBLEMS" | paste -sd '|')
	if [[ -z $pat ]]; then
		# Never the same text twice: a "before = after" check fails.
		echo "no patterns in $FS_DMESG_PROBLEMS" >&2
		echo "unreadable-$RANDOM$RANDOM"
		return 1
	fi
	dmesg | grep -cE -- "$pat"
}

# fs_netns_pair [v4only]: NS0 (10.100.0.1, fd00:100::1) -- veth -- NS1
# (.2, ::2).  The sender side's device is "veth0" in NS0; the qdisc under
# test goes there.  Neighbours are static so that ARP/ND never share the
# qdisc with the test's packets; "v4only" turns IPv6 off on the pair so
# that no router solicitation or MLD report does either, and the queue
# holds exactly what the test sent.
fs_netns_pair()
{
	local v4only=${1:-}
	fs_netns "$NS0" || return 1
	fs_netns "$NS1" || return 1
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
	# veth hands a packet to the backlog of the CPU that transmitted it;
	# a flow released by the qdisc from two CPUs (the sender's, the
	# watchdog's) could then be reordered after the qdisc.  Steer each
	# receive side to CPU 0 (RPS) so that receivers see packets in the
	# order the qdisc sent them.
	n0 sh -c 'echo 1 >/sys/class/net/veth0/queues/rx-0/rps_cpus' 2>/dev/null
	n1 sh -c 'echo 1 >/sys/class/net/veth1/queues/rx-0/rps_cpus' 2>/dev/null
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
	tc -n "$1" -s -j qdisc show dev "$2" |
		jq -c '[.[] | select(.kind == "flowshape")][0]'
}

# fs_qstat NS DEV JQ-FILTER: one value from the flowshape qdisc's stats.
# (One jq run: jq alone costs ~0.25 s under TCG.)
fs_qstat()
{
	tc -n "$1" -s -j qdisc show dev "$2" |
		jq -r "[.[] | select(.kind == \"flowshape\")][0] | $3"
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

# ---------------------------------------------------------------------------
# Helpers for the per-flow shaper tests (shaping, dests, ordering, limits,
# params, lifecycle).

FSNL=$FS_SELFTESTS/fsnl
fs_require_fsnl()
{
	[[ -x $FSNL ]] || fs_skip "fsnl not built (make -C selftests)"
}

# check_skip DESCRIPTION REASON: a TAP assertion that cannot be made here.
check_skip()
{
	_fs_n=$((_fs_n + 1))
	echo "ok $_fs_n - $1 # SKIP $2"
}

# fcmp EXPR: floating-point comparison, e.g. fcmp "$a >= $b - 1".
fcmp()
{
	awk "BEGIN { exit !($*) }" </dev/null
}

# fs_xstat NS DEV FIELD: one xstats (or standard stats) field.
fs_xstat()
{
	fs_qstat "$1" "$2" ".$3"
}

# fs_xsnap NS DEV: every scalar of the flowshape qdisc's "tc -s -j" object
# (standard stats and xstats) into the associative array XS, with one tc
# and one jq run: ${XS[drops]}, ${XS[enqueued]}, ...
declare -A XS
fs_xsnap()
{
	local k v
	XS=()
	# (No process substitution: the VM's devtmpfs has no /dev/fd.)
	while IFS='=' read -r k v; do
		[[ -n $k ]] && XS[$k]=$v
	done <<<"$(tc -n "$1" -s -j qdisc show dev "$2" |
		jq -r '[.[] | select(.kind == "flowshape")][0] | to_entries[] |
			select(.value | type != "object" and type != "array") |
			"\(.key)=\(.value)"')"
	[[ -n ${XS[enqueued]} ]]
}

# fs_qlen NS DEV: packets queued in DEV's root qdisc, from the text stats
# ("backlog Nb Mp"): cheap enough to poll.
fs_qlen()
{
	tc -n "$1" -s qdisc show dev "$2" |
		awk '$1 == "backlog" { sub(/p$/, "", $3); print $3; exit }'
}

# fs_xstat_text NS DEV FIELD: one xstats field from the text stats ("FIELD
# N"), no jq: for polling.
fs_xstat_text()
{
	tc -n "$1" -s qdisc show dev "$2" |
		awk -v f="$3" '{ for (i = 1; i < NF; i++) if ($i == f) { print $(i + 1); exit } }'
}

# fs_qopt NS DEV KEY: one option of the flowshape qdisc (tc -j qdisc show).
fs_qopt()
{
	tc -n "$1" -j qdisc show dev "$2" |
		jq -r "[.[] | select(.kind == \"flowshape\")][0].options.$3"
}

# fs_now_ms: CLOCK_MONOTONIC-ish wall time in ms (for elapsed-time bounds).
fs_now_ms()
{
	local t
	read -r t _ </proc/uptime
	awk -v t="$t" 'BEGIN { printf "%d\n", t * 1000 }'
}

# fs_formula_ns CW CT C LW LT L MAXD: the spec's delay in ns, from weights
# and max_delay in ns and levels/thresholds as fractions:
#   c' = c <= ct ? 0 : (c - ct) / (1 - ct)   (0 when ct = 1), same for load
#   delay = min(CW * c' + LW * l', MAXD)
fs_formula_ns()
{
	awk -v cw="$1" -v ct="$2" -v c="$3" -v lw="$4" -v lt="$5" -v l="$6" \
		-v md="$7" 'BEGIN {
		cp = (c <= ct || ct >= 1) ? 0 : (c - ct) / (1 - ct)
		lp = (l <= lt || lt >= 1) ? 0 : (l - lt) / (1 - lt)
		d = cw * cp + lw * lp
		if (d > md) d = md
		printf "%.0f\n", d
	}'
}

# fs_percentile P...: the P-th percentiles (nearest rank above: the value
# at sorted position floor(n * P / 100) + 1) of the numbers on stdin, one
# a line, printed on one line in the order asked; 0 is the minimum, 50 the
# median (the upper one for even n), 100 the maximum.  Prints nothing for
# no input.
fs_percentile()
{
	sort -g | awk -v ps="$*" '{ v[NR] = $1 }
		END {
			if (!NR) exit
			n = split(ps, p, " ")
			for (k = 1; k <= n; k++) {
				i = int(NR * p[k] / 100) + 1
				if (i > NR) i = NR
				printf "%s%s", v[i], k < n ? " " : "\n"
			}
		}'
}

# fs_ping NS ADDR COUNT [INTERVAL]: ping and set PING_MIN, PING_P25 (lower
# quartile), PING_MED, PING_MAX (ms, from the per-reply "time=" values) and
# PING_N (replies).
# Returns 1 when no reply came back.
fs_ping()
{
	local ns=$1 addr=$2 count=$3 ival=${4:-0.05} fam=-4 out
	[[ $addr == *:* ]] && fam=-6
	out=$(ip netns exec "$ns" ping "$fam" -n -c "$count" -i "$ival" -W 3 "$addr" 2>&1 |
		sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p')
	PING_N=$(grep -c . <<<"$out")
	if ((PING_N == 0)); then
		PING_MIN=999999 PING_MED=999999 PING_MAX=999999
		return 1
	fi
	read -r PING_MIN PING_P25 PING_MED PING_MAX <<<"$(fs_percentile 0 25 50 100 <<<"$out")"
	fs_log "ping $addr: n=$PING_N min=$PING_MIN p25=$PING_P25 median=$PING_MED max=$PING_MAX ms"
}

# fs_ping_all NS ADDR COUNT [INTERVAL]: fs_ping, and every request got
# its reply.  For paths that nothing delays or drops: ping waits 3 s for
# a reply, ten times the worst whole-VM stall measured under TCG (see the
# lateness bounds below), so a lost reply is a lost packet.
fs_ping_all()
{
	fs_ping "$@" || return 1
	((PING_N == $3)) || { fs_log "ping $2: $PING_N of $3 replies"; return 1; }
}

# fs_ping_min_ms NS ADDR COUNT: the minimum RTT in ms.
fs_ping_min_ms()
{
	fs_ping "$@" >/dev/null
	echo "$PING_MIN"
}

# fs_peer_addr ADDR: one more address of the receiver (NS1, veth1), as a
# host route, reachable from NS0 over veth0 with a static neighbour, so
# that tests can aim at destinations inside prefixes of their choice.
fs_peer_addr()
{
	local a=$1 mac1
	mac1=$(n1 cat /sys/class/net/veth1/address)
	if [[ $a == *:* ]]; then
		ip -n "$NS1" addr add "$a/128" dev veth1 nodad || return 1
		ip -n "$NS0" -6 route add "$a/128" dev veth0 || return 1
	else
		ip -n "$NS1" addr add "$a/32" dev veth1 || return 1
		ip -n "$NS0" route add "$a/32" dev veth0 || return 1
	fi
	ip -n "$NS0" neigh replace "$a" lladdr "$mac1" dev veth0 nud permanent
}

# fs_baseline NS ADDR: ping with no qdisc in the way of interest yet and
# set BASE_MIN / BASE_MED (ms): TCG makes even veth RTTs vary, so delays
# are always judged against the same run's baseline.
fs_baseline()
{
	fs_ping "$1" "$2" 10 0.02 || return 1
	BASE_MIN=$PING_MIN BASE_MED=$PING_MED BASE_MAX=$PING_MAX
}

# _fs_t2ns TOKEN: iproute2 time text (4ms, 1.2s, 200us, 100ns, 0) -> ns.
# _fs_f2f TOKEN: fraction text (0.35, 35%) -> float.
_FS_AWK_CONV='
function t2ns(s,   v, u) {
	v = s + 0
	u = s; sub(/^[-0-9.eE+]+/, "", u)
	if (u == "s" || u == "sec" || u == "secs") return v * 1e9
	if (u == "ms" || u == "msec" || u == "msecs") return v * 1e6
	if (u == "us" || u == "usec" || u == "usecs") return v * 1e3
	return v
}
function f2f(s) { if (s ~ /%$/) return (s + 0) / 100; return s + 0 }
'

# A bare address in the listing is a host route: name it PREFIX/32 or /128
# so that tests can look entries up by prefix either way.
_FS_JQ_NORM='map(.dest |= (if test("/") then . elif test(":") then . + "/128" else . + "/32" end))'

# fs_dests NS DEV: the destination table as a JSON array of
# {handle, dest, congestion, load, age, delay, stale} (age/delay in ns,
# levels as floats).  Three sources, best first (FS_DESTS_SRC, set when
# called without a subshell, says which):
#   json    "tc -j class show" is one JSON array (a tc with JSON class dumps);
#   hybrid  iproute2 6.1's tc prints "class flowshape H parent P: " itself
#           (fprintf, no JSON context for classes) and the plugin's options
#           follow as one JSON object: exact values, parsed line by line;
#   text    the text listing, times rounded by tc's printing: compare them
#           with tolerance.
fs_dests()
{
	local ns=$1 dev=$2 out
	out=$(tc -n "$ns" -j class show dev "$dev" 2>/dev/null)
	if [[ $out == "["* ]] && jq -e 'type == "array"' >/dev/null 2>&1 <<<"$out"; then
		FS_DESTS_SRC=json
		jq -c '[.[] | select(.class == "flowshape") |
			{handle, parent} + .options |
			.stale = (.stale // false)] | '"$_FS_JQ_NORM" <<<"$out"
		return
	fi
	if grep -q '^class flowshape [^ ]* .*{' <<<"$out"; then
		FS_DESTS_SRC=hybrid
		sed -n 's/^class flowshape \([^ ]*\) \(parent \([^ ]*\) \)\{0,1\}\({.*}\) *$/{"handle":"\1","parent":"\3","options":\4}/p' <<<"$out" |
			jq -cs '[.[] | {handle, parent} + .options |
				.stale = (.stale // false)] | '"$_FS_JQ_NORM"
		return
	fi
	FS_DESTS_SRC=text
	tc -n "$ns" class show dev "$dev" | awk "$_FS_AWK_CONV"'
	$1 == "class" && $2 == "flowshape" {
		h = $3; d = ""; c = 0; l = 0; a = 0; dl = 0; st = "false"
		for (i = 4; i <= NF; i++) {
			if ($i == "dest") d = $(i + 1)
			else if ($i == "congestion") c = f2f($(i + 1))
			else if ($i == "load") l = f2f($(i + 1))
			else if ($i == "age") a = t2ns($(i + 1))
			else if ($i == "delay") dl = t2ns($(i + 1))
			else if ($i == "stale") st = "true"
		}
		printf "{\"handle\":\"%s\",\"dest\":\"%s\",\"congestion\":%.6f,", h, d, c
		printf "\"load\":%.6f,\"age\":%.0f,\"delay\":%.0f,\"stale\":%s}\n", l, a, dl, st
	}' | jq -cs "$_FS_JQ_NORM"
}

# fs_dest_in TABLE PREFIX [FILTER]: from TABLE (fs_dests' JSON), the
# entry for PREFIX ("null" if none), or FILTER (a jq filter, e.g. ".delay")
# applied to it; strings raw, objects compact.
fs_dest_in()
{
	jq -rc --arg p "$2" "[.[] | select(.dest == \$p)][0] | ${3:-.}" <<<"$1"
}

# fs_dest NS DEV PREFIX [FILTER]: the same, from a fresh listing.
fs_dest()
{
	fs_dest_in "$(fs_dests "$1" "$2")" "$3" "${4:-.}"
}

# fs_dest_count NS DEV: number of entries listed.
fs_dest_count()
{
	fs_dests "$1" "$2" | jq length
}

# fs_recv_start PORT OUTFILE [ARGS...]: start a udpseq receiver in NS1 and
# wait until its socket is bound; the pid is left in RECV_PID.  With
# RECV_MODE=tcprecv in the environment, the TCP receiver instead.
fs_recv_start()
{
	local port=$1 out=$2
	shift 2
	fs_bg "$NS1" "$UDPSEQ" "${RECV_MODE:-recv}" "$port" "$@" >"$out"
	RECV_PID=$BG_PID
	wait_for 10 grep -q ready "$out"
}

# fs_tmp: a temporary file removed at exit.
fs_tmp()
{
	local f
	f=$(mktemp)
	fs_on_exit rm -f "$f"
	echo "$f"
}

# fs_udp_payload_for LEN: UDP payload so that skb->len (what the qdisc sees
# on veth: 14 Ethernet + 20 IPv4 + 8 UDP + payload) is LEN.
fs_udp_payload_for()
{
	echo $(($1 - 42))
}

# fs_fresh DEV ARGS...: a new flowshape root qdisc (handle 1:) on DEV in NS0,
# replacing whatever was there (so that counters start from zero).  Unless
# ARGS say otherwise, stale_after is 10 s (the maximum): a test section
# takes longer than the default 5 s under TCG, and an entry going stale
# in the middle of it would silently stop delaying.
fs_fresh()
{
	local dev=$1 stale=(stale_after 10s)
	shift
	[[ " $* " == *" stale_after "* ]] && stale=()
	tc -n "$NS0" qdisc del dev "$dev" root >/dev/null 2>&1
	tc -n "$NS0" qdisc add dev "$dev" root handle 1: flowshape "${stale[@]}" "$@"
}

# fs_change DEV ARGS...: tc qdisc change of NS0's flowshape root qdisc.
fs_change()
{
	local dev=$1
	shift
	tc -n "$NS0" qdisc change dev "$dev" root flowshape "$@"
}

# fs_t2ns TIME: iproute2 time text (40ms, 1.5s, 200us, 100ns, 7) in ns
# (integer; a bare number is ns), with _FS_AWK_CONV's t2ns: one converter
# for the tests and the text listing.
fs_t2ns()
{
	awk -v t="$1" "$_FS_AWK_CONV"'BEGIN { printf "%.0f\n", t2ns(t) }'
}

# fs_ns MS: MS milliseconds in ns (integer).
fs_ns()
{
	fs_t2ns "${1}ms"
}

# fs_ms NS: nanoseconds in ms (float).
fs_ms()
{
	awk -v n="$1" 'BEGIN { printf "%.3f\n", n / 1e6 }'
}

# Lateness bounds for released packets under TCG.  The watchdog is an
# hrtimer; under software emulation vCPU threads get descheduled and timer
# softirqs run late.  Measured: lateness_max 2-8 ms on a quiet host, 60 ms
# with a stream running, 130-320 ms (with ping outliers of 140-340 ms: the
# whole VM stalled) while four other TCG VMs shared the host's 2 CPUs.  A
# single stall makes one sample huge, so:
#   - the mean lateness WITHOUT the worst sample, (total - max) / (n - 1),
#     must stay below 25 ms (worst seen: 7 ms);
#   - the worst sample must stay below 1 s (3x the worst stall seen).
# Both stay far below a release that waits for an unrelated event (the
# next ping, 50-100 ms later, for every packet; or seconds) or a unit
# mix-up (us for ns: 1000x).
FS_LATE_BOUND_NS=${FS_LATE_BOUND_NS:-1000000000}
FS_LATE_MEAN_BOUND_NS=${FS_LATE_MEAN_BOUND_NS:-25000000}

# "No delay" RTT checks compare the lower quartile of the RTTs with the
# baseline median plus 10 ms: on a loaded host the whole VM stalls now and
# then (medians of ~20 ms for 20 undelayed pings were seen, with
# watchdog_armed 0), while the delays these checks tell apart are 20 ms and
# more, for most packets.  The exact assertion is the kernel's own count
# next to each (delayed == 0, stale_packets).
FS_NODELAY_TOL_MS=${FS_NODELAY_TOL_MS:-10}

# check_release_accuracy NS DEV: after delayed traffic has drained, no
# packet left early, every delayed packet gave a lateness sample, and the
# worst lateness stays within FS_LATE_BOUND_NS.
check_release_accuracy()
{
	check "delayed traffic drained within 10 s" wait_for 10 fs_drained "$1" "$2"
	fs_xsnap "$1" "$2"
	fs_log "delayed=${XS[delayed]} late_packets=${XS[late_packets]}" \
		"lateness_total_ns=${XS[lateness_total_ns]} lateness_max_ns=${XS[lateness_max_ns]}"
	check_eq "no early release" 0 "${XS[early_releases]}"
	check "there was delayed traffic to judge (delayed=${XS[delayed]})" \
		test "${XS[delayed]:-0}" -gt 0
	check_eq "every delayed packet released with a lateness sample" \
		"${XS[delayed]}" "${XS[late_packets]}"
	check "lateness_max_ns ${XS[lateness_max_ns]} < $FS_LATE_BOUND_NS (TCG bound)" \
		test "${XS[lateness_max_ns]:-999999999999}" -lt "$FS_LATE_BOUND_NS"
	check "mean lateness without the worst sample < $FS_LATE_MEAN_BOUND_NS ns (TCG bound)" \
		fcmp "${XS[late_packets]:-0} > 1 && (${XS[lateness_total_ns]:-0} - ${XS[lateness_max_ns]:-0}) / (${XS[late_packets]:-2} - 1) < $FS_LATE_MEAN_BOUND_NS"
}

# fs_qlen_ge NS DEV N / fs_xstat_ge NS DEV FIELD N: polling conditions for
# wait_for (re-evaluated on every try).
fs_qlen_ge()
{
	local q
	q=$(fs_qlen "$1" "$2")
	[[ -n $q ]] && ((q >= $3))
}
fs_xstat_ge()
{
	local v
	v=$(fs_xstat_text "$1" "$2" "$3")
	[[ -n $v ]] && ((v >= $4))
}
fs_drained()
{
	[[ $(fs_qlen "$1" "$2") == 0 ]]
}

# fs_jq_true FILTER JSON: the jq FILTER yields true on JSON (for check).
fs_jq_true()
{
	jq -e "$1" >/dev/null 2>&1 <<<"$2"
}

# fs_section NAME: log a section start with the seconds since the test began.
fs_section()
{
	fs_log "== $* (t=${SECONDS}s)"
}

# ---------------------------------------------------------------------------
# Forwarded traffic (actuator.sh, aqm.sh, static-proof.sh): locally
# generated UDP is held back by the sender's socket buffer, so a qdisc
# that must build a backlog sits on a forwarding node.
#
#   NSC (client) c0 10.101.0.1 -- fin 10.101.0.2  NSF (forwarder)
#                                 fout 10.102.0.1 -- s0 10.102.0.2 NSS (server)
#
# The qdisc under test goes on NSF's "fout".  Static neighbours, IPv4 only.
# fs_fwd_chain [nooffload]: with "nooffload", gso/gro/tso are turned off on
# every device (ethtool), so that a bottleneck sees MTU packets.
NSC=${FS_ID}c
NSF=${FS_ID}f
NSS=${FS_ID}s
FS_CLIENT=10.101.0.1
FS_SERVER=10.102.0.2
fs_fwd_chain()
{
	local ns dev mac
	for ns in "$NSC" "$NSF" "$NSS"; do
		ip netns add "$ns" || return 1
		fs_on_exit ip netns del "$ns"
		ip -n "$ns" link set lo up
	done
	ip -n "$NSC" link add name c0 type veth peer name fin netns "$NSF" || return 1
	ip -n "$NSF" link add name fout type veth peer name s0 netns "$NSS" || return 1
	for ns in "$NSC:c0" "$NSF:fin" "$NSF:fout" "$NSS:s0"; do
		ip netns exec "${ns%%:*}" sysctl -qw "net.ipv6.conf.${ns##*:}.disable_ipv6=1"
		if [[ ${1:-} == nooffload ]]; then
			ip netns exec "${ns%%:*}" ethtool -K "${ns##*:}" gso off gro off tso off \
				>/dev/null 2>&1 || return 1
		fi
		ip -n "${ns%%:*}" link set "${ns##*:}" up
		# Receivers see packets in the order they were sent (see
		# fs_netns_pair).
		ip netns exec "${ns%%:*}" sh -c \
			"echo 1 >/sys/class/net/${ns##*:}/queues/rx-0/rps_cpus" 2>/dev/null
	done
	ip -n "$NSC" addr add $FS_CLIENT/24 dev c0
	ip -n "$NSF" addr add 10.101.0.2/24 dev fin
	ip -n "$NSF" addr add 10.102.0.1/24 dev fout
	ip -n "$NSS" addr add $FS_SERVER/24 dev s0
	ip -n "$NSC" route add default via 10.101.0.2
	ip -n "$NSS" route add default via 10.102.0.1
	ip netns exec "$NSF" sysctl -qw net.ipv4.ip_forward=1
	mac=$(ip netns exec "$NSF" cat /sys/class/net/fin/address)
	ip -n "$NSC" neigh replace 10.101.0.2 lladdr "$mac" dev c0 nud permanent
	mac=$(ip netns exec "$NSC" cat /sys/class/net/c0/address)
	ip -n "$NSF" neigh replace $FS_CLIENT lladdr "$mac" dev fin nud permanent
	mac=$(ip netns exec "$NSS" cat /sys/class/net/s0/address)
	ip -n "$NSF" neigh replace $FS_SERVER lladdr "$mac" dev fout nud permanent
	mac=$(ip netns exec "$NSF" cat /sys/class/net/fout/address)
	ip -n "$NSS" neigh replace 10.102.0.1 lladdr "$mac" dev s0 nud permanent
}

# fs_jain C1,C2,...: Jain's fairness index of the counts, (sum)^2 / (n sum^2).
fs_jain()
{
	awk -v l="$1" 'BEGIN {
		n = split(l, c, ",")
		for (i = 1; i <= n; i++) { s += c[i]; q += c[i] * c[i] }
		printf "%.4f\n", (n && q) ? s * s / (n * q) : 0
	}'
}
