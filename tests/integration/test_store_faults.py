#!/usr/bin/env python3
# The store failing under chatd: its database locked by another process
# past --busy-timeout, its disk full, its files made read-only. While the
# fault lasts, login, send and image answer 503 unavailable and change
# nothing; polls and history keep answering from what is there; nothing
# acknowledged before is lost; and once the fault clears, chatd serves
# writes again by itself, the same process, with no restart. Each case
# ends with PRAGMA integrity_check.
#
# The disk is a small tmpfs mounted for the test (the tests run as root).
# Read-only is chattr +i on the database's files in a small ext2 file
# system (a loop mount): root ignores file modes, a remount read-only is
# refused while chatd holds the files open for writing, and tmpfs lets
# writes through descriptors opened before the flag; ext2 refuses them.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (Client, Stack, Tap, alive_check, ids_of, is_int, login_client, main_guard,
                     raw_request, wait_parked, wait_until)

main_guard()
tap = Tap()

BUSY_MS = 200
# Sessions' last-seen times are written every 4 s (a quarter of the idle
# timeout); a fault that lasts longer must not make reads fail either.
TOUCH_S = 4
OPTS = ["--busy-timeout", str(BUSY_MS), "--log-level", "debug", "--poll-max", "10",
        "--idle-timeout", str(4 * TOUCH_S)]
BOUNDARY = "----chatdFaultBoundary"


def png(extra=0, seed=0):
    """A PNG (chatd judges the first bytes) of about extra bytes more."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    pad = bytes((seed * 7 + i * 13) % 251 for i in range(extra))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0\0")) + chunk(b"tEXt", b"c\0" + pad)
            + chunk(b"IEND", b""))


def upload(c, data):
    body = ("--%s\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n"
            "Content-Type: image/png\r\n\r\n" % (BOUNDARY, c.csrf, BOUNDARY)).encode()
    body += data + ("\r\n--%s--\r\n" % BOUNDARY).encode()
    h = dict(c.auth_headers())
    h["Content-Type"] = "multipart/form-data; boundary=" + BOUNDARY
    return raw_request(c.stack, "POST", "/api/image", h, body)


def unavailable(r):
    return r is not None and r.status == 503 and r.error == "unavailable"


class Db:
    """The database file, read from outside (the sqlite3 module)."""

    def __init__(self, path):
        self.path = path

    def rows(self, sql, *args):
        c = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True, timeout=10)
        try:
            return c.execute(sql, args).fetchall()
        finally:
            c.close()

    def counts(self):
        return tuple(self.rows("SELECT (SELECT count(*) FROM events),"
                               " (SELECT count(*) FROM sessions),"
                               " (SELECT count(*) FROM images),"
                               " (SELECT count(*) FROM sessions WHERE ended_ms IS NULL)")[0])

    def integrity(self):
        return [r[0] for r in self.rows("PRAGMA integrity_check")]


class World:
    """Clients and what chatd acknowledged to them before a fault."""

    def __init__(self, st, db):
        self.st, self.db = st, db
        self.a = login_client(st)
        self.b = login_client(st)
        self.a.catch_up()
        self.b.catch_up()
        self.acked = {}         # event id -> text, for every send answered 200
        self.pid = st.chatd_pid()
        for i in range(5):
            self.send(self.a, "before the fault %d" % i)
        r = upload(self.a, png(10))
        tap.eq(r.status, 200, "an image is stored before the fault", r.show())
        if r.status == 200:
            self.acked[r.json["id"]] = None
        self.b.catch_up()

    def send(self, c, text):
        r = c.send(text)
        if r.status == 200:
            self.acked[r.json["id"]] = text
        return r

    def during(self, label):
        """Writes refused with 503, changing nothing; reads served."""
        st, a, b = self.st, self.a, self.b
        before = self.db.counts()
        r = Client(st).login()
        tap.ok(unavailable(r), "%s: login is 503 unavailable" % label, r.show())
        r = a.send("during the fault")
        tap.ok(unavailable(r), "%s: send is 503 unavailable" % label, r.show())
        r = upload(a, png(2000, 1))
        tap.ok(unavailable(r), "%s: image is 503 unavailable" % label, r.show())
        r = a.logout()
        tap.ok(unavailable(r), "%s: logout is 503 unavailable" % label, r.show())
        tap.eq(self.db.counts(), before, "%s: the refused requests changed nothing" % label)
        # Let the sessions' last-seen times go stale, so that the reads
        # below want them written (which cannot be done now).
        time.sleep(TOUCH_S + 0.5)
        r = a.poll(since=0, timeout=0)
        want = sorted(i for i, t in self.acked.items() if t is not None)
        tap.ok(r.status == 200 and set(want) <= set(ids_of(r.events)),
               "%s: a poll answers with what is there" % label, r.show()[:400])
        r = a.history(limit=200)
        tap.ok(r.status == 200 and set(want) <= set(ids_of(r.events)),
               "%s: history answers with what is there" % label, r.show()[:400])
        r = a.users()
        tap.ok(r.status == 200 and a.nick in [u.get("nick") for u in r.json.get("users", [])],
               "%s: users answers" % label, r.show()[:400])
        d = b.poll_deferred(timeout=10)
        wait_parked(st, 1)
        tap.ok(not d.done(), "%s: a poll waits, as usual" % label, repr(d.resp))
        tap.eq(st.chatd_pid(), self.pid, "%s: the same chatd process" % label)
        tap.ok(st.chatd_alive(), "%s: chatd is alive" % label)
        return d

    def after(self, label, d):
        """The fault cleared: writes work again, without a restart."""
        st, a, b = self.st, self.a, self.b
        r = self.send(a, "after the fault")
        tap.eq(r.status, 200, "%s cleared: send works again" % label, r.show())
        rd = d.join(30)
        tap.ok(r.status == 200 and r.json["id"] in ids_of(rd.events),
               "%s cleared: the poll that waited through it gets the message" % label,
               rd.show())
        c = Client(st)
        r = c.login()
        tap.eq(r.status, 200, "%s cleared: login works again" % label, r.show())
        r = upload(a, png(2000, 2))
        tap.eq(r.status, 200, "%s cleared: image works again" % label, r.show())
        if r.status == 200:
            self.acked[r.json["id"]] = None
        tap.eq(st.chatd_pid(), self.pid, "%s cleared: by the same chatd process, not restarted"
               % label)
        alive_check(tap, st, label)
        self.check_kept(label)

    def check_kept(self, label):
        ids = sorted(self.acked)
        got = dict(self.db.rows("SELECT id, text FROM events WHERE id IN (%s)"
                                % ",".join(map(str, ids))))
        tap.eq({i: got.get(i, "MISSING") for i in ids}, self.acked,
               "%s: every event acknowledged is there, as sent (%d)" % (label, len(ids)))
        tap.eq(self.db.integrity(), ["ok"], "%s: PRAGMA integrity_check is ok" % label)


def t_locked():
    """Another process holds the write lock past --busy-timeout."""
    with Stack(OPTS, tap=tap,
               name="locked stack") as st:
        w = World(st, Db(st.path("chat.db")))
        lock = sqlite3.connect(st.path("chat.db"), timeout=10, isolation_level=None)
        # BEGIN EXCLUSIVE is the same as IMMEDIATE in WAL mode: writers
        # wait, readers go on reading.
        lock.execute("BEGIN EXCLUSIVE")
        try:
            d = w.during("locked")
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        w.after("locked", d)


# The mounts are writable by anyone: tools/stack runs chatd as a user of
# its own (--user), which makes the database's -wal and -shm there.
def mount_tmpfs(size):
    """A tmpfs of size bytes on a new directory, or None (with why)."""
    d = tempfile.mkdtemp(prefix="chatd-fault-", dir="/tmp")
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0777" % size,
                        "chatd-fault", d], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        os.rmdir(d)
        return None, p.stdout.decode(errors="replace").strip()
    return d, None


def mount_ext2(size):
    """A fresh ext2 file system of size bytes in a file, loop-mounted on a
    new directory, or None (with why)."""
    d = tempfile.mkdtemp(prefix="chatd-fault-", dir="/tmp")
    img = d + ".img"
    with open(img, "wb") as f:
        f.truncate(size)
    for cmd in (["mkfs.ext2", "-q", "-F", img], ["mount", "-o", "loop", img, d]):
        try:
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as e:
            p = None
            why = str(e)
        if p is None or p.returncode != 0:
            os.unlink(img)
            os.rmdir(d)
            return None, why if p is None else p.stdout.decode(errors="replace").strip()
    os.chmod(d, 0o777)
    return d, None


def unmount(d):
    subprocess.run(["umount", d])
    shutil.rmtree(d, ignore_errors=True)
    if os.path.exists(d + ".img"):
        os.unlink(d + ".img")


def fill(path):
    """Write path until the disk is full; its size."""
    n = 0
    with open(path, "wb", buffering=0) as f:
        block = b"\0" * 65536
        while True:
            try:
                n += f.write(block)
            except OSError:
                break
        while True:
            try:
                n += f.write(b"\0" * 512)
            except OSError:
                break
    return n


def t_disk_full():
    """The disk under the database fills up (another file takes it all)."""
    d, why = mount_tmpfs(8 << 20)
    if d is None:
        tap.skip("disk full", "cannot mount a tmpfs: %s" % why)
        return
    try:
        db = os.path.join(d, "chat.db")
        with Stack(["--db", db] + OPTS,
                   tap=tap, name="disk-full stack") as st:
            w = World(st, Db(db))
            filler = os.path.join(d, "filler")
            fill(filler)
            # Pages the log already has may take a few more rows: send
            # until one does not fit. Each 200 must stay.
            r, tries = None, 0
            for tries in range(1, 200):
                r = w.send(w.a, "filling %d " % tries + "x" * 1900)
                if r.status != 200:
                    break
            tap.ok(unavailable(r), "disk full: a send that does not fit is 503 unavailable "
                   "(after %d)" % tries, r.show())
            dd = w.during("disk full")
            os.unlink(filler)
            w.after("disk full", dd)
    finally:
        unmount(d)


def chattr(flag, paths):
    p = subprocess.run(["chattr", flag] + paths, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    return p.returncode == 0, p.stdout.decode(errors="replace").strip()


def t_read_only():
    """The database's files become read-only (chattr +i), then writable."""
    if not shutil.which("chattr"):
        tap.skip("read-only", "chattr is not installed (e2fsprogs)")
        return
    d, why = mount_ext2(16 << 20)
    if d is None:
        tap.skip("read-only", "cannot loop-mount an ext2 file system: %s" % why)
        return
    try:
        db = os.path.join(d, "chat.db")
        with Stack(["--db", db] + OPTS,
                   tap=tap, name="read-only stack") as st:
            w = World(st, Db(db))
            files = [p for p in (db, db + "-wal", db + "-shm", d) if os.path.exists(p)]
            good, why = chattr("+i", files)
            tap.ok(good, "chattr +i on the database's files", why)
            try:
                dd = w.during("read-only")
            finally:
                chattr("-i", files)
            w.after("read-only", dd)
    finally:
        unmount(d)


tap.run(t_locked)
tap.run(t_disk_full)
tap.run(t_read_only)
tap.done()
