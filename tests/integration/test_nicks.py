#!/usr/bin/env python3
# Nicks that cannot pass for others (src/nick.c, sql/006-nick-skeleton.sql),
# through nginx: look-alikes of a live nick are 409 nick_taken, mixed
# scripts and look-alikes of "system" are 400 bad_nick, and a refused login
# writes nothing; honest nicks of every script log in, shown in NFC; a
# private message to a differently written nick arrives; the sqlite3 shell
# cannot insert a session with a wrong key; and a database of schema
# version 5 with live sessions gets its keys when chatd starts on it.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (Client, Stack, Tap, alive_check, events_of, login_client,
                     main_guard, wait_until)

main_guard()
tap = Tap()
TOP = os.environ.get("TOP_SRCDIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
NFD_JOSE = "Jose\u0301"


def refused(st, nick, status, code, word, label):
    """A login of nick is refused with status and code, its message holds
    word, and no event is written."""
    before = st.count_events()
    r = Client(st).login(nick)
    msg = (r.json or {}).get("message", "") if isinstance(r.json, dict) else ""
    tap.ok(r.status == status and r.error == code and word in msg,
           "%s: %d %s" % (label, status, code), r.show())
    tap.eq(st.count_events(), before, "%s: nothing written" % label)


def t_lookalikes(st):
    alice = login_client(st, "alice")
    login_client(st, "abe")
    login_client(st, "ooo")
    login_client(st, "José")
    for nick, label in (("ALICE", "ALICE"), ("ａｌｉｃｅ", "fullwidth alice"),
                        ("ΑΒΕ", "Greek ΑΒΕ beside abe"),
                        ("οοο", "Greek οοο beside ooo"),
                        ("օօօ", "Armenian օօօ beside ooo"),
                        (NFD_JOSE, "José in NFD beside José in NFC")):
        refused(st, nick, 409, "nick_taken", "taken", label)
    for nick, label in (("аlice", "аlice (Cyrillic а)"),
                        ("Αlice", "Αlice (Greek Α)"),
                        ("bοb", "bοb (Greek ο)"),
                        ("bօb", "bօb (Armenian օ)"),
                        ("Ꭺlice", "Ꭺlice (Cherokee Ꭺ)"),
                        ("sуstem", "sуstem (Cyrillic у)")):
        refused(st, nick, 400, "bad_nick", "mixes scripts", label)
    for nick, label in (("system", "system"), ("SYSTEM", "SYSTEM"),
                        ("ѕуѕтем", "ѕуѕтем (all Cyrillic)"),
                        ("ЅУЅТЕМ", "ЅУЅТЕМ (all Cyrillic)"),
                        ("ｓｙｓｔｅｍ", "fullwidth system"),
                        ("ᏚᎩᏚᎢᎬᎷ", "ᏚᎩᏚᎢᎬᎷ (all Cherokee)")):
        refused(st, nick, 400, "bad_nick", "reserved", label)
    # A nick is free again once its session has ended.
    tap.eq(alice.logout().status, 200, "alice logs out")
    r = Client(st).login("ALICE")
    tap.ok(r.status == 200 and r.json.get("nick") == "ALICE",
           "ALICE logs in once alice's session has ended", r.show())


def t_honest(st):
    for nick in ("Мария", "李雷", "محمد", "Zoë", "bob smith", "bob_2",
                 "Νίκος", "Արամ", "ᏣᎳᎩ"):
        r = Client(st).login(nick)
        tap.ok(r.status == 200 and r.json.get("nick") == nick,
               "%s logs in" % nick, r.show())
    r = Client(st).login("Noe\u0308l")
    tap.ok(r.status == 200 and r.json.get("nick") == "Noël",
           "a nick typed in NFD logs in, shown in NFC", r.show())
    r = Client(st).login("Noël")
    tap.ok(r.status == 409 and r.error == "nick_taken",
           "and its NFC form is then taken", r.show())


def t_private_by_key(st):
    dana = login_client(st, "dana")
    bob = login_client(st, "bobby")
    dana.catch_up()
    for to in ("DANA", "ｄａｎａ"):
        r = bob.send("hello " + to, to=to)
        tap.ok(r.status == 200, "a private message to=%s is taken" % to,
               r.show())
    got = dana.catch_up()
    for to in ("DANA", "ｄａｎａ"):
        ev = events_of(got, type="private", text="hello " + to)
        tap.ok(len(ev) == 1 and ev[0].get("to") == "dana",
               "to=%s reaches dana, and names her as she is" % to, repr(got))
    r = bob.send("nobody", to="dana2")
    tap.ok(r.status == 404 and r.error == "no_such_user",
           "a nick nobody has is still nobody", r.show())


def shell(st, sql):
    """Run sql in the sqlite3 shell on the stack's database."""
    return subprocess.run(["sqlite3", st.path("chat.db")], input=sql,
                          capture_output=True, text=True, timeout=60)


def t_shell_insert(st):
    if shutil.which("sqlite3") is None:
        tap.skip("the sqlite3 shell", "sqlite3 is not installed")
        return
    c = st.db()
    n = c.execute("SELECT count(*) FROM sessions").fetchone()[0]
    c.close()
    p = shell(st, "INSERT INTO sessions (nick, nick_key, token_hash, csrf,"
              " created_ms, last_seen_ms, nick_skeleton, nick_skeleton_caps)"
              " VALUES ('еve', 'еve', 'x', 'y', 1, 1, 'eve', 'EVE');")
    tap.ok(p.returncode != 0 and "chatd_nick_skeleton" in p.stderr,
           "the sqlite3 shell cannot insert a session", p.stderr)
    c = st.db()
    tap.eq(c.execute("SELECT count(*) FROM sessions").fetchone()[0], n,
           "no session was inserted")
    c.close()
    p = shell(st, "UPDATE sessions SET nick = 'ѕуѕтем' WHERE nick = 'dana';")
    tap.ok(p.returncode != 0, "nor rename one", p.stderr)
    p = shell(st, "UPDATE sessions SET last_seen_ms = last_seen_ms"
              " WHERE nick = 'dana';")
    tap.ok(p.returncode == 0, "but may update its other columns", p.stderr)


TOKEN_A = "A" * 31 + "a"
TOKEN_B = "B" * 31 + "b"


def old_database(path):
    """A database of schema version 5 (sql/001 to 005), with live sessions
    that version 6 finds to be look-alikes, made without chatd."""
    now = int(time.time() * 1000)
    c = sqlite3.connect(path)
    for f in sorted(os.listdir(os.path.join(TOP, "sql"))):
        if f[:3].isdigit() and int(f[:3]) <= 5:
            with open(os.path.join(TOP, "sql", f)) as fh:
                c.executescript(fh.read())
    c.execute("PRAGMA user_version = 5")
    rows = [("alice", TOKEN_A, None), ("аlice", "x" * 32, None),
            ("ѕуѕтем", "y" * 32, None), ("Bob", TOKEN_B, None),
            ("carol", "z" * 32, now - 1000)]
    for nick, tok, ended in rows:
        c.execute("INSERT INTO sessions (nick, nick_key, token_hash, csrf,"
                  " created_ms, last_seen_ms, ended_ms, end_reason)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (nick, nick.lower(), hashlib.sha256(tok.encode()).hexdigest(),
                   "csrf-" + nick, now, now, ended,
                   "logout" if ended else None))
    c.commit()
    c.close()


def t_migration(st):
    st.stop()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(st.path("chat.db" + suffix)):
            os.remove(st.path("chat.db" + suffix))
    old_database(st.path("chat.db"))
    st.start()
    c = st.db()
    newest = len([f for f in os.listdir(os.path.join(TOP, "sql"))
                  if re.match(r"\d{3}-.*\.sql$", f)])
    tap.eq(c.execute("PRAGMA user_version").fetchone()[0], newest,
           "chatd brought the database to the newest schema version (%d)" % newest)
    rows = c.execute("SELECT nick, nick_skeleton, nick_skeleton_caps,"
                     " ended_ms IS NULL, end_reason FROM sessions"
                     " ORDER BY id").fetchall()
    tap.ok(all(r[1] and r[2] for r in rows),
           "every session has its keys", repr(rows))
    keys = {r[0]: (r[1], r[2]) for r in rows}
    tap.ok(keys["alice"] == keys["аlice"] and keys["Bob"][0] == "bob",
           "the keys are the skeletons of the case-folded nicks", repr(keys))
    live = [r[0] for r in rows if r[3]]
    tap.eq(live, ["alice", "Bob"],
           "the look-alikes of alice and of system are ended, the oldest kept")
    leaves = c.execute("SELECT sender, text FROM events WHERE type = 'leave'"
                       " ORDER BY id").fetchall()
    tap.eq(leaves, [("аlice", "timeout"), ("ѕуѕтем", "timeout")],
           "each with its leave event")
    c.close()
    for nick, code in (("ALICE", "nick_taken"), ("bob", "nick_taken")):
        r = Client(st).login(nick)
        tap.ok(r.status == 409 and r.error == code,
               "%s is taken by the migrated session" % nick, r.show())
    r = Client(st).login("carol")
    tap.eq(r.status, 200, "an ended session's nick is free", r.show())
    a, b = Client(st, "header"), Client(st, "header")
    a.session, a.csrf = TOKEN_A, "csrf-alice"
    b.session, b.csrf = TOKEN_B, "csrf-Bob"
    cur = b.poll(since=0, timeout=0)
    b.cursor = cur.json.get("cursor") if isinstance(cur.json, dict) else 0
    r = a.send("after the migration", to="BOB")
    tap.ok(r.status == 200, "the migrated alice sends to=BOB", r.show())
    ev = events_of(b.catch_up(), type="private", text="after the migration")
    tap.ok(len(ev) == 1 and ev[0].get("to") == "Bob",
           "and the migrated Bob gets it", repr(ev))


with Stack(["--rate-limit", "1000/10"], tap=tap) as st:
    for t in (t_lookalikes, t_honest, t_private_by_key, t_shell_insert):
        tap.run(t, st)
    alive_check(tap, st, "the nick tests")

with Stack(["--rate-limit", "1000/10"], tap=tap, name="migration") as st:
    tap.run(t_migration, st)
    alive_check(tap, st, "the migration")
tap.done()
