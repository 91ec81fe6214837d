#!/usr/bin/env bash
# test_certify_cli: what a county admin sees from `xueshi certify` and `xueshi-node totals`:
# hand-computed totals, the report's bytes, per-record statuses, and refusals.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

XS=$XS_BIN/xueshi
[ -x "$XS" ] || die "no xueshi in $XS_BIN"
POL=$XS_SOURCE_DIR/schema/policies
SAMPLE=$XS_SOURCE_DIR/docs/examples/term-2025-autumn.csv
[ -r "$SAMPLE" ] || die "no $SAMPLE"
SUMMARY_HEADER="teacher_id,scope,period,bucket,credited_hours,required_hours,met,binding,reason"
DETAIL_HEADER="line,teacher_id,academic_year,category,credited_hours,status,reason"

# sheet FILE LINE...: writes a CSV file the way Excel's "CSV UTF-8" does: BOM, CRLF.
sheet() {
    local file=$1
    shift
    printf '\xEF\xBB\xBF' >"$file"
    printf '%s\r\n' "$@" >>"$file"
}

# certify POLICY SHEET [OPTION...]: runs `xueshi certify` with the shipped policy POLICY (a
# name) or a policy file (a path), output in $TMP/cert.csv; sets RC, OUT (the output without
# its BOM and CRs) and ERR.
certify() {
    local policy=$1 records=$2
    shift 2
    case $policy in */*) ;; *) policy=$POL/$policy.ini ;; esac
    "$XS" certify --policy "$policy" --records "$records" "$@" >"$TMP/cert.csv" 2>"$TMP/.err"
    RC=$?
    ERR=$(cat "$TMP/.err")
    OUT=$(plain "$TMP/cert.csv")
}

# plain FILE: the file without its UTF-8 BOM and without CRs, as a shell sees text.
plain() {
    sed '1s/^\xEF\xBB\xBF//' "$1" | tr -d '\r'
}

# lines LINE...: the lines joined with LF, as $(...) gives them back.
lines() {
    printf '%s\n' "$@"
}

# check_bytes WHAT FILE: the file starts with a UTF-8 BOM and every line ends in CRLF.
check_bytes() {
    check_eq "$1: starts with a UTF-8 BOM" "efbbbf" "$(head -c 3 "$2" | od -An -tx1 | tr -d ' ')"
    check_eq "$1: every line ends in CRLF" "$(wc -l <"$2")" "$(grep -c $'\r$' "$2")"
    check_eq "$1: the last byte is LF" "0a" "$(tail -c 1 "$2" | od -An -tx1 | tr -d ' ')"
}

# ---- worked examples ------------------------------------------------------------------------

# One teacher under baiwanzi (Baiwanzi plan): a 90-minute lecture (1.50 h), a 45-minute
# lecture as speaker (4 × 45 = 180 min = 3.00 h), a 2.5-day external training without
# certificate hours (2.5 × 8 = 20.00 h): 24.50 h, short of 40 h a year and 200 h a cycle.
sheet "$TMP/one.csv" 'teacher_id,date,category,role,minutes,hours,days' \
    'T1,2025-09-10,lecture,,90,,' \
    'T1,2025-10-10,lecture,speaker,45,,' \
    'T1,2025-11-03,external_training,,,,2.5'
certify baiwanzi "$TMP/one.csv"
check_rc "baiwanzi worked example" 0
check_eq "baiwanzi: 1.50 + 3.00 + 20.00 = 24.50 h, year and cycle not met" \
    "$(lines "$SUMMARY_HEADER" \
        'T1,cycle,2021-2026,total,24.50,200.00,no,yes,hours_short 还差175.50学时' \
        'T1,year,2025-2026,total,24.50,40.00,no,yes,hours_short 还差15.50学时')" "$OUT"
check_bytes "summary" "$TMP/cert.csv"
check_eq "summary header, exactly" "$(printf '\xEF\xBB\xBF%s\r' "$SUMMARY_HEADER")" \
    "$(head -n 1 "$TMP/cert.csv")"
check_eq "no stderr on success" "" "$ERR"

certify baiwanzi "$TMP/one.csv" --detail
check_rc "baiwanzi worked example --detail" 0
check_eq "baiwanzi: each record's credit" \
    "$(lines "$DETAIL_HEADER" \
        '2,T1,2025-2026,lecture,1.50,credited,' \
        '3,T1,2025-2026,lecture,3.00,credited,' \
        '4,T1,2025-2026,external_training,20.00,credited,')" "$OUT"
check_bytes "detail" "$TMP/cert.csv"

# Dali (Dali plan): semester rows for activity (18 h) and outcome (7 h) only; the first
# semester ends on 01-31 and the academic year on 08-31.
sheet "$TMP/dali.csv" 'teacher_id,date,category,role,minutes,hours,chars,unit,lessons,work' \
    'D1,2025-09-05,online_training,,,32.5,,,,' \
    'D1,2025-10-08,lecture,speaker,270,,,,,' \
    'D1,2025-12-05,teaching_design,,,,300,1,6,分数的初步认识' \
    'D1,2026-01-31,open_class,,,,,,,' \
    'D1,2026-02-01,open_class,,,,,,,' \
    'D1,2026-03-10,reflection,,,,1000,,,' \
    'D2,2025-08-31,open_class,,,,,,,' \
    'D2,2025-09-01,research_session,organizer,,,,,,'
certify dali "$TMP/dali.csv"
check_rc "dali worked example" 0
# D1 semester 1: 18.00 (4 × 270 min) + 4.00 (01-31) = 22.00 activity, 10.00 unit design
# outcome; semester 2: 4.00 activity (02-01); its reflection (exactly 1000 chars, 4.00) is
# capped: one reflection or teaching design per academic year, and the unit design (10.00)
# is kept (credit-rules §6.2).
# D2: 2025-08-31 is the last day of 2024-2025, 2025-09-01 the first of 2025-2026.
check_eq "dali: semester and year rows, sorted by teacher, scope, period, bucket" \
    "$(lines "$SUMMARY_HEADER" \
        'D1,semester,2025-2026-1,activity,22.00,18.00,yes,yes,' \
        'D1,semester,2025-2026-1,outcome,10.00,7.00,yes,yes,' \
        'D1,semester,2025-2026-2,activity,4.00,18.00,no,yes,hours_short 还差14.00学时' \
        'D1,semester,2025-2026-2,outcome,0.00,7.00,no,yes,hours_short 还差7.00学时' \
        'D1,year,2025-2026,activity,26.00,,,,' \
        'D1,year,2025-2026,network,32.50,30.00,yes,yes,' \
        'D1,year,2025-2026,outcome,10.00,,,,' \
        'D1,year,2025-2026,school,36.00,50.00,no,yes,hours_short 还差14.00学时' \
        'D2,semester,2024-2025-1,activity,0.00,18.00,no,yes,hours_short 还差18.00学时' \
        'D2,semester,2024-2025-1,outcome,0.00,7.00,no,yes,hours_short 还差7.00学时' \
        'D2,semester,2024-2025-2,activity,4.00,18.00,no,yes,hours_short 还差14.00学时' \
        'D2,semester,2024-2025-2,outcome,0.00,7.00,no,yes,hours_short 还差7.00学时' \
        'D2,semester,2025-2026-1,activity,1.00,18.00,no,yes,hours_short 还差17.00学时' \
        'D2,semester,2025-2026-1,outcome,0.00,7.00,no,yes,hours_short 还差7.00学时' \
        'D2,semester,2025-2026-2,activity,0.00,18.00,no,yes,hours_short 还差18.00学时' \
        'D2,semester,2025-2026-2,outcome,0.00,7.00,no,yes,hours_short 还差7.00学时' \
        'D2,year,2024-2025,activity,4.00,,,,' \
        'D2,year,2024-2025,network,0.00,30.00,no,yes,hours_short 还差30.00学时' \
        'D2,year,2024-2025,outcome,0.00,,,,' \
        'D2,year,2024-2025,school,4.00,50.00,no,yes,hours_short 还差46.00学时' \
        'D2,year,2025-2026,activity,1.00,,,,' \
        'D2,year,2025-2026,network,0.00,30.00,no,yes,hours_short 还差30.00学时' \
        'D2,year,2025-2026,outcome,0.00,,,,' \
        'D2,year,2025-2026,school,1.00,50.00,no,yes,hours_short 还差49.00学时')" "$OUT"

# Wenzhou (Wenzhou opinions): the cycle's 360 h need one external training of at least 90 h.
# W1 has 360 h but its only external training is 60 h; W2 reaches 360 h over two years with
# a 90 h training; W3's training is 11.5 days × 8 = 92 h. Order of rows in the file: shuffled.
sheet "$TMP/wz.csv" 'teacher_id,date,category,hours,days' \
    'W2,2025-11-01,external_training,90,' \
    'W1,2025-10-01,online_training,300,' \
    'W3,2025-11-01,external_training,,11.5' \
    'W2,2024-10-01,online_training,170,' \
    'W1,2025-11-01,external_training,60,' \
    'W2,2025-10-01,online_training,100,' \
    'W3,2025-10-01,online_training,268,'
certify wenzhou "$TMP/wz.csv"
check_rc "wenzhou worked example" 0
check_eq "wenzhou: the single 90 h training decides the cycle row" \
    "$(lines "$SUMMARY_HEADER" \
        'W1,cycle,2021-2026,school,0.00,120.00,no,yes,hours_short 还差120.00学时' \
        'W1,cycle,2021-2026,total,360.00,360.00,no,yes,single_missing 缺少一次不少于90学时的集中培训' \
        'W1,year,2025-2026,school,0.00,24.00,no,no,hours_short 还差24.00学时' \
        'W1,year,2025-2026,total,360.00,48.00,yes,no,' \
        'W2,cycle,2021-2026,school,0.00,120.00,no,yes,hours_short 还差120.00学时' \
        'W2,cycle,2021-2026,total,360.00,360.00,yes,yes,' \
        'W2,year,2024-2025,school,0.00,24.00,no,no,hours_short 还差24.00学时' \
        'W2,year,2024-2025,total,170.00,48.00,yes,no,' \
        'W2,year,2025-2026,school,0.00,24.00,no,no,hours_short 还差24.00学时' \
        'W2,year,2025-2026,total,190.00,48.00,yes,no,' \
        'W3,cycle,2021-2026,school,0.00,120.00,no,yes,hours_short 还差120.00学时' \
        'W3,cycle,2021-2026,total,360.00,360.00,yes,yes,' \
        'W3,year,2025-2026,school,0.00,24.00,no,no,hours_short 还差24.00学时' \
        'W3,year,2025-2026,total,360.00,48.00,yes,no,')" "$OUT"
check "wenzhou: rows sorted by byte order, teachers across the file's order" \
    eval 'tail -n +2 <<<"$OUT" | LC_ALL=C sort -c -t, -k1,1 -k2,2 -k3,3 -k4,4'

# Xinxiang (Xinxiang opinions): network_school counts online training a county (or higher)
# office organised, school has no requirement and counts the rest (credit-rules §6.5).
sheet "$TMP/xx.csv" 'teacher_id,date,category,hours,minutes,level' \
    'X1,2026-04-01,online_training,16,,county' 'X1,2026-04-02,lecture,,59,'
certify xinxiang "$TMP/xx.csv"
check_eq "xinxiang: 16 h online meets the year, school rows have no requirement" \
    "$(lines "$SUMMARY_HEADER" \
        'X1,cycle,2021-2026,network_school,16.00,80.00,no,yes,hours_short 还差64.00学时' \
        'X1,year,2025-2026,network_school,16.00,16.00,yes,yes,' \
        'X1,year,2025-2026,school,0.98,,,,')" "$OUT"

# Year rows are for the academic years a teacher has records in (the certify contract): the
# years between them are left out; the cycle holding them counts both.
sheet "$TMP/gap.csv" 'teacher_id,date,category,minutes' \
    'G1,2025-09-10,lecture,90' 'G1,2023-03-01,lecture,60'
certify baiwanzi "$TMP/gap.csv"
check_eq "only the academic years with records get year rows" \
    "$(lines "$SUMMARY_HEADER" \
        'G1,cycle,2021-2026,total,2.50,200.00,no,yes,hours_short 还差197.50学时' \
        'G1,year,2022-2023,total,1.00,40.00,no,yes,hours_short 还差39.00学时' \
        'G1,year,2025-2026,total,1.50,40.00,no,yes,hours_short 还差38.50学时')" "$OUT"

# ---- per-record statuses (--detail) ---------------------------------------------------------

# Physical lines: 1 header; 2-3; 4-5 one row whose note holds a line break; 6 minutes "abc";
# 7-8 one event twice; 9 blank (Excel's ",,,"), skipped but counted; 10-13 exams; 14-16 papers.
sheet "$TMP/detail.csv" \
    'teacher_id,date,category,role,minutes,chars,level,grade,work,event,score,note' \
    'R1,2025-09-10,reflection,,,999,,,,,,' \
    'R1,2025-09-11,reflection,,,1200,,,,,,' \
    $'R1,2025-09-12,reflection,,,1500,,,,,,"第一行\n第二行"' \
    'R1,2025-09-13,lecture,,abc,,,,,,,' \
    'R1,2025-09-14,research_session,,,,,,,教研 A,,' \
    'R1,2025-09-15,research_session,organizer,,,,,,教研 A,,' \
    ',,,,,,,,,,,' \
    'E1,2025-12-01,exam,,,,,,,县考2025,90,' \
    'E2,2025-12-01,exam,,,,,,,县考2025,80,' \
    'E3,2025-12-01,exam,,,,,,,县考2025,70,' \
    'E3,2025-12-02,exam,,,,,,,县考2025,60,' \
    'E1,2025-12-03,paper,,,3000,county,1,Rural Literacy,,,' \
    'E1,2026-03-04,paper,,,3000,municipal,published,  rural   LITERACY ,,,' \
    'E1,2026-03-05,paper,,,3000,county,2,Another Work,,,'
certify baiwanzi "$TMP/detail.csv" --detail
check_rc "--detail with bad rows still succeeds" 0
# The exams: 3 kept participants, so the top third (1) gets 3 h, the bottom third 1 h, the
# middle 2 h; E3's second sitting is a duplicate (the higher score is kept). Papers: the same
# work after folding case and spaces counts once (both 12 h: the earlier is kept); the other
# work is over the yearly cap of one paper.
check_eq "--detail: statuses, reasons and physical line numbers" \
    "$(lines "$DETAIL_HEADER" \
        '2,R1,2025-2026,reflection,0.00,rejected,too_short 字数不足1000' \
        '3,R1,2025-2026,reflection,4.00,credited,' \
        '4,R1,2025-2026,reflection,0.00,capped,capped 本学年该类已达上限' \
        '6,R1,2025-2026,lecture,0.00,rejected,bad_value 取值无效' \
        '7,R1,2025-2026,research_session,1.00,credited,' \
        '8,R1,2025-2026,research_session,0.00,duplicate,duplicate_event 同一活动已计' \
        '10,E1,2025-2026,exam,3.00,credited,' \
        '11,E2,2025-2026,exam,2.00,credited,' \
        '12,E3,2025-2026,exam,1.00,credited,' \
        '13,E3,2025-2026,exam,0.00,duplicate,duplicate_event 同一活动已计' \
        '14,E1,2025-2026,paper,12.00,credited,' \
        '15,E1,2025-2026,paper,0.00,duplicate,duplicate_work 同一成果已计' \
        '16,E1,2025-2026,paper,0.00,capped,capped 本学年该类已达上限')" "$OUT"
certify baiwanzi "$TMP/detail.csv"
check_rc "summary of the same sheet" 0
check_eq "summary of the detail sheet: only credited hours count" \
    "$(lines "$SUMMARY_HEADER" \
        'E1,cycle,2021-2026,total,15.00,200.00,no,yes,hours_short 还差185.00学时' \
        'E1,year,2025-2026,total,15.00,40.00,no,yes,hours_short 还差25.00学时' \
        'E2,cycle,2021-2026,total,2.00,200.00,no,yes,hours_short 还差198.00学时' \
        'E2,year,2025-2026,total,2.00,40.00,no,yes,hours_short 还差38.00学时' \
        'E3,cycle,2021-2026,total,1.00,200.00,no,yes,hours_short 还差199.00学时' \
        'E3,year,2025-2026,total,1.00,40.00,no,yes,hours_short 还差39.00学时' \
        'R1,cycle,2021-2026,total,5.00,200.00,no,yes,hours_short 还差195.00学时' \
        'R1,year,2025-2026,total,5.00,40.00,no,yes,hours_short 还差35.00学时')" "$OUT"

# Bad rows of every kind each get their line; none stops the run.
sheet "$TMP/bad.csv" 'teacher_id,date,category,minutes' \
    'B1,2025-02-30,lecture,45' \
    'B1,2025-09-01,dancing,45' \
    'B1,2025-09-02,lecture,0' \
    'B1,2025-09-03,lecture' \
    'B1,2025-09-04,lecture,45,extra' \
    'B1,2025-09-05,lecture,45'
certify baiwanzi "$TMP/bad.csv" --detail
check_rc "a sheet of mostly bad rows" 0
check_eq "bad rows: line, status and reason code of each" \
    "$(lines 'line,status,reason' \
        '2,rejected,bad_date' '3,rejected,unknown_category' '4,rejected,out_of_range' \
        '5,rejected,bad_value' '6,rejected,bad_value' '7,credited,')" \
    "$(csv_select "$TMP/cert.csv" 1 6 7 | sed 's/ [^,]*$//')"
certify baiwanzi "$TMP/bad.csv"
check_eq "bad rows: the good one still counts" \
    "$(lines "$SUMMARY_HEADER" \
        'B1,cycle,2021-2026,total,0.75,200.00,no,yes,hours_short 还差199.25学时' \
        'B1,year,2025-2026,total,0.75,40.00,no,yes,hours_short 还差39.25学时')" "$OUT"

# ---- refusals -------------------------------------------------------------------------------

sheet "$TMP/unknown.csv" 'teacher_id,date,category,minutez' 'T1,2025-09-10,lecture,90'
certify baiwanzi "$TMP/unknown.csv"
check_rc "unknown column" 2
check "unknown column: the message names it and its place: $ERR" \
    eval 'has "$ERR" "\"minutez\"" && has "$ERR" "column 4" && has "$ERR" "line 1"'
check_eq "unknown column: no report is written" "" "$OUT"

printf 'teacher_id,date,category,minutes\r\nT1,2025-09-10,lecture,90\r\n' >"$TMP/quote.csv"
printf 'T1,2025-09-11,lecture,"90\r\nT1,2025-09-12,lecture,90\r\n' >>"$TMP/quote.csv"
certify baiwanzi "$TMP/quote.csv"
check_rc "unterminated quote" 2
check "unterminated quote: the message names line 3: $ERR" \
    eval 'has "$ERR" "第 3 行 (line 3)" && has "$ERR" "CSV"'

printf 'teacher_id,date,category,minutes\nT1,2025-09-10,lecture,"90"x\n' >"$TMP/quote2.csv"
certify baiwanzi "$TMP/quote2.csv"
check_rc "text after a closing quote" 2
check "text after a closing quote: the message names line 2: $ERR" has "$ERR" "(line 2)"

certify baiwanzi "$TMP/no-such.csv"
check "missing records file fails (exit $RC)" test "$RC" -ne 0
check "missing records file: the message names it: $ERR" has "$ERR" "no-such.csv"

: >"$TMP/empty.csv"
certify baiwanzi "$TMP/empty.csv"
check "empty records file fails (exit $RC)" test "$RC" -ne 0
check "empty records file: says it has no header: $ERR" has "$ERR" "no header"

{ cat "$POL/baiwanzi.ini"; printf '[require.semester]\ntotal = lots\n'; } >"$TMP/bad.ini"
BAD_LINE=$(wc -l <"$TMP/bad.ini")
certify "$TMP/bad.ini" "$TMP/one.csv"
check_rc "malformed policy" 2
check "malformed policy: the message names bad.ini:$BAD_LINE: $ERR" \
    has "$ERR" "bad.ini:$BAD_LINE:"
check_eq "malformed policy: no report is written" "" "$OUT"

{ cat "$POL/dali.ini"; printf '[bucket.extra]\ncategories = lecture, dancing\n'; } >"$TMP/bad2.ini"
certify "$TMP/bad2.ini" "$TMP/one.csv"
check_rc "policy with an unknown category" 2
check "unknown category in a policy: file:line and the name: $ERR" \
    eval 'has "$ERR" "bad2.ini:$(wc -l <"$TMP/bad2.ini"):" && has "$ERR" "dancing"'

certify "$TMP/no-such.ini" "$TMP/one.csv"
check "missing policy file fails (exit $RC)" test "$RC" -ne 0
check "missing policy file: the message names it: $ERR" has "$ERR" "no-such.ini"

run "$XS" certify --records "$TMP/one.csv"
check_rc "certify without --policy" 2
check "certify without --policy shows the usage: $ERR" has "$ERR" "--policy"

# ---- the shipped sample under each shipped policy -------------------------------------------

TEACHERS=$(csv_select "$SAMPLE" 1 | tail -n +2 | sort -u | wc -l)
ROWS=$(csv_select "$SAMPLE" 1 | tail -n +2 | wc -l)
for p in baiwanzi dali wenzhou xinxiang; do
    BUCKETS=$(grep -c '^\[bucket\.' "$POL/$p.ini")
    certify "$p" "$SAMPLE"
    check_rc "sample under $p" 0
    cp "$TMP/cert.csv" "$TMP/sample-$p.csv"
    check_bytes "sample under $p" "$TMP/cert.csv"
    check_eq "sample under $p: header" "$SUMMARY_HEADER" "$(head -n 1 <<<"$OUT")"
    check_eq "sample under $p: one year row per teacher per bucket ($TEACHERS × $BUCKETS)" \
        "$((TEACHERS * BUCKETS)) 1" \
        "$(awk -F, '$2 == "year" && $3 == "2025-2026" { n++; k[$1 "," $4]++ }
                    END { m = 0; for (x in k) if (k[x] > m) m = k[x]; print n + 0, m }' <<<"$OUT")"
    check "sample under $p: sorted by teacher, scope, period, bucket" \
        eval 'tail -n +2 <<<"$OUT" | LC_ALL=C sort -c -u -t, -k1,1 -k2,2 -k3,3 -k4,4'
    check_eq "sample under $p: only its buckets appear" \
        "$(sed -n 's/^\[bucket\.\(.*\)\]$/\1/p' "$POL/$p.ini" | sort)" \
        "$(tail -n +2 <<<"$OUT" | cut -d, -f4 | sort -u)"
    check_eq "sample under $p: met is yes/no exactly where hours are required" "" \
        "$(tail -n +2 <<<"$OUT" |
            awk -F, '($6 == "") != ($7 == "") || ($7 != "" && $7 != "yes" && $7 != "no")')"
    certify "$p" "$SAMPLE" --detail
    check_rc "sample under $p --detail" 0
    check_eq "sample under $p --detail: one row per record" "$ROWS" \
        "$(csv_select "$TMP/cert.csv" 1 | tail -n +2 | wc -l)"
done
check_eq "dali: semester rows only for activity and outcome, both semesters" \
    "$((TEACHERS * 4))" \
    "$(grep -c ',semester,2025-2026-[12],\(activity\|outcome\),' "$TMP/sample-dali.csv")"
check_eq "baiwanzi and wenzhou have cycle rows, dali none" "$TEACHERS $((TEACHERS * 2)) 0" \
    "$(grep -c ',cycle,2021-2026,' "$TMP/sample-baiwanzi.csv") $(grep -c ',cycle,2021-2026,' \
        "$TMP/sample-wenzhou.csv") $(grep -c ',cycle,' "$TMP/sample-dali.csv")"
certify dali "$SAMPLE"
check "certify is deterministic: the same bytes again" cmp -s "$TMP/cert.csv" "$TMP/sample-dali.csv"
# The same set in another order gives the same report.
{ head -n 1 "$SAMPLE"; tail -n +2 "$SAMPLE" | tac; } >"$TMP/reversed.csv"
certify dali "$TMP/reversed.csv"
check_eq "the sample's rows in reverse order give the same summary" \
    "$(plain "$TMP/sample-dali.csv")" "$OUT"

# ---- node: provisional totals ---------------------------------------------------------------

N=$TMP/node
run "$NODE" init --dir "$N" --school S01 --policy "$POL/dali.ini"
check_rc "init --policy dali" 0
check "init --policy says which policy: $OUT" has "$OUT" "dali"
run "$NODE" import --dir "$N" "$SAMPLE"
check_rc "import the sample" 0

run "$NODE" totals --dir "$N"
check_rc "totals" 0
DALI_VERSION=$(sed -n 's/^version *= *\([0-9]*\).*/\1/p' "$POL/dali.ini")
check "totals says the figures are provisional (暂定) under dali v$DALI_VERSION" \
    eval 'has "$OUT" "暂定" && has "$OUT" "provisional" && has "$OUT" "dali" && has "$OUT" "v$DALI_VERSION"'
check "totals shows the met label 达标/未达标" has "$OUT" "达标"

for p in dali baiwanzi wenzhou xinxiang; do
    [ "$p" = dali ] || "$NODE" policy --dir "$N" "$POL/$p.ini" >/dev/null || die "policy $p"
    run "$NODE" totals --dir "$N" --format csv
    check_rc "totals --format csv under $p" 0
    check "totals --format csv under $p is certify's report with a name column" \
        cmp -s <(drop_name_column "$TMP/.out") "$TMP/sample-$p.csv"
done

run "$NODE" policy --dir "$N" "$TMP/bad.ini"
check_rc "policy: a malformed file is refused" 2
check "policy: the refusal names bad.ini:$BAD_LINE: $ERR" has "$ERR" "bad.ini:$BAD_LINE:"
run "$NODE" policy --dir "$N" "$TMP/no-such.ini"
check "policy: a missing file is refused (exit $RC)" test "$RC" -ne 0
run "$NODE" totals --dir "$N"
check "the previous policy (xinxiang) is kept" has "$OUT" "xinxiang"
run "$NODE" totals --dir "$N" --format csv
check "the previous policy still gives certify's totals" \
    cmp -s <(drop_name_column "$TMP/.out") "$TMP/sample-xinxiang.csv"

"$NODE" policy --dir "$N" "$POL/dali.ini" >/dev/null || die "policy dali"
run "$NODE" totals --dir "$N" --format csv --teacher T2025003
check_rc "totals --teacher" 0
check_eq "totals --teacher T2025003: that teacher's certify rows only" \
    "$(plain "$TMP/sample-dali.csv" | grep -E '^(teacher_id|T2025003),')" \
    "$(plain <(drop_name_column "$TMP/.out"))"
run "$NODE" totals --dir "$N" --teacher T2025003
check_eq "totals table --teacher T2025003: 8 rows, all of T2025003" "8 8" \
    "$(grep -c '^T2025003 ' <<<"$OUT") $(grep -c '^T20' <<<"$OUT")"
run "$NODE" totals --dir "$N" --teacher NOBODY
check_rc "totals --teacher with no records" 0
check "totals --teacher with no records says so" has "$OUT" "no matching records"

# A second term, of the year before, for --year: in the node and appended to the sheet.
sheet "$TMP/spring.csv" "$(head -n 1 "$SAMPLE" | sed '1s/^\xEF\xBB\xBF//' | tr -d '\r')" \
    'T2025001,张秀兰,2025-03-10,lecture,,120,,,,,,,,,,' \
    'T2025001,张秀兰,2025-04-10,online_training,,,30,,,,,,,,,' \
    'T2025007,赵雪,2025-05-20,open_class,,,,,,,,,,,,春季公开课'
run "$NODE" import --dir "$N" "$TMP/spring.csv"
check_rc "import a 2024-2025 term" 0
{ cat "$SAMPLE"; tail -n +2 "$TMP/spring.csv"; } >"$TMP/both.csv"
for p in dali wenzhou; do
    "$NODE" policy --dir "$N" "$POL/$p.ini" >/dev/null || die "policy $p"
    certify "$p" "$TMP/both.csv"
    check_rc "certify two years under $p" 0
    cp "$TMP/cert.csv" "$TMP/both-$p.csv"
    run "$NODE" totals --dir "$N" --format csv
    check "two years under $p: totals equal certify" \
        cmp -s <(drop_name_column "$TMP/.out") "$TMP/both-$p.csv"
    run "$NODE" totals --dir "$N" --format csv --year 2024-2025
    check_rc "totals --year 2024-2025 under $p" 0
    check_eq "totals --year 2024-2025 under $p: that year's rows and the cycle holding it" \
        "$(plain "$TMP/both-$p.csv" |
            grep -E '^teacher_id,|^[^,]*,(year,2024-2025|semester,2024-2025-[12]|cycle,2021-2026),')" \
        "$(plain <(drop_name_column "$TMP/.out"))"
done
run "$NODE" totals --dir "$N" --format csv --year 2024-2025 --teacher T2025001
check_eq "totals --year and --teacher together" \
    "$(lines "$SUMMARY_HEADER" \
        'T2025001,cycle,2021-2026,school,%' 'T2025001,cycle,2021-2026,total,%' \
        'T2025001,year,2024-2025,school,2.00,24.00,no,no,hours_short 还差22.00学时' \
        'T2025001,year,2024-2025,total,32.00,48.00,no,no,hours_short 还差16.00学时')" \
    "$(plain <(drop_name_column "$TMP/.out") | sed 's/^\(T2025001,cycle,[^,]*,[^,]*,\).*/\1%/')"
"$NODE" policy --dir "$N" "$POL/dali.ini" >/dev/null || die "policy dali"
run "$NODE" totals --dir "$N" --format csv --year 2024-2025
check_eq "dali has no cycle rows: --year 2024-2025 shows only the two teachers of that year" \
    "T2025001 T2025007" "$(plain "$TMP/.out" | tail -n +2 | cut -d, -f1 | sort -u | tr '\n' ' ' |
        sed 's/ $//')"
run "$NODE" totals --dir "$N" --year 2024-2026
check_rc "totals --year 2024-2026 is refused" 2

# With the county's roster, the offline summary names teachers and lists every rostered one:
# a teacher without records at 0 and not met, one on leave all year exempt.
printf '%s\n' '教师编号,姓名,学校,入职日期,状态,起始日期,截止日期' \
    'T2025001,张秀兰,S01,2012-08-28,在职,,' 'T2025007,赵雪,S01,2019-08-30,离岗,2024-09-01,2025-08-31' \
    'T2025090,郑晓燕,S01,2013-09-01,在职,,' 'T2025091,钱进,S01,2009-09-01,离岗,2024-09-01,2025-08-31' \
    >"$TMP/roster.csv"
run "$XS" certify --policy "$POL/dali.ini" --records "$TMP/dali.csv" --roster "$TMP/roster.csv" \
    --year 2024-2025
check_rc "certify --roster --year" 0
check "the summary names the teacher after the id" \
    eval 'plain "$TMP/.out" | grep -q "^T2025001,张秀兰,year,2024-2025,school,"'
check "a rostered teacher without records is listed, 0 and not met" \
    eval 'plain "$TMP/.out" | grep -q "^T2025090,郑晓燕,year,2024-2025,school,0.00,50.00,no,yes,hours_short"'
check "a teacher on leave all year is exempt" \
    eval 'plain "$TMP/.out" | grep -q "^T2025091,钱进,year,2024-2025,school,0.00,50.00,,,exempt 免于认定"'
check "exempt with records too: their credit shows, judged exempt" \
    eval 'plain "$TMP/.out" | grep "^T2025007,赵雪,year,2024-2025,school," | grep -q ",,,exempt 免于认定"'
check_eq "only the year asked for" "" \
    "$(plain "$TMP/.out" | tail -n +2 | cut -d, -f4 | grep -v '^2024-2025' | sort -u)"
run "$XS" certify --policy "$POL/dali.ini" --records "$TMP/dali.csv" --roster "$TMP/roster.csv"
check_rc "--roster without --year is refused" 2
printf '%s\n' 'teacher_id,name,school_id' 'T1,张三,S1' 'T1,李四,S1' >"$TMP/dup-roster.csv"
run "$XS" certify --policy "$POL/dali.ini" --records "$TMP/dali.csv" --roster "$TMP/dup-roster.csv" \
    --year 2024-2025
check "a roster with a repeated teacher is refused by line: $ERR" \
    eval '[ "$RC" -eq 2 ] && has "$ERR" "第 3 行" && [ -z "$OUT" ]'

E=$TMP/node-empty
"$NODE" init --dir "$E" --school S02 >/dev/null || die "init $E"
run "$NODE" totals --dir "$E"
check "totals without a policy fails (exit $RC)" test "$RC" -ne 0
check "totals without a policy says how to set one: $ERR" \
    eval 'has "$ERR" "no policy set" && has "$ERR" "xueshi-node policy"'

run "$NODE" init --dir "$TMP/node-bad" --school S03 --policy "$TMP/bad.ini"
check "init with a malformed policy fails (exit $RC)" test "$RC" -ne 0
check "init with a malformed policy names bad.ini:$BAD_LINE: $ERR" has "$ERR" "bad.ini:$BAD_LINE:"

finish
