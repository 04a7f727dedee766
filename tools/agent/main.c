// SPDX-License-Identifier: GPL-2.0
/*
 * flowshape-agent: measure congestion toward destinations and the load of
 * the servers behind them, and keep flowshape qdiscs' destination tables
 * current.  See flowshape-agent(8) and flowshape-agent.conf(5).
 *
 * One thread, one loop: a timerfd starts each round, a signalfd brings
 * SIGHUP (reload) and SIGTERM/SIGINT (exit), and curl_multi_poll() waits
 * on libcurl's sockets and all of ours at once.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "agent.h"
#include "config.h"
#include "util.h"

#define DEFAULT_CONFIG	"/etc/flowshape/flowshape-agent.conf"
#define VERSION		"1.0"

enum { EXIT_USAGE = 2 };

struct opts {
	const char *config;
	bool once, dry_run, json, check;
	int verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: flowshape-agent [-c FILE] [-v]... [--once] [--dry-run [--json]]\n"
		"       flowshape-agent [-c FILE] --check-config\n"
		"\n"
		"Measure congestion and server load; push them into flowshape qdiscs.\n"
		"\n"
		"  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
		"      --once          one measurement (two when load needs counter rates),\n"
		"                      push it, exit\n"
		"  -n, --dry-run       measure but push nothing: print what would be pushed\n"
		"  -j, --json          with --dry-run: one JSON object per round\n"
		"      --check-config  parse the configuration, report, exit\n"
		"  -v, --verbose       more log detail (repeat for debug)\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"\n"
		"Signals: SIGHUP reloads the configuration (a bad one is refused and\n"
		"the running one kept); SIGTERM and SIGINT stop the agent.\n"
		"Exit: 0 ok, 1 error (bad configuration, netlink, a failed --once push),\n"
		"2 usage error.\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->config = DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:njvhV", lo, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'o':
			o->once = true;
			break;
		case 'n':
			o->dry_run = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'k':
			o->check = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("flowshape-agent " VERSION "\n");
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "flowshape-agent: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (o->json && !o->dry_run) {
		fprintf(stderr, "flowshape-agent: --json goes with --dry-run\n");
		return -1;
	}
	return 0;
}

static int arm_timer(int tfd, uint64_t interval_ns)
{
	struct itimerspec its = {
		.it_value = { .tv_nsec = 1 },	/* first round now */
		.it_interval = {
			.tv_sec = (time_t)(interval_ns / NSEC_PER_SEC),
			.tv_nsec = (long)(interval_ns % NSEC_PER_SEC),
		},
	};

	return timerfd_settime(tfd, 0, &its, NULL);
}

static void notify_status(struct agent *a, char *last, size_t len)
{
	if (!a->status[0] || !strcmp(a->status, last))
		return;
	snprintf(last, len, "%s", a->status);
	sd_notifyf(0, "STATUS=%s", a->status);
}

/*
 * Every TCP probe out holds a descriptor until it ends (probe_timeout,
 * across rounds in the closed loop).  Raise the soft RLIMIT_NOFILE toward
 * the hard one when the configuration may need more than it allows (the
 * unit sets LimitNOFILE, soft = hard, so it makes no call there; its
 * system call filter forbids setrlimit); say so if even that is short: a
 * probe that meets EMFILE is counted as a local error, not as loss.
 */
static void fd_limit(const struct config *c)
{
	size_t need = agent_fd_need(c);
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY ||
	    need <= rl.rlim_cur)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t old = rl.rlim_cur;

		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need * 2 ?
			      need * 2 : rl.rlim_max;
		if (rl.rlim_cur > old && !setrlimit(RLIMIT_NOFILE, &rl))
			log_info("open files limit raised from %llu to %llu (need up to %zu)",
				 (unsigned long long)old, (unsigned long long)rl.rlim_cur, need);
		else
			rl.rlim_cur = old;
	}
	if (need > rl.rlim_cur)
		log_warn("the configuration may hold %zu descriptors open, the limit is %llu (LimitNOFILE): probes beyond it are not sent (probe errors, not loss)",
			 need, (unsigned long long)rl.rlim_cur);
}

static void reload(struct agent *a, const char *path, int tfd)
{
	struct config *n;
	char err[512];

	/*
	 * systemd (>= 253) waits for READY=1 after a RELOADING=1 that
	 * carries MONOTONIC_USEC (the time of the reload); without it, the
	 * message is ignored for the reload job.  A refused reload ends
	 * with READY=1 too (the old configuration runs) and says why in
	 * STATUS; the unit's ExecReload checks the file first, so that
	 * "systemctl reload" itself fails on a bad one.
	 */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
		   (unsigned long long)(now_ns() / 1000), path);
	n = config_load(path, err, sizeof(err));
	if (!n) {
		a->reload_errors++;
		log_err("reload refused: %s; keeping the running configuration", err);
		sd_notifyf(0, "READY=1\nSTATUS=reload refused: %s", err);
		return;
	}
	fd_limit(n);
	agent_reconfigure(a, n);
	a->reloads++;
	arm_timer(tfd, n->interval_ns);
	log_notice("reloaded %s: %zu destination(s), %zu [qdisc] section(s)", path,
		   n->ndests, n->nqdiscs);
	sd_notify(0, "READY=1");
}

/* The poll set, grown to what the agent has open (freed by main). */
static struct pollfd *pfd;
static size_t cap;

static int loop(struct agent *a, const struct opts *o, int tfd, int sfd)
{
	uint64_t wd_usec = 0, wd_next = 0;
	unsigned int rounds = 0, want = 1;
	char last_status[256] = "";
	int failed = 0;

	if (sd_watchdog_enabled(0, &wd_usec) <= 0)
		wd_usec = 0;
	if (o->once && agent_needs_rates(a))
		want = 2;
	sd_notifyf(0, "READY=1\nSTATUS=measuring %zu destination(s)", a->nd);

	for (;;) {
		uint64_t now = now_ns(), dl = agent_next_deadline(a);
		int timeout = 1000;
		size_t n = 2;

		/* Room for every descriptor: one left out is never read. */
		if (cap < 2 + agent_pollfds_max(a)) {
			cap = 2 + agent_pollfds_max(a) + 64;
			pfd = xrealloc(pfd, cap * sizeof(*pfd));
		}
		pfd[0] = (struct pollfd){ .fd = tfd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		n += agent_pollfds(a, pfd + 2, cap - 2);
		if (dl)
			timeout = dl <= now ? 0 : (int)((dl - now) / NSEC_PER_MSEC + 1);
		if (wd_usec) {
			uint64_t w = wd_next <= now ? 0 : (wd_next - now) / NSEC_PER_MSEC + 1;

			if ((int)w < timeout)
				timeout = (int)w;
		}
		if (timeout > 1000)
			timeout = 1000;
		if (http_wait(&a->http, pfd, n, timeout) < 0) {
			log_err("waiting for events failed");
			return 1;
		}
		now = now_ns();

		if (pfd[1].revents) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP && !o->once) {
					reload(a, o->config, tfd);
				} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
					log_notice("stopping (signal %u)", si.ssi_signo);
					sd_notify(0, "STOPPING=1");
					return 0;
				}
			}
			continue;	/* the poll set may have changed */
		}
		if (pfd[0].revents) {
			uint64_t ticks;

			if (read(tfd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
				if (a->round_active)	/* late: end it now */
					failed = agent_round_finish(a, now) ? 1 : failed;
				if (!o->once || rounds < want)
					agent_round_start(a, now);
			}
		}
		agent_handle(a, pfd + 2, n - 2, now);
		agent_expire(a, now);
		if (agent_round_done(a)) {
			int r;

			a->quiet_round = o->once && rounds + 1 < want;
			r = agent_round_finish(a, now_ns());

			rounds++;
			if (o->once && rounds >= want) {
				if (!o->dry_run && !a->nqi) {
					log_err("no flowshape qdisc to push to");
					return 1;
				}
				return r ? 1 : 0;
			}
		}
		agent_maintain(a, now_ns());
		if (wd_usec && now >= wd_next) {
			sd_notify(0, "WATCHDOG=1");
			wd_next = now + wd_usec * 1000 / 2;
		}
		notify_status(a, last_status, sizeof(last_status));
	}
	return failed;
}

int main(int argc, char **argv)
{
	struct agent a;
	struct config *cfg;
	struct opts o;
	sigset_t mask;
	char err[512];
	int tfd, sfd, r;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	log_setup(o.verbose);

	cfg = config_load(o.config, err, sizeof(err));
	if (!cfg) {
		log_err("%s", err);
		return 1;
	}
	if (o.check) {
		printf("%s: ok: %zu destination(s), %zu [qdisc] section(s), interval %.3gs, stale_after %.3gs\n",
		       o.config, cfg->ndests, cfg->nqdiscs, (double)cfg->interval_ns / 1e9,
		       (double)cfg->stale_after_ns / 1e9);
		config_free(cfg);
		return 0;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (sfd < 0 || tfd < 0 || arm_timer(tfd, cfg->interval_ns)) {
		log_err("cannot set up timers and signals: %s", strerror(errno));
		config_free(cfg);
		return 1;
	}
	fd_limit(cfg);
	if (agent_init(&a, cfg, o.dry_run, o.json)) {
		agent_destroy(&a);
		return 1;
	}
	log_notice("started: %zu destination(s), %zu [qdisc] section(s), interval %.3gs, stale_after %.3gs%s",
		   cfg->ndests, cfg->nqdiscs, (double)cfg->interval_ns / 1e9,
		   (double)cfg->stale_after_ns / 1e9, o.dry_run ? ", dry run" : "");
	r = loop(&a, &o, tfd, sfd);
	free(pfd);
	agent_destroy(&a);
	close(tfd);
	close(sfd);
	return r;
}
