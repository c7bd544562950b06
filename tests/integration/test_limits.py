#!/usr/bin/env python3
# Per-address limits of nginx.conf.example, through the real nginx the
# stack renders from it: a login flood, an upload flood, 2,000 connections
# that never finish their header, and 1,000 polls of one session, each
# from one loopback address (127.0.0.2), while an honest client elsewhere
# (127.0.0.3 and the clients' own addresses) is served all the same.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (Client, Stack, Tap, alive_check, ids_of, main_guard,  # noqa: E402
                     raw_request, wait_until)

tap = Tap()

FLOODER = "127.0.0.2"
HONEST = "127.0.0.3"


def is_rate_limited(r):
    """nginx's 429 as the API's JSON, with a Retry-After of whole seconds."""
    retry = r.headers.get("retry-after") or ""
    return (r.status == 429 and r.error == "rate_limited"
            and not r.from_nginx() and retry.isdigit() and int(retry) >= 1)


def honest_works(st, label):
    """A client from another address logs in, sends, sees its message."""
    c = Client(st, source=HONEST)
    r = c.login()
    if not tap.ok(r.status == 200, "%s: another address logs in" % label, r.show()):
        return
    mid = c.must_send("honest during " + label)
    p = c.poll(timeout=0)
    tap.ok(p.status == 200 and mid in ids_of(p.events),
           "%s: another address sends and polls" % label, p.show())
    page = raw_request(st, "GET", "/", source=HONEST)
    tap.ok(page.status == 200 and b"chat.js" in page.body,
           "%s: another address gets the page" % label, page.show())
    c.logout()


def t_login_flood(st):
    results = []
    lock = threading.Lock()

    def flood(k):
        for i in range(25):
            r = Client(st, source=FLOODER).login("f%d-%d" % (k, i))
            with lock:
                results.append(r)

    ts = [threading.Thread(target=flood, args=(k,)) for k in range(8)]
    for t in ts:
        t.start()
    honest_works(st, "a login flood")
    for t in ts:
        t.join()
    ok = [r for r in results if r.status == 200]
    limited = [r for r in results if is_rate_limited(r)]
    other = [r for r in results if r.status != 200 and not is_rate_limited(r)]
    # burst 30 at once, then 30 a minute: a few more for the seconds taken
    tap.ok(30 <= len(ok) <= 40, "a flood of 200 logins from one address: "
           "the first 30 or so pass (%d)" % len(ok))
    tap.ok(len(limited) >= 160 and not other,
           "the rest are 429 rate_limited as JSON with Retry-After (%d)" % len(limited),
           other[0].show() if other else None)
    r = Client(st, source=FLOODER).login()
    tap.ok(is_rate_limited(r), "the flooding address is still limited", r.show())
    honest_works(st, "after a login flood")


def t_upload_flood(st):
    c = Client(st, source="127.0.0.4").must_login()
    codes = []
    for i in range(40):
        r = c.request("POST", "/api/image", body=b"--x--\r\n", csrf="header",
                      content_type="multipart/form-data; boundary=x")
        codes.append(r)
    limited = [r for r in codes if is_rate_limited(r)]
    tap.ok(len(limited) >= 15 and all(r.status in (400, 429) for r in codes),
           "40 uploads at once from one address: past 20, 429 rate_limited (%d)"
           % len(limited), [r.show() for r in codes if r.status not in (400, 429)][:2])
    tap.ok(c.users().status == 200, "the uploader's other requests are not limited")


def slow_sockets(st, n):
    """n connections from FLOODER, each with half a request header."""
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((FLOODER, 0))
        s.settimeout(10)
        s.connect((st.host, st.port))
        s.sendall(b"GET /api/users HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        socks.append(s)
    return socks


def closed_by_server(s):
    s.setblocking(False)
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True     # reset: reset_timedout_connection


def t_slow_headers(st):
    n = 2000
    t0 = time.monotonic()
    socks = slow_sockets(st, n)
    tap.ok(len(socks) == n, "%d connections from one address hold half a header" % n)
    stop = threading.Event()

    def drip():     # a header byte every 2 s, as the attack does
        while not stop.wait(2):
            for s in socks:
                try:
                    s.send(b"a")
                except OSError:
                    pass

    th = threading.Thread(target=drip, daemon=True)
    th.start()
    try:
        still = sum(1 for s in socks if not closed_by_server(s))
        tap.ok(time.monotonic() - t0 < 9 and still >= n - 10,
               "they are all open while the honest client comes (%d)" % still)
        honest_works(st, "2000 slow headers")
        # client_header_timeout (10 s) counts from the connection, however
        # many bytes trickle in: all are gone well before nginx's 60 s.
        gone = wait_until(lambda: all(closed_by_server(s) for s in socks), 40, step=0.5)
        tap.ok(gone and time.monotonic() - t0 < 45,
               "nginx drops the slow headers at client_header_timeout (%.0f s)"
               % (time.monotonic() - t0))
    finally:
        stop.set()
        th.join()
        for s in socks:
            s.close()
    honest_works(st, "after slow headers")


def read_answers(socks, timeout):
    """Each socket's answer status (0: none) within timeout seconds."""
    import selectors
    sel = selectors.DefaultSelector()
    got = {}
    bufs = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        bufs[s] = b""
    end = time.monotonic() + timeout
    while len(got) < len(socks) and time.monotonic() < end:
        for key, _ in sel.select(0.2):
            s = key.fileobj
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            bufs[s] += d
            m = re.match(rb"HTTP/1\.1 (\d+)", bufs[s])
            head_end = bufs[s].find(b"\r\n\r\n")
            if (m and head_end >= 0) or not d:
                got[s] = (int(m.group(1)) if m else 0, bufs[s])
                sel.unregister(s)
    sel.close()
    return got


def open_polls(sessions, n):
    """n polls from FLOODER's address, the sessions taking turns."""
    socks = []
    for i in range(n):
        c = sessions[i % len(sessions)]
        req = ("GET /api/poll?since=%d&timeout=30 HTTP/1.1\r\nHost: x\r\n"
               "X-Chat-Session: %s\r\n\r\n" % (c.cursor, c.session)).encode()
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((FLOODER, 0))
        s.settimeout(10)
        s.connect((c.stack.host, c.stack.port))
        s.sendall(req)
        socks.append(s)
    return socks


def t_poll_flood(st):
    # One session's flood: chatd answers all but its newest four at once
    # (--session-polls), with no events; none of it is an error.
    flooder = Client(st, mode="header", source=FLOODER)
    flooder.must_login()
    flooder.catch_up()
    n = 1000
    socks = open_polls([flooder], n)
    try:
        quick = read_answers(socks, 15)
        early = [b for code, b in quick.values()
                 if code == 200 and b'"events":[]' in b]
        limited = [b for code, b in quick.values()
                   if code == 429 and b"rate_limited" in b and b"application/json" in b]
        waiting = n - len(quick)
        tap.ok(waiting <= 4 and len(early) + len(limited) == len(quick),
               "1,000 polls of one session: at most 4 wait, the others are answered "
               "at once, empty or 429 (%d waiting, %d empty, %d limited)"
               % (waiting, len(early), len(limited)))
        honest_works(st, "one session's poll flood")
    finally:
        for s in socks:
            s.close()
    # Many sessions' polls from one address: nginx lets 300 wait at once.
    sessions = []
    for i in range(250):
        c = Client(st, mode="header")
        c.must_login()
        sessions.append(c)
    for c in sessions:  # past every join, so that their polls wait
        c.catch_up()
    socks = open_polls(sessions, n)
    try:
        quick = read_answers(socks, 15)
        limited = [b for code, b in quick.values()
                   if code == 429 and b"rate_limited" in b and b"application/json" in b]
        waiting = n - len(quick)
        tap.ok(len(limited) >= 700 and waiting <= 300,
               "1,000 polls of 250 sessions from one address: at most 300 wait, "
               "the rest are 429 rate_limited as JSON (%d waiting, %d limited)"
               % (waiting, len(limited)))
        honest_works(st, "a poll flood")
    finally:
        for s in socks:
            s.close()
    tap.ok(wait_until(lambda: st.chatd_alive(), 5), "chatd still runs after the poll flood")


def main():
    main_guard()
    with Stack(tap=tap, name="limits stack") as st:
        tap.run(t_login_flood, st)
        tap.run(t_upload_flood, st)
        tap.run(t_slow_headers, st)
        tap.run(t_poll_flood, st)
        alive_check(tap, st, "the limits tests")
    tap.done()


if __name__ == "__main__":
    main()
