#!/usr/bin/env bash
# The daemon as an operator meets it: options, the schema it leaves for
# sqlite3 users, its socket, and how it starts and stops. TAP output.
#
# Copyright (c) 2026 The chatd authors. ISC license: see LICENSE.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
chatd=${CHATD:-$top/build/src/chatd}
dir=$(mktemp -d /tmp/chatd-daemon.XXXXXX)
n=0 failed=0
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$dir"' EXIT
# No system configuration file; as root (the test machines), root allowed.
run=("$chatd" --config /dev/null)
[ "$(id -u)" = 0 ] && run+=(--allow-root)

ok() {	# ok CONDITION-EXIT-STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else
		echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

"$chatd" --help | grep -q -- '--socket PATH'; ok $? "--help lists the options"
"$chatd" --version | grep -qE '^chatd [0-9]+\.[0-9]+'; ok $? "--version"
"$chatd" --no-such-option 2>/dev/null; [ $? -eq 2 ]; ok $? "an unknown option exits 2"
"$chatd" --rate-limit 0/10 2>/dev/null; [ $? -eq 2 ]; ok $? "a bad value exits 2"
"$chatd" --poll-max 61 2>/dev/null; [ $? -eq 2 ]; ok $? "--poll-max over 60 exits 2"
"$chatd" --image-quota 2048/60 2>/dev/null; [ $? -eq 2 ]
ok $? "an image quota smaller than --max-image exits 2"
"$chatd" --image-store -1 2>/dev/null; [ $? -eq 2 ]; ok $? "a negative --image-store exits 2"
"$chatd" --max-body 16777217 2>/dev/null; [ $? -eq 2 ]; ok $? "--max-body over 16 MiB exits 2"

# Start one, with a stale socket in the way (bound, and no one listens).
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' \
    "$dir/s.sock"
"${run[@]}" --socket "$dir/s.sock" --db "$dir/chat.db" --socket-mode 0600 \
    2>"$dir/log" &
pid=$!
for i in $(seq 200); do grep -q serving "$dir/log" 2>/dev/null && break; sleep 0.05; done
[ -S "$dir/s.sock" ] && grep -q serving "$dir/log"; ok $? "a stale socket is replaced"
[ "$(stat -c %a "$dir/s.sock")" = 600 ]; ok $? "--socket-mode sets the socket's mode"

"${run[@]}" --socket "$dir/s.sock" --db "$dir/other.db" 2>"$dir/log2"
[ $? -eq 1 ] && grep -q 'another server' "$dir/log2"
ok $? "a second chatd refuses a socket that is in use"

# What sqlite3 users find.
versions=$(ls "$top"/sql/[0-9][0-9][0-9]-*.sql | wc -l)
[ "$(sqlite3 "$dir/chat.db" 'PRAGMA user_version')" = "$versions" ]
ok $? "the schema is versioned with user_version (one per sql/NNN-*.sql)"
[ "$(sqlite3 "$dir/chat.db" 'PRAGMA journal_mode')" = wal ]
ok $? "the database is in WAL mode"
sqlite3 "$dir/chat.db" "INSERT INTO events (type, room, sender, text)
    VALUES ('message', 'lobby', 'system', 'hello')" 2>/dev/null
ok $? "sql/insert-from-shell.sql's INSERT works"
sqlite3 "$dir/chat.db" "SELECT time FROM event_log WHERE id = 1" |
    grep -qE '^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]+$'
ok $? "event_log shows readable times"
sqlite3 "$dir/chat.db" "INSERT INTO events (type, sender) VALUES ('bogus', 'x')" 2>/dev/null
[ $? -ne 0 ]; ok $? "the log refuses an event type docs/api.md does not know"
sqlite3 -readonly "$dir/chat.db" < "$top/sql/queries.sql" >/dev/null
ok $? "sql/queries.sql runs on a live database"

sed -n '/^```sql$/,/^```$/p' "$top/README.md" | sed '1d;$d' > "$dir/readme.sql"
[ "$(grep -c '^SELECT' "$dir/readme.sql")" -ge 3 ] &&
    sqlite3 -readonly "$dir/chat.db" < "$dir/readme.sql" >/dev/null
ok $? "the README's history queries run on a live database"

kill -TERM $pid
wait $pid
ok $? "SIGTERM stops it with status 0"
[ ! -e "$dir/s.sock" ]; ok $? "and it removes its socket"

# A database of schema version 1 (an older chatd) is brought up to date.
rm -f "$dir/old.db"
sqlite3 "$dir/old.db" < "$top/sql/001-initial.sql" &&
    sqlite3 "$dir/old.db" "PRAGMA user_version = 1; INSERT INTO events
	(type, room, sender, text) VALUES ('message', 'lobby', 'old', 'kept')"
"${run[@]}" --socket "$dir/s2.sock" --db "$dir/old.db" 2>"$dir/log4" &
pid=$!
for _ in $(seq 50); do [ -S "$dir/s2.sock" ] && break; sleep 0.1; done
kill -TERM $pid; wait $pid
ok $? "chatd starts on a version 1 database and stops cleanly"
[ "$(sqlite3 "$dir/old.db" 'PRAGMA user_version')" = "$versions" ]
ok $? "it upgrades the schema to the newest version ($versions)"
[ "$(sqlite3 "$dir/old.db" "SELECT group_concat(name) FROM sqlite_master
    WHERE name IN ('events_sender', 'events_sends')")" = events_sends ]
ok $? "version 2 has replaced the rate limit's index"
[ "$(sqlite3 "$dir/old.db" "SELECT text FROM events WHERE sender = 'old'")" = kept ]
ok $? "and keeps the rows"

# A newer schema than it knows: refuse, rather than corrupt it.
sqlite3 "$dir/chat.db" 'PRAGMA user_version = 99'
"${run[@]}" --socket "$dir/s.sock" --db "$dir/chat.db" 2>"$dir/log3"
[ $? -eq 1 ] && grep -q 'newer' "$dir/log3"
ok $? "a database from a newer chatd is refused"

echo "1..$n"
[ $failed -eq 0 ]
