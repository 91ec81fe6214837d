#!/usr/bin/env bash
# test_county_year: a county through a whole academic year, with real processes. The county
# imports a roster of 40 teachers (one records nothing, one is on leave all year); the school
# imports its register, reviews it (approves all but one record, returned with a reason) and
# syncs; the county closes 2025-2026, one teacher objects, and the county finalizes with a
# decision. Then a late record dated in the closed year, the same paper published the next
# year and a new policy version arrive: the closed year's report stays byte for byte the same,
# the late record and the paper's would-be effect appear in the 补认定 list, the supplement is
# signed, and a receipt the school holds verifies against the closed year's document.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
NODE=$XS_BIN/xueshi-node
XS=$XS_BIN/xueshi
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
H=$TMP/hub
SYNC_TIMEOUT=20
YEAR=2025-2026

# policy FILE VERSION YEARLY: the county's policy `year`: one bucket of every category with a
# binding yearly requirement, a 骨干教师 role requirement, and school review required.
policy() {
    printf '%s\n' '[policy]' 'id = year' "version = $2" 'name = 测试县学时认定' \
        'require_review = yes' \
        '[bucket.total]' 'label = 合计' 'categories = all' \
        '[require.year]' "total = $3" \
        '[role.key_teacher]' 'label = 骨干教师' 'categories = external_training' \
        'period = year' 'hours = 12' >"$1"
}
policy "$TMP/v1.ini" 1 20
policy "$TMP/v2.ini" 2 30

"$HUB" init --dir "$H" --policy "$TMP/v1.ini" >"$TMP/hub-init.out" 2>&1 ||
    die "hub init: $(cat "$TMP/hub-init.out")"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "hub did not start: $(cat "$TMP/hub.log")"
node_init A XA01 "$HUB_ENDPOINT" "$HUB_KEY"
enroll A XA01

# ---- the roster: 40 teachers of XA01 ----------------------------------------------------------
{
    echo '教师编号,姓名,学校,角色,入职日期,状态,起始日期,截止日期'
    for t in $(seq 1 40); do
        role=
        [ "$t" -le 3 ] && role=骨干教师
        status=在职 from= to=
        [ "$t" -eq 39 ] && status=离岗 from=2025-09-01 to=2026-08-31
        printf 'XA-T%02d,教师%02d,XA01,%s,2015-09-01,%s,%s,%s\n' "$t" "$t" "$role" "$status" \
            "$from" "$to"
    done
} >"$TMP/roster.csv"
run "$HUB" roster --dir "$H" import "$TMP/roster.csv"
check_rc "roster import" 0
check "roster import lists 40 new teachers" has "$OUT$ERR" "新增"

# ---- the school's year: every teacher but T39 (on leave) and T40 records ---------------------
{
    echo 'teacher_id,date,category,role,minutes,hours,days,level,grade,chars,work,event'
    for t in $(seq 1 38); do
        id=$(printf 'XA-T%02d' "$t")
        echo "$id,2025-10-1$((t % 9)),lecture,participant,600,,,,,,,秋季专题讲座 $t"
        echo "$id,2026-03-1$((t % 9)),external_training,,,$((8 + t % 8)),,,,,,县级集中培训"
    done
    echo "XA-T01,2026-04-20,paper,,,,,county,1,3000,乡村小学识字教学的实践研究,"
} >"$TMP/register.csv"
run "$NODE" import --dir "$TMP/A" --operator 教务处 "$TMP/register.csv"
check_rc "the school imports its register" 0

sync A
check_rc "first sync brings the roster part" 0
# The school's own totals list every rostered teacher of the school, those without records too.
run "$NODE" totals --dir "$TMP/A" --year $YEAR --format csv
check_rc "the school's totals" 0
check "a rostered teacher without records shows 0 and not met" \
    has "$OUT" "XA-T40,教师40,year,2025-2026,total,0.00,20.00,no,yes,"
check "a teacher on leave all year is exempt" \
    has "$OUT" "XA-T39,教师39,year,2025-2026,total,0.00,20.00,,,exempt 免于认定"
check_eq "every rostered teacher is in the school's totals" 40 \
    "$(grep -c ',year,2025-2026,total,' <<<"$OUT")"

# A record of an unknown teacher is refused once the node holds its roster part.
run "$NODE" record --dir "$TMP/A" --teacher XA-T4O --date 2025-11-02 --category lecture \
    --minutes 60 --event 讲座
check "record refuses a teacher not on the roster" test "$RC" -ne 0
check "the refusal names the nearest teacher" has "$ERR$OUT" "XA-T40"

# ---- school review: all approved, one returned -----------------------------------------------
run "$NODE" review --dir "$TMP/A"
check_rc "review lists unreviewed records" 0
returned=$("$NODE" list --dir "$TMP/A" --format csv | sed '1d' | grep 'XA-T02' | grep lecture |
    cut -d, -f1 | head -1)
run "$NODE" review --dir "$TMP/A" --return "$returned" --reason "缺少签到表" --operator 教务处
check_rc "a record returned with a reason" 0
run "$NODE" review --dir "$TMP/A" --all --year $YEAR --operator 教务处
check_rc "the rest approved" 0
sync A
check_rc "reviews sync" 0

# ---- close, 公示, objection, finalize ---------------------------------------------------------
run "$HUB" close --dir "$H" --year $YEAR --notice-days 0
check_rc "close 2025-2026" 0
NOTICE=$H/years/$YEAR/公示.csv
check "the 公示 list is written" test -s "$NOTICE"
check_eq "the 公示 list has every rostered teacher" 40 \
    "$(sed '1d' "$NOTICE" | grep -c 'XA-T')"
row40=$(grep 'XA-T40' "$NOTICE")
check "the teacher with no records is listed as not met" has "$row40" "未达标"
row39=$(grep 'XA-T39' "$NOTICE")
check "the teacher on leave is exempt" has "$row39" "免于认定"
row02=$(grep 'XA-T02' "$NOTICE")
check "the returned lecture does not count: $row02" has "$row02" ",XA-T02,教师02,XA01,10.00,"
row01=$(grep 'XA-T01' "$NOTICE")
check "a 骨干教师 short of the role requirement is not met: $row01" \
    has "$row01" "role_short 骨干教师还差3.00学时"
run "$HUB" close --dir "$H" --year $YEAR
check "a closed year cannot be closed again" test "$RC" -ne 0

run "$HUB" objection --dir "$H" --year $YEAR --teacher XA-T02 --note "讲座签到表已补交"
check_rc "an objection is recorded" 0
run "$HUB" finalize --dir "$H" --year $YEAR
check "finalize refuses while an objection has no decision" test "$RC" -ne 0
run "$HUB" finalize --dir "$H" --year $YEAR --decision "1:签到表已核实，列入补认定"
check_rc "finalize with a decision" 0
check "the finalization is written" test -s "$H/years/$YEAR/final.xsdoc"

"$HUB" report --dir "$H" --year $YEAR >"$TMP/closed-before.csv" 2>/dev/null
check "the closed year's report names the teachers" grep -q '教师40' "$TMP/closed-before.csv"

# ---- later: a late record, the paper published next year, a new policy -----------------------
run "$NODE" record --dir "$TMP/A" --teacher XA-T05 --date 2026-05-06 --category lecture \
    --minutes 120 --event 迟到的讲座 --operator 教务处
check_rc "a late record dated in the closed year" 0
run "$NODE" record --dir "$TMP/A" --teacher XA-T01 --date 2026-10-12 --category paper \
    --level provincial --grade published --chars 3000 --work 乡村小学识字教学的实践研究 \
    --operator 教务处
check_rc "the same paper published the next year" 0
sync A
check_rc "they sync" 0
run "$HUB" policy --dir "$H" --policy "$TMP/v2.ini"
check_rc "a new policy version" 0

# A close stopped between its commit and its files: a repeated close writes them again, as
# they were (under the policy the year was closed under, not the new one).
cp "$NOTICE" "$TMP/notice-at-close.csv"
cp "$H/years/$YEAR/year.xsdoc" "$TMP/year-at-close.xsdoc"
rm "$NOTICE" "$H/years/$YEAR/year.xsdoc"
run "$HUB" close --dir "$H" --year $YEAR
check "a repeated close says the year is closed already" eval '[ "$RC" -eq 2 ] && has "$ERR" "已经结账"'
check "and writes the missing 公示 list again, the same bytes" cmp -s "$TMP/notice-at-close.csv" "$NOTICE"
check "and the year document" cmp -s "$TMP/year-at-close.xsdoc" "$H/years/$YEAR/year.xsdoc"

"$HUB" report --dir "$H" --year $YEAR >"$TMP/closed-after.csv" 2>/dev/null
check "the closed year's report is byte for byte the same" \
    cmp -s "$TMP/closed-before.csv" "$TMP/closed-after.csv"

run "$HUB" supplement --dir "$H" --year $YEAR --list
check_rc "the 补认定 list" 0
SUPPLEMENT=$OUT
check "the late record is in the 补认定 list with its would-be credit" \
    has "$SUPPLEMENT" ",XA-T05,教师05,专题讲座,2026-05-06,0.00,2.00,增加2.00,"
check "the paper published next year would take its credit from the closed year" \
    has "$SUPPLEMENT" ",XA-T01,教师01,论文,2026-04-20,12.00,0.00,减少12.00,"
run "$HUB" supplement --dir "$H" --year $YEAR
check_rc "the supplement is signed" 0
check "the amendment is written" test -s "$H/years/$YEAR/amend-1.xsdoc"
run "$HUB" supplement --dir "$H" --year $YEAR --list
check "a signed supplement is not listed again" bash -c "! grep -q XA-T05 <<<\"\$1\"" _ "$OUT"

# Files a stopped command left unwritten are written again by the year's next command.
for f in amend-1.xsdoc 补认定-1.csv final.xsdoc; do
    cp "$H/years/$YEAR/$f" "$TMP/kept-$f"
    rm "$H/years/$YEAR/$f"
done
run "$HUB" supplement --dir "$H" --year $YEAR
check_rc "the next supplement, with nothing new" 0
for f in amend-1.xsdoc 补认定-1.csv final.xsdoc; do
    check "it writes $f again, the same bytes" cmp -s "$TMP/kept-$f" "$H/years/$YEAR/$f"
done

# ---- the school's receipt verifies against the closed year -----------------------------------
sync A
run "$NODE" receipt --dir "$TMP/A" --teacher XA-T03 --out "$TMP/T03.receipt"
check_rc "the school exports a receipt" 0
run "$XS" verify "$TMP/T03.receipt" --hub-key "$HUB_KEY" --year-doc "$H/years/$YEAR/year.xsdoc"
check_rc "the receipt verifies against the closed year's document" 0
check "the receipt says final" has "$OUT" "定案"
# The late record's teacher was amended: their receipt matches the amendment, not the document.
run "$NODE" receipt --dir "$TMP/A" --teacher XA-T05 --out "$TMP/T05.receipt"
run "$XS" verify "$TMP/T05.receipt" --hub-key "$HUB_KEY" --year-doc "$H/years/$YEAR/year.xsdoc"
check_rc "an amended teacher's receipt differs from the year document alone" 1
check "and verify says to give the amendments" has "$OUT" "--amend"
run "$XS" verify "$TMP/T05.receipt" --hub-key "$HUB_KEY" --year-doc "$H/years/$YEAR/year.xsdoc" \
    --amend "$H/years/$YEAR/amend-1.xsdoc"
check_rc "it verifies against the document and its amendment" 0
check "checked against amendment 1" has "$OUT" "第 1 号补认定"
run "$XS" verify "$TMP/T05.receipt" --hub-key "$HUB_KEY" --year-doc "$H/years/$YEAR/year.xsdoc" \
    --amend "$H/years/$YEAR/final.xsdoc"
check "another signed document is not taken for an amendment" eval '[ "$RC" -ne 0 ] && has "$OUT" "补认定文件"'

finish
