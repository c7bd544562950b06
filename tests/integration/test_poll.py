#!/usr/bin/env python3
# GET /api/poll: waiting and waking, timeouts, bad parameters, who sees what,
# following cursors under concurrent sends, the 500-event page, several
# daemon processes, rows written from outside, clients that go away and
# SIGTERM (API.md, "Events" and "Endpoints").

import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (OMIT, Client, Stack, Tap, alive_check, events_of, ids_of, is_int,
                     login_client, main_guard, raw_bytes, unique_nick, wait_until)

main_guard()
tap = Tap()

PARK = 0.5      # long enough for a poll to be surely parked


def strictly_increasing(xs):
    return all(a < b for a, b in zip(xs, xs[1:]))


def t_wakeup(st):
    a = login_client(st)
    b = login_client(st)
    a.catch_up()
    d = a.poll_deferred(timeout=20, advance=True)
    time.sleep(PARK)
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
    time.sleep(PARK)
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
    time.sleep(PARK)
    n = login_client(st)
    r = d.join(30)
    tap.ok(events_of(r, type="join", sender=n.nick), "a poller of r1 sees a join", r.show())
    tap.ok(d.elapsed < 10, "and is woken by it (%.2f s)" % d.elapsed)
    r1.catch_up(room="r1")
    d = r1.poll_deferred(room="r1", timeout=20, advance=True)
    time.sleep(PARK)
    n.logout()
    r = d.join(30)
    tap.ok(events_of(r, type="leave", sender=n.nick), "a poller of r1 sees a leave", r.show())
    for x in (a, lob, r1):
        x.logout()


def t_follow_concurrent(st):
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
            if done.is_set() and len(seen) >= sum(per):
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
    tap.eq(errors, [], "200 concurrent sends all answer 200")
    tap.eq(bad, [], "every poll of the follower answers 200")
    tap.eq(len(seen), len(set(seen)), "the follower sees every message at most once",
           "%d seen, %d distinct" % (len(seen), len(set(seen))))
    tap.ok(strictly_increasing(all_ids), "the follower sees events in strictly increasing id order",
           repr(all_ids[:50]))
    missing = sorted(set(expected) - set(seen))
    tap.eq(missing, [], "the follower sees every message sent (%d)" % len(expected))
    tap.eq(sorted(seen), expected, "it sees exactly the ids the sends returned")
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


def t_disconnect(st):
    a = login_client(st)
    a.catch_up()
    keep = login_client(st)
    keep.catch_up()
    kd = keep.poll_deferred(timeout=20)
    req = ("GET /api/poll?since=%d&timeout=20 HTTP/1.1\r\nHost: %s:%d\r\n"
           "Cookie: chat_session=%s\r\n\r\n" % (a.cursor, st.host, st.port, a.session)).encode()
    socks = []
    for _ in range(20):
        s = socket.create_connection((st.host, st.port), timeout=10)
        s.sendall(req)
        socks.append(s)
    time.sleep(PARK)
    for s in socks:
        s.close()
    # and some that go away half-way through their request
    for part in (req[:10], req[:-4]):
        s = socket.create_connection((st.host, st.port), timeout=10)
        s.sendall(part)
        s.close()
    time.sleep(PARK)
    tap.ok(st.chatd_alive(), "chatd survives 22 clients that went away mid-poll")
    r = a.users()
    tap.eq(r.status, 200, "other requests still work after the disconnects", r.show())
    mid = a.must_send("after disconnects")
    kr = kd.join(30)
    tap.ok(mid in ids_of(kr.events), "a poll parked alongside them is still answered", kr.show())
    r = a.poll(timeout=0)
    tap.ok(mid in ids_of(r.events), "the client that went away polls again and sees the message", r.show())
    a.logout()
    keep.logout()


def t_workers():
    with Stack(["--rate-limit", "1000/10"], workers=3, tap=tap, name="3-worker stack") as st:
        sender = login_client(st)
        pollers = [login_client(st) for _ in range(9)]
        for p in pollers:
            p.catch_up()
        for rnd in range(3):
            ds = [p.poll_deferred(timeout=20, advance=True) for p in pollers]
            time.sleep(PARK * 2)
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
        time.sleep(PARK * 2)
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
        alive_check(tap, st, "the 3-worker tests")


def t_sigterm():
    with Stack(["--poll-timeout", "2"], tap=tap, name="sigterm stack") as st:
        a = login_client(st)
        a.catch_up()
        t0 = time.monotonic()
        r = a.poll(timeout=OMIT)
        dt = time.monotonic() - t0
        tap.ok(r.status == 200 and r.events == [], "a poll without timeout uses --poll-timeout", r.show())
        tap.ok(1 <= dt < 10, "it waited about the configured 2 s (%.2f s)" % dt)
        ds = [a.poll_deferred(timeout=30) for _ in range(3)]
        time.sleep(PARK * 2)
        tap.ok(not any(d.done() for d in ds), "three polls parked before SIGTERM")
        st.signal_chatd(signal.SIGTERM)
        rs = []
        for d in ds:
            try:
                rs.append(d.join(25))
            except Exception as e:
                rs.append(None)
                tap.diag("poll after SIGTERM: %s: %s" % (type(e).__name__, e))
        tap.ok(all(r is not None and r.status == 200 for r in rs),
               "SIGTERM answers the parked polls with 200 (not 502/504)",
               "\n".join(r.show() if r else "no answer" for r in rs))
        tap.ok(all(r is not None and r.status == 200 and isinstance(r.json, dict)
                   and is_int(r.json.get("cursor")) and isinstance(r.json.get("events"), list)
                   for r in rs), "their answers are {cursor, events}")
        tap.ok(max(d.elapsed for d in ds) < 20, "answered before their own timeout")
        tap.ok(wait_until(lambda: not st.chatd_alive(), 15), "chatd exits after SIGTERM")


with Stack(["--rate-limit", "1000/10"], tap=tap) as st:
    for t in (t_wakeup, t_empty_and_timeouts, t_bad_params, t_since_zero, t_private_visibility,
              t_rooms, t_follow_concurrent, t_page_500, t_disconnect):
        tap.run(t, st)
    alive_check(tap, st, "the poll tests")
tap.run(t_workers)
tap.run(t_sigterm)
tap.done()
