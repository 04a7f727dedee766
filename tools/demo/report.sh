#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/demo/report.sh OUTDIR: turn the raw data tools/demo/in-vm.sh wrote
# under OUTDIR/data into OUTDIR/results.md (side-by-side table + verdicts,
# also printed) and PNG plots (gnuplot).  Runs on the host; re-runnable.
set -u
OUT=${1:?usage: report.sh OUTDIR}
D=$OUT/data
P=$OUT/plot-data
mkdir -p "$P"
MODES=(baseline flowshape)
mapfile -t PHASES < <(awk '{ print $1 }' "$D/baseline-phases.txt")
NPH=${#PHASES[@]}
RR_IVAL=$(sed -n 's/.*RR_IVAL=\([0-9.]*\).*/\1/p' "$OUT/config/params.txt")

AWK_T2MS='function t2ms(s,   v, u) { v = s + 0; u = s; sub(/^[-0-9.eE+]+/, "", u)
	if (u == "s") v *= 1000; else if (u == "us") v /= 1000; else if (u == "ns") v /= 1e6
	return v }
'
kv() { sed -n "s/^$2=//p" "$1" | head -n1; }
t2ms() { awk -v s="$1" 'BEGIN { v = s + 0; u = s; sub(/^[-0-9.eE+]+/, "", u)
	if (u == "s") v *= 1000; else if (u == "us") v /= 1000; else if (u == "ns") v /= 1e6
	print v }'; }

# ping-samples MODE SERVERS...: "send_time rtt_ms seq file_index" for every
# echo, lost ones with rtt -1 (send time interpolated between neighbours).
ping_samples()
{
	local mode=$1 s f idx=0
	shift
	for s in "$@"; do
		for f in "$D/$mode"-ping-*-"$s".txt; do
			[[ -f $f ]] || continue
			idx=$((idx + 1))
			sed -n 's/^\[\([0-9.]*\)\].*icmp_seq=\([0-9]*\).* time=\([0-9.]*\) ms.*/\1 \2 \3/p' "$f" |
				awk -v ival="$RR_IVAL" -v idx="$idx" '
				{ ts = $1 - $3 / 1000; seq = $2
				  if (pseq && seq > pseq + 1)
					for (k = pseq + 1; k < seq; k++)
						printf "%.6f -1 %d %d\n", pts + (k - pseq) * (ts - pts) / (seq - pseq), k, idx
				  if (seq > pseq) { printf "%.6f %s %d %d\n", ts, $3, seq, idx; pseq = seq; pts = ts } }'
		done
	done
}

# rr_stats MODE T0 T1 SERVERS...: "p50 p99 jitter loss_pct n"
rr_stats()
{
	local mode=$1 a=$2 b=$3
	shift 3
	ping_samples "$mode" "$@" | awk -v a="$a" -v b="$b" '
		$1 >= a && $1 < b {
			tot++
			if ($2 < 0) { lost++; next }
			v[++n] = $2
			if (($4 in last) && last[$4] >= 0) { j += ($2 > last[$4] ? $2 - last[$4] : last[$4] - $2); nj++ }
			last[$4] = $2
		}
		END {
			if (!n) { print "nan nan nan 100 0"; exit }
			for (i = 2; i <= n; i++) { x = v[i]; for (k = i - 1; k >= 1 && v[k] > x; k--) v[k + 1] = v[k]; v[k + 1] = x }
			k = int(n * 0.99) + 1; if (k > n) k = n
			printf "%.2f %.2f %.2f %.1f %d\n", v[int(n * 0.5) + 1], v[k], nj ? j / nj : 0, 100 * lost / tot, n
		}'
}

declare -A R
for m in "${MODES[@]}"; do
	for ((i = 1; i <= NPH; i++)); do
		s0=$D/$m-$i-start.kv s1=$D/$m-$i-end.kv
		[[ -f $s1 ]] || continue
		t0=$(kv "$s0" t) t1=$(kv "$s1" t)
		dt=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
		read -r R[$m,$i,a50] R[$m,$i,a99] R[$m,$i,ajit] R[$m,$i,aloss] _ < <(rr_stats "$m" "$t0" "$t1" s1 s2)
		read -r R[$m,$i,b50] R[$m,$i,b99] R[$m,$i,bjit] R[$m,$i,bloss] _ < <(rr_stats "$m" "$t0" "$t1" s3)
		d() { echo $(($(kv "$s1" "$1") - $(kv "$s0" "$1"))); }
		R[$m,$i,gA]=$(awk -v x=$(($(d rx_bytes_s1) + $(d rx_bytes_s2))) -v t="$dt" 'BEGIN { printf "%.3f", x * 8 / t / 1e6 }')
		R[$m,$i,gB]=$(awk -v x=$(d rx_bytes_s3) -v t="$dt" 'BEGIN { printf "%.3f", x * 8 / t / 1e6 }')
		R[$m,$i,gT]=$(awk -v x="${R[$m,$i,gA]}" -v y="${R[$m,$i,gB]}" 'BEGIN { printf "%.3f", x + y }')
		R[$m,$i,s3pps]=$(awk -v x=$(d rx_packets_s3) -v t="$dt" 'BEGIN { printf "%.1f", x / t }')
		R[$m,$i,tbfdrop]=$(d tbf_drops)
		R[$m,$i,indrop]=$(($(d in1_drops) + $(d in2_drops)))
		if [[ $m == flowshape ]]; then
			R[$m,$i,delayed]=$(($(d in1_delayed) + $(d in2_delayed)))
			R[$m,$i,dtot]=$(awk -v a="$(t2ms "$(kv "$s0" in1_delay_total)")" -v b="$(t2ms "$(kv "$s1" in1_delay_total)")" \
				-v c="$(t2ms "$(kv "$s0" in2_delay_total)")" -v e="$(t2ms "$(kv "$s1" in2_delay_total)")" \
				'BEGIN { printf "%.1f", (b - a + e - c) / 1000 }')
			# Mean delay per destination (both ingress nodes) from the samples.
			R[$m,$i,dly]=$(awk -v a="$t0" -v b="$t1" "$AWK_T2MS"'$2 == "delay" && $1 >= a && $1 < b {
					split($3, p, "/"); k = p[2]; s[k] += ($5 == 1 ? 0 : t2ms($4)); n[k]++ }
				END { for (k in s) printf "%s=%.1fms ", k, s[k] / n[k] }' "$D/$m-samples.txt" | tr ' ' '\n' | sort | tr '\n' ' ')
		fi
	done
done

# change BASE FS: relative change in percent (FS vs BASE).
pct() { awk -v b="$1" -v f="$2" 'BEGIN { if (b == "nan" || f == "nan" || b == 0) { print "n/a"; exit }
	printf "%+.0f%%", 100 * (f - b) / b }'; }

{
	echo "# flowshape demo results"
	echo
	if [[ -f $D/FALLBACK ]]; then
		echo "**$(cat "$D/FALLBACK")**"
		echo
	else
		echo "Levels measured and pushed by two flowshape-agent instances (one per ingress node)."
		echo
	fi
	echo "Configuration: config/params.txt, config/tc-commands.sh, config/agent-in1.conf, config/agent-in2.conf."
	echo "Group A = s1, s2 (behind the bottleneck that congests); s3 = the server that gets overloaded."
	echo "RR = ping every ${RR_IVAL}s from each client to each server (RTT, ms); jitter = mean |RTT(i) - RTT(i-1)|."
	echo "Goodput = bytes received by the servers (bulk UDP + RR), Mbit/s. Drops: tbf at the bottleneck / qdisc on the ingress nodes."
	echo
	echo "| phase | metric | baseline (pfifo) | flowshape | change |"
	echo "|---|---|---:|---:|---:|"
	for ((i = 1; i <= NPH; i++)); do
		ph=${PHASES[i - 1]}
		row() { echo "| $ph | $1 | ${R[baseline,$i,$2]:-} | ${R[flowshape,$i,$2]:-} | $(pct "${R[baseline,$i,$2]:-nan}" "${R[flowshape,$i,$2]:-nan}") |"; }
		row "RR->A p50 ms" a50
		row "RR->A p99 ms" a99
		row "RR->A jitter ms" ajit
		row "RR->A loss %" aloss
		row "RR->s3 p50 ms" b50
		row "RR->s3 p99 ms" b99
		row "goodput A Mbit/s" gA
		row "goodput s3 Mbit/s" gB
		row "goodput total Mbit/s" gT
		row "bottleneck drops" tbfdrop
		row "ingress drops" indrop
		row "pkts/s reaching s3" s3pps
		echo "| $ph | flowshape delayed pkts / total delay | | ${R[flowshape,$i,delayed]:-} / ${R[flowshape,$i,dtot]:-}s | |"
		echo "| $ph | flowshape mean delay per dest | | ${R[flowshape,$i,dly]:-} | |"
	done
	echo
	echo "## Verdicts"
	echo
	# verdict NAME BASE FS LOWER_IS_BETTER(1/0) UNIT
	verdict()
	{
		awk -v n="$1" -v b="$2" -v f="$3" -v low="$4" -v u="$5" 'BEGIN {
			if (b == "nan" || f == "nan" || b == "") { printf "- %s: no data\n", n; exit }
			d = (b == 0) ? (f == 0 ? 0 : 1) : (f - b) / b
			good = low ? -d : d
			v = good > 0.05 ? "IMPROVED" : (good < -0.05 ? "WORSE" : "NO CHANGE")
			printf "- %s: %s (baseline %s%s, flowshape %s%s, %+.0f%%)\n", n, v, b, u, f, u, 100 * d }'
	}
	ci=0 oi=0 ni=0
	for ((i = 1; i <= NPH; i++)); do
		case ${PHASES[i - 1]} in congest) ci=$i ;; overload) oi=$i ;; normal) ni=$i ;; esac
	done
	verdict "Lower latency under congestion (RR->A p99, congest phase)" "${R[baseline,$ci,a99]}" "${R[flowshape,$ci,a99]}" 1 " ms"
	verdict "Lower latency under congestion (RR->A p50, congest phase)" "${R[baseline,$ci,a50]}" "${R[flowshape,$ci,a50]}" 1 " ms"
	verdict "Lower jitter under congestion (RR->A jitter, congest phase)" "${R[baseline,$ci,ajit]}" "${R[flowshape,$ci,ajit]}" 1 " ms"
	verdict "Better throughput under congestion (total goodput, congest phase)" "${R[baseline,$ci,gT]}" "${R[flowshape,$ci,gT]}" 0 " Mbit/s"
	verdict "Better throughput under congestion (goodput to group A, congest phase)" "${R[baseline,$ci,gA]}" "${R[flowshape,$ci,gA]}" 0 " Mbit/s"
	tb=0 tf=0
	tb=$(for ((i = 1; i <= NPH; i++)); do echo "${R[baseline,$i,gT]:-0}"; done | awk '{ s += $1 } END { printf "%.3f", s / NR }')
	tf=$(for ((i = 1; i <= NPH; i++)); do echo "${R[flowshape,$i,gT]:-0}"; done | awk '{ s += $1 } END { printf "%.3f", s / NR }')
	verdict "Better throughput overall (mean total goodput over all phases)" "$tb" "$tf" 0 " Mbit/s"
	verdict "Better server utilisation (load kept off the overloaded s3: pkts/s reaching it, overload phase)" "${R[baseline,$oi,s3pps]}" "${R[flowshape,$oi,s3pps]}" 1 " pkt/s"
	verdict "  ...while the healthy servers keep their goodput (goodput to group A, overload phase)" "${R[baseline,$oi,gA]}" "${R[flowshape,$oi,gA]}" 0 " Mbit/s"
	verdict "No cost under normal conditions (RR->A p99, normal phase)" "${R[baseline,$ni,a99]}" "${R[flowshape,$ni,a99]}" 1 " ms"
	verdict "No cost under normal conditions (total goodput, normal phase)" "${R[baseline,$ni,gT]}" "${R[flowshape,$ni,gT]}" 0 " Mbit/s"
	echo
	echo "Thresholds: a change within +-5% is NO CHANGE. One run under TCG emulation on a shared host: expect noise of that order or more."
	echo "Goodput counts what reached the servers; flowshape does not create capacity: under congestion it moves the queue (and the drops of the"
	echo "bulk flows) from the bottleneck's shared buffer to each bulk flow's own queue on the ingress node, which is what protects the RR flows."
} >"$OUT/results.md"

# --- plots --------------------------------------------------------------
for m in "${MODES[@]}"; do
	tb=$(awk 'NR == 1 { print $2 }' "$D/$m-phases.txt")
	ping_samples "$m" s1 s2 | awk -v t0="$tb" '$2 >= 0 { printf "%.3f %s\n", $1 - t0, $2 }' | sort -g >"$P/$m-rr-A.dat"
	ping_samples "$m" s3 | awk -v t0="$tb" '$2 >= 0 { printf "%.3f %s\n", $1 - t0, $2 }' | sort -g >"$P/$m-rr-s3.dat"
	awk -v t0="$tb" '$2 == "tbf" && $3 == "backlog_bytes" { printf "%.3f %s\n", $1 - t0, $4 / 1000 }' "$D/$m-samples.txt" >"$P/$m-backlog.dat"
	awk -v t0="$tb" '{ printf "%.3f %s\n", $2 - t0, $1 }' "$D/$m-phases.txt" >"$P/$m-phases.dat"
done
tb=$(awk 'NR == 1 { print $2 }' "$D/flowshape-phases.txt")
for k in $(awk '$2 == "delay" { print $3 }' "$D/flowshape-samples.txt" | sort -u); do
	awk -v t0="$tb" -v k="$k" "$AWK_T2MS"'$2 == "delay" && $3 == k { printf "%.3f %s\n", $1 - t0, ($5 == 1 ? 0 : t2ms($4)) }' \
		"$D/flowshape-samples.txt" >"$P/delay-${k//\//_}.dat"
done

markers()
{
	awk '{ printf "set arrow from %s, graph 0 to %s, graph 1 nohead dt 2 lc rgb \"gray40\"\n", $1, $1
		printf "set label \"%s\" at %s, graph 0.95 offset 0.3,0 font \",9\"\n", $2, $1 }' "$1"
}

if command -v gnuplot >/dev/null; then
	{
		echo 'set terminal pngcairo size 1100,800 font ",10"'
		echo "set output '$OUT/latency.png'"
		echo 'set multiplot layout 2,1 title "RR latency (ping RTT) over time; phases marked"'
		echo 'set logscale y; set ylabel "RTT ms"; set xlabel "s since start of phase 1"; set grid; set key top right'
		for m in "${MODES[@]}"; do
			markers "$P/$m-phases.dat"
			echo "set title '$m'"
			echo "plot '$P/$m-rr-A.dat' using 1:2 with points pt 7 ps 0.4 lc rgb 'red' title 'to group A (s1, s2)', \\"
			echo "     '$P/$m-rr-s3.dat' using 1:2 with points pt 7 ps 0.4 lc rgb 'blue' title 'to s3'"
			echo 'unset arrow; unset label'
		done
		echo 'unset multiplot'
		echo "set output '$OUT/delay.png'"
		echo 'set multiplot layout 2,1 title "flowshape: applied delay per destination (tc class show), and the bottleneck queue"'
		echo 'unset logscale y; set ylabel "delay ms"'
		markers "$P/flowshape-phases.dat"
		echo "set title 'delay per destination (ingress/dest)'"
		plots=()
		for f in "$P"/delay-*.dat; do
			[[ -f $f ]] || continue
			n=$(basename "$f" .dat); n=${n#delay-}
			plots+=("'$f' using 1:2 with linespoints ps 0.5 title '${n//_/ }'")
		done
		if ((${#plots[@]})); then
			(IFS=,; echo "plot ${plots[*]}")
		else
			echo "plot 0 title 'no delay samples'"
		fi
		echo 'unset arrow; unset label'
		markers "$P/flowshape-phases.dat"
		echo "set title 'bottleneck (tbf toward group A) backlog; phase markers: the flowshape run (the baseline run is timed alike)'"
		echo 'set ylabel "backlog KB"'
		echo "plot '$P/baseline-backlog.dat' using 1:2 with lines lw 2 title 'baseline', '$P/flowshape-backlog.dat' using 1:2 with lines lw 2 title 'flowshape'"
		echo 'unset multiplot'
	} >"$OUT/plots.gnuplot"
	gnuplot "$OUT/plots.gnuplot" 2>"$OUT/gnuplot.log" || echo "report: gnuplot failed, see $OUT/gnuplot.log" >&2
else
	echo "report: gnuplot not installed: no PNGs" >&2
fi
cat "$OUT/results.md"
