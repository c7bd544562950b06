#!/usr/bin/env python3
# Presence beyond login and logout (the project's additions to the API,
# docs/api.md):
# GET /api/session gives a page that holds the cookie its session's nick,
# CSRF token and a cursor, writing nothing; POST /api/away ends the session
# after a short grace with a "timeout" leave, exactly once, unless a
# request of the same session comes first or a poll of it is parked.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (Client, Stack, Tap, alive_check, events_of, is_int,
                     login_client, main_guard, raw_request, wait_until)

main_guard()
tap = Tap()
GRACE_WAIT = 40  # seconds: far past the 10 s grace, for a loaded machine


def leaves_of(watcher, nick):
    return [e for e in watcher.catch_up()
            if e.get("type") == "leave" and e.get("from") == nick]


def away(c, **kw):
    return c.request("POST", "/api/away", csrf="form", **kw)


def t_session_get(st):
    watcher = login_client(st)
    watcher.catch_up()
    c = login_client(st)
    watcher.catch_up()
    r = c.request("GET", "/api/session")
    tap.eq(r.status, 200, "GET /api/session with a live session: 200", r.show())
    j = r.json or {}
    tap.eq(j.get("nick"), c.nick, "it names the session's nick")
    tap.eq(j.get("csrf"), c.csrf, "it gives the session's CSRF token")
    tap.ok(is_int(j.get("cursor")) and j["cursor"] >= c.cursor,
           "its cursor is at or after the login's", r.show())
    tap.eq("session" in j, False, "it does not give the token away")
    tap.eq(watcher.catch_up(), [], "it writes no event (no join, no leave)")
    r = raw_request(st, "GET", "/api/session")
    tap.eq((r.status, r.error), (401, "no_session"), "without a session: 401 no_session")
    r = c.request("POST", "/api/session", csrf="header")
    tap.eq(r.status, 405, "POST /api/session: 405")
    c.logout()
    r = c.request("GET", "/api/session")
    tap.eq((r.status, r.error), (401, "no_session"), "after logout: 401 no_session")


def t_away_csrf(st):
    c = login_client(st)
    r = c.request("POST", "/api/away")
    tap.eq((r.status, r.error), (403, "bad_csrf"), "away without CSRF: 403 bad_csrf")
    r = c.request("POST", "/api/away", csrf=("form", "0" * 32))
    tap.eq((r.status, r.error), (403, "bad_csrf"), "away with a wrong CSRF: 403 bad_csrf")
    r = raw_request(st, "POST", "/api/away", {"Content-Type": "application/x-www-form-urlencoded"},
                    b"csrf=x")
    tap.eq((r.status, r.error), (401, "no_session"), "away without a session: 401")
    r = c.request("GET", "/api/away")
    tap.eq(r.status, 405, "GET /api/away: 405")
    c.logout()


def t_away_ends(st):
    watcher = login_client(st)
    watcher.catch_up()
    c = login_client(st)
    nick = c.nick
    r = away(c)
    tap.eq((r.status, (r.json or {}).get("ok")), (200, True), "away with CSRF in the form: 200 ok",
           r.show())
    got = []
    wait_until(lambda: got.extend(leaves_of(watcher, nick)) or got, GRACE_WAIT, 0.2)
    tap.eq([e.get("text") for e in got], ["timeout"],
           "the leave is written after the grace, with text timeout (not after 300 s)")
    r = c.request("GET", "/api/users")
    tap.eq((r.status, r.error), (401, "no_session"), "the ended session is refused (not cached)")
    r = Client(st).login(nick)
    tap.eq(r.status, 200, "the nick is free again", r.show())
    tap.eq(leaves_of(watcher, nick), [], "and no second leave is written")


def t_away_cancelled(st):
    """A reload (any request) or a parked poll of the session keeps it;
    a control session marked away after them shows when the grace is over."""
    watcher = login_client(st)
    watcher.catch_up()
    reload_ = login_client(st)
    tab = login_client(st)
    control = login_client(st)
    tap.eq(away(reload_).status, 200, "reload: away answered")
    r = reload_.request("GET", "/api/session")
    tap.eq(r.status, 200, "reload: the new page's GET /api/session is served")
    second = Client(st)
    second.session, second.csrf = tab.session, tab.csrf
    second.cursor = second.request("GET", "/api/session").json["cursor"]
    parked = second.poll_deferred(timeout=55)
    wait_until(lambda: False, 0.5)
    tap.eq(away(tab).status, 200, "second tab: the first tab's away answered")
    tap.eq(away(control).status, 200, "control: away answered")
    seen = []
    wait_until(lambda: seen.extend(watcher.catch_up()) or
               events_of(seen, "leave", sender=control.nick), GRACE_WAIT, 0.2)
    tap.eq(len(events_of(seen, "leave", sender=control.nick)), 1,
           "control: its leave comes after the grace")
    r = reload_.request("GET", "/api/users")
    tap.eq(r.status, 200, "reload: the session lives on past the grace")
    nicks = [u.get("nick") for u in (r.json or {}).get("users", [])]
    tap.ok(reload_.nick in nicks and tab.nick in nicks,
           "both are still in the online list", repr(nicks))
    left = [e.get("from") for e in seen + watcher.catch_up() if e.get("type") == "leave"]
    tap.ok(reload_.nick not in left and tab.nick not in left, "no leave for either", repr(left))
    reload_.logout()
    tab.logout()
    r = parked.join(70)
    tap.eq(r.status, 200, "second tab: its poll is answered", r.show())


def t_away_workers():
    with Stack(workers=3, tap=tap, name="three workers") as st:
        watcher = login_client(st)
        watcher.catch_up()
        cs = [login_client(st) for _ in range(6)]
        for c in cs:
            tap.eq(away(c).status, 200, "three workers: away of %s answered" % c.nick)
        nicks = set(c.nick for c in cs)
        got = []
        wait_until(lambda: got.extend(e for e in watcher.catch_up()
                                      if e.get("type") == "leave") or
                   nicks <= set(e.get("from") for e in got), GRACE_WAIT, 0.2)
        for c in cs:
            tap.eq(len([e for e in got if e.get("from") == c.nick]), 1,
                   "three workers: one leave for %s" % c.nick)
        wait_until(lambda: False, 2)
        tap.eq([e for e in watcher.catch_up() if e.get("type") == "leave"], [],
               "three workers: no second leave later")


with Stack(tap=tap) as st:
    for t in (t_session_get, t_away_csrf, t_away_ends, t_away_cancelled):
        tap.run(t, st)
    alive_check(tap, st, "the presence tests")
tap.run(t_away_workers)
tap.done()
