#!/usr/bin/env bash
# How chatd starts, as an operator meets it: what it refuses before it
# makes anything (a socket path that is not a stale socket, --socket naming
# the database, a server already there, a newer schema, root without
# --user), who it runs as and the modes of its files, its configuration
# file, SIGHUP, and its log (journald's <N> prefixes, syslog, a line per
# failed request, never a token). TAP output; the root-only checks skip
# when not run as root, syslog's when unshare(1) cannot make a mount
# namespace.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
chatd=${CHATD:-$top/build/src/chatd}
dir=$(mktemp -d /tmp/chatd-start.XXXXXX)
chmod 755 "$dir"
n=0 failed=0
cleanup() {
	"$top/tools/stack" stop "$dir/stack" 2>/dev/null
	kill $(jobs -p) 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT

ok() {	# ok CONDITION-EXIT-STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else
		echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
is_root() { [ "$(id -u)" = 0 ]; }

root_opt=()
is_root && root_opt=(--allow-root)
# A chatd that should refuse but serves (a bug) must not hang the test.
run=(timeout 60 "$chatd" --config /dev/null "${root_opt[@]}")

# wait_log FILE TEXT: until FILE holds TEXT (20 s at most).
wait_log() {
	local i
	for ((i = 0; i < 400; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# stop PID: SIGTERM and wait.
stop() { kill -TERM "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# ---- refused before anything is made

sqlite3 "$dir/keep.db" "CREATE TABLE t (x); INSERT INTO t VALUES (1)"
cp "$dir/keep.db" "$dir/keep.orig"
"${run[@]}" -s "$dir/keep.db" -d "$dir/keep.db" 2>"$dir/err"
[ $? -eq 2 ] && grep -q 'names the database' "$dir/err"
ok $? "--socket equal to --db is refused (exit 2)"
cmp -s "$dir/keep.db" "$dir/keep.orig" && [ ! -e "$dir/keep.db-wal" ]
ok $? "and the database is untouched, no -wal made"
"${run[@]}" -s "$dir/keep.db-wal" -d "$dir/keep.db" 2>/dev/null
[ $? -eq 2 ]; ok $? "--socket naming the database's -wal is refused"
"${run[@]}" -s "$dir/./keep.db-shm" -d "$dir/keep.db" 2>/dev/null
[ $? -eq 2 ]; ok $? "and its -shm, written another way"

echo "not a socket" > "$dir/file.sock"
"${run[@]}" -s "$dir/file.sock" -d "$dir/new1/chat.db" 2>"$dir/err"
[ $? -eq 1 ] && grep -q 'is not a socket' "$dir/err"
ok $? "a regular file at --socket is refused (exit 1) with a clear line"
[ "$(cat "$dir/file.sock")" = "not a socket" ] && [ ! -e "$dir/new1" ]
ok $? "and left alone, nothing made"

python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
    "$dir/stale.sock"
"${run[@]}" -s "$dir/stale.sock" -d "$dir/stale.db" 2>"$dir/stale.log" &
pid=$!
wait_log "$dir/stale.log" serving
ok $? "a stale socket (no one listening) is replaced"

"${run[@]}" -s "$dir/stale.sock" -d "$dir/new2/chat.db" 2>"$dir/err"
[ $? -eq 1 ] && grep -q 'another server is listening' "$dir/err"
ok $? "a live instance on the socket is refused (exit 1)"
[ ! -e "$dir/new2" ]; ok $? "before the database or its directory is made"
stop $pid

for mode in delete wal; do
	rm -f "$dir/newer.db"*
	sqlite3 "$dir/newer.db" "PRAGMA journal_mode = $mode; CREATE TABLE t (x);
	    PRAGMA user_version = 99" >/dev/null
	cp "$dir/newer.db" "$dir/newer.orig"
	"${run[@]}" -s "$dir/newer.sock" -d "$dir/newer.db" 2>"$dir/err"
	[ $? -eq 1 ] && grep -q 'schema version 99 is newer' "$dir/err"
	ok $? "a newer schema is refused (journal mode $mode)"
	cmp -s "$dir/newer.db" "$dir/newer.orig" && [ ! -e "$dir/newer.db-wal" ] &&
	    [ ! -e "$dir/newer.db-shm" ] && [ ! -e "$dir/newer.sock" ]
	ok $? "and the file is byte for byte the same, no -wal, no socket"
done

"${run[@]}" -s "$dir/m.sock" -d "$dir/m.db" --socket-mode 0666 2>"$dir/err"
[ $? -eq 2 ] && grep -q 'lets others reach' "$dir/err" && [ ! -e "$dir/m.db" ]
ok $? "--socket-mode with a bit for others is refused (exit 2)"

# ---- who it runs as, and the modes of its files

if is_root; then
	timeout 60 "$chatd" --config /dev/null -s "$dir/r.sock" -d "$dir/r/chat.db" 2>"$dir/err"
	[ $? -eq 1 ] && grep -q 'refusing to run as root' "$dir/err" && [ ! -e "$dir/r" ]
	ok $? "root without --user or --allow-root is refused (exit 1), nothing made"
	timeout 60 "$chatd" --config /dev/null -u no-such-user-x -s "$dir/r.sock" \
	    -d "$dir/r/chat.db" 2>"$dir/err"
	[ $? -eq 1 ] && grep -q 'no-such-user-x: no such user' "$dir/err"
	ok $? "an unknown --user is refused (exit 1)"

	"$chatd" --config /dev/null -u nobody -s "$dir/u.sock" \
	    -d "$dir/u/chat.db" 2>"$dir/u.log" &
	pid=$!
	wait_log "$dir/u.log" serving
	uid=$(id -u nobody) gid=$(id -g nobody)
	grep -qE "^Uid:\s+$uid\s+$uid\s+$uid\s+$uid$" /proc/$pid/status &&
	    grep -qE "^Gid:\s+$gid\s+$gid\s+$gid\s+$gid$" /proc/$pid/status
	ok $? "with --user, the process's uids and gids are the user's"
	[ "$(stat -c '%a %U' "$dir/u")" = "700 nobody" ]
	ok $? "a missing data directory is made 0700, the user's"
	[ "$(stat -c '%a %U' "$dir/u/chat.db" "$dir/u/chat.db-wal" \
	    "$dir/u/chat.db-shm" | sort -u)" = "600 nobody" ]
	ok $? "the database, its -wal and -shm are 0600, the user's"
	stop $pid

	"$chatd" --config /dev/null -u nobody --db-group www-data \
	    -s "$dir/g.sock" -d "$dir/g/chat.db" 2>"$dir/g.log" &
	pid=$!
	wait_log "$dir/g.log" serving
	[ "$(stat -c '%a %U %G' "$dir/g/chat.db" "$dir/g/chat.db-wal" \
	    "$dir/g/chat.db-shm" | sort -u)" = "640 nobody www-data" ] &&
	    [ "$(stat -c '%a' "$dir/g")" = 2750 ]
	ok $? "with --db-group they are 0640, of that group (directory 2750)"
	stop $pid

	mkdir -m 755 "$dir/rootonly"
	timeout 60 "$chatd" --config /dev/null -u nobody -s "$dir/w.sock" \
	    -d "$dir/rootonly/chat.db" 2>"$dir/err"
	[ $? -eq 1 ] && grep -q 'not writable by user nobody' "$dir/err" &&
	    [ ! -e "$dir/rootonly/chat.db" ]
	ok $? "a data directory the user cannot write is refused, nothing made"
else
	for t in root-refused unknown-user uids data-dir modes db-group dir-writable; do
		skip "$t: needs root"
	done
fi

# ---- the configuration file

conf=$dir/chatd.conf
cat > "$conf" <<EOF
# A comment, then settings.
socket = $dir/c.sock   # the socket
db=$dir/c.db

rate-limit = 5/10
log-level = warn
EOF
"${run[@]}" --config "$conf" --check-config >/dev/null 2>&1
ok $? "--check-config accepts a good file (exit 0)"
"${run[@]}" --config "$conf" -l info 2>"$dir/c.log" &
pid=$!
wait_log "$dir/c.log" 'settings:'
grep -q "settings: config=$conf socket=$dir/c.sock " "$dir/c.log" &&
    grep -q ' rate-limit=5/10 ' "$dir/c.log"
ok $? "key = value lines, comments and blank lines are read"
grep -q ' log-level=info ' "$dir/c.log"; ok $? "the command line wins over the file"
stop $pid

printf 'workers = 2\n# fine\nno-such-key = 1\n' > "$dir/bad.conf"
"${run[@]}" --config "$dir/bad.conf" 2>"$dir/err"
[ $? -eq 2 ] && grep -q "$dir/bad.conf:3: unknown key 'no-such-key'" "$dir/err"
ok $? "an unknown key is an error naming file and line (exit 2)"
printf 'poll-max = 61\n' > "$dir/bad.conf"
"${run[@]}" --config "$dir/bad.conf" --check-config 2>"$dir/err"
[ $? -eq 2 ] && grep -q "$dir/bad.conf:1: poll-max: bad value '61'" "$dir/err"
ok $? "a bad value is an error naming file and line; --check-config exits 2"
printf 'socket\n' > "$dir/bad.conf"
"${run[@]}" --config "$dir/bad.conf" 2>/dev/null
[ $? -eq 2 ]; ok $? "a line without = is an error (exit 2)"
timeout 60 "$chatd" --config "$dir/none.conf" --check-config 2>"$dir/err"
[ $? -eq 1 ] && grep -q "none.conf: No such file" "$dir/err"
ok $? "a --config that does not exist is refused (exit 1)"

timeout 60 "$chatd" --config "$top/chatd.conf.example" --check-config >/dev/null
ok $? "the example configuration file is valid"
"$chatd" --help | sed -n 's/^  -., --\([a-z-]*\).*/\1/p; s/^      --\([a-z-]*\).*/\1/p' \
    | grep -vxE 'config|check-config|help|version' > "$dir/keys"
missing=$(while read -r k; do grep -q "^#$k = " "$top/chatd.conf.example" || echo "$k"; done < "$dir/keys")
[ "$(wc -l < "$dir/keys")" -ge 20 ] && [ -z "$missing" ]
ok $? "every option of --help is in the example file${missing:+ (missing: $missing)}"

# With workers, the supervisor passes SIGHUP on: each one reads the file.
printf 'log-level = info\n' > "$dir/w.conf"
"$chatd" --config "$dir/w.conf" "${root_opt[@]}" -w 2 -s "$dir/w2.sock" \
    -d "$dir/w2.db" 2>"$dir/w2.log" &
pid=$!
wait_log "$dir/w2.log" 'settings:'
printf 'log-level = warn\n' > "$dir/w.conf"
kill -HUP $pid
for ((i = 0; i < 400; i++)); do
	[ "$(grep -c 'SIGHUP: log-level info -> warn' "$dir/w2.log")" -ge 3 ] && break
	sleep 0.05
done
[ "$(grep -c 'SIGHUP: log-level info -> warn' "$dir/w2.log")" = 3 ]
ok $? "with --workers 2, the supervisor and both workers apply SIGHUP"
stop $pid

# ---- journald's priority prefixes, syslog

: > "$dir/j.log"
JOURNAL_STREAM=$(stat -c '%d:%i' "$dir/j.log") "${run[@]}" -s "$dir/j.sock" \
    -d "$dir/j.db" 2>>"$dir/j.log" &
pid=$!
wait_log "$dir/j.log" serving
grep -q '^<6>chatd\[[0-9]*\] info: chatd .* serving' "$dir/j.log"
ok $? "on journald's stream, lines start with their priority (<6>)"
stop $pid
JOURNAL_STREAM=1:2 "${run[@]}" -s "$dir/j2.sock" -d "$dir/j.db" 2>"$dir/j2.log" &
pid=$!
wait_log "$dir/j2.log" serving
! grep -q '^<' "$dir/j2.log"; ok $? "and not when JOURNAL_STREAM names another stream"
stop $pid

# --log-file, opened again on SIGHUP after a rotation.
"${run[@]}" --log-file "$dir/f.log" -s "$dir/f.sock" -d "$dir/f.db" 2>"$dir/f.err" &
pid=$!
wait_log "$dir/f.log" serving
[ ! -s "$dir/f.err" ] && [ "$(stat -c %a "$dir/f.log")" = 600 ]
ok $? "--log-file logs there (a new file 0600), not to standard error"
mv "$dir/f.log" "$dir/f.log.1"
kill -HUP $pid
wait_log "$dir/f.log" 'SIGHUP: configuration read again'
ok $? "SIGHUP opens the log file again after a rotation"
stop $pid
"${run[@]}" --log-file "$dir/no/such/dir/f.log" -s "$dir/f.sock" -d "$dir/f2.db" 2>"$dir/err"
[ $? -eq 1 ] && grep -q "no/such/dir/f.log: No such file" "$dir/err" && [ ! -e "$dir/f2.db" ]
ok $? "a log file that cannot be opened is refused (exit 1), on standard error"

# syslog: a private /dev/log in a mount namespace of its own, read here.
cat > "$dir/syslog.sh" <<'EOF'
set -e
d=$1; shift
mkdir "$d/hostdev" && mount --bind /dev "$d/hostdev"
mount -t tmpfs tmpfs /dev
for f in null zero urandom random; do touch /dev/$f; mount --bind "$d/hostdev/$f" /dev/$f; done
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
while True:
    with open(sys.argv[1], "ab") as f:
        f.write(s.recv(65536) + b"\n")
' "$d/syslog.out" &
for i in $(seq 200); do [ -e "$d/syslog.out.ready" ] && break; sleep 0.05; done
"$@" 2>"$d/sys.err" &
pid=$!
for i in $(seq 400); do grep -q serving "$d/syslog.out" 2>/dev/null && break; sleep 0.05; done
kill $pid; wait $pid || true
kill %1
EOF
if is_root && unshare -m --propagation private true 2>/dev/null; then
	unshare -m --propagation private bash "$dir/syslog.sh" "$dir" "${run[@]}" \
	    --syslog --syslog-facility local3 -s "$dir/y.sock" -d "$dir/y.db"
	# local3 (19) * 8 + info (6) = 158
	grep -q '^<158>.*chatd\[[0-9]*\]: chatd .* serving' "$dir/syslog.out" 2>/dev/null
	ok $? "--syslog sends the lines to syslog, at the facility asked"
	grep -q 'serving' "$dir/sys.err"; ok $? "and still to standard error"
else
	skip "syslog: needs root and unshare -m for a private /dev/log"
	skip "syslog: stderr too"
fi

# ---- requests in the log, SIGHUP (a real stack: nginx, chatd as --user)

mkdir -p "$dir/stack"
sconf=$dir/stack/chatd.conf
printf 'log-level = info\n' > "$sconf"
CHATD_CONFIG=$sconf "$top/tools/stack" start "$dir/stack" >/dev/null 2>&1
ok $? "tools/stack starts chatd with a configuration file"
url=$(cat "$dir/stack/url" 2>/dev/null)
slog=$dir/stack/chatd.log
spid=$(cat "$dir/stack/chatd.pid" 2>/dev/null)
if is_root; then
	[ "$(awk '/^Uid:/ {print $2}' /proc/$spid/status)" != 0 ]
	ok $? "tools/stack runs chatd as a user of its own, not root"
fi

login=$(curl -s -D "$dir/h" -d nick=alice "$url/api/login")
token=$(sed -n 's/.*"session" *: *"\([^"]*\)".*/\1/p' <<<"$login")
csrf=$(sed -n 's/.*"csrf" *: *"\([^"]*\)".*/\1/p' <<<"$login")
[ -n "$token" ] && [ -n "$csrf" ]; ok $? "a login gives a session and a CSRF token"
curl -s -o /dev/null "$url/api/no-such-thing"
curl -s -o /dev/null -H "X-Chat-Session: $token" "$url/api/image/999999"
curl -s -o /dev/null -H "X-Chat-Session: $token" -H "X-CSRF-Token: wrong" \
    -d text=hi "$url/api/send"
curl -s -o /dev/null -H "X-Chat-Session: $token" "$url/api/users"
wait_log "$slog" 'request: 403'
grep -qE 'info: request: 404 not_found GET /api/no-such-thing nick=- [0-9]+ ms$' "$slog"
ok $? "at info, a failed request logs status, code, path, nick and ms"
grep -qE 'info: request: 404 not_found GET /api/image/999999 nick=alice [0-9]+ ms$' "$slog" &&
    grep -qE 'info: request: 403 bad_csrf POST /api/send nick=alice ' "$slog"
ok $? "with the session's nick once known"
! grep -q 'request: 200' "$slog"; ok $? "and a request that succeeds logs nothing at info"

printf 'log-level = debug\nrate-limit = 7/10\nbusy-timeout = 100\n' > "$sconf"
kill -HUP "$spid"
wait_log "$slog" 'SIGHUP: log-level info -> debug'
ok $? "SIGHUP reads the file again and logs what changed"
grep -q 'SIGHUP: rate-limit 20/10 -> 7/10' "$slog"; ok $? "the limits too"
grep -q 'SIGHUP: busy-timeout 5000 -> 100 needs a restart: still 5000' "$slog"
ok $? "and says which settings need a restart"
curl -s -o /dev/null -H "X-Chat-Session: $token" "$url/api/users"
wait_log "$slog" 'debug: request: 200 - GET /api/users nick=alice'
ok $? "after it, at debug, every request logs a line"

printf 'log-level = loud\n' > "$sconf"
kill -HUP "$spid"
wait_log "$slog" 'configuration is not valid: nothing changed'
grep -q "$sconf:1: log-level: bad value 'loud'" "$slog"
ok $? "a bad file on SIGHUP is logged, naming file and line"
curl -s -o /dev/null -w '%{http_code}' -H "X-Chat-Session: $token" \
    "$url/api/users" > "$dir/code"
[ "$(cat "$dir/code")" = 200 ] && kill -0 "$spid"
ok $? "and chatd keeps serving"
n_debug=$(grep -c 'debug: request: 200 - GET /api/users' "$slog")
[ "$n_debug" -ge 2 ]; ok $? "with its settings as they were (still debug)"

curl -s -o /dev/null -H "X-Chat-Session: $token" -H "X-CSRF-Token: $csrf" \
    -d text=hello "$url/api/send"
kill -USR1 "$spid"
wait_log "$slog" 'summary (SIGUSR1)'
grep -qE 'info: summary \(SIGUSR1\): [0-9]+ requests \(3 failed\), 1 send, 0 polls waiting' "$slog"
ok $? "SIGUSR1 logs the summary at once: requests, failures, sends"
curl -s -o /dev/null -m 30 -H "X-Chat-Session: $token" \
    "$url/api/poll?since=999999999&timeout=20" &
for ((i = 0; i < 100; i++)); do
	kill -USR1 "$spid"
	grep -q 'summary (SIGUSR1): .* 1 poll waiting' "$slog" && break
	sleep 0.1
done
grep -q 'summary (SIGUSR1): .* 1 poll waiting' "$slog"
ok $? "and the polls waiting"
kill -0 "$spid"; ok $? "chatd keeps running (SIGUSR1 is not libfcgi's)"

! grep -qF -- "$token" "$slog" && ! grep -qF -- "$csrf" "$slog"
ok $? "no session token and no CSRF token in the log"
"$top/tools/stack" stop "$dir/stack"

echo "1..$n"
[ $failed -eq 0 ]
