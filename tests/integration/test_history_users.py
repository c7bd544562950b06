#!/usr/bin/env python3
# GET /api/history (limit, before, order, rooms, private visibility) and
# GET /api/users (docs/api.md, "Endpoints").
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (Client, Stack, Tap, alive_check, events_of, ids_of, is_int,
                     login_client, main_guard)

main_guard()
tap = Tap()


def ascending(xs):
    return all(a < b for a, b in zip(xs, xs[1:]))


def t_history(st):
    a = login_client(st)
    sent = [a.must_send("h %d" % i) for i in range(250)]
    r = a.history()
    tap.eq(r.status, 200, "history answers 200", r.show())
    tap.ok(isinstance(r.json, dict) and isinstance(r.json.get("events"), list),
           "history answers {\"events\": [...]}", r.show())
    ids = ids_of(r.events)
    tap.eq(len(ids), 50, "history's default limit is 50")
    tap.ok(ascending(ids), "history is oldest first (ascending ids)", repr(ids))
    tap.eq(ids, sent[-50:], "the default page is the newest 50 events", repr(ids))
    r = a.history(room="lobby")
    tap.eq(ids_of(r.events), sent[-50:], "room=lobby is the default room")
    r = a.history(limit=10)
    tap.eq(ids_of(r.events), sent[-10:], "limit=10 gives the newest 10, oldest first")
    r = a.history(limit=1)
    tap.eq(ids_of(r.events), sent[-1:], "limit=1 gives the newest event")
    r = a.history(limit=200)
    tap.eq(ids_of(r.events), sent[-200:], "limit=200 gives the newest 200")
    for q in ("limit=201", "limit=1000", "limit=-1", "limit=abc", "limit=", "limit=5x",
              "before=abc", "before=", "before=1.5"):
        r = a.request("GET", "/api/history?" + q)
        tap.ok(r.status == 400 and r.error == "bad_request", "history?%s: 400 bad_request" % q, r.show())
    mid = sent[100]
    r = a.history(before=mid, limit=5)
    tap.eq(ids_of(r.events), sent[95:100], "before=ID&limit=5: the 5 events just below ID, oldest first",
           r.show())
    r = a.history(before=mid)
    tap.eq(ids_of(r.events), sent[50:100], "before=ID: the 50 events just below ID")
    r = a.history(before=sent[0], limit=200)
    tap.ok(all(e["id"] < sent[0] for e in r.events) and ascending(ids_of(r.events)),
           "before the first message: only older events", r.show())
    r = a.history(before=1)
    tap.eq(r.events, [], "before=1: nothing", r.show())
    for e in a.history(limit=3).events:
        tap.ok(is_int(e.get("id")) and is_int(e.get("ts")) and e.get("type") == "message"
               and e.get("room") == "lobby" and e.get("from") == a.nick
               and isinstance(e.get("text"), str),
               "history event %s has id, ts, type, room, from, text" % e.get("id"), repr(e))
    a.logout()


def t_history_rooms_private(st):
    a, b, c = login_client(st), login_client(st), login_client(st)
    m_room = a.must_send("in hr", room="hr")
    m_lobby = a.must_send("in lobby")
    r = a.send("private to b", to=b.nick)
    m_priv = r.json["id"]
    j = login_client(st)
    j.logout()
    r = c.history(room="hr", limit=200)
    ids = ids_of(r.events)
    tap.ok(m_room in ids and m_lobby not in ids, "history of room hr: its message, not lobby's", r.show())
    tap.ok(events_of(r, type="join", sender=j.nick) and events_of(r, type="leave", sender=j.nick),
           "history of room hr includes join and leave events", r.show())
    r = c.history(limit=200)
    tap.ok(m_lobby in ids_of(r.events) and m_room not in ids_of(r.events),
           "lobby history: the lobby message, not hr's", r.show())
    tap.ok(m_priv not in ids_of(r.events), "history hides a private message from a third user",
           r.show())
    for who, x in (("sender", a), ("recipient", b)):
        for room in ("lobby", "hr"):
            r = x.history(room=room, limit=200)
            tap.ok(m_priv in ids_of(r.events),
                   "history of %s shows the private message to its %s" % (room, who), r.show())
    r = c.history(before=m_priv + 1, limit=1)
    tap.ok(m_priv not in ids_of(r.events), "a third user cannot reach it with before/limit", r.show())
    r = c.history(room="Bad Room")
    tap.ok(r.status == 400 and r.error == "bad_room", "history of a bad room: 400 bad_room", r.show())
    r = Client(st).history()
    tap.ok(r.status == 401 and r.error == "no_session", "history without a session: 401", r.show())
    for x in (a, b, c):
        x.logout()


def t_history_invisible(st):
    """The newest N a poll would show, even when the newest rows of the log
    are ones the caller may not see."""
    a, b, c = login_client(st), login_client(st), login_client(st)
    mine = [c.must_send("lobby %d" % i) for i in range(60)]
    for i in range(250):
        a.must_send("elsewhere %d" % i, room="elsewhere")
    for i in range(250):
        a.must_send("private %d" % i, to=b.nick)
    r = c.history()
    tap.eq(ids_of(r.events), mine[-50:],
           "history of lobby behind 500 newer invisible rows: still the newest 50 it may see",
           r.show()[:400])
    r = c.history(limit=200)
    tap.ok(set(mine) <= set(ids_of(r.events)) and ascending(ids_of(r.events)),
           "limit=200 behind 500 invisible rows: all 60 lobby messages", r.show()[:400])
    for x in (a, b, c):
        x.logout()


def t_users(st):
    a = login_client(st)
    t0 = int(time.time() * 1000)
    b = login_client(st)
    r = a.users()
    tap.eq(r.status, 200, "users answers 200", r.show())
    j = r.json if isinstance(r.json, dict) else {}
    users = j.get("users") if isinstance(j.get("users"), list) else []
    tap.ok(is_int(j.get("count")) and j.get("count") == len(users), "count is the number of users",
           r.show())
    nicks = [u.get("nick") for u in users if isinstance(u, dict)]
    tap.ok(a.nick in nicks and b.nick in nicks, "both live users are listed", r.show())
    ub = next((u for u in users if isinstance(u, dict) and u.get("nick") == b.nick), {})
    tap.ok(is_int(ub.get("since")) and abs(ub["since"] - t0) < 60000,
           "since is Unix milliseconds of the login", repr(ub))
    tap.ok(isinstance(ub.get("idle"), (int, float)) and not isinstance(ub.get("idle"), bool)
           and 0 <= ub["idle"] < 30, "idle is a small number of seconds", repr(ub))
    n0 = j.get("count")
    time.sleep(2.2)
    r = a.users()
    ub = next((u for u in r.json.get("users", []) if u.get("nick") == b.nick), {})
    ua = next((u for u in r.json.get("users", []) if u.get("nick") == a.nick), {})
    tap.ok(isinstance(ub.get("idle"), (int, float)) and ub["idle"] >= 2,
           "idle grows while a user is quiet (%r after 2.2 s)" % ub.get("idle"), repr(ub))
    tap.ok(isinstance(ua.get("idle"), (int, float)) and 0 <= ua["idle"] < 10,
           "the asking user's idle stays small (%r)" % ua.get("idle"), repr(ua))
    c = login_client(st)
    r = a.users()
    tap.eq(r.json.get("count"), n0 + 1, "count grows after a login", r.show())
    tap.ok(c.nick in [u.get("nick") for u in r.json.get("users", [])], "the new user is listed")
    b.logout()
    r = a.users()
    tap.eq(r.json.get("count"), n0, "count shrinks after a logout", r.show())
    tap.ok(b.nick not in [u.get("nick") for u in r.json.get("users", [])],
           "the user who logged out is gone", r.show())
    r = Client(st).users()
    tap.ok(r.status == 401 and r.error == "no_session", "users without a session: 401", r.show())
    a.logout()
    c.logout()


with Stack(["--rate-limit", "1000/10"], tap=tap) as st:
    for t in (t_history, t_history_rooms_private, t_history_invisible, t_users):
        tap.run(t, st)
    alive_check(tap, st, "the history and users tests")
tap.done()
