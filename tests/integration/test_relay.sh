#!/usr/bin/env bash
# test_relay: a central school (ZX01) relays for its satellites (JXD01, JXD02) (protocol.md §8).
# With the hub down a satellite's batches are held by the relay (由中心校暂存), also while the
# relay is trying the absent hub, and forwarded when the hub comes back; the satellite then
# learns they are confirmed and takes its receipts, which the relay also hands out while the
# hub is away. A key the hub's roster does not list is refused. The hub attributes the records
# to the satellite, not the relay. The relay killed -9 at random moments of its forwarding
# loses nothing and stores nothing twice: every record at the hub once, no gap, no fork, and
# the report is `xueshi certify` over every school's sheet.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
XS=$XS_BIN/xueshi
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
[ -x "$XS" ] || die "no xueshi in $XS_BIN"
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
EXAM=2025学年县级教师专业知识考试 # one sitting across the county: results re-rank schools
H=$TMP/hub
SYNC_TIMEOUT=20
WAIT_S=25          # longest wait for the relay to notice the hub (it retries every 2 s at first)
J1_TEACHERS=60     # JXD01's teachers
BACKLOG=6000       # JXD01's records held by the relay before the kills
SLICE=2500         # JXD01's new records per kill round
MIN_ROUNDS=10      # relay kills
MAX_ROUNDS=16      # more rounds while fewer than MIN_AMID kills landed amid a forward
MIN_AMID=5
RANDOM=20251122    # deterministic kill delays

# ---- helpers --------------------------------------------------------------------------------

# Each school's sheet $TMP/SCHOOL.csv is the oracle's copy of what its node holds, in the
# node's sequence order; $TMP/SCHOOL-all.csv the generated sheet its rows come from.
declare -A SCHOOL=([zx]=ZX01 [j1]=JXD01 [j2]=JXD02) NEXT=([zx]=1 [j1]=1 [j2]=1)

# import_rows NAME COUNT: imports the next COUNT rows of node NAME's generated sheet and
# appends them to its oracle sheet.
import_rows() {
    local name=$1 school=${SCHOOL[$1]} from=${NEXT[$1]} to
    to=$((from + $2 - 1))
    {
        head -n 1 "$TMP/$school-all.csv"
        sed -n "$((from + 1)),$((to + 1))p" "$TMP/$school-all.csv"
    } >"$TMP/slice.csv"
    [ "$(($(wc -l <"$TMP/slice.csv") - 1))" -eq "$2" ] || die "$school-all.csv ran out of rows"
    "$NODE" import --dir "$TMP/$name" "$TMP/slice.csv" >"$TMP/import.out" 2>&1 ||
        die "import into $name: $(tail -n 3 "$TMP/import.out")"
    grep -q "新登记 $2 条" "$TMP/import.out" ||
        die "import into $name: not all new: $(tail -n 1 "$TMP/import.out")"
    tail -n +2 "$TMP/slice.csv" >>"$TMP/$school.csv"
    NEXT[$name]=$((to + 1))
}

# rows NAME: records node NAME holds (its oracle sheet's rows).
rows() {
    echo $(($(wc -l <"$TMP/${SCHOOL[$1]}.csv") - 1))
}

report() {
    "$HUB" report --dir "$H" >"$1" 2>"$TMP/report.err" ||
        die "report: $(cat "$TMP/report.err")"
}

# check_oracle WHAT: the hub's report without school_id is, byte for byte, `xueshi certify`
# over every school's sheet; leaves the report in $TMP/report.csv.
check_oracle() {
    {
        cat "$TMP/ZX01.csv"
        tail -n +2 "$TMP/JXD01.csv"
        tail -n +2 "$TMP/JXD02.csv"
    } >"$TMP/union.csv"
    "$XS" certify --policy "$POLICY" --records "$TMP/union.csv" >"$TMP/oracle.csv" ||
        die "certify of the union"
    report "$TMP/report.csv"
    hub_report_bare "$TMP/report.csv" >"$TMP/report-bare.csv"
    if cmp -s "$TMP/oracle.csv" "$TMP/report-bare.csv"; then
        pass "$1: hub report = xueshi certify over the union ($(($(wc -l <"$TMP/union.csv") - 1)) records, $(($(wc -l <"$TMP/oracle.csv") - 1)) rows)"
    else
        fail "$1: hub report differs from xueshi certify over the union: $(diff "$TMP/oracle.csv" \
            "$TMP/report-bare.csv" | head -n 6 | tr '\n' '|')"
    fi
}

# check_totals NAME: node NAME's confirmed totals equal its school's rows of $TMP/report.csv.
check_totals() {
    local name=$1 school=${SCHOOL[$1]} n
    "$NODE" totals --dir "$TMP/$name" --confirmed --format csv >"$TMP/$name-named.csv" \
        2>"$TMP/.err" || fail "$name: totals --confirmed exit $?: $(cat "$TMP/.err")"
    drop_name_column "$TMP/$name-named.csv" >"$TMP/$name-totals.csv"
    {
        head -n 1 "$TMP/report.csv"
        grep -a "^$school," "$TMP/report.csv"
    } >"$TMP/$name-expected-wide.csv"
    hub_report_bare "$TMP/$name-expected-wide.csv" >"$TMP/$name-expected.csv"
    n=$(($(wc -l <"$TMP/$name-expected.csv") - 1))
    if [ "$n" -gt 0 ] && cmp -s "$TMP/$name-expected.csv" "$TMP/$name-totals.csv"; then
        pass "$name: confirmed totals = the hub report's $n rows of $school"
    else
        fail "$name: confirmed totals differ from the hub report's $n rows of $school: $(diff \
            "$TMP/$name-expected.csv" "$TMP/$name-totals.csv" | head -n 6 | tr '\n' '|')"
    fi
}

# count FILE FIXED: lines of FILE holding FIXED.
count() {
    grep -caF -- "$2" "$1" 2>/dev/null || true
}

# wait_for_count FILE FIXED N SECONDS: polls until FILE has N lines holding FIXED.
wait_for_count() {
    local deadline=$(($(now_ms) + $4 * 1000))
    until [ "$(count "$1" "$2")" -ge "$3" ]; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.02
    done
}

hub_stop() {
    kill -TERM "$HUB_PID" 2>/dev/null
    bg_wait "$HUB_PID" 10 || die "the hub did not stop on SIGTERM"
    cat "$TMP/hub.log" >>"$TMP/hub-all.log"
}

hub_restart() {
    hub_start "$H" "$HUB_ENDPOINT" "$TMP/hub.log" ||
        die "the hub did not restart: $(cat "$TMP/hub.log")"
}

# relay_start: `xueshi-node run --dir $TMP/zx --relay-listen $RELAY_ENDPOINT` in the
# background, output to $TMP/relay.log (the previous run's appended to relay-all.log); waits
# until it serves; sets RELAY_PID. Returns 1, reaped, when it exited first (address in use…).
relay_start() {
    [ -f "$TMP/relay.log" ] && cat "$TMP/relay.log" >>"$TMP/relay-all.log"
    bg_start "$TMP/relay.log" "$NODE" run --dir "$TMP/zx" --relay-listen "$RELAY_ENDPOINT"
    RELAY_PID=$BG_PID
    wait_for_text "$TMP/relay.log" "中转运行中" 10 "$RELAY_PID" && return 0
    bg_kill "$RELAY_PID"
    return 1
}

# relay_session: waits for the relay's current run to log an uplink session that reached the
# hub (its satellites line); returns 1 after WAIT_S.
relay_session() {
    wait_for_text "$TMP/relay.log" "所卫星校" "$WAIT_S" "$RELAY_PID"
}

# nodes_row NAME: node NAME's line of `xueshi-hub nodes`.
nodes_row() {
    "$HUB" nodes --dir "$H" | grep -a "${KEY[$1]:4:16}"
}

# no_fork WHAT: `xueshi-hub nodes` reports no fork.
no_fork() {
    "$HUB" nodes --dir "$H" >"$TMP/nodes.txt" 2>&1 || {
        fail "$1: nodes exit $?"
        return
    }
    if grep -aq '分叉 (fork)' "$TMP/nodes.txt"; then
        fail "$1: the hub reports a fork: $(grep -a '分叉 (fork)' "$TMP/nodes.txt" | head -n 1)"
    fi
}

# ---- a hub, a central school, two satellites --------------------------------------------------

t_start=$(now_ms)
"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
: >"$TMP/hub-all.log"
: >"$TMP/relay-all.log"
node_init zx ZX01 "$HUB_ENDPOINT" "$HUB_KEY"
enroll zx ZX01 --proxy-for JXD01,JXD02
mixed_sheet ZX01 600 20 "$EXAM" >"$TMP/ZX01-all.csv"
mixed_sheet JXD01 $((1500 + BACKLOG + (MAX_ROUNDS + 1) * SLICE)) "$J1_TEACHERS" "$EXAM" \
    >"$TMP/JXD01-all.csv"
mixed_sheet JXD02 800 30 "$EXAM" >"$TMP/JXD02-all.csv"
for school in ZX01 JXD01 JXD02; do
    head -n 1 "$TMP/$school-all.csv" >"$TMP/$school.csv"
done
import_rows zx 600 # the central school's own records
# Satellites point at the relay, the county's key for what the hub signs. xx is a node of
# JXD02 the county never enrolled.
node_init j1 JXD01 tcp://127.0.0.1:1 "${KEY[zx]}" "$HUB_KEY"
node_init j2 JXD02 tcp://127.0.0.1:1 "${KEY[zx]}" "$HUB_KEY"
node_init xx JXD02 tcp://127.0.0.1:1 "${KEY[zx]}" "$HUB_KEY"
enroll j1 JXD01
enroll j2 JXD02
started=0
for try in 1 2 3 4 5 6 7 8; do
    RELAY_ENDPOINT=tcp://127.0.0.1:$((20000 + ($$ + 1009 + try * 3779) % 20000))
    for name in j1 j2; do
        node_init "$name" "${SCHOOL[$name]}" "$RELAY_ENDPOINT" "${KEY[zx]}" "$HUB_KEY"
    done
    node_init xx JXD02 "$RELAY_ENDPOINT" "${KEY[zx]}" "$HUB_KEY"
    if relay_start; then
        started=1
        break
    fi
done
[ "$started" = 1 ] || die "the relay did not start: $(cat "$TMP/relay.log")"
relay_session || die "the relay's first uplink: $(cat "$TMP/relay.log")"
pass "relay serving at $RELAY_ENDPOINT; hub at $HUB_ENDPOINT"
check "its first uplink sent its own 600 records and took a roster of the 2 enrolled satellites" \
    eval 'grep -aq "发送 1 批 600 条" "$TMP/relay.log" && grep -aq "代管 2 所卫星校" "$TMP/relay.log"'

# ---- the hub down: held by the relay, forwarded when it is back ------------------------------

hub_stop
import_rows j1 1500
sync j1
check_rc "JXD01 syncs 1,500 records to the relay, the hub down" 0
check "the summary: held by the relay (由中心校暂存), the relay holds through 1500, the hub \
confirmed nothing" \
    eval 'has "$OUT" "其中 2 批由中心校暂存" && has "$OUT" "对方已收到至序号 1500 / 本地 1500" &&
          has "$OUT" "县里已确认至序号 0 (hub confirmed)"'
check "the hub does not have them: $(nodes_row j1 | tr -s ' ')" \
    eval 'nodes_row j1 | grep -Eq " JXD01 .* 0 +0 +0 +0$"'
# While the hub is away the relay keeps trying it (at start, then after 2, 4, 8 … s); a
# satellite that comes while it tries must still be served. A restarted relay tries at once.
kill -TERM "$RELAY_PID"
bg_wait "$RELAY_PID" 10 || die "the relay did not stop on SIGTERM"
check_eq "the relay stops on SIGTERM" 0 "$BG_RC"
relay_start || die "the relay did not restart: $(cat "$TMP/relay.log")"
t0=$(now_ms)
sync j1
check "a satellite syncing while the relay tries the absent hub is served: exit $RC in \
$(($(now_ms) - t0)) ms, $(grep -a 'xueshi:' <<<"$ERR" | head -n 1)" \
    eval '[ "$RC" -eq 0 ] && has "$OUT" "对方已收到至序号 1500 / 本地 1500"'
if wait_for_count "$TMP/relay.log" "同步未完成" 1 "$WAIT_S"; then
    pass "the relay tried the hub and found it down: $(grep -a 'xueshi:' "$TMP/relay.log" | tail -n 1)"
else
    fail "the relay did not try the hub within $WAIT_S s"
fi
hub_restart
t0=$(now_ms)
if wait_for_text "$TMP/relay.log" "转交 2 批 1500 条" "$WAIT_S" "$RELAY_PID"; then
    pass "the relay forwarded JXD01's 2 batches $(($(now_ms) - t0)) ms after the hub came back"
else
    fail "the relay did not forward within $WAIT_S s: $(tail -n 3 "$TMP/relay.log" | tr '\n' '|')"
fi
check "the hub merged them: $(grep -a '合并' "$TMP/hub.log" | head -n 1)" \
    grep -aq "新 2 批 1500 条" "$TMP/hub.log"
sync j1
check_rc "JXD01's next sync" 0
check "the hub confirmed through JXD01's head, receipts for its $J1_TEACHERS teachers: $(head -n 1 \
<<<"$OUT")" \
    eval 'has "$OUT" "县里已确认至序号 1500 (hub confirmed)" && has "$OUT" "发送 0 批 0 条" &&
          has "$OUT" "回执 $J1_TEACHERS 份" && ! has "$OUT" "由中心校暂存"'
check_oracle "after the relay forwarded"
check_totals j1
# The relay cannot speak for a satellite's records: they are the satellite's, under its school.
check "the report attributes JXD01's teachers to JXD01 ($(grep -ac '^JXD01,' "$TMP/report.csv") rows)" \
    eval '[ "$(grep -ac "^JXD01,JXD01-" "$TMP/report.csv")" -gt 0 ] &&
          [ "$(awk -F, '\''$2 ~ /^JXD01-/ && $1 != "JXD01"'\'' "$TMP/report.csv" | wc -l)" -eq 0 ]'
check "nodes: JXD01 contiguous through its head 1500, no gap, no fork: $(nodes_row j1 | tr -s ' ')" \
    eval 'nodes_row j1 | grep -Eq " JXD01 .* 1500 +1500 +0 +0$"'
check "nodes: the relay's own chain is its own 600: $(nodes_row zx | tr -s ' ')" \
    eval 'nodes_row zx | grep -Eq " ZX01 .* 600 +600 +0 +0$"'

# ---- confirmed totals from the relay while the hub is away -------------------------------------

import_rows j2 800
sync j2
check_rc "JXD02 syncs 800 records to the relay, the hub up" 0
check "held by the relay until it forwards: $(sed -n 2p <<<"$OUT")" has "$OUT" "由中心校暂存"
if wait_for_text "$TMP/relay.log" "转交 1 批 800 条" "$WAIT_S" "$RELAY_PID"; then
    pass "the relay forwarded JXD02's batch and fetched its receipts"
else
    fail "the relay did not forward JXD02's batch: $(tail -n 3 "$TMP/relay.log" | tr '\n' '|')"
fi
hub_stop
t0=$(now_ms)
sync j2
t1=$(now_ms)
check_rc "JXD02 syncs with the hub down" 0
check "JXD02 learns from the relay that the hub confirmed through 800, and takes its 30 \
receipts ($((t1 - t0)) ms): $(head -n 1 <<<"$OUT")" \
    eval 'has "$OUT" "县里已确认至序号 800 (hub confirmed)" && has "$OUT" "回执 30 份"'
check_oracle "with the hub down"
check_totals j2

# ---- a key the roster does not list --------------------------------------------------------

"$NODE" record --dir "$TMP/xx" --teacher JXD02-T0099 --date 2026-03-02 --category open_class \
    >/dev/null || die "record on xx"
t0=$(now_ms)
run "$NODE" sync --dir "$TMP/xx" --timeout "$SYNC_TIMEOUT"
check_rc "a satellite key the county never enrolled, at the relay" 4
check "the relay refuses it at the handshake ($(($(now_ms) - t0)) ms): $(tail -n 1 <<<"$ERR")" \
    has "$ERR" "未登记或已吊销"
sync j2
check_rc "the relay still serves an enrolled satellite after that" 0

# ---- kill -9 the relay amid its forwarding, restart it --------------------------------------

# relay_spawn: starts the relay (as relay_start) without waiting; sets RELAY_PID.
relay_spawn() {
    [ -f "$TMP/relay.log" ] && cat "$TMP/relay.log" >>"$TMP/relay-all.log"
    bg_start "$TMP/relay.log" "$NODE" run --dir "$TMP/zx" --relay-listen "$RELAY_ENDPOINT"
    RELAY_PID=$BG_PID
}

# delay_ms SPAN: a kill delay, uniform over 0 .. SPAN.
delay_ms() {
    echo $(((RANDOM * 32768 + RANDOM) % ($1 + 1)))
}

# Calibration: a run of the relay forwards what it holds at once at start; time one run, from
# its spawn to its uplink line, forwarding one slice to the hub.
hub_restart
import_rows j1 "$SLICE"
sync j1
check_rc "JXD01 delivers $SLICE records to the relay" 0
bg_kill "$RELAY_PID" KILL # before it forwards them: the calibration run does
t0=$(now_ms)
relay_spawn
deadline=$((t0 + WAIT_S * 1000))
until grep -aq "所卫星校" "$TMP/relay.log" || [ "$(now_ms)" -ge "$deadline" ]; do
    sleep 0.002
done
CAL_MS=$(($(now_ms) - t0))
check "calibration: a relay run, spawn to uplink done, forwarding $SLICE records: $CAL_MS ms" \
    grep -aq "转交 .* $SLICE 条" "$TMP/relay.log"
hub_stop

# A backlog held while the hub is down (the relay is idle: its last uplink succeeded).
import_rows j1 "$BACKLOG"
sync j1
check_rc "JXD01 delivers $BACKLOG more records to the relay, the hub down" 0
check "all held by the relay: $(sed -n 2p <<<"$OUT")" \
    has "$OUT" "其中 $(((BACKLOG + 1023) / 1024)) 批由中心校暂存"
bg_kill "$RELAY_PID" KILL # before it tries the hub: each round spawns it afresh
hub_restart

# Round r spawns the relay, which forwards at once (round 1: the backlog; later rounds: the
# slice the round before delivered), and kills it -9 at a random moment; restarts it and lets
# it finish; JXD01 delivers a new slice and an exam result; the relay is killed before it
# forwards them.
round=0 amid=0 early=0 after=0 resent=0
while [ "$round" -lt "$MIN_ROUNDS" ] || { [ "$amid" -lt "$MIN_AMID" ] && [ "$round" -lt "$MAX_ROUNDS" ]; }; do
    round=$((round + 1))
    span=$((CAL_MS * 3 / 2))
    [ "$round" = 1 ] && span=$((CAL_MS * BACKLOG / SLICE))
    delay=$(delay_ms "$span")
    relay_spawn
    sleep_ms "$delay"
    bg_kill "$RELAY_PID" KILL
    if grep -aq "所卫星校" "$TMP/relay.log"; then
        after=$((after + 1))
        how="after its uplink"
    elif grep -aq "中转运行中" "$TMP/relay.log"; then
        amid=$((amid + 1))
        how="amid its uplink"
    else
        early=$((early + 1))
        how="before it served"
    fi
    verdict=""
    took=-
    held_before=$(grep -ac "，已有 [1-9]" "$TMP/hub.log")
    relay_start || die "round $round: the relay did not restart: $(cat "$TMP/relay.log")"
    t0=$(now_ms)
    if relay_session; then
        took=$(($(now_ms) - t0))
        grep -aq "同步未完成" "$TMP/relay.log" &&
            verdict+=" its uplink after the restart was incomplete: $(grep -a 'xueshi:' "$TMP/relay.log" | tr '\n' '|');"
    else
        verdict+=" no uplink within $WAIT_S s after the restart: $(tail -n 3 "$TMP/relay.log" | tr '\n' '|');"
    fi
    [ "$(grep -ac "，已有 [1-9]" "$TMP/hub.log")" -gt "$held_before" ] && resent=$((resent + 1))
    import_rows j1 "$SLICE"
    record_also "$TMP/j1" "$TMP/JXD01.csv" teacher_id="$(printf 'JXD01-T%04d' $((round % J1_TEACHERS + 1)))" \
        date="$(printf '2026-04-%02d' $((round % 28 + 1)))" category=exam event="$EXAM" \
        score="$((round * 37 % 100)).5" || die "record on j1: $ERR"
    sync j1
    [ "$RC" -eq 0 ] || verdict+=" JXD01's sync exit $RC: $ERR;"
    bg_kill "$RELAY_PID" KILL
    if [ -z "$verdict" ]; then
        pass "relay round $round: killed at ${delay} of ${span} ms ($how); restarted, done in ${took} ms"
    else
        fail "relay round $round: killed at ${delay} of ${span} ms ($how):$verdict"
    fi
    no_fork "relay round $round"
done
echo "relay kills: $amid amid its uplink, $early before it served, $after after its uplink; $round rounds; $resent restarts resent batches the hub already held"
check "at least $MIN_AMID relay kills landed amid its uplink" test "$amid" -ge "$MIN_AMID"

# ---- the end: every record once -------------------------------------------------------------

# Two more runs: the first forwards the last slice, the second takes the receipts the first
# one's exam results re-ranked for satellites whose lanes came before.
for n in 1 2; do
    relay_start || die "the relay did not start"
    relay_session || fail "final relay run $n: no uplink: $(tail -n 3 "$TMP/relay.log" | tr '\n' '|')"
    kill -TERM "$RELAY_PID"
    bg_wait "$RELAY_PID" 10 || die "the relay did not stop on SIGTERM"
    check_eq "final relay run $n: it stops on SIGTERM" 0 "$BG_RC"
done
relay_start || die "the relay did not start"
relay_session || fail "the last relay run: no uplink"
for name in j1 j2; do
    sync "$name"
    n=$(rows "$name")
    check_rc "final sync of $name" 0
    check "final sync of $name: sends nothing, the hub confirmed through its head $n: $(head -n 1 \
<<<"$OUT")" \
        eval 'has "$OUT" "发送 0 批 0 条" && has "$OUT" "对方已收到至序号 $n / 本地 $n" &&
              has "$OUT" "县里已确认至序号 $n (hub confirmed)"'
done
"$HUB" nodes --dir "$H" >"$TMP/nodes.txt" || die "nodes"
for name in zx j1 j2; do
    n=$(rows "$name")
    check "nodes: ${SCHOOL[$name]} contiguous through $n of $n, no gap, no fork" \
        eval 'grep -a "${KEY[$name]:4:16}" "$TMP/nodes.txt" | grep -Eq " ${SCHOOL[$name]} .* $n +$n +0 +0$"'
done
check "nodes: no fork listed" eval '! grep -aq "分叉 (fork)" "$TMP/nodes.txt"'
check "nodes: no gap listed" eval '! grep -aq "缺少 (missing)" "$TMP/nodes.txt"'
cat "$TMP/hub.log" >>"$TMP/hub-all.log"
merged=$(sed -n 's/.*合并 (merge): .*新 [0-9]* 批 \([0-9]*\) 条.*/\1/p' "$TMP/hub-all.log" |
    awk '{ s += $1 } END { print s + 0 }')
check_eq "the hub's merge lines count every record once as new" \
    $(($(rows zx) + $(rows j1) + $(rows j2))) "$merged"
check_oracle "at the end"
for name in zx j1 j2; do
    check_totals "$name"
done
kill -TERM "$RELAY_PID"
bg_wait "$RELAY_PID" 10 && check_eq "the relay stops on SIGTERM" 0 "$BG_RC"
kill -TERM "$HUB_PID"
bg_wait "$HUB_PID" 10 && check_eq "the hub stops on SIGTERM" 0 "$BG_RC"
echo "test_relay: $(($(now_ms) - t_start)) ms"

finish
