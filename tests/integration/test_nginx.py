#!/usr/bin/env python3
# nginx.conf.example point by point, through the real nginx tools/stack
# renders from it: the API's JSON for each error nginx answers itself, the
# page's security headers, gzip and cache headers for static files only,
# the TLS block with a Secure cookie over HTTPS alone, /api/metrics and
# /api/health open to the local host only, and the stack's main context
# sized for 10,000 waiting browsers from the descriptor limit.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
import gzip
import http.client
import os
import re
import resource
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chatlib import (TOP, Client, Stack, Tap, alive_check, login_client,  # noqa: E402
                     main_guard, raw_bytes, raw_request, transport_problems,
                     wait_until)

tap = Tap()


def json_error(r, status, code, label):
    """r is status with the API's JSON error code and headers."""
    probs = transport_problems(r) if not r.from_nginx() else ["nginx's own HTML page"]
    return tap.ok(r.status == status and r.error == code and not probs,
                  "%s: %d %s as the API's JSON" % (label, status, code),
                  "%s\n%s" % (r.show(), "; ".join(probs)))


# ---------------------------------------------------------------- errors

def t_errors(st):
    r = raw_bytes(st, b"GARBAGE\r\n\r\n")
    json_error(r, 400, "bad_request", "a request line nginx cannot read")
    r = raw_bytes(st, b"GET /api/users HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    json_error(r, 400, "bad_request", "two Host headers")
    r = raw_request(st, "TRACE", "/api/users")
    json_error(r, 405, "method_not_allowed", "TRACE")
    r = raw_request(st, "POST", "/api/send", {"Content-Type": "application/x-www-form-urlencoded"},
                    b"text=" + b"a" * 100000)
    json_error(r, 413, "too_large", "a send of 100 KB")
    r = raw_request(st, "POST", "/api/image", {"Content-Type": "multipart/form-data; boundary=x"},
                    b"\0" * (5 << 20))
    json_error(r, 413, "too_large", "an upload of 5 MB")
    r = raw_request(st, "GET", "/api/users?" + "a" * 9000)
    json_error(r, 414, "bad_request", "a URI of 9,000 bytes")
    r = raw_request(st, "GET", "/api/users", {"Cookie": "c=" + "a" * 9000})
    json_error(r, 400, "bad_request", "a Cookie header of 9,000 bytes (nginx's 494)")
    r = raw_request(st, "GET", "/chatd-error/internal")
    tap.ok(r.status == 404, "the error pages are internal: 404 from outside", r.show())
    t_error_500(st)
    t_error_408(st)


def t_error_500(st):
    # An upload over 1088k goes to a temporary file first; with the
    # directory made a plain file, nginx cannot write it: its own 500.
    body = st.path("nginx", "tmp", "body")
    saved = body + ".saved"
    os.rename(body, saved)
    try:
        open(body, "w").close()
        r = raw_request(st, "POST", "/api/image",
                        {"Content-Type": "multipart/form-data; boundary=x"}, b"\0" * (1500 << 10))
        json_error(r, 500, "unavailable", "nginx cannot write a body's temporary file")
    finally:
        os.unlink(body)
        os.rename(saved, body)


def t_error_408(st):
    # A body that stops: after client_body_timeout (10 s) nginx ends the
    # request without an answer (a 408 is logged, none is sent) and resets
    # the connection (reset_timedout_connection). Nothing is written.
    before = st.count_events()
    s = socket.create_connection((st.host, st.port), timeout=40)
    t0 = time.monotonic()
    s.sendall(b"POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Type: "
              b"application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ntext=abc")
    got = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            got += d
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    took = time.monotonic() - t0
    tap.ok(b"<html" not in got and 5 < took < 35 and st.count_events() == before,
           "a body that stops is cut off at client_body_timeout, with no HTML "
           "(%.0f s, %d bytes)" % (took, len(got)))
    with open(st.path("nginx", "access.log"), "rb") as f:
        log = f.read()
    tap.ok(re.search(rb'"POST /api/send HTTP/1.1" 408 ', log) is not None,
           "nginx logged it as 408")


def t_upstream_errors(tls_dir):
    """502 and 504 from nginx, on a stack of their own (chatd stopped)."""
    with Stack(tap=tap, name="upstream-error stack") as st:
        c = login_client(st)
        # 504: chatd frozen, a request waits for fastcgi_read_timeout (75 s)
        os.kill(st.chatd_pid(), signal.SIGSTOP)
        try:
            r = c.users(timeout=120)
            json_error(r, 503, "unavailable", "chatd not answering (nginx's 504)")
        finally:
            os.kill(st.chatd_pid(), signal.SIGCONT)
        with open(st.path("nginx", "error.log"), "rb") as f:
            tap.ok(b"upstream timed out" in f.read(), "nginx's error log says why: upstream timed out")
        # 502: chatd stopped, its socket gone
        st.signal_chatd(signal.SIGTERM)
        wait_until(lambda: not st.chatd_alive(), 15)
        r = c.users(timeout=20)
        json_error(r, 503, "unavailable", "chatd stopped (nginx's 502)")
        with open(st.path("nginx", "error.log"), "rb") as f:
            tap.ok(b"failed (2: No such file or directory) while connecting to upstream" in f.read(),
                   "nginx's error log says why: no socket to connect to")


# ---------------------------------------------------------------- the page

def csp_directives(value):
    out = {}
    for part in (value or "").split(";"):
        words = part.split()
        if words:
            out[words[0].lower()] = words[1:]
    return out


def t_page_headers(st):
    for path in ("/", "/chat.js", "/chat.css"):
        r = raw_request(st, "GET", path)
        csp = csp_directives(r.headers.get("content-security-policy"))
        script = csp.get("script-src", csp.get("default-src"))
        tap.ok(r.status == 200 and script is not None and "'unsafe-inline'" not in script
               and "'unsafe-eval'" not in script and not any(s.startswith("'nonce") for s in script),
               "%s: Content-Security-Policy allows no inline script" % path,
               r.headers.get("content-security-policy"))
        tap.ok(csp.get("frame-ancestors") == ["'none'"]
               and (r.headers.get("x-frame-options") or "").upper() == "DENY",
               "%s: frame-ancestors 'none' and X-Frame-Options DENY" % path)
        tap.ok((r.headers.get("x-content-type-options") or "").lower() == "nosniff",
               "%s: X-Content-Type-Options nosniff" % path)
        tap.ok(r.headers.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin"),
               "%s: Referrer-Policy" % path, r.headers.get("referrer-policy"))
    with open(os.path.join(TOP, "www", "index.html"), "rb") as f:
        page = f.read().decode("utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S | re.I)
    tap.ok(scripts and all(re.search(r"\bsrc=", a) and not body.strip() for a, body in scripts),
           "www/index.html has no inline script (%d scripts, all files)" % len(scripts))
    tap.ok(not re.search(r"\son[a-z]+\s*=", page, re.I) and "javascript:" not in page.lower(),
           "www/index.html has no event-handler attribute or javascript: URL")
    c = login_client(st)
    r = c.users()
    tap.ok("x-frame-options" not in r.headers and "frame-ancestors" not in
           (r.headers.get("content-security-policy") or ""),
           "/api/ answers may be framed (the upload's hidden frame)", r.show())


def t_gzip_cache(st):
    with open(os.path.join(TOP, "www", "chat.js"), "rb") as f:
        js = f.read()
    r = raw_request(st, "GET", "/chat.js", {"Accept-Encoding": "gzip"})
    tap.ok(r.headers.get("content-encoding") == "gzip" and gzip.decompress(r.body) == js,
           "chat.js comes gzipped, and unzips to the file (%d -> %d bytes)"
           % (len(js), len(r.body)))
    tap.ok("accept-encoding" in (r.headers.get("vary") or "").lower(), "with Vary: Accept-Encoding")
    c = login_client(st)
    for i in range(20):
        c.must_send("a message long enough that gzip would take it %d" % i)
    for path in ("/api/history", "/api/poll?since=0&timeout=0"):
        r = c.request("GET", path, headers={"Accept-Encoding": "gzip, deflate, br"})
        tap.ok(r.status == 200 and len(r.body) > 256 and "content-encoding" not in r.headers
               and r.headers.get("cache-control") == "no-store",
               "%s: never compressed (BREACH), no-store (%d bytes)" % (path, len(r.body)),
               r.show())
    r = raw_request(st, "GET", "/")
    tap.ok(r.headers.get("cache-control") == "no-cache" and r.headers.get("etag"),
           "index.html: Cache-Control no-cache, with an ETag", r.headers.get("cache-control"))
    r2 = raw_request(st, "GET", "/", {"If-None-Match": r.headers.get("etag") or "x"})
    tap.ok(r2.status == 304, "index.html revalidates: 304", r2.show())
    for path in ("/chat.js", "/chat.css"):
        r = raw_request(st, "GET", path)
        m = re.search(r"max-age=(\d+)", r.headers.get("cache-control") or "")
        tap.ok(m and int(m.group(1)) >= 600, "%s: cached (%s)" % (path, r.headers.get("cache-control")))


# ---------------------------------------------------------------- TLS

def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def https(st, cert, method, path, headers=None, body=None):
    u = open(st.path("tls_url")).read().strip()
    port = int(u.rsplit(":", 1)[1])
    ctx = ssl.create_default_context(cafile=cert)
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30,
                                       source_address=("127.0.0.5", 0))
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


def cookie_of(headers):
    return [v for k, v in headers if k.lower() == "set-cookie"]


def t_tls(tls_dir):
    cert, key = make_cert(tls_dir)
    with Stack(tap=tap, name="TLS stack", stack_args=["--tls", cert, key]) as st:
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        status, h, body = https(st, cert, "POST", "/api/login", form, "nick=tlsuser")
        cookies = cookie_of(h)
        tap.ok(status == 200 and len(cookies) == 1 and cookies[0].endswith("; Secure")
               and "HttpOnly" in cookies[0] and "SameSite=Strict" in cookies[0],
               "over HTTPS the session cookie is Secure", cookies)
        tok = re.search(r"chat_session=([^;]*)", cookies[0] if cookies else "")
        csrf = re.search(rb'"csrf":"([^"]*)"', body)
        status, h, _ = https(st, cert, "POST", "/api/logout",
                             {"Cookie": "chat_session=" + (tok.group(1) if tok else ""),
                              "X-CSRF-Token": csrf.group(1).decode() if csrf else ""})
        tap.ok(status == 200 and all("; Secure" in c for c in cookie_of(h)) and cookie_of(h),
               "over HTTPS the logout's cookie is Secure too", cookie_of(h))
        c = Client(st)
        r = c.login()
        sc = r.header_all("set-cookie")
        tap.ok(r.status == 200 and sc and "Secure" not in sc[0],
               "over plain HTTP it is not (a chat without TLS keeps its cookie)", sc)
        status, h, _ = https(st, cert, "GET", "/")
        hd = dict((k.lower(), v) for k, v in h)
        tap.ok(status == 200 and hd.get("strict-transport-security", "").startswith("max-age="),
               "the page over HTTPS has Strict-Transport-Security", hd.get("strict-transport-security"))
        r = raw_request(st, "GET", "/")
        tap.ok("strict-transport-security" not in r.headers,
               "and over plain HTTP it has not")
        status, h, body = https(st, cert, "GET", "/api/users?x=" + "a" * 9000)
        tap.ok(status == 414 and b'"bad_request"' in body, "nginx's errors are JSON over HTTPS too",
               body[:200])


# ---------------------------------------------------------------- metrics

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                    r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)?\})? (-?[0-9.e+]+|\+Inf|NaN)$')


def scrape(st, source=None):
    """GET /api/metrics: (Resp, {name or name{labels}: value}, problems)."""
    r = raw_request(st, "GET", "/api/metrics", source=source)
    vals, probs, typed = {}, [], set()
    for line in r.body.decode("utf-8", "replace").splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        m = SAMPLE.match(line)
        if not m:
            probs.append("bad line %r" % line)
            continue
        name = m.group(1)
        if not any(name == t or name.startswith(t + "_") for t in typed):
            probs.append("no TYPE for %s" % name)
        vals[name + (m.group(2) or "")] = float(m.group(5))
    return r, vals, probs


def t_metrics(st):
    r, vals, probs = scrape(st)
    tap.ok(r.status == 200 and r.headers.get("content-type") ==
           "text/plain; version=0.0.4; charset=utf-8" and not probs,
           "GET /api/metrics from 127.0.0.1: Prometheus text format 0.0.4", probs[:5])
    for name in ("chatd_polls_waiting", "chatd_sessions_live", "chatd_sends_total",
                 "chatd_events_delivered_total", "chatd_store_errors_total",
                 "chatd_commit_seconds_count", "chatd_database_bytes", "chatd_wal_bytes",
                 "chatd_uptime_seconds"):
        tap.ok(name in vals, "metrics has %s" % name)
    version = subprocess.run([os.environ.get("CHATD", os.path.join(TOP, "build", "src", "chatd")),
                              "--version"], stdout=subprocess.PIPE).stdout.decode().split()[-1]
    info = [k for k in vals if k.startswith("chatd_build_info{")]
    tap.ok(len(info) == 1 and 'version="%s"' % version in info[0] and 'sqlite="3.' in info[0]
           and 'fcgi="' in info[0], "build info: chatd's, SQLite's and libfcgi's versions", info)
    tap.ok(vals.get("chatd_database_bytes", 0) > 0, "the database's size")

    a = login_client(st)
    a.catch_up()
    # Five sessions of four polls each: --session-polls (4) is per session
    # and per worker, so none of them is answered early.
    readers = [login_client(st) for _ in range(5)]
    for b in readers:
        b.catch_up()
    _, v0, _ = scrape(st)
    n = 20
    ds = [readers[i % 5].poll_deferred(timeout=30) for i in range(n)]
    # Two workers: each parked poll holds a connection to one of them, and
    # a scrape reaches either; ten at once take several connections, so
    # both workers answer some, and each must count every worker's polls.
    def shows(want):
        got = [None] * 10
        def one(i):
            got[i] = scrape(st)[1].get("chatd_polls_waiting")
        ts = [threading.Thread(target=one, args=(i,)) for i in range(10)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return all(g == want for g in got)
    tap.ok(wait_until(lambda: shows(n), 15, 0.2),
           "%d parked polls on 2 workers: every scrape says chatd_polls_waiting %d" % (n, n))
    mid = a.must_send("counted")
    got = [d.join() for d in ds]
    tap.ok(all(mid in [e.get("id") for e in g.events] for g in got), "the parked polls got the send")
    tap.ok(wait_until(lambda: shows(0), 15, 0.2), "then chatd_polls_waiting 0")
    _, v1, _ = scrape(st)
    tap.ok(v1["chatd_sends_total"] - v0["chatd_sends_total"] == 1,
           "chatd_sends_total counts the send (+%g)" % (v1["chatd_sends_total"] - v0["chatd_sends_total"]))
    tap.ok(v1["chatd_events_delivered_total"] - v0["chatd_events_delivered_total"] >= n,
           "chatd_events_delivered_total counts its %d deliveries" % n)
    tap.ok(v1["chatd_commit_seconds_count"] - v0["chatd_commit_seconds_count"] >= 1
           and v1['chatd_commit_seconds_bucket{le="+Inf"}'] == v1["chatd_commit_seconds_count"],
           "the commit histogram counts the send's commit")
    k = 'chatd_requests_total{endpoint="/api/login",status="200"}'
    tap.ok(v1.get(k, 0) >= 2, "requests by endpoint and status: %s %g" % (k, v1.get(k, 0)))
    a.request("GET", "/api/search?q=counted")
    a.request("GET", "/api/nothing-here")
    a.request("GET", "/api/nothing-here-either")
    _, v2, _ = scrape(st)
    tap.ok(v2.get('chatd_requests_total{endpoint="other",status="404"}', 0) >= 2
           and not any("nothing-here" in key for key in v2),
           "unknown paths are counted as endpoint=\"other\", never as series of their own")
    k = 'chatd_requests_total{endpoint="/api/search",status="200"}'
    tap.ok(v2.get(k, 0) >= 1, "searches are counted as /api/search: %s %g" % (k, v2.get(k, 0)))
    tap.ok(v2["chatd_sessions_live"] >= 2, "chatd_sessions_live counts the sessions")

    r, _, _ = scrape(st, source="127.0.0.2")
    json_error(r, 403, "forbidden", "/api/metrics from 127.0.0.2")


def t_health(st):
    r = raw_request(st, "GET", "/api/health")
    tap.ok(r.status == 200 and r.json == {"ok": True}, "GET /api/health: 200 {\"ok\":true}", r.show())
    r = raw_request(st, "GET", "/api/health", source="127.0.0.2")
    json_error(r, 403, "forbidden", "/api/health from 127.0.0.2")
    _, v0, _ = scrape(st)
    db = st.db(readonly=False)
    db.execute("ALTER TABLE sessions RENAME TO sessions_away")
    db.commit()
    try:
        r = raw_request(st, "GET", "/api/health")
        json_error(r, 503, "unavailable", "/api/health while the store cannot answer")
        _, v1, _ = scrape(st)
        tap.ok(v1["chatd_store_errors_total"] > v0["chatd_store_errors_total"],
               "chatd_store_errors_total counts it")
    finally:
        db.execute("ALTER TABLE sessions_away RENAME TO sessions")
        db.commit()
        db.close()
    r = raw_request(st, "GET", "/api/health")
    tap.ok(r.status == 200, "and 200 again once it answers", r.show())


# ---------------------------------------------------------------- sizing

def t_sizing(st):
    with open(st.path("nginx", "nginx.conf")) as f:
        conf = f.read()
    w = int(re.search(r"worker_processes (\d+);", conf).group(1))
    nofile = int(re.search(r"worker_rlimit_nofile (\d+);", conf).group(1))
    conns = int(re.search(r"worker_connections (\d+);", conf).group(1))
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    limit = 32768 if hard == resource.RLIM_INFINITY else min(hard, 32768)
    tap.ok(nofile == limit and conns + 1024 <= nofile,
           "the stack's nginx takes the hard descriptor limit (%d, at most 32,768) with "
           "1,024 to spare (worker_rlimit_nofile %d, worker_connections %d)"
           % (hard, nofile, conns))
    if limit >= 20000:
        tap.ok(w * (conns - 1024) >= 1.5 * 2 * 10000,
               "and holds 10,000 waiting browsers by nginx.conf.example's formula "
               "(%d workers x %d)" % (w, conns))
    else:
        tap.skip("10,000 waiting browsers fit", "descriptor limit %d below 20,000" % hard)


def main():
    main_guard()
    if not shutil.which("openssl"):
        skip_reason = "openssl is not installed"
        print("1..0 # SKIP " + skip_reason)
        sys.exit(0)
    tls_dir = os.path.join("/tmp", "chatd-tls-%d" % os.getpid())
    os.makedirs(tls_dir, exist_ok=True)
    # The 504 waits 75 s for nginx's fastcgi_read_timeout: meanwhile the
    # rest runs on other stacks.
    slow = threading.Thread(target=tap.run, args=(t_upstream_errors, tls_dir))
    slow.start()
    try:
        with Stack(tap=tap, workers=2, name="nginx stack") as st:
            tap.run(t_errors, st)
            tap.run(t_page_headers, st)
            tap.run(t_gzip_cache, st)
            tap.run(t_metrics, st)
            tap.run(t_health, st)
            tap.run(t_sizing, st)
            alive_check(tap, st, "the nginx tests")
        tap.run(t_tls, tls_dir)
        slow.join()
    finally:
        shutil.rmtree(tls_dir, ignore_errors=True)
    tap.done()


if __name__ == "__main__":
    main()
