#!/usr/bin/env python3
# Images: POST /api/image (multipart/form-data, judged by the bytes, the
# size limit, ?frame=1 for a legacy browser's iframe) and GET /api/image/ID
# (the bytes, their headers, who may see them) (docs/api.md, "Endpoints").
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import os
import re
import shutil
import signal
import struct
import sys
import tempfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (OMIT, Client, Stack, Tap, alive_check, events_of, login_client,
                     main_guard, raw_request, unique_nick, wait_until)

main_guard()
tap = Tap()


def png(w=2, h=2, seed=0):
    """A real PNG of w x h grey pixels."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff))
    raw = b"".join(b"\0" + bytes([(seed + x) % 256 for x in range(w)]) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00"
       b"\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"

BOUNDARY = "----chatdTestBoundary7MA4YWxkTrZu0gW"


def multipart(fields, file=None, filename="x.png", file_type="image/png"):
    """A multipart/form-data body as a browser makes it."""
    out = b""
    for k, v in fields:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                % (BOUNDARY, k)).encode() + (v.encode() if isinstance(v, str) else v) + b"\r\n"
    if file is not None:
        out += ("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                "Content-Type: %s\r\n\r\n" % (BOUNDARY, filename, file_type)).encode()
        out += file + b"\r\n"
    return out + ("--%s--\r\n" % BOUNDARY).encode()


def upload(c, data, room=OMIT, to=OMIT, client_id=OMIT, csrf=True, frame=False,
           filename="x.png", file_type="image/png", body=None, content_type=None,
           query=""):
    fields = []
    if csrf:
        fields.append(("csrf", c.csrf if csrf is True else csrf))
    for k, v in (("room", room), ("to", to), ("client_id", client_id)):
        if v is not OMIT:
            fields.append((k, v))
    if body is None:
        body = multipart(fields, data, filename, file_type)
    h = dict(c.auth_headers())
    h["Content-Type"] = content_type or "multipart/form-data; boundary=" + BOUNDARY
    q = "&".join(x for x in ("frame=1" if frame else "", query) if x)
    return raw_request(c.stack, "POST", "/api/image" + ("?" + q if q else ""), h, body,
                       source=c.source)


def get_image(c, iid):
    return raw_request(c.stack, "GET", "/api/image/%s" % iid, c.auth_headers(),
                       source=c.source)


def t_upload_and_get(st):
    a = login_client(st)
    b = login_client(st)
    a.catch_up()
    b.catch_up()
    for name, data, typ in (("PNG", png(), "image/png"), ("GIF", GIF, "image/gif"),
                            ("JPEG", JPEG, "image/jpeg"), ("WebP", WEBP, "image/webp")):
        # The declared type and name lie: only the bytes count.
        r = upload(a, data, filename="evil.svg", file_type="image/svg+xml")
        j = r.json if isinstance(r.json, dict) else {}
        tap.ok(r.status == 200 and isinstance(j.get("id"), int) and isinstance(j.get("image"), int),
               "%s upload: 200 {\"id\", \"image\"}" % name, r.show())
        if r.status != 200:
            continue
        evs = events_of(b.poll(timeout=5, advance=True), type="image")
        tap.ok(len(evs) == 1 and evs[0].get("id") == j["id"] and evs[0].get("image") == j["image"]
               and evs[0].get("from") == a.nick and evs[0].get("room") == "lobby"
               and "to" not in evs[0],
               "%s: others' polls get an image event with room, from and image" % name, repr(evs))
        g = get_image(b, j["image"])
        tap.ok(g.status == 200 and g.body == data, "%s: GET /api/image/ID gives the bytes back" % name,
               g.show())
        tap.eq(g.headers.get("content-type"), typ, "%s: with the type judged from the bytes" % name)
        tap.eq((g.headers.get("x-content-type-options") or "").lower(), "nosniff",
               "%s: nosniff" % name)
        tap.ok((g.headers.get("content-disposition") or "").lower().startswith("inline"),
               "%s: Content-Disposition inline" % name, repr(g.headers.get("content-disposition")))
        cc = (g.headers.get("cache-control") or "").lower()
        tap.ok("private" in cc and re.search(r"max-age=(\d+)", cc)
               and int(re.search(r"max-age=(\d+)", cc).group(1)) >= 86400,
               "%s: a long-lived private cache header" % name, repr(cc))
    h = a.history(limit=10)
    tap.ok(len(events_of(h, type="image")) == 4, "history shows the four images", h.show())
    a.logout()
    b.logout()


def t_private_image(st):
    a, b, c = login_client(st), login_client(st), login_client(st)
    for x in (a, b, c):
        x.catch_up()
    data = png(3, 1, seed=7)
    r = upload(a, data, to=b.nick.upper())
    j = r.json if isinstance(r.json, dict) else {}
    tap.eq(r.status, 200, "a private image: 200", r.show())
    if r.status != 200:
        return
    eb = events_of(b.poll(timeout=5, advance=True), type="image")
    tap.ok(len(eb) == 1 and eb[0].get("to") == b.nick and "room" not in eb[0],
           "the recipient's poll gets it, with to and no room", repr(eb))
    ea = events_of(a.poll(timeout=5, advance=True), type="image")
    tap.eq(len(ea), 1, "the sender's poll gets it too")
    ec = events_of(c.poll(timeout=0, advance=True), type="image")
    tap.eq(len(ec), 0, "a third person's poll does not")
    tap.eq(len(events_of(c.history(limit=50), type="image", sender=a.nick)), 0,
           "nor their history")
    tap.eq(len(events_of(b.history(limit=50), type="image", sender=a.nick)), 1,
           "the recipient's history has it")
    tap.ok(get_image(b, j["image"]).body == data, "the recipient may GET it")
    tap.ok(get_image(a, j["image"]).body == data, "the sender may GET it")
    g = get_image(c, j["image"])
    tap.ok(g.status == 404 and g.error == "not_found", "a third person gets 404 not_found", g.show())
    r = upload(a, data, to=unique_nick("Nobody"))
    tap.ok(r.status == 404 and r.error == "no_such_user", "an image to nobody online: 404 no_such_user",
           r.show())
    for x in (a, b, c):
        x.logout()


def t_refused(st):
    a = login_client(st)
    watcher = login_client(st)
    watcher.catch_up()
    before = st.count_events()

    def refused(r, status, code, label):
        tap.ok(r.status == status and r.error == code, "%s: %d %s" % (label, status, code), r.show())

    refused(upload(a, b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
                   filename="x.png", file_type="image/png"), 400, "bad_image", "SVG named .png")
    refused(upload(a, b"<html><body>hi</body></html>"), 400, "bad_image", "HTML")
    refused(upload(a, b"GIF8"), 400, "bad_image", "a truncated GIF header")
    refused(upload(a, b""), 400, "bad_image", "an empty file")
    refused(upload(a, None), 400, "bad_image", "a form without a file")
    refused(upload(a, png(), csrf=False), 403, "bad_csrf", "no CSRF token")
    refused(upload(a, png(), csrf="0" * 32), 403, "bad_csrf", "a wrong CSRF token")
    refused(upload(a, png(), room="bad room!"), 400, "bad_room", "a bad room")
    refused(upload(a, png(), body=b"--nope\r\n\r\n"), 400, "bad_request", "a malformed multipart body")
    refused(upload(a, png(), content_type="multipart/form-data"), 400, "bad_request",
            "multipart without a boundary")
    refused(upload(a, png(), content_type="image/png", body=png()), 400, "bad_request",
            "a bare image body")
    big = png() + b"\0" * (1024 * 1024)
    refused(upload(a, big), 413, "too_large", "an image over 1 MiB")
    refused(upload(a, b"\0" * (5 * 1024 * 1024)), 413, "too_large", "a 5 MiB body")
    nobody = Client(st)
    r = raw_request(st, "POST", "/api/image",
                    {"Content-Type": "multipart/form-data; boundary=" + BOUNDARY},
                    multipart([("csrf", "x")], png()))
    refused(r, 401, "no_session", "no session")
    r = raw_request(st, "GET", "/api/image", a.auth_headers())
    tap.eq(r.status, 405, "GET /api/image: 405", r.show())
    r = raw_request(st, "POST", "/api/image/1", a.auth_headers(), b"")
    tap.eq(r.status, 405, "POST /api/image/1: 405", r.show())
    tap.eq(st.count_events(), before, "refused uploads write nothing")
    tap.eq(len(events_of(watcher.catch_up(), type="image")), 0, "and nobody is shown an image")

    ok = upload(a, png())
    iid = (ok.json or {}).get("image") if isinstance(ok.json, dict) else None
    tap.eq(ok.status, 200, "then a good upload passes", ok.show())
    for path in ("0", "-1", "abc", "1x", "99999999999", "9" * 30, "%d/extra" % (iid or 1),
                 "0%d" % (iid or 1)):
        g = raw_request(st, "GET", "/api/image/" + path, a.auth_headers())
        tap.ok(g.status == 404 and g.error == "not_found", "GET /api/image/%s: 404 not_found" % path[:20],
               g.show())
    g = raw_request(st, "GET", "/api/image/%s" % iid, {})
    tap.ok(g.status == 401 and g.error == "no_session", "GET without a session: 401", g.show())
    a.logout()
    watcher.logout()
    del nobody


def t_client_id(st):
    a = login_client(st)
    r1 = upload(a, png(), client_id="img-1")
    r2 = upload(a, png(), client_id="img-1")
    tap.ok(r1.status == 200 and r2.status == 200 and r1.json == r2.json,
           "an upload retried with its client_id gives the same id and image", r1.show() + r2.show())
    m = a.send("a message first", client_id="img-2")
    r3 = upload(a, png(), client_id="img-2")
    tap.ok(r3.status == 200 and isinstance(r3.json, dict) and r3.json.get("id") == (m.json or {}).get("id")
           and "image" not in r3.json,
           "a client_id first used by a message: that message's id, and no image", r3.show())
    a.logout()


def t_frame(st):
    a = login_client(st)
    data = png(4, 4, seed=3)
    r = upload(a, data, frame=True)
    ct = (r.headers.get("content-type") or "").replace(" ", "").lower()
    tap.ok(r.status == 200 and ct == "text/html;charset=utf-8",
           "?frame=1: 200 text/html", r.show())
    m = re.search(rb'<pre id="result">(.*)</pre>', r.body, re.S)
    import json
    j = json.loads(m.group(1)) if m else None
    tap.ok(isinstance(j, dict) and isinstance(j.get("id"), int) and isinstance(j.get("image"), int),
           "the page's #result holds the JSON answer", r.body[:300])
    tap.eq((r.headers.get("x-content-type-options") or "").lower(), "nosniff", "frame page: nosniff")
    tap.ok("default-src 'none'" in (r.headers.get("content-security-policy") or ""),
           "frame page: may run nothing (CSP)")
    if j:
        tap.ok(get_image(a, j["image"]).body == data, "the framed upload is stored")
    r = upload(a, b"not an image", frame=True)
    m = re.search(rb'<pre id="result">(.*)</pre>', r.body, re.S)
    j = json.loads(m.group(1)) if m else None
    tap.ok(r.status == 400 and isinstance(j, dict) and j.get("error") == "bad_image"
           and b"<" not in m.group(1),
           "?frame=1 errors come as a page too, the JSON still escaped", r.show())
    tap.ok(len(r.body) > 512, "an error page is over 512 bytes (old IE shows its own below)",
           "%d bytes" % len(r.body))
    r = upload(a, png(), frame=True, query="x=%zz")
    tap.ok(r.status == 400 and (r.headers.get("content-type") or "").startswith("text/html")
           and b"bad_request" in r.body,
           "?frame=1 with a malformed query string: 400 as a page too", r.show())
    r = upload(a, png() + b"\0" * (1100 * 1024), frame=True)
    tap.ok(r.status == 413 and b"too_large" in r.body
           and (r.headers.get("content-type") or "").startswith("text/html"),
           "?frame=1 413 too_large as a page", r.show())
    a.logout()


def image_bytes(st):
    """(bytes in images, image_store's running total) from the database."""
    db = st.db()
    try:
        return (db.execute("SELECT coalesce(sum(size), 0) FROM images").fetchone()[0],
                db.execute("SELECT bytes FROM image_store").fetchone()[0])
    finally:
        db.close()


def shell(st, sql, *args):
    """Run one statement on the database and commit, as the sqlite3 shell."""
    db = st.db(readonly=False)
    try:
        with db:
            db.execute(sql, args)
    finally:
        db.close()


def t_image_quota(st):
    """--image-quota 10240/600: a session's third 4 KB image within the window
    is 429 rate_limited with a Retry-After, writes nothing, and another
    session may still upload."""
    a, b = login_client(st), login_client(st)
    pic = png() + b"\0" * 4000
    before = st.count_events()
    r1, r2, r3 = upload(a, pic), upload(a, pic), upload(a, pic)
    tap.ok(r1.status == 200 and r2.status == 200, "two 4 KB images fit in 10 KB",
           r1.show() + r2.show())
    retry = r3.headers.get("retry-after", "")
    tap.ok(r3.status == 429 and r3.error == "rate_limited"
           and retry.isdigit() and 1 <= int(retry) <= 600,
           "the third is 429 rate_limited, Retry-After %r of at most 600 s" % retry, r3.show())
    tap.eq(st.count_events(), before + 2, "and writes nothing")
    r = upload(b, pic)
    tap.eq(r.status, 200, "another session's image is its own quota", r.show())
    r = a.send("text is not counted")
    tap.eq(r.status, 200, "messages do not count against the image quota", r.show())
    used, total = image_bytes(st)
    tap.eq(total, used, "image_store's total is the bytes of the images (%d)" % used)
    a.logout()
    b.logout()


def t_image_store_full(st):
    """--image-store 10000: an upload that would take all images past 10,000
    bytes is 503 unavailable and writes nothing; once an image is deleted in
    the sqlite3 shell (as sql/queries.sql shows), uploads pass again."""
    a, b = login_client(st), login_client(st)
    pic = png() + b"\0" * 4000
    r1, r2 = upload(a, pic), upload(b, pic)
    tap.ok(r1.status == 200 and r2.status == 200, "two 4 KB images fit in 10,000 bytes",
           r1.show() + r2.show())
    before = st.count_events()
    r = upload(b, pic)
    tap.ok(r.status == 503 and r.error == "unavailable", "the third is 503 unavailable", r.show())
    tap.eq(st.count_events(), before, "and writes nothing")
    shell(st, "DELETE FROM images WHERE id = ?", r1.json["image"])
    used, total = image_bytes(st)
    tap.eq(total, used, "a DELETE in the shell lowers the total too (%d)" % total)
    r = upload(b, pic)
    tap.eq(r.status, 200, "then an upload passes again", r.show())
    g = get_image(a, r1.json["image"])
    tap.ok(g.status == 404 and g.error == "not_found", "a deleted image is 404 not_found", g.show())
    shell(st, "UPDATE images SET size = size + 7 WHERE id = ?", r2.json["image"])
    used, total = image_bytes(st)
    tap.eq(total, used, "an UPDATE of a size in the shell keeps the total right (%d)" % total)
    shell(st, "DELETE FROM image_store")
    before = st.count_events()
    r = upload(b, png())
    tap.ok(r.status == 503 and r.error == "unavailable" and st.count_events() == before,
           "with the total gone, uploads are 503 and write nothing", r.show())
    shell(st, "INSERT OR REPLACE INTO image_store (id, bytes)"    # sql/005's repair
          " SELECT 1, coalesce(sum(size), 0) FROM images")
    r = upload(b, png())
    tap.eq(r.status, 200, "put back, uploads pass again", r.show())
    a.logout()
    b.logout()


def t_reload_max_image(st, conf_path):
    """--max-image raised by SIGHUP: larger uploads pass at once, also
    those too big for the socket's buffer (read whole before libfcgi)."""
    a = login_client(st)
    big = png() + b"\0" * 1500000  # judged by its first bytes: a PNG
    r = upload(a, big)
    tap.ok(r.status == 413 and r.error == "too_large",
           "1.5 MB under max-image = 1 MiB: 413 too_large", r.show())
    with open(conf_path, "w") as f:
        f.write("max-image = 2097152\n")
    st.signal_chatd(signal.SIGHUP)
    tap.ok(wait_until(lambda: "max-image 1048576 -> 2097152" in
                      open(st.path("chatd.log")).read(), 20),
           "SIGHUP: chatd says max-image changed")
    r = upload(a, big)
    tap.eq(r.status, 200, "then 1.5 MB passes, without a restart", r.show())
    if r.status == 200:
        g = a.request("GET", "/api/image/%d" % r.json["image"])
        tap.ok(g.status == 200 and g.body == big, "and comes back byte for byte")
    a.logout()


with Stack(tap=tap) as st:
    for t in (t_upload_and_get, t_private_image, t_refused, t_client_id, t_frame):
        tap.run(t, st)
    alive_check(tap, st, "the image tests")
with Stack(["--max-image", "8192", "--image-quota", "10240/600"], tap=tap,
           name="image quota stack") as st:
    tap.run(t_image_quota, st)
with Stack(["--max-image", "8192", "--image-store", "10000"], tap=tap,
           name="image store stack") as st:
    tap.run(t_image_store_full, st)
# A settings file chatd reads again on SIGHUP (tools/stack: CHATD_CONFIG).
conf_dir = tempfile.mkdtemp(prefix="chatd-image-conf-")
os.chmod(conf_dir, 0o755)
conf_path = os.path.join(conf_dir, "chatd.conf")
with open(conf_path, "w") as f:
    f.write("max-image = 1048576\n")
os.chmod(conf_path, 0o666)
os.environ["CHATD_CONFIG"] = conf_path
try:
    with Stack(tap=tap, name="reload stack") as st:
        tap.run(t_reload_max_image, st, conf_path)
finally:
    del os.environ["CHATD_CONFIG"]
    shutil.rmtree(conf_dir, ignore_errors=True)
tap.done()
