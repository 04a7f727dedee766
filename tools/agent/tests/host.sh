#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# flowshape-agent on the host, unprivileged, no flowshape qdisc needed:
# the reload and /metrics behaviours of issue 19.  TAP; exit 0 pass, 1 fail.
#
#   taken port: metrics_listen on a port another process holds is not
#     fatal; the agent says so and binds once the port is free.
#   reload, /metrics: a new metrics_listen that cannot be bound leaves
#     /metrics on the old address (it used to be closed first).
#   reload, load source: a destination whose metrics URL changes starts
#     its load over; a rate across two servers' counters is never used
#     (busybox httpd serves two node_exporter pages).
#   reload notifications: RELOADING=1 with MONOTONIC_USEC, READY=1 after
#     every reload, refused ones too (with STATUS=reload refused).
#   /metrics: 8 idle connections do not keep a scrape out; an oversized
#     request gets 431; label values are escaped.
#   log lines: a dead Prometheus is logged once a minute, not on every
#     round (5 a second with 4 queries each).
set -u
cd "$(dirname "$0")/.." || exit 1
AGENT=${FLOWSHAPE_AGENT:-./flowshape-agent}
SINK=build/tcp-sink
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
# wait_for SECONDS CMD...: poll until CMD succeeds; 1 on timeout.
wait_for()
{
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS >= end)) && return 1
		sleep 0.05
	done
}

make -s flowshape-agent "$SINK" >/dev/null || { echo "Bail out! build"; exit 1; }
command -v curl >/dev/null || { echo "Bail out! curl not installed"; exit 1; }
TMP=$(mktemp -d)
PIDS=()
cleanup()
{
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# A port held by another process: tcp-sink's listener.
"$SINK" >"$TMP/ports" &
SINK_PID=$!
PIDS+=("$SINK_PID")
wait_for 5 test -s "$TMP/ports"
read -r TAKEN _ <"$TMP/ports"
# A port nothing listens on (curl: 7, connection refused).
free_port()
{
	local p
	for p in $(shuf -i 20000-30000 -n 50); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" ||
			{ [[ $? == 7 ]] && echo "$p" && return 0; }
	done
	return 1
}
FREE=$(free_port)
check "ports: $TAKEN taken, $FREE free" test -n "$TAKEN" -a -n "$FREE"

conf() # METRICS_PORT [DEST_KEYS...]
{
	local port=$1
	shift
	printf '[agent]\ncontrol = proportional\ninterval = 1s\n'
	printf 'metrics_listen = 127.0.0.1:%s\n\n[qdisc]\ndev = lo\n\n' "$port"
	printf '[destination d]\nprefix = 10.77.0.1/32\nprobe = none\n'
	printf '%s\n' "${@:-metrics = none}"
}
up() { curl -sf --max-time 2 "http://127.0.0.1:$1/metrics" >/dev/null; }
alive() { kill -0 "$1" 2>/dev/null; }

# 1. Taken port at start-up.
conf "$TAKEN" >"$TMP/taken.conf"
"$AGENT" -c "$TMP/taken.conf" >"$TMP/taken.log" 2>&1 &
A=$!
PIDS+=("$A")
check "the agent says the port is taken" \
	wait_for 10 grep -q "serving no metrics for now" "$TMP/taken.log"
check "... and keeps running" alive "$A"
kill "$SINK_PID"
check "once the port is free, /metrics answers there" wait_for 10 up "$TAKEN"
kill "$A" 2>/dev/null

# 2. Reload to a taken port: /metrics stays where it was.
"$SINK" >"$TMP/ports2" &
PIDS+=("$!")
wait_for 5 test -s "$TMP/ports2"
read -r TAKEN2 _ <"$TMP/ports2"
conf "$FREE" >"$TMP/r.conf"
"$AGENT" -c "$TMP/r.conf" >"$TMP/r.log" 2>&1 &
A=$!
PIDS+=("$A")
check "/metrics on $FREE" wait_for 10 up "$FREE"
conf "$TAKEN2" >"$TMP/r.conf"
kill -HUP "$A"
check "reload to the taken port $TAKEN2 is logged" \
	wait_for 10 grep -q "stays on the old address" "$TMP/r.log"
check "... and /metrics still answers on $FREE" up "$FREE"
kill "$A" 2>/dev/null

# 3. Reload to another metrics URL: no rate across the two servers.
mkdir -p "$TMP/www"
page() # RX_BYTES
{
	printf '# TYPE node_network_receive_bytes_total counter\n'
	printf 'node_network_receive_bytes_total{device="eth0"} %s\n' "$1"
	printf '# TYPE node_network_transmit_bytes_total counter\n'
	printf 'node_network_transmit_bytes_total{device="eth0"} 0\n'
}
page 1000000 >"$TMP/www/a"
page 1000000000000 >"$TMP/www/b"
HP=$(free_port)
busybox httpd -f -p "127.0.0.1:$HP" -h "$TMP/www" &
PIDS+=("$!")
check "httpd on $HP" wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$HP/a"
load_keys()
{
	printf 'metrics = http://127.0.0.1:%s/%s\nnet_device = eth0\n' "$HP" "$1"
	printf 'link_speed = 10gbit\ncpu_weight = 0\nmemory_weight = 0\nnetwork_weight = 1\n'
}
conf "$FREE" "$(load_keys a)" >"$TMP/l.conf"
sed -i '/^metrics_listen/d' "$TMP/l.conf"
"$AGENT" -c "$TMP/l.conf" --dry-run --json >"$TMP/l.json" 2>"$TMP/l.log" &
A=$!
PIDS+=("$A")
lines() { [[ $(wc -l <"$TMP/l.json") -ge $1 ]]; }
check "rounds on server a" wait_for 20 lines 3
conf "$FREE" "$(load_keys b)" >"$TMP/l.conf"
sed -i '/^metrics_listen/d' "$TMP/l.conf"
kill -HUP "$A"
check "rounds after the reload to server b" wait_for 20 lines 7
kill "$A" 2>/dev/null
net=$(jq -s -c '[.[] | .destinations[0].network]' "$TMP/l.json")
echo "# network load per round (a, then b): $net"
check "server a's network load is measured (0, static counters)" \
	test "$(jq -c '.[2] == 0' <<<"$net")" = true
check "no round shows a rate across the two servers' counters" \
	test "$(jq -c 'all(. == null or . < 0.5)' <<<"$net")" = true
check "server b's network load is measured after the reload" \
	test "$(jq -c '.[-1] == 0' <<<"$net")" = true

# 4. A dead Prometheus: its warnings once a minute, not every round.
PP=$(free_port)
{
	printf '[agent]\ncontrol = proportional\ninterval = 200ms\n'
	printf 'prometheus_url = http://127.0.0.1:%s/\n\n[qdisc]\ndev = lo\n\n' "$PP"
	printf '[destination d]\nprefix = 10.77.0.1/32\nprobe = none\n'
	printf 'metrics = prometheus 10.77.0.1:9100\nnetwork_weight = 0\n'
} >"$TMP/p.conf"
"$AGENT" -c "$TMP/p.conf" --dry-run --json >"$TMP/p.json" 2>"$TMP/p.log" &
A=$!
PIDS+=("$A")
plines() { [[ $(wc -l <"$TMP/p.json") -ge $1 ]]; }
check "10 rounds against a dead Prometheus" wait_for 30 plines 10
kill "$A" 2>/dev/null
warns=$(grep -c "warning: Prometheus" "$TMP/p.log")
errs=$(jq -s '[.[] | .destinations[0].reason == "no data from Prometheus"] | all' "$TMP/p.json")
echo "# Prometheus warnings in $(wc -l <"$TMP/p.json") rounds: $warns"
check "every round says why nothing is pushed" test "$errs" = true
check "Prometheus' failure is logged once, not every round ($warns lines)" test "$warns" = 1

# 5. /metrics: idle connections, an oversized request, label escaping.
conf "$FREE" >"$TMP/m.conf"
sed -i 's/^dev = lo$/dev = a"b/' "$TMP/m.conf"
"$AGENT" -c "$TMP/m.conf" >"$TMP/m.log" 2>&1 &
A=$!
PIDS+=("$A")
check "/metrics on $FREE" wait_for 10 up "$FREE"
idle=()
for i in 1 2 3 4 5 6 7 8; do
	exec {fd}<>"/dev/tcp/127.0.0.1/$FREE" && idle+=("$fd")
done
# Before, these 8 held every slot until their 2 s deadline.
t0=$(date +%s%N)
code=$(curl -s -o "$TMP/m.page" -w '%{http_code}' --max-time 1.5 "http://127.0.0.1:$FREE/metrics")
t1=$(date +%s%N)
echo "# with ${#idle[@]} idle connections open: HTTP $code in $(((t1 - t0) / 1000000)) ms"
check "8 idle connections do not keep a scrape out (HTTP $code)" test "$code" = 200
for fd in "${idle[@]}"; do exec {fd}>&-; done
big=$(head -c 3000 /dev/zero | tr '\0' a)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-Big: $big" \
	"http://127.0.0.1:$FREE/metrics")
check "an oversized request gets 431 (HTTP $code)" test "$code" = 431
curl -s --max-time 5 -o "$TMP/m.page2" "http://127.0.0.1:$FREE/metrics"
check "a device name with a quote is escaped in the dev label" \
	grep -qF 'flowshape_agent_pushes_total{dev="a\"b",' "$TMP/m.page2"
kill "$A" 2>/dev/null

# 6. Reload notifications (systemd's protocol, through notify-sink).
NOTIFY=$TMP/notify.sock
build/notify-sink "$NOTIFY" >"$TMP/notify.out" &
PIDS+=("$!")
check "notify-sink listening" wait_for 5 grep -q listening "$TMP/notify.out"
conf "$FREE" >"$TMP/n.conf"
NOTIFY_SOCKET=$NOTIFY "$AGENT" -c "$TMP/n.conf" >"$TMP/n.log" 2>&1 &
A=$!
PIDS+=("$A")
ready_count() { [[ $(grep -c "READY=1" "$TMP/notify.out") -ge $1 ]]; }
check "READY=1 at start" wait_for 10 ready_count 1
kill -HUP "$A"
check "a good reload ends with READY=1" wait_for 10 ready_count 2
echo "[agent]" >"$TMP/n.conf"
echo "interval = 1parsec" >>"$TMP/n.conf"
kill -HUP "$A"
check "a refused reload ends with READY=1 too" wait_for 10 ready_count 3
kill "$A" 2>/dev/null
seq=$(awk '/RELOADING=1/ { printf "R" } /READY=1/ { printf "Y" } END { print "" }' "$TMP/notify.out")
check "READY, then RELOADING and READY per reload ($seq)" test "$seq" = YRYRY
check "every RELOADING=1 carries MONOTONIC_USEC" \
	bash -c "! grep RELOADING=1 '$TMP/notify.out' | grep -qv 'MONOTONIC_USEC=[0-9]'"
check "the refused reload says why in STATUS" \
	grep -q "READY=1|STATUS=reload refused" "$TMP/notify.out"

echo "1..$n"
exit $failed
