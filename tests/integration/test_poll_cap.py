#!/usr/bin/env python3
# One session may hold only a few waiting polls (--session-polls, 4 by
# default): its next poll answers its oldest at once, 200 with no events
# and its cursor, so an honest client with a few tabs never sees an error
# and one that opens fifty gains nothing. Other sessions' polls are not
# touched, and honest clients are served meanwhile.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (TOP, Client, Stack, Tap, alive_check, ids_of, is_int, login_client,
                     main_guard, wait_parked, wait_until)

main_guard()
tap = Tap()

CAP = 4         # chatd's default --session-polls
FLOOD = 50      # polls of one session, through nginx


def answered_empty(d, cursor, timeout=20):
    """The deferred poll d came back 200 with no events and a cursor at or
    after cursor, well before its own 60 s timeout; (ok, diag)."""
    try:
        r = d.join(timeout)
    except Exception as e:
        return False, "%s: %s" % (type(e).__name__, e)
    j = r.json if isinstance(r.json, dict) else {}
    good = (r.status == 200 and j.get("events") == [] and is_int(j.get("cursor"))
            and j["cursor"] >= cursor)
    return good, r.show()


def t_one_by_one(st):
    """Polls opened one after another: each one past the cap answers the
    oldest still waiting, and the cap's newest get the next event."""
    flood = login_client(st)
    honest = login_client(st)
    flood.catch_up()
    honest.catch_up()
    hd = honest.poll_deferred(timeout=60)
    wait_parked(st, 1)
    ds, bad = [], []
    for i in range(FLOOD):
        ds.append(flood.poll_deferred(timeout=60))
        if i < CAP:
            wait_parked(st, 2 + i)
            continue
        good, diag = answered_empty(ds[i - CAP], flood.cursor)
        if not good:
            bad.append("poll %d: %s" % (i - CAP, diag))
    wait_parked(st, 1 + CAP)
    tap.eq(bad, [], "%d polls of one session: all but the newest %d answered at once, "
           "200 with no events and a valid cursor" % (FLOOD, CAP))
    tap.eq([d.done() for d in ds[-CAP:]], [False] * CAP,
           "the newest %d of that session still wait" % CAP)
    tap.ok(not hd.done(), "another session's waiting poll is not answered by the flood",
           repr(hd.resp))
    other = Client(st)
    r = other.login()
    tap.eq(r.status, 200, "an honest client logs in meanwhile", r.show())
    rh = hd.join(20)
    tap.ok(rh.status == 200 and any(e.get("type") == "join" and e.get("from") == other.nick
                                    for e in rh.events),
           "and its join wakes the other session's poll", rh.show())
    rs = [d.join(20) for d in ds[-CAP:]]
    tap.eq([r.status == 200 and other.nick in [e.get("from") for e in r.events] for r in rs],
           [True] * CAP, "the flooding session's %d waiting polls get the join too" % CAP,
           "\n".join(r.show() for r in rs))
    other.catch_up()
    d = other.poll_deferred(timeout=60)
    wait_parked(st, 1)
    mid = honest.must_send("served during a flood")
    r = d.join(20)
    tap.ok(r.status == 200 and mid in ids_of(r.events),
           "the honest client's poll gets the next message", r.show())
    for c in (flood, honest, other):
        c.logout()


def t_burst(st):
    """Polls of one session all at once: the same, whatever order they
    reach chatd in."""
    flood = login_client(st)
    watcher = login_client(st)
    flood.catch_up()
    watcher.catch_up()
    ds = [flood.poll_deferred(timeout=60) for _ in range(FLOOD)]
    wd = watcher.poll_deferred(timeout=60)
    # all but CAP of the burst come back, whatever order chatd read them in
    wait_until(lambda: sum(d.done() for d in ds) >= FLOOD - CAP, 30)
    wait_parked(st, CAP + 1)
    early = [d for d in ds if d.done()]
    bad = []
    for d in early:
        good, diag = answered_empty(d, flood.cursor)
        if not good:
            bad.append(diag)
    tap.eq(len(early), FLOOD - CAP, "a burst of %d polls of one session: %d answered at once"
           % (FLOOD, FLOOD - CAP))
    tap.eq(bad, [], "each one 200 with no events and a valid cursor")
    wait_parked(st, CAP + 1)
    tap.ok(not wd.done(), "another session's poll still waits", repr(wd.resp))
    mid = watcher.must_send("after the burst")
    rw = wd.join(20)
    tap.ok(mid in ids_of(rw.events), "and gets the next message", rw.show())
    late = [d for d in ds if d not in early]
    rs = [d.join(20) for d in late]
    tap.eq([mid in ids_of(r.events) for r in rs], [True] * CAP,
           "so do the %d polls of the burst that waited" % CAP, "\n".join(r.show() for r in rs))
    for c in (flood, watcher):
        c.logout()


def t_option():
    """--session-polls takes 1 to 64, and --help says so."""
    chatd = os.environ.get("CHATD") or os.path.join(TOP, "build", "src", "chatd")
    out = subprocess.run([chatd, "--help"], stdout=subprocess.PIPE, timeout=10).stdout
    tap.ok(b"--session-polls N" in out, "chatd --help lists --session-polls")
    for bad in ("0", "65", "x", ""):
        p = subprocess.run([chatd, "--session-polls", bad, "--db", "/nonexistent/x.db"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        tap.ok(p.returncode != 0 and b"--session-polls" in p.stderr,
               "--session-polls %r is refused" % bad, p.stderr.decode(errors="replace"))


def t_cap_one(st):
    """With --session-polls 1 a second poll answers the first at once."""
    a = login_client(st)
    a.catch_up()
    d1 = a.poll_deferred(timeout=60)
    wait_parked(st, 1)
    d2 = a.poll_deferred(timeout=60)
    good, diag = answered_empty(d1, a.cursor)
    tap.ok(good, "--session-polls 1: the second poll answers the first with no events", diag)
    wait_parked(st, 1)
    mid = a.must_send("to the one left")
    r = d2.join(20)
    tap.ok(mid in ids_of(r.events), "the second gets the next message", r.show())
    a.logout()


tap.run(t_option)
with Stack(["--log-level", "debug"], tap=tap) as st:
    tap.run(t_one_by_one, st)
    tap.run(t_burst, st)
    alive_check(tap, st, "floods of polls from one session")
with Stack(["--log-level", "debug", "--session-polls", "1"], tap=tap, name="cap-1 stack") as st:
    tap.run(t_cap_one, st)
tap.done()
