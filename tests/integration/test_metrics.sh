#!/usr/bin/env bash
# test_metrics: a hub, its dashboard process and a node. The node syncs; a node the county never
# enrolled tries to. The dashboard's /metrics then passes `promtool check metrics`, counts the
# records merged as the node sent them, the refused handshake under its reason, and the node's
# last sync a few seconds ago; /healthz says ok. The hub's log names the school in timestamped
# lines: the sync session's outcome and the refused handshake.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
command -v python3 >/dev/null || die "no python3 (tools/setup)"
PROMTOOL=$(command -v promtool) || die "no promtool (tools/setup installs prometheus)"
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
H=$TMP/hub
SYNC_TIMEOUT=20
ROWS=300

# web_start LOG: `xueshi-hub web --dir $H` on a free loopback port; sets WEB_PID and WEB_PORT.
web_start() {
    local try
    for try in 0 1 2 3 4 5 6 7; do
        WEB_PORT=$((20000 + ($$ + 4099 + try * 3371) % 20000))
        bg_start "$1" "$HUB" web --dir "$H" --listen "127.0.0.1:$WEB_PORT"
        WEB_PID=$BG_PID
        wait_for_text "$1" "县级看板运行中" 10 "$WEB_PID" && return 0
        bg_kill "$WEB_PID"
    done
    return 1
}

# get PATH OUT: GET the dashboard's PATH into OUT; prints the status and the Content-Type.
get() {
    python3 - "http://127.0.0.1:$WEB_PORT$1" "$2" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=30)
    status, ctype, body = r.status, r.headers.get("Content-Type", ""), r.read()
except urllib.error.HTTPError as e:
    status, ctype, body = e.code, e.headers.get("Content-Type", ""), e.read()
open(sys.argv[2], "wb").write(body)
print(status, ctype)
PY
}

# metric NAME_AND_LABELS FILE: the value of that sample in an exposition FILE ("" when absent).
metric() {
    awk -v name="$1" '$1 == name { print $2 }' "$2"
}

"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
web_start "$TMP/web.log" || die "the dashboard did not start: $(cat "$TMP/web.log")"
pass "hub at $HUB_ENDPOINT, dashboard on port $WEB_PORT"

node_init n1 S1 "$HUB_ENDPOINT" "$HUB_KEY"
enroll n1 S1
mixed_sheet S1 "$ROWS" 12 2025学年县级考试 >"$TMP/S1.csv"
run "$NODE" import --dir "$TMP/n1" "$TMP/S1.csv"
check_rc "n1 imports $ROWS rows" 0
sync n1
check_rc "n1 syncs" 0
sent_records=$(sed -n 's/.*发送 [0-9]* 批 \([0-9]*\) 条.*/\1/p' <<<"$OUT" | tail -n 1)
check_eq "n1 sent every row" "$ROWS" "$sent_records"

node_init stranger S9 "$HUB_ENDPOINT" "$HUB_KEY" # never enrolled
sync stranger
check "a node the county never enrolled is refused (exit $RC)" test "$RC" -ne 0

# The refusal reaches the store within a few seconds (it rides on no merge); the session's
# outcome is logged once the node has been quiet for a few seconds.
deadline=$(($(now_ms) + 20000))
while :; do
    code=$(get /metrics "$TMP/metrics.txt")
    refused=$(metric 'xueshi_hub_refused_total{reason="unknown_key"}' "$TMP/metrics.txt")
    [ "${refused:-0}" -ge 1 ] && grep -aq "同步结束" "$TMP/hub.log" && break
    [ "$(now_ms)" -lt "$deadline" ] || break
    sleep 0.5
done
check_eq "/metrics answers 200 in text format 0.0.4" "200 text/plain; version=0.0.4; charset=utf-8" "$code"
if "$PROMTOOL" check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1; then
    pass "promtool check metrics: the exposition parses ($(wc -l <"$TMP/metrics.txt") lines)"
else
    fail "promtool check metrics: $(head -n 5 "$TMP/promtool.out" | tr '\n' '|')"
fi
check_eq "records merged = the records n1 sent" "$ROWS" \
    "$(metric xueshi_hub_records_merged_total "$TMP/metrics.txt")"
check "the refused handshake is counted as unknown_key (${refused:-none})" test "${refused:-0}" -ge 1
sessions=$(metric xueshi_hub_sync_sessions_total "$TMP/metrics.txt")
check "n1's sync session is counted (${sessions:-none})" test "${sessions:-0}" -ge 1
batches=$(metric xueshi_hub_batches_total "$TMP/metrics.txt")
check "its batches are counted (${batches:-none})" test "${batches:-0}" -ge 1
merges=$(metric xueshi_hub_merge_seconds_count "$TMP/metrics.txt")
inf=$(metric 'xueshi_hub_merge_seconds_bucket{le="+Inf"}' "$TMP/metrics.txt")
check "the merge histogram's +Inf bucket equals its count ($inf of $merges)" \
    eval '[ "${merges:-0}" -ge 1 ] && [ "$inf" = "$merges" ]'
age=$(metric 'xueshi_hub_node_last_sync_age_seconds{node="1",school="S1"}' "$TMP/metrics.txt")
check "n1's last sync age is present and small (${age:-absent} s)" \
    eval '[ -n "$age" ] && [ "$age" -ge 0 ] && [ "$age" -le 60 ]'
check_eq "one active node, none revoked" "1 0" \
    "$(metric 'xueshi_hub_nodes{state="active"}' "$TMP/metrics.txt") $(metric \
        'xueshi_hub_nodes{state="revoked"}' "$TMP/metrics.txt")"
used=$(metric xueshi_hub_store_used_bytes "$TMP/metrics.txt")
map=$(metric xueshi_hub_store_map_bytes "$TMP/metrics.txt")
check "the store's use is within its map ($used of $map bytes)" \
    eval '[ "${used:-0}" -gt 0 ] && [ "$used" -le "$map" ]'

code=$(get /healthz "$TMP/healthz.txt")
check_eq "/healthz: 200" "200 text/plain; charset=utf-8" "$code"
check_eq "/healthz says ok" "ok" "$(cat "$TMP/healthz.txt")"

# The hub's events: a timestamp, the program, the school (and enrollment number), what happened.
stamp='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z xueshi-hub '
session=$(grep -aE "${stamp}\[S1 #1\] 同步结束 \(sync session\): 新 [0-9]+ 批 $ROWS 条已合并" \
    "$TMP/hub.log" | head -n 1)
check "the hub logs n1's session with a timestamp and its school: $session" test -n "$session"
refusal=$(grep -aE "${stamp}\[-\] 拒绝连接 \(handshake refused\): 传输密钥 [0-9a-f]{16}… 未登记" \
    "$TMP/hub.log" | head -n 1)
check "the hub logs the refused handshake with the key's short hex: $refusal" test -n "$refusal"

kill -TERM "$HUB_PID"
bg_wait "$HUB_PID" 10 && check_eq "the hub stops on SIGTERM" 0 "$BG_RC" ||
    fail "the hub did not stop on SIGTERM"

# Under a service manager (here a stand-in: a datagram socket as $NOTIFY_SOCKET and a 2 s
# watchdog for the hub's own pid), the hub says READY=1 once it serves, pings WATCHDOG=1 at
# least every second even while idle, and says STOPPING=1 on SIGTERM.
if [ "$(awk '$1 == "SYSTEMD_FOUND:INTERNAL=1" { print 1 }' "$XS_BIN/../CMakeCache.txt" 2>/dev/null)" = 1 ]; then
    python3 - "$TMP/notify.sock" "$TMP/notify.log" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
with open(sys.argv[2], "w") as out:
    try:
        while True:
            out.write(s.recv(4096).decode(errors="replace").replace("\n", " ") + "\n")
            out.flush()
    except socket.timeout:
        pass
PY
    NOTIFY_PID=$!
    XS_BG_PIDS+=("$NOTIFY_PID")
    for i in $(seq 50); do [ -S "$TMP/notify.sock" ] && break; sleep 0.02; done
    bg_start "$TMP/hub2.log" env NOTIFY_SOCKET="$TMP/notify.sock" WATCHDOG_USEC=2000000 \
        bash -c 'WATCHDOG_PID=$$ exec "$0" "$@"' "$HUB" run --dir "$H" --listen "$HUB_ENDPOINT"
    HUB_PID=$BG_PID
    wait_for_text "$TMP/notify.log" "READY=1" 10 "$HUB_PID"
    check "READY=1 once the hub serves: $(grep -a READY "$TMP/notify.log" | head -n 1)" \
        grep -aq "READY=1 STATUS=县级中心运行中" "$TMP/notify.log"
    sleep 3
    pings=$(grep -ac "WATCHDOG=1" "$TMP/notify.log")
    check "the idle hub pings the watchdog at half its interval ($pings pings in about 3 s)" \
        test "$pings" -ge 2
    kill -TERM "$HUB_PID"
    bg_wait "$HUB_PID" 10 || fail "the hub did not stop on SIGTERM under the service manager"
    check "STOPPING=1 on SIGTERM" grep -aq "STOPPING=1" "$TMP/notify.log"
    kill "$NOTIFY_PID" 2>/dev/null
else
    pass "built without libsystemd: no service manager to tell (skipped)"
fi
kill -TERM "$WEB_PID"
bg_wait "$WEB_PID" 10 && check_eq "the dashboard stops on SIGTERM" 0 "$BG_RC" ||
    fail "the dashboard did not stop on SIGTERM"
finish
