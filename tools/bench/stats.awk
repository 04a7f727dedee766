# SPDX-License-Identifier: GPL-2.0
#
# flowshape benchmark: medians, spreads and paired ratios of raw.txt
# (lines "FIG PEER N REP METRIC VALUE"), POSIX awk (mawk is enough).
#
# Prints
#   S FIG PEER N METRIC median min max count
#   R FIG N METRIC PEER_A PEER_B median min max count
# where R is the ratio A/B computed per repetition (the two peers ran in
# the same repetition, next to each other) and then summarized.

function sort(a, n,    i, j, t)
{
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
}

function median(a, n)
{
	if (n % 2)
		return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}

# summarize KEY: sort the values of list KEY and print them.
function summarize(tag, key, rest,    a, n, i)
{
	n = cnt[key]
	for (i = 1; i <= n; i++)
		a[i] = val[key, i]
	sort(a, n)
	printf "%s %s %.6g %.6g %.6g %d\n", tag, rest, median(a, n), a[1], a[n], n
}

$5 !~ /^[a-z_]+$/ || $6 !~ /^-?[0-9.]+$/ { next }

{
	fig = $1; peer = $2; n = $3; rep = $4; m = $5; v = $6 + 0
	k = fig SUBSEP peer SUBSEP n SUBSEP m
	if (!(k in cnt)) {
		cnt[k] = 0
		keys[++nkeys] = k
	}
	val[k, ++cnt[k]] = v
	one[fig, peer, n, rep, m] = v
	if (!((fig, n, m) in seen_fnm)) {
		seen_fnm[fig, n, m] = 1
		fnm[++nfnm] = fig SUBSEP n SUBSEP m
	}
	if (!((fig, n, m, peer) in seen_p)) {
		seen_p[fig, n, m, peer] = 1
		np[fig, n, m]++
		plist[fig, n, m, np[fig, n, m]] = peer
	}
	if (rep > maxrep)
		maxrep = rep
}

END {
	for (i = 1; i <= nkeys; i++) {
		split(keys[i], f, SUBSEP)
		summarize("S", keys[i], f[1] " " f[2] " " f[3] " " f[4])
	}
	# Paired ratios between every two peers of a figure, N and metric.
	for (i = 1; i <= nfnm; i++) {
		split(fnm[i], f, SUBSEP)
		fig = f[1]; n = f[2]; m = f[3]
		for (x = 1; x <= np[fig, n, m]; x++) {
			for (y = 1; y <= np[fig, n, m]; y++) {
				if (x == y)
					continue
				a = plist[fig, n, m, x]
				b = plist[fig, n, m, y]
				k = "ratio" SUBSEP fig SUBSEP n SUBSEP m SUBSEP a SUBSEP b
				cnt[k] = 0
				for (r = 1; r <= maxrep; r++) {
					if (!((fig, a, n, r, m) in one) || !((fig, b, n, r, m) in one))
						continue
					if (one[fig, b, n, r, m] == 0)
						continue
					val[k, ++cnt[k]] = one[fig, a, n, r, m] / one[fig, b, n, r, m]
				}
				if (cnt[k] > 0)
					summarize("R", k, fig " " n " " m " " a " " b)
			}
		}
	}
}
