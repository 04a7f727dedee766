#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/demo/in-vm.sh OUTDIR: the flowshape demo's measurement half.  Runs
# as root inside the VM (tools/demo/run starts it with tools/vm/run); builds
# a topology of network namespaces, runs the same traffic through four
# phases twice (baseline pfifo, then flowshape + flowshape-agent) and
# writes raw data under OUTDIR/data for tools/demo/report.sh.
#
#   c1 -- in1 --\                      /-- gA ==(s1, s2)   group A
#                >-- rt --[tbf: bottleneck]
#   c2 -- in2 --/                      \-- s3              group B
#
#   in1/in2: ingress nodes, flowshape (or pfifo) on their server-facing
#   device "srv", one flowshape-agent each; the agents scrape the servers'
#   /metrics (busy httpd serving a file this script rewrites) over a
#   separate management bridge (10.99.0.0/24), as a real deployment would.
#
# Environment: FLOWSHAPE_DEMO_PHASE_S (seconds per phase, default 18),
# FLOWSHAPE_DEMO_NO_AGENT=1 (force the scripted fallback).
set -u

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OUT=${1:?usage: in-vm.sh OUTDIR}
mkdir -p "$OUT/data" "$OUT/config"
OUT=$(cd "$OUT" && pwd)
D=$OUT/data
CFG=$OUT/config
PHASE_S=${FLOWSHAPE_DEMO_PHASE_S:-18}
export TC_LIB_DIR=$TOP/tc
UDPSEQ=$TOP/selftests/udpseq
AGENT=$TOP/tools/agent/flowshape-agent
MOD=$TOP/kernel/sch_flowshape.ko
RUN=/tmp/fsdemo
mkdir -p "$RUN"

# --- traffic and topology knobs (all written to config/params.txt) -------
BULK_PPS=40           # per bulk flow; one flow per (client, server)
BULK_SIZE=1000        # UDP payload bytes
RR_IVAL=0.2           # ping interval per (client, server)
RATE_NORMAL=2500kbit     # bottleneck toward group A, normal
RATE_CONGEST=600kbit    # ... while congested
TBF_LIMIT=60000       # bottleneck buffer, bytes (deep: 800 ms at 600 kbit/s)
CPU_NORMAL=30         # server CPU %, normal
CPU_OVERLOAD=95       # s3's CPU % while overloaded
FS_OPTS="congestion_weight 250ms congestion_threshold 0.5 load_weight 80ms load_threshold 0.6 max_delay 250ms flow_limit 50 stale_after 6s"
BASE_QDISC="pfifo limit 1000"
PHASES=(normal congest overload recovery)
SERVERS=(s1 s2 s3)
declare -A SADDR=([s1]=10.10.1.10 [s2]=10.10.2.10 [s3]=10.20.3.10)
declare -A SMGMT=([s1]=10.99.0.11 [s2]=10.99.0.12 [s3]=10.99.0.13)
CLIENTS=(c1 c2)
INGRESS=(in1 in2)
NSS=(c1 c2 in1 in2 rt gA s1 s2 s3 mg)

log() { echo "demo: $*"; }
nx() { local n=$1; shift; ip netns exec "d-$n" "$@"; }
now() { echo "$EPOCHREALTIME"; }

# TC: run and record a tc command (config/tc-commands.sh is the exact list).
TC()
{
	echo "tc $*" >>"$CFG/tc-commands.sh"
	tc "$@"
}

# --- cleanup -----------------------------------------------------------
PIDS=()
cleanup()
{
	local p n
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	sleep 0.3
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	for n in "${NSS[@]}"; do
		ip netns del "d-$n" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_pid_timeout SECONDS PID...: wait, then kill what is left.
wait_pids()
{
	local t=$1 end p alive
	shift
	end=$((SECONDS + t))
	while :; do
		alive=0
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		((alive)) || return 0
		((SECONDS >= end)) && break
		sleep 0.2
	done
	for p in "$@"; do
		kill "$p" 2>/dev/null
	done
	return 1
}

# wait_for SECONDS CMD...: poll until CMD succeeds; 1 on timeout.
wait_for()
{
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS >= end)) && return 1
		sleep 0.2
	done
}

# --- topology -----------------------------------------------------------
# Under TCG every process costs ~0.5 s: the topology is built with one
# "ip -batch" per namespace rather than one ip command per step.
# Links: "NS1 DEV1 ADDR1 NS2 DEV2 ADDR2".
LINKS=(
	"c1 eth0 10.1.1.2/24 in1 cli 10.1.1.1/24"
	"c2 eth0 10.1.2.2/24 in2 cli 10.1.2.1/24"
	"in1 srv 10.2.1.1/24 rt in1 10.2.1.2/24"
	"in2 srv 10.2.2.1/24 rt in2 10.2.2.2/24"
	"rt toA 10.3.0.1/24 gA uplink 10.3.0.2/24"
	"gA s1 10.10.1.1/24 s1 eth0 10.10.1.10/24"
	"gA s2 10.10.2.1/24 s2 eth0 10.10.2.10/24"
	"rt s3 10.20.3.1/24 s3 eth0 10.20.3.10/24"
	"in1 mgmt 10.99.0.1/24 mg p-in1 -"
	"in2 mgmt 10.99.0.2/24 mg p-in2 -"
	"s1 mgmt 10.99.0.11/24 mg p-s1 -"
	"s2 mgmt 10.99.0.12/24 mg p-s2 -"
	"s3 mgmt 10.99.0.13/24 mg p-s3 -"
)
declare -A ROUTES=(
	[c1]="default via 10.1.1.1" [c2]="default via 10.1.2.1"
	[in1]="default via 10.2.1.2" [in2]="default via 10.2.2.2"
	[rt]="10.1.1.0/24 via 10.2.1.1;10.1.2.0/24 via 10.2.2.1;10.10.0.0/16 via 10.3.0.2"
	[gA]="default via 10.3.0.1"
	[s1]="default via 10.10.1.1" [s2]="default via 10.10.2.1" [s3]="default via 10.20.3.1"
)

setup_topology()
{
	local n l a b r
	declare -A B
	for n in "${NSS[@]}"; do
		echo "netns add d-$n"
	done >"$RUN/netns.batch"
	ip -b "$RUN/netns.batch" || return 1
	for n in "${NSS[@]}"; do
		B[$n]="link set lo up"$'\n'
	done
	B[mg]+="link add br0 type bridge"$'\n'"link set br0 up"$'\n'
	# Creation first (from the first namespace), then addresses and links up.
	: >"$RUN/create.batch"
	for l in "${LINKS[@]}"; do
		read -r n1 d1 a1 n2 d2 a2 <<<"$l"
		echo "link add $d1 netns d-$n1 type veth peer name $d2 netns d-$n2" >>"$RUN/create.batch"
		B[$n1]+="addr add $a1 dev $d1"$'\n'"link set $d1 up"$'\n'
		if [[ $a2 == - ]]; then
			B[$n2]+="link set $d2 master br0 up"$'\n'
		else
			B[$n2]+="addr add $a2 dev $d2"$'\n'"link set $d2 up"$'\n'
		fi
	done
	ip -b "$RUN/create.batch" || return 1
	for n in "${NSS[@]}"; do
		r=${ROUTES[$n]:-}
		if [[ -n $r ]]; then
			IFS=';' read -ra a <<<"$r"
			for b in "${a[@]}"; do
				B[$n]+="route add $b"$'\n'
			done
		fi
		printf '%s' "${B[$n]}" >"$RUN/ns-$n.batch"
		ip -n "d-$n" -b "$RUN/ns-$n.batch" || { log "ip -batch failed in $n"; return 1; }
	done
	for n in in1 in2 rt gA; do
		nx "$n" sysctl -qw net.ipv4.ip_forward=1
	done
	cat "$RUN/netns.batch" "$RUN/create.batch" "$RUN"/ns-*.batch >"$CFG/topology.ip-batch"
	# The bottleneck toward group A: tbf with a deep buffer.
	TC -n d-rt qdisc replace dev toA root handle 1: tbf rate $RATE_NORMAL burst 8kb limit $TBF_LIMIT
}

# --- server metrics (node_exporter format, rewritten every second) ----------
declare -A IDLE USER SRVPID
write_metrics()
{
	local s c f
	for s in "${SERVERS[@]}"; do
		read -r c <"$RUN/$s.cpu"
		IDLE[$s]=$((${IDLE[$s]:-100000} + (100 - c)))
		USER[$s]=$((${USER[$s]:-100000} + c))
		f=$RUN/www-$s/metrics
		printf '%s\n' \
			'# TYPE node_cpu_seconds_total counter' \
			"node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} ${IDLE[$s]}" \
			"node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} ${USER[$s]}" \
			'# TYPE node_memory_MemTotal_bytes gauge' \
			'node_memory_MemTotal_bytes 8.589934592e+09' \
			'# TYPE node_memory_MemAvailable_bytes gauge' \
			'node_memory_MemAvailable_bytes 6.442450944e+09' >"$f"
	done
}

start_exporters()
{
	local s
	for s in "${SERVERS[@]}"; do
		mkdir -p "$RUN/www-$s"
		echo $CPU_NORMAL >"$RUN/$s.cpu"
	done
	write_metrics
	for s in "${SERVERS[@]}"; do
		ip netns exec "d-$s" busybox httpd -f -p "${SMGMT[$s]}:9100" -h "$RUN/www-$s" &
		PIDS+=($!)
		SRVPID[$s]=$!
	done
	(
		trap 'exit 0' TERM
		while :; do
			write_metrics
			sleep 1
		done
	) &
	PIDS+=($!)
}

# --- agents -------------------------------------------------------------
gen_agent_conf()
{
	local in=$1 s f=$CFG/agent-$1.conf
	{
		echo "# flowshape-agent.conf for ingress node $in (generated by tools/demo/in-vm.sh)"
		echo "[agent]"
		echo "interval = 2s"
		echo "stale_after = 6s"
		echo "probes = 3"
		echo "probe_timeout = 1500ms"
		echo "http_timeout = 1500ms"
		echo "full_congestion_delay = 400ms"
		echo "full_congestion_loss = 50%"
		echo "baseline_window = 10min"
		echo "rtt_smoothing = 0.5"
		echo "hysteresis = 0.05"
		echo "cpu_weight = 1"
		echo "memory_weight = 0"
		echo "network_weight = 0"
		echo "metrics_listen = 127.0.0.1:9465"
		echo
		echo "[qdisc]"
		echo "dev = srv"
		echo "parent = any"
		for s in "${SERVERS[@]}"; do
			echo
			echo "[destination $s]"
			echo "prefix = ${SADDR[$s]}/32"
			echo "probe = icmp"
			echo "metrics = http://${SMGMT[$s]}:9100/metrics"
		done
	} >"$f"
}

agent_pushed() # NS: every server has an entry
{
	local out line n=0
	sleep 0.8
	out=$(tc -n "d-$1" class show dev srv 2>/dev/null)
	while read -r line; do
		[[ $line == *dest*congestion* ]] && n=$((n + 1))
	done <<<"$out"
	((n >= ${#SERVERS[@]}))
}

AGENT_OK=0
FALLBACK=0
AGENT_PIDS=()
start_agents()
{
	local in
	AGENT_OK=0
	if [[ ${FLOWSHAPE_DEMO_NO_AGENT:-0} != 1 && -x $AGENT ]]; then
		for in in "${INGRESS[@]}"; do
			gen_agent_conf "$in"
			if ! "$AGENT" -c "$CFG/agent-$in.conf" --check-config >"$D/agent-$in.check" 2>&1; then
				log "agent config refused: $(cat "$D/agent-$in.check")"
				return 1
			fi
			ip netns exec "d-$in" "$AGENT" -c "$CFG/agent-$in.conf" -v >"$D/agent-$in.log" 2>&1 &
			PIDS+=($!)
			AGENT_PIDS+=($!)
		done
		AGENT_OK=1
		for in in "${INGRESS[@]}"; do
			wait_for 40 agent_pushed "$in" || AGENT_OK=0
		done
		((AGENT_OK)) && return 0
		log "the agents did not push every destination within 40 s (see data/agent-*.log)"
		kill "${AGENT_PIDS[@]}" 2>/dev/null
	else
		log "flowshape-agent not built or disabled ($AGENT)"
	fi
	return 1
}

# Fallback: push levels from this script, from what it knows of the phase.
FB_PID=
start_fallback()
{
	FALLBACK=1
	echo "FALLBACK: levels pushed by tools/demo/in-vm.sh with 'tc qdisc change ... dest', NOT measured by flowshape-agent" |
		tee "$D/FALLBACK"
	echo "normal" >"$RUN/phase"
	(
		trap 'exit 0' TERM
		while :; do
			read -r ph <"$RUN/phase"
			ca=0 l3=0.3
			[[ $ph == congest ]] && ca=0.7
			[[ $ph == overload ]] && l3=0.95
			for in in "${INGRESS[@]}"; do
				tc -n "d-$in" qdisc change dev srv root flowshape \
					dest 10.10.1.10/32 congestion $ca load 0.3 \
					dest 10.10.2.10/32 congestion $ca load 0.3 \
					dest 10.20.3.10/32 congestion 0 load $l3
			done
			sleep 1
		done
	) &
	FB_PID=$!
	PIDS+=($!)
}

# --- sampling -------------------------------------------------------------
# Under TCG on a busy host a process costs 0.5-2 s: everything below that
# runs while traffic flows uses bash builtins plus the unavoidable tc.

# rx_of SERVER: "BYTES PACKETS" received on the server's eth0, read from
# /proc/PID/net/dev of its exporter (a process in its namespace): no fork.
rx_of()
{
	local line rb rp
	while read -r line; do
		if [[ $line == eth0:* ]]; then
			read -r rb rp _ <<<"${line#eth0:}"
			echo "$rb $rp"
			return
		fi
	done <"/proc/${SRVPID[$1]}/net/dev"
	echo "0 0"
}

# Every 2 s: bottleneck backlog/drops and, with flowshape, the delay per
# destination on each ingress.  Lines: EPOCH KIND KEY VALUE [STALE].
sampler()
{
	local mode=$1 t in out line
	trap 'exit 0' TERM
	exec 2>/dev/null
	while :; do
		t=$EPOCHREALTIME
		out=$(tc -n d-rt -s qdisc show dev toA)
		[[ $out =~ dropped\ ([0-9]+) ]] && echo "$t tbf drops ${BASH_REMATCH[1]}"
		[[ $out =~ backlog\ ([0-9]+)b ]] && echo "$t tbf backlog_bytes ${BASH_REMATCH[1]}"
		if [[ $mode == flowshape ]]; then
			for in in "${INGRESS[@]}"; do
				out=$(tc -n "d-$in" class show dev srv)
				while read -r line; do
					if [[ $line =~ dest\ ([^ ]+).*\ delay\ ([^ ]+) ]]; then
						echo "$t delay $in/${BASH_REMATCH[1]} ${BASH_REMATCH[2]} $([[ $line == *stale* ]] && echo 1 || echo 0)"
					fi
				done <<<"$out"
			done
		fi
		sleep 2
	done
}

# snapshot FILE: counters at a phase boundary, as key=value lines (parsed
# by tools/demo/report.sh); raw tc output kept in FILE.tc.
snapshot()
{
	local s r in out f=$1
	{
		echo "t=$EPOCHREALTIME"
		for s in "${SERVERS[@]}"; do
			r=$(rx_of "$s")
			echo "rx_bytes_$s=${r% *}"
			echo "rx_packets_$s=${r#* }"
		done
		out=$(tc -n d-rt -s qdisc show dev toA)
		echo "$out" >"$f.tc"
		[[ $out =~ Sent\ [0-9]+\ bytes\ ([0-9]+)\ pkt\ \(dropped\ ([0-9]+) ]] &&
			echo "tbf_sent_pkts=${BASH_REMATCH[1]}" && echo "tbf_drops=${BASH_REMATCH[2]}"
		for in in "${INGRESS[@]}"; do
			out=$(tc -n "d-$in" -s qdisc show dev srv)
			echo "$out" >>"$f.tc"
			[[ $out =~ \(dropped\ ([0-9]+) ]] && echo "${in}_drops=${BASH_REMATCH[1]}"
			[[ $out =~ delayed\ ([0-9]+)\ delay_total\ ([^ ]+) ]] &&
				echo "${in}_delayed=${BASH_REMATCH[1]}" && echo "${in}_delay_total=${BASH_REMATCH[2]}"
			[[ $out =~ drops_flow_limit\ ([0-9]+) ]] && echo "${in}_drops_flow_limit=${BASH_REMATCH[1]}"
		done
	} >"$f"
}

set_phase()
{
	local ph=$1 s
	case $ph in
	congest)
		TC -n d-rt qdisc change dev toA root handle 1: tbf rate $RATE_CONGEST burst 8kb limit $TBF_LIMIT
		;;
	overload)
		TC -n d-rt qdisc change dev toA root handle 1: tbf rate $RATE_NORMAL burst 8kb limit $TBF_LIMIT
		echo $CPU_OVERLOAD >"$RUN/s3.cpu"
		;;
	normal | recovery)
		TC -n d-rt qdisc change dev toA root handle 1: tbf rate $RATE_NORMAL burst 8kb limit $TBF_LIMIT
		for s in "${SERVERS[@]}"; do
			echo $CPU_NORMAL >"$RUN/$s.cpu"
		done
		;;
	esac
	echo "$ph" >"$RUN/phase"
}

# Quick figures for the live line (one awk): RR to group A in a window.
quick_rr()
{
	awk -v a="$2" -v b="$3" '
		/ time=/ { ts = substr($1, 2, length($1) - 2) + 0
			if (ts < a || ts >= b) next
			x = $0; sub(/.* time=/, "", x); v[++n] = x + 0 }
		END {
			if (!n) { printf "RR->A no replies"; exit }
			for (i = 2; i <= n; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
			k = int(n * 0.99) + 1; if (k > n) k = n
			printf "RR->A p50 %.1fms p99 %.1fms", v[int(n / 2) + 1], v[k] }' \
		"$D/$1"-ping-*-s1.txt "$D/$1"-ping-*-s2.txt
}

kvget() # FILE KEY (builtins only)
{
	local line
	while read -r line; do
		[[ $line == "$2="* ]] && { echo "${line#*=}"; return; }
	done <"$1"
	echo 0
}

us() { local t=$1; echo $((10#${t%.*} * 1000000 + 10#${t#*.})); }
mbit() # BYTES DT_US -> "x.yyy"
{
	local k=$(($1 * 8 * 1000 / ($2 > 0 ? $2 : 1)))
	printf '%d.%03d' $((k / 1000)) $((k % 1000))
}

run_mode()
{
	local mode=$1 in s c i ph total count port pids=() t0 t1 a b rxa rxb dt ex dl line out
	log "=== $mode: $( [[ $mode == baseline ]] && echo "$BASE_QDISC" || echo "flowshape") on in1/in2 dev srv ==="
	set_phase normal
	for in in "${INGRESS[@]}"; do
		tc -n "d-$in" qdisc del dev srv root 2>/dev/null
		if [[ $mode == baseline ]]; then
			TC -n "d-$in" qdisc add dev srv root handle 1: $BASE_QDISC
		else
			TC -n "d-$in" qdisc add dev srv root handle 1: flowshape $FS_OPTS
		fi
	done
	if [[ $mode == flowshape ]]; then
		if ! start_agents; then
			start_fallback
		fi
		if ((FALLBACK == 0)); then
			log "agents running and pushing (configs in config/agent-in{1,2}.conf)"
		fi
	fi
	sampler "$mode" >"$D/$mode-samples.txt" &
	local spid=$!
	PIDS+=($spid)

	for s in "${SERVERS[@]}"; do
		ip netns exec "d-$s" "$UDPSEQ" recv 5001 -t 3600000 -i 3600000 >"$D/$mode-recv-$s.txt" 2>&1 &
		pids+=($!)
		PIDS+=($!)
	done
	sleep 1
	count=$((BULK_PPS * 3600))
	port=20000
	for c in "${CLIENTS[@]}"; do
		for s in "${SERVERS[@]}"; do
			ip netns exec "d-$c" "$UDPSEQ" send "${SADDR[$s]}" 5001 $count -s $BULK_SIZE -r $BULK_PPS -f 1 -b $port \
				>"$D/$mode-send-$c-$s.txt" 2>&1 &
			pids+=($!)
			PIDS+=($!)
			port=$((port + 10))
			ip netns exec "d-$c" stdbuf -oL ping -D -n -i $RR_IVAL -W 2 "${SADDR[$s]}" \
				>"$D/$mode-ping-$c-$s.txt" 2>&1 &
			pids+=($!)
			PIDS+=($!)
		done
	done
	i=0
	: >"$D/$mode-phases.txt"
	for ph in "${PHASES[@]}"; do
		i=$((i + 1))
		set_phase "$ph"
		t0=$EPOCHREALTIME
		echo "$ph $t0" >>"$D/$mode-phases.txt"
		snapshot "$D/$mode-$i-start.kv"
		# Sleep to the phase's deadline (the bookkeeping costs time).
		dl=$(($(us "$t0") + PHASE_S * 1000000 - $(us "$EPOCHREALTIME")))
		((dl < 500000)) && dl=500000
		sleep "$((dl / 1000000)).$(printf '%06d' $((dl % 1000000)))"
		snapshot "$D/$mode-$i-end.kv"
		t1=$EPOCHREALTIME
		# Live progress line.
		a=$(kvget "$D/$mode-$i-start.kv" tbf_drops)
		b=$(kvget "$D/$mode-$i-end.kv" tbf_drops)
		dt=$(($(us "$(kvget "$D/$mode-$i-end.kv" t)") - $(us "$(kvget "$D/$mode-$i-start.kv" t)")))
		rxa=$(($(kvget "$D/$mode-$i-end.kv" rx_bytes_s1) + $(kvget "$D/$mode-$i-end.kv" rx_bytes_s2) -
			$(kvget "$D/$mode-$i-start.kv" rx_bytes_s1) - $(kvget "$D/$mode-$i-start.kv" rx_bytes_s2)))
		rxb=$(($(kvget "$D/$mode-$i-end.kv" rx_bytes_s3) - $(kvget "$D/$mode-$i-start.kv" rx_bytes_s3)))
		ex=""
		if [[ $mode == flowshape ]]; then
			out=$(tc -n d-in1 class show dev srv)
			echo "$out" >"$D/$mode-$i-class-in1.txt"
			ex=" | in1 delay:"
			while read -r line; do
				[[ $line =~ dest\ ([^ ]+).*\ delay\ ([^ ]+) ]] && ex+=" ${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
			done <<<"$out"
			for in in "${INGRESS[@]}"; do
				nx "$in" curl -s -m 3 -o "$D/$mode-$i-agent-metrics-$in.txt" \
					http://127.0.0.1:9465/metrics 2>/dev/null
			done
		fi
		printf 'demo: [%-9s] phase %d/%d %-9s %s | goodput A %s s3 %s Mbit/s | bottleneck drops %d%s\n' \
			"$mode" "$i" "${#PHASES[@]}" "$ph" "$(quick_rr "$mode" "$t0" "$t1")" \
			"$(mbit "$rxa" "$dt")" "$(mbit "$rxb" "$dt")" $((b - a)) "$ex"
	done
	log "[$mode] stopping traffic"
	kill "${pids[@]}" 2>/dev/null
	wait_pids 15 "${pids[@]}" || log "[$mode] some traffic processes had to be killed"
	kill "$spid" 2>/dev/null
	if [[ $mode == flowshape ]]; then
		for in in "${INGRESS[@]}"; do
			tc -n "d-$in" -s qdisc show dev srv >"$D/$mode-final-qdisc-$in.txt" 2>&1
		done
	fi
}

# --- main -----------------------------------------------------------------
T_START=$SECONDS
: >"$CFG/tc-commands.sh"
{
	echo "PHASE_S=$PHASE_S BULK_PPS=$BULK_PPS BULK_SIZE=$BULK_SIZE RR_IVAL=$RR_IVAL"
	echo "RATE_NORMAL=$RATE_NORMAL RATE_CONGEST=$RATE_CONGEST TBF_LIMIT=$TBF_LIMIT"
	echo "CPU_NORMAL=$CPU_NORMAL CPU_OVERLOAD=$CPU_OVERLOAD"
	echo "FS_OPTS=$FS_OPTS"
	echo "BASE_QDISC=$BASE_QDISC"
	echo "PHASES=${PHASES[*]}"
	echo "SERVERS: s1=${SADDR[s1]} s2=${SADDR[s2]} (group A, behind the bottleneck) s3=${SADDR[s3]}"
	echo "bulk: udpseq, one flow per (client, server) at $BULK_PPS pps x $BULK_SIZE B; RR: ping every ${RR_IVAL}s per (client, server)"
} >"$CFG/params.txt"
rm -f "$D"/* 2>/dev/null

for t in "$UDPSEQ" "$TC_LIB_DIR/q_flowshape.so" "$MOD"; do
	[[ -e $t ]] || { log "missing $t (make all; make -C selftests)"; exit 1; }
done
grep -q '^sch_flowshape ' /proc/modules || insmod "$MOD" || { log "cannot insmod $MOD"; exit 1; }
setup_topology || { log "topology setup failed"; exit 1; }
start_exporters
# Sanity: every server answers.
for s in "${SERVERS[@]}"; do
	nx c1 ping -c 1 -W 2 "${SADDR[$s]}" >/dev/null || { log "no route to $s"; exit 1; }
done
log "topology up in $((SECONDS - T_START)) s; phases of ${PHASE_S}s: ${PHASES[*]}"

run_mode baseline
sleep 2
run_mode flowshape
echo "agent_ok=$AGENT_OK fallback=$FALLBACK" >"$D/agent-status"
log "measurements done in $((SECONDS - T_START)) s"
exit 0
