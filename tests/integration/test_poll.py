#!/usr/bin/env python3
# GET /api/poll: waiting and waking, timeouts, bad parameters, who sees what,
# following cursors under concurrent sends, the 500-event page, several
# daemon processes, rows written from outside, clients that go away and
# SIGTERM (docs/api.md, "Events" and "Endpoints").
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (OMIT, _pid_alive, Client, Stack, Tap, alive_check, events_of, ids_of, is_int,
                     login_client, main_guard, raw_bytes, unique_nick, wait_parked,
                     wait_until)

main_guard()
tap = Tap()

# Every stack here logs at debug level, so that wait_parked can see how
# many polls chatd holds: tests wait for that instead of sleeping.
DEBUG = ["--log-level", "debug"]


def strictly_increasing(xs):
    return all(a < b for a, b in zip(xs, xs[1:]))


def t_wakeup(st):
    a = login_client(st)
    b = login_client(st)
    a.catch_up()
    d = a.poll_deferred(timeout=20, advance=True)
    wait_parked(st, 1)
    tap.ok(not d.done(), "a poll with nothing to show waits", repr(d.resp))
    mid = b.must_send("wake up")
    r = d.join(30)
    tap.eq(r.status, 200, "the waiting poll is answered", r.show())
    tap.ok(mid in ids_of(r.events), "the waiting poll returns the new message", r.show())
    tap.ok(d.elapsed < 10, "it returns well before its 20 s timeout (%.2f s)" % d.elapsed)
    tap.ok(is_int((r.json or {}).get("cursor")) and r.json["cursor"] >= mid,
           "its cursor covers the message", r.show())
    a.logout()
    b.logout()


def t_empty_and_timeouts(st):
    a = login_client(st)
    a.catch_up()
    since = a.cursor
    t0 = time.monotonic()
    r = a.poll(timeout=1)
    dt = time.monotonic() - t0
    tap.eq(r.status, 200, "an empty poll with timeout=1 answers 200", r.show())
    tap.eq((r.json or {}).get("events"), [], "its events are []", r.show())
    c = (r.json or {}).get("cursor")
    tap.ok(is_int(c) and c >= since, "it gives a cursor (>= since)", r.show())
    tap.ok(0.5 <= dt < 10, "it waited about its timeout (%.2f s)" % dt)
    t0 = time.monotonic()
    r = a.poll(timeout=0)
    dt = time.monotonic() - t0
    tap.ok(r.status == 200 and (r.json or {}).get("events") == [], "timeout=0 answers 200 []", r.show())
    tap.ok(dt < 3, "timeout=0 answers at once (%.2f s)" % dt)
    r = a.poll(since=0, timeout=60)
    tap.ok(r.status == 200 and len(r.events) > 0, "timeout=60 is valid (and since=0 has events)", r.show())
    a.logout()


def t_bad_params(st):
    a = login_client(st)
    for q, label in (("since=-1", "since=-1"), ("since=abc", "since=abc"),
                     ("since=1.5", "since=1.5"), ("since=", "an empty since"),
                     ("since=1x", "since=1x"), ("timeout=0", "no since"),
                     ("since=0&timeout=61", "timeout=61"), ("since=0&timeout=-1", "timeout=-1"),
                     ("since=0&timeout=abc", "timeout=abc"), ("since=0&timeout=", "an empty timeout")):
        r = a.request("GET", "/api/poll?" + q)
        tap.ok(r.status == 400 and r.error == "bad_request", "poll with %s: 400 bad_request" % label,
               r.show())
    for room in ("Lobby", "a%20b", "x" * 33):
        r = a.request("GET", "/api/poll?since=0&timeout=0&room=" + room)
        tap.ok(r.status == 400 and r.error == "bad_room", "poll of room %r: 400 bad_room" % room[:40],
               r.show())
    a.logout()


def t_since_zero(st):
    a = login_client(st)
    r = a.poll(since=0, timeout=0)
    tap.eq(r.status, 200, "since=0 is valid", r.show())
    evs = r.events
    tap.ok(len(evs) > 0 and strictly_increasing(ids_of(evs)),
           "since=0 returns the log from the start, ascending", r.show())
    tap.ok(len(evs) > 0 and evs[0].get("type") == "join", "the first event of the log is a join",
           repr(evs[:1]))
    newest = evs[-1]["id"] if evs else 0
    # A cursor from another database (beyond this log's end) is brought
    # back to the end, so the client sees what comes next.
    r = a.poll(since=10 ** 12, timeout=0)
    tap.ok(r.status == 200 and r.json.get("cursor") == newest and r.events == [],
           "a cursor beyond the log is answered with the log's end", r.show())
    a.must_send("after the reset")
    r = a.poll(since=r.json.get("cursor"), timeout=5)
    tap.ok(r.status == 200 and [e.get("text") for e in r.events] == ["after the reset"],
           "and polling from there sees the next event", r.show())
    a.logout()


def t_private_visibility(st):
    a, b, c = login_client(st), login_client(st), login_client(st)
    for x in (a, b, c):
        x.catch_up()
    r = a.send("secret for b", to=b.nick)
    if not tap.eq(r.status, 200, "private send", r.show()):
        return
    pid = r.json["id"]
    pub = a.must_send("public after the secret")
    for who, x, sees in (("sender", a, True), ("recipient", b, True), ("third user", c, False)):
        p = x.poll(timeout=0)
        tap.eq(pid in ids_of(p.events), sees,
               "poll: the private message is %s to the %s" % ("visible" if sees else "invisible", who),
               p.show())
        if who == "third user":
            tap.ok(pub in ids_of(p.events), "poll: the third user still sees the public message",
                   p.show())
        h = x.history(limit=200)
        tap.eq(pid in ids_of(h.events), sees,
               "history: the private message is %s to the %s" % ("visible" if sees else "invisible", who),
               h.show())
        po = x.poll(room="other-room", timeout=0)
        tap.eq(pid in ids_of(po.events), sees,
               "poll of another room: the private message is %s to the %s"
               % ("visible" if sees else "invisible", who), po.show())
    for x in (a, b, c):
        x.logout()


def t_rooms(st):
    a = login_client(st)
    lob = login_client(st)
    r1 = login_client(st)
    lob.catch_up()
    r1.catch_up(room="r1")
    dl = lob.poll_deferred(timeout=3)
    dr = r1.poll_deferred(room="r1", timeout=20)
    wait_parked(st, 2)
    mid = a.must_send("in r1", room="r1")
    rr = dr.join(30)
    tap.ok(mid in ids_of(rr.events), "a poller of r1 sees a message sent to r1", rr.show())
    tap.ok(dr.elapsed < 10, "and is woken by it (%.2f s)" % dr.elapsed)
    rl = dl.join(30)
    tap.eq(rl.status, 200, "the lobby poll ends normally", rl.show())
    tap.ok(mid not in ids_of(rl.events), "a lobby poller does not see the r1 message", rl.show())
    rest = lob.poll(since=rl.json.get("cursor") if isinstance(rl.json, dict) else lob.cursor, timeout=0)
    tap.ok(mid not in ids_of(rest.events), "nor on its next poll", rest.show())
    h = lob.history(limit=200)
    tap.ok(mid not in ids_of(h.events), "nor in lobby history", h.show())
    h = lob.history(room="r1", limit=200)
    tap.ok(mid in ids_of(h.events), "but r1 history has it", h.show())
    # join and leave are seen in every room
    r1.catch_up(room="r1")
    d = r1.poll_deferred(room="r1", timeout=20, advance=True)
    wait_parked(st, 1)
    n = login_client(st)
    r = d.join(30)
    tap.ok(events_of(r, type="join", sender=n.nick), "a poller of r1 sees a join", r.show())
    tap.ok(d.elapsed < 10, "and is woken by it (%.2f s)" % d.elapsed)
    r1.catch_up(room="r1")
    d = r1.poll_deferred(room="r1", timeout=20, advance=True)
    wait_parked(st, 1)
    n.logout()
    r = d.join(30)
    tap.ok(events_of(r, type="leave", sender=n.nick), "a poller of r1 sees a leave", r.show())
    for x in (a, lob, r1):
        x.logout()


def t_follow_concurrent(st):
    where = " (%s)" % st.name
    follower = login_client(st)
    senders = [login_client(st) for _ in range(3)]
    follower.catch_up()
    nicks = {s.nick for s in senders}
    per = [67, 67, 66]
    sent = [[] for _ in senders]
    errors = []

    def send_all(i):
        s = senders[i]
        for k in range(per[i]):
            r = s.send("m %d %d" % (i, k))
            if r.status == 200 and isinstance(r.json, dict):
                sent[i].append(r.json["id"])
            else:
                errors.append(r.show())

    seen = []        # ids of messages from the senders, in the order seen
    all_ids = []     # ids of every event, in the order seen
    bad = []
    done = threading.Event()

    def follow():
        end = time.monotonic() + 45
        while time.monotonic() < end:
            r = follower.poll(timeout=5, advance=True)
            if r.status != 200:
                bad.append(r.show())
                time.sleep(0.2)
                continue
            for e in r.events:
                all_ids.append(e.get("id"))
                if e.get("type") == "message" and e.get("from") in nicks:
                    seen.append(e["id"])
            if len(seen) >= sum(per):
                return

    ft = threading.Thread(target=follow)
    ft.start()
    ts = [threading.Thread(target=send_all, args=(i,)) for i in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    done.set()
    ft.join(60)
    expected = sorted(i for s in sent for i in s)
    tap.eq(errors, [], "200 concurrent sends all answer 200" + where)
    tap.eq(bad, [], "every poll of the follower answers 200" + where)
    tap.eq(len(seen), len(set(seen)), "the follower sees every message at most once" + where,
           "%d seen, %d distinct" % (len(seen), len(set(seen))))
    tap.ok(strictly_increasing(all_ids), "the follower sees events in strictly increasing id order" + where,
           repr(all_ids[:50]))
    missing = sorted(set(expected) - set(seen))
    tap.eq(missing, [], "the follower sees every message sent (%d)" % len(expected) + where)
    tap.eq(sorted(seen), expected, "it sees exactly the ids the sends returned" + where)
    for s in senders + [follower]:
        s.logout()


def t_page_500(st):
    reader = login_client(st)
    reader.catch_up()
    mark = reader.cursor
    writers = [login_client(st) for _ in range(4)]
    sent = []
    lock = threading.Lock()
    errors = []

    def send_many(w, n):
        for k in range(n):
            r = w.send("bulk %d" % k)
            if r.status == 200 and isinstance(r.json, dict):
                with lock:
                    sent.append(r.json["id"])
            else:
                errors.append(r.show())

    ts = [threading.Thread(target=send_many, args=(w, 130)) for w in writers]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    tap.eq(errors, [], "520 sends answer 200")
    r = reader.poll(since=mark, timeout=0)
    tap.eq(r.status, 200, "poll with 520+ events pending", r.show())
    n = len(r.events)
    tap.ok(0 < n <= 500, "one poll returns at most 500 events (%d)" % n)
    got = list(r.events)
    cursor = (r.json or {}).get("cursor")
    tap.ok(is_int(cursor) and (not got or cursor >= got[-1]["id"]), "its cursor covers what it returned",
           "cursor %r last %r" % (cursor, got[-1]["id"] if got else None))
    for _ in range(20):
        r = reader.poll(since=cursor, timeout=0)
        if r.status != 200 or not r.events:
            break
        got += r.events
        cursor = r.json.get("cursor")
    ids = ids_of(got)
    tap.ok(strictly_increasing(ids), "following the cursor: strictly increasing ids, no repeats")
    tap.eq(sorted(set(sent) - set(ids)), [], "following the cursor loses nothing")
    for w in writers + [reader]:
        w.logout()


def t_outside_bulk(st):
    """700 rows written by another program in one transaction reach a
    parked poll as 500, then 200 on the next poll with its cursor."""
    reader = login_client(st)
    reader.catch_up()
    d = reader.poll_deferred(timeout=20)
    wait_parked(st, 1)
    db = st.db(readonly=False)
    try:
        with db:
            db.executemany("INSERT INTO events (type, room, sender, text) "
                           "VALUES ('message', 'lobby', 'system', ?)",
                           [("outside %d" % k,) for k in range(700)])
    finally:
        db.close()
    r = d.join(30)
    first = ids_of(r.events)
    tap.eq(len(first), 500, "the parked poll gets the first 500 rows at once", r.show())
    cursor = (r.json or {}).get("cursor")
    t0 = time.time()
    r = reader.poll(since=cursor, timeout=10)
    rest = ids_of(r.events)
    tap.eq(len(rest), 200, "the next poll with its cursor gets the other 200 (%.1f s)"
           % (time.time() - t0), r.show())
    tap.ok(strictly_increasing(first + rest), "in order, none twice")
    reader.logout()


def fd_count(st):
    """Open descriptors of chatd (None where /proc cannot tell)."""
    try:
        return len(os.listdir("/proc/%d/fd" % st.chatd_pid()))
    except OSError:
        return None


def t_many_parked(st):
    """200 polls parked at once (4 of each of 50 sessions: --session-polls)
    are all answered by one message."""
    cs = [login_client(st) for _ in range(50)]
    for c in cs:
        c.catch_up()
    a = cs[0]
    ds = [c.poll_deferred(timeout=30) for c in cs for _ in range(4)]
    wait_parked(st, 200)
    early = [d for d in ds if d.done()]
    tap.eq(len(early), 0, "200 polls park", "\n".join(repr(d.resp) for d in early[:5]))
    mid = a.must_send("to the 200")
    rs = []
    for d in ds:
        try:
            rs.append(d.join(40))
        except Exception as e:
            rs.append(None)
    good = sum(1 for r in rs if r is not None and mid in ids_of(r.events))
    tap.eq(good, 200, "all 200 parked polls get the message",
           "\n".join(r.show() if r else "no answer" for r in rs if r is None or mid not in ids_of(r.events))[:2000])
    tap.ok(max(d.elapsed for d in ds) < 20, "well before their timeout (max %.2f s)" % max(d.elapsed for d in ds))
    for c in cs:
        c.logout()


def t_disconnect(st):
    # 20 polls to go away, 4 of each of 5 sessions (as many as
    # --session-polls lets one session park), and one to stay
    others = [login_client(st) for _ in range(5)]
    a = others[0]
    keep = login_client(st)
    for c in others + [keep]:
        c.catch_up()
    kd = keep.poll_deferred(timeout=20)
    wait_parked(st, 1)
    base_fds = fd_count(st)
    socks = []
    for c in others:
        req = ("GET /api/poll?since=%d&timeout=20 HTTP/1.1\r\nHost: %s:%d\r\n"
               "Cookie: chat_session=%s\r\n\r\n"
               % (c.cursor, st.host, st.port, c.session)).encode()
        for _ in range(4):
            s = socket.create_connection((st.host, st.port), timeout=10)
            s.sendall(req)
            socks.append(s)
    wait_parked(st, 21)
    for s in socks:
        s.close()
    # and some that go away half-way through their request
    for part in (req[:10], req[:-4]):
        s = socket.create_connection((st.host, st.port), timeout=10)
        s.sendall(part)
        s.close()
    wait_parked(st, 1)
    tap.ok(st.chatd_alive(), "chatd survives 22 clients that went away mid-poll")
    if base_fds is not None:
        fds = wait_until(lambda: (lambda n: n if n <= base_fds + 3 else None)(fd_count(st)), 5)
        tap.ok(fds is not None, "chatd lets go of the polls whose clients went away "
               "(descriptors: %s before, %s after)" % (base_fds, fd_count(st)))
    r = a.users()
    tap.eq(r.status, 200, "other requests still work after the disconnects", r.show())
    mid = a.must_send("after disconnects")
    kr = kd.join(30)
    tap.ok(mid in ids_of(kr.events), "a poll parked alongside them is still answered", kr.show())
    r = a.poll(timeout=0)
    tap.ok(mid in ids_of(r.events), "the client that went away polls again and sees the message", r.show())
    for c in others[1:] + [a, keep]:
        c.logout()


def t_invisible_flood(st):
    """600 events the reader may not see (another room, others' private
    messages) and then one it may: following cursors gets there in a few
    polls, and a parked poll is not fooled into answering early."""
    reader = login_client(st)
    a, b = login_client(st), login_client(st)
    reader.catch_up()
    errors = []

    def flood(c, n, **kw):
        for k in range(n):
            r = c.send("flood %d" % k, **kw)
            if r.status != 200:
                errors.append(r.show())
    ts = [threading.Thread(target=flood, args=(a, 300), kwargs={"room": "elsewhere"}),
          threading.Thread(target=flood, args=(b, 300), kwargs={"to": a.nick})]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    tap.eq(errors, [], "600 sends the reader may not see")
    d = reader.poll_deferred(timeout=3)
    r = d.join(30)
    tap.eq(r.status, 200, "a poll behind 600 invisible events answers 200", r.show())
    tap.eq(r.events, [], "and shows none of them", r.show()[:300])
    c = (r.json or {}).get("cursor")
    tap.ok(is_int(c) and c >= reader.cursor, "its cursor does not go back", repr(c))
    mid = a.must_send("visible at last")
    seen, polls, cursor = [], 0, reader.cursor
    while polls < 10 and mid not in seen:
        r = reader.poll(since=cursor, timeout=5)
        polls += 1
        if r.status != 200:
            break
        seen += ids_of(r.events)
        cursor = r.json.get("cursor", cursor)
    tap.ok(mid in seen, "following cursors past 600 invisible events reaches the visible one "
           "(%d polls)" % polls)
    tap.eq(len(seen), len(set(seen)), "and sees nothing twice")
    for x in (reader, a, b):
        x.logout()


def t_retry_same_cursor(st):
    """Polling twice from the same cursor (a lost answer, retried) gives
    the same events again."""
    a = login_client(st)
    a.catch_up()
    ids = [a.must_send("retry %d" % i) for i in range(3)]
    r1 = a.poll(timeout=0)
    r2 = a.poll(timeout=0)
    tap.eq(ids_of(r2.events), ids_of(r1.events), "a retried poll gives the same events")
    tap.eq((r2.json or {}).get("cursor"), (r1.json or {}).get("cursor"), "and the same cursor")
    tap.ok(set(ids) <= set(ids_of(r1.events)), "including the new messages", r1.show())
    a.logout()


def t_big_answer(st):
    """500 events of 2000 three-byte characters (3 MB of JSON) come back
    whole, in answers small enough for nginx to take from chatd at once, and
    a client reading such an answer slowly does not hold up anyone else."""
    reader = login_client(st)
    reader.catch_up()
    mark = reader.cursor
    big = "\u20ac" * 1999
    writers = [login_client(st) for _ in range(4)]
    sent, errors, lock = [], [], threading.Lock()

    def send_many(w, base, n):
        for k in range(n):
            r = w.send("%s%d" % (big, (base + k) % 10))
            if r.status == 200 and isinstance(r.json, dict):
                with lock:
                    sent.append(r.json["id"])
            else:
                errors.append(r.show())

    ts = [threading.Thread(target=send_many, args=(w, i * 125, 125)) for i, w in enumerate(writers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    tap.eq(errors, [], "500 sends of 2000 three-byte characters answer 200")
    # The client follows cursors; each answer stops near 256 KB, so that
    # nginx can take it whole from chatd (it buffers up to 1 MB).
    got, sizes, cursor, r = [], [], mark, None
    for _ in range(100):
        r = reader.poll(since=cursor, timeout=0)
        if r.status != 200 or not r.events:
            break
        sizes.append(len(r.body))
        got += [e for e in r.events if e.get("id") in set(sent)]
        cursor = r.json["cursor"]
    tap.ok(r is not None and r.status == 200, "polls of 500 big events answer 200",
           r.show()[:300] if r else "")
    tap.ok(len(sizes) > 1 and max(sizes) <= 256 * 1024 + 16 * 1024,
           "they come in answers of at most 256 KB and one event (%s bytes)" % sizes)
    tap.eq(ids_of(got), sorted(sent), "every event comes once, in order, across the answers")
    tap.ok(all(e.get("text", "")[:1999] == big and len(e.get("text", "")) == 2000 for e in got),
           "its events come back whole (%d of %d)" % (len(got), len(sent)))
    r = reader.poll(since=mark, timeout=0)

    # The same answer again, read slowly: 8 KB, then a pause while others
    # are served, then the rest.
    req = ("GET /api/poll?since=%d&timeout=0 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
           "Cookie: chat_session=%s\r\n\r\n" % (mark, reader.session)).encode()
    s = socket.create_connection((st.host, st.port), timeout=30)
    s.sendall(req)
    first = s.recv(8192)
    time.sleep(1)     # let the buffers between us and chatd fill up
    other = login_client(st)
    t0 = time.monotonic()
    ok_other = other.users().status == 200 and other.must_send("while someone reads slowly") > 0
    dt = time.monotonic() - t0
    time.sleep(1)
    tap.ok(ok_other and dt < 3, "others are served while a big answer waits on a slow reader "
           "(%.2f s)" % dt)
    data = [first]
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data.append(chunk)
    s.close()
    raw = b"".join(data)
    head, _, body = raw.partition(b"\r\n\r\n")
    if b"chunked" in head.lower():
        out, rest = [], body
        while rest:
            line, _, rest = rest.partition(b"\r\n")
            n = int(line.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out.append(rest[:n])
            rest = rest[n + 2:]
        body = b"".join(out)
    try:
        j = json.loads(body.decode("utf-8"))
        same = ids_of(j.get("events", [])) == ids_of(r.events)
    except ValueError as e:
        same = False
        tap.diag("slow read: %s; %d bytes, head %r" % (e, len(body), head[:200]))
    tap.ok(same, "the slowly read answer is whole and the same")
    for w in writers + [reader, other]:
        w.logout()


def t_visibility_at_scale(st):
    """20,000 rows written from outside, of every kind (messages of two rooms,
    private events to, from and between others, joins and leaves), in random
    order: following cursors in room y, and paging its history back, show the
    reader exactly the rows docs/api.md's rule lets it see, each once, in order.
    (Each kind is read through its own index since sql/004: this checks that
    the merge of the four is the rule.)"""
    reader = login_client(st)
    reader.catch_up()
    start = reader.cursor
    db = st.db(readonly=False)
    sid = db.execute("SELECT id FROM sessions WHERE nick = ? AND ended_ms IS NULL",
                     (reader.nick,)).fetchone()[0]
    rnd = random.Random(20261128)
    kinds = [("message", "x", "s", None, None, None), ("message", "y", "s", None, None, None),
             ("private", None, "p", "q", 900001, 900002),
             ("private", None, "p", reader.nick, 900001, sid),
             ("private", None, reader.nick, "q", sid, 900002),
             ("join", None, "z", None, 900003, None), ("leave", None, "z", None, 900003, None)]
    weights = [60, 10, 10, 5, 5, 5, 5]
    rows = [rnd.choices(kinds, weights)[0] for _ in range(20000)]
    with db:
        db.executemany("INSERT INTO events (type, room, sender, recipient, sender_session,"
                       " recipient_session, text, online) VALUES (?, ?, ?, ?, ?, ?, 't', 1)",
                       rows)
    want = []
    for (i, typ, room, rcpt, ss, rs) in db.execute(
            "SELECT id, type, room, recipient, sender_session, recipient_session"
            " FROM events WHERE id > ? ORDER BY id", (start,)):
        if (typ in ("join", "leave")
                or (rcpt is None and typ in ("message", "image") and room == "y")
                or (rcpt is not None and (ss == sid or rs == sid))):
            want.append(i)
    top = db.execute("SELECT max(id) FROM events").fetchone()[0]
    db.close()
    got, cursor = [], start
    for _ in range(200):
        r = reader.poll(since=cursor, room="y", timeout=0)
        if r.status != 200:
            break
        got += ids_of(r.events)
        cursor = r.json["cursor"]
        if cursor >= top:
            break
    tap.ok(r.status == 200 and cursor == top, "the cursors reach the end of the log", r.show()[:300])
    tap.eq(got, want, "polls of room y show exactly the %d of 20,000 rows the reader may see"
           % len(want))
    back, before = [], top + 1
    for _ in range(500):
        r = reader.history(room="y", before=before, limit=200)
        ids = [i for i in ids_of(r.events) if i > start] if r.status == 200 else []
        if not ids:
            break
        back = ids + back
        before = ids[0]
    tap.eq(back, want, "its history, paged back, shows the same rows")
    reader.logout()


def t_follow_restart():
    """A client following cursors sees every message exactly once across a
    kill -9 and restart of the daemon (and keeps its session)."""
    with Stack(["--rate-limit", "1000/10"] + DEBUG, tap=tap, name="restart stack") as st:
        f = login_client(st)
        s = login_client(st)
        f.catch_up()
        sent = [s.must_send("before %d" % i) for i in range(20)]
        seen = []
        r = f.poll(timeout=0, advance=True)
        seen += [e["id"] for e in r.events if e.get("from") == s.nick]
        sent += [s.must_send("unread %d" % i) for i in range(20)]
        d = f.poll_deferred(timeout=20)
        # it has the unread messages to take: answered (and the answer
        # lost to the client below) or, on a slow machine, still in chatd
        wait_until(lambda: d.done() or st.parked() == 1, 30)
        st.kill9_chatd()
        try:
            lost = d.join(30)
            tap.diag("the poll in flight at kill -9 got: %d" % lost.status)
        except Exception as e:
            tap.diag("the poll in flight at kill -9: %s" % e)
        st.restart()
        r = f.users()
        tap.eq(r.status, 200, "a session survives a kill -9 and restart of chatd", r.show())
        r = s.send("after restart")
        tap.eq(r.status, 200, "the sender's session survives too", r.show())
        if r.status == 200:
            sent.append(r.json["id"])
        for _ in range(20):
            r = f.poll(timeout=0, advance=True)
            if r.status != 200 or not r.events:
                break
            seen += [e["id"] for e in r.events if e.get("from") == s.nick]
        tap.eq(seen, sorted(sent), "following cursors across the restart: every message once, in order")


def connection_sockets(pid):
    """The connected sockets process pid holds, as inode numbers, leaving
    out listening ones (None where /proc cannot tell)."""
    listening = set()
    try:
        with open("/proc/net/unix") as f:
            next(f)
            for line in f:
                cols = line.split()
                if int(cols[3], 16) & 0x10000:  # __SO_ACCEPTCON: listening
                    listening.add(cols[6])
        names = os.listdir("/proc/%d/fd" % pid)
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    out = set()
    for name in names:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, name))
        except OSError:
            continue
        if target.startswith("socket:["):
            inode = target[8:-1]
            if inode not in listening:
                out.add(inode)
    return out


def t_kept_connection():
    """nginx keeps its connection to chatd (fastcgi_keep_conn) and reuses it."""
    with Stack(DEBUG, tap=tap, name="kept-connection stack") as st:
        a = login_client(st)
        a.catch_up()
        if connection_sockets(st.chatd_pid()) is None:
            tap.skip("kept connection", "no /proc: cannot see chatd's sockets")
            return
        r = a.users()
        tap.eq(r.status, 200, "a request is answered", r.show())
        kept = connection_sockets(st.chatd_pid())
        tap.ok(len(kept) >= 1, "once it is answered, chatd still holds the connection "
               "nginx keeps (%d)" % len(kept))
        statuses = [a.users().status for _ in range(20)] + [a.poll(timeout=0).status]
        tap.eq(statuses, [200] * 21, "21 more requests one after another are answered")
        # Each nginx worker keeps connections of its own (tools/stack may
        # run several), so a request may come over another worker's; but
        # the first stays, and no request costs a connection of its own.
        workers = int(re.search(r"worker_processes (\d+);",
                                open(st.path("nginx", "nginx.conf")).read()).group(1))
        now = connection_sockets(st.chatd_pid())
        tap.ok(kept <= now and len(now) <= max(workers, len(kept)),
               "they all came over kept connections: the first is still there, and "
               "at most one per nginx worker (%d) was opened" % workers,
               "kept %r, now %r" % (kept, now))
        d = a.poll_deferred(timeout=20, advance=True)
        wait_parked(st, 1)
        mid = a.must_send("over kept connections")
        r = d.join(30)
        tap.ok(mid in ids_of(r.events), "a poll parked on a kept connection is woken", r.show())
        a.logout()


def t_workers():
    with Stack(["--rate-limit", "1000/10"] + DEBUG, workers=3, tap=tap,
               name="3-worker stack") as st:
        sender = login_client(st)
        pollers = [login_client(st) for _ in range(9)]
        for p in pollers:
            p.catch_up()
        for rnd in range(3):
            ds = [p.poll_deferred(timeout=20, advance=True) for p in pollers]
            wait_parked(st, 9)
            tap.ok(not any(d.done() for d in ds), "round %d: 9 polls park on 3 workers" % rnd,
                   repr([d.resp for d in ds if d.done()]))
            mid = sender.must_send("round %d" % rnd)
            rs = [d.join(30) for d in ds]
            tap.eq(sum(mid in ids_of(r.events) for r in rs), 9,
                   "round %d: every parked poll on every worker gets the message" % rnd,
                   "\n".join(r.show() for r in rs if mid not in ids_of(r.events)))
            tap.ok(max(d.elapsed for d in ds) < 10,
                   "round %d: all woken well before their timeout (max %.2f s)"
                   % (rnd, max(d.elapsed for d in ds)))
        # a row written from outside by sqlite3 wakes them too
        ds = [p.poll_deferred(timeout=20, advance=True) for p in pollers]
        wait_parked(st, 9)
        try:
            db = st.db(readonly=False)
            try:
                db.execute("INSERT INTO events(type, room, sender, text) "
                           "VALUES ('message','lobby','system','hello from outside')")
                db.commit()
            finally:
                db.close()
            inserted = True
        except Exception as e:
            inserted = False
            tap.ok(False, "INSERT INTO events from the sqlite3 module",
                   "%s: %s (the schema must accept this insert: ts and id need defaults)"
                   % (type(e).__name__, e))
        if inserted:
            rs = [d.join(30) for d in ds]
            hits = [events_of(r, text="hello from outside") for r in rs]
            tap.eq(sum(1 for h in hits if h), 9, "a row inserted from outside wakes every parked poll",
                   "\n".join(r.show() for r, h in zip(rs, hits) if not h))
            tap.ok(max(d.elapsed for d in ds) < 10,
                   "woken well before their timeout (max %.2f s)" % max(d.elapsed for d in ds))
            e = next((h[0] for h in hits if h), None)
            if e:
                tap.ok(e.get("type") == "message" and e.get("from") == "system"
                       and e.get("room") == "lobby" and is_int(e.get("ts")),
                       "the outside row reads as a message from system with a ts", repr(e))
        tap.run(t_follow_concurrent, st)
        alive_check(tap, st, "the 3-worker tests")


def t_sigterm(workers=None):
    name = "sigterm stack, %s worker(s)" % (workers or 1)
    with Stack(["--poll-timeout", "2"] + DEBUG, workers=workers, tap=tap, name=name) as st:
        a = login_client(st)
        a.catch_up()
        t0 = time.monotonic()
        r = a.poll(timeout=OMIT)
        dt = time.monotonic() - t0
        tap.ok(r.status == 200 and r.events == [], "a poll without timeout uses --poll-timeout (%s)" % name, r.show())
        tap.ok(1 <= dt < 10, "it waited about the configured 2 s (%.2f s, %s)" % (dt, name))
        # one session each: --session-polls is per process, and a session's
        # polls may all land on one worker
        cs = [login_client(st) for _ in range(3 * (workers or 1))]
        for c in cs:
            c.catch_up()
        ds = [c.poll_deferred(timeout=30) for c in cs]
        wait_parked(st, len(ds))
        tap.ok(not any(d.done() for d in ds), "polls parked before SIGTERM (%s)" % name)
        pids = st.chatd_pids()
        st.signal_chatd(signal.SIGTERM)
        rs = []
        for d in ds:
            try:
                rs.append(d.join(25))
            except Exception as e:
                rs.append(None)
                tap.diag("poll after SIGTERM: %s: %s" % (type(e).__name__, e))
        tap.ok(all(r is not None and r.status == 200 for r in rs),
               "SIGTERM answers the parked polls with 200, not an error (%s)" % name,
               "\n".join(r.show() if r else "no answer" for r in rs))
        tap.ok(all(r is not None and r.status == 200 and isinstance(r.json, dict)
                   and is_int(r.json.get("cursor")) and isinstance(r.json.get("events"), list)
                   for r in rs), "their answers are {cursor, events} (%s)" % name)
        tap.ok(max(d.elapsed for d in ds) < 20, "answered before their own timeout (%s)" % name)
        tap.ok(wait_until(lambda: not any(_pid_alive(p) for p in pids), 15),
               "chatd and all its processes (%d) exit after SIGTERM (%s)" % (len(pids), name))


with Stack(["--rate-limit", "1000/10"] + DEBUG, tap=tap) as st:
    for t in (t_wakeup, t_empty_and_timeouts, t_bad_params, t_since_zero, t_private_visibility,
              t_rooms, t_follow_concurrent, t_page_500, t_retry_same_cursor, t_big_answer,
              t_many_parked, t_invisible_flood, t_disconnect, t_outside_bulk,
              t_visibility_at_scale):
        tap.run(t, st)
    alive_check(tap, st, "the poll tests")
tap.run(t_kept_connection)
tap.run(t_workers)
tap.run(t_follow_restart)
tap.run(t_sigterm)
tap.run(t_sigterm, 3)
tap.done()
