#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# flowshape-agent in query-API mode against a real Prometheus server
# (Debian's prometheus) on loopback: node_exporter is scraped every second
# by Prometheus, the agent asks Prometheus (PromQL) for every server's
# CPU, memory and network figures and pushes the loads.  Asserted: the
# loads Prometheus reports reach the qdisc, a change follows, and an
# exporter that dies makes its entries stale (never 0 or 1).
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip jq prometheus prometheus-node-exporter
fs_load_module

AGENT=$FS_TOP/tools/agent/flowshape-agent
[[ -x $AGENT ]] || fs_skip "flowshape-agent not built (make -C tools/agent)"

NSP=${FS_ID}p
TMP=$(mktemp -d)
fs_on_exit rm -rf "$TMP"
np() { ip netns exec "$NSP" "$@"; }

ip netns add "$NSP" || fs_skip "cannot create a namespace"
fs_on_exit ip netns del "$NSP"
np ip link set lo up
np ip link add name fsd0 type dummy || fs_skip "no dummy device"
np ip link set fsd0 up
check "flowshape on a dummy device" np tc qdisc add dev fsd0 root handle 1: flowshape

ag_mem()
{
	printf 'node_memory_MemAvailable_bytes %d\nnode_memory_MemTotal_bytes 1000000000\n' "$1" \
		>"$TMP/textfile/mem.prom.tmp" && mv -f "$TMP/textfile/mem.prom.tmp" "$TMP/textfile/mem.prom"
}

mkdir -p "$TMP/textfile" "$TMP/data"
ag_mem 300000000	# memory load 0.7
ip netns exec "$NSP" prometheus-node-exporter --web.listen-address=127.0.0.1:9100 \
	--collector.disable-defaults --collector.cpu --collector.netdev \
	--collector.textfile --collector.textfile.directory="$TMP/textfile" \
	>"$TMP/exporter.log" 2>&1 &
EXPORTER_PID=$!
fs_on_exit kill "$EXPORTER_PID"

cat >"$TMP/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ['127.0.0.1:9100']
EOF2
ip netns exec "$NSP" prometheus --config.file="$TMP/prometheus.yml" \
	--storage.tsdb.path="$TMP/data" --web.listen-address=127.0.0.1:9090 \
	>"$TMP/prometheus.log" 2>&1 &
PROM_PID=$!
fs_on_exit kill "$PROM_PID"

# ag_query PROMQL: the first sample's value, from inside the namespace.
ag_query()
{
	np curl -sf --max-time 5 -G http://127.0.0.1:9090/api/v1/query \
		--data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'
}
fs_require_cmd curl

prom_up() { [[ $(ag_query 'up{job="node"}') == 1 ]]; }
rate_ready() { [[ -n $(ag_query 'rate(node_cpu_seconds_total[5s])') ]]; }
if ! wait_for 120 prom_up; then
	tail -n 20 "$TMP/prometheus.log" | sed 's/^/# /'
	check "Prometheus scrapes node_exporter" false
	fs_done
fi
check "Prometheus scrapes node_exporter" true
check "Prometheus has rates over 5s" wait_for 30 rate_ready

cat >"$TMP/agent.conf" <<EOF2
[agent]
control = proportional
interval = 1s
stale_after = 3s
prometheus_url = http://127.0.0.1:9090
promql_rate_window = 5s
metrics_listen = 127.0.0.1:9465

[qdisc]
dev = fsd0

[destination mem]
prefix = 10.77.0.0/24
probe = none
metrics = prometheus 127.0.0.1:9100
cpu_weight = 0
memory_weight = 1
network_weight = 0

[destination cpu]
prefix = 10.78.0.0/24
probe = none
metrics = prometheus 127.0.0.1:9100
cpu_weight = 1
memory_weight = 0
network_weight = 0

[destination net]
prefix = 10.79.0.0/24
probe = none
metrics = prometheus 127.0.0.1:9100
cpu_weight = 0
memory_weight = 0
network_weight = 1
link_speed = 1gbit
EOF2
LOG=$TMP/agent.log
ip netns exec "$NSP" "$AGENT" -c "$TMP/agent.conf" -v >"$LOG" 2>&1 &
AGENT_PID=$!
fs_on_exit kill "$AGENT_PID"

entry() { fs_dest "$NSP" fsd0 "$1"; }
field() { entry "$1" | jq -r ".$2"; }
fresh() { [[ $(field "$1" stale) == false ]]; }
stale() { [[ $(field "$1" stale) == true ]]; }
load_between() { local v; v=$(field "$1" load); [[ $v != null ]] && fcmp "$v >= $2 && $v <= $3"; }

check "memory load from Prometheus pushed (0.7)" wait_for 30 load_between 10.77.0.0/24 0.65 0.75
check "CPU load from Prometheus pushed" wait_for 10 load_between 10.78.0.0/24 0 1
check "CPU entry fresh" fresh 10.78.0.0/24
check "network load from Prometheus pushed (idle dummy: ~0)" \
	wait_for 10 load_between 10.79.0.0/24 0 0.05
check "network entry fresh" fresh 10.79.0.0/24
check_eq "congestion not probed: pushed as 0" 0 "$(field 10.77.0.0/24 congestion)"

ag_mem 900000000	# memory load 0.1
check "a memory change comes through Prometheus" \
	wait_for 15 load_between 10.77.0.0/24 0.05 0.15

kill "$EXPORTER_PID"
wait "$EXPORTER_PID" 2>/dev/null
check "exporter gone: Prometheus has no data, the entry goes stale" \
	wait_for 20 stale 10.77.0.0/24
v=$(field 10.77.0.0/24 load)
check "its load stays what was measured ($v), not 0 or 1" fcmp "$v > 0.05 && $v < 0.15"
check "the CPU entry goes stale too" wait_for 5 stale 10.78.0.0/24
check "the agent says why" grep -q "mem: not pushed: no data from Prometheus" "$LOG"
check "the agent is still running" kill -0 "$AGENT_PID"

if ((_fs_failed)); then
	tail -n 30 "$LOG" | sed 's/^/#   /'
	fs_dests "$NSP" fsd0 | jq -c '.[]' | sed 's/^/#   /'
fi
fs_done
