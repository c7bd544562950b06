#!/usr/bin/env python3
# Malformed and hostile input: unknown endpoints, wrong methods, broken query
# strings and bodies, huge headers, duplicate parameters, NUL and non-UTF-8
# bytes, a locked store. Every error must be a JSON answer from docs/api.md's
# list, must change nothing, and chatd must keep serving after each.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (Client, Deferred, Stack, Tap, alive_check, events_of, fcgi_params,
                     fcgi_record, ids_of, is_int, login_client, main_guard, raw_bytes,
                     raw_request, transport_problems, wait_until)

main_guard()
tap = Tap()


def is_error(r, status, code):
    return r is not None and r.status == status and r.error == code


def answered(r, status, code=None, key=None):
    """Exactly this answer from chatd: the status, and the error code of an
    error or, for a 200, a JSON object (with key, if given)."""
    if r is None or r.from_nginx() or r.status != status:
        return False
    if status >= 400:
        return r.error == code
    return isinstance(r.json, dict) and r.error is None and (key is None or key in r.json)


# What each endpoint's 200 holds, to tell its answer from another's.
KEY = {"/api/users": "count", "/api/poll": "cursor", "/api/history": "events"}


def t_transport(st):
    a = login_client(st)
    rs = [("login 200", a.last_login), ("send 200", a.send("hi")),
          ("poll 200", a.poll(timeout=0)), ("history 200", a.history()),
          ("users 200", a.users()), ("login 400", Client(st).login("")),
          ("send 401", Client(st).send("x")), ("send 403", a.send("x", csrf=None)),
          ("not found 404", a.request("GET", "/api/nope")),
          ("method 405", a.request("GET", "/api/send")),
          ("poll 400", a.request("GET", "/api/poll?since=x"))]
    for label, r in rs:
        probs = transport_problems(r)
        tap.ok(not probs and not r.from_nginx(),
               "%s: JSON object with Content-Type application/json; charset=utf-8, "
               "Cache-Control: no-store, X-Content-Type-Options: nosniff" % label,
               "; ".join(probs) + "\n" + r.show())
    a.logout()


def t_not_found(st):
    a = login_client(st)
    for method, path in (("GET", "/api/nope"), ("GET", "/api/loginx"), ("GET", "/api/"),
                         ("GET", "/api/users/extra"), ("GET", "/api/POLL?since=0"),
                         ("POST", "/api/nope"), ("GET", "/api/nope?since=0&x=%ZZ"),
                         ("GET", "/api/%3Cscript%3E&amp;"), ("GET", "/api/x%E2%80%A8y")):
        before = st.count_events()
        r = a.request(method, path, csrf="header" if method == "POST" else None)
        tap.ok(is_error(r, 404, "not_found") and isinstance(r.json.get("message"), str),
               "%s %s: 404 {error: not_found, message}" % (method, path), r.show())
        tap.eq(st.count_events(), before, "%s %s writes nothing" % (method, path))
    a.logout()
    alive_check(tap, st, "unknown endpoints")


def t_method(st):
    a = login_client(st)
    for method, path in (("GET", "/api/send"), ("GET", "/api/login"), ("GET", "/api/logout"),
                         ("POST", "/api/poll"), ("POST", "/api/history"), ("POST", "/api/users"),
                         ("PUT", "/api/send"), ("DELETE", "/api/poll"), ("PATCH", "/api/login")):
        before = st.count_events()
        q = "?since=0&timeout=0&nick=zz&text=zz" if method == "GET" else ""
        r = a.request(method, path + q, {"since": "0", "text": "zz", "nick": "zz"} if method != "GET" else None,
                      csrf="header")
        tap.ok(is_error(r, 405, "method_not_allowed"), "%s %s: 405 method_not_allowed" % (method, path),
               r.show())
        tap.eq(st.count_events(), before, "%s %s writes nothing" % (method, path))
    tap.eq(a.users().status, 200, "the session is still live after the refused methods")
    a.logout()
    alive_check(tap, st, "wrong methods")


def t_query(st):
    a = login_client(st)
    a.catch_up()
    for q in ("since=%ZZ", "since=%", "since=1%", "since=%3", "since=0%00", "since=%FF",
              "since=0&timeout=%ZZ", "since=0&timeout=1%00"):
        r = a.request("GET", "/api/poll?" + q)
        tap.ok(is_error(r, 400, "bad_request"), "poll?%s: 400 bad_request" % q, r.show())
    for q in ("since=0&timeout=0&room=lobby%00", "since=0&timeout=0&room=%FF",
              "since=0&timeout=0&room=%ZZ", "since=0&timeout=0&room=%3Cb%3E%26",
              "since=%3Cscript%3E%26", "since=0&timeout=%E2%80%A8"):
        r = a.request("GET", "/api/poll?" + q)
        code = "bad_room" if "room=" in q and "%ZZ" not in q else "bad_request"
        tap.ok(answered(r, 400, code), "poll?%s: 400 %s" % (q, code), r.show())
    # Empty pairs are skipped and parameters an endpoint does not read are
    # ignored, so users and history answer 200 where poll, which needs a
    # valid since and timeout, answers 400; a malformed %-escape, a
    # repeated name (here the empty one) or too many parameters is 400
    # bad_request everywhere.
    every_400 = ("%", "%ZZ", "==&=&", "a=%",
                 "since=0&timeout=0&" + "&".join("p%d=v" % i for i in range(700)))
    for q in ("&&&", "%", "%ZZ", "=", "==&=&", "a=%", "&&&since=0&timeout=0&&&",
              "x=" + "a" * 7000, "since=0&timeout=0&" + "&".join("p%d=v" % i for i in range(700)),
              "since=99999999999999999999999999&timeout=0", "since=0&timeout=99999999999999999999"):
        for path in ("/api/users", "/api/poll", "/api/history"):
            r = a.request("GET", path + "?" + q)
            if q in every_400 or (path == "/api/poll" and "since=0&timeout=0" not in q):
                tap.ok(answered(r, 400, "bad_request"),
                       "GET %s?%s: 400 bad_request" % (path, q[:40]), r.show())
            else:
                tap.ok(answered(r, 200, key=KEY[path]), "GET %s?%s: 200" % (path, q[:40]),
                       r.show())
    r = a.request("GET", "/api/users?x=" + "a" * 20000)
    tap.ok(400 <= r.status < 500, "a 20 KB query string is refused (by nginx)", r.show())
    r = raw_request(st, "GET", b"/api/users?x=\xff\xfe&y=\xc0\xaf", a.auth_headers())
    tap.ok(answered(r, 200, key="count"),
           "raw non-UTF-8 bytes in parameters users does not read: 200", r.show())
    r = raw_request(st, "GET", b"/api/poll?since=0&timeout=0&room=\xff", a.auth_headers())
    tap.ok(answered(r, 400, "bad_room"), "raw byte FF in the room of a poll: 400 bad_room",
           r.show())
    a.logout()
    alive_check(tap, st, "malformed query strings")


def t_content_type(st):
    a = login_client(st)
    before = st.count_events()
    r = Client(st).request("POST", "/api/login", body='{"nick": "jsonnick"}',
                           content_type="application/json", auth=False)
    tap.ok(answered(r, 400, "bad_request"), "login with a JSON body: 400 bad_request", r.show())
    r = a.request("POST", "/api/send", body='{"text": "json"}', content_type="application/json",
                  csrf="header")
    tap.ok(answered(r, 400, "bad_request"), "send with a JSON body: 400 bad_request", r.show())
    tap.eq(st.count_events(), before, "JSON bodies write nothing")
    for ct in ("text/plain", "multipart/form-data; boundary=xyz", None):
        r = a.request("POST", "/api/send", body="text=odd+type&csrf=" + a.csrf, content_type=ct)
        tap.ok(answered(r, 400, "bad_request"),
               "send with Content-Type %r: 400 bad_request" % ct, r.show())
    for ct in ("application/x-www-form-urlencoded; charset=UTF-8",
               "application/x-www-form-urlencoded;charset=utf-8",
               "Application/X-WWW-Form-Urlencoded"):
        r = a.send("typed " + ct, content_type=ct)
        tap.eq(r.status, 200, "send with Content-Type %r is accepted" % ct, r.show())
    r = Client(st).request("POST", "/api/login", body="nick=ab\xff".encode("latin-1"), auth=False,
                           content_type="application/x-www-form-urlencoded")
    tap.ok(is_error(r, 400, "bad_nick"), "login with a raw (unencoded) byte FF: 400 bad_nick", r.show())
    r = a.request("POST", "/api/send", body=b"text=ab\xff", csrf="header",
                  content_type="application/x-www-form-urlencoded")
    tap.ok(is_error(r, 400, "bad_text"), "send with a raw (unencoded) byte FF: 400 bad_text", r.show())
    # a malformed escape or a repeated (empty) name is bad_request; a body
    # of empty pairs is a send without text
    for body, code in (("text=%ZZ", "bad_request"), ("text=%", "bad_request"),
                       ("text=a%2", "bad_request"), ("%%%", "bad_request"),
                       ("&&&", "bad_text"), ("=&=", "bad_request")):
        r = a.request("POST", "/api/send", body=body, csrf="header",
                      content_type="application/x-www-form-urlencoded")
        tap.ok(answered(r, 400, code), "send with body %r: 400 %s" % (body, code), r.show())
    r = a.request("POST", "/api/send", body=b"5\r\ntext=\r\n7\r\nchunked\r\n0\r\n\r\n", csrf="header",
                  headers={"Transfer-Encoding": "chunked"},
                  content_type="application/x-www-form-urlencoded")
    ok = answered(r, 200, key="id")
    if ok:
        e = next((e for e in a.poll(since=0, timeout=0).events if e.get("id") == r.json["id"]),
                 {})
        ok = e.get("text") == "chunked"
    tap.ok(ok, "a chunked body (nginx joins it) is a send of its text: 200", r.show())
    a.logout()
    alive_check(tap, st, "wrong content types and bodies")


def t_headers(st):
    a = login_client(st)
    tok = a.session
    for cookie, label in (
            ("a=1; b=2; chat_session=%s; z=3" % tok, "among other cookies"),
            ("xchat_session=bogus; chat_session=%s" % tok, "after xchat_session=bogus"),
            ("chat_session_old=bogus; chat_session=%s" % tok, "after chat_session_old=bogus"),
            ("chat_session=%s;other=1" % tok, "without a space after ;"),
            ("junk=%s; chat_session=%s" % ("j" * 5000, tok), "after a 5 KB cookie")):
        r = a.request("GET", "/api/users", auth=False, headers={"Cookie": cookie})
        tap.eq(r.status, 200, "the session cookie is found %s" % label, r.show())
    r = a.request("GET", "/api/users", auth=False, headers={"Cookie": "chat_session=" + "x" * 6000})
    tap.ok(is_error(r, 401, "no_session"), "a 6 KB session cookie: 401 no_session", r.show())
    r = a.request("GET", "/api/users", auth=False, headers={"X-Chat-Session": "x" * 6000})
    tap.ok(is_error(r, 401, "no_session"), "a 6 KB X-Chat-Session: 401 no_session", r.show())
    before = st.count_events()
    r = a.send("big csrf", csrf=("header", "c" * 6000))
    tap.ok(is_error(r, 403, "bad_csrf"), "a 6 KB X-CSRF-Token: 403 bad_csrf", r.show())
    tap.eq(st.count_events(), before, "it writes nothing")
    r = a.request("GET", "/api/users", headers={"X-Junk-%d" % i: "v" * 60 for i in range(60)})
    tap.eq(r.status, 200, "60 extra headers are fine", r.show())
    r = a.request("GET", "/api/users", headers={"X-Huge": "h" * 30000})
    tap.ok(400 <= r.status < 500, "a 30 KB header is refused (by nginx)", r.show())
    r = a.request("GET", "/api/users", auth=False, headers={"Cookie": "chat_session=" + "y" * 30000})
    tap.ok(400 <= r.status < 500, "a 30 KB cookie is refused (by nginx)", r.show())
    r = raw_bytes(st, b"GET /api/users HTTP/1.1\r\nHost: x\r\nCookie: chat_session=" + tok.encode() +
                  b"\xff\xfe\r\nConnection: close\r\n\r\n")
    tap.ok(answered(r, 401, "no_session"), "a cookie with non-UTF-8 bytes: 401 no_session",
           r.show() if r else "no answer")
    a.logout()
    alive_check(tap, st, "huge headers and cookies")


def t_duplicates(st):
    a = login_client(st)
    a.catch_up()
    # A repeated parameter is 400 bad_request (docs/design.md), so that
    # nginx, chatd and any proxy cannot disagree on which one counts.
    before = st.count_events()
    r = a.request("POST", "/api/send", [("text", "first"), ("text", "second")], csrf="header")
    tap.ok(answered(r, 400, "bad_request"), "send with two text fields: 400 bad_request", r.show())
    r = a.request("POST", "/api/send", [("text", "rooms"), ("room", "lobby"), ("room", "Bad Room")],
                  csrf="header")
    tap.ok(answered(r, 400, "bad_request"),
           "send with two room fields, one invalid: 400 bad_request", r.show())
    r = a.request("GET", "/api/poll?since=0&since=0&timeout=0&timeout=0")
    tap.ok(answered(r, 400, "bad_request"),
           "poll with repeated since and timeout: 400 bad_request", r.show())
    c = Client(st)
    r = c.request("POST", "/api/login", [("nick", "dupA"), ("nick", "dupB")], auth=False)
    tap.ok(answered(r, 400, "bad_request"), "login with two nick fields: 400 bad_request",
           r.show())
    tap.eq(st.count_events(), before, "the repeated parameters wrote nothing")
    a.logout()
    alive_check(tap, st, "duplicate parameters")


def t_nul(st):
    a = login_client(st)
    a.catch_up()
    before = st.count_events()
    r = Client(st).login(b"nul\x00nick")
    tap.ok(is_error(r, 400, "bad_nick"), "a nick with %00: 400 bad_nick", r.show())
    r = Client(st).login(b"\x00")
    tap.ok(is_error(r, 400, "bad_nick"), "the nick %00 alone: 400 bad_nick", r.show())
    tap.eq(st.count_events(), before, "refused NUL nicks write nothing")
    # text may hold any valid UTF-8, control characters too (docs/design.md)
    r = a.send(b"before\x00after")
    ok = answered(r, 200, key="id")
    diag = r.show()
    if ok:
        p = a.poll(timeout=0, advance=True)
        e = next((e for e in p.events if e.get("id") == r.json.get("id")), None)
        ok = e is not None and e.get("text") == "before\x00after"
        diag += "\nthen " + p.show()
    tap.ok(ok, "a text with %00: 200, and given back whole (not cut at the NUL)", diag)
    before = st.count_events()
    r = a.send("x", room=b"lobby\x00")
    tap.ok(is_error(r, 400, "bad_room"), "a room with %00: 400 bad_room", r.show())
    r = a.send("x", to=(a.nick + "\x00").encode())
    tap.ok(answered(r, 404, "no_such_user"),
           "a `to` with %00 after a real nick: 404 no_such_user", r.show())
    r = a.send("x", to=b"\xff\xfe")
    tap.ok(answered(r, 404, "no_such_user"),
           "a `to` of non-UTF-8 bytes (no nick could be that): 404 no_such_user", r.show())
    # a client_id is text without control characters, like a nick
    r = a.send("nul client_id", client_id=b"c\x00d")
    tap.ok(answered(r, 400, "bad_request"), "a client_id with %00: 400 bad_request", r.show())
    r = a.send("ff client_id", client_id=b"c\xffd")
    tap.ok(answered(r, 400, "bad_request"), "a client_id with byte FF: 400 bad_request",
           r.show())
    tap.eq(st.count_events(), before, "the refused sends wrote nothing")
    a.logout()
    alive_check(tap, st, "NUL and non-UTF-8 bytes")


def t_unavailable(st):
    """Hold SQLite's write lock from outside: a send must give up with 503
    unavailable and write nothing."""
    a = login_client(st)
    before = st.count_events()
    db = st.db(readonly=False)
    db.isolation_level = None
    db.execute("BEGIN IMMEDIATE")
    try:
        t0 = time.monotonic()
        try:
            r = a.send("while locked", timeout=25)
        except OSError as e:
            r = None
            tap.diag("send while the store is locked: no answer within 25 s (%s)" % e)
        dt = time.monotonic() - t0
    finally:
        db.execute("ROLLBACK")
        db.close()
    tap.ok(is_error(r, 503, "unavailable"),
           "send while the store is locked from outside: 503 unavailable (after %.1f s)" % dt,
           r.show() if r else "no answer")
    tap.eq(st.count_events(), before, "the refused send writes nothing")
    r = a.send("after the lock")
    tap.eq(r.status, 200, "sends work again once the lock is gone", r.show())
    a.logout()
    alive_check(tap, st, "a locked store")


def t_stalled_peer(st):
    """A local peer that writes FastCGI straight to chatd's socket and stops
    halfway does not stop chatd: the others are served meanwhile, the peer
    is dropped, and a request whose body broke off is not acted on."""
    a = login_client(st)
    a.catch_up()
    begin = fcgi_record(1, struct.pack(">HB5x", 1, 1))
    cookie = ("chat_session=" + a.session).encode()
    params = fcgi_params([(b"REQUEST_METHOD", b"POST"), (b"DOCUMENT_URI", b"/api/send"),
                          (b"QUERY_STRING", b""),
                          (b"CONTENT_TYPE", b"application/x-www-form-urlencoded"),
                          (b"CONTENT_LENGTH", b"64"), (b"HTTP_COOKIE", cookie),
                          (b"HTTP_X_CSRF_TOKEN", a.csrf.encode())])
    stalls = [
        ("half a record header", begin[:4]),
        ("a begin record and half the params", begin + fcgi_record(4, params)[:20]),
        ("a send whose body stops before its end",
         begin + fcgi_record(4, params) + fcgi_record(4, b"")
         + fcgi_record(5, b"text=cut+off+here")),
    ]
    before = st.count_events()
    for label, data in stalls:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(st.path("chatd.sock"))
            s.sendall(data)
            time.sleep(0.3)     # let chatd start reading it
            r = a.send("served while a peer stalls: " + label, timeout=30)
            tap.eq(r.status, 200, "%s: others are served meanwhile" % label, r.show())
            s.settimeout(30)
            try:
                got = s.recv(4096)
            except OSError as e:
                got = repr(e)
            tap.eq(got, b"", "%s: chatd drops the stalled peer" % label)
        finally:
            s.close()
    evs = a.catch_up()
    tap.eq([e.get("text") for e in evs if e.get("type") == "message"],
           ["served while a peer stalls: " + label for label, _ in stalls],
           "only the others' sends were written, not the cut-off one")
    tap.eq(st.count_events(), before + len(stalls), "nothing else was written")
    a.logout()
    alive_check(tap, st, "stalled FastCGI peers")


def t_out_of_descriptors(st):
    """Waiting polls that take every descriptor chatd may open do not make it
    spin on its listening socket (logging each failed accept), and once they
    are gone it accepts again: the connections queued meanwhile are served."""
    # 4 polls a session: as many as --session-polls lets one park
    cs = [login_client(st) for _ in range((NOFILE + 16 + 3) // 4)]
    for c in cs:
        c.catch_up()
    a = cs[0]

    def poll_of(c):
        params = fcgi_params([(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", b"/api/poll"),
                              (b"QUERY_STRING", ("since=%d&timeout=30" % c.cursor).encode()),
                              (b"HTTP_COOKIE", ("chat_session=" + c.session).encode())])
        return (fcgi_record(1, struct.pack(">HB5x", 1, 0)) + fcgi_record(4, params)
                + fcgi_record(4, b"") + fcgi_record(5, b""))
    starved = b"Too many open files"     # strerror(EMFILE), in chatd's log
    log_before = open(st.path("chatd.log"), "rb").read().count(starved)
    peers = []
    try:
        for i in range(NOFILE + 16):    # more than chatd may hold
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            peers.append(s)
            s.connect(st.path("chatd.sock"))
            s.sendall(poll_of(cs[i // 4]))
        # chatd has accepted all it can, and waits
        wait_until(lambda: open(st.path("chatd.log"), "rb").read().count(starved) > log_before,
                   30)
        queued = Deferred(a.send, "sent while chatd has no descriptor left",
                          timeout=30)
        time.sleep(1.5)
        said = open(st.path("chatd.log"), "rb").read().count(starved) - log_before
        tap.ok(1 <= said <= 2,
               "no descriptor left: chatd says so once, not at every wake-up",
               "%d lines say %r" % (said, starved))
    finally:
        for s in peers:
            s.close()
    r = queued.join(30)
    tap.eq(r.status, 200, "the send that waited in the queue is served", r.show())
    alive_check(tap, st, "descriptors exhausted and freed")


def t_body_past_drain_limit(st):
    """With --max-body at its largest (16 MiB, as much of a body as chatd
    reads), a longer form is 413 too_large, not cut at 16 MiB and acted on
    (the cut form here would be a valid send of "cut")."""
    a = login_client(st)
    a.catch_up()
    body = b"text=cut&pad=" + b"x" * (17 << 20)
    params = fcgi_params([(b"REQUEST_METHOD", b"POST"), (b"DOCUMENT_URI", b"/api/send"),
                          (b"QUERY_STRING", b""),
                          (b"CONTENT_TYPE", b"application/x-www-form-urlencoded"),
                          (b"CONTENT_LENGTH", str(len(body)).encode()),
                          (b"HTTP_COOKIE", ("chat_session=" + a.session).encode()),
                          (b"HTTP_X_CSRF_TOKEN", a.csrf.encode())])
    before = st.count_events()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    got = b""
    try:
        s.connect(st.path("chatd.sock"))
        s.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 0)) + fcgi_record(4, params)
                  + fcgi_record(4, b""))
        for i in range(0, len(body), 65535):
            s.sendall(fcgi_record(5, body[i:i + 65535]))
        s.sendall(fcgi_record(5, b""))
    except OSError as e:
        # chatd answers and closes once it has read 16 MiB: the rest of
        # the body may not go, but its answer is there to read.
        tap.diag("raw FastCGI send: %s" % e)
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except OSError as e:
        tap.diag("raw FastCGI recv: %s" % e)
    finally:
        s.close()
    tap.ok(b"Status: 413" in got and b"too_large" in got,
           "a 17 MiB form under --max-body 16 MiB is 413 too_large", repr(got[:300]))
    tap.eq(st.count_events(), before, "and nothing is written")


NOFILE = 64
with Stack(["--rate-limit", "1000/10"], tap=tap, nofile=NOFILE) as st:
    tap.run(t_out_of_descriptors, st)

with Stack(["--max-body", str(16 << 20)], tap=tap, name="16 MiB body stack") as st:
    tap.run(t_body_past_drain_limit, st)

with Stack(["--rate-limit", "1000/10"], tap=tap) as st:
    for t in (t_transport, t_not_found, t_method, t_query, t_content_type, t_headers,
              t_duplicates, t_nul, t_unavailable, t_stalled_peer):
        tap.run(t, st)
tap.done()
