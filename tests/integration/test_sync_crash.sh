#!/usr/bin/env bash
# test_sync_crash: the hub killed -9 at random moments of two nodes' concurrent syncs (and
# restarted), and a node's sync killed -9 at random moments, lose nothing and store nothing
# twice: after uninterrupted syncs every one of the 20,000-odd records is at the hub exactly
# once, with no gap and no fork, the hub's report is `xueshi certify` over the union of the
# nodes' sheets, byte for byte, and each node's confirmed totals are its rows of that report.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
XS=$XS_BIN/xueshi
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
[ -x "$XS" ] || die "no xueshi in $XS_BIN"
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini
ROWS=10000       # per node: two nodes, 20,000 records
BASE=6000        # of them imported at the start; the rest comes in slices, one per round
TEACHERS=1200    # per school: a node's receipts take two RECEIPTS pages
EXAM=2025学年县级教师专业知识考试 # one sitting for both schools: a new result re-ranks both
MIN_ROUNDS=20    # per kind of kill
MAX_ROUNDS=36    # more rounds while fewer than MIN_AMID kills landed amid a sync
MIN_AMID=5
SYNC_TIMEOUT=3   # seconds a sync waits for a hub that died under it
RANDOM=20251122  # deterministic kill delays
H=$TMP/hub

# Each school's sheet $TMP/SCHOOL.csv is the oracle's copy of what its node holds, rows in the
# node's sequence order (certification breaks ties by record id): it grows as the node does.
# $TMP/SCHOOL-all.csv is the generated sheet the rows come from; NEXT[name] its next row.
declare -A SCHOOL=([n1]=S1 [n2]=S2) NEXT=([n1]=1 [n2]=1)

# import_rows NAME COUNT: imports the next COUNT rows of node NAME's generated sheet (fewer
# when it runs out) and appends them to its oracle sheet.
import_rows() {
    local name=$1 school=${SCHOOL[$1]} from=${NEXT[$1]} to
    to=$((from + $2 - 1))
    [ "$to" -gt "$ROWS" ] && to=$ROWS
    [ "$from" -gt "$to" ] && return 0
    {
        head -n 1 "$TMP/$school-all.csv"
        sed -n "$((from + 1)),$((to + 1))p" "$TMP/$school-all.csv"
    } >"$TMP/slice.csv"
    "$NODE" import --dir "$TMP/$name" "$TMP/slice.csv" >"$TMP/import.out" 2>&1 ||
        die "import into $name: $(tail -n 3 "$TMP/import.out")"
    grep -q "新登记 $((to - from + 1)) 条" "$TMP/import.out" ||
        die "import into $name: not all new: $(tail -n 1 "$TMP/import.out")"
    tail -n +2 "$TMP/slice.csv" >>"$TMP/$school.csv"
    NEXT[$name]=$((to + 1))
}

# new_records NAME ROUND SLICE: the next SLICE rows of its sheet, and three activities recorded
# one by one (a lecture, an exam of the county sitting, online hours) on node NAME: always
# something new to send.
new_records() {
    local name=$1 round=$2 school=${SCHOOL[$1]} day
    local teacher
    import_rows "$name" "$3"
    teacher=$(printf '%s-T%04d' "$school" $((round * 7 % TEACHERS + 1)))
    day=$(printf '2026-03-%02d' $((round % 28 + 1)))
    record_also "$TMP/$name" "$TMP/$school.csv" teacher_id="$teacher" date="$day" \
        category=lecture minutes=$((30 + round)) &&
        record_also "$TMP/$name" "$TMP/$school.csv" teacher_id="$teacher" date="$day" \
            category=exam event="$EXAM" score="$((round * 37 % 100)).5" &&
        record_also "$TMP/$name" "$TMP/$school.csv" teacher_id="$teacher" date="$day" \
            category=online_training hours=1.5 ||
        die "record on $name: $ERR"
}

# delay_ms: a kill delay, uniform over 0 .. SPAN_MS.
delay_ms() {
    echo $(((RANDOM * 32768 + RANDOM) % (SPAN_MS + 1)))
}

# no_fork WHAT: `xueshi-hub nodes` reports no fork.
no_fork() {
    "$HUB" nodes --dir "$H" >"$TMP/nodes.txt" 2>&1 || {
        fail "$1: nodes exit $?: $(head -c 300 "$TMP/nodes.txt")"
        return
    }
    if grep -aq '分叉 (fork)' "$TMP/nodes.txt"; then
        fail "$1: the hub reports a fork: $(grep -a '分叉 (fork)' "$TMP/nodes.txt" | head -n 1)"
    fi
}

# ---- a hub, two nodes of 10,000 records ---------------------------------------------------

t_start=$(now_ms)
"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
for name in n1 n2; do
    school=${SCHOOL[$name]}
    "$NODE" init --dir "$TMP/$name" --school "$school" --hub "$HUB_ENDPOINT" --hub-key "$HUB_KEY" \
        >"$TMP/$name-init.out" || die "init $name"
    "$HUB" enroll --dir "$H" --node "$(tail -n 1 "$TMP/$name-init.out")" --school "$school" \
        >/dev/null || die "enroll $name"
    mixed_sheet "$school" "$ROWS" "$TEACHERS" "$EXAM" >"$TMP/$school-all.csv"
    head -n 1 "$TMP/$school-all.csv" >"$TMP/$school.csv"
    import_rows "$name" "$BASE"
done

# Calibration: an uninterrupted sync of n1's first rows to the empty hub. n2's stay unsent,
# for the first kills to land amid a large transfer.
t0=$(now_ms)
run "$NODE" sync --dir "$TMP/n1" --timeout 60
SYNC_MS=$(($(now_ms) - t0))
check_rc "uninterrupted sync of $BASE records (${SYNC_MS} ms)" 0
# A round's syncs are far smaller than that one: kills spread over twice an uninterrupted sync
# of a round's records (n1's; n2's first rows stay unsent), as in (b) below.
new_records n1 200 100
t0=$(now_ms)
run "$NODE" sync --dir "$TMP/n1" --timeout 60
ROUND_MS=$(($(now_ms) - t0))
check_rc "uninterrupted sync of a hub round's records (${ROUND_MS} ms)" 0
SPAN_MS=$((ROUND_MS * 2))
[ "$SPAN_MS" -lt 50 ] && SPAN_MS=50

# ---- (a) kill -9 the hub amid a sync, restart it -------------------------------------------

# Both nodes sync at once, so the hub's group commits mix origins, and the hub dies under them.
cp "$TMP/hub.log" "$TMP/hub-all.log"
round=0 amid=0 after=0
while [ "$round" -lt "$MIN_ROUNDS" ] || { [ "$amid" -lt "$MIN_AMID" ] && [ "$round" -lt "$MAX_ROUNDS" ]; }; do
    round=$((round + 1))
    new_records n1 "$round" 100
    new_records n2 "$round" 100
    delay=$(delay_ms)
    declare -A pids=()
    for name in n1 n2; do
        bg_start "$TMP/round-$name.out" "$NODE" sync --dir "$TMP/$name" --timeout "$SYNC_TIMEOUT"
        pids[$name]=$BG_PID
    done
    sleep_ms "$delay"
    if kill -0 "${pids[n1]}" 2>/dev/null || kill -0 "${pids[n2]}" 2>/dev/null; then
        amid=$((amid + 1))
        how="amid the syncs"
    else
        after=$((after + 1))
        how="after the syncs"
    fi
    bg_kill "$HUB_PID" KILL
    cat "$TMP/hub.log" >>"$TMP/hub-all.log"
    hub_start "$H" "$HUB_ENDPOINT" "$TMP/hub.log" ||
        die "round $round: the hub did not restart: $(cat "$TMP/hub.log")"
    verdict=""
    for name in n1 n2; do
        if ! bg_wait "${pids[$name]}" $((SYNC_TIMEOUT + 10)); then
            bg_kill "${pids[$name]}"
            verdict+=" $name did not end within its timeout;"
        elif [ "$BG_RC" -ne 0 ] && [ "$BG_RC" -ne 3 ]; then
            verdict+=" $name exit $BG_RC: $(grep -v '同步' "$TMP/round-$name.out" | tr '\n' '|')"
        else
            how+=", $name exit $BG_RC"
        fi
    done
    if [ -z "$verdict" ]; then
        pass "hub round $round: hub killed at ${delay} ms ($how)"
    else
        fail "hub round $round: hub killed at ${delay} ms:$verdict"
    fi
    no_fork "hub round $round"
done
echo "hub kills: $amid amid the syncs, $after after they ended; $round rounds, span ${SPAN_MS} ms"
check "at least $MIN_AMID hub kills landed amid a sync" test "$amid" -ge "$MIN_AMID"

# ---- (b) kill -9 a node's sync, then sync again ---------------------------------------------

# A round's sync is smaller than the full one: kills spread over twice an uninterrupted one.
new_records n1 100 200
t0=$(now_ms)
run "$NODE" sync --dir "$TMP/n1" --timeout 30
ROUND_MS=$(($(now_ms) - t0))
check_rc "uninterrupted sync of a round's records (${ROUND_MS} ms)" 0
SPAN_MS=$((ROUND_MS * 2))
[ "$SPAN_MS" -lt 20 ] && SPAN_MS=20
round=0 amid=0 after=0
while [ "$round" -lt "$MIN_ROUNDS" ] || { [ "$amid" -lt "$MIN_AMID" ] && [ "$round" -lt "$MAX_ROUNDS" ]; }; do
    round=$((round + 1))
    name=n$((round % 2 + 1))
    new_records "$name" $((round + 100)) 200
    delay=$(delay_ms)
    bg_start "$TMP/round.out" "$NODE" sync --dir "$TMP/$name" --timeout 30
    sync_pid=$BG_PID
    sleep_ms "$delay"
    if kill -0 "$sync_pid" 2>/dev/null; then
        amid=$((amid + 1))
        how="amid the sync"
    else
        after=$((after + 1))
        how="after it ended"
    fi
    bg_kill "$sync_pid" KILL
    if [ "$BG_RC" -ne 137 ] && [ "$BG_RC" -ne 0 ]; then
        fail "node round $round: the sync of $name exit $BG_RC before the kill: $(tail -n 3 \
            "$TMP/round.out" | tr '\n' '|')"
    fi
    run "$NODE" sync --dir "$TMP/$name" --timeout 30
    if [ "$RC" -eq 0 ]; then
        pass "node round $round: $name killed at ${delay} ms ($how), the next sync exits 0"
    else
        fail "node round $round: $name killed at ${delay} ms ($how), the next sync exit $RC: $ERR"
    fi
    no_fork "node round $round"
done
echo "node kills: $amid amid a sync, $after after it ended; $round rounds, span ${SPAN_MS} ms"
check "at least $MIN_AMID node kills landed amid a sync" test "$amid" -ge "$MIN_AMID"

# ---- the end: every record once ---------------------------------------------------------------

# Whatever the rounds left of the generated sheets, then twice each: the second sync takes the
# receipts the other node's exam results re-ranked.
import_rows n1 "$ROWS"
import_rows n2 "$ROWS"
for pass_no in 1 2; do
    for name in n1 n2; do
        run "$NODE" sync --dir "$TMP/$name" --timeout 30
        check_rc "final sync $pass_no of $name" 0
        if [ "$pass_no" = 2 ]; then
            rows=$(($(wc -l <"$TMP/${SCHOOL[$name]}.csv") - 1))
            check "final sync of $name: the hub holds through $rows of $rows" \
                has "$OUT" "至序号 $rows / 本地 $rows"
            check "final sync of $name sends nothing more" has "$OUT" "发送 0 批 0 条"
        fi
    done
done

"$HUB" nodes --dir "$H" >"$TMP/nodes.txt" || die "nodes"
for name in n1 n2; do
    rows=$(($(wc -l <"$TMP/${SCHOOL[$name]}.csv") - 1))
    check "nodes: ${SCHOOL[$name]} contiguous through $rows, no gap, no fork" \
        grep -Eq " ${SCHOOL[$name]} .* $rows +$rows +0 +0$" "$TMP/nodes.txt"
done
check "nodes: no fork listed" eval '! grep -aq "分叉 (fork)" "$TMP/nodes.txt"'
check "nodes: no gap listed" eval '! grep -aq "缺少 (missing)" "$TMP/nodes.txt"'

{
    cat "$TMP/S1.csv"
    tail -n +2 "$TMP/S2.csv"
} >"$TMP/union.csv"
"$XS" certify --policy "$POLICY" --records "$TMP/union.csv" >"$TMP/oracle.csv" || die "certify"
"$HUB" report --dir "$H" >"$TMP/report.csv" || die "report"
hub_report_bare "$TMP/report.csv" >"$TMP/report-bare.csv"
if cmp -s "$TMP/oracle.csv" "$TMP/report-bare.csv"; then
    pass "hub report = xueshi certify over the union of $(($(wc -l <"$TMP/union.csv") - 1)) records"
else
    fail "hub report differs from xueshi certify over the union: $(diff "$TMP/oracle.csv" \
        "$TMP/report-bare.csv" | head -n 6 | tr '\n' '|')"
fi
for name in n1 n2; do
    school=${SCHOOL[$name]}
    "$NODE" totals --dir "$TMP/$name" --confirmed --format csv >"$TMP/$name-named.csv" ||
        fail "$name: totals --confirmed"
    drop_name_column "$TMP/$name-named.csv" >"$TMP/$name-totals.csv"
    { head -n 1 "$TMP/report.csv"; grep -a "^$school," "$TMP/report.csv"; } >"$TMP/$name-wide.csv"
    hub_report_bare "$TMP/$name-wide.csv" >"$TMP/$name-expected.csv"
    check "$name: confirmed totals = the hub report's rows of $school" \
        cmp -s "$TMP/$name-expected.csv" "$TMP/$name-totals.csv"
done
cat "$TMP/hub.log" >>"$TMP/hub-all.log"
kill -TERM "$HUB_PID"
if bg_wait "$HUB_PID" 5; then
    check_eq "the hub stops on SIGTERM" 0 "$BG_RC"
else
    fail "the hub still runs 5 s after SIGTERM"
fi
echo "test_sync_crash: $(($(now_ms) - t_start)) ms"

finish
