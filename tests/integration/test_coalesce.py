#!/usr/bin/env python3
# --coalesce-delay: while events keep coming, the parked polls are answered
# at most once per delay, so that what comes meanwhile goes out in one
# answer; the first event after a quiet spell goes out at once; 0 turns it
# off; every event reaches every poller once and in order; SIGTERM during a
# held delivery answers everyone, and the held events are read afterwards.
#
# No assertion is on a duration. What the tests look at is which events
# share an answer, which follows from the order of the requests: a send's
# rows are offered to the parked polls in the loop iteration that commits
# them, before the test can make its next request. The one thing a slow
# machine could change is whether two sends fall inside one 1000 ms window;
# a round where they did not proves nothing and is run again (and said).
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (TOP, Stack, Tap, alive_check, ids_of, is_int, login_client,
                     main_guard, wait_parked, wait_until)

main_guard()
tap = Tap()

DEBUG = ["--log-level", "debug"]
DELAY = 1000            # ms: --coalesce-delay at its largest
QUIET = DELAY / 1000.0 + 0.2    # s: longer than the delay, so a quiet spell
ROUNDS = 5              # tries of a round the machine was too slow for


def chatd_bin():
    return os.environ.get("CHATD") or os.path.join(TOP, "build", "src", "chatd")


def message_ids(events):
    return [e["id"] for e in events if e.get("type") == "message"]


def t_bounds():
    for v, ok in (("0", True), ("1000", True), ("1001", False), ("-1", False),
                  ("5x", False)):
        p = subprocess.run([chatd_bin(), "-c", "/dev/null", "-t", "--coalesce-delay", v],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        tap.eq(p.returncode == 0, ok, "--coalesce-delay %s is %s" % (v, "taken" if ok else "refused"),
               p.stdout.decode("utf-8", "replace"))


def round_coalesced(st, a, b):
    """One try: after a quiet spell, m1 goes alone at once, m2 and m3 that
    follow within the delay go together. None if the machine was too slow
    for the sends to fall inside one delay."""
    a.catch_up()
    time.sleep(QUIET)   # nothing was delivered for longer than the delay
    p1 = a.poll_deferred(timeout=30)
    wait_parked(st, 1)
    t0 = time.monotonic()
    m1 = b.must_send("first after quiet")
    m2 = b.must_send("second")   # before reading p1: had m1 been held, p1 holds both
    r1 = p1.join(40)
    tap.ok(r1.status == 200 and is_int((r1.json or {}).get("cursor")),
           "the poll is answered", r1.show())
    got1 = message_ids(r1.events)
    if got1 != [m1]:    # not a matter of speed: m2 came after m1's answer
        return (m1, m2, None), got1, [], r1.json["cursor"]
    p2 = a.poll_deferred(since=r1.json["cursor"], timeout=30)
    # It parks, unless the held delivery went before it came (too slow).
    wait_until(lambda: p2.done() or st.parked() == 1, 30)
    m3 = b.must_send("third")
    window = time.monotonic() - t0
    r2 = p2.join(40)
    tap.ok(r2.status == 200, "the next poll is answered", r2.show())
    got2 = message_ids(r2.events)
    if window > 0.9 * DELAY / 1000.0 and got2 != [m2, m3]:
        tap.diag("the sends took %.2f s, longer than the delay: round again" % window)
        return None
    return (m1, m2, m3), got1, got2, r2.json["cursor"]


def t_coalesced(st):
    a = login_client(st)
    b = login_client(st)
    for _ in range(ROUNDS):
        res = round_coalesced(st, a, b)
        if res is not None:
            break
    else:
        tap.ok(False, "the sends fell inside one delay in one of %d rounds" % ROUNDS)
        return
    (m1, m2, m3), got1, got2, cursor = res
    tap.eq(got1, [m1], "the first message after a quiet spell is answered alone, at once")
    if m3 is None:
        return
    tap.eq(got2, [m2, m3], "the two that follow within the delay share one answer")
    tap.eq(got1 + got2, [m1, m2, m3], "each message once, in order, across the answers")
    r = a.poll(since=cursor, timeout=0)
    tap.eq(message_ids(r.events), [], "nothing is left over, nothing is repeated", r.show())
    a.logout()
    b.logout()


def t_own_writes(st):
    """A client's sends are in its next poll, held delivery or not: a poll
    behind the watcher's mark is not answered from the rows kept in
    memory while a delivery of this process's commits is held."""
    a = login_client(st)
    b = login_client(st)
    a.catch_up()
    since = a.cursor
    time.sleep(QUIET)
    p1 = a.poll_deferred(timeout=30)
    wait_parked(st, 1)
    m1 = b.must_send("delivered at once")
    m2 = b.must_send("held, but acknowledged")
    r = b.poll(since=since, timeout=0)
    tap.eq(message_ids(r.events), [m1, m2],
           "a poll right after two sends is answered with both", r.show())
    r1 = p1.join(40)
    tap.ok(r1.status == 200 and m1 in message_ids(r1.events),
           "the parked poll got the first", r1.show())
    a.logout()
    b.logout()


def t_many_pollers(st):
    """Five pollers follow a stream of sends: all see all, once, in order,
    over answers that carry several events each."""
    cs = [login_client(st) for _ in range(5)]
    b = login_client(st)
    for c in cs:
        c.catch_up()
    sent, seen, answers = [], {c: [] for c in cs}, {c: 0 for c in cs}
    ds = {c: c.poll_deferred(timeout=30) for c in cs}
    wait_parked(st, len(cs))

    def take(c, timeout):
        r = ds[c].join(timeout)
        ds[c] = None
        if r.status != 200 or not r.events:
            return False
        answers[c] += 1
        seen[c] += message_ids(r.events)
        c.cursor = r.json["cursor"]
        return True

    for i in range(30):
        sent.append(b.must_send("stream %d" % i))
        for c in cs:
            if ds[c].done():
                take(c, 1)
                ds[c] = c.poll_deferred(timeout=30)
    for c in cs:
        while (ds[c] is not None and take(c, 40) and len(seen[c]) < len(sent)):
            ds[c] = c.poll_deferred(timeout=30)
    tap.ok(all(seen[c] == sent for c in cs),
           "every poller sees every message once and in order",
           "\n".join(repr(seen[c]) for c in cs))
    tap.ok(all(answers[c] < len(sent) for c in cs),
           "in fewer answers than messages (%s for %d)" % (sorted(answers.values()), len(sent)))
    for c in cs + [b]:
        c.logout()


def t_off():
    with Stack(["--coalesce-delay", "0", "--rate-limit", "1000/10"] + DEBUG, tap=tap,
               name="coalesce 0") as st:
        a = login_client(st)
        b = login_client(st)
        a.catch_up()
        got, sent = [], []
        for i in range(3):
            d = a.poll_deferred(timeout=30, advance=True)
            wait_parked(st, 1)
            sent.append(b.must_send("apart %d" % i))
            got.append(message_ids(d.join(40).events))
        tap.eq(got, [[m] for m in sent],
               "with 0, each send is an answer of its own when the poll waits between")
        d = a.poll_deferred(timeout=30, advance=True)
        wait_parked(st, 1)
        m4 = b.must_send("back to back 1")
        m5 = b.must_send("back to back 2")
        tap.eq(message_ids(d.join(40).events), [m4],
               "with 0, a send right after a delivery is answered at once, alone")
        r = a.poll(timeout=0, advance=True)
        tap.eq(message_ids(r.events), [m5], "and the next is read after it", r.show())
        alive_check(tap, st, "--coalesce-delay 0")


def t_sigterm_held():
    with Stack(["--coalesce-delay", str(DELAY), "--rate-limit", "1000/10"] + DEBUG, tap=tap,
               name="coalesce sigterm") as st:
        a = login_client(st)
        b = login_client(st)
        others = [login_client(st) for _ in range(3)]
        for _ in range(ROUNDS):
            for c in [a] + others:
                c.catch_up()
            time.sleep(QUIET)
            d = a.poll_deferred(timeout=30, advance=True)
            wait_parked(st, 1)
            t0 = time.monotonic()
            m1 = b.must_send("delivered")
            tap.eq(message_ids(d.join(40).events), [m1], "the first goes at once")
            for c in others:
                c.catch_up()    # past m1, from the store: not a delivery
            ds = [c.poll_deferred(timeout=30) for c in [a] + others]
            wait_parked(st, len(ds))
            m2 = b.must_send("held")
            if time.monotonic() - t0 < 0.9 * DELAY / 1000.0:
                break
            tap.diag("too slow to be sure m2 is held: round again")
            for x in ds:
                x.join(40)
        else:
            tap.ok(False, "a send fell inside the delay in one of %d rounds" % ROUNDS)
            return
        st.signal_chatd(signal.SIGTERM)
        rs = []
        for x in ds:
            try:
                rs.append(x.join(40))
            except Exception as e:
                rs.append(None)
                tap.diag("poll after SIGTERM: %s: %s" % (type(e).__name__, e))
        tap.ok(all(r is not None and r.status == 200 and isinstance(r.json, dict)
                   and is_int(r.json.get("cursor")) and isinstance(r.json.get("events"), list)
                   for r in rs),
               "SIGTERM during a held delivery answers every parked poll 200 {cursor, events}",
               "\n".join(r.show() if r else "no answer" for r in rs))
        st.restart()
        ok = True
        for c, r in zip([a] + others, rs):
            if r is None or r.status != 200:
                ok = False
                continue
            seen = message_ids(r.events)
            c.cursor = r.json["cursor"]
            seen += message_ids(c.catch_up())
            ok = ok and seen == [m2]
        tap.ok(ok, "the held message reaches every poller once, after the restart")


with Stack(["--coalesce-delay", str(DELAY), "--rate-limit", "1000/10"] + DEBUG, tap=tap,
           name="coalesce %d" % DELAY) as st:
    tap.run(t_coalesced, st)
    tap.run(t_own_writes, st)
    tap.run(t_many_pollers, st)
    alive_check(tap, st, "the coalescing tests")
tap.run(t_bounds)
tap.run(t_off)
tap.run(t_sigterm_held)
tap.done()
