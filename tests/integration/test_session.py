#!/usr/bin/env python3
# Sessions: login, the cookie and the header, CSRF, logout, idle timeout and
# the login cursor (docs/api.md, "Sessions").
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (Client, Deferred, Stack, Tap, alive_check, events_of, ids_of, is_int,
                     login_client, main_guard, raw_request, unique_nick,
                     wait_until)

main_guard()
tap = Tap()


def token_bits(tok):
    """A generous estimate of the bits a token can carry, from its alphabet."""
    if all(c in "0123456789abcdef" for c in tok.lower()):
        per = 4
    elif all(c.isalnum() or c in "-_+/=" for c in tok):
        per = 6 if any(c in "-_+/" for c in tok) or (any(c.isupper() for c in tok)
                                                   and any(c.islower() for c in tok)) else 5
    else:
        per = 6
    return len(tok.rstrip("=")) * per


def parse_cookie(value):
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip()
    return name.strip(), val, attrs


def t_login_fields(st):
    nick = unique_nick("Al")
    c = Client(st)
    r = c.login(nick)
    tap.eq(r.status, 200, "login answers 200", r.show())
    j = r.json if isinstance(r.json, dict) else {}
    tap.eq(j.get("nick"), nick, "login echoes the nick")
    tap.ok(isinstance(j.get("session"), str) and j.get("session"), "login gives a session string")
    tap.ok(isinstance(j.get("csrf"), str) and j.get("csrf"), "login gives a csrf string")
    tap.ok(is_int(j.get("cursor")) and j.get("cursor") >= 0, "login gives an integer cursor",
           repr(j.get("cursor")))
    tap.ok(isinstance(j.get("users"), list), "login gives a users list", repr(j.get("users")))
    tap.ok(j.get("csrf") != j.get("session"), "csrf token differs from the session token")

    cookies = [parse_cookie(v) for v in r.header_all("Set-Cookie")]
    ours = [ck for ck in cookies if ck[0] == "chat_session"]
    if not tap.ok(len(ours) == 1, "login sets exactly one chat_session cookie",
                  repr(r.header_all("Set-Cookie"))):
        return
    _, val, attrs = ours[0]
    tap.eq(val, j.get("session"), "cookie value is the session token")
    tap.eq(attrs.get("path"), "/", "cookie has Path=/", repr(attrs))
    tap.ok("httponly" in attrs, "cookie is HttpOnly", repr(attrs))
    tap.eq((attrs.get("samesite") or "").lower(), "strict", "cookie is SameSite=Strict", repr(attrs))

    tok = j.get("session") or ""
    tap.ok(token_bits(tok) >= 128, "session token can carry >= 128 bits (%d chars)" % len(tok), tok)
    tap.ok(len(set(tok)) >= 10, "session token looks random (distinct characters)", tok)
    toks = {tok}
    for _ in range(5):
        o = Client(st).must_login()
        toks.add(o.session)
        o.logout()
    tap.eq(len(toks), 6, "six logins give six different session tokens", repr(toks))
    c.logout()


def t_good_nicks(st):
    for nick, label in (("a", "one character"),
                        ("x" * 24, "24 characters"),
                        ("\u00e9" * 24, "24 two-byte characters"),
                        ("\U0001F600" * 24, "24 four-byte characters"),
                        ("a b", "an inner space")):
        c = Client(st)
        r = c.login(nick)
        tap.ok(r.status == 200 and isinstance(r.json, dict) and r.json.get("nick") == nick,
               "login accepts a nick of %s" % label, r.show())
        if r.status == 200:
            c.logout()


def t_bad_nicks(st):
    cases = [
        (b"", "empty"),
        (b"y" * 25, "25 characters"),
        ("\u00e9".encode() * 25, "25 two-byte characters"),
        (b" lead", "a leading space"),
        (b"trail ", "a trailing space"),
        (b"ctl\x01x", "a control character U+0001"),
        (b"ctl\nx", "a newline"),
        (b"ctl\tx", "a tab"),
        (b"ctl\x7fx", "DEL"),
        ("c1\u0085x".encode(), "a C1 control character U+0085"),
        (b"nul\x00x", "a NUL byte"),
        (b"bad\xffx", "the byte FF (invalid UTF-8)"),
        (b"\xc0\xaf", "an overlong encoding"),
        (b"\xed\xa0\x80x", "a UTF-16 surrogate"),
        (b"\xe2\x82", "a truncated sequence"),
        (b"system", "system"),
        (b"System", "System"),
        (b"SYSTEM", "SYSTEM"),
    ]
    for nick, label in cases:
        before = st.count_events()
        r = Client(st).login(nick)
        tap.ok(r.status == 400 and r.error == "bad_nick",
               "login refuses a nick with %s: 400 bad_nick" % label, r.show())
        tap.eq(st.count_events(), before, "refused login (%s) writes nothing" % label)
    r = Client(st).request("POST", "/api/login", {}, auth=False)
    tap.ok(r.status == 400 and r.error in ("bad_nick", "bad_request"),
           "login without a nick field: 400", r.show())


def t_nick_taken(st):
    base = unique_nick("Bo")
    a = Client(st)
    tap.eq(a.login(base).status, 200, "login %s" % base)
    before = st.count_events()
    for other in (base.lower(), base.upper(), base):
        r = Client(st).login(other)
        tap.ok(r.status == 409 and r.error == "nick_taken",
               "login %r while %r is live: 409 nick_taken" % (other, base), r.show())
    tap.eq(st.count_events(), before, "refused logins write nothing")
    a.logout()
    for nick, other in (("\u00c9mile\u00c4\u00d6", "\u00e9mile\u00e4\u00f6"),
                        ("\u0418\u0432\u0430\u043d", "\u0438\u0412\u0410\u041d"),
                        ("\u0394\u03b5\u03bb", "\u03b4\u0395\u039b")):
        a = Client(st)
        if not tap.eq(a.login(nick).status, 200, "login %s" % nick):
            continue
        r = Client(st).login(other)
        tap.ok(r.status == 409 and r.error == "nick_taken",
               "non-ASCII nicks compare without regard to case: %s vs %s: 409" % (nick, other), r.show())
        s = login_client(st)
        r = s.send("hi", to=other)
        tap.eq(r.status, 200, "a private message to %s reaches %s" % (other, nick), r.show())
        s.logout()
        a.logout()


def t_header_mode(st):
    c = Client(st, mode="header")
    tap.eq(c.login().status, 200, "login (client without cookies)")
    r = c.users()
    tap.eq(r.status, 200, "X-Chat-Session header works without a cookie: users", r.show())
    r = c.poll(timeout=0)
    tap.eq(r.status, 200, "X-Chat-Session header works without a cookie: poll", r.show())
    r = c.send("via header")
    tap.eq(r.status, 200, "X-Chat-Session header works without a cookie: send", r.show())
    r = c.logout()
    tap.eq(r.status, 200, "X-Chat-Session header works without a cookie: logout", r.show())


def t_no_session(st):
    live = login_client(st)
    anon = Client(st)
    calls = [
        ("poll", lambda c: c.poll(since=0, timeout=0)),
        ("history", lambda c: c.history()),
        ("users", lambda c: c.users()),
        ("send", lambda c: c.send("x", csrf=("header", live.csrf))),
        ("logout", lambda c: c.logout(csrf=("header", live.csrf))),
    ]
    for name, call in calls:
        r = call(anon)
        tap.ok(r.status == 401 and r.error == "no_session",
               "%s without a session: 401 no_session" % name, r.show())
    for mode in ("cookie", "header"):
        bogus = Client(st, mode)
        bogus.session = "0" * 32
        bogus.csrf = live.csrf
        for name, call in calls:
            r = call(bogus)
            tap.ok(r.status == 401 and r.error == "no_session",
                   "%s with an unknown session (%s): 401 no_session" % (name, mode), r.show())
    # an ended session: log out, then every call is refused
    ended = login_client(st)
    tap.eq(ended.logout().status, 200, "logout")
    before = st.count_events()
    for name, call in calls:
        r = call(ended)
        tap.ok(r.status == 401 and r.error == "no_session",
               "%s with an ended session: 401 no_session" % name, r.show())
    tap.eq(st.count_events(), before, "requests without a live session write nothing")
    live.logout()


def t_csrf(st):
    c = login_client(st)
    other = login_client(st)
    before = st.count_events()
    r = c.send("no csrf", csrf=None)
    tap.ok(r.status == 403 and r.error == "bad_csrf", "send without csrf: 403 bad_csrf", r.show())
    r = c.send("wrong csrf header", csrf=("header", "x" + (c.csrf or "")))
    tap.ok(r.status == 403 and r.error == "bad_csrf", "send with a wrong X-CSRF-Token: 403 bad_csrf", r.show())
    r = c.send("wrong csrf field", csrf=("form", "nope"))
    tap.ok(r.status == 403 and r.error == "bad_csrf", "send with a wrong csrf field: 403 bad_csrf", r.show())
    r = c.send("empty csrf", csrf=("header", ""))
    tap.ok(r.status == 403 and r.error == "bad_csrf", "send with an empty X-CSRF-Token: 403 bad_csrf", r.show())
    r = c.send("someone else's csrf", csrf=("header", other.csrf))
    tap.ok(r.status == 403 and r.error == "bad_csrf",
           "send with another session's csrf: 403 bad_csrf", r.show())
    r = c.send("session as csrf", csrf=("header", c.session))
    tap.ok(r.status == 403 and r.error == "bad_csrf",
           "send with the session token as csrf: 403 bad_csrf", r.show())
    r = c.logout(csrf=None)
    tap.ok(r.status == 403 and r.error == "bad_csrf", "logout without csrf: 403 bad_csrf", r.show())
    tap.eq(st.count_events(), before, "requests refused for csrf write nothing")
    tap.eq(c.users().status, 200, "session still live after a refused logout")

    r = c.send("csrf in header", csrf="header")
    tap.eq(r.status, 200, "send with csrf as X-CSRF-Token header", r.show())
    r = c.send("csrf in form", csrf="form")
    tap.eq(r.status, 200, "send with csrf as form field", r.show())
    r = c.logout(csrf="form")
    tap.eq(r.status, 200, "logout with csrf as form field", r.show())
    r = other.request("POST", "/api/logout", body=b"", headers={"X-CSRF-Token": other.csrf})
    tap.eq(r.status, 200, "logout with an empty body and no Content-Type (csrf as header)", r.show())


def t_logout(st):
    watcher = login_client(st)
    watcher.catch_up()
    nick = unique_nick("Lo")
    c = login_client(st, nick)
    r = c.logout()
    tap.ok(r.status == 200 and isinstance(r.json, dict) and r.json.get("ok") is True,
           "logout: 200 {\"ok\": true}", r.show())
    evs = watcher.catch_up()
    leaves = events_of(evs, type="leave", sender=nick)
    tap.eq(len(leaves), 1, "logout writes one leave event", repr(evs))
    if leaves:
        tap.eq(leaves[0].get("text"), "logout", "the leave event's text is logout")
        tap.ok(is_int(leaves[0].get("ts")), "the leave event has an integer ts")
    r = c.users()
    tap.ok(r.status == 401 and r.error == "no_session", "the session is ended after logout", r.show())
    r = c.logout()
    tap.ok(r.status == 401 and r.error == "no_session", "a second logout: 401 no_session", r.show())
    tap.eq(len(events_of(watcher.catch_up(), type="leave", sender=nick)), 0,
           "a refused second logout writes no leave")
    again = Client(st)
    r = again.login(nick.upper())
    tap.eq(r.status, 200, "the nick is free again after logout (other case)", r.show())
    again.logout()
    watcher.logout()


def t_cached_token(st):
    """The session cache is keyed by the raw token: a token one character
    off a live, cached one (last or first character, or one longer or
    shorter) is refused, the live one still works, and a logout ends the
    cached session at once."""
    for mode in ("cookie", "header"):
        c = login_client(st, mode=mode)
        for _ in range(3):
            tap.eq(c.users().status, 200, "a live session, now cached (%s)" % mode)
        tok = c.session
        flip = lambda ch: "A" if ch != "A" else "B"
        near = [("last character", tok[:-1] + flip(tok[-1])),
                ("first character", flip(tok[0]) + tok[1:]),
                ("one character more", tok + "A"),
                ("one character less", tok[:-1])]
        for what, bad in near:
            other = Client(st, mode)
            other.session = bad
            other.csrf = c.csrf
            for name, call in (("poll", lambda x: x.poll(since=0, timeout=0)),
                               ("users", lambda x: x.users()),
                               ("send", lambda x: x.send("x"))):
                r = call(other)
                tap.ok(r.status == 401 and r.error == "no_session",
                       "%s with the cached token's %s changed: 401 no_session (%s)"
                       % (name, what, mode), r.show())
            tap.eq(c.users().status, 200,
                   "the real token still works after that (%s, %s)" % (what, mode))
        tap.eq(c.poll(since=0, timeout=0).status, 200, "a poll, cached (%s)" % mode)
        tap.eq(c.logout().status, 200, "logout of the cached session (%s)" % mode)
        for name, call in (("poll", lambda x: x.poll(since=0, timeout=0)),
                           ("users", lambda x: x.users()),
                           ("history", lambda x: x.history())):
            r = call(c)
            tap.ok(r.status == 401 and r.error == "no_session",
                   "%s right after logout of a cached session: 401 (%s)" % (name, mode),
                   r.show())


def t_login_cursor(st):
    a = login_client(st)
    r = a.poll(timeout=0)
    tap.eq(r.status, 200, "poll from the login cursor", r.show())
    evs = r.events
    tap.ok(evs and evs[0].get("type") == "join" and evs[0].get("from") == a.nick,
           "polling from the login's cursor shows its own join first", repr(evs[:3]))
    if evs:
        tap.ok(evs[0].get("id", 0) > a.cursor, "the join's id is above the cursor",
               "cursor %r join %r" % (a.cursor, evs[0]))
    b = login_client(st)
    rb = b.poll(timeout=0)
    tap.ok(rb.events and rb.events[0].get("type") == "join" and rb.events[0].get("from") == b.nick,
           "a second login's cursor shows its own join first, not earlier ones",
           repr(rb.events[:3]))
    ra = a.poll(timeout=0)
    tap.eq([(e.get("type"), e.get("from")) for e in ra.events if e.get("type") == "join"],
           [("join", a.nick), ("join", b.nick)],
           "the first client sees both joins in order", repr(ra.events))
    a.logout()
    b.logout()


def t_idle_timeout(workers):
    args = ["--idle-timeout", "2", "--poll-max", "1", "--poll-timeout", "1"]
    with Stack(args, workers=workers, tap=tap, name="idle stack") as st:
        a = login_client(st)
        b = login_client(st)
        a.catch_up()
        leaves = []
        t_end = time.monotonic() + 15
        while time.monotonic() < t_end:
            r = a.poll(timeout=1, advance=True)
            if r.status != 200:
                tap.ok(False, "active client keeps polling (workers=%s)" % workers, r.show())
                break
            leaves += events_of(r, type="leave", sender=b.nick)
            if leaves:
                break
        tap.ok(len(leaves) >= 1, "an idle session ends with a leave event (workers=%s)" % workers)
        if not leaves:
            return
        tap.eq(leaves[0].get("text"), "timeout", "the idle leave's text is timeout (workers=%s)" % workers)
        # Give every process several chances to write a second one.
        t_end = time.monotonic() + 4
        while time.monotonic() < t_end:
            r = a.poll(timeout=1, advance=True)
            leaves += events_of(r, type="leave", sender=b.nick)
        tap.eq(len(leaves), 1, "the idle leave is written exactly once (workers=%s)" % workers,
               repr(leaves))
        h = a.history(limit=200)
        tap.eq(len(events_of(h, type="leave", sender=b.nick)), 1,
               "history holds exactly one leave for the idle user (workers=%s)" % workers, h.show())
        r = b.users()
        tap.ok(r.status == 401 and r.error == "no_session",
               "the timed-out session gets 401 no_session (workers=%s)" % workers, r.show())
        r = a.users()
        tap.eq(r.status, 200, "the active session is still live (workers=%s)" % workers, r.show())
        tap.eq(len(events_of(a.catch_up(), type="leave", sender=a.nick)), 0,
               "the active client did not time out (workers=%s)" % workers)
        r = Client(st).login(b.nick)
        tap.eq(r.status, 200, "the timed-out nick is free again (workers=%s)" % workers, r.show())


def concurrent_reads(c, n=6):
    """n polls (waiting up to 1 s) and n users lists at once: several
    upstream connections, so on a stack of several workers, several
    processes answer."""
    ds = [Deferred(c.poll, timeout=1) for _ in range(n)]
    ds += [Deferred(c.users) for _ in range(n)]
    return [d.join() for d in ds]


def t_ended_elsewhere(workers):
    """A session ended by another process (here a writer with no chatd at
    all, as another worker's logout or reaper would be) is refused by every
    process's reads, not served from what a process remembered of it."""
    with Stack(workers=workers, tap=tap, name="%d-worker stack" % workers) as st:
        c = login_client(st)
        c.catch_up()
        for rnd in range(2):
            rs = concurrent_reads(c)
            tap.ok(all(r.status == 200 for r in rs),
                   "round %d: concurrent reads of a live session pass (workers=%d)"
                   % (rnd, workers), "\n".join(r.show() for r in rs if r.status != 200))
        db = st.db(readonly=False)
        try:
            with db:
                db.execute("UPDATE sessions SET ended_ms = ?, end_reason = 'logout'"
                           " WHERE nick = ? AND ended_ms IS NULL",
                           (int(time.time() * 1000), c.nick))
        finally:
            db.close()
        # A send is settled under the write lock, whatever was cached.
        before = st.count_events()
        r = c.send("after the end")
        tap.ok(r.status == 401 and r.error == "no_session",
               "a send right after the end elsewhere: 401 no_session (workers=%d)"
               % workers, r.show())
        tap.eq(st.count_events(), before, "... and writes nothing (workers=%d)" % workers)
        got = wait_until(lambda: c.users().status == 401, 10)
        tap.ok(got, "a session ended by another writer gets 401 (workers=%d)" % workers)
        rs = concurrent_reads(c)
        tap.ok(all(r.status == 401 and r.error == "no_session" for r in rs),
               "... from every process, for every read (workers=%d)" % workers,
               "\n".join(r.show() for r in rs if r.status != 401))


def t_login_race():
    """Concurrent logins of one nick in different cases on 3 processes:
    exactly one wins, the others get 409 nick_taken, one join is written."""
    import threading
    with Stack(workers=3, tap=tap, name="3-worker login stack") as st:
        watcher = login_client(st)
        watcher.catch_up()
        for rnd in range(3):
            base = unique_nick("Race")
            variants = [base, base.lower(), base.upper(), base.swapcase(), base]
            res = []
            lock = threading.Lock()

            def go(n):
                r = Client(st).login(n)
                with lock:
                    res.append(r)
            ts = [threading.Thread(target=go, args=(n,)) for n in variants]
            for t in ts:
                t.start()
            for t in ts:
                t.join(30)
            codes = sorted(r.status for r in res)
            tap.eq(codes, [200, 409, 409, 409, 409],
                   "round %d: 5 concurrent logins of one nick: one 200, four 409" % rnd,
                   "\n".join(r.show() for r in res))
            tap.ok(all(r.error == "nick_taken" for r in res if r.status == 409),
                   "round %d: the losers get nick_taken" % rnd)
            joins = [e for e in watcher.catch_up()
                     if e.get("type") == "join" and (e.get("from") or "").lower() == base.lower()]
            tap.eq(len(joins), 1, "round %d: one join is written" % rnd, repr(joins))


with Stack(tap=tap) as st:
    for t in (t_login_fields, t_good_nicks, t_bad_nicks, t_nick_taken, t_header_mode,
              t_no_session, t_csrf, t_logout, t_cached_token, t_login_cursor):
        tap.run(t, st)
    alive_check(tap, st, "the session tests")
tap.run(t_idle_timeout, None)
tap.run(t_idle_timeout, 3)
tap.run(t_login_race)
tap.run(t_ended_elsewhere, 1)
tap.run(t_ended_elsewhere, 3)
tap.done()
