#!/usr/bin/env python3
# The send path of sql/009: an INSERT into events fills no throw-away
# b-tree (no OpenEphemeral in its program: the CHECK on type and the WHERE
# of events_sends are written without a list of three constants), the
# CHECK still refuses what it refused, the rate limit and the image quota
# still read events_sends, and a database of version 8 is brought to 9
# with its rows and its rate limit intact.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import shutil
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import newest_schema, Stack, Tap, alive_check, login_client, main_guard

main_guard()
if not shutil.which("sqlite3"):
    print("1..0 # SKIP the sqlite3 shell is not installed")
    sys.exit(0)
tap = Tap()
NEWEST = newest_schema()
INSERT = ("INSERT INTO events (ts, type, room, sender, recipient, text, online,"
          " sender_session, recipient_session, client_id, image_id)"
          " VALUES (1, 'message', 'lobby', 'x', NULL, 't', NULL, 1, NULL, NULL, NULL)")
RATE = ("SELECT ts FROM events WHERE sender_session = 1"
        " AND type NOT IN ('join', 'leave') AND ts > 0 ORDER BY ts DESC LIMIT 1 OFFSET 2")
QUOTA = ("SELECT e.ts, i.size FROM events e JOIN images i ON i.id = e.image_id"
         " WHERE e.sender_session = 1 AND e.type NOT IN ('join', 'leave')"
         " AND e.type = 'image' AND e.ts > 0 ORDER BY e.ts")
OLD_CHECK = "CHECK (type IN ('message', 'private', 'image', 'join', 'leave'))"


def sh(st, sql):
    p = subprocess.run(["sqlite3", "-bail", "-batch", st.path("chat.db")],
                       input=".timeout 10000\n" + sql, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    return p.returncode, p.stdout.strip(), p.stderr.strip()


def opcodes(st, sql):
    # (Read-write: on a read-only connection SQLite leaves the CHECKs out
    # of an INSERT's program. EXPLAIN writes nothing.)
    c = st.db(readonly=False)
    try:
        return [r[1] for r in c.execute("EXPLAIN " + sql)]
    finally:
        c.close()


def plan(st, sql):
    c = st.db()
    try:
        return " ".join(r[3] for r in c.execute("EXPLAIN QUERY PLAN " + sql))
    finally:
        c.close()


def check_schema(st, label):
    ops = opcodes(st, INSERT)
    tap.ok("OpenEphemeral" not in ops and "Insert" in ops,
           "%s: a send's INSERT opens no throw-away b-tree" % label,
           [o for o in ops if o == "OpenEphemeral"])
    rc, out, err = sh(st, "INSERT INTO events (type, sender) VALUES ('bogus', 'x');")
    tap.ok(rc != 0 and "CHECK constraint failed" in err,
           "%s: the CHECK still refuses a type of no kind" % label, err)
    rc, out, err = sh(st, "PRAGMA integrity_check;")
    tap.eq(out, "ok", "%s: integrity_check" % label)
    tap.ok("COVERING INDEX events_sends" in plan(st, RATE),
           "%s: the rate limit reads events_sends alone" % label, plan(st, RATE))
    tap.ok("INDEX events_sends" in plan(st, QUOTA),
           "%s: the image quota reads events_sends" % label, plan(st, QUOTA))


def t_new(st):
    """A new database, made by chatd."""
    check_schema(st, "new database")


def t_rate_exact(st):
    """--rate-limit 3/60: three sends pass, the fourth is refused, another
    session is not counted."""
    a, b = login_client(st), login_client(st)
    got = [a.send("r%d" % i).status for i in range(4)]
    tap.eq(got, [200, 200, 200, 429], "three sends in the window, then 429")
    tap.eq(b.send("other").status, 200, "another session has its own count")
    a.logout()
    b.logout()


def t_from_version_8(st):
    """A database of version 8 (the old CHECK and events_sends) is taken
    over: version 9, the rows kept, the rate limit counting them."""
    a = login_client(st)
    ids = [a.must_send("v8 %d" % i) for i in range(2)]
    st.stop()
    c = sqlite3.connect(st.path("chat.db"), isolation_level=None)
    v = c.execute("PRAGMA schema_version").fetchone()[0]
    c.execute("BEGIN IMMEDIATE")
    c.execute("PRAGMA writable_schema = ON")
    c.execute("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE name = 'events'",
              ("CHECK (type = 'message' OR type = 'private' OR type = 'image'"
               " OR type = 'join' OR type = 'leave')", OLD_CHECK))
    c.execute("PRAGMA schema_version = %d" % (v + 1))
    c.execute("PRAGMA writable_schema = RESET")
    c.execute("DROP INDEX events_sends")
    c.execute("CREATE INDEX events_sends ON events(sender_session, ts, type)"
              " WHERE type IN ('message', 'private', 'image')")
    c.execute("PRAGMA user_version = 8")
    c.execute("COMMIT")
    old = [r[1] for r in c.execute("EXPLAIN " + INSERT)].count("OpenEphemeral")
    c.close()
    tap.eq(old, 2, "version 8's INSERT opened two throw-away b-trees")
    st.start()
    c = st.db()
    tap.eq(c.execute("PRAGMA user_version").fetchone()[0], NEWEST,
           "migrated to the newest version (%d)" % NEWEST)
    kept = [r[0] for r in c.execute("SELECT id FROM events WHERE id IN (%d, %d)" % tuple(ids))]
    c.close()
    tap.eq(kept, ids, "the rows are kept")
    check_schema(st, "after version 8")
    got = [a.send("after %d" % i).status for i in range(2)]
    tap.eq(got, [200, 429], "the two sends before the migration count in the window")


with Stack(["--rate-limit", "3/60"], tap=tap, name="stack with a rate limit of 3/60") as st:
    for t in (t_new, t_rate_exact, t_from_version_8):
        tap.run(t, st)
    alive_check(tap, st, "the send-cost tests")
tap.done()
