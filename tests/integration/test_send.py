#!/usr/bin/env python3
# POST /api/send: the answer, rooms, text, private messages, client_id
# retries, the rate limit, the body limit, JSON escaping and durability
# (docs/api.md, "Endpoints").
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (OMIT, Client, Stack, Tap, alive_check, events_of, ids_of, is_int,
                     login_client, main_guard, raw_request, unique_nick)

main_guard()
tap = Tap()


def find(events, eid):
    for e in events:
        if e.get("id") == eid:
            return e
    return None


def t_send_basic(st):
    a = login_client(st)
    a.catch_up()
    t0 = int(time.time() * 1000)
    r = a.send("hello")
    tap.eq(r.status, 200, "send answers 200", r.show())
    j = r.json if isinstance(r.json, dict) else {}
    tap.ok(is_int(j.get("id")) and j.get("id") > 0, "send answers {\"id\": positive integer}", r.show())
    r2 = a.send("hello again")
    tap.ok(is_int((r2.json or {}).get("id")) and r2.json["id"] > j.get("id", 0),
           "a later send gets a larger id", r2.show())
    p = a.poll(timeout=0, advance=True)
    e = find(p.events, j.get("id"))
    tap.ok(e is not None, "the message comes back in poll", p.show())
    if e:
        tap.eq(e.get("type"), "message", "event type is message")
        tap.eq(e.get("room"), "lobby", "room defaults to lobby")
        tap.eq(e.get("from"), a.nick, "event from is the sender's nick")
        tap.eq(e.get("text"), "hello", "event text is the text sent")
        tap.ok(is_int(e.get("ts")) and abs(e["ts"] - t0) < 120000,
               "event ts is Unix milliseconds of about now", "ts %r now %r" % (e.get("ts"), t0))
        tap.ok("to" not in e, "a public message has no `to`", repr(e))
    tap.eq(ids_of(p.events), sorted(ids_of(p.events)), "poll events ascend by id")
    a.logout()


def t_rooms(st):
    a = login_client(st)
    good = ["lobby", "r1", "a-b-c", "x" * 32, "0", "-"]
    for room in good:
        r = a.send("in " + room, room=room)
        tap.eq(r.status, 200, "room %r is accepted" % room, r.show())
        if r.status == 200:
            p = a.poll(room=room, timeout=0)
            e = find(p.events, r.json.get("id"))
            tap.ok(e is not None and e.get("room") == room,
                   "a poll of room %r shows the message with its room" % room, p.show())
    bad = [("Lobby", "upper case"), ("a b", "a space"), ("x" * 33, "33 characters"),
           ("", "empty"), ("r_1", "an underscore"), ("caf\u00e9", "a non-ASCII letter"),
           (b"r\xff", "the byte FF"), ("r/1", "a slash"), ("r\x00", "a NUL")]
    for room, label in bad:
        before = st.count_events()
        r = a.send("bad room", room=room)
        tap.ok(r.status == 400 and r.error == "bad_room",
               "room with %s: 400 bad_room" % label, r.show())
        tap.eq(st.count_events(), before, "refused send (room with %s) writes nothing" % label)
    a.logout()


def t_text(st):
    a = login_client(st)
    a.catch_up()
    cases = [("", "empty text"), (b"bad\xffbyte", "the byte FF"),
             (b"\xc0\xaf", "an overlong encoding"), (b"\xed\xa0\x80", "a surrogate"),
             (b"abc\xe2\x82", "a truncated sequence"), ("x" * 2001, "2001 ASCII characters"),
             ("\u20ac" * 2001, "2001 three-byte characters")]
    for text, label in cases:
        before = st.count_events()
        r = a.send(text)
        tap.ok(r.status == 400 and r.error == "bad_text", "text of %s: 400 bad_text" % label, r.show())
        tap.eq(st.count_events(), before, "refused send (%s) writes nothing" % label)
    r = a.request("POST", "/api/send", {}, csrf="header")
    tap.ok(r.status == 400 and r.error in ("bad_text", "bad_request"),
           "send without a text field: 400", r.show())
    for text, label in (("x" * 2000, "2000 ASCII characters"),
                        ("\u00e9" * 2000, "2000 two-byte characters"),
                        ("\u20ac" * 2000, "2000 three-byte characters (6000 bytes)"),
                        ("\U0001F600" * 2000, "2000 four-byte characters (8000 bytes)"),
                        ("line one\nline two\ttabbed", "a newline and a tab"),
                        ("".join(chr(c) for c in range(1, 32)) + "\x7f\u0085\u009f",
                         "C0 and C1 control characters (docs/api.md: any valid UTF-8)"),
                        ("\ufeff\uffff\U0010ffff\u200b", "a BOM, U+FFFF, U+10FFFF and U+200B"),
                        ("  padded  ", "leading and trailing spaces")):
        r = a.send(text)
        ok = tap.eq(r.status, 200, "text of %s is accepted" % label, r.show())
        if ok:
            p = a.poll(timeout=0, advance=True)
            e = find(p.events, r.json.get("id"))
            tap.ok(e is not None and e.get("text") == text,
                   "text of %s comes back unchanged" % label,
                   p.show() if e is None else repr(e.get("text"))[:200])
    a.logout()


def t_private(st):
    a = login_client(st)
    b = login_client(st)
    before = st.count_events()
    r = a.send("to nobody", to="nobody-" + unique_nick())
    tap.ok(r.status == 404 and r.error == "no_such_user", "to an unknown nick: 404 no_such_user", r.show())
    tap.eq(st.count_events(), before, "refused private send writes nothing")
    gone = login_client(st)
    gone.logout()
    r = a.send("to a user who left", to=gone.nick)
    tap.ok(r.status == 404 and r.error == "no_such_user",
           "to a nick whose session ended: 404 no_such_user", r.show())
    b.catch_up()
    r = a.send("psst", to=b.nick.upper())
    tap.eq(r.status, 200, "to the recipient's nick in another case: 200", r.show())
    if r.status != 200:
        return
    p = b.poll(timeout=0, advance=True)
    e = find(p.events, r.json.get("id"))
    tap.ok(e is not None, "the recipient sees the private message", p.show())
    if e:
        tap.eq(e.get("type"), "private", "its type is private")
        tap.eq((e.get("to") or "").lower(), b.nick.lower(), "its `to` is the recipient", repr(e))
        tap.eq(e.get("from"), a.nick, "its `from` is the sender", repr(e))
        tap.eq(e.get("text"), "psst", "its text", repr(e))
    a.logout()
    b.logout()


def t_client_id(st):
    a = login_client(st)
    cid = "retry-" + unique_nick()
    r1 = a.send("first try", client_id=cid)
    tap.eq(r1.status, 200, "send with a client_id", r1.show())
    before = st.count_events()
    r2 = a.send("first try", client_id=cid)
    tap.eq(r2.status, 200, "the same send again", r2.show())
    tap.eq((r2.json or {}).get("id"), (r1.json or {}).get("id"), "the retry returns the first id")
    r3 = a.send("different text, same client_id", client_id=cid)
    tap.eq((r3.json or {}).get("id"), (r1.json or {}).get("id"),
           "a retry with other text also returns the first id", r3.show())
    tap.eq(st.count_events(), before, "retries write nothing")
    h = a.history(limit=200)
    tap.eq(len(events_of(h, text="first try", sender=a.nick)), 1,
           "history holds the message once", h.show())
    b = login_client(st)
    rb = b.send("someone else's", client_id=cid)
    tap.ok(rb.status == 200 and (rb.json or {}).get("id") != (r1.json or {}).get("id"),
           "the same client_id from another session is a new message", rb.show())
    r = a.send("64", client_id="c" * 64)
    tap.eq(r.status, 200, "a 64-character client_id is accepted", r.show())
    before = st.count_events()
    r = a.send("65", client_id="c" * 65)
    tap.eq(r.status, 400, "a 65-character client_id: 400", r.show())
    tap.eq(st.count_events(), before, "refused send (long client_id) writes nothing")
    a.logout()
    b.logout()


def t_too_large(st):
    a = login_client(st)
    before = st.count_events()
    r = a.send("x" * 200000)
    tap.eq(r.status, 413, "a 200 KB form: 413", r.show())
    tap.ok(r.error == "too_large",
           "the 413 is JSON {\"error\": \"too_large\"} (not nginx's HTML page)", r.show())
    tap.eq(st.count_events(), before, "the refused body writes nothing")
    a.logout()


def t_escaping(st):
    a = login_client(st)
    a.catch_up()
    text = '<script>alert("x")&amp;</script> \u2028 \u2029 \'q\' \\ / end'
    r = a.send(text)
    if not tap.eq(r.status, 200, "send text with < > & U+2028 U+2029", r.show()):
        return
    mid = r.json.get("id")
    p = a.poll(timeout=0, advance=True)
    for what, resp in (("poll", p), ("history", a.history(limit=5))):
        raw = resp.body
        tap.ok(b"<" not in raw and b">" not in raw and b"&" not in raw,
               "%s body has no literal < > &" % what, raw[:300])
        tap.ok(b"\xe2\x80\xa8" not in raw and b"\xe2\x80\xa9" not in raw,
               "%s body has no literal U+2028 U+2029" % what, raw[:300])
        low = raw.lower()
        tap.ok(all(s in low for s in (b"\\u003c", b"\\u003e", b"\\u0026", b"\\u2028", b"\\u2029")),
               "%s body escapes them as \\uXXXX" % what, raw[:300])
        e = find(resp.events, mid)
        tap.ok(e is not None and e.get("text") == text, "%s text decodes to the original" % what,
               repr(e))
    nick = "<b>&x"
    c = Client(st)
    r = c.login(nick)
    tap.eq(r.status, 200, "login with a nick holding < > &", r.show())
    tap.ok(b"<" not in r.body and b"&" not in r.body, "the login answer escapes the nick", r.body[:300])
    tap.eq((r.json or {}).get("nick"), nick, "the nick decodes to the original")
    u = a.users()
    tap.ok(b"<" not in u.body and b"&" not in u.body, "the users answer escapes the nick", u.body[:300])
    c.logout()
    a.logout()


def t_durability(sync):
    args = ["--rate-limit", "1000/10"] + (["--sync", sync] if sync else [])
    label = "sync=%s" % (sync or "default")
    with Stack(args, tap=tap, name="durability stack (%s)" % label) as st:
        a = login_client(st)
        ids = [a.must_send("durable %d" % i) for i in range(5)]
        st.kill9_chatd()
        tap.ok(not st.chatd_alive(), "chatd is gone after kill -9 (%s)" % label)
        st.restart()
        r = a.history(limit=200)
        if r.status == 401:
            tap.diag("the session did not survive the restart; checking as a new user")
            a = login_client(st)
            r = a.history(limit=200)
        tap.eq(r.status, 200, "history after kill -9 and restart (%s)" % label, r.show())
        got = {e.get("id"): e.get("text") for e in r.events}
        tap.eq([got.get(i) for i in ids], ["durable %d" % i for i in range(5)],
               "every message answered 200 survives kill -9 (%s)" % label, r.show())
        later = a.must_send("after restart")
        tap.ok(later > max(ids), "ids keep increasing after the restart (%s)" % label,
               "%r then %r" % (ids, later))


def t_rate_limit():
    with Stack(["--rate-limit", "3/60"], tap=tap, name="rate-limit stack") as st:
        a = login_client(st)
        for i in range(3):
            r = a.send("within limit %d" % i)
            tap.eq(r.status, 200, "send %d of 3 within the limit" % (i + 1), r.show())
        before = st.count_events()
        r = a.send("over the limit")
        tap.ok(r.status == 429 and r.error == "rate_limited", "the 4th send: 429 rate_limited", r.show())
        ra = r.headers.get("retry-after", "")
        tap.ok(ra.isdigit() and 0 < int(ra) <= 60,
               "429 carries Retry-After: a positive integer of seconds (<= 60)", repr(ra))
        tap.eq(st.count_events(), before, "the rate-limited send writes nothing")
        r = a.send("still over the limit")
        tap.eq(r.status, 429, "a 5th send is refused too", r.show())
        b = login_client(st)
        r = b.send("another session")
        tap.eq(r.status, 200, "another session is not limited by the first one's sends", r.show())
        h = b.history(limit=200)
        tap.eq(len(events_of(h, sender=a.nick, type="message")), 3,
               "history holds only the three accepted messages", h.show())


def t_burst(st):
    """50 clients at once: each logs in, sends and finds its message."""
    res = []
    lock = threading.Lock()

    def one(i):
        try:
            c = login_client(st)
            mid = c.must_send("burst %d" % i)
            p = c.poll(since=0, timeout=0)
            h = c.history(limit=200)
            ok = mid in ids_of(h.events) and p.status == 200 and c.logout().status == 200
        except Exception as e:
            ok = "%s: %s" % (type(e).__name__, e)
        with lock:
            res.append(ok)
    ts = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    tap.eq(res.count(True), 50, "50 concurrent clients log in, send, poll, read history, log out",
           repr([r for r in res if r is not True][:5]))


def t_retry_after():
    """After waiting the Retry-After seconds, the session may send again."""
    with Stack(["--rate-limit", "2/2"], tap=tap, name="short rate-limit stack") as st:
        a = login_client(st)
        for i in range(2):
            a.must_send("quick %d" % i)
        r = a.send("too quick")
        tap.eq(r.status, 429, "the 3rd send within 2 s: 429", r.show())
        ra = r.headers.get("retry-after", "")
        tap.ok(ra.isdigit() and 1 <= int(ra) <= 2, "Retry-After is 1 or 2 seconds", repr(ra))
        if ra.isdigit():
            time.sleep(int(ra) + 0.2)
            r = a.send("after waiting")
            tap.eq(r.status, 200, "a send after waiting Retry-After seconds succeeds", r.show())


def t_workers_send():
    """With several processes the rate limit and client_id still hold per
    session (not per process)."""
    with Stack(["--rate-limit", "3/60"], workers=3, tap=tap, name="3-worker send stack") as st:
        a = login_client(st)
        codes = [a.send("w %d" % i).status for i in range(9)]
        tap.eq(sorted(codes), [200] * 3 + [429] * 6,
               "3 workers: a session still gets only 3 sends per 60 s", repr(codes))
        b = login_client(st)
        cid = "race-" + unique_nick()
        res = []
        lock = threading.Lock()

        def go():
            r = b.send("raced", client_id=cid)
            with lock:
                res.append(r)
        ts = [threading.Thread(target=go) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(30)
        ok = [r for r in res if r.status == 200]
        tap.ok(len(ok) == 3 and len({r.json.get("id") for r in ok}) == 1,
               "3 concurrent sends with one client_id on 3 workers all get the same id",
               "\n".join(r.show() for r in res))
        h = b.history(limit=200)
        tap.eq(len(events_of(h, text="raced")), 1, "and the log holds the message once", h.show())


def t_max_body():
    """chatd's own body limit (--max-body) answers 413 too_large in JSON."""
    with Stack(["--max-body", "1024"], tap=tap, name="max-body stack") as st:
        a = login_client(st)
        before = st.count_events()
        r = a.send("x" * 1900)
        tap.ok(r.status == 413 and r.error == "too_large",
               "a 2 KB form over --max-body 1024: chatd answers 413 too_large", r.show())
        tap.eq(st.count_events(), before, "the refused body writes nothing")
        r = a.send("x" * 500)
        tap.eq(r.status, 200, "a form under the limit still works", r.show())


with Stack(["--rate-limit", "1000/10"], tap=tap) as st:
    for t in (t_send_basic, t_rooms, t_text, t_private, t_client_id, t_too_large, t_escaping, t_burst):
        tap.run(t, st)
    alive_check(tap, st, "the send tests")
tap.run(t_rate_limit)
tap.run(t_retry_after)
tap.run(t_workers_send)
tap.run(t_max_body)
tap.run(t_durability, None)
tap.run(t_durability, "normal")
tap.done()
