#!/usr/bin/env python3
# The search indexer is driven by writes (src/indexer.c): it sweeps once
# at start, then only --index-delay ms after this process wrote sends,
# and at once again while a backlog of more than a batch (1,000) is left;
# an idle chatd never wakes for it. Seen through /api/metrics
# (chatd_index_sweeps_total, chatd_indexed_events_total) and the index
# itself (events_fts, search_indexed), never through timings: "idle"
# is a count that does not move while nothing is written.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import re
import secrets
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import fts_ids, search_mark, sqlite_shell, Stack, Tap, alive_check, ids_of, login_client, main_guard, raw_request, wait_until

main_guard()
if not shutil.which("sqlite3"):
    print("1..0 # SKIP the sqlite3 shell is not installed")
    sys.exit(0)
tap = Tap()
ARGS = ["--rate-limit", "1000000/1", "--index-delay", "50"]


def counters(st):
    """(sweeps, indexed events) from /api/metrics."""
    r = raw_request(st, "GET", "/api/metrics")
    body = r.body.decode()
    got = []
    for name in ("chatd_index_sweeps_total", "chatd_indexed_events_total"):
        m = re.search(r"^%s (\d+)$" % name, body, re.M)
        if m is None:
            raise AssertionError("no %s in /api/metrics" % name)
        got.append(int(m.group(1)))
    return tuple(got)


def stays(st, seconds):
    """The counters do not move over seconds of nothing written."""
    before = counters(st)
    time.sleep(seconds)
    after = counters(st)
    return before == after, (before, after)


def t_idle(st):
    """After the sweep at start, an idle chatd does not wake to index."""
    tap.ok(wait_until(lambda: counters(st)[0] >= 1, 30), "the sweep at start ran")
    ok, diag = stays(st, 1.5)
    tap.ok(ok, "idle: no sweep while nothing is written", diag)


def t_catch_up(st):
    """Sends are indexed without a search, by sweeps the sends caused;
    then the indexer sleeps again."""
    a = login_client(st)
    w = "cu" + secrets.token_hex(3)
    s0, n0 = counters(st)
    ids = [a.must_send("%s %d" % (w, k)) for k in range(3)]
    tap.ok(wait_until(lambda: fts_ids(st, w) == ids, 30), "the sends are indexed without a search")
    s1, n1 = counters(st)
    tap.ok(s1 > s0 and n1 - n0 >= 3, "by a sweep, which counted them",
           ((s0, n0), (s1, n1)))
    ok, diag = stays(st, 1.0)
    tap.ok(ok, "then no sweep while nothing is written", diag)
    a.logout()


def t_search_at_once(st):
    """A search right after a send finds it, whatever the sweep."""
    a = login_client(st)
    w = "sa" + secrets.token_hex(3)
    i = a.must_send("%s now" % w)
    r = a.request("GET", "/api/search", [("q", w)])
    tap.eq(ids_of(r.events), [i], "a search right after the send finds it")
    a.logout()


def t_backlog(st):
    """A backlog above a batch is swept to its end with no search."""
    a = login_client(st)
    w = "bk" + secrets.token_hex(3)
    sqlite_shell(st, "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 2500)"
           " INSERT INTO events (type, room, sender, text)"
           " SELECT 'message', 'lobby', 'system', 'filler ' || k FROM n;")
    last = a.must_send("%s after the backlog" % w)
    tap.ok(wait_until(lambda: search_mark(st) >= last, 60), "one send sweeps 2,500 rows above the mark")
    tap.eq(fts_ids(st, w), [last], "up to that send")
    ok, diag = stays(st, 1.0)
    tap.ok(ok, "then the indexer sleeps", diag)
    a.logout()


with Stack(ARGS, tap=tap, name="stack with a 50 ms index delay") as st:
    for t in (t_idle, t_catch_up, t_search_at_once, t_backlog):
        tap.run(t, st)
    alive_check(tap, st, "the indexer tests")
tap.done()
