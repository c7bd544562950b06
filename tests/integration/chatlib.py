# chatlib: the harness the integration tests share.
#
# Each test file starts its own private chatd + nginx with tools/stack (a
# Stack), talks to it like a browser would through Clients, and reports in
# TAP version 13 for automake's tap-driver.sh (a Tap). Long polls are tested
# the way the redis suite tests blocking commands: send the request now
# (Client.poll_deferred), do something else, read the answer later (.join()).
#
# Python 3 standard library only.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.

import errno
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
STACK_TOOL = os.environ.get("CHATD_STACK_TOOL", os.path.join(TOP, "tools", "stack"))

# How long any single HTTP exchange may take before the test gives up on it:
# longer than the longest poll a test asks for (60 s) plus nginx's margin.
HTTP_TIMEOUT = 80

OMIT = object()  # a parameter value meaning "do not send this parameter"


# ---------------------------------------------------------------- TAP

class Tap:
    """A tiny TAP version 13 producer.

    ok/eq record one test point each; run() calls a test function and turns
    an exception into a `not ok` instead of aborting the file; done() prints
    the plan and exits 1 if anything failed."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        self.failures = []
        self.lock = threading.Lock()
        self._print("TAP version 13")
        sys.excepthook = self._uncaught

    def _uncaught(self, etype, e, tb):
        """An exception outside tap.run (a stack that will not start):
        say why, and bail out rather than end without a plan."""
        traceback.print_exception(etype, e, tb)
        self.ok(False, "uncaught %s: %s" % (etype.__name__, _short(str(e), 200)))
        self.bail("%s: %s" % (etype.__name__, _short(str(e), 200)))

    def _print(self, line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            self._print("# " + line)

    def ok(self, cond, name, diag=None):
        with self.lock:
            self.n += 1
            name = re.sub(r"[\r\n#]", " ", str(name))
            if cond:
                self._print("ok %d - %s" % (self.n, name))
            else:
                self.failed += 1
                self.failures.append(name)
                self._print("not ok %d - %s" % (self.n, name))
                if diag is not None:
                    self.diag(diag)
        return bool(cond)

    def eq(self, got, want, name, diag=None):
        good = got == want
        d = None
        if not good:
            d = "got:  %s\nwant: %s" % (_short(got), _short(want))
            if diag is not None:
                d += "\n" + str(diag)
        return self.ok(good, name, d)

    def skip(self, name, reason):
        with self.lock:
            self.n += 1
            self._print("ok %d - %s # SKIP %s" % (self.n, name, reason))

    def run(self, fn, *args):
        """Run one test function; an exception is a `not ok`, not the end."""
        name = getattr(fn, "__name__", str(fn))
        t0 = time.monotonic()
        try:
            fn(*args)
            self.diag("%s: %.1f s" % (name, time.monotonic() - t0))
        except Exception as e:
            self.ok(False, "%s raised %s: %s" % (name, type(e).__name__,
                                                _short(str(e), 200)),
                    traceback.format_exc())

    def bail(self, reason):
        self._print("Bail out! " + reason.replace("\n", " "))
        sys.exit(1)

    def done(self):
        check_headers_summary(self)
        self._print("1..%d" % self.n)
        if self.failed:
            self.diag("failed %d of %d: %s" % (self.failed, self.n,
                                                "; ".join(self.failures)))
        sys.exit(1 if self.failed else 0)


def _short(v, limit=600):
    s = v if isinstance(v, str) else repr(v)
    return s if len(s) <= limit else s[:limit] + "...(%d chars)" % len(s)


def skip_all(reason):
    """The whole file cannot run (a dependency is truly absent): a TAP
    skip, which automake's tap-driver.sh counts as SKIP (exit 0: the
    driver would count any other status as an error)."""
    print("1..0 # SKIP " + reason)
    sys.exit(0)


# ---------------------------------------------------------------- the stack

def _tail(path, lines=40):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "(%s)" % e
    text = data.decode("utf-8", "replace").splitlines()
    return "\n".join(text[-lines:])


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie nobody reaps yet counts as gone
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        return True


def sqlite_shell(st, sql):
    """Run sql in the sqlite3 shell on the stack's database; its output
    (AssertionError if the shell fails)."""
    p = subprocess.run(["sqlite3", "-bail", "-batch", st.path("chat.db")],
                       input=".timeout 10000\n" + sql, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("sqlite3 failed (%d): %s" % (p.returncode, p.stderr.strip()))
    return p.stdout.strip()


def search_mark(st):
    """The search indexer's mark: events up to it are in the index."""
    return int(sqlite_shell(st, "SELECT hi FROM search_indexed;"))


def fts_ids(st, word):
    """The ids the search index itself has for word (no join with events)."""
    out = sqlite_shell(st, "SELECT rowid FROM events_fts WHERE events_fts"
                           " MATCH '\"%s\"' ORDER BY rowid;" % word)
    return [int(x) for x in out.split()]


def newest_schema():
    """The newest schema version: the count of the numbered sql/ files."""
    return len([f for f in os.listdir(os.path.join(TOP, "sql"))
                if f[:3].isdigit() and f.endswith(".sql")])


def wait_until(pred, timeout, step=0.05):
    """Call pred until it returns something true or timeout seconds pass."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


class StackError(Exception):
    pass


class Stack:
    """A private chatd + nginx in a fresh directory under /tmp.

    with Stack(["--rate-limit", "3/60"], workers=2, tap=tap) as st: ...
    starts the servers, and at exit stops them and removes the directory
    (kept if CHATD_TEST_KEEP is set). If the block raised, or tap recorded a
    failure meanwhile, the tail of chatd.log and nginx's error.log goes to
    stderr."""

    def __init__(self, chatd_args=(), workers=None, tap=None, name="stack",
                 nofile=None, stack_args=()):
        self.chatd_args = list(chatd_args)
        self.stack_args = list(stack_args)  # tools/stack's own: --tls C K
        self.workers = workers
        self.nofile = nofile    # chatd's descriptor limit, if not inherited
        self.tap = tap
        self.name = name
        self.dir = None
        self.url = None
        self.host = None
        self.port = None

    # -- lifecycle

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="chatd-it-", dir="/tmp")
        self._failed_before = self.tap.failed if self.tap else 0
        try:
            self.start()
        except BaseException:
            self.dump_logs("stack start failed")
            self._cleanup()
            raise
        return self

    def __exit__(self, etype, e, tb):
        failed = etype is not None or (
            self.tap is not None and self.tap.failed > self._failed_before)
        if failed:
            self.dump_logs("failure while %s was running" % self.name)
        try:
            self.stop()
        finally:
            self._cleanup()
        return False

    def _cleanup(self):
        if self.dir and not os.environ.get("CHATD_TEST_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)
        elif self.dir:
            sys.stderr.write("chatlib: kept %s\n" % self.dir)

    def _stack(self, *args):
        # A session of its own: chatd (started by the script in the
        # background) gets a process group we can signal as a whole without
        # touching the test runner's group.
        env = dict(os.environ)
        if self.nofile is not None:
            env["CHATD_NOFILE"] = str(self.nofile)
        p = subprocess.run([STACK_TOOL] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, start_new_session=True,
                           timeout=60, env=env)
        out = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0:
            raise StackError("tools/stack %s failed (%d): %s"
                             % (args[0], p.returncode, out.strip()))
        return out

    def start(self):
        """Start chatd and nginx in self.dir (also on an existing dir)."""
        args = ["start", self.dir]
        if self.workers is not None:
            args += ["--workers", str(self.workers)]
        args += self.stack_args
        if self.chatd_args:
            args += ["--"] + self.chatd_args
        self._stack(*args)
        with open(os.path.join(self.dir, "url")) as f:
            self.url = f.read().strip()
        u = urllib.parse.urlsplit(self.url)
        self.host, self.port = u.hostname, u.port
        # nginx is up once it accepts; chatd once its socket exists (the
        # tool waited for that). One cheap request makes sure of both.
        def up():
            try:
                r = raw_request(self, "GET", "/api/users", timeout=5)
                return r.status != 502
            except OSError:
                return False
        if not wait_until(up, 10, 0.1):
            raise StackError("stack at %s does not answer" % self.url)

    def stop(self):
        if self.dir and os.path.isdir(self.dir):
            self._stack("stop", self.dir)

    def restart(self):
        self.stop()
        self.start()

    # -- the daemon process

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def chatd_pid(self):
        with open(self.path("chatd.pid")) as f:
            return int(f.read().strip())

    def signal_chatd(self, sig):
        os.kill(self.chatd_pid(), sig)

    def kill9_chatd(self):
        """kill -9 chatd and any processes it forked (its process group)."""
        pid = self.chatd_pid()
        try:
            pgid = os.getpgid(pid)
        except ProcessLookupError:
            return
        if pgid != os.getpgrp() and pgid != os.getpid():
            os.killpg(pgid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
        if not wait_until(lambda: not _pid_alive(pid), 10):
            raise StackError("chatd %d survived kill -9" % pid)

    def chatd_pids(self):
        """chatd's pid and those of the processes it forked."""
        master = self.chatd_pid()
        pids = [master]
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == master:
                pids.append(int(d))
        return pids

    def chatd_alive(self):
        try:
            return _pid_alive(self.chatd_pid())
        except (OSError, ValueError):
            return False

    def dump_logs(self, why):
        if not self.dir:
            return
        w = sys.stderr.write
        w("==== chatlib: %s (%s) ====\n" % (why, self.dir))
        for name in ("chatd.log", "nginx/error.log", "nginx/start.log"):
            p = self.path(name)
            if os.path.exists(p):
                w("---- tail of %s ----\n%s\n" % (name, _tail(p)))
        sys.stderr.flush()

    # -- parked polls, from chatd's debug log ("parked N" at every change)

    _PARKED = re.compile(rb"chatd\[(\d+)\] debug: \w+: parked (\d+)$")

    def parked(self):
        """How many polls the live chatd processes hold parked, from their
        last "parked N" debug lines (chatd must run with --log-level
        debug); None before any such line."""
        if not hasattr(self, "_parked_off"):
            self._parked_off, self._parked_by_pid = 0, {}
        with open(self.path("chatd.log"), "rb") as f:
            f.seek(self._parked_off)
            data = f.read()
        end = data.rfind(b"\n") + 1
        self._parked_off += end
        for line in data[:end].splitlines():
            m = self._PARKED.search(line)
            if m:
                self._parked_by_pid[int(m.group(1))] = int(m.group(2))
        if not self._parked_by_pid:
            return None
        return sum(n for pid, n in self._parked_by_pid.items()
                   if _pid_alive(pid))

    # -- the database (read-only peeking, and the outside writer test)

    def db(self, readonly=True):
        p = self.path("chat.db")
        if readonly:
            return sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(p),
                                   uri=True, timeout=10)
        return sqlite3.connect(p, timeout=10)

    def count_events(self):
        """SELECT count(*) FROM events, or a StackError saying why not."""
        try:
            c = self.db()
            try:
                return c.execute("SELECT count(*) FROM events").fetchone()[0]
            finally:
                c.close()
        except sqlite3.Error as e:
            raise StackError("cannot count rows of table `events` in %s: %s"
                             % (self.path("chat.db"), e))


def wait_parked(stack, n, timeout=30):
    """Wait until chatd holds exactly n parked polls (its debug log says
    so: run it with --log-level debug); StackError if it does not."""
    if wait_until(lambda: stack.parked() == n, timeout):
        return
    raise StackError("chatd holds %r parked polls, not %d, after %ss%s"
                     % (stack.parked(), n, timeout,
                        "" if stack.parked() is not None else
                        " (no \"parked N\" line: is --log-level debug on?)"))


# ---------------------------------------------------------------- raw FastCGI
# For the tests that write to chatd's socket themselves, as a neighbour of
# nginx's could (the FastCGI 1.0 record layout).

def fcgi_record(kind, content, request_id=1, pad=0):
    """One FastCGI record: the 8-byte header, content, pad zero bytes."""
    return (struct.pack(">BBHHBB", 1, kind, request_id, len(content), pad, 0)
            + content + b"\0" * pad)


def fcgi_params(pairs):
    """FastCGI name-value pairs (bytes, bytes) in their length encoding."""
    out = b""
    for k, v in pairs:
        for x in (k, v):
            out += bytes([len(x)]) if len(x) < 128 else struct.pack(">I", len(x) | 0x80000000)
        out += k + v
    return out


# ---------------------------------------------------------------- HTTP

class Resp:
    """One HTTP answer. Unpacks as (status, headers, json)."""

    def __init__(self, status, reason, headers, body, method="", path=""):
        self.status = status
        self.reason = reason
        self.header_list = headers              # [(name, value)], in order
        self.headers = {}                       # lower-case name -> last value
        for k, v in headers:
            self.headers[k.lower()] = v
        self.body = body
        self.method = method
        self.path = path
        self.elapsed = None
        self.json = None
        self.json_error = None
        ctype = self.headers.get("content-type", "")
        if "json" in ctype or body[:1] in (b"{", b"["):
            try:
                self.json = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                self.json_error = str(e)

    def __iter__(self):
        return iter((self.status, self.headers, self.json))

    def header_all(self, name):
        return [v for k, v in self.header_list if k.lower() == name.lower()]

    @property
    def error(self):
        return self.json.get("error") if isinstance(self.json, dict) else None

    @property
    def events(self):
        if isinstance(self.json, dict) and isinstance(self.json.get("events"), list):
            return self.json["events"]
        return []

    def from_nginx(self):
        """An error page nginx made itself (the request never reached chatd)."""
        return (self.headers.get("content-type", "").startswith("text/html")
                and b"<center>nginx" in self.body)

    def __repr__(self):
        return "%s %s -> %d %s %s" % (self.method, _short(self.path, 120),
                                      self.status, self.reason,
                                      _short(self.body, 400))

    def show(self):
        return repr(self)


# Every JSON answer chatd gives is checked against the transport rules of
# docs/api.md; violations are collected here and reported once per file.
_header_violations = []
_checked = [0]
_hv_lock = threading.Lock()


def transport_problems(r):
    """What is wrong with answer r under docs/api.md's transport rules ([] = ok)."""
    p = []
    if r.from_nginx():
        return p
    ct = r.headers.get("content-type")
    if ct is None or ct.replace(" ", "").lower() != "application/json;charset=utf-8":
        p.append("Content-Type is %r" % ct)
    if (r.headers.get("cache-control") or "").lower() != "no-store":
        p.append("Cache-Control is %r" % r.headers.get("cache-control"))
    if (r.headers.get("x-content-type-options") or "").lower() != "nosniff":
        p.append("X-Content-Type-Options is %r"
                 % r.headers.get("x-content-type-options"))
    if not isinstance(r.json, dict):
        p.append("body is not a JSON object (%s)" % (r.json_error or type(r.json).__name__))
    for bad, label in ((b"<", "<"), (b">", ">"), (b"&", "&"),
                       (b"\xe2\x80\xa8", "U+2028"), (b"\xe2\x80\xa9", "U+2029")):
        if bad in r.body:
            p.append("body holds a literal %s" % label)
    if r.status >= 400 and isinstance(r.json, dict):
        if not isinstance(r.json.get("error"), str) or not re.match(r"^[a-z_]+$", r.json.get("error") or ""):
            p.append("error answer without a lower-case `error` code")
        if not isinstance(r.json.get("message"), str):
            p.append("error answer without a `message` string")
    return p


def _note_transport(r):
    if not r.path.startswith("/api/") or r.path.startswith("/api/image/"):
        return
    if r.path.startswith("/api/metrics") and r.status == 200:
        return      # Prometheus's text format: test_nginx.py checks it
    if r.path.startswith("/api/image?") and "frame=1" in r.path:
        return      # an HTML page on purpose: test_image.py checks it
    probs = transport_problems(r)
    with _hv_lock:
        _checked[0] += 1
        if probs:
            _header_violations.append("%s: %s" % (r.show(), "; ".join(probs)))


def check_headers_summary(tap):
    if _checked[0] == 0:
        return
    with _hv_lock:
        v = list(_header_violations)
    tap.ok(not v, "all %d JSON answers from chatd had the transport headers, "
           "an object body and no literal < > & U+2028 U+2029" % _checked[0],
           "\n".join(v[:15]) + ("\n... %d more" % (len(v) - 15) if len(v) > 15 else ""))


def _read_response(conn_or_sock_resp, method, path, t0):
    r = conn_or_sock_resp
    body = r.read()
    resp = Resp(r.status, r.reason, r.getheaders(), body, method, path)
    resp.elapsed = time.monotonic() - t0
    _note_transport(resp)
    return resp


_source_counter = [0]


def next_source():
    """A loopback address of its own for one client, 127.64.0.1 and on:
    nginx.conf.example limits logins and requests per address, and Linux
    routes all of 127.0.0.0/8 to lo, so each Client comes from its own
    address, as browsers do (127.0.0.x is left to the tests of limits)."""
    with _nick_lock:
        _source_counter[0] += 1
        n = _source_counter[0]
    return "127.%d.%d.%d" % (64 + (n >> 16) % 64, (n >> 8) & 255, 1 + n % 254)


def raw_request(stack, method, path, headers=None, body=None, timeout=HTTP_TIMEOUT,
                source=None):
    """Send one request exactly as given (path unvalidated) and return a Resp;
    from the loopback address source if given (else 127.0.0.1)."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(stack.host, stack.port, timeout=timeout,
                                      source_address=(source, 0) if source else None)
    try:
        if isinstance(body, str):
            body = body.encode("utf-8")
        hdrs = dict(headers or {})
        conn.putrequest(method, "/", skip_host=True, skip_accept_encoding=True)
        # putrequest checks the URL for control characters; put our own
        # request line instead by replacing the buffered one.
        conn._buffer[0] = ("%s %s HTTP/1.1" % (method, path)).encode("latin-1") \
            if isinstance(path, str) else b"%s %s HTTP/1.1" % (method.encode(), path)
        if not any(k.lower() == "host" for k in hdrs):
            conn.putheader("Host", "%s:%d" % (stack.host, stack.port))
        if body is not None and not any(k.lower() in ("content-length", "transfer-encoding")
                                        for k in hdrs):
            conn.putheader("Content-Length", str(len(body)))
        conn.putheader("Connection", "close")
        for k, v in hdrs.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        p = path if isinstance(path, str) else path.decode("latin-1")
        return _read_response(r, method, p, t0)
    finally:
        conn.close()


def raw_bytes(stack, data, timeout=HTTP_TIMEOUT, path_for_checks="/raw"):
    """Send raw bytes on a fresh socket and parse the answer (or None if the
    server closed without one)."""
    t0 = time.monotonic()
    s = socket.create_connection((stack.host, stack.port), timeout=timeout)
    try:
        s.sendall(data)
        r = http.client.HTTPResponse(s, method="GET")
        try:
            r.begin()
        except (http.client.RemoteDisconnected, http.client.BadStatusLine):
            return None
        return _read_response(r, "RAW", path_for_checks, t0)
    finally:
        s.close()


def form(params):
    """x-www-form-urlencoded from a dict or list of pairs; values may be str
    or bytes (bytes go out byte for byte, e.g. b'\\xff' as %FF). Values that
    are OMIT or None are left out."""
    items = params.items() if isinstance(params, dict) else params
    out = []
    for k, v in items:
        if v is OMIT or v is None:
            continue
        if isinstance(v, bool):
            v = "1" if v else "0"
        if isinstance(v, int):
            v = str(v)
        out.append((k, v))
    return urllib.parse.urlencode(out)


_nick_counter = [0]
_nick_lock = threading.Lock()


def unique_nick(prefix="u"):
    """A nick no other client of this process uses (at most 24 chars)."""
    with _nick_lock:
        _nick_counter[0] += 1
        n = _nick_counter[0]
    return ("%s%d-%04x" % (prefix, n, random.getrandbits(16)))[:24]


class Deferred:
    """A request started in a thread now, whose answer is read by join()."""

    def __init__(self, fn, *args, **kw):
        self.resp = None
        self.exc = None
        self.t0 = time.monotonic()
        self.t1 = None
        self.thread = threading.Thread(target=self._run, args=(fn, args, kw),
                                       daemon=True)
        self.thread.start()

    def _run(self, fn, args, kw):
        try:
            self.resp = fn(*args, **kw)
        except BaseException as e:
            self.exc = e
        self.t1 = time.monotonic()

    def done(self):
        return not self.thread.is_alive()

    def join(self, timeout=HTTP_TIMEOUT):
        """The answer (a Resp); raises if the request failed or is still
        waiting after timeout seconds."""
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise TimeoutError("deferred request still waiting after %ss" % timeout)
        if self.exc is not None:
            raise self.exc
        return self.resp

    @property
    def elapsed(self):
        return (self.t1 or time.monotonic()) - self.t0


class Client:
    """One browser: a session held as a cookie (mode='cookie') or sent as the
    X-Chat-Session header (mode='header'), and its CSRF token.

    Helpers return a Resp, which unpacks as (status, headers, json)."""

    def __init__(self, stack, mode="cookie", source=None):
        assert mode in ("cookie", "header")
        self.stack = stack
        self.mode = mode
        self.source = source or next_source()   # its loopback address
        self.session = None
        self.csrf = None
        self.nick = None
        self.cursor = None
        self.last_login = None

    # -- plumbing

    def auth_headers(self):
        h = {}
        if self.session is not None:
            if self.mode == "cookie":
                h["Cookie"] = "chat_session=" + self.session
            else:
                h["X-Chat-Session"] = self.session
        return h

    def request(self, method, path, params=None, headers=None, auth=True,
                csrf=None, body=None, content_type=None, timeout=HTTP_TIMEOUT):
        """GET: params go into the query string; POST: into a form body.
        csrf: None = none sent by this call (send/logout add their own),
        'header' or 'form' = send self.csrf that way, or a literal
        ('header', value) / ('form', value)."""
        h = {}
        if auth:
            h.update(self.auth_headers())
        params = list(params.items()) if isinstance(params, dict) else list(params or [])
        if csrf is not None:
            how, val = (csrf, self.csrf) if isinstance(csrf, str) else csrf
            if val is None:
                pass
            elif how == "header":
                h["X-CSRF-Token"] = val
            else:
                params.append(("csrf", val))
        if method == "GET":
            q = form(params)
            if q:
                path += ("&" if "?" in path else "?") + q
        elif body is None:
            body = form(params)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        if content_type is not None:
            h["Content-Type"] = content_type
        h.update(headers or {})
        return raw_request(self.stack, method, path, h, body, timeout=timeout,
                           source=self.source)

    # -- the API

    def login(self, nick=None, **kw):
        nick = unique_nick() if nick is None else nick
        r = self.request("POST", "/api/login", {"nick": nick}, auth=False, **kw)
        self.last_login = r
        if r.status == 200 and isinstance(r.json, dict):
            self.session = r.json.get("session")
            self.csrf = r.json.get("csrf")
            self.nick = r.json.get("nick")
            self.cursor = r.json.get("cursor")
        return r

    def must_login(self, nick=None):
        r = self.login(nick)
        if r.status != 200:
            raise AssertionError("login failed: " + r.show())
        return self

    def logout(self, csrf="header"):
        return self.request("POST", "/api/logout", csrf=csrf)

    def send(self, text, room=OMIT, to=OMIT, client_id=OMIT, csrf="header", **kw):
        p = [("text", text), ("room", room), ("to", to), ("client_id", client_id)]
        return self.request("POST", "/api/send", p, csrf=csrf, **kw)

    def must_send(self, text, **kw):
        r = self.send(text, **kw)
        if r.status != 200 or not isinstance(r.json, dict) or "id" not in r.json:
            raise AssertionError("send failed: " + r.show())
        return r.json["id"]

    def poll(self, since=None, room=OMIT, timeout=0, advance=False, **kw):
        """GET /api/poll; since defaults to self.cursor, timeout to 0 (pass
        OMIT for the server's default). advance=True moves self.cursor on."""
        since = self.cursor if since is None else since
        r = self.request("GET", "/api/poll",
                         [("since", since), ("room", room), ("timeout", timeout)], **kw)
        if advance and r.status == 200 and isinstance(r.json, dict) and "cursor" in r.json:
            self.cursor = r.json["cursor"]
        return r

    def poll_deferred(self, *a, **kw):
        """Start a poll now in a thread; .join() gives its answer."""
        return Deferred(self.poll, *a, **kw)

    def catch_up(self, room=OMIT):
        """Poll with timeout 0 until no events are left; returns them."""
        seen = []
        for _ in range(100):
            r = self.poll(room=room, timeout=0, advance=True)
            if r.status != 200:
                raise AssertionError("catch-up poll failed: " + r.show())
            if not r.events:
                return seen
            seen += r.events
        raise AssertionError("catch-up did not end")

    def history(self, room=OMIT, before=OMIT, limit=OMIT, **kw):
        return self.request("GET", "/api/history",
                            [("room", room), ("before", before), ("limit", limit)], **kw)

    def users(self, **kw):
        return self.request("GET", "/api/users", **kw)


def login_client(stack, nick=None, mode="cookie"):
    return Client(stack, mode).must_login(nick)


def events_of(resp_or_events, type=None, text=None, sender=None):
    evs = resp_or_events.events if isinstance(resp_or_events, Resp) else resp_or_events
    out = []
    for e in evs:
        if type is not None and e.get("type") != type:
            continue
        if text is not None and e.get("text") != text:
            continue
        if sender is not None and (e.get("from") or "").lower() != sender.lower():
            continue
        out.append(e)
    return out


def ids_of(events):
    return [e.get("id") for e in events]


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def alive_check(tap, stack, label):
    """A fresh client can still log in, send, poll and log out."""
    try:
        c = Client(stack)
        r = c.login()
        if r.status != 200:
            return tap.ok(False, "chatd still serves after %s (login)" % label, r.show())
        mid = c.must_send("still alive after " + label)
        p = c.poll(timeout=0)
        seen = mid in ids_of(p.events)
        c.logout()
        return tap.ok(p.status == 200 and seen and stack.chatd_alive(),
                      "chatd still serves after %s" % label, p.show())
    except Exception as e:
        return tap.ok(False, "chatd still serves after %s" % label,
                      "%s: %s" % (type(e).__name__, e))


def main_guard():
    """Skip the file (exit 77) when nginx is truly absent; bail out when
    chatd is not built (that is a failure, not a skip)."""
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")
            or os.environ.get("NGINX")):
        skip_all("nginx is not installed")
    chatd = os.environ.get("CHATD")
    cands = [chatd] if chatd else [os.path.join(TOP, "build", "src", "chatd"),
                                   os.path.join(TOP, "src", "chatd")]
    if not any(c and os.access(c, os.X_OK) for c in cands):
        print("TAP version 13")
        print("Bail out! chatd is not built (looked for %s)" % ", ".join(cands))
        sys.exit(1)
