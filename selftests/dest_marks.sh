#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Destination entries keyed by firewall mark (dest mark MARK[/MASK]):
#   - the listing: marks first, most mask bits first, then the prefixes;
#     text and JSON (dest, mark, mark_mask);
#   - in-place level updates and deletes of mark entries;
#   - which entry a packet takes (ping -m sets SO_MARK): a mark entry
#     before the longest prefix, the mask with more bits before the one
#     with fewer, no match falls through to the prefixes;
#   - what the kernel refuses (fsnl, raw netlink: tc refuses most of it
#     itself), with the extack message and the attribute marked;
#   - 32 different masks fit, a 33rd is refused and changes nothing.
#
# A flow keeps its match until the table's keys change, and all pings
# from NS0 to one address are one flow (ICMP hashes on addresses): each
# probe below goes to its own receiver address.  RTT bounds as in
# dests.sh: min RTT in [delay - 1, delay + 10) ms; entries differ by 20 ms.
source "$(dirname "$0")/lib.sh"
fs_require_root
fs_require_cmd tc ip ping jq awk
fs_require_fsnl
fs_load_module
fs_netns_pair v4only || fs_skip "cannot build the veth pair"
for i in 1 2 3 4; do
	fs_peer_addr "10.200.7.$i" || fs_skip "cannot add receiver address"
done

check "qdisc: delay mode, 100 ms at congestion 1" \
	fs_fresh veth0 mode delay congestion_weight 100ms congestion_threshold 0 \
	load_weight 0 max_delay 100ms
check "prefix and mark entries in one command" \
	fs_change veth0 dest 10.200.7.0/24 congestion 0.2 \
	dest mark 0x34/0xff congestion 0.4 dest mark 0x1234/0xffff congestion 0.6 \
	dest mark 0x99 congestion 0.8
list=$(tc -n "$NS0" class show dev veth0)
fs_log "$(tr '\n' '|' <<<"$list")"
check_eq "listing order: most mask bits first, prefixes last" \
	"mark 0x99|mark 0x1234/0xffff|mark 0x34/0xff|10.200.7.0/24" \
	"$(sed -n 's/.* dest \(mark [^ ]*\|[0-9./]*\) .*/\1/p' <<<"$list" | paste -sd '|')"
json=$(fs_dests "$NS0" veth0)
check_eq "JSON: mark and mark_mask as numbers" "4660 65535 0.6" \
	"$(jq -r '.[] | select(.dest == "mark 0x1234/0xffff") | "\(.mark) \(.mark_mask) \(.congestion)"' <<<"$json")"

# ping_is DESC ADDR MARK EXPECTED_MS: the entries are set again (bare:
# levels kept) first: on a loaded host a probe can come later than
# stale_after (10 s) after the last set, and a stale entry stops delaying.
ping_is()
{
	local desc=$1 addr=$2 mark=$3 exp=$4 out
	fs_change veth0 dest 10.200.7.0/24 dest mark 0x34/0xff \
		dest mark 0x1234/0xffff dest mark 0x99
	out=$(ip netns exec "$NS0" ping -4 -n -c 6 -i 0.03 -W 3 -m "$mark" "$addr" 2>&1 |
		sed -n 's/.* time=\([0-9.]*\) ms.*/\1/p' | fs_percentile 0)
	fs_log "ping -m $mark $addr: min $out ms"
	check "$desc: min RTT ${out:-none} in [$exp - 1, $exp + 10) ms" \
		fcmp "${out:-999999} >= $exp - 1 && ${out:-999999} < $exp + 10"
}
# (ping -m takes decimal only.)
ping_is "mark 0x1234 takes 0x1234/0xffff (16 bits) over 0x34/0xff" 10.200.7.1 4660 60
ping_is "mark 0x5634 takes 0x34/0xff" 10.200.7.2 22068 40
ping_is "mark 0x99 takes its exact entry" 10.200.7.3 153 80
ping_is "an unmatched mark falls through to the /24" 10.200.7.4 7 20
fs_xsnap "$NS0" veth0
fs_log "delayed=${XS[delayed]} stale_packets=${XS[stale_packets]}"
check_eq "no probe met a stale entry" 0 "${XS[stale_packets]}"

check "in place: mark entry levels changed" \
	fs_change veth0 dest mark 0x34/0xff congestion 0.1 load 0.3
check_eq "in place: levels listed" "0.1 0.3" \
	"$(fs_dests "$NS0" veth0 | jq -r '.[] | select(.dest == "mark 0x34/0xff") | "\(.congestion) \(.load)"')"
check "delete: dest mark 0x99 delete" fs_change veth0 dest mark 0x99 delete
check_eq "delete: three entries left" 3 "$(fs_dest_count "$NS0" veth0)"
check_fail_msg "delete of a missing mark entry refused" \
	'Error: flowshape: no such destination to delete' \
	fs_change veth0 dest mark 0x98 delete

# fsnl_refused DESC MSG BAD-ATTR FSNL-DEST: the kernel refuses the entry
# with EINVAL, that message, that attribute marked.
fsnl_refused()
{
	local desc=$1 msg=$2 attr=$3 out rc
	shift 3
	out=$("$FSNL" -n "$NS0" change veth0 "$@" 2>&1)
	rc=$?
	fs_log "fsnl $*: $(tr '\n' '|' <<<"$out")"
	check "$desc: refused, EINVAL, '$msg', marks $attr" \
		test "$rc" -eq 1 -a -n "$(grep -x 'errno: Invalid argument' <<<"$out")" \
		-a -n "$(grep -xF "Error: $msg" <<<"$out")" \
		-a -n "$(grep -x "bad attribute: $attr (offset [0-9]*)" <<<"$out")"
}
tbl0=$(fs_dests "$NS0" veth0 | jq -c '[.[] | {dest, congestion, load}]')
fsnl_refused "mark with a prefix length" \
	"flowshape: a mark destination takes no prefix length (TCA_FLOWSHAPE_DEST_PLEN)" \
	"options.dests.dest#1.plen" dest:mark=16,plen=8
fsnl_refused "mark mask 0" \
	"flowshape: destination mark mask 0 would match every packet" \
	"options.dests.dest#1.mask" dest:mark=0,mask=0
fsnl_refused "mark bits outside the mask" \
	"flowshape: destination mark has bits outside its mask (TCA_FLOWSHAPE_DEST_MARK_MASK)" \
	"options.dests.dest#2.mark" dest:mark=1 dest:mark=0x110,mask=0xff
fsnl_refused "mask without a mark" \
	"flowshape: TCA_FLOWSHAPE_DEST_MARK_MASK without TCA_FLOWSHAPE_DEST_MARK" \
	"options.dests.dest#1.mask" dest:v4=10.9.0.0,plen=16,mask=0xff
fsnl_refused "a mark and an address" \
	"flowshape: destination needs exactly one of an IPv4 address, an IPv6 address or a mark" \
	"options.dests.dest#1" dest:mark=16,v4=10.9.0.1
check_eq "the refusals changed nothing" "$tbl0" \
	"$(fs_dests "$NS0" veth0 | jq -c '[.[] | {dest, congestion, load}]')"

# Masks: two in the table (0xff, 0xffff); 30 one-bit masks more fit, a
# 33rd does not.
args=()
for ((b = 0; b < 30; b++)); do
	args+=(dest mark "$((1 << b))/$((1 << b))")
done
check "32 different masks fit" fs_change veth0 "${args[@]}"
check_fail_msg "a 33rd mask is refused" \
	'Error: flowshape: more than 32 different destination mark masks' \
	fs_change veth0 dest mark 0x80000000/0x80000000
check_eq "and changes nothing" 33 "$(fs_dest_count "$NS0" veth0)"

fs_done
