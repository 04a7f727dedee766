#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# flowshape benchmark, guest side: everything runs in this one boot.
#
#   tools/vm/run -t 1800 -- tools/bench/run-in-vm.sh OUTDIR
#
# Traffic is pktgen in queue_xmit mode (the only pktgen mode that goes
# through the root qdisc) with clone_skb 0, into a dummy device whose root
# qdisc is the one under test.  Peers are run interleaved in the same boot
# (A B C ... then ... C B A, repeated), so that drift in the emulator and
# load from the rest of the host hit every peer alike.
#
# Writes OUTDIR/raw.txt, one measurement a line:
#     FIG PEER N REP METRIC VALUE
# plus OUTDIR/meta.txt (key=value), OUTDIR/commands.txt (every tc and
# pktgen configuration used) and OUTDIR/bpftrace.txt.
#
# Environment: BENCH_QUICK=1 for the CI smoke variant (fewer reps, flows,
# shorter runs).  Everything here is bounded by timeout.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
out=${1:?usage: run-in-vm.sh OUTDIR}
mkdir -p "$out"
raw=$out/raw.txt
cmds=$out/commands.txt
meta=$out/meta.txt
: >"$raw"
: >"$cmds"
: >"$meta"
export TC_LIB_DIR=$top/tc

QUICK=${BENCH_QUICK:-0}
DEV=bd0
PKT=64				# pktgen pkt_size: 64 B on the wire, qdisc_pkt_len 64
PG=/proc/net/pktgen

if ((QUICK)); then
	REPS=2
	FIG1_N="1000"
	FIG1_T=1
	FIG2_N="1000"
	FIG2_T=1
	FIG3_N=1000
	FIG3_REPS=0	# bpftrace takes a minute to start under TCG
	FIG3_T=1
	SAT_COUNT=5000
	MEM_N=10000
	PROFILE_N=1000
else
	REPS=${BENCH_REPS:-5}
	FIG1_N="1 1000 100000"
	FIG1_T=2
	FIG2_N="100 10000 100000"
	FIG2_T=3
	FIG3_N=10000
	FIG3_REPS=2
	FIG3_T=3
	SAT_COUNT=30000
	MEM_N=100000
	PROFILE_N=100000
fi
RATE=5000		# offered load of the paced runs, packets/s
BURST=4			# packets per flow back to back in the paced runs
SPACING_NS=1000000	# pacing between a burst's packets: fq and spread
DELAY_NS=1000000	# added delay: netem and flowshape mode delay

FIG1_PEERS="pfifo fq netem fs-spread fs-delay"
FIG2_PEERS="pfifo fq netem fs-spread fs-delay"
FIG3_PEERS="fs-delay netem fs-spread fq"

log() { echo "bench: [${SECONDS}s] $*" >&2; }
die() { log "FATAL: $*"; exit 1; }
rec() { echo "$*" >>"$raw"; }
declare -A SEEN
note_cmd() { [[ -n ${SEEN["$*"]:-} ]] || { SEEN["$*"]=1; echo "$*" >>"$cmds"; }; }

# --- qdiscs ----------------------------------------------------------------

pow2ge() { local n=$1 p=1; while ((p < n)); do p=$((p * 2)); done; echo $p; }

# Distinct handles, so that the tracepoints tell the peers apart.
handle_of()
{
	case $1 in
	pfifo) echo 1 ;; fq) echo 2 ;; netem) echo 3 ;;
	fs-spread) echo 4 ;; fs-delay) echo 5 ;;
	esac
}

# qdisc_args PEER N PHASE: the qdisc's tc arguments.  PHASE "add" is the
# configuration with no delay (used to create the qdisc and its N flows),
# PHASE "delay" the arguments that "tc qdisc change" adds to make every flow
# delayed (figures 2 and 3); empty when the peer has none.
qdisc_args()
{
	local peer=$1 n=$2 phase=$3 b fb
	b=$(pow2ge "$n")
	((b < 1024)) && b=1024
	fb=$b
	((fb > 262144)) && fb=262144
	case $peer/$phase in
	pfifo/add) echo "pfifo limit 1000000" ;;
	pfifo/delay) ;;
	# orphan_mask 0xffffffff: fq keys pktgen's socketless packets by the
	# full skb hash, i.e. exactly the flows flowshape sees.
	fq/add) echo "fq limit 1000000 flow_limit 100000 buckets $fb orphan_mask 4294967295" ;;
	# 512 kbit/s = 64000 B/s: one 64 B packet per ms per flow; below
	# low_rate_threshold (550 kbit) so that every packet is paced.
	fq/delay) echo "fq maxrate 512kbit" ;;
	netem/add) echo "netem limit 1000000 delay 0" ;;
	netem/delay) echo "netem limit 1000000 delay $((DELAY_NS / 1000))us" ;;
	fs-spread/add | fs-delay/add)
		echo "flowshape limit 1000000 flow_limit 100000 buckets $b" \
			"max_flows $(( 2 * b > 65536 ? 2 * b : 65536 ))" \
			"flow_idle 60s mode ${peer#fs-}" ;;
	# spread: a 64 B packet every weight * 64 / quantum = 1 ms per flow.
	fs-spread/delay)
		echo "flowshape default_congestion 1 load_weight 0" \
			"congestion_weight $((SPACING_NS * 256 / PKT / 1000))us quantum 256" ;;
	fs-delay/delay)
		echo "flowshape default_congestion 1 load_weight 0" \
			"congestion_weight $((DELAY_NS / 1000))us" ;;
	esac
}

tcq()
{
	note_cmd "tc $*"
	timeout 20 tc "$@" || die "tc $* failed"
}

qdisc_setup() # PEER N
{
	# A new qdisc every time: "replace" by the same kind and handle would
	# only change the old one, flows and counters included.
	timeout 20 tc qdisc del dev $DEV root 2>/dev/null
	# shellcheck disable=SC2046
	tcq qdisc add dev $DEV root handle "$(handle_of "$1"):" $(qdisc_args "$1" "$2" add)
}

qdisc_delay_on() # PEER N
{
	local a
	a=$(qdisc_args "$1" "$2" delay)
	# shellcheck disable=SC2086
	[[ -z $a ]] || tcq qdisc change dev $DEV root $a
}

# qsnap ARRAY: the root qdisc's numeric stats and xstats into the
# associative ARRAY (one tc and one jq: process starts are slow in TCG).
qsnap()
{
	local -n arr=$1
	local k v
	arr=()
	while read -r k v; do
		arr[$k]=$v
	done < <(timeout 20 tc -s -j qdisc show dev $DEV |
		jq -r '.[0] | to_entries[] | select(.value | type == "number") | "\(.key) \(.value)"')
}
declare -A J0 J1

# --- pktgen ----------------------------------------------------------------

pgw() # FILE COMMAND
{
	if ! echo "$2" >"$PG/$1" 2>/dev/null; then
		die "pktgen: '$2' > $1: $(grep -h Result "$PG/$1" 2>/dev/null)"
	fi
	note_cmd "pktgen $1: $2"
}

pg_base() # COUNT DELAY_NS
{
	local i
	pgw kpktgend_0 rem_device_all
	for i in $(seq 100); do
		[[ -e $PG/$DEV ]] || break
		sleep 0.05
	done
	pgw kpktgend_0 "add_device $DEV"
	pgw $DEV "xmit_mode queue_xmit"
	pgw $DEV "clone_skb 0"
	pgw $DEV "pkt_size $PKT"
	pgw $DEV "count $1"
	pgw $DEV "delay $2"
	pgw $DEV "dst_mac 02:00:00:00:00:01"
	pgw $DEV "src_min 10.0.0.1"
	pgw $DEV "src_max 10.0.0.1"
}

# pg_ports N COUNT DELAY: N flows by cycling UDP ports, one packet per flow
# in turn.  On 6.1 udp_src_max/udp_dst_max are EXCLUSIVE (the port wraps
# when cur >= max; pktgen.c: "udp_src_max; exclusive").  Past 60k flows,
# N = a * b with a odd and b a power of two (coprime): the source port
# cycles over a values and the destination port over b, which together
# step through all a * b pairs.
pg_ports()
{
	local n=$1 a=$1 b=1
	# Past 60000, strip every factor of 2 from a (a odd, b a power of
	# two): a common factor would make the two cycles step through only
	# lcm(a, b) < a * b pairs.
	if ((a > 60000)); then
		while ((a % 2 == 0)); do
			a=$((a / 2))
			b=$((b * 2))
		done
	fi
	((a <= 60000 && b <= 60000)) || die "cannot make $n flows from ports"
	pg_base "$2" "$3"
	pgw $DEV "dst_min 10.16.0.1"
	pgw $DEV "dst_max 10.16.0.1"
	pgw $DEV "udp_src_min 1024"
	pgw $DEV "udp_src_max $((1024 + a))"
	pgw $DEV "udp_dst_min 5000"
	pgw $DEV "udp_dst_max $((5000 + b))"
}

ip4() { local x=$1; echo "$((x >> 24 & 255)).$((x >> 16 & 255)).$((x >> 8 & 255)).$((x & 255))"; }

# pg_dsts N LEN COUNT DELAY: N flows (destination addresses 10.16.0.0 + i,
# fixed ports), LEN packets of one flow back to back, flows in sequence
# (flows 1, flowlen LEN, FLOW_SEQ).  Bursts are what makes fq's and
# spread's per-flow pacing act on every flow at a load this machine can
# offer.  The IPv4 range is inclusive.
pg_dsts()
{
	local base=$(((10 << 24) | (16 << 16)))
	pg_base "$3" "$4"
	pgw $DEV "dst_min $(ip4 $base)"
	pgw $DEV "dst_max $(ip4 $((base + $1 - 1)))"
	pgw $DEV "udp_src_min 1024"
	pgw $DEV "udp_src_max 1024"
	pgw $DEV "udp_dst_min 5000"
	pgw $DEV "udp_dst_max 5000"
	pgw $DEV "flows 1"
	pgw $DEV "flowlen $2"
	pgw $DEV "flag FLOW_SEQ"
}

# nap SECONDS: sleep without starting a process (process starts cost
# much CPU time in TCG and would be counted in the measured windows).
nap() { read -rt "$1" <> <(:) || :; }

# pg_start_wait TIMEOUT: run to the configured count.  Only builtins run
# while it waits (the write blocks until pktgen is done); a watchdog
# subshell, forked before, stops pktgen if it is not done in TIMEOUT s.
pg_start_wait()
{
	( nap "$1"; echo stop >$PG/pgctrl; echo timeout >"$out/.pg_timeout" ) &
	local w=$! rc=0
	rm -f "$out/.pg_timeout"
	echo start >$PG/pgctrl
	kill $w 2>/dev/null
	wait $w 2>/dev/null
	if [[ -e $out/.pg_timeout ]]; then
		log "pktgen did not finish in $1 s (stopped)"
		rc=1
	fi
	return $rc
}

# pg_start_for SECONDS: run for a fixed time (count 0 = unbounded).
pg_start_for()
{
	timeout $(($1 + 30)) sh -c "echo start > $PG/pgctrl" &
	local p=$!
	sleep "$1"
	echo stop >$PG/pgctrl
	wait $p
}

# PG_SOFAR: packets sent; PG_USEC: elapsed run time, us, from
# "Result: OK: 2254963(c2254566+d397) usec, ..." (bash only: no exec).
pg_result()
{
	local l
	PG_SOFAR= PG_USEC=
	while read -r l; do
		case $l in
		pkts-sofar:*) l=${l#pkts-sofar: } PG_SOFAR=${l%% *} ;;
		"Result: OK: "[0-9]*) l=${l#Result: OK: } PG_USEC=${l%%(*} ;;
		esac
	done <$PG/$DEV
}

# --- counters --------------------------------------------------------------

# Busy CPU time of all CPUs, in USER_HZ ticks (user nice system irq
# softirq steal: everything but idle and iowait).
cpu_busy()
{
	local c u n s i w q sq st
	read -r c u n s i w q sq st _ </proc/stat
	echo $((u + n + s + q + sq + st))
}
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)

TR=/sys/kernel/tracing
# qdisc_watchdog hrtimer expiries so far (a hist trigger counts them).
wd_hits()
{
	local k v
	[[ -r $TR/events/timer/hrtimer_expire_entry/hist ]] || { echo 0; return; }
	while read -r k v _; do
		[[ $k == Hits: ]] && { echo "$v"; return; }
	done <$TR/events/timer/hrtimer_expire_entry/hist
	echo 0
}

wd_trigger_on()
{
	local a
	a=$(awk '$3 == "qdisc_watchdog" {print $1; exit}' /proc/kallsyms)
	[[ -n $a && $a != 0000000000000000 ]] || { log "no qdisc_watchdog in kallsyms"; return 1; }
	echo "hist:keys=function.sym:vals=hitcount if function == 0x$a" \
		>$TR/events/timer/hrtimer_expire_entry/trigger
}

# --- one run of each kind --------------------------------------------------

# run_sat PEER N REP: figure 1, saturation with delay 0.
run_sat()
{
	local peer=$1 n=$2 rep=$3 j0 j1 sofar us
	qdisc_setup "$peer" "$n"
	# Create the flows first, so that the timed run sees N of them.
	if ((n > 1)); then
		pg_ports "$n" "$n" 0
		pg_start_wait 120 || return 1
	fi
	pg_ports "$n" 0 0
	qsnap J0
	pg_start_for $FIG1_T
	qsnap J1
	pg_result
	sofar=$PG_SOFAR us=$PG_USEC
	[[ -n $us && $us -gt 0 ]] || { log "no pktgen result"; return 1; }
	rec 1 "$peer" "$n" "$rep" pkts "$sofar"
	rec 1 "$peer" "$n" "$rep" pps "$((sofar * 1000000 / us))"
	rec 1 "$peer" "$n" "$rep" flows "${J1[flows]:-0}"
	rec 1 "$peer" "$n" "$rep" drops "$((${J1[drops]:-0} - ${J0[drops]:-0}))"
	log "fig1 $peer N=$n rep=$rep: $((sofar * 1000000 / us)) pps, flows ${J1[flows]:-0}"
}

# run_paced FIG PEER N REP SECONDS: figures 2, 3 and 5.  The qdisc is
# created without delay and filled with N flows, one packet each (not for
# figure 3, so that the tracepoints see only delayed packets), then changed
# so that every flow is delayed.  Then two timed runs on that qdisc:
#
#   paced: pktgen offers RATE packets/s, BURST packets per flow back to
#	back, for SECONDS; CPU busy time of all CPUs from /proc/stat from
#	just before to 0.2 s after (the last packets drain), qdisc_watchdog
#	expiries, the qdisc's lateness counters.
#   sat (figure 2 only): the same traffic unpaced, SAT_COUNT packets:
#	CPU per packet without pktgen's per-packet sleep and wake-up.
#
# Before the change nothing was delayed, so the delay counters of the
# xstats (lateness, early, watchdog_armed, throttled) all come from the
# paced run.
run_paced()
{
	local fig=$1 peer=$2 n=$3 rep=$4 secs=$5
	local b0 b1 w0 w1 t0 t1 sofar us busy_ns k
	qdisc_setup "$peer" "$n"
	if [[ $fig != 3 ]]; then
		pg_dsts "$n" 1 "$n" 0
		pg_start_wait 120 || return 1
		sleep 0.1
	fi
	qdisc_delay_on "$peer" "$n"
	pg_dsts "$n" $BURST $((RATE * secs)) $((1000000000 / RATE))
	nap 0.2
	w0=$(wd_hits)
	t0=${EPOCHREALTIME/./}000
	b0=$(cpu_busy)
	pg_start_wait $((secs * 10 + 60)) || return 1
	nap 0.2
	b1=$(cpu_busy)
	t1=${EPOCHREALTIME/./}000
	w1=$(wd_hits)
	qsnap J1
	pg_result
	sofar=$PG_SOFAR us=$PG_USEC
	[[ -n $us && $us -gt 0 && $sofar -gt 0 ]] || { log "no pktgen result"; return 1; }
	busy_ns=$(((b1 - b0) * 1000000000 / HZ))
	rec "$fig" "$peer" "$n" "$rep" pkts "$sofar"
	rec "$fig" "$peer" "$n" "$rep" pps "$((sofar * 1000000 / us))"
	rec "$fig" "$peer" "$n" "$rep" busy_ns "$busy_ns"
	rec "$fig" "$peer" "$n" "$rep" ns_pkt "$((busy_ns / sofar))"
	rec "$fig" "$peer" "$n" "$rep" wall_ns "$((t1 - t0))"
	rec "$fig" "$peer" "$n" "$rep" wd_exp "$((w1 - w0))"
	rec "$fig" "$peer" "$n" "$rep" wd_exp_s "$(((w1 - w0) * 1000000000 / (t1 - t0)))"
	rec "$fig" "$peer" "$n" "$rep" flows "${J1[flows]:-0}"
	rec "$fig" "$peer" "$n" "$rep" drops "${J1[drops]:-0}"
	rec "$fig" "$peer" "$n" "$rep" qlen_after "${J1[qlen]:-0}"
	case $peer in
	fs-*)
		for k in delayed late_packets lateness_total_ns lateness_max_ns early_releases watchdog_armed gc_flows overflow_packets; do
			rec "$fig" "$peer" "$n" "$rep" "$k" "${J1[$k]:-0}"
		done
		;;
	fq)
		# "throttled" appears twice in fq's JSON; jq keeps the last:
		# the count of throttle events.  "latency" is fq's EWMA
		# (1/8) of how late it unthrottled flows, ns.
		rec "$fig" "$peer" "$n" "$rep" throttled "${J1[throttled]:-0}"
		rec "$fig" "$peer" "$n" "$rep" fq_latency_ns "${J1[latency]:-0}"
		;;
	esac
	log "fig$fig $peer N=$n rep=$rep: paced $((sofar * 1000000 / us)) pps, $((busy_ns / sofar)) ns/pkt, wd $(((w1 - w0) * 1000000000 / (t1 - t0)))/s, flows ${J1[flows]:-0}"
	[[ $fig == 2 ]] || return 0

	pg_dsts "$n" $BURST $SAT_COUNT 0
	nap 0.2
	b0=$(cpu_busy)
	pg_start_wait 300 || return 1
	nap 0.2
	b1=$(cpu_busy)
	pg_result
	sofar=$PG_SOFAR us=$PG_USEC
	[[ -n $us && $us -gt 0 && $sofar -gt 0 ]] || { log "no pktgen result"; return 1; }
	busy_ns=$(((b1 - b0) * 1000000000 / HZ))
	rec "$fig" "$peer" "$n" "$rep" sat_pps "$((sofar * 1000000 / us))"
	rec "$fig" "$peer" "$n" "$rep" sat_ns_pkt "$((busy_ns / sofar))"
	log "fig$fig $peer N=$n rep=$rep: unpaced $((sofar * 1000000 / us)) pps, $((busy_ns / sofar)) ns/pkt"
}

# slab_line CACHE: "active_objs objsize num_slabs pagesperslab"
slab_line()
{
	awk -v c="$1" '$1 == c {print $2, $4, $15, $6; exit}' /proc/slabinfo
}
meminfo() { awk -v k="$1:" '$1 == k {print $2; exit}' /proc/meminfo; }

# run_mem PEER CACHE N: figure 4, memory per flow.
run_mem()
{
	local peer=$1 cache=$2 n=$3 s0 s1 a0 a1 m0 m1 j flows
	tcq qdisc replace dev $DEV root handle 1: pfifo limit 1000000
	sleep 1
	read -r -a s0 <<<"$(slab_line "$cache") "
	m0=$(meminfo Slab)
	a0=$(meminfo MemAvailable)
	qdisc_setup "$peer" "$n"
	pg_dsts "$n" 1 "$n" 0
	pg_start_wait 120 || return 1
	sleep 0.5
	qsnap J1
	flows=${J1[flows]:-0}
	read -r -a s1 <<<"$(slab_line "$cache") "
	m1=$(meminfo Slab)
	a1=$(meminfo MemAvailable)
	((flows > 0)) || { log "mem: no flows"; return 1; }
	rec 4 "$peer" "$n" 1 flows "$flows"
	rec 4 "$peer" "$n" 1 cache "$cache"
	rec 4 "$peer" "$n" 1 objsize "${s1[1]:-0}"
	rec 4 "$peer" "$n" 1 active_objs "${s1[0]:-0}"
	rec 4 "$peer" "$n" 1 slab_bytes_flow "$(((${s1[2]:-0} - ${s0[2]:-0}) * ${s1[3]:-1} * 4096 / flows))"
	rec 4 "$peer" "$n" 1 slab_total_bytes_flow "$(((m1 - m0) * 1024 / flows))"
	rec 4 "$peer" "$n" 1 memavail_bytes_flow "$(((a0 - a1) * 1024 / flows))"
	log "fig4 $peer: $flows flows, objsize ${s1[1]:-?}, slab $(((m1 - m0) * 1024 / flows)) B/flow"
	tcq qdisc replace dev $DEV root handle 1: pfifo limit 1000000
}

# order REP PEERS...: the peers, reversed on odd repetitions (ABC CBA ...).
order()
{
	local rep=$1
	shift
	if ((rep % 2)); then
		local r=() p
		for p in "$@"; do r=("$p" "${r[@]}"); done
		echo "${r[@]}"
	else
		echo "$@"
	fi
}

# --- bpftrace: release lateness from the qdisc tracepoints ------------------

BT_PID=
# bt_start [SCRIPT OUTPUT]: default: the lateness script, its arguments.
bt_start()
{
	local ifx script=${1:-$top/tools/bench/lateness.bt} bout=${2:-$out/bpftrace.txt}
	ifx=$(cat /sys/class/net/$DEV/ifindex)
	command -v bpftrace >/dev/null || { log "no bpftrace: figure 3 from xstats only"; return 1; }
	local args=()
	[[ $script == *lateness.bt ]] && args=("$ifx" $((0x$(handle_of fs-delay) << 16)) $((0x$(handle_of netem) << 16)) $DELAY_NS)
	BPFTRACE_MAP_KEYS_MAX=65536 timeout 900 bpftrace "$script" "${args[@]}" >"$bout" 2>&1 &
	BT_PID=$!
	local i
	for i in $(seq 240); do
		grep -q READY "$bout" && return 0
		kill -0 $BT_PID 2>/dev/null || break
		sleep 0.5
	done
	log "bpftrace did not start: $(tail -3 "$bout")"
	kill $BT_PID 2>/dev/null
	BT_PID=
	return 1
}

bt_stop()
{
	[[ -n $BT_PID ]] || return 0
	kill -INT $BT_PID 2>/dev/null
	local i
	for i in $(seq 120); do
		kill -0 $BT_PID 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL $BT_PID 2>/dev/null
	wait $BT_PID 2>/dev/null
	BT_PID=
}

# --- main ------------------------------------------------------------------

t_start=$(date +%s)
log "setup"
for m in pktgen dummy sch_fq sch_netem; do
	modprobe $m || die "modprobe $m"
done
grep -q '^sch_flowshape ' /proc/modules ||
	insmod "$top/kernel/sch_flowshape.ko" || die "insmod sch_flowshape.ko"
ip link add name $DEV type dummy || die "ip link add"
ip link set $DEV up
[[ -e $PG/kpktgend_0 ]] || die "no pktgen thread kpktgend_0"
wd_trigger_on || log "no hrtimer hist trigger: figure 5 from xstats only"

{
	echo "kernel=$(uname -r)"
	echo "kernel_version=$(uname -v)"
	echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpus=$(nproc)"
	echo "cpu_model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
	echo "mem_kb=$(meminfo MemTotal)"
	echo "cmdline=$(cat /proc/cmdline)"
	echo "quick=$QUICK"
	echo "reps=$REPS"
	echo "fig1_n=$FIG1_N"
	echo "fig1_t=$FIG1_T"
	echo "fig2_n=$FIG2_N"
	echo "fig2_t=$FIG2_T"
	echo "fig3_n=$FIG3_N"
	echo "fig3_reps=$FIG3_REPS"
	echo "fig3_t=$FIG3_T"
	echo "mem_n=$MEM_N"
	echo "rate=$RATE"
	echo "sat_count=$SAT_COUNT"
	echo "profile_n=$PROFILE_N"
	echo "burst=$BURST"
	echo "spacing_ns=$SPACING_NS"
	echo "delay_ns=$DELAY_NS"
	echo "pkt_size=$PKT"
	echo "module_sha1=$(sha1sum "$top/kernel/sch_flowshape.ko" | cut -c1-12)"
	echo "git=$(git -C "$top" describe --always --dirty 2>/dev/null)"
	echo "tc=$(tc -V 2>/dev/null | head -1)"
	echo "bpftrace=$(bpftrace --version 2>/dev/null)"
} >>"$meta"

fails=0
if ((QUICK)); then FIGS=${BENCH_FIGS:-1 2 3 4}; else FIGS=${BENCH_FIGS:-1 2 3 4 profile}; fi
want() { [[ " $FIGS " == *" $1 "* ]]; }

log "figure 1: saturation, delay 0"
want 1 && for n in $FIG1_N; do
	for rep in $(seq $REPS); do
		for peer in $(order "$rep" $FIG1_PEERS); do
			run_sat "$peer" "$n" "$rep" || fails=$((fails + 1))
		done
	done
done

log "figures 2 and 5: every flow delayed, $RATE pkt/s"
want 2 && for n in $FIG2_N; do
	for rep in $(seq $REPS); do
		for peer in $(order "$rep" $FIG2_PEERS); do
			run_paced 2 "$peer" "$n" "$rep" $FIG2_T || fails=$((fails + 1))
		done
	done
done

log "figure 3: lateness from the qdisc tracepoints (bpftrace)"
if want 3 && ((FIG3_REPS > 0)) && bt_start; then
	echo "bpftrace_attached=1" >>"$meta"
fi
want 3 && for rep in $(seq $FIG3_REPS); do
	for peer in $(order "$rep" $FIG3_PEERS); do
		run_paced 3 "$peer" $FIG3_N "$rep" $FIG3_T || fails=$((fails + 1))
	done
done
bt_stop

log "profile: where the time goes (bpftrace kprobes)"
if want profile && bt_start "$top/tools/bench/profile.bt" "$out/profile.txt"; then
	for n in $PROFILE_N; do
		for peer in fs-spread fs-delay fq netem; do
			run_paced P "$peer" "$n" 1 $FIG3_T || fails=$((fails + 1))
		done
	done
	bt_stop
fi

log "figure 4: memory per flow"
want 4 && { run_mem fs-spread flowshape_flow $MEM_N || fails=$((fails + 1)); }
want 4 && { run_mem fq fq_flow_cache $MEM_N || fails=$((fails + 1)); }

echo "fails=$fails" >>"$meta"
echo "guest_seconds=$(($(date +%s) - t_start))" >>"$meta"
log "done in $(($(date +%s) - t_start)) s, $fails failed runs"
tc qdisc del dev $DEV root 2>/dev/null
((fails == 0))
