#!/usr/bin/env python3
# The data's life: full-text search (GET /api/search, sql/007's FTS5 index
# kept by triggers), --retain DAYS (old events, their images and ended
# sessions deleted in batches while chatd serves; cursors stay valid), and
# backups of a live database (sqlite3 .backup and VACUUM INTO), restored
# and served. Rows are written with the real sqlite3 shell.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import secrets
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (OMIT, Client, Stack, Tap, alive_check, events_of, ids_of,
                     login_client, main_guard, raw_request, unique_nick, wait_until)

main_guard()
if not shutil.which("sqlite3"):
    skip_reason = "the sqlite3 shell is not installed"
    print("1..0 # SKIP " + skip_reason)
    sys.exit(0)
tap = Tap()
DAY = 86400 * 1000
RATE = ["--rate-limit", "1000000/1"]  # the senders below send flat out


def now_ms():
    return int(time.time() * 1000)


def sh(st, sql, db=None, readonly=False):
    """Run sql in the sqlite3 shell on the stack's database; its output."""
    args = ["sqlite3", "-bail", "-batch"] + (["-readonly"] if readonly else [])
    p = subprocess.run(args + [db or st.path("chat.db")], input=".timeout 10000\n" + sql,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("sqlite3 failed (%d): %s" % (p.returncode, p.stderr.strip()))
    return p.stdout.strip()


def rows(st, sql, db=None):
    out = sh(st, sql, db)
    return [line.split("|") for line in out.splitlines()] if out else []


def search(c, q=OMIT, room=OMIT, before=OMIT, limit=OMIT, **kw):
    return c.request("GET", "/api/search",
                     [("q", q), ("room", room), ("before", before), ("limit", limit)], **kw)


def fts_ids(st, word):
    """The ids the FTS index itself has for word (no join with events)."""
    return [int(r[0]) for r in rows(st, "SELECT rowid FROM events_fts"
                                        " WHERE events_fts MATCH '\"%s\"' ORDER BY rowid;" % word)]


def texts(r):
    return [e.get("text") for e in r.events]


def poll_all(c, since, room=OMIT):
    """Follow the cursors from since until nothing is left: every event."""
    seen, cursor = [], since
    for _ in range(1000):
        r = c.poll(since=cursor, room=room, timeout=0)
        if r.status != 200:
            raise AssertionError("poll failed: " + r.show())
        if not r.events:
            return seen, r.json.get("cursor")
        seen += r.events
        cursor = r.json["cursor"]
    raise AssertionError("polls did not end")


def sid_of(st, nick):
    return int(sh(st, "SELECT id FROM sessions WHERE nick = '%s' AND ended_ms IS NULL;" % nick))


def visible_ids(st, sid, room="lobby", db=None):
    """The ids a poll of room shows session sid, by the API's rule, from SQL."""
    return [int(r[0]) for r in rows(st, (
        "SELECT id FROM events WHERE type IN ('join', 'leave')"
        " OR (recipient IS NULL AND room = '%s' AND type IN ('message', 'image'))"
        " OR (recipient IS NOT NULL AND (sender_session = %d OR recipient_session = %d))"
        " ORDER BY id;") % (room, sid, sid), db)]


# ---------------------------------------------------------------- search

def t_search_words(st):
    """Words are found whatever their case and diacritics, all of them
    (AND), in the event JSON of history; other rooms' messages are not."""
    a, b = login_client(st), login_client(st)
    w = "zq" + secrets.token_hex(3)
    i1 = a.must_send("The Quick brown %s jumps" % w)
    i2 = a.must_send("a slow %s, Café crème" % w)
    i3 = a.must_send("quick %s in another room" % w, room="elsewhere")
    r = search(b, w)
    tap.ok(r.status == 200 and ids_of(r.events) == [i1, i2],
           "both lobby messages with the word, oldest first", r.show())
    tap.ok(r.status == 200 and "before" not in r.json, "no \"before\": nothing more", r.show())
    h = b.history(limit=10)
    tap.eq([e for e in r.events], [e for e in h.events if e.get("id") in (i1, i2)],
           "the same event JSON as history")
    r = search(b, "QUICK " + w.upper())
    tap.eq(ids_of(r.events), [i1], "case does not matter; every word must be there")
    r = search(b, "cafe CREME " + w)
    tap.eq(ids_of(r.events), [i2], "nor do diacritics")
    r = search(b, "quick nosuchword" + w)
    tap.eq(r.events, [], "a word that is nowhere: nothing")
    r = search(b, w, room="elsewhere")
    tap.eq(ids_of(r.events), [i3], "room=elsewhere finds that room's message only")
    a.logout()
    r = search(b, "logout")
    tap.eq(events_of(r, type="leave"), [], "joins and leaves are not searched (their text is not words)")
    b.logout()


def t_search_private(st):
    """A private message is found by its sender and its recipient, in any
    room, and by nobody else."""
    a, b, c = login_client(st), login_client(st), login_client(st)
    w = "pv" + secrets.token_hex(3)
    pid = a.must_send("the %s plan" % w, to=b.nick)
    tap.eq(ids_of(search(a, w).events), [pid], "the sender finds it")
    tap.eq(ids_of(search(b, w).events), [pid], "the recipient finds it")
    tap.eq(ids_of(search(b, w, room="other").events), [pid], "from any room, like history")
    r = search(c, w)
    tap.ok(r.status == 200 and r.events == [], "a third person does not", r.show())
    for x in (a, b, c):
        x.logout()


def t_search_shell(st):
    """Rows written with the sqlite3 shell are in the index: inserted ones
    are found, deleted ones are not, updated ones by their new words."""
    a = login_client(st)
    w = "sh" + secrets.token_hex(3)
    sh(st, "INSERT INTO events (type, room, sender, text) VALUES"
           " ('message', 'lobby', 'system', 'announcement %s one'),"
           " ('message', 'lobby', 'system', 'announcement %s two');" % (w, w))
    r = search(a, w)
    tap.eq(texts(r), ["announcement %s one" % w, "announcement %s two" % w],
           "rows inserted with the shell are found")
    one, two = ids_of(r.events)
    sh(st, "DELETE FROM events WHERE id = %d;" % one)
    tap.eq(ids_of(search(a, w).events), [two], "a row deleted with the shell is not")
    tap.eq(fts_ids(st, w), [two], "and it has left the index itself")
    sh(st, "UPDATE events SET text = 'renamed %s' WHERE id = %d;" % (w + "x", two))
    tap.eq(search(a, w).events, [], "an updated row is not found by its old words")
    tap.eq(fts_ids(st, w), [], "which have left the index")
    tap.eq(ids_of(search(a, w + "x").events), [two], "but by its new ones")
    sh(st, "UPDATE events SET type = 'private', recipient = 'nobody' WHERE id = %d;" % two)
    tap.eq(search(a, w + "x").events, [], "a row made private to someone else is not shown")
    a.logout()


def t_search_syntax(st):
    """What would be FTS5 syntax is plain words: it neither fails nor
    widens the search."""
    a = login_client(st)
    w1, w2 = "sy" + secrets.token_hex(3), "sy" + secrets.token_hex(3)
    i1 = a.must_send("%s alone" % w1)
    a.must_send("%s alone" % w2)
    qs = ["%s OR %s" % (w1, w2), "%s NOT %s" % (w1, w2), "NEAR(%s %s)" % (w1, w2),
          "NEAR(", '"', '""', '"%s' % w1, "%s*" % w1[:4], "*", "text:%s" % w1,
          "col: %s" % w1, "^%s" % w1, "(%s) OR (%s)" % (w1, w2), "-%s" % w1,
          "%s AND" % w1, "+", ":", "{text}: %s" % w1, "%s )" % w1, "'", "\\", "%"]
    for q in qs:
        r = search(a, q)
        found = [e for e in r.events if w2 in (e.get("text") or "")]
        tap.ok(r.status == 200 and not found and all(w1 in e.get("text", "") for e in r.events),
               "q=%r: 200, and no wider than its words" % q, r.show())
    r = search(a, '%s "' % w1)
    tap.eq(ids_of(r.events), [i1], "a word next to a stray quote is still found")
    a.logout()


def t_search_refused(st):
    """401 without a session; 400 for a q that is missing, empty, blank,
    too long or not UTF-8, and for a bad limit or before; bad_room."""
    a = login_client(st)
    r = raw_request(st, "GET", "/api/search?q=hello")
    tap.ok(r.status == 401 and r.error == "no_session", "no session: 401 no_session", r.show())
    for label, q in (("missing", OMIT), ("empty", ""), ("blank", " \t "),
                     ("201 characters", "x" * 201), ("not UTF-8", b"\xff")):
        r = search(a, q)
        tap.ok(r.status == 400 and r.error == "bad_request", "q %s: 400 bad_request" % label,
               r.show())
    tap.eq(search(a, "x" * 200).status, 200, "q of 200 characters: 200")
    tap.eq(search(a, "\u00e9" * 200).status, 200, "200 two-byte characters: 200")
    for k, v in (("limit", "0"), ("limit", "201"), ("limit", "x"), ("before", "-1")):
        r = a.request("GET", "/api/search", [("q", "x"), (k, v)])
        tap.ok(r.status == 400 and r.error == "bad_request", "%s=%s: 400 bad_request" % (k, v),
               r.show())
    r = search(a, "x", room="Bad Room")
    tap.ok(r.status == 400 and r.error == "bad_room", "a bad room: 400 bad_room", r.show())
    r = a.request("POST", "/api/search", {"q": "x"}, csrf="header")
    tap.eq(r.status, 405, "POST: 405")
    a.logout()
    r = search(a, "x")
    tap.ok(r.status == 401 and r.error == "no_session", "an ended session: 401", r.show())


def t_search_paging(st):
    """limit and before page back like history: the newest N, oldest first,
    and "before" to go on; the search looks at no more than 2000 matches,
    however many the caller may not see, and says where to go on."""
    a = login_client(st)
    w = "pg" + secrets.token_hex(3)
    ids = [a.must_send("%s number %d" % (w, i)) for i in range(3)]
    r = search(a, w, limit=2)
    tap.ok(ids_of(r.events) == ids[1:] and r.json.get("before") == ids[1],
           "limit=2: the two newest, oldest first, before = the older", r.show())
    r = search(a, w, limit=2, before=r.json.get("before"))
    tap.ok(ids_of(r.events) == ids[:1] and "before" not in r.json,
           "the next page: the oldest, and no before", r.show())
    # A flood of matches in a room the caller does not read, from the shell.
    sh(st, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)"
           " INSERT INTO events (type, room, sender, text)"
           " SELECT 'message', 'flooded', 'system', '%s flood ' || i FROM n;" % w)
    r = search(a, w)
    tap.ok(r.status == 200 and r.events == [] and isinstance(r.json.get("before"), int),
           "behind 2,500 matches of another room: none shown, and where to go on", r.show())
    found, pages = [], 0
    while r.status == 200 and "before" in r.json and pages < 10:
        pages += 1
        found += ids_of(r.events)
        r = search(a, w, before=r.json["before"])
    found += ids_of(r.events)
    tap.ok(found == ids and pages >= 1 and r.status == 200,
           "following before finds the lobby's three (%d pages)" % pages, r.show())
    tap.eq(len(search(a, w, room="flooded", limit=200).events), 200,
           "the flooded room's reader gets a full page")
    a.logout()


# ---------------------------------------------------------------- retention

def insert_old(st, n, word, days=3, room="lobby"):
    """n lobby messages of days ago, from the shell."""
    sh(st, ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
            " INSERT INTO events (ts, type, room, sender, text)"
            " SELECT %d, 'message', '%s', 'system', '%s old ' || i FROM n;")
       % (n, now_ms() - days * DAY, room, word))


def insert_image(st, ts, size):
    """An image and its event, written at ts (from the shell); the image id."""
    return int(sh(st, ("INSERT INTO images (type, size, data, created_ms)"
                       " VALUES ('image/png', %d, zeroblob(%d), %d);"
                       " INSERT INTO events (ts, type, room, sender, image_id)"
                       " VALUES (%d, 'image', 'lobby', 'system', last_insert_rowid());"
                       " SELECT image_id FROM events WHERE id = last_insert_rowid();")
                  % (size, size, ts, ts)))


def insert_session(st, nick, created, ended=None):
    """A session of nick, made by a real login (the schema's triggers
    refuse sessions written from the shell), then dated back from the
    shell: created at created, and ended (by a logout) at ended if given.
    Its token."""
    c = Client(st, mode="header")
    c.must_login(nick)
    if ended is not None:
        c.logout()
    sh(st, ("UPDATE sessions SET created_ms = %d%s"
            " WHERE id = (SELECT max(id) FROM sessions WHERE nick = '%s');")
       % (created, "" if ended is None else
          ", last_seen_ms = %d, ended_ms = %d" % (ended, ended), nick))
    return c.session


def image_totals(st):
    return [int(x) for x in rows(st, "SELECT (SELECT bytes FROM image_store),"
                                     " (SELECT coalesce(sum(size), 0) FROM images);")[0]]


def t_retention(st):
    """--retain 1 on two workers: old events (by ts, wherever their id),
    their images and old ended sessions go, in batches, while sends go on;
    the rest stays, polls from any cursor get every kept event once."""
    w = "rt" + secrets.token_hex(3)
    old_ts = now_ms() - 3 * DAY
    insert_old(st, 1200, w)                                  # ids at the start
    old_images = [insert_image(st, old_ts, 200000) for _ in range(3)]
    for i in range(20):
        insert_session(st, "gone%d" % i, old_ts - DAY, ended=old_ts)
    a, b, c = login_client(st), login_client(st), login_client(st)
    recent = [a.must_send("recent %d" % i) for i in range(5)]
    recent.append(a.must_send("recent private", to=b.nick))
    new_image = insert_image(st, now_ms(), 1000)
    insert_session(st, "endedlately", now_ms() - 2 * 3600 * 1000, ended=now_ms() - 3600 * 1000)
    live_token = insert_session(st, "livelong", old_ts)      # live, since 3 days
    insert_old(st, 300, w)                                   # ids in the middle
    middle = int(sh(st, "SELECT max(id) FROM events;")) - 100
    recent += [a.must_send("recent later %d" % i) for i in range(3)]
    b.catch_up()
    cursor_before = b.cursor
    old_count = int(sh(st, "SELECT count(*) FROM events WHERE ts < %d;" % (now_ms() - DAY)))
    tap.eq(old_count, 1503, "1,503 old events written from the shell")

    st.chatd_args = RATE + ["--retain", "1"]
    st.restart()
    acked, errors, stop = [], [], threading.Event()

    def sender():
        try:
            while not stop.is_set():
                acked.append(c.must_send("during deletes %d" % len(acked)))
        except Exception as e:
            errors.append(e)
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    cutoff = now_ms() - DAY
    gone = wait_until(lambda: int(sh(st, "SELECT count(*) FROM events WHERE ts < %d;"
                                     % cutoff)) == 0, 90, 0.2)
    stop.set()
    t.join(30)
    tap.ok(gone, "every event older than a day is deleted")
    tap.ok(len(acked) > 0 and not errors, "sends went on meanwhile (%d)" % len(acked), errors)
    present = set(int(r[0]) for r in rows(st, "SELECT id FROM events;"))
    tap.ok(all(i in present for i in recent + acked), "every recent event is kept",
           [i for i in recent + acked if i not in present])
    img = set(int(r[0]) for r in rows(st, "SELECT id FROM images;"))
    tap.ok(not any(i in img for i in old_images) and new_image in img,
           "the old events' images are deleted, the recent one kept", repr(img))
    total, used = image_totals(st)
    tap.eq(total, used, "the image-store total is right (%d)" % used)
    nicks = [r[0] for r in rows(st, "SELECT nick FROM sessions;")]
    tap.ok(not any(n.startswith("gone") for n in nicks), "sessions ended 3 days ago are pruned",
           repr(nicks))
    tap.ok("endedlately" in nicks and "livelong" in nicks and a.nick in nicks,
           "one ended an hour ago and the live ones stay", repr(nicks))
    r = raw_request(st, "GET", "/api/poll?since=0&timeout=0", {"X-Chat-Session": live_token})
    tap.eq(r.status, 200, "a live session older than --retain still works")
    tap.eq(search(b, w).events, [], "the deleted rows are not found by search")
    tap.eq(fts_ids(st, w), [], "and have left the index")
    tap.ok(wait_until(lambda: "retain: deleted" in open(st.path("chatd.log")).read(), 30),
           "chatd says what it deleted")

    bsid = sid_of(st, b.nick)
    want = visible_ids(st, bsid)
    for label, since in (("since=0", 0), ("a cursor below the oldest kept event", 5),
                         ("a cursor among deleted rows", middle)):
        seen, _ = poll_all(b, since)
        ids = ids_of(seen)
        exp = [i for i in want if i > since]
        tap.ok(ids == exp and len(set(ids)) == len(ids),
               "a poll from %s gets every kept later event, once (%d)" % (label, len(ids)),
               "got %s\nwant %s" % (ids[:20], exp[:20]))
    seen, _ = poll_all(b, cursor_before)
    tap.eq(ids_of(seen), [i for i in want if i > cursor_before],
           "b's cursor from before the restart goes on where it was")
    st.retention_users = (a, b, c)


def t_retention_newest(st):
    """The newest event is never deleted, however old, so that the cursor
    polls are given never goes back."""
    x = "nw" + secrets.token_hex(3)
    for cl in getattr(st, "retention_users", ()):
        cl.logout()
    sh(st, "INSERT INTO events (ts, type, room, sender, text) VALUES"
           " (%d, 'message', 'lobby', 'system', '%s older');"
           " INSERT INTO events (ts, type, room, sender, text) VALUES"
           " (%d, 'message', 'lobby', 'system', '%s newest');"
           % (now_ms() - 3 * DAY, x, now_ms() - 3 * DAY, x))
    newest = int(sh(st, "SELECT max(id) FROM events;"))
    st.restart()
    gone = wait_until(lambda: sh(st, "SELECT count(*) FROM events WHERE text = '%s older';"
                                 % x) == "0", 90, 0.2)
    tap.ok(gone, "an old event that is not the newest goes")
    tap.eq(sh(st, "SELECT max(id) FROM events;"), str(newest),
           "the newest stays, though old: max(id) does not go back")


def t_retain_option(st):
    """--retain takes 0 to 36500 days; anything else exits 2 and says so."""
    chatd = os.environ.get("CHATD") or os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "..", "build", "src", "chatd")
    for v in ("-1", "x", "", "36501", "1.5"):
        p = subprocess.run([chatd, "--retain", v], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        tap.ok(p.returncode == 2 and "--retain" in p.stderr, "--retain %r exits 2" % v,
               p.stderr)
    for v in ("0", "36500"):
        p = subprocess.run([chatd, "--retain", v, "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        tap.ok(p.returncode == 0 and "--retain DAYS" in p.stdout, "--retain %s is taken" % v,
               p.stderr)


# ---------------------------------------------------------------- backups

class RestoredStack(Stack):
    """A stack whose chatd starts on a copy of a database file."""

    def __init__(self, db_file, **kw):
        Stack.__init__(self, **kw)
        self.db_file = db_file

    def start(self):
        if not os.path.exists(self.path("chat.db")):
            shutil.copy(self.db_file, self.path("chat.db"))
        Stack.start(self)


def t_backup(st):
    """.backup and VACUUM INTO on the live database, with sends going on:
    each copy passes integrity_check, holds every send answered before it
    began, and a chatd started on it serves history and polls from it."""
    a, b = login_client(st), login_client(st)
    w = "bk" + secrets.token_hex(3)
    acked, errors, stop = [], [], threading.Event()

    def sender():
        try:
            while not stop.is_set():
                acked.append(a.must_send("%s %d" % (w, len(acked))))
        except Exception as e:
            errors.append(e)
    t = threading.Thread(target=sender, daemon=True)
    t.start()
    wait_until(lambda: len(acked) >= 50, 30)
    work = st.path("backups")
    os.mkdir(work)
    copies = []
    for label, cmd in ((".backup", '.backup "%s"'), ("VACUUM INTO", "VACUUM INTO '%s';")):
        f = os.path.join(work, label.strip(".").replace(" ", "-") + ".db")
        before = list(acked)
        sh(st, cmd % f + "\n", readonly=True)
        copies.append((label, f, before))
        wait_until(lambda: len(acked) >= len(before) + 20, 30)
    stop.set()
    t.join(30)
    tap.ok(len(acked) >= len(copies[-1][2]) + 20 and not errors,
           "sends went on during the backups and after (%d)" % len(acked), errors)
    for label, f, before in copies:
        tap.eq(sh(st, "PRAGMA integrity_check;", db=f), "ok", "%s: integrity_check ok" % label)
        have = set(int(r[0]) for r in rows(st, "SELECT id FROM events;", db=f))
        tap.ok(all(i in have for i in before),
               "%s: holds all %d sends answered before it began" % (label, len(before)))
        # The index holds the events up to its mark (sql/008); a chatd
        # on the copy indexes the rest, and its search finds them all.
        n = sh(st, "SELECT count(*) FROM events_fts WHERE events_fts MATCH '%s';"
                   " SELECT count(*) FROM events WHERE text LIKE '%s %%'"
                   " AND id <= (SELECT hi FROM search_indexed);" % (w, w), db=f)
        tap.ok(n.split()[0] == n.split()[1],
               "%s: its search index came along (%s)" % (label, " = ".join(n.split())))
        with RestoredStack(f, tap=tap, name="restored from " + label) as rs:
            c = login_client(rs)
            h = c.history(limit=200)
            tap.ok(h.status == 200 and before[-1] in ids_of(h.events),
                   "%s: history on the restored copy shows the last send" % label, h.show())
            seen, _ = poll_all(c, 0)
            ids = ids_of(seen)
            tap.ok(all(i in ids for i in before) and len(set(ids)) == len(ids),
                   "%s: a poll from 0 reads every send, once" % label)
            # Page by page (200 at most each, "before" says where to go on).
            found, at, r, pages = [], OMIT, None, 0
            for pages in range(1, 51):
                r = search(c, w, limit=200, before=at)
                if r.status != 200:
                    break
                found += ids_of(r.events)
                if not r.json.get("before"):
                    break
                at = r.json["before"]
            tap.ok(r is not None and r.status == 200 and all(i in found for i in before)
                   and len(set(found)) == len(found),
                   "%s: and search finds every send answered before it, once (%d pages)"
                   % (label, pages), r.show() if r else "")
            old = Client(rs)
            old.session = a.session
            tap.eq(old.poll(since=0).status, 200, "%s: a session of the copy still works" % label)
            c.logout()
    a.logout()
    b.logout()


with Stack(RATE, tap=tap, name="search stack") as st:
    for t in (t_search_words, t_search_private, t_search_shell, t_search_syntax,
              t_search_refused, t_search_paging):
        tap.run(t, st)
    alive_check(tap, st, "the search tests")
with Stack(RATE, workers=2, tap=tap, name="retention stack") as st:
    tap.run(t_retention, st)
    tap.run(t_retention_newest, st)
    tap.run(t_retain_option, st)
    alive_check(tap, st, "retention")
with Stack(RATE, tap=tap, name="backup stack") as st:
    tap.run(t_backup, st)
tap.done()
