#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# flowshape benchmark report: reads what run-in-vm.sh wrote and writes
# the markdown report, the plots and a table on stdout.
#
#   tools/bench/report.sh RAWDIR MDFILE PNGPREFIX
#
# RAWDIR holds raw.txt, meta.txt, commands.txt, bpftrace.txt; MDFILE is
# the report (e.g. Documentation/benchmarks.md); plots are written as
# PNGPREFIX-pps.png, -nspkt.png, -lateness.png, named in MDFILE relative to
# its directory.  Needs awk and gnuplot (plots are skipped without it).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
raw=${1:?usage: report.sh RAWDIR MDFILE PNGPREFIX}
md=${2:?}
png=${3:?}
mddir=$(dirname "$md")
mkdir -p "$mddir" "$(dirname "$png")"
rel() { realpath --relative-to="$mddir" "$1"; }

stats=$raw/stats.txt
awk -f "$here/stats.awk" "$raw/raw.txt" >"$stats"

meta() { awk -F= -v k="$1" '$1 == k {sub(/^[^=]*=/, ""); print; exit}' "$raw/meta.txt"; }

# S FIG PEER N METRIC -> "median min max count"
S() { awk -v f="$1" -v p="$2" -v n="$3" -v m="$4" '$1 == "S" && $2 == f && $3 == p && $4 == n && $5 == m {print $6, $7, $8, $9; exit}' "$stats"; }
# R FIG N METRIC A B -> "median min max count" of the paired ratio A/B
R() { awk -v f="$1" -v n="$2" -v m="$3" -v a="$4" -v b="$5" '$1 == "R" && $2 == f && $3 == n && $4 == m && $5 == a && $6 == b {print $7, $8, $9, $10; exit}' "$stats"; }

# fmt_int "median min max count": "12345 (11000–13000)"
fmt_int() { awk -v s="$1" 'BEGIN {split(s, a, " "); if (s == "") print "–"; else printf "%d (%d–%d)", a[1], a[2], a[3]}'; }
fmt_ratio() { awk -v s="$1" 'BEGIN {split(s, a, " "); if (s == "") print "–"; else printf "%.2f (%.2f–%.2f)", a[1], a[2], a[3]}'; }
med() { awk -v s="$1" 'BEGIN {split(s, a, " "); print (s == "" ? "" : a[1])}'; }

# verdict VALUE OP LIMIT: "met" or "missed"
verdict()
{
	[[ -n $1 ]] || { echo "not measured"; return; }
	awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN {
		ok = (op == ">=") ? (v >= l) : (v <= l)
		if (ok) print "**met**"
		else if (op == ">=") printf "**missed** (%.2f, %.0f%% short)\n", v, (l - v) / l * 100
		else printf "**missed** (%.2f, %.1fx the limit)\n", v, v / l
	}'
}

quick=$(meta quick)
read -r -a FIG1_N <<<"$(meta fig1_n)"
read -r -a FIG2_N <<<"$(meta fig2_n)"
fig3_n=$(meta fig3_n)
mem_n=$(meta mem_n)
nmax1=${FIG1_N[-1]}
nmin2=${FIG2_N[0]}
nmax2=${FIG2_N[-1]}
PEERS="pfifo fq netem fs-spread fs-delay"
label() {
	case $1 in
	pfifo) echo "pfifo" ;; fq) echo "fq" ;; netem) echo "netem" ;;
	fs-spread) echo "flowshape spread" ;; fs-delay) echo "flowshape delay" ;;
	esac
}

# --- plots -----------------------------------------------------------------

dat=$raw/plot
mkdir -p "$dat"
for p in $PEERS; do
	: >"$dat/pps-$p.dat"
	: >"$dat/nspkt-$p.dat"
	: >"$dat/satns-$p.dat"
	for n in "${FIG1_N[@]}"; do
		s=$(S 1 "$p" "$n" pps)
		[[ -n $s ]] && echo "$n $s" >>"$dat/pps-$p.dat"
	done
	for n in "${FIG2_N[@]}"; do
		s=$(S 2 "$p" "$n" ns_pkt)
		[[ -n $s ]] && echo "$n $s" >>"$dat/nspkt-$p.dat"
		s=$(S 2 "$p" "$n" sat_ns_pkt)
		[[ -n $s ]] && echo "$n $s" >>"$dat/satns-$p.dat"
	done
done

# Lateness histogram from bpftrace: "@lat[HANDLE, BIN]: COUNT", 5 us bins.
bt=$raw/bpftrace.txt
h_fsdelay=$((5 << 16))
h_netem=$((3 << 16))
lat_hist()
{
	[[ -f $bt ]] || return 0
	awk -v h="$1" '
		/^@lat\[/ {
			gsub(/[@lat\[\]:,]/, " ")
			if ($1 == h) c[$2 + 0] += $3
		}
		END { for (b in c) print b * 5, c[b] }' "$bt" | sort -n
}
lat_hist $h_fsdelay >"$dat/lat-fs-delay.dat"
lat_hist $h_netem >"$dat/lat-netem.dat"

# lat_pct FILE P: the P-th percentile (0..1) of a histogram file "us count",
# as the bin's lower edge; empty if no samples.
lat_pct()
{
	awk -v p="$2" '{b[NR] = $1; c[NR] = $2; t += $2}
		END {
			if (!t) exit
			for (i = 1; i <= NR; i++) {
				s += c[i]
				if (s >= p * t) { print b[i]; exit }
			}
		}' "$1"
}
bt_sum() { [[ -f $bt ]] && awk -v m="$1" -v h="$2" 'index($0, "@" m "[" h "]:") == 1 {print $2; f = 1; exit} END {if (!f) print 0}' "$bt" || echo 0; }

plots=0
if command -v gnuplot >/dev/null; then
	plots=1
	pl=""
	for p in $PEERS; do
		[[ -s $dat/pps-$p.dat ]] || continue
		pl+="${pl:+, }'$dat/pps-$p.dat' using 1:2:3:4 with yerrorlines lw 2 title '$(label "$p")'"
	done
	gnuplot <<-EOF
		set terminal pngcairo size 800,500 font ",10"
		set colorsequence classic
		set output '$png-pps.png'
		set title "Saturation, delay 0: packets/s vs flows (median, min-max; TCG VM)"
		set logscale x
		set xlabel "flows"
		set ylabel "packets/s"
		set yrange [0:*]
		set key bottom left
		set grid
		plot $pl
	EOF
	pl="" pl2=""
	for p in $PEERS; do
		[[ -s $dat/nspkt-$p.dat ]] && pl+="${pl:+, }'$dat/nspkt-$p.dat' using 1:2:3:4 with yerrorlines lw 2 title '$(label "$p")'"
		[[ -s $dat/satns-$p.dat ]] && pl2+="${pl2:+, }'$dat/satns-$p.dat' using 1:2:3:4 with yerrorlines lw 2 title '$(label "$p")'"
	done
	gnuplot <<-EOF
		set terminal pngcairo size 1100,500 font ",10"
		set colorsequence classic
		set output '$png-nspkt.png'
		set multiplot layout 1,2 title "Every flow delayed: CPU ns/packet, all CPUs (median, min-max; TCG VM)"
		set logscale x
		set xlabel "flows"
		set ylabel "ns/packet"
		set yrange [0:*]
		set key bottom right
		set grid
		set title "paced: $(meta rate) packets/s offered"
		plot $pl
		set title "unpaced: $(meta sat_count) packets as fast as pktgen goes"
		plot $pl2
		unset multiplot
	EOF
	fqlat=$(med "$(S 3 fq "$fig3_n" fq_latency_ns)")
	[[ -n $fqlat ]] || fqlat=$(med "$(S 2 fq "$fig3_n" fq_latency_ns)")
	fqlat_us=$(awk -v x="${fqlat:-0}" 'BEGIN {printf "%.1f", x / 1000}')
	xmax=$(cat "$dat"/lat-*.dat 2>/dev/null | awk '{c[$1] += $2; t += $2} END {
		n = 0; for (b in c) k[++n] = b + 0
		for (i = 2; i <= n; i++) { v = k[i]; for (j = i - 1; j >= 1 && k[j] > v; j--) k[j + 1] = k[j]; k[j + 1] = v }
		for (i = 1; i <= n; i++) { s += c[k[i]]; if (s >= 0.995 * t) { print k[i] + 10; exit } }
		print 100 }')
	if [[ -s $dat/lat-fs-delay.dat || -s $dat/lat-netem.dat ]]; then
		pl=""
		for p in fs-delay netem; do
			tot=$(awk '{t += $2} END {print t + 0}' "$dat/lat-$p.dat")
			((tot > 0)) || continue
			pl+="${pl:+, }'$dat/lat-$p.dat' using (\$1 + 2.5):(\$2 / $tot) with histeps lw 2 title '$(label "$p") (bpftrace)'"
		done
		pl+=", NaN with lines dt 2 lc rgb 'black' title 'fq unthrottle latency (xstats EWMA) = ${fqlat_us} us'"
		gnuplot <<-EOF
			set terminal pngcairo size 800,500 font ",10"
			set colorsequence classic
			set output '$png-lateness.png'
			set title "Release lateness (dequeue - due), qdisc tracepoints, $fig3_n flows, 5 us bins; the last bin holds 2 ms and more"
			set xlabel "lateness (us)"
			set ylabel "fraction of packets"
			set xrange [0:$xmax]
			set arrow from $fqlat_us, graph 0 to $fqlat_us, graph 1 nohead dt 2 lc rgb 'black'
			set key top right
			set grid
			plot $pl
		EOF
	else
		rm -f "$png-lateness.png"
	fi
fi

# --- the report --------------------------------------------------------------

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
target_rows=()
target() { target_rows+=("| $1 | $2 | $3 | $4 |"); }

# Targets.
for mode in spread delay; do
	for n in "${FIG1_N[@]}"; do
		r=$(R 1 "$n" pps fs-$mode fq)
		target "delay 0, $n flows: $mode pps vs fq" ">= 1.0x" "$(fmt_ratio "$r")" "$(verdict "$(med "$r")" ">=" 1.0)"
	done
	for n in "${FIG1_N[@]}"; do
		r=$(R 1 "$n" pps fs-$mode pfifo)
		target "delay 0, $n flows: $mode pps vs pfifo" ">= 0.9x" "$(fmt_ratio "$r")" "$(verdict "$(med "$r")" ">=" 0.9)"
	done
done
# Net cost: ns/packet above pfifo's in the same repetition (pfifo delays
# nothing: what is left is the delaying qdisc's own work).
net_ratio()
{
	awk -v f="$1" -v n="$2" -v a="$3" -v b="$4" -v m="${5:-ns_pkt}" '
		$1 == f && $3 == n && $5 == m { v[$2, $4] = $6; if ($4 > R) R = $4 }
		END {
			for (r = 1; r <= R; r++) {
				if (!((a, r) in v) || !((b, r) in v) || !(("pfifo", r) in v)) continue
				d = v[b, r] - v["pfifo", r]
				if (d <= 0) continue
				x[++k] = (v[a, r] - v["pfifo", r]) / d
			}
			if (!k) exit
			for (i = 2; i <= k; i++) { t = x[i]; for (j = i - 1; j >= 1 && x[j] > t; j--) x[j + 1] = x[j]; x[j + 1] = t }
			m = (k % 2) ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2
			print m, x[1], x[k], k
		}' "$raw/raw.txt"
}
for mode in spread delay; do
	for m in ns_pkt sat_ns_pkt; do
		w=paced; [[ $m == sat_ns_pkt ]] && w=unpaced
		r=$(R 2 "$nmax2" $m fs-$mode fq)
		target "every flow delayed, $nmax2 flows, $w: $mode ns/packet vs fq (maxrate)" "<= 0.5x" "$(fmt_ratio "$r")" "$(verdict "$(med "$r")" "<=" 0.5)"
		r=$(net_ratio 2 "$nmax2" fs-$mode fq $m)
		target "same, net of pfifo's ns/packet (the qdisc's own work)" "<= 0.5x" "$(fmt_ratio "$r")" "$(verdict "$(med "$r")" "<=" 0.5)"
	done
done
for mode in spread delay; do
	for m in ns_pkt sat_ns_pkt; do
		w=paced; [[ $m == sat_ns_pkt ]] && w=unpaced
		a=$(med "$(S 2 fs-$mode "$nmax2" $m)")
		b=$(med "$(S 2 fs-$mode "$nmin2" $m)")
		r=$([[ -n $a && -n $b ]] && awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')
		target "every flow delayed, $w: $mode ns/packet at $nmax2 vs $nmin2 flows (medians)" "<= 1.2x" "${r:-–}" "$(verdict "$r" "<=" 1.2)"
	done
done
fs_med_us=$(lat_pct "$dat/lat-fs-delay.dat" 0.5)
fq_lat_s=$(S 3 fq "$fig3_n" fq_latency_ns)
fq_lat_us=$(awk -v x="$(med "$fq_lat_s")" 'BEGIN {if (x != "") printf "%.1f", x / 1000}')
lr=$([[ -n $fs_med_us && -n $fq_lat_us ]] && awk -v a="$fs_med_us" -v b="$fq_lat_us" 'BEGIN {if (b > 0) printf "%.2f", a / b}')
target "lateness median (delay mode, tracepoints, ${fig3_n} flows) vs fq unthrottle latency" "<= 1.0x" \
	"${fs_med_us:-?} us vs ${fq_lat_us:-?} us${lr:+ = $lr}" "$(verdict "$lr" "<=" 1.0)"
early_x=$(awk '$5 == "early_releases" {s += $6} END {print s + 0}' "$raw/raw.txt")
early_bt=0
for h in $h_fsdelay; do
	e=$(bt_sum early "$h")
	early_bt=$((early_bt + ${e:-0}))
done
target "early releases (xstats, all runs; tracepoints, delay mode)" "0" "$early_x; $early_bt" \
	"$( ((early_x == 0 && early_bt == 0)) && echo '**met**' || echo '**missed**')"
for mode in spread delay; do
	for n in "${FIG2_N[@]}"; do
		r=$(R 2 "$n" wd_exp_s fs-$mode fq)
		target "qdisc_watchdog expiries/s, $n flows: $mode vs fq" "<= 1.0x" "$(fmt_ratio "$r")" "$(verdict "$(med "$r")" "<=" 1.0)"
	done
done

{
	cat <<-EOF
	# flowshape benchmarks

	Produced by \`make bench\`$( ((quick)) && echo ' QUICK=1 (smoke run: few repetitions, small N; not for conclusions)') on
	$(meta date), in one boot of a QEMU **TCG (software-emulated)** VM:
	kernel $(meta kernel) ($(meta kernel_version)), $(meta cpus) vCPUs
	("$(meta cpu_model)"), $(($(meta mem_kb) / 1024)) MiB, boot parameters \`$(meta cmdline)\`;
	tree $(meta git), module sha1 $(meta module_sha1); $(meta tc); $(meta bpftrace).

	**Read the ratios, not the absolute numbers.** Under TCG every
	instruction is emulated: packets per second and nanoseconds are one to
	two orders of magnitude off real hardware, and the host (2 cores) was
	shared with other VMs while this ran. What is comparable is one qdisc
	against another in the same boot: peers ran interleaved (A B C D E, then
	E D C B A, ...), $(meta reps) repetitions, and every ratio below is taken
	per repetition between runs next to each other, then summarized as
	median (min–max).

	## Targets

	| target | goal | measured: median (min–max) | verdict |
	| --- | --- | --- | --- |
	EOF
	printf '%s\n' "${target_rows[@]}"
	cat <<-EOF

	## 1. Saturation with delay 0

	pktgen (one thread) sends as fast as it can for $(meta fig1_t) s per run
	into the dummy device; N flows by cycling UDP ports (a warm-up pass
	creates the N flows first). flowshape has no destination entries and
	default levels 0: every packet is due on arrival (the internal FIFO path
	plus a flow lookup). netem runs with delay 0.

	Packets/s, median (min–max) of $(meta reps) runs:

	| flows | $(for p in $PEERS; do printf '%s | ' "$(label "$p")"; done)
	| ---: | $(for p in $PEERS; do printf -- '---: | '; done)
	EOF
	for n in "${FIG1_N[@]}"; do
		printf '| %s | ' "$n"
		for p in $PEERS; do printf '%s | ' "$(fmt_int "$(S 1 "$p" "$n" pps)")"; done
		echo
	done
	cat <<-EOF

	Paired ratios (median (min–max)):

	| flows | spread / fq | spread / pfifo | delay / fq | delay / pfifo | fq / pfifo |
	| ---: | ---: | ---: | ---: | ---: | ---: |
	EOF
	for n in "${FIG1_N[@]}"; do
		echo "| $n | $(fmt_ratio "$(R 1 "$n" pps fs-spread fq)") | $(fmt_ratio "$(R 1 "$n" pps fs-spread pfifo)") | $(fmt_ratio "$(R 1 "$n" pps fs-delay fq)") | $(fmt_ratio "$(R 1 "$n" pps fs-delay pfifo)") | $(fmt_ratio "$(R 1 "$n" pps fq pfifo)") |"
	done
	echo
	echo "Flows each qdisc held after the run (median): $(for n in "${FIG1_N[@]}"; do printf '%s: fq %s, flowshape %s; ' "$n" "$(med "$(S 1 fq "$n" flows)")" "$(med "$(S 1 fs-spread "$n" flows)")"; done)"
	echo "pfifo bypasses the queue when it is empty (TCQ_F_CAN_BYPASS); fq, netem and flowshape do not."
	((plots)) && printf '\n![packets/s vs flows](%s)\n' "$(rel "$png-pps.png")"
	cat <<-EOF

	## 2. CPU per packet, every flow delayed

	pktgen offers $(meta rate) packets/s (\`delay $((1000000000 / $(meta rate)))\` ns between
	packets, the same as \`ratep $(meta rate)\`; pktgen sleeps between packets
	rather than spinning, since its gap is over 100 us) for $(meta fig2_t) s
	to N flows (destination addresses), $(meta burst) packets of a flow back to
	back, flows in sequence. CPU time is the busy time (user, nice, system,
	irq, softirq, steal) of all CPUs from /proc/stat, from just before the
	run to 0.2 s after it (so the last delayed packets are released), divided
	by the packets sent. The qdisc is created with no delay, filled with its
	N flows by one packet each, then changed to delay every flow:

	- fq: \`maxrate 512kbit\` = one 64-byte packet per ms per flow; below
	  \`low_rate_threshold\` so every packet is paced; every burst's
	  packets 2..$(meta burst) wait.
	- flowshape spread: \`default_congestion 1\`, \`congestion_weight 4ms\`,
	  \`quantum 256\`: the same spacing, 4 ms x 64 / 256 = 1 ms per packet.
	- flowshape delay: \`default_congestion 1\`, \`congestion_weight 1ms\`:
	  every packet waits 1 ms.
	- netem: \`delay 1ms\`: every packet waits 1 ms.
	- pfifo: no delay; the baseline (pktgen, timers, the device).

	The sum includes pktgen's own cost and, when paced, its per-packet sleep
	and wake-up (an hrtimer, a context switch each way), the same for every
	peer and under TCG by far the largest part: it compresses every ratio
	toward 1. So each run also sends the same traffic unpaced ($(meta sat_count) packets
	as fast as pktgen can, same qdisc, same flows, still every flow delayed):
	CPU per packet without the sleep. "net" subtracts pfifo's ns/packet of
	the same repetition to leave what the delaying qdisc adds.

	Paced, ns/packet, median (min–max):

	| flows | $(for p in $PEERS; do printf '%s | ' "$(label "$p")"; done)
	| ---: | $(for p in $PEERS; do printf -- '---: | '; done)
	EOF
	for n in "${FIG2_N[@]}"; do
		printf '| %s | ' "$n"
		for p in $PEERS; do printf '%s | ' "$(fmt_int "$(S 2 "$p" "$n" ns_pkt)")"; done
		echo
	done
	cat <<-EOF

	Unpaced, ns/packet, median (min–max):

	| flows | $(for p in $PEERS; do printf '%s | ' "$(label "$p")"; done)
	| ---: | $(for p in $PEERS; do printf -- '---: | '; done)
	EOF
	for n in "${FIG2_N[@]}"; do
		printf '| %s | ' "$n"
		for p in $PEERS; do printf '%s | ' "$(fmt_int "$(S 2 "$p" "$n" sat_ns_pkt)")"; done
		echo
	done
	cat <<-EOF

	Paired ratios, median (min–max), "paced; unpaced":

	| flows | spread / fq | delay / fq | spread / fq, net | delay / fq, net | delay / netem | achieved pps paced (fq; spread) |
	| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
	EOF
	for n in "${FIG2_N[@]}"; do
		line="| $n |"
		for x in "R 2 $n ns_pkt fs-spread fq" "R 2 $n ns_pkt fs-delay fq" "net_ratio 2 $n fs-spread fq" "net_ratio 2 $n fs-delay fq" "R 2 $n ns_pkt fs-delay netem"; do
			# shellcheck disable=SC2086
			paced=$(fmt_ratio "$($x)")
			if [[ $x == R* ]]; then y=${x/ns_pkt/sat_ns_pkt}; else y="$x sat_ns_pkt"; fi
			# shellcheck disable=SC2086
			line+=" $paced; $(fmt_ratio "$($y)") |"
		done
		echo "$line $(med "$(S 2 fq "$n" pps)"); $(med "$(S 2 fs-spread "$n" pps)") |"
	done
	((plots)) && printf '\n![ns/packet vs flows](%s)\n' "$(rel "$png-nspkt.png")"
	cat <<-EOF

	## 3. Release lateness and early releases

	From flowshape's own xstats (lateness of every delayed packet at its
	release, over the timed runs of section 2; max is the largest single
	value over a run), and fq's \`latency\` xstat (an EWMA, weight 1/8, of how
	late fq unthrottled its flows) from the same runs:

	| flows | spread: mean us | spread: max us | delay: mean us | delay: max us | fq unthrottle latency us | early releases (all) |
	| ---: | ---: | ---: | ---: | ---: | ---: | ---: |
	EOF
	for n in "${FIG2_N[@]}"; do
		row="| $n |"
		for p in fs-spread fs-delay; do
			m=$(awk -v p="$p" -v n="$n" '$1 == 2 && $2 == p && $3 == n && $5 == "late_packets" {lp[$4] = $6}
				$1 == 2 && $2 == p && $3 == n && $5 == "lateness_total_ns" {lt[$4] = $6}
				END {for (r in lp) if (lp[r] > 0) {k++; s += lt[r] / lp[r]} if (k) printf "%.1f", s / k / 1000}' "$raw/raw.txt")
			x=$(med "$(S 2 "$p" "$n" lateness_max_ns)")
			row+=" ${m:-–} | $(awk -v x="$x" 'BEGIN {if (x != "") printf "%.0f", x / 1000; else print "–"}') |"
		done
		row+=" $(awk -v x="$(med "$(S 2 fq "$n" fq_latency_ns)")" 'BEGIN {if (x != "") printf "%.1f", x / 1000; else print "–"}') |"
		row+=" $(awk -v n="$n" '$1 == 2 && $3 == n && $5 == "early_releases" {s += $6} END {print s + 0}' "$raw/raw.txt") |"
		echo "$row"
	done
	cat <<-EOF

	Independently, from the kernel's \`qdisc:qdisc_enqueue\` and
	\`qdisc:qdisc_dequeue\` tracepoints (bpftrace, \`tools/bench/lateness.bt\`;
	on 6.1 they expose the skb address, the qdisc handle and ifindex, and a
	dequeue reports the first skb of a bulk and how many, walked through
	\`skb->next\`): with a fixed delay D (flowshape delay mode and netem, D =
	$(($(meta delay_ns) / 1000)) us) a packet is due at its enqueue time + D, so lateness =
	dequeue time - enqueue time - D. Early means dequeued before the
	\`net:net_dev_queue\` time (taken before the qdisc reads its clock) + D, so
	an early count is never a tracing artifact. $(meta fig3_reps) x $(meta fig3_t) s runs per
	qdisc at ${fig3_n} flows, same load as section 2, bpftrace attached (its
	own cost makes these latenesses somewhat larger than untraced ones).

	| qdisc | packets | mean us | median us | p90 us | p99 us | early | dequeued before enqueue + D by tracepoint skew only |
	| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
	EOF
	for p in fs-delay netem; do
		h=$h_fsdelay
		[[ $p == netem ]] && h=$h_netem
		np=$(bt_sum n "$h")
		sm=$(bt_sum sum "$h")
		mean=$(awk -v s="${sm:-0}" -v n="${np:-0}" 'BEGIN {if (n > 0) printf "%.1f", s / n / 1000; else print "–"}')
		echo "| $(label "$p") | ${np:-0} | $mean | $(lat_pct "$dat/lat-$p.dat" 0.5) | $(lat_pct "$dat/lat-$p.dat" 0.9) | $(lat_pct "$dat/lat-$p.dat" 0.99) | $(bt_sum early "$h" || echo 0) | $(bt_sum neg "$h" || echo 0) |"
	done
	echo
	echo "Percentiles are the lower edge of their 5 us bin. fq unthrottle latency in these traced runs (median of runs): ${fq_lat_us:-–} us."
	[[ -f $raw/bpftrace.txt ]] && grep -q READY "$raw/bpftrace.txt" || echo "bpftrace did not run in this boot: no tracepoint data."
	((plots)) && [[ -f $png-lateness.png ]] && printf '\n![lateness histogram](%s)\n' "$(rel "$png-lateness.png")"
	cat <<-EOF

	## 4. Memory per flow

	$mem_n flows created (one packet each) in an otherwise idle qdisc; the
	VM boots with \`slab_nomerge\` so each qdisc's flow cache has its own slab.

	| qdisc | slab cache | flows | object size B | slab pages per flow B | Slab (meminfo) delta per flow B | MemAvailable drop per flow B |
	| --- | --- | ---: | ---: | ---: | ---: | ---: |
	EOF
	for p in fs-spread fq; do
		c=$(awk -v p="$p" '$1 == 4 && $2 == p && $5 == "cache" {print $6; exit}' "$raw/raw.txt")
		c=$([[ $p == fq ]] && echo fq_flow_cache || echo flowshape_flow)
		echo "| $([[ $p == fq ]] && echo fq || echo flowshape) | $c | $(med "$(S 4 "$p" "$mem_n" flows)") | $(med "$(S 4 "$p" "$mem_n" objsize)") | $(med "$(S 4 "$p" "$mem_n" slab_bytes_flow)") | $(med "$(S 4 "$p" "$mem_n" slab_total_bytes_flow)") | $(med "$(S 4 "$p" "$mem_n" memavail_bytes_flow)") |"
	done
	cat <<-EOF

	Both also keep a bucket array of 8-byte tree roots (here one bucket per
	flow, rounded up to a power of 2).

	## 5. Timer expiries

	\`qdisc_watchdog\` hrtimer expiries per second, counted by a tracefs hist
	trigger on \`timer:hrtimer_expire_entry\` filtered on the function
	\`qdisc_watchdog\`, during the timed runs of section 2 (same load). For
	flowshape, \`watchdog_armed\` (its own count of the times it programs
	the timer: a request for the time the timer is already set for, within
	\`timer_slack\`, which the core skips, is not counted) per second is
	shown too.

	| flows | fq /s | netem /s | spread /s | delay /s | spread / fq | delay / fq | spread watchdog_armed /s | delay watchdog_armed /s |
	| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
	EOF
	for n in "${FIG2_N[@]}"; do
		wa=()
		for p in fs-spread fs-delay; do
			wa+=("$(awk -v p="$p" -v n="$n" '$1 == 2 && $2 == p && $3 == n && $5 == "watchdog_armed" {a[$4] = $6}
				$1 == 2 && $2 == p && $3 == n && $5 == "wall_ns" {w[$4] = $6}
				END {for (r in a) if (w[r] > 0) {k++; s += a[r] * 1e9 / w[r]} if (k) printf "%.0f", s / k}' "$raw/raw.txt")")
		done
		echo "| $n | $(med "$(S 2 fq "$n" wd_exp_s)") | $(med "$(S 2 netem "$n" wd_exp_s)") | $(med "$(S 2 fs-spread "$n" wd_exp_s)") | $(med "$(S 2 fs-delay "$n" wd_exp_s)") | $(fmt_ratio "$(R 2 "$n" wd_exp_s fs-spread fq)") | $(fmt_ratio "$(R 2 "$n" wd_exp_s fs-delay fq)") | ${wa[0]:-–} | ${wa[1]:-–} |"
	done
	prof=$raw/profile.txt
	if [[ -f $prof ]] && grep -q '^@n\[' "$prof"; then
		pn=$(meta profile_n)
		cat <<-EOF

		## Where the time goes (profile)

		The same paced runs as section 2 at ${pn:-the largest N} flows, one per qdisc, with
		bpftrace kprobes/kretprobes on the qdiscs' functions
		(\`tools/bench/profile.bt\`). Times are kprobe-to-kretprobe, callees
		included, and inflated by the probes themselves (TCG makes a probe
		cost several microseconds): compare rows, not absolute values.

		| qdisc | packets | enqueue ns/call | dequeue ns/call | dequeue calls/packet | empty dequeues/packet |
		| --- | ---: | ---: | ---: | ---: | ---: |
		EOF
		for p in fs-spread fs-delay fq netem; do
			# The qdisc handles run-in-vm.sh gives each peer (MAJOR << 16).
			case $p in fq) h=2 ;; netem) h=3 ;; fs-spread) h=4 ;; fs-delay) h=5 ;; esac
			h=$((h << 16))
			case $p in fq) e=fq_enqueue d=fq_dequeue ;; netem) e=netem_enqueue d=netem_dequeue ;; *) e=flowshape_enqueue d=flowshape_dequeue ;; esac
			# Packets: the enqueues the probes saw (the warm-up that
			# creates the flows included), each packet enqueued once.
			awk -v e="$e" -v d="$d" -v h="$h" -v lab="$(label "$p")" '
				{ line = $0; gsub(/[@\[\]:,]/, " ", line); split(line, f, " ") }
				f[1] == "n_h" && f[3] == h { n[f[2]] = f[4] }
				f[1] == "ns_h" && f[3] == h { ns[f[2]] = f[4] }
				f[1] == "null_h" && f[3] == h { nul[f[2]] = f[4] }
				END {
					if (!n[e] && !n[d]) exit
					pk = n[e]
					printf "| %s | %d | %.0f | %.0f | %.2f | %.2f |\n", lab, pk,
						n[e] ? ns[e] / n[e] : 0, n[d] ? ns[d] / n[d] : 0,
						pk ? n[d] / pk : 0, pk ? nul[d] / pk : 0
				}' "$prof"
		done
		cat <<-EOF

		Per function (both flowshape modes together; qdisc_watchdog and
		net_tx_action for every qdisc):

		| function | calls | ns/call | total ms |
		| --- | ---: | ---: | ---: |
		EOF
		awk '{ line = $0; gsub(/[@\[\]:,]/, " ", line); split(line, f, " ") }
			f[1] == "n" { n[f[2]] = f[3] }
			f[1] == "ns" { ns[f[2]] = f[3] }
			END { for (k in n) printf "| %s | %d | %.0f | %.1f |\n", k, n[k], ns[k] / n[k], ns[k] / 1e6 }' "$prof" | sort
	fi
	cat <<-EOF

	## How it was run

	    make bench            # this report; make bench QUICK=1: smoke run, report under build/bench/

	which builds the module and the tc plugin, then runs, in one VM boot,

	    FLOWSHAPE_VM_APPEND=slab_nomerge tools/vm/run -t TIMEOUT -- tools/bench/run-in-vm.sh build/bench/OUT

	and on the host \`tools/bench/report.sh\` (awk, gnuplot). Raw data:
	build/bench/OUT/raw.txt (one line per measurement), meta.txt,
	bpftrace.txt. Guest run time $(meta guest_seconds) s; failed runs: $(meta fails).

	Every distinct qdisc and pktgen configuration used (N-dependent values
	shown for each N):

	\`\`\`
	EOF
	cat "$raw/commands.txt"
	echo '```'
} >"$tmp"
mv "$tmp" "$md"
chmod 644 "$md"
trap - EXIT

# The table on stdout.
echo
echo "flowshape benchmark ($( ((quick)) && echo 'QUICK, ')$(meta date), $(meta kernel), $(meta cpus) vCPUs, TCG):"
printf '%s\n' "${target_rows[@]}" | sed 's/\*\*//g' | awk -F'|' '{printf "  %-78s %-9s %-26s %s\n", $2, $3, $4, $5}'
echo
echo "report: $md"
