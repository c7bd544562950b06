#!/usr/bin/env python3
# bench/floor, the FastCGI floor that bench/run measures chatd against,
# behind tools/stack's nginx (nginx.conf.example, as chatd runs): it must
# be right for its figures to mean anything. Parked polls all get the sent
# text in chatd's shape and the send its id; a bad send is 400 and changes
# nothing; a poll the browser gives up on is freed when nginx closes its
# connection; and on its socket it speaks FastCGI as the specification
# says (records padded, END_REQUEST, FCGI_KEEP_CONN, GET_VALUES, unknown
# types and roles, one request at a time).
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import socket
import struct
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (Deferred, Stack, Tap, fcgi_params, fcgi_record, main_guard, raw_request,
                     wait_until)

main_guard()
tap = Tap()

GENEROUS = 30           # what a loaded machine may add to anything
FLOOR = os.path.join(os.environ.get("TOP_BUILDDIR", os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "build")), "bench", "floor")
if not os.access(FLOOR, os.X_OK):
    print("TAP version 13")
    print("Bail out! bench/floor is not built (looked for %s; make check builds it)" % FLOOR)
    sys.exit(1)
# tools/stack starts $CHATD: the floor takes chatd's place behind nginx.
os.environ["CHATD"] = FLOOR


def health(st):
    r = raw_request(st, "GET", "/api/health")
    return r.json if r.status == 200 and isinstance(r.json, dict) else {}


def send(st, text):
    return raw_request(st, "POST", "/api/send",
                       {"Content-Type": "application/x-www-form-urlencoded"},
                       "text=" + urllib.parse.quote(text, safe=""))


def poll(st, since, timeout=50):
    return raw_request(st, "GET", "/api/poll?since=%d&timeout=%d" % (since, timeout))


def test_fan_out(st):
    r = raw_request(st, "POST", "/api/login",
                    {"Content-Type": "application/x-www-form-urlencoded"}, "nick=a")
    tap.ok(r.status == 200 and isinstance(r.json, dict)
           and all(k in r.json for k in ("session", "csrf", "cursor")),
           "login answers what loadgen reads: session, csrf, cursor", r.show())
    h0 = health(st)
    tap.eq(h0.get("parked"), 0, "nothing parked at first")
    cur = h0.get("cursor")
    polls = [Deferred(poll, st, cur) for _ in range(5)]
    tap.ok(wait_until(lambda: health(st).get("parked") == 5, GENEROUS),
           "5 polls park", "health: %r" % health(st))
    bad = [send(st, t) for t in ("<b>", "b:1:2\"x", "", "x" * 65, "b c", "B:1")]
    tap.ok(all(b.status == 400 and b.error == "bad_text" for b in bad),
           "a send with a character outside digits, a-z and :._-, empty or "
           "over 64 bytes is 400 bad_text", "\n".join(b.show() for b in bad))
    h = health(st)
    tap.ok(h.get("parked") == 5 and h.get("cursor") == cur
           and not any(p.done() for p in polls),
           "the bad sends changed nothing: 5 still parked, cursor %r" % cur,
           "health: %r" % h)
    s = send(st, "b:7:123456789")
    tap.ok(s.status == 200 and s.json == {"id": cur + 1},
           "the send is answered with its id", s.show())
    got = [p.join(GENEROUS) for p in polls]
    want = [{"id": cur + 1, "type": "message", "room": "lobby", "from": "floor",
             "text": "b:7:123456789"}]
    tap.ok(all(g.status == 200 and g.json == {"cursor": cur + 1, "events": want}
               for g in got),
           "every parked poll got the text, in chatd's shape",
           "\n".join(g.show() for g in got))
    tap.eq(health(st).get("parked"), 0, "no poll is left parked")
    r = poll(st, cur)
    tap.ok(r.status == 200 and r.json == {"cursor": cur + 1, "events": want},
           "a poll behind the newest event gets it at once", r.show())
    for i in range(40):
        send(st, "b:%d:1" % (100 + i))
    first = poll(st, cur + 1)
    rest = poll(st, cur + 33)
    ids = [e.get("id") for e in first.events] + [e.get("id") for e in rest.events]
    tap.ok(first.json and first.json.get("cursor") == cur + 33 and len(first.events) == 32
           and rest.json and rest.json.get("cursor") == cur + 41
           and ids == list(range(cur + 2, cur + 42))
           and [e.get("text") for e in first.events + rest.events]
           == ["b:%d:1" % (100 + i) for i in range(40)],
           "a poller 40 events behind gets them all, in order, 32 in an answer",
           "%s\n%s" % (first.show(), rest.show()))
    cur += 40
    r = poll(st, cur + 1, timeout=1)
    tap.ok(r.status == 200 and r.json == {"cursor": cur + 1, "events": []},
           "a poll that times out is answered with no events", r.show())
    r = poll(st, cur + 1, timeout=61)
    tap.ok(r.status == 400, "a timeout over 60 is 400", r.show())
    r = raw_request(st, "GET", "/api/send")
    tap.ok(r.status == 405, "GET /api/send is 405", r.show())
    r = raw_request(st, "GET", "/api/nothing")
    tap.ok(r.status == 404, "an unknown path is 404", r.show())


def test_ahead(st):
    cur = health(st)["cursor"]
    ahead = Deferred(poll, st, cur + 5, 8)
    tap.ok(wait_until(lambda: health(st).get("parked") == 1, GENEROUS),
           "a poll with a cursor ahead of the newest event parks", "health: %r" % health(st))
    send(st, "b:1:1")
    h = health(st)
    r = ahead.join(GENEROUS)
    tap.ok(h.get("parked") == 1 and h.get("cursor") == cur + 1 and r.status == 200
           and r.events == [],
           "a send does not answer it: it waits on, then times out with no events",
           "health after the send: %r; %s" % (h, r.show()))


def test_abandoned(st):
    base = health(st)
    s = socket.create_connection((st.host, st.port), timeout=GENEROUS)
    s.sendall(b"GET /api/poll?since=%d&timeout=50 HTTP/1.1\r\nHost: x\r\n\r\n"
              % base["cursor"])
    tap.ok(wait_until(lambda: health(st).get("parked") == 1, GENEROUS),
           "a poll parks", "health: %r" % health(st))
    s.close()
    tap.ok(wait_until(lambda: health(st).get("parked") == 0, GENEROUS),
           "the browser gone, nginx closes the connection and the floor "
           "frees the poll", "health: %r" % health(st))


# ---- FastCGI on the floor's socket, as nginx (or anyone) writes it

def fcgi_request(path, query=b"", method=b"GET", body=b"", keep=True, rid=1, role=1):
    params = fcgi_params([(b"REQUEST_METHOD", method), (b"DOCUMENT_URI", path),
                          (b"QUERY_STRING", query),
                          (b"CONTENT_LENGTH", str(len(body)).encode())])
    out = (fcgi_record(1, struct.pack(">HB5x", role, 1 if keep else 0), rid)
           + fcgi_record(4, params, rid, pad=(8 - len(params) % 8) % 8)
           + fcgi_record(4, b"", rid))
    if body:
        out += fcgi_record(5, body, rid, pad=3)
    return out + fcgi_record(5, b"", rid)


def read_records(s, until, timeout=GENEROUS):
    """Records from s until one satisfies until(type, id, content) or the
    peer closes: [(type, id, content, padding)], and whether it closed."""
    s.settimeout(timeout)
    buf, recs = b"", []
    while True:
        while len(buf) >= 8:
            ver, typ, rid, clen, plen, _ = struct.unpack(">BBHHBB", buf[:8])
            if len(buf) < 8 + clen + plen:
                break
            recs.append((typ, rid, buf[8:8 + clen], buf[8 + clen:8 + clen + plen]))
            buf = buf[8 + clen + plen:]
            if ver != 1:
                return recs, False
            if until(typ, rid, recs[-1][2]):
                return recs, False
        data = s.recv(65536)
        if not data:
            return recs, True
        buf += data


def closes(s, timeout=GENEROUS):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def end_of(rid):
    return lambda t, i, c: t == 3 and i == rid


def test_fastcgi(st):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(st.path("chatd.sock"))
    s.sendall(fcgi_record(9, fcgi_params([(b"FCGI_MPXS_CONNS", b""),
                                          (b"FCGI_MAX_CONNS", b""), (b"OTHER", b"")]), 0))
    recs, _ = read_records(s, lambda t, i, c: t == 10)
    tap.ok(recs and recs[-1][0] == 10 and recs[-1][1] == 0
           and b"\x0f\x01FCGI_MPXS_CONNS0" in recs[-1][2] and b"OTHER" not in recs[-1][2],
           "FCGI_GET_VALUES: FCGI_MPXS_CONNS 0, and nothing for a name it does not know",
           repr(recs))
    s.sendall(fcgi_record(42, b"12345678", 0))
    recs, _ = read_records(s, lambda t, i, c: t == 11)
    tap.ok(recs and recs[-1][0] == 11 and recs[-1][2][0] == 42,
           "an unknown management record gets FCGI_UNKNOWN_TYPE", repr(recs))
    # Two requests on one kept connection, the body in a padded record.
    for rid, body in ((1, b"text=b%3A9%3A1"), (7, b"text=b%3A10%3A2")):
        s.sendall(fcgi_request(b"/api/send", method=b"POST", body=body, rid=rid))
        recs, closed = read_records(s, end_of(rid))
        out = b"".join(c for t, i, c, p in recs if t == 6)
        tap.ok(not closed and recs and all(i == rid for t, i, c, p in recs)
               and all((len(c) + len(p)) % 8 == 0 for t, i, c, p in recs)
               and [t for t, i, c, p in recs][-2:] == [6, 3]
               and recs[-2][2] == b"" and recs[-1][2] == b"\0" * 8
               and out.startswith(b"Status: 200 OK\r\n") and b'{"id":' in out,
               "request %d on a kept connection: padded STDOUT records, an "
               "empty STDOUT, END_REQUEST complete" % rid, repr(recs))
    # One request at a time: a second BEGIN_REQUEST beside a parked poll.
    cur = health(st)["cursor"]
    s.sendall(fcgi_request(b"/api/poll", b"since=%d&timeout=50" % cur, rid=1))
    tap.ok(wait_until(lambda: health(st).get("parked") == 1, GENEROUS),
           "a poll parks on the raw connection", "health: %r" % health(st))
    s.sendall(fcgi_record(1, struct.pack(">HB5x", 1, 1), 2))
    recs, _ = read_records(s, end_of(2))
    tap.ok(recs and recs[-1][0] == 3 and recs[-1][1] == 2 and recs[-1][2][4] == 1,
           "a second request on the connection is refused FCGI_CANT_MPX_CONN",
           repr(recs))
    s.sendall(fcgi_record(2, b"", 1))
    recs, closed = read_records(s, end_of(1))
    tap.ok(not closed and recs and recs[-1][0] == 3 and recs[-1][2] == b"\0" * 8
           and health(st).get("parked") == 0,
           "FCGI_ABORT_REQUEST ends the parked poll and frees it", repr(recs))
    s.sendall(fcgi_request(b"/api/health", role=2, keep=False, rid=3))
    recs, _ = read_records(s, end_of(3))
    tap.ok(recs and recs[-1][0] == 3 and recs[-1][2][4] == 3 and closes(s),
           "a role other than RESPONDER is refused FCGI_UNKNOWN_ROLE, and the "
           "connection closed without FCGI_KEEP_CONN", repr(recs))
    s.close()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(st.path("chatd.sock"))
    s.sendall(fcgi_request(b"/api/history", keep=False, rid=5))
    recs, _ = read_records(s, end_of(5))
    tap.ok(recs and recs[-1][0] == 3 and closes(s),
           "without FCGI_KEEP_CONN the connection is closed after END_REQUEST",
           repr(recs))
    s.close()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(st.path("chatd.sock"))
    s.sendall(b"\x02" + b"\0" * 15)
    tap.ok(closes(s), "a record that is not FastCGI 1 closes the connection")
    s.close()
    tap.ok(health(st).get("status") == "ok", "the floor still serves")


with Stack(tap=tap, name="floor") as st:
    tap.run(test_fan_out, st)
    tap.run(test_ahead, st)
    tap.run(test_abandoned, st)
    tap.run(test_fastcgi, st)
tap.done()
