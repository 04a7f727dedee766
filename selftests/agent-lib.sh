# SPDX-License-Identifier: GPL-2.0
#
# Helpers shared by the flowshape-agent selftests (agent*.sh,
# robust-agent.sh); sourced after lib.sh.

# fs_write_atomic FILE CONTENT: replace FILE with CONTENT (and a newline)
# by a rename, so that a server reading it never sees half a file.
fs_write_atomic()
{
	printf '%s\n' "$2" >"$1.tmp" && mv -f "$1.tmp" "$1"
}

# fs_node_mem_page AVAILABLE [TOTAL]: the memory part of a node_exporter
# page (Prometheus text): MemAvailable AVAILABLE out of TOTAL bytes (1 GB
# by default), so that the memory load is 1 - AVAILABLE / TOTAL.
fs_node_mem_page()
{
	printf '# TYPE node_memory_MemAvailable_bytes gauge\n'
	printf 'node_memory_MemAvailable_bytes %d\n' "$1"
	printf '# TYPE node_memory_MemTotal_bytes gauge\n'
	printf 'node_memory_MemTotal_bytes %d\n' "${2:-1000000000}"
}

# fs_node_mem_file FILE AVAILABLE [TOTAL]: write that page to FILE
# atomically (a static /metrics, or node_exporter's textfile collector).
fs_node_mem_file()
{
	fs_write_atomic "$1" "$(fs_node_mem_page "$2" "${3:-1000000000}")"
}

# fs_http_get NS URL: the body of GET URL from namespace NS ("" for the
# current one), on stdout; non-zero on an HTTP error or after 5 s.  curl
# where installed, else busybox wget.
fs_http_get()
{
	local ns=$1 url=$2 pre=()
	[[ -n $ns ]] && pre=(ip netns exec "$ns")
	if command -v curl >/dev/null; then
		"${pre[@]}" curl -sf --max-time 5 "$url"
	else
		"${pre[@]}" busybox wget -q -T 5 -O - "$url"
	fi
}

# fs_urlencode TEXT: TEXT as a URL query value.
fs_urlencode()
{
	jq -rn --arg v "$1" '$v | @uri'
}

# fs_prom_value PAGE NAME [LABEL...]: the value of the first sample of
# metric NAME in the Prometheus text PAGE whose labels contain every LABEL
# (e.g. 'destination="slow"' 'component="cpu"'); empty if none.
fs_prom_value()
{
	local page=$1 name=$2
	shift 2
	awk -v n="$name" -v ls="$(printf '%s\n' "$@")" '
		BEGIN { nl = split(ls, l, "\n") }
		{ m = $1; sub(/\{.*/, "", m) }
		m == n {
			for (i = 1; i <= nl; i++)
				if (l[i] != "" && !index($1, l[i]))
					next
			print $2
			exit
		}' <<<"$page"
}

# fs_cpu_burn_start: keep every CPU busy (one nice 19 busy loop
# pinned to each) so that the idle share node_exporter reports is ~0 and
# the CPU utilisation is a known 1.  The pids go to FS_BURN_PIDS.
FS_BURN_PIDS=()
fs_cpu_burn_start()
{
	local c
	for ((c = 0; c < $(nproc); c++)); do
		taskset -c "$c" nice -n 19 sh -c 'while :; do :; done' &
		FS_BURN_PIDS+=($!)
		fs_on_exit kill "$!"
	done
}

fs_cpu_burn_stop()
{
	local p
	for p in "${FS_BURN_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	FS_BURN_PIDS=()
}
