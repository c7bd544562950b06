/*
 * tap: the smallest TAP producer, for the unit tests (automake's
 * tap-driver.sh reads it). ok() records one test; tap_done() prints the
 * plan and returns the exit status.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#ifndef CHATD_TAP_H
#define CHATD_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

/* The condition is evaluated once, so that it may have side effects. */
#define ok(cond, ...) \
	do { \
		int pass_ = (cond) ? 1 : 0; \
		tap_count++; \
		if (!pass_) \
			tap_failed++; \
		printf("%sok %d - ", pass_ ? "" : "not ", tap_count); \
		printf(__VA_ARGS__); \
		printf("\n"); \
		if (!pass_) \
			printf("# failed at %s:%d\n", __FILE__, __LINE__); \
	} while (0)

/* Compare a buffer with a C string, showing both when they differ. */
#define ok_bytes(data, len, want, name) \
	do { \
		int same_ = (len) == strlen(want) && \
		    memcmp((data), (want), (len)) == 0; \
		ok(same_, "%s", name); \
		if (!same_) \
			printf("#   got:  %.*s\n#   want: %s\n", (int)(len), \
			    (const char *)(data), (want)); \
	} while (0)

static int
tap_done(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
