#!/usr/bin/env bash
# test_workbook: the county's 学时认定汇总表 as an Excel workbook, read back by a reader not
# written here (python3-openpyxl): `xueshi-hub report --format xlsx` over a synced county and
# `xueshi certify --format xlsx` over a register give the sheets 汇总表, 未达标名单 and 各校统计;
# ids such as 0123 and 18-digit numbers are text; hours are numbers with two decimals equal to
# the CSV report's; a name beginning with = comes back as text, never a formula; the CSV
# report guards that cell and the roster read back through it round-trips unchanged.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HUB=$XS_BIN/xueshi-hub
TOOL=$XS_BIN/xueshi
[ -x "$HUB" ] || die "no xueshi-hub in $XS_BIN"
PY=/usr/bin/python3
$PY -c 'import openpyxl' 2>/dev/null || die "no python3-openpyxl (tools/setup installs it)"
POLICY=$XS_SOURCE_DIR/schema/policies/wenzhou.ini
H=$TMP/hub
SYNC_TIMEOUT=20
YEAR=2025-2026
EVIL='=HYPERLINK("http://example.invalid/x","点我")'
LONG_ID=110101199003077777

# sheet FILE LINE...: a CSV file as Excel's "CSV UTF-8" writes it: BOM, CRLF.
sheet() {
    local file=$1
    shift
    printf '\xEF\xBB\xBF' >"$file"
    printf '%s\r\n' "$@" >>"$file"
}

# ---- a county: one school, its roster, its records synced ------------------------------------

"$HUB" init --dir "$H" --policy "$POLICY" >"$TMP/hub-init.out" || die "hub init"
HUB_KEY=$(tail -n 1 "$TMP/hub-init.out")
hub_start_free "$H" "$TMP/hub.log" || die "the hub did not start: $(cat "$TMP/hub.log")"
node_init zx ZX01 "$HUB_ENDPOINT" "$HUB_KEY"
enroll zx ZX01
sheet "$TMP/roster.csv" "教师编号,姓名,学校,角色,入职日期,状态,起始日期,截止日期" \
    "0123,张三,ZX01,,2010-08-30,在职,," \
    "$LONG_ID,\"=HYPERLINK(\"\"http://example.invalid/x\"\",\"\"点我\"\")\",ZX01,,2012-08-30,在职,," \
    "T0003,李四,ZX01,,2015-08-30,在职,,"
run "$HUB" roster --dir "$H" import "$TMP/roster.csv"
check_rc "the roster with a formula-like name is imported" 0
sync zx
check_rc "the school takes the roster part" 0
sheet "$TMP/register.csv" "teacher_id,date,category,hours,event" \
    "0123,2025-10-09,external_training,30,县级骨干培训" \
    "0123,2025-11-12,online_training,12,网络研修" \
    "$LONG_ID,2025-10-20,online_training,6,网络研修"
run "$NODE" import --dir "$TMP/zx" --operator 教务处 "$TMP/register.csv"
check_rc "the register is imported at the school" 0
sync zx
check_rc "the school syncs its records" 0

# ---- the hub's workbook against its CSV report ---------------------------------------------

"$HUB" report --dir "$H" --year $YEAR >"$TMP/report.csv" 2>"$TMP/report.err" ||
    die "report: $(cat "$TMP/report.err")"
run "$HUB" report --dir "$H" --year $YEAR --format xlsx --out "$TMP/hub.xlsx"
check_rc "report --format xlsx writes the workbook" 0
check "it says where" has "$ERR" "$TMP/hub.xlsx"
check_eq "nothing is left beside it" "" "$(ls "$TMP" | grep -a 'hub.xlsx.tmp')"

# The checks read the workbook with openpyxl and the CSV with Python's csv module, and print
# one "ok|FAIL - what" line each.
cat >"$TMP/check.py" <<'EOF'
import csv, sys
import openpyxl

book, report, evil, long_id, mode, policy = sys.argv[1:7]
# The policy's bucket labels by name, as the workbook's columns are headed.
bucket_label, section = {}, None
for raw in open(policy, encoding="utf-8"):
    line = raw.split(";")[0].strip()
    if line.startswith("["):
        section = line.strip("[]")
    elif section and section.startswith("bucket.") and line.startswith("label"):
        bucket_label[section[len("bucket."):]] = line.split("=", 1)[1].strip()
wb = openpyxl.load_workbook(book)
def say(ok, what):
    print(("ok" if ok else "FAIL") + " - " + what)

say(wb.sheetnames == ["汇总表", "未达标名单", "各校统计"], "the sheets are 汇总表, 未达标名单, 各校统计: %s" % wb.sheetnames)
ws = wb["汇总表"]
head = [c.value for c in ws[3]]
say(head[:3] == ["学校", "教师编号", "姓名"] and head[-2:] == ["认定结论", "原因"], "汇总表's header: %s" % head)
say("2025-2026" in (ws["A1"].value or "") and "指纹" in (ws["A2"].value or ""), "the title rows name the year and the data's fingerprint")
say(ws.freeze_panes == "D4", "panes are frozen below the header, after the names: %s" % ws.freeze_panes)
say(ws.page_setup.orientation == "landscape" and str(ws.page_setup.paperSize) == "9", "it prints on A4 landscape")
say(ws.column_dimensions["B"].width and ws.column_dimensions["B"].width >= 12, "the id column is sized")

rows = {}
for r in ws.iter_rows(min_row=4):
    if r[1].value is not None:
        rows[r[1].value] = r
say(set(rows) == {"0123", long_id, "T0003"}, "one row per rostered teacher, ids as text: %s" % sorted(rows))
for tid in ("0123", long_id):
    c = rows[tid][1]
    say(c.data_type == "s" and c.value == tid, "id %s is a text cell, unmangled" % tid)
name = rows[long_id][2]
say(name.value == evil and name.data_type == "s", "a name beginning with = is text, not a formula: %r" % name.value)

# Each bucket's year hours equal the CSV report's credited_hours.
labels = {}
for i, h in enumerate(head):
    if h and h.endswith("已认定学时") and "周期" not in h:
        labels[h.split("\n")[0]] = i
csv_rows = list(csv.DictReader(open(report, encoding="utf-8-sig")))
hours_cells = [r[i] for r in rows.values() for i in labels.values()]
say(hours_cells and all(isinstance(c.value, (int, float)) and c.number_format == "0.00" for c in hours_cells),
    "hours are numbers shown with two decimals")
compared = 0
same = True
for r in csv_rows:
    if r["scope"] != "year" or r["period"] != "2025-2026":
        continue
    cell = rows[r["teacher_id"]][labels[bucket_label[r["bucket"]]]]
    same = same and abs(float(cell.value) - float(r["credited_hours"])) < 0.005
    compared += 1
same = same and compared == len(rows) * len(labels)
say(same, "every teacher's hours equal the CSV report's, bucket by bucket")
concl = {t: r[len(head) - 2].value for t, r in rows.items()}
say(all(v in ("达标", "未达标", "免于认定", "无要求") or v.startswith(("达标", "未达标")) for v in concl.values()), "each teacher has a conclusion: %s" % concl)

short = wb["未达标名单"]
short_ids = {r[1].value for r in short.iter_rows(min_row=4) if r[1].value}
not_met = {t for t, v in concl.items() if v.startswith("未达标")}
say(short_ids == not_met, "未达标名单 lists exactly who falls short: %s" % sorted(short_ids))
gap = [r for r in short.iter_rows(min_row=4) if r[1].value == "T0003"]
say(gap and all(abs(r[6].value - (r[5].value - r[4].value)) < 0.005 for r in gap), "and by how much (应修 − 已认定)")

schools = wb["各校统计"]
line = [r for r in schools.iter_rows(min_row=4, values_only=True) if r[0] == "ZX01"]
say(line and line[0][1] == 3, "各校统计 counts the school's three teachers: %s" % (line,))
if mode == "hub":
    say(line and line[0][6] == 0, "and no records left unsynced")
EOF

$PY "$TMP/check.py" "$TMP/hub.xlsx" "$TMP/report.csv" "$EVIL" "$LONG_ID" hub "$POLICY" >"$TMP/check.out" 2>&1 ||
    fail "the workbook checks ran: $(tail -3 "$TMP/check.out")"
while IFS= read -r line; do
    case $line in
    "ok - "*) pass "hub workbook: ${line#ok - }" ;;
    "FAIL - "*) fail "hub workbook: ${line#FAIL - }" ;;
    esac
done <"$TMP/check.out"

# ---- CSV: the guard, and the round trip ------------------------------------------------------

check "the CSV report guards the formula-like name" grep -aqF "'=HYPERLINK" "$TMP/report.csv"
"$HUB" roster --dir "$H" show >"$TMP/roster-back.csv" 2>/dev/null || fail "roster show"
check "the roster as CSV guards it too" grep -aqF "'=HYPERLINK" "$TMP/roster-back.csv"
run "$HUB" roster --dir "$H" import "$TMP/roster-back.csv"
check_rc "the roster read back through its CSV imports" 0
check "and is the same roster: nothing changed" has "$OUT$ERR" "没有变化"

# ---- xueshi certify: the same workbook offline ----------------------------------------------

cp "$TMP/register.csv" "$TMP/offline.csv"
run "$TOOL" certify --policy "$POLICY" --records "$TMP/offline.csv" --roster "$TMP/roster.csv" \
    --year $YEAR --format xlsx --out "$TMP/offline.xlsx"
check_rc "xueshi certify --format xlsx writes the workbook" 0
"$TOOL" certify --policy "$POLICY" --records "$TMP/offline.csv" --roster "$TMP/roster.csv" \
    --year $YEAR >"$TMP/offline-report.csv" 2>/dev/null || fail "certify csv"
$PY "$TMP/check.py" "$TMP/offline.xlsx" "$TMP/offline-report.csv" "$EVIL" "$LONG_ID" offline "$POLICY" \
    >"$TMP/check2.out" 2>&1 || fail "the offline workbook checks ran: $(tail -3 "$TMP/check2.out")"
while IFS= read -r line; do
    case $line in
    "ok - "*) pass "certify workbook: ${line#ok - }" ;;
    "FAIL - "*) fail "certify workbook: ${line#FAIL - }" ;;
    esac
done <"$TMP/check2.out"

run "$TOOL" certify --policy "$POLICY" --records "$TMP/offline.csv" --format xlsx --out "$TMP/x.xlsx"
check_rc "a workbook without --year is refused" 2
run "$HUB" report --dir "$H" --year $YEAR --format xlsx --out "$TMP/no/such/dir/x.xlsx"
check_rc "a workbook that cannot be written is an error" 1
check_eq "and leaves nothing" "" "$(ls "$TMP/no" 2>/dev/null)"

finish
