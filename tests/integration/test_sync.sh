#!/usr/bin/env bash
# test_sync: three schools' nodes sync 6,000 records to a county hub over CURVE; the hub's
# report is `xueshi certify` over the same sheets, byte for byte, and each node's confirmed
# totals are its teachers' rows of it; a repeated sync sends nothing, an incremental one sends
# the news; unknown, revoked and out-of-scope senders store nothing; a restored copy of a node
# adopts the hub's chain and nothing is lost or counted twice; the hub stops cleanly on SIGTERM.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
XS=$XS_BIN/xueshi
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
[ -x "$XS" ] || die "no xueshi in $XS_BIN"
POLICY=$XS_SOURCE_DIR/schema/policies/dali.ini # buckets and semesters: a meaningful oracle
ROWS=2000                                        # per school
TEACHERS=40                                      # per school, disjoint: S1-T0001 …
EXAM=2025学年县级教师专业知识考试                # one sitting across the county
H=$TMP/hub
SYNC_TIMEOUT=20

# union: the oracle's records, the schools' sheets as one CSV with one header, in $TMP/union.csv.
union() {
    {
        cat "$TMP/S1.csv"
        tail -n +2 "$TMP/S2.csv"
        tail -n +2 "$TMP/S3.csv"
    } >"$TMP/union.csv"
}

# report FILE: the hub's report into FILE; dies when it fails.
report() {
    "$HUB" report --dir "$H" >"$1" 2>"$TMP/report.err" || die "report: $(cat "$TMP/report.err")"
}

# check_oracle WHAT: the hub's report without school_id equals, byte for byte, what
# `xueshi certify` gives for the union of the sheets; the report is left in $TMP/report.csv.
check_oracle() {
    union
    "$XS" certify --policy "$POLICY" --records "$TMP/union.csv" >"$TMP/oracle.csv" ||
        die "certify of the union"
    report "$TMP/report.csv"
    hub_report_bare "$TMP/report.csv" >"$TMP/report-bare.csv"
    if cmp -s "$TMP/oracle.csv" "$TMP/report-bare.csv"; then
        pass "$1: hub report = xueshi certify over the union ($(($(wc -l <"$TMP/oracle.csv") - 1)) rows)"
    else
        fail "$1: hub report differs from xueshi certify over the union: $(diff "$TMP/oracle.csv" \
            "$TMP/report-bare.csv" | head -n 6 | tr '\n' '|')"
    fi
}

# check_totals NAME SCHOOL: node NAME's `totals --confirmed --format csv` equals the header and
# the rows of SCHOOL in the hub's report $TMP/report.csv, without school_id.
check_totals() {
    local name=$1 school=$2 rows
    "$NODE" totals --dir "$TMP/$name" --confirmed --format csv >"$TMP/$name-named.csv" \
        2>"$TMP/.err" || fail "$name: totals --confirmed exit $?: $(cat "$TMP/.err")"
    drop_name_column "$TMP/$name-named.csv" >"$TMP/$name-totals.csv"
    {
        head -n 1 "$TMP/report.csv"
        grep -a "^$school," "$TMP/report.csv"
    } >"$TMP/$name-expected-wide.csv"
    hub_report_bare "$TMP/$name-expected-wide.csv" >"$TMP/$name-expected.csv"
    rows=$(($(wc -l <"$TMP/$name-expected.csv") - 1))
    if [ "$rows" -gt 0 ] && cmp -s "$TMP/$name-expected.csv" "$TMP/$name-totals.csv"; then
        pass "$name: confirmed totals = the hub report's $rows rows of $school"
    else
        fail "$name: confirmed totals differ from the hub report's $rows rows of $school: $(diff \
            "$TMP/$name-expected.csv" "$TMP/$name-totals.csv" | head -n 6 | tr '\n' '|')"
    fi
}

# sent OUT: "B R" from a sync summary line ("发送 B 批 R 条").
sent() {
    sed -n 's/.*发送 \([0-9]*\) 批 \([0-9]*\) 条.*/\1 \2/p' <<<"$1" | tail -n 1
}

# ---- a hub, three nodes, 6,000 records ------------------------------------------------------

t_start=$(now_ms)
"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
pass "hub serving at $HUB_ENDPOINT"

# new_node NAME SCHOOL: node_init of NAME for SCHOOL, pointed at the hub.
new_node() {
    node_init "$1" "$2" "$HUB_ENDPOINT" "$HUB_KEY"
}

for s in 1 2 3; do
    new_node n$s S$s
    run "$HUB" enroll --dir "$H" --node "${KEY[n$s]}" --school S$s
    check_rc "enroll n$s for S$s" 0
    mixed_sheet S$s "$ROWS" "$TEACHERS" "$EXAM" >"$TMP/S$s.csv"
    run "$NODE" import --dir "$TMP/n$s" "$TMP/S$s.csv"
    check_rc "n$s imports $ROWS rows" 0
    check "n$s: all rows recorded: $(tail -n 1 <<<"$OUT")" has "$OUT" "新登记 $ROWS 条"
done

for s in 1 2 3; do
    sync n$s
    check_rc "first sync of n$s" 0
    read -r batches records <<<"$(sent "$OUT")"
    check "n$s sent every record in batches ($batches batches, $records records)" \
        test "${batches:-0}" -ge 1 -a "${records:-0}" -eq "$ROWS"
    check "n$s: the hub holds through $ROWS of $ROWS" has "$OUT" "至序号 $ROWS / 本地 $ROWS"
    check "n$s took the hub's policy" has "$OUT" "认定规则已更新 (policy updated): dali"
done

# The exam results of n2 and n3 re-rank n1's teachers: everyone takes fresh receipts, and a
# second sync sends nothing.
for s in 1 2 3; do
    sync n$s
    check_rc "second sync of n$s" 0
    check "second sync of n$s sends nothing: $(sent "$OUT")" has "$OUT" "发送 0 批 0 条"
done

check_oracle "after the first syncs"
for s in 1 2 3; do
    check_totals n$s S$s
done
check "the exam sitting crosses schools: $(grep -c ",$EXAM," "$TMP/union.csv") results" \
    eval 'grep -q "^S1-.*,$EXAM," "$TMP/union.csv" && grep -q "^S2-.*,$EXAM," "$TMP/union.csv" &&
          grep -q "^S3-.*,$EXAM," "$TMP/union.csv"'
cp "$TMP/report.csv" "$TMP/report-before.csv"
sync n1
check_rc "third sync of n1" 0
check "third sync of n1 is a no-op: $(sent "$OUT") and no receipts" \
    eval 'has "$OUT" "发送 0 批 0 条" && has "$OUT" "回执 0 份"'
report "$TMP/report.csv"
check "a no-op sync leaves the report unchanged" cmp -s "$TMP/report-before.csv" "$TMP/report.csv"

# ---- incremental: five more activities on n2 ------------------------------------------------

cp "$TMP/report.csv" "$TMP/report-before.csv"
ok=1
record_also "$TMP/n2" "$TMP/S2.csv" teacher_id=S2-T0003 date=2026-03-02 category=lecture \
    minutes=95 role=speaker || ok=0
record_also "$TMP/n2" "$TMP/S2.csv" teacher_id=S2-T0003 date=2026-03-03 category=reflection \
    chars=2400 || ok=0
record_also "$TMP/n2" "$TMP/S2.csv" teacher_id=S2-T0007 date=2026-04-10 category=online_training \
    hours=12.25 || ok=0
record_also "$TMP/n2" "$TMP/S2.csv" teacher_id=S2-T0099 date=2025-12-01 category=exam \
    event="$EXAM" score=99.5 || ok=0
record_also "$TMP/n2" "$TMP/S2.csv" teacher_id=S2-T0099 date=2025-12-02 category=open_class || ok=0
check "record 5 activities on n2" test "$ok" = 1
sync n2
check_rc "incremental sync of n2" 0
check "the incremental sync sends the 5 new records: $(sent "$OUT")" has "$OUT" "发送 1 批 5 条"
check_oracle "after the incremental sync"
check "the report changed" eval '! cmp -s "$TMP/report-before.csv" "$TMP/report.csv"'
check "the new teacher is in the report" grep -q '^S2,S2-T0099,' "$TMP/report.csv"
for s in 1 2 3; do
    sync n$s
    check_rc "n$s takes the re-ranked receipts" 0
    check_totals n$s S$s
done

# ---- refusals: nothing stored ---------------------------------------------------------------

cp "$TMP/report.csv" "$TMP/report-before.csv"
"$HUB" nodes --dir "$H" >"$TMP/nodes-before.txt" || die "nodes"

# A node the hub never enrolled: refused at the handshake.
new_node n4 S4
"$NODE" record --dir "$TMP/n4" --teacher S4-T0001 --date 2026-03-01 --category open_class \
    >/dev/null || die "record on n4"
t0=$(now_ms)
sync n4
check_rc "sync of a node never enrolled" 4
check "the refusal says not enrolled: $(grep -a 未登记 <<<"$ERR")" has "$ERR" "未登记或已吊销"
check "the refusal comes at once ($(($(now_ms) - t0)) ms), not at the timeout" \
    test $(($(now_ms) - t0)) -lt $((SYNC_TIMEOUT * 1000 / 2))
"$HUB" nodes --dir "$H" >"$TMP/nodes.txt" || die "nodes"
check "the unknown node is not listed by the hub" cmp -s "$TMP/nodes-before.txt" "$TMP/nodes.txt"
report "$TMP/report.csv"
check "the unknown node's record is not in the report" \
    cmp -s "$TMP/report-before.csv" "$TMP/report.csv"

# A revoked node: refused; what it sent before stays.
run "$HUB" revoke --dir "$H" --node "${KEY[n3]}"
check_rc "revoke n3" 0
check "nodes shows n3 revoked" eval '"$HUB" nodes --dir "$H" | grep -a "${KEY[n3]:4:16}" | grep -q 已吊销'
"$NODE" record --dir "$TMP/n3" --teacher S3-T0001 --date 2026-03-01 --category open_class \
    >/dev/null || die "record on n3"
sync n3
check_rc "sync of a revoked node" 4
check "the refusal says revoked: $(grep -a 已吊销 <<<"$ERR")" has "$ERR" "未登记或已吊销"
report "$TMP/report.csv"
check "a revoked node's new record is not in the report, its earlier ones are" \
    eval 'cmp -s "$TMP/report-before.csv" "$TMP/report.csv" &&
          [ "$(grep -ac "^S3," "$TMP/report.csv")" -gt 0 ]'
run "$HUB" enroll --dir "$H" --node "${KEY[n3]}" --school S3
check "revoked keys cannot be enrolled again (exit $RC): $ERR" test "$RC" -eq 2

# Out of scope: n5 is a node of S2 that the county enrolled for S1 only; its records (school
# S2) are stored as evidence, rejected, and never certified.
new_node n5 S2
run "$HUB" enroll --dir "$H" --node "${KEY[n5]}" --school S1
check_rc "enroll n5 (a node of S2) for S1" 0
for d in 01 02 03; do
    "$NODE" record --dir "$TMP/n5" --teacher X5-T0001 --date 2026-03-$d --category lecture \
        --minutes 60 >/dev/null || die "record on n5"
done
sync n5
check_rc "sync of out-of-scope records" 0
check "the summary says records were rejected: $(tail -n 1 <<<"$OUT")" \
    eval 'has "$OUT" "有被拒收的记录" && has "$OUT" "拒收 3 条记录"'
report "$TMP/report.csv"
check "the rejected records are not in the report" \
    eval 'cmp -s "$TMP/report-before.csv" "$TMP/report.csv" && ! grep -aq X5-T0001 "$TMP/report.csv"'
check "the hub holds n5's batch as evidence (through 3)" \
    eval '"$HUB" nodes --dir "$H" | grep -a "${KEY[n5]:4:16}" | grep -Eq " S1 .* 3 +3 +0 +0$"'
check_oracle "after the refusals"

# ---- a node restored from an old copy (protocol.md §9; test_recover goes further) ---------

cp -a "$TMP/n1" "$TMP/n1-copy"
ok=1
for d in 10 11 12; do
    record_also "$TMP/n1" "$TMP/S1.csv" teacher_id=S1-T0005 date=2026-04-$d category=lecture \
        minutes=$((40 + 10#$d)) || ok=0
done
check "record 3 activities on n1 after the copy" test "$ok" = 1
sync n1
check_rc "n1 syncs them" 0
check_oracle "after n1's new records"
ok=1
for d in 20 21; do
    record_also "$TMP/n1-copy" "$TMP/S1.csv" teacher_id=S1-T0006 date=2026-04-$d \
        category=open_class || ok=0
done
check "record 2 activities on the restored copy" test "$ok" = 1
sync n1-copy
check_rc "the restored copy's sync adopts the hub's chain" 0
check "the copy re-seals its 2 records after the hub's head: $(grep -a 已采用 <<<"$OUT")" \
    has "$OUT" "本机另有 2 条新记录排在其后"
check_oracle "after the restored copy's records"
sync n1
check_rc "the original node syncs after its copy" 0
check "the original adopts what its copy recorded" has "$OUT" "本机另有 0 条新记录"
check_oracle "after both copies synced"

# ---- shutdown -------------------------------------------------------------------------------

t0=$(now_ms)
kill -TERM "$HUB_PID"
if bg_wait "$HUB_PID" 5; then
    check_eq "SIGTERM: the hub exits 0 ($(($(now_ms) - t0)) ms)" 0 "$BG_RC"
    check "the hub says it stopped" grep -q "县级中心已停止" "$TMP/hub.log"
else
    fail "SIGTERM: the hub is still running after 5 s"
fi
run "$NODE" sync --dir "$TMP/n2" --timeout 2
check_rc "sync with the hub down: unreachable" 3
echo "test_sync: $(($(now_ms) - t_start)) ms"

finish
