#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# flowshape-agent probing IPv6 destinations end to end: an ICMPv6 echo
# probe to fd00:100::2 and a TCP-connect probe to [fd00:101::2]:8080 (a
# busybox httpd), both across the veth pair from NS0, where flowshape
# holds the entries.  Asserted:
#   - both IPv6 entries are pushed and fresh, with the probes answered
#     (probes_sent_total > 0, probes_lost_total 0) and an RTT below 100 ms;
#   - 200 ms of netem on the reply path (NS1's veth1) shows up in both
#     probes' RTTs (>= 200 ms: kernel timestamps cannot be early) and, with
#     full_congestion_delay 400 ms, as congestion of about 0.5 in the
#     kernel for both prefixes (>= 0.35: the smoothed RTT converges from
#     below; <= 0.75: no more than 100 ms of TCG noise on top).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/agent-lib.sh"
fs_require_root
fs_require_cmd tc ip jq busybox
fs_load_module

AGENT=$FS_TOP/tools/agent/flowshape-agent
[[ -x $AGENT ]] || fs_skip "flowshape-agent not built (make -C tools/agent)"
busybox --list | grep -qx httpd || fs_skip "busybox has no httpd"
fs_netns_pair || fs_skip "cannot build the veth pair"
fs_peer_addr fd00:101::2 || fs_skip "cannot add the second IPv6 address"
TMP=$(mktemp -d)
fs_on_exit rm -rf "$TMP"
mkdir -p "$TMP/www"

ip netns exec "$NS1" busybox httpd -f -p '[fd00:101::2]:8080' -h "$TMP/www" &
HTTPD_PID=$!
fs_on_exit kill "$HTTPD_PID"
v6_listening() { n1 ss -Hltn 'sport = :8080' | grep -q 'fd00:101::2'; }
check "busybox httpd listens on [fd00:101::2]:8080" wait_for 10 v6_listening

# The levels must not delay the probes themselves: weights 0.
check "flowshape on veth0" n0 tc qdisc add dev veth0 root handle 1: flowshape \
	congestion_weight 0 load_weight 0

cat >"$TMP/agent.conf" <<EOF
[agent]
interval = 1s
stale_after = 5s
probes = 3
full_congestion_delay = 400ms
# This test reads the proportional law's level (congestion from the RTT).
control = proportional
rtt_smoothing = 0.5
hysteresis = 0.02
metrics_listen = 127.0.0.1:9467

[qdisc]
dev = veth0

[destination icmp6]
prefix = fd00:100::2/128
probe = icmp
metrics = none

[destination tcp6]
prefix = fd00:101::/64
probe = tcp [fd00:101::2]:8080
metrics = none
EOF
LOG=$TMP/agent.log
ip netns exec "$NS0" "$AGENT" -c "$TMP/agent.conf" -v >"$LOG" 2>&1 &
AGENT_PID=$!
fs_on_exit kill "$AGENT_PID"

fresh() { fs_jq_true '.stale == false' "$(fs_dest "$NS0" veth0 "$1")"; }
metrics() { fs_http_get "$NS0" http://127.0.0.1:9467/metrics; }
# mval PAGE NAME DEST
mval() { fs_prom_value "$1" "$2" "destination=\"$3\""; }
congestion_at_least()
{
	local c
	c=$(fs_dest "$NS0" veth0 "$1" | jq -r .congestion)
	[[ $c != null ]] && fcmp "$c >= $2"
}

check "ICMPv6-probed entry fd00:100::2/128 pushed and fresh" wait_for 20 fresh fd00:100::2/128
check "TCP-over-IPv6-probed entry fd00:101::/64 pushed and fresh" wait_for 20 fresh fd00:101::/64
page=$(metrics)
for d in icmp6 tcp6; do
	sent=$(mval "$page" flowshape_agent_probes_sent_total $d)
	lost=$(mval "$page" flowshape_agent_probes_lost_total $d)
	rtt=$(mval "$page" flowshape_agent_rtt_seconds $d)
	fs_log "$d: sent $sent lost $lost rtt $rtt s"
	check "$d: probes sent ($sent)" test "${sent:-0}" -gt 0
	check_eq "$d: none lost" 0 "$lost"
	check "$d: an RTT was measured, below 100 ms ($rtt s)" \
		fcmp "${rtt:-0} > 0 && ${rtt:-1} < 0.1"
done

# Replies 200 ms late: both probes must see it.
n1 tc qdisc add dev veth1 root netem delay 200ms
check "ICMPv6 path congested (>= 0.35 of 400 ms)" wait_for 20 congestion_at_least fd00:100::2/128 0.35
check "TCP/IPv6 path congested (>= 0.35 of 400 ms)" wait_for 20 congestion_at_least fd00:101::/64 0.35
page=$(metrics)
for d in icmp6 tcp6; do
	rtt=$(mval "$page" flowshape_agent_rtt_seconds $d)
	c=$(mval "$page" flowshape_agent_congestion $d)
	fs_log "$d with 200 ms of netem: rtt $rtt s, congestion $c"
	check "$d: RTT with netem >= 200 ms, < 300 ms ($rtt s)" fcmp "${rtt:-0} >= 0.2 && ${rtt:-1} < 0.3"
	check "$d: congestion about 0.5 (0.35..0.75: $c)" fcmp "${c:-0} >= 0.35 && ${c:-1} <= 0.75"
done
check "the agent is still running" kill -0 "$AGENT_PID"

if ((_fs_failed)); then
	tail -n 30 "$LOG" | sed 's/^/#   /'
	fs_dests "$NS0" veth0 | jq -c '.[]' | sed 's/^/#   /'
fi
fs_done
