#!/usr/bin/env python3
# The search index written after the send (sql/008): events above the
# index's mark are found by a search all the same (it indexes them first),
# whoever wrote them; deleting or updating one before it was indexed
# leaves the index exact; one below the mark is indexed by the trigger;
# a restart indexes what was left; a database of version 7 is taken
# over; the sweep indexes by itself; and
# --index-delay takes its range. "Exact": the index holds the words of
# the messages and private messages up to the mark, and nothing else,
# compared term by term with an index built afresh (fts5vocab), as the
# FTS5 'integrity-check' command cannot be: it would compare the index
# with every row of events, joins and leaves too. Its totals (rows and
# words, which a 'delete' of what was never indexed would throw off)
# must be those of the fresh index too.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import secrets
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import fts_ids, newest_schema, search_mark, sqlite_shell, Stack, Tap, alive_check, ids_of, login_client, main_guard, wait_until

main_guard()
if not shutil.which("sqlite3"):
    print("1..0 # SKIP the sqlite3 shell is not installed")
    sys.exit(0)
tap = Tap()
RATE = ["--rate-limit", "1000000/1"]
NEWEST = str(newest_schema())
HOUR = ["--index-delay", "3600000"]  # no sweep but the first: searches index


EXACT = """
CREATE VIRTUAL TABLE temp.have USING fts5vocab(main, events_fts, instance);
CREATE VIRTUAL TABLE temp.ref USING fts5(text,
    tokenize = 'unicode61 remove_diacritics 2');
INSERT INTO temp.ref(rowid, text) SELECT id, text FROM events
    WHERE type IN ('message', 'private')
    AND id <= (SELECT hi FROM search_indexed);
CREATE VIRTUAL TABLE temp.want USING fts5vocab(temp, ref, instance);
SELECT count(*) FROM (SELECT term, doc, offset FROM have
    EXCEPT SELECT term, doc, offset FROM want);
SELECT count(*) FROM (SELECT term, doc, offset FROM want
    EXCEPT SELECT term, doc, offset FROM have);
SELECT (SELECT count(*) FROM have) - (SELECT count(*) FROM want);
SELECT (SELECT block FROM main.events_fts_data WHERE id = 1)
    IS (SELECT block FROM temp.ref_data WHERE id = 1);
PRAGMA integrity_check;
"""


def exact(st, label):
    """The index is exact (see above) and the database passes integrity_check."""
    out = sqlite_shell(st, EXACT).split()
    tap.eq(out, ["0", "0", "0", "1", "ok"], "%s: the index is exact, integrity_check ok" % label)


def search(c, q, **kw):
    return c.request("GET", "/api/search", [("q", q)] + list(kw.items()))


def t_pending_found(st):
    """A send is not indexed by the send; a search finds it all the same."""
    a = login_client(st)
    w = "pf" + secrets.token_hex(3)
    i = a.must_send("%s sent" % w)
    tap.ok(search_mark(st) < i and fts_ids(st, w) == [], "a send leaves its event above the mark")
    r = search(a, w)
    tap.eq(ids_of(r.events), [i], "a search finds it")
    tap.ok(search_mark(st) >= i and fts_ids(st, w) == [i], "and has indexed it")
    exact(st, "after a search")
    a.logout()


def t_shell_insert(st):
    """Rows inserted with the shell, above the mark, are found."""
    a = login_client(st)
    w = "si" + secrets.token_hex(3)
    sqlite_shell(st, "INSERT INTO events (type, room, sender, text) VALUES"
           " ('message', 'lobby', 'system', '%s one'), ('message', 'lobby', 'system', '%s two');"
           % (w, w))
    r = search(a, w)
    tap.eq([e.get("text") for e in r.events], ["%s one" % w, "%s two" % w],
           "rows inserted with the shell are found")
    exact(st, "shell rows")
    a.logout()


def t_change_before_index(st):
    """A row deleted or updated before it was indexed: the index stays
    exact, the old words are not found, the new ones are."""
    a = login_client(st)
    w = "cb" + secrets.token_hex(3)
    gone = a.must_send("%s gone" % w)
    kept = a.must_send("%s kept" % w)
    tap.ok(search_mark(st) < gone, "both sends above the mark")
    sqlite_shell(st, "DELETE FROM events WHERE id = %d;" % gone)
    sqlite_shell(st, "UPDATE events SET text = '%s renamed' WHERE id = %d;" % (w + "n", kept))
    exact(st, "deleted and updated above the mark")
    tap.eq(search(a, w).events, [], "neither is found by the old word")
    tap.eq(ids_of(search(a, w + "n").events), [kept], "the updated one by its new word")
    tap.eq(fts_ids(st, w + "n"), [kept], "which the index holds")
    exact(st, "then indexed")
    a.logout()


def t_below_mark(st):
    """An event inserted with an id below the mark (into a gap) is
    indexed by the trigger at once; deleted below it, it leaves."""
    a = login_client(st)
    w = "bm" + secrets.token_hex(3)
    i = a.must_send("%s placeholder" % w)
    search(a, w)
    sqlite_shell(st, "DELETE FROM events WHERE id = %d;" % i)
    tap.ok(search_mark(st) >= i and fts_ids(st, w) == [], "a gap below the mark")
    sqlite_shell(st, "INSERT INTO events (id, type, room, sender, text)"
           " VALUES (%d, 'message', 'lobby', 'system', '%s again');" % (i, w + "g"))
    tap.eq(fts_ids(st, w + "g"), [i], "a row inserted into it is in the index at once")
    exact(st, "inserted below the mark")
    tap.eq(ids_of(search(a, w + "g").events), [i], "and found")
    sqlite_shell(st, "UPDATE events SET id = %d WHERE id = %d;" % (search_mark(st) + 1000000, i))
    tap.eq(fts_ids(st, w + "g"), [], "moved above the mark, it leaves the index")
    exact(st, "moved above the mark")
    tap.eq(len(search(a, w + "g").events), 1, "and a search indexes it again")
    exact(st, "indexed again")
    a.logout()


def t_backlog(st):
    """More than one batch (1,000) above the mark: a search indexes all."""
    a = login_client(st)
    w = "bl" + secrets.token_hex(3)
    sqlite_shell(st, "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < 2500)"
           " INSERT INTO events (type, room, sender, text)"
           " SELECT 'message', 'lobby', 'system', 'filler ' || k FROM n;")
    last = a.must_send("%s after the backlog" % w)
    tap.eq(ids_of(search(a, w).events), [last], "a search behind 2,500 unindexed rows finds it")
    tap.ok(search_mark(st) >= last, "and has indexed them all")
    exact(st, "the backlog")
    a.logout()


def t_restart(st):
    """Events left above the mark by a stop are indexed when chatd
    starts again, without a search."""
    a = login_client(st)
    w = "rs" + secrets.token_hex(3)
    i = a.must_send("%s before the stop" % w)
    st.stop()
    tap.ok(search_mark(st) < i, "the stop left the event above the mark")
    st.start()
    tap.ok(wait_until(lambda: fts_ids(st, w) == [i], 30), "the start indexes it")
    exact(st, "after the restart")


def t_from_version_7(st):
    """A database of schema version 7 (sql/007's triggers index in the
    send) is taken over: the mark is its last event, what it indexed is
    found, and what comes after is indexed by the sweep."""
    a = login_client(st)
    w = "v7" + secrets.token_hex(3)
    search(a, w)  # everything indexed, as 007 would have it
    a.logout()
    st.stop()
    top = os.environ.get("TOP_SRCDIR") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    with open(os.path.join(top, "sql", "007-search.sql")) as f:
        v7 = f.read()
    triggers = v7[v7.index("CREATE TRIGGER"):v7.rindex("END;") + 4]
    sqlite_shell(st, "BEGIN; DROP TABLE search_indexed; DROP TRIGGER events_fts_insert;"
           " DROP TRIGGER events_fts_delete; DROP TRIGGER events_fts_update;\n"
           + triggers + "\nPRAGMA user_version = 7; COMMIT;")
    sqlite_shell(st, "INSERT INTO events (type, room, sender, text)"
           " VALUES ('message', 'lobby', 'system', '%s old');" % w)
    top_id = int(sqlite_shell(st, "SELECT max(id) FROM events;"))
    tap.eq(fts_ids(st, w), [top_id], "version 7 indexes in the insert")
    st.start()
    tap.eq(sqlite_shell(st, "PRAGMA user_version; SELECT hi FROM search_indexed;").split(),
           [NEWEST, str(top_id)], "migrated to the newest, the mark at the last event")
    exact(st, "after the migration")
    a = login_client(st)
    i = a.must_send("%s new" % w)
    tap.eq(ids_of(search(a, w).events), [top_id, i], "old and new events are found")
    exact(st, "after a search")
    a.logout()


def t_sweep(st):
    """With the default --index-delay, new events are indexed without a
    search."""
    a = login_client(st)
    w = "sw" + secrets.token_hex(3)
    ids = [a.must_send("%s %d" % (w, k)) for k in range(3)]
    tap.ok(wait_until(lambda: fts_ids(st, w) == ids, 30), "the sweep indexes new sends")
    i = a.must_send("%s later" % w)
    tap.ok(wait_until(lambda: i in fts_ids(st, w), 30), "and goes on doing so")
    exact(st, "after the sweep")
    a.logout()


def t_option():
    """--index-delay takes 0 to 3600000; anything else exits 2."""
    chatd = os.environ.get("CHATD") or os.path.join(os.path.dirname(os.path.abspath(
        __file__)), "..", "..", "build", "src", "chatd")
    for v in ("-1", "x", "", "3600001"):
        p = subprocess.run([chatd, "--index-delay", v], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        tap.ok(p.returncode == 2 and "--index-delay" in p.stderr,
               "--index-delay %r exits 2" % v, p.stderr)
    for v in ("0", "3600000"):
        p = subprocess.run([chatd, "--index-delay", v, "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        tap.ok(p.returncode == 0 and "--index-delay MS" in p.stdout,
               "--index-delay %s is taken" % v, p.stderr)


with Stack(RATE + HOUR, tap=tap, name="stack with an hour's delay") as st:
    for t in (t_pending_found, t_shell_insert, t_change_before_index, t_below_mark,
              t_backlog, t_restart, t_from_version_7):
        tap.run(t, st)
    alive_check(tap, st, "the index tests")
with Stack(RATE, workers=2, tap=tap, name="stack with the default delay") as st:
    tap.run(t_sweep, st)
tap.run(t_option)
tap.done()
