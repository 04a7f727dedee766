/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Active RTT probes, nonblocking: ICMP echo (unprivileged ping sockets
 * where net.ipv4.ping_group_range allows, else raw sockets with
 * CAP_NET_RAW) and TCP connect time.  The event loop polls the engine's
 * descriptors; each probe ends exactly once, with an RTT or as lost.
 */
#ifndef FSA_PROBE_H
#define FSA_PROBE_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"

struct probe;

/* ok: a reply (or a TCP RST: the path answered); rtt_ns valid if ok. */
typedef void (*probe_done_fn)(void *arg, void *owner, bool ok, uint64_t rtt_ns);

struct icmp_sock {
	int fd;			/* -1: not open (yet) */
	bool raw;		/* raw socket: IP header, our own id */
	bool failed;		/* could not open: ICMP probes are lost */
};

struct probe_engine {
	struct icmp_sock v4, v6;
	uint16_t ident;		/* ICMP id on raw sockets */
	uint16_t seq;
	struct probe *p;	/* outstanding probes */
	size_t n, cap;
	uint64_t cookie;	/* payload token, per probe */
};

/* Datagrams read from one ICMP socket per readiness: a flood must not
 * starve the event loop (the rest wait for the next turn). */
#define ICMP_READ_BUDGET	256

struct sock_filter;
/* The classic BPF program for a raw ICMPv4 socket (IP header first): only
 * echo replies carrying ident pass, so the agent does not read every ICMP
 * message the host receives.  Returns its length (<= max), 0 if max is
 * too small. */
size_t probe_icmp4_filter(uint16_t ident, struct sock_filter *prog, size_t max);

void probe_engine_init(struct probe_engine *pe);
void probe_engine_close(struct probe_engine *pe);

/* Start one probe; it ends through probe_handle/probe_expire.  Returns 0,
 * or -errno if it could not even be sent (counted as lost by the caller). */
int probe_start(struct probe_engine *pe, void *owner, enum probe_kind kind,
		const struct sockaddr_storage *addr, socklen_t addrlen,
		uint64_t timeout_ns);

/* Whether probe_start's -errno is a local failure (no socket, no buffer,
 * not permitted: EMFILE, ENOBUFS, EPERM, ...) rather than a sign of the
 * path (ENETUNREACH, EHOSTUNREACH): local failures are not path loss. */
bool probe_error_is_local(int err);

/* Descriptors to poll: at most 2 + outstanding TCP probes. */
size_t probe_pollfds(const struct probe_engine *pe, struct pollfd *pfd, size_t max);
/* Handle readiness of the descriptors probe_pollfds gave. */
void probe_handle(struct probe_engine *pe, const struct pollfd *pfd, size_t n,
		  probe_done_fn fn, void *arg);
/* End probes past their deadline as lost. */
/* End the probes past their deadline as unanswered.  An unanswered probe
 * reports ok = false and, as rtt_ns, its age when it was given up: its
 * RTT is at least that (a lower bound, e.g. behind a deep queue). */
void probe_expire(struct probe_engine *pe, uint64_t now, probe_done_fn fn, void *arg);
/* The same for every probe still out (a round's end). */
void probe_expire_all(struct probe_engine *pe, uint64_t now, probe_done_fn fn, void *arg);
/* Earliest deadline, 0 if none. */
uint64_t probe_next_deadline(const struct probe_engine *pe);
/*
 * The RTT to report: the kernel's measurement (receive timestamp minus
 * send time, or TCP_INFO's), unless it is 0 (none) or longer than the
 * agent's own (a realtime clock step: the kernel answers first).
 */
uint64_t probe_pick_rtt(uint64_t user_rtt_ns, uint64_t kernel_rtt_ns);
/* Forget an owner's probes without calling back (reload). */
void probe_cancel_owner(struct probe_engine *pe, void *owner);
/* Call fn for every probe still out, with its owner and send time. */
typedef void (*probe_walk_fn)(void *arg, void *owner, uint64_t sent_ns);
void probe_walk(const struct probe_engine *pe, probe_walk_fn fn, void *arg);
size_t probe_outstanding(const struct probe_engine *pe, void *owner);

#endif
