#!/usr/bin/env python3
# Neighbours on the FastCGI socket: anyone in nginx's group (on Debian,
# www-data is shared with PHP-FPM and other web applications) can connect
# to chatd's socket. One that sends nothing, or trickles a request a byte
# at a time, must not stop chatd for everyone else (libfcgi reads a request
# only once it is whole), and is closed at its deadline; one that floods
# the socket with such connections is capped. A request that is not whole
# at once but comes whole in time, and an upload larger than the socket's
# buffer, are still served.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (Client, Stack, Tap, alive_check, fcgi_params, fcgi_record, login_client,
                     main_guard, raw_request, wait_until)

main_guard()
tap = Tap()

DEADLINE = 5            # chatd's deadline for a whole request (conn_read.c)
GENEROUS = 30           # what a loaded machine may add to anything


def fcgi_get(path, query=b"", cookie=None, keep=False):
    """A whole FastCGI GET request, as nginx writes it (keep: with
    FCGI_KEEP_CONN, as nginx's upstream pool asks)."""
    pairs = [(b"REQUEST_METHOD", b"GET"), (b"DOCUMENT_URI", path), (b"QUERY_STRING", query)]
    if cookie:
        pairs.append((b"HTTP_COOKIE", cookie))
    params = fcgi_params(pairs)
    return (fcgi_record(1, struct.pack(">HB5x", 1, 1 if keep else 0))
            + fcgi_record(4, params, pad=(8 - len(params) % 8) % 8)
            + fcgi_record(4, b"") + fcgi_record(5, b""))


def connect(st):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(st.path("chatd.sock"))
    return s


def closed_by_peer(s, timeout):
    """Wait up to timeout seconds for chatd to close s: True on EOF (or a
    reset: chatd closed with bytes of ours unread), False if still open."""
    s.settimeout(timeout)
    try:
        while True:
            data = s.recv(4096)
            if not data:
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def stdout_of(data):
    """The FCGI_STDOUT content of a FastCGI answer."""
    out, i = b"", 0
    while i + 8 <= len(data):
        _, kind, _, n, pad, _ = struct.unpack(">BBHHBB", data[i:i + 8])
        if kind == 6:
            out += data[i + 8:i + 8 + n]
        i += 8 + n + pad
    return out


def read_answer(s, timeout=GENEROUS):
    """Everything chatd writes on s until the FCGI_END_REQUEST record."""
    s.settimeout(timeout)
    got = b""
    while True:
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
        if b"\x01\x03\x00\x01\x00\x08" in got:     # FCGI_END_REQUEST, id 1
            break
    return stdout_of(got)


def log_count(st, text):
    with open(st.path("chatd.log"), "rb") as f:
        return f.read().count(text.encode())


class Trickler(threading.Thread):
    """A peer that writes a whole request one byte a second, for as long as
    chatd keeps its connection open (or GENEROUS * 2 seconds)."""

    def __init__(self, st, data, sock=None):
        super().__init__(daemon=True)
        self.sock = sock or connect(st)
        self.data = data
        self.opened = time.monotonic()
        self.closed = None      # monotonic time chatd closed it
        self.sent = 0

    def run(self):
        end = self.opened + 2 * GENEROUS
        while time.monotonic() < end and self.sent < len(self.data):
            try:
                self.sock.send(self.data[self.sent:self.sent + 1])
                self.sent += 1
            except OSError:
                break
            r, _, _ = select.select([self.sock], [], [], 1.0)
            if r and closed_by_peer(self.sock, 0.1):
                break
        else:
            return
        self.closed = time.monotonic()


def t_neighbours(st):
    """Eight idle connections and a trickler on the socket while an honest
    client logs in, sends and is answered through nginx; then each of them
    is closed by chatd at its deadline, and said so once in the log."""
    before = log_count(st, "closed a FastCGI connection")
    idle = [connect(st) for _ in range(8)]
    opened = time.monotonic()
    trickler = Trickler(st, fcgi_get(b"/api/users"))
    trickler.start()
    time.sleep(1.5)     # the trickler has begun, the idle ones wait
    try:
        a = Client(st)
        r = a.login(timeout=GENEROUS)
        tap.eq(r.status, 200, "an honest login is answered while neighbours stall", r.show())
        b = login_client(st)
        b.catch_up()
        waiting = b.poll_deferred(timeout=GENEROUS)
        time.sleep(0.3)
        r = a.send("through the stall", timeout=GENEROUS)
        tap.eq(r.status, 200, "an honest send is answered while neighbours stall", r.show())
        p = waiting.join(GENEROUS + 10)
        texts = [e.get("text") for e in p.events if e.get("type") == "message"]
        tap.ok(p.status == 200 and "through the stall" in texts,
               "a waiting poll gets the message while neighbours stall", p.show())
        tap.diag("the honest exchange took %.1f s; the trickler is %s (%d bytes)"
                 % (time.monotonic() - opened,
                    "still trickling" if trickler.closed is None else "closed", trickler.sent))
        gone = [closed_by_peer(s, GENEROUS) for s in idle]
        idle_closed = time.monotonic() - opened
        tap.eq(gone, [True] * 8, "chatd closes the eight idle connections")
        tap.ok(DEADLINE - 2 <= idle_closed <= DEADLINE + GENEROUS,
               "at their deadline (all closed %.1f s after opening)" % idle_closed)
        trickler.join(GENEROUS + 5)
        tap.ok(trickler.closed is not None, "chatd closes the trickling connection")
        if trickler.closed is not None:
            dt = trickler.closed - trickler.opened
            tap.ok(DEADLINE - 2 <= dt <= DEADLINE + GENEROUS,
                   "at its deadline (after %.1f s and %d bytes)" % (dt, trickler.sent))
        said = log_count(st, "closed a FastCGI connection") - before
        tap.ok(said == 1 and log_count(st, "no whole request within") >= 1,
               "nine closes are one line of chatd's log at warn, not nine",
               "%d lines" % said)
    finally:
        for s in idle:
            s.close()
        trickler.sock.close()
    alive_check(tap, st, "idle and trickling neighbours")


def t_slow_but_whole(st):
    """A request that comes in pieces but is whole before its deadline is
    answered as any other (read from chatd's copy of it)."""
    a = login_client(st)
    req = fcgi_get(b"/api/users", cookie=("chat_session=" + a.session).encode())
    s = connect(st)
    try:
        for piece in (req[:5], req[5:20], req[20:-3], req[-3:]):
            s.sendall(piece)
            time.sleep(0.4)
        out = read_answer(s)
    finally:
        s.close()
    tap.ok(out.startswith(b"Status: 200") and a.nick.encode() in out,
           "a request sent in four pieces over 1.6 s: 200 with the users", repr(out[:300]))


def t_kept_then_trickle(st):
    """A kept connection (FCGI_KEEP_CONN) answered once, whose next request
    then trickles in: it is not read until whole either, so an honest
    client is served meanwhile, and it is closed at its deadline."""
    a = login_client(st)
    s = connect(st)
    t = None
    try:
        s.sendall(fcgi_get(b"/api/users", cookie=("chat_session=" + a.session).encode(),
                           keep=True))
        out = read_answer(s)
        tap.ok(out.startswith(b"Status: 200"), "a kept connection's first request: 200",
               repr(out[:200]))
        t = Trickler(st, fcgi_get(b"/api/users"), sock=s)
        t.start()
        time.sleep(1.5)
        r = a.send("while a kept connection trickles", timeout=GENEROUS)
        tap.eq(r.status, 200, "an honest send is answered while its next request trickles",
               r.show())
        t.join(GENEROUS + 5)
        tap.ok(t.closed is not None and t.closed - t.opened >= DEADLINE - 2,
               "chatd closes the kept connection at its deadline",
               "closed after %s s" % (None if t.closed is None else round(t.closed - t.opened, 1)))
    finally:
        s.close()


def t_cut_body(st):
    """A body past every route's limit but under what chatd drains (3 MiB
    to /api/send): chatd keeps only the first part of it, reads the rest,
    and answers 413 too_large; nothing is written."""
    a = login_client(st)
    body = b"text=cut&pad=" + b"x" * (3 << 20)
    params = fcgi_params([(b"REQUEST_METHOD", b"POST"), (b"DOCUMENT_URI", b"/api/send"),
                          (b"QUERY_STRING", b""),
                          (b"CONTENT_TYPE", b"application/x-www-form-urlencoded"),
                          (b"CONTENT_LENGTH", str(len(body)).encode()),
                          (b"HTTP_COOKIE", ("chat_session=" + a.session).encode()),
                          (b"HTTP_X_CSRF_TOKEN", a.csrf.encode())])
    data = (fcgi_record(1, struct.pack(">HB5x", 1, 0)) + fcgi_record(4, params)
            + fcgi_record(4, b""))
    for i in range(0, len(body), 65535):
        data += fcgi_record(5, body[i:i + 65535])
    data += fcgi_record(5, b"")
    before = st.count_events()
    s = connect(st)
    try:
        writer = threading.Thread(target=lambda: s.sendall(data), daemon=True)
        writer.start()
        out = read_answer(s)
        writer.join(GENEROUS)
    finally:
        s.close()
    tap.ok(out.startswith(b"Status: 413") and b"too_large" in out,
           "a 3 MiB form: 413 too_large", repr(out[:300]))
    tap.eq(st.count_events(), before, "and nothing is written")


def t_malformed(st):
    """What is not a request chatd reads is closed at once, not read on."""
    bad = [
        ("version 2", b"\x02" + fcgi_get(b"/api/users")[1:]),
        ("a management record (GET_VALUES)", fcgi_record(9, fcgi_params([(b"FCGI_MAX_CONNS", b"")]),
                                                         request_id=0)),
        ("params of another request id", fcgi_record(1, struct.pack(">HB5x", 1, 0))
         + fcgi_record(4, fcgi_params([(b"A", b"b")]), request_id=2)),
        ("a padded begin record", fcgi_record(1, struct.pack(">HB5x", 1, 0), pad=8)),
    ]
    before = log_count(st, "not a FastCGI request chatd reads")
    for label, data in bad:
        s = connect(st)
        try:
            s.sendall(data)
            tap.ok(closed_by_peer(s, GENEROUS), "%s: chatd closes the connection" % label)
        finally:
            s.close()
    tap.ok(log_count(st, "not a FastCGI request chatd reads") > before,
           "and says why in its log")
    alive_check(tap, st, "malformed FastCGI records")


def t_flood(st):
    """More idle connections than chatd watches at once (a quarter of its
    descriptors): the oldest are closed first, and nginx is still served."""
    before = log_count(st, "too many connections sending at once")
    socks = []
    try:
        for _ in range(FLOOD):
            socks.append(connect(st))
        a = Client(st)
        r = a.login(timeout=GENEROUS)
        tap.eq(r.status, 200, "a login through nginx is answered during the flood", r.show())
        tap.ok(closed_by_peer(socks[0], GENEROUS), "the oldest idle connection is closed")
        tap.ok(wait_until(lambda: log_count(st, "too many connections sending at once")
                          > before, GENEROUS),
               "because too many were sending at once (chatd's log)")
        tap.ok(all(closed_by_peer(s, GENEROUS) for s in socks),
               "and every one of them is closed in the end")
    finally:
        for s in socks:
            s.close()
    alive_check(tap, st, "a flood of idle connections")


def png_of(size):
    """A real PNG followed by zeros, size bytes in all."""
    import zlib

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    p = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
         + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"IEND", b""))
    return p + b"\0" * (size - len(p))


def t_large_upload(st):
    """An image of nearly --max-image (1 MiB), far past what the socket's
    buffer holds, is stored and given back whole."""
    a = login_client(st)
    data = png_of((1 << 20) - 64)
    boundary = "chatdSlowTestBoundary"
    body = (("--%s\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
             "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n"
             "Content-Type: image/png\r\n\r\n") % (boundary, a.csrf, boundary)).encode()
    body += data + ("\r\n--%s--\r\n" % boundary).encode()
    h = dict(a.auth_headers())
    h["Content-Type"] = "multipart/form-data; boundary=" + boundary
    r = raw_request(st, "POST", "/api/image", h, body)
    ok = r.status == 200 and isinstance(r.json, dict) and "image" in r.json
    tap.ok(ok, "a 1 MiB image upload through nginx: 200", r.show())
    if ok:
        g = raw_request(st, "GET", "/api/image/%d" % r.json["image"], a.auth_headers())
        tap.ok(g.status == 200 and g.body == data, "and its bytes come back whole",
               "%d: %d bytes" % (g.status, len(g.body or b"")))


with Stack(tap=tap) as st:
    for t in (t_neighbours, t_slow_but_whole, t_kept_then_trickle, t_cut_body, t_malformed,
              t_large_upload):
        tap.run(t, st)

FLOOD = 100
with Stack(tap=tap, nofile=256, name="256-descriptor stack") as st:
    tap.run(t_flood, st)
tap.done()
