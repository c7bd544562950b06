/*
 * metrics: counters shared by the workers of one chatd (see metrics.h).
 *
 * One struct in an anonymous shared mapping holds every counter: the
 * requests answered by endpoint and status (the endpoints of the router,
 * so that a client cannot make up new series), sends, events delivered
 * to polls, store errors, the search indexer's sweeps and the events it
 * indexed, and a histogram of the send batch's commit
 * time. Polls waiting is a gauge of each process: each worker keeps its
 * own slot up to date, and a slot whose process has gone counts no more.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <sys/mman.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

#define STATUS_MIN 100
#define STATUS_MAX 599
#define SLOTS 64 /* --workers at most */

static const char *const endpoints[] = {
	"/api/login",
	"/api/logout",
	"/api/send",
	"/api/image",
	"/api/image/ID",
	"/api/poll",
	"/api/history",
	"/api/search",
	"/api/users",
	"/api/session",
	"/api/away",
	"/api/metrics",
	"/api/health",
	"other",
};
#define ENDPOINTS (sizeof endpoints / sizeof endpoints[0])
#define EP_POLL 5
#define EP_OTHER (ENDPOINTS - 1)

/* Upper bounds of the commit histogram's buckets, in microseconds. */
static const int64_t bounds_us[] = { 500, 1000, 2500, 5000, 10000, 25000, 50000,
	100000, 250000, 500000, 1000000, 2500000, 5000000 };
#define BUCKETS (sizeof bounds_us / sizeof bounds_us[0])

struct slot {
	pid_t pid;
	int   waiting;
};

struct metrics {
	uint64_t    requests[ENDPOINTS][STATUS_MAX - STATUS_MIN + 1];
	uint64_t    sends;
	uint64_t    deliveries;
	uint64_t    delivered_events;
	uint64_t    store_errors;
	uint64_t    commit_buckets[BUCKETS + 1]; /* the last: +Inf */
	uint64_t    commit_sum_us;
	uint64_t    commit_count;
	uint64_t    index_sweeps;
	uint64_t    indexed_events;
	struct slot slots[SLOTS];
	time_t	    started;
};

static struct metrics  local;
static struct metrics *m = &local;
static int	       my_slot = -1;

/* Map the counters shared with the workers forked after this. */
void
metrics_init(void)
{
	void *p;

	p = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED)
		m = p;
	m->started = time(NULL);
}

/* When metrics_init ran (chatd's start), or this process's first call. */
time_t
metrics_started(void)
{
	if (m->started == 0)
		m->started = time(NULL);
	return m->started;
}

static void
add(uint64_t *counter, uint64_t n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/*
 * The endpoint a path names, as the router knows it. NULL is a parked
 * poll's answer: its conn no longer holds its request (conn_park).
 */
static size_t
endpoint_of(const char *path)
{
	size_t i;

	if (path == NULL)
		return EP_POLL;
	if (strncmp(path, "/api/image/", 11) == 0 && path[11] != '\0')
		return 4;
	for (i = 0; i < EP_OTHER; i++)
		if (strcmp(path, endpoints[i]) == 0)
			return i;
	return EP_OTHER;
}

/* One answer with status went out for a request of path. */
void
metrics_request(const char *path, int status)
{
	if (status < STATUS_MIN || status > STATUS_MAX)
		return;
	add(&m->requests[endpoint_of(path)][status - STATUS_MIN], 1);
}

/* A send (or an image) was written, or found written (client_id). */
void
metrics_send(void)
{
	add(&m->sends, 1);
}

/* A poll was answered with n events. */
void
metrics_delivered(size_t n)
{
	add(&m->deliveries, 1);
	add(&m->delivered_events, n);
}

/* The store could not do what was asked (STORE_UNAVAILABLE). */
void
metrics_store_error(void)
{
	add(&m->store_errors, 1);
}

/* Microseconds of a monotonic clock. */
int64_t
metrics_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A commit of the send batch took us microseconds. */
void
metrics_commit(int64_t us)
{
	size_t i;

	if (us < 0)
		us = 0;
	for (i = 0; i < BUCKETS && us > bounds_us[i]; i++)
		continue;
	add(&m->commit_buckets[i], 1);
	add(&m->commit_sum_us, (uint64_t)us);
	add(&m->commit_count, 1);
}

/* The search indexer woke to index new events. */
void
metrics_index_sweep(void)
{
	add(&m->index_sweeps, 1);
}

/* n events went into the search index (a sweep's, or a search's). */
void
metrics_indexed(int n)
{
	if (n > 0)
		add(&m->indexed_events, (uint64_t)n);
}

/* Is the process of slot s gone (or the slot free)? */
static int
slot_gone(const struct slot *s)
{
	pid_t pid = __atomic_load_n(&s->pid, __ATOMIC_RELAXED);

	return pid == 0 || (kill(pid, 0) == -1 && errno == ESRCH);
}

/* This process's slot, claimed on first use; -1 if all are taken. */
static int
slot_mine(void)
{
	pid_t pid, me;
	int   i;

	if (my_slot >= 0) /* every park and answer asks: no getpid then */
		return my_slot;
	me = getpid();
	for (i = 0; my_slot < 0 && i < SLOTS; i++) {
		pid = __atomic_load_n(&m->slots[i].pid, __ATOMIC_RELAXED);
		if ((pid == 0 || slot_gone(&m->slots[i])) &&
		    __atomic_compare_exchange_n(&m->slots[i].pid, &pid, me, 0,
			__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			my_slot = i;
	}
	return my_slot;
}

/* This process now holds n parked polls. */
void
metrics_waiting(int n)
{
	int i;

	if ((i = slot_mine()) >= 0)
		__atomic_store_n(&m->slots[i].waiting, n, __ATOMIC_RELAXED);
}

/* Append the counters, in Prometheus's text format 0.0.4, to out. */
static void
format_requests(struct buf *out)
{
	size_t	 e, s;
	uint64_t v;

	buf_adds(out,
	    "# HELP chatd_requests_total Answers sent, by endpoint "
	    "and status (nginx's own answers are not counted).\n"
	    "# TYPE chatd_requests_total counter\n");
	for (e = 0; e < ENDPOINTS; e++)
		for (s = 0; s <= STATUS_MAX - STATUS_MIN; s++)
			if ((v = get(&m->requests[e][s])) > 0)
				buf_printf(out,
				    "chatd_requests_total{endpoint=\"%s\","
				    "status=\"%zu\"} %llu\n",
				    endpoints[e], s + STATUS_MIN,
				    (unsigned long long)v);
}

static void
format_counter(struct buf *out, const char *name, const char *help,
    const uint64_t *counter)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name,
	    help, name, name, (unsigned long long)get(counter));
}

static void
format_commits(struct buf *out)
{
	uint64_t cum = 0;
	size_t	 i;

	buf_adds(out,
	    "# HELP chatd_commit_seconds Time of each commit of a "
	    "batch of sends (its fsync with --sync full).\n"
	    "# TYPE chatd_commit_seconds histogram\n");
	for (i = 0; i < BUCKETS; i++) {
		cum += get(&m->commit_buckets[i]);
		buf_printf(out, "chatd_commit_seconds_bucket{le=\"%g\"} %llu\n",
		    (double)bounds_us[i] / 1e6, (unsigned long long)cum);
	}
	cum += get(&m->commit_buckets[BUCKETS]);
	buf_printf(out,
	    "chatd_commit_seconds_bucket{le=\"+Inf\"} %llu\n"
	    "chatd_commit_seconds_sum %.6f\n"
	    "chatd_commit_seconds_count %llu\n",
	    (unsigned long long)cum, (double)get(&m->commit_sum_us) / 1e6,
	    (unsigned long long)get(&m->commit_count));
}

/* Append every counter of metrics.c, in the text format 0.0.4, to out. */
void
metrics_format(struct buf *out)
{
	int64_t waiting = 0;
	int	i;

	for (i = 0; i < SLOTS; i++)
		if (!slot_gone(&m->slots[i]))
			waiting += __atomic_load_n(
			    &m->slots[i].waiting, __ATOMIC_RELAXED);
	buf_printf(out,
	    "# HELP chatd_polls_waiting Polls parked, waiting for news.\n"
	    "# TYPE chatd_polls_waiting gauge\nchatd_polls_waiting %lld\n",
	    (long long)waiting);
	format_requests(out);
	format_counter(out, "chatd_sends_total",
	    "Sends and images answered 200.", &m->sends);
	format_counter(out, "chatd_poll_answers_total",
	    "Polls answered 200 (with events or none).", &m->deliveries);
	format_counter(out, "chatd_events_delivered_total",
	    "Events delivered in the answers of polls.", &m->delivered_events);
	format_counter(out, "chatd_store_errors_total",
	    "Store operations that failed (locked, disk full, I/O): 503s.",
	    &m->store_errors);
	format_counter(out, "chatd_index_sweeps_total",
	    "Times the search indexer woke to index new events.",
	    &m->index_sweeps);
	format_counter(out, "chatd_indexed_events_total",
	    "Events put into the search index, by a sweep or a search.",
	    &m->indexed_events);
	format_commits(out);
}
