#!/usr/bin/env python3
# Shutdown under load: SIGTERM while 5,000 polls wait, through nginx.
# Every one is answered 200 with a valid {cursor, events} body, chatd is
# gone soon after, and the database passes PRAGMA integrity_check.
#
# The polls are raw sockets driven by one selector (no thread each),
# spread over source addresses 127.0.0.10 to 127.0.0.109 so that a
# per-address connection or request limit in front of chatd holds (50
# polls an address); 64 polls a session (--session-polls at its largest),
# so 79 logins.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import json
import os
import resource
import selectors
import signal
import socket
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (_pid_alive, Stack, Tap, is_int, main_guard, wait_parked, wait_until)

main_guard()
tap = Tap()

POLLS = 5000
PER_SESSION = 64
ADDRS = ["127.0.0.%d" % i for i in range(10, 110)]
WAVE = 1000     # polls opened before waiting for chatd to park them


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def http_request(st, src, method, path, headers=(), body=b""):
    """One request over a fresh connection from source address src; the
    status and the (de-chunked) body."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(30)
    try:
        s.bind((src, 0))
        s.connect((st.host, st.port))
        s.sendall(request_bytes(st, method, path, headers, body))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return parse_answer(data)


def request_bytes(st, method, path, headers=(), body=b""):
    head = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (st.host, st.port),
            "Connection: close", "Content-Length: %d" % len(body)]
    head += ["%s: %s" % h for h in headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def parse_answer(data):
    """(status, body) of a whole HTTP/1.1 answer; (None, data) if it is not one."""
    head, sep, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None, data
    if not sep:
        return None, data
    if any(l.lower().startswith(b"transfer-encoding:") and b"chunked" in l.lower()
           for l in lines[1:]):
        out, rest = [], body
        while rest:
            size, _, rest = rest.partition(b"\r\n")
            n = int(size.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out.append(rest[:n])
            rest = rest[n + 2:]
        body = b"".join(out)
    return status, body


def login(st, src, nick):
    body = ("nick=" + nick).encode()
    status, out = http_request(st, src, "POST", "/api/login",
                               [("Content-Type", "application/x-www-form-urlencoded")], body)
    if status != 200:
        raise AssertionError("login %s from %s: %s %r" % (nick, src, status, out[:200]))
    j = json.loads(out)
    return j["session"]


class Polls:
    """POLLS waiting polls on non-blocking sockets, and their answers."""

    def __init__(self, st):
        self.st = st
        self.sel = selectors.DefaultSelector()
        self.socks = {}      # socket -> bytes received
        self.answers = []    # whole answers, as bytes
        self.failed = []

    def open(self, src, session, cursor):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.connect((self.st.host, self.st.port))
        s.sendall(request_bytes(self.st, "GET", "/api/poll?since=%d&timeout=60" % cursor,
                                [("Cookie", "chat_session=" + session)]))
        s.setblocking(False)
        self.socks[s] = b""
        self.sel.register(s, selectors.EVENT_READ)

    def pump(self, timeout):
        """Read what has come; a socket that closes has its whole answer."""
        for key, _ in self.sel.select(timeout):
            s = key.fileobj
            try:
                chunk = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as e:
                chunk = b""
                self.failed.append(repr(e))
            if chunk:
                self.socks[s] += chunk
                continue
            self.sel.unregister(s)
            self.answers.append(self.socks.pop(s))
            s.close()

    def waiting(self):
        return len(self.socks)

    def close(self):
        for s in list(self.socks):
            self.sel.unregister(s)
            s.close()
        self.socks.clear()


def good_answer(data):
    status, body = parse_answer(data)
    if status != 200:
        return False
    try:
        j = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return (isinstance(j, dict) and is_int(j.get("cursor"))
            and isinstance(j.get("events"), list))


def t_sigterm_5000(st):
    have = raise_nofile(POLLS + 1000)
    tap.ok(have >= POLLS + 200, "the test may open %d sockets (%d)" % (POLLS, have))
    sessions = []
    for i in range((POLLS + PER_SESSION - 1) // PER_SESSION):
        sessions.append(login(st, ADDRS[i % len(ADDRS)], "shut%d" % i))
    # every poll from the cursor after the last join: nothing to show
    status, body = http_request(st, ADDRS[0], "GET", "/api/poll?since=0&timeout=0",
                                [("Cookie", "chat_session=" + sessions[0])])
    cursor = json.loads(body)["cursor"]
    polls = Polls(st)
    try:
        for i in range(POLLS):
            polls.open(ADDRS[i % len(ADDRS)], sessions[i // PER_SESSION], cursor)
            if (i + 1) % WAVE == 0 or i + 1 == POLLS:
                wait_parked(st, i + 1, 60)
        tap.eq(polls.waiting(), POLLS, "%d polls wait in chatd, none answered yet" % POLLS,
               "answered early: %r" % [parse_answer(a) for a in polls.answers[:3]])
        pid = st.chatd_pid()
        t0 = time.monotonic()
        st.signal_chatd(signal.SIGTERM)
        end = t0 + 60
        while polls.waiting() and time.monotonic() < end:
            polls.pump(1)
        dt = time.monotonic() - t0
        tap.eq(polls.waiting(), 0, "SIGTERM: every waiting poll is answered (%.1f s)" % dt)
        bad = [a for a in polls.answers if not good_answer(a)]
        tap.eq(len(bad), 0, "all %d answers are 200 with a JSON {cursor, events}"
               % len(polls.answers), repr(bad[:3]) + repr(polls.failed[:3]))
        tap.eq(len(polls.answers), POLLS, "one answer for each poll")
        gone = wait_until(lambda: not _pid_alive(pid), 60)
        tap.ok(gone, "chatd is gone after SIGTERM (%.1f s)" % (time.monotonic() - t0))
        with open(st.path("chatd.log"), "rb") as f:
            log = f.read()
        tap.ok(b"stopping: answering %d waiting polls" % POLLS in log,
               "chatd says it answers the %d waiting polls" % POLLS)
    finally:
        polls.close()
    c = sqlite3.connect("file:%s?mode=ro" % st.path("chat.db"), uri=True, timeout=10)
    try:
        tap.eq(c.execute("PRAGMA integrity_check").fetchall(), [("ok",)],
               "PRAGMA integrity_check is ok after the shutdown")
    finally:
        c.close()


# nginx holds two connections for each poll (the browser's and chatd's).
os.environ.setdefault("NGINX_CONNECTIONS", str(2 * POLLS + 2048))
os.environ.setdefault("NGINX_NOFILE", str(2 * POLLS + 4096))
with Stack(["--log-level", "debug", "--session-polls", str(PER_SESSION),
            "--rate-limit", "1000/10"], tap=tap, name="shutdown stack") as st:
    tap.run(t_sigterm_5000, st)
tap.done()
