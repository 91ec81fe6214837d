#!/usr/bin/env bash
# test_year_close: the county's year end (schema/year.md) with a hub, one node and a roster of
# four teachers (one with no records, one hired too late to be judged): records sync, the
# year closes (a signed document and the 公示 list), an objection is filed and decided at
# finalize; then a record dated in the closed year arrives late: the closed year's report stays
# byte for byte the same, the 补认定 list shows the record, `supplement` signs it as amendment
# 1, and the node's receipt for the closed year is final and verifies against year.xsdoc.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
XS=$XS_BIN/xueshi
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
[ -x "$XS" ] || die "no xueshi in $XS_BIN"
POLICY=$XS_SOURCE_DIR/schema/policies/wenzhou.ini
H=$TMP/hub
N=$TMP/n1
YEAR=2025-2026
YDIR=$H/years/$YEAR
SYNC_TIMEOUT=20

# csv_plain FILE: the file without its BOM and CRs.
csv_plain() {
    sed '1s/^\xEF\xBB\xBF//' "$1" | tr -d '\r'
}

"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
node_init n1 S1 "$HUB_ENDPOINT" "$HUB_KEY"
enroll n1 S1

# ---- before a roster: close refuses ----------------------------------------------------------

run "$HUB" close --dir "$H" --year "$YEAR" --notice-days 0
check_rc "close without a roster" 2
check "it says to import the roster first: $ERR" has "$ERR" "尚未导入教师名册"

{
    printf '\xEF\xBB\xBF'
    printf '%s\r\n' 'teacher_id,name,school_id,roles,hired,status,status_from,status_to' \
    'T001,张伟,S1,骨干教师,2010-09-01,,,' \
    'T002,李娜,S1,,2012-09-01,,,' \
    'T003,王芳,S1,,2015-09-01,,,' \
    'T004,赵敏,S1,,2026-05-20,,,'
} >"$TMP/roster.csv"
run "$HUB" roster --dir "$H" import "$TMP/roster.csv"
check_rc "import the roster of four" 0

# ---- a year of records -----------------------------------------------------------------------

ok=1
"$NODE" record --dir "$N" --teacher T001 --date 2025-10-10 --category external_training \
    --hours 96 >/dev/null || ok=0
"$NODE" record --dir "$N" --teacher T001 --date 2026-03-02 --category online_training \
    --hours 20 >/dev/null || ok=0
"$NODE" record --dir "$N" --teacher T002 --date 2025-11-05 --category open_class >/dev/null || ok=0
"$NODE" record --dir "$N" --teacher T002 --date 2024-11-05 --category online_training \
    --hours 30 >/dev/null || ok=0
check "record five activities of T001 and T002" test "$ok" = 1
sync n1
check_rc "sync" 0

run "$HUB" report --dir "$H" --year "$YEAR"
check_rc "the live report of the open year" 0
check "the live report names the teachers: $(grep -c . <<<"$OUT") lines" \
    eval 'has "$OUT" ",T001,张伟,year,2025-2026," && has "$OUT" ",T003,王芳,year,2025-2026,total,0.00,"'
check "the live report shows T004 exempt" has "$OUT" ",T004,赵敏,year,2025-2026,total,0.00,48.00,,,exempt"

"$NODE" receipt --dir "$N" --teacher T001 --out "$TMP/t1-open.receipt" >/dev/null ||
    fail "receipt before the close"

# ---- close -------------------------------------------------------------------------------------

run "$HUB" close --dir "$H" --year "$YEAR" --notice-days 0
check_rc "close $YEAR" 0
check "close says what it certified: $(head -n 1 <<<"$OUT")" \
    has "$OUT" "4 位教师 (teachers): 达标 0, 未达标 3, 免于认定 1"
check "close prints the notice window on stdout" has "$OUT" "公示期 (notice window)"
check "year.xsdoc is written" test -s "$YDIR/year.xsdoc"
check "公示.csv is written with a BOM" eval '[ "$(head -c 3 "$YDIR/公示.csv" | od -An -tx1 | tr -d " ")" = efbbbf ]'
csv_plain "$YDIR/公示.csv" >"$TMP/notice.csv"
check_eq "公示.csv's header" "序号,教师编号,姓名,学校,本年学时,专业发展培训,校本培训,周期累计,认定结果,说明,审核状态" \
    "$(head -n 1 "$TMP/notice.csv")"
check_eq "公示.csv lists every rostered teacher" 5 "$(wc -l <"$TMP/notice.csv")"
check "T003, who recorded nothing, is listed as not met: $(grep T003 "$TMP/notice.csv")" \
    grep -q '^3,T003,王芳,S1,0.00,0.00,0.00,0.00,未达标,' "$TMP/notice.csv"
check "T004, hired in May, is exempt: $(grep T004 "$TMP/notice.csv")" \
    grep -q '^4,T004,赵敏,S1,.*,免于认定,免于认定（在岗不足半年）,' "$TMP/notice.csv"
check "T001's role requirement is judged: $(grep T001 "$TMP/notice.csv")" \
    grep -q '^1,T001,张伟,S1,116.00,116.00,0.00,116.00,未达标,.*role_short 骨干教师还差24.00学时' \
    "$TMP/notice.csv"

run "$HUB" close --dir "$H" --year "$YEAR"
check_rc "closing again" 2
check "it says the year is closed already: $ERR" has "$ERR" "已经结账"

"$HUB" report --dir "$H" --year "$YEAR" >"$TMP/closed-1.csv" 2>"$TMP/.err" || fail "report --year"
check "the closed report has T003 at 0 and not met" \
    grep -q ',T003,王芳,cycle,2021-2026,total,0.00,360.00,no,yes,' "$TMP/closed-1.csv"

# ---- objections and finalize ------------------------------------------------------------------

run "$HUB" objection --dir "$H" --year "$YEAR" --teacher T999 --note "不在名单"
check_rc "an objection for a teacher not in the list" 2
run "$HUB" objection --dir "$H" --year "$YEAR" --teacher T001 --note "漏登一次外出培训"
check_rc "T001 objects" 0
check "the objection gets number 1: $OUT" has "$OUT" "第 1 号"
run "$HUB" objection --dir "$H" --year "$YEAR" --list
check_rc "list objections" 0
check "the list shows it pending: $OUT" has "$OUT" "1,T001,张伟,"
check "the list says 待处理" has "$OUT" ",漏登一次外出培训,待处理,"

run "$HUB" finalize --dir "$H" --year "$YEAR"
check_rc "finalize with an undecided objection" 2
check "it names the objection: $ERR" has "$ERR" "第 1 号"
run "$HUB" finalize --dir "$H" --year "$YEAR" --decision "1:经核实，补录后走补认定"
check_rc "finalize with the decision" 0
check "final.xsdoc is written" test -s "$YDIR/final.xsdoc"
run "$HUB" objection --dir "$H" --year "$YEAR" --teacher T002 --note "太迟了"
check_rc "an objection after finalize" 2
check "it says the year is finalized: $ERR" has "$ERR" "已定案"

# ---- a late record: the closed year does not change ---------------------------------------

"$NODE" record --dir "$N" --teacher T001 --date 2026-05-01 --category external_training \
    --hours 30 >/dev/null || fail "record the late activity"
sync n1
check_rc "the late record syncs" 0
"$HUB" report --dir "$H" --year "$YEAR" >"$TMP/closed-2.csv" 2>"$TMP/.err" || fail "report --year"
check "the closed year's report is byte for byte the same" cmp -s "$TMP/closed-1.csv" \
    "$TMP/closed-2.csv"
run "$NODE" totals --dir "$N" --teacher T001 --year "$YEAR"
check_rc "node totals of T001" 0
check "the node shows the closed year's confirmed figures as final: $(grep 学年 <<<"$OUT")" \
    eval 'grep 学年 <<<"$OUT" | grep -q 定案'
run "$HUB" supplement --dir "$H" --year "$YEAR" --list
check_rc "supplement --list" 0
check "the late record is on the 补认定 list with its effect: $OUT" \
    has "$OUT" ",T001,张伟,集中培训,2026-05-01,0.00,30.00,增加30.00,late 迟到"

"$NODE" receipt --dir "$N" --teacher T001 --out "$TMP/t1.receipt" >/dev/null || fail "receipt"
run "$XS" verify "$TMP/t1.receipt" --hub-key "$HUB_KEY" --year-doc "$YDIR/year.xsdoc"
check_rc "the node's receipt verifies against year.xsdoc" 0
check "verify says the year is final: $OUT" has "$OUT" "定案"
run "$XS" verify "$TMP/t1-open.receipt" --hub-key "$HUB_KEY" --year-doc "$YDIR/year.xsdoc"
check_rc "a receipt from before the close does not match year.xsdoc" 1
check "verify says the receipt's year is not closed: $OUT" has "$OUT" "尚未结账定案"
run "$XS" verify "$TMP/t1.receipt" --hub-key "$HUB_KEY" --year-doc "$YDIR/final.xsdoc"
check "final.xsdoc is not a year document: exit $RC" test "$RC" -ne 0

run "$HUB" supplement --dir "$H" --year "$YEAR"
check_rc "supplement signs amendment 1" 0
check "amend-1.xsdoc is written" test -s "$YDIR/amend-1.xsdoc"
check "补认定-1.csv lists the record" grep -q ",T001,张伟,集中培训,2026-05-01,0.00,30.00,增加30.00," \
    "$YDIR/补认定-1.csv"
run "$HUB" supplement --dir "$H" --year "$YEAR" --list
check_eq "after the amendment the list is empty" 1 "$(csv_plain "$TMP/.out" | wc -l)"
"$HUB" report --dir "$H" --year "$YEAR" >"$TMP/closed-3.csv" 2>"$TMP/.err" || fail "report --year"
check "the amended report counts the record: $(grep ',T001,张伟,year,' "$TMP/closed-3.csv" | head -n 1)" \
    grep -q ',T001,张伟,year,2025-2026,total,146.00,' "$TMP/closed-3.csv"

bg_kill "$HUB_PID" TERM
check_eq "the hub stops on SIGTERM" 0 "$BG_RC"
finish
