/*
 * h_ops: the endpoints for operators, not for browsers.
 *
 *   GET /api/metrics  Prometheus's text format 0.0.4: the counters of
 *                     metrics.c (the whole daemon, every worker), live
 *                     sessions, the database's and the WAL's sizes,
 *                     uptime, and the versions chatd runs with.
 *   GET /api/health   200 {"ok":true} while the store answers a read,
 *                     503 unavailable otherwise: for load balancers.
 *
 * Neither needs a session: nginx.conf.example lets only the machine
 * itself (127.0.0.1, ::1) reach them.
 *
 * Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
 */
#include <sys/stat.h>

#include <sqlite3.h>
#include <stdio.h>
#include <time.h>

#include "handlers.h"
#include "metrics.h"
#include "reply.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif
#ifndef FCGI_VERSION
#define FCGI_VERSION "unknown"
#endif

#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The size of the file path, or -1 when it is not there. */
static long long
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* Append a gauge with its HELP and TYPE lines. */
static void
gauge(struct buf *out, const char *name, const char *help, long long v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", name, help,
	    name, name, v);
}

/* GET /api/metrics: every metric, for a Prometheus scrape. */
void
h_metrics(struct app *app, struct conn *c)
{
	struct buf out, wal;
	int64_t	   live = -1;

	buf_init(&out);
	buf_init(&wal);
	metrics_format(&out);
	if (store_sessions_live(app->store, &live) != STORE_OK)
		live = -1;
	gauge(&out, "chatd_sessions_live",
	    "Sessions not ended (-1: the store did not answer).", live);
	buf_printf(&wal, "%s-wal", app->conf->db_path);
	gauge(&out, "chatd_database_bytes", "Size of the database file.",
	    file_size(app->conf->db_path));
	gauge(&out, "chatd_wal_bytes", "Size of the database's WAL file.",
	    file_size(wal.data));
	gauge(&out, "chatd_start_time_seconds",
	    "When chatd started (its first process), Unix time.",
	    (long long)metrics_started());
	gauge(&out, "chatd_uptime_seconds", "Seconds since chatd started.",
	    (long long)(time(NULL) - metrics_started()));
	buf_printf(&out,
	    "# HELP chatd_build_info chatd's version, and SQLite's and "
	    "libfcgi's.\n# TYPE chatd_build_info gauge\n"
	    "chatd_build_info{version=\"%s\",sqlite=\"%s\",fcgi=\"%s\"} 1\n",
	    PACKAGE_VERSION, sqlite3_libversion(), FCGI_VERSION);
	reply_text(c, 200, METRICS_TYPE, &out);
	buf_free(&wal);
	buf_free(&out);
}

/* GET /api/health: 200 while a read of the store answers, else 503. */
void
h_health(struct app *app, struct conn *c)
{
	struct buf body;
	int64_t	   live;

	if (store_sessions_live(app->store, &live) != STORE_OK) {
		reply_error(
		    c, API_UNAVAILABLE, "The store is unavailable.", NULL);
		return;
	}
	buf_init(&body);
	buf_adds(&body, "{\"ok\":true}");
	reply_json(c, &body, NULL);
	buf_free(&body);
}
