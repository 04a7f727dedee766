// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests: log lines and their priorities (flowshape-agent(8),
 * LOGGING).  Under systemd (JOURNAL_STREAM set) each line starts with
 * sd-daemon(3)'s "<N>" (error 3, warning 4, notice 5, info 6, debug 7) and
 * nothing else; otherwise "flowshape-agent: " and the level's name.  -v
 * raises the threshold from notice to info, -vv to debug.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "util.h"

/* Everything the functions under test write to stderr goes to a file. */
static char captured[4096];

static int capture_start(void)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);

	assert_non_null(f);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_true(dup2(fileno(f), STDERR_FILENO) >= 0);
	fclose(f);
	return saved;
}

static const char *capture_end(int saved)
{
	size_t n;

	fflush(stderr);
	assert_int_equal(lseek(STDERR_FILENO, 0, SEEK_SET), 0);
	n = (size_t)read(STDERR_FILENO, captured, sizeof(captured) - 1);
	captured[n < sizeof(captured) ? n : 0] = '\0';
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	return captured;
}

static void log_each_level(void)
{
	log_err("e %d", 1);
	log_warn("w %s", "2");
	log_notice("n");
	log_info("i");
	log_debug("d");
}

static void test_journal_priorities(void **state)
{
	int saved;

	(void)state;
	setenv("JOURNAL_STREAM", "8:12345", 1);
	log_setup(2);	/* -vv: every level */
	saved = capture_start();
	log_each_level();
	assert_string_equal(capture_end(saved), "<3>e 1\n<4>w 2\n<5>n\n<6>i\n<7>d\n");
}

static void test_journal_threshold(void **state)
{
	int saved;

	(void)state;
	setenv("JOURNAL_STREAM", "8:12345", 1);
	log_setup(0);	/* default: notice and above */
	saved = capture_start();
	log_each_level();
	assert_string_equal(capture_end(saved), "<3>e 1\n<4>w 2\n<5>n\n");
	log_setup(1);	/* -v: info too */
	saved = capture_start();
	log_each_level();
	assert_string_equal(capture_end(saved), "<3>e 1\n<4>w 2\n<5>n\n<6>i\n");
}

static void test_plain_stderr(void **state)
{
	int saved;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_setup(2);
	saved = capture_start();
	log_each_level();
	assert_string_equal(capture_end(saved),
			    "flowshape-agent: error: e 1\n"
			    "flowshape-agent: warning: w 2\n"
			    "flowshape-agent: n\n"
			    "flowshape-agent: i\n"
			    "flowshape-agent: debug: d\n");
}

/* A line repeated every round is written once a minute, with a count. */
static void test_rate_limited(void **state)
{
	struct log_rl rl = { 0 };
	int saved, i;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_setup(0);
	saved = capture_start();
	for (i = 0; i < 300; i++)	/* 5 a second for a minute */
		log_rl(&rl, (uint64_t)i * 200 * NSEC_PER_MSEC, LOG_LVL_WARN, "down %d", i);
	log_rl(&rl, LOG_RL_NS + 1, LOG_LVL_WARN, "down %s", "again");
	/* Below the threshold: neither written nor counted. */
	log_rl(&rl, 3 * LOG_RL_NS, LOG_LVL_INFO, "quiet");
	assert_string_equal(capture_end(saved),
			    "flowshape-agent: warning: down 0\n"
			    "flowshape-agent: warning: down again (299 more like this held back)\n");
	assert_int_equal(rl.held, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_priorities),
		cmocka_unit_test(test_journal_threshold),
		cmocka_unit_test(test_plain_stderr),
		cmocka_unit_test(test_rate_limited),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
