#!/usr/bin/env bash
# test_node_cli: what an office operator sees from xueshi-node init, record, import, list, void.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

A=$TMP/node-a # the node most checks use, school S01

# records DIR: how many activity records `list` shows (voided ones included).
records() {
    "$NODE" list --dir "$1" | sed -n 's/.*(\([0-9]*\) records, [0-9]* voided)$/\1/p'
}

# sheet FILE LINE...: writes a CSV file the way Excel's "CSV UTF-8" does: BOM, CRLF.
sheet() {
    local file=$1
    shift
    printf '\xEF\xBB\xBF' >"$file"
    printf '%s\r\n' "$@" >>"$file"
}

# Column COL (1-based) of every data row of `list --format csv` for DIR with extra options.
list_column() {
    local dir=$1 col=$2
    shift 2
    "$NODE" list --dir "$dir" --format csv "$@" >"$TMP/.list.csv" || return 1
    csv_select "$TMP/.list.csv" "$col" | tail -n +2
}

# ---- init -----------------------------------------------------------------------------------

run "$NODE" init --dir "$A" --school S01
check_rc "init" 0
KEY=$(printf '%s\n' "$OUT" | tail -n 1)
check "init prints the public key line last (xs1:<64hex>.<64hex>): $KEY" \
    grep -Eq '^xs1:[0-9a-f]{64}\.[0-9a-f]{64}$' <<<"$KEY"
check_eq "node.secret is mode 0600" 600 "$(stat -c %a "$A/node.secret")"

run "$NODE" init --dir "$A" --school S01
check_rc "init again" 0
check_eq "init again keeps the same key" "$KEY" "$(printf '%s\n' "$OUT" | tail -n 1)"

run "$NODE" init --dir "$A" --school S02
check "init with another school is refused (exit $RC)" test "$RC" -ne 0
check "init with another school says so" has "$ERR" "another school"
run "$NODE" init --dir "$A" --school S01
check_eq "the key survives the refused init" "$KEY" "$(printf '%s\n' "$OUT" | tail -n 1)"

# ---- record ---------------------------------------------------------------------------------

run "$NODE" record --dir "$A" --teacher T0001 --date 2025-03-01 --category lecture --minutes 90
check_rc "record a valid lecture" 0
check "record prints the new id: $OUT" grep -Eq '^已登记 \(recorded\) 1$' <<<"$OUT"
check_eq "the lecture is stored for the node's school" "1,S01,T0001,2025-03-01,lecture,,90" \
    "$(list_column "$A" "1 2 3 5 6 7 8")"

# refuse OPTION... FIELD CODE: record must exit 2 naming FIELD and the reason CODE.
refuse() {
    local code=${*: -1} field=${*: -2:1}
    run "$NODE" record --dir "$A" "${@:1:$#-2}"
    check_rc "refused ($field $code)" 2
    check "the refusal names $field and $code: $ERR" \
        eval 'has "$ERR" "$field" && has "$ERR" "$field: $code"'
}
FUTURE=$(date -d '+5 days' +%F)
refuse --teacher T0001 --date 2025-03-02 --category lecture --minutes 0 minutes out_of_range
refuse --teacher T0001 --date 2025-02-30 --category lecture --minutes 45 date bad_date
refuse --teacher T0001 --date "$FUTURE" --category lecture --minutes 45 date future_date
refuse --teacher T0001 --date 2025-03-02 --category dancing --minutes 45 category unknown_category
refuse --teacher T0001 --date 2025-03-02 --category paper --chars 3000 --work 乡村课堂 \
    --grade 1 --level school level bad_award
refuse --teacher T0001 --date 2025-03-02 --category lecture --minutes 45 --school S09 \
    school_id out_of_scope
check_eq "refused records store nothing" 1 "$(records "$A")"

# Records whose text the list must carry back unchanged (used by the round trip below).
run "$NODE" record --dir "$A" --teacher T0002 --date 2025-03-02 --category external_training \
    --days 1.5 --note '市里培训, 含"实操"' --operator 教务处
check_rc "record external training with a note holding a comma and quotes" 0
run "$NODE" record --dir "$A" --teacher T0003 --date 2025-03-03 --category exam \
    --event 2025年县级考试 --score 88.5 --ref EXAM-7
check_rc "record an exam with a ref" 0

# ---- import ---------------------------------------------------------------------------------

# Chinese column names, Chinese category labels, a cell across two lines (Excel breaks lines in
# a cell with LF, rows with CRLF), one bad row (line 5), an empty formatted row.
sheet "$TMP/office.csv" \
    '工号,姓名,日期,类别,分钟,学时,天数,字数,单元,课时数,级别,等级,题目,备注' \
    'T0101,张伟,2025-03-04,专题讲座,90,,,,,,,,,"听讲座,记下""要点"""' \
    $'T0102,李娜,2025-03-05,远程网络培训,,2.5,,,,,,,,"第一行\n第二行"' \
    'T0103,王芳,2025-03-06,专题讲座,九十,,,,,,,,,' \
    'T0104,刘洋,2025-03-07,教学设计,,,,,1,5,,,分数的意义,' \
    'T0105,陈静,2025-03-08,论文,,,,3000,,,municipal,published,乡村教育的思考,' \
    'T0106,杨磊,2025-03-09,教学反思,,,,1200,,,,,,' \
    ',,,,,,,,,,,,,'
run "$NODE" import --dir "$A" --operator 教务处 "$TMP/office.csv"
check_rc "import with one bad row" 1
check "the bad row's line is reported (line 5, minutes): $ERR" \
    eval 'has "$ERR" "第 5 行 (line 5)" && has "$ERR" "minutes"'
check "import tells what it did: $OUT" has "$OUT" "新登记 5 条 (recorded)"
check_eq "the good rows are recorded" 8 "$(records "$A")"
check_eq "Chinese and quoted text survive the import" \
    "$(printf '%s\n' T0101,'"听讲座,记下""要点"""',教务处 T0102,'"第一行' '第二行"',教务处)" \
    "$(list_column "$A" "3 19 20" --teacher T0101; list_column "$A" "3 19 20" --teacher T0102)"

run "$NODE" import --dir "$A" --operator 另一人 "$TMP/office.csv"
check_rc "re-import (the bad row is still bad)" 1
check "re-import: all already recorded: $OUT" \
    eval 'has "$OUT" "新登记 0 条 (recorded)" && has "$OUT" "已登记跳过 5 条 (already recorded)"'
check_eq "re-import stores nothing" 8 "$(records "$A")"

sheet "$TMP/ref1.csv" 'teacher_id,date,category,minutes,ref' \
    'T0201,2025-04-01,lecture,60,JW-001' 'T0202,2025-04-02,lecture,60,JW-002'
sheet "$TMP/ref2.csv" 'teacher_id,date,category,minutes,ref' \
    'T0201,2025-04-01,lecture,75,JW-001' 'T0203,2025-04-03,lecture,60,JW-003'
run "$NODE" import --dir "$A" "$TMP/ref1.csv"
check_rc "import rows with refs" 0
run "$NODE" import --dir "$A" "$TMP/ref2.csv"
check_rc "import a sheet repeating a ref with other content" 0
check "the repeated ref is already recorded: $OUT" \
    eval 'has "$OUT" "新登记 1 条 (recorded)" && has "$OUT" "已登记跳过 1 条 (already recorded)"'
check_eq "the first row of a ref stays" "60" "$(list_column "$A" 8 --teacher T0201)"
check_eq "rows with refs: three stored" 11 "$(records "$A")"

printf 'teacher_id,date,category,minutes\nT0301,2025-05-01,lecture,30\n' >"$TMP/quote.csv"
printf 'T0302,2025-05-02,lecture,30\nT0303,2025-05-03,lecture,"30\nT0304,2025-05-04,lecture,30\n' \
    >>"$TMP/quote.csv"
run "$NODE" import --dir "$A" "$TMP/quote.csv"
check_rc "import of broken quoting" 2
check "broken quoting: its line is reported (line 4): $ERR" \
    eval 'has "$ERR" "第 4 行 (line 4)" && has "$ERR" "CSV"'
check_eq "broken quoting: the rows before it are kept" "T0301 T0302" \
    "$(list_column "$A" 3 | grep '^T030' | tr '\n' ' ' | sed 's/ $//')"

run "$NODE" import --dir "$A" "$TMP/no-such.csv"
check_rc "import of a missing file" 2

# ---- list -----------------------------------------------------------------------------------

for d in 2024-09-01 2025-08-31 2025-09-01; do
    run "$NODE" record --dir "$A" --teacher TY --date "$d" --category open_class
    check_rc "record open class on $d" 0
done
check_eq "--year 2024-2025 ends on 2025-08-31" "2024-09-01 2025-08-31" \
    "$(list_column "$A" 5 --teacher TY --year 2024-2025 | tr '\n' ' ' | sed 's/ $//')"
check_eq "--year 2025-2026 starts on 2025-09-01" "2025-09-01" \
    "$(list_column "$A" 5 --teacher TY --year 2025-2026)"
run "$NODE" list --dir "$A" --year 2025-2027
check_rc "--year 2025-2027 is refused" 2

# A spreadsheet formula typed into a cell is kept as text: the CSV guards it with an
# apostrophe (Excel shows text, runs nothing), and importing the CSV gives the bytes back.
run "$NODE" record --dir "$A" --teacher TF --date 2025-03-01 --category lecture --minutes 30 \
    --event '=HYPERLINK("http://example.invalid","点击")' --note '-5'
check_rc "record with formula-like text" 0

"$NODE" list --dir "$A" --format csv >"$TMP/a.csv"
check_eq "list --format csv starts with a UTF-8 BOM" "efbbbf" "$(head -c 3 "$TMP/a.csv" | od -An -tx1 | tr -d ' ')"
check "list --format csv ends lines in CRLF" eval '[ "$(head -n 1 "$TMP/a.csv" | tail -c 2 | od -An -tx1 | tr -d " ")" = 0d0a ]'
check_eq "list --format csv header" \
    "id,school_id,teacher_id,name,date,category,role,minutes,hours,days,chars,unit,lessons,level,grade,work,event,score,note,operator,ref,voided_by,review,review_reason" \
    "$(head -n 1 "$TMP/a.csv" | sed '1s/^\xEF\xBB\xBF//' | tr -d '\r')"
cat >"$TMP/guarded" <<'EOF'
"'=HYPERLINK(""http://example.invalid"",""点击"")",,'-5,
EOF
check "list --format csv writes formula-like text as text (event, then the note -5)" \
    grep -qF -f "$TMP/guarded" "$TMP/a.csv"

# Round trip: the list's sheet columns (all but id and voided_by; name is the sheet's too),
# imported into a fresh node of the same school, list the same.
B=$TMP/node-b
"$NODE" init --dir "$B" --school S01 >/dev/null || die "init $B"
csv_select "$TMP/a.csv" $(seq 2 21) >"$TMP/a-sheet.csv"
run "$NODE" import --dir "$B" "$TMP/a-sheet.csv"
check_rc "import of the list's sheet columns into a fresh node" 0
"$NODE" list --dir "$B" --format csv >"$TMP/b.csv"
check "the fresh node lists the same records" cmp -s "$TMP/a.csv" "$TMP/b.csv"

# ---- void -----------------------------------------------------------------------------------

N=$(records "$A")
run "$NODE" void --dir "$A" 1 --reason "重复登记"
check_rc "void 1" 0
CORR=$(sed -n 's/.*更正记录 (correction) \([0-9]*\)$/\1/p' <<<"$OUT")
check "void prints the correction's id: $OUT" test -n "$CORR"
check_eq "list --format csv shows 1 voided by the correction" "1,$CORR" \
    "$(list_column "$A" "1 22" | grep '^1,')"
check "the table shows 1 as voided" eval '"$NODE" list --dir "$A" | grep -Eq "^1 .*已作废\(#$CORR\)"'
check_eq "voiding keeps the record listed" "$N" "$(records "$A")"
run "$NODE" void --dir "$A" 1 --reason "再次"
check_rc "voiding twice is refused" 2
check "voiding twice says already voided: $ERR" has "$ERR" "already voided"
run "$NODE" void --dir "$A" 99999 --reason "没有"
check_rc "voiding a missing id is refused" 2
check "voiding a missing id says so: $ERR" has "$ERR" "no such record"
run "$NODE" void --dir "$A" "$CORR" --reason "作废更正"
check_rc "voiding a correction is refused" 2
check_eq "refused voids leave the list alone" "$N records, 1 voided" \
    "$("$NODE" list --dir "$A" | sed -n 's/.*(\(.*\))$/\1/p')"
run "$NODE" record --dir "$A" --teacher T0009 --date 2025-06-01 --category open_class
check_eq "refused voids append nothing: the next id follows the correction" \
    "已登记 (recorded) $((CORR + 1))" "$OUT"

# ---- not a node -----------------------------------------------------------------------------

run "$NODE" list --dir "$TMP/nowhere"
check "list on a missing dir fails (exit $RC)" test "$RC" -ne 0
check "list on a missing dir says it is not initialised: $ERR" \
    has "$ERR" "not an initialised node directory"
check "list on a missing dir creates nothing" test ! -e "$TMP/nowhere"
mkdir "$TMP/empty"
run "$NODE" list --dir "$TMP/empty"
check "list on an empty dir fails (exit $RC)" test "$RC" -ne 0
check "list on an empty dir says it is not initialised" has "$ERR" "xueshi-node init"
check_eq "list on an empty dir leaves it empty" "" "$(ls -A "$TMP/empty")"
run "$NODE" record --dir "$TMP/empty" --teacher T1 --date 2025-03-01 --category lecture --minutes 5
check "record on an empty dir fails (exit $RC)" test "$RC" -ne 0

finish
